"""Quota windows estimated from the logs when no server gives one: the current 5-hour
block's and the last 7 days' tokens and cost, against a limit only the user sets
(``[limits]`` in state.toml), always named an estimate."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from session_insights import TokenHistory, limits, limits_estimate, state
from session_insights.cli import main
from session_insights.decode import CorruptState
from session_insights.history.thresholds import ThresholdGuard
from session_insights.limits_estimate import PlanLimits, Usage

H = 3600.0
BLOCK_START_TS = 1_900_000_800.0 - 1_900_000_800.0 % H  # on the hour
MODEL = "claude-sonnet-4-5"  # $3 per million input tokens


def block(tokens: int, cost_usd: float | None = 1.0, requests: int = 3, start_ts: float = BLOCK_START_TS) -> Usage:
    return Usage(start_ts, start_ts + 5 * H, tokens, cost_usd, requests, 0)


WEEK = Usage(BLOCK_START_TS - 6 * 86400, BLOCK_START_TS + 2 * H, 900_000, 9.0, 40, 0)


def test_without_a_limit_an_estimate_has_tokens_and_cost_but_no_used_share():
    [five, week] = limits_estimate.windows(block(120_000), WEEK, PlanLimits(), [], BLOCK_START_TS + 2 * H)
    assert (five["source"], five["name"], five["estimate"], five["limit_source"]) == (
        "estimate",
        "five_hour",
        True,
        None,
    )
    assert (five["tokens"], five["cost_usd"], five["requests"]) == (120_000, 1.0, 3)
    assert five["used_percent"] is None and five["pace_percent_at_reset"] is None and not five["full_before_reset"]
    assert five["resets_in_s"] == pytest.approx(3 * H) and five["elapsed_share"] == pytest.approx(0.4)
    assert (week["name"], week["tokens"], week["resets_at_ts"]) == ("seven_day", 900_000, None)
    assert limits_estimate.phrase(five) == (
        "estimate 5h block: 120,000 tokens, $1.00, 3 requests, ends in 3h, 40% elapsed; "
        "no limit set: [limits] in state.toml"
    )


def test_with_a_token_limit_the_used_share_and_pace_follow_the_block():
    plan = PlanLimits(five_hour_tokens=1_000_000)
    [five, _] = limits_estimate.windows(block(600_000), WEEK, plan, [], BLOCK_START_TS + 2 * H)
    assert five["limit_source"] == "state.toml" and five["limit_tokens"] == 1_000_000
    assert five["used_percent"] == pytest.approx(60.0)
    assert five["pace_percent_at_reset"] == pytest.approx(150.0)  # 30 %/h for 5 h
    assert five["full_in_s"] == pytest.approx(4 / 3 * H) and five["full_before_reset"]
    assert limits_estimate.phrase(five).endswith(
        "; 60% of your limit (1,000,000 tokens), pace 150% at the end, 100% in 1h 20m"
    )


def test_with_a_token_and_a_cost_limit_the_one_that_runs_out_first_counts():
    plan = PlanLimits(five_hour_tokens=1_000_000, five_hour_cost_usd=2.0, weekly_cost_usd=10.0)
    [five, week] = limits_estimate.windows(block(100_000, cost_usd=1.5), WEEK, plan, [], BLOCK_START_TS + H)
    assert five["used_percent"] == pytest.approx(75.0)  # 10 % of the tokens, 75 % of the dollars
    assert limits_estimate.limit_text(five) == "1,000,000 tokens or $2.00"
    assert week["used_percent"] == pytest.approx(90.0) and week["pace_percent_at_reset"] is None  # rolling


def test_an_estimate_stands_aside_for_a_current_server_window_unless_the_user_set_a_limit():
    now_ts = BLOCK_START_TS + H
    server = [limits.figures("claude", "five_hour", 20.0, BLOCK_START_TS + 5 * H, 5 * H, now_ts, now_ts)]
    assert [w["name"] for w in limits_estimate.windows(block(1_000), WEEK, PlanLimits(), server, now_ts)] == [
        "seven_day"
    ]
    with_limit = PlanLimits(five_hour_tokens=50_000)
    assert [w["name"] for w in limits_estimate.windows(block(1_000), WEEK, with_limit, server, now_ts)] == [
        "five_hour",
        "seven_day",
    ]
    stale = [limits.figures("claude", "five_hour", 20.0, BLOCK_START_TS + 5 * H, 5 * H, now_ts - H, now_ts)]
    assert len(limits_estimate.windows(block(1_000), WEEK, PlanLimits(), stale, now_ts)) == 2


def test_logs_with_nothing_recent_and_no_limit_give_no_estimate():
    quiet = Usage(None, None, 0, 0.0, 0, 0)
    assert limits_estimate.windows(quiet, quiet, PlanLimits(), [], BLOCK_START_TS) == []
    [five, _] = limits_estimate.windows(quiet, quiet, PlanLimits(five_hour_tokens=10, weekly_tokens=10), [], 0.0)
    assert five["used_percent"] == 0.0 and five["resets_at_ts"] is None
    assert limits_estimate.phrase(five).startswith("estimate 5h block (none running): 0 tokens")


def test_a_block_taken_before_its_end_is_over_once_the_end_passed():
    plan = PlanLimits(five_hour_tokens=1_000)
    [five, _] = limits_estimate.windows(block(900), WEEK, plan, [], BLOCK_START_TS + 5 * H + 1)
    assert (five["tokens"], five["used_percent"], five["resets_at_ts"]) == (0, 0.0, None)


def test_the_block_and_week_come_from_the_history_and_its_plan_limits():
    history = TokenHistory()
    history.plan_limits = {"five_hour_tokens": 1_000_000}
    history.record_usage(MODEL, input_tokens=200_000, output_tokens=0, ts=BLOCK_START_TS + 600)
    history.record_usage(MODEL, input_tokens=100_000, output_tokens=0, ts=BLOCK_START_TS + H)
    history.drain()
    [five, week] = limits_estimate.of_history(history, [], BLOCK_START_TS + 2 * H)
    assert (five["start_ts"], five["resets_at_ts"]) == (BLOCK_START_TS, BLOCK_START_TS + 5 * H)
    assert (five["tokens"], five["requests"], five["cost_usd"]) == (300_000, 2, pytest.approx(0.9))
    assert five["used_percent"] == pytest.approx(30.0)
    assert (week["tokens"], week["used_percent"]) == (300_000, None)


# --- state.toml's [limits] --------------------------------------------------------------


def test_plan_limits_in_state_toml_are_read_and_kept_by_a_save(tmp_path):
    path = tmp_path / "state.toml"
    path.write_text("schema = 1\n[limits]\nfive_hour_tokens = 5_000_000\nweekly_cost_usd = 40\n")
    history = TokenHistory(state_path=path)
    assert history.plan_limits == {"five_hour_tokens": 5_000_000, "weekly_cost_usd": 40.0}
    history.record_usage(MODEL, input_tokens=10, output_tokens=1, ts=BLOCK_START_TS)
    history.drain()
    history.save()
    history.close()
    assert TokenHistory(state_path=path, read_only=True).plan_limits == history.plan_limits


@pytest.mark.parametrize(
    ("table", "why"),
    [
        ({"five_hour_token": 5}, "limits.five_hour_token: is not a limit"),
        ({"five_hour_tokens": 1.5}, "limits.five_hour_tokens: must be a whole number"),
        ({"weekly_cost_usd": 0}, "limits.weekly_cost_usd: must be a finite number"),
        ({"weekly_tokens": True}, "limits.weekly_tokens: must be a whole number"),
        ([1], "limits: must be a table"),
    ],
)
def test_a_plan_limit_that_is_not_one_is_named_in_one_line(table, why):
    with pytest.raises(CorruptState) as raised:
        state.plan_limits(table)
    assert str(raised.value).startswith(why) and "\n" not in str(raised.value)


def test_the_readmes_limits_example_is_a_valid_table():
    text = (Path(__file__).parents[1] / "README.md").read_text()
    example = text[text.index("```toml\n[limits]") + 8 : text.index("```", text.index("```toml\n[limits]") + 8)]
    import tomllib

    assert set(state.plan_limits(tomllib.loads(example)["limits"])) == set(state.PLAN_LIMIT_KEYS)


# --- report -----------------------------------------------------------------------------


def claude_log(folder: Path, ts_list: list[float], tokens: int = 100_000) -> None:
    """A Claude Code transcript of one request per ``ts`` (the shape tests/test_claude.py pins)."""
    from datetime import UTC, datetime

    project = folder / "projects" / "-p"
    project.mkdir(parents=True)
    lines = []
    for i, ts in enumerate(ts_list):
        stamp = datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        usage = {"input_tokens": tokens, "output_tokens": 0, "cache_read_input_tokens": 0}
        message = {"id": f"msg_{i}", "model": MODEL, "role": "assistant", "usage": usage, "content": []}
        lines.append({"type": "assistant", "timestamp": stamp, "sessionId": "s-1", "requestId": f"req_{i}",
                      "uuid": f"u{i}", "message": message})  # fmt: skip
    (project / "s-1.jsonl").write_bytes(b"".join(orjson.dumps(x) + b"\n" for x in lines))


def test_report_marks_estimates_and_the_users_limit_in_text_and_json(tmp_path, capsys, monkeypatch):
    claude_log(tmp_path, [BLOCK_START_TS + 600, BLOCK_START_TS + H])
    state.default_path().parent.mkdir(parents=True, exist_ok=True)
    state.default_path().write_text("schema = 1\n[limits]\nfive_hour_tokens = 400_000\n")
    monkeypatch.setattr("time.time", lambda: BLOCK_START_TS + 2 * H)
    assert main(["report", f"claude:{tmp_path}", "--no-history", "--format", "json", "--utc"]) == 0
    got = orjson.loads(capsys.readouterr().out)["rate_limits"]
    assert set(got) == {"estimate"}
    five = got["estimate"]["five_hour"]
    assert (five["estimate"], five["limit_source"], five["limit_tokens"], five["tokens"]) == (
        True,
        "state.toml",
        400_000,
        200_000,
    )
    assert five["used_percent"] == pytest.approx(50.0) and five["pace_percent_at_reset"] == pytest.approx(125.0)
    assert got["estimate"]["seven_day"]["limit_source"] is None  # no weekly limit set: not the user's
    assert main(["report", f"claude:{tmp_path}", "--no-history", "--utc"]) == 0
    text = capsys.readouterr().out
    table = text[text.index("\nLimits estimated from the logs\n") + 1 :].split("\n\n")[0].splitlines()
    assert table[1].split() == ["window", "tokens", "cost", "requests", "your", "limit", "used", "ends", "elapsed",
                                "pace", "at", "end"]  # fmt: skip
    assert table[3].startswith("5h block  200,000  $0.60         2  400,000 tokens   50%")
    assert "2030-03-17 23:00 UTC (in 3h)" in table[3] and table[3].endswith("125%")
    assert table[4].split() == ["last", "7d", "200,000", "$0.60", "2", "not", "set", "-", "rolling", "-", "-"]
    assert "\nLimits\n" not in text  # no server window


def test_report_without_a_limit_names_where_to_set_one_nowhere_invents_it(tmp_path, capsys, monkeypatch):
    claude_log(tmp_path, [BLOCK_START_TS + 600])
    monkeypatch.setattr("time.time", lambda: BLOCK_START_TS + H)
    assert main(["report", f"claude:{tmp_path}", "--no-history", "--format", "json"]) == 0
    five = orjson.loads(capsys.readouterr().out)["rate_limits"]["estimate"]["five_hour"]
    assert (five["used_percent"], five["limit_source"], five["limit_tokens"], five["limit_cost_usd"]) == (None,) * 4


def test_a_bad_limit_in_the_default_state_is_a_notice_and_no_limit(tmp_path, capsys, monkeypatch):
    claude_log(tmp_path, [BLOCK_START_TS + 600])
    state.default_path().parent.mkdir(parents=True, exist_ok=True)
    state.default_path().write_text("schema = 1\n[limits]\nfive_hour_tokens = -3\n")
    monkeypatch.setattr("time.time", lambda: BLOCK_START_TS + H)
    assert main(["report", f"claude:{tmp_path}", "--no-history", "--format", "json"]) == 0
    out = orjson.loads(capsys.readouterr().out)
    assert out["rate_limits"]["estimate"]["five_hour"]["used_percent"] is None
    assert any("limits.five_hour_tokens: must be a whole number" in n for n in out["notices"])


# --- the guard --------------------------------------------------------------------------


def test_the_guard_fires_on_the_blocks_estimate_against_the_users_limit_once_per_crossing():
    history = TokenHistory()
    history.plan_limits = {"five_hour_tokens": 1_000_000}
    guard = ThresholdGuard(history, limits_path=Path("/nonexistent/limits.jsonl"))
    now_ts = BLOCK_START_TS + 4 * H  # 4 of the block's 5 hours: a pace of 1.25 x what is used

    def use(tokens: int, ts: float) -> None:
        history.record_usage(MODEL, input_tokens=tokens, output_tokens=0, ts=ts)
        history.drain()

    use(100_000, BLOCK_START_TS + 600)
    for i in range(6):
        use(100_000, BLOCK_START_TS + H + i * 60)  # 700,000: 70 %, pace 87.5 %
    assert [c for c in guard.check(now_ts) if c.source == "estimate"] == []
    use(100_000, now_ts - 60)  # 80 %: pace 100 %, not past it
    [at80] = [c for c in guard.check(now_ts) if c.source == "estimate"]
    assert (at80.kind, at80.level_percent, at80.window, at80.value_percent) == (
        "window",
        80.0,
        "five_hour",
        pytest.approx(80.0),
    )
    assert (at80.figures["tokens"], at80.figures["limit_tokens"], at80.figures["limit_source"]) == (
        800_000,
        1_000_000,
        "state.toml",
    )
    assert guard.check(now_ts + 1) == []  # still past 80 %: not again
    use(160_000, now_ts + 30)  # 96 %
    kinds = sorted((c.kind, c.level_percent) for c in guard.check(now_ts + 60) if c.source == "estimate")
    assert kinds == [("pace", 100.0), ("window", 95.0)]


def test_the_guard_sums_only_the_scopes_the_user_set_a_limit_for(monkeypatch):
    history = TokenHistory()
    history.record_usage(MODEL, input_tokens=900_000, output_tokens=0, ts=BLOCK_START_TS + 600)
    history.drain()
    taken = []
    real = limits_estimate.usage_of
    monkeypatch.setattr(
        limits_estimate, "usage_of", lambda h, kind, now_ts: taken.append(kind) or real(h, kind, now_ts)
    )
    guard = ThresholdGuard(history, limits_path=Path("/nonexistent/limits.jsonl"))
    guard.check(BLOCK_START_TS + H)
    assert taken == []
    history.plan_limits = {"weekly_tokens": 1_000_000}
    [at80] = guard.check(BLOCK_START_TS + H)
    assert taken == ["week"] and (at80.window, at80.level_percent) == ("seven_day", 80.0)


def test_without_a_limit_the_estimates_never_fire():
    history = TokenHistory()
    history.record_usage(MODEL, input_tokens=10_000_000, output_tokens=0, ts=BLOCK_START_TS + 600)
    history.drain()
    guard = ThresholdGuard(history, limits_path=Path("/nonexistent/limits.jsonl"))
    assert guard.check(BLOCK_START_TS + H) == []
