"""Cost of one request: exactly what genai-prices says, in integer picodollars.

genai-prices' own ``calc_price`` is the oracle: for every model, provider, timestamp
and token mix below, ``cost_pusd / 10**12`` must equal its ``total_price`` as Decimals,
not approximately. Our token fields (DESIGN §2) exclude cache from ``input``, while
genai-prices' ``input_tokens`` includes every prompt token, so the oracle is called
with input + cache read + cache writes.
"""

from __future__ import annotations

import math
import subprocess
import sys
import warnings
from datetime import UTC, datetime
from decimal import Decimal
from importlib.metadata import version

import pytest
from genai_prices import Usage, calc_price
from hypothesis import given, settings
from hypothesis import strategies as st

from session_insights import price_data as price_data_module
from session_insights import provenance_views
from session_insights.pricing import PUSD_PER_USD, PriceBook, usd


def _utc(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()


# Timestamps with a reason each.
TS_2025_10 = _utc(2025, 10, 1, 10, 0)  # an ordinary date for models with one price
O3_BEFORE_CUT = _utc(2025, 6, 9, 23, 59, 59)  # o3 cost $10/$40 until 2025-06-10
O3_AFTER_CUT = _utc(2025, 6, 10, 0, 0, 0)  # and $2/$8 from that day on
DEEPSEEK_PEAK = _utc(2025, 10, 1, 10, 0)  # 00:30-16:30 UTC is standard price
DEEPSEEK_OFF_PEAK = _utc(2025, 10, 1, 20, 0)  # 16:30-00:30 UTC is discounted


def genai_prices_usd(
    model: str,
    provider: str | None,
    ts: float,
    input: int,
    cache_read: int,
    cache_write_5m: int,
    cache_write_1h: int,
    output: int,
) -> Decimal:
    """The oracle: genai-prices' total price for the same request."""
    usage = Usage(
        input_tokens=input + cache_read + cache_write_5m + cache_write_1h,
        cache_read_tokens=cache_read,
        cache_write_tokens=cache_write_5m + cache_write_1h,
        cache_write_1h_tokens=cache_write_1h,
        output_tokens=output,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an unsupported usage key would silently price 0
        result = calc_price(usage, model, provider_id=provider, genai_request_timestamp=datetime.fromtimestamp(ts, UTC))
    return result.total_price


def our_pusd(book: PriceBook, model: str, provider: str | None, ts: float, *counts: int) -> int:
    pricing = book.pricing(model, provider)
    assert pricing is not None, f"{model} should be priced by genai-prices"
    return pricing.cost_pusd(ts, *counts)


# (input, cache_read, cache_write_5m, cache_write_1h, output), input excluding cache.
PLAIN = (12_345, 0, 0, 0, 2_345)
WITH_CACHE_READ = (1_200, 48_000, 0, 0, 900)
WITH_CACHE_WRITES = (800, 30_000, 4_000, 2_500, 1_100)
PROMPT_AT_200K = (150_000, 40_000, 6_000, 4_000, 3_000)  # prompt == 200,000: still base
PROMPT_ABOVE_200K = (150_001, 40_000, 6_000, 4_000, 3_000)  # 200,001: every token at tier
INPUT_ONLY_AT_200K = (200_000, 0, 0, 0, 1)
INPUT_ONLY_ABOVE_200K = (200_001, 0, 0, 0, 1)
NOTHING = (0, 0, 0, 0, 0)

COST_CASES = [
    # Claude: 5m and 1h cache writes priced separately; Sonnet 4.5 has a >200k tier.
    pytest.param("claude-sonnet-4-5", "anthropic", TS_2025_10, PLAIN, id="sonnet-4.5-plain"),
    pytest.param("claude-sonnet-4-5", "anthropic", TS_2025_10, WITH_CACHE_READ, id="sonnet-4.5-cache-read"),
    pytest.param("claude-sonnet-4-5", "anthropic", TS_2025_10, WITH_CACHE_WRITES, id="sonnet-4.5-cache-writes"),
    pytest.param("claude-sonnet-4-5", "anthropic", TS_2025_10, PROMPT_AT_200K, id="sonnet-4.5-prompt-at-200k"),
    pytest.param("claude-sonnet-4-5", "anthropic", TS_2025_10, PROMPT_ABOVE_200K, id="sonnet-4.5-prompt-above-200k"),
    pytest.param("claude-sonnet-4-5", "anthropic", TS_2025_10, INPUT_ONLY_AT_200K, id="sonnet-4.5-input-at-200k"),
    pytest.param("claude-sonnet-4-5", "anthropic", TS_2025_10, INPUT_ONLY_ABOVE_200K, id="sonnet-4.5-input-above-200k"),
    pytest.param(
        "claude-sonnet-4-5-20250929", "anthropic", TS_2025_10, PROMPT_ABOVE_200K, id="sonnet-4.5-dated-above-200k"
    ),
    pytest.param("claude-opus-4-1", "anthropic", TS_2025_10, PLAIN, id="opus-4.1-plain"),
    pytest.param("claude-opus-4-1", "anthropic", TS_2025_10, WITH_CACHE_WRITES, id="opus-4.1-cache-writes"),
    pytest.param("claude-opus-4-1", "anthropic", TS_2025_10, (100, 0, 0, 50_000, 10), id="opus-4.1-1h-writes-only"),
    pytest.param("claude-opus-4-1-20250805", "anthropic", TS_2025_10, WITH_CACHE_WRITES, id="opus-4.1-dated"),
    pytest.param("claude-haiku-4-5", "anthropic", TS_2025_10, PLAIN, id="haiku-4.5-plain"),
    pytest.param("claude-haiku-4-5", "anthropic", TS_2025_10, WITH_CACHE_WRITES, id="haiku-4.5-cache-writes"),
    pytest.param("claude-sonnet-4-20250514", "anthropic", TS_2025_10, PLAIN, id="sonnet-4-dated-plain"),
    pytest.param(
        "claude-sonnet-4-20250514", "anthropic", TS_2025_10, WITH_CACHE_WRITES, id="sonnet-4-dated-cache-writes"
    ),
    pytest.param("claude-3-5-haiku-20241022", "anthropic", TS_2025_10, WITH_CACHE_WRITES, id="haiku-3.5-dated"),
    # OpenAI: cached input is a cache read; no cache-write price, so writes bill as input.
    pytest.param("gpt-5", "openai", TS_2025_10, PLAIN, id="gpt-5-plain"),
    pytest.param("gpt-5", "openai", TS_2025_10, WITH_CACHE_READ, id="gpt-5-cache-read"),
    pytest.param("gpt-5", "openai", TS_2025_10, WITH_CACHE_WRITES, id="gpt-5-cache-writes-bill-as-input"),
    pytest.param("gpt-4o-mini", "openai", TS_2025_10, PLAIN, id="gpt-4o-mini-plain"),
    pytest.param("gpt-4o-mini", "openai", TS_2025_10, WITH_CACHE_READ, id="gpt-4o-mini-cache-read"),
    pytest.param("o3", "openai", O3_BEFORE_CUT, PLAIN, id="o3-before-price-cut"),
    pytest.param("o3", "openai", O3_AFTER_CUT, PLAIN, id="o3-after-price-cut"),
    pytest.param("o3", "openai", O3_BEFORE_CUT, WITH_CACHE_READ, id="o3-before-price-cut-cache-read"),
    pytest.param("o3", "openai", O3_AFTER_CUT, WITH_CACHE_READ, id="o3-after-price-cut-cache-read"),
    # Gemini: 2.5 Pro has a >200k tier; 2.5 Flash has one price.
    pytest.param("gemini-2.5-pro", "google", TS_2025_10, PLAIN, id="gemini-2.5-pro-plain"),
    pytest.param("gemini-2.5-pro", "google", TS_2025_10, WITH_CACHE_READ, id="gemini-2.5-pro-cache-read"),
    pytest.param("gemini-2.5-pro", "google", TS_2025_10, WITH_CACHE_WRITES, id="gemini-2.5-pro-cache-writes"),
    pytest.param("gemini-2.5-pro", "google", TS_2025_10, PROMPT_AT_200K, id="gemini-2.5-pro-prompt-at-200k"),
    pytest.param("gemini-2.5-pro", "google", TS_2025_10, PROMPT_ABOVE_200K, id="gemini-2.5-pro-prompt-above-200k"),
    pytest.param("gemini-2.5-pro", "google", TS_2025_10, INPUT_ONLY_ABOVE_200K, id="gemini-2.5-pro-input-above-200k"),
    pytest.param("gemini-2.5-flash", "google", TS_2025_10, PLAIN, id="gemini-2.5-flash-plain"),
    pytest.param("gemini-2.5-flash", "google", TS_2025_10, WITH_CACHE_READ, id="gemini-2.5-flash-cache-read"),
    pytest.param("gemini-2.5-flash", "google", TS_2025_10, PROMPT_ABOVE_200K, id="gemini-2.5-flash-no-tier"),
    # DeepSeek: the price depends on the UTC time of day.
    pytest.param("deepseek-chat", "deepseek", DEEPSEEK_PEAK, PLAIN, id="deepseek-chat-peak"),
    pytest.param("deepseek-chat", "deepseek", DEEPSEEK_OFF_PEAK, PLAIN, id="deepseek-chat-off-peak"),
    pytest.param("deepseek-chat", "deepseek", DEEPSEEK_PEAK, WITH_CACHE_READ, id="deepseek-chat-peak-cache-read"),
    pytest.param(
        "deepseek-chat", "deepseek", DEEPSEEK_OFF_PEAK, WITH_CACHE_READ, id="deepseek-chat-off-peak-cache-read"
    ),
]


# One book for many tests: it has already resolved (and cached) other models and times.
SHARED_BOOK = PriceBook()


@pytest.mark.parametrize(("model", "provider", "ts", "counts"), COST_CASES)
def test_cost_equals_genai_prices_exactly(model, provider, ts, counts):
    pusd = our_pusd(PriceBook(), model, provider, ts, *counts)
    assert type(pusd) is int
    assert Decimal(pusd) / PUSD_PER_USD == genai_prices_usd(model, provider, ts, *counts)


@pytest.mark.parametrize(("model", "provider", "ts", "counts"), COST_CASES)
def test_one_shared_price_book_prices_every_case_like_a_fresh_one(model, provider, ts, counts):
    pusd = our_pusd(SHARED_BOOK, model, provider, ts, *counts)
    assert Decimal(pusd) / PUSD_PER_USD == genai_prices_usd(model, provider, ts, *counts)


def test_empty_request_costs_nothing_for_a_priced_model():
    assert our_pusd(PriceBook(), "claude-sonnet-4-5", "anthropic", TS_2025_10, *NOTHING) == 0


@pytest.mark.parametrize(
    ("model", "provider"),
    [
        ("claude-sonnet-4-5", "anthropic"),
        ("gemini-2.5-pro", "google"),
    ],
)
def test_long_context_tier_is_a_cliff_that_reprices_every_token(model, provider):
    book = PriceBook()
    at_threshold = our_pusd(book, model, provider, TS_2025_10, *INPUT_ONLY_AT_200K)
    one_more = our_pusd(book, model, provider, TS_2025_10, *INPUT_ONLY_ABOVE_200K)
    # One extra prompt token moves all 200,001 tokens to the higher rate.
    assert one_more > at_threshold * 3 // 2


def test_long_context_tier_counts_cache_tokens_in_the_prompt():
    book = PriceBook()
    # Same 200,001-token prompt, mostly cache reads: still above the threshold.
    mostly_cached = (1, 200_000, 0, 0, 0)
    assert Decimal(
        our_pusd(book, "claude-sonnet-4-5", "anthropic", TS_2025_10, *mostly_cached)
    ) / PUSD_PER_USD == genai_prices_usd("claude-sonnet-4-5", "anthropic", TS_2025_10, *mostly_cached)
    base_rate_read = our_pusd(book, "claude-sonnet-4-5", "anthropic", TS_2025_10, 0, 200_000, 0, 0, 0)
    assert our_pusd(book, "claude-sonnet-4-5", "anthropic", TS_2025_10, *mostly_cached) > base_rate_read * 3 // 2


def test_o3_price_changes_on_its_start_date():
    book = PriceBook()
    before = our_pusd(book, "o3", "openai", O3_BEFORE_CUT, *PLAIN)
    after = our_pusd(book, "o3", "openai", O3_AFTER_CUT, *PLAIN)
    assert after < before


@pytest.mark.parametrize(
    "ts",
    [
        _utc(2025, 10, 1, 0, 29, 59),
        _utc(2025, 10, 1, 0, 30, 0),
        _utc(2025, 10, 1, 16, 29, 59),
        _utc(2025, 10, 1, 16, 30, 0),
        _utc(2025, 10, 1, 23, 59, 59),
    ],
    ids=["00:29:59", "00:30:00", "16:29:59", "16:30:00", "23:59:59"],
)
def test_deepseek_time_of_day_boundaries_match_genai_prices(ts):
    pusd = our_pusd(SHARED_BOOK, "deepseek-chat", "deepseek", ts, *WITH_CACHE_READ)
    assert Decimal(pusd) / PUSD_PER_USD == genai_prices_usd("deepseek-chat", "deepseek", ts, *WITH_CACHE_READ)


def test_deepseek_off_peak_is_cheaper_than_peak_within_one_book():
    book = PriceBook()
    peak = our_pusd(book, "deepseek-chat", "deepseek", DEEPSEEK_PEAK, *PLAIN)
    off_peak = our_pusd(book, "deepseek-chat", "deepseek", DEEPSEEK_OFF_PEAK, *PLAIN)
    assert off_peak < peak
    # Asking again, in the other order, gives the same answers (the per-minute cache).
    assert our_pusd(book, "deepseek-chat", "deepseek", DEEPSEEK_OFF_PEAK, *PLAIN) == off_peak
    assert our_pusd(book, "deepseek-chat", "deepseek", DEEPSEEK_PEAK, *PLAIN) == peak


PROPERTY_MODELS = [
    ("claude-sonnet-4-5", "anthropic"),
    ("claude-opus-4-1", "anthropic"),
    ("claude-haiku-4-5", "anthropic"),
    ("gpt-5", "openai"),
    ("o3", "openai"),
    ("gemini-2.5-pro", "google"),
    ("gemini-2.5-flash", "google"),
    ("deepseek-chat", "deepseek"),
]

_tokens = st.integers(min_value=0, max_value=300_000)


@settings(max_examples=150, deadline=None)
@given(
    model_provider=st.sampled_from(PROPERTY_MODELS),
    ts=st.integers(min_value=int(_utc(2025, 1, 1)), max_value=int(_utc(2026, 1, 1))).map(float),
    counts=st.tuples(_tokens, _tokens, _tokens, _tokens, _tokens),
)
def test_any_request_costs_exactly_what_genai_prices_says(model_provider, ts, counts):
    model, provider = model_provider
    pusd = our_pusd(SHARED_BOOK, model, provider, ts, *counts)
    assert Decimal(pusd) / PUSD_PER_USD == genai_prices_usd(model, provider, ts, *counts)


def test_usd_converts_picodollars():
    assert usd(3 * PUSD_PER_USD) == 3.0
    assert usd(1_500_000) == pytest.approx(1.5e-6)


# --- unpriced models ---------------------------------------------------------------


@pytest.mark.parametrize("provider", [None, "acme", "openai"])
def test_unknown_model_is_unpriced_never_free(provider):
    assert PriceBook().pricing("acme-local-7b", provider) is None


# --- overrides ---------------------------------------------------------------------


def test_override_prices_an_unknown_model():
    book = PriceBook({"acme-local-7b": {"input_mtok": 1.0, "output_mtok": 2.0}})
    pricing = book.pricing("acme-local-7b")
    assert pricing is not None
    assert pricing.source == "override"
    # 1M input at $1 + 500k output at $2 = $2.
    assert pricing.cost_pusd(TS_2025_10, 1_000_000, 0, 0, 0, 500_000) == 2 * PUSD_PER_USD


def test_override_cache_prices_default_to_the_input_price():
    book = PriceBook({"acme-local-7b": {"input_mtok": 1.0, "output_mtok": 2.0}})
    pricing = book.pricing("acme-local-7b")
    # $1 per million tokens is 1,000,000 picodollars per token.
    assert pricing.cost_pusd(TS_2025_10, 0, 1_000, 0, 0, 0) == 1_000 * 10**6
    assert pricing.cost_pusd(TS_2025_10, 0, 0, 1_000, 0, 0) == 1_000 * 10**6
    assert pricing.cost_pusd(TS_2025_10, 0, 0, 0, 1_000, 0) == 1_000 * 10**6


def test_override_1h_cache_writes_default_to_the_cache_write_price():
    book = PriceBook({"acme-local-7b": {"input_mtok": 1.0, "cache_write_mtok": 1.25, "cache_read_mtok": 0.1}})
    pricing = book.pricing("acme-local-7b")
    assert pricing.cost_pusd(TS_2025_10, 0, 0, 0, 1_000_000, 0) == 1_250_000 * 10**6
    assert pricing.cost_pusd(TS_2025_10, 0, 1_000_000, 0, 0, 0) == 100_000 * 10**6


def test_override_with_every_key_prices_each_token_kind_separately():
    book = PriceBook(
        {
            "acme-local-7b": {
                "input_mtok": 1,
                "output_mtok": 2,
                "cache_read_mtok": 0.5,
                "cache_write_mtok": 3,
                "cache_write_1h_mtok": 4,
            }
        }
    )
    pricing = book.pricing("acme-local-7b")
    million = 1_000_000
    # $1 + $2 + $0.50 + $3 + $4 for a million of each.
    assert pricing.cost_pusd(TS_2025_10, million, million, million, million, million) == 21 * PUSD_PER_USD // 2


def test_override_wins_over_genai_prices():
    book = PriceBook({"gpt-5": {"input_mtok": 100.0, "output_mtok": 0.0}})
    pricing = book.pricing("gpt-5", "openai")
    assert pricing.source == "override"
    assert pricing.cost_pusd(TS_2025_10, 1_000_000, 0, 0, 0, 1_000_000) == 100 * PUSD_PER_USD


@pytest.mark.parametrize("override_key", ["ACME-Local-7B", "acme-local-7b", "Acme-LOCAL-7b"])
@pytest.mark.parametrize("asked_as", ["acme-local-7b", "ACME-LOCAL-7B"])
def test_override_keys_match_the_model_case_insensitively(override_key, asked_as):
    book = PriceBook({override_key: {"input_mtok": 1.0, "output_mtok": 2.0}})
    assert set(book.overrides) == {"acme-local-7b"}
    pricing = book.pricing(asked_as)
    assert pricing is not None
    assert pricing.cost_pusd(TS_2025_10, 1_000_000, 0, 0, 0, 0) == PUSD_PER_USD


def test_unknown_override_key_raises_naming_the_key():
    with pytest.raises(ValueError, match="input_per_mtok") as excinfo:
        PriceBook({"acme-local-7b": {"input_per_mtok": 1.0}})
    assert "acme-local-7b" in str(excinfo.value)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (-1.0, "-1.0"),
        (-3, "-3"),
        (math.nan, "nan"),
        (math.inf, "inf"),
        ("1.0", "'1.0'"),
        (True, "True"),
        (None, "None"),
    ],
)
def test_bad_override_value_raises_naming_the_key_and_value(value, shown):
    with pytest.raises(ValueError) as excinfo:
        PriceBook({"acme-local-7b": {"input_mtok": 1.0, "output_mtok": value}})
    message = str(excinfo.value)
    assert "output_mtok" in message
    assert "acme-local-7b" in message
    assert shown in message


@pytest.mark.parametrize("raw", [["acme-local-7b"], "acme-local-7b", {"acme-local-7b": 1.0}])
def test_overrides_that_are_not_tables_raise(raw):
    with pytest.raises(ValueError, match=r"pricing\.overrides"):
        PriceBook(raw)


def test_set_overrides_replaces_prices_and_forgets_cached_resolutions():
    book = PriceBook()
    assert book.pricing("acme-local-7b") is None
    book.set_overrides({"acme-local-7b": {"input_mtok": 2.0}})
    pricing = book.pricing("acme-local-7b")
    assert pricing is not None
    assert pricing.cost_pusd(TS_2025_10, 1_000_000, 0, 0, 0, 0) == 2 * PUSD_PER_USD
    book.set_overrides(None)
    assert book.pricing("acme-local-7b") is None


def test_invalid_set_overrides_keeps_the_previous_overrides():
    book = PriceBook({"acme-local-7b": {"input_mtok": 2.0}})
    with pytest.raises(ValueError, match="cache_mtok"):
        book.set_overrides({"acme-local-7b": {"cache_mtok": 1.0}})
    assert book.overrides == {"acme-local-7b": {"input_mtok": 2.0}}
    assert book.pricing("acme-local-7b") is not None


def test_overrides_property_is_a_copy():
    book = PriceBook({"acme-local-7b": {"input_mtok": 2.0}})
    book.overrides["acme-local-7b"]["input_mtok"] = 0.0
    assert book.overrides == {"acme-local-7b": {"input_mtok": 2.0}}


# --- resolution ---------------------------------------------------------------------


def test_provider_hint_genai_prices_does_not_know_still_resolves_by_model():
    book = PriceBook()
    pricing = book.pricing("claude-sonnet-4-5", "acme-cloud")
    assert pricing is not None
    assert pricing.model_id == "claude-sonnet-4-5"
    assert pricing.provider_id == "anthropic"
    assert pricing.cost_pusd(TS_2025_10, *WITH_CACHE_WRITES) == our_pusd(
        book, "claude-sonnet-4-5", "anthropic", TS_2025_10, *WITH_CACHE_WRITES
    )


def test_dated_model_id_resolves_to_its_genai_prices_model():
    pricing = PriceBook().pricing("claude-sonnet-4-20250514", "anthropic")
    assert pricing is not None
    assert pricing.provider_id == "anthropic"
    assert pricing.model_id.startswith("claude-sonnet-4")


def test_same_model_and_provider_resolve_once():
    book = PriceBook()
    first = book.pricing("claude-sonnet-4-5", "anthropic")
    assert first is not None
    assert book.pricing("claude-sonnet-4-5", "anthropic") is first


def test_resolution_happens_once_per_model_and_provider(monkeypatch):
    book = PriceBook()
    calls = []
    real_resolve = book._resolve

    def counting_resolve(model, provider, context):
        calls.append((model, provider))
        return real_resolve(model, provider, context)

    monkeypatch.setattr(book, "_resolve", counting_resolve)
    for _ in range(3):
        book.pricing("gpt-5", "openai")
        book.pricing("acme-local-7b", None)
    assert calls == [("gpt-5", "openai"), ("acme-local-7b", None)]


def test_flat_rates_only_for_models_priced_the_same_whatever_the_time_and_size():
    book = PriceBook({"acme-local-7b": {"input_mtok": 1.0}})
    assert book.pricing("claude-haiku-4-5", "anthropic").flat_rates() is not None
    assert book.pricing("acme-local-7b").flat_rates() == (10**6, 0, 10**6, 10**6, 10**6, 0)
    assert book.pricing("claude-sonnet-4-5", "anthropic").flat_rates() is None  # >200k tier
    assert book.pricing("o3", "openai").flat_rates() is None  # changed on a date
    assert book.pricing("deepseek-chat", "deepseek").flat_rates() is None  # time of day


# --- request attributes (price context) and server tools billed per use --------------

FAST = (("speed", "fast"),)
BATCH = (("processing", "batch"),)
TS_2026_12 = _utc(2026, 12, 1, 10, 0)
BATCH_BEFORE_START = _utc(2026, 10, 13, 23, 59)  # Opus 4.8's batch price starts 2026-10-14
FAST_MODELS = ["claude-opus-4-8", "claude-opus-5", "claude-opus-5-5", "claude-fable-5-2", "claude-mythos-5-2"]


def genai_prices_request_usd(model, provider, ts, counts, context=None, web_searches=0) -> Decimal:
    """The oracle with genai-prices' price context and web searches."""
    inp, cache_read, cache_write_5m, cache_write_1h, output = counts
    usage = Usage(
        input_tokens=inp + cache_read + cache_write_5m + cache_write_1h,
        cache_read_tokens=cache_read,
        cache_write_tokens=cache_write_5m + cache_write_1h,
        cache_write_1h_tokens=cache_write_1h,
        output_tokens=output,
        web_searches=web_searches,
    )
    result = calc_price(
        usage,
        model,
        provider_id=provider,
        genai_request_timestamp=datetime.fromtimestamp(ts, UTC),
        price_context=dict(context) if context else None,
    )
    return result.total_price


@pytest.mark.parametrize("model", FAST_MODELS)
@pytest.mark.parametrize("counts", [PLAIN, WITH_CACHE_WRITES], ids=["plain", "cache-writes"])
def test_a_fast_mode_request_costs_exactly_what_genai_prices_says_for_speed_fast(model, counts):
    pricing = PriceBook().pricing(model, "anthropic", FAST)
    ours = Decimal(pricing.cost_pusd(TS_2026_12, *counts)) / PUSD_PER_USD
    assert ours == genai_prices_request_usd(model, "anthropic", TS_2026_12, counts, FAST)
    assert ours > Decimal(PriceBook().pricing(model, "anthropic").cost_pusd(TS_2026_12, *counts)) / PUSD_PER_USD


def test_fast_mode_of_a_model_with_one_price_keeps_flat_rates_for_the_hot_path():
    book = PriceBook()
    standard, fast = book.pricing("claude-opus-4-8", "anthropic"), book.pricing("claude-opus-4-8", "anthropic", FAST)
    assert fast is not standard
    assert standard.flat_rates() == (5 * 10**6, 25 * 10**6, 5 * 10**5, 6_250_000, 10 * 10**6, 0)
    assert fast.flat_rates() == (10 * 10**6, 50 * 10**6, 10**6, 12_500_000, 20 * 10**6, 0)


def test_a_context_no_variant_of_the_model_matches_is_priced_as_standard():
    book = PriceBook()
    haiku = book.pricing("claude-haiku-4-5", "anthropic", FAST)
    assert haiku.flat_rates() == book.pricing("claude-haiku-4-5", "anthropic").flat_rates()


@pytest.mark.parametrize("ts", [BATCH_BEFORE_START, TS_2026_12], ids=["before-start", "after-start"])
def test_a_variant_with_a_start_date_applies_from_that_date_like_genai_prices(ts):
    pricing = PriceBook().pricing("claude-opus-4-8", "anthropic", BATCH)
    ours = Decimal(pricing.cost_pusd(ts, *WITH_CACHE_WRITES)) / PUSD_PER_USD
    assert ours == genai_prices_request_usd("claude-opus-4-8", "anthropic", ts, WITH_CACHE_WRITES, BATCH)


@pytest.mark.parametrize("context", [None, FAST], ids=["standard", "fast"])
def test_web_searches_cost_exactly_what_genai_prices_says(context):
    pricing = PriceBook().pricing("claude-opus-4-8", "anthropic", context)
    tools = (("web_searches", 7),)
    ours = pricing.cost_pusd(TS_2026_12, *PLAIN) + pricing.server_tools_pusd(TS_2026_12, tools)
    expected = genai_prices_request_usd("claude-opus-4-8", "anthropic", TS_2026_12, PLAIN, context, 7)
    assert Decimal(ours) / PUSD_PER_USD == expected
    assert pricing.server_tools_pusd(TS_2026_12, tools) == 7 * 10**10  # $10 per 1,000 searches


def test_a_server_tool_the_model_has_no_price_for_costs_nothing():
    pricing = PriceBook().pricing("claude-3-haiku", "anthropic")
    assert pricing.server_tools_pusd(TS_2026_12, (("web_searches", 3),)) == 0


# --- which prices: genai-prices' release and its data's own date ------------------------


def dated_model(model_id: str, *starts: str):
    from datetime import date

    from genai_prices import types

    plain = types.ModelPrice(input_mtok=Decimal(1), output_mtok=Decimal(2))
    periods = [types.ConditionalPrice(constraint=None, prices=plain)]
    periods += [
        types.ConditionalPrice(constraint=types.StartDateConstraint(date.fromisoformat(d)), prices=plain)
        for d in starts
    ]
    return types.ModelInfo(id=model_id, match=types.ClauseEquals(model_id), prices=periods)


@pytest.fixture
def dated_price_data(monkeypatch):
    """genai-prices with two models whose prices changed on known dates, some to come."""
    from genai_prices import data_snapshot, types

    models = [
        dated_model("m-1", "2024-03-01", "2099-01-01"),
        dated_model("m-2", "2025-07-15", "2099-01-01", "2100-06-01"),
    ]
    provider = types.Provider(id="acme", name="Acme", api_pattern="acme", models=models)
    data_snapshot.set_custom_snapshot(data_snapshot.DataSnapshot(providers=[provider], from_auto_update=False))
    monkeypatch.setattr(price_data_module, "_price_data", None)
    yield
    data_snapshot.set_custom_snapshot(None)
    price_data_module._price_data = None


def test_the_price_datas_date_is_its_newest_price_change_not_in_the_future(dated_price_data):
    assert price_data_module.price_data(load=True) == {
        "source": "genai-prices",
        "version": version("genai-prices"),
        "newest_change": "2025-07-15",
        "scheduled": 3,
        "scheduled_from": "2099-01-01",
    }


def test_the_price_datas_date_is_named_in_one_line_with_how_to_get_newer_prices(dated_price_data):
    line = provenance_views.price_data_line(price_data_module.price_data(load=True))
    assert line.startswith(
        f"Prices: genai-prices {version('genai-prices')}, newest price change 2025-07-15; "
        "3 changes scheduled from 2099-01-01."
    )
    assert "upgrade the package" in line and "[pricing.overrides]" in line


def test_the_panels_header_does_not_load_genai_prices_data_to_name_it():
    code = (
        "import sys; import session_insights.ui.provenance; from session_insights import price_data as pricing; "
        "print(pricing.price_data()['newest_change'], 'genai_prices.data' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["None", "False"]


def test_an_override_of_a_models_price_leaves_its_fast_mode_price_to_genai_prices():
    book = PriceBook({"claude-opus-4-8": {"input_mtok": 1, "output_mtok": 2}})
    assert book.pricing("claude-opus-4-8", "anthropic").flat_rates() == (10**6, 2 * 10**6, 10**6, 10**6, 10**6, 0)
    fast = book.pricing("claude-opus-4-8", "anthropic", FAST)
    assert (fast.source, fast.flat_rates()) == (
        "genai-prices",
        PriceBook().pricing("claude-opus-4-8", None, FAST).flat_rates(),
    )


def test_an_override_of_a_model_genai_prices_has_no_fast_price_for_prices_its_fast_requests_too():
    book = PriceBook({"my-local-model": {"input_mtok": 1, "output_mtok": 2}})
    fast = book.pricing("my-local-model", None, FAST)
    assert (fast.source, fast.flat_rates()) == ("override", (10**6, 2 * 10**6, 10**6, 10**6, 10**6, 0))


def test_the_panels_first_frame_names_no_price_version_before_genai_prices_is_imported():
    # The price book is imported on the readers' thread after the first frame; naming its
    # version before that would import importlib.metadata (20 ms) on the frame.
    code = (
        "import sys; from session_insights import price_data as pricing; "
        "first = pricing.price_data()['version']; "
        "print(first, 'importlib.metadata' in sys.modules); "
        "import genai_prices; print(pricing.price_data()['version'] == genai_prices.__version__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["None", "False", "True"]
