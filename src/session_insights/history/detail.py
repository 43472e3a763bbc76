"""A session's detail: its own timeline and burn window, kept for the sessions active
most recently (``usage.MAX_DETAILED``), so a session scope has its chart and its rate.

Active time is measured on the timeline, at its resolution: a gap between buckets with
requests counts unless it is ``IDLE_GAP_S`` or more (or, once the buckets are wider than
that, more than one and a half buckets).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..series import BucketSeries, RecentSeconds
from .counters import T_FIELDS, T_REQ

DETAIL_CAPACITY = 256  # a session's timeline: 1 s buckets for 4 minutes, 64 s for 4.5 hours
DETAIL_RECENT_S = 900  # a session's burn window: seconds kept before its latest request


@dataclass(slots=True)
class SessionDetail:
    """A session's own timeline and burn window."""

    timeline: BucketSeries
    recent: RecentSeconds
    _active: tuple = ()  # (what it was measured for, the active seconds): a snapshot's cache

    @classmethod
    def new(cls) -> SessionDetail:
        return cls(BucketSeries(DETAIL_CAPACITY, fields=T_FIELDS), RecentSeconds(DETAIL_RECENT_S, fields=2))

    def active_s(self, idle_gap_s: float, start_ts: float | None, end_ts: float | None) -> float:
        """``active_seconds`` of its timeline, measured again only once a bucket came or the
        timeline coarsened (a bucket's requests taken back to none is not seen: it is
        counted active until then, within the timeline's resolution anyway)."""
        series = self.timeline
        key = (series.level, len(series), series.width_s, idle_gap_s, start_ts, end_ts)
        if not self._active or self._active[0] != key:
            self._active = (key, active_seconds(series, idle_gap_s, start_ts, end_ts))
        return self._active[1]


def active_seconds(series: BucketSeries, idle_gap_s: float = 300.0, start_ts=None, end_ts=None) -> float:
    """Active time in a timeline: the gaps between buckets with requests, each counted
    only if shorter than ``idle_gap_s`` (measured at the series' resolution)."""
    threshold = max(idle_gap_s, series.width_s * 1.5)
    active, previous = 0.0, None
    for ts, v in series.items():
        if not v[T_REQ] or (start_ts is not None and ts < start_ts) or (end_ts is not None and ts >= end_ts):
            continue
        if previous is not None and ts - previous < threshold:
            active += ts - previous
        previous = ts
    return active
