"""Copies of one request: which one a history keeps, and collapsing a file's copies to it.

A request's copies share its ``request_key``: Claude Code writes a streamed response once
per content block with output growing, a resumed session copies its history, a log may
rewrite a record in place (a key marked ``REWRITE_MARK``: then the latest copy wins).
A history holds the copy it kept of each recent request whole (``HeldCopies``), so that
a larger copy can take its place.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator

from ..events import UsageEvent

REWRITE_MARK = "~"  # request_key prefix: the latest copy replaces the earlier ones


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
        ev.finished,  # of two copies with the same counts, the one that says it ended
        # last, the labels: equal copies in two sessions (a resumed session copies earlier
        # messages) go to the same one whatever the order they are read in
        ev.session or "",
        ev.tier or "",
        ev.provider or "",
    )


def latest_copies(records: list) -> tuple[list, dict[str, list[int]]]:
    """``records`` less the copies of a request the history would drop anyway (the smaller
    copies of a streamed request, the earlier copies of a rewritten one), in order, so
    fewer cross between processes; and how many copies that left out, by source (the
    history's reading part, so provenance reads the same however a file was read).
    Keys are settled again where the copies meet."""
    keep: dict[str, int] = {}
    left_out: dict[str, list[int]] = {}
    for i, record in enumerate(records):
        key = record.request_key if type(record) is UsageEvent else None
        if key is None:
            continue
        j = keep.get(key)
        if j is not None:
            left_out.setdefault(record.source or "host", [0, 0])[0] += 1
        if j is None or supersedes(record, records[j]):
            keep[key] = i
    winners = set(keep.values())
    kept = [r for i, r in enumerate(records) if type(r) is not UsageEvent or r.request_key is None or i in winners]
    return kept, left_out


class HeldCopies:
    """The copies a history holds whole, in two bounded tiers, each least recently kept
    first: requests whose copy may still grow (a stream cut short, repeated whole by a
    resumed session any distance on), up to ``open_limit``; and requests whose copy says
    the response ended (``UsageEvent.finished``), up to ``finished_limit``. Only an equal
    copy of a finished request can follow, which the digest of its key turns away once it
    is let go, so few are held: their larger copies sit next to them in their file."""

    def __init__(self, open_limit: int, finished_limit: int):
        self.open: OrderedDict[str, UsageEvent] = OrderedDict()
        self.finished: OrderedDict[str, UsageEvent] = OrderedDict()
        self.open_limit, self.finished_limit = open_limit, finished_limit

    def get(self, key: str) -> UsageEvent | None:
        found = self.open.get(key)
        return found if found is not None else self.finished.get(key)

    def keep(self, key: str, ev: UsageEvent, old: UsageEvent | None = None) -> str | None:
        """Hold ``ev`` as the copy of ``key`` (in place of ``old``, the copy held so far);
        returns the key of the request let go to make room, if one was."""
        if old is not None and old.finished != ev.finished:
            (self.finished if old.finished else self.open).pop(key)
        tier, limit = (self.finished, self.finished_limit) if ev.finished else (self.open, self.open_limit)
        tier[key] = ev
        tier.move_to_end(key)
        return tier.popitem(last=False)[0] if len(tier) > limit else None

    def __contains__(self, key: object) -> bool:
        return key in self.open or key in self.finished

    def __len__(self) -> int:
        return len(self.open) + len(self.finished)

    def __iter__(self) -> Iterator[str]:
        yield from self.open
        yield from self.finished

    def items(self) -> Iterator[tuple[str, UsageEvent]]:
        yield from self.open.items()
        yield from self.finished.items()

    def relabel(self, key: str, ev: UsageEvent) -> None:
        """Put ``ev``, the same copy under other labels, where ``key``'s copy is held."""
        (self.finished if ev.finished else self.open)[key] = ev

    def recent(self, n: int) -> list[UsageEvent]:
        """Up to ``n`` of the copies held, the latest kept of each tier: first those that
        may still grow (a restart is when their larger copy is most likely to come)."""
        grow = list(self.open.values())[-n:] if n else []
        room = n - len(grow)
        return [*grow, *(list(self.finished.values())[-room:] if room else [])]

    def clear(self) -> None:
        self.open.clear()
        self.finished.clear()
