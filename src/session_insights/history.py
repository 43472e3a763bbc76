"""TokenHistory: the inbox producers push to, and the incremental aggregates it feeds.

Producers (hooks, sources, any thread) only validate and append to a deque, which is
atomic under the GIL. ``drain()``, called by the render loop or by ``report``, applies
queued records in O(1) each. Every aggregate is a sum, a min or a max, or a
keep-the-latest by (time, rank) — so the result is the same for any order or
interleaving of the same records, and a request seen twice under one ``request_key``
counts once, at its largest copy. A key that starts with ``REWRITE_MARK`` names a
record a log rewrites in place (a chat message saved again as it changes): there the
latest copy wins, which is the order of the one file it comes from. Memory stays bounded: sessions, tickets and tools are
capped (the oldest fold into one row), the timeline coarsens, the burn window prunes.

Nothing here imports dearpygui.
"""

from __future__ import annotations

import hashlib
import math
import os
import secrets
import sqlite3
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Iterable, Mapping
from operator import add
from pathlib import Path
from typing import Any

from . import decode, metrics, normalize
from . import state as state_file
from .events import (
    MAX_TOKENS_PER_REQUEST,
    MAX_TS,
    MIN_TS,
    TICKET_STATUSES,
    Rating,
    SessionMark,
    TicketUpdate,
    ToolCall,
    UsageEvent,
    check_cost_usd,
    check_duration_ms,
    check_label,
    check_name,
    check_reason,
    check_score,
    check_status,
    check_ts,
    usage_event,
)
from .pricing import PUSD_PER_USD, PriceBook, usd
from .saved_reads import SavedReads, key_digest
from .scope import Scope
from .series import BucketSeries, RecentSeconds
from .store import history_path_for

# Counters kept per (model, tier, session): one list, so an event costs one dict look-up.
# TOOL_PROMPT (part of IN) came last, so state saved before it loads with a 0 appended.
REQ, IN, CR, CW5, CW1H, OUT, REASON, COST, UNPRICED, REPORTED, TOOL_PROMPT = range(11)
N_COUNTERS = 11
# Timeline bucket fields.
T_IN, T_OUT, T_CR, T_CW, T_COST, T_REQ = range(6)
# Day rollup fields.
D_TOKENS, D_COST, D_REQ, D_RATING_MILLI, D_RATINGS = range(5)
# Per (model, tier, session) and UTC day: requests, tokens, cost.
CD_REQ, CD_TOKENS, CD_COST = range(3)
# Ticket fields: status, ts, track, first_ts, reason, (ts, rank, track) of the track's
# update, session.
T_SESSION = 6
# Session row fields. A session is undelimited until a log marks its start (then it is
# open) or its end (then it has ended).
(S_FIRST, S_LAST, S_PROJECT, S_SOURCE, S_MARK, S_END, S_TOOLS, S_TOOL_FAILURES, S_RATINGS, S_RATING_MILLI) = range(10)
UNDELIMITED, OPEN, ENDED = 0, 1, 2

NO_TIER = "(no tier)"
NO_SESSION = "(no session)"
EARLIER_SESSIONS = "(earlier sessions)"
OTHER_TOOLS = "(other tools)"
OTHER_MODELS = "(other models)"

TIMELINE_CAPACITY = 720
MAX_SESSIONS = 400
MAX_TICKETS = 1500
MAX_TOOLS = 200
MAX_DEDUP_KEYS = 200_000
MAX_DAYS_PER_COMBO = 62  # per-day spend kept per (model, tier, session)
SAVED_DEDUP_KEYS = 256  # copies kept in full in state.toml; older keys are in saved_reads
REWRITE_MARK = "~"  # request_key prefix: the latest copy replaces the earlier ones
MAX_BAD_LINE_FILES = 100
MAX_BAD_REASONS = 40
MAX_NOTICES = 50
DAY_S = metrics.DAY_S
_STATUS_RANK = {status: rank for rank, status in enumerate(TICKET_STATUSES)}
_MISSING = object()
_new_usage = tuple.__new__  # builds a UsageEvent from already-checked fields


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


def _summed(counter_lists: Iterable[list[int]]) -> list[int]:
    """Counter lists added up field by field (zeros for none)."""
    total = [0] * N_COUNTERS
    for counters in counter_lists:
        total = list(map(add, total, counters))
    return total


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
    )


class TokenHistory:
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
        self._lock = threading.RLock()
        self._usage_inbox: deque[UsageEvent] = deque()
        self._other_inbox: deque[ToolCall | TicketUpdate | Rating] = deque()
        # What sources read: (file, its records, the position they were read up to), applied
        # in order; the position becomes the file's only once its records are applied, so
        # a save never keeps a position past records it does not count.
        self._reads_inbox: deque[tuple[str, list, dict]] = deque()
        self._read_cursor = 0  # records of the first read already applied
        self._queued_positions: dict[str, dict] = {}  # file -> its latest position not yet applied
        self._clean_labels: set[str] = set()  # names known to pass check_name / check_label as they are
        self.prices = PriceBook(price_overrides)
        self._reset()
        self.window_s = window_s
        self._budget_usd = self._check_budget(budget_usd)
        self.notices: list[str] = []
        self.offsets: dict[str, dict] = {}  # per-source read positions, kept by sources
        self.ui: dict[str, Any] = {}  # panel preferences (open headers, scale), kept by the UI
        self.source_labels: set[str] = set()
        self.rate_limits: dict[str, dict] = {}  # by source label: the provider's latest usage limits
        self.applied = 0  # records applied since start; the status bar's events/s
        self._saved_offsets: dict[str, dict] = {}  # read positions of earlier runs, by path digest
        self._reads: SavedReads | None = None  # the keys and positions earlier saves wrote
        self._state_id = secrets.token_hex(8)  # names this state's saves in what they read
        self._positions_written: dict[str, str] = {}  # path digest -> the position row last written
        self._not_ours = False
        self._in_use = False  # another process writes this state: never saved from here
        self._saved_copies = SAVED_DEDUP_KEYS  # fewer when the state would outgrow its budget
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
                self._load_state(loaded.data, keep_budget=keep_budget, keep_overrides=keep_overrides)
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
        self._combos: dict[tuple[str, str | None, str | None], list[int]] = {}
        self._model_provider: dict[str, str | None] = {}
        self._pricing_cache: dict[tuple[str, str | None], Any] = {}
        self._seen: OrderedDict[str, UsageEvent] = OrderedDict()
        self._timeline = BucketSeries(TIMELINE_CAPACITY, fields=6)
        self._recent = RecentSeconds(retention_s=3600, fields=2)
        self._days: dict[int, list[int]] = {}
        self._sessions: dict[str, list] = {}  # session -> its row (S_* fields)
        # (model, tier, session) -> UTC day -> [requests, tokens, cost]: what each session
        # spent each day on each model, for the durable per-day rollups.
        self._combo_days: dict[tuple[str, str | None, str | None], dict[int, list[int]]] = {}
        self._tools: dict[str, list[int]] = {}  # name -> [calls, failures, total_us, max_us]
        self._tool_turns: dict[str, list[int]] = {}  # name -> [turns, tokens, cost_pusd, unpriced turns]
        # id -> [status, ts, track, first_ts, reason, (ts, rank, track) of the track's update]
        self._tickets: dict[str, list] = {}
        self._retired_tickets = dict.fromkeys(TICKET_STATUSES, 0)
        self._first_ts: float | None = None
        self._last_ts: float | None = None
        self._first_ts_or_max = math.inf
        self._last_ts_or_min = -math.inf
        self._last_labels: tuple | None = None
        self._contexts: dict[tuple, tuple] = {}  # labels -> _context(), for interleaved labels
        self._last_context: tuple = ()
        self._hot_sec = -1
        self._hot_level = -1
        self._hot_buckets: tuple = ()
        self._ticket_first_ts: float | None = None
        self._latest_other_ts: float | None = None  # latest tool call, ticket update or rating
        self.bad_lines: dict[str, int] = {}
        self.bad_reasons: dict[str, int] = {}  # why lines were skipped: reason -> lines
        self.version = 0  # bumped whenever an aggregate changes

    # --- producers: any thread ----------------------------------------------------

    def record_usage(
        self,
        model: str,
        input_tokens: int,
        output_tokens: int,
        cache_read_tokens: int = 0,
        cache_write_tokens: int = 0,
        ts: float | None = None,
        tier: str | None = None,
        session: str | None = None,
        provider: str | None = None,
        *,
        cache_write_1h_tokens: int = 0,
        reasoning_tokens: int = 0,
        tool_prompt_tokens: int = 0,
        request_key: str | None = None,
        reported_cost_usd: float | None = None,
        tools: Iterable[str] | None = None,
    ) -> None:
        """Queue one model request. Counts are already normalised: input excludes cache;
        ``reasoning_tokens`` are part of the output, ``tool_prompt_tokens`` part of the
        input. ``tools``: the names of the tools the request called (for cost by tool).

        Raises ValueError, naming the field, for a bad value; nothing is queued then.
        """
        # Fast path for the common call (plain ints, a clean model name, float or no ts):
        # the same checks as usage_event, without its keyword plumbing.
        if (
            type(input_tokens) is int
            and type(output_tokens) is int
            and type(cache_read_tokens) is int
            and type(cache_write_tokens) is int
            and type(cache_write_1h_tokens) is int
            and type(reasoning_tokens) is int
            and 0 <= input_tokens <= MAX_TOKENS_PER_REQUEST
            and 0 <= output_tokens <= MAX_TOKENS_PER_REQUEST
            and 0 <= cache_read_tokens <= MAX_TOKENS_PER_REQUEST
            and 0 <= cache_write_tokens <= MAX_TOKENS_PER_REQUEST
            and 0 <= cache_write_1h_tokens <= MAX_TOKENS_PER_REQUEST
            and 0 <= reasoning_tokens <= output_tokens
            and model in self._clean_labels
            and (tier is None or tier in self._clean_labels)
            and (session is None or session in self._clean_labels)
            and provider is None
            and request_key is None
            and reported_cost_usd is None
            and tool_prompt_tokens == 0
            and tools is None
        ):
            if ts is None:
                ts = time.time()
            elif type(ts) is not float or not MIN_TS <= ts < MAX_TS:
                ts = check_ts(ts)
            self._usage_inbox.append(
                _new_usage(
                    UsageEvent,
                    (
                        ts,
                        model,
                        None,
                        input_tokens,
                        cache_read_tokens,
                        cache_write_tokens,
                        cache_write_1h_tokens,
                        output_tokens,
                        reasoning_tokens,
                        tier,
                        session,
                        None,
                        None,
                        None,
                        None,
                        0,
                    ),
                )
            )
            return
        ev = usage_event(
            model=model,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cache_read_tokens=cache_read_tokens,
            cache_write_tokens=cache_write_tokens,
            cache_write_1h_tokens=cache_write_1h_tokens,
            reasoning_tokens=reasoning_tokens,
            tool_prompt_tokens=tool_prompt_tokens,
            ts=ts,
            tier=tier,
            session=session,
            provider=provider,
            request_key=request_key,
            reported_cost_usd=reported_cost_usd,
            tools=tools,
        )
        self._usage_inbox.append(ev)
        # Labels that passed the checks unchanged take the fast path next time.
        if len(self._clean_labels) < 10_000:
            for raw, checked in ((model, ev.model), (tier, ev.tier), (session, ev.session)):
                if type(raw) is str and raw == checked:
                    self._clean_labels.add(raw)

    def record_response(
        self,
        response: Mapping[str, Any],
        provider: str,
        *,
        model: str | None = None,
        ts: float | None = None,
        tier: str | None = None,
        session: str | None = None,
    ) -> None:
        """Queue the usage of a raw Anthropic / OpenAI / Google / DeepSeek response body,
        normalised per DESIGN §2. The response's own id de-duplicates repeats."""
        provider_id, found_model, counts = normalize.response_usage(response, provider)
        model = model or found_model
        if not model:
            raise ValueError("model is missing: the response names none, so pass model=...")
        key = response.get("id") or response.get("responseId")
        self._usage_inbox.append(
            usage_event(
                model=model,
                ts=ts,
                tier=tier,
                session=session,
                provider=provider_id,
                request_key=key if isinstance(key, str) else None,
                **counts,
            )
        )

    def record_tool_call(
        self, name: str, duration_ms: float, ok: bool = True, ts: float | None = None, session: str | None = None
    ) -> None:
        """Queue one tool call and whether it succeeded."""
        if not isinstance(ok, bool):
            raise ValueError(f"ok must be True or False, got {ok!r}")
        self._other_inbox.append(
            ToolCall(
                check_ts(ts),
                check_name("name", name),
                check_duration_ms(duration_ms),
                ok,
                check_label("session", session),
            )
        )

    def update_ticket(
        self,
        ticket_id: str,
        status: str,
        ts: float | None = None,
        *,
        track: str | None = None,
        reason: str | None = None,
    ) -> None:
        """Queue a ticket entering ``status``: todo, in_progress, blocked or completed."""
        if isinstance(ticket_id, int) and not isinstance(ticket_id, bool):
            ticket_id = str(ticket_id)
        self._other_inbox.append(
            TicketUpdate(
                check_ts(ts),
                check_name("ticket_id", ticket_id),
                check_status(status),
                check_label("track", track),
                check_reason(reason),
            )
        )

    def rate(self, score: float, ts: float | None = None, session: str | None = None) -> None:
        """Queue a satisfaction score from 0 to 10."""
        self._other_inbox.append(Rating(check_ts(ts), check_score(score), check_label("session", session)))

    def add(self, record: UsageEvent | ToolCall | TicketUpdate | Rating) -> None:
        """Queue a record a source has already built and validated."""
        if type(record) is UsageEvent:
            self._usage_inbox.append(record)
        else:
            self._other_inbox.append(record)

    def add_many(self, records: Iterable[UsageEvent | ToolCall | TicketUpdate | Rating]) -> None:
        for record in records:
            self.add(record)

    def add_read(self, file: str, records: list, position: dict) -> None:
        """Queue what a source read from ``file`` up to ``position`` (its records, already
        built and validated): the records are applied in order, then the position is kept."""
        with self._lock:  # so a source opening the file again sees this position (offset_for)
            self._queued_positions[file] = position
            self._reads_inbox.append((file, records, position))

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

    @property
    def pending(self) -> int:
        read = sum(len(records) + 1 for _, records, _ in self._reads_inbox) - self._read_cursor
        return len(self._usage_inbox) + len(self._other_inbox) + read

    # --- consumer: one thread at a time -----------------------------------------

    def drain(self, max_records: int | None = None, budget_s: float | None = None) -> int:
        """Apply queued records; returns how many. Stops early after ``max_records`` or
        once ``budget_s`` of wall time is spent, leaving the rest queued."""
        deadline = None if budget_s is None else time.perf_counter() + budget_s
        limit = math.inf if max_records is None else max_records
        with self._lock:
            # Tool calls, tickets and ratings first: they are few, and a backlog of
            # requests must never starve them.
            applied = 0
            inbox, apply = self._other_inbox, self._apply_other
            while inbox and applied < limit:
                try:
                    record = inbox.popleft()
                except IndexError:
                    break
                apply(record)
                applied += 1
            if applied < limit and self._reads_inbox:
                applied += self._drain_reads(limit - applied, deadline)
            if applied < limit:
                applied += self._drain_usage(limit - applied, deadline)
            if applied:
                self.applied += applied
                self.version += 1
        return applied

    def _drain_usage(self, limit: float, deadline: float | None) -> int:
        pop = self._usage_inbox.popleft
        add, add_keyed = self._add_usage, self._apply_keyed_usage
        n = 0
        while n < limit:
            try:
                ev = pop()
            except IndexError:
                break
            if ev[12] is None:  # no request_key: nothing to de-duplicate against
                add(ev, 1)
            else:
                add_keyed(ev)
            n += 1
            if deadline is not None and not n & 255 and time.perf_counter() > deadline:
                break
        return n

    def _drain_reads(self, limit: float, deadline: float | None) -> int:
        """Apply what sources read, in order, within ``limit`` records and the deadline; a
        file's position is kept once the records before it are applied."""
        reads, add, add_keyed, other = self._reads_inbox, self._add_usage, self._apply_keyed_usage, self._apply_other
        n = 0
        while reads and n < limit:
            file, records, position = reads[0]
            i = self._read_cursor
            while i < len(records) and n < limit:
                record = records[i]
                if type(record) is not UsageEvent:
                    other(record)
                elif record.request_key is None:
                    add(record, 1)
                else:
                    add_keyed(record)
                i += 1
                n += 1
                if deadline is not None and not n & 255 and time.perf_counter() > deadline:
                    break
            if i < len(records):
                self._read_cursor = i
                break
            reads.popleft()
            self._read_cursor = 0
            self.offsets[file] = position
            if self._queued_positions.get(file) is position:
                del self._queued_positions[file]
            n += 1
            if deadline is not None and time.perf_counter() > deadline:
                break
        return n

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

    def _context(
        self, model: str, provider: str | None, tier: str | None, session: str | None, source: str | None
    ) -> tuple:
        """(pricing, its flat rates if it has no tiers or periods, combo counters, the combo's
        days, session row) for a request's labels, created on first use."""
        pricing = self._pricing_cache.get((model, provider), _MISSING)
        if pricing is _MISSING:
            pricing = self._pricing_cache[(model, provider)] = self.prices.pricing(model, provider)
            if provider is not None or model not in self._model_provider:
                self._model_provider[model] = provider
        if session is not None:
            row = self._sessions.get(session)
            if row is None:
                row = self._new_session(session)  # may fold old sessions, so before the combo look-up
            if row[S_SOURCE] is None:
                row[S_SOURCE] = source
        key = (model, tier, session)
        combo = self._combos.get(key)
        if combo is None:
            combo = self._combos[key] = [0] * N_COUNTERS
        days = self._combo_days.setdefault(key, {})
        return (
            pricing,
            pricing.flat_rates() if pricing is not None else None,
            combo,
            days,
            self._sessions.get(session),
        )

    def _add_usage(self, ev: UsageEvent, sign: int) -> None:
        ts, model, provider, inp, cr, cw5, cw1h, out, reasoning, tier, session, _, _, reported, tools, tool_prompt = ev
        # Consecutive requests nearly always share their labels: reuse the last look-ups.
        labels = (model, provider, tier, session)
        if labels == self._last_labels:
            pricing, rates, combo, combo_days, span = self._last_context
        else:
            context = self._contexts.get(labels)
            if context is None:
                if len(self._contexts) > 4096:
                    self._contexts.clear()
                context = self._contexts[labels] = self._context(model, provider, tier, session, ev[11])
            pricing, rates, combo, combo_days, span = self._last_context = context
            self._last_labels = labels
        if rates is not None:
            cost = inp * rates[0] + out * rates[1] + cr * rates[2] + cw5 * rates[3] + cw1h * rates[4] + rates[5]
        elif pricing is not None:
            cost = pricing.cost_pusd(ts, inp, cr, cw5, cw1h, out)
        else:
            cost = 0
        reported_pusd = round(reported * PUSD_PER_USD) if reported else 0
        if sign < 0:
            inp, cr, cw5, cw1h, out, reasoning, cost, reported_pusd, tool_prompt = (
                -inp,
                -cr,
                -cw5,
                -cw1h,
                -out,
                -reasoning,
                -cost,
                -reported_pusd,
                -tool_prompt,
            )
        combo[REQ] += sign
        combo[IN] += inp
        combo[CR] += cr
        combo[CW5] += cw5
        combo[CW1H] += cw1h
        combo[OUT] += out
        combo[REASON] += reasoning
        combo[COST] += cost
        if pricing is None:
            combo[UNPRICED] += sign
        if reported_pusd:
            combo[REPORTED] += reported_pusd
        if tool_prompt:
            combo[TOOL_PROMPT] += tool_prompt

        tokens = inp + cr + cw5 + cw1h + out
        # Requests within one second share their timeline bucket (widths are whole
        # seconds), burn-window second and day: look those up once per second.
        sec = int(ts)
        if sec == self._hot_sec and self._timeline.level == self._hot_level:
            b, r, day, day_index = self._hot_buckets
        else:
            b = self._timeline.bucket(ts)
            r = self._recent.bucket(ts)
            day_index = int(ts // DAY_S)
            day = self._day(ts)
            self._hot_sec, self._hot_level, self._hot_buckets = sec, self._timeline.level, (b, r, day, day_index)
        b[T_IN] += inp
        b[T_OUT] += out
        b[T_CR] += cr
        b[T_CW] += cw5 + cw1h
        b[T_COST] += cost
        b[T_REQ] += sign
        if r is not None:
            r[0] += tokens
            r[1] += cost
        day[D_TOKENS] += tokens
        day[D_COST] += cost
        day[D_REQ] += sign
        if tools:
            self._add_tool_turn(tools, tokens, cost, pricing is None, sign)
        cd = combo_days.get(day_index)
        if cd is None:
            cd = combo_days[day_index] = [0, 0, 0]
            if len(combo_days) > MAX_DAYS_PER_COMBO:
                # A session running for months keeps its recent days; the earlier ones
                # reached the durable history, which keeps them (see store.write).
                del combo_days[min(combo_days)]
        cd[CD_REQ] += sign
        cd[CD_TOKENS] += tokens
        cd[CD_COST] += cost

        if ts > self._last_ts_or_min:
            self._last_ts = self._last_ts_or_min = ts
        if ts < self._first_ts_or_max:
            self._first_ts = self._first_ts_or_max = ts
        if span is not None:
            span[0] = min(span[0], ts)
            span[1] = max(span[1], ts)

    def _add_tool_turn(self, tools: tuple[str, ...], tokens: int, cost: int, unpriced: bool, sign: int) -> None:
        """Charge a request to each tool it called: what the turns calling a tool cost.
        A request calling two tools counts in full for both (a turn is not split)."""
        for name in tools:
            turn = self._tool_turns.get(name)
            if turn is None:
                if len(self._tool_turns) >= MAX_TOOLS:
                    name = OTHER_TOOLS
                turn = self._tool_turns.setdefault(name, [0, 0, 0, 0])
            turn[0] += sign
            turn[1] += tokens
            turn[2] += cost
            turn[3] += sign if unpriced else 0

    def _day(self, ts: float) -> list[int]:
        """The rollup of the UTC day holding ``ts``, created on first use."""
        index = int(ts // DAY_S)
        day = self._days.get(index)
        if day is None:
            day = self._days[index] = [0, 0, 0, 0, 0]
        return day

    @staticmethod
    def _blank_session() -> list:
        return [math.inf, -math.inf, None, None, UNDELIMITED, None, 0, 0, 0, 0]

    def _new_session(self, session: str) -> list:
        if len(self._sessions) >= MAX_SESSIONS:
            # Fold an eighth at a time: folding walks the de-duplication keys, so do it rarely.
            self._fold_sessions(max(len(self._sessions) - MAX_SESSIONS + 1, MAX_SESSIONS // 8))
        row = self._sessions[session] = self._blank_session()
        return row

    def _session_row(self, session: str, ts: float) -> list:
        """The row of ``session`` (created on first use), its span stretched to ``ts``."""
        row = self._sessions.get(session)
        if row is None:
            self._last_labels = None  # a new row may fold others that cached look-ups point at
            row = self._new_session(session)
        row[S_FIRST] = min(row[S_FIRST], ts)
        row[S_LAST] = max(row[S_LAST], ts)
        return row

    def _fold_sessions(self, n: int) -> None:
        """Merge the ``n`` least recently active sessions into one row, totals intact."""
        self._last_labels = None  # cached look-ups may point at rows folded here
        self._contexts.clear()
        candidates = sorted((span[1], s) for s, span in self._sessions.items() if s != EARLIER_SESSIONS)
        folded = {s for _, s in candidates[:n]}
        if not folded:
            return
        rows = [self._sessions.pop(s) for s in folded]
        merged = self._sessions.get(EARLIER_SESSIONS)
        if merged is None:
            merged = self._sessions[EARLIER_SESSIONS] = self._blank_session()
        merged[S_FIRST] = min([merged[S_FIRST], *(row[S_FIRST] for row in rows)])
        merged[S_LAST] = max([merged[S_LAST], *(row[S_LAST] for row in rows)])
        for field in (S_TOOLS, S_TOOL_FAILURES, S_RATINGS, S_RATING_MILLI):
            merged[field] += sum(row[field] for row in rows)
        # Copies remembered for de-duplication now live in the folded row: a larger copy
        # must be subtracted from there, even if its session comes back later.
        for key, ev in self._seen.items():
            if ev.session in folded:
                self._seen[key] = ev._replace(session=EARLIER_SESSIONS)
        for key in [k for k in self._combos if k[2] in folded]:
            counters = self._combos.pop(key)
            merged_key = (key[0], key[1], EARLIER_SESSIONS)
            target = self._combos.setdefault(merged_key, [0] * N_COUNTERS)
            for i, value in enumerate(counters):
                target[i] += value
            # Its days are not kept: the folded row is no session of its own, and the
            # sessions in it reached the durable history before they were folded.
            self._combo_days.pop(key, None)
        for ticket in self._tickets.values():
            if ticket[T_SESSION] in folded:
                ticket[T_SESSION] = EARLIER_SESSIONS

    def _apply_other(self, record: ToolCall | TicketUpdate | Rating) -> None:
        if self._latest_other_ts is None or record.ts > self._latest_other_ts:
            self._latest_other_ts = record.ts
        kind = type(record)
        if kind is ToolCall:
            name = record.name
            tool = self._tools.get(name)
            if tool is None:
                if len(self._tools) >= MAX_TOOLS:
                    name = OTHER_TOOLS
                tool = self._tools.setdefault(name, [0, 0, 0, 0])
            duration_us = round(record.duration_ms * 1000)
            tool[0] += 1
            tool[1] += not record.ok
            tool[2] += duration_us
            tool[3] = max(tool[3], duration_us)
            if record.session is not None:
                row = self._session_row(record.session, record.ts)
                row[S_TOOLS] += 1
                row[S_TOOL_FAILURES] += not record.ok
        elif kind is TicketUpdate:
            self._apply_ticket(record)
        elif kind is SessionMark:
            self._apply_mark(record)
        else:
            milli = round(record.score * 1000)
            day = self._day(record.ts)
            day[D_RATING_MILLI] += milli
            day[D_RATINGS] += 1
            row = self._session_row(record.session if record.session is not None else NO_SESSION, record.ts)
            row[S_RATING_MILLI] += milli
            row[S_RATINGS] += 1

    def _apply_mark(self, mark: SessionMark) -> None:
        row = self._session_row(mark.session, mark.ts)
        if mark.project is not None:
            row[S_PROJECT] = mark.project
        if mark.source is not None:
            row[S_SOURCE] = mark.source
        if mark.boundary == "end":
            row[S_MARK] = ENDED
            row[S_END] = mark.ts if row[S_END] is None else max(row[S_END], mark.ts)
        elif mark.boundary == "start" and row[S_MARK] != ENDED:
            row[S_MARK] = OPEN

    def _apply_ticket(self, up: TicketUpdate) -> None:
        # Keep-latest by (ts, status rank, text): the tie-break on the text makes two
        # updates at one instant resolve the same whatever their arrival order. The track
        # is kept from the latest update that names one.
        if self._ticket_first_ts is None or up.ts < self._ticket_first_ts:
            self._ticket_first_ts = up.ts
        rank = _STATUS_RANK[up.status]
        ticket = self._tickets.get(up.ticket_id)
        if ticket is None:
            if len(self._tickets) >= MAX_TICKETS:
                self._retire_ticket()
            self._tickets[up.ticket_id] = [
                up.status,
                up.ts,
                up.track,
                up.ts,
                up.reason,
                (up.ts, rank, up.track) if up.track else None,
                up.session,
            ]
            if up.session is not None:
                self._session_row(up.session, up.ts)
            return
        if ticket[T_SESSION] is None and up.session is not None:
            ticket[T_SESSION] = up.session
            self._session_row(up.session, up.ts)
        ticket[3] = min(ticket[3], up.ts)
        if (up.ts, rank, up.reason or "") > (ticket[1], _STATUS_RANK[ticket[0]], ticket[4] or ""):
            ticket[0], ticket[1], ticket[4] = up.status, up.ts, up.reason
        if up.track and (ticket[5] is None or (up.ts, rank, up.track) > ticket[5]):
            ticket[2], ticket[5] = up.track, (up.ts, rank, up.track)

    def _retire_ticket(self) -> None:
        """Keep the ticket table bounded: the longest-finished ticket leaves it but still counts."""
        oldest = min(self._tickets.items(), key=lambda kv: (kv[1][0] != "completed", kv[1][1]))
        del self._tickets[oldest[0]]
        self._retired_tickets[oldest[1][0]] += 1

    def reset_aggregates(self) -> None:
        """Forget every figure (and read position) but keep budget, prices and UI prefs."""
        with self._lock:
            self._usage_inbox.clear()
            self._other_inbox.clear()
            self._reads_inbox.clear()
            self._read_cursor = 0
            self._queued_positions.clear()
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

    # --- readers ----------------------------------------------------------------

    def snapshot(self, now_ts: float | None = None, scope: Scope | None = None) -> dict:
        """Every figure of ``scope`` (default: all), in the shape of ``report --format json``.

        ``now_ts`` is the time rates and projections are taken at; by default the
        latest request, which suits a finished log. The live panel passes the clock.
        """
        with self._lock:
            snap = self._snapshot(now_ts)
            snap["scope"] = {
                "kind": (scope or Scope()).kind,
                "session": None,
                "project": None,
                "source": None,
                "start_ts": snap["session"]["first_ts"],
                "end_ts": snap["session"]["last_ts"],
                "active_s": None,
            }
            return snap

    def scope_choices(self, limit: int = 20) -> list[dict]:
        """The scopes the panel's top bar offers: the kinds, then the most recent sessions
        (``{scope, session, project, source, first_ts, last_ts}``), latest first."""
        with self._lock:
            rows = sorted(
                ((row[S_LAST], name, row) for name, row in self._sessions.items() if name != EARLIER_SESSIONS),
                reverse=True,
            )[:limit]
            return [
                {
                    "scope": Scope.of_session(name),
                    "session": name,
                    "project": row[S_PROJECT],
                    "source": row[S_SOURCE],
                    "first_ts": row[S_FIRST],
                    "last_ts": row[S_LAST],
                }
                for _, name, row in rows
            ]

    def _rollups(self) -> tuple[dict, dict, dict, dict]:
        """The counters summed by model, by tier and by session, and each tier's models,
        in one pass over the (model, tier, session) counters (a snapshot's largest loop)."""
        by_model: dict[str, list[int]] = {}
        by_tier: dict[str | None, list[int]] = {}
        by_session: dict[str, list[int]] = {}
        tier_models: dict[str, set[str]] = {}
        for (model, tier, session), counters in self._combos.items():
            acc = by_model.get(model)
            by_model[model] = list(counters) if acc is None else list(map(add, acc, counters))
            name = NO_SESSION if session is None else session
            acc = by_session.get(name)
            by_session[name] = list(counters) if acc is None else list(map(add, acc, counters))
            acc = by_tier.get(tier)
            if acc is None:
                by_tier[tier] = list(counters)
                tier_models[tier or NO_TIER] = {model}
            else:
                by_tier[tier] = list(map(add, acc, counters))
                tier_models[tier or NO_TIER].add(model)
        return by_model, by_tier, by_session, tier_models

    @staticmethod
    def _figures(c: list[int], total_cost_pusd: int = 0) -> dict:
        """A row's figures; ``share_pct`` of ``total_cost_pusd`` when that is given."""
        nothing_priced = c[REQ] > 0 and c[UNPRICED] == c[REQ]
        return {
            "requests": c[REQ],
            "input_tokens": c[IN],
            "output_tokens": c[OUT],
            "cache_read_tokens": c[CR],
            "cache_write_tokens": c[CW5] + c[CW1H],
            "cache_write_1h_tokens": c[CW1H],
            "reasoning_tokens": c[REASON],
            "tool_prompt_tokens": c[TOOL_PROMPT],
            "total_tokens": c[IN] + c[CR] + c[CW5] + c[CW1H] + c[OUT],
            # Unknown (None) when nothing of it could be priced, never $0; a partly priced
            # row carries the priced part and says how many requests are not in it.
            "cost_usd": None if nothing_priced else usd(c[COST]),
            "unpriced_requests": c[UNPRICED],
            "reported_cost_usd": usd(c[REPORTED]) if c[REPORTED] else None,
            "share_pct": 100.0 * c[COST] / total_cost_pusd if total_cost_pusd and not nothing_priced else None,
        }

    def _snapshot(self, now_ts: float | None) -> dict:
        last = self._last_ts
        if now_ts is not None:
            now = now_ts
        else:  # the latest thing recorded, so a report of a finished log is reproducible
            now = last if last is not None else (self._latest_other_ts or 0.0)
        by_model_c, by_tier_c, by_session_c, tier_models = self._rollups()
        totals_c = _summed(by_model_c.values())
        totals = self._figures(totals_c)
        totals["cost_usd"] = usd(totals_c[COST])
        spent = usd(totals_c[COST])

        by_model: dict[str, dict] = {}
        for model, c in sorted(by_model_c.items(), key=lambda kv: (-kv[1][COST], -sum(kv[1][IN : OUT + 1]), kv[0])):
            fig = self._figures(c, totals_c[COST])
            pricing = self._pricing_cache.get((model, self._model_provider.get(model)))
            fig["provider"] = self._model_provider.get(model)
            fig["priced"] = c[UNPRICED] == 0
            fig["price_source"] = getattr(pricing, "source", None)
            by_model[model] = fig
        unpriced = sorted(m for m, c in by_model_c.items() if c[UNPRICED])

        by_tier = {}
        for tier, c in sorted(by_tier_c.items(), key=lambda kv: (-kv[1][COST], str(kv[0]))):
            fig = self._figures(c, totals_c[COST])
            fig["models"] = sorted(tier_models.get(tier or NO_TIER, ()))
            by_tier[tier or NO_TIER] = fig

        # (without each session's model mix and per-day spend: those are for the durable history)
        rows = self._rows_from(by_session_c, {}, {}, *self._completed_and_sessions())
        sessions = {row["session"]: self._session_figures(row) for row in rows}

        recent = self._recent
        window = recent.window(now - self.window_s, now)
        previous = recent.before(now - self.window_s, metrics.IDLE_GAP_S + 1)
        window_rate = metrics.window_burn_rate(window, now, self.window_s, previous)
        session_rate = metrics.session_burn_rate(totals["total_tokens"], spent, self._first_ts, now)

        tickets = self._ticket_figures()
        left = tickets["by_status"]["todo"] + tickets["by_status"]["in_progress"] + tickets["by_status"]["blocked"]
        completed = tickets["by_status"]["completed"]
        last_done = tickets.pop("_last_completed_ts")
        span = (
            (last_done - self._ticket_first_ts) if last_done is not None and self._ticket_first_ts is not None else None
        )
        proj = metrics.projection(
            now_ts=now,
            spent_usd=spent,
            usd_per_hour=window_rate.usd_per_hour,
            budget_usd=self._budget_usd,
            tickets_left=left,
            tickets_completed=completed,
            ticket_span_s=span,
        )

        # An open session (started, not yet ended) shows live but is in no average yet.
        open_rows = [row for row in rows if row["state"] == "open"]
        closed_tokens = totals["total_tokens"] - sum(row["total_tokens"] for row in open_rows)
        closed_cost = usd(totals_c[COST] - sum(row["cost_pusd"] for row in open_rows))
        ratings = sum(d[D_RATINGS] for d in self._days.values())
        rating_sum = sum(d[D_RATING_MILLI] for d in self._days.values()) / 1000
        over_time = metrics.efficiency_over_time(
            metrics.session_unit(row) for row in rows if row["session"] != EARLIER_SESSIONS
        )
        efficiency = {
            "tokens_per_completed_ticket": metrics.per_unit(closed_tokens, completed),
            "cost_per_completed_ticket_usd": metrics.per_unit(closed_cost, completed),
            "ratings": ratings,
            "mean_satisfaction": rating_sum / ratings if ratings else None,
            # Without a rating the overall score is tokens per completed ticket: not this figure.
            "tokens_per_satisfaction_point": over_time["overall_score"]
            if over_time["measure"] == "tokens_per_satisfaction_point"
            else None,
            "open_sessions": len(open_rows),
            "over_time": over_time,
        }

        tools = {}
        no_calls = [0, 0, 0, 0]
        names = set(self._tools) | set(self._tool_turns)
        for name in sorted(names, key=lambda n: (-self._tools.get(n, no_calls)[0], n)):
            calls, failures, total_us, max_us = self._tools.get(name, no_calls)
            turns, turn_tokens, turn_cost, unpriced_turns = self._tool_turns.get(name, no_calls)
            tools[name] = {
                # Turns: the requests that called it. None where no request is known to have
                # (its source does not link calls to requests); cost None too when none was priced.
                "turns": turns,
                "turn_tokens": turn_tokens if turns else None,
                "turn_cost_usd": None if not turns or unpriced_turns == turns else usd(turn_cost),
                "calls": calls,
                "failures": failures,
                "failure_rate_pct": 100.0 * failures / calls if calls else None,
                "total_ms": total_us / 1000,
                "mean_ms": total_us / 1000 / calls if calls else None,
                "max_ms": max_us / 1000,
            }

        return {
            "schema": state_file.SCHEMA,
            "now_ts": now,
            "session": {"first_ts": self._first_ts, "last_ts": last},
            "totals": totals,
            "by_model": by_model,
            "by_tier": by_tier,
            "unpriced_models": unpriced,
            "burn_rate": {
                "window_s": self.window_s,
                "window": window_rate.as_dict(),
                "session": session_rate.as_dict(),
            },
            "projection": proj.as_dict(),
            "efficiency": efficiency,
            "tools": tools,
            "tickets": tickets,
            "sessions": sessions,
            "sources": sorted(self.source_labels),
            "rate_limits": dict(sorted(self.rate_limits.items())),
            "errors": {
                "bad_lines": sum(self.bad_lines.values()),
                "files": dict(sorted(self.bad_lines.items())),
                "reasons": dict(sorted(self.bad_reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
            },
            "notices": list(self.notices),
        }

    def session_rows(self) -> list[dict]:
        """Every session's figures with exact integer costs (``cost_pusd``): what the
        durable history stores (``store.SESSION_FIELDS`` and ``models`` / ``days``). The
        row of folded sessions is left out: it is no session of its own."""
        with self._lock:  # only the sums are taken under the lock: the saver must not stall a drain
            parts = self._session_parts()
        rows = self._rows_from(*parts)
        for row in rows:
            del row["counters"]
        return [row for row in rows if row["session"] != EARLIER_SESSIONS]

    def _session_parts(self) -> tuple:
        """What session rows are made of, summed into new containers (so the rows can be
        built without the lock): counters, models and days by session, tickets completed
        by session, and a copy of the session rows. A session's counters are the sum of
        its models'."""
        models: dict[str, dict[str, list[int]]] = {}
        days: dict[str, dict[tuple[int, str], list[int]]] = {}
        for (model, tier, session), c in self._combos.items():
            name = NO_SESSION if session is None else session
            session_models = models.setdefault(name, {})
            acc = session_models.get(model)
            session_models[model] = list(c) if acc is None else list(map(add, acc, c))
            session_days = days.setdefault(name, {})
            for day, figures in self._combo_days.get((model, tier, session), {}).items():
                acc = session_days.get((day, model))
                session_days[(day, model)] = list(figures) if acc is None else list(map(add, acc, figures))
        counters = {name: _summed(mix.values()) for name, mix in models.items()}
        return counters, models, days, *self._completed_and_sessions()

    def _completed_and_sessions(self) -> tuple[dict[str, int], dict[str, list]]:
        """Tickets completed by session, and a copy of the session rows."""
        completed: dict[str, int] = {}
        for ticket in self._tickets.values():
            if ticket[0] == "completed":
                name = NO_SESSION if ticket[T_SESSION] is None else ticket[T_SESSION]
                completed[name] = completed.get(name, 0) + 1
        return completed, {name: list(row) for name, row in self._sessions.items()}

    @classmethod
    def _rows_from(cls, counters: dict, models: dict, days: dict, completed: dict, sessions: dict) -> list[dict]:
        """One dict per session, sorted by name: its labels (``source``, ``project``), span,
        ``state`` ("open" from its start until its end, "ended", or None when no log
        delimits it), token counts by kind, ``cost_pusd``, requests, tool calls and
        failures, tickets completed, ratings (count and sum), ``models``: ``{model:
        {requests, total_tokens, cost_pusd, unpriced_requests, <token kinds>}}`` and
        ``days``: ``[(utc_day, model, requests, tokens, cost_pusd)]``; ``counters`` holds
        the raw counters. Usage recorded without a session is the row ``NO_SESSION``.
        ``models`` and ``days`` are empty where the parts hold none (the snapshot's)."""
        states = {UNDELIMITED: None, OPEN: "open", ENDED: "ended"}
        rows = []
        for name in sorted(set(counters) | set(sessions)):
            c = counters.get(name, [0] * N_COUNTERS)
            row = sessions.get(name) or cls._blank_session()
            if not (c[REQ] or row[S_TOOLS] or row[S_RATINGS] or completed.get(name)):
                continue  # nothing measured in it yet
            rows.append(
                {
                    "session": name,
                    "source": row[S_SOURCE],
                    "project": row[S_PROJECT],
                    "state": states[row[S_MARK]],
                    "first_ts": row[S_FIRST] if math.isfinite(row[S_FIRST]) else None,
                    "last_ts": row[S_LAST] if math.isfinite(row[S_LAST]) else None,
                    "end_ts": row[S_END],
                    "counters": c,
                    "requests": c[REQ],
                    "input_tokens": c[IN],
                    "output_tokens": c[OUT],
                    "cache_read_tokens": c[CR],
                    "cache_write_tokens": c[CW5] + c[CW1H],
                    "reasoning_tokens": c[REASON],
                    "tool_prompt_tokens": c[TOOL_PROMPT],
                    "total_tokens": c[IN] + c[CR] + c[CW5] + c[CW1H] + c[OUT],
                    "cost_pusd": c[COST],
                    "unpriced_requests": c[UNPRICED],
                    "tool_calls": row[S_TOOLS],
                    "tool_failures": row[S_TOOL_FAILURES],
                    "tickets_completed": completed.get(name, 0),
                    "ratings": row[S_RATINGS],
                    "rating_sum": row[S_RATING_MILLI] / 1000,
                    "models": {
                        model: {
                            "requests": m[REQ],
                            "total_tokens": m[IN] + m[CR] + m[CW5] + m[CW1H] + m[OUT],
                            "cost_pusd": m[COST],
                            "unpriced_requests": m[UNPRICED],
                            "input_tokens": m[IN],
                            "output_tokens": m[OUT],
                            "cache_read_tokens": m[CR],
                            "cache_write_tokens": m[CW5] + m[CW1H],
                            "reasoning_tokens": m[REASON],
                        }
                        for model, m in models.get(name, {}).items()
                    },
                    "days": sorted((day, model, *figures) for (day, model), figures in days.get(name, {}).items()),
                }
            )
        return rows

    def _session_figures(self, row: dict) -> dict:
        """A session row in the report's shape (USD, named fields)."""
        fig = self._figures(row["counters"])
        fig.update(
            source=row["source"],
            project=row["project"],
            state=row["state"],
            first_ts=row["first_ts"],
            last_ts=row["last_ts"],
            end_ts=row["end_ts"],
            tool_calls=row["tool_calls"],
            tool_failures=row["tool_failures"],
            tickets_completed=row["tickets_completed"],
            ratings=row["ratings"],
            mean_satisfaction=row["rating_sum"] / row["ratings"] if row["ratings"] else None,
        )
        return fig

    def _ticket_figures(self) -> dict:
        by_status = dict(self._retired_tickets)
        blocked = []
        tracks: dict[str, dict[str, int]] = {}
        last_done = None
        for tid, (status, ts, track, _, reason, _, _) in self._tickets.items():
            by_status[status] += 1
            if status == "blocked":
                blocked.append({"id": tid, "reason": reason, "since_ts": ts})
            if status == "completed" and (last_done is None or ts > last_done):
                last_done = ts
            if track:
                tracks.setdefault(track, dict.fromkeys(TICKET_STATUSES, 0))[status] += 1
        total = sum(by_status.values())
        return {
            "total": total,
            "by_status": by_status,
            "progress_pct": 100.0 * by_status["completed"] / total if total else None,
            "blocked": sorted(blocked, key=lambda b: b["id"]),
            "tracks": dict(sorted(tracks.items())),
            "_last_completed_ts": last_done,
        }

    def timeline(self, scope: Scope | None = None) -> tuple[float, list[tuple[float, list[int]]]]:
        """(bucket width in seconds, [(bucket start ts, [input, output, cache_read,
        cache_write, cost_pusd, requests])]) of ``scope`` (default: all) in time order;
        per-bucket sums."""
        with self._lock:
            return self._timeline.width_s, [(ts, list(v)) for ts, v in self._timeline.items()]

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
            payload = state_file.encode({**self.to_state(), **extra})
            while len(payload) > state_file.MAX_STATE_BYTES and self._shrink_for_state():
                payload = state_file.encode({**self.to_state(), **extra})
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
        sessions = [s for s in self._sessions if s != EARLIER_SESSIONS]
        if len(sessions) > 8:
            self._fold_sessions(len(sessions) // 2)
            return True
        if len(self._tickets) > 50:
            for _ in range(len(self._tickets) // 2):
                self._retire_ticket()
            return True
        if self._saved_copies > 16:
            self._saved_copies //= 2  # the keys of the others are kept in saved_reads
            return True
        models = {m for m, _, _ in self._combos if m != OTHER_MODELS}
        if len(models) > 16:
            self._fold_models(len(models) // 2)
            return True
        return False

    def _fold_models(self, n: int) -> None:
        """Merge the ``n`` models that cost least into one row, ``OTHER_MODELS``, totals
        intact (only a state of thousands of model names needs it). A later copy of a
        request of theirs is still taken back at its own model's price."""
        self._last_labels = None
        self._contexts.clear()
        spent: dict[str, tuple[int, int]] = {}
        for (model, _, _), c in self._combos.items():
            cost, tokens = spent.get(model, (0, 0))
            spent[model] = (cost + c[COST], tokens + c[IN] + c[CR] + c[CW5] + c[CW1H] + c[OUT])
        spent.pop(OTHER_MODELS, None)
        folded = set(sorted(spent, key=lambda m: (*spent[m], m))[:n])
        for key in [k for k in self._combos if k[0] in folded]:
            merged = (OTHER_MODELS, key[1], key[2])
            self._combos[merged] = list(map(add, self._combos.get(merged, [0] * N_COUNTERS), self._combos.pop(key)))
            days = self._combo_days.setdefault(merged, {})
            for day, figures in self._combo_days.pop(key, {}).items():
                days[day] = list(map(add, days.get(day, [0, 0, 0]), figures))
        self._model_provider[OTHER_MODELS] = None
        self._pricing_cache[(OTHER_MODELS, None)] = None

    def to_state(self) -> dict:
        """Aggregates as plain TOML-able data: no prompt or response text, ever."""
        with self._lock:

            def label(x: str | None) -> str:
                return "" if x is None else x

            window_start = (self._last_ts or 0) - self.window_s - metrics.IDLE_GAP_S
            data: dict[str, Any] = {
                "saved_ts": time.time(),
                "window_s": self.window_s,
                "span": {
                    k: v
                    for k, v in (
                        ("first_ts", self._first_ts),
                        ("last_ts", self._last_ts),
                        ("ticket_first_ts", self._ticket_first_ts),
                        ("latest_other_ts", self._latest_other_ts),
                    )
                    if v is not None
                },
                "usage": [
                    {
                        "model": m,
                        "tier": label(t),
                        "session": label(s),
                        "provider": label(self._model_provider.get(m)),
                        "counts": [c if abs(c) < 2**62 else str(c) for c in counters],
                        "days": [
                            [day, *(c if abs(c) < 2**62 else str(c) for c in v)]
                            for day, v in sorted(self._combo_days.get((m, t, s), {}).items())
                        ],
                    }
                    for (m, t, s), counters in self._combos.items()
                ],
                "timeline": self._timeline.to_state(),
                "recent": [[sec, *v] for sec, v in sorted(self._recent.seconds.items()) if sec >= window_start],
                "days": [[day, *v] for day, v in sorted(self._days.items())],
                "sessions": [
                    {
                        "name": s,
                        "first_ts": row[S_FIRST],
                        "last_ts": row[S_LAST],
                        "project": label(row[S_PROJECT]),
                        "source": label(row[S_SOURCE]),
                        "mark": row[S_MARK],
                        "end_ts": row[S_END] if row[S_END] is not None else -1.0,
                        "counts": row[S_TOOLS : S_RATING_MILLI + 1],
                    }
                    for s, row in self._sessions.items()
                    if math.isfinite(row[S_FIRST])
                ],
                "tools": [{"name": n, "counts": v} for n, v in self._tools.items()],
                "tool_turns": [
                    {"name": n, "counts": [c if abs(c) < 2**62 else str(c) for c in v]}
                    for n, v in self._tool_turns.items()
                ],
                # The last keyed requests, so a larger streaming copy arriving after a
                # restart still replaces its earlier copy instead of counting twice.
                "recent_requests": [
                    [
                        ev.request_key,
                        ev.ts,
                        ev.model,
                        label(ev.provider),
                        ev.input,
                        ev.cache_read,
                        ev.cache_write_5m,
                        ev.cache_write_1h,
                        ev.output,
                        ev.reasoning,
                        label(ev.tier),
                        label(ev.session),
                        ev.reported_cost_usd or 0.0,
                        list(ev.tools or ()),
                        ev.tool_prompt,
                    ]
                    for ev in list(self._seen.values())[-self._saved_copies :]
                ],
                "tickets": [
                    {
                        "id": tid,
                        "status": st,
                        "ts": ts,
                        "track": label(tr),
                        "first_ts": f,
                        "reason": label(r),
                        "session": label(sn),
                        **({"track_ts": tk[0], "track_rank": tk[1]} if tk else {}),
                    }
                    for tid, (st, ts, tr, f, r, tk, sn) in self._tickets.items()
                ],
                "tickets_retired": dict(self._retired_tickets),
                "errors": {"files": dict(self.bad_lines), "reasons": dict(self.bad_reasons)},
                "ui": self.ui,
                "notices": list(self.notices[-10:]),
            }
            if self._budget_usd is not None:
                data["budget_usd"] = self._budget_usd
            overrides = self.prices.overrides
            if overrides:
                data["pricing"] = {"overrides": overrides}
            return data

    def _load_state(self, data: dict, *, keep_budget: bool, keep_overrides: bool) -> None:
        """Restore what ``to_state`` wrote. Every value is checked (``decode``): anything no
        save of ours writes raises CorruptState, and the caller starts clean."""
        if not keep_overrides and "pricing" in data:
            self.prices.set_overrides(decode.table(data["pricing"], "pricing").get("overrides"))
        if not keep_budget and "budget_usd" in data:
            self._budget_usd = self._check_budget(data["budget_usd"])
        self.window_s = decode.whole(data.get("window_s", self.window_s), "window_s", 1, 7 * DAY_S)
        span = decode.table(data.get("span", {}), "span")
        first, last = (decode.optional(decode.moment, span.get(k), f"span.{k}") for k in ("first_ts", "last_ts"))
        self._first_ts, self._last_ts = first, last
        self._first_ts_or_max = math.inf if first is None else first
        self._last_ts_or_min = -math.inf if last is None else last
        self._ticket_first_ts = decode.optional(decode.moment, span.get("ticket_first_ts"), "span.ticket_first_ts")
        self._latest_other_ts = decode.optional(decode.moment, span.get("latest_other_ts"), "span.latest_other_ts")
        self._load_usage(decode.rows(data, "usage"))
        if "timeline" in data:
            self._timeline = BucketSeries.from_state(decode.table(data["timeline"], "timeline"), fields=6)
        for i, row in enumerate(decode.array(data.get("recent", []), "recent")):
            sec, *v = decode.array(row, f"recent[{i}]", 3)
            bucket = self._recent.bucket(decode.moment(sec, f"recent[{i}][0]"))
            if bucket is not None:
                bucket[:] = decode.counters(v, f"recent[{i}]", 2)
        self._days = {}
        for i, row in enumerate(decode.array(data.get("days", []), "days")):
            day, *v = decode.array(row, f"days[{i}]", 6)
            self._days[decode.day(day, f"days[{i}][0]")] = decode.counters(v, f"days[{i}]", 5)
        self._load_sessions(decode.rows(data, "sessions"))
        self._tools = decode.named_counters(decode.rows(data, "tools"), "tools")
        self._tool_turns = decode.named_counters(decode.rows(data, "tool_turns"), "tool_turns")
        for i, row in enumerate(decode.array(data.get("recent_requests", []), "recent_requests")):
            ev = decode.request_copy(decode.array(row, f"recent_requests[{i}]"), f"recent_requests[{i}]")
            self._seen[ev.request_key] = ev
        self._load_tickets(data)
        errors = decode.table(data.get("errors", {}), "errors")
        self.bad_lines = decode.counts_by_name(errors.get("files", {}), "errors.files")
        self.bad_reasons = decode.counts_by_name(errors.get("reasons", {}), "errors.reasons")
        self._saved_offsets = {}
        for digest, row in decode.table(data.get("offsets", {}), "offsets").items():
            self._saved_offsets[digest] = decode.position(row, f"offsets.{digest}")
        self.ui = decode.ui_preferences(data.get("ui", {}))
        self._last_labels = None
        self._contexts.clear()
        self._hot_sec = -1
        self.version += 1

    def _load_usage(self, rows: list[dict]) -> None:
        for i, row in enumerate(rows):
            where = f"usage[{i}]"
            counts = decode.array(row.get("counts"), f"{where}.counts")
            if len(counts) == TOOL_PROMPT:  # saved before tool-use prompts were counted apart
                counts = [*counts, 0]
            model = decode.text(row.get("model"), f"{where}.model", empty_is_none=True)
            if model is None:
                raise decode.CorruptState(f"{where}.model", "must not be empty")
            key = (
                model,
                decode.text(row.get("tier", ""), f"{where}.tier", True),
                decode.text(row.get("session", ""), f"{where}.session", True),
            )
            self._combos[key] = decode.counters(counts, f"{where}.counts", N_COUNTERS)
            days = {}
            for j, day_row in enumerate(decode.array(row.get("days", []), f"{where}.days")):
                day, *v = decode.array(day_row, f"{where}.days[{j}]", 4)
                days[decode.day(day, f"{where}.days[{j}][0]")] = decode.counters(v, f"{where}.days[{j}]", 3)
            self._combo_days[key] = days
            provider = decode.text(row.get("provider", ""), f"{where}.provider", True)
            if provider or model not in self._model_provider:
                self._model_provider[model] = provider
        for model, provider in self._model_provider.items():
            self._pricing_cache[(model, provider)] = self.prices.pricing(model, provider)

    def _load_sessions(self, rows: list[dict]) -> None:
        self._sessions = {}
        for i, s in enumerate(rows):
            where = f"sessions[{i}]"
            name = decode.text(s.get("name"), f"{where}.name")
            row = self._sessions[name] = self._blank_session()
            row[S_FIRST] = decode.moment(s.get("first_ts"), f"{where}.first_ts")
            row[S_LAST] = decode.moment(s.get("last_ts"), f"{where}.last_ts")
            row[S_PROJECT] = decode.text(s.get("project", ""), f"{where}.project", True)
            row[S_SOURCE] = decode.text(s.get("source", ""), f"{where}.source", True)
            row[S_MARK] = decode.whole(s.get("mark", UNDELIMITED), f"{where}.mark", UNDELIMITED, ENDED)
            end = s.get("end_ts", -1.0)
            row[S_END] = None if end == -1.0 else decode.moment(end, f"{where}.end_ts")
            row[S_TOOLS : S_RATING_MILLI + 1] = decode.counters(s.get("counts", [0, 0, 0, 0]), f"{where}.counts", 4)

    def _load_tickets(self, data: dict) -> None:
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
            self._tickets[decode.text(t.get("id"), f"{where}.id")] = [
                status,
                decode.moment(t.get("ts"), f"{where}.ts"),
                track,
                decode.moment(t.get("first_ts"), f"{where}.first_ts"),
                decode.text(t.get("reason", ""), f"{where}.reason", True),
                track_update,
                decode.text(t.get("session", ""), f"{where}.session", True),
            ]
        for status, n in decode.table(data.get("tickets_retired", {}), "tickets_retired").items():
            self._retired_tickets[decode.status(status, "tickets_retired")] = decode.whole(
                n, f"tickets_retired.{status}"
            )
