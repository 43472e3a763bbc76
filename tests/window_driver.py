"""Drives the standalone window (``app.App``) and a host app docking the panel, for real
under an X display, in a process of its own. Writes what it found as JSON for
tests/test_window.py.

    python tests/window_driver.py SCENARIO OUT.json ARTIFACTS_DIR [ARG ...]
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import dearpygui.dearpygui as dpg

SCROLLBAR_PX = 16  # the panel's vertical scrollbar and the window's edge


def frames(n: int, pause_s: float = 0.0) -> None:
    for _ in range(n):
        dpg.render_dearpygui_frame()
        if pause_s:
            time.sleep(pause_s)


def app_frames(app, n: int, pause_s: float = 0.01) -> None:
    for _ in range(n):
        app.frame()
        if pause_s:
            time.sleep(pause_s)


def xdotool(*args: str) -> str:
    return subprocess.run(["xdotool", *args], check=True, capture_output=True, text=True).stdout


def viewport_window(title: str) -> str:
    return xdotool("search", "--name", f"^{title}$").split()[0]


def click_at(x: float, y: float, step) -> None:
    """A real click at screen pixel (x, y)."""
    xdotool("mousemove", "--sync", str(int(x)), str(int(y)))
    step(3)
    xdotool("click", "1")
    step(10)


def open_app(state: Path, *flags: str):
    from session_insights.app import App
    from session_insights.cli_args import window_parser

    args = window_parser().parse_args(["--demo", "--demo-speed", "2000", "--state", str(state), *flags])
    app = App(args)
    app.start()
    app_frames(app, 8)
    return app


def window_figures(app) -> dict:
    panel = app.panel.window
    return {
        "viewport": [dpg.get_viewport_client_width(), dpg.get_viewport_client_height()],
        "viewport_pos": list(dpg.get_viewport_pos()),
        "panel": [dpg.get_item_width(panel), dpg.get_item_height(panel)],
        "panel_pos": list(dpg.get_item_pos(panel)),
        "panel_shown": dpg.is_item_shown(panel),
    }


def scenario_standalone(artifacts: Path, state: Path) -> dict:
    """Open at --size, click where a title bar's close box would be, resize and move by
    the window system, close. (Dear PyGui makes one viewport a process: ``reopen`` opens
    it again.)"""
    out: dict = {}
    app = open_app(state, "--size", "1000x700")
    out["opened"] = window_figures(app)
    step = lambda n: app_frames(app, n)  # noqa: E731
    (vx, vy), (vw, _) = out["opened"]["viewport_pos"], out["opened"]["viewport"]
    click_at(vx + vw - 12, vy + 34, step)  # the top right, under the menu bar: a close box's place
    out["after_click"] = window_figures(app)
    xdotool("windowsize", viewport_window("Session Insights"), "1180", "760")
    xdotool("windowmove", viewport_window("Session Insights"), "40", "30")
    app_frames(app, 20)
    out["resized"] = window_figures(app)
    dpg.output_frame_buffer(file=str(artifacts / "window_resized.png"))
    app_frames(app, 3)
    app.finish()
    return out


def scenario_reopen(artifacts: Path, state: Path) -> dict:
    app = open_app(state)
    out = window_figures(app)
    app.finish()
    return out


def scenario_size(artifacts: Path, state: Path, size: str) -> dict:
    """The whole demo at ``size``, the panel filling the window."""
    app = open_app(state, "--size", size)
    app.demo.play_all()
    app_frames(app, 30, pause_s=0.0)
    out = window_figures(app)
    dpg.output_frame_buffer(file=str(artifacts / f"window_demo_{size}.png"))
    app_frames(app, 3)
    app.finish()
    return out


def scenario_host(artifacts: Path, state: Path) -> dict:
    """A host with a View menu: the panel's close box hides it, the menu item brings it back."""
    from session_insights import TokenHistory
    from session_insights.ui import InsightsPanel

    dpg.create_context()
    dpg.configure_app(docking=True, docking_space=False)
    dpg.create_viewport(title="Host", width=1200, height=780, vsync=False, x_pos=0, y_pos=0, decorated=False)
    history = TokenHistory(state_path=state)
    panel = InsightsPanel(history, width=900, height=600)
    dpg.configure_item(panel.window, pos=(60, 60))
    with dpg.viewport_menu_bar(), dpg.menu(label="View"):
        panel.add_menu_item()
    dpg.setup_dearpygui()
    dpg.show_viewport()
    step = lambda n: frames(n, 0.01)  # noqa: E731
    step(5)
    out = {"shown_at_first": dpg.is_item_shown(panel.window)}
    (x0, y0), width = dpg.get_item_pos(panel.window), dpg.get_item_width(panel.window)
    click_at(x0 + width - 12, y0 + 10, step)  # the title bar's close box
    out["shown_after_close_box"] = dpg.is_item_shown(panel.window)
    dpg.output_frame_buffer(file=str(artifacts / "host_panel_closed.png"))
    step(3)
    # Menus have no rectangle to ask for: "View" is the menu bar's first menu, the item the
    # first row of the list it opens below it.
    click_at(20, 9, step)
    click_at(50, 32, step)
    out["shown_after_menu_item"] = dpg.is_item_shown(panel.window)
    dpg.output_frame_buffer(file=str(artifacts / "host_panel_reopened.png"))
    step(3)
    panel.close()
    history.close()
    dpg.destroy_context()
    return out


def scenario_wheel(artifacts: Path, state: Path) -> dict:
    """Over the Token Timeline: the wheel scrolls the panel, Ctrl+wheel zooms the chart
    and the zoom outlives new data; a double-click fits the chart to its data again."""
    app = open_app(state, "--size", "1200x760")
    app.demo.play_all()
    app_frames(app, 10)
    timeline, window = app.panel.headers["timeline"], app.panel.window
    xdotool("windowfocus", "--sync", viewport_window("Session Insights"))  # Ctrl reaches the window
    (vx, vy) = dpg.get_viewport_pos()
    (x0, y0), (x1, y1) = dpg.get_item_rect_min(timeline.plot), dpg.get_item_rect_max(timeline.plot)
    xdotool("mousemove", "--sync", str(int(vx + (x0 + x1) / 2)), str(int(vy + y0 + 40)))
    app_frames(app, 3)
    out = {"x_limits": [dpg.get_axis_limits(timeline.x_axis)], "scroll": [dpg.get_y_scroll(window)]}
    for _ in range(2):
        xdotool("click", "5")  # the wheel, down
        app_frames(app, 4)
    out["scroll"].append(dpg.get_y_scroll(window))
    out["x_limits"].append(dpg.get_axis_limits(timeline.x_axis))
    (x0, y0), (x1, y1) = dpg.get_item_rect_min(timeline.plot), dpg.get_item_rect_max(timeline.plot)
    xdotool("mousemove", "--sync", str(int(vx + (x0 + x1) / 2)), str(int(vy + (y0 + y1) / 2)))
    app_frames(app, 3)
    xdotool("keydown", "ctrl")
    app_frames(app, 3)
    for _ in range(3):
        xdotool("click", "4")  # the wheel, up: zoom in
        app_frames(app, 4)
    xdotool("keyup", "ctrl")
    app_frames(app, 3)
    out["scroll"].append(dpg.get_y_scroll(window))
    out["x_limits"].append(dpg.get_axis_limits(timeline.x_axis))
    dpg.output_frame_buffer(file=str(artifacts / "window_chart_zoomed.png"))
    app_frames(app, 3)
    last_ts = app.history.snapshot()["scope"].get("end_ts") or time.time()
    app.history.record_usage("claude-sonnet-4-5", 50_000, 5_000, ts=last_ts + 600, session="demo")
    for _ in range(3):
        app.panel.refresh()
        app_frames(app, 3)
    out["x_limits"].append(dpg.get_axis_limits(timeline.x_axis))  # after new data: still zoomed
    xdotool("click", "--repeat", "2", "--delay", "60", "1")  # a double-click
    app_frames(app, 6)
    out["x_limits"].append(dpg.get_axis_limits(timeline.x_axis))
    app.history.record_usage("claude-sonnet-4-5", 50_000, 5_000, ts=last_ts + 1200, session="demo")
    for _ in range(3):
        app.panel.refresh()
        app_frames(app, 3)
    out["x_limits"].append(dpg.get_axis_limits(timeline.x_axis))  # following the data again
    out["data_x"] = [app.panel._timeline["x"][0], app.panel._timeline["x"][-1]]
    out["new_ts"] = [last_ts + 600, last_ts + 1200]
    app.finish()
    return out


def scenario_words(artifacts: Path, state: Path, *flags: str) -> dict:
    """The demo's figures as the panel writes them: the time and value under the pointer
    on the timeline, the scope bar's start, the tools' times, the tickets left."""
    app = open_app(state, "--size", "1280x800", *flags)
    app.demo.play_all()
    app_frames(app, 12)
    panel = app.panel
    timeline = panel.headers["timeline"]
    (vx, vy) = dpg.get_viewport_pos()
    (x0, y0), (x1, y1) = dpg.get_item_rect_min(timeline.plot), dpg.get_item_rect_max(timeline.plot)
    xdotool("mousemove", "--sync", str(int(vx + (x0 + x1) / 2)), str(int(vy + (y0 + y1) / 2)))
    app_frames(app, 4)
    xdotool("mousemove_relative", "--sync", "5", "0")
    app_frames(app, 8)
    tag = "utc" if flags else "local"
    dpg.output_frame_buffer(file=str(artifacts / f"window_pointer_{tag}.png"))
    app_frames(app, 3)
    out = {
        "pointer": timeline.view.tip.value,
        "scope_bar": panel.scope_bar.text.value,
        "tools": panel.headers["tools"].table.texts(),
        "finish": panel.headers["burn"].finish.value,
        "budget": panel.headers["burn"].budget.value,
    }
    app.finish()
    return out


def scenario_budget(artifacts: Path, state: Path, budget: str) -> dict:
    """The whole demo under a budget: what the Budget card and Burn Rate say."""
    app = open_app(state, "--size", "1280x800", "--budget", budget)
    app.demo.play_all()
    app_frames(app, 12)
    cards, burn = app.panel.cards, app.panel.headers["burn"]
    dpg.output_frame_buffer(file=str(artifacts / f"window_budget_{budget}.png"))
    app_frames(app, 3)
    out = {
        "card": cards.values["budget"].value,
        "card_sub": cards.subs["budget"].value,
        "card_colour": dpg.get_item_configuration(cards.subs["budget"].item)["color"],
        "over": burn.over.value,
        "over_shown": dpg.is_item_shown(burn.over.item),
        "projection": app.panel.snapshot["projection"],
    }
    app.finish()
    return out


def scenario_clip(artifacts: Path, state: Path) -> dict:
    """The demo at 125% UI scale: the tier table's model lists, the burn chart's peak and
    its axis title, each within its own room."""
    app = open_app(state, "--size", "1280x800")
    label = app.panel.cards.subs["tokens"].item
    app_frames(app, 2)
    label_px = dpg.get_item_rect_size(label)[1]
    app._set_scale(None, None, 1.25)
    app.demo.play_all()
    panel = app.panel
    for key, header in panel.headers.items():
        header.set_open(key in ("burn", "tiers"))
    app_frames(app, 12)
    burn, tiers = panel.headers["burn"], panel.headers["tiers"]
    rates = [v for v in dpg.get_value(burn.rate_series)[1] if v == v]
    title_px = dpg.get_text_size("tokens/min")[0]  # in the font the scale rasterised
    cells = []
    for _, row_cells, texts in tiers.table._rows:
        models, requests, cost = row_cells[1], row_cells[2], row_cells[6]
        cells.append(
            {
                "text": texts[1],
                "cost": texts[6],
                "right": dpg.get_item_rect_max(models)[0],
                "next_left": dpg.get_item_rect_min(requests)[0],
                "cost_right": dpg.get_item_rect_max(cost)[0],
                "room_right": dpg.get_viewport_client_width() - SCROLLBAR_PX,
            }
        )
    dpg.output_frame_buffer(file=str(artifacts / "window_scale_125.png"))
    app_frames(app, 3)
    out = {
        "rate_max": max(rates),
        "rate_limits": dpg.get_axis_limits(burn.y_axis),
        "plot_px": dpg.get_item_rect_size(burn.plot)[1],
        "title_px": title_px,
        "tier_cells": cells,
        "label_px": [label_px, dpg.get_item_rect_size(label)[1]],
        "global_font_scale": dpg.get_global_font_scale(),
    }
    app.finish()
    return out


def scenario_demo_across(artifacts: Path, state: Path) -> dict:
    """The demo's headers across sessions, each open alone, once the demo has played."""
    app = open_app(state, "--size", "1280x800")
    app.demo.play_all()
    app_frames(app, 6)
    panel = app.panel
    app.saver.write_sessions()  # what the saver writes every 2 s, now
    panel.across.load_now()
    out: dict = {}
    for key in ("sessions", "efficiency_over_time", "usage", "categories", "tool_cost"):
        for other, header in panel.headers.items():
            header.set_open(other == key)
        app_frames(app, 8)
        dpg.output_frame_buffer(file=str(artifacts / f"demo_{key}.png"))
        app_frames(app, 3)
    out["sessions"] = panel.sessions.texts() if hasattr(panel.sessions, "texts") else None
    out["verdict"] = panel.headers["efficiency_over_time"].chart.verdict.value
    out["tool_cost"] = panel.headers["tool_cost"].table.texts()
    app.finish()
    return out


def scenario_backlog_pace(artifacts: Path, state: Path) -> dict:
    """The frames' pauses while the poller reads a backlog in processes, and after."""
    import session_insights.app as app_module

    app = open_app(state)
    pauses: list[float] = []
    real_time = app_module.time

    class PausesNoted:  # the app module's ``time``, its sleeps noted rather than slept
        perf_counter = staticmethod(real_time.perf_counter)
        time = staticmethod(real_time.time)

        @staticmethod
        def sleep(seconds: float) -> None:
            pauses.append(seconds)

    app_frames(app, 1, pause_s=0)  # the readers start after the first frame: their own
    app.poller.first_pass.wait(30)  # backlog pass sets and clears the flag set below
    app_module.time = PausesNoted
    try:
        app.poller.reading_backlog.set()
        app_frames(app, 20, pause_s=0)
        reading = list(pauses)
        pauses.clear()
        app.poller.reading_backlog.clear()
        app_frames(app, 20, pause_s=0)
        after = list(pauses)
    finally:
        app_module.time = real_time
        app.finish()
    return {"reading": reading, "after": after, "frame_s": app_module.BACKLOG_FRAME_S}


SCENARIOS = {
    "backlog_pace": scenario_backlog_pace,
    "demo_across": scenario_demo_across,
    "clip": scenario_clip,
    "budget": scenario_budget,
    "words": scenario_words,
    "wheel": scenario_wheel,
    "standalone": scenario_standalone,
    "reopen": scenario_reopen,
    "size": scenario_size,
    "host": scenario_host,
}


if __name__ == "__main__":
    name, out_path, artifacts_dir, state_path, *extra = sys.argv[1:]
    result = SCENARIOS[name](Path(artifacts_dir), Path(state_path), *extra)
    Path(out_path).write_text(json.dumps(result))
