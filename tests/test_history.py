"""TokenHistory: the inbox producers push to and the incremental aggregates it feeds.

The central rule: whatever order records arrive in, however drains interleave with
producers, the figures equal a batch recomputation over the same records, with each
request counted once (at its largest copy) under its request_key.
"""

from __future__ import annotations

import threading

import pytest
from genai_prices import Usage, calc_price
from hypothesis import given, settings
from hypothesis import strategies as st

from session_insights import history, metrics
from session_insights.events import (
    Rating,
    TicketUpdate,
    ToolCall,
    UsageEvent,
    usage_event,
)
from session_insights.history import TokenHistory

BASE_TS = 1_700_000_000.0  # 2023-11-14, a weekday afternoon UTC
DAY_S = 86_400

# A model -> the provider a source may label it with (or not). Chosen to cover every way
# a request is priced: long-context tiers, flat rates, time-of-day periods, and unknown.
MODEL_PROVIDERS = {
    "claude-sonnet-4-5": "anthropic",  # rates switch above 200k prompt tokens
    "gpt-4o": "openai",  # flat rates
    "deepseek-chat": "deepseek",  # off-peak prices by time of day
    "acme-local-7b": None,  # no price anywhere: unpriced
}
MODELS = list(MODEL_PROVIDERS)
UNPRICED_MODEL = "acme-local-7b"
TIERS = [None, "Tier 1", "Tier 3", "subagent"]
SESSIONS = [None, "s-alpha", "s-beta"]
REQUEST_KEYS = ["req-1", "req-2", "req-3", "req-4"]
TOOLS = ["Read", "Edit", "Bash"]
TICKETS = ["T-1", "T-2", "T-3", "T-4"]
# A track may be named on some updates of a ticket and not others, or change; a blocked
# ticket may give different reasons at the same instant.
TRACKS = [None, "core", "ui"]
BLOCKED_REASONS = ["waiting on review", "flaky CI"]

# With now_ts fixed, no figure of snapshot() reads the clock or depends on arrival order.
# provenance says how the records were read (how many copies of a request came), which a
# batch of unique records does not repeat: it is checked in tests/test_provenance.py.
VOLATILE_SNAPSHOT_KEYS: frozenset[str] = frozenset({"provenance"})


def stable(snapshot: dict) -> dict:
    return {k: v for k, v in snapshot.items() if k not in VOLATILE_SNAPSHOT_KEYS}


def size_of_copy(ev: UsageEvent) -> tuple:
    """Which streaming copy of a request counts: the largest token total, ties broken by
    the other fields (mirrors history._size, so the winner never depends on arrival)."""
    return (
        ev.total_tokens,
        ev.output,
        ev.input,
        ev.cache_read,
        ev.cache_write_5m,
        ev.cache_write_1h,
        ev.reasoning,
        ev.ts,
        ev.model,
        ev.reported_cost_usd or 0.0,
    )


def dedup(events: list[UsageEvent]) -> list[UsageEvent]:
    best: dict[str, UsageEvent] = {}
    out = []
    for ev in events:
        if ev.request_key is None:
            out.append(ev)
        elif ev.request_key not in best or size_of_copy(ev) > size_of_copy(best[ev.request_key]):
            best[ev.request_key] = ev
    return out + list(best.values())


def batch(records: list, **kwargs) -> TokenHistory:
    """A fresh history fed the de-duplicated records in time order and drained once."""
    usage = [r for r in records if type(r) is UsageEvent]
    others = [r for r in records if type(r) is not UsageEvent]
    h = TokenHistory(**kwargs)
    h.add_many(sorted(dedup(usage) + others, key=lambda r: r.ts))
    h.drain()
    assert h.pending == 0
    return h


def push(h: TokenHistory, record, via_producer_call: bool) -> None:
    """Queue a record either as a source does (add) or through the producer API."""
    if not via_producer_call:
        h.add(record)
    elif type(record) is UsageEvent:
        h.record_usage(
            record.model,
            record.input,
            record.output,
            record.cache_read,
            record.cache_write_5m,
            ts=record.ts,
            tier=record.tier,
            session=record.session,
            provider=record.provider,
            cache_write_1h_tokens=record.cache_write_1h,
            reasoning_tokens=record.reasoning,
            request_key=record.request_key,
            reported_cost_usd=record.reported_cost_usd,
        )
    elif type(record) is ToolCall:
        h.record_tool_call(record.name, record.duration_ms, record.ok, ts=record.ts, session=record.session)
    elif type(record) is TicketUpdate:
        h.update_ticket(record.ticket_id, record.status, record.ts, track=record.track, reason=record.reason)
    else:
        h.rate(record.score, ts=record.ts, session=record.session)


# --- strategies -------------------------------------------------------------------

# From requests in the same second to a session spread over three weeks.
offsets = st.one_of(
    st.floats(min_value=0, max_value=30, allow_nan=False),
    st.floats(min_value=0, max_value=900, allow_nan=False),
    st.floats(min_value=0, max_value=21 * DAY_S, allow_nan=False),
)
timestamps = offsets.map(lambda o: BASE_TS + o)
# Round counts make streaming copies with equal totals but different splits likely, so the
# tie-break between copies is exercised; large ones cross the 200k-token price tier.
round_counts = st.sampled_from([0, 100, 200, 300])
small_or_huge = st.one_of(round_counts, st.integers(0, 3_000), st.integers(0, 320_000))


@st.composite
def token_counts(draw) -> dict:
    output = draw(st.one_of(round_counts, st.integers(0, 20_000)))
    return dict(
        input_tokens=draw(small_or_huge),
        output_tokens=output,
        cache_read_tokens=draw(small_or_huge),
        cache_write_tokens=draw(st.one_of(round_counts, st.integers(0, 5_000))),
        cache_write_1h_tokens=draw(st.sampled_from([0, 0, 1_000, 3_000])),
        reasoning_tokens=draw(st.integers(0, output)),
    )


@st.composite
def request_labels(draw) -> dict:
    model = draw(st.sampled_from(MODELS))
    return dict(
        ts=draw(timestamps),
        model=model,
        provider=draw(st.sampled_from([None, MODEL_PROVIDERS[model]])),
        tier=draw(st.sampled_from(TIERS)),
        session=draw(st.sampled_from(SESSIONS)),
    )


@st.composite
def usage_events(draw) -> list[UsageEvent]:
    # Streaming copies of one request share its time, model, provider, tier and session;
    # only their token counts (and a reported cost) differ.
    key_labels = {key: draw(request_labels()) for key in REQUEST_KEYS}
    # Copies often repeat exactly, or have the same total split differently (a tie the
    # store must break the same way whichever copy comes first).
    key_copies = {}
    for key in REQUEST_KEYS:
        counts = draw(token_counts())
        split_differently = dict(
            counts, input_tokens=counts["output_tokens"], output_tokens=counts["input_tokens"], reasoning_tokens=0
        )
        key_copies[key] = [counts, split_differently]
    events = []
    for _ in range(draw(st.integers(0, 14))):
        key = draw(st.sampled_from([None, None, *REQUEST_KEYS]))
        if key is None:
            labels, counts = draw(request_labels()), draw(token_counts())
        else:
            labels, counts = key_labels[key], draw(st.one_of(st.sampled_from(key_copies[key]), token_counts()))
        reported = draw(st.one_of(st.none(), st.sampled_from([0.0, 0.0125, 1.5])))
        events.append(usage_event(**labels, **counts, request_key=key, reported_cost_usd=reported))
    return events


tool_calls = st.builds(
    ToolCall,
    ts=timestamps,
    name=st.sampled_from(TOOLS),
    duration_ms=st.floats(min_value=0, max_value=120_000, allow_nan=False),
    ok=st.booleans(),
    session=st.sampled_from(SESSIONS),
    call_key=st.none(),  # a call's copies are the sources' (test_claude, test_codex)
)


@st.composite
def ticket_updates(draw) -> TicketUpdate:
    status = draw(st.sampled_from(["todo", "in_progress", "blocked", "completed"]))
    ts = draw(st.one_of(timestamps, st.sampled_from([BASE_TS, BASE_TS + 60])))  # equal times happen
    reason = draw(st.sampled_from(BLOCKED_REASONS)) if status == "blocked" else None
    return TicketUpdate(ts, draw(st.sampled_from(TICKETS)), status, draw(st.sampled_from(TRACKS)), reason)


ratings = st.builds(
    Rating,
    ts=timestamps,
    score=st.floats(min_value=0, max_value=10, allow_nan=False),
    session=st.sampled_from(SESSIONS),
)
other_records = st.lists(st.one_of(tool_calls, ticket_updates(), ratings), max_size=10)


# --- the central property ---------------------------------------------------------


@settings(max_examples=80, deadline=None)
@given(usage=usage_events(), others=other_records, data=st.data())
def test_incremental_figures_equal_a_batch_recomputation_for_any_order_and_interleaving_of_drains(usage, others, data):
    records = usage + others
    arrival = data.draw(st.permutations(records), label="arrival order")
    via_producer_call = data.draw(
        st.lists(st.booleans(), min_size=len(arrival), max_size=len(arrival)), label="via producer call"
    )
    # After each record: no drain (None), a full drain (0) or drain(max_records=k).
    drains = data.draw(
        st.lists(st.one_of(st.none(), st.just(0), st.integers(1, 4)), min_size=len(arrival), max_size=len(arrival)),
        label="drains",
    )
    now_ts = max((r.ts for r in records), default=BASE_TS) + 30

    h = TokenHistory()
    for record, via_call, drain in zip(arrival, via_producer_call, drains):
        push(h, record, via_call)
        if drain == 0:
            h.drain()
        elif drain is not None:
            pending = h.pending
            assert h.drain(max_records=drain) == min(drain, pending)
            assert h.pending == pending - min(drain, pending)
    h.drain()
    assert h.pending == 0

    reference = batch(records)
    assert stable(h.snapshot(now_ts=now_ts)) == stable(reference.snapshot(now_ts=now_ts))
    if usage:  # taken at the latest request (with none, snapshot() reads the clock)
        latest_request_ts = max(ev.ts for ev in usage)
        assert stable(h.snapshot()) == stable(reference.snapshot(now_ts=latest_request_ts))
    assert list(h.snapshot(now_ts=now_ts)["by_model"]) == list(reference.snapshot(now_ts=now_ts)["by_model"])
    assert h.timeline() == reference.timeline()

    # And the reference itself counts each request once, at its largest copy.
    counted = dedup(usage)
    totals = reference.snapshot(now_ts=now_ts)["totals"]
    assert totals["requests"] == len(counted)
    assert totals["input_tokens"] == sum(ev.input for ev in counted)
    assert totals["output_tokens"] == sum(ev.output for ev in counted)
    assert totals["cache_read_tokens"] == sum(ev.cache_read for ev in counted)
    assert totals["cache_write_tokens"] == sum(ev.cache_write_5m + ev.cache_write_1h for ev in counted)
    assert totals["reasoning_tokens"] == sum(ev.reasoning for ev in counted)
    assert totals["unpriced_requests"] == sum(ev.model == UNPRICED_MODEL for ev in counted)
    _, buckets = reference.timeline()
    assert sum(b[history.T_REQ] for _, b in buckets) == len(counted)


def test_duplicate_stream_copies_count_once_keeping_the_largest_in_any_order():
    copies = [
        usage_event(
            model="claude-sonnet-4-5",
            input_tokens=3,
            output_tokens=n,
            cache_read_tokens=20_000,
            ts=BASE_TS,
            tier="Tier 3",
            session="s-alpha",
            request_key="msg_01:req_01",
        )
        for n in (1, 57, 412)
    ]
    for order in ([0, 1, 2], [2, 1, 0], [1, 2, 0]):
        h = TokenHistory()
        for i in order:
            h.add(copies[i])
            h.drain()
        totals = h.snapshot()["totals"]
        assert (totals["requests"], totals["output_tokens"], totals["cache_read_tokens"]) == (1, 412, 20_000)


# --- producers on many threads ------------------------------------------------------

PRODUCERS = 8
CALLS_PER_PRODUCER = 50_000
THREAD_MODELS = ["gpt-4o", "claude-sonnet-4-5", UNPRICED_MODEL]


def thread_call(producer: int, i: int) -> tuple:
    """The arguments of producer ``producer``'s ``i``-th record_usage call."""
    return (
        THREAD_MODELS[(producer + i) % 3],
        (i * 7 + producer) % 5_000,  # input
        (i * 13) % 2_000,  # output
        (i % 3) * 100,  # cache read
        (i % 5) * 10,  # cache write
        BASE_TS + i * 0.01 + producer * 0.001,  # ts
        TIERS[1 + i % 3],
        f"s-{producer}",
    )


def test_eight_producer_threads_and_a_draining_thread_lose_nothing():
    h = TokenHistory()
    start = threading.Barrier(PRODUCERS + 1)
    producers_done = threading.Event()
    drained_while_producing = []

    def produce(producer: int) -> None:
        start.wait()
        record = h.record_usage
        for i in range(CALLS_PER_PRODUCER):
            model, inp, out, cr, cw, ts, tier, session = thread_call(producer, i)
            record(model, inp, out, cr, cw, ts, tier, session)

    def drain_continuously() -> None:
        start.wait()
        turn = 0
        while not producers_done.is_set():
            turn += 1
            # Alternate the ways a render loop and `report` drain.
            applied = h.drain(budget_s=0.002) if turn % 3 == 0 else h.drain(max_records=997 if turn % 3 == 1 else None)
            drained_while_producing.append(applied)

    threads = [threading.Thread(target=produce, args=(p,)) for p in range(PRODUCERS)]
    drainer = threading.Thread(target=drain_continuously)
    for t in [*threads, drainer]:
        t.start()
    for t in threads:
        t.join()
    producers_done.set()
    drainer.join()
    h.drain()

    n = PRODUCERS * CALLS_PER_PRODUCER
    assert h.pending == 0
    assert h.applied == n
    assert sum(drained_while_producing) > 0  # the drainer really ran alongside the producers

    calls = [thread_call(p, i) for p in range(PRODUCERS) for i in range(CALLS_PER_PRODUCER)]
    totals = h.snapshot()["totals"]
    assert totals["requests"] == n
    assert totals["input_tokens"] == sum(c[1] for c in calls)
    assert totals["output_tokens"] == sum(c[2] for c in calls)
    assert totals["cache_read_tokens"] == sum(c[3] for c in calls)
    assert totals["cache_write_tokens"] == sum(c[4] for c in calls)
    assert totals["unpriced_requests"] == sum(c[0] == UNPRICED_MODEL for c in calls)

    single_thread = TokenHistory()
    for c in calls:
        single_thread.record_usage(*c)
    single_thread.drain()
    now_ts = BASE_TS + CALLS_PER_PRODUCER * 0.01 + 60
    assert totals["cost_usd"] == single_thread.snapshot()["totals"]["cost_usd"] > 0
    assert h.snapshot(now_ts=now_ts) == single_thread.snapshot(now_ts=now_ts)
    assert h.timeline() == single_thread.timeline()


# --- bad input is refused at the call, nothing queued -----------------------------

TOKEN_FIELDS = [
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cache_write_1h_tokens",
    "reasoning_tokens",
]
BAD_TOKEN_COUNTS = [-1, float("nan"), 1.5, True, "10", 10**9 + 1]


@pytest.fixture
def warm_history() -> TokenHistory:
    """A history whose labels are already known, so calls take the producer fast path."""
    h = TokenHistory()
    h.record_usage("gpt-4o", 10, 5, ts=BASE_TS, tier="Tier 3", session="s-alpha")
    h.record_usage("gpt-4o", 10, 5, ts=BASE_TS, tier="Tier 3", session="s-alpha")
    assert h.pending == 2
    return h


def assert_refused(h: TokenHistory, call, field: str, value: object) -> None:
    pending = h.pending
    with pytest.raises(ValueError) as refused:
        call()
    message = str(refused.value)
    assert field in message
    shown = [repr(value)] + ([f"{value:,}"] if type(value) is int else [])
    assert any(s in message for s in shown), message
    assert h.pending == pending


@pytest.mark.parametrize("field", TOKEN_FIELDS)
@pytest.mark.parametrize("bad", BAD_TOKEN_COUNTS, ids=repr)
def test_record_usage_refuses_a_bad_token_count_naming_field_and_value_and_queues_nothing(warm_history, field, bad):
    counts = {"input_tokens": 10, "output_tokens": 5, field: bad}
    assert_refused(
        warm_history,
        lambda: warm_history.record_usage(model="gpt-4o", ts=BASE_TS, tier="Tier 3", session="s-alpha", **counts),
        field,
        bad,
    )


@pytest.mark.parametrize("model", ["", "  "])
def test_record_usage_refuses_an_empty_model_name(warm_history, model):
    assert_refused(warm_history, lambda: warm_history.record_usage(model, 10, 5, ts=BASE_TS), "model", model)


def test_record_usage_refuses_reasoning_beyond_the_output_it_is_part_of(warm_history):
    pending = warm_history.pending
    with pytest.raises(ValueError, match="reasoning_tokens"):
        warm_history.record_usage("gpt-4o", 10, 5, ts=BASE_TS, reasoning_tokens=6)
    assert warm_history.pending == pending


@pytest.mark.parametrize("score", [11, -1, float("nan")], ids=repr)
def test_rate_refuses_a_score_outside_0_to_10(warm_history, score):
    assert_refused(warm_history, lambda: warm_history.rate(score, ts=BASE_TS), "score", score)


def test_update_ticket_refuses_an_unknown_status(warm_history):
    assert_refused(warm_history, lambda: warm_history.update_ticket("T-1", "done", BASE_TS), "status", "done")


def test_record_tool_call_refuses_a_negative_duration(warm_history):
    assert_refused(warm_history, lambda: warm_history.record_tool_call("Bash", -5, ts=BASE_TS), "duration_ms", -5)


# --- raw provider responses -------------------------------------------------------

ANTHROPIC_RESPONSE = {
    "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
    "type": "message",
    "role": "assistant",
    "model": "claude-sonnet-4-5-20250929",
    "content": [{"type": "text", "text": "never stored"}],
    "stop_reason": "end_turn",
    "usage": {
        "input_tokens": 100,  # excludes cache traffic
        "cache_read_input_tokens": 2_000,
        "cache_creation_input_tokens": 300,
        "cache_creation": {"ephemeral_5m_input_tokens": 100, "ephemeral_1h_input_tokens": 200},
        "output_tokens": 50,
    },
}
OPENAI_CHAT_COMPLETION = {
    "id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
    "object": "chat.completion",
    "model": "gpt-4o-2024-08-06",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "never stored"}}],
    "usage": {
        "prompt_tokens": 1_200,  # includes the cached 1,000
        "completion_tokens": 300,
        "total_tokens": 1_500,
        "prompt_tokens_details": {"cached_tokens": 1_000},
        "completion_tokens_details": {"reasoning_tokens": 0},
    },
}


def genai_prices_usd(model: str, provider: str, **usage) -> float:
    """What genai-prices itself charges (its input_tokens include cache traffic)."""
    return float(calc_price(Usage(**usage), model_ref=model, provider_id=provider).total_price)


def test_record_response_normalises_an_anthropic_message_and_prices_it():
    h = TokenHistory()
    h.record_response(ANTHROPIC_RESPONSE, "anthropic", ts=BASE_TS, tier="Tier 2")
    h.drain()
    row = h.snapshot()["by_model"]["claude-sonnet-4-5-20250929"]
    assert (
        row["requests"],
        row["input_tokens"],
        row["cache_read_tokens"],
        row["cache_write_tokens"],
        row["cache_write_1h_tokens"],
        row["output_tokens"],
    ) == (1, 100, 2_000, 300, 200, 50)
    assert row["provider"] == "anthropic"
    # $3 in, $0.30 cache read, $3.75 5-min write, $6 1-hour write, $15 out per million:
    # 100*3 + 2000*0.3 + 100*3.75 + 200*6 + 50*15 = 3,225 per million = $0.003225.
    expected = genai_prices_usd(
        "claude-sonnet-4-5",
        "anthropic",
        input_tokens=2_400,
        cache_read_tokens=2_000,
        cache_write_tokens=300,
        cache_write_1h_tokens=200,
        output_tokens=50,
    )
    assert expected == pytest.approx(0.003225)
    assert row["cost_usd"] == pytest.approx(expected, abs=1e-12)


def test_record_response_normalises_an_openai_chat_completion_and_prices_it():
    h = TokenHistory()
    h.record_response(OPENAI_CHAT_COMPLETION, "openai", ts=BASE_TS)
    h.drain()
    row = h.snapshot()["by_model"]["gpt-4o-2024-08-06"]
    assert (row["requests"], row["input_tokens"], row["cache_read_tokens"], row["output_tokens"]) == (
        1,
        200,
        1_000,
        300,
    )
    # $2.50 in, $1.25 cached, $10 out per million: 200*2.5 + 1000*1.25 + 300*10 = 4,750 per million.
    expected = genai_prices_usd("gpt-4o", "openai", input_tokens=1_200, cache_read_tokens=1_000, output_tokens=300)
    assert expected == pytest.approx(0.00475)
    assert row["cost_usd"] == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("response, provider", [(ANTHROPIC_RESPONSE, "anthropic"), (OPENAI_CHAT_COMPLETION, "openai")])
def test_the_same_response_recorded_twice_counts_once(response, provider):
    once, twice = TokenHistory(), TokenHistory()
    once.record_response(response, provider, ts=BASE_TS)
    twice.record_response(response, provider, ts=BASE_TS)
    twice.drain()
    twice.record_response(response, provider, ts=BASE_TS)
    once.drain()
    twice.drain()
    assert twice.snapshot()["totals"] == once.snapshot()["totals"]
    assert twice.snapshot()["totals"]["requests"] == 1


# --- unpriced models ----------------------------------------------------------------


def test_an_unpriced_model_counts_its_tokens_but_its_cost_is_unknown_not_zero():
    h = TokenHistory()
    h.record_usage(UNPRICED_MODEL, 40_000, 2_000, ts=BASE_TS, tier="Tier 3")
    h.record_usage(UNPRICED_MODEL, 10_000, 1_000, ts=BASE_TS + 5, tier="Tier 3")
    h.record_usage("gpt-4o", 1_000_000, 100_000, ts=BASE_TS + 10, tier="Tier 1")
    h.drain()
    snap = h.snapshot()

    local = snap["by_model"][UNPRICED_MODEL]
    assert (local["requests"], local["input_tokens"], local["output_tokens"]) == (2, 50_000, 3_000)
    assert local["cost_usd"] is None
    assert local["priced"] is False
    assert local["unpriced_requests"] == 2
    assert snap["unpriced_models"] == [UNPRICED_MODEL]
    assert snap["by_tier"]["Tier 3"]["cost_usd"] is None  # a tier of only unpriced requests: unknown too

    # gpt-4o: 1M input at $2.50 + 100k output at $10 per million = $3.50; the local model adds nothing.
    assert snap["by_model"]["gpt-4o"]["cost_usd"] == pytest.approx(3.5)
    assert snap["totals"]["cost_usd"] == pytest.approx(3.5)
    assert snap["totals"]["unpriced_requests"] == 2
    assert snap["totals"]["total_tokens"] == 50_000 + 3_000 + 1_100_000
    assert UNPRICED_MODEL in metrics.summary_text(snap)


# --- drains that stop early ---------------------------------------------------------


def queue_mixed(h: TokenHistory, n_usage: int, n_tools: int) -> None:
    for i in range(n_usage):
        h.record_usage("gpt-4o", 100 + i, 10, ts=BASE_TS + i)
    for i in range(n_tools):
        h.record_tool_call("Bash", 12.5, ts=BASE_TS + i)


def test_drain_max_records_applies_exactly_that_many_and_a_later_drain_applies_the_rest():
    h, whole = TokenHistory(), TokenHistory()
    queue_mixed(h, 10, 5)
    queue_mixed(whole, 10, 5)
    whole.drain()

    # Tool calls, tickets and ratings go first, so a backlog of requests never starves them.
    assert h.drain(max_records=12) == 12
    assert h.pending == 3
    assert h.snapshot()["tools"]["Bash"]["calls"] == 5
    assert h.snapshot()["totals"]["requests"] == 7
    assert h.drain(max_records=0) == 0
    assert h.drain() == 3
    assert h.pending == 0
    assert h.snapshot(now_ts=BASE_TS + 60) == whole.snapshot(now_ts=BASE_TS + 60)


def test_drain_with_a_spent_time_budget_leaves_the_rest_queued_and_a_later_drain_applies_it():
    h, whole = TokenHistory(), TokenHistory()
    queue_mixed(h, 5_000, 50)
    queue_mixed(whole, 5_000, 50)
    whole.drain()

    applied = h.drain(budget_s=0.0)  # a budget already spent: stops at its first check
    assert 0 < applied < 5_050
    assert h.pending == 5_050 - applied
    assert h.snapshot()["tools"]["Bash"]["calls"] == 50  # the few non-request records all went first
    assert h.snapshot()["totals"]["requests"] == applied - 50
    assert h.drain() == 5_050 - applied
    assert h.snapshot(now_ts=BASE_TS + 6_000) == whole.snapshot(now_ts=BASE_TS + 6_000)


# --- bounded memory, totals intact --------------------------------------------------


def test_many_sessions_fold_the_oldest_into_one_row_keeping_totals():
    h = TokenHistory()
    n = 2_000
    for i in range(n):
        h.record_usage("gpt-4o", 1_000 + i, 10, ts=BASE_TS + i, session=f"session-{i:04d}")
        if i % 250 == 0:
            h.drain()
    h.drain()
    snap = h.snapshot()

    assert len(h.sessions.rows) <= history.MAX_SESSIONS + 1
    assert len(snap["sessions"]) <= history.MAX_SESSIONS + 1
    assert history.EARLIER_SESSIONS in snap["sessions"]
    assert "session-1999" in snap["sessions"]  # the most recently active stay listed
    assert "session-0000" not in snap["sessions"]
    expected_input = sum(1_000 + i for i in range(n))
    assert snap["totals"]["requests"] == n
    assert snap["totals"]["input_tokens"] == expected_input
    assert sum(s["requests"] for s in snap["sessions"].values()) == n
    assert sum(s["input_tokens"] for s in snap["sessions"].values()) == expected_input
    assert sum(s["cost_usd"] for s in snap["sessions"].values()) == pytest.approx(snap["totals"]["cost_usd"])
    earlier = snap["sessions"][history.EARLIER_SESSIONS]
    assert earlier["first_ts"] == BASE_TS


def test_a_late_larger_copy_of_a_request_in_a_folded_session_leaves_no_empty_session_row():
    h = TokenHistory()
    h.add(usage_event(model="gpt-4o", input_tokens=10, output_tokens=1, ts=BASE_TS, session="s-0", request_key="msg_1"))
    h.drain()
    for i in range(1, history.MAX_SESSIONS + 5):
        h.record_usage("gpt-4o", 1, 1, ts=BASE_TS + i, session=f"s-{i}")
    h.drain()
    h.add(
        usage_event(model="gpt-4o", input_tokens=100, output_tokens=1, ts=BASE_TS, session="s-0", request_key="msg_1")
    )
    h.drain()
    snap = h.snapshot()

    assert snap["totals"]["requests"] == history.MAX_SESSIONS + 5  # totals are right either way
    assert snap["totals"]["input_tokens"] == 100 + history.MAX_SESSIONS + 4
    assert all(row["requests"] > 0 for row in snap["sessions"].values()), {
        name: (row["requests"], row["input_tokens"]) for name, row in snap["sessions"].items() if row["requests"] <= 0
    }


def test_a_late_larger_copy_of_a_request_in_a_folded_then_revived_session_leaves_no_negative_row():
    h = TokenHistory()
    h.add(
        usage_event(model="gpt-4o", input_tokens=1_000, output_tokens=0, ts=BASE_TS, session="s-0", request_key="msg_1")
    )
    h.drain()
    for i in range(1, history.MAX_SESSIONS + 5):
        h.record_usage("gpt-4o", 1, 1, ts=BASE_TS + i, session=f"s-{i}")
    h.drain()
    h.record_usage("gpt-4o", 1, 1, ts=BASE_TS + 5_000, session="s-0")  # s-0 is active again
    h.drain()
    h.add(
        usage_event(model="gpt-4o", input_tokens=0, output_tokens=1_001, ts=BASE_TS, session="s-0", request_key="msg_1")
    )
    h.drain()
    snap = h.snapshot()

    assert snap["totals"]["input_tokens"] == history.MAX_SESSIONS + 5  # totals are right either way
    assert snap["totals"]["output_tokens"] == 1_001 + history.MAX_SESSIONS + 5
    negative = {
        name: row
        for name, row in snap["sessions"].items()
        if min(row["input_tokens"], row["output_tokens"], row["requests"]) < 0
    }
    assert not negative, {name: (row["requests"], row["input_tokens"]) for name, row in negative.items()}


def test_many_tickets_stay_bounded_with_status_counts_intact():
    h = TokenHistory()
    n = 5_000
    for i in range(n):
        h.update_ticket(f"T-{i}", "todo", BASE_TS + i, track="core")
        if i % 5:  # four in five get done
            h.update_ticket(f"T-{i}", "completed", BASE_TS + i + 0.5, track="core")
        if i % 500 == 0:
            h.drain()
    h.drain()
    tickets = h.snapshot()["tickets"]

    assert len(h.tickets.tickets) <= history.MAX_TICKETS
    done = sum(1 for i in range(n) if i % 5)
    assert tickets["total"] == n
    assert tickets["by_status"] == {"todo": n - done, "in_progress": 0, "blocked": 0, "completed": done, "left_open": 0}
    assert tickets["progress_pct"] == pytest.approx(100.0 * done / n)


def test_many_tool_names_stay_bounded_with_calls_intact():
    h = TokenHistory()
    n_names = 1_000
    for i in range(n_names):
        for call in range(1 + i % 3):
            h.record_tool_call(f"mcp__server__tool_{i}", 10.0, ok=call != 1, ts=BASE_TS + i)
    h.drain()
    tools = h.snapshot()["tools"]

    assert len(tools) <= history.MAX_TOOLS + 1
    assert history.OTHER_TOOLS in tools
    calls = sum(1 + i % 3 for i in range(n_names))
    failures = sum(1 for i in range(n_names) if 1 + i % 3 >= 2)
    assert sum(t["calls"] for t in tools.values()) == calls
    assert sum(t["failures"] for t in tools.values()) == failures
    assert sum(t["total_ms"] for t in tools.values()) == pytest.approx(10.0 * calls)


# --- burn rate, projection, ETA, efficiency ------------------------------------------

# A made-up model with round prices, so figures can be worked out by hand:
# $1 per million input tokens, $2 per million output tokens.
ROUND_PRICES = {"round-model": {"input_mtok": 1.0, "output_mtok": 2.0}}


def burst(h: TokenHistory, start_ts: float, requests: int = 4, spacing_s: float = 10) -> None:
    for i in range(requests):
        h.record_usage("round-model", 1_000, 0, ts=start_ts + i * spacing_s)


def test_window_rate_does_not_depend_on_how_long_an_idle_gap_lasted():
    # Two bursts of 4 requests, 10 s apart, 1,000 tokens each, separated by 5.5 or 8 min,
    # both inside a 15-minute window.
    rates = []
    for gap_s in (330, 480):
        h = TokenHistory(price_overrides=ROUND_PRICES, window_s=900)
        burst(h, BASE_TS)
        burst(h, BASE_TS + 30 + gap_s)
        h.drain()
        rates.append(h.snapshot()["burn_rate"]["window"])
    # Active time: 3 x 10 s per burst; a gap of IDLE_GAP_S (5 min) or more counts nothing.
    assert [r["active_s"] for r in rates] == [60.0, 60.0]
    assert [r["tokens"] for r in rates] == [8_000, 8_000]
    assert rates[0]["tokens_per_min"] == rates[1]["tokens_per_min"] == pytest.approx(8_000.0)


def test_window_rate_ignores_an_idle_gap_between_two_bursts():
    gapped = TokenHistory(price_overrides=ROUND_PRICES, window_s=900)
    back_to_back = TokenHistory(price_overrides=ROUND_PRICES, window_s=900)
    # Each burst: 4 requests of 1,000 tokens over 30 s. Gapped: the second burst starts
    # 6 minutes after the first ends; back-to-back: it starts as the first ends.
    burst(gapped, BASE_TS)
    burst(gapped, BASE_TS + 30 + 360)
    burst(back_to_back, BASE_TS)
    burst(back_to_back, BASE_TS + 30)
    gapped.drain()
    back_to_back.drain()

    # Back-to-back: 8,000 tokens over 60 s of activity = 8,000 tokens/min.
    assert back_to_back.snapshot()["burn_rate"]["window"]["tokens_per_min"] == pytest.approx(8_000.0)
    assert gapped.snapshot()["burn_rate"]["window"]["tokens_per_min"] == pytest.approx(8_000.0)


def test_window_rate_excludes_requests_older_than_the_window():
    h = TokenHistory(price_overrides=ROUND_PRICES)
    h.record_usage("round-model", 1_000_000, 0, ts=BASE_TS)  # 10 min before now: outside 5 min
    burst(h, BASE_TS + 600 - 30)
    h.drain()
    window = h.snapshot(now_ts=BASE_TS + 600)["burn_rate"]["window"]
    assert window["tokens"] == 4_000
    assert window["active_s"] == 30.0
    assert window["tokens_per_min"] == pytest.approx(4_000 * 60 / metrics.MIN_ACTIVE_S)


def ten_requests_thirty_seconds_apart(h: TokenHistory) -> None:
    # Each: 100,000 input ($0.10) + 10,000 output ($0.02) = 110,000 tokens, $0.12.
    for i in range(10):
        h.record_usage("round-model", 100_000, 10_000, ts=BASE_TS + 30 * i)


def test_projection_gives_budget_left_and_time_until_it_runs_out_at_the_window_rate():
    h = TokenHistory(budget_usd=10.0, price_overrides=ROUND_PRICES)
    ten_requests_thirty_seconds_apart(h)
    h.drain()
    now = BASE_TS + 270
    snap = h.snapshot(now_ts=now)

    # Window [now - 300, now] holds all ten: 1.1M tokens, $1.20 over 9 x 30 s = 270 s active.
    window = snap["burn_rate"]["window"]
    assert window["active_s"] == 270.0
    assert window["tokens_per_min"] == pytest.approx(1_100_000 * 60 / 270)
    assert window["usd_per_hour"] == pytest.approx(1.2 * 3600 / 270)  # $16/hour
    # Whole session: the same 270 s, idle time included (there is none).
    assert snap["burn_rate"]["session"]["usd_per_hour"] == pytest.approx(16.0)

    projection = snap["projection"]
    assert projection["spent_usd"] == pytest.approx(1.2)
    assert projection["budget_left_usd"] == pytest.approx(8.8)
    assert projection["time_to_exhaustion_s"] == pytest.approx(8.8 / 16.0 * 3600)  # 1,980 s
    assert projection["exhaustion_ts"] == pytest.approx(now + 1_980)


def test_projection_of_a_spent_budget_is_exhausted_now():
    h = TokenHistory(budget_usd=1.0, price_overrides=ROUND_PRICES)
    ten_requests_thirty_seconds_apart(h)
    h.drain()
    projection = h.snapshot()["projection"]
    assert projection["budget_left_usd"] == pytest.approx(-0.2)
    assert projection["time_to_exhaustion_s"] == 0.0


def test_ticket_eta_is_tickets_left_times_mean_time_per_completed_ticket_and_efficiency_is_tokens_per_ticket():
    h = TokenHistory(price_overrides=ROUND_PRICES)
    ten_requests_thirty_seconds_apart(h)
    h.update_ticket("T-1", "todo", BASE_TS)
    h.update_ticket("T-1", "in_progress", BASE_TS + 10)
    h.update_ticket("T-1", "completed", BASE_TS + 600)
    h.update_ticket("T-2", "completed", BASE_TS + 1_200)
    h.update_ticket("T-3", "in_progress", BASE_TS + 700)
    h.update_ticket("T-4", "blocked", BASE_TS + 800, reason="waiting on API key")
    h.drain()
    now = BASE_TS + 1_500
    snap = h.snapshot(now_ts=now)

    # Two tickets done in the 1,200 s from the first ticket update to the last completion:
    # 600 s each; two left (T-3 in progress, T-4 blocked) -> ETA 1,200 s.
    projection = snap["projection"]
    assert projection["tickets_left"] == 2
    assert projection["time_per_ticket_s"] == pytest.approx(600.0)
    assert projection["eta_s"] == pytest.approx(1_200.0)
    assert projection["eta_ts"] == pytest.approx(now + 1_200)
    # $1.20 for two tickets: $0.60 each, $1.20 to finish the other two.
    assert projection["cost_per_ticket_usd"] == pytest.approx(0.6)
    assert projection["cost_to_finish_usd"] == pytest.approx(1.2)

    efficiency = snap["efficiency"]
    assert efficiency["tokens_per_completed_ticket"] == pytest.approx(1_100_000 / 2)
    assert efficiency["cost_per_completed_ticket_usd"] == pytest.approx(0.6)

    tickets = snap["tickets"]
    assert tickets["by_status"] == {"todo": 0, "in_progress": 1, "blocked": 1, "completed": 2, "left_open": 0}
    assert tickets["blocked"] == [{"id": "T-4", "reason": "waiting on API key", "since_ts": BASE_TS + 800}]
    assert tickets["progress_pct"] == pytest.approx(50.0)


def test_ticket_keeps_its_latest_status_by_time_then_status_rank_whatever_the_arrival_order():
    updates = [
        TicketUpdate(BASE_TS + 100, "T-1", "completed", "core"),
        TicketUpdate(BASE_TS + 100, "T-1", "blocked", "core", "flaky CI"),  # same time: completed ranks higher
        TicketUpdate(BASE_TS + 50, "T-1", "in_progress", "core"),
        TicketUpdate(BASE_TS, "T-1", "todo", "core"),
    ]
    for order in ([0, 1, 2, 3], [3, 2, 1, 0], [1, 3, 0, 2]):
        h = TokenHistory()
        h.add_many(updates[i] for i in order)
        h.drain()
        tickets = h.snapshot()["tickets"]
        assert tickets["by_status"]["completed"] == 1
        assert tickets["total"] == 1
        assert tickets["tracks"] == {
            "core": {"todo": 0, "in_progress": 0, "blocked": 0, "completed": 1, "left_open": 0}
        }


def test_a_track_given_on_an_earlier_update_is_kept_whatever_the_arrival_order():
    updates = [TicketUpdate(BASE_TS, "T-1", "todo", "core"), TicketUpdate(BASE_TS + 10, "T-1", "completed", None)]
    for order in ([0, 1], [1, 0]):
        h = TokenHistory()
        h.add_many(updates[i] for i in order)
        h.drain()
        assert h.snapshot()["tickets"]["tracks"] == {
            "core": {"todo": 0, "in_progress": 0, "blocked": 0, "completed": 1, "left_open": 0}
        }, order


def test_the_blocked_reason_shown_does_not_depend_on_arrival_order():
    updates = [
        TicketUpdate(BASE_TS, "T-1", "blocked", "core", "waiting on API key"),
        TicketUpdate(BASE_TS, "T-1", "blocked", "core", "flaky CI"),
    ]
    shown = []
    for order in ([0, 1], [1, 0]):
        h = TokenHistory()
        h.add_many(updates[i] for i in order)
        h.drain()
        shown.append(h.snapshot()["tickets"]["blocked"][0]["reason"])
    assert shown[0] == shown[1]


# --- state.toml ------------------------------------------------------------------


def a_session_of_everything(h: TokenHistory) -> None:
    for i in range(40):
        h.record_usage(
            MODELS[i % 4],
            2_000 + 37 * i,
            300 + i,
            cache_read_tokens=10_000 * (i % 3),
            cache_write_tokens=500 * (i % 2),
            ts=BASE_TS + 45 * i + (i % 7) * DAY_S,
            tier=TIERS[i % 4],
            session=SESSIONS[i % 3],
            provider=MODEL_PROVIDERS[MODELS[i % 4]],
        )
    h.add(
        usage_event(
            model="claude-sonnet-4-5",
            input_tokens=250_000,
            output_tokens=900,
            ts=BASE_TS + 2_000,
            request_key="msg_9",
            reported_cost_usd=0.9,
            tier="Tier 1",
            session="s-alpha",
        )
    )
    h.record_usage("round-model", 1_000, 1_000, ts=BASE_TS + 2_010, reasoning_tokens=400)
    h.record_tool_call("Bash", 1_234.5, ok=False, ts=BASE_TS + 10, session="s-alpha")
    h.record_tool_call("Read", 3.25, ts=BASE_TS + 20)
    h.update_ticket("T-1", "completed", BASE_TS + 500, track="core")
    h.update_ticket("T-2", "blocked", BASE_TS + 900, track="ui", reason="needs design")
    h.update_ticket("T-3", "todo", BASE_TS + 100)
    h.rate(7.5, ts=BASE_TS + 1_000)
    h.rate(9, ts=BASE_TS + 3 * DAY_S)
    h.note_bad_line("/logs/a.jsonl", 2)
    h.drain()


def test_state_file_round_trip_gives_the_same_snapshot_and_timeline(tmp_path):
    path = tmp_path / "state.toml"
    before = TokenHistory(path, budget_usd=25.0, price_overrides=ROUND_PRICES)
    a_session_of_everything(before)
    log = "/home/dev/.claude/projects/app/session.jsonl"
    before.set_offset(log, {"offset": 1234, "inode": 42, "device": 7})
    before.ui["open_headers"] = ["Cost", "Burn rate"]
    size = before.save()
    assert 0 < size <= 256 * 1024

    after = TokenHistory(path)
    # No snapshot figure is volatile across a restart: every one is rebuilt from the file.
    # (Only to_state()["saved_ts"] differs between saves, and snapshot() does not show it.)
    for now_ts in (before.snapshot()["now_ts"], BASE_TS + 8 * DAY_S):
        assert stable(after.snapshot(now_ts=now_ts)) == stable(before.snapshot(now_ts=now_ts))
    assert after.timeline() == before.timeline()
    assert after.budget_usd == 25.0
    assert after.offset_for(log) == {"offset": 1234, "inode": 42, "device": 7}
    assert after.ui == {"open_headers": ["Cost", "Burn rate"]}
    assert after.notices == []


def test_state_file_round_trip_then_more_records_match_a_history_that_never_restarted(tmp_path):
    path = tmp_path / "state.toml"
    before = TokenHistory(path, price_overrides=ROUND_PRICES)
    never_restarted = TokenHistory(price_overrides=ROUND_PRICES)
    a_session_of_everything(before)
    a_session_of_everything(never_restarted)
    before.save()

    after = TokenHistory(path)
    for h in (after, never_restarted):
        h.record_usage("gpt-4o", 5_000, 500, ts=BASE_TS + 2_100, session="s-beta")
        h.update_ticket("T-3", "completed", BASE_TS + 2_100)
        h.drain()
    now_ts = BASE_TS + 2_200
    assert stable(after.snapshot(now_ts=now_ts)) == stable(never_restarted.snapshot(now_ts=now_ts))


def test_a_streaming_copy_arriving_after_a_restart_still_counts_once(tmp_path):
    path = tmp_path / "state.toml"
    first = TokenHistory(path)
    first.add(
        usage_event(model="claude-sonnet-4-5", input_tokens=3, output_tokens=1, ts=BASE_TS, request_key="msg_01:req_01")
    )
    first.drain()
    first.save()

    restarted = TokenHistory(path)
    restarted.add(
        usage_event(
            model="claude-sonnet-4-5", input_tokens=3, output_tokens=412, ts=BASE_TS, request_key="msg_01:req_01"
        )
    )
    restarted.drain()
    totals = restarted.snapshot()["totals"]
    assert (totals["requests"], totals["output_tokens"]) == (1, 412)


# --- sessions and cost by tool -----------------------------------------------------------


def tooled(key: str, output: int, tools, ts: float = BASE_TS) -> UsageEvent:
    return usage_event(
        model="gpt-4o", input_tokens=1_000, output_tokens=output, ts=ts, session="s1", request_key=key, tools=tools
    )


def test_a_request_is_charged_to_each_tool_it_called_at_its_kept_copy(tmp_path):
    h = TokenHistory(state_path=tmp_path / "state.toml")
    h.add(tooled("r1", 10, ["Bash"]))
    h.add(tooled("r1", 500, ["Bash", "Read"]))  # the larger copy: both tools, 1,500 tokens
    h.add(tooled("r2", 200, ["Read"], ts=BASE_TS + 5))
    h.add(tooled("r3", 100, None, ts=BASE_TS + 9))  # called nothing
    h.drain()
    tools = h.snapshot()["tools"]
    assert (tools["Bash"]["turns"], tools["Bash"]["turn_tokens"]) == (1, 1_500)
    assert (tools["Read"]["turns"], tools["Read"]["turn_tokens"]) == (2, 1_500 + 1_200)
    cost = usage_event(model="gpt-4o", input_tokens=1_000, output_tokens=500)
    expected = float(calc_price(Usage(input_tokens=cost.input, output_tokens=cost.output), "gpt-4o").total_price)
    assert tools["Bash"]["turn_cost_usd"] == pytest.approx(expected)
    assert tools["Bash"]["calls"] == 0  # no call record arrived: only its turns are known
    h.save()
    again = TokenHistory(state_path=tmp_path / "state.toml")
    assert again.snapshot()["tools"] == h.snapshot()["tools"]
    # A larger copy of r1 arriving after the restart replaces the saved one, tools included.
    again.add(tooled("r1", 900, ["Read"]))
    again.drain()
    tools = again.snapshot()["tools"]
    assert tools["Bash"]["turns"] == 0 and tools["Read"]["turns"] == 2
    assert tools["Read"]["turn_tokens"] == 1_900 + 1_200


def test_tools_must_be_names():
    with pytest.raises(ValueError, match="tools"):
        usage_event(model="m", tools="Bash")
    with pytest.raises(ValueError, match="tool name"):
        usage_event(model="m", tools=["Bash", ""])
    assert usage_event(model="m", tools=["Bash", "Bash", "Read"]).tools == ("Bash", "Read")


def test_session_rows_carry_marks_projects_tickets_and_ratings():
    from session_insights.events import SessionMark

    h = TokenHistory()
    h.add(SessionMark(BASE_TS, "a", "start", "shop", "audit"))
    h.add(usage_event(model="gpt-4o", input_tokens=100, output_tokens=10, ts=BASE_TS + 1, session="a", source="audit"))
    h.add(TicketUpdate(BASE_TS + 2, "a/t1", "completed", None, None, "a"))
    h.add(ToolCall(BASE_TS + 3, "Bash", 5.0, False, "a"))
    h.add(usage_event(model="gpt-4o", input_tokens=50, output_tokens=5, ts=BASE_TS + 4, session="b"))
    h.drain()
    rows = {r["session"]: r for r in h.session_rows()}
    a = rows["a"]
    assert (a["state"], a["project"], a["source"]) == ("open", "shop", "audit")
    assert (a["tickets_completed"], a["tool_calls"], a["tool_failures"], a["total_tokens"]) == (1, 1, 1, 110)
    assert rows["b"]["state"] is None
    # Open: neither its tokens nor its ticket are in an average yet; b completed none.
    assert h.snapshot()["efficiency"]["tokens_per_completed_ticket"] is None
    h.add(SessionMark(BASE_TS + 9, "a", "end"))
    h.add(Rating(BASE_TS + 9, 8.0, "a"))
    h.add(SessionMark(BASE_TS + 1, "a", "start"))  # late: an ended session stays ended
    h.drain()
    a = {r["session"]: r for r in h.session_rows()}["a"]
    assert (a["state"], a["end_ts"], a["ratings"], a["rating_sum"]) == ("ended", BASE_TS + 9, 1, 8.0)
    assert h.snapshot()["efficiency"]["tokens_per_completed_ticket"] == 165
    assert a["days"] == [(int(BASE_TS // DAY_S), "gpt-4o", 1, 110, a["cost_pusd"])]


def test_tokens_per_ticket_leave_an_open_sessions_tickets_out_with_its_tokens():
    # An average of the ended sessions: the open one's tickets divided nobody's tokens.
    from session_insights.events import SessionMark

    h = TokenHistory()
    h.add(SessionMark(BASE_TS, "open", "start"))
    h.add(usage_event(model="gpt-4o", input_tokens=900, ts=BASE_TS + 1, session="open"))
    h.add(TicketUpdate(BASE_TS + 2, "open/t1", "completed", None, None, "open"))
    h.add(usage_event(model="gpt-4o", input_tokens=100, ts=BASE_TS + 3, session="done"))
    for t in ("t1", "t2"):
        h.add(TicketUpdate(BASE_TS + 4, f"done/{t}", "completed", None, None, "done"))
    h.drain()
    efficiency = h.snapshot()["efficiency"]
    assert (efficiency["tokens_per_completed_ticket"], efficiency["open_sessions"]) == (50, 1)


def gemini_request(key: str, inp: int, tool_prompt: int, ts: float = BASE_TS) -> UsageEvent:
    return usage_event(
        model="gemini-2.5-flash",
        input_tokens=inp,
        output_tokens=100,
        tool_prompt_tokens=tool_prompt,
        ts=ts,
        session="g1",
        source="gemini",
        request_key=key,
    )


def test_tool_use_prompt_tokens_are_part_of_the_input_and_a_rewrite_takes_the_old_copy_back(tmp_path):
    h = TokenHistory(state_path=tmp_path / "state.toml")
    h.add(gemini_request("~m1", 1_000, 300))
    h.add(gemini_request("~m1", 900, 200))  # rewritten: the last copy wins
    h.add(gemini_request("m2", 500, 0, ts=BASE_TS + 5))
    h.drain()
    t = h.snapshot()["totals"]
    assert (t["input_tokens"], t["tool_prompt_tokens"], t["total_tokens"]) == (1_400, 200, 1_600)
    (row,) = h.session_rows()
    assert row["tool_prompt_tokens"] == 200
    h.save()
    again = TokenHistory(state_path=tmp_path / "state.toml")
    assert again.session_rows() == h.session_rows()
    again.add(gemini_request("~m1", 950, 0))  # a copy after the restart still replaces the saved one
    again.drain()
    assert again.snapshot()["totals"]["tool_prompt_tokens"] == 0


def test_tool_use_prompt_tokens_cannot_exceed_the_input_they_are_part_of():
    with pytest.raises(ValueError, match=r"tool_prompt_tokens \(300\) is part of input_tokens"):
        gemini_request("m", 200, 300)
    with pytest.raises(ValueError, match="tool_prompt_tokens must not be negative"):
        gemini_request("m", 200, -1)


def test_state_saved_before_tool_use_prompts_were_kept_loads_with_none(tmp_path):
    import tomllib

    import tomli_w

    path = tmp_path / "state.toml"
    h = TokenHistory(state_path=path)
    h.add(gemini_request("m1", 1_000, 0))
    h.drain()
    h.save()
    data = tomllib.loads(path.read_text())
    for row in data["usage"]:
        row["counts"] = row["counts"][: history.TOOL_PROMPT]  # ten counters, as saved before
    data["recent_requests"] = [r[:14] for r in data["recent_requests"]]
    path.write_text(tomli_w.dumps(data))
    again = TokenHistory(state_path=path)
    assert not again.notices
    t = again.snapshot()["totals"]
    assert (t["input_tokens"], t["tool_prompt_tokens"], t["requests"]) == (1_000, 0, 1)
    again.add(gemini_request("m1", 1_000, 0))  # the remembered request still counts once
    again.drain()
    assert again.snapshot()["totals"]["requests"] == 1


def test_record_usage_takes_the_tool_use_prompt_and_the_tools_called():
    h = TokenHistory()
    h.record_usage(
        "gemini-2.5-flash", 1_000, 100, ts=BASE_TS, session="g1", tool_prompt_tokens=300, tools=["read_file", "shell"]
    )
    h.record_usage("gemini-2.5-flash", 500, 50, ts=BASE_TS + 1, session="g1")  # the plain call, as before
    h.drain()
    snap = h.snapshot()
    assert (snap["totals"]["input_tokens"], snap["totals"]["tool_prompt_tokens"]) == (1_500, 300)
    assert snap["tools"]["shell"]["turns"] == 1 and snap["tools"]["shell"]["turn_tokens"] == 1_100
    with pytest.raises(ValueError, match="tool_prompt_tokens"):
        h.record_usage("gemini-2.5-flash", 10, 1, tool_prompt_tokens=11)
    with pytest.raises(ValueError, match="tools"):
        h.record_usage("gemini-2.5-flash", 10, 1, tools="shell")


# --- copies far apart --------------------------------------------------------------


def test_a_copy_arriving_after_more_requests_than_are_kept_whole_is_still_counted_once(monkeypatch):
    # A resumed session repeats requests written long before; a history keeps the last
    # MAX_DEDUP_KEYS requests whole and the older ones by digest, so such a copy is left
    # out however far back its request was (it was counted again once it was let go).
    from session_insights.history import core

    monkeypatch.setattr(core, "MAX_DEDUP_KEYS", 50)
    h = TokenHistory()
    for i in range(400):
        h.record_usage("gpt-4o", 100, 10, ts=1_763_900_000.0 + i, session="s", request_key=f"req-{i}")
    h.drain()
    for i in range(0, 400, 7):  # copies of requests let go long ago, and of recent ones
        h.record_usage("gpt-4o", 100, 10, ts=1_763_900_000.0 + i, session="s", request_key=f"req-{i}")
    h.drain()
    totals = h.snapshot()["totals"]
    assert totals["requests"] == 400
    assert totals["input_tokens"] == 400 * 100
    assert h.snapshot()["provenance"]["sources"]["host"]["duplicate_copies"] == len(range(0, 400, 7))


def finished_request(key: str, ts: float, output: int, finished: bool = True) -> UsageEvent:
    return UsageEvent(ts, "claude-sonnet-4-5", "anthropic", 10, 0, 0, 0, output, session="s", request_key=key, finished=finished)  # fmt: skip


def test_a_finished_request_is_let_go_early_and_one_that_may_grow_is_held_far_longer(monkeypatch):
    # A response whose log says it ended (Claude's stop_reason) has no larger copy to
    # come, only equal ones, which a let-go digest turns away too: few of them are held
    # whole. A copy that may still grow (a stream cut short) stays held, so its larger
    # copy, repeated by a resumed session thousands of requests later, replaces it.
    from session_insights.history import core

    monkeypatch.setattr(core, "MAX_DEDUP_KEYS", 50)
    monkeypatch.setattr(core, "MAX_FINISHED_KEYS", 8)
    h = TokenHistory()
    h.add(finished_request("cut", T_TICKETS, 3, finished=False))
    for i in range(300):
        h.add(finished_request(f"r{i}", T_TICKETS + 1 + i, 1, finished=i % 2 == 0))
        h.add(finished_request(f"r{i}", T_TICKETS + 1 + i, 7))  # its last streamed copy
    h.drain()
    assert len(h._held) <= 8 + 1  # the finished ones, and the one cut short
    for i in range(0, 300, 7):  # the copies a resumed session repeats: equal ones
        h.add(finished_request(f"r{i}", T_TICKETS + 1 + i, 7))
    h.add(finished_request("cut", T_TICKETS, 90))  # the cut-short response, whole
    h.drain()
    totals = h.snapshot()["totals"]
    assert totals["requests"] == 301
    assert totals["output_tokens"] == 300 * 7 + 90
    assert h.knows("cut") and not h.knows("r0")


def test_a_held_copys_finish_survives_a_restart(tmp_path):
    path = tmp_path / "state.toml"
    h = TokenHistory(state_path=path)
    h.add(finished_request("open", T_TICKETS, 3, finished=False))
    h.add(finished_request("done", T_TICKETS + 1, 5))
    h.drain()
    h.save()
    h.close()
    again = TokenHistory(state_path=path)
    assert not again.notices
    assert {key: ev.finished for key, ev in again._held.items()} == {"open": False, "done": True}


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 40), st.sampled_from(["todo", "in_progress", "completed", "blocked"]), st.integers(0, 500)
        ),
        max_size=200,
    )
)
def test_a_full_ticket_table_retires_the_longest_finished_ticket_first(updates):
    # Past MAX_TICKETS, each new ticket retires one: finished before unfinished, then the
    # oldest update (then the id). What stays and what was retired match a table that
    # scans every ticket for it.
    from session_insights.history import tickets as tickets_module

    part = tickets_module.TicketsPart()
    kept: dict[str, tuple[str, float]] = {}
    retired = dict.fromkeys(["todo", "in_progress", "completed", "blocked"], 0)
    limit, tickets_module.MAX_TICKETS = tickets_module.MAX_TICKETS, 8
    try:
        for n, status, ts in updates:
            tid = f"T-{n:02d}"
            part.apply(TicketUpdate(T_TICKETS + ts, tid, status, None, None, None))
            if tid not in kept and len(kept) >= 8:
                oldest = min(kept, key=lambda t: (kept[t][0] != "completed", kept[t][1], t))
                retired[kept.pop(oldest)[0]] += 1
            kept[tid] = (part.tickets[tid].status, part.tickets[tid].ts)  # as the ticket's own rule left it
    finally:
        tickets_module.MAX_TICKETS = limit
    assert set(part.tickets) == set(kept)
    assert part.retired == retired


T_TICKETS = 1_763_900_000.0


def test_pending_can_be_read_while_another_thread_queues_what_it_read():
    # The window reads `pending` every frame while its reader threads queue files; the
    # count was summed over the queue as it grew ("deque mutated during iteration").
    h = TokenHistory()
    stop = threading.Event()
    errors: list[BaseException] = []

    def reader():
        i = 0
        while not stop.is_set():
            ev = usage_event(model="gpt-4o", input_tokens=1, output_tokens=1, ts=1_763_900_000.0 + i)
            h.add_read(f"file-{i % 50}", [ev] * 3, {"offset": i})
            i += 1
            if not i % 200:
                h.drain(max_records=300)

    def frame():
        try:
            for _ in range(200_000):
                assert h.pending >= 0
        except BaseException as exc:  # the race, caught where the window would die of it
            errors.append(exc)

    threads = [threading.Thread(target=reader), threading.Thread(target=frame)]
    for t in threads:
        t.start()
    threads[1].join()
    stop.set()
    threads[0].join()
    assert not errors, errors[0]
    h.drain()
    assert h.pending == 0
