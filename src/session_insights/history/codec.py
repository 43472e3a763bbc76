"""state.toml for a TokenHistory: each part's encoding gathered into one table, and back.

``decode`` checks every value (``decode.py``): anything no save of ours writes raises
CorruptState, and the history starts clean. A state saved before a field existed loads
with that field empty (a session's tools, quarter hours, detail).
"""

from __future__ import annotations

import math
import time
from operator import add
from typing import TYPE_CHECKING, Any

from .. import decode, metrics
from ..scope import Resolved
from ..series import BucketSeries
from ..store_values import whole_days
from .counters import (
    CD_COST,
    COST,
    CR,
    CW1H,
    CW5,
    IN,
    N_COUNTERS,
    OUT,
    REASON,
    REQ,
    T_FIELDS,
    TOOL_PROMPT,
    UNPRICED,
    WEB_SEARCHES,
    add_into,
    encoded,
    summed,
)
from .detail import SessionDetail
from .sessions import NO_SESSION
from .usage import DAY_S, QUARTER_S, UsagePart, session_name

if TYPE_CHECKING:
    from .core import TokenHistory

SAVED_DETAILS = 16  # sessions whose timelines and burn windows the state keeps
SAVED_QUARTER_HOURS = 192  # hours of quarter-hour usage the state keeps (the time scopes')
_ = CD_COST


def _label(x: str | None) -> str:
    return "" if x is None else x


def encode_state(h: TokenHistory) -> dict:
    """The history as plain TOML-able data: no prompt or response text, ever."""
    with h._lock:
        usage = h.usage
        data: dict[str, Any] = {
            "saved_ts": time.time(),
            "window_s": h.window_s,
            "span": {
                k: v
                for k, v in (
                    ("first_ts", usage.first_ts),
                    ("last_ts", usage.last_ts),
                    ("ticket_first_ts", h.tickets.first_ts),
                    ("latest_other_ts", h._latest_other_ts),
                )
                if v is not None
            },
            "usage": _usage_rows(usage, h._saved_quarter_hours),
            "timeline": usage.timeline.to_state(),
            "details": _detail_rows(h, h._saved_details),
            "sessions": h.sessions.encode(),
            "tools": h.tools.encode(),
            "tool_turns": [
                {"name": tool, "session": session, "counts": encoded(v)}
                for (session, tool), v in usage.tool_turns.items()
            ],
            # The last keyed requests, so a larger streaming copy arriving after a
            # restart still replaces its earlier copy instead of counting twice.
            "recent_requests": [_request_row(ev) for ev in h._held.recent(h._saved_copies)],
            **h.tickets.encode(),
            "errors": {"files": dict(h.bad_lines), "reasons": dict(h.bad_reasons)},
            **h.reading.encode(),
            "ui": h.ui,
            "notices": list(h.notices[-10:]),
        }
        if h.budget_usd is not None:
            data["budget_usd"] = h.budget_usd
        if h.prices.overrides:
            data["pricing"] = {"overrides": h.prices.overrides}
        if h.plan_limits:
            data["limits"] = dict(h.plan_limits)
        return data


def _usage_rows(usage: UsagePart, quarter_hours: int) -> list[dict]:
    oldest_quarter = ((usage.last_ts or 0) - quarter_hours * 3600) // QUARTER_S
    return [
        {
            "model": m,
            "tier": _label(t),
            "session": _label(s),
            "provider": _label(usage.model_provider.get(m)),
            "counts": encoded(counters),
            "days": [[day, *encoded(v)] for day, v in sorted(usage.combo_days.get((m, t, s), {}).items())],
            "quarters": [
                [q, *_trimmed(v)] for q, v in sorted(usage.quarters.get((m, t, s), {}).items()) if q >= oldest_quarter
            ],
        }
        for (m, t, s), counters in usage.combos.items()
    ]


def _trimmed(values: list[int]) -> list:
    """Counters without their trailing zeros (most requests report no reasoning, cost or
    tool prompt of their own): a quarter hour's row is a third shorter."""
    end = len(values)
    while end > 1 and not values[end - 1]:
        end -= 1
    return encoded(values[:end])


def _detail_rows(h: TokenHistory, n: int) -> list[dict]:
    details = h.usage.details
    latest = sorted(details, key=lambda s: details[s].recent.latest, reverse=True)[:n]
    rows = []
    for name in latest:
        detail = details[name]
        keep_from = detail.recent.latest - h.window_s - metrics.IDLE_GAP_S
        rows.append(
            {
                "session": name,
                "timeline": detail.timeline.to_state(),
                "recent": [[sec, *v] for sec, v in sorted(detail.recent.seconds.items()) if sec >= keep_from],
            }
        )
    return rows


def _request_row(ev) -> list:
    return [
        ev.request_key,
        ev.ts,
        ev.model,
        _label(ev.provider),
        ev.input,
        ev.cache_read,
        ev.cache_write_5m,
        ev.cache_write_1h,
        ev.output,
        ev.reasoning,
        _label(ev.tier),
        _label(ev.session),
        ev.reported_cost_usd or 0.0,
        list(ev.tools or ()),
        ev.tool_prompt,
        [list(pair) for pair in ev.price_context or ()],
        [list(pair) for pair in ev.server_tools or ()],
        ev.finished,
    ]


def load_state(h: TokenHistory, data: dict, *, keep_budget: bool, keep_overrides: bool) -> None:
    """Restore what ``encode_state`` wrote into ``h`` (freshly reset)."""
    if not keep_overrides and "pricing" in data:
        h.prices.set_overrides(decode.table(data["pricing"], "pricing").get("overrides"))
    if not keep_budget and "budget_usd" in data:
        h._budget_usd = h._check_budget(data["budget_usd"])
    if "limits" in data:  # the user's plan limits: theirs to write, kept as they are
        from ..state import plan_limits

        h.plan_limits = plan_limits(data["limits"])
    h.window_s = decode.whole(data.get("window_s", h.window_s), "window_s", 1, 7 * DAY_S)
    span = decode.table(data.get("span", {}), "span")
    moments = {k: decode.optional(decode.moment, span.get(k), f"span.{k}") for k in span}
    h.sessions.decode(decode.rows(data, "sessions"))
    _decode_usage(h.usage, decode.rows(data, "usage"))
    for ts in (moments.get("first_ts"), moments.get("last_ts")):
        if ts is not None:
            h.usage.stretch(ts)
    if "timeline" in data:
        h.usage.timeline = BucketSeries.from_state(decode.table(data["timeline"], "timeline"), fields=T_FIELDS)
    for i, row in enumerate(decode.rows(data, "details")):
        where = f"details[{i}]"
        name = decode.text(row.get("session"), f"{where}.session")
        detail = h.usage.details[name] = SessionDetail.new()
        detail.timeline = BucketSeries.from_state(decode.table(row.get("timeline"), f"{where}.timeline"), T_FIELDS)
        _decode_recent(detail.recent, row.get("recent", []), f"{where}.recent")
    h.tools.decode(decode.rows(data, "tools"))
    for i, row in enumerate(decode.rows(data, "tool_turns")):
        where = f"tool_turns[{i}]"
        key = (
            decode.text(row.get("session", NO_SESSION), f"{where}.session"),
            decode.text(row.get("name"), f"{where}.name"),
        )
        add_into(h.usage.tool_turns.setdefault(key, [0, 0, 0, 0]), decode.counters(row.get("counts"), where, 4))
    for i, row in enumerate(decode.array(data.get("recent_requests", []), "recent_requests")):
        ev = decode.request_copy(decode.array(row, f"recent_requests[{i}]"), f"recent_requests[{i}]")
        h._held.keep(ev.request_key, ev)
        h._keys_counted += 1
    h.tickets.decode(data, moments.get("ticket_first_ts"))
    h._latest_other_ts = moments.get("latest_other_ts")
    errors = decode.table(data.get("errors", {}), "errors")
    h.bad_lines = decode.counts_by_name(errors.get("files", {}), "errors.files")
    h.bad_reasons = decode.counts_by_name(errors.get("reasons", {}), "errors.reasons")
    h.reading.decode(data)
    h._saved_offsets = {}
    for digest, row in decode.table(data.get("offsets", {}), "offsets").items():
        h._saved_offsets[digest] = decode.position(row, f"offsets.{digest}")
    h.ui = decode.ui_preferences(data.get("ui", {}))
    h.usage.forget_contexts()
    h.version += 1


def _decode_recent(recent, rows: object, where: str) -> None:
    for i, row in enumerate(decode.array(rows, where)):
        sec, *v = decode.array(row, f"{where}[{i}]", 3)
        bucket = recent.bucket(decode.moment(sec, f"{where}[{i}][0]"))
        if bucket is not None:
            bucket[:] = decode.counters(v, f"{where}[{i}]", 2)


def _decode_usage(usage: UsagePart, rows: list[dict]) -> None:
    for i, row in enumerate(rows):
        where = f"usage[{i}]"
        counts = decode.array(row.get("counts"), f"{where}.counts")
        if len(counts) in (TOOL_PROMPT, WEB_SEARCHES):  # saved before those were counted
            counts = [*counts, *[0] * (N_COUNTERS - len(counts))]
        model = decode.text(row.get("model"), f"{where}.model", empty_is_none=True)
        if model is None:
            raise decode.CorruptState(f"{where}.model", "must not be empty")
        key = (
            model,
            decode.text(row.get("tier", ""), f"{where}.tier", True),
            decode.text(row.get("session", ""), f"{where}.session", True),
        )
        usage.combos[key] = decode.counters(counts, f"{where}.counts", N_COUNTERS)
        usage.by_session.setdefault(session_name(key[2]), set()).add(key)
        days = {}
        for j, day_row in enumerate(decode.array(row.get("days", []), f"{where}.days")):
            day, *v = decode.array(day_row, f"{where}.days[{j}]", 4)
            days[decode.day(day, f"{where}.days[{j}][0]")] = decode.counters(v, f"{where}.days[{j}]", 3)
        usage.combo_days[key] = days
        usage.quarters[key] = decode_quarters(row.get("quarters", []), f"{where}.quarters")
        provider = decode.text(row.get("provider", ""), f"{where}.provider", True)
        if provider or model not in usage.model_provider:
            usage.model_provider[model] = provider
    # Prices are resolved when first needed (a request, or a snapshot once genai-prices'
    # data is in): loading it here cost a warm start 0.5 s before its first frame.


def session_parts(usage: UsagePart) -> tuple[dict, dict, dict, dict]:
    """Counters, model mix, per-day and per-quarter-hour spend by session name, summed
    into new containers (``days``: ``[(utc_day, model, requests, tokens, cost_pusd)]``;
    ``quarters``: ``session_quarters``). What the durable history stores of each."""
    models: dict[str, dict[str, list[int]]] = {}
    days: dict[str, dict[tuple[int, str], list[int]]] = {}
    for (model, tier, session), c in usage.combos.items():
        name = session_name(session)
        mix = models.setdefault(name, {})
        add_into(mix.setdefault(model, [0] * N_COUNTERS), c)
        session_days = days.setdefault(name, {})
        for day, figures in usage.combo_days.get((model, tier, session), {}).items():
            add_into(session_days.setdefault((day, model), [0, 0, 0]), figures)
    counters = {name: summed(mix.values()) for name, mix in models.items()}
    model_rows = {name: {m: _model_row(c) for m, c in mix.items()} for name, mix in models.items()}
    day_rows = {name: sorted((day, model, *f) for (day, model), f in d.items()) for name, d in days.items()}
    return counters, model_rows, day_rows, session_quarters(usage, day_rows)


def session_quarters(usage: UsagePart, day_rows: dict[str, list[tuple]]) -> dict[str, list[tuple]]:
    """Per session name: ``[(quarter_ts, model, *store_values.QUARTER_FIELDS)]``, its
    spend per UTC quarter hour and model, tiers summed; only the (day, model)s whose
    quarter hours add up to the day's row (``whole_days``): a day some of whose quarter
    hours were let go (older than the time scopes keep) is left to its day row."""
    sums: dict[str, dict[tuple[int, str], list[int]]] = {}
    for (model, _, session), quarters in usage.quarters.items():
        if quarters:
            mine = sums.setdefault(session_name(session), {})
            for q, c in quarters.items():
                add_into(mine.setdefault((q, model), [0] * N_COUNTERS), c)
    out = {}
    for name, by_quarter in sums.items():
        rows = [(q * QUARTER_S, model, *_quarter_figures(c)) for (q, model), c in sorted(by_quarter.items()) if any(c)]
        out[name] = whole_days(rows, day_rows.get(name, ()))
    return out


def _quarter_figures(c: list[int]) -> tuple[int, ...]:
    """A quarter hour's counters as ``store_values.QUARTER_FIELDS``."""
    cw = c[CW5] + c[CW1H]
    return (c[REQ], c[IN], c[OUT], c[CR], cw, c[REASON], c[IN] + c[CR] + cw + c[OUT], c[COST], c[UNPRICED])


def _model_row(m: list[int]) -> dict:
    return {
        "requests": m[REQ],
        "total_tokens": m[IN] + m[CR] + m[CW5] + m[CW1H] + m[OUT],
        "cost_pusd": m[COST],
        "unpriced_requests": m[UNPRICED],
        "input_tokens": m[IN],
        "output_tokens": m[OUT],
        "cache_read_tokens": m[CR],
        "cache_write_tokens": m[CW5] + m[CW1H],
        "reasoning_tokens": m[REASON],
    }


MERGED_BUCKETS = 1024  # a merged timeline is drawn, at most ~512 points: no finer than this


def merged_timeline(usage: UsagePart, scope: Resolved) -> tuple[float, list[tuple[float, list[int]]]]:
    """The timelines of the scope's sessions, clipped to the scope's span and re-bucketed
    at the widest of their widths (or wider, so the span holds ``MERGED_BUCKETS``)."""
    names = scope.sessions if scope.sessions is not None else list(usage.details)
    series = [usage.details[n].timeline for n in names if n in usage.details]
    series = [s for s in series if len(s)]
    if len(series) == 1 and scope.start_ts is None and scope.end_ts is None:
        return series[0].width_s, [(ts, list(v)) for ts, v in series[0].items()]
    if not series:
        return 0.0, []
    lo = -math.inf if scope.start_ts is None else scope.start_ts
    hi = math.inf if scope.end_ts is None else scope.end_ts
    items = [(ts, v) for s in series for ts, v in s.items() if lo <= ts < hi]
    if not items:
        return 0.0, []
    width = max(s.width_s for s in series)
    span = max(ts for ts, _ in items) - min(ts for ts, _ in items)
    while span / width > MERGED_BUCKETS:
        width *= 2
    merged: dict[float, list[int]] = {}
    for ts, v in items:
        start = ts - ts % width
        acc = merged.get(start)
        merged[start] = list(v) if acc is None else list(map(add, acc, v))
    return width, sorted(merged.items())


def decode_quarters(rows: object, where: str) -> dict[int, list[int]]:
    quarters = {}
    for j, row in enumerate(decode.array(rows, where)):
        q, *v = decode.array(row, f"{where}[{j}]")
        if not 1 <= len(v) <= N_COUNTERS:
            raise decode.CorruptState(f"{where}[{j}]", f"must hold a quarter hour and 1 to {N_COUNTERS} counters")
        v += [0] * (N_COUNTERS - len(v))  # trailing zeros are not written
        quarters[decode.whole(q, f"{where}[{j}][0]", 0, 2**33 // QUARTER_S)] = decode.counters(
            v, f"{where}[{j}]", N_COUNTERS, signed=True
        )
    return quarters
