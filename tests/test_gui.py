"""The panel, rendered for real under Xvfb. Each scenario runs in its own process so a
Dear PyGui crash fails a test instead of killing pytest."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from conftest import run_driver

from session_insights import formatting as fmt
from session_insights import times

DRIVER = Path(__file__).with_name("gui_driver.py")
pytestmark = pytest.mark.gui


def drive(scenario: str, env: dict, artifacts: Path, tmp_path: Path) -> dict:
    return run_driver(DRIVER, scenario, tmp_path / f"{scenario}.json", env, str(artifacts))


@pytest.fixture(scope="module")
def demo_run(x_display, artifacts, tmp_path_factory):
    return drive("demo", x_display, artifacts, tmp_path_factory.mktemp("gui"))


def test_how_this_was_counted_is_collapsed_at_first_and_counts_the_scopes_requests(demo_run, artifacts):
    assert "provenance" not in demo_run["headers_open"]
    [sources, bad_reasons, not_read, unpriced, agent_cost] = demo_run["tables"]["provenance"]
    snap = demo_run["snapshot"]
    # The demo plays a host writing a comms log: one source, its one session's requests.
    [session] = snap["sessions"].values()
    assert [row[:3] for row in sources] == [[session["source"], "1", f"{snap['totals']['requests']:,}"]]
    assert [row[0] for row in unpriced] == snap["unpriced_models"]
    assert not_read == [] and bad_reasons == []
    assert demo_run["provenance_groups_shown"] == [True, False, False, bool(unpriced), bool(agent_cost)]
    assert (artifacts / "header_provenance.png").exists()


def test_after_the_demo_every_header_is_open_and_screenshots_exist(demo_run, artifacts):
    assert set(demo_run["headers_open"]) == {
        "timeline",
        "burn",
        "models",
        "tiers",
        "efficiency",
        "tools",
        "tool_cost",
        "progress",
        "summary",
        "sessions",
        "efficiency_over_time",
        "usage",
        "categories",
    }
    for name in ["panel_full", *(f"header_{k}" for k in demo_run["headers_open"])]:
        png = artifacts / f"{name}.png"
        assert png.exists() and png.stat().st_size > 10_000, png
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_timeline_series_hold_the_history_and_x_values_round_trip_exactly(demo_run):
    view = demo_run["view"]
    assert len(view["x"]) > 10
    for key in ("total", "input", "output", "cache_read"):
        xs, ys = demo_run["series"][key]
        # Epoch seconds survive as float64: no float32 staircase.
        assert xs == view["x"]
        assert ys == view[key]
    assert demo_run["series"]["total"][1][-1] == demo_run["snapshot"]["totals"]["total_tokens"]
    assert demo_run["rate_series"] == [view["rate_x"], view["tokens_per_min"]]


def test_the_area_under_the_total_follows_the_total_line(demo_run):
    xs, ys = demo_run["series"]["total"]
    kept = [(x, y) for x, y in zip(xs, ys) if y == y]  # the line's break points (NaN) left out
    assert demo_run["total_area"][:2] == [[x for x, _ in kept], [y for _, y in kept]]
    assert demo_run["total_area"][1][-1] == demo_run["snapshot"]["totals"]["total_tokens"]


def test_the_area_under_a_line_runs_flat_across_an_idle_gap():
    from session_insights.ui.timeline import area_points

    nan = float("nan")
    # Spent 10 by t=60, idle, resumed flat at t=4000, then 25 by t=4060.
    assert area_points([0, 60, 61, 4000, 4060], [0, 10, nan, 10, 25]) == [
        [0, 60, 4000, 4060],
        [0, 10, 10, 25],
        [0.0, 0.0, 0.0, 0.0],
    ]


def test_tables_show_the_snapshot_figures_with_separators_and_units(demo_run):
    snap = demo_run["snapshot"]
    models = {row[0]: row for row in demo_run["tables"]["models"]}
    assert list(models) == list(snap["by_model"])
    for model, fig in snap["by_model"].items():
        row = models[model]
        assert row[1] == f"{fig['requests']:,}"
        assert row[2] == fmt.tokens(fig["input_tokens"])
        assert row[6] == fmt.usd(fig["cost_usd"], "unpriced")
    for model in snap["unpriced_models"]:
        assert models[model][6] == "unpriced"
    tiers = {row[0]: row for row in demo_run["tables"]["tiers"]}
    assert list(tiers) == list(snap["by_tier"])
    tools = {row[0]: row for row in demo_run["tables"]["tools"]}
    assert list(tools) == list(snap["tools"])
    for name, t in snap["tools"].items():
        assert tools[name][1] == f"{t['calls']:,}" and tools[name][4] == f"{t['failures']:,}"
    assert demo_run["progress"] == pytest.approx((snap["tickets"]["progress_pct"] or 0.0) / 100)
    assert demo_run["summary_shown"] == demo_run["summary_expected"]
    assert demo_run["cards"]["cost"] == fmt.usd(snap["totals"]["cost_usd"])
    assert "Unpriced models" in demo_run["notices"]


def test_scoped_figures_the_demo_opens_on_its_session_with_its_tickets(demo_run):
    # The demo plays a host: its tickets come through Hooks.on_ticket, which takes no
    # session. The panel opens on the active scope, the demo's one session, and its Track
    # Progress must still count them. Needs the hooks / history side: until a ticket with
    # no session counts in the session being worked, this fails (0 tickets shown of 20).
    assert demo_run["scope"] == "active" and demo_run["all_tickets"]["total"] == 20
    assert demo_run["snapshot"]["tickets"]["total"] == demo_run["all_tickets"]["total"]
    assert demo_run["progress"] == pytest.approx(demo_run["all_tickets"]["progress_pct"] / 100)


def test_empty_history_renders_useful_empty_states(x_display, artifacts, tmp_path):
    result = drive("empty", x_display, artifacts, tmp_path)
    assert result["timeline_empty_shown"] and not result["timeline_plot_shown"]
    assert result["models_empty_shown"]
    assert result["summary"] == "No model requests recorded yet."
    assert "no ticket completed yet" in result["efficiency"]
    assert (artifacts / "panel_empty.png").exists()


def test_an_open_sessions_tokens_per_ticket_say_they_wait_for_its_end(x_display, artifacts, tmp_path):
    result = drive("open_session", x_display, artifacts, tmp_path)
    assert result["open"] == {
        "text": "Tokens per completed ticket: — (counted when the open session ends)",
        "card": "—",
        "card_sub": "counted at session end",
    }
    assert result["ended"]["text"].startswith("Tokens per completed ticket: 4,000 ")
    assert result["ended"]["card"] == "4K"


def test_lines_appended_to_a_log_show_in_the_panel_on_the_next_tick(x_display, artifacts, tmp_path):
    result = drive("live", x_display, artifacts, tmp_path)
    first, second = result["steps"]
    assert first["tokens_card"] == fmt.tokens_short(10_500)
    assert second["tokens_card"] == fmt.tokens_short(30_900)
    assert result["total_tokens"] == 30_900
    assert first["limits"].startswith("Rate limits (codex): 5-hour 4.0% used, resets ")
    assert second["limits"].startswith("Rate limits (codex): 5-hour 6.5% used, resets ")
    assert (artifacts / "panel_live_codex.png").exists()


def test_a_click_on_a_header_toggles_it_and_the_preference_follows(x_display, artifacts, tmp_path):
    result = drive("click", x_display, artifacts, tmp_path)
    assert result["states"] == [True, False, True]
    assert result["open_headers_pref"] == ["tools"]


def test_app_renders_frames_saves_screenshot_stats_and_state(x_display, artifacts, tmp_path):
    shot, stats, state = artifacts / "app_demo.png", tmp_path / "stats.json", tmp_path / "state.toml"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "session_insights.cli",
            "--demo",
            "--demo-speed",
            "2000",
            "--frames",
            "90",
            "--screenshot",
            str(shot),
            "--frame-stats",
            str(stats),
            "--state",
            str(state),
        ],
        env=x_display,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert shot.exists() and shot.stat().st_size > 10_000
    figures = json.loads(stats.read_text())
    assert figures["frames"] > 50
    for key in ("frame_ms", "python_ms"):
        assert set(figures[key]) == {"median", "p95", "p99"}
    assert not state.exists(), "demo figures never go into the user's own state file"
    saved = tomllib.loads((tmp_path / "state.demo.toml").read_text())
    assert saved["schema"] == 1 and saved["usage"], "the demo's requests are saved"
    assert set(saved["ui"]["open_headers"]) >= {"timeline", "summary", "sessions"}
    assert (tmp_path / "state.layout.ini").exists()
    for written in ("state.layout.ini", "state.demo.toml", "state.demo.history.sqlite"):
        assert (tmp_path / written).stat().st_mode & 0o777 == 0o600, f"{written} is private to the user"
    # The demo's sessions reach its own durable history, beside its state file.
    from session_insights.store import SessionStore

    store = SessionStore(tmp_path / "state.demo.history.sqlite")
    rows = store.sessions()
    store.close()
    # The demo itself and the six earlier sessions it shows across sessions.
    assert sorted(row["session"] for row in rows) == ["demo", *(f"demo-earlier-{k}" for k in range(1, 7))]
    assert all(row["requests"] > 0 for row in rows)
    assert not (tmp_path / "state.history.sqlite").exists()


def test_without_a_display_the_app_says_how_to_get_one_and_exits(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    proc = subprocess.run(
        [sys.executable, "-m", "session_insights.cli", "--demo", "--state", str(tmp_path / "s.toml")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 3
    assert "xvfb-run" in proc.stderr and "report" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


# --- across sessions ------------------------------------------------------------------
# The across scenario (tests/gui_driver.py): six past sessions in a durable history, on
# UTC days 0, 2, 4, 6, 8 and 9 from 2025-11-16; session k makes k + 1 requests of
# claude-sonnet-4-5 with 10,000 input + 2,000 output tokens ($0.03 + $0.03 = $0.06 each),
# is rated 4 + k, completes k tickets and lasts (k + 1) x 10 minutes; session 3 also makes
# one request of 5,000 + 1,000 tokens to a model no price list knows. The live session
# (open) makes two requests of 20,000 + 4,000 tokens ($0.12 each) that called Read and
# Edit, then Bash.
PAST_TOKENS = {k: (k + 1) * 12_000 + (6_000 if k == 3 else 0) for k in range(6)}
LIVE = "live-7f3e9a2… (open)"


def past(k: int) -> str:
    return f"{k}a1b2c3d-000…"


@pytest.fixture(scope="module")
def across_run(x_display, artifacts, tmp_path_factory):
    return drive("across", x_display, artifacts, tmp_path_factory.mktemp("gui"))


def test_sessions_table_lists_past_and_live_sessions_latest_first_with_units(across_run):
    rows = across_run["rows_by_start"]
    assert [row[0] for row in rows] == [LIVE, *(past(k) for k in (5, 4, 3, 2, 1, 0))]
    starts = {f["session"][:1]: f["start_ts"] for f in across_run["figures"]}
    # session 2: 3 requests, 36,000 tokens, $0.18, 2 tickets ($0.09 each), rated 6
    assert rows[4] == [past(2), "web", times.moment(starts["2"]), "30m 00s", "3", "36,000", "$0.18", "$0.09", "6.0/10"]
    # session 3: its unpriced request counts in tokens and requests, and the cost names it
    assert rows[3] == [
        past(3),
        "api",
        times.moment(starts["3"]),
        "40m 00s",
        "5",
        "54,000",
        "$0.24 (+1 unpriced)",
        "$0.08",
        "7.0/10",
    ]
    # session 0 completed no ticket; the live session is open, unrated, 2m 05s from start to last call
    assert rows[6][6:] == ["$0.06", "—", "4.0/10"]
    assert rows[0][3:] == ["2m 05s", "2", "48,000", "$0.24", "—", "—"]
    assert across_run["count_line"].startswith("7 sessions kept in the durable history")


def test_a_click_on_a_column_title_sorts_by_it_numbers_as_numbers(across_run):
    def tokens(rows: list) -> list:
        return [row[5] for row in rows]

    assert across_run["sort_after_click"] == ["total_tokens", True]
    assert tokens(across_run["rows_by_tokens"]) == [
        "72,000",
        "60,000",
        "54,000",
        "48,000",
        "36,000",
        "24,000",
        "12,000",
    ]
    assert across_run["rows_by_tokens"][3][0] == LIVE
    assert across_run["sort_after_second_click"] == ["total_tokens", False]
    assert tokens(across_run["rows_by_tokens_ascending"]) == tokens(across_run["rows_by_tokens"])[::-1]
    # Text A to Z; sessions of one project stay in start order.
    assert across_run["sort_by_project"] == ["project", False]
    assert [(row[0], row[1]) for row in across_run["rows_by_project"]] == [
        (past(1), "api"),
        (past(3), "api"),
        (past(5), "api"),
        (past(0), "web"),
        (past(2), "web"),
        (past(4), "web"),
        (LIVE, "web"),
    ]
    # As text "50m 00s" would come before "1h 00m": durations sort by seconds.
    assert across_run["sort_by_duration"] == ["duration_s", True]
    assert [row[3] for row in across_run["rows_by_duration"]] == [
        "1h 00m",
        "50m 00s",
        "40m 00s",
        "30m 00s",
        "20m 00s",
        "10m 00s",
        "2m 05s",
    ]
    assert across_run["sort_back"] == ["start_ts", True]


def test_selecting_a_stored_row_shows_that_session_and_back_to_active_returns(across_run, artifacts):
    assert across_run["live_cards"]["tokens"] == "48K" and across_run["live_cards"]["cost"] == "$0.24"
    assert across_run["viewing"] == ["claude", "2a1b2c3d-0000-4000-8000-000000000002"]
    cards = across_run["past_cards"]
    assert cards["tokens"] == "36K" and cards["cost"] == "$0.18"
    assert cards["efficiency"] == "18K"  # 36,000 tokens / 2 tickets
    # Kept by model: requests, tokens by kind and cost; its only model has all of its cost.
    assert across_run["past_models"] == [["claude-sonnet-4-5", "3", "30,000", "6,000", "0", "0", "$0.18", "100.0%"]]
    assert across_run["past_line_shown"] and across_run["live_button_shown"]
    assert "2a1b2c3d" in across_run["past_line"] and "project web" in across_run["past_line"]
    assert not across_run["timeline_body_shown"]
    assert across_run["timeline_note"].startswith("Not kept for past sessions")
    assert "36,000 tokens over 30m 00s" in across_run["timeline_note"]
    assert across_run["selected"] == [False, False, False, False, True, False, False]  # latest first: 5 4 3 2...
    back = across_run["after_live"]
    assert back["viewing"] is None and back["cards"] == across_run["live_cards"]
    assert not back["past_line_shown"] and back["timeline_body_shown"]
    assert (artifacts / "panel_session_selected.png").exists()


def test_efficiency_over_time_bars_carry_hand_computed_scores_and_labels(across_run):
    # Ten days of ended sessions: 3-day intervals from 2025-11-16. Sessions 0 and 1 in the
    # first: (12,000 + 24,000) / 2 = 18,000 tokens over (4 + 5) / 2 = 4.5 points = 4,000; session
    # 2 alone: 36,000 / 6 = 6,000; sessions 3 and 4: 57,000 / 7.5 = 7,600; session 5: 72,000 / 9 = 8,000.
    # The open live session is in no interval.
    over = across_run["over_time"]
    assert over["interval"] == "3-day"
    assert [b["start"] for b in over["buckets"]] == ["2025-11-16", "2025-11-19", "2025-11-22", "2025-11-25"]
    assert across_run["bar_values"] == [4000.0, 6000.0, 7600.0, 8000.0]
    assert across_run["labels_shown"] == [
        "4,000 tokens/point (18K tokens avg, 4.5/10 satisfaction)",
        "6,000 tokens/point (36K tokens avg, 6.0/10 satisfaction)",
        "7,600 tokens/point (57K tokens avg, 7.5/10 satisfaction)",
        "8,000 tokens/point (72K tokens avg, 9.0/10 satisfaction)",
    ]
    assert across_run["labels_shown"] == across_run["labels_expected"]
    # (4,000 - 8,000) / 4,000 = -100%: twice the tokens per point
    assert across_run["verdict_shown"].startswith(
        "DECLINED: 100% more tokens per satisfaction point, first to last 3-day interval"
    )
    assert across_run["verdict_shown"] == across_run["verdict_expected"]


def test_usage_chart_stacks_each_model_on_the_ones_below_to_the_period_total(across_run):
    for by in ("usage_day", "usage_week"):
        stacks, periods = across_run[by]["stacks"], across_run[by]["periods"]
        # Models stack in name order: acme-local-coder-7b at the bottom, claude-sonnet-4-5 on it.
        bottom, top = stacks["acme-local-coder-7b"], stacks["claude-sonnet-4-5"]
        assert bottom == [p["models"].get("acme-local-coder-7b", {}).get("tokens", 0) for p in periods]
        assert top == [p["tokens"] for p in periods]
        assert [t - b for t, b in zip(top, bottom)] == [
            p["models"].get("claude-sonnet-4-5", {}).get("tokens", 0) for p in periods
        ]
    day = across_run["usage_day"]
    assert len(day["periods"]) == 11  # 2025-11-16 to 11-26, idle days kept as gaps
    assert day["stacks"]["claude-sonnet-4-5"][6] == 54_000 and day["stacks"]["acme-local-coder-7b"][6] == 6_000
    assert across_run["usage_week"]["stacks"]["claude-sonnet-4-5"] == [12_000, 114_000, 180_000]
    cost = across_run["usage_cost"]
    assert cost["stacks"]["claude-sonnet-4-5"] == pytest.approx([0.06, 0, 0.12, 0, 0.18, 0, 0.24, 0, 0.30, 0.36, 0.24])
    assert "acme-local-coder-7b" in cost["unpriced"]


def test_token_categories_stack_per_session_and_in_total(across_run):
    cats = across_run["categories"]
    assert cats["labels"] == ["live-7f3e9a2…", *(past(k) for k in (5, 4, 3, 2, 1, 0))]
    # Segment ends: input, tool-use prompt (past session 3's 1,500 of its input), cache
    # read/write (none here), output; no reasoning counted.
    assert cats["ends"]["input"][0] == 40_000 and cats["ends"]["output"][0] == 48_000
    # Past session 3 (fourth bar): 45,000 input of which 1,500 tool-use prompt, 9,000 output.
    assert (cats["ends"]["input"][3], cats["ends"]["tool-use prompt"][3]) == (43_500, 45_000)
    assert cats["ends"]["output"][3] == PAST_TOKENS[3] == 54_000
    assert cats["ends"]["reasoning"] == [48_000, *(PAST_TOKENS[k] for k in (5, 4, 3, 2, 1, 0))]
    # input: 21 x 10,000 + 5,000 + 40,000, of which 1,500 tool-use prompt; output: 21 x 2,000 + 1,000 + 8,000
    assert cats["total_ends"]["input"] == [253_500] and cats["total_ends"]["tool-use prompt"] == [255_000]
    assert cats["total_ends"]["reasoning"] == [306_000]
    # Only the categories with tokens are named and in the legend.
    assert cats["total_line"] == "All 7 sessions: input 253,500, tool-use prompt 1,500, output 51,000 tokens"
    assert cats["legend"] == ["input", "tool-use prompt", "output"]  # in stacking order
    assert cats["hidden"] == "" and cats["note_shown"]


def test_cost_by_tool_charges_each_turn_to_the_tools_it_called(across_run):
    # One request (24,000 tokens, $0.12) called Read and Edit, the other Bash.
    assert across_run["tool_cost"] == [
        ["Bash", "1", "1", "24,000", "$0.12"],
        ["Edit", "1", "1", "24,000", "$0.12"],
        ["Read", "1", "1", "24,000", "$0.12"],
    ]


def test_headers_across_sessions_say_so_when_there_is_nothing(x_display, artifacts, tmp_path):
    result = drive("across_empty", x_display, artifacts, tmp_path)
    assert result["sessions_empty_shown"] and not result["sessions_table_shown"]
    assert result["efficiency_empty_shown"] and not result["efficiency_plot_shown"] and not result["verdict_shown"]
    assert result["usage_empty_shown"] and not result["usage_plot_shown"]
    assert result["categories_empty_shown"]
    assert (artifacts / "panel_across_empty.png").exists()


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def over_time_of_ten_days() -> dict:
    from session_insights import TokenHistory, across
    from session_insights.events import SessionMark

    history = TokenHistory()
    for day in range(10):
        session, start = f"s{day}", 1_763_251_200.0 + day * 86_400 + 36_000
        history.add(SessionMark(start, session, "start", "web", "claude"))
        history.record_usage("claude-sonnet-4-5", 10_000 * (day + 1), 2_000, ts=start + 60, session=session)
        history.rate(5 + day % 5, ts=start + 120, session=session)
        history.add(SessionMark(start + 600, session, "end"))
    history.drain()
    return across.efficiency_over_time(history.session_rows())


def test_write_chart_draws_the_panels_chart_as_png_of_its_size(x_display, artifacts, tmp_path):
    from session_insights.ui.chart import chart_size

    over = over_time_of_ten_days()
    assert len(over["buckets"]) == 4  # ten days: 3-day intervals
    data, png = tmp_path / "over.json", artifacts / "efficiency_chart.png"
    data.write_text(json.dumps(over))
    png.unlink(missing_ok=True)
    proc = subprocess.run(
        [sys.executable, "-m", "session_insights.ui.chart", str(data), str(png)],
        env=x_display,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert png_size(png) == chart_size(over)
    assert png.stat().st_size > 5_000


def test_chart_without_a_display_says_how_to_get_one_and_exits_2(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    data = tmp_path / "over.json"
    data.write_text(json.dumps(over_time_of_ten_days()))
    proc = subprocess.run(
        [sys.executable, "-m", "session_insights.ui.chart", str(data), str(tmp_path / "c.png")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "xvfb-run" in proc.stderr and "--chart" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "c.png").exists()


# --- scope ----------------------------------------------------------------------------
# The scope scenario (tests/gui_driver.py, SCOPE_SESSIONS): an old session three days
# ago (api, claude: 3 requests of 10,000 + 2,000 tokens), a recent one that started 20
# minutes ago (web, codex: 2 of 20,000 + 4,000), one kept only in the durable history
# (docs, gemini: 1 of 5,000 + 1,000); later a third (web, claude: 1 of 30,000 + 6,000) and
# a fourth (api, codex: 1 of 1,000 + 500). Each request is $3 / $15 per million tokens.
#
# Tests named test_scoped_figures_* check that the cards and charts show the figures of
# the scope alone: those come from the history's scoped snapshot and timeline.
SESSION_HEADERS = ("timeline", "burn", "models", "tiers", "efficiency", "tools", "tool_cost", "progress", "summary")
SCOPE_IDS = {
    "old": "0a1d5e55-1000-4000-8000-000000000001",
    "recent": "7ec3a7e0-2000-4000-8000-000000000002",
    "stored": "5703ed00-3000-4000-8000-000000000003",
    "third": "7f1a2b3c-4000-4000-8000-000000000004",
    "fourth": "4f0e0d0c-5000-4000-8000-000000000005",
}
SCOPE_START_TS = 1_763_900_000.0  # the old session; gui_driver.START_TS
SCOPE_NOW_TS = SCOPE_START_TS + 3 * 86_400
RECENT_START_TS = SCOPE_NOW_TS - 1200
THIRD_START_TS = SCOPE_NOW_TS + 60
FOURTH_START_TS = SCOPE_NOW_TS + 600


@pytest.fixture(scope="module")
def scope_run(x_display, artifacts, tmp_path_factory):
    return drive("scope", x_display, artifacts, tmp_path_factory.mktemp("gui"))


def titled(state: dict, name: str) -> bool:
    """Every header of the scope's figures names it; the headers across sessions do not."""
    labels = state["labels"]
    return all(labels[key].endswith(f" · {name}") for key in SESSION_HEADERS) and labels["sessions"] == "Sessions"


def test_the_panel_opens_on_the_latest_session_and_its_top_bar_names_it(scope_run, artifacts):
    opened = scope_run["opened"]
    assert opened["scope"] == "active" and opened["combo"] == opened["combo_shown"] == "Active session"
    # Active: the 60 s between its two requests.
    assert (
        opened["text"] == f"Active session: web · codex · 7ec3a7e0, started {fmt.clock(RECENT_START_TS)}, active 1m 00s"
    )
    assert titled(opened, "active session 7ec3a7e0")
    assert opened["labels"]["timeline"] == "Token Timeline · active session 7ec3a7e0"
    assert opened["caption"] == "Figures for active session 7ec3a7e0"
    # Titles change in place: the headers open before stay open, and only those.
    assert opened["open"] == ["timeline", "burn", "models"]
    assert opened["items"] == [
        "Active session",
        "This 5-hour block",
        "Today",
        "Last 7 days",
        "All sessions",
        f"web · codex · 7ec3a7e0 · {fmt.clock(RECENT_START_TS)}",
        f"api · claude · 0a1d5e55 · {fmt.clock(SCOPE_START_TS)}",
    ]
    assert (artifacts / "scope_active.png").exists()


def test_scoped_figures_of_the_active_session_are_its_own(scope_run):
    opened = scope_run["opened"]
    # 2 x (20,000 + 4,000) tokens, 2 x ($0.06 + $0.06)
    assert opened["cards"]["tokens"] == "48K" and opened["cards"]["cost"] == "$0.24"
    assert opened["subs"]["tokens"] == "2 requests"
    assert opened["models"] == [["claude-sonnet-4-5", "2", "40,000", "8,000", "0", "0", "$0.24", "100.0%"]]
    assert opened["timeline_total"][1][-1] == 48_000


def test_scope_picked_from_the_top_bar_is_shown_and_named(scope_run, artifacts):
    everything = scope_run["all"]
    assert everything["scope"] == "all" and everything["combo_shown"] == "All sessions"
    # From the old session's start to the recent one's last request; active: the 2 x 60 s
    # and 60 s between requests (the days between them are idle).
    assert everything["text"] == (
        f"All sessions: from {fmt.clock(SCOPE_START_TS)} to {fmt.clock(RECENT_START_TS + 120)}, active 3m 00s"
    )
    assert titled(everything, "all sessions") and everything["caption"] == "Figures for all sessions"
    # All sessions the live history holds: 3 x 12,000 + 2 x 24,000 tokens.
    assert everything["cards"]["tokens"] == "84K" and everything["cards"]["cost"] == "$0.42"
    assert everything["timeline_total"][1][-1] == 84_000
    old = scope_run["old"]
    assert old["scope"] == SCOPE_IDS["old"] and old["viewing"] is None
    assert old["combo_shown"] == f"api · claude · 0a1d5e55 · {fmt.clock(SCOPE_START_TS)}"
    assert old["text"] == f"Session: api · claude · 0a1d5e55, started {fmt.clock(SCOPE_START_TS)}, active 2m 00s"
    assert titled(old, "session 0a1d5e55") and old["timeline_body_shown"]
    today = scope_run["today"]
    assert today["scope"] == "today" and titled(today, "today") and today["combo_shown"] == "Today"
    back = scope_run["back_to_active"]
    assert back["scope"] == "active" and titled(back, "active session 7ec3a7e0")
    for name in ("scope_all", "scope_old_session"):
        assert (artifacts / f"{name}.png").exists()


def test_scoped_figures_change_with_the_scope_picked(scope_run):
    from session_insights.scope import local_midnight

    assert scope_run["old"]["cards"]["tokens"] == "36K" and scope_run["old"]["cards"]["cost"] == "$0.18"
    assert scope_run["old"]["timeline_total"][1][-1] == 36_000
    assert scope_run["opened"]["cards"] != scope_run["all"]["cards"]
    # Today: the requests since local midnight (the recent session's, in most time zones).
    midnight = local_midnight(SCOPE_NOW_TS)
    requests = [(SCOPE_START_TS + 60 * (r + 1), 12_000) for r in range(3)]
    requests += [(RECENT_START_TS + 60 * (r + 1), 24_000) for r in range(2)]
    tokens = sum(n for ts, n in requests if ts >= midnight)
    assert scope_run["today"]["cards"]["tokens"] == (fmt.tokens_short(tokens) if tokens else "—")
    assert scope_run["today"]["text"].startswith(f"Today: from {fmt.clock(midnight)}")


def test_selecting_a_row_in_sessions_sets_the_scope_to_that_session(scope_run, artifacts):
    row = scope_run["row_old"]
    # A session the live history holds: its scoped live snapshot, every header with it.
    assert row["scope"] == SCOPE_IDS["old"] and row["viewing"] is None
    assert row["text"].startswith("Session: api · claude · 0a1d5e55") and titled(row, "session 0a1d5e55")
    assert row["timeline_body_shown"] and not row["past_line_shown"]
    assert row["selected"] == [SCOPE_IDS["old"]]
    # One only the durable history keeps: shown from its row, with the "not kept" notes.
    stored = scope_run["row_stored"]
    assert stored["scope"] == SCOPE_IDS["stored"] and stored["viewing"] == ["gemini", SCOPE_IDS["stored"]]
    assert stored["text"].startswith("Session: docs · gemini · 5703ed00, started ")
    assert stored["text"].endswith(", active time not kept")
    assert titled(stored, "session 5703ed00") and stored["past_line_shown"] and not stored["timeline_body_shown"]
    assert scope_run["not_kept_note"].startswith("Not kept for past sessions")
    assert stored["cards"]["tokens"] == "6K" and stored["subs"]["tokens"] == "1 request"
    assert stored["selected"] == [SCOPE_IDS["stored"]]
    # What the cards show names its scope too (--frame-stats' headline reads it).
    assert stored["shown_scope"]["kind"] == "session" and stored["shown_scope"]["session"] == SCOPE_IDS["stored"]
    assert row["shown_scope"]["session"] == SCOPE_IDS["old"]
    back = scope_run["row_back"]
    assert back["scope"] == "active" and back["viewing"] is None and back["selected"] == []
    assert back["timeline_body_shown"] and not back["past_line_shown"]
    for name in ("scope_session_row", "scope_stored_row"):
        assert (artifacts / f"{name}.png").exists()


def test_scoped_figures_of_a_session_row_are_that_sessions(scope_run):
    assert scope_run["row_old"]["cards"]["tokens"] == "36K"
    assert scope_run["row_old"]["models"] == [
        ["claude-sonnet-4-5", "3", "30,000", "6,000", "0", "0", "$0.18", "100.0%"]
    ]


def test_active_follows_a_new_session_and_a_pinned_one_stays(scope_run, artifacts):
    followed = scope_run["followed"]
    assert followed["scope"] == "active"
    assert followed["text"].startswith(f"Active session: web · claude · 7f1a2b3c, started {fmt.clock(THIRD_START_TS)}")
    assert titled(followed, "active session 7f1a2b3c")
    assert followed["items"][5].startswith("web · claude · 7f1a2b3c")  # the latest first
    pinned, after = scope_run["pinned"], scope_run["pinned_after_new"]
    assert pinned["scope"] == after["scope"] == SCOPE_IDS["third"]
    assert after["text"] == pinned["text"] and after["text"].startswith("Session: web · claude · 7f1a2b3c")
    assert titled(after, "session 7f1a2b3c")
    assert after["items"][5].startswith("api · codex · 4f0e0d0c")  # offered, not followed
    again = scope_run["active_again"]
    assert again["scope"] == "active" and again["text"].startswith("Active session: api · codex · 4f0e0d0c")
    for name in ("scope_followed", "scope_pinned"):
        assert (artifacts / f"{name}.png").exists()


def test_scoped_figures_follow_the_active_session(scope_run):
    assert scope_run["followed"]["cards"]["tokens"] == "36K"  # 30,000 + 6,000
    assert scope_run["pinned_after_new"]["cards"]["tokens"] == "36K"  # not the fourth's 1,500
    assert scope_run["active_again"]["cards"]["tokens"] == "1.5K"


def test_a_scope_no_history_holds_says_so_in_one_line_and_shows_the_active_session(scope_run):
    unknown = scope_run["unknown"]
    assert unknown["scope"] == "active" and titled(unknown, "active session 4f0e0d0c")
    assert "! Scope: no session 'no-such-session' in what was read; showing the active session." in unknown["notices"]


def test_figures_in_a_table_line_up_on_the_right_of_their_column(demo_run):
    # Measured in the frame buffer: where each row's Requests figure was drawn.
    ink = demo_run["models_requests_ink"]
    assert len(ink) >= 4 and all(left >= 0 for left, _, _ in ink), ink
    rights = [right for _, right, _ in ink]
    assert max(rights) - min(rights) <= 2, ink  # one right edge, whatever the width
    assert all(cell_right - right <= 8 for _, right, cell_right in ink), ink  # at the column's edge
    lefts = [left for left, _, _ in ink]
    assert max(lefts) - min(lefts) >= 10, ink  # "217" starts left of "4"


def test_a_frame_while_a_reader_holds_the_history_waits_for_nothing(x_display, artifacts, tmp_path):
    found = drive("busy", x_display, artifacts, tmp_path)
    assert found["returned_while_held"], "a frame waited for the history a reader held"
    assert found["busy_ticks"] == [False] * 5  # nothing refreshed while it was held
    assert found["during"] == found["before"]
    assert found["after"] != found["before"]  # once free, the next frames show the merge
