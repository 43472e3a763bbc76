"""Figures as people read them: a count's noun, a tool's time in the unit that reads
best, an efficiency verdict that says which way and by how much."""

from __future__ import annotations

from session_insights import efficiency_words, views


def test_a_count_says_its_noun_in_the_singular_for_one():
    assert [views.count(n, "ticket") for n in (0, 1, 2, 1_204)] == [
        "0 tickets",
        "1 ticket",
        "2 tickets",
        "1,204 tickets",
    ]


def test_a_tool_time_is_written_in_the_unit_that_reads_best():
    assert [views.tool_time(ms) for ms in (None, 57, 999, 1_000, 37_667, 60_000, 793_000)] == [
        "—",
        "57 ms",
        "999 ms",
        "1.0 s",
        "37.7 s",
        "1m 00s",
        "13m 13s",
    ]


def over(verdict: str, change_pct: float) -> dict:
    return {
        "verdict": verdict,
        "change_pct": change_pct,
        "interval": "daily",
        "measure": "tokens_per_satisfaction_point",
        "points_per_1k_tokens": None,
        "overall_score": None,
    }


def test_a_decline_says_how_many_more_tokens_per_point_never_a_negative_gain():
    text = efficiency_words.verdict_text(over("DECLINED", -64.4))
    assert text.startswith("DECLINED: 64% more tokens per satisfaction point, first to last daily interval")
    assert "-" not in text.split("(")[0]


def test_an_improvement_says_how_many_fewer():
    assert efficiency_words.verdict_text(over("IMPROVED", 38.2)).startswith(
        "IMPROVED: 38% fewer tokens per satisfaction point"
    )


def test_a_bars_label_names_its_units_and_a_satisfaction_is_out_of_ten():
    bucket = {"score": 2_336_848.2, "avg_tokens": 15_578_988.0, "avg_satisfaction": 6.67, "tokens": 1, "completed": 0}
    label = efficiency_words.bucket_label(bucket, "tokens_per_satisfaction_point")
    assert label == "2,336,848 tokens/point (15.6M tokens avg, 6.7/10 satisfaction)"
    one = {"score": 790_700.0, "tokens": 790_700, "completed": 1}
    assert efficiency_words.bucket_label(one, "tokens_per_completed_ticket") == (
        "790,700 tokens/ticket (790.7K tokens, 1 ticket)"
    )


def test_an_overall_rate_of_points_is_per_1m_tokens_where_per_1k_would_read_zero():
    assert efficiency_words.points_rate(0.778) == "0.778 satisfaction points per 1K tokens"
    assert efficiency_words.points_rate(0.00043) == "0.43 satisfaction points per 1M tokens"
