"""Normalised records and the checks that guard them.

A bad value raises ValueError at the call, naming the field and showing the value, so a
host learns what it passed wrong in its own thread, before anything is queued.
"""

from __future__ import annotations

import math
import re
import types

import pytest

from session_insights import events
from session_insights.events import (
    MAX_TOKENS_PER_REQUEST,
    TICKET_STATUSES,
    UsageEvent,
    check_cost_usd,
    check_duration_ms,
    check_label,
    check_name,
    check_score,
    check_status,
    check_tokens,
    check_ts,
    usage_event,
)

TS = 1_759_312_800.0  # 2025-10-01 10:00 UTC

TOKEN_ARGUMENTS = (
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cache_write_1h_tokens",
    "reasoning_tokens",
)


def raises_naming(field: str, shown: str):
    """pytest.raises(ValueError) whose message names ``field`` and shows ``shown``."""
    return pytest.raises(ValueError, match=rf"(?s)(?=.*\b{field}\b)(?=.*{re.escape(shown)})")


# --- a valid event ---------------------------------------------------------------------


def test_valid_usage_event_round_trips_every_field():
    event = usage_event(
        model="claude-sonnet-4-5",
        input_tokens=12,
        output_tokens=345,
        cache_read_tokens=20_000,
        cache_write_tokens=1_000,
        cache_write_1h_tokens=500,
        reasoning_tokens=100,
        ts=TS,
        tier="Tier 3",
        session="s-1",
        provider="anthropic",
        source="claude",
        request_key="msg_01:req_01",
        reported_cost_usd=0.0123,
    )
    assert event == UsageEvent(
        ts=TS,
        model="claude-sonnet-4-5",
        provider="anthropic",
        input=12,
        cache_read=20_000,
        cache_write_5m=1_000,
        cache_write_1h=500,
        output=345,
        reasoning=100,
        tier="Tier 3",
        session="s-1",
        source="claude",
        request_key="msg_01:req_01",
        reported_cost_usd=0.0123,
    )


def test_usage_event_defaults_counts_to_zero_and_labels_to_none():
    event = usage_event(model="gpt-5", ts=TS)
    assert event == UsageEvent(ts=TS, model="gpt-5")
    assert (event.input, event.cache_read, event.cache_write_5m, event.cache_write_1h, event.output) == (0,) * 5
    assert event.provider is event.tier is event.session is event.source is event.request_key is None
    assert event.reported_cost_usd is None


def test_usage_event_strips_names_and_blank_labels_become_none():
    event = usage_event(model="  gpt-5 \n", ts=TS, tier="  Tier 2 ", session="   ", provider="")
    assert event.model == "gpt-5"
    assert event.tier == "Tier 2"
    assert event.session is None
    assert event.provider is None


def test_usage_event_without_ts_is_stamped_now(monkeypatch):
    monkeypatch.setattr(events, "time", types.SimpleNamespace(time=lambda: 1_700_000_000.5))
    assert usage_event(model="gpt-5").ts == 1_700_000_000.5


def test_integer_ts_becomes_float_seconds():
    event = usage_event(model="gpt-5", ts=1_759_312_800)
    assert event.ts == TS
    assert type(event.ts) is float


def test_reported_cost_integer_becomes_float_dollars():
    event = usage_event(model="gpt-5", ts=TS, reported_cost_usd=2)
    assert event.reported_cost_usd == 2.0
    assert type(event.reported_cost_usd) is float


def test_counts_at_the_per_request_limit_are_accepted():
    event = usage_event(model="gpt-5", ts=TS, input_tokens=MAX_TOKENS_PER_REQUEST)
    assert event.input == 10**9


def test_reasoning_equal_to_output_is_accepted():
    event = usage_event(model="o3", ts=TS, output_tokens=500, reasoning_tokens=500)
    assert (event.output, event.reasoning) == (500, 500)


def test_total_tokens_sums_input_cache_and_output_but_not_reasoning_again():
    event = UsageEvent(
        ts=TS,
        model="m",
        input=1,
        cache_read=20,
        cache_write_5m=300,
        cache_write_1h=4_000,
        output=50_000,
        reasoning=40_000,
    )
    assert event.total_tokens == 54_321


def test_total_tokens_of_an_empty_event_is_zero():
    assert UsageEvent(ts=TS, model="m").total_tokens == 0


class _IntLike:
    """An integer type that is not int, as numpy's are: it has __index__."""

    def __init__(self, value: int):
        self.value = value

    def __index__(self) -> int:
        return self.value

    def __repr__(self) -> str:
        return f"IntLike({self.value})"


def test_integer_types_with_index_are_accepted_as_plain_ints():
    event = usage_event(model="gpt-5", ts=TS, input_tokens=_IntLike(7), output_tokens=_IntLike(3))
    assert (event.input, event.output) == (7, 3)
    assert type(event.input) is int and type(event.output) is int


def test_integer_like_counts_are_still_range_checked():
    with raises_naming("input_tokens", "-2"):
        usage_event(model="gpt-5", ts=TS, input_tokens=_IntLike(-2))
    with raises_naming("output_tokens", "1,000,000,001"):
        usage_event(model="gpt-5", ts=TS, output_tokens=_IntLike(10**9 + 1))


# --- bad token counts ---------------------------------------------------------------------


@pytest.mark.parametrize("argument", TOKEN_ARGUMENTS)
@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (-1, "-1"),
        (math.nan, "nan"),
        (math.inf, "inf"),
        (1.5, "1.5"),
        (2.0, "2.0"),
        (True, "True"),
        (False, "False"),
        ("12", "'12'"),
        (None, "None"),
        (MAX_TOKENS_PER_REQUEST + 1, "1,000,000,001"),
        (10**15, "1,000,000,000,000,000"),
    ],
    ids=[
        "negative",
        "nan",
        "inf",
        "fraction",
        "whole-float",
        "true",
        "false",
        "string",
        "none",
        "just-over-limit",
        "far-over-limit",
    ],
)
def test_bad_token_count_raises_naming_the_argument_and_value(argument, value, shown):
    counts = {"output_tokens": 10, argument: value} if argument == "reasoning_tokens" else {argument: value}
    with raises_naming(argument, shown):
        usage_event(model="gpt-5", ts=TS, **counts)


def test_reasoning_above_output_raises_showing_both():
    with pytest.raises(ValueError) as excinfo:
        usage_event(model="o3", ts=TS, output_tokens=300, reasoning_tokens=301)
    message = str(excinfo.value)
    assert "reasoning_tokens" in message and "301" in message
    assert "output_tokens" in message and "300" in message


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (-5, "must not be negative, got -5"),
        (1.5, "must be a whole number of tokens, got 1.5"),
        (10**9 + 1, "is too many tokens for one request, got 1,000,000,001 (at most 1,000,000,000)"),
    ],
)
def test_check_tokens_says_what_is_wrong(value, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        check_tokens("cache_read_tokens", value)


def test_check_tokens_returns_valid_counts():
    assert check_tokens("input_tokens", 0) == 0
    assert check_tokens("input_tokens", MAX_TOKENS_PER_REQUEST) == MAX_TOKENS_PER_REQUEST


# --- bad model, labels, ts ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("", "''"),
        ("   ", "'   '"),
        ("\t\n", r"'\t\n'"),
        (None, "None"),
        (7, "7"),
    ],
)
def test_empty_or_non_string_model_raises(value, shown):
    with raises_naming("model", shown):
        usage_event(model=value, ts=TS)


@pytest.mark.parametrize("label", ["tier", "session", "provider", "source", "request_key"])
def test_non_string_label_raises_naming_it(label):
    with raises_naming(label, "3"):
        usage_event(model="gpt-5", ts=TS, **{label: 3})


def test_check_label_allows_none():
    assert check_label("tier", None) is None


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (math.nan, "nan"),
        (math.inf, "inf"),
        (-math.inf, "-inf"),
        (-1.0, "-1.0"),
        (-1, "-1"),
        ("1759312800", "'1759312800'"),
        (True, "True"),
        ([TS], "[1759312800.0]"),
    ],
)
def test_bad_ts_raises_naming_ts_and_showing_the_value(value, shown):
    with raises_naming("ts", shown):
        usage_event(model="gpt-5", ts=value)


def test_check_ts_names_the_field_it_is_given():
    with raises_naming("started_at", "nan"):
        check_ts(math.nan, field="started_at")


def test_check_ts_accepts_2000_to_2100_and_returns_float():
    assert check_ts(946_684_800) == 946_684_800.0  # 2000-01-01T00:00:00Z
    assert type(check_ts(946_684_800)) is float
    assert check_ts(4_102_444_799.5) == 4_102_444_799.5  # just before 2100-01-01


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (-0.01, "-0.01"),
        (math.nan, "nan"),
        (math.inf, "inf"),
        ("1.0", "'1.0'"),
        (False, "False"),
    ],
)
def test_bad_reported_cost_raises_naming_it(value, shown):
    with raises_naming("reported_cost_usd", shown):
        usage_event(model="gpt-5", ts=TS, reported_cost_usd=value)


def test_check_cost_usd_allows_none_and_zero():
    assert check_cost_usd("reported_cost_usd", None) is None
    assert check_cost_usd("reported_cost_usd", 0) == 0.0


# --- other validators ----------------------------------------------------------------------


@pytest.mark.parametrize("score", [0, 0.0, 5, 7.5, 10, 10.0])
def test_scores_from_0_to_10_inclusive_are_accepted(score):
    assert check_score(score) == float(score)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (-0.1, "-0.1"),
        (10.01, "10.01"),
        (11, "11"),
        (math.nan, "nan"),
        (math.inf, "inf"),
        ("7", "'7'"),
        (True, "True"),
        (None, "None"),
    ],
)
def test_score_outside_0_to_10_or_not_a_number_raises(value, shown):
    with raises_naming("score", shown):
        check_score(value)


@pytest.mark.parametrize("status", TICKET_STATUSES)
def test_known_ticket_statuses_are_accepted(status):
    assert check_status(status) == status


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("done", "'done'"),
        ("Completed", "'Completed'"),
        ("in-progress", "'in-progress'"),
        ("", "''"),
        (None, "None"),
    ],
)
def test_unknown_ticket_status_raises_listing_the_known_ones(value, shown):
    with raises_naming("status", shown) as excinfo:
        check_status(value)
    for status in TICKET_STATUSES:
        assert status in str(excinfo.value)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (-1, "-1"),
        (math.nan, "nan"),
        (math.inf, "inf"),
        ("12", "'12'"),
        (True, "True"),
    ],
)
def test_bad_duration_raises_naming_duration_ms(value, shown):
    with raises_naming("duration_ms", shown):
        check_duration_ms(value)


def test_duration_in_milliseconds_becomes_float():
    assert check_duration_ms(0) == 0.0
    assert check_duration_ms(1_250) == 1_250.0


@pytest.mark.parametrize(("value", "shown"), [("", "''"), ("  ", "'  '"), (None, "None"), (b"Bash", "b'Bash'")])
def test_bad_name_raises_naming_the_field(value, shown):
    with raises_naming("tool", shown):
        check_name("tool", value)


def test_check_name_strips_whitespace():
    assert check_name("tool", "  Bash ") == "Bash"


def test_a_long_blocked_reason_is_cut_so_prose_never_grows_the_state():
    from session_insights.events import MAX_REASON_CHARS, check_reason

    assert check_reason("waiting on API key") == "waiting on API key"
    cut = check_reason("x" * 5_000)
    assert len(cut) == MAX_REASON_CHARS and cut.endswith("…")
