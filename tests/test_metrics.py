"""Pure metric functions and number formatting, checked against hand-computed figures."""

import pytest

from session_insights import drawn, metrics
from session_insights import formatting as fmt
from session_insights.metrics import SessionUnit


@pytest.mark.parametrize(
    "span_days, expected",
    [
        (1, ("daily", 1)),
        (7, ("daily", 1)),
        (8, ("3-day", 3)),
        (30, ("3-day", 3)),
        (31, ("weekly", 7)),
        (90, ("weekly", 7)),
        (91, ("30-day", 30)),
        (400, ("30-day", 30)),
    ],
)
def test_interval_is_chosen_by_span_at_the_documented_boundaries(span_days, expected):
    assert metrics.interval_days(span_days) == expected


def test_lower_tokens_per_point_from_first_to_last_interval_is_improved_with_its_percentage():
    assert metrics.compare_first_last([200.0, None, 150.0]) == ("IMPROVED", 25.0)
    assert metrics.compare_first_last([100.0, 130.0]) == ("DECLINED", pytest.approx(-30.0))
    assert metrics.compare_first_last([100.0, 100.5]) == ("UNCHANGED", pytest.approx(-0.5))
    assert metrics.compare_first_last([100.0]) == (None, None)
    assert metrics.compare_first_last([None, None]) == (None, None)


D = 86_400


def unit(day: float, tokens: int, *ratings: float, completed: int = 0) -> SessionUnit:
    return SessionUnit(
        ts=day * D, tokens=tokens, ratings=len(ratings), rating_sum=float(sum(ratings)), completed=completed
    )


def test_efficiency_over_time_averages_tokens_and_satisfaction_of_the_sessions_per_daily_interval():
    units = [
        # day 0: sessions of 8,000 tokens rated 8 and 2,000 rated 6 -> avg 5,000 tokens / avg 7
        unit(20_000.2, 8_000, 8),
        unit(20_000.9, 2_000, 6),
        # a session with no rating is no part of a rated average
        unit(20_000.5, 50_000),
        # day 2: one session of 6,000 tokens rated 9 -> 6,000 / 9
        unit(20_002.1, 6_000, 9),
    ]
    over = metrics.efficiency_over_time(units)
    assert over["interval"] == "daily" and over["measure"] == "tokens_per_satisfaction_point"
    first, middle, last = over["buckets"]
    assert (first["sessions"], first["avg_tokens"], first["avg_satisfaction"]) == (2, 5_000, 7.0)
    assert first["score"] == pytest.approx(5_000 / 7)
    assert (middle["sessions"], middle["score"]) == (0, None)  # a day with nothing rated has no score
    assert last["score"] == pytest.approx(6_000 / 9)
    assert first["start_ts"] == 20_000 * D and first["end_ts"] == 20_001 * D
    assert (first["start"], first["end"]) == ("2024-10-04", "2024-10-04")  # day 20,000 since 1970-01-01
    assert over["verdict"] == "IMPROVED"
    assert over["change_pct"] == pytest.approx((5_000 / 7 - 6_000 / 9) / (5_000 / 7) * 100)
    # Overall: three rated sessions, (8,000 + 2,000 + 6,000) / 3 tokens over (8 + 6 + 9) / 3 points.
    assert over["overall_score"] == pytest.approx(16_000 / 23)
    assert over["points_per_1k_tokens"] == pytest.approx(23 / 16)


def test_a_session_rated_twice_counts_once_with_its_mean_rating():
    over = metrics.efficiency_over_time([unit(0.5, 9_000, 4, 8), unit(0.7, 3_000, 9)])
    (only,) = over["buckets"]
    assert (only["sessions"], only["avg_tokens"], only["avg_satisfaction"]) == (2, 6_000, 7.5)


def test_without_ratings_tokens_per_completed_ticket_stands_in_over_3_day_intervals():
    units = [unit(100, 9_000, completed=3), unit(109.5, 12_000, completed=2)]  # a 10-day span
    over = metrics.efficiency_over_time(units)
    assert over["interval"] == "3-day" and over["measure"] == "tokens_per_completed_ticket"
    scores = [b["score"] for b in over["buckets"]]
    assert scores == [3_000.0, None, None, 6_000.0]  # days 100-102, 103-105, 106-108, 109-111
    assert [(b["start"], b["end"]) for b in over["buckets"]][-1] == ("1970-04-20", "1970-04-22")
    assert over["verdict"] == "DECLINED" and over["change_pct"] == pytest.approx(-100.0)
    assert over["overall_score"] == pytest.approx(21_000 / 5) and over["points_per_1k_tokens"] is None


@pytest.mark.parametrize(
    "span_days, interval, buckets",
    [
        (7, "daily", 7),
        (8, "3-day", 3),
        (30, "3-day", 10),
        (31, "weekly", 5),
        (90, "weekly", 13),
        (91, "30-day", 4),
    ],
)
def test_bucket_boundaries_follow_the_span_from_the_first_session(span_days, interval, buckets):
    over = metrics.efficiency_over_time([unit(500.0, 1_000, 5), unit(500 + span_days - 1 + 0.99, 2_000, 5)])
    assert over["interval"] == interval and len(over["buckets"]) == buckets
    assert over["buckets"][0]["start_ts"] == 500 * D
    last_day = 500 + span_days - 1
    holding = [b for b in over["buckets"] if b["sessions"]]
    assert holding[-1]["start_ts"] <= last_day * D < holding[-1]["end_ts"]


def test_open_sessions_are_no_unit_and_ended_ones_sit_on_their_end_day():
    row = {
        "state": "open",
        "end_ts": None,
        "last_ts": 5.0,
        "total_tokens": 10,
        "ratings": 0,
        "rating_sum": 0.0,
        "tickets_completed": 0,
    }
    assert metrics.session_unit(row) is None
    ended = dict(row, state="ended", end_ts=2 * D + 7.0)
    assert metrics.session_unit(ended).ts == 2 * D + 7.0
    assert metrics.session_unit(dict(row, state=None)).ts == 5.0
    assert metrics.session_unit(dict(row, state=None, total_tokens=0)) is None


def test_no_data_gives_no_interval_and_no_verdict():
    assert metrics.efficiency_over_time([]) == {
        "interval": None,
        "measure": None,
        "buckets": [],
        "verdict": None,
        "change_pct": None,
        "overall_score": None,
        "points_per_1k_tokens": None,
    }


def test_projection_of_budget_and_tickets():
    p = metrics.projection(
        now_ts=1_000.0,
        spent_usd=4.0,
        usd_per_hour=2.0,
        budget_usd=10.0,
        tickets_left=3,
        tickets_completed=2,
        ticket_span_s=1_200.0,
    )
    assert p.budget_left_usd == 6.0
    assert p.time_to_exhaustion_s == 3 * 3600 and p.exhaustion_ts == 1_000.0 + 3 * 3600
    assert p.cost_per_ticket_usd == 2.0 and p.cost_to_finish_usd == 6.0
    assert p.time_per_ticket_s == 600.0 and p.eta_s == 1_800.0
    idle = metrics.projection(
        now_ts=0.0,
        spent_usd=4.0,
        usd_per_hour=0.0,
        budget_usd=10.0,
        tickets_left=0,
        tickets_completed=0,
        ticket_span_s=None,
    )
    assert idle.time_to_exhaustion_s is None and idle.cost_to_finish_usd is None and idle.eta_s is None
    over = metrics.projection(
        now_ts=0.0,
        spent_usd=12.0,
        usd_per_hour=5.0,
        budget_usd=10.0,
        tickets_left=0,
        tickets_completed=1,
        ticket_span_s=60.0,
    )
    assert over.budget_left_usd == -2.0 and over.time_to_exhaustion_s == 0.0 and over.eta_s == 0.0


def test_window_rate_counts_short_gaps_and_the_tail_but_not_idle_gaps():
    seconds = [(100, (1_000, 0)), (110, (1_000, 0)), (420, (1_000, 0))]  # 310 s idle before the last
    rate = metrics.window_burn_rate(seconds, now_ts=450.0, window_s=400, previous_s=None)
    assert rate.active_s == 10 + 30  # 100->110, then 420->now; the 310 s gap is idle
    assert rate.tokens == 3_000 and rate.tokens_per_min == pytest.approx(3_000 * 60 / 60)  # floor: 1 min


def test_session_rate_is_none_before_any_request():
    assert metrics.session_burn_rate(0, 0.0, None, 10.0).tokens_per_min is None


def test_timeline_view_is_cumulative_from_zero_and_keeps_the_last_point_when_thinning():
    buckets = [(float(i), [1, 2, 3, 4, 0, 1]) for i in range(10)]
    view = drawn.timeline_view(buckets, width_s=1.0, max_points=4)
    assert view["x"][0] == 0.0 and view["total"][0] == 0.0
    assert view["x"][-1] == 10.0 and view["total"][-1] == 100.0 and view["input"][-1] == 10.0
    assert len(view["x"]) <= 5
    # 10 tokens a second for 10 s: the trailing minute holds 100 tokens at its end.
    assert max(view["tokens_per_min"]) == 100.0


def test_timeline_rate_reads_a_lone_request_over_the_trailing_minute():
    buckets = [
        (0.0, [8_000, 500, 2_000, 0, 0, 1]),
        (30.0, [10_000, 400, 10_000, 0, 0, 1]),
        (200.0, [1_000, 0, 0, 0, 0, 1]),
    ]
    view = drawn.timeline_view(buckets, width_s=1.0)
    assert view["rate_x"] == [0.0, 1.0, 31.0, 201.0]  # from zero where the first bucket starts
    assert view["tokens_per_min"] == [0.0, 10_500.0, 30_900.0, 1_000.0]
    wide = drawn.timeline_view([(0.0, [600, 0, 0, 0, 0, 1])], width_s=120.0)
    assert wide["tokens_per_min"] == [0.0, 300.0]  # a bucket wider than a minute: its own width


@pytest.mark.parametrize(
    "value, text", [(0, "0"), (999, "999"), (1_234, "1.2K"), (20_000_000, "20M"), (3_400_000_000, "3.4B")]
)
def test_short_token_counts(value, text):
    assert fmt.tokens_short(value) == text


def test_money_durations_and_counts_read_with_units_and_separators():
    assert fmt.tokens(1_234_567) == "1,234,567"
    assert fmt.usd(1234.5) == "$1,234.50" and fmt.usd(0.0042) == "$0.0042" and fmt.usd(-2) == "-$2.00"
    assert fmt.usd(None) == "unknown"
    assert [fmt.duration(s) for s in (45, 750, 3 * 3600 + 300, 50 * 3600)] == ["45s", "12m 30s", "3h 05m", "2d 2h"]
    assert fmt.axis_ticks(69_000_000)[:3] == (("0", 0.0), ("20M", 2e7), ("40M", 4e7))
