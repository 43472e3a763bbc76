"""Scopes (DESIGN §3b): every figure is computed for the scope asked for, from what the
history keeps; ``all`` is the sum of the session scopes, whatever the order of records."""

from __future__ import annotations

import os
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from session_insights import scope as scopes
from session_insights.events import Rating, SessionMark, TicketUpdate, ToolCall, usage_event
from session_insights.history import MAX_DETAILED, MAX_SESSIONS, TokenHistory
from session_insights.scope import Scope, UnknownSession

DAY_S = 86_400
HOUR_S = 3_600
# Monday 2025-11-24 09:00 UTC, in a zone fixed by the tz fixture below.
MONDAY_9 = 1_763_974_800.0
FIGURES = ("requests", "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "total_tokens")


@pytest.fixture(autouse=True)
def utc_zone():
    """Local midnight is UTC midnight here, so the time scopes' bounds are known."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if old is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = old
    time.tzset()


def request(h: TokenHistory, ts: float, session: str, tokens: int = 1_000, model: str = "gpt-4o") -> None:
    h.record_usage(model, tokens, tokens // 10, ts=ts, session=session)


def four_sessions_over_nine_days() -> TokenHistory:
    """What a real home folder held: sessions days apart, the last one minutes old."""
    h = TokenHistory()
    for day, name in ((0, "old-1"), (3, "old-2"), (6, "old-3"), (9, "live")):
        start = MONDAY_9 + day * DAY_S
        h.add(SessionMark(start, name, "start", f"proj-{name}", "claude"))
        for minute in range(30):  # a request a minute for half an hour
            request(h, start + minute * 60, name)
    h.drain()
    return h


def test_active_is_the_session_with_the_latest_record_and_its_rate_is_over_its_own_time():
    h = four_sessions_over_nine_days()
    now = MONDAY_9 + 9 * DAY_S + 30 * 60
    snap = h.snapshot(now_ts=now, scope=Scope("active"))
    assert snap["scope"]["kind"] == "active" and snap["scope"]["session"] == "live"
    assert snap["scope"]["project"] == "proj-live" and snap["scope"]["source"] == "claude"
    assert snap["totals"]["requests"] == 30
    assert list(snap["sessions"]) == ["live"]
    # 29 one-minute gaps of activity: 30 x 1,100 tokens over 29 minutes, not over nine days.
    assert snap["scope"]["active_s"] == pytest.approx(29 * 60, abs=8)
    assert snap["burn_rate"]["session"]["tokens_per_min"] == pytest.approx(30 * 1_100 / 29, rel=0.01)


def test_all_is_every_session_and_idle_days_do_not_dilute_its_rate():
    h = four_sessions_over_nine_days()
    snap = h.snapshot(scope=Scope("all"))
    assert snap["totals"]["requests"] == 120
    # (active time is measured at each session's timeline resolution: 8 s buckets here)
    assert snap["scope"]["active_s"] == pytest.approx(4 * 29 * 60, abs=4 * 8)
    assert snap["burn_rate"]["session"]["tokens_per_min"] == pytest.approx(120 * 1_100 / (4 * 29), rel=0.01)


def test_the_active_scope_follows_a_newer_session_and_a_session_scope_stays():
    h = four_sessions_over_nine_days()
    pinned = Scope.of_session("live")
    request(h, MONDAY_9 + 10 * DAY_S, "newer")
    h.drain()
    assert h.snapshot(scope=Scope("active"))["scope"]["session"] == "newer"
    assert h.snapshot(scope=pinned)["scope"]["session"] == "live"


def test_a_session_id_may_be_a_unique_prefix_and_an_unknown_one_is_an_error():
    h = four_sessions_over_nine_days()
    assert h.snapshot(scope=Scope.parse("liv"))["scope"]["session"] == "live"
    with pytest.raises(UnknownSession, match="starts 3 sessions"):
        h.snapshot(scope=Scope.parse("old"))
    with pytest.raises(UnknownSession, match="no session 'nope'"):
        h.snapshot(scope=Scope.parse("nope"))


def test_today_and_week_count_the_requests_since_local_midnight_and_six_days_before():
    h = TokenHistory()
    midnight = MONDAY_9 - 9 * HOUR_S + 7 * DAY_S  # the next Monday 00:00
    request(h, midnight - 10 * 60, "late", tokens=1_000)  # 23:50 the evening before
    request(h, midnight + 10 * 60, "late", tokens=2_000)  # 00:10: today
    request(h, midnight - 6 * DAY_S + 60, "early", tokens=4_000)  # in the last 7 days
    request(h, midnight - 6 * DAY_S - 60, "early", tokens=8_000)  # a minute before them
    h.drain()
    now = midnight + 3 * HOUR_S
    today = h.snapshot(now_ts=now, scope=Scope("today"))
    week = h.snapshot(now_ts=now, scope=Scope("week"))
    assert today["totals"]["input_tokens"] == 2_000
    assert today["scope"]["start_ts"] == midnight
    assert week["totals"]["input_tokens"] == 1_000 + 2_000 + 4_000
    assert set(week["sessions"]) == {"late", "early"}
    assert h.snapshot(now_ts=now)["totals"]["input_tokens"] == 15_000


def test_a_block_starts_at_its_first_request_floored_to_the_hour_and_lasts_five_hours():
    h = TokenHistory()
    request(h, MONDAY_9 + 20 * 60, "s", tokens=1_000)  # 09:20: block 09:00-14:00
    request(h, MONDAY_9 + 4 * HOUR_S + 50 * 60, "s", tokens=2_000)  # 13:50, same block
    request(h, MONDAY_9 + 5 * HOUR_S + 10 * 60, "s", tokens=4_000)  # 14:10: block 14:00-19:00
    h.drain()
    at_1355 = h.snapshot(now_ts=MONDAY_9 + 4 * HOUR_S + 55 * 60, scope=Scope("block"))
    assert (at_1355["scope"]["start_ts"], at_1355["scope"]["end_ts"]) == (MONDAY_9, MONDAY_9 + 5 * HOUR_S)
    at_1500 = h.snapshot(now_ts=MONDAY_9 + 6 * HOUR_S, scope=Scope("block"))
    assert at_1500["totals"]["input_tokens"] == 4_000
    assert at_1500["scope"]["start_ts"] == MONDAY_9 + 5 * HOUR_S
    after = h.snapshot(now_ts=MONDAY_9 + 11 * HOUR_S, scope=Scope("block"))
    assert after["totals"]["requests"] == 0  # no block is running


def test_a_block_uses_the_servers_reset_time_where_a_source_gives_one():
    h = TokenHistory()
    request(h, MONDAY_9 + 20 * 60, "s", tokens=1_000)
    request(h, MONDAY_9 + 2 * HOUR_S, "s", tokens=2_000)
    h.drain()
    h.set_rate_limits(
        "codex:x", {"primary": {"used_pct": 9.0, "window_minutes": 300, "resets_at": MONDAY_9 + 6 * HOUR_S}}
    )
    snap = h.snapshot(now_ts=MONDAY_9 + 2 * HOUR_S, scope=Scope("block"))
    assert snap["scope"]["start_ts"] == MONDAY_9 + HOUR_S
    assert snap["totals"]["input_tokens"] == 2_000


def test_a_past_sessions_unfinished_tickets_are_left_open_there_not_in_progress_now():
    h = TokenHistory()
    h.add(TicketUpdate(MONDAY_9, "T-1", "in_progress", None, None, "old"))
    h.add(TicketUpdate(MONDAY_9 + 60, "T-2", "completed", None, None, "old"))
    h.add(TicketUpdate(MONDAY_9 + DAY_S, "T-3", "in_progress", None, None, "new"))
    request(h, MONDAY_9 + 10, "old")
    request(h, MONDAY_9 + DAY_S, "new")
    h.drain()
    everything = h.snapshot()["tickets"]["by_status"]
    assert (everything["in_progress"], everything["left_open"], everything["completed"]) == (1, 1, 1)
    old = h.snapshot(scope=Scope.of_session("old"))
    assert old["tickets"]["by_status"]["left_open"] == 1 and old["tickets"]["by_status"]["in_progress"] == 0
    assert old["projection"]["tickets_left"] == 0
    active = h.snapshot(scope=Scope("active"))["tickets"]["by_status"]
    assert (active["in_progress"], active["left_open"], active["completed"]) == (1, 0, 0)


def test_switching_scope_reads_nothing_again_and_changes_no_total():
    h = four_sessions_over_nine_days()
    before = h.snapshot()
    for kind in ("active", "block", "today", "week", "old-1"):
        h.snapshot(scope=Scope.parse(kind))
        h.timeline(Scope.parse(kind))
    assert h.pending == 0
    assert h.snapshot() == before


def test_a_session_scope_keeps_its_timeline_and_a_time_scope_merges_its_sessions():
    h = four_sessions_over_nine_days()
    _, buckets = h.timeline(Scope.of_session("old-2"))
    assert sum(v[5] for _, v in buckets) == 30
    assert buckets[0][0] >= MONDAY_9 + 3 * DAY_S
    now = MONDAY_9 + 9 * DAY_S + HOUR_S
    _, week = h.timeline(h.resolve(Scope("week"), now))
    assert sum(v[5] for _, v in week) == 90  # from Monday 00:00 of day 3: old-2, old-3 and live


def test_scoped_figures_survive_a_restart(tmp_path):
    path = tmp_path / "state.toml"
    h = TokenHistory(state_path=path)
    for day, name in ((0, "a"), (1, "b")):
        for minute in range(10):
            request(h, MONDAY_9 + day * DAY_S + minute * 60, name)
    h.add(ToolCall(MONDAY_9 + DAY_S, "Bash", 10.0, True, "b"))
    h.drain()
    now = MONDAY_9 + DAY_S + HOUR_S
    scoped = {kind: h.snapshot(now_ts=now, scope=Scope.parse(kind)) for kind in ("active", "today", "a", "all")}
    h.save()
    h.close()
    again = TokenHistory(state_path=path)
    for kind, snap in scoped.items():
        assert again.snapshot(now_ts=now, scope=Scope.parse(kind)) == {**snap, "notices": []}, kind


def test_ten_thousand_sessions_stay_bounded_and_all_stays_exact(tmp_path):
    h = TokenHistory(state_path=tmp_path / "state.toml")
    n = 10_000
    for i in range(n):
        request(h, MONDAY_9 + i * 600, f"session-{i:05d}", tokens=1_000 + i)
        if i % 500 == 0:
            h.drain()
    h.drain()
    assert len(h.sessions.rows) <= MAX_SESSIONS + 1
    assert len(h.usage.details) <= MAX_DETAILED
    snap = h.snapshot()
    assert snap["totals"]["requests"] == n
    assert snap["totals"]["input_tokens"] == sum(1_000 + i for i in range(n))
    assert h.snapshot(scope=Scope("active"))["scope"]["session"] == f"session-{n - 1:05d}"
    assert h.save() <= 256 * 1024


# --- property: all is the sum over the session scopes --------------------------------

SESSIONS = ["s-a", "s-b", "s-c"]
KEY_TS = {"k1": 100, "k2": DAY_S, "k3": 2 * DAY_S}
KEY_SESSION = {"k1": "s-a", "k2": "s-b", "k3": "s-c"}
records = st.lists(
    st.one_of(
        st.builds(
            # The copies of one request (one key) are written at its moment, in its session: a
            # session's span is stretched by every copy and not shrunk when a copy is replaced.
            lambda ts, s, i, o, m, k: usage_event(
                model=m,
                input_tokens=i,
                output_tokens=o,
                ts=MONDAY_9 + KEY_TS.get(k, ts),
                session=KEY_SESSION.get(k, s),
                request_key=k,
            ),
            st.integers(0, 3 * DAY_S),
            st.sampled_from(SESSIONS),
            st.integers(0, 50_000),
            st.integers(0, 5_000),
            st.sampled_from(["gpt-4o", "claude-sonnet-4-5", "acme-local-7b"]),
            st.one_of(st.none(), st.sampled_from(["k1", "k2", "k3"])),
        ),
        st.builds(
            lambda ts, s, ok: ToolCall(MONDAY_9 + ts, "Bash", 5.0, ok, s),
            st.integers(0, 3 * DAY_S),
            st.sampled_from(SESSIONS),
            st.booleans(),
        ),
        st.builds(
            lambda ts, s, t, status: TicketUpdate(MONDAY_9 + ts, t, status, None, None, s),
            st.integers(0, 3 * DAY_S),
            st.sampled_from(SESSIONS),
            st.sampled_from(["T-1", "T-2"]),
            st.sampled_from(["todo", "in_progress", "completed"]),
        ),
        st.builds(
            lambda ts, s, r: Rating(MONDAY_9 + ts, r, s),
            st.integers(0, 3 * DAY_S),
            st.sampled_from(SESSIONS),
            st.integers(0, 10),
        ),
    ),
    max_size=40,
)


@settings(max_examples=80, deadline=None)
@given(records, st.randoms(use_true_random=False))
def test_all_equals_the_sum_of_every_session_scope_for_any_order(recs, rnd):
    shuffled = list(recs)
    rnd.shuffle(shuffled)
    results = []
    for order in (recs, shuffled):
        h = TokenHistory()
        h.add_many(order)
        h.drain()
        now = MONDAY_9 + 4 * DAY_S
        whole = h.snapshot(now_ts=now)
        parts = [h.snapshot(now_ts=now, scope=Scope.of_session(c["session"])) for c in h.scope_choices(100)]
        for name in FIGURES:
            assert whole["totals"][name] == sum(p["totals"][name] for p in parts)
        assert whole["totals"]["cost_usd"] == pytest.approx(sum(p["totals"]["cost_usd"] for p in parts))
        for tool, fig in whole["tools"].items():
            assert fig["calls"] == sum(p["tools"].get(tool, {"calls": 0})["calls"] for p in parts)
        for status, n in whole["tickets"]["by_status"].items():
            assert n == sum(p["tickets"]["by_status"][status] for p in parts), status
        assert whole["efficiency"]["ratings"] == sum(p["efficiency"]["ratings"] for p in parts)
        assert whole["scope"]["active_s"] == pytest.approx(sum(p["scope"]["active_s"] for p in parts))
        results.append({k: whole[k] for k in ("totals", "by_model", "tools", "tickets")})
    assert results[0] == results[1]


def test_scope_parse_names_every_kind_and_takes_anything_else_as_a_session():
    assert [Scope.parse(k).kind for k in scopes.KINDS] == list(scopes.KINDS)
    assert Scope.parse(" 3f2a ") == Scope("session", "3f2a")
    with pytest.raises(ValueError, match=r"active \| block"):
        Scope.parse("  ")


def test_a_hosts_tickets_and_tools_without_a_session_count_in_the_work_of_now():
    # A host's hooks name no session: its tickets and tool calls are about the session
    # being worked, so the active scope and the time scopes have them; a past session
    # chosen by id does not.
    h = four_sessions_over_nine_days()
    h.update_ticket("T-1", "in_progress", ts=MONDAY_9 + 9 * DAY_S)
    h.record_tool_call("Bash", 20.0, ts=MONDAY_9 + 9 * DAY_S)
    h.drain()
    now = MONDAY_9 + 9 * DAY_S + HOUR_S
    for kind in ("active", "today", "all"):
        snap = h.snapshot(now_ts=now, scope=Scope(kind))
        assert snap["tickets"]["by_status"]["in_progress"] == 1, kind
        assert snap["tools"]["Bash"]["calls"] == 1, kind
    past = h.snapshot(now_ts=now, scope=Scope.of_session("old-1"))
    assert past["tickets"]["total"] == 0 and past["tools"] == {}


@settings(max_examples=80, deadline=None)
@given(records)
def test_parts_built_apart_and_merged_equal_one_history_of_every_record(recs):
    # Records of different sessions read apart (as a worker reads its own files), then
    # merged part by part, give the figures of one history that read them all.
    whole, first, second = TokenHistory(), TokenHistory(), TokenHistory()
    whole.add_many(recs)
    first.add_many(r for r in recs if r.session in ("s-a", None))
    second.add_many(r for r in recs if r.session not in ("s-a", None))
    for h in (whole, first, second):
        h.drain()
    first.merge(second)
    now = MONDAY_9 + 4 * DAY_S
    for kind in ("all", "active", "s-b", "week"):
        try:
            expected = whole.snapshot(now_ts=now, scope=Scope.parse(kind))
        except UnknownSession:
            continue
        merged = first.snapshot(now_ts=now, scope=Scope.parse(kind))
        for key in ("totals", "by_model", "by_tier", "tools", "tickets", "sessions", "scope", "efficiency"):
            assert merged[key] == expected[key], (kind, key)


# --- the snapshot memo: brought up to date, never stale --------------------------------


def fresh_snapshot(h: TokenHistory, kind: str, now: float) -> dict:
    """The snapshot computed from scratch, without the sums the history keeps."""
    h.tickets._kept.clear()
    kept, h.memo = h.memo, None
    try:
        return h.snapshot(now_ts=now, scope=Scope.parse(kind))
    finally:
        h.memo = kept


@settings(max_examples=80, deadline=None)
@given(records, st.integers(1, 6))
def test_a_snapshot_kept_up_to_date_equals_one_computed_afresh_after_every_change(recs, chunks):
    # The history keeps each scope's sums and session rows between snapshots and brings
    # them up to date from what changed: after every batch of records (new copies of a
    # request taking the old one back among them), every scope agrees with a snapshot
    # computed from nothing.
    h = TokenHistory()
    now = MONDAY_9 + 4 * DAY_S
    size = max(1, len(recs) // chunks)
    for start in range(0, max(len(recs), 1), size):
        h.add_many(recs[start : start + size])
        h.drain()
        for kind in ("all", "active", "week", "today", "s-a", "s-b"):
            try:
                kept = h.snapshot(now_ts=now, scope=Scope.parse(kind))
            except UnknownSession:
                continue
            assert kept == fresh_snapshot(h, kind, now), kind


def test_the_kept_sums_follow_sessions_folded_into_earlier_sessions():
    # Past MAX_SESSIONS, the least recent sessions fold into one row: their combos go and
    # the folded row's grow. The kept sums of `all` follow, exactly.
    h = TokenHistory()
    for i in range(MAX_SESSIONS + 60):
        request(h, MONDAY_9 + i * 600, f"session-{i:05d}", tokens=1_000 + i)
        if i % 50 == 0:
            h.drain()
            h.snapshot()
    h.drain()
    now = MONDAY_9 + (MAX_SESSIONS + 60) * 600
    for kind in ("all", "active", "week"):
        assert h.snapshot(now_ts=now, scope=Scope.parse(kind)) == fresh_snapshot(h, kind, now), kind
    assert h.snapshot()["totals"]["input_tokens"] == sum(1_000 + i for i in range(MAX_SESSIONS + 60))
