"""The queue's requests are counted in runs (usage.add_run): the buckets of a second take
a run's sums at once. Whatever the runs, every figure is that of one request at a time."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from session_insights import TokenHistory
from session_insights.history import inbox

T0 = 1_764_000_000.0
MODELS = ("claude-sonnet-4-5", "gpt-5", "acme-local-7b")  # the last is unpriced

requests = st.lists(
    st.tuples(
        st.sampled_from(MODELS),
        st.integers(0, 5_000),
        st.integers(0, 2_000),
        st.integers(0, 3),  # second offset step: several requests share a second
        st.sampled_from([None, "Tier 1", "Tier 2"]),
        st.integers(0, 80),  # sessions past the detailed ones: details let go mid-run
        st.one_of(st.none(), st.integers(0, 30)),  # a request key: copies among them
    ),
    max_size=120,
)


def feed(h: TokenHistory, reqs) -> None:
    ts = T0
    for model, inp, out, step, tier, session, key in reqs:
        ts += step * 0.4
        h.record_usage(
            model,
            inp,
            out,
            ts=ts,
            tier=tier,
            session=f"s{session}",
            request_key=None if key is None else f"k{key}",
        )


def figures(h: TokenHistory) -> tuple:
    snap = h.snapshot(now_ts=T0 + 200)
    return snap, h.timeline(), {name: list(d.timeline.items()) for name, d in h.usage.details.items()}


@settings(max_examples=80, deadline=None)
@given(requests, st.integers(1, 9))
def test_counting_in_runs_gives_the_figures_of_one_request_at_a_time(reqs, run):
    one_by_one = TokenHistory()
    feed(one_by_one, reqs)
    while one_by_one.drain(max_records=1):
        pass
    in_runs = TokenHistory()
    feed(in_runs, reqs)
    saved, inbox.RUN = inbox.RUN, run
    try:
        in_runs.drain()
    finally:
        inbox.RUN = saved
    assert figures(in_runs) == figures(one_by_one)


def test_tool_calls_that_fold_sessions_leave_no_request_on_a_folded_row():
    # Tool calls of new sessions fold the least recently active ones: requests of a
    # folded session that come later must not be counted through the look-ups cached
    # for its row before the fold (they would be lost from every session and total).
    from session_insights.history import MAX_SESSIONS

    h = TokenHistory()
    for k in range(3):  # three sessions with requests, then quiet
        h.record_usage("claude-sonnet-4-5", 100, 10, ts=T0 + k, session=f"u-{k}")
    h.drain()
    for i in range(MAX_SESSIONS + 100):  # sessions of tool calls only: the quiet ones fold
        h.record_tool_call("Bash", 10.0, ts=T0 + 10 + i, session=f"t-{i:04d}")
    for k in range(3):  # the folded sessions again
        h.record_usage("claude-sonnet-4-5", 100, 10, ts=T0 + 1_000 + k, session=f"u-{k}")
    h.drain()
    snap = h.snapshot(now_ts=T0 + 2_000)
    assert snap["totals"]["requests"] == 6
    assert sum(s["requests"] for s in snap["sessions"].values()) == 6
    assert sum(s["input_tokens"] for s in snap["sessions"].values()) == 600


def test_a_queued_request_handed_on_is_a_usage_event():
    # record_usage's fast path queues a plain tuple; what leaves the queue otherwise
    # than through the drain (findings for another process) is a UsageEvent.
    from session_insights.events import UsageEvent

    h = TokenHistory()
    h.record_usage("claude-sonnet-4-5", 100, 10, ts=T0, session="s")
    h.record_usage("claude-sonnet-4-5", 100, 10, ts=T0 + 1, session="s", request_key="k")
    records = h.findings()["records"]
    assert [type(r) for r in records] == [UsageEvent, UsageEvent]
    assert records[0].session == "s" and records[0].input == 100
    other = TokenHistory()
    other.absorb({**h.findings(), "records": records})
    other.drain()
    h.drain()
    assert other.snapshot(now_ts=T0 + 5)["totals"] == h.snapshot(now_ts=T0 + 5)["totals"]
