"""When the sessions spent: their spend grouped into days, weeks and months (local, or
UTC), and into 5-hour blocks. Pure functions of session rows (``across``).

A piece is one model's spend in one UTC quarter hour of a session (a row's ``quarters``),
or in one whole UTC day (its ``days``) where the history keeps the day without its
quarter hours: recorded before schema 4, or let go by the live history after 8 days.
- a day's quarter hours are taken only where they add up to its day row
  (``store_values.whole_days``), else the day row alone: nothing is counted twice;
- every zone in use is a whole number of quarter hours from UTC (India +5:30, Nepal
  +5:45), so a quarter hour lies in one local day; a day kept whole counts on its UTC
  date, its tokens of no known kind (``unsplit_tokens``);
- a block starts at its first request floored to the hour and lasts 5 h; the next starts
  at the first request from that end on, floored (DESIGN §3b); quarter hours lie in one
  block, a day kept whole in none (``not_in_blocks``).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from operator import add

from .pricing import usd
from .store_values import DAY_S, QUARTER_FIELDS, QUARTER_S, whole_days

PERIODS = ("day", "week", "month")
HOUR_S = 3_600
BLOCK_S = 5 * HOUR_S
# A piece's figures: a quarter row's, then the tokens whose kind is not known.
SPEND_FIELDS = (*QUARTER_FIELDS, "unsplit_tokens")
_REQ, _TOTAL, _COST, _UNPRICED = (
    SPEND_FIELDS.index(f) for f in ("requests", "total_tokens", "cost_pusd", "unpriced_requests")
)
_EPOCH = date(1970, 1, 1).toordinal()


@dataclass(slots=True, frozen=True)
class Piece:
    """One model's spend in one UTC quarter hour, or one UTC day kept whole."""

    start_ts: int
    span_s: int  # QUARTER_S, or DAY_S for a day kept whole
    model: str
    figures: tuple[int, ...]  # SPEND_FIELDS

    def within(self, since_ts: float | None, until_ts: float | None) -> bool:
        """Whether the piece overlaps [since_ts, until_ts)."""
        return (since_ts is None or self.start_ts + self.span_s > since_ts) and (
            until_ts is None or self.start_ts < until_ts
        )


def pieces(rows: Iterable[dict], unpriced_models: set[str]) -> list[Piece]:
    """The spend of these session rows, piece by piece. A day kept whole holds no count
    of unpriced requests: those of a model none of whose requests has a price
    (``unpriced_models``) are all unpriced, as before schema 4."""
    out = []
    for row in rows:
        quarters = whole_days(row.get("quarters", ()), row["days"])
        whole = {(q[0] // DAY_S, q[1]) for q in quarters}
        out += [Piece(q[0], QUARTER_S, q[1], (*q[2:], 0)) for q in quarters]
        for day, model, requests, tokens, cost in row["days"]:
            if (day, model) not in whole:
                unpriced = requests if model in unpriced_models else 0
                figures = (requests, 0, 0, 0, 0, 0, tokens, cost, unpriced, tokens)
                out.append(Piece(day * DAY_S, DAY_S, model, figures))
    return out


class _Sums:
    """Figures summed in total and by model (lists in SPEND_FIELDS order)."""

    __slots__ = ("models", "total")

    def __init__(self) -> None:
        self.total = [0] * len(SPEND_FIELDS)
        self.models: dict[str, list[int]] = {}

    def add(self, piece: Piece) -> None:
        self.total[:] = map(add, self.total, piece.figures)
        mine = self.models.get(piece.model)
        if mine is None:
            self.models[piece.model] = list(piece.figures)
        else:
            mine[:] = map(add, mine, piece.figures)

    def as_json(self) -> dict:
        """The figures, then each model's (json keys, costs in USD)."""
        return {**figures_json(self.total), "models": {m: figures_json(f) for m, f in sorted(self.models.items())}}


def figures_json(f: list[int]) -> dict:
    """Summed figures as the report's json gives them: tokens by kind, ``tokens`` (the
    total), the cost in USD, unknown (None, never $0) when none of the requests is priced."""
    priced = not (f[_REQ] and f[_UNPRICED] == f[_REQ])
    out = {
        name: value for name, value in zip(SPEND_FIELDS, f, strict=True) if name not in ("total_tokens", "cost_pusd")
    }
    return {**out, "tokens": f[_TOTAL], "cost_usd": usd(f[_COST]) if priced else None}


# --- days, weeks, months ------------------------------------------------------------------


class _Dates:
    """The date (proleptic ordinal) a piece counts on: its quarter hour's local date (UTC
    with ``utc``), a day kept whole its UTC date. Memoised: sessions share quarter hours."""

    def __init__(self, utc: bool) -> None:
        self._clock = time.gmtime if utc else time.localtime
        self._seen: dict[int, int] = {}

    def of(self, piece: Piece) -> int:
        if piece.span_s == DAY_S:
            return _EPOCH + piece.start_ts // DAY_S
        ordinal = self._seen.get(piece.start_ts)
        if ordinal is None:
            t = self._clock(piece.start_ts)
            ordinal = self._seen[piece.start_ts] = date(t.tm_year, t.tm_mon, t.tm_mday).toordinal()
        return ordinal


def period_start(ordinal: int, by: str) -> int:
    """The first date of the day / week (Monday) / month holding date ``ordinal``."""
    if by == "day":
        return ordinal
    d = date.fromordinal(ordinal)
    if by == "week":
        return ordinal - d.weekday()
    if by == "month":
        return ordinal - (d.day - 1)
    raise ValueError(f"period must be one of {', '.join(PERIODS)}, got {by!r}")


def _next_period(start: int, by: str) -> int:
    if by == "day":
        return start + 1
    if by == "week":
        return start + 7
    d = date.fromordinal(start)
    return (d.replace(day=28) + timedelta(days=4)).replace(day=1).toordinal()


def midnight_ts(ordinal: int, utc: bool) -> float:
    """Epoch seconds of the start of a date: local midnight (its offset that day), or UTC's."""
    d = date.fromordinal(ordinal)
    moment = datetime(d.year, d.month, d.day, tzinfo=UTC) if utc else datetime(d.year, d.month, d.day).astimezone()
    return moment.timestamp()


def usage_periods(
    found: list[Piece], by: str, since_ts: float | None, until_ts: float | None, utc: bool
) -> tuple[list[dict], dict]:
    """(one dict per period from the first to the last with spend, empty ones kept so a
    chart's gaps are real; the grand total) of the pieces within [since_ts, until_ts)."""
    if by not in PERIODS:
        raise ValueError(f"period must be one of {', '.join(PERIODS)}, got {by!r}")
    dates, periods, total = _Dates(utc), {}, _Sums()
    for piece in found:
        if piece.within(since_ts, until_ts):
            start = period_start(dates.of(piece), by)
            sums = periods.get(start)
            if sums is None:
                sums = periods[start] = _Sums()
            sums.add(piece)
            total.add(piece)
    out = []
    start = min(periods, default=0)
    while periods and start <= max(periods):
        end = _next_period(start, by)
        span = {"start": date.fromordinal(start).isoformat(), "start_ts": midnight_ts(start, utc)}
        out.append({**span, "end_ts": midnight_ts(end, utc), **periods.get(start, _Sums()).as_json()})
        start = end
    return out, total.as_json()


# --- 5-hour blocks ----------------------------------------------------------------------


def usage_blocks(found: list[Piece], since_ts: float | None, until_ts: float | None) -> dict:
    """The 5-hour blocks holding spend within [since_ts, until_ts), chained over every
    piece given (a block begun before ``since_ts`` keeps its start), each with what was
    spent in it within the range; the grand total; and what lies in no block (days kept
    whole), None if nothing does."""
    blocks: list[tuple[int, _Sums]] = []
    end = None
    total, outside = _Sums(), _Sums()
    for piece in sorted(found, key=lambda p: p.start_ts):
        if piece.span_s == DAY_S:
            if piece.within(since_ts, until_ts):
                outside.add(piece)
                total.add(piece)
            continue
        if end is None or piece.start_ts >= end:
            start = piece.start_ts - piece.start_ts % HOUR_S
            end = start + BLOCK_S
            blocks.append((start, _Sums()))
        if piece.within(since_ts, until_ts):
            blocks[-1][1].add(piece)
            total.add(piece)
    shown = [{"start_ts": start, "end_ts": start + BLOCK_S, **sums.as_json()} for start, sums in blocks if sums.models]
    return {"blocks": shown, "total": total.as_json(), "not_in_blocks": outside.as_json() if outside.models else None}
