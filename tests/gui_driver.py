"""Drives a real panel under an X display, in its own process (a Dear PyGui crash must
not take pytest down with it). Writes what it found as JSON for tests/test_gui.py.

    python tests/gui_driver.py SCENARIO OUT.json ARTIFACTS_DIR
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import dearpygui.dearpygui as dpg

from session_insights import TokenHistory, across
from session_insights.demo import DemoSession
from session_insights.events import SessionMark, TicketUpdate, usage_event
from session_insights.metrics import summary_text, timeline_view
from session_insights.store import SessionStore
from session_insights.ui import InsightsPanel
from session_insights.ui.panel import TIMELINE_POINTS
from session_insights.ui.theme import Fonts

W, H = 1280, 800
START_TS = 1_763_900_000.0
DAY0_TS = 1_763_251_200.0  # 2025-11-16 00:00 UTC
DAY_S = 86_400.0
# Past sessions of the across scenario: k -> day it ran on (UTC, from DAY0_TS). Session k
# makes k + 1 requests of 10,000 input + 2,000 output tokens, is rated 4 + k, completes k
# tickets and ends (k + 1) x 10 minutes after it started at 10:00; session 3 also makes
# one 5,000 + 1,000 token request of a model no price list knows.
PAST_DAYS = (0, 2, 4, 6, 8, 9)
LIVE_SESSION = "live-7f3e9a20-5d1c-4b8e-9f00-3a6c2e1d4b55"
LIVE_START_TS = DAY0_TS + 10 * DAY_S + 9 * 3600


def frames(n: int) -> None:
    for _ in range(n):
        dpg.render_dearpygui_frame()


def shot(path: Path) -> None:
    frames(2)
    dpg.output_frame_buffer(file=str(path))
    frames(3)


def open_panel(history: TokenHistory, clock, store: SessionStore | None = None) -> InsightsPanel:
    dpg.create_context()
    dpg.configure_app(docking=True, docking_space=False)
    dpg.create_viewport(
        title="Session Insights test", width=W, height=H, vsync=False, x_pos=0, y_pos=0, decorated=False
    )
    fonts = Fonts()
    panel = InsightsPanel(history, clock=clock, fonts=fonts, width=W, height=H, store=store)
    dpg.configure_item(panel.window, pos=(0, 0))
    dpg.setup_dearpygui()
    dpg.show_viewport()
    frames(3)
    return panel


def click(x: float, y: float) -> None:
    """A real mouse click at viewport pixel (x, y); Dear PyGui sees it over a few frames."""
    subprocess.run(["xdotool", "mousemove", "--sync", str(int(x)), str(int(y))], check=True)
    frames(3)
    subprocess.run(["xdotool", "click", "1"], check=True)
    for _ in range(10):
        frames(1)
        time.sleep(0.01)


def click_item(item: int) -> None:
    x0, y0 = dpg.get_item_rect_min(item)
    x1, y1 = dpg.get_item_rect_max(item)
    click((x0 + x1) / 2, (y0 + y1) / 2)


def only_open(panel: InsightsPanel, keys: set[str]) -> None:
    for key, header in panel.headers.items():
        header.set_open(key in keys)
    settle(panel)


def settle(panel: InsightsPanel) -> None:
    """Let the panel apply what it was asked (clicks, opened headers) and draw it."""
    for _ in range(3):
        panel.tick()
        frames(1)
    panel.refresh()
    frames(2)


def series_data(item: int) -> list[list[float]]:
    value = dpg.get_value(item)
    return [list(value[0]), list(value[1])]


def scenario_demo(artifacts: Path) -> dict:
    history = TokenHistory()
    demo = DemoSession(history, start_ts=START_TS)
    demo.play_all()
    end = START_TS + demo.duration_s
    panel = open_panel(history, clock=lambda: end)
    panel.tick()
    while history.pending:
        panel.tick()
    panel.across.load_now()  # the headers across sessions, without waiting for the reader thread
    panel.tick()
    panel.refresh()
    frames(3)
    shot(artifacts / "panel_full.png")
    snap = history.snapshot(now_ts=end)
    width, buckets = history.timeline()
    view = timeline_view(buckets, width, TIMELINE_POINTS)
    timeline = panel.headers["timeline"]
    burn = panel.headers["burn"]
    out = {
        "snapshot": snap,
        "summary_expected": summary_text(snap),
        "summary_shown": panel.headers["summary"].text.value,
        "view": view,
        "series": {key: series_data(item) for key, item in timeline.series.items()},
        "rate_series": series_data(burn.rate_series),
        "tables": {
            "models": panel.headers["models"].table.texts(),
            "tiers": panel.headers["tiers"].table.texts(),
            "tools": panel.headers["tools"].table.texts(),
            "tracks": panel.headers["progress"].tracks.texts(),
        },
        "progress": dpg.get_value(panel.headers["progress"].bar),
        "cards": {k: v.value for k, v in panel.cards.values.items()},
        "notices": panel.notices.value,
        "headers_open": panel.open_headers(),
    }
    # One screenshot per header: only that header open, at the top of the panel.
    for key in panel.headers:
        for other, header in panel.headers.items():
            header.set_open(other == key)
        panel.tick()
        panel.refresh()
        frames(2)
        shot(artifacts / f"header_{key}.png")
    dpg.destroy_context()
    return out


def scenario_empty(artifacts: Path) -> dict:
    history = TokenHistory()
    panel = open_panel(history, clock=lambda: START_TS)
    panel.tick()
    panel.refresh()
    frames(3)
    shot(artifacts / "panel_empty.png")
    out = {
        "cards": {k: v.value for k, v in panel.cards.values.items()},
        "timeline_empty_shown": dpg.is_item_shown(panel.headers["timeline"].empty),
        "timeline_plot_shown": dpg.is_item_shown(panel.headers["timeline"].plot),
        "models_empty_shown": dpg.is_item_shown(panel.headers["models"].table.empty),
        "summary": panel.headers["summary"].text.value,
        "efficiency": panel.headers["efficiency"].per_ticket.value,
    }
    dpg.destroy_context()
    return out


def scenario_click(artifacts: Path) -> dict:
    """A real mouse click (xdotool) on the Tool Usage header closes it, then opens it."""
    history = TokenHistory()
    history.ui["open_headers"] = ["tools"]
    panel = open_panel(history, clock=lambda: START_TS)
    panel.tick()
    frames(5)
    header = panel.headers["tools"].item
    states = [panel.headers["tools"].is_open()]
    for _ in range(2):
        x0, y0 = dpg.get_item_rect_min(header)
        x1, y1 = dpg.get_item_rect_max(header)
        x, y = int((x0 + x1) / 2), int((y0 + y1) / 2)
        subprocess.run(["xdotool", "mousemove", "--sync", str(x), str(y)], check=True)
        frames(3)
        subprocess.run(["xdotool", "click", "1"], check=True)
        for _ in range(20):
            frames(1)
            time.sleep(0.01)
        panel.tick()
        states.append(panel.headers["tools"].is_open())
    shot(artifacts / "header_click.png")
    out = {"states": states, "open_headers_pref": history.ui.get("open_headers")}
    dpg.destroy_context()
    return out


def scenario_live(artifacts: Path) -> dict:
    """A Codex rollout written while the panel watches it: each poll and tick shows the new
    request, and the rate limits appear under Burn Rate."""
    import tempfile

    import orjson

    from session_insights.sources import open_source

    def line(ts: float, kind: str, payload: dict) -> bytes:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + ".000Z"
        return orjson.dumps({"timestamp": stamp, "type": kind, "payload": payload}) + b"\n"

    def count(ts: float, inp: int, cached: int, out: int, used: float) -> bytes:
        usage = {
            "input_tokens": inp,
            "cached_input_tokens": cached,
            "output_tokens": out,
            "reasoning_output_tokens": 0,
            "total_tokens": inp + out,
        }
        limits = {"primary": {"used_percent": used, "window_minutes": 300, "resets_at": int(ts) + 3600}}
        return line(
            ts, "event_msg", {"type": "token_count", "info": {"total_token_usage": usage}, "rate_limits": limits}
        )

    folder = Path(tempfile.mkdtemp())
    rollout = folder / "rollout-live.jsonl"
    rollout.write_bytes(
        line(START_TS, "session_meta", {"id": "live-session", "source": "cli"})
        + line(START_TS, "turn_context", {"model": "gpt-5"})
    )
    history = TokenHistory()
    source = open_source(f"codex:{folder}", history)
    panel = open_panel(history, clock=lambda: START_TS + 120)
    seen = []
    for step, (inp, cached, out, used) in enumerate([(10_000, 2_000, 500, 4.0), (30_000, 20_000, 900, 6.5)]):
        with rollout.open("ab") as f:
            f.write(count(START_TS + 30 * (step + 1), inp, cached, out, used))
        source.poll()
        panel.tick()
        panel.refresh()
        frames(3)
        seen.append({"tokens_card": panel.cards.values["tokens"].value, "limits": panel.headers["burn"].limits.value})
    shot(artifacts / "panel_live_codex.png")
    dpg.destroy_context()
    return {"steps": seen, "total_tokens": history.snapshot()["totals"]["total_tokens"]}


def past_sessions() -> TokenHistory:
    """The across scenario's past sessions (see PAST_DAYS), as a log would give them."""
    history = TokenHistory()
    for k, day in enumerate(PAST_DAYS):
        session = f"{k}a1b2c3d-0000-4000-8000-00000000000{k}"
        start = DAY0_TS + day * DAY_S + 10 * 3600
        history.add(SessionMark(start, session, "start", "web" if k % 2 == 0 else "api", "claude"))
        for r in range(k + 1):
            history.add(
                usage_event(
                    model="claude-sonnet-4-5",
                    input_tokens=10_000,
                    output_tokens=2_000,
                    ts=start + 60 * (r + 1),
                    session=session,
                    source="claude",
                )
            )
        if k == 3:
            # A host reporting a tool-use prompt apart (part of the input), as Gemini does.
            history.add(
                usage_event(
                    model="acme-local-coder-7b",
                    input_tokens=5_000,
                    output_tokens=1_000,
                    tool_prompt_tokens=1_500,
                    ts=start + 30,
                    session=session,
                    source="claude",
                )
            )
        for t in range(k):
            history.add(TicketUpdate(start + 300 + t, f"T{k}-{t}", "completed", session=session))
        history.rate(4 + k, ts=start + 400, session=session)
        history.add(SessionMark(start + (k + 1) * 600, session, "end"))
    history.drain()
    return history


def live_session() -> TokenHistory:
    """The session being watched: open, two requests that called tools, three tool calls."""
    history = TokenHistory()
    history.add(SessionMark(LIVE_START_TS, LIVE_SESSION, "start", "web", "claude"))
    for r, tools in enumerate((["Read", "Edit"], ["Bash"])):
        history.add(
            usage_event(
                model="claude-sonnet-4-5",
                input_tokens=20_000,
                output_tokens=4_000,
                ts=LIVE_START_TS + 60 * (r + 1),
                session=LIVE_SESSION,
                source="claude",
                tools=tools,
            )
        )
        for name in tools:
            history.record_tool_call(name, 120.0, ts=LIVE_START_TS + 60 * (r + 1) + 5, session=LIVE_SESSION)
    history.drain()
    return history


ACROSS_HEADERS = {"sessions", "efficiency_over_time", "usage", "categories"}


def scenario_across(artifacts: Path) -> dict:
    """Past sessions in a durable history and a live one: the headers across sessions,
    sorting and selecting in the Sessions table (real clicks), back to the live view."""
    import tempfile

    store = SessionStore(Path(tempfile.mkdtemp()) / "state.history.sqlite")
    store.write(past_sessions().session_rows())
    history = live_session()
    panel = open_panel(history, clock=lambda: LIVE_START_TS + 3600, store=store)
    panel.across.load_now()
    only_open(panel, {"sessions", "efficiency_over_time"})
    shot(artifacts / "panel_across.png")
    sessions = panel.sessions
    out: dict = {
        "rows_by_start": sessions.texts(),
        "count_line": sessions.count.value,
        "live_cards": {k: v.value for k, v in panel.cards.values.items()},
    }
    merged = across.merge(store.sessions(), history.session_rows())
    out["figures"] = [across.session_figures(row) for row in merged]
    over = across.efficiency_over_time(merged)
    chart = panel.headers["efficiency_over_time"].chart
    out["over_time"] = over
    out["labels_shown"] = chart.labels
    out["labels_expected"] = [across.bucket_label(b, over["measure"]) for b in over["buckets"]]
    out["bar_values"] = chart.bar_values()
    out["verdict_shown"] = chart.verdict.value
    out["verdict_expected"] = across.verdict_text(over)

    # Real clicks on the columns' titles: Tokens (numbers: highest first), Tokens again
    # (lowest first), Project (text: A to Z), then Start to come back.
    def click_title(column: int) -> None:
        cell = sessions._rows[0][2][column - 1] if column else sessions._rows[0][1]
        x0, _ = dpg.get_item_rect_min(cell)
        _, row_y0 = dpg.get_item_rect_min(sessions._rows[0][1])
        click(x0 + 12, row_y0 - 12)  # the title is just above the first row
        settle(panel)

    click_title(5)
    out["sort_after_click"] = list(sessions.sort)
    out["rows_by_tokens"] = sessions.texts()
    shot(artifacts / "panel_across_sorted.png")
    click_title(5)
    out["sort_after_second_click"] = list(sessions.sort)
    out["rows_by_tokens_ascending"] = sessions.texts()
    click_title(1)
    out["sort_by_project"] = list(sessions.sort)
    out["rows_by_project"] = sessions.texts()
    click_title(3)
    out["sort_by_duration"] = list(sessions.sort)
    out["rows_by_duration"] = sessions.texts()
    click_title(2)
    out["sort_back"] = list(sessions.sort)

    # A real click on past session 2's row shows its figures in the cards and Cost by Model.
    only_open(panel, {"sessions"})
    pick = next(pos for pos, key in enumerate(sessions.row_keys) if key[1].startswith("2a1b2c3d"))
    click_item(sessions._rows[pick][1])
    settle(panel)
    only_open(panel, {"sessions", "models", "timeline", "tools", "progress", "efficiency"})
    out["viewing"] = list(panel.viewing) if panel.viewing else None
    out["past_cards"] = {k: v.value for k, v in panel.cards.values.items()}
    out["past_models"] = panel.headers["models"].table.texts()
    out["past_line"] = panel.past_text.value
    out["past_line_shown"] = dpg.is_item_shown(panel.past_line)
    out["live_button_shown"] = dpg.is_item_shown(sessions.back)
    out["timeline_note"] = dpg.get_value(panel._not_kept["timeline"])
    out["timeline_body_shown"] = dpg.is_item_shown(panel.headers["timeline"].body)
    out["selected"] = [bool(dpg.get_value(row[1])) for row in sessions._rows]
    shot(artifacts / "panel_session_selected.png")
    click_item(sessions.live_button)
    settle(panel)
    out["after_live"] = {
        "viewing": panel.viewing,
        "cards": {k: v.value for k, v in panel.cards.values.items()},
        "past_line_shown": dpg.is_item_shown(panel.past_line),
        "timeline_body_shown": dpg.is_item_shown(panel.headers["timeline"].body),
    }

    only_open(panel, {"efficiency_over_time"})
    shot(artifacts / "panel_across_efficiency.png")
    only_open(panel, {"usage"})
    usage = panel.headers["usage"]
    out["usage_day"] = {"stacks": usage.stacks(), "periods": across.usage_over_time(merged, "day")}
    shot(artifacts / "panel_across_usage.png")
    usage.choose(by="week")
    settle(panel)
    out["usage_week"] = {"stacks": usage.stacks(), "periods": across.usage_over_time(merged, "week")}
    usage.choose(by="day", measure="cost_usd")
    settle(panel)
    out["usage_cost"] = {"stacks": usage.stacks(), "unpriced": usage.unpriced.value}
    only_open(panel, {"categories"})
    shot(artifacts / "panel_across_categories.png")
    categories = panel.headers["categories"]
    out["categories"] = {
        "labels": categories.labels,
        "ends": categories.sessions.ends(),
        "total_ends": categories.total.ends(),
        "total_line": categories.total_title.value,
        "hidden": categories.hidden.value,
        "note_shown": dpg.is_item_shown(categories.note),
        "legend": categories.sessions.legend_shown(),
    }
    only_open(panel, {"tool_cost"})
    out["tool_cost"] = panel.headers["tool_cost"].table.texts()
    shot(artifacts / "header_tool_cost_turns.png")
    panel.close()
    store.close()
    dpg.destroy_context()
    return out


def scenario_across_empty(artifacts: Path) -> dict:
    import tempfile

    store = SessionStore(Path(tempfile.mkdtemp()) / "state.history.sqlite")
    panel = open_panel(TokenHistory(), clock=lambda: START_TS, store=store)
    panel.across.load_now()
    only_open(panel, ACROSS_HEADERS)
    shot(artifacts / "panel_across_empty.png")
    eot = panel.headers["efficiency_over_time"].chart
    out = {
        "sessions_empty_shown": dpg.is_item_shown(panel.sessions.empty),
        "sessions_table_shown": dpg.is_item_shown(panel.sessions.table),
        "efficiency_empty_shown": dpg.is_item_shown(eot.empty),
        "efficiency_plot_shown": dpg.is_item_shown(eot.plot),
        "verdict_shown": dpg.is_item_shown(eot.verdict.item),
        "usage_empty_shown": dpg.is_item_shown(panel.headers["usage"].empty),
        "usage_plot_shown": dpg.is_item_shown(panel.headers["usage"].plot),
        "categories_empty_shown": dpg.is_item_shown(panel.headers["categories"].empty),
    }
    panel.close()
    store.close()
    dpg.destroy_context()
    return out


SCENARIOS = {
    "demo": scenario_demo,
    "empty": scenario_empty,
    "click": scenario_click,
    "live": scenario_live,
    "across": scenario_across,
    "across_empty": scenario_across_empty,
}

if __name__ == "__main__":
    name, out_path, artifacts = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    artifacts.mkdir(parents=True, exist_ok=True)
    result = SCENARIOS[name](artifacts)
    out_path.write_text(json.dumps(result))
