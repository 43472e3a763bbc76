"""Cost of one request, from genai-prices' bundled data (never its network updater).

A model's prices are resolved once and cached as integer picodollars per token, so a
request costs a handful of integer multiplications and sums are exact in any order
(cost in USD = picodollars / 10**12). Per-request rules are honoured: long-context tiers
switch every rate of the request once its whole prompt (input + cache) passes the tier's
threshold, prices that changed on a date or vary by time of day are chosen by the
request's own timestamp, and cache reads, 5-minute and 1-hour cache writes are priced
separately, falling back the way genai-prices does when a model has no such price.

A request's attributes choose among a model's price variants as genai-prices does (its
``price_context``, e.g. ``speed: fast`` for Claude's fast mode): each context resolves to
a pricing of its own, so the common request, with none, pays no look-up for them.
Server-side tools billed per use (web searches) are priced per period, by genai-prices'
unit name (``server_tools_pusd``).

A model no source knows is *unpriced*: ``cost_pusd`` returns None, never 0.
Overrides (``[pricing.overrides."<model>"]`` in state.toml, USD per million tokens) win
over the bundled data for what they name: the model's standard price. A request with a
price context (fast mode) keeps genai-prices' variant price where the model has one. genai-prices names no date for its data: ``price_data`` says which
release it is and the newest price change in it that has started (a date of its own).
"""

from __future__ import annotations

import math
import sys
import threading
from bisect import bisect_right
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

PUSD_PER_USD = 10**12
_PUSD_PER_TOKEN_PER_USD_PER_MTOK = 10**6

# The per-million-token prices we read, in the order of Rates below.
OVERRIDE_KEYS = ("input_mtok", "output_mtok", "cache_read_mtok", "cache_write_mtok", "cache_write_1h_mtok")

# (input, output, cache_read, cache_write_5m, cache_write_1h, per_request), picodollars.
Rates = tuple[int, int, int, int, int, int]
# genai-prices' request attributes (its PriceContext), as sorted (key, value) pairs.
PriceContext = tuple[tuple[str, str], ...]
# Server-side tools billed per use: genai-prices' usage unit -> its price key (USD per 1,000).
SERVER_TOOL_PRICE_KEYS = {
    "web_searches": "web_searches_kcount",
    "code_executions": "code_executions_kcount",
    "storage_searches": "storage_searches_kcount",
    "social_searches": "social_searches_kcount",
}


def usd(pusd: int) -> float:
    return pusd / PUSD_PER_USD


def _pusd_per_token(usd_per_mtok: Decimal | float | int) -> int:
    value = Decimal(str(usd_per_mtok)) * _PUSD_PER_TOKEN_PER_USD_PER_MTOK
    return int(value.to_integral_value(ROUND_HALF_EVEN))


class TieredRates:
    """Rates of one price period: a base set, and sets that apply past prompt thresholds."""

    __slots__ = ("base", "per_use", "starts", "tiers")

    def __init__(self, base: Rates, tiers: list[tuple[int, Rates]], per_use: dict[str, int] | None = None):
        self.base = base
        self.starts = [start for start, _ in tiers]
        self.tiers = [rates for _, rates in tiers]
        self.per_use = per_use or {}  # server tool unit -> picodollars a use

    def for_prompt(self, prompt_tokens: int) -> Rates:
        # Tiers are cliffs: past a start (strictly greater), all tokens take that rate.
        i = bisect_right(self.starts, prompt_tokens - 1)
        return self.tiers[i - 1] if i else self.base


def _rates_from_model_price(price: Any) -> TieredRates:
    """TieredRates from a genai-prices ModelPrice."""
    from genai_prices.types import TieredPrices

    def value_at(key: str, start: int | None) -> Decimal | None:
        raw = getattr(price, key, None)
        if raw is None:
            return None
        if isinstance(raw, TieredPrices):
            chosen = raw.base
            if start is not None:
                for tier in raw.tiers:
                    if start >= tier.start:
                        chosen = tier.price
            return chosen
        return raw

    def rates_at(start: int | None) -> Rates:
        inp = value_at("input_mtok", start) or Decimal(0)
        write = value_at("cache_write_mtok", start)
        write_5m = value_at("cache_write_5m_mtok", start) or write
        write_1h = value_at("cache_write_1h_mtok", start) or write
        read = value_at("cache_read_mtok", start)
        per_k_requests = value_at("requests_kcount", start) or Decimal(0)
        return (
            _pusd_per_token(inp),
            _pusd_per_token(value_at("output_mtok", start) or 0),
            # Where a model has no cache price, genai-prices counts those tokens as input.
            _pusd_per_token(read if read is not None else inp),
            _pusd_per_token(write_5m if write_5m is not None else inp),
            _pusd_per_token(write_1h if write_1h is not None else inp),
            int(per_k_requests * PUSD_PER_USD / 1000),
        )

    starts: set[int] = set()
    for key in (
        "input_mtok",
        "output_mtok",
        "cache_read_mtok",
        "cache_write_mtok",
        "cache_write_5m_mtok",
        "cache_write_1h_mtok",
    ):
        raw = getattr(price, key, None)
        if isinstance(raw, TieredPrices):
            starts.update(tier.start for tier in raw.tiers)
    per_use = {}
    for unit, key in SERVER_TOOL_PRICE_KEYS.items():
        per_k = value_at(key, None)
        if per_k:
            per_use[unit] = int(per_k * PUSD_PER_USD / 1000)
    return TieredRates(rates_at(None), [(s, rates_at(s)) for s in sorted(starts)], per_use)


class ModelPricing:
    """How one model is priced: one period, or periods chosen by the request's time."""

    __slots__ = ("_conditional", "_fixed", "_minute_cache", "_resolver", "model_id", "provider_id", "source")

    def __init__(
        self,
        model_id: str,
        provider_id: str,
        source: str,
        fixed: TieredRates | None = None,
        conditional: list[tuple[Any, TieredRates]] | None = None,
        resolver: Any = None,
    ):
        self.model_id = model_id
        self.provider_id = provider_id
        self.source = source  # "genai-prices" or "override"
        self._fixed = fixed
        self._conditional = conditional
        self._resolver = resolver  # datetime -> TieredRates, where neither of the above says
        self._minute_cache: dict[int, TieredRates] = {}

    def period(self, ts: float) -> TieredRates:
        if self._fixed is not None:
            return self._fixed
        # Date and time-of-day constraints change on minute boundaries: one look-up a minute.
        minute = int(ts // 60)
        rates = self._minute_cache.get(minute)
        if rates is None:
            when = datetime.fromtimestamp(minute * 60, UTC)
            if self._resolver is not None:
                rates = self._resolver(when)
            else:
                assert self._conditional
                rates = self._conditional[0][1]
                # genai-prices tries conditional prices last to first; the first active wins.
                for constraint, candidate in reversed(self._conditional):
                    if constraint is None or constraint.active(when):
                        rates = candidate
                        break
            if len(self._minute_cache) > 4096:
                self._minute_cache.clear()
            self._minute_cache[minute] = rates
        return rates

    def cost_pusd(
        self, ts: float, input: int, cache_read: int, cache_write_5m: int, cache_write_1h: int, output: int
    ) -> int:
        """Exact cost of one request in picodollars."""
        rates = self.period(ts).for_prompt(input + cache_read + cache_write_5m + cache_write_1h)
        return (
            input * rates[0]
            + output * rates[1]
            + cache_read * rates[2]
            + cache_write_5m * rates[3]
            + cache_write_1h * rates[4]
            + rates[5]
        )

    def server_tools_pusd(self, ts: float, server_tools: tuple[tuple[str, int], ...]) -> int:
        """What a request's server-side tool uses cost, in picodollars: a unit the model
        has no price for costs nothing, as in genai-prices."""
        per_use = self.period(ts).per_use
        return sum(count * per_use.get(unit, 0) for unit, count in server_tools)

    def flat_rates(self) -> Rates | None:
        """The rates of every request, when they depend on neither time nor prompt size."""
        if self._fixed is not None and not self._fixed.tiers:
            return self._fixed.base
        return None


def _override_pricing(model: str, override: Mapping[str, float]) -> ModelPricing:
    inp = override.get("input_mtok", 0)
    write = override.get("cache_write_mtok", inp)
    rates: Rates = (
        _pusd_per_token(inp),
        _pusd_per_token(override.get("output_mtok", 0)),
        _pusd_per_token(override.get("cache_read_mtok", inp)),
        _pusd_per_token(write),
        _pusd_per_token(override.get("cache_write_1h_mtok", write)),
        0,
    )
    return ModelPricing(model, "override", "override", fixed=TieredRates(rates, []))


def check_overrides(raw: object) -> dict[str, dict[str, float]]:
    """Validated price overrides: model -> {price key: USD per million tokens}."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ValueError("pricing.overrides must be a table of models")
    out: dict[str, dict[str, float]] = {}
    for model, prices in raw.items():
        if not isinstance(prices, Mapping):
            raise ValueError(f"pricing.overrides.{model!r} must be a table of prices")
        unknown = set(prices) - set(OVERRIDE_KEYS)
        if unknown:
            raise ValueError(
                f"pricing.overrides.{model!r}: unknown key(s) {', '.join(sorted(unknown))}; "
                f"use {', '.join(OVERRIDE_KEYS)} (USD per million tokens)"
            )
        checked = {}
        for key, value in prices.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise ValueError(f"pricing.overrides.{model!r}.{key} must be a number >= 0, got {value!r}")
            checked[key] = float(value)
        out[str(model).lower()] = checked
    return out


class PriceBook:
    """Resolves each (model, provider) once and caches the result, priced or not."""

    def __init__(self, overrides: Mapping[str, Mapping[str, float]] | None = None):
        self._lock = threading.Lock()
        self._cache: dict[tuple, ModelPricing | None] = {}
        self._overrides = check_overrides(overrides)

    @property
    def overrides(self) -> dict[str, dict[str, float]]:
        return {model: dict(prices) for model, prices in self._overrides.items()}

    def set_overrides(self, overrides: Mapping[str, Mapping[str, float]] | None) -> None:
        checked = check_overrides(overrides)
        with self._lock:
            self._overrides = checked
            self._cache.clear()

    @staticmethod
    def load() -> None:
        """Load genai-prices' bundled data now (~0.5 s with its import, once a process):
        before forking processes that price, so each does not load it again, and on a
        window's background thread, so its first frame does not wait for it."""
        from genai_prices import data_snapshot

        data_snapshot.get_snapshot()

    @staticmethod
    def loaded() -> bool:
        """Whether genai-prices' data is in (pricing a model then costs microseconds)."""
        return "genai_prices.data" in sys.modules

    def pricing(
        self, model: str, provider: str | None = None, context: PriceContext | None = None
    ) -> ModelPricing | None:
        """The model's pricing for requests with ``context`` (None: the standard price),
        or None when no price is known (unpriced)."""
        key = (model, provider) if context is None else (model, provider, context)
        try:
            return self._cache[key]
        except KeyError:
            pass
        resolved = self._resolve(model, provider, context)
        with self._lock:
            self._cache[key] = resolved
        return resolved

    def _resolve(self, model: str, provider: str | None, context: PriceContext | None) -> ModelPricing | None:
        override = self._overrides.get(model.lower())
        if override is not None and not context:
            return _override_pricing(model, override)
        from genai_prices import data_snapshot, types

        snapshot = data_snapshot.get_snapshot()
        found = None
        for provider_id in (provider, None) if provider else (None,):
            try:
                found = snapshot.find_provider_model(model, None, provider_id, None)
                break
            except LookupError:
                continue
        if found is None:
            return None if override is None else _override_pricing(model, override)
        provider_info, info = found
        if context:
            variants = _variants_for(info, provider_info, dict(context))
            if variants:
                return _context_pricing(info, provider_info, dict(context), variants)
        if override is not None:  # the user named the standard price, not this variant's
            return _override_pricing(model, override)
        if isinstance(info.prices, types.ModelPrice):
            return ModelPricing(info.id, provider_info.id, "genai-prices", fixed=_rates_from_model_price(info.prices))
        conditional = [(c.constraint, _rates_from_model_price(c.prices)) for c in info.prices]
        return ModelPricing(info.id, provider_info.id, "genai-prices", conditional=conditional)


def _variants_for(info: Any, provider_info: Any, context: dict[str, str]) -> list[Any]:
    """The model's price variants a request with ``context`` may take. As in genai-prices,
    a model priced through another provider's entry takes none."""
    if not any(info is m for m in provider_info.models):
        return []
    return [v for v in info.price_variants or () if all(context.get(k) == value for k, value in v.when.items())]


def _context_pricing(info: Any, provider_info: Any, context: dict[str, str], variants: list[Any]) -> ModelPricing:
    """A pricing for requests with ``context``: genai-prices' own choice of standard price
    and variants at the request's time, resolved once for each set of active date or
    time-of-day constraints."""
    from genai_prices import types

    constraints = [v.constraint for v in variants if v.constraint is not None]
    if not isinstance(info.prices, types.ModelPrice):
        constraints += [c.constraint for c in info.prices if c.constraint is not None]
    if not constraints:
        now = datetime.now(UTC)  # no price of it depends on the time
        fixed = _rates_from_model_price(info.get_prices(now, context))
        return ModelPricing(info.id, provider_info.id, "genai-prices", fixed=fixed)
    by_active: dict[tuple[bool, ...], TieredRates] = {}

    def resolve(when: datetime) -> TieredRates:
        active = tuple(c.active(when) for c in constraints)
        rates = by_active.get(active)
        if rates is None:
            rates = by_active[active] = _rates_from_model_price(info.get_prices(when, context))
        return rates

    return ModelPricing(info.id, provider_info.id, "genai-prices", resolver=resolve)
