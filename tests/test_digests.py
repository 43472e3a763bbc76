"""DigestSet (history/digests.py) holds exactly what a set of the same digests holds,
whatever goes through its small set, its runs, their merges and its bitmap; ``any_of``
sees what the set sees."""

from __future__ import annotations

from array import array

from hypothesis import given, settings
from hypothesis import strategies as st

from session_insights.history import digests
from session_insights.history.digests import FILTER_BITS, DigestSet

# Digests that share their low bits (one bit of the bitmap) but differ above them.
HIGH = st.integers(-(2**39), 2**39)
LOW = st.integers(0, 63)
DIGESTS = st.builds(lambda high, low: high * FILTER_BITS + low, HIGH, LOW) | st.integers(
    -(2**63), 2**63 - 1 - FILTER_BITS
)
STEPS = st.lists(st.tuples(st.sampled_from(["add", "run", "ask"]), st.lists(DIGESTS, max_size=20)), max_size=40)


@settings(max_examples=300, deadline=None)
@given(STEPS, st.integers(2, 8))
def test_a_digest_set_holds_what_a_set_holds(steps, small):
    saved = digests.SMALL, digests.MAX_RUNS
    digests.SMALL, digests.MAX_RUNS = small, 3  # runs and merges from a few digests on
    try:
        held, model = DigestSet(), set()
        for kind, values in steps:
            if kind == "add":
                for d in values:
                    held.add(d)
                    model.add(d)
            elif kind == "run":  # a worker's digests: sorted, none held yet
                fresh = sorted(set(values) - model)
                held.add_run(array("q", fresh))
                model.update(fresh)
            for d in values:
                assert (d in held) == (d in model)
                assert (d + FILTER_BITS in held) == (d + FILTER_BITS in model)  # same bit, other digest
        assert len(held) == len(model)
        probes = sorted({d for _, values in steps for d in values} | {d + FILTER_BITS for d in model})
        assert held.any_of(array("q", probes)) == bool(model & set(probes))
        # every run the bitmap does not cover is one of the runs: a merged one is not kept twice
        assert all(any(u is r for r in held.runs()) for u in held._unmarked)
        held.clear()
        assert all(d not in held for d in model)
    finally:
        digests.SMALL, digests.MAX_RUNS = saved
