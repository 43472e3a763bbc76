"""Copies of one request: which one a history keeps, and collapsing a file's copies to it.

A request's copies share its ``request_key``: Claude Code writes a streamed response once
per content block with output growing, a resumed session copies its history, a log may
rewrite a record in place (a key marked ``REWRITE_MARK``: then the latest copy wins).
"""

from __future__ import annotations

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
