"""``session-insights statusline``: the line it prints, what it records, and that no input
breaks Claude Code's status bar. The fixtures are Claude Code's own statusLine input,
captured against a mock API (tests/fixtures/claude/statusline/README.md)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from session_insights import limits, quota_log, state, statusline

FIXTURES = Path(__file__).parent / "fixtures" / "claude" / "statusline"
NOW_TS = 1893456000 - 2 * 3600  # two hours before the captured 5-hour reset: 3 h elapsed


def run(data: bytes, now_ts: float = NOW_TS) -> tuple[int, str]:
    out = io.BytesIO()
    code = statusline.run(io.BytesIO(data), out, now_ts=now_ts)
    return code, out.getvalue().decode()


def status(**fields) -> bytes:
    return json.dumps(
        {"session_id": "s-1", "model": {"id": "claude-sonnet-5", "display_name": "Sonnet 5"}, **fields}
    ).encode()


def test_a_subscribers_status_shows_model_cost_both_windows_and_pace():
    code, out = run((FIXTURES / "subscriber_after_first_response.json").read_bytes())
    assert code == 0
    # 42 % used with 3 of 5 hours gone: 70 % at the reset; 7 days: 17 % after 1.78 days, 67 %.
    assert out == "Sonnet 5 · $0.0040 · 5h 42% (resets in 2h) · 7d 17% · pace 5h 70%, 7d 67%\n"


def test_a_subscribers_status_is_recorded_without_any_text():
    run((FIXTURES / "subscriber_after_first_response.json").read_bytes())
    [obs] = quota_log.read()
    assert obs["windows"] == {
        "five_hour": {"used_percent": 42.0, "resets_at_ts": 1893456000.0},
        "seven_day": {"used_percent": 17.0, "resets_at_ts": 1893900000.0},
    }
    assert (obs["ts"], obs["cost_usd"], obs["model"]) == (NOW_TS, 0.00405, "claude-sonnet-5")
    assert obs["session"] == "0c812f7d-9977-418b-ae1e-9757cb7d7eea"
    written = quota_log.default_path().read_text()
    assert "/tmp" not in written and "cwd" not in written and "workspace" not in written


@pytest.mark.parametrize(
    ("name", "line"),
    [
        ("subscriber_before_first_response.json", "Sonnet 5 · $0.00\n"),
        ("api_key_after_first_response.json", "Opus 4.8 (1M context) · $0.0067\n"),
    ],
)
def test_a_status_without_rate_limits_shows_model_and_cost(name, line):
    assert run((FIXTURES / name).read_bytes()) == (0, line)


def test_a_window_on_course_to_pass_its_limit_is_marked():
    resets_ts = NOW_TS + 2.5 * 3600  # half of the 5 hours gone, 60 % used: 120 % at the reset
    data = status(rate_limits={"five_hour": {"used_percentage": 60, "resets_at": resets_ts}})
    assert run(data) == (0, "Sonnet 5 · 5h 60% (resets in 2h 30m) · pace 5h 120% !\n")


def test_a_window_past_its_reset_says_so_instead_of_an_old_figure():
    data = status(rate_limits={"five_hour": {"used_percentage": 90, "resets_at": NOW_TS - 60}})
    assert run(data) == (0, "Sonnet 5 · 5h reset\n")


def test_per_model_weekly_windows_are_shown_and_recorded_beside_the_others():
    """Claude Code 2.1.197 and 2.1.332 put only ``five_hour`` and ``seven_day`` in the
    statusLine input (read in their binaries); their /usage data names the per-model weekly
    windows ``seven_day_opus`` and ``seven_day_sonnet``. Should the bar pass them, it will
    be in the shape of the others: the captured input with them added so."""
    data = json.loads((FIXTURES / "subscriber_after_first_response.json").read_bytes())
    data["rate_limits"]["seven_day_opus"] = {"used_percentage": 55, "resets_at": 1893900000}
    data["rate_limits"]["seven_day_sonnet"] = {"used_percentage": 4.5, "resets_at": 1893900000}
    code, out = run(json.dumps(data).encode())
    assert code == 0
    assert out.startswith("Sonnet 5 · $0.0040 · 5h 42% (resets in 2h) · 7d 17% · 7d Opus 55% · 7d Sonnet 4% · pace ")
    [obs] = quota_log.read()
    assert obs["windows"]["seven_day_opus"] == {"used_percent": 55.0, "resets_at_ts": 1893900000.0}
    windows = limits.claude_windows([obs], NOW_TS)
    assert [(w["name"], w["label"], w["model"]) for w in windows] == [
        ("five_hour", "5h", None),
        ("seven_day", "7d", None),
        ("seven_day_opus", "7d Opus", "Opus"),
        ("seven_day_sonnet", "7d Sonnet", "Sonnet"),
    ]
    assert limits.as_json(windows)["claude"]["seven_day_opus"]["model"] == "Opus"


def test_a_window_the_log_does_not_know_is_dropped_when_read_back():
    quota_log.append(
        {"ts": NOW_TS, "windows": {"five_hour": {"used_percent": 5.0}, "cinder_cove": {"used_percent": 9}}}
    )
    assert list(quota_log.read()[0]["windows"]) == ["five_hour"]


@pytest.mark.parametrize(
    "data",
    [b"", b"not json", b"[1, 2]", b'"text"', b"null", b"\xff\xfe", b"[" * 100_000, b"{" + b" " * 2_000_000],
)
def test_input_that_is_not_a_status_prints_a_short_line_and_exits_0(data):
    assert run(data) == (0, statusline.NO_INPUT + "\n")
    assert not quota_log.default_path().exists()


def test_odd_values_are_left_out_not_shown():
    data = status(
        model={"id": 7, "display_name": "Evil\x1b[2J\nName"},
        cost={"total_cost_usd": float("nan")},
        rate_limits={
            "five_hour": {"used_percentage": "42", "resets_at": NOW_TS + 60},
            "seven_day": {"used_percentage": 17, "resets_at": 1e20},
        },
    )
    code, out = run(data)
    assert code == 0
    assert out == "Evil?[2J?Name · 7d 17%\n"  # no 5h (a string), no reset (out of range), no cost


def test_a_repeated_status_is_recorded_once_a_minute():
    data = (FIXTURES / "subscriber_after_first_response.json").read_bytes()
    for offset_s in (0, 1, 30, 59, 61):
        run(data, now_ts=NOW_TS + offset_s)
    assert [obs["ts"] - NOW_TS for obs in quota_log.read()] == [0, 61]


def test_the_log_sits_beside_the_state_file(monkeypatch, tmp_path):
    assert quota_log.default_path().parent == state.default_path().parent
    monkeypatch.setenv(state.STATE_ENV, str(tmp_path / "elsewhere" / "state.toml"))
    assert quota_log.default_path() == tmp_path / "elsewhere" / quota_log.LOG_NAME


def test_the_log_stays_bounded_keeping_the_newest(monkeypatch):
    monkeypatch.setattr(quota_log, "MAX_BYTES", 4096)
    for i in range(200):
        quota_log.append({"ts": NOW_TS + i, "cost_usd": float(i), "windows": {}})
    assert quota_log.default_path().stat().st_size <= 4096
    kept = quota_log.read()
    assert kept[-1]["cost_usd"] == 199.0 and len(kept) > 5
    assert [o["cost_usd"] for o in kept] == sorted(o["cost_usd"] for o in kept)


WRITER = """
import sys
from session_insights import quota_log
for i in range(100):
    quota_log.append({"ts": 1.8e9 + i, "session": sys.argv[1], "cost_usd": float(i), "windows": {}})
"""


def test_statuslines_running_at_once_lose_and_tear_no_line(monkeypatch):
    monkeypatch.setattr(quota_log, "MAX_BYTES", 10**9)
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, f"s{n}"]) for n in range(6)]
    assert [w.wait() for w in writers] == [0] * 6
    lines = quota_log.default_path().read_bytes().splitlines()
    assert len(lines) == 600
    assert {(o["session"], o["cost_usd"]) for o in map(json.loads, lines)} == {
        (f"s{n}", float(i)) for n in range(6) for i in range(100)
    }


def test_the_statusline_loads_neither_the_window_nor_the_prices_nor_the_history():
    probe = (
        "import sys, io; from session_insights import cli; "
        "sys.stdin = io.TextIOWrapper(io.BytesIO(open(sys.argv[1], 'rb').read())); "
        "code = cli.main(['statusline']); "
        "print(code, sorted(m for m in sys.modules if m.split('.')[0] in ('dearpygui', 'genai_prices') "
        "or m.startswith(('session_insights.history', 'session_insights.pricing', 'session_insights.report'))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, str(FIXTURES / "subscriber_after_first_response.json")],
        capture_output=True,
        text=True,
        check=True,
        env=os.environ,
    )
    assert done.stdout.splitlines()[-1] == "0 []"
    assert done.stdout.startswith("Sonnet 5 · $0.0040 · 5h 42%")


def test_the_command_reads_stdin_and_exits_0_on_garbage():
    done = subprocess.run(
        [sys.executable, "-m", "session_insights.cli", "statusline"], input=b"\x00garbage", capture_output=True
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, b"session-insights: no status input\n", b"")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=2000))
def test_any_bytes_print_one_line_and_exit_0(data):
    code, out = run(data)
    assert code == 0 and out.endswith("\n") and out.count("\n") == 1


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)
FIELD = st.sampled_from(
    ["used_percentage", "resets_at", "five_hour", "seven_day", "seven_day_opus", "seven_day_sonnet", "total_cost_usd"]
)
STATUS = st.fixed_dictionaries(
    {},
    optional={
        "session_id": JSON,
        "model": st.fixed_dictionaries({}, optional={"id": JSON, "display_name": JSON}) | JSON,
        "cost": st.fixed_dictionaries({}, optional={"total_cost_usd": JSON}) | JSON,
        "rate_limits": st.dictionaries(FIELD, st.dictionaries(FIELD, JSON, max_size=3) | JSON, max_size=3) | JSON,
    },
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(STATUS, st.floats(min_value=1.5e9, max_value=2.5e9))
def test_any_partial_status_prints_one_line_exits_0_and_records_only_clean_figures(data, now_ts):
    code, out = run(json.dumps(data).encode(), now_ts=now_ts)
    assert code == 0 and out.endswith("\n") and out[:-1].isprintable()
    for obs in quota_log.read():
        assert set(obs) == {"ts", "source", "session", "model", "cost_usd", "windows"}
