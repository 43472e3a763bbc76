"""The inbox: what producers (hooks, sources, any thread) hand the history.

Producers only validate and append to a deque, which is atomic under the GIL;
``drain()``, called by the render loop or by ``report``, applies what is queued, within
a budget of records and time. What a source read from a file comes with the position it
read up to, and that position becomes the file's only once the records before it are
applied, so a save never keeps a position past records it does not count.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any

from .. import normalize
from ..events import (
    MAX_TOKENS_PER_REQUEST,
    MAX_TS,
    MIN_TS,
    Rating,
    TicketUpdate,
    ToolCall,
    UsageEvent,
    check_duration_ms,
    check_label,
    check_name,
    check_reason,
    check_score,
    check_status,
    check_ts,
    usage_event,
)
from .copies import latest_copies

RUN = 256  # requests drained at a time, between looks at the clock


def as_event(queued: tuple) -> UsageEvent:
    """A queued request as a UsageEvent (the fast path of ``record_usage`` queues its
    fields as a plain tuple)."""
    return queued if type(queued) is UsageEvent else UsageEvent._make(queued)


class Inbox:
    """The producer API and the drain loop; the history applies what is drained
    (``_add_usage``, ``_apply_keyed_usage``, ``_apply_other``)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._usage_inbox: deque[tuple] = deque()  # UsageEvents, or their fields as a plain tuple
        self._other_inbox: deque[ToolCall | TicketUpdate | Rating] = deque()
        # What sources read: (file, its records, the position they were read up to), in order.
        self._reads_inbox: deque[tuple[str, list, dict]] = deque()
        self._read_cursor = 0  # records of the first read already applied
        # Records (and one per file) the reads queued and not yet applied: ``pending``
        # reads this number, never the deque, which another thread may be appending to.
        self._reads_left = 0
        self._queued_positions: dict[str, dict] = {}  # file -> its latest position not yet applied
        self._clean_labels: set[str] = set()  # names known to pass check_name / check_label as they are
        self.offsets: dict[str, dict] = {}  # per-source read positions of applied reads
        self.applied = 0  # records applied since start; the status bar's events/s
        self.version = 0  # bumped whenever an aggregate changes
        self._apply_reads = False  # apply what add_read queues at once (handover.keep_digests)

    def clear_inbox(self) -> None:
        self._usage_inbox.clear()
        self._other_inbox.clear()
        self._reads_inbox.clear()
        self._read_cursor = 0
        self._reads_left = 0
        self._queued_positions.clear()

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
        # The common call (plain ints, clean labels, float or no ts): usage_event's checks, inline.
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
            # A plain tuple in UsageEvent's field order (a fifth of this call's time to make
            # one): only the drain reads it, by position; whatever hands a queued request
            # on makes it a UsageEvent (``as_event``).
            self._usage_inbox.append((ts, model, None, input_tokens, cache_read_tokens, cache_write_tokens, cache_write_1h_tokens, output_tokens, reasoning_tokens, tier, session, None, None, None, None, 0, None, None, False))  # fmt: skip
            return
        # Any other call: every parameter, checked and named, as usage_event takes them.
        self._queue_checked({name: value for name, value in locals().items() if name != "self"})

    def _queue_checked(self, given: dict[str, Any]) -> None:
        ev = usage_event(**given)
        self._usage_inbox.append(ev)
        self._learn_labels(*((given[name], getattr(ev, name)) for name in ("model", "tier", "session")))

    def _learn_labels(self, *pairs: tuple[object, object]) -> None:
        """Labels that passed the checks unchanged take the fast path next time."""
        if len(self._clean_labels) < 10_000:
            for raw, checked in pairs:
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
        if provider_id == "anthropic":  # fast mode and web searches change the price
            counts = {**counts, **normalize.anthropic_price_terms(response["usage"])}
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
        session: str | None = None,
    ) -> None:
        """Queue a ticket entering ``status``: todo, in_progress, blocked or completed;
        ``session`` is the one that worked it, so its cost per ticket can be told."""
        if isinstance(ticket_id, int) and not isinstance(ticket_id, bool):
            ticket_id = str(ticket_id)
        self._other_inbox.append(
            TicketUpdate(
                check_ts(ts),
                check_name("ticket_id", ticket_id),
                check_status(status),
                check_label("track", track),
                check_reason(reason),
                check_label("session", session),
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
            first_read = file not in self.reading.file_kinds and self.offset_for(file) is None
            self._queued_positions[file] = position
            self.reading.read(file, records, first_read)
            if self._apply_reads:  # a request's copies collapsed to the one kept: one add, not three
                records, left_out = latest_copies(records)
                for source, (n, _) in left_out.items():
                    self.reading.copies_seen(source, n)
            self._reads_inbox.append((file, records, position))
            self._reads_left += len(records) + 1
        if self._apply_reads:  # a worker's history: a file's records counted as it is read
            self.drain()

    def offset_for(self, key: str) -> dict | None:
        return self._queued_positions.get(key) or self.offsets.get(key)

    @property
    def pending(self) -> int:
        return len(self._usage_inbox) + len(self._other_inbox) + self._reads_left

    # --- consumer: one thread at a time -----------------------------------------

    def hold_if_free(self) -> bool:
        """Take the history's lock if no other thread holds it, and say whether it was
        taken (then ``release_hold``). The panel's frame uses it never to wait for a
        reader merging a backlog's parts; the lock is re-entrant, so the drain and the
        snapshot the frame makes meanwhile take it again without waiting."""
        return self._lock.acquire(blocking=False)

    def release_hold(self) -> None:
        self._lock.release()

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
                n = self._drain_reads(limit - applied, deadline)
                self._reads_left -= n
                applied += n
            if applied < limit:
                applied += self._drain_usage(limit - applied, deadline)
            if applied:
                self.applied += applied
                self.version += 1
        return applied

    def _drain_usage(self, limit: float, deadline: float | None) -> int:
        """Apply queued requests in runs of up to ``RUN`` (the usage part counts a run's
        requests of one second into its buckets at once)."""
        inbox, add_run, keyed = self._usage_inbox, self._add_usage_run, self._apply_keyed_usage
        pop = inbox.popleft
        n = 0
        while n < limit and inbox:
            take = int(min(limit - n, len(inbox), RUN))
            add_run([pop() for _ in range(take)], 1, keyed)
            n += take
            if deadline is not None and time.perf_counter() > deadline:
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
