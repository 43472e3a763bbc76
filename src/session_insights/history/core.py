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

import secrets
import threading
from array import array
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .. import metrics
from .. import state as state_file
from ..events import Rating, SessionMark, TicketUpdate, ToolCall, UsageEvent, check_cost_usd
from ..pricing import PriceBook
from ..saved_reads import SavedReads, key_digest
from . import codec
from .copies import HeldCopies, supersedes
from .counters import TOOL_PROMPT
from .detail import active_seconds
from .digests import DigestSet
from .handover import Handover
from .inbox import Inbox, as_event
from .persist import Persisted, path_digest
from .readers import Readers
from .reading import ReadingPart
from .rollup import SnapshotMemo
from .sessions import EARLIER_SESSIONS, MAX_SESSIONS, SessionRow, SessionsPart
from .thresholds import Thresholds
from .tickets import TicketsPart
from .tools import ToolsPart
from .usage import UsagePart, session_name

# watch_usage's argument: (add, add_run) of the usage part -> the two the drain calls.
UsageWatch = Callable[[Callable, Callable], tuple[Callable, Callable]]

MAX_DEDUP_KEYS = 65_536  # requests held whole whose copy may still grow; older ones by digest only (digests.py)
MAX_FINISHED_KEYS = 4_096  # ... and whose copy says the response ended (copies.HeldCopies)
SAVED_DEDUP_KEYS = 256  # copies kept in full in state.toml; older keys are in saved_reads
MAX_BAD_LINE_FILES = 100
MAX_BAD_REASONS = 40
MAX_NOTICES = 50
_ = TOOL_PROMPT


def _count_capped(counts: dict[str, int], key: str, n: int, cap: int, overflow_key: str) -> None:
    """Add ``n`` to ``counts[key]``; past ``cap`` keys, new ones count under ``overflow_key``."""
    if key not in counts and len(counts) >= cap:
        key = overflow_key
    counts[key] = counts.get(key, 0) + n


class TokenHistory(Readers, Persisted, Handover, Inbox, Thresholds):
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
        self._usage_watch: UsageWatch | None = None  # watch_usage's, bound again at each reset
        self._reset()
        self.window_s = window_s
        self._budget_usd = self._check_budget(budget_usd)
        self.notices: list[str] = []
        self.ui: dict[str, Any] = {}  # panel preferences (open headers, scale), kept by the UI
        self.source_labels: set[str] = set()
        self.rate_limits: dict[str, dict] = {}  # by source label: the provider's latest usage limits
        self.plan_limits: dict[str, int | float] = {}  # the user's own ([limits] in state.toml)
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
        self._encoder = state_file.Encoder()  # keeps the TOML of unchanged rows between saves
        self._save_lock = threading.Lock()
        if self.state_path is not None:
            read_only = self._take_lock() if not read_only else True
            self._restore(read_only, keep_budget=budget_usd is not None, keep_overrides=price_overrides is not None)
        if read_only and not self._in_use:
            self.state_path = None  # never written

    def _reset(self) -> None:
        self.sessions = SessionsPart()
        self.usage = UsagePart(self.prices, self.sessions.rows, self._session_row_for)
        self._bind_usage()
        self.tickets = TicketsPart()
        self.tools = ToolsPart()
        self.reading = ReadingPart()
        self.memo = SnapshotMemo()  # the last snapshots' sums (rollup.py), brought up to date by each
        self._held = HeldCopies(MAX_DEDUP_KEYS, MAX_FINISHED_KEYS)  # the copies kept, by request key
        self._let_go = DigestSet()  # digests of the requests _held no longer holds whole
        self._keys_counted = 0  # request keys _held took in: a handover checks what came since
        self._counted_digests: array | None = None  # every key counted, for a worker (handover.py)
        self._latest_other_ts: float | None = None  # latest tool call, ticket update or rating
        self.bad_lines: dict[str, int] = {}
        self.bad_reasons: dict[str, int] = {}  # why lines were skipped: reason -> lines
        self.version = 0  # bumped whenever an aggregate changes

    def _bind_usage(self) -> None:
        """What the drain calls for each request it counts or takes back, and for the
        queue's runs of requests: the usage part's own methods (no hop between), or what
        ``watch_usage`` made of them."""
        add, add_run = self.usage.add, self.usage.add_run
        if self._usage_watch is not None:
            add, add_run = self._usage_watch(add, add_run)
        self._add_usage, self._add_usage_run = add, add_run

    def watch_usage(self, watch: UsageWatch) -> None:
        """See every request the drain counts (+1) or takes back (-1, for a larger copy):
        ``watch`` gets the usage part's ``add(ev, sign)`` and ``add_run(events, sign,
        keyed)`` and returns the two the drain calls instead, each calling its own. Bound
        again whenever the figures are reset, so a watcher (the exporter's per-request
        histogram) never falls off."""
        with self._lock:
            self._usage_watch = watch
            self._bind_usage()

    def note_bad_line(self, file: str, count: int = 1, reason: str | None = None, source: str | None = None) -> None:
        """Count a source line that could not be read (shown in the panel and report),
        and why, if known: a short phrase naming a field, never a value from the line.
        ``source``: the kind of source that read it (provenance counts reasons by source)."""
        with self._lock:
            _count_capped(self.bad_lines, file, count, MAX_BAD_LINE_FILES, "(other files)")
            _count_capped(self.bad_reasons, reason or "unreadable", count, MAX_BAD_REASONS, "(other reasons)")
            self.reading.bad_line(source or self.reading.file_kinds.get(file) or "host", reason or "unreadable", count)
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
                "records": [*map(as_event, self._usage_inbox), *self._other_inbox, *read],
                "bad_lines": dict(self.bad_lines),
                "bad_reasons": dict(self.bad_reasons),
                "offsets": offsets,
                "notices": list(self.notices),
                "rate_limits": dict(self.rate_limits),
                "reading": self.reading.findings(),
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
            self.reading.absorb(findings.get("reading", {}), lambda file: self.offset_for(file) is None)
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
            return self._queued_positions.get(key) or self.offsets.get(key) or self._saved_offsets.get(path_digest(key))

    def knows(self, request_key: str) -> bool:
        """Whether a copy of this request is counted and still remembered, so a later copy
        replaces it (rather than counting as a request of its own)."""
        with self._lock:
            return request_key in self._held

    def _apply_keyed_usage(self, ev: UsageEvent) -> None:
        key = ev.request_key
        held = self._held
        old = held.get(key)
        if old is not None:
            self.reading.copy(ev)  # another copy of a request counted once
            if not supersedes(ev, old):
                return
            self._add_usage(old, -1)
        else:
            digest = None
            if self._let_go.count:
                digest = key_digest(key)
                if digest in self._let_go:
                    self.reading.copy(ev)  # counted once, long ago in this run
                    return
            keys = self._reads
            if keys is not None:
                if digest is None:
                    digest = key_digest(key)
                if keys.counted(digest):
                    self.reading.copy(ev, before_restart=True)
                    return  # counted before a restart
                keys.add(digest)
            if self._counted_digests is not None:
                self._counted_digests.append(key_digest(key) if digest is None else digest)
            self._keys_counted += 1
        gone = held.keep(key, ev, old)
        if gone is not None:
            self._let_go.add(key_digest(gone))
        self._add_usage(ev, 1)

    def file_not_read(self, source: str, file: str, why: str, notice: str) -> None:
        """A file a source could not or would not read: a notice, and named in provenance."""
        with self._lock:
            self.reading.file_not_read(source, file, why)
        self.notice(notice)

    def note_lines(self, source: str, n: int) -> None:
        """``n`` lines a line-based source read (for provenance)."""
        with self._lock:
            self.reading.lines[source] = self.reading.lines.get(source, 0) + n

    def note_copies(self, source: str, n: int = 1) -> None:
        """Count ``n`` copies of a request a source left out itself, as counted once (a
        fork's replayed history, totals written again, a call traced twice)."""
        with self._lock:
            self.reading.source_copies(source, n)

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
        for key, ev in list(self._held.items()):
            if session_name(ev.session) in folded:
                self._held.relabel(key, ev._replace(session=EARLIER_SESSIONS))

    def _apply_other(self, record: ToolCall | TicketUpdate | Rating | SessionMark) -> None:
        if self._latest_other_ts is None or record.ts > self._latest_other_ts:
            self._latest_other_ts = record.ts
        kind = type(record)
        if kind is TicketUpdate:
            self.tickets.apply(record)
            if record.session is not None:
                self._session_row_for(record.session).stretch(record.ts)
            return
        # A new row may fold others that cached look-ups point at: the folding forgets
        # them (usage.fold_sessions), so only then, not at every tool call.
        if kind is ToolCall:
            if record.call_key is not None and self._copied_call(record.call_key):
                return
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

    def _copied_call(self, call_key: str) -> bool:
        """Whether a tool call with this id was counted already (in this run, by a
        worker handed over, or before a restart); else it is noted as counted."""
        digest = key_digest("tool call " + call_key)
        keys = self._reads
        if digest in self._let_go or (keys is not None and keys.counted(digest)):
            return True
        self._let_go.add(digest)
        if keys is not None:
            keys.add(digest)
        if self._counted_digests is not None:
            self._counted_digests.append(digest)
        return False

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
            self.reading.merge(other.reading)
            theirs = other._latest_other_ts
            if theirs is not None and (self._latest_other_ts is None or theirs > self._latest_other_ts):
                self._latest_other_ts = theirs
            self.version += 1
