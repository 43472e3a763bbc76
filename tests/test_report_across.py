"""``session-insights report --by session|day|week|month|interval``: across the sessions
of the durable history and those just read, in text, json, md and csv that agree with
each other; ``--since/--until/--project`` filters; ``--chart`` drawn as the panel draws
it; every bad input one line on stderr and exit 2.

Every figure below is worked out by hand from the sessions recorded here.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import sqlite3
import subprocess
import sys
from contextlib import closing
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

import orjson
import pytest

from session_insights import times
from session_insights.cli import EXIT_USAGE, main
from session_insights.events import SessionMark, TicketUpdate
from session_insights.history import TokenHistory

DAY_S = 86_400
SEP_1 = 1_756_684_800.0  # 2025-09-01 00:00 UTC, a Monday
HOUR_S = 3_600
SONNET = "claude-sonnet-4-5"  # list price: $3 per million input tokens, $15 per million output
GPT4O = "gpt-4o"  # $2.50 in, $10 out


@pytest.fixture(autouse=True)
def _nothing_written_outside(tmp_path: Path, monkeypatch):
    """The default state (and so the default history) lives under tmp_path, never the repo."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SESSION_INSIGHTS_STATE", str(tmp_path / "state.toml"))


# --- building histories ----------------------------------------------------------------


class Work(NamedTuple):
    """One delimited session of a host app: a start, one model request a minute in,
    tickets completed, a satisfaction rating and an end (None: still open)."""

    name: str
    project: str
    start_ts: float
    end_ts: float | None
    input_tokens: int
    output_tokens: int
    rating: float | None = None
    completed: int = 0
    model: str = SONNET


def record(history: TokenHistory, work: Work) -> None:
    history.add(SessionMark(work.start_ts, work.name, "start", work.project, "host"))
    history.record_usage(work.model, work.input_tokens, work.output_tokens, ts=work.start_ts + 60, session=work.name)
    for i in range(work.completed):
        history.add(TicketUpdate(work.start_ts + 120, f"{work.name}/T{i}", "completed", work.project, None, work.name))
    if work.end_ts is not None:
        if work.rating is not None:
            history.rate(work.rating, ts=work.end_ts, session=work.name)
        history.add(SessionMark(work.end_ts, work.name, "end", work.project, "host"))


def saved_state(path: Path, works: list[Work]) -> Path:
    history = TokenHistory(state_path=path)
    for work in works:
        record(history, work)
    history.drain()
    history.save()
    return path


def at(day: int, hour: float = 0.0) -> float:
    return SEP_1 + day * DAY_S + hour * HOUR_S


def hour_long(name: str, project: str, day: int, input_tokens: int, output_tokens: int, **kw) -> Work:
    """A session from 09:00 to 10:00 UTC on day ``day`` after 2025-09-01."""
    return Work(name, project, at(day, 9), at(day, 10), input_tokens, output_tokens, **kw)


# Three priced sessions over three days, two models on the first:
#   a  shop  09-01  sonnet 10,000 in + 2,000 out = 12,000 tokens  $0.030 + $0.030 = $0.06  rated 6, 1 ticket
#   b  blog  09-01  gpt-4o 20,000 in + 1,000 out = 21,000 tokens  $0.050 + $0.010 = $0.06  rated 9
#   c  shop  09-03  sonnet  5,000 in + 1,000 out =  6,000 tokens  $0.015 + $0.015 = $0.03  rated 8, 3 tickets
PRICED = [
    hour_long("a", "shop", 0, 10_000, 2_000, rating=6, completed=1),
    Work("b", "blog", at(0, 11), at(0, 12), 20_000, 1_000, rating=9, model=GPT4O),
    hour_long("c", "shop", 2, 5_000, 1_000, rating=8, completed=3),
]


# --- audit logs (running totals per session; see tests/test_audit.py) ---------------------


def audit(
    when: str, project: str, session: str, total_in: int, total_out: int, *, boundary=None, gen=None, satisfaction=None
) -> dict:
    entry = {
        "timestamp": f"2025-09-{when}+00:00",
        "project_id": project,
        "session_id": session,
        "total_input_tokens": total_in,
        "total_output_tokens": total_out,
        "total_tokens": total_in + total_out,
        "session_boundary": boundary,
        "generation_id": gen,
        "done": boundary == "end",
    }
    if satisfaction is not None:
        entry["satisfaction"] = satisfaction
    return entry


# Four sessions of two projects; s4 is still open:
#   s1  shop  09-01 10:00-10:30  1,000 in + 200 out = 1,200 tokens  satisfaction 8
#   s2  blog  09-02 09:00-09:45  3,000 in + 600 out = 3,600 tokens  satisfaction 6
#   s3  shop  09-04 14:00-14:20    500 in + 100 out =   600 tokens  satisfaction 9
#   s4  blog  09-05 16:00-       2,000 in + 400 out = 2,400 tokens  open
S1_START = [
    audit("01T10:00:00", "shop", "s1", 0, 0, boundary="start"),
    audit("01T10:05:00", "shop", "s1", 1_000, 200, gen="g1"),
]
S1_END = [audit("01T10:30:00", "shop", "s1", 1_000, 200, boundary="end", satisfaction=8)]
AUDIT = [
    *S1_START,
    *S1_END,
    audit("02T09:00:00", "blog", "s2", 0, 0, boundary="start"),
    audit("02T09:10:00", "blog", "s2", 3_000, 600, gen="g2"),
    audit("02T09:45:00", "blog", "s2", 3_000, 600, boundary="end", satisfaction=6),
    audit("04T14:00:00", "shop", "s3", 0, 0, boundary="start"),
    audit("04T14:05:00", "shop", "s3", 500, 100, gen="g3"),
    audit("04T14:20:00", "shop", "s3", 500, 100, boundary="end", satisfaction=9),
    audit("05T16:00:00", "blog", "s4", 0, 0, boundary="start"),
    audit("05T16:10:00", "blog", "s4", 2_000, 400, gen="g4"),
]


def write_audit(path: Path, entries: list[dict]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in entries))
    return path


# --- running the report ------------------------------------------------------------------


def run(capsys, *args: str) -> tuple[int, str, str]:
    try:
        code = main(["report", *args])
    except SystemExit as exc:  # argparse's own exits
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def ok(capsys, *args: str) -> str:
    code, out, err = run(capsys, *args)
    assert (code, err) == (0, ""), err
    return out


def as_json(capsys, *args: str) -> dict:
    return json.loads(ok(capsys, *args, "--format", "json"))


def csv_rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def md_rows(text: str) -> list[dict]:
    """The first Markdown table of ``text`` as dicts by header."""
    lines = [line for line in text.splitlines() if line.startswith("|")]
    header, *rows = ([cell.strip() for cell in line.strip("|").split("|")] for line in lines)
    return [dict(zip(header, cells)) for cells in rows[1:]]  # rows[0] is the alignment row


def cells(text: str, first: str) -> list[str]:
    """The cells of the text table row starting with ``first`` (columns are 2+ spaces apart)."""
    [line] = [line for line in text.splitlines() if line.startswith(first + " ")]
    return re.split(r" {2,}", line.strip())


def number(cell: str) -> float:
    """'12,000' -> 12000, '$0.06' -> 0.06 (what the text and md forms print)."""
    return float(cell.replace(",", "").replace("$", ""))


def dump(db: Path) -> dict:
    with closing(sqlite3.connect(db)) as c:
        return {
            table: c.execute(f"SELECT * FROM {table} ORDER BY 1, 2, 3").fetchall()
            for table in ("sessions", "session_models", "session_days")
        }


def assert_one_line_usage_error(code: int, out: str, err: str, *needles: str) -> None:
    assert code == EXIT_USAGE == 2
    assert out == ""
    assert err.startswith("session-insights report: ") and err.endswith("\n") and err.count("\n") == 1, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err, (needle, err)


# --- the durable history -----------------------------------------------------------------


def test_reimporting_the_same_logs_leaves_the_history_and_the_report_unchanged(capsys, tmp_path: Path):
    log = write_audit(tmp_path / "audit.jsonl", AUDIT)
    db = tmp_path / "history.sqlite"

    first = ok(capsys, f"audit:{log}", "--history", str(db), "--by", "session", "--format", "json")
    stored = dump(db)
    again = ok(capsys, f"audit:{log}", "--history", str(db), "--by", "session", "--format", "json")
    # The same lines in a log moved elsewhere are the same sessions.
    moved = write_audit(tmp_path / "elsewhere.jsonl", AUDIT)
    moved_report = ok(capsys, f"audit:{moved}", "--history", str(db), "--by", "session", "--format", "json")

    assert dump(db) == stored  # not one row rewritten: even written_ts is the same
    assert again == first == moved_report
    assert [r["session"] for r in json.loads(first)["rows"]] == ["s1", "s2", "s3", "s4"]
    assert len(stored["sessions"]) == 4


def test_a_longer_log_completes_a_session_and_a_shortened_one_never_shrinks_it(capsys, tmp_path: Path):
    log = tmp_path / "audit.jsonl"
    db = tmp_path / "history.sqlite"
    args = (f"audit:{log}", "--history", str(db), "--by", "session", "--format", "json")

    write_audit(log, S1_START)
    [open_] = as_json(capsys, *args[:-2])["rows"]
    write_audit(log, S1_START + S1_END)
    [ended] = as_json(capsys, *args[:-2])["rows"]
    write_audit(log, S1_START)  # the agent deleted the end of its log
    [kept] = as_json(capsys, *args[:-2])["rows"]

    assert (open_["state"], open_["ratings"], open_["total_tokens"]) == ("open", 0, 1_200)
    assert (ended["state"], ended["mean_satisfaction"], ended["total_tokens"]) == ("ended", 8.0, 1_200)
    assert kept == ended


def test_the_history_outlives_the_logs_it_was_built_from(capsys, tmp_path: Path):
    log = write_audit(tmp_path / "audit.jsonl", AUDIT)
    db = tmp_path / "history.sqlite"
    with_log = {
        by: as_json(capsys, f"audit:{log}", "--history", str(db), "--by", by) for by in ("session", "day", "interval")
    }
    with_log_text = ok(capsys, f"audit:{log}", "--history", str(db), "--by", "session")
    log.unlink()

    for by, report in with_log.items():
        from_store = as_json(capsys, "--history", str(db), "--by", by)
        assert from_store | {"errors": None} == report | {"errors": None}, by
    assert ok(capsys, "--history", str(db), "--by", "session") == with_log_text
    assert "s4" in with_log_text


def test_report_keeps_what_it_reads_beside_the_state_file_by_default(capsys, tmp_path: Path):
    state = saved_state(tmp_path / "work.toml", PRICED)

    ok(capsys, "--state", str(state))  # the session report, as before

    assert (tmp_path / "work.history.sqlite").exists()
    assert [row[1] for row in dump(tmp_path / "work.history.sqlite")["sessions"]] == ["a", "b", "c"]


def test_no_history_reads_without_writing_and_reports_only_what_it_read(capsys, tmp_path: Path):
    db = tmp_path / "history.sqlite"
    ok(capsys, f"audit:{write_audit(tmp_path / 'old.jsonl', AUDIT[:3])}", "--history", str(db))
    before = dump(db)
    newer = write_audit(tmp_path / "new.jsonl", AUDIT[3:6])

    rows = as_json(capsys, f"audit:{newer}", "--no-history", "--by", "session")["rows"]

    assert [r["session"] for r in rows] == ["s2"]  # not s1, which only the history holds
    assert dump(db) == before
    assert not (tmp_path / "state.history.sqlite").exists()


def test_history_and_no_history_together_are_a_one_line_error(capsys, tmp_path: Path):
    assert_one_line_usage_error(
        *run(capsys, "--history", str(tmp_path / "h.sqlite"), "--no-history", "--by", "session"), "--no-history"
    )


def test_a_locked_history_is_a_one_line_notice_and_the_report_still_prints(capsys, tmp_path: Path):
    db = tmp_path / "history.sqlite"
    ok(capsys, f"audit:{write_audit(tmp_path / 'old.jsonl', AUDIT[:3])}", "--history", str(db))
    newer = write_audit(tmp_path / "new.jsonl", AUDIT[3:6])
    with closing(sqlite3.connect(db, isolation_level=None)) as other_program:
        other_program.execute("BEGIN EXCLUSIVE")
        code, out, err = run(capsys, f"audit:{newer}", "--history", str(db), "--by", "session", "--format", "json")
        other_program.execute("ROLLBACK")

    assert code == 0
    assert err.count("\n") == 1 and "locked" in err and str(db) in err and "Traceback" not in err
    # What the history already held and what was just read, though it could not be kept.
    assert [r["session"] for r in json.loads(out)["rows"]] == ["s1", "s2"]
    assert [row[1] for row in dump(db)["sessions"]] == ["s1"]


def test_a_corrupt_history_is_moved_aside_with_a_notice_and_a_new_one_started(capsys, tmp_path: Path):
    db = tmp_path / "history.sqlite"
    db.write_bytes(b"this is not a database " * 100)
    log = write_audit(tmp_path / "audit.jsonl", AUDIT)

    code, out, err = run(capsys, f"audit:{log}", "--history", str(db), "--by", "session", "--format", "json")

    assert code == 0
    assert err.count("\n") == 1 and "moved it to history.sqlite.corrupt-" in err and "Traceback" not in err
    assert len(json.loads(out)["rows"]) == 4
    assert len(dump(db)["sessions"]) == 4
    [aside] = tmp_path.glob("history.sqlite.corrupt-*")
    assert aside.read_bytes().startswith(b"this is not a database")


def test_a_history_alone_needs_by_to_report_from(capsys, tmp_path: Path):
    db = tmp_path / "history.sqlite"
    ok(capsys, f"audit:{write_audit(tmp_path / 'audit.jsonl', AUDIT)}", "--history", str(db))

    assert_one_line_usage_error(*run(capsys, "--history", str(db)), "nothing to report", "--by")
    assert_one_line_usage_error(
        *run(capsys, "--history", str(tmp_path / "none.sqlite"), "--by", "day"), "none.sqlite", "does not exist"
    )


# --- --by session ------------------------------------------------------------------------


def as_written(iso: str) -> list[str]:
    """A moment as the tables write it (local time, zone named), split into words."""
    return times.moment(datetime.fromisoformat(iso).timestamp()).split()


def test_sessions_table_shows_each_session_as_the_panel_does(capsys, tmp_path: Path):
    state = saved_state(tmp_path / "state.toml", PRICED)

    text = ok(capsys, "--state", str(state), "--history", str(tmp_path / "h.sqlite"), "--by", "session")

    lines = text.splitlines()
    assert lines[0] == "Sessions"
    assert lines[2].split() == [
        "Session",
        "Project",
        "Source",
        "State",
        "Start",
        "Duration",
        "Requests",
        "Tokens",
        "Cost",
        "Cost",
        "per",
        "completed",
        "ticket",
        "Satisfaction",
    ]
    rows = [line.split() for line in lines[4:7]]
    assert rows == [
        [
            "a",
            "shop",
            "host",
            "ended",
            *as_written("2025-09-01T09:00:00Z"),
            "1h",
            "00m",
            "1",
            "12,000",
            "$0.06",
            "$0.06",
            "6.0/10",
        ],
        [
            "b",
            "blog",
            "host",
            "ended",
            *as_written("2025-09-01T11:00:00Z"),
            "1h",
            "00m",
            "1",
            "21,000",
            "$0.06",
            "—",
            "9.0/10",
        ],
        [
            "c",
            "shop",
            "host",
            "ended",
            *as_written("2025-09-03T09:00:00Z"),
            "1h",
            "00m",
            "1",
            "6,000",
            "$0.03",
            "$0.01",
            "8.0/10",
        ],
    ]


def test_by_session_json_csv_and_md_agree(capsys, tmp_path: Path):
    state = saved_state(tmp_path / "state.toml", PRICED)
    args = ("--state", str(state), "--history", str(tmp_path / "h.sqlite"), "--by", "session")

    report = as_json(capsys, *args)
    table = csv_rows(ok(capsys, *args, "--format", "csv"))
    md = md_rows(ok(capsys, *args, "--format", "md"))

    assert (report["by"], report["since"], report["until"], report["project"]) == ("session", None, None, None)
    assert (
        [r["session"] for r in report["rows"]]
        == [r["session"] for r in table]
        == [r["Session"] for r in md]
        == ["a", "b", "c"]
    )
    for js, cs, mdr in zip(report["rows"], table, md):
        assert js["total_tokens"] == int(cs["total_tokens"]) == number(mdr["Tokens"])
        assert js["requests"] == int(cs["requests"]) == number(mdr["Requests"])
        assert js["cost_usd"] == pytest.approx(float(cs["cost_usd"])) == pytest.approx(number(mdr["Cost"]))
        assert (
            js["mean_satisfaction"] == float(cs["mean_satisfaction"]) == number(mdr["Satisfaction"].removesuffix("/10"))
        )
        assert js["start"] == cs["start_utc"]  # ISO 8601 in UTC, in csv as in json
        assert js["duration_s"] == float(cs["duration_s"]) == 3_600
    a, b, c = report["rows"]
    assert a["cost_usd"] == pytest.approx(0.06) and a["cost_per_completed_ticket_usd"] == pytest.approx(0.06)
    assert b["cost_per_completed_ticket_usd"] is None and table[1]["cost_per_completed_ticket_usd"] == ""
    assert c["cost_per_completed_ticket_usd"] == pytest.approx(0.01)
    assert (a["models"], b["models"]) == ([SONNET], [GPT4O])
    # Plain numbers for a spreadsheet: no separators, no currency signs.
    assert table[1]["total_tokens"] == "21000" and table[0]["cost_usd"] == "0.06"


def test_open_sessions_are_listed_but_in_no_efficiency_average(capsys, tmp_path: Path):
    log = write_audit(tmp_path / "audit.jsonl", AUDIT)
    db = str(tmp_path / "h.sqlite")

    rows = as_json(capsys, f"audit:{log}", "--history", db, "--by", "session")["rows"]
    over = as_json(capsys, "--history", db, "--by", "interval")["efficiency_over_time"]

    assert [(r["session"], r["state"], r["total_tokens"]) for r in rows] == [
        ("s1", "ended", 1_200),
        ("s2", "ended", 3_600),
        ("s3", "ended", 600),
        ("s4", "open", 2_400),
    ]
    # s4 (open, ended on no day) is in no interval: three sessions from 09-01 to 09-04, daily.
    assert over["interval"] == "daily"
    assert [(b["start"], b["sessions"], b["score"]) for b in over["buckets"]] == [
        ("2025-09-01", 1, 150.0),
        ("2025-09-02", 1, 600.0),
        ("2025-09-03", 0, None),
        ("2025-09-04", 1, pytest.approx(600 / 9)),
    ]


# --- --by day / week / month --------------------------------------------------------------


def test_usage_by_day_json_csv_and_md_agree_and_split_by_model(capsys, tmp_path: Path):
    state = saved_state(tmp_path / "state.toml", PRICED)
    args = ("--state", str(state), "--history", str(tmp_path / "h.sqlite"), "--by", "day")

    periods = as_json(capsys, *args)["periods"]
    table = csv_rows(ok(capsys, *args, "--format", "csv"))
    md = md_rows(ok(capsys, *args, "--format", "md"))
    text = ok(capsys, *args)

    # 09-02 spent nothing: kept, so a chart's gap is real.
    assert [(p["start"], p["requests"], p["tokens"], round(p["cost_usd"], 6)) for p in periods] == [
        ("2025-09-01", 2, 33_000, 0.12),
        ("2025-09-02", 0, 0, 0.0),
        ("2025-09-03", 1, 6_000, 0.03),
    ]
    assert {m: (f["requests"], f["tokens"], round(f["cost_usd"], 6)) for m, f in periods[0]["models"].items()} == {
        GPT4O: (1, 21_000, 0.06),
        SONNET: (1, 12_000, 0.06),
    }
    totals = [r for r in table if r["line"] == "total"]
    assert [(r["period_start"], int(r["requests"]), int(r["tokens"]), float(r["cost_usd"])) for r in totals] == [
        ("2025-09-01", 2, 33_000, 0.12),
        ("2025-09-02", 0, 0, 0.0),
        ("2025-09-03", 1, 6_000, 0.03),
    ]
    by_model = [(r["period_start"], r["model"], int(r["tokens"])) for r in table if r["line"] == "model"]
    assert by_model == [("2025-09-01", SONNET, 12_000), ("2025-09-01", GPT4O, 21_000), ("2025-09-03", SONNET, 6_000)]
    md_totals = [(r["Day"], number(r["Total tokens"]), number(r["Cost"])) for r in md if r["Model"] == "all models"]
    assert md_totals == [("2025-09-01", 33_000, 0.12), ("2025-09-02", 0, 0.0), ("2025-09-03", 6_000, 0.03)]
    # requests, input, output, cache read, cache write, total, cost
    figures = ["2", "30,000", "3,000", "0", "0", "33,000", "$0.12"]
    assert cells(text, "2025-09-01") == ["2025-09-01", "all models", *figures]


def test_usage_by_period_ends_with_a_grand_total_of_every_period(capsys, tmp_path: Path):
    state = saved_state(tmp_path / "state.toml", PRICED)
    args = ("--state", str(state), "--history", str(tmp_path / "h.sqlite"), "--by", "day")
    text = ok(capsys, *args)
    md = md_rows(ok(capsys, *args, "--format", "md"))
    # 2 + 0 + 1 requests, 33,000 + 6,000 tokens, $0.12 + $0.03.
    assert cells(text, "Total") == ["Total", "3", "35,000", "4,000", "0", "0", "39,000", "$0.15"]
    assert [(r["Day"], number(r["Total tokens"]), number(r["Cost"])) for r in md][-1] == ("Total", 39_000, 0.15)


def test_a_grand_total_of_unpriced_periods_is_unknown_never_zero(capsys, tmp_path: Path):
    log = write_audit(tmp_path / "audit.jsonl", AUDIT)
    text = ok(capsys, f"audit:{log}", "--history", str(tmp_path / "h.sqlite"), "--by", "day")
    total = next(line for line in text.splitlines() if line.startswith("Total"))
    assert total.split()[-1] == "unpriced" and "$" not in total


def test_weeks_start_on_monday_and_months_on_the_first(capsys, tmp_path: Path):
    works = [
        hour_long("sun-aug-31", "p", -1, 1_000, 0),
        hour_long("mon", "p", 0, 2_000, 0),
        hour_long("sun-sep-7", "p", 6, 3_000, 0),
        hour_long("mon-sep-8", "p", 7, 4_000, 0),
    ]
    state = saved_state(tmp_path / "state.toml", works)
    args = ("--state", str(state), "--history", str(tmp_path / "h.sqlite"))

    weeks = as_json(capsys, *args, "--by", "week")["periods"]
    months = as_json(capsys, *args, "--by", "month")["periods"]
    month_text = ok(capsys, *args, "--by", "month")

    assert [(p["start"], p["tokens"]) for p in weeks] == [
        ("2025-08-25", 1_000),
        ("2025-09-01", 5_000),
        ("2025-09-08", 4_000),
    ]
    assert [(p["start"], p["tokens"]) for p in months] == [("2025-08-01", 1_000), ("2025-09-01", 9_000)]
    assert "Month" in month_text and "2025-09  all models" in month_text


def test_an_unpriced_model_costs_unknown_in_usage_periods_never_zero(capsys, tmp_path: Path):
    log = write_audit(tmp_path / "audit.jsonl", AUDIT)  # audit logs name no model: "unrecorded"
    args = (f"audit:{log}", "--history", str(tmp_path / "h.sqlite"), "--by", "day")

    first = as_json(capsys, *args)["periods"][0]
    table = csv_rows(ok(capsys, *args, "--format", "csv"))
    text = ok(capsys, *args)

    assert (first["requests"], first["cost_usd"], first["unpriced_requests"]) == (1, None, 1)
    assert first["models"]["unrecorded"]["cost_usd"] is None
    assert table[0]["cost_usd"] == "" and table[0]["unpriced_requests"] == "1"
    assert [line.split()[-1] for line in text.splitlines() if "unrecorded" in line] == ["unpriced"] * 4


# --- --by interval: efficiency over time ---------------------------------------------------


def test_a_seven_day_span_is_daily_with_hand_computed_scores_and_verdict(capsys, tmp_path: Path):
    # a: 12,000 tokens rated 6 -> 2,000 a point; b, six days later: 6,000 rated 8 -> 750.
    works = [hour_long("a", "p", 0, 10_000, 2_000, rating=6), hour_long("b", "p", 6, 5_000, 1_000, rating=8)]
    state = saved_state(tmp_path / "state.toml", works)
    args = ("--state", str(state), "--history", str(tmp_path / "h.sqlite"), "--by", "interval")

    over = as_json(capsys, *args)["efficiency_over_time"]
    text = ok(capsys, *args)

    assert (over["interval"], over["measure"], len(over["buckets"])) == ("daily", "tokens_per_satisfaction_point", 7)
    first, *middle, last = over["buckets"]
    assert first == {
        "start": "2025-09-01",
        "end": "2025-09-01",
        "start_ts": SEP_1,
        "end_ts": SEP_1 + DAY_S,
        "sessions": 1,
        "tokens": 12_000,
        "ratings": 1,
        "completed": 0,
        "avg_tokens": 12_000.0,
        "avg_satisfaction": 6.0,
        "score": 2_000.0,
    }
    assert (last["start"], last["avg_tokens"], last["avg_satisfaction"], last["score"]) == (
        "2025-09-07",
        6_000.0,
        8.0,
        750.0,
    )
    assert all(b["sessions"] == 0 and b["score"] is None for b in middle)
    # (2,000 - 750) / 2,000 = 62.5 %; overall 9,000 tokens / 7 points -> 0.778 points per 1K tokens.
    assert (over["verdict"], over["change_pct"]) == ("IMPROVED", 62.5)
    assert over["points_per_1k_tokens"] == pytest.approx(7 / 9)
    assert cells(text, "2025-09-01") == ["2025-09-01", "1", "2,000 tokens/point (12K tokens avg, 6.0/10 satisfaction)"]
    assert cells(text, "2025-09-02") == ["2025-09-02", "0", "no data"]
    assert cells(text, "2025-09-07") == ["2025-09-07", "1", "750 tokens/point (6K tokens avg, 8.0/10 satisfaction)"]
    assert text.splitlines()[-1] == (
        "IMPROVED: 62% fewer tokens per satisfaction point, first to last daily interval (lower is better); "
        "overall 0.778 satisfaction points per 1K tokens"
    )


def test_an_eight_day_span_is_three_day_and_a_session_ending_at_midnight_opens_the_next(capsys, tmp_path: Path):
    works = [
        Work("a", "p", at(0, 11), at(0, 12), 3_000, 1_000, rating=4),  # 4,000 tokens
        Work("b", "p", at(2, 24) - 601, at(2, 24) - 1, 6_000, 2_000, rating=8),  # ends 09-03 23:59:59
        Work("c", "p", at(2, 24) - 600, at(3), 2_000, 1_000, rating=6),  # ends 09-04 00:00:00
        Work("d", "p", at(7, 11), at(7, 12), 6_000, 3_000, rating=6),  # 09-08: an 8-day span
    ]
    state = saved_state(tmp_path / "state.toml", works)
    args = ("--state", str(state), "--history", str(tmp_path / "h.sqlite"), "--by", "interval")

    over = as_json(capsys, *args)["efficiency_over_time"]
    table = csv_rows(ok(capsys, *args, "--format", "csv"))

    assert over["interval"] == "3-day"
    # 09-01..03: a and b, mean 6,000 tokens / mean 6 points = 1,000; 09-04..06: c, 3,000 / 6 = 500;
    # 09-07..09: d, 9,000 / 6 = 1,500. From 1,000 to 1,500: (1,000 - 1,500) / 1,000 = -50 %.
    assert [
        (b["start"], b["end"], b["sessions"], b["avg_tokens"], b["avg_satisfaction"], b["score"])
        for b in over["buckets"]
    ] == [
        ("2025-09-01", "2025-09-03", 2, 6_000.0, 6.0, 1_000.0),
        ("2025-09-04", "2025-09-06", 1, 3_000.0, 6.0, 500.0),
        ("2025-09-07", "2025-09-09", 1, 9_000.0, 6.0, 1_500.0),
    ]
    assert [(b["start_ts"], b["end_ts"]) for b in over["buckets"]] == [(at(0), at(3)), (at(3), at(6)), (at(6), at(9))]
    assert (over["verdict"], over["change_pct"], over["overall_score"]) == ("DECLINED", -50.0, 1_000.0)
    assert [(r["line"], r["start"], r["end"], r["sessions"], r["score"]) for r in table] == [
        ("interval", "2025-09-01", "2025-09-03", "2", "1000"),
        ("interval", "2025-09-04", "2025-09-06", "1", "500"),
        ("interval", "2025-09-07", "2025-09-09", "1", "1500"),
        ("verdict", "2025-09-01", "2025-09-09", "", "1000"),
    ]
    assert (table[-1]["verdict"], table[-1]["change_pct"]) == ("DECLINED", "-50")
    assert table[-1]["label"] == (
        "DECLINED: 50% more tokens per satisfaction point, first to last 3-day interval (lower is better); "
        "overall 1.000 satisfaction points per 1K tokens"
    )


@pytest.mark.parametrize(
    ("span_days", "interval", "days", "buckets"),
    [
        (1, "daily", 1, 1),
        (7, "daily", 1, 7),
        (8, "3-day", 3, 3),
        (30, "3-day", 3, 10),
        (31, "weekly", 7, 5),
        (90, "weekly", 7, 13),
        (91, "30-day", 30, 4),
    ],
)
def test_the_interval_follows_the_span_of_ended_sessions(capsys, tmp_path: Path, span_days, interval, days, buckets):
    works = [hour_long("first", "p", 0, 1_000, 0, rating=5), hour_long("last", "p", span_days - 1, 1_000, 0, rating=5)]
    state = saved_state(tmp_path / "state.toml", works)

    over = as_json(capsys, "--state", str(state), "--history", str(tmp_path / "h.sqlite"), "--by", "interval")[
        "efficiency_over_time"
    ]

    assert (over["interval"], len(over["buckets"])) == (interval, buckets)
    assert [b["start_ts"] for b in over["buckets"]] == [at(i * days) for i in range(buckets)]
    assert sum(b["sessions"] for b in over["buckets"]) == 2


def test_a_change_within_one_percent_is_unchanged(capsys, tmp_path: Path):
    # 10,000 tokens rated 10 -> 1,000; 9,950 rated 10 -> 995: 0.5 % better, within the 1 % of noise.
    works = [hour_long("a", "p", 0, 10_000, 0, rating=10), hour_long("b", "p", 1, 9_950, 0, rating=10)]
    state = saved_state(tmp_path / "state.toml", works)

    over = as_json(capsys, "--state", str(state), "--history", str(tmp_path / "h.sqlite"), "--by", "interval")[
        "efficiency_over_time"
    ]

    assert (over["verdict"], over["change_pct"]) == ("UNCHANGED", pytest.approx(0.5))


def test_without_ratings_efficiency_is_tokens_per_completed_ticket(capsys, tmp_path: Path):
    # a: 12,000 tokens for 2 tickets -> 6,000; b: 6,000 tokens for 3 -> 2,000; overall 18,000 / 5 = 3,600.
    works = [hour_long("a", "p", 0, 10_000, 2_000, completed=2), hour_long("b", "p", 1, 5_000, 1_000, completed=3)]
    state = saved_state(tmp_path / "state.toml", works)
    args = ("--state", str(state), "--history", str(tmp_path / "h.sqlite"), "--by", "interval")

    over = as_json(capsys, *args)["efficiency_over_time"]
    md = ok(capsys, *args, "--format", "md")

    assert over["measure"] == "tokens_per_completed_ticket"
    assert [(b["score"], b["avg_tokens"], b["avg_satisfaction"]) for b in over["buckets"]] == [
        (6_000.0, None, None),
        (2_000.0, None, None),
    ]
    assert (over["verdict"], round(over["change_pct"], 3), over["overall_score"]) == ("IMPROVED", 66.667, 3_600.0)
    assert [r["Score"] for r in md_rows(md)] == [
        "6,000 tokens/ticket (12K tokens, 2 tickets)",
        "2,000 tokens/ticket (6K tokens, 3 tickets)",
    ]
    assert (
        "IMPROVED: 67% fewer tokens per completed ticket, first to last daily interval (lower is better); "
        "overall 3,600 tokens per completed ticket"
    ) in md


def test_by_interval_json_csv_and_md_agree(capsys, tmp_path: Path):
    state = saved_state(tmp_path / "state.toml", PRICED)
    args = ("--state", str(state), "--history", str(tmp_path / "h.sqlite"), "--by", "interval")

    over = as_json(capsys, *args)["efficiency_over_time"]
    table = csv_rows(ok(capsys, *args, "--format", "csv"))
    md = md_rows(ok(capsys, *args, "--format", "md"))

    # 09-01: a and b, mean 16,500 tokens / mean 7.5 points = 2,200; 09-03: c, 6,000 / 8 = 750.
    assert [b["score"] for b in over["buckets"]] == [2_200.0, None, 750.0]
    intervals = [r for r in table if r["line"] == "interval"]
    assert [r["Interval"] for r in md] == [r["start"] for r in intervals] == [b["start"] for b in over["buckets"]]
    for bucket, row, mdr in zip(over["buckets"], intervals, md):
        assert bucket["sessions"] == int(row["sessions"]) == int(mdr["Sessions"])
        assert row["score"] == ("" if bucket["score"] is None else f"{bucket['score']:g}")
        assert row["label"] == mdr["Score"]
    assert md[0]["Score"] == "2,200 tokens/point (16.5K tokens avg, 7.5/10 satisfaction)"
    assert (over["verdict"], round(over["change_pct"], 2)) == ("IMPROVED", 65.91)
    assert (table[-1]["verdict"], table[-1]["change_pct"]) == ("IMPROVED", f"{over['change_pct']:.6f}".rstrip("0"))


# --- filters -------------------------------------------------------------------------------


@pytest.fixture
def audit_history(capsys, tmp_path: Path) -> str:
    """A history holding AUDIT (its log since deleted), and its path."""
    log = write_audit(tmp_path / "audit.jsonl", AUDIT)
    db = tmp_path / "h.sqlite"
    ok(capsys, f"audit:{log}", "--history", str(db))
    log.unlink()
    return str(db)


@pytest.mark.parametrize(
    ("filters", "sessions"),
    [
        ((), ["s1", "s2", "s3", "s4"]),
        (("--since", "2025-09-02"), ["s2", "s3", "s4"]),  # s1 ended on 09-01
        (("--until", "2025-09-02"), ["s1", "s2"]),  # through the end of 09-02
        (("--until", "2025-09-04"), ["s1", "s2", "s3"]),  # s3 started 09-04 14:00
        (("--project", "shop"), ["s1", "s3"]),
        (("--since", "2025-09-02", "--until", "2025-09-04", "--project", "shop"), ["s3"]),
        (("--since", "2025-09-01T10:30:00"), ["s1", "s2", "s3", "s4"]),  # naive is UTC: s1 ended at 10:30:00
        (("--since", "2025-09-01T10:30:01"), ["s2", "s3", "s4"]),
        (("--since", "2025-09-01T12:30:00+02:00"), ["s1", "s2", "s3", "s4"]),
        (("--since", "2025-09-01T10:30:01Z"), ["s2", "s3", "s4"]),
        (("--until", "2025-09-01T10:00:00"), []),  # s1 started at 10:00:00: left out
        (("--until", "2025-09-01T10:00:01"), ["s1"]),
        (("--project", "nobody"), []),
    ],
)
def test_since_until_and_project_choose_the_sessions(capsys, audit_history: str, filters, sessions):
    report = as_json(capsys, "--history", audit_history, "--by", "session", *filters)
    assert [r["session"] for r in report["rows"]] == sessions


def test_the_json_names_the_range_it_covers_in_utc(capsys, audit_history: str):
    report = as_json(
        capsys,
        "--history",
        audit_history,
        "--by",
        "day",
        "--since",
        "2025-09-02",
        "--until",
        "2025-09-04T16:30:00+02:00",
        "--project",
        "shop",
    )

    assert (report["since"], report["until"], report["project"]) == (
        "2025-09-02T00:00:00Z",
        "2025-09-04T14:30:00Z",
        "shop",
    )
    # s3 (started 14:00) is shop's only session in range; usage counts whole UTC days.
    assert [(p["start"], p["tokens"]) for p in report["periods"]] == [("2025-09-04", 600)]


@pytest.mark.parametrize("by", ["session", "day", "week", "month", "interval"])
def test_an_empty_range_says_so_in_words_and_gives_empty_lists(capsys, audit_history: str, by: str):
    args = ("--history", audit_history, "--by", by, "--since", "2030-01-01")

    text = ok(capsys, *args)
    report = as_json(capsys, *args)
    table = csv_rows(ok(capsys, *args, "--format", "csv"))

    expected = {"session": "No sessions in this range.", "interval": "No ended sessions in this range."}
    assert expected.get(by, "No usage in this range.") in text
    key = {"session": "rows", "interval": "efficiency_over_time"}.get(by, "periods")
    assert report[key] == [] if key != "efficiency_over_time" else report[key]["buckets"] == []
    assert table == []


@pytest.mark.parametrize("when", ["2025-13-01", "2025-09-31", "yesterday", "09/01/2025", "", "2025-09-01T25:00"])
@pytest.mark.parametrize("flag", ["--since", "--until"])
def test_a_bad_date_is_a_one_line_error(capsys, audit_history: str, flag: str, when: str):
    assert_one_line_usage_error(
        *run(capsys, "--history", audit_history, "--by", "session", flag, when), flag, repr(when), "YYYY-MM-DD"
    )


def test_until_before_since_is_a_one_line_error(capsys, audit_history: str):
    assert_one_line_usage_error(
        *run(capsys, "--history", audit_history, "--by", "session", "--since", "2025-09-05", "--until", "2025-09-01"),
        "--until (2025-09-02T00:00:00Z) must come after --since (2025-09-05T00:00:00Z)",
    )


@pytest.mark.parametrize("flag", [("--since", "2025-09-01"), ("--until", "2025-09-01"), ("--project", "shop")])
def test_filters_without_by_are_a_one_line_error(capsys, audit_history: str, flag):
    assert_one_line_usage_error(*run(capsys, "--history", audit_history, *flag), flag[0], "--by")


def test_an_unknown_by_is_a_one_line_error(capsys, audit_history: str):
    assert_one_line_usage_error(
        *run(capsys, "--history", audit_history, "--by", "year"), "--by", "invalid choice: 'year'", "'interval'"
    )


# --- --chart -----------------------------------------------------------------------------------


def test_chart_without_a_display_says_how_to_get_one_without_loading_dearpygui(tmp_path: Path, audit_history: str):
    png = tmp_path / "chart.png"
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    probe = (
        "import sys; from session_insights.cli import main; code = main(sys.argv[1:]); "
        "print('dearpygui' in sys.modules); sys.exit(code)"
    )

    done = subprocess.run(
        [sys.executable, "-c", probe, "report", "--history", audit_history, "--by", "interval", "--chart", str(png)],
        check=False,
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == EXIT_USAGE
    assert done.stdout == "False\n"  # no report, and Dear PyGui never imported
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "no X display" in done.stderr
    assert f"xvfb-run -a session-insights report --history {audit_history} --by interval --chart {png}" in done.stderr
    assert not png.exists()


STAND_IN_CHART = """
import json, sys, zlib, struct
over = json.loads(open(sys.argv[1], "rb").read())
open(sys.argv[2] + ".json", "w").write(json.dumps(over))
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
png = (b"\\x89PNG\\r\\n\\x1a\\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
       + chunk(b"IDAT", zlib.compress(b"\\x00\\x00")) + chunk(b"IEND", b""))
open(sys.argv[2], "wb").write(png)
"""


@pytest.fixture
def stand_in_chart(tmp_path: Path, monkeypatch):
    """A display, and a chart module in place of the panel's drawing: ``write(source)``
    makes ``python -m <module> OVER_TIME_JSON PNG`` run ``source``."""
    from session_insights import cli, display

    monkeypatch.setattr(display, "display_problem", lambda: None)
    folder = tmp_path / "modules"
    folder.mkdir()
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(folder), os.environ.get("PYTHONPATH")])))
    monkeypatch.setattr(cli, "CHART_MODULE", "stand_in_chart")

    def write(source: str) -> None:
        (folder / "stand_in_chart.py").write_text(source)

    return write


def test_chart_is_drawn_in_a_process_of_its_own_from_the_selected_sessions(capsys, tmp_path: Path, stand_in_chart):
    stand_in_chart(STAND_IN_CHART)
    state = saved_state(tmp_path / "state.toml", PRICED)
    png = tmp_path / "chart.png"

    text = ok(
        capsys,
        "--state",
        str(state),
        "--history",
        str(tmp_path / "h.sqlite"),
        "--by",
        "session",
        "--project",
        "shop",
        "--chart",
        str(png),
    )

    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    drawn = json.loads((tmp_path / "chart.png.json").read_text())
    # The same sessions as the rows printed (shop's a and c), as across.efficiency_over_time gives them.
    assert [(b["start"], b["sessions"], b["score"]) for b in drawn["buckets"]] == [
        ("2025-09-01", 1, 2_000.0),
        ("2025-09-02", 0, None),
        ("2025-09-03", 1, 750.0),
    ]
    assert (drawn["interval"], drawn["verdict"], drawn["change_pct"]) == ("daily", "IMPROVED", 62.5)
    assert [cells(text, name)[0] for name in ("a", "c")] == ["a", "c"] and "blog" not in text


def test_a_chart_process_that_crashes_leaves_the_report_printed(capsys, tmp_path: Path, stand_in_chart):
    stand_in_chart("import os\nos.abort()\n")  # as Dear PyGui does on some failures
    state = saved_state(tmp_path / "state.toml", PRICED)
    png = tmp_path / "chart.png"

    code, out, err = run(
        capsys, "--state", str(state), "--history", str(tmp_path / "h.sqlite"), "--by", "interval", "--chart", str(png)
    )

    assert code == 1
    assert "IMPROVED" in out
    assert err.count("\n") == 1 and err.startswith(f"session-insights report: could not draw the chart {png}: ")
    assert not png.exists()


def test_chart_into_a_missing_folder_is_a_one_line_error(capsys, tmp_path: Path, stand_in_chart):
    state = saved_state(tmp_path / "state.toml", PRICED)
    assert_one_line_usage_error(
        *run(capsys, "--state", str(state), "--chart", str(tmp_path / "no" / "c.png")), "--chart", "existing folder"
    )


@pytest.mark.gui
def test_chart_under_a_display_writes_the_panels_efficiency_chart_as_png(x_display, artifacts, tmp_path: Path):
    works = [
        hour_long("a", "p", 0, 10_000, 2_000, rating=6),
        hour_long("b", "p", 3, 8_000, 1_000, rating=7),
        hour_long("c", "p", 6, 5_000, 1_000, rating=8),
    ]
    state = saved_state(tmp_path / "state.toml", works)
    png = artifacts / "report_efficiency_over_time.png"
    png.unlink(missing_ok=True)
    env = dict(x_display, SESSION_INSIGHTS_STATE=str(tmp_path / "state.toml"))

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "session_insights.cli",
            "report",
            "--state",
            str(state),
            "--history",
            str(tmp_path / "h.sqlite"),
            "--by",
            "interval",
            "--chart",
            str(png),
        ],
        check=False,
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert (done.returncode, done.stderr) == (0, "")
    assert "IMPROVED" in done.stdout  # the report is printed as well
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 2_000
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width >= 200 and height >= 100


# --- the time rule of --since / --until ------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "filters", "sessions"),
    [
        # 05:00 in Los Angeles (PDT) is 12:00 UTC: s1 ended at 10:30 UTC.
        ("America/Los_Angeles", ("--since", "2025-09-01T05:00"), ["s2", "s3", "s4"]),
        ("America/Los_Angeles", ("--since", "2025-09-01T05:00", "--utc"), ["s1", "s2", "s3", "s4"]),
        # Tokyo's 09-05 ends at 15:00 UTC, before s4 started (16:00 UTC).
        ("Asia/Tokyo", ("--until", "2025-09-05"), ["s1", "s2", "s3"]),
        ("Asia/Tokyo", ("--until", "2025-09-05", "--utc"), ["s1", "s2", "s3", "s4"]),
        # An offset says which zone it is in, whatever the rule.
        ("Asia/Tokyo", ("--since", "2025-09-01T10:30:01Z"), ["s2", "s3", "s4"]),
    ],
)
def test_since_and_until_are_local_unless_utc_as_every_time_is(capsys, in_zone, audit_history, zone, filters, sessions):
    in_zone(zone)
    report = as_json(capsys, "--history", audit_history, "--by", "session", *filters)
    assert [r["session"] for r in report["rows"]] == sessions


def test_the_range_a_report_covers_is_written_by_the_time_rule(capsys, in_zone, audit_history):
    in_zone("Asia/Tokyo")
    args = ("--history", audit_history, "--by", "session", "--since", "2025-09-02", "--until", "2025-09-04")
    local = ok(capsys, *args).splitlines()[0]
    in_utc = ok(capsys, *args, "--utc").splitlines()[0]
    assert local == "Sessions, from 2025-09-02 00:00 JST to 2025-09-05 00:00 JST"
    assert in_utc == "Sessions, from 2025-09-02 00:00 UTC to 2025-09-05 00:00 UTC"
    # json keeps ISO 8601 in UTC: Tokyo's midnight is 15:00 UTC the day before.
    assert as_json(capsys, *args)["since"] == "2025-09-01T15:00:00Z"
