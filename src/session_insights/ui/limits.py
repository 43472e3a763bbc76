"""Limits: every quota window known, one line each (``limits.window_phrase``): Claude's
from the statusline's log, the log sources' (Codex) from the snapshot's ``rate_limits``.

The windows are the account's, whatever the scope shown: the title never names a scope.
The log is read in the render loop only when its size or time changed, and only its tail
(the latest observations are all a line needs), at most once a ``CHECK_S``.
"""

from __future__ import annotations

import time
from pathlib import Path

from .. import limits, quota_log
from .header import Header
from .theme import COLOURS
from .widgets import BoundText

CHECK_S = 2.0
TAIL_BYTES = 16 * 1024
EMPTY = (
    "No quota figures yet. Claude's 5-hour and 7-day windows show once `session-insights "
    "statusline` is Claude Code's statusLine command (see the README); Codex's once a "
    "rollout reports them."
)


class LimitsHeader(Header):
    key = "limits"
    title = "Limits"
    default_open = False  # opened from View > Headers; figures show once a source gives them

    def __init__(self, parent: int | str, *, open_: bool = True, log_path: Path | None = None):
        self.log_path = quota_log.default_path() if log_path is None else log_path
        self._mark: tuple | None = None
        self._checked_s = -CHECK_S
        self.observations: list[dict] = []
        super().__init__(parent, open_=open_)

    def build(self) -> None:
        self.empty = BoundText(self.body, EMPTY, wrap=0, color=COLOURS["dim"])
        self.lines = BoundText(self.body, "", wrap=0, show=False)
        self.warning = BoundText(self.body, "", wrap=0, color=COLOURS["warn"], show=False)

    def show_scope(self, name: str | None) -> None:
        """The quota is the account's: the title stays "Limits" in every scope."""

    def _read_log(self) -> None:
        now_s = time.monotonic()
        if now_s - self._checked_s < CHECK_S:
            return
        self._checked_s = now_s
        try:
            stat = self.log_path.stat()
            mark = (stat.st_mtime_ns, stat.st_size)
        except OSError:
            mark = None
        if mark != self._mark:
            self._mark = mark
            self.observations = quota_log.read(self.log_path, TAIL_BYTES) if mark else []

    def update(self, snap: dict, timeline: dict) -> None:
        self._read_log()
        windows = limits.all_windows(self.observations, snap.get("rate_limits") or {}, time.time())
        text = "\n".join(f"{w['source']} {limits.window_phrase(w)}" for w in windows)
        self.lines.set_or_hide(text)
        self.empty.set_or_hide("" if text else EMPTY)
        soon = [f"{w['source']} {w['label']}" for w in windows if w["full_before_reset"] and not w["stale"]]
        self.warning.set_or_hide(f"On course to reach 100% before the reset: {', '.join(soon)}" if soon else "")
