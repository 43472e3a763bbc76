"""``session-insights export`` against real engines: a real Prometheus (Debian's, which
.ci/run installs) scrapes it, and an OTLP/HTTP receiver on 127.0.0.1 decodes its pushes
with opentelemetry-proto. Both must give the figures ``report --format json`` gives on
the same genuine logs, carry no prompt text, and survive a restart without counting
again. With CI=true nothing here skips."""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
CLAUDE = FIXTURES / "claude" / "subagent" / "projects"
CODEX = FIXTURES / "codex" / "resume"
SOURCES = [f"claude:{CLAUDE}", f"codex:{CODEX}"]
TYPES = {"input": "input_tokens", "output": "output_tokens", "cache_read": "cache_read_tokens", "cache_write": "cache_write_tokens"}  # fmt: skip
WAIT_S = 90.0


def report(sources: list[str], tmp_path: Path) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "session_insights.cli", "report", *sources, "--format", "json", "--no-history"],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout)


def _env(tmp_path: Path, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "SESSION_INSIGHTS_"))}
    env.update(HOME=str(tmp_path / "home"), XDG_DATA_HOME=str(tmp_path / "data"), **extra)
    return env


def _until(check, what: str, timeout_s: float = WAIT_S):
    """Poll ``check`` until it returns something true; fail naming ``what`` if it never does."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {timeout_s:.0f} s")
        time.sleep(0.2)


class Export:
    """``session-insights export`` in a process of its own, stopped by a signal."""

    def __init__(self, tmp_path: Path, args: list[str], env: dict | None = None) -> None:
        self.err_path = tmp_path / f"export-{time.monotonic_ns()}.err"
        self.err = self.err_path.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "session_insights.cli", "export", "--state", str(tmp_path / "state.toml"), *args],
            stdout=subprocess.DEVNULL,
            stderr=self.err,
            env=env or _env(tmp_path),
        )

    def said(self) -> str:
        return self.err_path.read_text()

    def started(self) -> None:
        """Wait until it reads its sources (and says where its figures go)."""

        def found():
            if self.proc.poll() is not None:
                pytest.fail(f"export ended early: {self.said()}")
            return "reading " in self.said()

        _until(found, "export starting")

    def metrics_url(self) -> str:
        def found():
            if self.proc.poll() is not None:
                pytest.fail(f"export ended early: {self.said()}")
            match = re.search(r"to (http://\S+/metrics)", self.said())
            return match and match.group(1)

        return _until(found, "export serving /metrics")

    def stop(self, signum: int = signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signum)
        try:
            return self.proc.wait(timeout=60)
        finally:
            self.err.close()


@pytest.fixture
def exports():
    started: list[Export] = []
    yield started
    for export in started:
        if export.proc.poll() is None:
            export.proc.kill()
            export.proc.wait()
        export.err.close()


def scrape(url: str) -> dict[str, float]:
    """``{metric{labels}: value}`` of a text exposition, our metrics only."""
    from prometheus_client.parser import text_string_to_metric_families

    body = urllib.request.urlopen(url, timeout=10).read().decode()
    samples = {}
    for family in text_string_to_metric_families(body):
        for s in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(s.labels.items()) if not k.startswith("otel_"))
            samples[f"{s.name}{{{labels}}}"] = s.value
    return samples


def sum_by(samples: dict[str, float], name: str, label: str | None = None) -> dict[str, float]:
    sums: dict[str, float] = {}
    for key, value in samples.items():
        metric, _, labels = key.partition("{")
        if metric != name:
            continue
        pairs = dict(p.split("=", 1) for p in labels.rstrip("}").split(",") if p)
        k = pairs.get(label, "") if label else ""
        sums[k] = sums.get(k, 0.0) + value
    return sums


def prompt_texts() -> list[str]:
    """Every text a fixture holds under a message's content: none may be exported."""
    texts: list[str] = []

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("text", "content", "message") and isinstance(value, str) and len(value) >= 12:
                    texts.append(value)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for path in [*CLAUDE.rglob("*.jsonl"), *CODEX.rglob("*.jsonl")]:
        for line in path.read_text().splitlines():
            if line.strip():
                walk(json.loads(line))
    assert texts, "the fixtures hold prompt text to look for"
    return texts


def dashboard_queries() -> list[str]:
    """The PromQL of every panel of docs/grafana-dashboard.json, as Grafana sends it."""
    dashboard = json.loads((Path(__file__).parent.parent / "docs" / "grafana-dashboard.json").read_text())
    values = {"$user": ".*", "$model": ".*", "$project": ".*", "$__rate_interval": "5s", "$__range": "1h"}
    exprs = []
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            expr = target["expr"]
            for name in sorted(values, key=len, reverse=True):
                expr = expr.replace(name, values[name])
            exprs.append(expr)
    return exprs


def test_the_scrape_config_for_several_machines_is_valid(prometheus_binary):
    promtool = Path(prometheus_binary).with_name("promtool")
    done = subprocess.run(
        [str(promtool), "check", "config", str(Path(__file__).parent.parent / "docs" / "prometheus.yml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout + done.stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def prometheus_binary() -> str:
    found = shutil.which("prometheus") or next((p for p in ("/usr/bin/prometheus",) if Path(p).exists()), None)
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("prometheus is not installed: .ci/run installs Debian's package")
        pytest.skip("prometheus is not installed (apt-get install prometheus)")
    return found


def test_a_real_prometheus_scrapes_the_export_and_its_sums_equal_report(tmp_path, exports, prometheus_binary):
    truth = report(SOURCES, tmp_path)
    export = Export(tmp_path, ["--prometheus", "127.0.0.1:0", "--label", "user=ana", *SOURCES])
    exports.append(export)
    target = urllib.parse.urlparse(export.metrics_url()).netloc
    web_port = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
        f"scrape_configs:\n  - job_name: session-insights\n    static_configs:\n      - targets: ['{target}']\n"
    )
    log = (tmp_path / "prometheus.log").open("w")
    engine = subprocess.Popen(
        [
            prometheus_binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{web_port}",
        ],
        stdout=log,
        stderr=log,
    )
    try:
        api = f"http://127.0.0.1:{web_port}/api/v1/query"

        def query(promql: str) -> dict[str, float]:
            try:
                body = urllib.request.urlopen(f"{api}?{urllib.parse.urlencode({'query': promql})}", timeout=5).read()
            except OSError:
                return {}  # not listening yet
            result = json.loads(body)["data"]["result"]
            return {next(iter(r["metric"].values()), ""): float(r["value"][1]) for r in result}

        expected = {kind: float(truth["totals"][key]) for kind, key in TYPES.items()}
        by_type = _until(
            lambda: (found := query("sum by (type) (session_insights_tokens_total)")) == expected and found,
            "a scrape with the report's totals",
        )
        assert by_type == expected
        assert query("sum(session_insights_requests_total)") == {"": float(truth["totals"]["requests"])}
        cost = query("sum(session_insights_cost_usd_total)")[""]
        assert cost == pytest.approx(truth["totals"]["cost_usd"])
        assert set(query("sum by (user) (session_insights_tokens_total)")) == {"ana"}
        by_model = query("sum by (model) (session_insights_requests_total)")
        assert by_model == {m: float(f["requests"]) for m, f in truth["by_model"].items()}
        histogram = _until(
            lambda: query('sum by (gen_ai_token_type) (gen_ai_client_token_usage_sum{gen_ai_token_type!=""})'),
            "the per-request histogram in a scrape",
        )
        totals = truth["totals"]
        assert histogram == {
            "input": float(totals["input_tokens"] + totals["cache_read_tokens"] + totals["cache_write_tokens"]),
            "output": float(totals["output_tokens"]),
        }
        assert query("sum(gen_ai_client_token_usage_count)") == {"": 2.0 * totals["requests"]}
        for expr in dashboard_queries():  # every query of the dashboard is valid PromQL
            answer = json.loads(
                urllib.request.urlopen(f"{api}?{urllib.parse.urlencode({'query': expr})}", timeout=5).read()
            )
            assert answer["status"] == "success", expr
        # sessions are never labels
        series = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{web_port}/api/v1/labels", timeout=5).read())
        assert "session" not in series["data"]
    finally:
        engine.terminate()
        engine.wait(timeout=30)
        log.close()
    assert export.stop() == 0
    assert (tmp_path / "state.toml").exists()


def test_a_restart_counts_nothing_again_and_says_no_prompt_text(tmp_path, exports):
    truth = report(SOURCES, tmp_path)
    expected = {kind: float(truth["totals"][key]) for kind, key in TYPES.items()}
    for signum in (signal.SIGTERM, signal.SIGINT):
        export = Export(tmp_path, ["--prometheus", "127.0.0.1:0", *SOURCES])
        exports.append(export)
        url = export.metrics_url()
        samples = _until(
            lambda url=url: (s := scrape(url)) and sum_by(s, "session_insights_tokens_total", "type") == expected and s,
            "the report's totals on /metrics",
        )
        body = urllib.request.urlopen(url, timeout=10).read().decode()
        assert export.stop(signum) == 0, export.said()
    assert sum_by(samples, "session_insights_requests_total") == {"": float(truth["totals"]["requests"])}
    assert not [text for text in prompt_texts() if text in body]
    assert "otel_scope" not in body  # no label that changes with our version


class Receiver:
    """An OTLP/HTTP metrics endpoint on 127.0.0.1: keeps every request's decoded body."""

    def __init__(self) -> None:
        from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
            ExportMetricsServiceRequest,
            ExportMetricsServiceResponse,
        )

        self.requests: list = []
        self.headers: list[dict] = []
        self.raw: list[bytes] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                message = ExportMetricsServiceRequest()
                message.ParseFromString(body)
                receiver.raw.append(body)
                receiver.headers.append({"path": self.path, **{k.lower(): v for k, v in self.headers.items()}})
                receiver.requests.append(message)
                answer = ExportMetricsServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def points(self, name: str) -> list[tuple[int, dict, float]]:
        """(temporality, attributes, value) of every point of metric ``name`` received."""
        found = []
        for request in self.requests:
            for rm in request.resource_metrics:
                for sm in rm.scope_metrics:
                    for metric in sm.metrics:
                        if metric.name != name:
                            continue
                        data = metric.sum if metric.HasField("sum") else metric.histogram
                        for p in data.data_points:
                            attrs = {a.key: a.value.string_value for a in p.attributes}
                            value = p.sum if metric.HasField("histogram") else (p.as_double or p.as_int)
                            found.append((data.aggregation_temporality, attrs, value))
        return found

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def by_type(points, *, last: bool) -> dict[str, float]:
    """Tokens by type: the last cumulative point of each label set, or every delta summed."""
    latest: dict[tuple, float] = {}
    sums: dict[str, float] = {}
    for _, attrs, value in points:
        if last:
            latest[tuple(sorted(attrs.items()))] = value
        else:
            sums[attrs["type"]] = sums.get(attrs["type"], 0.0) + value
    if last:
        for labels, value in latest.items():
            kind = dict(labels)["type"]
            sums[kind] = sums.get(kind, 0.0) + value
    return sums


CUMULATIVE, DELTA = 2, 1  # opentelemetry.proto AggregationTemporality


def test_an_otlp_push_carries_the_reports_sums_cumulatively(tmp_path, exports, receiver):
    truth = report(SOURCES, tmp_path)
    expected = {kind: float(truth["totals"][key]) for kind, key in TYPES.items()}
    env = _env(tmp_path, OTEL_METRIC_EXPORT_INTERVAL="300", OTEL_EXPORTER_OTLP_HEADERS="x-team-key=abc123")
    export = Export(tmp_path, ["--otlp", receiver.url, "--label", "user=ana", *SOURCES], env=env)
    exports.append(export)
    _until(lambda: by_type(receiver.points("session_insights_tokens"), last=True) == expected, "a push with the totals")
    assert export.stop() == 0, export.said()
    points = receiver.points("session_insights_tokens")
    assert {temporality for temporality, _, _ in points} == {CUMULATIVE}
    assert by_type(points, last=True) == expected
    assert {attrs["user"] for _, attrs, _ in points} == {"ana"}
    assert not any("session" in attrs for _, attrs, _ in points)
    assert receiver.headers[0]["path"] == "/v1/metrics"
    assert receiver.headers[0]["x-team-key"] == "abc123"  # OTEL_EXPORTER_OTLP_HEADERS
    histogram = receiver.points("gen_ai.client.token.usage")
    models = {attrs["gen_ai.request.model"] for _, attrs, _ in histogram}
    assert models == set(truth["by_model"])
    assert {attrs["gen_ai.provider.name"] for _, attrs, _ in histogram} == {"anthropic"}
    raw = b"".join(receiver.raw)
    assert not [text for text in prompt_texts() if text.encode() in raw]


def test_a_delta_push_sends_each_token_once_across_a_restart(tmp_path, exports, receiver):
    truth = report(SOURCES, tmp_path)
    expected = {kind: float(truth["totals"][key]) for kind, key in TYPES.items()}
    # the endpoint from the standard variable, --otlp with no URL
    env = _env(tmp_path, OTEL_METRIC_EXPORT_INTERVAL="300", OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url)
    for _ in range(2):
        export = Export(tmp_path, ["--otlp", "--temporality", "delta", *SOURCES], env=env)
        exports.append(export)
        export.started()
        if not receiver.requests:
            _until(lambda: receiver.requests, "a push")
        time.sleep(1.5)  # several intervals: after a restart there is nothing new to push
        assert export.stop() == 0, export.said()
    points = receiver.points("session_insights_tokens")
    assert {temporality for temporality, _, _ in points} == {DELTA}
    assert by_type(points, last=False) == expected


def test_the_temporality_preference_variable_is_honoured(tmp_path, exports, receiver):
    env = _env(
        tmp_path,
        OTEL_METRIC_EXPORT_INTERVAL="300",
        OTEL_EXPORTER_OTLP_METRICS_ENDPOINT=f"{receiver.url}/v1/metrics",
        OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE="delta",
    )
    export = Export(tmp_path, ["--otlp", *SOURCES], env=env)
    exports.append(export)
    _until(lambda: receiver.points("session_insights_tokens"), "a push")
    assert export.stop() == 0, export.said()
    assert {t for t, _, _ in receiver.points("session_insights_tokens")} == {DELTA}


@pytest.mark.parametrize("no_history", [False, True])
def test_the_sessions_reach_the_durable_history_unless_no_history(tmp_path, exports, no_history):
    from session_insights.store import SessionStore

    truth = report(SOURCES, tmp_path)
    expected = {kind: float(truth["totals"][key]) for kind, key in TYPES.items()}
    for _ in range(2):  # a restart, with or without the history, counts nothing again
        export = Export(tmp_path, ["--prometheus", "127.0.0.1:0", *(["--no-history"] if no_history else []), *SOURCES])
        exports.append(export)
        url = export.metrics_url()
        _until(
            lambda url=url: sum_by(scrape(url), "session_insights_tokens_total", "type") == expected,
            "the report's totals on /metrics",
        )
        assert export.stop() == 0, export.said()
    store = SessionStore(tmp_path / "state.history.sqlite")
    try:
        kept = {row["session"] for row in store.sessions()}
    finally:
        store.close()
    assert kept == (set() if no_history else set(truth["sessions"]))


def test_without_state_the_export_keeps_it_in_the_per_user_data_folder(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    err_path = tmp_path / "export.err"
    with err_path.open("w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "session_insights.cli", "export", "--prometheus", "127.0.0.1:0", *SOURCES],
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=_env(tmp_path),
            cwd=work,
        )
        try:
            _until(lambda: "reading " in err_path.read_text() or proc.poll() is not None, "export starting")
        finally:
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=60) == 0, err_path.read_text()
    assert (tmp_path / "data" / "session-insights" / "state.toml").exists()
    assert list(work.iterdir()) == []  # nothing in the folder it ran from
