"""The usage part: what model requests cost, summed at every grain a view needs.

Per (model, tier, session): counters (``counters.py``), per UTC day (for the durable
history, ``MAX_DAYS_PER_COMBO`` days) and per quarter hour (for the time scopes, the last
``QUARTER_DAYS`` days). Over everything: the timeline. Per session, for the
``MAX_DETAILED`` most recently active: its own timeline and burn window
(``SessionDetail``); the burn window of everything is theirs summed (a session active in
the last hour is always among them). Every aggregate is a sum, so ``add(ev, -1)`` takes a copy back
exactly and parts built apart merge (``merge``).

``add`` is the hot path (400k requests a second): flat lists, look-ups cached per label
set and per second.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from ..events import UsageEvent
from ..pricing import PUSD_PER_USD, PriceBook
from ..series import BucketSeries
from ..store_values import QUARTER_S
from .counters import (
    CD_COST,
    CD_REQ,
    CD_TOKENS,
    COST,
    CR,
    CW1H,
    CW5,
    IN,
    OUT,
    REASON,
    REPORTED,
    REQ,
    T_COST,
    T_CR,
    T_CW,
    T_FIELDS,
    T_IN,
    T_OUT,
    T_REQ,
    TOOL_PROMPT,
    UNPRICED,
    WEB_SEARCHES,
    blank,
)
from .detail import SessionDetail, active_seconds
from .sessions import SessionRow
from .tools import MAX_TOOLS, OTHER_TOOLS
from .usage_fold import OTHER_MODELS as OTHER_MODELS  # where the history names it
from .usage_fold import Folding, session_name
from .usage_read import UsageReading

DAY_S = 86_400
QUARTER_DAYS = 8  # today, the last 7 days and the block all lie within them
MAX_DAYS_PER_COMBO = 62
TIMELINE_CAPACITY = 720
MAX_DETAILED = 64
_MISSING = object()
# Context slots (one list per label set, see UsagePart._context): the look-ups of the
# label set, and the day and quarter-hour counters of the quarter hour [QLO, QHI) it
# last counted in.
C_PRICING, C_RATES, C_COMBO, C_DAYS, C_QUARTERS, C_ROW, C_DETAIL, C_QLO, C_QHI, C_DAY, C_QUARTER = range(11)


class UsagePart(Folding, UsageReading):
    """Usage counters over every grain; ``session_row(name)`` gives (and may fold for)
    the row a new session's requests stretch."""

    def __init__(self, prices: PriceBook, rows: dict[str, SessionRow], session_row) -> None:
        self.prices = prices
        self.rows = rows  # the sessions part's rows, read here
        self._session_row = session_row  # creates a row (folding others when full)
        self.reset()

    def reset(self) -> None:
        Key = tuple[str, str | None, str | None]
        self.combos: dict[Key, list[int]] = {}
        self.combo_days: dict[Key, dict[int, list[int]]] = {}
        self.quarters: dict[Key, dict[int, list[int]]] = {}
        self._by_quarter: dict[int, list[Key]] | None = None  # quarter -> its combos; None: to rebuild
        self.by_session: dict[str, set[Key]] = {}  # session name -> its combo keys
        self.model_provider: dict[str, str | None] = {}
        self.pricing_cache: dict[tuple[str, str | None], Any] = {}
        self.timeline = BucketSeries(TIMELINE_CAPACITY, fields=T_FIELDS)
        self.details: dict[str, SessionDetail] = {}
        # (session name, tool) -> [turns, tokens, cost_pusd, unpriced turns]
        self.tool_turns: dict[tuple[str, str], list[int]] = {}
        self.first_ts: float | None = None
        self.last_ts: float | None = None
        self._first_or_max = math.inf
        self._last_or_min = -math.inf
        self.forget_contexts()

    def __getstate__(self) -> dict:
        """Its sums, for a part handed to another process (handover.py): not its price
        book, nor the history's row maker, nor the look-ups cached for the hot path."""
        state = {k: v for k, v in self.__dict__.items() if not k.startswith("_")}
        state.pop("prices", None)
        state["_first_or_max"], state["_last_or_min"] = self._first_or_max, self._last_or_min
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.prices, self._session_row, self._by_quarter = None, None, None
        self.forget_contexts()

    def forget_contexts(self) -> None:
        """Drop cached look-ups (after folding, letting detail go or loading, which they
        point at)."""
        self._by_quarter = None
        self._contexts: dict[tuple, list] = {}
        self._last_labels: tuple | None = None
        self._last_context: list = []
        # The second last counted in and the buckets holding it: [second, the session's
        # detail, the timeline's bucket, the detail's bucket, its burn-window second].
        # Only _locate_second calls bucket() between forget_contexts(), so a bucket
        # cached here is never one a coarser timeline let go.
        self._hot: list = [-1, None, None, None, None]

    def pricing(self, model: str, provider: str | None, context=None) -> Any:
        key = (model, provider) if context is None else (model, provider, context)
        pricing = self.pricing_cache.get(key, _MISSING)
        if pricing is _MISSING:
            pricing = self.pricing_cache[key] = self.prices.pricing(model, provider, context)
            if context is not None:  # the model's own entry too: where its price comes from
                self.pricing(model, provider)
            if provider is not None or model not in self.model_provider:
                self.model_provider[model] = provider
        return pricing

    def _context(self, model: str, provider: str | None, tier: str | None, session: str | None, source, pc) -> list:
        """The look-ups of one label set, created on first use (``pc``: the price context)."""
        pricing = self.pricing(model, provider, pc)
        name = session_name(session)
        row: SessionRow = self._session_row(name)  # may fold sessions: before any look-up below
        if row.source is None:
            row.source = source
        detail = self.details.get(name)
        if detail is None:
            detail = self._new_detail(name)
        key = (model, tier, session)
        combo = self.combos.get(key)
        if combo is None:
            combo = self.combos[key] = blank()
            self.by_session.setdefault(name, set()).add(key)
        rates = pricing.flat_rates() if pricing is not None else None
        days = self.combo_days.setdefault(key, {})
        quarters = self.quarters.setdefault(key, {})
        return [pricing, rates, combo, days, quarters, row, detail, 0.0, 0.0, None, None]

    def _new_detail(self, name: str) -> SessionDetail:
        if len(self.details) >= MAX_DETAILED:
            self.let_detail_go(len(self.details) - MAX_DETAILED + 1, keep=name)
        detail = self.details[name] = SessionDetail.new()
        return detail

    def let_detail_go(self, n: int, keep: str | None = None) -> None:
        """Drop the detail of the ``n`` least recently active sessions; each keeps its
        active time in its row."""
        ranked = sorted(self.details, key=lambda s: self.details[s].recent.latest)
        for name in [s for s in ranked if s != keep][:n]:
            detail = self.details.pop(name)
            row = self.rows.get(name)
            if row is not None:
                row.active_s = active_seconds(detail.timeline)
        self.forget_contexts()

    def add(self, ev: UsageEvent, sign: int) -> None:
        """Count a request (``sign`` 1) or take a copy back (-1)."""
        self.add_run((ev,), sign)

    def add_run(self, events: Iterable[UsageEvent], sign: int, keyed=None) -> None:
        """Count requests in order (``sign`` 1) or take copies back (-1); with ``keyed``,
        a request with a key goes there instead (the history's de-duplication, which
        calls ``add`` for what it counts)."""
        if keyed is None:
            self._count_run(events, sign)
            return
        run: list[UsageEvent] = []
        for ev in events:
            if ev[12] is None:
                run.append(ev)
            else:
                self._count_run(run, sign)
                run = []
                keyed(ev)
        self._count_run(run, sign)

    def _count_run(self, events: Iterable[UsageEvent], sign: int) -> None:
        """The hot path: one unpack per request, flat adds on look-ups cached per label
        set. The buckets of a second (the timeline's, the session's timeline's, its burn
        window's) take the sums of that second's requests of one session once, from
        locals, when the second or the session changes (and so before a new session's
        look-ups, which may fold sessions or let a detail go)."""
        contexts, labels_now, ctx = self._contexts, self._last_labels, self._last_context
        b = db = r = session_now = None
        sec_now = -1
        s_in = s_out = s_cr = s_cw = s_cost = s_req = s_tok = 0
        hi, lo = -math.inf, math.inf  # the run's latest and earliest request
        try:
            for ev in events:
                ts, model, provider, inp, cr, cw5, cw1h, out, reasoning, tier, session, _, _, reported, tools, tool_prompt, pc, st, _ = ev  # fmt: skip
                sec = int(ts)
                if sec != sec_now or session != session_now:
                    if s_req:
                        self._add_second(b, db, r, s_in, s_out, s_cr, s_cw, s_cost, s_req, s_tok)
                        s_in = s_out = s_cr = s_cw = s_cost = s_req = s_tok = 0
                    sec_now, session_now, b = sec, session, None
                labels = (model, provider, tier, session, pc)
                if labels != labels_now:
                    labels_now, ctx = labels, contexts.get(labels) or self._switch_context(labels, ev)
                    contexts = self._contexts  # a new label set's look-ups may have let the others go
                pricing, rates, c, _, _, row, detail, q_lo, q_hi, cd, q = ctx
                if b is None:
                    b, db, r = self._locate_second(ts, sec, detail)
                if rates is not None:
                    cost = inp * rates[0] + out * rates[1] + cr * rates[2] + cw5 * rates[3] + cw1h * rates[4] + rates[5]
                else:
                    cost = pricing.cost_pusd(ts, inp, cr, cw5, cw1h, out) if pricing is not None else 0
                searches = reported_pusd = 0
                if st or reported:  # web searches billed per use; the cost the agent wrote itself
                    cost, searches, reported_pusd = self._per_use(pricing, ts, st, reported, cost)
                if sign < 0:
                    inp, cr, cw5, cw1h, out, reasoning, cost, reported_pusd, tool_prompt, searches = -inp, -cr, -cw5, -cw1h, -out, -reasoning, -cost, -reported_pusd, -tool_prompt, -searches  # fmt: skip
                tokens = inp + cr + cw5 + cw1h + out
                if not q_lo <= ts < q_hi:  # the label set's day and quarter hour stay for 15 minutes
                    cd, q = self._locate_quarter(ctx, ts)
                _add_request(c, q, cd, sign, inp, cr, cw5, cw1h, out, cost, tokens, pricing is None)
                if reasoning or reported_pusd or tool_prompt or searches:
                    self._add_rare(c, q, reasoning, reported_pusd, tool_prompt, searches)
                s_in += inp
                s_out += out
                s_cr += cr
                s_cw += cw5 + cw1h
                s_cost += cost
                s_req += sign
                s_tok += tokens
                if tools:
                    self._add_tool_turn(session_name(session), tools, tokens, cost, pricing is None, sign)
                hi, lo = ts if ts > hi else hi, ts if ts < lo else lo
                if ts < row.first_ts:
                    row.first_ts = ts
                if ts > row.last_ts:
                    row.last_ts = ts
        finally:
            if s_req:
                self._add_second(b, db, r, s_in, s_out, s_cr, s_cw, s_cost, s_req, s_tok)
            self._end_run(labels_now, ctx, hi, lo)

    def _end_run(self, labels: tuple | None, ctx: list | None, hi: float, lo: float) -> None:
        """What a run leaves for the next: its last label set's look-ups, and the span
        stretched to its latest and earliest request (none when ``hi < lo``)."""
        self._last_labels, self._last_context = labels, ctx
        if hi >= lo:
            self.stretch(hi)
            self.stretch(lo)

    @staticmethod
    def _add_second(b, db, r, inp: int, out: int, cr: int, cw: int, cost: int, req: int, tokens: int) -> None:
        """A second's sums into its buckets: the timeline's, the session's, its burn window's."""
        for bucket in (b, db):
            bucket[T_IN] += inp
            bucket[T_OUT] += out
            bucket[T_CR] += cr
            bucket[T_CW] += cw
            bucket[T_COST] += cost
            bucket[T_REQ] += req
        if r is not None:
            r[0] += tokens
            r[1] += cost

    def _switch_context(self, labels: tuple, ev: UsageEvent) -> list:
        """The look-ups of a label set other than the last one's, made on first use."""
        ctx = self._contexts.get(labels)
        if ctx is None:
            if len(self._contexts) > 4096:
                self._contexts.clear()
            model, provider, tier, session, pc = labels
            ctx = self._contexts[labels] = self._context(model, provider, tier, session, ev[11], pc)
        self._last_context, self._last_labels = ctx, labels
        return ctx

    @staticmethod
    def _per_use(pricing, ts: float, server_tools, reported: float | None, cost: int) -> tuple[int, int, int]:
        """The cost with the server tools billed per use, the web searches among them,
        and the agent's own figure in picodollars."""
        searches = 0
        if server_tools:
            searches = sum(n for unit, n in server_tools if unit == "web_searches")
            if pricing is not None:
                cost += pricing.server_tools_pusd(ts, server_tools)
        return cost, searches, round(reported * PUSD_PER_USD) if reported else 0

    @staticmethod
    def _add_rare(
        c: list[int], q: list[int], reasoning: int, reported_pusd: int, tool_prompt: int, searches: int
    ) -> None:
        """The counters most requests leave at zero."""
        for counters in (c, q):
            counters[REASON] += reasoning
            counters[REPORTED] += reported_pusd
            counters[TOOL_PROMPT] += tool_prompt
            counters[WEB_SEARCHES] += searches

    def _locate_quarter(self, ctx: list, ts: float) -> tuple[list[int], list[int]]:
        """Point a context at the day and quarter-hour counters holding ``ts``."""
        sec = int(ts)
        quarter = sec // QUARTER_S
        days, quarters = ctx[C_DAYS], ctx[C_QUARTERS]
        day_index = sec // DAY_S
        cd = days.get(day_index)
        if cd is None:
            cd = days[day_index] = [0, 0, 0]
            if len(days) > MAX_DAYS_PER_COMBO:
                # A session running for months keeps its recent days; the earlier ones
                # reached the durable history, which keeps them (see store.write).
                del days[min(days)]
        cq = quarters.get(quarter)
        if cq is None:
            cq = quarters[quarter] = blank()
            self._by_quarter = None
            if len(quarters) > QUARTER_DAYS * DAY_S // QUARTER_S:
                self._prune_quarters(quarters, quarter)
        ctx[C_DAY], ctx[C_QUARTER] = cd, cq
        ctx[C_QLO], ctx[C_QHI] = quarter * QUARTER_S, (quarter + 1) * QUARTER_S
        return cd, cq

    def _locate_second(self, ts: float, sec: int, detail: SessionDetail) -> tuple:
        """The buckets holding second ``sec``: the timeline's, the session's timeline's
        and its burn-window second; kept for the requests of that second."""
        hot_sec, hot_detail, b, db, r = self._hot
        if sec != hot_sec or detail is not hot_detail:
            b, db, r = self.timeline.bucket(ts), detail.timeline.bucket(ts), detail.recent.bucket(ts)
            self._hot = [sec, detail, b, db, r]
        return b, db, r

    @staticmethod
    def _prune_quarters(quarters: dict[int, list[int]], latest: int) -> None:
        oldest = max(latest, max(quarters)) - QUARTER_DAYS * DAY_S // QUARTER_S
        for q in [q for q in quarters if q < oldest]:
            del quarters[q]

    def _add_tool_turn(self, session: str, tools, tokens: int, cost: int, unpriced: bool, sign: int) -> None:
        """Charge a request to each tool it called: what the turns calling a tool cost.
        A request calling two tools counts in full for both (a turn is not split)."""
        for name in tools:
            turn = self.tool_turns.get((session, name))
            if turn is None:
                if len(self.tool_turns) >= MAX_TOOLS * 8:
                    name = OTHER_TOOLS
                turn = self.tool_turns.setdefault((session, name), [0, 0, 0, 0])
            turn[0] += sign
            turn[1] += tokens
            turn[2] += cost
            turn[3] += sign if unpriced else 0

    def stretch(self, ts: float) -> None:
        if ts > self._last_or_min:
            self.last_ts = self._last_or_min = ts
        if ts < self._first_or_max:
            self.first_ts = self._first_or_max = ts


def _add_request(c, q, cd, sign: int, inp, cr, cw5, cw1h, out, cost, tokens, unpriced: bool) -> None:
    """A request into its label set's counters: the totals, its quarter hour's (both
    ``counters.py``'s layout) and its day's."""
    for counters in (c, q):
        counters[REQ] += sign
        counters[IN] += inp
        counters[CR] += cr
        counters[CW5] += cw5
        counters[CW1H] += cw1h
        counters[OUT] += out
        counters[COST] += cost
        if unpriced:
            counters[UNPRICED] += sign
    cd[CD_REQ] += sign
    cd[CD_TOKENS] += tokens
    cd[CD_COST] += cost
