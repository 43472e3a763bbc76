"""The panel's cross-session pieces that need no window: one past session as a
snapshot, the Sessions table's sorting and texts, the stacked charts' arithmetic, Cost
by Tool's rows, when the durable history is re-read, and the app's saver writing it."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from session_insights import TokenHistory, across
from session_insights.across_view import (
    CATEGORY_SESSIONS,
    AcrossLoader,
    build_across_view,
    past_session_notes,
    sort_order,
)
from session_insights.events import SessionMark, TicketUpdate, usage_event
from session_insights.metrics import summary_text
from session_insights.store import SessionStore
from session_insights.ui.categories import stacked_ends
from session_insights.ui.usage_over_time import stacked_heights
from session_insights.views import session_cells, short_session, tool_cost_rows
from session_insights.workers import Saver

START_TS = 1_763_251_200.0 + 10 * 3600  # 2025-11-16 10:00 UTC


def one_session(
    history: TokenHistory | None = None,
    session: str = "s-1",
    start: float = START_TS,
    requests: int = 3,
    tickets: int = 2,
    score: float | None = 6.0,
    end: bool = True,
) -> TokenHistory:
    """``requests`` requests of 10,000 input + 2,000 output tokens to claude-sonnet-4-5
    ($0.03 + $0.03 = $0.06 each) and one of 5,000 + 1,000 to a model with no known price."""
    history = history or TokenHistory()
    history.add(SessionMark(start, session, "start", "web", "claude"))
    for r in range(requests):
        history.add(
            usage_event(
                model="claude-sonnet-4-5",
                input_tokens=10_000,
                output_tokens=2_000,
                ts=start + 60 * (r + 1),
                session=session,
                source="claude",
            )
        )
    history.add(
        usage_event(
            model="acme-local-coder-7b",
            input_tokens=5_000,
            output_tokens=1_000,
            ts=start + 30,
            session=session,
            source="claude",
        )
    )
    for t in range(tickets):
        history.add(TicketUpdate(start + 300 + t, f"{session}-T{t}", "completed", session=session))
    if score is not None:
        history.rate(score, ts=start + 400, session=session)
    if end:
        history.add(SessionMark(start + 1800, session, "end"))
    history.drain()
    return history


def test_a_past_session_becomes_a_snapshot_of_what_its_row_keeps():
    row = one_session().session_rows()[0]
    snap = across.session_snapshot(row)
    t = snap["totals"]
    assert (t["requests"], t["total_tokens"], t["input_tokens"], t["output_tokens"]) == (4, 42_000, 35_000, 7_000)
    assert t["cost_usd"] == pytest.approx(0.18)
    assert list(snap["by_model"]) == ["claude-sonnet-4-5", "acme-local-coder-7b"]  # costliest first
    sonnet, local = snap["by_model"].values()
    assert sonnet["requests"] == 3 and sonnet["cost_usd"] == pytest.approx(0.18)
    assert (sonnet["input_tokens"], sonnet["output_tokens"], local["input_tokens"], local["output_tokens"]) == (
        30_000,
        6_000,
        5_000,
        1_000,
    )
    assert local["cost_usd"] is None, "unpriced, never $0"
    assert sonnet["share_pct"] == 100.0 and local["share_pct"] is None  # the priced cost is all sonnet's
    assert snap["unpriced_models"] == ["acme-local-coder-7b"]
    e = snap["efficiency"]
    assert e["tokens_per_completed_ticket"] == 21_000  # 42,000 tokens / 2 tickets
    assert e["cost_per_completed_ticket_usd"] == pytest.approx(0.09)
    assert e["tokens_per_satisfaction_point"] == 7_000  # 42,000 / 6
    assert snap["session"] == {"first_ts": START_TS, "last_ts": START_TS + 1800}
    assert snap["burn_rate"]["session"]["tokens_per_min"] == pytest.approx(42_000 / 30)  # over its 30 minutes
    assert snap["tools"] == {} and snap["by_tier"] == {} and snap["tickets"]["total"] == 0
    # A model mix stored before the durable history kept token kinds shows them unknown.
    row["models"] = {
        model: {k: v for k, v in m.items() if not k.endswith("_tokens") or k == "total_tokens"}
        for model, m in row["models"].items()
    }
    old = across.session_snapshot(row)["by_model"]["claude-sonnet-4-5"]
    assert old["input_tokens"] is None and old["total_tokens"] == 36_000 and old["requests"] == 3
    # The summary text reads it like any snapshot.
    text = summary_text(snap)
    assert "Tokens: 42,000 in 4 requests" in text and "21,000 tokens per completed ticket" in text


def test_headers_with_nothing_kept_say_what_the_session_did_instead():
    notes = past_session_notes(one_session(requests=1, tickets=1).session_rows()[0])
    assert set(notes) == {"timeline", "burn", "tiers", "tools", "tool_cost", "progress"}
    assert all(text.startswith("Not kept for past sessions") for text in notes.values())
    assert "18,000 tokens over 30m 00s" in notes["timeline"]
    assert "1 ticket completed" in notes["progress"]
    assert "0 tool calls (0 failed)" in notes["tools"]


def test_sessions_sort_numbers_as_numbers_text_without_case_and_unknown_last():
    figures = [
        {"session": "b", "project": "Web", "duration_s": 9.0, "cost_usd": None},
        {"session": "a", "project": "api", "duration_s": 3600.0, "cost_usd": 0.5},
        {"session": "c", "project": None, "duration_s": 600.0, "cost_usd": 0.05},
    ]
    assert sort_order(figures, "duration_s", True) == [1, 2, 0]
    assert sort_order(figures, "duration_s", False) == [0, 2, 1]
    assert sort_order(figures, "project", False) == [1, 0, 2]
    assert sort_order(figures, "project", True) == [0, 1, 2]  # None stays last
    assert sort_order(figures, "cost_usd", False) == [2, 1, 0]
    assert sort_order(figures, "cost_usd", True) == [1, 2, 0]


def test_a_sessions_row_reads_with_separators_and_units():
    history = one_session(session="0f6c1a2e-8d4b-4c1e-9a7f-3b2d1c0e9f8a")
    fig = across.session_figures(history.session_rows()[0])
    cells = session_cells(fig)
    assert cells[0] == "0f6c1a2e-8d4…"
    assert cells[1:2] + cells[3:] == ["web", "30m 00s", "4", "42,000", "$0.18 (+1 unpriced)", "$0.09", "6.0/10"]
    assert short_session("short") == "short"
    open_fig = across.session_figures(one_session(end=False, score=None, tickets=0).session_rows()[0])
    assert session_cells(open_fig)[0] == "s-1 (open)" and session_cells(open_fig)[7:] == ["—", "—"]


def test_stacked_charts_put_each_part_on_the_ones_before_it():
    periods = [
        {"models": {"a": {"tokens": 5, "cost_usd": 0.5}, "b": {"tokens": 7, "cost_usd": None}}},
        {"models": {"b": {"tokens": 3, "cost_usd": 0.25}}},
        {"models": {}},
    ]
    assert stacked_heights(periods, ["a", "b"], "tokens") == [[5.0, 0.0, 0.0], [12.0, 3.0, 0.0]]
    assert stacked_heights(periods, ["a", "b"], "cost_usd") == [[0.5, 0.0, 0.0], [0.5, 0.25, 0.0]]
    cats = [{"input": 1, "tool-use prompt": 6, "cache read": 2, "cache write": 3, "output": 4, "reasoning": 5}]
    assert stacked_ends(cats) == [[1.0], [7.0], [9.0], [12.0], [16.0], [21.0]]


def test_cost_by_tool_rows_costliest_first_with_dashes_where_unknown():
    tools = {
        "Read": {"calls": 9, "turns": 2, "turn_tokens": 30_000, "turn_cost_usd": 0.12},
        "Bash": {"calls": 4, "turns": 3, "turn_tokens": 50_000, "turn_cost_usd": 0.4},
        "Local": {"calls": 1, "turns": 1, "turn_tokens": 6_000, "turn_cost_usd": None},
        "Grep": {"calls": 5, "turns": 0, "turn_tokens": None, "turn_cost_usd": None},
        "Old": {"calls": 2},  # figures not known for it at all
    }
    assert tool_cost_rows(tools) == [
        ["Bash", "4", "3", "50,000", "$0.40"],
        ["Read", "9", "2", "30,000", "$0.12"],
        ["Local", "1", "1", "6,000", "unpriced"],
        ["Grep", "5", "0", "—", "—"],
        ["Old", "2", "—", "—", "—"],
    ]


def test_token_categories_show_the_latest_sessions_with_tokens_and_count_the_rest():
    history = TokenHistory()
    for k in range(CATEGORY_SESSIONS + 3):
        one_session(history, session=f"s{k:02d}", start=START_TS + k * 86_400)
    history.rate(5.0, ts=START_TS, session="rated-only")  # no tokens: in no bar
    history.drain()
    view = build_across_view(across.merge([], history.session_rows()))
    assert [fig["session"] for fig, _ in view.categories] == [f"s{k:02d}" for k in range(14, 2, -1)]
    assert view.categories_hidden == 3
    assert view.total_categories["input"] == 15 * 35_000


class FakeStore:
    """A store whose version and reads the test controls."""

    def __init__(self):
        self.version = 0
        self.reads = 0
        self.notices: list[str] = []
        self.rows: list[dict] = []

    def sessions(self):
        self.reads += 1
        return self.rows


def test_sessions_are_reread_when_something_changed_and_at_most_every_interval():
    history = one_session()
    store = FakeStore()
    loader = AcrossLoader(history, store, interval_s=2.0, store_interval_s=30.0)
    loader.poll(now=100.0)
    assert loader.wait(10.0) and store.reads == 1
    assert [row["session"] for row in loader.view.rows] == ["s-1"]
    first = loader.view
    loader.poll(now=103.0)  # nothing changed
    loader.wait(10.0)
    assert store.reads == 1 and loader.view is first
    history.rate(7.0, ts=START_TS + 500, session="s-1")
    history.drain()
    loader.poll(now=103.5)  # the live history changed: its sessions are read again, the stored ones kept
    assert loader.wait(10.0) and loader.view is not first
    assert store.reads == 1 and loader.view.rows[0]["ratings"] == 2
    second = loader.view
    history.rate(8.0, ts=START_TS + 600, session="s-1")
    history.drain()
    loader.poll(now=104.0)  # changed, but only 0.5 s after the last reading
    loader.wait(10.0)
    assert loader.view is second
    store.version += 1  # the store changed (this panel's saver, most of the time)
    loader.poll(now=110.0)
    loader.wait(10.0)
    assert store.reads == 1, "read again only 30 s after the last time"
    assert loader.view.rows[0]["ratings"] == 3
    loader.poll(now=130.5)
    loader.wait(10.0)
    assert store.reads == 2
    loader.poll(now=140.0)  # read, and nothing changed since
    loader.wait(10.0)
    assert store.reads == 2
    loader.close()


def test_figures_of_stored_sessions_are_computed_once_across_readings():
    stored_rows = one_session(session="older", start=START_TS - 86_400).session_rows()
    store = FakeStore()
    store.rows = stored_rows
    history = one_session(session="live", end=False)
    loader = AcrossLoader(history, store, interval_s=0.0)
    first = loader.load_now()
    history.rate(9.0, ts=START_TS + 500, session="live")
    history.drain()
    loader.poll(now=1.0)
    loader.wait(10.0)
    second = loader.view
    assert second.figures[0] is first.figures[0], "the stored session's figures are reused"
    assert second.figures[1] is not first.figures[1] and second.figures[1]["ratings"] == 2
    loader.close()


def test_stored_sessions_join_the_live_ones_the_fuller_copy_winning():
    live = one_session(session="live", end=False, score=None)
    older = one_session(session="older", start=START_TS - 86_400)
    store = FakeStore()
    store.rows = older.session_rows() + [dict(live.session_rows()[0], requests=1, total_tokens=1)]
    loader = AcrossLoader(live, store)
    view = loader.load_now()
    assert view.keys == [("claude", "older"), ("claude", "live")]
    assert view.row_for(("claude", "live"))["total_tokens"] == 42_000  # the live copy is fuller
    assert view.stored and view.order(("start_ts", True)) == [1, 0]


def test_a_reading_that_fails_is_a_notice_and_the_last_figures_stay():
    history = one_session()
    store = FakeStore()
    loader = AcrossLoader(history, store)
    first = loader.load_now()
    store.rows = [{"source": "x"}]  # a row missing every figure
    store.version += 1
    loader.load_now()
    assert loader.view is first and "could not read the sessions" in loader.error


def test_the_saver_writes_sessions_to_the_durable_history_and_closes_it(tmp_path):
    history = one_session(end=False)
    store = SessionStore(tmp_path / "state.history.sqlite")
    saver = Saver(history, store)
    saver.write_sessions()
    version = store.version
    saver.write_sessions()  # nothing changed since: nothing written
    assert store.version == version == 1
    history.add(SessionMark(START_TS + 1800, "s-1", "end"))
    history.drain()
    saver.close()
    with sqlite3.connect(tmp_path / "state.history.sqlite") as db:
        assert db.execute("SELECT session, state, requests FROM sessions").fetchall() == [("s-1", "ended", 4)]


def test_a_store_that_fails_in_an_unexpected_way_is_a_notice_never_a_dead_saver():
    class Broken(FakeStore):
        def write(self, rows):
            raise RuntimeError("disk on fire")

        def close(self):
            pass

    history = one_session()
    saver = Saver(history, Broken())
    saver.write_sessions()
    assert any("disk on fire" in notice for notice in history.notices)
    history.rate(3.0, ts=START_TS, session="s-1")
    history.drain()
    saver.write_sessions()  # tried again at the next change
    saver.close()


def test_a_corrupt_durable_history_is_moved_aside_and_the_saver_carries_on(tmp_path):
    path = tmp_path / "state.history.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    store = SessionStore(path)
    saver = Saver(one_session(), store)
    saver.write_sessions()
    assert store.notices and "moved" in store.notices[0]
    assert [row["session"] for row in store.sessions()] == ["s-1"]
    saver.close()


def test_the_loader_thread_reads_off_the_callers_thread():
    history = one_session()
    seen: list[str] = []

    class Watching(FakeStore):
        def sessions(self):
            seen.append(threading.current_thread().name)
            return []

    loader = AcrossLoader(history, Watching())
    loader.poll(now=0.0)
    assert loader.wait(10.0)
    assert seen == ["session-insights-across"]
    loader.close()
