"""The durable history: sessions outlive their logs, a re-import changes nothing, and a
locked, corrupt or newer database is a notice, never a crash."""

from __future__ import annotations

import sqlite3

import pytest

from session_insights.events import Rating, SessionMark, TicketUpdate, usage_event
from session_insights.history import TokenHistory
from session_insights.store import SCHEMA_VERSION, SessionStore, history_path_for

T0 = 1_763_000_000.0


def history_of(sessions: dict[str, int], ended: bool = False) -> TokenHistory:
    """One request of ``tokens`` input per session (plus 10 output), a rating when ended."""
    h = TokenHistory()
    for i, (session, tokens) in enumerate(sessions.items()):
        ts = T0 + i * 3_600
        h.add(SessionMark(ts, session, "start", "shop", "audit"))
        h.add(
            usage_event(
                model="gpt-4o",
                input_tokens=tokens,
                output_tokens=10,
                ts=ts + 60,
                session=session,
                source="audit",
                request_key=f"{session}-r1",
            )
        )
        if ended:
            h.add(SessionMark(ts + 600, session, "end", "shop", "audit"))
            h.add(TicketUpdate(ts + 600, f"shop/{session}", "completed", "shop", None, session))
            h.add(Rating(ts + 600, 7.0, session))
    h.drain()
    return h


def stored(path) -> list[dict]:
    store = SessionStore(path)
    try:
        return store.sessions()
    finally:
        store.close()


def table(path, name: str) -> list[tuple]:
    with sqlite3.connect(path) as db:
        return db.execute(f"SELECT * FROM {name} ORDER BY 1, 2, 3").fetchall()


def test_the_history_file_sits_beside_its_state_file_named_after_it(tmp_path):
    assert history_path_for(tmp_path / "state.toml") == tmp_path / "state.history.sqlite"
    assert history_path_for(tmp_path / "state.demo.toml") == tmp_path / "state.demo.history.sqlite"


def test_sessions_outlive_the_history_that_wrote_them(tmp_path):
    path = tmp_path / "h.sqlite"
    h = history_of({"a": 1_000, "b": 2_000}, ended=True)
    store = SessionStore(path)
    assert store.write(h.session_rows()) == 2
    store.close()
    rows = {r["session"]: r for r in stored(path)}
    live = {r["session"]: r for r in h.session_rows()}
    assert rows == live  # every figure, model mix and per-day spend, as the history had it
    assert rows["a"]["state"] == "ended" and rows["a"]["ratings"] == 1 and rows["a"]["tickets_completed"] == 1
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert db.execute(
            "SELECT day, model, SUM(requests), SUM(tokens) FROM session_days GROUP BY day, model"
        ).fetchall() == [(int(T0 // 86_400), "gpt-4o", 2, 3_020)]


def test_writing_the_same_sessions_again_changes_nothing(tmp_path):
    path = tmp_path / "h.sqlite"
    store = SessionStore(path)
    store.write(history_of({"a": 1_000, "b": 2_000}).session_rows(), now_ts=T0)
    before = [table(path, t) for t in ("sessions", "session_models", "session_days")]
    assert store.version == 1
    store.close()
    # A re-import: a new history over the same logs, a new store over the same file.
    again = SessionStore(path)
    assert again.write(history_of({"a": 1_000, "b": 2_000}).session_rows(), now_ts=T0 + 99) == 0
    assert again.version == 0  # nothing it wrote changed anything
    assert [table(path, t) for t in ("sessions", "session_models", "session_days")] == before


def test_a_fuller_copy_replaces_a_session_and_a_partial_one_never_shrinks_it(tmp_path):
    path = tmp_path / "h.sqlite"
    store = SessionStore(path)
    store.write(history_of({"a": 5_000}).session_rows())
    # Logs partly deleted, imported again: fewer tokens for the same session are ignored.
    assert store.write(history_of({"a": 1_000}).session_rows()) == 0
    assert stored(path)[0]["input_tokens"] == 5_000
    # The session grew: the fuller copy wins.
    assert store.write(history_of({"a": 7_000}).session_rows()) == 1
    assert stored(path)[0]["input_tokens"] == 7_000
    # Ended (settled below its live count) wins over open, whatever its tokens.
    assert store.write(history_of({"a": 6_000}, ended=True).session_rows()) == 1
    row = stored(path)[0]
    assert (row["state"], row["input_tokens"]) == ("ended", 6_000)


def test_an_end_before_the_start_ends_where_the_session_started(tmp_path):
    h = TokenHistory()
    h.add(usage_event(model="gpt-4o", input_tokens=10, output_tokens=1, ts=T0 + 500, session="skewed"))
    h.add(SessionMark(T0, "skewed", "end"))  # another source's clock runs behind
    h.drain()
    (row,) = h.session_rows()
    assert row["first_ts"] == T0  # the mark stretched the session back
    row = dict(row, first_ts=T0 + 500)  # an end strictly before the first activity
    store = SessionStore(tmp_path / "h.sqlite")
    store.write([row])
    assert stored(tmp_path / "h.sqlite")[0]["end_ts"] == T0 + 500


def test_a_locked_database_is_a_notice_and_the_next_write_gets_through(tmp_path):
    path = tmp_path / "h.sqlite"
    store = SessionStore(path)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    assert store.write(history_of({"a": 1_000}).session_rows()) == 0
    assert any("locked" in n for n in store.notices)
    other.execute("ROLLBACK")
    other.close()
    assert store.write(history_of({"a": 1_000}).session_rows()) == 1
    assert path.exists() and not list(tmp_path.glob("*.corrupt-*"))


def test_a_file_that_is_not_a_database_is_moved_aside_and_a_new_one_started(tmp_path):
    path = tmp_path / "h.sqlite"
    path.write_bytes(b"this is not a database, it is a note someone left here\n" * 100)
    store = SessionStore(path)
    assert any("moved it to" in n for n in store.notices)
    (aside,) = tmp_path.glob("h.sqlite.corrupt-*")
    assert aside.read_bytes().startswith(b"this is not a database")
    assert store.write(history_of({"a": 1_000}).session_rows()) == 1
    assert [r["session"] for r in stored(path)] == ["a"]


def test_a_database_from_a_newer_version_is_left_alone(tmp_path):
    path = tmp_path / "h.sqlite"
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    store = SessionStore(path)
    assert store.write(history_of({"a": 1_000}).session_rows()) == 0
    assert store.sessions() == []
    assert any("newer" in n for n in store.notices)
    assert not list(tmp_path.glob("*.corrupt-*"))


def test_an_unwritable_place_is_a_notice(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    store = SessionStore(blocker / "sub" / "h.sqlite")  # a folder cannot be made under a file
    assert store.write(history_of({"a": 1_000}).session_rows()) == 0
    assert store.sessions() == [] and store.notices


def test_an_empty_database_is_migrated_to_the_current_schema(tmp_path):
    path = tmp_path / "h.sqlite"
    sqlite3.connect(path).close()  # version 0: nothing in it
    store = SessionStore(path)
    assert store.sessions() == [] and not store.notices
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        names = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
    assert {"sessions", "session_models", "session_days"} <= names and "day_models" not in names


@pytest.mark.parametrize(
    "since, until, project, expected",
    [
        (None, None, None, ["a", "b", "c"]),
        (T0 + 3_600 + 100, None, None, ["b", "c"]),  # a ended before
        (None, T0 + 3_600, None, ["a"]),  # b starts at the bound: half-open
        (None, None, "blog", ["c"]),
    ],
)
def test_stored_sessions_filter_by_time_and_project(tmp_path, since, until, project, expected):
    h = history_of({"a": 1_000, "b": 2_000}, ended=True)
    h.add(SessionMark(T0 + 7_200, "c", "start", "blog", "audit"))
    h.add(usage_event(model="gpt-4o", input_tokens=5, output_tokens=1, ts=T0 + 7_260, session="c"))
    h.drain()
    store = SessionStore(tmp_path / "h.sqlite")
    store.write(h.session_rows())
    assert [r["session"] for r in store.sessions(since, until, project)] == expected


def test_a_months_long_session_keeps_its_early_days_in_the_store_though_the_history_drops_them(tmp_path):
    from session_insights.history import MAX_DAYS_PER_COMBO

    h = TokenHistory()
    store = SessionStore(tmp_path / "h.sqlite")
    days = MAX_DAYS_PER_COMBO + 8
    for day in range(days):
        h.add(
            usage_event(model="gpt-4o", input_tokens=100 + day, output_tokens=1, ts=T0 + day * 86_400, session="long")
        )
        h.drain()
        store.write(h.session_rows())
    (live,) = h.session_rows()
    assert len(live["days"]) == MAX_DAYS_PER_COMBO  # memory stays bounded
    (row,) = store.sessions()
    assert len(row["days"]) == days  # the store has every day
    assert [d[3] for d in row["days"]] == [101 + day for day in range(days)]
    assert row["total_tokens"] == sum(101 + day for day in range(days))


def test_a_schema_1_history_is_migrated_and_its_model_mix_gains_token_kinds_on_the_next_write(tmp_path):
    from session_insights.store import MIGRATIONS, SESSION_FIELDS

    path = tmp_path / "h.sqlite"
    (row,) = history_of({"a": 1_000}, ended=True).session_rows()
    with sqlite3.connect(path) as db:  # what version 1 wrote: a model mix without token kinds
        db.executescript(MIGRATIONS[0])
        v1_fields = SESSION_FIELDS[: SESSION_FIELDS.index("tool_prompt_tokens")]
        db.execute(
            f"INSERT INTO sessions VALUES ({', '.join('?' * (len(v1_fields) + 3))})",
            (row["source"], row["session"], *(row[f] for f in v1_fields), T0),
        )
        db.execute(
            "INSERT INTO session_models VALUES (?, ?, ?, ?, ?, ?, ?)",
            (row["source"], row["session"], "gpt-4o", 1, 1_010, row["cost_pusd"], 0),
        )
        db.execute("PRAGMA user_version = 1")
    store = SessionStore(path)
    (old,) = store.sessions()
    assert old["models"]["gpt-4o"]["total_tokens"] == 1_010 and old["models"]["gpt-4o"]["input_tokens"] is None
    assert old["requests"] == 1 and old["state"] == "ended"  # the rest of the row as it was
    assert old["tool_prompt_tokens"] == 0  # none counted apart before schema 2
    version = store.version
    assert store.write([row]) == 1, "the same copy, written again, fills the token kinds"
    assert store.version == version + 1
    (new,) = store.sessions()
    assert new["models"]["gpt-4o"] == {
        "requests": 1,
        "total_tokens": 1_010,
        "cost_pusd": row["cost_pusd"],
        "unpriced_requests": 0,
        "input_tokens": 1_000,
        "output_tokens": 10,
        "cache_read_tokens": 0,
        "cache_write_tokens": 0,
        "reasoning_tokens": 0,
    }
    assert store.write([row]) == 0  # and then it is as full as it gets
    store.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4


def test_a_sessions_tool_use_prompt_is_kept_and_a_copy_that_counts_it_apart_replaces_one_that_did_not(tmp_path):
    h = TokenHistory()
    h.add(
        usage_event(
            model="gemini-2.5-flash",
            input_tokens=1_000,
            output_tokens=10,
            tool_prompt_tokens=250,
            ts=T0,
            session="g",
            source="gemini",
            request_key="m1",
        )
    )
    h.drain()
    (row,) = h.session_rows()
    store = SessionStore(tmp_path / "h.sqlite")
    assert store.write([{**row, "tool_prompt_tokens": 0}]) == 1  # as read before it was counted apart
    assert store.write([row]) == 1
    assert store.sessions()[0]["tool_prompt_tokens"] == 250
    assert store.write([{**row, "tool_prompt_tokens": 0}]) == 0  # never back to the lesser copy
    assert stored(tmp_path / "h.sqlite")[0] == row
