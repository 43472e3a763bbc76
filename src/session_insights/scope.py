"""Scope: which requests a view shows (DESIGN §3b).

A ``Scope`` is what the user chose (``active``, ``block``, ``today``, ``week``, ``all``
or one session id); ``resolve`` turns it, at a given time, into the ``Resolved`` span and
sessions a snapshot sums. Nothing here reads a clock or a file.

- ``today`` starts at local midnight and ``week`` at local midnight six days earlier:
  both fall on a quarter hour in every time zone, the grain the usage part keeps.
- ``block`` is the server's 5-hour window where a source reports its reset time, else a
  chain of 5-hour blocks, each starting at its first request floored to the hour.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

KINDS = ("active", "block", "today", "week", "all")
BLOCK_S = 5 * 3600
HOUR_S = 3600
WEEK_DAYS = 7
SCOPE_HELP = "active | block | today | week | all | SESSION_ID"
UNNAMED = "(no session)"  # the session of records that name none


@dataclass(frozen=True, slots=True)
class Scope:
    """A scope as chosen: ``kind`` is one of KINDS or "session" (then ``session`` names it)."""

    kind: str = "all"
    session: str | None = None

    @classmethod
    def parse(cls, text: str) -> Scope:
        """``active``, ``block``, ``today``, ``week``, ``all`` or a session id (a prefix is
        matched when the scope is resolved). ValueError, one line, for an empty one."""
        text = text.strip()
        if not text:
            raise ValueError(f"a scope must be one of {SCOPE_HELP}")
        if text in KINDS:
            return cls(text)
        return cls("session", text)

    @classmethod
    def of_session(cls, session: str) -> Scope:
        return cls("session", session)

    def __str__(self) -> str:
        return self.session if self.kind == "session" else self.kind


@dataclass(frozen=True, slots=True)
class Resolved:
    """A scope at one moment: the requests with ``start_ts <= ts < end_ts`` (None: no
    bound) of ``sessions`` (None: every session)."""

    kind: str
    session: str | None = None
    sessions: frozenset[str] | None = None
    start_ts: float | None = None
    end_ts: float | None = None

    def holds(self, session: str | None) -> bool:
        return self.sessions is None or session in self.sessions

    def holds_record(self, session: str | None) -> bool:
        """Whether a tool call or ticket of ``session`` is in the scope. One with no session
        is a host's (its hooks name none), about the work of now: it is in every scope but
        that of a session chosen by id (other than the requests with no session)."""
        if self.sessions is None:
            return True
        if session is None:
            return self.kind != "session" or UNNAMED in self.sessions
        return session in self.sessions

    @property
    def bounded_in_time(self) -> bool:
        return self.start_ts is not None or self.end_ts is not None


class UnknownSession(ValueError):
    """A session scope that names no session the history holds, or more than one."""


def local_midnight(now_ts: float, days_back: int = 0) -> float:
    """Local midnight of the day ``days_back`` days before the one holding ``now_ts``."""
    t = time.localtime(now_ts)
    midnight = time.mktime((t.tm_year, t.tm_mon, t.tm_mday - days_back, 0, 0, 0, 0, 0, -1))
    return float(midnight)


def find_session(name: str, sessions: Iterable[str]) -> str:
    """The session ``name`` is, or the only one it starts (the panel shows short ids)."""
    names = list(sessions)
    if name in names:
        return name
    matches = [s for s in names if s.startswith(name)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise UnknownSession(f"no session {name!r} in what was read")
    raise UnknownSession(f"{name!r} starts {len(matches)} sessions: give more of the id")


def block_started(ts: float, end: float | None) -> tuple[float, float] | None:
    """The 5-hour block a request at ``ts`` starts, ``(start, end)``, or None when it lies
    in the block ending at ``end`` (DESIGN §3b: a block starts at its first request
    floored to the hour; the next at the first request from its end on)."""
    if end is not None and ts < end:
        return None
    start = ts - ts % HOUR_S
    return start, start + BLOCK_S


def block_span(
    active_quarters: Iterable[int], quarter_s: int, now_ts: float, server_resets: Iterable[float] = ()
) -> tuple[float, float] | None:
    """The current 5-hour block: ``(start_ts, end_ts)`` holding ``now_ts``, or None when no
    block is running. A server reset time still ahead wins; else blocks chain from the
    earliest activity kept, each starting at its first quarter with requests, floored to
    the hour (a gap of 5 h or more always ends a block, so the chain is the same from any
    such gap on)."""
    for reset in sorted(server_resets):
        if reset - BLOCK_S <= now_ts < reset:
            return reset - BLOCK_S, reset
    start = end = None
    for q in sorted(active_quarters):
        ts = q * quarter_s
        if ts > now_ts:
            break
        start, end = block_started(ts, end) or (start, end)
    if start is None or now_ts >= end:
        return None
    return float(start), float(end)


def resolve(
    scope: Scope,
    now_ts: float,
    *,
    latest_session: str | None,
    sessions: Iterable[str],
    active_quarters: Iterable[int] = (),
    quarter_s: int = 900,
    server_resets: Iterable[float] = (),
) -> Resolved:
    """``scope`` at ``now_ts``; ``latest_session`` is the one with the most recent record
    (what ``active`` follows). UnknownSession for a session id that matches none."""
    kind = scope.kind
    if kind == "all":
        return Resolved("all")
    if kind == "active":
        if latest_session is None:
            return Resolved("active", sessions=frozenset())
        return Resolved("active", latest_session, frozenset((latest_session,)))
    if kind == "session":
        name = find_session(scope.session or "", sessions)
        return Resolved("session", name, frozenset((name,)))
    if kind == "today":
        return Resolved("today", start_ts=local_midnight(now_ts))
    if kind == "week":
        return Resolved("week", start_ts=local_midnight(now_ts, WEEK_DAYS - 1))
    if kind == "block":
        span = block_span(active_quarters, quarter_s, now_ts, server_resets)
        if span is None:  # no block running: nothing is in it
            return Resolved("block", sessions=frozenset(), start_ts=now_ts, end_ts=now_ts)
        return Resolved("block", start_ts=span[0], end_ts=span[1])
    raise ValueError(f"unknown scope kind {kind!r}")


def server_block_resets(rate_limits: Mapping[str, Mapping]) -> list[float]:
    """Reset times of the 5-hour windows the sources reported (``rate_limits``)."""
    resets = []
    for limits in rate_limits.values():
        for window in limits.values():
            if not isinstance(window, Mapping):
                continue
            minutes, reset = window.get("window_minutes"), window.get("resets_at")
            if minutes == BLOCK_S // 60 and isinstance(reset, int | float):
                resets.append(float(reset))
    return resets
