"""The durable history and state.toml against what users and machines do to them: costs
past SQLite's 64-bit integers, a folder or an unreadable file named as a path, a disk
that fills up mid-write, other users on the machine, killed saves, and state files that
parse into a recursion or are far too big to be ours.
"""

from __future__ import annotations

import errno
import json
import os
import sqlite3
import stat
import time
import tracemalloc
from pathlib import Path

import pytest

from session_insights import state
from session_insights import store as store_module
from session_insights.cli import EXIT_USAGE, main
from session_insights.events import SessionMark, usage_event
from session_insights.history import TokenHistory
from session_insights.pricing import PUSD_PER_USD
from session_insights.session_logger import SessionLogger
from session_insights.store import SessionStore

T0 = 1_763_000_000.0
INT64_MAX = 2**63 - 1
# claude-opus-4-1's published list price: $75 per million output tokens, so a request of
# 1e9 output tokens (the most one request may count) costs $75,000.
OPUS_OUTPUT_USD_PER_MTOK = 75
BIG_LINES = 140  # 140 x $75,000 = $10.5M, past the $9.22M that int64 picodollars hold


def sessions_of(count: int) -> list[dict]:
    h = TokenHistory()
    for i in range(count):
        session = f"s{i:03d}"
        h.add(SessionMark(T0 + i, session, "start", "shop", "audit"))
        h.add(
            usage_event(
                model="gpt-4o",
                input_tokens=1_000 + i,
                output_tokens=10,
                ts=T0 + i + 1,
                session=session,
                source="audit",
                request_key=f"{session}-r1",
            )
        )
    h.drain()
    return h.session_rows()


def report(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["report", *args])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code: int, out: str, err: str, *needles: str) -> None:
    assert code == EXIT_USAGE
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("session-insights report: "), err
    for needle in needles:
        assert needle in err, err


def deny_opening(monkeypatch, path: Path) -> None:
    """Make ``path`` unreadable as it is to a user without permission (tests run as root,
    who may read a chmod 000 file)."""
    real_open = os.open
    denied = os.path.abspath(path)

    def guarded(file, flags, *args, **kwargs):
        if os.path.abspath(file) == denied:
            raise PermissionError(errno.EACCES, "Permission denied", str(file))
        return real_open(file, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", guarded)


# --- costs past int64 (case 7) -----------------------------------------------------


@pytest.fixture
def ten_million_dollar_log(tmp_path: Path) -> Path:
    with SessionLogger(tmp_path / "logs", "whale") as log:
        for i in range(BIG_LINES):
            log.model_call(
                "claude-opus-4-1",
                input_tokens=0,
                output_tokens=1_000_000_000,
                provider="anthropic",
                ended_ts=T0 + 60 * i,
            )
    return tmp_path / "logs" / "whale.comms.jsonl"


def test_a_session_costing_more_than_int64_picodollars_is_stored_and_reported_exactly(
    capsys, tmp_path: Path, ten_million_dollar_log: Path
):
    history = tmp_path / "h.sqlite"
    expected_pusd = BIG_LINES * 1_000_000_000 * OPUS_OUTPUT_USD_PER_MTOK * PUSD_PER_USD // 1_000_000
    assert expected_pusd > INT64_MAX

    code, out, err = report(capsys, f"comms:{ten_million_dollar_log}", "--history", str(history))
    assert (code, err) == (0, "")
    assert "$10,500,000" in out

    # From the durable history alone, the same session at the same cost.
    code, out, err = report(capsys, "--by", "session", "--format", "json", "--history", str(history))
    assert (code, err) == (0, "")
    (row,) = json.loads(out)["rows"]
    assert row["cost_usd"] == 10_500_000.0
    assert row["output_tokens"] == BIG_LINES * 1_000_000_000
    (kept,) = SessionStore(history).sessions()
    assert kept["cost_pusd"] == expected_pusd and type(kept["cost_pusd"]) is int
    assert kept["models"]["claude-opus-4-1"]["cost_pusd"] == expected_pusd
    assert sum(day[4] for day in kept["days"]) == expected_pusd

    code, out, err = report(capsys, "--by", "month", "--format", "json", "--history", str(history))
    assert (code, err) == (0, "")
    assert sum(period["cost_usd"] for period in json.loads(out)["periods"]) == 10_500_000.0


def test_every_integer_figure_past_int64_round_trips_and_ordinary_ones_stay_sqlite_integers(
    tmp_path: Path,
):
    path = tmp_path / "h.sqlite"
    big, ordinary = sessions_of(2)
    huge = 2**64 + 12_345
    for field in store_module.SESSION_FIELDS:
        if type(big[field]) is int:
            big[field] = huge
    model = next(iter(big["models"].values()))
    for field in store_module.MODEL_FIELDS:
        model[field] = -huge if field == "reasoning_tokens" else huge  # negative too: exact both ways
    big["days"] = [(day, name, huge, huge, huge) for day, name, *_ in big["days"]]

    store = SessionStore(path)
    assert store.write([big, ordinary]) == 2
    store.close()

    kept = {row["session"]: row for row in SessionStore(path).sessions()}
    assert kept == {row["session"]: row for row in (big, ordinary)}
    with sqlite3.connect(path) as db:
        kinds = db.execute("SELECT session, typeof(cost_pusd), typeof(total_tokens) FROM sessions").fetchall()
        day_kinds = db.execute("SELECT session, typeof(cost_pusd) FROM session_days").fetchall()
    assert sorted(kinds) == [
        (big["session"], "blob", "blob"),
        (ordinary["session"], "integer", "integer"),
    ]
    assert sorted(day_kinds) == [
        (big["session"], "blob"),
        (ordinary["session"], "integer"),
    ]


def test_a_row_altered_by_another_program_is_left_out_with_a_notice_and_replaced_by_our_next_copy(
    capsys, tmp_path: Path
):
    path = tmp_path / "h.sqlite"
    rows = sessions_of(3)
    SessionStore(path).write(rows)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE sessions SET cost_pusd = 'lots' WHERE session = 's000'")
        db.execute("UPDATE session_days SET tokens = x'ff00' WHERE session = 's001'")

    store = SessionStore(path)
    assert [row["session"] for row in store.sessions()] == ["s002"]
    assert any("not ours in 2 sessions" in n for n in store.notices)
    code, out, err = report(capsys, "--by", "session", "--format", "json", "--history", str(path))
    assert code == 0 and [r["session"] for r in json.loads(out)["rows"]] == ["s002"]
    assert "left out" in err and "Traceback" not in err

    assert store.write(rows) == 2  # the next write puts our figures back
    assert [row["session"] for row in SessionStore(path).sessions()] == [
        "s000",
        "s001",
        "s002",
    ]


# --- paths that are not a database (case 12) -----------------------------------------


@pytest.fixture
def small_log(tmp_path: Path) -> Path:
    with SessionLogger(tmp_path / "small", "s") as log:
        log.model_call("gpt-4o", input_tokens=10, output_tokens=5, ended_ts=T0)
    return tmp_path / "small"


def test_history_naming_a_folder_is_a_one_line_error_and_nothing_is_renamed(capsys, tmp_path: Path, small_log: Path):
    folder = tmp_path / "kept"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")

    assert_one_line_error(
        *report(capsys, f"comms:{small_log}", "--history", str(folder)),
        str(folder),
        "folder",
    )
    assert_one_line_error(
        *report(capsys, "--by", "session", "--history", str(folder)),
        str(folder),
        "folder",
    )
    assert (folder / "notes.txt").read_text() == "mine"
    assert not list(tmp_path.glob("*.corrupt-*"))


def test_an_unreadable_history_is_a_one_line_error_and_is_not_moved_aside(
    capsys, monkeypatch, tmp_path: Path, small_log: Path
):
    path = tmp_path / "h.sqlite"
    SessionStore(path).write(sessions_of(1))
    before = path.read_bytes()
    deny_opening(monkeypatch, path)

    assert_one_line_error(
        *report(capsys, f"comms:{small_log}", "--history", str(path)),
        str(path),
        "Permission denied",
    )
    assert path.read_bytes() == before
    assert not list(tmp_path.glob("*.corrupt-*"))


def test_a_store_over_a_folder_or_an_unreadable_file_says_so_and_renames_nothing(monkeypatch, tmp_path: Path):
    folder = tmp_path / "folder"
    folder.mkdir()
    store = SessionStore(folder)
    assert store.write(sessions_of(1)) == 0 and store.sessions() == []
    assert store.notices and all("moved" not in n for n in store.notices)
    assert folder.is_dir()

    device = SessionStore(os.devnull)  # as root, renaming it would break the machine
    assert device.notices and stat.S_ISCHR(os.stat(os.devnull).st_mode)

    path = tmp_path / "h.sqlite"
    path.write_bytes(b"")
    deny_opening(monkeypatch, path)
    store = SessionStore(path)
    assert store.write(sessions_of(1)) == 0
    assert any("Permission denied" in n for n in store.notices)
    assert not list(tmp_path.glob("*.corrupt-*"))


def test_history_in_a_missing_folder_or_under_a_file_is_a_one_line_error(capsys, tmp_path: Path, small_log: Path):
    missing = tmp_path / "no" / "such" / "h.sqlite"
    assert_one_line_error(
        *report(capsys, f"comms:{small_log}", "--history", str(missing)),
        str(missing),
        "existing folder",
    )
    assert not (tmp_path / "no").exists()
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    assert_one_line_error(
        *report(capsys, f"comms:{small_log}", "--history", str(blocker / "h.sqlite")),
        "existing folder",
    )


def test_state_naming_a_folder_is_a_one_line_error_for_report_and_window(capsys, tmp_path: Path, small_log: Path):
    folder = tmp_path / "folder"
    folder.mkdir()
    assert_one_line_error(
        *report(capsys, f"comms:{small_log}", "--state", str(folder)),
        str(folder),
        "folder",
    )
    code = main(["--state", str(folder)])
    _, err = capsys.readouterr()
    assert code == EXIT_USAGE and err.count("\n") == 1 and "folder" in err, err
    assert not list(tmp_path.glob("*.corrupt-*")) and not list(tmp_path.glob("folder.*"))


def test_a_default_state_that_is_a_folder_is_a_one_line_error(capsys, monkeypatch, tmp_path: Path):
    monkeypatch.setenv("SESSION_INSIGHTS_STATE", str(tmp_path))
    assert_one_line_error(*report(capsys), str(tmp_path), "folder")


def test_a_state_under_a_file_is_a_one_line_error_for_the_window(capsys, tmp_path: Path):
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    code = main(["--state", str(blocker / "state.toml")])
    err = capsys.readouterr().err
    assert code == EXIT_USAGE and err.count("\n") == 1 and "existing folder" in err, err


def test_an_unreadable_state_file_is_a_one_line_error_and_is_left_alone(
    capsys, monkeypatch, tmp_path: Path, small_log: Path
):
    path = tmp_path / "state.toml"
    path.write_bytes(state.encode({}))
    deny_opening(monkeypatch, path)
    assert_one_line_error(
        *report(capsys, f"comms:{small_log}", "--state", str(path)),
        str(path),
        "Permission denied",
    )
    code = main(["--state", str(path)])
    assert code == EXIT_USAGE and "Permission denied" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir() if p.name != "small"] == ["state.toml"]


def test_a_device_named_as_state_or_history_is_a_one_line_error(capsys, small_log: Path):
    assert_one_line_error(
        *report(capsys, f"comms:{small_log}", "--state", os.devnull),
        "not a regular file",
    )
    assert_one_line_error(
        *report(capsys, f"comms:{small_log}", "--history", os.devnull),
        "not a regular file",
    )


def test_state_load_of_a_folder_is_a_notice_and_renames_nothing(tmp_path: Path):
    loaded = state.load(tmp_path)
    assert loaded.data is None and loaded.notice and "moved" not in loaded.notice
    assert tmp_path.is_dir()
    assert "left as it is" in state.move_aside(tmp_path, "is not a state file").notice
    assert "left as it is" in state.move_aside(Path(os.devnull), "is not a state file").notice
    assert tmp_path.is_dir() and stat.S_ISCHR(os.stat(os.devnull).st_mode)


# --- a full disk (case 13) ---------------------------------------------------------


def test_sessions_rolled_back_by_a_full_disk_are_written_by_the_next_write(monkeypatch, tmp_path: Path):
    path = tmp_path / "h.sqlite"
    SessionStore(path).close()  # the schema, a few pages
    real_connect = sqlite3.connect
    with real_connect(path) as db:
        pages = db.execute("PRAGMA page_count").fetchone()[0]

    def small_disk(*args, **kwargs):
        db = real_connect(*args, **kwargs)
        db.execute(f"PRAGMA max_page_count = {pages + 4}")  # SQLite's own "database or disk is full"
        return db

    monkeypatch.setattr(sqlite3, "connect", small_disk)
    rows = sessions_of(300)
    store = SessionStore(path)
    assert store.write(rows) == 0
    assert any("full" in n for n in store.notices)
    monkeypatch.setattr(sqlite3, "connect", real_connect)  # room again

    assert store.write(rows) == 300
    store.close()
    assert len(SessionStore(path).sessions()) == 300


def test_a_full_disk_while_creating_the_schema_is_a_notice_and_moves_nothing_aside(monkeypatch, tmp_path: Path):
    path = tmp_path / "h.sqlite"
    sqlite3.connect(path).close()  # an empty database: its tables are yet to be made
    real_connect = sqlite3.connect

    def full_disk(*args, **kwargs):
        db = real_connect(*args, **kwargs)
        db.execute("PRAGMA max_page_count = 1")
        return db

    monkeypatch.setattr(sqlite3, "connect", full_disk)
    store = SessionStore(path)
    assert store.write(sessions_of(1)) == 0
    assert any("full" in n for n in store.notices), store.notices
    assert path.exists() and not list(tmp_path.glob("*.corrupt-*"))


def test_write_atomic_on_a_full_disk_raises_and_leaves_no_temp_file(monkeypatch, tmp_path: Path):
    path = tmp_path / "state.toml"
    state.write_atomic(path, b"schema = 1\n")

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError, match="No space"):
        state.write_atomic(path, state.encode({"window_s": 300}))
    assert [p.name for p in tmp_path.iterdir()] == ["state.toml"]
    assert path.read_bytes() == b"schema = 1\n"


# --- private files (case 15) -------------------------------------------------------


@pytest.fixture
def open_umask():
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_history_and_its_journal_files_are_private(open_umask, tmp_path: Path):
    path = tmp_path / "h.sqlite"
    store = SessionStore(path)
    store.write(sessions_of(3))
    sides = [path, path.with_name("h.sqlite-wal"), path.with_name("h.sqlite-shm")]
    assert {p.name: mode(p) for p in sides} == {p.name: 0o600 for p in sides}
    store.close()


def test_an_existing_history_we_own_is_made_private_when_opened(open_umask, tmp_path: Path):
    path = tmp_path / "h.sqlite"
    sqlite3.connect(path).close()
    os.chmod(path, 0o644)
    wal = path.with_name("h.sqlite-wal")
    wal.write_bytes(b"")
    os.chmod(wal, 0o664)
    SessionStore(path).close()
    assert mode(path) == 0o600
    assert not wal.exists() or mode(wal) == 0o600


def test_private_file_creates_a_file_only_its_owner_may_read_or_narrows_one(open_umask, tmp_path: Path):
    fresh = tmp_path / "layout.ini"
    state.private_file(fresh)
    assert fresh.read_bytes() == b"" and mode(fresh) == 0o600
    fresh.write_text("[Window]\n")
    os.chmod(fresh, 0o644)
    state.private_file(fresh)
    assert fresh.read_text() == "[Window]\n" and mode(fresh) == 0o600
    with pytest.raises(OSError):
        state.private_file(tmp_path)  # a folder is no file of ours


def test_the_state_file_is_private(open_umask, tmp_path: Path):
    path = tmp_path / "state.toml"
    state.write_atomic(path, state.encode({}))
    assert mode(path) == 0o600


def test_temp_files_of_killed_saves_are_removed_at_the_next_start(tmp_path: Path):
    path = tmp_path / "state.toml"
    state.write_atomic(path, state.encode({}))
    old = time.time() - 3_600
    stale = [tmp_path / f".state.toml.{name}.tmp" for name in ("a1b2c3d4", "zz__99xx", "q0w9e8r7")]
    kept = {
        ".state.toml.fresh123.tmp": time.time(),  # another process's save may be under way
        ".other.toml.a1b2c3d4.tmp": old,  # another file's
        ".state.toml.not-ours-at-all.tmp": old,  # not the pattern of our temp names
        "notes.tmp": old,
    }
    for p in stale:
        p.write_bytes(b"half a save")
        os.utime(p, (old, old))
    for name, ts in kept.items():
        (tmp_path / name).write_bytes(b"x")
        os.utime(tmp_path / name, (ts, ts))

    assert state.load(path).notice is None
    # ... and the load kept the state's parsed copy (state_cache.py)
    assert {p.name for p in tmp_path.iterdir()} == {"state.toml", "state.parsed.json", *kept}


def test_a_read_only_load_removes_no_temp_file(tmp_path: Path):
    path = tmp_path / "state.toml"
    temp = tmp_path / ".state.toml.a1b2c3d4.tmp"
    temp.write_bytes(b"half a save")
    os.utime(temp, (0, 0))
    state.load(path, move_corrupt=False)
    assert temp.exists()


# --- state files that are not ours (case 6) ------------------------------------------


def test_a_deeply_nested_state_file_is_moved_aside_instead_of_crashing(tmp_path: Path):
    path = tmp_path / "state.toml"
    path.write_text("schema = 1\nx = " + "[" * 5_000 + "]" * 5_000 + "\n")
    history = TokenHistory(state_path=path)
    assert any("not valid TOML" in n and "moved it to" in n for n in history.notices)
    assert not path.exists() and len(list(tmp_path.glob("state.toml.corrupt-*"))) == 1


def test_a_huge_state_file_is_moved_aside_without_being_read_whole(tmp_path: Path):
    path = tmp_path / "state.toml"
    with open(path, "wb") as f:
        f.write(b"schema = 1\n")
        f.truncate(state.MAX_READ_BYTES + 1)  # sparse: no disk spent
    tracemalloc.start()
    try:
        loaded = state.load(path)
        _, peak_bytes = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert loaded.data is None and "moved it to" in loaded.notice
    assert peak_bytes < 1024 * 1024
    assert not path.exists()
