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

from session_insights import TokenHistory
from session_insights.demo import DemoSession
from session_insights.metrics import summary_text, timeline_view
from session_insights.ui import InsightsPanel
from session_insights.ui.panel import TIMELINE_POINTS
from session_insights.ui.theme import Fonts

W, H = 1280, 800
START_TS = 1_763_900_000.0


def frames(n: int) -> None:
    for _ in range(n):
        dpg.render_dearpygui_frame()


def shot(path: Path) -> None:
    frames(2)
    dpg.output_frame_buffer(file=str(path))
    frames(3)


def open_panel(history: TokenHistory, clock) -> InsightsPanel:
    dpg.create_context()
    dpg.configure_app(docking=True, docking_space=False)
    dpg.create_viewport(title="Session Insights test", width=W, height=H, vsync=False, x_pos=0, y_pos=0,
                        decorated=False)
    fonts = Fonts()
    panel = InsightsPanel(history, clock=clock, fonts=fonts, width=W, height=H)
    dpg.configure_item(panel.window, pos=(0, 0))
    dpg.setup_dearpygui()
    dpg.show_viewport()
    frames(3)
    return panel


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
        usage = {"input_tokens": inp, "cached_input_tokens": cached, "output_tokens": out,
                 "reasoning_output_tokens": 0, "total_tokens": inp + out}
        limits = {"primary": {"used_percent": used, "window_minutes": 300, "resets_at": int(ts) + 3600}}
        return line(ts, "event_msg", {"type": "token_count", "info": {"total_token_usage": usage},
                                      "rate_limits": limits})

    folder = Path(tempfile.mkdtemp())
    rollout = folder / "rollout-live.jsonl"
    rollout.write_bytes(line(START_TS, "session_meta", {"id": "live-session", "source": "cli"})
                        + line(START_TS, "turn_context", {"model": "gpt-5"}))
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
        seen.append({"tokens_card": panel.cards.values["tokens"].value,
                     "limits": panel.headers["burn"].limits.value})
    shot(artifacts / "panel_live_codex.png")
    dpg.destroy_context()
    return {"steps": seen, "total_tokens": history.snapshot()["totals"]["total_tokens"]}


SCENARIOS = {"demo": scenario_demo, "empty": scenario_empty, "click": scenario_click, "live": scenario_live}

if __name__ == "__main__":
    name, out_path, artifacts = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    artifacts.mkdir(parents=True, exist_ok=True)
    result = SCENARIOS[name](artifacts)
    out_path.write_text(json.dumps(result))
