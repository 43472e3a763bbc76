"""``session-insights export``'s bookkeeping, without an engine: what the history counted
becomes counter adds whose sums equal the report's, whatever folds in between; each
request reaches the histogram once; every bad input is one line and exit code 2."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from session_insights.cli import EXIT_USAGE, main
from session_insights.events import UsageEvent
from session_insights.export.requests import RequestLog
from session_insights.export.tally import F_COST, F_REQ, F_UNPRICED, PUSD_PER_USD, TOKEN_TYPES, Tally
from session_insights.history import MAX_SESSIONS, TokenHistory
from session_insights.session_logger import SessionLogger
from session_insights.sources import open_source

FIXTURES = Path(__file__).parent / "fixtures"
# Genuine logs (see each folder's README): a Claude Code session with a subagent, and a
# Codex rollout continued by `exec resume`.
SOURCES = [f"claude:{FIXTURES / 'claude' / 'subagent' / 'projects'}", f"codex:{FIXTURES / 'codex' / 'resume'}"]
T0 = 1_790_000_000.0
TOTAL_KEYS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")


def read(specs: list[str], history: TokenHistory | None = None) -> TokenHistory:
    history = history or TokenHistory()
    for spec in specs:
        open_source(spec, history).read_all()
    history.drain()
    return history


def summed(takes: list) -> dict:
    """Every label set's adds over ``takes``, by figure, as a counter's sum shows them."""
    sums = dict.fromkeys([*TOKEN_TYPES, "cost_usd", "requests", "unpriced"], 0)
    for growth in takes:
        for figures in growth.usage.values():
            assert min(figures) >= 0, "a counter never goes down"
            for i, kind in enumerate(TOKEN_TYPES):
                sums[kind] += figures[i]
            sums["cost_usd"] += figures[F_COST] / PUSD_PER_USD
            sums["requests"] += figures[F_REQ]
            sums["unpriced"] += figures[F_UNPRICED]
    return sums


def as_report(sums: dict) -> dict:
    return dict(zip(TOTAL_KEYS, (sums[k] for k in TOKEN_TYPES)))


def test_first_take_of_genuine_logs_sums_to_the_reports_totals():
    history = read(SOURCES)
    growth = Tally(history).take()
    totals = history.snapshot()["totals"]
    sums = summed([growth])
    assert as_report(sums) == {k: totals[k] for k in TOTAL_KEYS}
    assert sums["requests"] == totals["requests"] == 6
    assert sums["cost_usd"] == pytest.approx(totals["cost_usd"])
    # a session is never a label: the label sets are model, source, project, tier
    assert {labels[:3] for labels in growth.usage} == {
        ("claude-opus-4-8", "claude", "work"),
        ("claude-haiku-4-5", "codex", "work"),
    }
    assert {labels[3] for labels in growth.usage} == {"main agent", "subagent"}


def test_a_later_take_gives_only_what_grew():
    history = TokenHistory()
    tally = Tally(history)
    history.record_usage("claude-sonnet-4-5", 100, 10, ts=T0, session="a", tier="Tier 1")
    history.drain()
    assert summed([tally.take()])["input"] == 100
    history.record_usage("claude-sonnet-4-5", 7, 1, ts=T0 + 1, session="a", tier="Tier 1")
    history.drain()
    second = tally.take()
    assert summed([second])["input"] == 7
    assert summed([tally.take()])["input"] == 0  # nothing new, nothing added


def test_since_now_leaves_out_what_the_history_held_already():
    history = TokenHistory()
    history.record_usage("claude-sonnet-4-5", 100, 10, ts=T0, session="a")
    history.drain()
    tally = Tally(history, since_now=True)  # a delta push after a restart: sent before
    history.record_usage("claude-sonnet-4-5", 5, 1, ts=T0 + 1, session="a")
    history.drain()
    sums = summed([tally.take()])
    assert (sums["input"], sums["output"], sums["requests"]) == (5, 1, 1)


def test_folding_sessions_moves_nothing_between_exported_label_sets():
    history = TokenHistory()
    tally = Tally(history)
    takes = []
    for i in range(MAX_SESSIONS + 60):  # past the cap the oldest sessions fold into one row
        history.record_usage("claude-sonnet-4-5", 1_000 + i, 10, ts=T0 + i, session=f"s{i:04d}", tier="Tier 3")
        if i % 50 == 0:
            history.drain()
            takes.append(tally.take())
    history.drain()
    takes.append(tally.take())
    totals = history.snapshot()["totals"]
    assert "(earlier sessions)" in history.sessions.rows
    sums = summed(takes)
    assert as_report(sums) == {k: totals[k] for k in TOTAL_KEYS}
    assert sums["requests"] == MAX_SESSIONS + 60


def test_a_larger_copy_replaces_the_first_in_the_counters_sums():
    history = TokenHistory()
    tally = Tally(history)
    history.record_usage("claude-sonnet-4-5", 100, 1, ts=T0, session="a", request_key="msg-1")
    history.drain()
    first = tally.take()
    history.record_usage("claude-sonnet-4-5", 100, 50, ts=T0, session="a", request_key="msg-1")
    history.drain()
    sums = summed([first, tally.take()])
    assert (sums["output"], sums["requests"]) == (50, 1)


def test_unpriced_requests_add_no_cost_and_are_counted(tmp_path: Path):
    with SessionLogger(tmp_path / "logs", "s1") as log:
        log.model_call("claude-sonnet-4-5", input_tokens=1_000, output_tokens=100, provider="anthropic", ended_ts=T0)
        log.model_call("mystery-model-9000", input_tokens=9_000, output_tokens=900, ended_ts=T0 + 5)
    history = read([f"comms:{tmp_path / 'logs'}"])
    growth = Tally(history).take()
    by_model = {labels[0]: figures for labels, figures in growth.usage.items()}
    assert by_model["mystery-model-9000"][F_COST] == 0
    assert by_model["mystery-model-9000"][F_UNPRICED] == 1
    assert by_model["claude-sonnet-4-5"][F_UNPRICED] == 0
    assert summed([growth])["cost_usd"] == pytest.approx(history.snapshot()["totals"]["cost_usd"])


def test_tool_calls_count_by_tool_and_outcome():
    history = TokenHistory()
    tally = Tally(history)
    history.record_tool_call("Bash", 10.0, ok=True, ts=T0, session="a")
    history.record_tool_call("Bash", 12.0, ok=False, ts=T0 + 1, session="b")
    history.record_tool_call("Read", 1.0, ts=T0 + 2, session="a")
    history.drain()
    assert tally.take().tool_calls == {("Bash", "true"): 1, ("Bash", "false"): 1, ("Read", "true"): 1}
    history.record_tool_call("Bash", 10.0, ok=True, ts=T0 + 3, session="a")
    history.drain()
    assert tally.take().tool_calls == {("Bash", "true"): 1}


def test_rate_limit_windows_are_read_where_a_source_gives_them():
    # Beside the account's windows, Codex logs those of a model with a limit of its own
    # (rate_limits.limit_id): each is a row named as limits.py names it, with the model.
    history = TokenHistory()
    history.set_rate_limits(
        "codex:/home/ana/.codex/sessions",
        {
            "ts": T0,
            "primary": {"used_pct": 42.0, "window_minutes": 300, "resets_at": T0 + 3600},
            "secondary": {"used_pct": 7.5, "window_minutes": 10080, "resets_at": None},
            "models": {
                "codex_bengalfox": {
                    "ts": T0,
                    "name": "GPT-5.3-Codex-Spark",
                    "primary": {"used_pct": 3.0, "window_minutes": 300, "resets_at": T0 + 600},
                    "secondary": {"used_pct": 1.0, "window_minutes": 10080, "resets_at": None},
                },
                "unnamed": {"ts": T0, "primary": {"used_pct": 9.0, "window_minutes": 60, "resets_at": None}},
            },
        },
    )
    windows = Tally(history).take().rate_limits
    assert [(w["window"], w.get("model"), w["used_pct"], w["resets_at"]) for w in windows] == [
        ("primary", None, 42.0, T0 + 3600),
        ("secondary", None, 7.5, None),
        ("codex_bengalfox_primary", "GPT-5.3-Codex-Spark", 3.0, T0 + 600),
        ("codex_bengalfox_secondary", "GPT-5.3-Codex-Spark", 1.0, None),
        ("unnamed_primary", "unnamed", 9.0, None),
    ]


def copy(key: str | None, output: int) -> UsageEvent:
    return UsageEvent(ts=T0, model="claude-opus-4-8", input=10, output=output, session="s", request_key=key)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_streamed_copies_reach_the_histogram_once_at_the_largest():
    clock = Clock()
    log = RequestLog(settle_s=10.0, clock=clock)
    history = TokenHistory()
    log.attach(history)
    history.add(copy("msg-1", 1))
    history.add(copy("msg-1", 30))
    history.drain()
    clock.now = 3.0
    history.add(copy("msg-1", 80))  # a later copy while the first waits
    history.drain()
    assert log.take() == []  # still settling
    clock.now = 13.5
    ready = log.take()
    assert [ev.output for ev in ready] == [80]
    assert history.snapshot()["totals"]["output_tokens"] == 80


def test_a_copy_after_its_request_was_recorded_is_not_recorded_again():
    clock = Clock()
    log = RequestLog(settle_s=1.0, clock=clock)
    history = TokenHistory()
    log.attach(history)
    history.add(copy("msg-1", 10))
    history.drain()
    assert log.take() == []  # settling from the first look that saw it
    clock.now = 2.0
    assert len(log.take()) == 1
    history.add(copy("msg-1", 20))
    history.drain()
    clock.now = 10.0
    assert log.take() == []  # counted once; the counters carry its larger copy


def test_requests_without_a_key_are_ready_at_once_and_flush_hands_out_the_rest():
    log = RequestLog(settle_s=100.0, clock=Clock())
    history = TokenHistory()
    log.attach(history)
    history.add(copy(None, 5))
    history.add(copy("msg-2", 6))
    history.drain()
    assert [ev.output for ev in log.take()] == [5]
    assert [ev.output for ev in log.take(flush=True)] == [6]


def test_the_histogram_still_sees_requests_after_the_figures_are_reset():
    # A reset (the demo's fresh start) builds new parts: what the drain calls for each
    # request is bound again, and the request log stays on it.
    log = RequestLog(settle_s=100.0, clock=Clock())
    history = TokenHistory()
    log.attach(history)
    history.add(copy(None, 5))
    history.drain()
    history.reset_aggregates()
    history.add(copy(None, 7))
    history.add(copy("msg-3", 8))
    history.drain()
    assert [ev.output for ev in log.take(flush=True)] == [5, 7, 8]
    assert history.snapshot()["totals"]["output_tokens"] == 15


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["claude"], "give --prometheus HOST:PORT, --otlp [URL], or both"),
        (["--prometheus", "localhost"], "give HOST:PORT"),
        (["--prometheus", "127.0.0.1:99999"], "give HOST:PORT"),
        (["--prometheus", ":0", "--label", "user"], "give NAME=VALUE"),
        (["--prometheus", ":0", "--label", "model=x"], "is one the figures carry already"),
        (["--prometheus", ":0", "--label", "user="], "needs a printable value"),
        (["--otlp", "--temporality", "sideways"], "invalid choice"),
        (["--prometheus", "127.0.0.1:0", "nosuch:thing"], "unknown source"),
        (["--otlp", "localhost:4318", "claude"], "give an http:// or https:// URL"),
    ],
)
def test_a_bad_export_input_is_one_line_and_exit_2(argv, says, tmp_path: Path, capsys):
    try:
        code = main(["export", "--state", str(tmp_path / "state.toml"), *argv])
    except SystemExit as exc:  # argparse's own checks exit from the parser
        code = exc.code
    err = capsys.readouterr().err
    assert code == EXIT_USAGE
    assert says in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_export_with_no_logs_says_where_it_looked(tmp_path: Path):
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "XDG_DATA_HOME": str(tmp_path / "data")}
    done = subprocess.run(
        [sys.executable, "-m", "session_insights.cli", "export", "--prometheus", "127.0.0.1:0"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == EXIT_USAGE
    assert "nothing to export: no logs in the agents' default folders" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_window_and_report_never_import_opentelemetry():
    code = (
        "import sys, session_insights.cli, session_insights.app; "
        "print(any(m.startswith('opentelemetry') for m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "False", done.stderr


def test_export_refuses_a_state_another_process_writes(tmp_path: Path):
    state_path = tmp_path / "state.toml"
    hold = "import sys; from session_insights.history import TokenHistory; h = TokenHistory(state_path=sys.argv[1]); print('held', flush=True); sys.stdin.read()"  # fmt: skip
    window = subprocess.Popen(  # holds the state's write lock, as a running window does
        [sys.executable, "-c", hold, str(state_path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert window.stdout.readline().strip() == "held"
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "session_insights.cli",
                "export",
                "--state",
                str(state_path),
                "--prometheus",
                "127.0.0.1:0",
                *SOURCES,
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        window.communicate("", timeout=30)
    assert done.returncode == EXIT_USAGE
    assert "give the export a --state of its own" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def exposition(growth, requests) -> str:
    """What /metrics serves after ``growth`` and ``requests`` are added."""
    from opentelemetry.exporter.prometheus import PrometheusMetricReader
    from prometheus_client import CollectorRegistry, generate_latest

    from session_insights.export.meters import Meters

    registry = CollectorRegistry()
    meters = Meters(PrometheusMetricReader(registry=registry), {"user": "ana"})
    try:
        meters.add(growth)
        meters.record(requests)
        return generate_latest(registry).decode()
    finally:
        meters.close()


def test_every_metric_is_exposed_under_the_documented_name():
    history = read(SOURCES)
    history.record_tool_call("Bash", 5.0, ok=False, ts=T0, session="a")
    spark = {"ts": T0, "name": "GPT-5.3-Codex-Spark", "primary": {"used_pct": 3.0, "window_minutes": 300}}
    history.set_rate_limits(
        "codex",
        {
            "ts": T0,
            "primary": {"used_pct": 12.0, "window_minutes": 300, "resets_at": T0},
            "models": {"codex_bengalfox": spark},
        },
    )
    history.drain()
    requests = [ev for _, ev in history._held.items()]
    text = exposition(Tally(history).take(), requests)
    names = {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ")}
    assert names >= {
        "session_insights_tokens_total",
        "session_insights_cost_usd_total",
        "session_insights_requests_total",
        "session_insights_unpriced_requests_total",
        "session_insights_tool_calls_total",
        "session_insights_rate_limit_used_percent",
        "session_insights_rate_limit_resets_at_seconds",
        "gen_ai_client_token_usage",
    }
    assert 'tool="Bash"' in text and 'ok="false"' in text
    assert 'gen_ai_token_type="input"' in text and 'gen_ai_provider_name="anthropic"' in text
    assert "session=" not in text  # sessions are never labels
    gauges = [line for line in text.splitlines() if line.startswith("session_insights_rate_limit_used_percent{")]
    assert any('window="codex_bengalfox_primary"' in g and 'model="GPT-5.3-Codex-Spark"' in g for g in gauges)
    # the account's window has no model (the exposition writes an absent label as "")
    assert any('window="primary"' in g and 'model="G' not in g for g in gauges)
    # the dashboard asks only for what is served
    dashboard = (Path(__file__).parent.parent / "docs" / "grafana-dashboard.json").read_text()
    asked = set(re.findall(r"\b(?:session_insights|gen_ai_client)_[a-z_]+", dashboard))
    served = names | {f"{n}_{part}" for n in names for part in ("bucket", "sum", "count")}
    assert asked and asked <= served, asked - served
