"""Quota windows as one figure: Claude's from the statusline's observations, Codex's from
its rollouts, the same rules for both, and ``report``'s Limits section."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from session_insights import TokenHistory, limits, quota_log, statusline
from session_insights import formatting as fmt
from session_insights.cli import main
from session_insights.sources import open_source

H = 3600.0
RESET_TS = datetime(2026, 6, 1, 15, 0, tzinfo=UTC).timestamp()


def five_hour(used: float, now_ts: float, observed_ts: float | None = None, resets_at_ts: float = RESET_TS) -> dict:
    return limits.figures("claude", "five_hour", used, resets_at_ts, 5 * H, observed_ts or now_ts, now_ts)


def test_pace_projects_the_burn_so_far_to_the_reset():
    w = five_hour(40.0, RESET_TS - 3 * H)  # 2 of 5 hours gone, 40 % used: 20 %/h
    assert w["elapsed_share"] == pytest.approx(0.4)
    assert w["pace_percent_at_reset"] == pytest.approx(100.0)
    assert w["resets_in_s"] == pytest.approx(3 * H)
    assert w["full_in_s"] == pytest.approx(3 * H) and not w["full_before_reset"]
    assert w["label"] == "5h" and not w["stale"]


def test_a_window_burning_faster_than_its_length_says_when_it_reaches_100():
    w = five_hour(60.0, RESET_TS - 3 * H)  # 30 %/h: 100 % in 1 h 20 m, 1 h 40 m before the reset
    assert w["pace_percent_at_reset"] == pytest.approx(150.0)
    assert w["full_in_s"] == pytest.approx(4 / 3 * H)
    assert w["full_before_reset"]


def test_time_to_100_counts_from_now_not_from_the_observation():
    w = five_hour(60.0, RESET_TS - 2.5 * H, observed_ts=RESET_TS - 3 * H)
    assert w["full_in_s"] == pytest.approx(4 / 3 * H - 0.5 * H)
    assert w["age_s"] == pytest.approx(0.5 * H) and w["stale"]  # 30 min: past STALE_S


def test_a_full_window_is_at_100_now():
    w = five_hour(100.0, RESET_TS - H)
    assert w["full_in_s"] == 0.0 and w["full_before_reset"]


def test_in_its_first_minute_a_window_has_no_pace():
    w = five_hour(3.0, RESET_TS - 5 * H + 30)
    assert w["pace_percent_at_reset"] is None and w["full_in_s"] is None
    assert w["elapsed_share"] == pytest.approx(30 / (5 * H))


def test_a_window_past_its_reset_is_stale_and_has_no_pace():
    w = five_hour(80.0, RESET_TS + 60, observed_ts=RESET_TS - 60)
    assert w["reset_passed"] and w["stale"]
    assert w["pace_percent_at_reset"] is None and w["resets_in_s"] == 0.0
    assert limits.window_phrase(w) == "5h 80% used, reset since (stale)"


def test_a_window_without_a_reset_or_a_length_has_only_its_used_share():
    w = limits.figures("codex", "primary", 12.0, None, None, RESET_TS, RESET_TS)
    assert (w["elapsed_share"], w["pace_percent_at_reset"], w["full_in_s"], w["resets_in_s"]) == (None,) * 4
    assert w["label"] == "primary"


def test_claudes_windows_are_the_latest_observation_of_any_session():
    obs = [
        {
            "ts": RESET_TS - 3 * H,
            "session": "a",
            "windows": {"five_hour": {"used_percent": 10.0, "resets_at_ts": RESET_TS}},
        },
        {
            "ts": RESET_TS - 2 * H,
            "session": "b",
            "windows": {"five_hour": {"used_percent": 30.0, "resets_at_ts": RESET_TS}},
        },
        {
            "ts": RESET_TS - 2.5 * H,
            "session": "a",
            "windows": {"seven_day": {"used_percent": 5.0, "resets_at_ts": RESET_TS}},
        },
    ]
    [five, seven] = limits.claude_windows(obs, RESET_TS - 2 * H)
    assert (five["name"], five["used_percent"], five["observed_ts"]) == ("five_hour", 30.0, RESET_TS - 2 * H)
    assert (seven["label"], seven["window_s"]) == ("7d", 7 * 86400.0)


def test_source_windows_take_the_latest_report_per_kind_and_skip_odd_values():
    rate_limits = {
        "codex:/a": {"ts": 100.0, "primary": {"used_pct": 1.0, "window_minutes": 300, "resets_at": RESET_TS}},
        "codex:/b": {
            "ts": 200.0,
            "primary": {"used_pct": 9.0, "window_minutes": 300, "resets_at": RESET_TS},
            "secondary": {"used_pct": float("nan"), "window_minutes": 10080, "resets_at": RESET_TS},
        },
    }
    [primary] = limits.source_windows(rate_limits, RESET_TS - H)
    assert (primary["source"], primary["used_percent"], primary["label"]) == ("codex", 9.0, "5h")


T0 = RESET_TS - 2 * H


def codex_rollout(folder, used5h: float, used7d: float) -> None:
    """A rollout in the format Codex CLI writes (the shape tests/test_codex.py pins)."""

    def iso(s: float) -> str:
        return datetime.fromtimestamp(T0 + s, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

    session = "01a2343e-ada3-7451-8911-b519843226ef"
    usage = {
        "input_tokens": 1000,
        "cached_input_tokens": 0,
        "output_tokens": 50,
        "reasoning_output_tokens": 0,
        "total_tokens": 1050,
    }
    lines = [
        {"timestamp": iso(0), "type": "session_meta", "payload": {"id": session, "timestamp": iso(0), "cwd": "/p", "originator": "codex_cli_rs", "cli_version": "0.58.0", "source": "cli", "model_provider": "openai"}},
        {"timestamp": iso(1), "type": "turn_context", "payload": {"cwd": "/p", "model": "gpt-5-codex", "approval_policy": "never", "sandbox_policy": {"mode": "workspace-write"}}},
        {"timestamp": iso(2), "type": "event_msg", "payload": {"type": "token_count", "info": {"total_token_usage": usage, "last_token_usage": usage, "model_context_window": 272000}, "rate_limits": {
            "primary": {"used_percent": used5h, "window_minutes": 300, "resets_at": int(RESET_TS)},
            "secondary": {"used_percent": used7d, "window_minutes": 10080, "resets_at": int(RESET_TS + 3 * 86400)},
        }}},
    ]  # fmt: skip
    day = folder / "sessions" / "2026" / "06" / "01"
    day.mkdir(parents=True)
    (day / f"rollout-2026-06-01T13-00-00-{session}.jsonl").write_bytes(b"".join(orjson.dumps(x) + b"\n" for x in lines))


def test_a_codex_rollouts_rate_limits_become_its_windows(tmp_path):
    codex_rollout(tmp_path, 45.0, 30.0)
    history = TokenHistory()
    open_source(f"codex:{tmp_path}", history).poll()
    history.drain()
    primary, secondary = limits.source_windows(history.rate_limits, T0 + H)
    assert (primary["label"], primary["used_percent"], primary["elapsed_share"]) == ("5h", 45.0, pytest.approx(0.8))
    assert primary["pace_percent_at_reset"] == pytest.approx(45.0 / (3 * H + 2) * 5 * H)
    assert (secondary["label"], secondary["used_percent"], secondary["window_s"]) == ("7d", 30.0, 7 * 86400.0)


def status_now(used5h: float, now_ts: float) -> None:
    data = {"session_id": "s", "model": {"id": "claude-sonnet-5"}, "cost": {"total_cost_usd": 1.5},
            "rate_limits": {"five_hour": {"used_percentage": used5h, "resets_at": RESET_TS}}}  # fmt: skip
    statusline.run(io.BytesIO(json.dumps(data).encode()), io.BytesIO(), now_ts=now_ts)


def test_report_json_rate_limits_hold_each_window_in_one_shape(tmp_path, capsys, monkeypatch):
    codex_rollout(tmp_path, 45.0, 30.0)
    status_now(62.0, T0 + H)
    monkeypatch.setattr("time.time", lambda: T0 + H + 60)
    assert main(["report", f"codex:{tmp_path}", "--format", "json", "--no-history"]) == 0
    out = orjson.loads(capsys.readouterr().out)
    assert "limits" not in out  # one place for the figures
    got = out["rate_limits"]
    # Codex's windows were seen an hour ago (stale): the week is estimated from the logs too.
    assert set(got) == {"claude", "codex", "estimate"} and set(got["estimate"]) == {"seven_day"}
    assert set(got["codex"]) == {"primary", "secondary"} and set(got["claude"]) == {"five_hour"}
    fields = {"used_percent", "resets_at_ts", "observed_ts", "window_s", "pace_percent_at_reset"}
    assert all(set(w) == fields for source in ("claude", "codex") for w in got[source].values())
    five = got["claude"]["five_hour"]
    assert (five["used_percent"], five["resets_at_ts"], five["observed_ts"], five["window_s"]) == (
        62.0,
        RESET_TS,
        T0 + H,
        5 * H,
    )
    assert five["pace_percent_at_reset"] == pytest.approx(62.0 / 4 * 5)  # 77.5 % at the reset
    primary = got["codex"]["primary"]
    assert (primary["used_percent"], primary["window_s"], primary["resets_at_ts"]) == (45.0, 5 * H, RESET_TS)
    assert got["codex"]["secondary"]["window_s"] == 7 * 86400.0


def test_report_text_and_md_list_every_window(tmp_path, capsys, monkeypatch):
    codex_rollout(tmp_path, 45.0, 30.0)
    status_now(62.0, T0 + H)
    monkeypatch.setattr("time.time", lambda: T0 + H + 60)
    assert main(["report", f"codex:{tmp_path}", "--no-history", "--utc"]) == 0
    text = capsys.readouterr().out
    limits_table = text[text.index("\nLimits\n") :].split("\n\n")[0].splitlines()
    assert limits_table[2].split()[0] == "window"
    rows = [row.split("  ") for row in limits_table[4:]]
    assert [" ".join(r[0].split()) for r in rows] == ["claude 5h", "codex 5h", "codex 7d"]
    assert "2026-06-01 15:00 UTC (in 59m)" in limits_table[4] and "78%" in limits_table[4]
    assert main(["report", f"codex:{tmp_path}", "--no-history", "--format", "md"]) == 0
    md = capsys.readouterr().out
    assert "## Limits" in md and "| claude 5h | 62% |" in md


def test_report_without_any_window_has_no_limits_section_nor_json_figure(tmp_path, capsys):
    """Logs from long ago: no block is running, so no estimate stands in either."""
    codex_rollout(tmp_path, 45.0, 30.0)
    (next(tmp_path.rglob("*.jsonl"))).write_bytes(
        next(tmp_path.rglob("*.jsonl")).read_bytes().replace(b'"rate_limits"', b'"x"')
    )
    assert main(["report", f"codex:{tmp_path}", "--no-history"]) == 0
    assert "Limits" not in capsys.readouterr().out
    assert main(["report", f"codex:{tmp_path}", "--no-history", "--format", "json"]) == 0
    assert orjson.loads(capsys.readouterr().out)["rate_limits"] == {}  # none known: no figure


def test_a_line_of_the_log_that_is_not_an_observation_is_skipped():
    status_now(10.0, T0)
    with open(quota_log.default_path(), "ab") as f:
        f.write(b'{"ts": "soon"}\n[1]\n\xff\n{"ts": 1.8e9, "windows": {"five_hour": {"used_percent": -3}}}\n')
    kept = quota_log.read()
    assert [o["windows"] for o in kept] == [{"five_hour": {"used_percent": 10.0, "resets_at_ts": RESET_TS}}, {}]


# --- Codex CLI 0.171's own rollout, rate-limit headers from the mock (fixtures/codex/README.md)

CODEX_RATE_LIMITS = Path(__file__).parent / "fixtures" / "codex" / "rate-limits"
ROLLOUT_NOW_TS = 1796192600.0  # 35 s after the rollout's last line


def read_codex(folder: Path) -> TokenHistory:
    history = TokenHistory()
    open_source(f"codex:{folder}", history).read_all()
    history.drain()
    return history


def up_to_the_models_line(folder: Path) -> Path:
    """The fixture's rollout cut after its first token_count: the model's family only."""
    (rollout,) = CODEX_RATE_LIMITS.glob("rollout-*.jsonl")
    lines = rollout.read_bytes().splitlines(keepends=True)
    first = next(i for i, line in enumerate(lines) if b'"codex_bengalfox"' in line)
    (folder / rollout.name).write_bytes(b"".join(lines[: first + 1]))
    return folder


def test_codex_clis_rollout_gives_its_windows_and_a_models_own_weekly_window():
    history = read_codex(CODEX_RATE_LIMITS)
    primary, secondary, model = limits.source_windows(history.rate_limits, ROLLOUT_NOW_TS)
    assert (primary["name"], primary["label"], primary["used_percent"]) == ("primary", "5h", 44.0)
    assert (primary["resets_at_ts"], primary["window_s"]) == (1796202000.0, 5 * H)
    assert (secondary["name"], secondary["label"], secondary["used_percent"]) == ("secondary", "7d", 17.5)
    assert (model["name"], model["model"], model["label"]) == (
        "codex_bengalfox_primary",
        "gpt-5.2-codex-sonic",
        "7d gpt-5.2-codex-sonic",
    )
    assert (model["used_percent"], model["resets_at_ts"]) == (30.0, 1796400000.0)
    got = limits.as_json([primary, secondary, model])["codex"]
    assert got["codex_bengalfox_primary"]["model"] == "gpt-5.2-codex-sonic"
    assert "model" not in got["primary"]


def test_a_models_own_family_never_stands_for_codexs_windows(tmp_path):
    """The rollout's first token_count holds only the model's family (7 days, 30 %): it is
    that model's window, not Codex's 5-hour one."""
    [model] = limits.source_windows(read_codex(up_to_the_models_line(tmp_path)).rate_limits, ROLLOUT_NOW_TS)
    assert (model["name"], model["used_percent"], model["window_s"]) == ("codex_bengalfox_primary", 30.0, 7 * 86400.0)


def test_the_burn_headers_line_leaves_out_a_source_with_only_a_models_own_windows(tmp_path):
    assert fmt.rate_limit_lines(read_codex(up_to_the_models_line(tmp_path)).rate_limits) == []
    [line] = fmt.rate_limit_lines(read_codex(CODEX_RATE_LIMITS).rate_limits)
    assert line.startswith("Rate limits (codex): 5-hour 44.0% used, resets ")
