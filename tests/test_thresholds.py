"""The guard a host sets on its history: each threshold crossing is one call, with the
figures, from the guard's own thread."""

from __future__ import annotations

import io
import json
import threading
from pathlib import Path

import pytest

from session_insights import TokenHistory, quota_log, statusline
from session_insights.history.thresholds import Crossing, ThresholdGuard, crossings

H = 3600.0
RESET_TS = 1_900_000_000.0
MODEL = "claude-sonnet-4-5"  # $3 per million input tokens


def spend(history: TokenHistory, usd: float, ts: float = RESET_TS - 4 * H) -> None:
    """Requests of at most 100K input tokens (past 200K a prompt is priced higher)."""
    left = round(usd / 3 * 1_000_000)
    while left:
        history.record_usage(MODEL, input_tokens=min(left, 100_000), output_tokens=0, ts=ts)
        left -= min(left, 100_000)
    history.drain()


def observe(used5h: float, now_ts: float, resets_at_ts: float = RESET_TS) -> None:
    data = {
        "model": {"id": MODEL},
        "rate_limits": {"five_hour": {"used_percentage": used5h, "resets_at": resets_at_ts}},
    }
    statusline.run(io.BytesIO(json.dumps(data).encode()), io.BytesIO(), now_ts=now_ts)


def kinds(fired: list[Crossing]) -> list[tuple]:
    return [(c.kind, c.level_percent) for c in fired]


def test_the_budget_fires_at_80_and_at_100_percent_once_each():
    history = TokenHistory(budget_usd=10.0)
    guard = ThresholdGuard(history)
    spend(history, 7.0)
    assert guard.check(RESET_TS) == []
    spend(history, 1.5)
    [at80] = guard.check(RESET_TS)
    assert (at80.kind, at80.level_percent, at80.value_percent) == ("budget", 80.0, pytest.approx(85.0))
    assert at80.figures == {"spent_usd": pytest.approx(8.5), "budget_usd": 10.0}
    assert guard.check(RESET_TS + 1) == []  # still past 80 %: not again
    spend(history, 2.0)
    assert kinds(guard.check(RESET_TS + 2)) == [("budget", 100.0)]


def test_a_raised_budget_lets_its_threshold_fire_again():
    history = TokenHistory(budget_usd=10.0)
    guard = ThresholdGuard(history)
    spend(history, 9.0)
    assert kinds(guard.check(RESET_TS)) == [("budget", 80.0)]
    history.budget_usd = 20.0
    assert guard.check(RESET_TS) == []
    spend(history, 8.0)
    assert kinds(guard.check(RESET_TS)) == [("budget", 80.0)]


def test_a_window_fires_at_80_and_95_and_when_its_pace_passes_100_before_the_reset():
    history = TokenHistory()
    guard = ThresholdGuard(history)
    observe(50.0, RESET_TS - 3 * H)  # 2 of 5 hours, 50 %: 125 % at the reset
    [pace] = guard.check(RESET_TS - 3 * H)
    assert (pace.kind, pace.source, pace.window) == ("pace", "claude", "five_hour")
    assert pace.value_percent == pytest.approx(125.0)
    assert pace.figures["full_in_s"] == pytest.approx(2 * H * 50 / 50)
    observe(82.0, RESET_TS - 2 * H)
    assert kinds(guard.check(RESET_TS - 2 * H)) == [("window", 80.0)]
    observe(96.0, RESET_TS - H)
    assert kinds(guard.check(RESET_TS - H)) == [("window", 95.0)]
    assert guard.check(RESET_TS - H + 30) == []


def test_the_next_instance_of_a_window_fires_again():
    history = TokenHistory()
    guard = ThresholdGuard(history)
    observe(85.0, RESET_TS - H)
    assert ("window", 80.0) in kinds(guard.check(RESET_TS - H))
    observe(81.0, RESET_TS + 4.5 * H, resets_at_ts=RESET_TS + 5 * H)  # the next 5 hours
    assert ("window", 80.0) in kinds(guard.check(RESET_TS + 4.5 * H))


def test_a_stale_window_does_not_fire():
    history = TokenHistory()
    guard = ThresholdGuard(history)
    observe(90.0, RESET_TS - 3 * H)
    assert guard.check(RESET_TS - 2 * H) == []  # seen an hour ago: old news


def test_codex_windows_from_the_history_fire_too():
    history = TokenHistory()
    history.set_rate_limits(
        "codex:/home/me/.codex",
        {"ts": RESET_TS - H, "primary": {"used_pct": 97.0, "window_minutes": 300, "resets_at": RESET_TS}},
    )
    fired = guard_check(history, RESET_TS - H + 5)
    assert [(c.source, c.window, c.level_percent) for c in fired if c.kind == "window"] == [
        ("codex", "primary", 80.0),
        ("codex", "primary", 95.0),
    ]


def guard_check(history: TokenHistory, now_ts: float) -> list[Crossing]:
    return ThresholdGuard(history).check(now_ts)


def test_a_callback_that_raises_is_a_notice_and_the_others_still_run():
    history = TokenHistory(budget_usd=1.0)
    guard = ThresholdGuard(history)
    got = []
    guard.add(lambda c: 1 / 0)
    guard.add(got.append)
    spend(history, 2.0)
    guard.check(RESET_TS)
    assert kinds(got) == [("budget", 80.0), ("budget", 100.0)]
    assert "threshold callback failed: ZeroDivisionError" in history.notices


def test_on_threshold_calls_the_host_from_a_thread_of_its_own_once_per_crossing():
    history = TokenHistory(budget_usd=1.0)
    calls: list[tuple[Crossing, str]] = []
    both = threading.Event()

    def host(crossing: Crossing) -> None:
        calls.append((crossing, threading.current_thread().name))
        if len(calls) == 2:
            both.set()

    guard = history.on_threshold(host, interval_s=0.01)
    try:
        assert history.on_threshold(host) is guard  # one guard per history
        spend(history, 2.0, ts=1_800_000_000.0)
        assert both.wait(30)
        spend(history, 0.5, ts=1_800_000_001.0)  # a change, still past both: checked, not fired
        seen = history.version
        while guard._seen is None or guard._seen[0] != seen:
            threading.Event().wait(0.01)
    finally:
        guard.stop()
    assert sorted(kinds([c for c, _ in calls])) == [("budget", 80.0), ("budget", 100.0)]
    assert {name for _, name in calls} == {"session-insights-thresholds"}


def test_crossings_names_every_threshold_the_figures_are_past():
    window = {"source": "claude", "name": "five_hour", "resets_at_ts": RESET_TS, "stale": False,
              "used_percent": 96.0, "full_before_reset": True, "pace_percent_at_reset": 130.0}  # fmt: skip
    found = crossings([window], spent_usd=5.0, budget_usd=5.0, now_ts=RESET_TS - H)
    assert sorted(found) == sorted(
        [
            ("window", "claude", "five_hour", RESET_TS, 80.0),
            ("window", "claude", "five_hour", RESET_TS, 95.0),
            ("pace", "claude", "five_hour", RESET_TS),
            ("budget", 80.0),
            ("budget", 100.0),
        ]
    )
    assert not quota_log.default_path().exists()


README = Path(__file__).parents[1] / "README.md"


def test_the_readmes_guard_example_pauses_the_host_when_the_budget_is_spent(tmp_path, monkeypatch):
    text = README.read_text()
    section = text[text.index("### A guard for the host") :]
    example = section[section.index("```python\n") + 10 : section.index("```\n", section.index("```python"))]
    paused = threading.Event()

    class Conductor:
        def pause(self, why: str) -> None:
            paused.set()

        def set_tier_model(self, tier: str, model: str) -> None: ...

        def tell(self, text: str) -> None: ...

    monkeypatch.chdir(tmp_path)
    space = {"conductor": Conductor()}
    exec(compile(example, "README.md", "exec"), space)
    history = space["history"]
    try:
        spend(history, 26.1, ts=1_800_000_000.0)
        assert paused.wait(30)
    finally:
        history._threshold_guard.stop()
