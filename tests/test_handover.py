"""A history read apart and handed over (history/handover.py): merged only when none of
its requests is counted here, however the requests counted here arrive meanwhile."""

from __future__ import annotations

import threading

from session_insights import TokenHistory
from session_insights.history import digests as digests_module

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
    merged = digests_module.DigestSet.merged

    def count_one_meanwhile(base, digests):
        h.record_usage("claude-sonnet-4-5", 100, 10, ts=T0, session="s-here", request_key="both")
        h.drain()
        return merged(base, digests)

    monkeypatch.setattr(digests_module.DigestSet, "merged", staticmethod(count_one_meanwhile))
    assert not h.take_over(worker_history(["apart-1", "both"]))
    assert h.snapshot(now_ts=T0 + 10)["totals"]["requests"] == 1


def test_the_handover_sorts_its_digests_without_holding_the_lock(monkeypatch):
    h = TokenHistory()
    merged = digests_module.DigestSet.merged
    free: list[bool] = []

    def try_the_lock_from_another_thread(base, digests):
        def attempt():
            got = h._lock.acquire(timeout=5)
            free.append(got)
            if got:
                h._lock.release()

        t = threading.Thread(target=attempt)
        t.start()
        t.join()
        return merged(base, digests)

    monkeypatch.setattr(digests_module.DigestSet, "merged", staticmethod(try_the_lock_from_another_thread))
    assert h.take_over(worker_history(["apart-1"]))
    assert free == [True]


def test_a_request_let_go_meanwhile_stops_the_handover(monkeypatch):
    # A tool call or an old request let go goes to the digests' small set: checked under the lock.
    from session_insights.saved_reads import key_digest

    h = TokenHistory()
    merged = digests_module.DigestSet.merged

    def let_one_go_meanwhile(base, digests):
        h._let_go.add(key_digest("both"))
        return merged(base, digests)

    monkeypatch.setattr(digests_module.DigestSet, "merged", staticmethod(let_one_go_meanwhile))
    assert not h.take_over(worker_history(["apart-1", "both"]))
    assert h.snapshot(now_ts=T0 + 10)["totals"]["requests"] == 0
