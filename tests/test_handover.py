"""A history read apart and handed over (history/handover.py): merged only when none of
its requests is counted here, however the requests counted here arrive meanwhile."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from session_insights import TokenHistory
from session_insights.history import handover
from session_insights.history.digests import DigestSet

T0 = 1_764_000_000.0


def worker_history(keys: list[str]) -> dict:
    """What a worker hands over after counting one request per key."""
    reader = TokenHistory()
    reader.keep_digests()
    for i, key in enumerate(keys):
        reader.record_usage("claude-sonnet-4-5", 100, 10, ts=T0 + i, session="s-apart", request_key=key)
    return reader.hand_over()


def test_a_handover_is_merged_with_its_totals():
    h = TokenHistory()
    h.record_usage("claude-sonnet-4-5", 100, 10, ts=T0, session="s-here", request_key="here-1")
    h.drain()
    assert h.take_over(worker_history(["apart-1", "apart-2"]))
    assert h.snapshot(now_ts=T0 + 10)["totals"]["requests"] == 3


def test_a_request_counted_here_already_stops_the_handover():
    h = TokenHistory()
    h.record_usage("claude-sonnet-4-5", 100, 10, ts=T0, session="s-here", request_key="both")
    h.drain()
    assert not h.take_over(worker_history(["apart-1", "both"]))
    assert h.snapshot(now_ts=T0 + 10)["totals"]["requests"] == 1


def test_a_request_counted_while_the_handover_is_checked_stops_it(monkeypatch):
    # The look-ups and the sort run outside the history's lock: a request the panel's
    # drain counts in between is looked at again under it, and nothing counts twice.
    h = TokenHistory()

    def count_one_meanwhile(digests, keys, runs):
        found = counted_apart(digests, keys, runs)
        if not calls:
            h.record_usage("claude-sonnet-4-5", 100, 10, ts=T0, session="s-here", request_key="both")
            h.drain()
        calls.append(len(keys))
        return found

    calls: list[int] = []
    counted_apart = handover.Handover._counted_apart
    monkeypatch.setattr(handover.Handover, "_counted_apart", staticmethod(count_one_meanwhile))
    assert not h.take_over(worker_history(["apart-1", "both"]))
    assert h.snapshot(now_ts=T0 + 10)["totals"]["requests"] == 1


def test_the_handover_sorts_its_digests_without_holding_the_lock(monkeypatch):
    h = TokenHistory()
    counted_apart = handover.Handover._counted_apart
    free: list[bool] = []

    def try_the_lock_from_another_thread(digests, keys, runs):
        def attempt():
            got = h._lock.acquire(timeout=5)
            free.append(got)
            if got:
                h._lock.release()

        t = threading.Thread(target=attempt)
        t.start()
        t.join()
        return counted_apart(digests, keys, runs)

    monkeypatch.setattr(handover.Handover, "_counted_apart", staticmethod(try_the_lock_from_another_thread))
    assert h.take_over(worker_history(["apart-1"]))
    assert free == [True]


def test_a_request_let_go_meanwhile_stops_the_handover(monkeypatch):
    # A tool call or an old request let go goes to the digests' small set: checked under the lock.
    from session_insights.saved_reads import key_digest

    h = TokenHistory()
    counted_apart = handover.Handover._counted_apart

    def let_one_go_meanwhile(digests, keys, runs):
        h._let_go.add(key_digest("both"))
        return counted_apart(digests, keys, runs)

    monkeypatch.setattr(handover.Handover, "_counted_apart", staticmethod(let_one_go_meanwhile))
    assert not h.take_over(worker_history(["apart-1", "both"]))
    assert h.snapshot(now_ts=T0 + 10)["totals"]["requests"] == 0


def test_a_second_handover_sharing_a_request_with_the_first_is_not_merged():
    h = TokenHistory()
    assert h.take_over(worker_history(["a-1", "a-2", "shared"]))
    assert not h.take_over(worker_history(["b-1", "shared"]))
    assert h.take_over(worker_history(["c-1"]))
    assert h.snapshot(now_ts=T0 + 10)["totals"]["requests"] == 4


def test_digests_in_runs_small_set_and_merged_runs_are_all_found(monkeypatch):
    from array import array

    from session_insights.history import digests

    monkeypatch.setattr(digests, "SMALL", 4)
    monkeypatch.setattr(digests, "MAX_RUNS", 3)
    held = DigestSet()
    for start in range(0, 60, 10):  # six runs handed over: merged down to three
        held.add_run(array("q", range(start, start + 5)))
    for d in range(100, 110):  # the small set becomes runs of four
        held.add(d)
    assert len(held.runs()) <= 3
    expected = {*(s + i for s in range(0, 60, 10) for i in range(5)), *range(100, 110)}
    assert len(held) == len(expected)
    assert all(d in held for d in expected)
    assert not any(d in held for d in (5, 15, 99, 110, -1))
    assert held.any_of(array("q", [7, 53])) and not held.any_of(array("q", [7, 8]))
    for run in held.runs():
        assert list(run) == sorted(run)


@given(st.lists(st.integers(-(2**63), 2**63 - 1), unique=True, max_size=300), st.integers(1, 7))
def test_sorting_and_merging_a_block_at_a_time_gives_the_sorted_digests(values, block):
    from array import array

    from session_insights.history import digests

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(digests, "BLOCK", block)
        assert list(digests.sorted_digests(array("q", values))) == sorted(values)
        half = len(values) // 2
        a, b = array("q", sorted(values[:half])), array("q", sorted(values[half:]))
        assert list(digests.merged(a, b)) == sorted(values)
