"""The durable history's quarter hours (schema 4): an older database is migrated in
place and read by its days until the logs fill its quarter hours in; quarter hours a
live history let go never replace or double what is stored; figures past 64 bits stay
exact.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from session_insights import across, times
from session_insights.cli import main
from session_insights.history import TokenHistory
from session_insights.store import MIGRATIONS, SCHEMA_VERSION, SESSION_FIELDS, SessionStore

DAY_S = 86_400
SEP_1 = 1_756_684_800  # 2025-09-01 00:00 UTC
SONNET = "claude-sonnet-4-5"


@pytest.fixture(autouse=True)
def _own_state(tmp_path: Path, monkeypatch):
    """A state of its own; and the time rule put back after a report run with --utc."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SESSION_INSIGHTS_STATE", str(tmp_path / "state.toml"))
    yield
    times.use_utc(False)


def history_of(requests: list[tuple[float, int, int]], state: Path | None = None) -> TokenHistory:
    """(ts, input, output) requests of one session on Sonnet (saved to ``state`` if given)."""
    h = TokenHistory(state_path=state)
    for ts, inp, out in requests:
        h.record_usage(SONNET, inp, out, 100, 0, ts=ts, session="a")
    h.drain()
    if state is not None:
        h.save()
    return h


def report_json(capsys, *args: str) -> dict:
    assert main(["report", *args, "--format", "json", "--utc"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    return json.loads(out)


def schema_3_database(path: Path, row: dict) -> None:
    """What version 3 wrote, by its own DDL: a session, its model mix and its days, no
    quarter hours (row version 2)."""
    with closing(sqlite3.connect(path)) as db:
        for script in MIGRATIONS[:3]:
            db.executescript(script)
        db.execute("PRAGMA user_version = 3")
        db.execute(
            f"INSERT INTO sessions (source, session, {', '.join(SESSION_FIELDS)}, row_version, written_ts) "
            f"VALUES ({', '.join('?' * (len(SESSION_FIELDS) + 4))})",
            (row["source"] or "", row["session"], *(row[f] for f in SESSION_FIELDS), 2, SEP_1),
        )
        for model, m in row["models"].items():
            db.execute(
                "INSERT INTO session_models (source, session, model, requests, total_tokens, cost_pusd, "
                "unpriced_requests, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, "
                "reasoning_tokens) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (row["source"] or "", row["session"], model, *m.values()),
            )
        db.executemany(
            "INSERT INTO session_days VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(row["source"] or "", row["session"], *day) for day in row["days"]],
        )
        db.commit()


# Two requests, 09-01 10:00 and 09-02 23:50 UTC: 1,100 + 2,100 tokens (each 100 cache read).
TWO = [(SEP_1 + 10 * 3_600, 800, 200), (SEP_1 + DAY_S + 23 * 3_600 + 50 * 60, 1_500, 500)]


def test_a_schema_3_history_is_migrated_in_place_and_read_by_its_days(capsys, tmp_path: Path):
    path = tmp_path / "h.sqlite"
    (row,) = history_of(TWO).session_rows()
    schema_3_database(path, row)

    store = SessionStore(path)
    (old,) = store.sessions()
    store.close()
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4
        assert db.execute("SELECT COUNT(*) FROM session_quarters").fetchone()[0] == 0
    assert old["days"] == row["days"] and old["quarters"] == []
    assert old["total_tokens"] == 3_200 and old["requests"] == 2  # the rest of the row as it was

    days = report_json(capsys, "--history", str(path), "--by", "day")
    blocks = report_json(capsys, "--history", str(path), "--by", "block")
    assert main(["report", "--history", str(path), "--by", "day", "--utc"]) == 0
    text = capsys.readouterr().out

    # Each day on its UTC date, its tokens of no known kind.
    assert [(p["start"], p["tokens"], p["unsplit_tokens"], p["input_tokens"]) for p in days["periods"]] == [
        ("2025-09-01", 1_100, 1_100, 0),
        ("2025-09-02", 2_100, 2_100, 0),
    ]
    assert days["total"]["tokens"] == 3_200
    day_line = next(line for line in text.splitlines() if line.startswith("2025-09-01"))
    assert day_line.split()[:9] == ["2025-09-01", "all", "models", "1", "—", "—", "—", "—", "1,100"]
    assert "3,200 tokens are of days kept by UTC day only" in text
    # No block can hold a day kept whole: in the total, apart.
    assert blocks["blocks"] == [] and blocks["not_in_blocks"]["tokens"] == 3_200
    assert blocks["total"]["requests"] == 2


def test_reading_the_logs_again_fills_in_the_quarter_hours_without_counting_twice(capsys, tmp_path: Path):
    path = tmp_path / "h.sqlite"
    state = tmp_path / "s.toml"
    (row,) = history_of(TWO, state).session_rows()
    schema_3_database(path, row)

    days = report_json(capsys, "--state", str(state), "--history", str(path), "--by", "day")
    stored = report_json(capsys, "--history", str(path), "--by", "block")  # the history alone, after

    assert [(p["start"], p["input_tokens"], p["output_tokens"], p["tokens"]) for p in days["periods"]] == [
        ("2025-09-01", 800, 200, 1_100),
        ("2025-09-02", 1_500, 500, 2_100),
    ]
    assert days["total"]["unsplit_tokens"] == 0 and days["total"]["tokens"] == 3_200
    assert [(b["start"], b["tokens"]) for b in stored["blocks"]] == [
        ("2025-09-01T10:00:00Z", 1_100),
        ("2025-09-02T23:00:00Z", 2_100),
    ]
    assert stored["not_in_blocks"] is None


def test_a_copy_without_some_quarter_hours_keeps_those_stored_and_drops_those_it_contradicts(tmp_path: Path):
    path = tmp_path / "h.sqlite"
    (first,) = history_of(TWO).session_rows()
    store = SessionStore(path)
    assert store.write([first]) == 1
    # A restarted live history: a third request on 09-03, the quarter hours of 09-01 let go.
    third = (SEP_1 + 2 * DAY_S + 9 * 3_600, 50, 50)
    (later,) = history_of([*TWO, third]).session_rows()
    later["quarters"] = [q for q in later["quarters"] if q[0] >= SEP_1 + DAY_S]
    assert store.write([later]) == 1
    (kept,) = store.sessions()
    assert sorted({q[0] // DAY_S - SEP_1 // DAY_S for q in kept["quarters"]}) == [0, 1, 2]
    assert across.usage_by_period([kept], "day", utc=True)["total"]["unsplit_tokens"] == 0

    # A copy whose 09-01 differs from what is stored (one more request then), without its
    # quarter hours: those stored for 09-01 no longer add up and go; the day row counts.
    (other,) = history_of([*TWO, third, (SEP_1 + 11 * 3_600, 10, 0)]).session_rows()
    other["quarters"] = [q for q in other["quarters"] if q[0] >= SEP_1 + DAY_S]
    assert store.write([other]) == 1
    (now,) = store.sessions()
    store.close()
    assert sorted({q[0] // DAY_S - SEP_1 // DAY_S for q in now["quarters"]}) == [1, 2]
    total = across.usage_by_period([now], "day", utc=True)["total"]
    assert (total["requests"], total["tokens"], total["unsplit_tokens"]) == (4, 3_200 + 200 + 110, 1_100 + 110)


def test_quarter_figures_past_64_bits_are_stored_as_blobs_and_summed_exactly(tmp_path: Path):
    path = tmp_path / "h.sqlite"
    (row,) = history_of(TWO).session_rows()
    huge = 2**64 + 7
    row["quarters"] = [(ts, model, req, huge, *rest) for ts, model, req, _, *rest in row["quarters"]]
    store = SessionStore(path)
    assert store.write([row]) == 1
    (kept,) = store.sessions()
    store.close()
    assert kept["quarters"] == row["quarters"]
    with closing(sqlite3.connect(path)) as db:
        assert {k for (k,) in db.execute("SELECT typeof(input_tokens) FROM session_quarters")} == {"blob"}
    assert across.usage_by_period([kept], "month", utc=True)["total"]["input_tokens"] == 2 * huge
