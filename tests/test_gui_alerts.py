"""The panel's alerts in a real window under Xvfb (tests/alerts_driver.py): the banner
under the top bar as thresholds are crossed, dismissed by a real click, gone when the
condition clears; the desktop told once per crossing from its own thread, the frames
going on while it hangs; and the Limits header, closed at first, opened from View."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run_driver

DRIVER = Path(__file__).with_name("alerts_driver.py")
pytestmark = pytest.mark.gui
QUIET = {"texts": [], "level": None, "shown": False}


def drive(scenario: str, env: dict, artifacts: Path, tmp_path: Path) -> dict:
    state = tmp_path / "state.toml"
    env = env | {"SESSION_INSIGHTS_STATE": str(state)}  # the statusline's log beside it
    return run_driver(DRIVER, scenario, tmp_path / f"{scenario}.json", env, str(artifacts), str(state))


@pytest.fixture(scope="module")
def banner_run(x_display, artifacts, tmp_path_factory):
    return drive("banner", x_display, artifacts, tmp_path_factory.mktemp("alerts"))


def test_no_banner_until_a_threshold_is_crossed(banner_run):
    assert banner_run["quiet"] == QUIET


def test_a_window_past_80_percent_raises_an_amber_line_with_its_figure(banner_run):
    state = banner_run["at_85"]
    assert state["shown"] and state["level"] == "warning"
    [line] = state["texts"]
    assert line.startswith("claude 5h window: 85% used, past 80%, resets ")


def test_each_crossing_is_a_line_newest_first_red_once_a_limit_is_near(banner_run, artifacts):
    state = banner_run["at_96_and_budget"]
    assert state["shown"] and state["level"] == "error"
    pace, at95, budget, at80 = state["texts"]
    # 96 % at 4 h 40 min of 5 h: 103 % by the reset, 100 % in 4 / (96 / 16,800 s) = 700 s.
    assert pace.startswith("claude 5h window on course to pass 100% before its reset: 96% used, pace 103% at reset")
    assert at95.startswith("claude 5h window: 96% used, past 95%")
    assert budget == "Budget: 85% spent, past 80% ($8.50 of $10.00)"
    assert at80.startswith("claude 5h window: 96% used, past 80%")  # the first crossed, the figure current
    assert banner_run["levels"] == ["warning", "error", "warning", "warning"]
    assert banner_run["plotted"] == ["claude 5h", "claude 7d"]
    assert (artifacts / "alerts_banner.png").stat().st_size > 10_000


def test_the_frames_go_on_while_the_desktop_hangs(banner_run):
    assert banner_run["frames_while_desktop_hangs"] == 30
    assert banner_run["told_while_hanging"] == []  # the service still holds the first one


def test_the_desktop_is_told_once_per_crossing_from_its_own_thread(banner_run):
    assert banner_run["told"][:4] == [
        "claude 5h quota 80% used",
        "claude 5h quota 95% used",
        "claude 5h quota: on course to run out before its reset",
        "Budget 80% spent",
    ]
    assert banner_run["desktop_threads"] == ["session-insights-notify"]
    # What was told is kept in the state (ui.told_alerts), so a restart does not tell it again...
    kinds = [name[1] if isinstance(name[0], list) else name[0] for name in banner_run["told_alerts"]]
    assert sorted(kinds) == ["budget", "pace", "window", "window"]  # a budget's names its scope first
    assert banner_run["told_alerts_after"] == []  # ...and forgotten once each is over


def test_a_click_on_dismiss_takes_that_line_away(banner_run):
    assert banner_run["after_dismiss"]["texts"] == banner_run["at_96_and_budget"]["texts"][1:]


def test_lines_go_when_the_window_resets_and_when_the_budget_is_raised(banner_run, artifacts):
    assert banner_run["after_reset"] == {
        "texts": ["Budget: 85% spent, past 80% ($8.50 of $10.00)"],
        "level": "warning",
        "shown": True,
    }
    assert banner_run["after_budget_raised"] == QUIET
    assert (artifacts / "alerts_banner_cleared.png").exists()


def test_the_logs_estimate_raises_a_line_against_the_users_own_limit(banner_run):
    state = banner_run["estimate"]
    # 2,833,333 tokens in the 5-hour block, of a limit of 3,000,000 set by the user: 94 %.
    pace, at80 = state["texts"]  # all of it spent in the last minute: on course to pass 100 % too
    assert pace.startswith("estimate 5h block on course to pass 100% before its reset: 94% of your limit used")
    assert at80.startswith("estimate 5h block: 94% of your limit used, past 80%, resets ")
    assert state["level"] == "warning"


def test_the_limits_header_is_closed_at_first_and_view_opens_it(x_display, artifacts, tmp_path):
    result = drive("view_menu", x_display, artifacts, tmp_path)
    # The demo's spending is made up: never told to the desktop.
    assert result == {"open_at_first": False, "notifier": False, "open_after_menu": True, "changed": ["limits"]}
    assert (artifacts / "alerts_view_menu_limits.png").exists()


def test_the_quota_card_shows_the_window_nearest_its_limit(banner_run):
    assert banner_run["quota_none"] == ["—", "no quota figures"]
    # 50% of the 5-hour window (weekly 29%), last seen 30 minutes ago: kept, named stale.
    assert banner_run["quota_quiet"] == ["50%", "claude 5h · seen 30m ago"]
    value, sub = banner_run["quota_at_96"]  # seen now, on course past 100% before the reset
    assert value == "96%" and sub.startswith("claude 5h · resets in ")
    value, sub = banner_run["quota_after_reset"]  # the new window, seen now: 2% used, the weekly 30%
    assert value == "30%" and sub.startswith("claude 7d · resets in")
