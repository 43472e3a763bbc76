"""The panel's alerts as figures: which crossings make a banner line, in what order, for
how long, and which are new (told to the desktop once)."""

from __future__ import annotations

from session_insights import TokenHistory, limits
from session_insights.alerts import MAX_LINES, Alerts, alert_text, alert_title
from session_insights.history.thresholds import crossings

H = 3600.0
NOW_TS = 1_900_000_000.0
RESET_TS = NOW_TS + 300  # a 5-hour window 5 minutes before its reset: no pace to cross


def window(used: float, now_ts: float = NOW_TS, resets_at_ts: float = RESET_TS, source: str = "claude") -> dict:
    name = "five_hour" if source == "claude" else "primary"
    return limits.figures(source, name, used, resets_at_ts, 5 * H, now_ts - 30, now_ts)


def texts(alerts: Alerts) -> list[str]:
    return [line.text for line in alerts.lines]


def levels(fired) -> list[tuple]:
    return [(c.kind, c.level_percent) for c in fired]


def test_a_window_past_80_percent_makes_one_line_and_fires_once():
    alerts = Alerts()
    assert alerts.update([window(50.0)], 0.0, None, "active", NOW_TS) == []
    assert alerts.lines == []
    assert levels(alerts.update([window(55.0, NOW_TS + 60)], 0.0, None, "active", NOW_TS + 60)) == []
    fired = alerts.update([window(85.0, NOW_TS + 120)], 0.0, None, "active", NOW_TS + 120)
    assert levels(fired) == [("window", 80.0)]
    [line] = alerts.lines
    assert line.level == "warning" and line.since_ts == NOW_TS + 120
    assert line.text.startswith("claude 5h window: 85% used, past 80%, resets ")
    assert alerts.update([window(86.0, NOW_TS + 180)], 0.0, None, "active", NOW_TS + 180) == []
    assert texts(alerts)[0].startswith("claude 5h window: 86% used")  # the figure stays current


def test_the_newest_crossing_is_the_top_line():
    alerts = Alerts()
    alerts.update([window(85.0)], 0.0, None, "active", NOW_TS)
    fired = alerts.update([window(96.0, NOW_TS + 60)], 0.0, None, "active", NOW_TS + 60)
    assert levels(fired) == [("window", 95.0)]
    assert [line.key[-1] for line in alerts.lines] == [95.0, 80.0]
    assert alerts.lines[0].level == "error"


def test_two_levels_crossed_at_once_list_the_higher_first():
    alerts = Alerts()
    fired = alerts.update([window(97.0)], 0.0, None, "active", NOW_TS)
    assert levels(fired) == [("window", 80.0), ("window", 95.0)]
    assert [line.key[-1] for line in alerts.lines] == [95.0, 80.0]


def test_a_dismissed_line_stays_hidden_while_its_crossing_stands_and_returns_with_the_next():
    alerts = Alerts()
    alerts.update([window(85.0)], 0.0, None, "active", NOW_TS)
    [line] = alerts.lines
    version = alerts.version
    alerts.dismiss(line.key)
    assert alerts.lines == [] and alerts.version == version + 1
    assert alerts.update([window(88.0, NOW_TS + 60)], 0.0, None, "active", NOW_TS + 60) == []
    assert alerts.lines == []
    # The next window: a crossing of its own, shown and told again.
    next_reset = RESET_TS + 5 * H
    alerts.update([window(3.0, RESET_TS + 60, next_reset)], 0.0, None, "active", RESET_TS + 60)
    fired = alerts.update([window(82.0, RESET_TS + 4.5 * H, next_reset)], 0.0, None, "active", RESET_TS + 4.5 * H)
    assert levels(fired) == [("window", 80.0)] and len(alerts.lines) == 1


def test_a_line_goes_when_its_window_resets_even_before_a_new_figure():
    alerts = Alerts()
    alerts.update([window(96.0)], 0.0, None, "active", NOW_TS)
    assert len(alerts.lines) == 2
    later = RESET_TS + 60  # the reset passed; the last observation still says 96 %
    stale = limits.figures("claude", "five_hour", 96.0, RESET_TS, 5 * H, NOW_TS - 30, later)
    assert stale["reset_passed"]
    assert alerts.update([stale], 0.0, None, "active", later) == []
    assert alerts.lines == []


def test_a_figure_back_below_its_level_takes_the_line_away():
    alerts = Alerts()
    alerts.update([window(85.0, source="codex")], 0.0, None, "active", NOW_TS)
    assert texts(alerts)[0].startswith("codex 5h window: 85% used, past 80%")
    assert alerts.update([window(20.0, NOW_TS + 60, source="codex")], 0.0, None, "active", NOW_TS + 60) == []
    assert alerts.lines == []


def test_the_budget_of_the_scope_shown_crosses_once_per_scope():
    alerts = Alerts()
    fired = alerts.update([], 8.5, 10.0, "active", NOW_TS)
    assert levels(fired) == [("budget", 80.0)]
    assert texts(alerts) == ["Budget: 85% spent, past 80% ($8.50 of $10.00)"]
    assert alerts.update([], 2.0, 10.0, "session-b", NOW_TS + 1) == []  # another scope, under budget
    assert alerts.lines == []
    assert alerts.update([], 8.6, 10.0, "active", NOW_TS + 2) == []  # back: shown again, not fired again
    assert texts(alerts) == ["Budget: 86% spent, past 80% ($8.60 of $10.00)"]
    fired = alerts.update([], 10.5, 10.0, "active", NOW_TS + 3)
    assert levels(fired) == [("budget", 100.0)]
    assert alerts.lines[0].level == "error"
    assert alert_title(fired[0]) == "Budget spent"


def test_a_window_on_course_to_run_out_says_so_with_its_pace():
    w = limits.figures("claude", "five_hour", 70.0, NOW_TS + 2 * H, 5 * H, NOW_TS - 30, NOW_TS)
    assert w["full_before_reset"]
    [pace] = [c for key, c in crossings([w], 0.0, None, NOW_TS).items() if key[0] == "pace"]
    assert alert_title(pace) == "claude 5h quota: on course to run out before its reset"
    text = alert_text(pace)
    assert text.startswith("claude 5h window on course to pass 100% before its reset: 70% used, pace 117% at reset")
    assert ", 100% in 1h 16m, resets " in text


def test_the_banner_keeps_at_most_its_bound_of_lines_newest_first():
    alerts = Alerts()
    four = [
        limits.figures(source, name, 97.0, RESET_TS, 5 * H, NOW_TS - 30, NOW_TS)
        for source, name in (
            ("claude", "five_hour"),
            ("claude", "seven_day"),
            ("codex", "primary"),
            ("codex", "secondary"),
        )
    ]
    assert len(alerts.update(four, 0.0, None, "active", NOW_TS)) == 8  # two levels each
    assert len(alerts.lines) == MAX_LINES
    alerts.update(four, 10.5, 10.0, "active", NOW_TS + 60)
    assert len(alerts.lines) == MAX_LINES
    assert [line.key for line in alerts.lines[:2]] == [("active", "budget", 100.0), ("active", "budget", 80.0)]


def test_an_estimate_against_the_users_limit_names_itself_so():
    w = limits.figures("estimate", "five_hour", 85.0, RESET_TS, 5 * H, NOW_TS, NOW_TS) | {"estimate": True}
    alerts = Alerts()
    [fired] = alerts.update([w], 0.0, None, "active", NOW_TS)
    assert alert_title(fired) == "estimate 5h block 80% used"
    assert alerts.lines[0].text.startswith("estimate 5h block: 85% of your limit used, past 80%, resets ")


def test_a_crossing_told_before_a_restart_is_shown_but_not_told_again():
    before = Alerts()
    assert levels(before.update([window(85.0)], 8.5, 10.0, "active", NOW_TS)) == [("window", 80.0), ("budget", 80.0)]
    again = Alerts(told=before.told.names)  # as state.toml gives them back
    assert again.update([window(86.0, NOW_TS + 60)], 8.6, 10.0, "active", NOW_TS + 60) == []
    assert len(again.lines) == 2  # the banner still shows what stands
    # Fallen back and crossed again: a crossing of its own, told.
    again.update([window(40.0, NOW_TS + 120)], 8.6, 20.0, "active", NOW_TS + 120)
    fired = again.update([window(81.0, NOW_TS + 180)], 16.5, 20.0, "active", NOW_TS + 180)
    assert levels(fired) == [("window", 80.0), ("budget", 80.0)]


def test_a_told_crossing_is_kept_while_its_window_is_not_yet_read_again():
    before = Alerts()
    before.update([window(85.0, source="codex")], 0.0, None, "active", NOW_TS)
    again = Alerts(told=before.told.names)
    again.update([], 0.0, None, "active", NOW_TS + 1)  # the rollouts not read yet
    assert again.told.names == before.told.names
    assert again.update([window(85.0, NOW_TS + 2, source="codex")], 0.0, None, "active", NOW_TS + 2) == []
    # Past its reset, the crossing is over whether or not the window is seen again.
    again.update([], 0.0, None, "active", RESET_TS + 1)
    assert again.told.names == []


def test_the_names_told_are_bounded():
    alerts = Alerts(told=[f'["window", "codex", "w{i}", null, 80.0]' for i in range(100)])
    assert len(alerts.told.names) == 64 and alerts.told.names[-1].endswith('"w99", null, 80.0]')


def test_the_names_told_survive_a_save_of_the_state(tmp_path):
    alerts = Alerts()
    alerts.update([window(96.0)], 8.5, 10.0, ("active", "5e551a0b"), NOW_TS)
    history = TokenHistory(state_path=tmp_path / "state.toml")
    history.ui["told_alerts"] = alerts.told.names
    history.save()
    history.close()
    reopened = TokenHistory(state_path=tmp_path / "state.toml")
    again = Alerts(told=reopened.ui["told_alerts"])
    assert again.update([window(96.0, NOW_TS + 60)], 8.5, 10.0, ("active", "5e551a0b"), NOW_TS + 60) == []
    assert len(again.lines) == 3
    reopened.close()
