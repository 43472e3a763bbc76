"""Copies of one model call that two instrumentations export (the ``otel`` source).

The Anthropic SDK traces its own calls (scope ``com.anthropic.sdk.python``), and
OpenLLMetry's ``opentelemetry-instrumentation-anthropic`` traces the same
``messages.create`` again: two spans in two traces, same model and counts, overlapping
times. Invariant: copies that name the same response (``gen_ai.response.id``, one per
response a provider sends) count once; copies without that id are each counted, and a
notice names the likely duplicate. Equal counts at overlapping times are also what
parallel identical requests give (a fan-out of one prompt, a batch with a warm cache):
dropping one of those on a guess would bill less than was spent.

- the copies of one response merge: the larger token total wins (as the history keeps a
  request's larger copy), and detail one copy has and the other lacks (the 1-hour part
  of the cache writes, reasoning, a session, a tier, a model, a cost) is kept. The merged copy
  goes out under a ``REWRITE_MARK`` key, so it replaces the copy counted before it;
- ``remember_only`` replays a file's head after a restart: the responses and recent
  calls are known again, nothing is emitted or noticed.
"""

from __future__ import annotations

from collections import deque
from typing import NamedTuple

from ..events import UsageEvent
from ..history import REWRITE_MARK
from .base import Memory

UNRECORDED_MODEL = "unrecorded"
MAX_RESPONSES = 20_000  # responses remembered: two exporters write one call seconds apart
RECENT_CALLS = 256  # calls compared for a likely duplicate: two exporters write close together


def response_key(provider: str | None, response_id: str) -> str:
    """The request key of every copy of one response."""
    return f"{REWRITE_MARK}otel:{provider or ''}:{response_id}"


class _Seen(NamedTuple):
    fingerprint: tuple
    trace: str | None
    response_id: str | None
    start_s: float
    end_s: float


def _fingerprint(ev: UsageEvent) -> tuple:
    return (ev.model, ev.provider, ev.input, ev.cache_read, ev.cache_write_5m + ev.cache_write_1h, ev.output)


def merge(old: UsageEvent, new: UsageEvent) -> UsageEvent:
    """One copy of a response from two: the larger total, with the other's extra detail."""
    base, other = (new, old) if new.total_tokens > old.total_tokens else (old, new)
    out = base
    same_writes = other.cache_write_5m + other.cache_write_1h == base.cache_write_5m + base.cache_write_1h
    if same_writes and other.cache_write_1h > base.cache_write_1h:
        out = out._replace(cache_write_5m=other.cache_write_5m, cache_write_1h=other.cache_write_1h)
    return out._replace(
        reasoning=min(max(base.reasoning, other.reasoning), base.output),
        model=other.model if base.model == UNRECORDED_MODEL else base.model,
        session=base.session or other.session,
        tier=base.tier or other.tier,
        reported_cost_usd=base.reported_cost_usd if base.reported_cost_usd is not None else other.reported_cost_usd,
    )


class Copies:
    """The responses counted and the calls read lately, to tell copies of one call apart."""

    def __init__(self) -> None:
        self._responses = Memory(MAX_RESPONSES)  # response key -> the copy counted
        self._recent: deque[_Seen] = deque(maxlen=RECENT_CALLS)

    def of_response(self, event: UsageEvent) -> UsageEvent | None:
        """The copy to count for ``event`` (keyed by its response): merged with the
        copies before it, or None when it adds nothing to what was counted."""
        old = self._responses.get(event.request_key)
        merged = event if old is None else merge(old, event)
        if merged == old:
            return None
        self._responses.remember(event.request_key, merged)
        return merged

    def twin(self, event: UsageEvent, trace: str | None, response_id: str | None, start_s: float, end_s: float) -> bool:
        """Whether a call read lately in another trace has this one's model and counts at
        an overlapping time, with no response id on both to tell them apart. Remembers it."""
        seen = _Seen(_fingerprint(event), trace, response_id, start_s, end_s)
        found = any(
            other.fingerprint == seen.fingerprint
            and other.trace != trace
            and other.start_s <= end_s
            and start_s <= other.end_s
            and (other.response_id is None or response_id is None)
            for other in self._recent
        )
        self._recent.append(seen)
        return found


def twin_notice(file: str, model: str) -> str:
    """One notice per file and model, however many calls it finds twice."""
    return (
        f"{file}: {model} calls appear twice, in two traces with the same tokens at the same time "
        "(two instrumentations of one client?); each copy is counted, as they name no response id to match"
    )
