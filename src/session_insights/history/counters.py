"""The counters every usage aggregate is made of, and the figures people read from them.

One flat list per aggregate, addressed by these constants: the hot path adds into it
400k times a second, where a list index is the cheapest field there is. Everything off
that path reads ``figures()``, named fields.
"""

from __future__ import annotations

from collections.abc import Iterable
from operator import add

from ..pricing import usd

# Counters kept per (model, tier, session): one list, so an event costs one dict look-up.
# TOOL_PROMPT (part of IN) and then WEB_SEARCHES (billed per search) came last, so state
# saved before them loads with zeros appended.
REQ, IN, CR, CW5, CW1H, OUT, REASON, COST, UNPRICED, REPORTED, TOOL_PROMPT, WEB_SEARCHES = range(12)
N_COUNTERS = 12
# Timeline bucket fields.
T_IN, T_OUT, T_CR, T_CW, T_COST, T_REQ = range(6)
T_FIELDS = 6
# Per (model, tier, session) and UTC day: requests, tokens, cost.
CD_REQ, CD_TOKENS, CD_COST = range(3)


def blank() -> list[int]:
    return [0] * N_COUNTERS


def summed(counter_lists: Iterable[list[int]]) -> list[int]:
    """Counter lists added up field by field (zeros for none)."""
    total = blank()
    for counters in counter_lists:
        total = list(map(add, total, counters))
    return total


def add_into(target: list[int], counters: list[int]) -> None:
    target[:] = map(add, target, counters)


def total_tokens(c: list[int]) -> int:
    return c[IN] + c[CR] + c[CW5] + c[CW1H] + c[OUT]


def figures(c: list[int], total_cost_pusd: int = 0) -> dict:
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
        "web_searches": c[WEB_SEARCHES],  # billed per search, in cost_usd
        "total_tokens": total_tokens(c),
        # Unknown (None) when nothing of it could be priced, never $0; a partly priced
        # row carries the priced part and says how many requests are not in it.
        "cost_usd": None if nothing_priced else usd(c[COST]),
        "unpriced_requests": c[UNPRICED],
        "reported_cost_usd": usd(c[REPORTED]) if c[REPORTED] else None,
        "share_pct": 100.0 * c[COST] / total_cost_pusd if total_cost_pusd and not nothing_priced else None,
    }


def encoded(values: list[int]) -> list:
    """Counters as TOML can hold them: a sum past 2**62 as text (decode takes both)."""
    return [c if abs(c) < 2**62 else str(c) for c in values]
