"""The guard a host app sets on its history: ``history.on_threshold(callback)`` calls it
once per crossing of a threshold, with the figures, so it can pause, ask the user or drop
to a cheaper tier.

Thresholds: each quota window at 80 % and 95 % used, each window projected to pass 100 %
before its reset (``limits``' pace), and the budget at 80 % and 100 % spent. The windows
estimated from the logs (``limits_estimate``) count too, against the limit the user set
in state.toml (none set: they never fire). A crossing fires once; it fires again only
after its figure fell back below (a budget raised) or in the next instance of its window
(a window is keyed by its reset time: a 5-hour block's by its end).

- The checks run in a thread of the guard's own, at most once a ``interval_s``, and only
  when the history changed, the statusline's log changed or a minute passed: never in
  the render loop, which only drains. A callback that raises is a notice, not a crash.
- Stale windows (``limits.STALE_S``) never fire: an old figure is no reason to act.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .. import limits, limits_estimate, quota_log

WINDOW_LEVELS = (80.0, 95.0)
BUDGET_LEVELS = (80.0, 100.0)
RECHECK_S = 60.0  # pace and staleness change with time alone


@dataclass(frozen=True, slots=True)
class Crossing:
    """One threshold crossed: ``kind`` "window" (used % at ``level_percent``), "pace"
    (projected past 100 % before the reset) or "budget" (spent % at ``level_percent``)."""

    kind: str
    level_percent: float
    value_percent: float
    ts: float
    source: str | None = None  # "claude", "codex" for a window; None for the budget
    window: str | None = None  # "five_hour", "primary", ...
    figures: dict = field(default_factory=dict)  # the window's limits.figures, or spent/budget


def crossings(windows: list[dict], spent_usd: float, budget_usd: float | None, now_ts: float,
              window_levels=WINDOW_LEVELS, budget_levels=BUDGET_LEVELS) -> dict[tuple, Crossing]:  # fmt: skip
    """Every threshold the figures are past now, by a key that names the crossing."""
    out: dict[tuple, Crossing] = {}
    for w in windows:
        if w["stale"] or w["used_percent"] is None:  # None: an estimate with no limit set
            continue
        instance = (w["source"], w["name"], w["resets_at_ts"])
        for level in window_levels:
            if w["used_percent"] >= level:
                out[("window", *instance, level)] = Crossing(
                    "window", level, w["used_percent"], now_ts, w["source"], w["name"], w
                )
        if w["full_before_reset"] and w["used_percent"] < 100:
            out[("pace", *instance)] = Crossing(
                "pace", 100.0, w["pace_percent_at_reset"], now_ts, w["source"], w["name"], w
            )
    if budget_usd:
        spent_percent = spent_usd / budget_usd * 100
        for level in budget_levels:
            if spent_percent >= level:
                figures = {"spent_usd": spent_usd, "budget_usd": budget_usd}
                out[("budget", level)] = Crossing("budget", level, spent_percent, now_ts, figures=figures)
    return out


class Standing:
    """The crossings that stand, so that each fires once: ``update`` takes every crossing
    past now (``crossings``) and returns those not standing before, by key. A crossing whose
    figure fell back below stands no more; a stale window's neither fires nor is
    forgotten: it stands until its window is seen again."""

    __slots__ = ("keys",)

    def __init__(self) -> None:
        self.keys: frozenset[tuple] = frozenset()

    def update(self, now: dict[tuple, Crossing], windows: list[dict]) -> dict[tuple, Crossing]:
        fresh = {key: c for key, c in now.items() if key not in self.keys}
        stale = {key for key in self.keys if key[0] != "budget" and key not in now and _is_stale(key, windows)}
        self.keys = frozenset(now) | stale
        return fresh


def _is_stale(key: tuple, windows: list[dict]) -> bool:
    return any((w["source"], w["name"], w["resets_at_ts"]) == key[1:4] and w["stale"] for w in windows)


class ThresholdGuard:
    """Watches one history; see the module docstring. ``check`` may be called directly
    (a test, a host with a loop of its own); ``start`` runs it in a daemon thread."""

    def __init__(self, history, *, window_levels=WINDOW_LEVELS, budget_levels=BUDGET_LEVELS,
                 limits_path: Path | None = None, interval_s: float = 1.0, scope=None) -> None:  # fmt: skip
        self.history = history
        self.window_levels, self.budget_levels = tuple(window_levels), tuple(budget_levels)
        self.limits_path = quota_log.default_path() if limits_path is None else Path(limits_path)
        self.interval_s, self.scope = interval_s, scope
        self.callbacks: list[Callable[[Crossing], object]] = []
        self._standing = Standing()
        self._seen: tuple | None = None  # (history version, log mtime) at the last check
        self._checked_ts = 0.0
        self._observations: tuple[object, list[dict]] = (None, [])
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, callback: Callable[[Crossing], object]) -> None:
        if callback not in self.callbacks:  # set twice, still called once
            self.callbacks.append(callback)

    def _read_observations(self) -> tuple[object, list[dict]]:
        try:
            stat = self.limits_path.stat()
            mark = (stat.st_mtime_ns, stat.st_size)
        except OSError:
            mark = None
        if mark != self._observations[0]:
            self._observations = (mark, quota_log.read(self.limits_path) if mark else [])
        return self._observations

    def check(self, now_ts: float | None = None) -> list[Crossing]:
        """Fire the callbacks for every threshold crossed since the last check; returns them."""
        now_ts = time.time() if now_ts is None else now_ts
        mark, observations = self._read_observations()
        with self.history._lock:
            rate_limits = dict(self.history.rate_limits)
            version = self.history.version
        snap = self.history.snapshot(now_ts=now_ts, scope=self.scope)
        self._seen, self._checked_ts = (version, mark), now_ts
        spent = snap["projection"]["spent_usd"]
        windows = limits.all_windows(observations, rate_limits, now_ts)
        windows += limits_estimate.of_history(self.history, windows, now_ts, limited_only=True)
        now = crossings(windows, spent, self.history.budget_usd, now_ts, self.window_levels, self.budget_levels)
        fresh = list(self._standing.update(now, windows).values())
        for crossing in fresh:
            for callback in list(self.callbacks):
                try:
                    callback(crossing)
                except Exception as exc:  # the host's code: its failure must not stop the guard
                    self.history.notice(f"threshold callback failed: {type(exc).__name__}")
        return fresh

    def _due(self) -> bool:
        mark = self._read_observations()[0]
        changed = self._seen != (self.history.version, mark)
        return changed or time.time() - self._checked_ts >= RECHECK_S

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                if self._due():
                    self.check()
            except Exception as exc:  # a guard that dies silently guards nothing
                self.history.notice(f"threshold check failed: {type(exc).__name__}")

    def start(self) -> ThresholdGuard:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="session-insights-thresholds", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)  # a callback stuck in the host must not hang the exit


class Thresholds:
    """The part of TokenHistory that lets a host set the guard."""

    def on_threshold(self, callback: Callable[[Crossing], object], **options) -> ThresholdGuard:
        """Call ``callback(crossing)`` from the guard's thread once per threshold crossed
        (options: ``window_levels``, ``budget_levels``, ``limits_path``, ``interval_s``,
        ``scope``, taken when the first callback is set); returns the running guard."""
        guard = getattr(self, "_threshold_guard", None)
        if guard is None:
            guard = self._threshold_guard = ThresholdGuard(self, **options).start()
        guard.add(callback)
        return guard
