"""``audit:FILE`` — a token-usage audit log: running totals with session boundaries.

Entries ``{timestamp, project_id, session_id, total_input_tokens, total_output_tokens,
total_tokens, session_boundary: "start" | "end" | null, generation_id, done}``, with an
optional ``satisfaction`` (0 to 10) on the end entry. An entry is written at a session's
start and end and after each generation, carrying the tracker's totals at that moment
(``done`` is true on end entries: nothing more). A file holds them in one of two forms,
told apart by its first non-space byte:
- ``[``: one JSON array (indent=2), as the writer keeps ``token_usage_audit.json``: at
  every entry it loads the array, appends the entry and rewrites the whole file in place
  (stamping a generation id on its last entry is one more rewrite). It cannot be tailed
  by lines, so it is read whole whenever its identity, size or mtime changes, and only
  the entries after those already read count; an entry already read keeps the copy read
  (a generation id stamped on it later is not seen: its growth counts once either way).
  Its read position is the number of entries read: after a restart, the entries before
  it rebuild the open sessions and only those after it count. A file caught mid-rewrite
  does not parse: it is read again at the next poll, and is one bad line only once it
  has stayed unparsable and unchanged for two seconds. An array that got shorter (the
  writer starts a new one when it cannot load the old) or a replaced file is read again
  from its first entry, and an entry counted before (same project, session, time,
  boundary and totals, remembered for this run) then only rebuilds the open sessions,
  so nothing counts twice;
- anything else: one JSON object a line, tailed as it grows.

Quirks kept here (how a session's running totals become requests: audit_sessions.py):
- growth is tracked per (project_id, session_id), so projects may interleave;
- a session's first entry, when it is not a ``start`` (the file began mid-session),
  is taken as its start; a ``start`` for a session already open re-bases it (what
  grew since its previous entry is not counted) and closes nothing;
- ``total_tokens`` above input + output is not assigned to either; we do not invent a
  split;
- the project is the only grouping the log has, so it is the tier (spend per project)
  and the ticket's track; a session is a ticket ``<project>/<session>``: in progress from
  its start, completed at its end, where its satisfaction becomes a rating (on other
  entries it is ignored). An open session's tokens show live, but it is no completed
  ticket and has no rating;
- entries without a session_id are outside any session: skipped;
- a naive timestamp is local time (the writer uses ``datetime.now().isoformat()``);
  epoch seconds are accepted too;
- the open sessions are per-file context: after a restart they are rebuilt from the
  entries read before it, and a file read again from its start starts with none.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Iterable
from pathlib import Path

import orjson

from ..events import (
    Rating,
    SessionMark,
    TicketUpdate,
    check_label,
    check_score,
    check_ts,
    iso_ts,
)
from ..history import TokenHistory
from .audit_sessions import UNRECORDED_MODEL, OpenSession
from .base import BAD_LINE, LineSource, Memory, Record, bad_reason
from .tail import BOM, Position, open_regular

BOUNDARIES = (None, "start", "end")
# Bound on what is remembered per file, so a log that never closes its sessions
# cannot grow memory without end.
MAX_OPEN_SESSIONS = 10_000
# Entries counted from array-form files, remembered so a file read again from its first
# entry counts each once; beyond this the oldest are forgotten.
MAX_COUNTED_ENTRIES = 100_000
# What makes an entry itself: a generation id stamped on it later leaves it the same entry.
_IDENTITY = ("project_id", "session_id", "timestamp", "session_boundary", "total_input_tokens", "total_output_tokens")


class ArrayLog:
    """How far an array-form file was read."""

    __slots__ = ("bad", "device", "done", "inode", "noted")

    def __init__(self) -> None:
        self.done = 0  # entries read, from the first
        self.bad = 0  # of those, entries that could not be read
        self.noted = 0  # bad entries counted as bad lines for this file (the most it held)
        self.inode = self.device = 0


def _array(data: bytes) -> list:
    entries = orjson.loads(data)
    if not isinstance(entries, list):
        raise TypeError("an audit log starting with [ must be one JSON array")
    return entries


def _first_byte(path: Path) -> bytes:
    """The file's first non-space byte after any byte-order mark (empty if it has none or
    cannot be read: a FIFO or a device is never opened for it)."""
    try:
        with open(open_regular(path), "rb") as f:
            head = f.read(4096)
            chunk = head.removeprefix(BOM)
            while chunk is not None:
                chunk = chunk.lstrip()
                if chunk:
                    return chunk[:1]
                chunk = f.read(4096) or None
    except OSError:
        pass  # the reader that opens it next reports why
    return b""


def _timestamp(value: object) -> float:
    """Epoch seconds from an ISO 8601 string (naive: local time) or a number."""
    if value is None:
        raise ValueError("timestamp is missing")
    if isinstance(value, str):
        return iso_ts(value, "timestamp")
    return check_ts(value, "timestamp")


def _total(entry: dict, field: str, required: bool = True) -> int | None:
    """A running counter: a whole number >= 0."""
    value = entry.get(field)
    if value is None:
        if required:
            raise ValueError(f"{field} is missing")
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{field} must be a whole number of tokens, got {value!r}")
    if value < 0:
        raise ValueError(f"{field} must not be negative, got {value!r}")
    return value


def _name(entry: dict, field: str) -> str | None:
    value = entry.get(field)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    return check_label(field, value)


def _checked(entry: object) -> tuple:
    """(ts, session, project, total_in, total_out, boundary, generation, score) of an
    entry, all checked before any session is touched, so a bad line changes nothing."""
    if not isinstance(entry, dict):
        raise TypeError("an audit entry must be a JSON object")
    ts = _timestamp(entry.get("timestamp"))
    session = _name(entry, "session_id")
    project = _name(entry, "project_id")
    total_in = _total(entry, "total_input_tokens")
    total_out = _total(entry, "total_output_tokens")
    _total(entry, "total_tokens", required=False)
    boundary = entry.get("session_boundary")
    if boundary not in BOUNDARIES:
        raise ValueError(f"session_boundary must be start or end or null, got {boundary!r}")
    generation = _name(entry, "generation_id")
    satisfaction = entry.get("satisfaction")
    score = check_score(satisfaction) if boundary == "end" and satisfaction is not None else None
    return ts, session, project, total_in, total_out, boundary, generation, score


class AuditSource(LineSource):
    kind = "audit"

    def __init__(self, path: str | os.PathLike | list[Path], history: TokenHistory):
        super().__init__(path, history)
        # file -> (project, session) -> its open session
        self._open: dict[str, OrderedDict[tuple[str | None, str], OpenSession]] = {}
        self._restarts: dict[str, int] = {}  # file -> times its tail found it truncated or replaced
        self._arrays: dict[str, ArrayLog] = {}  # array-form file -> how far it was read
        self._counted = Memory(MAX_COUNTED_ENTRIES)  # identities of entries counted from arrays

    def poll(self, max_bytes_per_file: int | None = None) -> int:
        """Read the array-form files that changed, then what was appended to the others."""
        found = self.list_files()
        if found is None:
            return 0
        queued = 0
        tailed: list[Path] = []
        for path in found:
            if self._is_array(path):
                queued += self._poll_array(path)
            else:
                tailed.append(path)
        return queued + self.tail_files(tailed, max_bytes_per_file)

    # --- array form ------------------------------------------------------------------

    def _is_array(self, path: Path) -> bool:
        key = str(path)
        first = _first_byte(path)
        if first == b"[":
            return True
        if not first:  # empty: an array being rewritten, or a log with nothing yet
            return key in self._arrays
        if key in self._arrays:
            # Now JSON lines: read from its start as such (its position counted entries, not bytes).
            del self._arrays[key]
            self._whole_seen.pop(key, None)
            self._open.pop(key, None)
            self.history.add_read(key, [], Position().as_dict())
        return False

    def _poll_array(self, path: Path) -> int:
        key = str(path)
        read = self.read_whole(path, _array)
        if read is None:  # unchanged, unreadable, or caught mid-rewrite
            return 0
        entries, st = read.content, read.stat
        log = self._arrays.get(key)
        if log is None:
            log = self._arrays[key] = ArrayLog()
            if key in self.tails:
                # Read as JSON lines until now: its position counted bytes. Read it from its start.
                del self.tails[key]
                self._restarts.pop(key, None)
                self._to_resume.discard(key)
                self._open.pop(key, None)
            else:
                saved = Position.from_dict(self.history.offset_for(key))
                if (saved.inode, saved.device) == (st.st_ino, st.st_dev) and saved.offset <= len(entries):
                    # After a restart: the entries read before it rebuild the open sessions only.
                    self._read_entries(entries[: saved.offset], key, log, count=False)
                    self._counted_before_restart(key)
        elif (log.inode, log.device) != (st.st_ino, st.st_dev) or len(entries) < log.done:
            # Replaced, or begun again by its writer: read again from its first entry.
            self._open.pop(key, None)
            log.done = log.bad = 0
        log.inode, log.device = st.st_ino, st.st_dev
        records = self._read_entries(entries[log.done :], key, log, count=True)
        self.history.add_read(key, records, {"offset": log.done, "inode": st.st_ino, "device": st.st_dev})
        return len(records)

    def _read_entries(self, entries: list, file: str, log: ArrayLog, count: bool) -> list[Record]:
        """Read ``entries``, the next ones of ``file``, into its open sessions; if ``count``,
        return the records of those not counted before."""
        found: list[Record] = []
        reasons: list[str] = []  # of the entries found bad now
        for entry in entries:
            try:
                records = self._entry(entry, file)
            except BAD_LINE as exc:
                log.bad += 1
                reasons.append(bad_reason(exc))
                continue
            if records and self._first_count(entry) and count:
                found.extend(records)
        log.done += len(entries)
        if log.bad > log.noted:
            if count:  # entries read before a restart were counted bad then
                for reason in reasons[len(reasons) - (log.bad - log.noted) :]:
                    self.history.note_bad_line(file, 1, reason, source=self.kind)
            log.noted = log.bad
        return found

    def _first_count(self, entry: dict) -> bool:
        """Whether this entry is counted for the first time (and remember it)."""
        identity = hash(tuple(entry.get(field) for field in _IDENTITY))
        if identity in self._counted:
            return False
        self._counted.remember(identity)
        return True

    # --- JSON-lines form -------------------------------------------------------------

    def parse(self, line: bytes, file: str) -> Iterable[Record]:
        tail = self.tails.get(file)
        if tail is not None and tail.restarts != self._restarts.get(file, 0):
            # Read again from its start: what it held before no longer applies.
            self._restarts[file] = tail.restarts
            self._open.pop(file, None)
        return self._entry(orjson.loads(line), file)

    def resume(self, file: str, head: Iterable[bytes]) -> None:
        """Rebuild the open sessions and their totals from lines read before a restart."""
        for line in head:
            try:
                self._entry(orjson.loads(line), file)
            except BAD_LINE:
                continue  # counted as bad when first read
        self._counted_before_restart(file)

    def _counted_before_restart(self, file: str) -> None:
        """Requests counted before a restart can be taken back at their session's end only
        while the history still knows their keys: a smaller copy of one it has forgotten
        would count as a request of its own."""
        for state in self._open.get(file, {}).values():
            for key in [k for k in state.emitted if not self.history.knows(k)]:
                del state.emitted[key]

    def _entry(self, entry: object, file: str) -> list[Record]:
        """The records one entry of ``file`` makes, as it moves its session on."""
        ts, session, project, total_in, total_out, boundary, generation, score = _checked(entry)
        if session is None:
            return []
        sessions = self._open.setdefault(file, OrderedDict())
        key = (project, session)
        ticket = f"{project}/{session}" if project else session
        state = sessions.get(key)
        if state is None or boundary == "start":
            state = sessions[key] = OpenSession(total_in, total_out, generation)
            sessions.move_to_end(key)
            if len(sessions) > MAX_OPEN_SESSIONS:
                sessions.popitem(last=False)
            out: list[Record] = [
                SessionMark(ts, session, "start", project, "audit"),
                TicketUpdate(ts, ticket, "in_progress", project, None, session),
            ]
        else:
            sessions.move_to_end(key)
            if boundary is None and state.replayed(generation, total_in, total_out):
                return []  # a replayed copy of an earlier entry
            out = state.grow(ts, project, session, generation, total_in, total_out)
        if boundary == "end":
            del sessions[key]
            out.extend(state.settle(total_in, total_out))
            out.append(SessionMark(ts, session, "end", project, "audit"))
            out.append(TicketUpdate(ts, ticket, "completed", project, None, session))
            if score is not None:
                out.append(Rating(ts, score, session))
        return out


SOURCE = AuditSource
__all__ = ["SOURCE", "UNRECORDED_MODEL", "AuditSource", "OpenSession"]
