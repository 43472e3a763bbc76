"""TokenHistory: the inbox producers push to, and the parts it feeds.

Producers (hooks, sources, any thread) only validate and queue (``inbox.py``);
``drain()`` applies what is queued to four parts, each owning its state and its
state.toml encoding: usage counters (the hot path), sessions, tickets and tools.
``snapshot(now_ts, scope)`` is the pure ``snapshot.snapshot`` of those parts. Every
aggregate is a sum, a min or a max, or a keep-the-latest by (time, rank), so the result
is the same for any order of the same records, and a request seen twice under one
``request_key`` counts once, at its largest copy; a key that starts with
``REWRITE_MARK`` names a record a log rewrites in place, where the latest copy wins.
Memory stays bounded: sessions, detail, tickets and tools are capped (the oldest fold
into one row), the timelines coarsen, the burn windows prune.

Nothing here imports dearpygui.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import sqlite3
import time
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .. import decode, metrics
from .. import scope as scopes
from .. import state as state_file
from ..events import Rating, SessionMark, TicketUpdate, ToolCall, UsageEvent, check_cost_usd
from ..pricing import PriceBook
from ..saved_reads import SavedReads, key_digest
from ..scope import Resolved, Scope
from ..store import history_path_for
from . import codec
from .counters import TOOL_PROMPT
from .inbox import Inbox
from .sessions import EARLIER_SESSIONS, MAX_SESSIONS, SessionRow, SessionsPart
from .snapshot import Parts, session_rows, snapshot
from .tickets import TicketsPart
from .tools import ToolsPart
from .usage import QUARTER_S, UsagePart, active_seconds, session_name

MAX_DEDUP_KEYS = 200_000
SAVED_DEDUP_KEYS = 256  # copies kept in full in state.toml; older keys are in saved_reads
REWRITE_MARK = "~"  # request_key prefix: the latest copy replaces the earlier ones
MAX_BAD_LINE_FILES = 100
MAX_BAD_REASONS = 40
MAX_NOTICES = 50
_ = TOOL_PROMPT


def _path_digest(path: str) -> str:
    return hashlib.blake2b(path.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


def _count_capped(counts: dict[str, int], key: str, n: int, cap: int, overflow_key: str) -> None:
    """Add ``n`` to ``counts[key]``; past ``cap`` keys, new ones count under ``overflow_key``."""
    if key not in counts and len(counts) >= cap:
        key = overflow_key
    counts[key] = counts.get(key, 0) + n


def supersedes(new: UsageEvent, old: UsageEvent) -> bool:
    """Whether a later copy of a request replaces the one kept: for a rewritten record
    (key marked ``REWRITE_MARK``) any different copy does; otherwise a larger one."""
    if new == old:
        return False
    return new.request_key[0] == REWRITE_MARK or copy_rank(new) > copy_rank(old)


def copy_rank(ev: UsageEvent) -> tuple:
    """Order of copies of one request: the largest token total wins, ties broken by the
    other fields so the winner does not depend on arrival order."""
    return (
        ev.total_tokens,
        ev.output,
        ev.input,
        ev.cache_read,
        ev.cache_write_5m,
        ev.cache_write_1h,
        ev.reasoning,
        ev.tool_prompt,
        ev.ts,
        ev.model,
        ev.reported_cost_usd or 0.0,
        ev.tools or (),
        # last, the labels: equal copies in two sessions (a resumed session copies earlier
        # messages) go to the same one whatever the order they are read in
        ev.session or "",
        ev.tier or "",
        ev.provider or "",
    )


class TokenHistory(Inbox):
    """Everything known about the session(s) being watched, fed from any thread.

    ``TokenHistory()`` lives in memory; ``TokenHistory(state_path=p)`` loads ``p`` if it
    exists (a corrupt file is moved aside, see ``notices``) and ``save()`` writes it.
    """

    def __init__(
        self,
        state_path: str | Path | None = None,
        *,
        budget_usd: float | None = None,
        window_s: int = metrics.DEFAULT_WINDOW_S,
        price_overrides: Mapping[str, Mapping[str, float]] | None = None,
        read_only: bool = False,
    ):
        self.state_path = Path(state_path) if state_path is not None else None
        Inbox.__init__(self)
        self.prices = PriceBook(price_overrides)
        self._reset()
        self.window_s = window_s
        self._budget_usd = self._check_budget(budget_usd)
        self.notices: list[str] = []
        self.ui: dict[str, Any] = {}  # panel preferences (open headers, scale), kept by the UI
        self.source_labels: set[str] = set()
        self.rate_limits: dict[str, dict] = {}  # by source label: the provider's latest usage limits
        self._saved_offsets: dict[str, dict] = {}  # read positions of earlier runs, by path digest
        self._reads: SavedReads | None = None  # the keys and positions earlier saves wrote
        self._state_id = secrets.token_hex(8)  # names this state's saves in what they read
        self._positions_written: dict[str, str] = {}  # path digest -> the position row last written
        self._not_ours = False
        self._in_use = False  # another process writes this state: never saved from here
        self._saved_copies = SAVED_DEDUP_KEYS  # fewer when the state would outgrow its budget
        self._saved_details = codec.SAVED_DETAILS  # sessions whose timelines the state keeps
        self._saved_quarter_hours = codec.SAVED_QUARTER_HOURS  # of quarter-hour usage the state keeps
        self._lock_fd: int | None = None
        if self.state_path is not None:
            read_only = self._take_lock() if not read_only else True
            self._restore(read_only, keep_budget=budget_usd is not None, keep_overrides=price_overrides is not None)
        if read_only and not self._in_use:
            self.state_path = None  # never written

    def _take_lock(self) -> bool:
        """Hold the state's write lock; whether this history must stay read-only because
        another process writes the state."""
        try:
            self._lock_fd = state_file.lock_for_writing(self.state_path)
        except OSError:
            self._lock_fd = -1  # no lock file can be made there: the save reports that folder
        if self._lock_fd is not None:
            return False
        self.notice(
            f"{self.state_path} is being written by another session-insights: this one "
            "shows its figures and what it reads but does not save them"
        )
        self._in_use = True
        return True

    def _restore(self, read_only: bool, *, keep_budget: bool, keep_overrides: bool) -> None:
        """Load state_path (a corrupt one is moved aside, see ``notices``) and what its
        saves read."""
        loaded = state_file.load(self.state_path, move_corrupt=not read_only)
        if loaded.notice:
            self.notice(loaded.notice)
        generation = 0  # of what the saved state read (keys, positions): none for a clean start
        # A file that is there but could not be read (permissions, a folder) was not
        # moved aside: it is the user's, and a save must never replace it.
        self._not_ours = loaded.data is None and os.path.lexists(self.state_path)
        if loaded.data is not None:
            try:
                codec.load_state(self, loaded.data, keep_budget=keep_budget, keep_overrides=keep_overrides)
                generation = decode.whole(loaded.data.get("reads_generation", 0), "reads_generation")
                if generation:
                    self._state_id = decode.text(loaded.data.get("reads_id"), "reads_id")
            # decode's checks raise ValueError; the rest is a last guard
            except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError, RecursionError) as exc:
                self._start_clean(f"has an unexpected shape ({exc})", read_only)
        self._open_reads(generation, read_only)

    def _start_clean(self, why: str, read_only: bool, *, keep_file: bool = False) -> None:
        """Forget what a state file said (its figures cannot be trusted) and say so; a
        writer moves the file aside, so nothing of it is lost, or with ``keep_file``
        leaves it where it is and never saves over it."""
        self._reset()
        self.offsets, self.ui, self._saved_offsets = {}, {}, {}
        self._seen.clear()
        self._state_id = secrets.token_hex(8)
        if keep_file and not read_only:
            self._not_ours = True
            self.notice(
                f"{self.state_path} was not used: {why}; this run counts from the logs alone and does not save over it"
            )
        elif read_only:
            self.notice(f"{self.state_path} {why}; it was left as it is and not used")
        else:
            self.notice(state_file.move_aside(self.state_path, why).notice)

    def _open_reads(self, generation: int, read_only: bool) -> None:
        """The keys and positions the saves up to ``generation`` wrote, beside the state in
        the durable history. Without them the state's figures cannot be told from what a
        restart reads again: then it starts clean."""
        path = history_path_for(self.state_path)
        reads = SavedReads(path, generation, self._state_id, read_only=read_only)
        if reads.moved_aside:
            self.notice(reads.moved_aside)
        if reads.unavailable and generation:
            # Cannot be read now (locked, a device gone): the state is kept for a later run.
            self._start_clean(reads.problem, read_only, keep_file=True)
            reads.generation, reads.state_id = 0, self._state_id
            self._reads = reads
            return
        if reads.unavailable:
            self.notice(reads.problem)
        positions = reads.positions()
        try:
            saved = {digest: decode.position(row, f"{path.name}: {digest}") for digest, row in positions.items()}
        except ValueError:
            saved = None
        if saved is None or not reads.knows_generation():
            self._start_clean(
                f"counted requests whose read positions and keys {path.name} does not hold "
                "(it was removed, replaced or damaged, or the state was copied from elsewhere)",
                read_only,
            )
            reads.close()
            # A writer's open deletes the rows of any save: none is this state's.
            reads = SavedReads(path, 0, self._state_id, read_only=read_only)
        else:
            self._saved_offsets.update(saved)
            self._positions_written = positions
        self._reads = reads

    def _reset(self) -> None:
        self.sessions = SessionsPart()
        self.usage = UsagePart(self.prices, self.sessions.rows, self._session_row_for)
        self._add_usage = self.usage.add  # what the drain calls for each request: no hop between
        self.tickets = TicketsPart()
        self.tools = ToolsPart()
        self._seen: OrderedDict[str, UsageEvent] = OrderedDict()
        self._latest_other_ts: float | None = None  # latest tool call, ticket update or rating
        self.bad_lines: dict[str, int] = {}
        self.bad_reasons: dict[str, int] = {}  # why lines were skipped: reason -> lines
        self.version = 0  # bumped whenever an aggregate changes

    def note_bad_line(self, file: str, count: int = 1, reason: str | None = None) -> None:
        """Count a source line that could not be read (shown in the panel and report),
        and why, if known: a short phrase naming a field, never a value from the line."""
        with self._lock:
            _count_capped(self.bad_lines, file, count, MAX_BAD_LINE_FILES, "(other files)")
            _count_capped(self.bad_reasons, reason or "unreadable", count, MAX_BAD_REASONS, "(other reasons)")
            self.version += 1

    def notice(self, text: str) -> None:
        """Tell the user something went wrong without stopping (panel notices, report)."""
        with self._lock:
            if text not in self.notices:
                self.notices.append(text)
                del self.notices[:-MAX_NOTICES]
                self.version += 1

    def findings(self) -> dict:
        """What this history collected but has not applied: queued records, bad lines, read
        positions, notices, rate limits. Plain data, so a source read in another process
        can hand it back (see ``absorb``)."""
        with self._lock:
            read = [
                r
                for i, (_, records, _) in enumerate(self._reads_inbox)
                for r in (records[self._read_cursor :] if i == 0 else records)
            ]
            offsets = {**self.offsets, **{file: position for file, _, position in self._reads_inbox}}
            return {
                "records": [*self._usage_inbox, *self._other_inbox, *read],
                "bad_lines": dict(self.bad_lines),
                "bad_reasons": dict(self.bad_reasons),
                "offsets": offsets,
                "notices": list(self.notices),
                "rate_limits": dict(self.rate_limits),
            }

    def absorb(self, findings: dict) -> int:
        """Queue another history's ``findings()`` here; returns the records queued."""
        for record in findings["records"]:
            self.add(record)
        with self._lock:
            for file, count in findings["bad_lines"].items():
                _count_capped(self.bad_lines, file, count, MAX_BAD_LINE_FILES, "(other files)")
            for reason, count in findings["bad_reasons"].items():
                _count_capped(self.bad_reasons, reason, count, MAX_BAD_REASONS, "(other reasons)")
        for text in findings["notices"]:
            self.notice(text)
        with self._lock:
            self.offsets.update(findings["offsets"])
            self.rate_limits.update(findings["rate_limits"])
            self.version += 1
        return len(findings["records"])

    def set_rate_limits(self, source: str, limits: dict) -> None:
        """Keep a source's latest rate-limit reading: ``{ts, <window>: {used_pct,
        window_minutes, resets_at}}`` (Codex logs them; shown, never summed)."""
        with self._lock:
            self.rate_limits[source] = limits
            self.version += 1

    def set_offset(self, key: str, position: dict) -> None:
        """Remember a source's read position (saved with the state; a restart resumes)."""
        with self._lock:
            self.offsets[key] = position

    def offset_for(self, key: str) -> dict | None:
        """A source file's read position: this run's, or the one saved in state.toml."""
        with self._lock:
            return (
                self._queued_positions.get(key) or self.offsets.get(key) or self._saved_offsets.get(_path_digest(key))
            )

    def knows(self, request_key: str) -> bool:
        """Whether a copy of this request is counted and still remembered, so a later copy
        replaces it (rather than counting as a request of its own)."""
        with self._lock:
            return request_key in self._seen

    def _apply_keyed_usage(self, ev: UsageEvent) -> None:
        key = ev.request_key
        seen = self._seen
        old = seen.get(key)
        if old is not None:
            if not supersedes(ev, old):
                return
            self._add_usage(old, -1)
            seen[key] = ev
            seen.move_to_end(key)
        else:
            keys = self._reads
            if keys is not None:
                digest = key_digest(key)
                if keys.counted(digest):
                    return  # counted before a restart
                keys.add(digest)
            seen[key] = ev
            if len(seen) > MAX_DEDUP_KEYS:
                seen.popitem(last=False)
        self._add_usage(ev, 1)

    def _session_row_for(self, name: str) -> SessionRow:
        """The row of session ``name``, created on first use: a full table folds its
        least recently active sessions first (an eighth at a time: folding walks the
        de-duplication keys, so it is done rarely)."""
        row = self.sessions.rows.get(name)
        if row is None:
            if self.sessions.full:
                self._fold_sessions(max(len(self.sessions.rows) - MAX_SESSIONS + 1, MAX_SESSIONS // 8))
            row = self.sessions.row(name)
        return row

    def _fold_sessions(self, n: int) -> None:
        """Merge the ``n`` least recently active sessions into one row, totals intact."""
        folded = set(self.sessions.least_recent(n))
        if not folded:
            return
        for name in folded:  # a folded session keeps its active time in the merged row
            detail = self.usage.details.get(name)
            row = self.sessions.rows[name]
            if detail is not None:
                row.active_s = active_seconds(detail.timeline)
        self.sessions.fold(folded)
        self.usage.fold_sessions(folded, EARLIER_SESSIONS)
        self.tools.fold(folded, EARLIER_SESSIONS)
        self.tickets.fold(folded, EARLIER_SESSIONS)
        # Copies remembered for de-duplication now live in the folded row: a larger copy
        # must be subtracted from there, even if its session comes back later.
        for key, ev in self._seen.items():
            if session_name(ev.session) in folded:
                self._seen[key] = ev._replace(session=EARLIER_SESSIONS)

    def _apply_other(self, record: ToolCall | TicketUpdate | Rating | SessionMark) -> None:
        if self._latest_other_ts is None or record.ts > self._latest_other_ts:
            self._latest_other_ts = record.ts
        kind = type(record)
        if kind is TicketUpdate:
            self.tickets.apply(record)
            if record.session is not None:
                self._session_row_for(record.session).stretch(record.ts)
            return
        self.usage.forget_contexts()  # a new row may fold others that cached look-ups point at
        if kind is ToolCall:
            self.tools.apply(record)
            if record.session is not None:
                row = self._session_row_for(record.session)
                row.stretch(record.ts)
                row.tool_calls += 1
                row.tool_failures += not record.ok
        elif kind is SessionMark:
            self.sessions.apply_mark(record, self._session_row_for(record.session))
        else:
            row = self._session_row_for(session_name(record.session))
            row.stretch(record.ts)
            row.rating_milli += round(record.score * 1000)
            row.ratings += 1

    def reset_aggregates(self) -> None:
        """Forget every figure (and read position) but keep budget, prices and UI prefs."""
        with self._lock:
            self.clear_inbox()
            self._reset()
            if self._reads is not None:
                self._reads.forget()
            self._positions_written = {}
            self.offsets.clear()
            self._saved_offsets.clear()
            self.source_labels.clear()
            self.rate_limits.clear()

    # --- settings ---------------------------------------------------------------

    @staticmethod
    def _check_budget(value: object) -> float | None:
        return check_cost_usd("budget_usd", value)

    @property
    def budget_usd(self) -> float | None:
        return self._budget_usd

    @budget_usd.setter
    def budget_usd(self, value: float | None) -> None:
        self._budget_usd = self._check_budget(value)
        self.version += 1

    def merge(self, other: TokenHistory) -> None:
        """Add what ``other`` counted (records read apart, e.g. in a worker process) into
        this history, part by part. The two must have read different records: a request
        both counted is counted twice (de-duplication is each history's own)."""
        with self._lock, other._lock:
            self.sessions.merge(other.sessions)
            self.usage.merge(other.usage)
            self.tickets.merge(other.tickets)
            self.tools.merge(other.tools)
            theirs = other._latest_other_ts
            if theirs is not None and (self._latest_other_ts is None or theirs > self._latest_other_ts):
                self._latest_other_ts = theirs
            self.version += 1

    # --- readers ----------------------------------------------------------------

    def parts(self) -> Parts:
        """The parts a snapshot is built from (read them under the lock)."""
        return Parts(
            self.usage,
            self.sessions,
            self.tickets,
            self.tools,
            budget_usd=self._budget_usd,
            window_s=self.window_s,
            extras={
                "schema": state_file.SCHEMA,
                "sources": sorted(self.source_labels),
                "rate_limits": dict(sorted(self.rate_limits.items())),
                "errors": {
                    "bad_lines": sum(self.bad_lines.values()),
                    "files": dict(sorted(self.bad_lines.items())),
                    "reasons": dict(sorted(self.bad_reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
                },
                "notices": list(self.notices),
            },
        )

    def resolve(self, scope: Scope | None, now_ts: float | None = None) -> Resolved:
        """``scope`` (default: all) at ``now_ts`` (default: the latest record).
        scope.UnknownSession for a session id that names no session here."""
        scope = scope or Scope()
        with self._lock:
            now = now_ts if now_ts is not None else self._latest_ts()
            return scopes.resolve(
                scope,
                now,
                latest_session=self.sessions.latest(),
                sessions=[s for s in self.sessions.rows if s != EARLIER_SESSIONS],
                active_quarters=self.usage.active_quarters() if scope.kind == "block" else (),
                quarter_s=QUARTER_S,
                server_resets=scopes.server_block_resets(self.rate_limits),
            )

    def _latest_ts(self) -> float:
        last = self.usage.last_ts
        return last if last is not None else (self._latest_other_ts or 0.0)

    def snapshot(self, now_ts: float | None = None, scope: Scope | Resolved | None = None) -> dict:
        """Every figure of ``scope`` (default: all), in the shape of ``report --format json``.

        ``now_ts`` is the time rates and projections are taken at; by default the
        latest record, which suits a finished log. The live panel passes the clock.
        """
        with self._lock:
            resolved = scope if isinstance(scope, Resolved) else self.resolve(scope, now_ts)
            if resolved.kind == "all" and now_ts is None:
                now_ts = self._latest_ts()
            snap = snapshot(self.parts(), resolved, now_ts)
            if resolved.kind == "all":  # the requests' own span, as a finished log's report gives it
                snap["session"] = {"first_ts": self.usage.first_ts, "last_ts": self.usage.last_ts}
            return snap

    def scope_choices(self, limit: int = 20) -> list[dict]:
        """The sessions the panel's top bar offers, latest first: ``{scope, session,
        project, source, first_ts, last_ts}``."""
        with self._lock:
            ranked = sorted(
                ((row.last_ts, name, row) for name, row in self.sessions.rows.items() if name != EARLIER_SESSIONS),
                key=lambda t: (t[0], t[1]),
                reverse=True,
            )[:limit]
            return [
                {
                    "scope": Scope.of_session(name),
                    "session": name,
                    "project": row.project,
                    "source": row.source,
                    "first_ts": row.first_ts,
                    "last_ts": row.last_ts,
                }
                for _, name, row in ranked
            ]

    def session_rows(self) -> list[dict]:
        """Every session's figures with exact integer costs (``cost_pusd``): what the
        durable history stores (``store.SESSION_FIELDS`` and ``models`` / ``days``). The
        row of folded sessions is left out: it is no session of its own."""
        with self._lock:  # only the sums are taken under the lock: the saver must not stall a drain
            counters, models, days = codec.session_parts(self.usage)
            rows = session_rows(self.parts(), counters, models=models, days=days)
        for row in rows:
            del row["counters"]
        return [row for row in rows if row["session"] != EARLIER_SESSIONS]

    def timeline(self, scope: Scope | Resolved | None = None) -> tuple[float, list[tuple[float, list[int]]]]:
        """(bucket width in seconds, [(bucket start ts, [input, output, cache_read,
        cache_write, cost_pusd, requests])]) of ``scope`` (default: all) in time order;
        per-bucket sums. A session whose detail was let go has none: (0.0, [])."""
        with self._lock:
            resolved = scope if isinstance(scope, Resolved) else self.resolve(scope)
            if resolved.kind == "all":
                return self.usage.timeline.width_s, [(ts, list(v)) for ts, v in self.usage.timeline.items()]
            return codec.merged_timeline(self.usage, resolved)

    # --- persistence ------------------------------------------------------------

    def save(self) -> int:
        """Write state_path now (atomically); returns the file's size in bytes."""
        if self.state_path is None:
            raise ValueError("this TokenHistory has no state_path to save to")
        if self._not_ours and os.path.lexists(self.state_path):
            raise OSError(f"{self.state_path} could not be read at start, so it is not overwritten")
        if self._in_use:
            raise OSError(f"{self.state_path} is being written by another session-insights; not saved from here")
        if self._reads is None:  # a state_path set after construction: nothing was read with it
            self._open_reads(0, read_only=False)
        self._reads.state_id = self._state_id
        reads = self._reads
        generation = reads.generation + 1
        with self._lock:
            extra = {"reads_generation": generation, "reads_id": self._state_id}
            payload = state_file.encode({**codec.encode_state(self), **extra})
            while len(payload) > state_file.MAX_STATE_BYTES and self._shrink_for_state():
                payload = state_file.encode({**codec.encode_state(self), **extra})
            pending = reads.take_pending()
            positions = self._changed_positions()
        # Keys and positions first: a state must never count what a restart cannot tell apart.
        try:
            reads.write(pending, positions, generation, time.time())
        except (sqlite3.Error, OSError) as exc:
            reads.give_back(pending)
            raise OSError(f"what was read could not be kept in {reads.path} ({exc})") from exc
        self._positions_written.update(positions)
        state_file.write_atomic(self.state_path, payload)
        reads.generation = generation
        return len(payload)

    def _changed_positions(self) -> dict[str, str]:
        """The read positions (rows, by path digest) not written as they are now."""
        rows = {d: decode.position_row(v) for d, v in self._saved_offsets.items()}
        rows.update((_path_digest(k), decode.position_row(v)) for k, v in self.offsets.items())
        written = self._positions_written
        return {d: row for d, row in rows.items() if written.get(d) != row}

    def close(self) -> None:
        """Let go of the file beside the state (what its saves read); call after the last
        save. Saving again opens it again."""
        if self._reads is not None:
            self._reads.close()
        if self._lock_fd is not None and self._lock_fd >= 0:
            os.close(self._lock_fd)  # another process may write the state from now on
            self._lock_fd = None

    def _shrink_for_state(self) -> bool:
        """Fold detail (oldest sessions, then tickets) until the state fits its budget."""
        if self._saved_details:
            self._saved_details //= 4  # 16, 4, 1, then none: a restart starts their timelines anew
            return True
        # Quarter hours of the time scopes: a day, then the block's five hours, then none
        # (the totals stay whole; today's and the week's figures then begin at the restart).
        for hours in (24, 6, 0):
            if self._saved_quarter_hours > hours:
                self._saved_quarter_hours = hours
                return True
        sessions = [s for s in self.sessions.rows if s != EARLIER_SESSIONS]
        if len(sessions) > 8:
            self._fold_sessions(len(sessions) // 2)
            return True
        if len(self.tickets.tickets) > 50:
            for _ in range(len(self.tickets.tickets) // 2):
                self.tickets.retire()
            return True
        if self._saved_copies > 16:
            self._saved_copies //= 2  # the keys of the others are kept in saved_reads
            return True
        models = {m for m, _, _ in self.usage.combos if m != "(other models)"}
        if len(models) > 16:
            self.usage.fold_models(len(models) // 2)
            return True
        return False

    def to_state(self) -> dict:
        """Aggregates as plain TOML-able data: no prompt or response text, ever."""
        return codec.encode_state(self)
