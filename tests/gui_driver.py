"""Drives a real panel under an X display, in its own process (a Dear PyGui crash must
not take pytest down with it). Writes what it found as JSON for tests/test_gui.py.

    python tests/gui_driver.py SCENARIO OUT.json ARTIFACTS_DIR
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import zlib
from pathlib import Path

import dearpygui.dearpygui as dpg

from session_insights import TokenHistory, across, efficiency_words
from session_insights.demo import DemoSession
from session_insights.drawn import timeline_view
from session_insights.events import SessionMark, TicketUpdate, usage_event
from session_insights.metrics import summary_text
from session_insights.scope import Scope
from session_insights.store import SessionStore
from session_insights.ui import InsightsPanel
from session_insights.ui.panel import TIMELINE_POINTS
from session_insights.ui.theme import Fonts
from session_insights.views import SESSION_COLUMNS

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


def png_pixels(path: Path) -> tuple[int, list[bytes]]:
    """(width, rows of RGBA bytes) of an 8-bit RGBA PNG such as output_frame_buffer
    writes (stb_image_write: one IDAT stream, a filter byte per row)."""
    data = path.read_bytes()
    pos, chunks = 8, {}
    while pos < len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        chunks[kind] = chunks.get(kind, b"") + data[pos + 8 : pos + 8 + length]
        pos += 12 + length
    width, height = int.from_bytes(chunks[b"IHDR"][:4], "big"), int.from_bytes(chunks[b"IHDR"][4:8], "big")
    raw, stride, rows = zlib.decompress(chunks[b"IDAT"]), width * 4, []
    prev = bytes(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - 4] if x >= 4 else 0
            b, c = prev[x], prev[x - 4] if x >= 4 else 0
            if kind == 1:
                line[x] = (line[x] + a) & 255
            elif kind == 2:
                line[x] = (line[x] + b) & 255
            elif kind == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif kind == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = rows[-1]
    return width, rows


def ink_extents(items: list[int], png: Path) -> list[list[float]]:
    """Per item, [leftmost, rightmost] x of the text drawn inside its rect, and the rect's
    right edge: read from a screenshot (bright pixels only), so what is measured is where
    the figure was drawn, not where an item says it is. (A frame buffer callback would
    save the decoding, but Dear PyGui 2.3 calls it without the GIL and aborts now and then.)"""
    shot(png)
    _, rows = png_pixels(png)
    out = []
    for item in items:
        (x0, y0), (x1, y1) = dpg.get_item_rect_min(item), dpg.get_item_rect_max(item)
        lit = [
            x for y in range(int(y0), int(y1)) for x in range(int(x0), int(x1)) if min(rows[y][x * 4 : x * 4 + 3]) > 150
        ]
        out.append([min(lit, default=-1), max(lit, default=-1), x1])
    return out


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
    # What the panel shows: the active session (the demo's one), not everything read.
    snap = history.snapshot(now_ts=end, scope=panel.scope)
    width, buckets = history.timeline(panel.scope)
    view = timeline_view(buckets, width, TIMELINE_POINTS)
    timeline = panel.headers["timeline"]
    burn = panel.headers["burn"]
    out = {
        "scope": str(panel.scope),
        "all_tickets": history.snapshot(now_ts=end)["tickets"],
        "snapshot": snap,
        "summary_expected": summary_text(snap),
        "summary_shown": panel.headers["summary"].text.value,
        "view": view,
        "series": {key: series_data(item) for key, item in timeline.series.items()},
        "total_area": series_data(timeline.total_area),
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
        if key == "models":
            # The Requests column of every row (217, 4, 38...): figures line up on the right.
            rows = panel.headers["models"].table._rows
            out["models_requests_ink"] = ink_extents(
                [cells[1] for _, cells, _ in rows], artifacts / "header_models_measured.png"
            )
        if key == "provenance":
            # a closed header is not drawn: its tables are filled once it is opened
            out["tables"]["provenance"] = [t.texts() for t in panel.headers[key].tables]
            out["provenance_groups_shown"] = [dpg.is_item_shown(g) for g in panel.headers[key].groups]
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


def scenario_open_session(artifacts: Path) -> dict:
    """A delimited session still open, with a ticket done: its tokens per ticket wait for
    its end, and the panel says so; once it ends, the figure shows."""
    history = TokenHistory()
    history.add(SessionMark(START_TS, "s1", "start", "shop", "host"))
    history.add(usage_event(model="gpt-4o", input_tokens=4_000, ts=START_TS + 5, session="s1"))
    history.add(TicketUpdate(START_TS + 9, "s1/t1", "completed", None, None, "s1"))
    panel = open_panel(history, clock=lambda: START_TS + 10)

    def shown() -> dict:
        settle(panel)
        return {
            "text": panel.headers["efficiency"].per_ticket.value,
            "card": panel.cards.values["efficiency"].value,
            "card_sub": panel.cards.subs["efficiency"].value,
        }

    out = {"open": shown()}
    shot(artifacts / "efficiency_open_session.png")
    history.add(SessionMark(START_TS + 20, "s1", "end"))
    out["ended"] = shown()
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
    out["labels_expected"] = [efficiency_words.bucket_label(b, over["measure"]) for b in over["buckets"]]
    out["bar_values"] = chart.bar_values()
    out["verdict_shown"] = chart.verdict.value
    out["verdict_expected"] = efficiency_words.verdict_text(over)

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

    # A real click on past session 2's row shows its figures in the cards and Cost by Model:
    # on its Tokens figure, a right-aligned cell the click passes through to the row.
    only_open(panel, {"sessions"})
    pick = next(pos for pos, key in enumerate(sessions.row_keys) if key[1].startswith("2a1b2c3d"))
    tokens_column = [name for _, name in SESSION_COLUMNS].index("total_tokens")
    click_item(sessions._rows[pick][2][tokens_column - 1])
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


# --- scope ------------------------------------------------------------------------------
# The scope scenario: an old session three days ago (api, claude: 3 requests of 10,000 +
# 2,000 tokens), a recent one that started 20 minutes ago (web, codex: 2 requests of
# 20,000 + 4,000), and one kept only in the durable history (docs, gemini: 1 request of
# 5,000 + 1,000). Later a third live session starts (web, claude: 1 request of 30,000 +
# 6,000) and then a fourth (api, codex: 1 request of 1,000 + 500).
SCOPE_NOW_TS = START_TS + 3 * DAY_S
SCOPE_SESSIONS = {
    # key: (session id, project, source, start ts, requests, input, output)
    "old": ("0a1d5e55-1000-4000-8000-000000000001", "api", "claude", START_TS, 3, 10_000, 2_000),
    "recent": ("7ec3a7e0-2000-4000-8000-000000000002", "web", "codex", SCOPE_NOW_TS - 1200, 2, 20_000, 4_000),
    "stored": ("5703ed00-3000-4000-8000-000000000003", "docs", "gemini", START_TS - 3 * DAY_S, 1, 5_000, 1_000),
    "third": ("7f1a2b3c-4000-4000-8000-000000000004", "web", "claude", SCOPE_NOW_TS + 60, 1, 30_000, 6_000),
    "fourth": ("4f0e0d0c-5000-4000-8000-000000000005", "api", "codex", SCOPE_NOW_TS + 600, 1, 1_000, 500),
}


def add_session(history: TokenHistory, key: str) -> None:
    session, project, source, start, requests, inp, out = SCOPE_SESSIONS[key]
    history.add(SessionMark(start, session, "start", project, source))
    for r in range(requests):
        history.add(
            usage_event(
                model="claude-sonnet-4-5",
                input_tokens=inp,
                output_tokens=out,
                ts=start + 60 * (r + 1),
                session=session,
                source=source,
            )
        )


def pick_scope(panel: InsightsPanel, label: str) -> None:
    """Real clicks: open the top bar's combo, then click the item ``label``."""
    bar = panel.scope_bar
    click_item(bar.combo)
    x0, _ = dpg.get_item_rect_min(bar.combo)
    _, y1 = dpg.get_item_rect_max(bar.combo)
    row = bar.labels.index(label)
    # The list opens under the combo: window padding, then one line (font + item spacing) an item.
    click(x0 + 40, y1 + COMBO_PAD_PX + row * COMBO_ROW_PX + COMBO_ROW_PX / 2)
    settle(panel)


COMBO_PAD_PX = 8
COMBO_ROW_PX = 19


def scope_state(panel: InsightsPanel) -> dict:
    """What the panel shows of its scope, and the figures under it."""
    return {
        "scope": str(panel.scope),
        "scope_kind": panel.scope.kind,
        "viewing": list(panel.viewing) if panel.viewing else None,
        "combo": panel.scope_bar.value,
        "combo_shown": dpg.get_value(panel.scope_bar.combo),
        "text": panel.scope_bar.text.value,
        "caption": panel.cards.caption.value,
        "labels": {key: dpg.get_item_label(h.item) for key, h in panel.headers.items()},
        "open": panel.open_headers(),
        "cards": {k: v.value for k, v in panel.cards.values.items()},
        "subs": {k: v.value for k, v in panel.cards.subs.items()},
        "timeline_body_shown": dpg.is_item_shown(panel.headers["timeline"].body),
        "past_line_shown": dpg.is_item_shown(panel.past_line),
        "selected": [
            panel.sessions.row_keys[i][1] for i, row in enumerate(panel.sessions._rows) if dpg.get_value(row[1])
        ],
        "timeline_total": series_data(panel.headers["timeline"].series["total"]),
        "models": panel.headers["models"].table.texts(),
        "items": panel.scope_bar.labels,
        "shown_scope": (panel.shown_snapshot or {}).get("scope"),
    }


def scenario_scope(artifacts: Path) -> dict:
    """Scopes from the top bar (real clicks), from a Sessions row, and the active scope
    following a new session while a pinned one stays."""
    import tempfile

    store = SessionStore(Path(tempfile.mkdtemp()) / "state.history.sqlite")
    stored = TokenHistory()
    add_session(stored, "stored")
    stored.drain()
    store.write(stored.session_rows())
    history = TokenHistory()
    for key in ("old", "recent"):
        add_session(history, key)
    history.drain()
    now = [SCOPE_NOW_TS]
    panel = open_panel(history, clock=lambda: now[0], store=store)
    panel.across.load_now()
    only_open(panel, {"timeline", "burn", "models"})
    out: dict = {"opened": scope_state(panel)}
    shot(artifacts / "scope_active.png")

    pick_scope(panel, "All sessions")
    out["all"] = scope_state(panel)
    shot(artifacts / "scope_all.png")
    old = next(label for label in panel.scope_bar.labels if SCOPE_SESSIONS["old"][0][:8] in label)
    pick_scope(panel, old)
    out["old"] = scope_state(panel)
    shot(artifacts / "scope_old_session.png")
    pick_scope(panel, "Today")
    out["today"] = scope_state(panel)
    pick_scope(panel, "Active session")
    out["back_to_active"] = scope_state(panel)

    # A real click on a Sessions row: the old session (live), then the stored-only one.
    sessions = panel.sessions

    def click_row(key: str) -> None:
        only_open(panel, {"sessions"})
        pos = next(i for i, k in enumerate(sessions.row_keys) if k[1] == SCOPE_SESSIONS[key][0])
        click_item(sessions._rows[pos][1])
        settle(panel)
        only_open(panel, {"sessions", "timeline", "models"})

    click_row("old")
    out["row_old"] = scope_state(panel)
    shot(artifacts / "scope_session_row.png")
    click_row("stored")
    out["row_stored"] = scope_state(panel)
    out["not_kept_note"] = dpg.get_value(panel._not_kept["timeline"])
    shot(artifacts / "scope_stored_row.png")
    only_open(panel, {"sessions"})
    click_item(sessions.live_button)
    settle(panel)
    out["row_back"] = scope_state(panel)

    # On "Active session", a newer session is followed; once pinned, the next is not.
    only_open(panel, {"timeline", "burn", "models"})
    now[0] = SCOPE_NOW_TS + 180
    add_session(history, "third")
    settle(panel)
    out["followed"] = scope_state(panel)
    shot(artifacts / "scope_followed.png")
    panel.set_scope(Scope.of_session(SCOPE_SESSIONS["third"][0]))
    settle(panel)
    out["pinned"] = scope_state(panel)
    now[0] = SCOPE_NOW_TS + 720
    add_session(history, "fourth")
    settle(panel)
    out["pinned_after_new"] = scope_state(panel)
    shot(artifacts / "scope_pinned.png")
    panel.set_scope(Scope("active"))
    settle(panel)
    out["active_again"] = scope_state(panel)

    # An id no history holds: one line, and the active session.
    panel.set_scope(Scope.of_session("no-such-session"))
    settle(panel)
    out["unknown"] = {**scope_state(panel), "notices": panel.notices.value}
    panel.close()
    store.close()
    dpg.destroy_context()
    return out


def scenario_busy(artifacts: Path) -> dict:
    """Frames while another thread holds the history (a reader merging a backlog's
    parts): each returns at once and shows what it showed; then the figures arrive."""
    import threading

    history = TokenHistory()
    history.record_usage("claude-sonnet-4-5", 1_000, 100, ts=START_TS, session="s1")
    panel = open_panel(history, clock=lambda: START_TS + 60)
    settle(panel)
    before = panel.cards.values["tokens"].value
    held, release, released = threading.Event(), threading.Event(), threading.Event()

    def merge():  # holds the history's lock until told, or 30 s at most
        with history._lock:
            history.record_usage("claude-sonnet-4-5", 5_000, 500, ts=START_TS + 1, session="s1")
            held.set()
            release.wait(30)
            released.set()

    holder = threading.Thread(target=merge)
    holder.start()
    held.wait(30)
    busy = []
    for _ in range(5):
        busy.append(panel.tick())
        frames(1)
    returned_while_held = not released.is_set()
    during = panel.cards.values["tokens"].value
    release.set()
    holder.join()
    settle(panel)
    out = {
        "busy_ticks": busy,
        "returned_while_held": returned_while_held,
        "before": before,
        "during": during,
        "after": panel.cards.values["tokens"].value,
    }
    dpg.destroy_context()
    return out


SCENARIOS = {
    "demo": scenario_demo,
    "empty": scenario_empty,
    "open_session": scenario_open_session,
    "click": scenario_click,
    "live": scenario_live,
    "across": scenario_across,
    "across_empty": scenario_across_empty,
    "scope": scenario_scope,
    "busy": scenario_busy,
}

if __name__ == "__main__":
    name, out_path, artifacts = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    artifacts.mkdir(parents=True, exist_ok=True)
    result = SCENARIOS[name](artifacts)
    out_path.write_text(json.dumps(result))
