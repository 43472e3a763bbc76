"""The bounded time series behind the timeline and the sliding-window burn rate.

BucketSeries keeps per-bucket sums, never more than ``capacity`` buckets from the
earliest to the latest event, with power-of-two widths aligned to the epoch, so its
layout depends only on the set of events, never on their order. RecentSeconds keeps
per-second sums for the last ``retention_s`` seconds before the latest event.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from session_insights.series import BucketSeries, RecentSeconds

SETTINGS = settings(max_examples=100, deadline=None)

EPOCH_2024 = 1_704_067_200.0

# Timestamps from bursts within a second to spreads over years, so the series has to
# coarsen from 1 s buckets to widths of many days.
timestamps = st.one_of(
    st.floats(min_value=0, max_value=5, allow_nan=False),
    st.floats(min_value=0, max_value=3_600, allow_nan=False),
    st.floats(min_value=0, max_value=30 * 86_400, allow_nan=False),
    st.floats(min_value=0, max_value=3 * 365 * 86_400, allow_nan=False),
).map(lambda offset: EPOCH_2024 + offset)
epoch_timestamps = st.one_of(timestamps, st.floats(min_value=0, max_value=4e9, allow_nan=False))
values = st.tuples(st.integers(0, 10**6), st.integers(-(10**6), 10**6), st.integers(0, 10**12))
additions = st.lists(st.tuples(epoch_timestamps, values), max_size=60)
capacities = st.integers(min_value=2, max_value=64)
FIELDS = 3


def add_all(series: BucketSeries, adds) -> None:
    for ts, vals in adds:
        bucket = series.bucket(ts)
        for i, v in enumerate(vals):
            bucket[i] += v


def layout(series: BucketSeries) -> tuple[float, list[tuple[float, list[int]]]]:
    return series.width_s, [(start, list(sums)) for start, sums in series.items()]


def span_in_buckets(series: BucketSeries) -> int:
    indices = [round(start / series.width_s) for start, _ in series.items()]
    return max(indices) - min(indices) + 1 if indices else 0


# --- BucketSeries ----------------------------------------------------------------


@SETTINGS
@given(capacity=capacities, adds=additions)
def test_bucket_series_never_spans_more_than_capacity_buckets_whatever_the_timestamps(capacity, adds):
    series = BucketSeries(capacity=capacity, fields=FIELDS)
    for ts, vals in adds:
        add_all(series, [(ts, vals)])
        assert span_in_buckets(series) <= capacity
        assert len(series) <= capacity


@SETTINGS
@given(capacity=capacities, adds=additions)
def test_bucket_series_field_sums_always_equal_the_sums_of_what_was_added(capacity, adds):
    series = BucketSeries(capacity=capacity, fields=FIELDS)
    for n in range(len(adds)):
        add_all(series, adds[n : n + 1])
        for field in range(FIELDS):
            assert sum(sums[field] for _, sums in series.items()) == sum(v[field] for _, v in adds[: n + 1])


@SETTINGS
@given(capacity=capacities, adds=additions, data=st.data())
def test_bucket_series_layout_is_the_same_for_any_order_of_the_same_additions(capacity, adds, data):
    shuffled = data.draw(st.permutations(adds))
    in_order, in_any_order = BucketSeries(capacity, FIELDS), BucketSeries(capacity, FIELDS)
    add_all(in_order, sorted(adds, key=lambda a: a[0]))
    add_all(in_any_order, shuffled)
    assert layout(in_any_order) == layout(in_order)


@SETTINGS
@given(capacity=capacities, adds=additions.filter(bool))
def test_bucket_series_uses_the_finest_power_of_two_width_that_fits_and_sums_each_bucket_exactly(capacity, adds):
    series = BucketSeries(capacity, FIELDS)
    add_all(series, adds)

    lo, hi = math.floor(min(ts for ts, _ in adds)), math.floor(max(ts for ts, _ in adds))
    level = 0
    while (hi >> level) - (lo >> level) + 1 > capacity:
        level += 1
    width = 2.0**level
    expected: dict[float, list[int]] = {}
    for ts, vals in adds:
        sums = expected.setdefault(math.floor(ts / width) * width, [0] * FIELDS)
        for i, v in enumerate(vals):
            sums[i] += v
    assert layout(series) == (width, sorted(expected.items()))


@SETTINGS
@given(capacity=capacities, adds=additions)
def test_bucket_series_widths_are_powers_of_two_seconds_and_buckets_start_on_multiples_of_the_width(capacity, adds):
    series = BucketSeries(capacity, FIELDS)
    for ts, vals in adds:
        add_all(series, [(ts, vals)])
        assert series.width_s == 2.0**series.level
        assert series.level >= 0
        for start, _ in series.items():
            assert start % series.width_s == 0
    starts = [start for start, _ in series.items()]
    assert starts == sorted(starts)


@SETTINGS
@given(capacity=capacities, adds=additions, more=additions)
def test_bucket_series_state_round_trips_and_keeps_behaving_the_same(capacity, adds, more):
    original = BucketSeries(capacity, FIELDS)
    add_all(original, adds)
    restored = BucketSeries.from_state(original.to_state(), fields=FIELDS)
    assert layout(restored) == layout(original)
    assert restored.to_state() == original.to_state()

    add_all(original, more)
    add_all(restored, more)
    assert layout(restored) == layout(original)


def test_bucket_series_state_with_the_wrong_number_of_fields_is_refused():
    series = BucketSeries(capacity=8, fields=2)
    series.bucket(EPOCH_2024)[0] += 1
    with pytest.raises(ValueError, match="fields"):
        BucketSeries.from_state(series.to_state(), fields=3)


def test_bucket_series_needs_room_for_at_least_two_buckets():
    with pytest.raises(ValueError, match="capacity"):
        BucketSeries(capacity=1)


def test_bucket_series_doubles_its_width_when_an_event_would_stretch_it_past_capacity():
    series = BucketSeries(capacity=4, fields=1)
    for second in range(4):
        series.bucket(1000.0 + second)[0] += 1
    assert series.width_s == 1.0
    assert [(start, sums[0]) for start, sums in series.items()] == [(1000.0, 1), (1001.0, 1), (1002.0, 1), (1003.0, 1)]

    series.bucket(1004.0)[0] += 1  # five seconds: 1000..1004 no longer fit in 4 one-second buckets
    assert series.width_s == 2.0
    assert [(start, sums[0]) for start, sums in series.items()] == [(1000.0, 2), (1002.0, 2), (1004.0, 1)]


# --- RecentSeconds ----------------------------------------------------------------

seconds_adds = st.lists(
    st.tuples(st.floats(min_value=0, max_value=400, allow_nan=False), st.integers(0, 1000), st.integers(0, 10**9)),
    max_size=80,
)


def feed(recent: RecentSeconds, adds) -> None:
    for ts, tokens, cost in adds:
        bucket = recent.bucket(ts)
        if bucket is not None:
            bucket[0] += tokens
            bucket[1] += cost


@SETTINGS
@given(
    adds=seconds_adds,
    retention=st.integers(1, 200),
    start=st.floats(min_value=-10, max_value=420, allow_nan=False),
    length=st.floats(min_value=0, max_value=450, allow_nan=False),
)
def test_recent_seconds_window_returns_seconds_in_order_within_its_bounds(adds, retention, start, length):
    recent = RecentSeconds(retention_s=retention, fields=2)
    feed(recent, adds)
    end = start + length
    window = recent.window(start, end)

    seconds = [sec for sec, _ in window]
    assert seconds == sorted(set(seconds))
    assert all(int(start) <= sec <= int(end) for sec in seconds)
    # Every second within retention of the latest event is complete: no event there was
    # ever too old to keep, whatever order the events came in.
    if adds:
        latest = max(int(ts) for ts, _, _ in adds)
        got = dict(window)
        for sec in range(max(latest - retention, int(start)), min(latest, int(end)) + 1):
            tokens = sum(t for ts, t, _ in adds if int(ts) == sec)
            cost = sum(c for ts, _, c in adds if int(ts) == sec)
            if any(int(ts) == sec for ts, _, _ in adds):
                assert got[sec] == [tokens, cost]
            else:
                assert sec not in got


def test_recent_seconds_sums_requests_of_the_same_second():
    recent = RecentSeconds(retention_s=60, fields=2)
    feed(recent, [(100.1, 10, 1), (100.9, 5, 2), (101.0, 7, 3)])
    assert recent.window(100, 101) == [(100, [15, 3]), (101, [7, 3])]


def test_recent_seconds_refuses_seconds_older_than_retention_before_the_latest():
    recent = RecentSeconds(retention_s=60, fields=2)
    feed(recent, [(1000.0, 5, 5)])
    assert recent.bucket(939.0) is None  # 61 s before the latest: too old to keep
    feed(recent, [(939.5, 1, 1), (940.0, 2, 2)])  # exactly retention_s before: kept
    assert recent.window(0, 2000) == [(940, [2, 2]), (1000, [5, 5])]


def test_recent_seconds_drops_old_seconds_so_reads_within_retention_never_see_them_and_memory_stays_bounded():
    retention = 50
    recent = RecentSeconds(retention_s=retention, fields=2)
    for second in range(2_000):
        recent.bucket(float(second))[0] += 1
        assert len(recent.seconds) <= retention + 257
    latest = 1_999
    window = recent.window(latest - retention, latest)
    assert [sec for sec, _ in window] == list(range(latest - retention, latest + 1))
    assert min(recent.seconds) >= latest - retention - 257
    assert recent.bucket(10.0) is None


@SETTINGS
@given(occupied=st.sets(st.integers(0, 300), max_size=30), sec=st.integers(0, 320), within=st.integers(0, 320))
def test_recent_seconds_before_finds_the_latest_occupied_second_in_the_half_open_range(occupied, sec, within):
    recent = RecentSeconds(retention_s=10_000, fields=2)
    for s in sorted(occupied):
        recent.bucket(float(s))[0] += 1
    candidates = [s for s in occupied if sec - within <= s < sec]
    assert recent.before(sec, within) == (max(candidates) if candidates else None)


def test_recent_seconds_before_excludes_the_second_itself_and_looks_back_only_within_s():
    recent = RecentSeconds(retention_s=1000, fields=2)
    for s in (10, 20, 25):
        recent.bucket(float(s))[0] += 1
    assert recent.before(25, 10) == 20
    assert recent.before(21, 1) == 20
    assert recent.before(20, 9) is None
    assert recent.before(20, 10) == 10
    assert recent.before(5, 5) is None
