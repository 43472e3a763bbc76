"""What the panel's top bar and charts say for a scope, with no window: the scope bar's
texts (ui/scope_bar.py) name the scope, and the timeline breaks its lines across idle
gaps (drawn.timeline_view)."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from session_insights import drawn, metrics, views
from session_insights import formatting as fmt
from session_insights.scope import UNNAMED, Scope
from session_insights.ui import scope_bar

# --- what the top bar and the headers' titles say ----------------------------------------

RECENT = {
    "scope": Scope.of_session("7ec3a7e0-2000-4000-8000-000000000002"),
    "session": "7ec3a7e0-2000-4000-8000-000000000002",
    "project": "web",
    "source": "codex",
    "first_ts": 1_764_157_600.0,
    "last_ts": 1_764_157_720.0,
}
OLD = {
    "scope": Scope.of_session("0a1d5e55-1000-4000-8000-000000000001"),
    "session": "0a1d5e55-1000-4000-8000-000000000001",
    "project": None,
    "source": "claude",
    "first_ts": 1_763_900_000.0,
    "last_ts": 1_763_900_180.0,
}


def unresolved(kind: str, **known: object) -> dict:
    """A snapshot's ``scope`` of ``kind``: None but what is ``known``."""
    info = {"kind": kind, "session": None, "project": None, "source": None, "start_ts": None, "end_ts": None}
    return {**info, "active_s": None, **known}


def test_the_combo_offers_the_kinds_then_the_recent_sessions_by_project_source_short_id_and_start():
    labels = list(scope_bar.choice_scopes([RECENT, OLD]))
    assert labels == [
        "Active session",
        "This 5-hour block",
        "Today",
        "Last 7 days",
        "All sessions",
        f"web · codex · 7ec3a7e0 · {fmt.clock(RECENT['first_ts'])}",
        f"no project · claude · 0a1d5e55 · {fmt.clock(OLD['first_ts'])}",
    ]
    scopes = scope_bar.choice_scopes([RECENT, OLD])
    assert scopes["Today"] == Scope("today") and scopes[labels[5]] == RECENT["scope"]


def test_two_sessions_that_would_read_alike_are_told_apart_by_their_whole_id():
    twin = {**RECENT, "session": "7ec3a7e0-ffff", "scope": Scope.of_session("7ec3a7e0-ffff")}
    scopes = scope_bar.choice_scopes([RECENT, twin])
    assert len(scopes) == 7
    assert list(scopes)[-1].endswith(" · 7ec3a7e0-ffff") and scopes[list(scopes)[-1]] == twin["scope"]


def test_active_and_a_pinned_session_are_named_by_their_session_in_the_summarys_words():
    active = unresolved("active", session=RECENT["session"], project="web", source="codex", active_s=125.0)
    active["start_ts"] = RECENT["first_ts"]
    assert scope_bar.scope_name(active) == "active session 7ec3a7e0"
    # The bar says what the summary and report say of the scope (views.scope_label).
    assert scope_bar.scope_text(active) == views.scope_label(active)
    assert scope_bar.scope_text(active) == (
        f"Active session: web · codex · 7ec3a7e0, started {fmt.clock(RECENT['first_ts'])}, active 2m 05s"
    )
    pinned = {**active, "kind": "session"}
    assert scope_bar.scope_name(pinned) == "session 7ec3a7e0"
    assert scope_bar.scope_text(pinned).startswith("Session: web · codex · 7ec3a7e0, started ")
    assert scope_bar.scope_name(unresolved("active")) == "active session"
    # A host's hooks that name no session: the name is not an id to cut ("(no sess").
    assert scope_bar.scope_name(unresolved("active", session=UNNAMED)) == "active session (no session)"


def test_a_span_of_time_is_named_in_the_headers_titles_by_its_kind():
    assert [scope_bar.scope_name(unresolved(k)) for k in ("block", "today", "week", "all")] == [
        "this 5-hour block",
        "today",
        "last 7 days",
        "all sessions",
    ]
    today = unresolved("today", start_ts=1_764_115_200.0, end_ts=None, active_s=3_900.0)
    assert scope_bar.scope_text(today) == f"Today: from {fmt.clock(1_764_115_200.0)}, active 1h 05m"


def test_a_session_of_the_durable_history_says_its_active_time_is_not_kept():
    row = {"session": "5703ed00-3000", "project": "docs", "source": "gemini", "first_ts": 1_763_640_800.0}
    info = scope_bar.past_scope({**row, "last_ts": 1_763_640_860.0, "end_ts": None})
    assert info["end_ts"] == 1_763_640_860.0 and info["kind"] == "session"
    assert scope_bar.scope_name(info) == "session 5703ed00"
    assert scope_bar.scope_text(info) == (
        f"Session: docs · gemini · 5703ed00, started {fmt.clock(1_763_640_800.0)}, active time not kept"
    )


def test_a_control_character_in_a_project_read_from_a_log_shows_as_its_escape():
    odd = {**RECENT, "project": "web\x1b[31m"}
    label = list(scope_bar.choice_scopes([odd]))[-1]
    assert "\x1b" not in label and label.startswith("web\\x1b[31m · codex")
    info = unresolved("active", session=odd["session"], project=odd["project"], source="codex")
    assert "\x1b" not in scope_bar.scope_text(info)


# --- the timeline breaks its lines across idle gaps -------------------------------------

DAY_S = 86_400.0
CUMULATIVE = ("input", "output", "cache_read", "total")


def stretch(start_ts: float, n: int, tokens: tuple[int, int, int, int] = (10, 2, 3, 1)) -> list:
    """``n`` one-second buckets from ``start_ts``, each of input, output, cache read, cache write."""
    return [(start_ts + i, [*tokens, 0, 1]) for i in range(n)]


def breaks_in(values: list[float]) -> list[int]:
    return [i for i, v in enumerate(values) if math.isnan(v)]


def drawn_segments(xs: list[float], ys: list[float]) -> list[tuple[float, float]]:
    """The x spans of the straight lines ImPlot draws: between neighbours, neither NaN."""
    return [(xs[i], xs[i + 1]) for i in range(len(xs) - 1) if not math.isnan(ys[i]) and not math.isnan(ys[i + 1])]


def test_timeline_lines_break_across_a_gap_of_days_and_resume_flat_where_activity_resumes():
    buckets = stretch(0.0, 10) + stretch(9 * DAY_S, 5)
    view = drawn.timeline_view(buckets, width_s=1.0)
    for key in CUMULATIVE:
        assert len(breaks_in(view[key])) == 1, key
    gap = breaks_in(view["total"])[0]
    # The first stretch ends at its last bucket's end with 10 x 16 tokens; the line
    # resumes at the second stretch's first bucket with the same total, then climbs.
    assert view["x"][gap - 1 : gap + 2] == [10.0, 10.0, 9 * DAY_S]
    assert view["total"][gap - 1] == view["total"][gap + 1] == 160.0
    assert view["total"][-1] == 15 * 16 and view["x"][-1] == 9 * DAY_S + 5
    assert all((b - a) < DAY_S for a, b in drawn_segments(view["x"], view["total"]))


def test_timeline_rate_drops_to_zero_once_its_trailing_minute_empties_then_breaks():
    buckets = stretch(0.0, 10) + stretch(2 * DAY_S, 3)
    view = drawn.timeline_view(buckets, width_s=1.0)
    xs, rate = view["rate_x"], view["tokens_per_min"]
    gap = breaks_in(rate)
    assert len(gap) == 1
    i = gap[0]
    # 16 tokens a second for 10 s: 160 in the trailing minute at 10 s; empty at 10 + 60 s.
    assert (xs[i - 2], rate[i - 2]) == (10.0, 160.0)
    assert (xs[i - 1], rate[i - 1]) == (70.0, 0.0)
    # It rises from zero where activity resumes, as where the first bucket starts.
    assert (xs[i + 1], rate[i + 1]) == (2 * DAY_S, 0.0) and (xs[0], rate[0]) == (0.0, 0.0)
    assert xs[i + 2] == 2 * DAY_S + 1 and rate[i + 2] == 16.0
    assert all((b - a) < DAY_S for a, b in drawn_segments(xs, rate))


def test_a_gap_under_five_minutes_joins_and_one_of_five_minutes_breaks():
    # Between a bucket's end and the next one's start: 299 s joins, 300 s breaks.
    joined = drawn.timeline_view(stretch(0.0, 2) + stretch(2 + 299.0, 2), width_s=1.0)
    broken = drawn.timeline_view(stretch(0.0, 2) + stretch(2 + 300.0, 2), width_s=1.0)
    assert not breaks_in(joined["total"]) and not breaks_in(joined["tokens_per_min"])
    assert len(breaks_in(broken["total"])) == 1 and len(breaks_in(broken["tokens_per_min"])) == 1


def test_the_idle_gap_is_a_parameter():
    buckets = stretch(0.0, 2) + stretch(2 + 200.0, 2)
    assert not breaks_in(drawn.timeline_view(buckets, width_s=1.0)["total"])
    view = drawn.timeline_view(buckets, width_s=1.0, idle_gap_s=120.0)
    assert len(breaks_in(view["total"])) == 1
    # A gap shorter than the rate's trailing minute: the rate drops to zero where the next
    # bucket starts, never past it.
    short = drawn.timeline_view(stretch(0.0, 2) + stretch(2 + 30.0, 2), width_s=1.0, idle_gap_s=20.0)
    assert short["rate_x"] == sorted(short["rate_x"])


def test_coarse_buckets_break_where_a_whole_bucket_is_empty():
    # 15-minute buckets (a long history coarsens): an empty bucket between two is idle.
    width = 900.0
    buckets = [(0.0, [100, 0, 0, 0, 0, 1]), (900.0, [100, 0, 0, 0, 0, 1]), (2700.0, [100, 0, 0, 0, 0, 1])]
    view = drawn.timeline_view(buckets, width_s=width)
    assert len(breaks_in(view["total"])) == 1
    assert view["x"][breaks_in(view["total"])[0] + 1] == 2700.0


def test_a_history_of_many_gaps_stays_within_max_points_breaking_at_the_widest():
    buckets = []
    for k in range(300):  # 300 stretches of 3 buckets, the gaps growing
        buckets += stretch(k * 10_000.0 + k * k, 3)
    view = drawn.timeline_view(buckets, width_s=1.0, max_points=128)
    for key in (*CUMULATIVE, "tokens_per_min"):
        assert len(view[key]) <= 128, key
    assert len(view["x"]) == len(view["total"]) and len(view["rate_x"]) == len(view["tokens_per_min"])
    assert len(breaks_in(view["total"])) == 128 // 8
    # The widest gaps are the last ones: the lines break there.
    last_break = breaks_in(view["total"])[-1]
    assert view["x"][last_break + 1] == buckets[-3][0]
    assert view["total"][-1] == 300 * 3 * 16


def test_without_gaps_the_view_is_as_before():
    view = drawn.timeline_view(stretch(0.0, 10), width_s=1.0, max_points=4)
    assert view["x"][0] == 0.0 and view["total"][0] == 0.0
    assert view["x"][-1] == 10.0 and view["total"][-1] == 160.0
    assert not breaks_in(view["total"]) and len(view["x"]) <= 5


@settings(max_examples=200, deadline=None)
@given(
    gaps=st.lists(st.floats(min_value=0.0, max_value=5 * DAY_S), min_size=1, max_size=40),
    width=st.sampled_from([1.0, 8.0, 64.0, 512.0]),
    max_points=st.integers(min_value=16, max_value=600),
)
def test_no_drawn_line_crosses_an_idle_gap_and_the_totals_hold(gaps, width, max_points):
    buckets, start = [], 0.0
    for gap in gaps:
        start = math.floor((start + gap) / width) * width + width  # aligned, after the last one
        buckets.append((start, [7, 1, 2, 0, 0, 1]))
    view = drawn.timeline_view(buckets, width_s=width, max_points=max_points)
    idle = [
        (buckets[i][0] + width, buckets[i + 1][0])
        for i in range(len(buckets) - 1)
        if buckets[i + 1][0] - buckets[i][0] - width >= metrics.IDLE_GAP_S
    ]
    kept = len(breaks_in(view["total"]))
    assert kept == min(len(idle), max_points // 8)
    if kept == len(idle):
        for a, b in drawn_segments(view["x"], view["total"]) + drawn_segments(view["rate_x"], view["tokens_per_min"]):
            assert not any(a < lo and b > hi for lo, hi in idle) and not any(lo < a < hi for lo, hi in idle)
    assert view["total"][-1] == 10 * len(buckets)
    finite = [x for x, y in zip(view["x"], view["total"], strict=True) if not math.isnan(y)]
    assert finite == sorted(finite) and view["rate_x"] == sorted(view["rate_x"])
    for key in (*CUMULATIVE, "tokens_per_min"):
        assert len(view[key]) <= max_points


def test_the_panel_draws_its_series_as_python_floats():
    view = drawn.timeline_view(stretch(1_763_900_000.0, 3) + stretch(1_763_990_000.0, 3), width_s=1.0)
    assert all(type(v) is float for key in view for v in view[key])


def test_a_hosts_requests_with_no_session_id_are_named_so_not_by_a_cut_marker():
    from session_insights.history import TokenHistory

    h = TokenHistory()
    h.record_usage("gpt-4o", 100, 10, ts=1_763_900_000.0)  # a host's hook: no session
    h.drain()
    scope = h.snapshot(scope=Scope("active"))["scope"]
    assert views.scope_label(scope).startswith("Active session: requests with no session id, started ")
    [choice] = h.scope_choices()
    label = scope_bar.session_label(choice["session"], choice["project"], choice["source"], choice["first_ts"])
    assert label.startswith("requests with no session id · ")
