"""Drives the panel's alerts under an X display, in a process of its own: the banner as
quota windows and the budget cross their thresholds, a real click that dismisses a line,
the desktop told once per crossing while its service hangs; and the View menu opening
the Limits header. Writes what it found as JSON for tests/test_gui_alerts.py.

    python tests/alerts_driver.py SCENARIO OUT.json ARTIFACTS_DIR STATE_PATH
"""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

import dearpygui.dearpygui as dpg
from gui_driver import click, click_item, frames, only_open, open_panel

from session_insights import TokenHistory, quota_log
from session_insights.notify import Notifier

MODEL = "claude-sonnet-4-5"  # $3 per million input tokens
H = 3600.0
SESSION = "5e551a0b-7c2d-4e8f-9a1b-2c3d4e5f6a7b"
MENU_BAR_PX, ROW_PX = 22, 19
WEEK_RESET_TS = time.time() + 3 * 86400


class HangingDesktop:
    """A notification service that takes nothing until ``release`` is set."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.entered = threading.Event()
        self.titles: list[str] = []
        self.threads: set[str] = set()
        self.done = threading.Semaphore(0)

    def __call__(self, title: str, body: str) -> None:
        self.threads.add(threading.current_thread().name)
        self.entered.set()
        self.release.wait(60)
        self.titles.append(title)
        self.done.release()


def spend(history: TokenHistory, usd: float) -> None:
    left = round(usd / 3 * 1_000_000)
    while left:  # at most 100K tokens a request: past 200K a prompt is priced higher
        ts = time.time() - 60
        history.record_usage(MODEL, input_tokens=min(left, 100_000), output_tokens=0, ts=ts, session=SESSION)
        left -= min(left, 100_000)
    history.drain()


def observe(log: Path, used: float, resets_at_ts: float, weekly: float = 30.0, ago_s: float = 0.0) -> None:
    windows = {
        "five_hour": {"used_percent": used, "resets_at_ts": resets_at_ts},
        "seven_day": {"used_percent": weekly, "resets_at_ts": WEEK_RESET_TS},
    }
    quota_log.append({"ts": time.time() - ago_s, "windows": windows, "cost_usd": used / 10}, log)


def step(panel, n: int = 6) -> int:
    """``n`` ticks and frames, the log looked at each time; returns the frames drawn."""
    drawn = 0
    for _ in range(n):
        panel.limits.tail.look_soon()
        panel._last_refresh = -1.0  # refresh at each tick, not at 4 Hz
        panel.tick()
        frames(1)
        drawn += 1
    return drawn


def banner_state(panel) -> dict:
    return {"texts": panel.banner.texts, "level": panel.banner.level, "shown": dpg.is_item_shown(panel.banner.strip)}


def quota_card(panel) -> list[str]:
    return [panel.cards.values["quota"].value, panel.cards.subs["quota"].value]


def scenario_banner(artifacts: Path, state: Path) -> dict:
    log = quota_log.default_path()  # beside SESSION_INSIGHTS_STATE
    history = TokenHistory(budget_usd=10.0)
    desktop = HangingDesktop()
    notifier = Notifier(desktop)
    panel = open_panel(history, time.time)
    panel.notifier = notifier
    only_open(panel, {"limits"})
    out: dict = {"log": str(log), "quota_none": quota_card(panel)}
    reset_ts = time.time() + 20 * 60  # the 5-hour window 4 h 40 min in
    for hours_ago, used, weekly in ((3.5, 12.0, 22.0), (2.5, 26.0, 24.0), (1.5, 38.0, 26.0), (0.5, 50.0, 29.0)):
        observe(log, used, reset_ts, weekly, ago_s=hours_ago * H)
    step(panel)
    out["quiet"] = banner_state(panel)
    out["quota_quiet"] = quota_card(panel)
    observe(log, 85.0, reset_ts)
    step(panel)
    out["at_85"] = banner_state(panel)
    assert desktop.entered.wait(10)  # the desktop holds the first notification from here on
    observe(log, 96.0, reset_ts)
    spend(history, 8.5)
    out["frames_while_desktop_hangs"] = step(panel, 30)
    out["at_96_and_budget"] = banner_state(panel)
    out["quota_at_96"] = quota_card(panel)
    out["levels"] = [line.level for line in panel.alerts.lines]
    out["plotted"] = panel.limits.plots.shown
    out["told_alerts"] = [json.loads(name) for name in history.ui["told_alerts"]]
    dpg.output_frame_buffer(file=str(artifacts / "alerts_banner.png"))
    frames(3)
    out["told_while_hanging"] = list(desktop.titles)
    click_item(panel.banner.buttons[0])  # dismiss the newest line
    step(panel)
    out["after_dismiss"] = banner_state(panel)
    desktop.release.set()
    for _ in range(4):
        desktop.done.acquire(timeout=10)
    step(panel, 20)  # more refreshes with every crossing still standing: nothing new is told
    time.sleep(0.2)
    out["told"] = list(desktop.titles)
    out["desktop_threads"] = sorted(desktop.threads)
    observe(log, 2.0, time.time() + 5 * H)  # the window reset: its crossings are over
    step(panel)
    out["after_reset"] = banner_state(panel)
    out["quota_after_reset"] = quota_card(panel)
    panel.set_budget(50.0)
    step(panel)
    out["after_budget_raised"] = banner_state(panel)
    out["told_alerts_after"] = history.ui["told_alerts"]
    history.plan_limits = {"five_hour_tokens": 3_000_000}  # as [limits] in state.toml would
    panel.limits._estimated = (-1e9, [])  # estimated again now, not in 2 s
    step(panel)
    out["estimate"] = banner_state(panel)
    history.plan_limits = {}
    panel.limits._estimated = (-1e9, [])
    step(panel)
    dpg.output_frame_buffer(file=str(artifacts / "alerts_banner_cleared.png"))
    frames(3)
    notifier.close()
    panel.close()
    dpg.destroy_context()
    return out


def menu_item(parent: int, label: str) -> int:
    return next(i for i in dpg.get_item_children(parent, 1) if dpg.get_item_label(i) == label)


def scenario_view_menu(artifacts: Path, state: Path) -> dict:
    """The standalone window opens with Limits closed; View > Headers > Limits opens it."""
    from session_insights.app import App
    from session_insights.cli_args import window_parser

    app = App(window_parser().parse_args(["--demo", "--state", str(state)]))
    app.start()
    for _ in range(8):
        app.frame()
    limits = app.panel.headers["limits"]
    out = {"open_at_first": limits.is_open(), "notifier": app.notifier is not None}
    before = set(app.panel.open_headers())
    bar = next(
        i for i in dpg.get_item_children(app.panel.window, 1) if dpg.get_item_type(i) == "mvAppItemType::mvMenuBar"
    )
    view = menu_item(bar, "View")
    headers = menu_item(view, "Headers")
    # Menus have no rectangle to ask for, only the place of each row in its popup: the
    # View popup opens under the bar (MENU_BAR_PX) at the menu's place; Headers' popup
    # opens to the right of it, level with its row; a row is ROW_PX high.
    vx, vy = dpg.get_viewport_pos()
    x, y = dpg.get_item_pos(view)
    click(vx + x + 12, vy + y + 10)
    _, row_y = dpg.get_item_pos(headers)
    click(vx + x + 40, vy + MENU_BAR_PX + row_y + ROW_PX / 2)
    _, limits_y = dpg.get_item_pos(menu_item(headers, "Limits"))
    popup_w = max(dpg.get_text_size(dpg.get_item_label(i))[0] for i in dpg.get_item_children(view, 1)) + 60
    click(vx + x + popup_w + 40, vy + MENU_BAR_PX + row_y - ROW_PX / 2 + limits_y + ROW_PX / 2)
    for _ in range(5):
        app.frame()
    out["open_after_menu"] = limits.is_open()
    out["changed"] = sorted(set(app.panel.open_headers()) ^ before)  # that one alone
    dpg.set_y_scroll(app.panel.window, dpg.get_item_pos(limits.item)[1] - 60)
    for _ in range(3):
        app.frame()
    dpg.output_frame_buffer(file=str(artifacts / "alerts_view_menu_limits.png"))
    for _ in range(3):
        app.frame()
    app.finish()
    return out


SCENARIOS = {"banner": scenario_banner, "view_menu": scenario_view_menu}

if __name__ == "__main__":
    name, out_path, artifacts_dir, state_path = sys.argv[1:]
    Path(artifacts_dir).mkdir(parents=True, exist_ok=True)
    result = SCENARIOS[name](Path(artifacts_dir), Path(state_path))
    Path(out_path).write_text(json.dumps(result))
