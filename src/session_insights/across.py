"""Across sessions: pure functions over session rows, shared by the panel and ``report``.

A session row is what ``TokenHistory.session_rows()`` gives for the live history and
``SessionStore.sessions()`` gives from the durable one: ``source``, ``session``, the
figures named in ``store.SESSION_FIELDS`` (costs in picodollars), ``models`` and
``days`` / ``quarters``. Nothing here reads a clock, a file or a window; periods are
local days by the process's zone unless UTC.
"""

from __future__ import annotations

from collections.abc import Iterable

from . import metrics, spend
from .pricing import usd

DAY_S = metrics.DAY_S
PERIODS = spend.PERIODS
_STATE_RANK = {None: 0, "open": 1, "ended": 2}


def row_key(row: dict) -> tuple[str, str]:
    return (row["source"] or "", row["session"])


def row_rank(row: dict) -> tuple:
    """Which of two copies of one session row is the fuller (the larger wins): an ended
    session over an open one, then more tokens, requests, tickets, ratings, tools..."""
    return (
        _STATE_RANK.get(row["state"], 0),
        row["total_tokens"],
        row["requests"],
        row["tickets_completed"],
        row["ratings"],
        row["tool_calls"],
        row["last_ts"] or 0.0,
        row["end_ts"] or 0.0,
        row["cost_pusd"],
        row["rating_sum"],
        row["tool_failures"],
        row["project"] or "",
        row["tool_prompt_tokens"],
    )


def merge(stored: Iterable[dict], live: Iterable[dict]) -> list[dict]:
    """One row per session: the fuller of its stored and live copies, in start order."""
    rows: dict[tuple[str, str], dict] = {}
    for row in (*stored, *live):
        key = row_key(row)
        kept = rows.get(key)
        if kept is None or row_rank(row) >= row_rank(kept):
            rows[key] = row
    return sorted(rows.values(), key=lambda r: (r["first_ts"] or 0.0, row_key(r)))


def select(
    rows: Iterable[dict], since_ts: float | None = None, until_ts: float | None = None, project: str | None = None
) -> list[dict]:
    """The rows whose activity overlaps [since_ts, until_ts), of ``project`` if given."""
    out = []
    for row in rows:
        last = row["end_ts"] if row["end_ts"] is not None else row["last_ts"]
        if since_ts is not None and (last if last is not None else row["first_ts"] or 0.0) < since_ts:
            continue
        if until_ts is not None and (row["first_ts"] if row["first_ts"] is not None else 0.0) >= until_ts:
            continue
        if project is not None and row["project"] != project:
            continue
        out.append(row)
    return out


def cost_usd(row: dict) -> float | None:
    """A row's cost in USD; None (unknown, never $0) when none of its requests is priced."""
    if row["requests"] and row["unpriced_requests"] == row["requests"]:
        return None
    return usd(row["cost_pusd"])


def session_figures(row: dict) -> dict:
    """What the Sessions table and ``report --by session`` show of one session."""
    start = row["first_ts"]
    end = row["end_ts"] if row["end_ts"] is not None else row["last_ts"]
    cost = cost_usd(row)
    return {
        "session": row["session"],
        "source": row["source"],
        "project": row["project"],
        "state": row["state"],
        "start_ts": start,
        "duration_s": max(0.0, end - start) if start is not None and end is not None else None,
        "requests": row["requests"],
        "input_tokens": row["input_tokens"],
        "output_tokens": row["output_tokens"],
        "cache_read_tokens": row["cache_read_tokens"],
        "cache_write_tokens": row["cache_write_tokens"],
        "reasoning_tokens": row["reasoning_tokens"],
        "tool_prompt_tokens": row["tool_prompt_tokens"],
        "total_tokens": row["total_tokens"],
        "cost_usd": cost,
        "unpriced_requests": row["unpriced_requests"],
        "tool_calls": row["tool_calls"],
        "tool_failures": row["tool_failures"],
        "tickets_completed": row["tickets_completed"],
        "cost_per_completed_ticket_usd": (
            cost / row["tickets_completed"] if cost is not None and row["tickets_completed"] else None
        ),
        "ratings": row["ratings"],
        "mean_satisfaction": row["rating_sum"] / row["ratings"] if row["ratings"] else None,
        "models": sorted(row["models"]),
    }


def efficiency_over_time(rows: Iterable[dict]) -> dict:
    """Efficiency over time (``metrics.efficiency_over_time``) of these sessions."""
    return metrics.efficiency_over_time(metrics.session_unit(row) for row in rows)


def _utc(utc: bool | None) -> bool:
    """Whether periods are UTC: as asked, else by the time rule (``times.use_utc``)."""
    if utc is not None:
        return utc
    from . import times

    return times.in_utc()


def usage_over_time(
    rows: Iterable[dict],
    by: str = "day",
    since_ts: float | None = None,
    until_ts: float | None = None,
    utc: bool | None = None,
) -> list[dict]:
    """Requests, tokens by kind and cost per day / week / month, from local midnight
    (UTC with ``utc``; default: the time rule), split by model; only spend within
    [since_ts, until_ts) counts (``spend.usage_periods``). Periods with nothing spent
    between the first and the last are kept, so a chart's gaps are real. A model none of
    whose requests in a period has a price costs "unknown" (None), never $0;
    ``unpriced_requests`` says how many requests a period's cost leaves out."""
    return usage_by_period(rows, by, since_ts, until_ts, utc)["periods"]


def usage_by_period(
    rows: Iterable[dict],
    by: str,
    since_ts: float | None = None,
    until_ts: float | None = None,
    utc: bool | None = None,
) -> dict:
    """``{"periods": usage_over_time(...), "total": the grand total of them all}``."""
    rows = list(rows)
    periods, total = spend.usage_periods(rows, unpriced_models(rows), by, since_ts, until_ts, _utc(utc))
    return {"periods": periods, "total": total}


def usage_by_block(rows: Iterable[dict], since_ts: float | None = None, until_ts: float | None = None) -> dict:
    """The 5-hour blocks of these sessions' spend within [since_ts, until_ts), their
    grand total and what lies in no block (``spend.usage_blocks``)."""
    rows = list(rows)
    return spend.usage_blocks(rows, unpriced_models(rows), since_ts, until_ts)


def unpriced_models(rows: Iterable[dict]) -> set[str]:
    """The models of these sessions none of whose requests has a price."""
    requests: dict[str, list[int]] = {}
    for row in rows:
        for model, figures in row["models"].items():
            counts = requests.setdefault(model, [0, 0])
            counts[0] += figures["requests"]
            counts[1] += figures["unpriced_requests"]
    return {model for model, (total, unpriced) in requests.items() if total and unpriced == total}


TOKEN_CATEGORIES = ("input", "tool-use prompt", "cache read", "cache write", "output", "reasoning")


def token_categories(row: dict) -> dict[str, int]:
    """Where a session's tokens went, by the categories its source reports: fresh input,
    the tool-use prompt (part of the input, where the source counts it apart: Gemini),
    cache reads, cache writes, output less reasoning, and reasoning (where the source
    counts it: Codex, Gemini, OpenTelemetry). They add up to the session's total."""
    return {
        "input": row["input_tokens"] - row["tool_prompt_tokens"],
        "tool-use prompt": row["tool_prompt_tokens"],
        "cache read": row["cache_read_tokens"],
        "cache write": row["cache_write_tokens"],
        "output": row["output_tokens"] - row["reasoning_tokens"],
        "reasoning": row["reasoning_tokens"],
    }


def total_categories(rows: Iterable[dict]) -> dict[str, int]:
    total = dict.fromkeys(TOKEN_CATEGORIES, 0)
    for row in rows:
        for name, tokens in token_categories(row).items():
            total[name] += tokens
    return total


def session_snapshot(row: dict) -> dict:
    """A session row (live or stored) in the shape of ``TokenHistory.snapshot``, so the
    other headers can show it: built by the history's own snapshot (see
    ``history.snapshot.row_snapshot``)."""
    from .history.snapshot import row_snapshot

    snap = row_snapshot(row)
    snap["sources"] = [row["source"]] if row["source"] else []
    return snap
