"""Metrics as pure functions of aggregates (DESIGN §3). The panel and `report` both call
these, so they cannot disagree; none of them reads a clock or touches state.

Conventions: ``*_ts`` epoch seconds, ``*_s`` seconds, costs in USD unless a name says
picodollars (``_pusd``). A figure that cannot be known yet is None, never 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from . import formatting as fmt
from . import views
from .pricing import usd

DEFAULT_WINDOW_S = 300
# A gap between requests of this long or more is idle time: none of it counts towards the
# active time a rate divides by, so a coffee break does not dilute the rate (DESIGN §3b).
IDLE_GAP_S = 300
# Rates divide by at least a minute of activity, so one large request does not read as a
# runaway rate of tokens per minute.
MIN_ACTIVE_S = 60.0
# A change in efficiency smaller than this, in percent, is UNCHANGED.
UNCHANGED_WITHIN_PCT = 1.0
DAY_S = 86_400


@dataclass(frozen=True, slots=True)
class BurnRate:
    tokens: int
    cost_usd: float
    active_s: float
    tokens_per_min: float | None
    usd_per_hour: float | None

    def as_dict(self) -> dict:
        return asdict(self)


def _rate(tokens: int, cost_usd: float, active_s: float) -> BurnRate:
    if tokens == 0 and cost_usd == 0:
        return BurnRate(0, 0.0, active_s, 0.0 if active_s else None, 0.0 if active_s else None)
    span = max(active_s, MIN_ACTIVE_S)
    return BurnRate(tokens, cost_usd, active_s, tokens * 60.0 / span, cost_usd * 3600.0 / span)


def window_burn_rate(
    seconds: Sequence[tuple[int, Sequence[int]]],
    now_ts: float,
    window_s: float = DEFAULT_WINDOW_S,
    previous_s: int | None = None,
    idle_gap_s: float = IDLE_GAP_S,
) -> BurnRate:
    """Tokens/min and $/hour over the last ``window_s`` of activity before ``now_ts``.

    ``seconds`` are (second, (tokens, cost_pusd)) with requests in the window, in time
    order; ``previous_s`` is the last second with a request before the window, if any.
    Active time sums the gaps between requests (and from the last one to now) that are
    shorter than ``idle_gap_s``; a gap that long or longer is idle and counts nothing.
    """
    start = now_ts - window_s
    tokens = sum(v[0] for _, v in seconds)
    cost_pusd = sum(v[1] for _, v in seconds)
    active = 0.0
    cursor: float | None = previous_s
    for sec, _ in seconds:
        if cursor is not None and sec - cursor < idle_gap_s:
            active += sec - max(cursor, start)
        cursor = sec
    if cursor is not None and 0 < now_ts - cursor < idle_gap_s:
        active += now_ts - max(cursor, start)
    return _rate(tokens, usd(cost_pusd), active)


def active_burn_rate(tokens: int, cost_usd: float, active_s: float) -> BurnRate:
    """Tokens/min and $/hour over ``active_s`` seconds of activity (idle gaps left out)."""
    if not tokens and not cost_usd and not active_s:
        return BurnRate(0, 0.0, 0.0, None, None)
    return _rate(tokens, cost_usd, active_s)


def session_burn_rate(tokens: int, cost_usd: float, first_ts: float | None, now_ts: float) -> BurnRate:
    """Tokens/min and $/hour averaged over the whole session, idle time included."""
    if first_ts is None:
        return BurnRate(0, 0.0, 0.0, None, None)
    return _rate(tokens, cost_usd, max(now_ts - first_ts, 0.0))


@dataclass(frozen=True, slots=True)
class Projection:
    budget_usd: float | None
    spent_usd: float
    budget_left_usd: float | None
    time_to_exhaustion_s: float | None
    exhaustion_ts: float | None
    tickets_left: int
    cost_per_ticket_usd: float | None
    cost_to_finish_usd: float | None
    time_per_ticket_s: float | None
    eta_s: float | None
    eta_ts: float | None

    def as_dict(self) -> dict:
        return asdict(self)


def projection(
    *,
    now_ts: float,
    spent_usd: float,
    usd_per_hour: float | None,
    budget_usd: float | None,
    tickets_left: int,
    tickets_completed: int,
    ticket_span_s: float | None,
) -> Projection:
    """Budget left and when it runs out; cost and time to finish the remaining tickets.

    Exhaustion uses the current (window) burn rate: while idle it is None, as nothing is
    being spent. Cost to finish = tickets left x cost per completed ticket; ETA = tickets
    left x mean time per completed ticket (``ticket_span_s`` / completed).
    """
    left = None if budget_usd is None else budget_usd - spent_usd
    to_exhaustion = None
    if left is not None:
        if left <= 0:
            to_exhaustion = 0.0
        elif usd_per_hour:
            to_exhaustion = left / usd_per_hour * 3600.0
    per_ticket = spent_usd / tickets_completed if tickets_completed else None
    time_per_ticket = ticket_span_s / tickets_completed if tickets_completed and ticket_span_s else None
    eta = tickets_left * time_per_ticket if time_per_ticket is not None else None
    return Projection(
        budget_usd=budget_usd,
        spent_usd=spent_usd,
        budget_left_usd=left,
        time_to_exhaustion_s=to_exhaustion,
        exhaustion_ts=None if to_exhaustion is None else now_ts + to_exhaustion,
        tickets_left=tickets_left,
        cost_per_ticket_usd=per_ticket,
        cost_to_finish_usd=None if per_ticket is None else tickets_left * per_ticket,
        time_per_ticket_s=time_per_ticket,
        eta_s=eta if tickets_left else (0.0 if tickets_completed else None),
        eta_ts=None if eta is None else now_ts + eta,
    )


def per_unit(amount: float, units: float) -> float | None:
    return amount / units if units else None


def interval_days(span_days: int) -> tuple[str, int]:
    """Interval name and length in days for a span of days (DESIGN §3)."""
    if span_days <= 7:
        return "daily", 1
    if span_days <= 30:
        return "3-day", 3
    if span_days <= 90:
        return "weekly", 7
    return "30-day", 30


@dataclass(frozen=True, slots=True)
class SessionUnit:
    """A closed session, as efficiency over time sees it."""

    ts: float  # when it ended: its end mark, else its last activity
    tokens: int
    ratings: int
    rating_sum: float
    completed: int  # tickets completed in it

    @property
    def satisfaction(self) -> float | None:
        return self.rating_sum / self.ratings if self.ratings else None


def session_unit(row: dict) -> SessionUnit | None:
    """A session row (``TokenHistory.session_rows`` or the durable store) as a unit of
    work; None while it is open or when it holds nothing to measure."""
    if row["state"] == "open":
        return None
    ts = row["end_ts"] if row["end_ts"] is not None else row["last_ts"]
    if ts is None or not (row["total_tokens"] or row["ratings"] or row["tickets_completed"]):
        return None
    return SessionUnit(ts, row["total_tokens"], row["ratings"], row["rating_sum"], row["tickets_completed"])


def iso_day(day: int) -> str:
    """A UTC day (days since the epoch) as YYYY-MM-DD."""
    return datetime.fromtimestamp(day * DAY_S, UTC).strftime("%Y-%m-%d")


def efficiency_over_time(units: Iterable[SessionUnit | None]) -> dict:
    """Average tokens / average satisfaction of the sessions that ended in each interval,
    and the verdict from the first interval to the last (DESIGN §3; lower is better).

    A unit is a closed session, placed by the UTC day it ended; intervals run from the
    first such day, their length chosen by the span. Rated sessions give ``avg_tokens``
    (mean tokens a session), ``avg_satisfaction`` (mean of each session's mean rating) and
    ``score`` = avg_tokens / avg_satisfaction. Where no session is rated at all, the score
    is tokens per completed ticket of the interval's sessions instead. ``start`` and
    ``end`` are the first and last UTC day of an interval; ``start_ts`` / ``end_ts`` bound
    it half-open. ``overall_score`` is the same figure over every unit, and
    ``points_per_1k_tokens`` its inverse: satisfaction points per 1K tokens.
    """
    units = sorted((u for u in units if u is not None), key=lambda u: u.ts)
    empty = {
        "interval": None,
        "measure": None,
        "buckets": [],
        "verdict": None,
        "change_pct": None,
        "overall_score": None,
        "points_per_1k_tokens": None,
    }
    if not units:
        return empty
    first, last = int(units[0].ts // DAY_S), int(units[-1].ts // DAY_S)
    name, length = interval_days(last - first + 1)
    rated = any(u.ratings for u in units)
    members: dict[int, list[SessionUnit]] = {}
    for u in units:
        if u.ratings or not rated:
            members.setdefault((int(u.ts // DAY_S) - first) // length, []).append(u)
    buckets: list[dict] = []
    for i, start in enumerate(range(first, last + 1, length)):
        group = members.get(i, [])
        bucket = {
            "start": iso_day(start),
            "end": iso_day(start + length - 1),
            "start_ts": start * DAY_S,
            "end_ts": (start + length) * DAY_S,
            "sessions": len(group),
            "tokens": sum(u.tokens for u in group),
            "ratings": sum(u.ratings for u in group),
            "completed": sum(u.completed for u in group),
        }
        bucket.update(_averages(group, rated))
        buckets.append(bucket)
    verdict, change = compare_first_last([b["score"] for b in buckets])
    overall = _averages([u for u in units if u.ratings or not rated], rated)["score"]
    return {
        "interval": name,
        "measure": "tokens_per_satisfaction_point" if rated else "tokens_per_completed_ticket",
        "buckets": buckets,
        "verdict": verdict,
        "change_pct": change,
        "overall_score": overall,
        "points_per_1k_tokens": 1000.0 / overall if rated and overall else None,
    }


def _averages(group: Sequence[SessionUnit], rated: bool) -> dict:
    if not rated:
        completed = sum(u.completed for u in group)
        return {"score": sum(u.tokens for u in group) / completed if completed else None}
    if not group:
        return {"avg_tokens": None, "avg_satisfaction": None, "score": None}
    avg_tokens = sum(u.tokens for u in group) / len(group)
    avg_sat = sum(u.satisfaction for u in group) / len(group)
    return {"avg_tokens": avg_tokens, "avg_satisfaction": avg_sat, "score": avg_tokens / avg_sat if avg_sat else None}


def compare_first_last(scores: Sequence[float | None]) -> tuple[str | None, float | None]:
    """IMPROVED / DECLINED / UNCHANGED from the first to the last known score (lower is
    better), with change_pct = (first - last) / first x 100; (None, None) with fewer than two."""
    known = [s for s in scores if s is not None]
    if len(known) < 2 or known[0] == 0:
        return None, None
    change = (known[0] - known[-1]) / known[0] * 100.0
    if abs(change) < UNCHANGED_WITHIN_PCT:
        return "UNCHANGED", change
    return ("IMPROVED" if change > 0 else "DECLINED"), change


def summary_text(snap: dict) -> str:
    """The copyable session summary, from a snapshot (``TokenHistory.snapshot``): a line
    per figure, those with nothing to say left out."""
    start, end = snap["session"]["first_ts"], snap["session"]["last_ts"]
    if start is None:
        return "No model requests recorded yet."
    lines = [
        views.scope_label(snap["scope"]) if "scope" in snap else None,
        f"Span: {fmt.clock(start)} to {fmt.clock(end)} ({fmt.duration(end - start)})",
        _tokens_line(snap["totals"]),
        _cost_line(snap["totals"], snap["unpriced_models"]),
        _burn_line(snap["burn_rate"]),
        _budget_line(snap["projection"]),
        _tickets_line(snap["tickets"], snap["projection"]),
        _efficiency_line(snap["efficiency"]),
        _models_line(snap["by_model"]),
        _tools_line(snap["tools"]),
    ]
    return "\n".join(line for line in lines if line is not None)


def _tokens_line(t: dict) -> str:
    return (
        f"Tokens: {fmt.tokens(t['total_tokens'])} in {views.count(t['requests'], 'request')} "
        f"(input {fmt.tokens(t['input_tokens'])}, output {fmt.tokens(t['output_tokens'])}, "
        f"cache read {fmt.tokens(t['cache_read_tokens'])}, cache write {fmt.tokens(t['cache_write_tokens'])})"
    )


def _cost_line(t: dict, unpriced_models: list[str]) -> str:
    cost = f"Cost so far: {fmt.usd(t['cost_usd'])}"
    if unpriced_models:
        cost += f" + unpriced: {', '.join(unpriced_models)} (tokens counted, cost unknown)"
    return cost


def _burn_line(burn: dict) -> str:
    w, s = burn["window"], burn["session"]
    # Under a minute of activity the rate is over a minute (MIN_ACTIVE_S): say so.
    active = s["active_s"]
    over = f"over {fmt.duration(active)} active" if active >= MIN_ACTIVE_S else "under a minute active"
    return (
        f"Burn rate: {views.window_burn(w)} (last {burn['window_s'] // 60:.0f} min); "
        f"{fmt.rate(s['tokens_per_min'], 'tokens/min')}, {fmt.usd(s['usd_per_hour'], '—')}/hour ({over})"
    )


def _budget_line(p: dict) -> str | None:
    if p["budget_usd"] is None:
        return None
    return (
        f"Budget: {fmt.usd(p['budget_usd'])}, {fmt.usd(p['budget_left_usd'])} left, "
        f"{fmt.runs_out(p['time_to_exhaustion_s'])}"
    )


def _tickets_line(k: dict, p: dict) -> str | None:
    if not k["total"]:
        return None
    by = k["by_status"]
    line = (
        f"Tickets: {by['completed']:,}/{k['total']:,} completed, {by['in_progress']:,} in progress, "
        f"{by['blocked']:,} blocked, {by['todo']:,} todo"
    )
    if by.get("left_open"):
        line += f", {by['left_open']:,} left open in earlier sessions"
    if p["tickets_left"] and p["eta_s"] is not None:
        line += f"; ETA {fmt.duration(p['eta_s'])}, about {fmt.usd(p['cost_to_finish_usd'])} to finish"
    return line


def _efficiency_line(e: dict) -> str | None:
    eff = []
    if e["tokens_per_completed_ticket"] is not None:
        eff.append(
            f"{fmt.tokens(e['tokens_per_completed_ticket'])} tokens per completed ticket "
            f"({fmt.usd(e['cost_per_completed_ticket_usd'])})"
        )
    if e["tokens_per_satisfaction_point"] is not None:
        eff.append(f"{fmt.tokens(e['tokens_per_satisfaction_point'])} tokens per satisfaction point")
    over = e["over_time"]
    if over["verdict"]:
        eff.append(f"{over['verdict']} {over['change_pct']:+.1f}% ({over['interval']})")
    return "Efficiency: " + "; ".join(eff) if eff else None


def _models_line(by_model: dict) -> str | None:
    """The three costliest models (``by_model`` comes costliest first)."""
    models = list(by_model.items())[:3]
    if not models:
        return None
    return "Models: " + ", ".join(
        f"{m} {fmt.usd(v['cost_usd'])}" + (f" ({v['share_pct']:.0f}%)" if v["share_pct"] is not None else "")
        for m, v in models
    )


def _tools_line(tools: dict) -> str | None:
    if not tools:
        return None
    calls = sum(v["calls"] for v in tools.values())
    failed = sum(v["failures"] for v in tools.values())
    return f"Tools: {calls:,} calls, {failed:,} failed ({fmt.percent(per_unit(100.0 * failed, calls))})"
