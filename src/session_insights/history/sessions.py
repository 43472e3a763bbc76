"""The sessions part: one row per session (span, labels, boundary, tool and rating
counts), at most ``MAX_SESSIONS``; the least recently active fold into one row,
``EARLIER_SESSIONS``, so every sum stays exact however many sessions there were.

A session is undelimited until a log marks its start (then it is open) or its end (then
it has ended). ``latest()`` is the session the ``active`` scope follows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .. import decode
from ..events import SessionMark
from ..scope import UNNAMED

UNDELIMITED, OPEN, ENDED = 0, 1, 2
STATES = {UNDELIMITED: None, OPEN: "open", ENDED: "ended"}
NO_SESSION = UNNAMED
EARLIER_SESSIONS = "(earlier sessions)"
MAX_SESSIONS = 400


@dataclass(slots=True)
class SessionRow:
    first_ts: float = math.inf
    last_ts: float = -math.inf
    project: str | None = None
    source: str | None = None
    mark: int = UNDELIMITED
    end_ts: float | None = None
    tool_calls: int = 0
    tool_failures: int = 0
    ratings: int = 0
    rating_milli: int = 0
    # Active time (idle gaps left out) of a session whose detail was let go; a session
    # with detail measures it from its timeline instead.
    active_s: float = 0.0

    def stretch(self, ts: float) -> None:
        if ts < self.first_ts:
            self.first_ts = ts
        if ts > self.last_ts:
            self.last_ts = ts

    @property
    def state(self) -> str | None:
        return STATES[self.mark]

    def absorb(self, other: SessionRow) -> None:
        """Add ``other``'s span and counts into this row (folding)."""
        self.first_ts = min(self.first_ts, other.first_ts)
        self.last_ts = max(self.last_ts, other.last_ts)
        self.tool_calls += other.tool_calls
        self.tool_failures += other.tool_failures
        self.ratings += other.ratings
        self.rating_milli += other.rating_milli
        self.active_s += other.active_s


class SessionsPart:
    """Session rows by name."""

    def __init__(self) -> None:
        self.rows: dict[str, SessionRow] = {}

    def row(self, name: str) -> SessionRow:
        """The row of ``name``, created on first use (the caller folds first when full)."""
        row = self.rows.get(name)
        if row is None:
            row = self.rows[name] = SessionRow()
        return row

    @property
    def full(self) -> bool:
        return len(self.rows) >= MAX_SESSIONS

    def least_recent(self, n: int) -> list[str]:
        """The ``n`` sessions whose last record is oldest (never the folded row)."""
        ranked = sorted((row.last_ts, name) for name, row in self.rows.items() if name != EARLIER_SESSIONS)
        return [name for _, name in ranked[:n]]

    def fold(self, names: set[str]) -> None:
        """Merge the rows of ``names`` into ``EARLIER_SESSIONS``."""
        merged = self.rows.get(EARLIER_SESSIONS)
        if merged is None:
            merged = self.rows[EARLIER_SESSIONS] = SessionRow()
        for name in names:
            row = self.rows.pop(name, None)
            if row is not None:
                merged.absorb(row)

    def merge(self, other: SessionsPart) -> None:
        """Add another part's rows (sessions read apart) into this one's."""
        for name, theirs in other.rows.items():
            mine = self.row(name)
            mine.absorb(theirs)
            mine.project = mine.project or theirs.project
            mine.source = mine.source or theirs.source
            if theirs.mark > mine.mark:
                mine.mark = theirs.mark
            if theirs.end_ts is not None:
                mine.end_ts = theirs.end_ts if mine.end_ts is None else max(mine.end_ts, theirs.end_ts)

    def latest(self) -> str | None:
        """The session with the most recent record: what the ``active`` scope shows."""
        best = (-math.inf, "")
        for name, row in self.rows.items():  # a tie goes to the larger name, whatever the order
            if (row.last_ts, name) > best and name != EARLIER_SESSIONS:
                best = (row.last_ts, name)
        return best[1] or None

    def live(self) -> set[str]:
        """The sessions being worked: the latest, and every one its log says is open."""
        live = {name for name, row in self.rows.items() if row.mark == OPEN}
        latest = self.latest()
        return live if latest is None else live | {latest}

    def apply_mark(self, mark: SessionMark, row: SessionRow) -> None:
        row.stretch(mark.ts)
        if mark.project is not None:
            row.project = mark.project
        if mark.source is not None:
            row.source = mark.source
        if mark.boundary == "end":
            row.mark = ENDED
            row.end_ts = mark.ts if row.end_ts is None else max(row.end_ts, mark.ts)
        elif mark.boundary == "start" and row.mark != ENDED:
            row.mark = OPEN

    # --- state.toml -------------------------------------------------------------

    def encode(self) -> list[dict]:
        return [
            {
                "name": name,
                "first_ts": row.first_ts,
                "last_ts": row.last_ts,
                "project": row.project or "",
                "source": row.source or "",
                "mark": row.mark,
                "end_ts": row.end_ts if row.end_ts is not None else -1.0,
                "counts": [row.tool_calls, row.tool_failures, row.ratings, row.rating_milli],
                **({"active_s": row.active_s} if row.active_s else {}),
            }
            for name, row in self.rows.items()
            if math.isfinite(row.first_ts)
        ]

    def decode(self, rows: list[dict]) -> None:
        self.rows.clear()  # the usage part reads this same dict
        for i, s in enumerate(rows):
            where = f"sessions[{i}]"
            row = self.rows[decode.text(s.get("name"), f"{where}.name")] = SessionRow()
            row.first_ts = decode.moment(s.get("first_ts"), f"{where}.first_ts")
            row.last_ts = decode.moment(s.get("last_ts"), f"{where}.last_ts")
            row.project = decode.text(s.get("project", ""), f"{where}.project", True)
            row.source = decode.text(s.get("source", ""), f"{where}.source", True)
            row.mark = decode.whole(s.get("mark", UNDELIMITED), f"{where}.mark", UNDELIMITED, ENDED)
            end = s.get("end_ts", -1.0)
            row.end_ts = None if end == -1.0 else decode.moment(end, f"{where}.end_ts")
            counts = decode.counters(s.get("counts", [0, 0, 0, 0]), f"{where}.counts", 4)
            row.tool_calls, row.tool_failures, row.ratings, row.rating_milli = counts
            row.active_s = decode.number(s.get("active_s", 0.0), f"{where}.active_s", 0.0, 1e10)
