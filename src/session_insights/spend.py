"""When the sessions spent: their spend grouped into days, weeks and months (local, or
UTC), and into 5-hour blocks. Pure functions of session rows (``across``).

Spend is summed by model per UTC quarter hour (a row's ``quarters``), or per whole UTC
day (its ``days``) where the history keeps the day without its quarter hours: recorded
before schema 4, or let go by the live history after 8 days.
- a (day, model) with quarter rows is read from them (the writers keep only those that
  add up to its day row: ``store_values.whole_days``), else from its day row alone:
  nothing is counted twice;
- every zone in use is a whole number of quarter hours from UTC (India +5:30, Nepal
  +5:45), so a quarter hour lies in one local day; a day kept whole counts on its UTC
  date, its tokens of no known kind (``unsplit_tokens``);
- a block starts at its first request floored to the hour and lasts 5 h; the next starts
  at the first request from that end on, floored (DESIGN §3b); quarter hours lie in one
  block, a day kept whole in none (``not_in_blocks``).
"""

from __future__ import annotations

import operator
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from operator import add

from .pricing import usd
from .scope import BLOCK_S, block_started
from .store_values import DAY_S, QUARTER_FIELDS, QUARTER_S

PERIODS = ("day", "week", "month")
# The figures summed: a quarter row's, then the tokens whose kind is not known.
SPEND_FIELDS = (*QUARTER_FIELDS, "unsplit_tokens")
_REQ, _TOTAL, _COST, _UNPRICED = (
    SPEND_FIELDS.index(f) for f in ("requests", "total_tokens", "cost_pusd", "unpriced_requests")
)
_EPOCH = date(1970, 1, 1).toordinal()


def _spend_of(rows: Iterable[dict], unpriced_models: set[str]) -> Iterator[tuple[int, int, str, Sequence[int]]]:
    """(start ts, span in seconds, model, figures) of the rows' spend: each quarter row,
    then each day kept whole. A (day, model) with quarter rows is read from them (its
    writers keep only those adding up to its day row: ``whole_days``), else from its day
    row, which holds no count of unpriced requests: those of a model none of whose
    requests has a price (``unpriced_models``) are all unpriced, as before."""
    for row in rows:
        covered = set()
        for q in row.get("quarters", ()):
            covered.add((q[0] // DAY_S, q[1]))
            yield q[0], QUARTER_S, q[1], q[2:]
        for day, model, requests, tokens, cost in row["days"]:
            if (day, model) not in covered:
                unpriced = requests if model in unpriced_models else 0
                yield day * DAY_S, DAY_S, model, (requests, 0, 0, 0, 0, 0, tokens, cost, unpriced, tokens)


def _summed(groups: dict) -> dict:
    """Each key's figure lists summed column by column (SPEND_FIELDS; a quarter row's
    figures lack the last, which is 0 for it)."""
    out = {}
    for key, lists in groups.items():
        sums = [sum(column) for column in zip(*lists)] if len(lists) > 1 else list(lists[0])
        out[key] = sums + [0] * (len(SPEND_FIELDS) - len(sums))
    return out


def _within(start_ts: int, span_s: int, since_ts: float | None, until_ts: float | None) -> bool:
    """Whether [start_ts, start_ts + span_s) overlaps [since_ts, until_ts)."""
    return (since_ts is None or start_ts + span_s > since_ts) and (until_ts is None or start_ts < until_ts)


class _Sums:
    """Figures summed in total and by model (lists in SPEND_FIELDS order)."""

    __slots__ = ("models", "total")

    def __init__(self) -> None:
        self.total = [0] * len(SPEND_FIELDS)
        self.models: dict[str, list[int]] = {}

    def add(self, model: str, figures: list[int]) -> None:
        self.total[:] = map(add, self.total, figures)
        mine = self.models.get(model)
        if mine is None:
            self.models[model] = list(figures)
        else:
            mine[:] = map(add, mine, figures)

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


def _by_date(rows: Iterable[dict], unpriced_models: set[str], since_ts, until_ts, utc: bool) -> dict:
    """The spend within [since_ts, until_ts) by (date ordinal, model): a quarter hour on
    its local date (UTC with ``utc``), a day kept whole on its UTC date."""
    clock = time.gmtime if utc else time.localtime
    dates: dict[int, int] = {}  # quarter ts -> its date; sessions share quarter hours
    groups: dict[tuple[int, str], list] = {}
    for ts, span, model, figures in _spend_of(rows, unpriced_models):
        if not _within(ts, span, since_ts, until_ts):
            continue
        if span == DAY_S:
            ordinal = _EPOCH + ts // DAY_S
        else:
            ordinal = dates.get(ts)
            if ordinal is None:
                t = clock(ts)
                ordinal = dates[ts] = date(t.tm_year, t.tm_mon, t.tm_mday).toordinal()
        group = groups.get((ordinal, model))
        if group is None:
            groups[ordinal, model] = [figures]
        else:
            group.append(figures)
    return _summed(groups)


class _LastDates:
    """``_by_date`` of the last rows asked for, kept while the same rows (the same row
    objects: a session row is never changed once made) are asked for again in the same
    zone: the panel asks for days, weeks and months of one reading in turn. One tuple,
    replaced whole, so a thread never reads one call's rows with another's dates."""

    def __init__(self) -> None:
        self._last: tuple[list, tuple, dict] = ([], (), {})

    def of(self, rows: Iterable[dict], unpriced_models: set[str], since_ts, until_ts, utc: bool) -> dict:
        rows = list(rows)
        key = (frozenset(unpriced_models), since_ts, until_ts, utc, time.tzname, time.timezone, time.altzone)
        last_rows, last_key, dates = self._last
        if key != last_key or len(rows) != len(last_rows) or not all(map(operator.is_, rows, last_rows)):
            dates = _by_date(rows, unpriced_models, since_ts, until_ts, utc)
            self._last = (rows, key, dates)
        return dates


_LAST_DATES = _LastDates()


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
    rows: Iterable[dict], unpriced_models: set[str], by: str, since_ts, until_ts, utc: bool
) -> tuple[list[dict], dict]:
    """(one dict per period from the first to the last with spend, empty ones kept so a
    chart's gaps are real; the grand total) of the rows' spend within [since_ts, until_ts)."""
    if by not in PERIODS:
        raise ValueError(f"period must be one of {', '.join(PERIODS)}, got {by!r}")
    periods: dict[int, _Sums] = {}
    total = _Sums()
    for (ordinal, model), figures in _LAST_DATES.of(rows, unpriced_models, since_ts, until_ts, utc).items():
        start = period_start(ordinal, by)
        sums = periods.get(start)
        if sums is None:
            sums = periods[start] = _Sums()
        sums.add(model, figures)
        total.add(model, figures)
    out = []
    start = min(periods, default=0)
    while periods and start <= max(periods):
        end = _next_period(start, by)
        span = {"start": date.fromordinal(start).isoformat(), "start_ts": midnight_ts(start, utc)}
        out.append({**span, "end_ts": midnight_ts(end, utc), **periods.get(start, _Sums()).as_json()})
        start = end
    return out, total.as_json()


# --- 5-hour blocks ----------------------------------------------------------------------


def usage_blocks(rows: Iterable[dict], unpriced_models: set[str], since_ts, until_ts) -> dict:
    """The 5-hour blocks holding the rows' spend within [since_ts, until_ts), chained over
    all of it (a block begun before ``since_ts`` keeps its start), each with what was
    spent in it within the range; the grand total; and what lies in no block (days kept
    whole), None if nothing does."""
    quarters: dict[tuple[int, str], list] = {}
    total, outside = _Sums(), _Sums()
    for ts, span, model, figures in _spend_of(rows, unpriced_models):
        if span == QUARTER_S:
            quarters.setdefault((ts, model), []).append(figures)
        elif _within(ts, span, since_ts, until_ts):
            outside.add(model, figures)
            total.add(model, figures)
    blocks: list[tuple[int, _Sums]] = []
    end = None
    for (ts, model), figures in sorted(_summed(quarters).items()):
        started = block_started(ts, end)
        if started is not None:
            start, end = started
            blocks.append((start, _Sums()))
        if _within(ts, QUARTER_S, since_ts, until_ts):
            blocks[-1][1].add(model, figures)
            total.add(model, figures)
    shown = [{"start_ts": start, "end_ts": start + BLOCK_S, **sums.as_json()} for start, sums in blocks if sums.models]
    return {"blocks": shown, "total": total.as_json(), "not_in_blocks": outside.as_json() if outside.models else None}
