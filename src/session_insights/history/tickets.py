"""The tickets part: each ticket's latest status, kept by (time, status rank, reason) so
the result is the same for any order of updates; at most ``MAX_TICKETS``, the longest
finished leaving the table but still counted.

A ticket not finished in a session no longer worked (not the latest, and not marked open
by its log) was *left open* there: it is never "in progress" now.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

from .. import decode
from ..events import TICKET_STATUSES, TicketUpdate
from ..scope import Resolved

MAX_TICKETS = 1500
STATUS_RANK = {status: rank for rank, status in enumerate(TICKET_STATUSES)}
UNFINISHED = ("todo", "in_progress", "blocked")


@dataclass(slots=True)
class Ticket:
    status: str
    ts: float
    track: str | None
    first_ts: float
    reason: str | None
    track_update: tuple | None  # (ts, rank, track) of the update the track was taken from
    session: str | None  # the session of its latest update that names one (ties: the larger name)
    session_ts: float = 0.0

    def apply(self, up: TicketUpdate) -> None:
        if up.session is not None and (self.session is None or (up.ts, up.session) > (self.session_ts, self.session)):
            self.session, self.session_ts = up.session, up.ts
        rank = STATUS_RANK[up.status]
        self.first_ts = min(self.first_ts, up.ts)
        if (up.ts, rank, up.reason or "") > (self.ts, STATUS_RANK[self.status], self.reason or ""):
            self.status, self.ts, self.reason = up.status, up.ts, up.reason
        if up.track and (self.track_update is None or (up.ts, rank, up.track) > self.track_update):
            self.track, self.track_update = up.track, (up.ts, rank, up.track)


class TicketsPart:
    def __init__(self) -> None:
        self.tickets: dict[str, Ticket] = {}
        self.retired = dict.fromkeys(TICKET_STATUSES, 0)
        self.first_ts: float | None = None
        # Bumped by every change below; the figures of the last scopes are kept by it (a
        # panel takes them many times a second, a ticket changes now and then).
        self.version = 0
        self._kept: dict[tuple, tuple[int, dict]] = {}
        # (retire order, id) of every ticket as it was when pushed: the next to retire is
        # the first whose entry still matches its ticket (older entries are skipped).
        self._order: list[tuple[tuple[bool, float], str]] = []

    def apply(self, up: TicketUpdate) -> None:
        """Take an update: the ticket's status, track and session follow the latest."""
        self.version += 1
        if self.first_ts is None or up.ts < self.first_ts:
            self.first_ts = up.ts
        ticket = self.tickets.get(up.ticket_id)
        if ticket is None:
            if len(self.tickets) >= MAX_TICKETS:
                self.retire()
            self.tickets[up.ticket_id] = Ticket(
                up.status,
                up.ts,
                up.track,
                up.ts,
                up.reason,
                (up.ts, STATUS_RANK[up.status], up.track) if up.track else None,
                up.session,
                up.ts,
            )
            self._push(up.ticket_id)
            return
        ticket.apply(up)
        self._push(up.ticket_id)

    @staticmethod
    def _retire_order(ticket: Ticket) -> tuple[bool, float]:
        return (ticket.status != "completed", ticket.ts)

    def _push(self, tid: str) -> None:
        heapq.heappush(self._order, (self._retire_order(self.tickets[tid]), tid))
        if len(self._order) > 4 * len(self.tickets) + 64:
            self._order = [(self._retire_order(t), i) for i, t in self.tickets.items()]
            heapq.heapify(self._order)

    def merge(self, other: TicketsPart, take: bool = False) -> None:
        """Add another part's tickets (read apart): each keeps its latest update. With
        ``take`` (a part handed over, used no more) its new tickets are moved, not copied."""
        self.version += 1
        if other.first_ts is not None and (self.first_ts is None or other.first_ts < self.first_ts):
            self.first_ts = other.first_ts
        for tid, theirs in other.tickets.items():
            mine = self.tickets.get(tid)
            if mine is None:
                if len(self.tickets) >= MAX_TICKETS:
                    self.retire()
                self.tickets[tid] = theirs if take else Ticket(*(getattr(theirs, f) for f in Ticket.__slots__))
                self._push(tid)
                continue
            # the other's latest status is an update like any: the later (then higher) wins
            mine.apply(TicketUpdate(theirs.ts, tid, theirs.status, None, theirs.reason, None))
            self._push(tid)
            mine.first_ts = min(mine.first_ts, theirs.first_ts)
            if theirs.track_update is not None and (
                mine.track_update is None or theirs.track_update > mine.track_update
            ):
                mine.track, mine.track_update = theirs.track, theirs.track_update
            if theirs.session is not None and (
                mine.session is None or (theirs.session_ts, theirs.session) > (mine.session_ts, mine.session)
            ):
                mine.session, mine.session_ts = theirs.session, theirs.session_ts
        for status, n in other.retired.items():
            self.retired[status] += n

    def retire(self) -> None:
        """The longest-finished ticket leaves the table but still counts (the first of
        the retire order: finished before unfinished, then oldest update, then id)."""
        self.version += 1
        order = self._order
        while order:
            key, tid = heapq.heappop(order)
            ticket = self.tickets.get(tid)
            if ticket is not None and self._retire_order(ticket) == key:
                del self.tickets[tid]
                self.retired[ticket.status] += 1
                return

    def fold(self, names: set[str], into: str) -> None:
        self.version += 1
        for ticket in self.tickets.values():
            if ticket.session in names:
                ticket.session = into

    def completed_by_session(self) -> dict[str | None, int]:
        kept = self._kept.get(("completed",))
        if kept is not None and kept[0] == self.version:
            return kept[1]
        completed: dict[str | None, int] = {}
        for ticket in self.tickets.values():
            if ticket.status == "completed":
                completed[ticket.session] = completed.get(ticket.session, 0) + 1
        self._kept[("completed",)] = (self.version, completed)
        return completed

    def figures(self, scope: Resolved, live: set[str]) -> dict:
        """Ticket counts of ``scope``. Unfinished tickets of a session not ``live`` (the one
        being worked, and any a log says is still open) count as ``left_open``, not as
        in progress. Kept until a ticket changes (a copy is returned: callers own it)."""
        key = (scope, frozenset(live))
        kept = self._kept.get(key)
        if kept is None or kept[0] != self.version:
            if len(self._kept) > 16:
                self._kept.clear()
            kept = self._kept[key] = (self.version, self._figures(scope, live))
        fig = kept[1]
        return {**fig, "by_status": dict(fig["by_status"]), "blocked": list(fig["blocked"])}

    def _figures(self, scope: Resolved, live: set[str]) -> dict:
        whole = scope.sessions is None
        by_status = dict(self.retired) if whole else dict.fromkeys(TICKET_STATUSES, 0)
        by_status["left_open"] = 0
        blocked, tracks = [], {}
        last_done = first = None
        for tid, t in self.tickets.items():
            if not whole and not scope.holds_record(t.session):
                continue
            status = t.status
            if status in UNFINISHED and t.session is not None and t.session not in live:
                status = "left_open"
            by_status[status] += 1
            first = t.first_ts if first is None else min(first, t.first_ts)
            if status == "blocked":
                blocked.append({"id": tid, "reason": t.reason, "since_ts": t.ts})
            if status == "completed" and (last_done is None or t.ts > last_done):
                last_done = t.ts
            if t.track:
                row = tracks.get(t.track)
                if row is None:
                    row = tracks[t.track] = dict.fromkeys((*TICKET_STATUSES, "left_open"), 0)
                row[status] += 1
        total = sum(by_status.values())
        start = self.first_ts if whole else first
        return {
            "total": total,
            "by_status": by_status,
            "progress_pct": 100.0 * by_status["completed"] / total if total else None,
            "blocked": sorted(blocked, key=lambda b: b["id"]),
            "tracks": dict(sorted(tracks.items())),
            "_span_s": last_done - start if last_done is not None and start is not None else None,
        }

    # --- state.toml -------------------------------------------------------------

    def encode(self) -> dict:
        return {
            "tickets": [
                {
                    "id": tid,
                    "status": t.status,
                    "ts": t.ts,
                    "track": t.track or "",
                    "first_ts": t.first_ts,
                    "reason": t.reason or "",
                    "session": t.session or "",
                    **({"session_ts": t.session_ts} if t.session is not None and t.session_ts != t.first_ts else {}),
                    **({"track_ts": t.track_update[0], "track_rank": t.track_update[1]} if t.track_update else {}),
                }
                for tid, t in self.tickets.items()
            ],
            "tickets_retired": dict(self.retired),
        }

    def decode(self, data: dict, first_ts: float | None) -> None:
        self.version += 1
        self.first_ts = first_ts
        for i, t in enumerate(decode.rows(data, "tickets")):
            where = f"tickets[{i}]"
            status = decode.status(t.get("status"), f"{where}.status")
            track = decode.text(t.get("track", ""), f"{where}.track", True)
            track_update = None
            if track and "track_ts" in t:
                track_update = (
                    decode.moment(t["track_ts"], f"{where}.track_ts"),
                    decode.whole(t.get("track_rank"), f"{where}.track_rank", 0, len(TICKET_STATUSES) - 1),
                    track,
                )
            self.tickets[decode.text(t.get("id"), f"{where}.id")] = Ticket(
                status,
                decode.moment(t.get("ts"), f"{where}.ts"),
                track,
                decode.moment(t.get("first_ts"), f"{where}.first_ts"),
                decode.text(t.get("reason", ""), f"{where}.reason", True),
                track_update,
                decode.text(t.get("session", ""), f"{where}.session", True),
            )
            ticket = self.tickets[decode.text(t.get("id"), f"{where}.id")]
            ticket.session_ts = decode.moment(t.get("session_ts", ticket.first_ts), f"{where}.session_ts")
            self._push(decode.text(t.get("id"), f"{where}.id"))
        for status, n in decode.table(data.get("tickets_retired", {}), "tickets_retired").items():
            self.retired[decode.status(status, "tickets_retired")] = decode.whole(n, f"tickets_retired.{status}")
