"""Each request once, as the per-request histogram wants it.

The history counts a request at its largest copy: a later copy takes the earlier back
(``-1``) and counts itself (``+1``). A histogram cannot take an observation back, so a
request with a key waits ``SETTLE_S`` after its latest copy before it is handed out;
one a copy replaces after that stays as it was recorded (the request is counted once,
its tokens at that copy's). Requests without a key have no copies: handed out at once.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from ..events import UsageEvent
from ..history import TokenHistory
from ..history.inbox import as_event

# Claude Code writes a streamed message's copies within seconds of each other.
SETTLE_S = 10.0


class RequestLog:
    """What the history's drain counted, request by request (``attach`` it first)."""

    def __init__(self, settle_s: float = SETTLE_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.settle_s = settle_s
        self.clock = clock
        self._observed: deque[tuple[UsageEvent, int]] = deque()
        # request key -> (its latest copy, when a take first saw that copy)
        self._waiting: dict[str, tuple[UsageEvent, float]] = {}
        self._late: set[str] = set()  # keys recorded already, whose next copy is not recorded again

    def attach(self, history: TokenHistory) -> None:
        """See every request ``history``'s drain counts or takes back from now on."""
        history.watch_usage(self._watch)

    def _watch(self, add: Callable, add_run: Callable) -> tuple[Callable, Callable]:
        """The usage part's ``add`` and ``add_run``, each noting what it counted."""
        observed = self._observed

        def add_and_observe(ev: UsageEvent, sign: int) -> None:
            add(ev, sign)
            observed.append((ev, sign))  # under the history's lock: only an append here

        def add_run_and_observe(events, sign: int, keyed=None) -> None:
            add_run(events, sign, keyed)
            # the keyed ones went through add_and_observe (via keyed); the queue's are tuples
            observed.extend((as_event(ev), sign) for ev in events if keyed is None or ev[12] is None)

        return add_and_observe, add_run_and_observe

    def observe(self, ev: UsageEvent, sign: int) -> None:
        self._observed.append((ev, sign))

    def take(self, flush: bool = False) -> list[UsageEvent]:
        """The requests ready for the histogram (with ``flush``, every one waiting too)."""
        now = self.clock()
        ready: list[UsageEvent] = []
        observed, waiting, late = self._observed, self._waiting, self._late
        while observed:
            ev, sign = observed.popleft()
            key = ev.request_key
            if key is None:
                if sign > 0:
                    ready.append(ev)
            elif sign < 0:
                if waiting.pop(key, None) is None:
                    late.add(key)  # its recorded copy is replaced: the new one is not recorded again
            elif key in late:
                late.discard(key)
            else:
                waiting[key] = (ev, now)
        for key in [k for k, (_, seen) in waiting.items() if flush or now - seen >= self.settle_s]:
            ready.append(waiting.pop(key)[0])
        return ready
