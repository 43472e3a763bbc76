"""The statusline's log (``quota_log``) as the panel keeps it: the observations appended
since the last look, read by byte offset (whole lines only), at most once a ``CHECK_S``
and only when the file changed; a log trimmed or replaced is read again from its last
``MAX_READ_BYTES`` (the whole log: it is trimmed past ``quota_log.MAX_BYTES``).

Kept: at most ``MAX_KEPT`` observations, none older than the longest window before the
newest, so every point of a window's plot is at hand and memory stays bounded however
long the panel runs. A steady log costs one ``stat`` a ``CHECK_S``.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from . import quota_log
from .limits import CLAUDE_WINDOW_S

CHECK_S = 2.0
MAX_READ_BYTES = quota_log.MAX_BYTES
MAX_KEPT = 4096
KEEP_S = max(CLAUDE_WINDOW_S.values())
RESET_SLACK_S = 600.0  # an observation of the same window gives the same reset, give or take
MAX_POINTS = 240  # a window's plot: about one point per pixel column of a half-width plot


class QuotaTail:
    """The observations of one log, oldest first (``observations``); ``version`` moves
    when they change."""

    def __init__(self, path: Path):
        self.path = path
        self.observations: list[dict] = []
        self.version = 0
        self._file: tuple[int, int] | None = None  # (device, inode): a trim replaces the file
        self._mark: tuple[int, int] | None = None  # (mtime, size) at the last read
        self._offset = 0  # bytes read, to the end of the last whole line
        self._checked_s = -CHECK_S

    def look_soon(self) -> None:
        """Make the next ``poll`` look at the file, however recent the last look."""
        self._checked_s = -float("inf")

    def poll(self, *, now_s: float | None = None) -> bool:
        """Read what was appended, if it is time to look; True if anything changed."""
        now_s = time.monotonic() if now_s is None else now_s
        if now_s - self._checked_s < CHECK_S:
            return False
        self._checked_s = now_s
        try:
            st = self.path.stat()
        except OSError:
            return self._forget()
        file, mark = (st.st_dev, st.st_ino), (st.st_mtime_ns, st.st_size)
        if file == self._file and mark == self._mark:
            return False
        if file != self._file or st.st_size < self._offset:
            self.observations, self._file = [], file
            self._offset = max(0, st.st_size - MAX_READ_BYTES)
        self._mark = mark
        added = self._read_from(self._offset)
        if not added:
            return False
        self.observations.extend(added)
        newest_ts = self.observations[-1]["ts"]
        kept = [obs for obs in self.observations[-MAX_KEPT:] if obs["ts"] >= newest_ts - KEEP_S]
        self.observations = kept
        self.version += 1
        return True

    def _forget(self) -> bool:
        changed = bool(self.observations)
        self.observations, self._file, self._mark, self._offset = [], None, None, 0
        if changed:
            self.version += 1
        return changed

    def _read_from(self, offset: int) -> list[dict]:
        """The observations in the whole lines from ``offset``; moves the offset past them.
        A line cut by a mid-line offset, or that does not parse, is skipped."""
        try:
            with open(self.path, "rb") as f:
                f.seek(offset)
                data = f.read(max(0, os.fstat(f.fileno()).st_size - offset))
        except OSError:
            return []
        end = data.rfind(b"\n") + 1  # a line still being written waits for its newline
        lines = data[:end].splitlines()
        if offset and lines and not self._starts_line(offset):
            lines = lines[1:]
        self._offset = offset + end
        out = []
        for line in lines:
            try:
                obs = quota_log.clean(json.loads(line))
            except (ValueError, RecursionError):
                continue
            if obs is not None:
                out.append(obs)
        return out

    def _starts_line(self, offset: int) -> bool:
        try:
            with open(self.path, "rb") as f:
                f.seek(offset - 1)
                return f.read(1) == b"\n"
        except OSError:
            return False

    def latest(self) -> list[dict]:
        """For each window, the newest observation that gives it (all ``limits.
        claude_windows`` needs), oldest first."""
        newest: dict[str, dict] = {}
        for obs in reversed(self.observations):
            for name in obs["windows"]:
                newest.setdefault(name, obs)
            if len(newest) == len(CLAUDE_WINDOW_S):
                break
        return sorted({id(obs): obs for obs in newest.values()}.values(), key=lambda obs: obs["ts"])


def _same_window(seen: dict | None, w: dict) -> bool:
    """Whether an observation's figure is of window ``w`` (it has the same reset)."""
    if seen is None:
        return False
    return seen["resets_at_ts"] is None or abs(seen["resets_at_ts"] - w["resets_at_ts"]) <= RESET_SLACK_S


def window_points(observations: list[dict], w: dict, max_points: int = MAX_POINTS) -> tuple[list[float], list[float]]:
    """(seconds since the window started, used %) of window ``w`` (``limits.figures``) in its
    current span, oldest first: Claude's from every observation of it (made in its span,
    with its reset), another source's from its last report only. At most ``max_points``:
    the last of each equal slice of the window (used % only grows within one, so the last
    is its highest)."""
    if w["resets_at_ts"] is None or not w["window_s"]:
        return [], []
    start_ts = w["resets_at_ts"] - w["window_s"]
    if w["source"] == "claude":
        seen = [
            (obs["ts"] - start_ts, obs["windows"][w["name"]]["used_percent"])
            for obs in observations
            if start_ts <= obs["ts"] <= w["resets_at_ts"] and _same_window(obs["windows"].get(w["name"]), w)
        ]
    else:
        seen = [(w["observed_ts"] - start_ts, w["used_percent"])] if w["observed_ts"] >= start_ts else []
    slots: dict[int, tuple[float, float]] = {}
    for x, y in seen:
        slots[min(max_points - 1, int(x / w["window_s"] * max_points))] = (x, y)
    points = [slots[k] for k in sorted(slots)]
    return [x for x, _ in points], [y for _, y in points]
