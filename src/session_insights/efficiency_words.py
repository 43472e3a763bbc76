"""Efficiency as people read it: a bar's label and the verdict line, shared by the
panel's charts and ``report --by interval`` (text, md, csv), and why a figure is missing.

Every figure carries its unit ("tokens", "points", "tickets"); the verdict says which way
the measure moved and by how much, as a share of the first interval's score, so a decline
never reads as a negative gain.
"""

from __future__ import annotations

from . import formatting as fmt

MEASURE_UNITS = {
    "tokens_per_satisfaction_point": "tokens per satisfaction point",
    "tokens_per_completed_ticket": "tokens per completed ticket",
}


def bucket_label(bucket: dict, measure: str | None) -> str:
    """'1,285.7 tokens/point (15.6M tokens avg, 6.7/10 satisfaction)', or with no ratings
    '790,700 tokens/ticket (790.7K tokens, 1 ticket)'."""
    if bucket["score"] is None:
        return "no data"
    if measure == "tokens_per_satisfaction_point":
        return (
            f"{fmt.tokens(bucket['score'])} tokens/point ({fmt.tokens_short(bucket['avg_tokens'])} tokens avg, "
            f"{fmt.satisfaction(bucket['avg_satisfaction'])} satisfaction)"
        )
    n = bucket["completed"]
    return (
        f"{fmt.tokens(bucket['score'])} tokens/ticket ({fmt.tokens_short(bucket['tokens'])} tokens, "
        f"{n:,} ticket{'' if n == 1 else 's'})"
    )


def no_per_ticket_why(snap: dict, short: bool = False) -> str:
    """Why a snapshot has no tokens per completed ticket: none completed, or only in a
    session still open (an average takes a session once it ends); ``short`` for a card."""
    waits = snap["efficiency"]["open_sessions"] and snap["tickets"]["by_status"]["completed"]
    if short:
        return "counted at session end" if waits else "no ticket completed"
    return "counted when the open session ends" if waits else "no ticket completed yet"


def verdict_text(over: dict) -> str:
    """'DECLINED: 64% more tokens per satisfaction point, first to last daily interval
    (lower is better); overall 0.778 satisfaction points per 1K tokens'."""
    if over["verdict"] is None:
        if over["interval"] is None:
            return "No ended sessions yet."
        return "Trend: needs two intervals with a score."
    unit = MEASURE_UNITS.get(over["measure"], "tokens per unit of work")
    change = abs(over["change_pct"] or 0.0)
    way = "more" if (over["change_pct"] or 0.0) < 0 else "fewer"
    if over["verdict"] == "UNCHANGED":
        text = f"UNCHANGED: within 1% in {unit}, first to last {over['interval']} interval"
    else:
        text = f"{over['verdict']}: {change:,.0f}% {way} {unit}, first to last {over['interval']} interval"
    text += " (lower is better)"
    if over["points_per_1k_tokens"] is not None:
        text += f"; overall {points_rate(over['points_per_1k_tokens'])}"
    elif over["overall_score"] is not None:
        text += f"; overall {fmt.tokens(over['overall_score'])} tokens per completed ticket"
    return text


def points_rate(points_per_1k_tokens: float) -> str:
    """'0.778 satisfaction points per 1K tokens'; per 1M tokens where per 1K would read
    0.000 (sessions of millions of tokens): '0.43 satisfaction points per 1M tokens'."""
    if points_per_1k_tokens >= 0.1:
        return f"{points_per_1k_tokens:.3f} satisfaction points per 1K tokens"
    return f"{points_per_1k_tokens * 1000:,.2f} satisfaction points per 1M tokens"
