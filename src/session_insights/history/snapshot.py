"""The view of a scope: ``snapshot(parts, scope, now)``, a pure function of the parts.

Every figure is the scope's (DESIGN §3b): its requests, its sessions' tools and tickets,
burn rates over its active time (gaps of ``IDLE_GAP_S`` or more left out), projection
from its own rate and tickets. ``all`` sums every part, so it equals the sum of the
session scopes. Reads only; the caller holds the history's lock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from operator import add

from .. import metrics
from ..pricing import PriceBook, usd
from ..scope import Resolved
from .agent_cost import of_snapshot
from .counters import (
    COST,
    CR,
    CW1H,
    CW5,
    IN,
    N_COUNTERS,
    OUT,
    REASON,
    REQ,
    UNPRICED,
    figures,
    summed,
)
from .reading import PROVENANCE_FIELDS, ReadingPart
from .rollup import NO_TIER, SnapshotMemo, rollups, session_figures, session_rows
from .sessions import EARLIER_SESSIONS, ENDED, OPEN, UNDELIMITED, SessionsPart
from .tickets import TicketsPart
from .tools import ToolsPart
from .usage import UsagePart

IDLE_GAP_S = metrics.IDLE_GAP_S


@dataclass(slots=True)
class Parts:
    """What a snapshot is made of: the four parts and the settings and findings of the
    history that holds them."""

    usage: UsagePart
    sessions: SessionsPart
    tickets: TicketsPart
    tools: ToolsPart
    budget_usd: float | None = None
    window_s: int = metrics.DEFAULT_WINDOW_S
    extras: dict = field(default_factory=dict)  # sources, rate_limits, errors, notices
    reading: ReadingPart = field(default_factory=ReadingPart)  # what was read: provenance
    bad_lines: dict = field(default_factory=dict)  # file -> lines that could not be read
    memo: SnapshotMemo | None = None  # the last snapshots' sums, kept by the history


def scoped_combos(parts: Parts, scope: Resolved) -> list[tuple[tuple, list[int]]]:
    if scope.bounded_in_time:
        return parts.usage.combos_between(scope.start_ts, scope.end_ts, scope.sessions)
    return parts.usage.combos_of(scope.sessions)


def active_time(parts: Parts, scope: Resolved, names) -> float:
    """Seconds of activity in the scope: each session's, from its timeline where it keeps
    one, else what its row kept when its detail was let go."""
    total = 0.0
    for name in names:
        detail = parts.usage.details.get(name)
        if detail is not None:
            total += detail.active_s(IDLE_GAP_S, scope.start_ts, scope.end_ts)
        elif not scope.bounded_in_time:
            row = parts.sessions.rows.get(name)
            total += row.active_s if row is not None else 0.0
    return total


def window_seconds(parts: Parts, scope: Resolved, names, start: float, end: float) -> list:
    """(second, [tokens, cost_pusd]) of the scope's requests from ``start`` to ``end``."""
    lo = max(start, scope.start_ts) if scope.start_ts is not None else start
    hi = min(end, scope.end_ts) if scope.end_ts is not None else end
    merged: dict[int, list[int]] = {}
    details = parts.usage.details
    for name in details if scope.sessions is None else names:
        detail = details.get(name)
        if detail is None or detail.recent.latest < lo:
            continue
        for sec, v in detail.recent.window(lo, hi):
            acc = merged.get(sec)
            merged[sec] = list(v) if acc is None else [acc[0] + v[0], acc[1] + v[1]]
    return sorted(merged.items())


def burn_rates(parts: Parts, scope: Resolved, names, totals_c: list[int], now: float) -> dict:
    window_s = parts.window_s
    seconds = window_seconds(parts, scope, names, now - window_s - IDLE_GAP_S - 1, now)
    window = [(s, v) for s, v in seconds if s >= now - window_s]
    previous = max((s for s, _ in seconds if s < now - window_s), default=None)
    window_rate = metrics.window_burn_rate(window, now, window_s, previous, IDLE_GAP_S)
    tokens = totals_c[IN] + totals_c[CR] + totals_c[CW5] + totals_c[CW1H] + totals_c[OUT]
    active_s = active_time(parts, scope, names)
    scope_rate = metrics.active_burn_rate(tokens, usd(totals_c[COST]), active_s)
    return {"window_s": window_s, "window": window_rate.as_dict(), "session": scope_rate.as_dict()}


def tool_figures(parts: Parts, scope: Resolved) -> dict:
    calls_by_name = parts.tools.by_name(scope)
    turns: dict[str, list[int]] = {}
    for (session, name), turn in parts.usage.tool_turns.items():
        if scope.sessions is None or session in scope.sessions:
            acc = turns.get(name)
            turns[name] = list(turn) if acc is None else list(map(add, acc, turn))
    no_calls = [0, 0, 0, 0]
    tools = {}
    for name in sorted(set(calls_by_name) | set(turns), key=lambda n: (-calls_by_name.get(n, no_calls)[0], n)):
        calls, failures, total_us, max_us = calls_by_name.get(name, no_calls)
        n_turns, turn_tokens, turn_cost, unpriced_turns = turns.get(name, no_calls)
        tools[name] = {
            # Turns: the requests that called it. None where no request is known to have
            # (its source does not link calls to requests); cost None too when none was priced.
            "turns": n_turns,
            "turn_tokens": turn_tokens if n_turns else None,
            "turn_cost_usd": None if not n_turns or unpriced_turns == n_turns else usd(turn_cost),
            "unpriced_turns": unpriced_turns,
            "calls": calls,
            "failures": failures,
            "failure_rate_pct": 100.0 * failures / calls if calls else None,
            "total_ms": total_us / 1000,
            "mean_ms": total_us / 1000 / calls if calls else None,
            "max_ms": max_us / 1000,
        }
    return tools


def model_figures(parts: Parts, by_model_c: dict, total_cost_pusd: int) -> dict:
    by_model: dict[str, dict] = {}
    for model, c in sorted(by_model_c.items(), key=lambda kv: (-kv[1][COST], -sum(kv[1][IN : OUT + 1]), kv[0])):
        fig = figures(c, total_cost_pusd)
        provider = parts.usage.model_provider.get(model)
        fig["provider"] = provider
        fig["priced"] = c[UNPRICED] == 0
        pricing = parts.usage.pricing_cache.get((model, provider))
        if pricing is None and (model, provider) not in parts.usage.pricing_cache and parts.usage.prices.loaded():
            pricing = parts.usage.pricing(model, provider)  # restored from the state, not priced since
        fig["price_source"] = getattr(pricing, "source", None)
        by_model[model] = fig
    return by_model


def efficiency(rows: list[dict], totals: dict, closed_cost_pusd: int, completed: int, over_time=None) -> dict:
    # An open session (started, not yet ended) shows live but is in no average yet:
    # neither its tokens nor its completed tickets.
    open_rows = [row for row in rows if row["state"] == "open"]
    closed_tokens = totals["total_tokens"] - sum(row["total_tokens"] for row in open_rows)
    closed_cost = usd(closed_cost_pusd - sum(row["cost_pusd"] for row in open_rows))
    completed = max(0, completed - sum(row["tickets_completed"] for row in open_rows))
    ratings = sum(row["ratings"] for row in rows)
    rating_sum = sum(row["rating_sum"] for row in rows)
    if over_time is None:
        over_time = metrics.efficiency_over_time(
            metrics.session_unit(row) for row in rows if row["session"] != EARLIER_SESSIONS
        )
    return {
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


def provenance(parts: Parts, rows: list[dict], by_model_c: dict) -> dict:
    """How the scope's figures were counted: per source the sessions, requests and tokens
    of the scope, and what the reading gave (``ReadingPart.explain``: all of it, not only
    the scope's); per model the requests no price list knows and the cost the agent
    wrote itself beside ours."""
    reading = parts.reading.explain(parts.bad_lines)
    sources = reading["sources"]
    for row in rows:
        label = row["source"] or "host"
        s = sources.get(label)
        if s is None:
            s = sources[label] = dict.fromkeys(PROVENANCE_FIELDS, 0)
        s["sessions"] += 1
        s["requests"] += row["requests"]
        s["total_tokens"] += row["total_tokens"]
    unpriced = {
        m: {"requests": c[UNPRICED], "total_tokens": c[IN] + c[CR] + c[CW5] + c[CW1H] + c[OUT]}
        for m, c in sorted(by_model_c.items())
        if c[UNPRICED]
    }
    return {**reading, "sources": dict(sorted(sources.items())), "unpriced": unpriced}


def scope_figures(parts: Parts, scope: Resolved, names, active_s: float | None) -> dict:
    """What the top bar names: the scope's kind, its session's labels, span, active time."""
    row = parts.sessions.rows.get(scope.session) if scope.session is not None else None
    first = [r.first_ts for n in names if (r := parts.sessions.rows.get(n)) and math.isfinite(r.first_ts)]
    last = [r.last_ts for n in names if (r := parts.sessions.rows.get(n)) and math.isfinite(r.last_ts)]
    return {
        "kind": scope.kind,
        "session": scope.session,
        "project": row.project if row is not None else None,
        "source": row.source if row is not None else None,
        "start_ts": scope.start_ts if scope.start_ts is not None else min(first, default=None),
        "end_ts": scope.end_ts if scope.end_ts is not None else max(last, default=None),
        "active_s": active_s,
    }


def scoped_rows(parts: Parts, memo, by_session_c: dict, names) -> tuple[list[dict], dict, dict | None]:
    """The scope's session rows, their figures by name, and (kept by the memo) their
    efficiency over time; with no memo, built afresh (the over-time figure then too)."""
    if memo is None:
        rows = session_rows(parts, by_session_c, names)
        return rows, {row["session"]: session_figures(row) for row in rows}, None
    kept = memo.session_rows(parts, by_session_c, names)
    by_session = {k.row["session"]: dict(k.figures) for k in kept}
    return [k.row for k in kept], by_session, memo.efficiency_over_time(kept)


def tier_figures(by_tier_c: dict, tier_models: dict, total_cost_pusd: int) -> dict:
    by_tier = {}
    for tier, c in sorted(by_tier_c.items(), key=lambda kv: (-kv[1][COST], str(kv[0]))):
        fig = figures(c, total_cost_pusd)
        fig["models"] = sorted(tier_models.get(tier or NO_TIER, ()))
        by_tier[tier or NO_TIER] = fig
    return by_tier


def snapshot(parts: Parts, scope: Resolved, now_ts: float | None) -> dict:
    """Every figure of ``scope`` at ``now_ts`` (default: the scope's latest record), in
    the shape of ``report --format json``."""
    memo = parts.memo.of(scope) if parts.memo is not None else None
    combos = scoped_combos(parts, scope)
    by_model_c, by_tier_c, by_session_c, tier_models = memo.rollups(combos) if memo else rollups(combos)
    names = set(by_session_c) if scope.sessions is None else set(scope.sessions)
    if scope.sessions is None and not scope.bounded_in_time:
        names |= set(parts.sessions.rows)
    rows, by_session, over_time = scoped_rows(parts, memo, by_session_c, names)
    last = max((r["last_ts"] for r in rows if r["last_ts"] is not None), default=None)
    now = now_ts if now_ts is not None else (last if last is not None else 0.0)
    totals_c = summed(by_model_c.values())
    totals = figures(totals_c)
    totals["cost_usd"] = usd(totals_c[COST])
    burn = burn_rates(parts, scope, names, totals_c, now)
    tickets = parts.tickets.figures(scope, parts.sessions.live())
    span = tickets.pop("_span_s")
    by_status = tickets["by_status"]
    proj = metrics.projection(
        now_ts=now,
        spent_usd=usd(totals_c[COST]),
        usd_per_hour=burn["window"]["usd_per_hour"],
        budget_usd=parts.budget_usd,
        tickets_left=by_status["todo"] + by_status["in_progress"] + by_status["blocked"],
        tickets_completed=by_status["completed"],
        ticket_span_s=span,
    )
    first = min((r["first_ts"] for r in rows if r["first_ts"] is not None), default=None)
    snap = {
        "now_ts": now,
        "scope": scope_figures(parts, scope, names, burn["session"]["active_s"]),
        "session": {"first_ts": first, "last_ts": last},
        "totals": totals,
        "by_model": model_figures(parts, by_model_c, totals_c[COST]),
        "by_tier": tier_figures(by_tier_c, tier_models, totals_c[COST]),
        "unpriced_models": sorted(m for m, c in by_model_c.items() if c[UNPRICED]),
        "burn_rate": burn,
        "projection": proj.as_dict(),
        "efficiency": efficiency(rows, totals, totals_c[COST], by_status["completed"], over_time),
        "tools": tool_figures(parts, scope),
        "tickets": tickets,
        "sessions": by_session,
        "provenance": provenance(parts, rows, by_model_c),
        **parts.extras,
    }
    snap["provenance"]["agent_cost"] = of_snapshot(snap)
    return snap


def row_snapshot(row: dict) -> dict:
    """A session row (live or from the durable history) as the snapshot of that session,
    through the same builder: only what a row keeps is filled (totals, tokens by kind and
    cost by model, efficiency, span); no timeline, tiers, tools or ticket statuses.
    Active time is its span (a row keeps no idle gaps); ``past_session`` names the row."""
    name = row["session"]
    sessions = SessionsPart()
    kept = sessions.row(name)
    end = row["end_ts"] if row["end_ts"] is not None else row["last_ts"]
    kept.first_ts = row["first_ts"] if row["first_ts"] is not None else math.inf
    kept.last_ts = end if end is not None else -math.inf
    kept.project, kept.source, kept.end_ts = row["project"], row["source"], row["end_ts"]
    kept.mark = {None: UNDELIMITED, "open": OPEN, "ended": ENDED}[row["state"]]
    kept.tool_calls, kept.tool_failures = row["tool_calls"], row["tool_failures"]
    kept.ratings, kept.rating_milli = row["ratings"], round(row["rating_sum"] * 1000)
    if row["first_ts"] is not None and end is not None:
        kept.active_s = max(0.0, end - row["first_ts"])
    usage = UsagePart(PriceBook(), sessions.rows, sessions.row)
    unknown_kinds = set()
    for model, m in row["models"].items():
        c = [0] * N_COUNTERS
        c[REQ], c[COST], c[UNPRICED] = m["requests"], m["cost_pusd"], m["unpriced_requests"]
        if m.get("input_tokens") is None:  # a mix stored before the history kept token kinds
            unknown_kinds.add(model)
            c[IN] = m["total_tokens"]
        else:
            c[IN], c[OUT], c[CR] = m["input_tokens"], m["output_tokens"], m["cache_read_tokens"]
            c[CW5], c[REASON] = m["cache_write_tokens"], m.get("reasoning_tokens") or 0
        usage.combos[(model, None, name)] = c
        usage.by_session.setdefault(name, set()).add((model, None, name))
    tickets = TicketsPart()
    tickets.retired["completed"] = row["tickets_completed"]
    parts = Parts(usage, sessions, tickets, ToolsPart(), extras=PAST_EXTRAS)
    snap = snapshot(parts, Resolved("session", name), end if end is not None else row["first_ts"])
    for model in unknown_kinds:
        snap["by_model"][model].update(dict.fromkeys(UNKNOWN_KINDS))
    snap["by_tier"] = {}
    # The row counts completed tickets (efficiency has them) but not the others: no statuses.
    snap["tickets"] = TicketsPart().figures(Resolved("session", name, frozenset()), set())
    del snap["tickets"]["_span_s"]
    snap["burn_rate"]["window"] = metrics.BurnRate(0, 0.0, 0.0, None, None).as_dict()
    return {"past_session": (row["source"] or "", name), **snap}


UNKNOWN_KINDS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")
PAST_EXTRAS = {"rate_limits": {}, "errors": {"bad_lines": 0, "files": {}}, "notices": [], "sources": []}
