"""An audit log's open session: its running totals, and the requests their growth makes.

The audit log (audit.py) writes running counters, never a request's usage; an
``OpenSession`` turns the counters of a session's successive entries into requests,
so that a session without a reset sums to its end totals minus its start totals, never
below zero. Quirks kept here:
- usage is the growth since the session's previous entry, per counter and never below
  zero. A counter that goes backwards was reset: that entry adds nothing for it, and its
  new value is the base from then on; an end below its start is zero, never negative;
- an entry carrying a ``generation_id`` is one request: it yields the growth of that
  generation so far, under a request key naming it, so a line written twice counts
  once, and a later entry stamped with the same id (the writer stamps the last
  generation it looked up) adds its growth to that generation instead of losing it. An
  id already seen in the session on an entry whose totals are below the latest is a
  replayed copy (``replayed``). Growth on an entry without an id is a request of its own;
- no model is recorded: usage is under the model "unrecorded" (counted, shown
  unpriced, never a silent $0).
"""

from __future__ import annotations

from collections import OrderedDict

from ..events import UsageEvent, usage_event
from ..history import REWRITE_MARK

UNRECORDED_MODEL = "unrecorded"
# Bound on what is remembered per session, so a log that never closes it cannot grow
# memory without end.
MAX_GENERATIONS_PER_SESSION = 256


class OpenSession:
    """What a session's next entry is measured against, and what it counted so far."""

    __slots__ = ("counted_in", "counted_out", "emitted", "generations", "last_in", "last_out", "start_in", "start_out")

    def __init__(self, total_in: int, total_out: int, generation: str | None = None):
        self.start_in = self.last_in = total_in
        self.start_out = self.last_out = total_out
        # generation id -> [input, output] growth counted under it so far
        self.generations: OrderedDict[str, list[int]] = OrderedDict()
        if generation is not None:
            self.generations[generation] = [0, 0]  # its growth is before the base: unknown
        # request key -> the copy of its request counted last, so the end can take back
        # what a counter that went backwards had counted (see ``settle``)
        self.emitted: OrderedDict[str, UsageEvent] = OrderedDict()
        self.counted_in = self.counted_out = 0

    def replayed(self, generation: str | None, total_in: int, total_out: int) -> bool:
        """Whether an entry of a generation already seen, with totals below the latest, is
        a copy of an earlier entry written again."""
        return (
            generation is not None
            and generation in self.generations
            and (total_in < self.last_in or total_out < self.last_out)
        )

    def grow(
        self, ts: float, project: str | None, session: str, generation: str | None, total_in: int, total_out: int
    ) -> list[UsageEvent]:
        """The request the growth up to these totals makes, if any; they are the base from now."""
        grew_in = max(0, total_in - self.last_in)
        grew_out = max(0, total_out - self.last_out)
        prefix = f"{REWRITE_MARK}audit:{project or ''}:{session}"
        grown = None
        if generation is not None:
            # This generation's growth so far, under its key: the latest copy holds it all.
            grown = self.generations.get(generation)
            so_far = grown or (0, 0)
            key, input_tokens, output_tokens = f"{prefix}:{generation}", so_far[0] + grew_in, so_far[1] + grew_out
        elif grew_in or grew_out:
            # Keyed by the entry itself, so the end can take it back and a copy of the
            # line read again counts once.
            key, input_tokens, output_tokens = f"{prefix}@{ts!r}:{total_in}:{total_out}", grew_in, grew_out
        else:
            self.last_in, self.last_out = total_in, total_out
            return []
        event = usage_event(
            model=UNRECORDED_MODEL,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            ts=ts,
            tier=project,
            session=session,
            source="audit",
            request_key=key,
        )
        self.count(event)
        if generation is not None:
            if grown is None:
                grown = self.generations[generation] = [0, 0]
                if len(self.generations) > MAX_GENERATIONS_PER_SESSION:
                    self.generations.popitem(last=False)
            grown[0] += grew_in
            grown[1] += grew_out
        self.last_in, self.last_out = total_in, total_out
        return [event]

    def count(self, event: UsageEvent) -> None:
        """Remember ``event`` as the latest copy counted under its key."""
        old = self.emitted.pop(event.request_key, None)
        if old is not None:
            self.counted_in -= old.input
            self.counted_out -= old.output
        self.emitted[event.request_key] = event
        self.counted_in += event.input
        self.counted_out += event.output
        if len(self.emitted) > MAX_GENERATIONS_PER_SESSION:
            self.emitted.popitem(last=False)  # still counted, no longer taken back at the end

    def settle(self, end_in: int, end_out: int) -> list[UsageEvent]:
        """At the session's end: smaller copies of its latest requests that bring what it
        counted down to its end totals minus its start totals, never below zero.

        Growth is counted live, entry by entry, and a counter that went backwards was
        taken as reset; but the session's usage is defined by its two boundaries, so
        whatever the live count holds beyond that is taken back, newest request first.
        """
        excess_in = self.counted_in - max(0, end_in - self.start_in)
        excess_out = self.counted_out - max(0, end_out - self.start_out)
        fixes = []
        for event in reversed(self.emitted.values()):
            if excess_in <= 0 and excess_out <= 0:
                break
            cut_in = min(max(excess_in, 0), event.input)
            cut_out = min(max(excess_out, 0), event.output)
            if cut_in or cut_out:
                fixes.append(event._replace(input=event.input - cut_in, output=event.output - cut_out))
                excess_in -= cut_in
                excess_out -= cut_out
        for fix in fixes:
            self.count(fix)
        return fixes
