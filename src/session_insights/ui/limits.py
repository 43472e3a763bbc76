"""Limits: every quota window known, one line each (``limits.window_phrase``): Claude's
from the statusline's log, the log sources' (Codex) from the snapshot's ``rate_limits``.

The windows are the account's, whatever the scope shown: the title never names a scope.
Under the lines, a plot per window of its used % since it started (``quota_plot``). The
log is kept by ``quota_tail``: read in the render loop at most once every 2 s, only what
was appended since. The panel asks ``windows`` every refresh, open or not: its alerts
are made of them. With the panel's ``history`` set, the windows estimated from its logs
(``limits_estimate``: the 5-hour block, the last 7 days, against the user's own limit)
follow: the block's taken again at most once every ``ESTIMATE_S`` when the history
changed or the block ended, the week's (a snapshot of milliseconds with hundreds of
sessions) once every ``WEEK_ESTIMATE_S``.
"""

from __future__ import annotations

import time
from pathlib import Path

from .. import limits, limits_estimate, quota_log
from ..quota_tail import QuotaTail
from .header import Header
from .quota_plot import QuotaPlots
from .theme import COLOURS
from .widgets import BoundText

ESTIMATE_S = 2.0
WEEK_ESTIMATE_S = 60.0
EMPTY = (
    "No quota figures from the servers yet. Claude's 5-hour and 7-day windows show once `session-insights "
    "statusline` is Claude Code's statusLine command (see the README); Codex's once a "
    "rollout reports them."
)


class LimitsHeader(Header):
    key = "limits"
    title = "Limits"
    default_open = False  # opened from View > Headers; figures show once a source gives them
    history = None  # the TokenHistory whose logs the estimates are of (the panel's); None: none

    def __init__(self, parent: int | str, *, open_: bool = True, log_path: Path | None = None):
        self.log_path = quota_log.default_path() if log_path is None else log_path
        self.tail = QuotaTail(self.log_path)
        self._latest: tuple[int, list[dict]] = (-1, [])  # (tail version, its latest per window)
        self._block: tuple[int, float, limits_estimate.Usage] = (-1, -ESTIMATE_S, limits_estimate.NO_BLOCK)
        self._week: tuple[float, limits_estimate.Usage] = (-WEEK_ESTIMATE_S, limits_estimate.NO_BLOCK)
        super().__init__(parent, open_=open_)

    def build(self) -> None:
        self.empty = BoundText(self.body, EMPTY, wrap=0, color=COLOURS["dim"])
        self.lines = BoundText(self.body, "", wrap=0, show=False)
        self.warning = BoundText(self.body, "", wrap=0, color=COLOURS["warn"], show=False)
        self.estimate_lines = BoundText(self.body, "", wrap=0, color=COLOURS["dim"], show=False)
        self.plots = QuotaPlots(self.body)

    def show_scope(self, name: str | None) -> None:
        """The quota is the account's: the title stays "Limits" in every scope."""

    def windows(self, snap: dict, now_ts: float | None = None) -> list[dict]:
        """Every window known now: Claude's from the log (read if due), the sources' from
        ``snap``'s ``rate_limits``."""
        self.tail.poll()
        if self._latest[0] != self.tail.version:
            self._latest = (self.tail.version, self.tail.latest())
        now_ts = time.time() if now_ts is None else now_ts
        return limits.all_windows(self._latest[1], snap.get("rate_limits") or {}, now_ts)

    def crossing_windows(self, snap: dict, now_ts: float) -> list[dict]:
        """What the alerts and the Quota card weigh: every window known, and the logs'
        estimates where the user set a limit (only against one can they cross)."""
        windows = self.windows(snap, now_ts)
        has_limits = self.history is not None and self.history.plan_limits
        return windows + self.estimates(windows, now_ts) if has_limits else windows

    def estimates(self, windows: list[dict], now_ts: float | None = None) -> list[dict]:
        """The windows estimated from ``history``'s logs beside ``windows`` (the servers')."""
        history = self.history
        if history is None or (history.usage.last_ts is None and not history.plan_limits):
            return []
        now_s, now_ts = time.monotonic(), time.time() if now_ts is None else now_ts
        version, taken_s, block = self._block
        ended = block.end_ts is not None and now_ts >= block.end_ts
        if (history.version != version or ended) and now_s - taken_s >= ESTIMATE_S:
            self._block = (history.version, now_s, limits_estimate.usage_of(history, "block", now_ts))
        if now_s - self._week[0] >= WEEK_ESTIMATE_S:
            self._week = (now_s, limits_estimate.usage_of(history, "week", now_ts))
        plan = limits_estimate.PlanLimits.of(history.plan_limits)
        return limits_estimate.windows(self._block[2], self._week[1], plan, windows, now_ts)

    def update(self, snap: dict, timeline: dict) -> None:
        windows = self.windows(snap)
        text = "\n".join(f"{w['source']} {limits.window_phrase(w)}" for w in windows)
        self.lines.set_or_hide(text)
        self.empty.set_or_hide("" if text else EMPTY)
        soon = [f"{w['source']} {w['label']}" for w in windows if w["full_before_reset"] and not w["stale"]]
        self.warning.set_or_hide(f"On course to reach 100% before the reset: {', '.join(soon)}" if soon else "")
        self.estimate_lines.set_or_hide("\n".join(limits_estimate.phrase(w) for w in self.estimates(windows)))
        self.plots.show(windows, self.tail)
