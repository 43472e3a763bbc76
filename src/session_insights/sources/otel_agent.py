"""What an agent's own OpenTelemetry export says it spent (the ``otel`` source).

Claude Code (``CLAUDE_CODE_ENABLE_TELEMETRY=1``) exports no spans of its model calls: it
writes OTLP logs and metrics, which a collector's file exporter keeps one export a line.
Invariant: only cost figures are read from them, into ``AgentCosts`` (the agent's figure
beside ours), never into usage: the transcripts count these requests already, and an
event names no message id to match them by. Prompt and response text (``<REDACTED>``
unless the user opts in) is never read.

- ``claude_code.api_request`` log events: one per request, with ``model``,
  ``session.id``, ``request_id`` (the transcript's ``requestId``) and ``cost_usd`` (or
  ``cost_usd_micros``); the cost is per request, fast mode included;
- the ``claude_code.cost.usage`` metric: per session and model (split further by speed,
  query source, effort), a sum with delta temporality by default; a cumulative export
  carries every series each time, so its sum per session and model replaces the last.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..events import check_cost_usd
from ..history.agent_cost import AgentCosts

API_REQUEST = "OTel api_request"  # claude_code.api_request events
COST_METRIC = "OTel cost.usage"  # the claude_code.cost.usage metric
_DELTA, _CUMULATIVE = 1, 2
_WANTED = {"event.name", "model", "session.id", "request_id", "cost_usd", "cost_usd_micros"}


def _value(value: object) -> Any:
    if not isinstance(value, dict):
        raise TypeError(f"an attribute value must be an object, got {value!r}")
    for kind in ("stringValue", "doubleValue", "intValue", "boolValue"):
        if kind in value:
            raw = value[kind]
            if kind == "intValue" and isinstance(raw, str) and raw.lstrip("-").isdigit() and len(raw) <= 20:
                return int(raw)
            return raw
    return None


def _attributes(attributes: object) -> dict[str, Any]:
    if not isinstance(attributes, list):
        return {}
    return {
        kv["key"]: _value(kv.get("value")) for kv in attributes if isinstance(kv, dict) and kv.get("key") in _WANTED
    }


def _text(attrs: dict, key: str, what: str) -> str:
    value = attrs.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} without {key}")
    return value.strip()


def _entries(obj: dict, outer: str, scopes: str, items: str) -> Iterator[dict]:
    batches = obj.get(outer)
    if not isinstance(batches, list):
        raise TypeError(f"{outer} must be a list")
    for batch in batches:
        for scope in (batch.get(scopes) or []) if isinstance(batch, dict) else ():
            yield from (item for item in (scope.get(items) or []) if isinstance(item, dict))


def read_logs(obj: dict, costs: AgentCosts) -> int:
    """Claude Code's ``api_request`` events of one OTLP logs export; returns how many."""
    n = 0
    for record in _entries(obj, "resourceLogs", "scopeLogs", "logRecords"):
        attrs = _attributes(record.get("attributes"))
        body = record.get("body")
        name = body.get("stringValue") if isinstance(body, dict) else None
        if attrs.get("event.name") != "api_request" and name != "claude_code.api_request":
            continue
        cost = attrs.get("cost_usd")
        if cost is None and attrs.get("cost_usd_micros") is not None:
            micros = attrs["cost_usd_micros"]
            cost = micros / 1e6 if isinstance(micros, int) and not isinstance(micros, bool) else micros
        cost = check_cost_usd("cost_usd", cost)
        if cost is None:
            continue
        model = _text(attrs, "model", "an api_request event")
        request_id = attrs.get("request_id") if isinstance(attrs.get("request_id"), str) else None
        session = attrs.get("session.id") if isinstance(attrs.get("session.id"), str) else None
        costs.request(API_REQUEST, request_id or None, session, model, cost)
        n += 1
    return n


def read_metrics(obj: dict, costs: AgentCosts) -> int:
    """Claude Code's ``cost.usage`` points of one OTLP metrics export; returns how many."""
    n = 0
    for metric in _entries(obj, "resourceMetrics", "scopeMetrics", "metrics"):
        if metric.get("name") != "claude_code.cost.usage" or not isinstance(metric.get("sum"), dict):
            continue
        total = metric["sum"]
        delta = total.get("aggregationTemporality") in (_DELTA, "AGGREGATION_TEMPORALITY_DELTA")
        by_series: dict[tuple[str, str], float] = {}
        for point in total.get("dataPoints") or []:
            attrs = _attributes(point.get("attributes") if isinstance(point, dict) else None)
            cost = check_cost_usd("claude_code.cost.usage", point.get("asDouble", point.get("asInt")))
            if cost is None:
                continue
            key = (_text(attrs, "session.id", "a cost.usage point"), _text(attrs, "model", "a cost.usage point"))
            by_series[key] = by_series.get(key, 0.0) + cost
            n += 1
        for (session, model), cost in by_series.items():
            costs.session_cost(COST_METRIC, session, model, cost, add=delta)
    return n
