"""The OpenTelemetry side of an export: one meter provider per destination, its
instruments, and what a ``Growth`` and a request add to them.

Imported only when an export is asked for: the window and ``report`` never load
OpenTelemetry. Names are Prometheus's (``session_insights_tokens`` is exposed as
``session_insights_tokens_total``), the per-request histogram is the GenAI semantic
conventions' ``gen_ai.client.token.usage``, whose ``input`` counts every prompt token
(cache reads and writes too, as the conventions define it). Nothing of a prompt or a
response is ever exported: only counts, model, provider, source, project, tier, tool.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader
from opentelemetry.sdk.resources import Resource

from ..events import UsageEvent
from .tally import F_COST, F_REQ, F_UNPRICED, PUSD_PER_USD, TOKEN_TYPES, Growth

# The GenAI conventions' advised buckets for gen_ai.client.token.usage.
TOKEN_BUCKETS = (1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864)
# Our provider ids -> the conventions' gen_ai.provider.name; a source's kind names the
# provider of the agent that wrote it when a request names none.
PROVIDER_NAMES = {"anthropic": "anthropic", "openai": "openai", "google": "gcp.gemini", "deepseek": "deepseek"}
SOURCE_PROVIDERS = {"claude": "anthropic", "codex": "openai", "gemini": "gcp.gemini"}


def package_version() -> str:
    try:
        return version("session-insights")
    except PackageNotFoundError:
        return "unknown"


def resource() -> Resource:
    """service.name session-insights, plus what OTEL_RESOURCE_ATTRIBUTES and
    OTEL_SERVICE_NAME say (``Resource.create`` reads them)."""
    return Resource.create({"service.name": "session-insights", "service.version": package_version()})


def provider_name(ev: UsageEvent) -> str:
    if ev.provider is not None:
        return PROVIDER_NAMES.get(ev.provider, ev.provider)
    kind = (ev.source or "").partition(":")[0]
    return SOURCE_PROVIDERS.get(kind, "unknown")


class Meters:
    """The instruments of one destination (a Prometheus endpoint, an OTLP push)."""

    def __init__(self, reader: MetricReader, labels: dict[str, str]) -> None:
        self.labels = labels  # --label pairs, on every point
        self.provider = MeterProvider(metric_readers=[reader], resource=resource())
        meter = self.provider.get_meter("session_insights", package_version())
        self.tokens = meter.create_counter(
            "session_insights_tokens", unit="{token}", description="Tokens of model requests, by type"
        )
        self.cost = meter.create_counter(
            "session_insights_cost_usd",
            unit="{USD}",
            description="Cost of the priced requests in US dollars (an unpriced request adds nothing)",
        )
        self.requests = meter.create_counter(
            "session_insights_requests", unit="{request}", description="Model requests"
        )
        self.unpriced = meter.create_counter(
            "session_insights_unpriced_requests", unit="{request}", description="Requests of models with no known price"
        )
        self.tool_calls = meter.create_counter(
            "session_insights_tool_calls", unit="{call}", description="Tool calls, by tool and whether they succeeded"
        )
        self.token_usage = meter.create_histogram(
            "gen_ai.client.token.usage",
            unit="{token}",
            description="Tokens used per request (input includes cache reads and writes)",
            explicit_bucket_boundaries_advisory=TOKEN_BUCKETS,
        )
        self.used_pct = meter.create_gauge(
            "session_insights_rate_limit_used_percent", unit="%", description="Share of a rate-limit window used"
        )
        self.resets_at = meter.create_gauge(
            "session_insights_rate_limit_resets_at", unit="s", description="When a rate-limit window resets, epoch"
        )

    def add(self, growth: Growth) -> None:
        """Add what the history counted since the last look."""
        extra = self.labels
        for (model, source, project, tier), figures in growth.usage.items():
            labels = {**extra, "model": model, "source": source, "project": project, "tier": tier}
            for i, kind in enumerate(TOKEN_TYPES):
                self.tokens.add(figures[i], {**labels, "type": kind})
            self.cost.add(figures[F_COST] / PUSD_PER_USD, labels)
            self.requests.add(figures[F_REQ], labels)
            self.unpriced.add(figures[F_UNPRICED], labels)
        for (tool, ok), n in growth.tool_calls.items():
            self.tool_calls.add(n, {**extra, "tool": tool, "ok": ok})
        for row in growth.rate_limits:
            labels = {**extra, "source": row["source"].partition(":")[0], "window": row["window"]}
            if "model" in row:  # one model's own window
                labels["model"] = row["model"]
            self.used_pct.set(row["used_pct"], labels)
            if row["resets_at"] is not None:
                self.resets_at.set(row["resets_at"], labels)

    def record(self, requests: list[UsageEvent]) -> None:
        """One histogram observation per request and token type."""
        record, extra = self.token_usage.record, self.labels
        for ev in requests:
            base = {
                **extra,
                "gen_ai.operation.name": "chat",
                "gen_ai.request.model": ev.model,
                "gen_ai.provider.name": provider_name(ev),
            }
            record(
                ev.input + ev.cache_read + ev.cache_write_5m + ev.cache_write_1h, {**base, "gen_ai.token.type": "input"}
            )
            record(ev.output, {**base, "gen_ai.token.type": "output"})

    def close(self) -> None:
        """Export what is left (an OTLP push sends its last figures) and stop."""
        self.provider.shutdown()
