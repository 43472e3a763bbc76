"""Where the figures go: a Prometheus endpoint to scrape, an OTLP/HTTP push.

Each destination has its own meter provider and tally: a Prometheus counter is
cumulative, and shows what an earlier run counted too (restored from the state, so a
restart neither counts again nor starts from zero), while a delta push sends only what
this run counted. The OTLP exporter reads the standard ``OTEL_EXPORTER_OTLP_*``
variables itself (endpoint, headers, timeout, compression, temporality preference);
``OTEL_METRIC_EXPORT_INTERVAL`` sets how often it pushes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from opentelemetry.sdk.metrics import Counter, Histogram, ObservableCounter, ObservableUpDownCounter, UpDownCounter
from opentelemetry.sdk.metrics.export import AggregationTemporality, PeriodicExportingMetricReader

from ..history import TokenHistory
from .meters import Meters
from .tally import Tally

TEMPORALITY_ENV = "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE"
METRICS_PATH = "/v1/metrics"


@dataclass
class Destination:
    name: str  # what the command says it serves or pushes to
    meters: Meters
    tally: Tally
    server: object | None = None  # the Prometheus endpoint's HTTP server

    def close(self) -> None:
        self.meters.close()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


def prometheus(history: TokenHistory, host: str, port: int, labels: dict[str, str]) -> Destination:
    """Serve ``/metrics`` on ``host:port`` (port 0: a free one, named in ``name``).
    OSError if the address cannot be had."""
    from opentelemetry.exporter.prometheus import PrometheusMetricReader
    from prometheus_client import CollectorRegistry, start_http_server

    registry = CollectorRegistry()  # ours alone: no process or Python metrics beside the figures
    # No otel_scope_* labels: a new version of ours would otherwise start new series.
    meters = Meters(PrometheusMetricReader(registry=registry, scope_info_enabled=False), labels)
    try:
        server, _ = start_http_server(port, addr=host, registry=registry)
    except OSError:
        meters.close()
        raise
    bound_host, bound_port = server.server_address[:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    return Destination(f"http://{shown}:{bound_port}/metrics", meters, Tally(history), server)


def otlp_endpoint(url: str | None) -> str | None:
    """The metrics URL of ``--otlp URL``: a base URL as OTEL_EXPORTER_OTLP_ENDPOINT is
    (``/v1/metrics`` added), or the metrics URL itself; None leaves it to the variables."""
    if not url:
        return None
    url = url.rstrip("/")
    return url if url.endswith(METRICS_PATH) else url + METRICS_PATH


def delta_wanted(temporality: str | None) -> bool:
    """Whether counters go out as deltas: by ``--temporality``, else by the standard
    variable (``delta`` and ``lowmemory`` both send counters as deltas)."""
    chosen = temporality or os.environ.get(TEMPORALITY_ENV, "cumulative").strip().lower()
    return chosen in ("delta", "lowmemory")


def otlp(history: TokenHistory, url: str | None, temporality: str | None, labels: dict[str, str]) -> Destination:
    """Push to ``url`` (or where the OTEL_EXPORTER_OTLP_* variables say) every export
    interval, with cumulative or delta temporality."""
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter

    preferred = None
    if temporality is not None:
        kind = AggregationTemporality.DELTA if temporality == "delta" else AggregationTemporality.CUMULATIVE
        preferred = {
            Counter: kind,
            Histogram: kind,
            ObservableCounter: kind,
            UpDownCounter: AggregationTemporality.CUMULATIVE,
            ObservableUpDownCounter: AggregationTemporality.CUMULATIVE,
        }
    exporter = OTLPMetricExporter(endpoint=otlp_endpoint(url), preferred_temporality=preferred)
    delta = delta_wanted(temporality)
    meters = Meters(PeriodicExportingMetricReader(exporter), labels)
    # A delta push must not send again what an earlier run sent: start from what is restored.
    return Destination(getattr(exporter, "_endpoint", url or "OTLP"), meters, Tally(history, since_now=delta))
