"""Quota windows estimated from the logs, for when the server gives no figure: the current
5-hour block (the ``block`` scope) and the last 7 days (the ``week`` scope), their
tokens, cost and requests, and the share of the limit the user set in state.toml.

- The limit is the user's (``[limits]``, ``PlanLimits``), never guessed: without one an
  estimate has tokens and cost but no used share, no pace, and nothing for the guard.
- With a token and a cost limit both set, the used share is the larger: the one that
  runs out first. A cost with unpriced requests in it is a floor (``unpriced_requests``).
- The week is the ``week`` scope (since local midnight six days ago): rolling, no reset.
- An estimate stands in for a missing server window: it is given when no current
  (not stale) server window of its length is known, or when the user set a limit for it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from .formatting import usd
from .limits import CLAUDE_WINDOW_S, duration_short, figures

SOURCE = "estimate"
LIMIT_SOURCE = "state.toml"
BLOCK_S = CLAUDE_WINDOW_S["five_hour"]
WEEK_S = CLAUDE_WINDOW_S["seven_day"]


@dataclass(frozen=True, slots=True)
class PlanLimits:
    """The limits the user set (``[limits]`` in state.toml); None: not set."""

    five_hour_tokens: int | None = None
    five_hour_cost_usd: float | None = None
    weekly_tokens: int | None = None
    weekly_cost_usd: float | None = None

    @classmethod
    def of(cls, table: dict | None) -> PlanLimits:
        """From a checked ``[limits]`` table (``state.plan_limits``)."""
        return cls(**{f.name: (table or {}).get(f.name) for f in fields(cls)})

    def any(self) -> bool:
        return any(getattr(self, f.name) is not None for f in fields(self))


@dataclass(frozen=True, slots=True)
class Usage:
    """What one scope of the logs holds: its span (None: no block running) and sums."""

    start_ts: float | None
    end_ts: float | None
    tokens: int
    cost_usd: float | None
    requests: int
    unpriced_requests: int

    @classmethod
    def of_snapshot(cls, snap: dict) -> Usage:
        """From a ``block`` or ``week`` snapshot (``TokenHistory.snapshot``)."""
        scope, totals = snap["scope"], snap["totals"]
        start, end = scope["start_ts"], scope["end_ts"]
        if scope["kind"] == "block" and start == end:  # resolve's "no block running"
            start = end = None
        return cls(start, end, totals["total_tokens"], totals["cost_usd"], totals["requests"],
                   totals["unpriced_requests"])  # fmt: skip


NO_BLOCK = Usage(None, None, 0, 0.0, 0, 0)


def _used_percent(usage: Usage, limit_tokens: int | None, limit_cost_usd: float | None) -> float | None:
    shares = []
    if limit_tokens:
        shares.append(usage.tokens / limit_tokens * 100)
    if limit_cost_usd:
        shares.append((usage.cost_usd or 0.0) / limit_cost_usd * 100)
    return max(shares) if shares else None


def window(name: str, usage: Usage, limit_tokens: int | None, limit_cost_usd: float | None, now_ts: float) -> dict:
    """One estimated window in ``limits.figures``' shape (``source`` "estimate"), with
    what it was estimated from (``limits.ESTIMATE_FIELDS``)."""
    window_s = BLOCK_S if name == "five_hour" else WEEK_S
    if name == "five_hour" and usage.end_ts is not None and now_ts >= usage.end_ts:
        usage = NO_BLOCK  # taken before its end: that block is over
    resets_at_ts = usage.end_ts if name == "five_hour" else None
    used = _used_percent(usage, limit_tokens, limit_cost_usd)
    w = figures(SOURCE, name, used, resets_at_ts, window_s, now_ts, now_ts)
    has_limit = limit_tokens is not None or limit_cost_usd is not None
    return {
        **w,
        "estimate": True,
        "limit_source": LIMIT_SOURCE if has_limit else None,
        "start_ts": usage.start_ts,
        "tokens": usage.tokens,
        "cost_usd": usage.cost_usd,
        "requests": usage.requests,
        "unpriced_requests": usage.unpriced_requests,
        "limit_tokens": limit_tokens,
        "limit_cost_usd": limit_cost_usd,
    }


def windows(block: Usage, week: Usage, plan: PlanLimits, server: list[dict], now_ts: float) -> list[dict]:
    """The estimated windows to give beside the ``server`` ones (``limits.all_windows``):
    the 5-hour block and the week, each unless a current server window of its length is
    known and the user set no limit for it; none for logs with no request and no limit."""
    current = {w["window_s"] for w in server if not w["stale"]}
    out = []
    for name, usage, tokens, cost in (
        ("five_hour", block, plan.five_hour_tokens, plan.five_hour_cost_usd),
        ("seven_day", week, plan.weekly_tokens, plan.weekly_cost_usd),
    ):
        has_limit = tokens is not None or cost is not None
        length = BLOCK_S if name == "five_hour" else WEEK_S
        if has_limit or (length not in current and usage.requests):
            out.append(window(name, usage, tokens, cost, now_ts))
    return out


def usage_of(history, kind: str, now_ts: float) -> Usage:
    """The ``block`` or ``week`` scope of a ``TokenHistory`` at ``now_ts`` (a snapshot:
    a week of many sessions takes milliseconds, so the panel takes it seldom)."""
    from .scope import Scope

    return Usage.of_snapshot(history.snapshot(now_ts=now_ts, scope=Scope(kind)))


def of_history(history, server: list[dict], now_ts: float, *, limited_only: bool = False) -> list[dict]:
    """``windows`` for a ``TokenHistory`` (its ``block`` and ``week`` scopes, its
    ``plan_limits``): with ``usage_of``, the only readers here of anything but their
    arguments. ``limited_only``: only the windows the user set a limit for (the guard's:
    no other can cross a threshold), so no scope is summed for nothing."""
    plan = PlanLimits.of(history.plan_limits)
    if not plan.any() and (limited_only or history.usage.last_ts is None):
        return []
    wanted = {
        "block": not limited_only or plan.five_hour_tokens is not None or plan.five_hour_cost_usd is not None,
        "week": not limited_only or plan.weekly_tokens is not None or plan.weekly_cost_usd is not None,
    }
    block, week = (usage_of(history, kind, now_ts) if wanted[kind] else NO_BLOCK for kind in ("block", "week"))
    return windows(block, week, plan, server, now_ts)


def limit_text(w: dict) -> str:
    """'5,000,000 tokens', '$40.00', '5,000,000 tokens or $40.00', or 'not set'."""
    parts = []
    if w["limit_tokens"] is not None:
        parts.append(f"{w['limit_tokens']:,} tokens")
    if w["limit_cost_usd"] is not None:
        parts.append(usd(w["limit_cost_usd"]))
    return " or ".join(parts) if parts else "not set"


def cost_text(w: dict) -> str:
    """'$3.40', or '$3.40 + 2 unpriced' when some requests have no known price."""
    cost = usd(w["cost_usd"])
    return f"{cost} + {w['unpriced_requests']:,} unpriced" if w["unpriced_requests"] else cost


def spent_text(w: dict) -> str:
    """'1,234,567 tokens, $3.40, 12 requests'."""
    return f"{w['tokens']:,} tokens, {cost_text(w)}, {w['requests']:,} requests"


def phrase(w: dict) -> str:
    """One estimated window in words, e.g. 'estimate 5h block: 1,234 tokens, $0.42, 3
    requests, ends in 2h 13m, 56% elapsed; 42% of your limit (5,000,000 tokens), pace 75%
    at the end' (or '... no limit set: [limits] in state.toml')."""
    if w["name"] == "five_hour":
        head = "estimate 5h block"
        if w["resets_at_ts"] is None:
            head += " (none running)"
    else:
        head = "estimate last 7d"
    parts = [f"{head}: {spent_text(w)}"]
    if w["resets_in_s"] is not None:
        parts.append(f"ends in {duration_short(w['resets_in_s'])}")
    if w["elapsed_share"] is not None:
        parts.append(f"{w['elapsed_share'] * 100:.0f}% elapsed")
    text = ", ".join(parts)
    if w["used_percent"] is None:
        return f"{text}; no limit set: [limits] in state.toml"
    text += f"; {w['used_percent']:,.0f}% of your limit ({limit_text(w)})"
    if w["pace_percent_at_reset"] is not None:
        text += f", pace {w['pace_percent_at_reset']:,.0f}% at the end"
    if w["full_before_reset"]:
        text += f", 100% in {duration_short(w['full_in_s'])}"
    return text
