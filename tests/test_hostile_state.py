"""What a damaged state file, a failing source or a failing save must not break: start-up
moves a corrupt state aside and starts clean, the background threads go on with a
notice, and a logged session's calls count once however its file is copied or replaced.
"""

from __future__ import annotations

import math
import re
import shutil
import tomllib
from pathlib import Path

import pytest
import tomli_w

from session_insights.history import TokenHistory
from session_insights.session_logger import SessionLogger
from session_insights.sources import open_source
from session_insights.workers import Saver, SourcePoller

TS = 1_760_000_000.0  # 2025-10-09
CORRUPT_NAME = re.compile(r"^state\.toml\.corrupt-\d{8}-\d{6}(-\d+)?$")


def _saved_state(path: Path) -> dict:
    """A real state file of a small session, as a table to damage."""
    history = TokenHistory(state_path=path)
    for i in range(5):
        history.record_usage(
            "claude-sonnet-4-5", 1000, 100, ts=TS + i * 60, session="s1", tier="Tier 1", request_key=f"r{i}"
        )
    history.record_tool_call("Bash", 120.0, ts=TS + 10, session="s1")
    history.update_ticket("T-1", "completed", ts=TS + 20, track="build")
    history.rate(8, ts=TS + 30, session="s1")
    history.drain()
    history.save()
    return tomllib.loads(path.read_text())


def _set(data: dict, path: str, value: object) -> None:
    """``data`` with the value at a dotted path (``usage.0.counts``) replaced."""
    *parents, last = path.split(".")
    node = data
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


DAMAGE = {
    "timeline level 5000": ("timeline.level", 5000),
    "last_ts infinite": ("span.last_ts", math.inf),
    "first_ts not a number": ("span.first_ts", math.nan),
    "first_ts in year 10000": ("span.first_ts", 253_402_300_800.0),
    "timeline capacity huge": ("timeline.capacity", 10**12),
    "counters as text": ("usage.0.counts", ["a"] * 11),
    "counters too few": ("usage.0.counts", [1, 2, 3]),
    "counter as a float": ("usage.0.counts.1", 1.5),
    "model empty": ("usage.0.model", ""),
    "session start not a time": ("sessions.0.first_ts", "yesterday"),
    "session mark unknown": ("sessions.0.mark", 7),
    "ticket status unknown": ("tickets.0.status", "done-ish"),
    "ticket time infinite": ("tickets.0.ts", math.inf),
    "day far in the future": ("usage.0.days.0.0", 10**9),
    "quarter hour far in the future": ("usage.0.quarters.0.0", 10**9),
    "recent second infinite": ("details.0.recent.0.0", math.inf),
    "window of zero seconds": ("window_s", 0),
    "session timeline level 5000": ("details.0.timeline.level", 5000),
    "session timeline bucket cut short": ("details.0.timeline.buckets.0", [1]),
    "session detail of no session": ("details.0.session", 7),
    "quarter hour of twenty counters": ("usage.0.quarters.0", [1] * 20),
    "quarter counter as text": ("usage.0.quarters.0.1", "x"),
    "session active time infinite": ("sessions.0.active_s", math.inf),
    "ticket session time not a time": ("tickets.0.session_ts", "soon"),
    "tool session not text": ("tools.0.session", 5),
    "tools not a table row": ("tools.0", 5),
    "remembered request cut short": ("recent_requests.0", ["r0", 1.0]),
    "remembered request time nan": ("recent_requests.0.1", math.nan),
    "budget negative": ("budget_usd", -3.0),
    "usage not an array": ("usage", "everything"),
    "errors not a table": ("errors", [1, 2]),
    "open headers not names": ("ui.open_headers", [1, 2]),
    "ui scale not a number": ("ui.scale", "huge"),
}


@pytest.mark.parametrize("case", sorted(DAMAGE))
def test_a_corrupt_value_in_state_toml_moves_it_aside_and_starts_clean(tmp_path: Path, case: str):
    path = tmp_path / "state.toml"
    data = _saved_state(path)
    data.setdefault("budget_usd", 10.0)
    data["ui"] = {"open_headers": ["timeline", "tools"], "scale": 1.25}
    field, value = DAMAGE[case]
    _set(data, field, value)
    path.write_text(tomli_w.dumps(data))

    history = TokenHistory(state_path=path)  # must not raise

    assert history.snapshot()["totals"]["requests"] == 0, "started clean"
    assert any("moved it to" in n for n in history.notices), history.notices
    assert [p.name for p in tmp_path.iterdir() if CORRUPT_NAME.match(p.name)], "the damaged file is kept aside"
    history.record_usage("claude-sonnet-4-5", 10, 1, ts=TS + 1000)
    history.drain()
    history.save()  # and the clean start saves again
    assert TokenHistory(state_path=path).snapshot()["totals"]["requests"] == 1


def test_a_5000_deep_nested_array_in_state_toml_moves_it_aside(tmp_path: Path):
    path = tmp_path / "state.toml"
    path.write_text("schema = 1\nui = { x = " + "[" * 5000 + "]" * 5000 + " }\n")
    history = TokenHistory(state_path=path)
    assert history.snapshot()["totals"]["requests"] == 0
    assert any("moved it to" in n for n in history.notices), history.notices


def test_a_state_saved_and_loaded_is_unchanged_by_the_checks(tmp_path: Path):
    path = tmp_path / "state.toml"
    _saved_state(path)
    before = TokenHistory(state_path=path)
    assert not before.notices
    snap = before.snapshot()
    assert snap["totals"]["requests"] == 5 and snap["tools"]["Bash"]["calls"] == 1
    assert snap["tickets"]["by_status"]["completed"] == 1 and snap["efficiency"]["ratings"] == 1


# --- threads that must not die quietly ------------------------------------------------


class _Exploding:
    """A source whose reading fails with a bug, as an adapter could."""

    def __init__(self, history: TokenHistory):
        self.history, self.label, self.polls = history, "otel:/tmp/spans.jsonl", 0

    def poll(self) -> int:
        self.polls += 1
        raise OverflowError("int too large to convert to float")


def test_a_source_that_fails_is_a_notice_and_the_others_keep_being_polled(tmp_path: Path):
    history = TokenHistory()
    log = tmp_path / "s.comms.jsonl"
    log.write_text('{"kind": "model_call", "ts": 1760000000, "model": "gpt-4o", "usage": {"input_tokens": 5}}\n')
    bad = _Exploding(history)
    poller = SourcePoller([bad, open_source(f"comms:{log}", history)])
    poller.poll_once()
    with log.open("a") as f:
        f.write('{"kind": "model_call", "ts": 1760000060, "model": "gpt-4o", "usage": {"input_tokens": 7}}\n')
    poller.poll_once()
    history.drain()
    assert bad.polls == 2, "the failing source is tried again"
    assert history.snapshot()["totals"]["input_tokens"] == 12, "the other source kept being read"
    assert any("otel:/tmp/spans.jsonl: reading failed (OverflowError" in n for n in history.notices)


def test_a_save_that_fails_with_any_error_is_a_notice_and_the_next_save_happens(tmp_path: Path, monkeypatch):
    history = TokenHistory(state_path=tmp_path / "state.toml")
    history.record_usage("gpt-4o", 10, 1, ts=TS)
    history.drain()
    saver = Saver(history)
    real_save = history.save
    monkeypatch.setattr(
        history, "save", lambda: (_ for _ in ()).throw(UnicodeEncodeError("utf-8", "x", 0, 1, "surrogates not allowed"))
    )
    saver.save()
    assert any("could not save" in n and "UnicodeEncodeError" in n for n in history.notices)
    monkeypatch.setattr(history, "save", real_save)
    saver.save()
    assert (tmp_path / "state.toml").exists()


# --- a logged session counts each call once ------------------------------------------


def _log_calls(folder: Path, session: str, n: int, start: int = 0) -> Path:
    with SessionLogger(folder, session) as log:
        for i in range(start, start + n):
            log.model_call("gpt-4o", input_tokens=100 + i, output_tokens=10, ended_ts=TS + i)
    return folder / f"{session}.comms.jsonl"


def test_a_replaced_comms_log_counts_each_call_once(tmp_path: Path):
    """A comms log replaced by a longer copy of itself (a sync tool, an editor's save)
    is read again from its start: the calls it held before count once."""
    logs = tmp_path / "logs"
    path = _log_calls(logs, "s1", 5)
    history = TokenHistory()
    source = open_source(f"comms:{logs}", history)
    source.poll()
    history.drain()
    copy = tmp_path / "copy.jsonl"
    shutil.copy(path, copy)
    with SessionLogger(tmp_path / "more", "s1") as log:
        for i in range(5, 7):
            log.model_call("gpt-4o", input_tokens=100 + i, output_tokens=10, ended_ts=TS + i)
    with copy.open("ab") as f:
        f.write((tmp_path / "more" / "s1.comms.jsonl").read_bytes())
    copy.replace(path)  # a new file (a new inode) in its place
    source.poll()
    history.drain()
    assert history.snapshot()["totals"]["requests"] == 7


# --- a request seen before a restart never counts again -------------------------------


def _claude_line(i: int, output_tokens: int = 50, session: str = "5b1c0000-0000-4000-8000-000000000001") -> bytes:
    import orjson

    return (
        orjson.dumps(
            {
                "type": "assistant",
                "sessionId": session,
                "timestamp": f"2025-11-20T10:{i // 60:02d}:{i % 60:02d}.000Z",
                "requestId": f"req_{i}",
                "cwd": "/home/me/shop",
                "message": {
                    "id": f"msg_{i}",
                    "model": "claude-sonnet-4-5-20250929",
                    "role": "assistant",
                    "usage": {"input_tokens": 10, "output_tokens": output_tokens},
                },
            }
        )
        + b"\n"
    )


def _read(history: TokenHistory, folder: Path) -> int:
    open_source(f"claude:{folder}", history).poll()
    history.drain()
    return history.snapshot()["totals"]["requests"]


def test_a_resumed_session_copying_300_earlier_requests_after_a_restart_counts_them_once(tmp_path: Path):
    """Claude Code's resume copies the earlier messages (same message and request ids)
    into a new transcript. Before a restart only the last 64 keys were remembered: 536
    requests were counted where 300 (+2 new) were made."""
    logs, state = tmp_path / "projects" / "-home-me-shop", tmp_path / "state.toml"
    logs.mkdir(parents=True)
    (logs / "first.jsonl").write_bytes(b"".join(_claude_line(i) for i in range(300)))
    first = TokenHistory(state_path=state)
    assert _read(first, logs) == 300
    first.save()

    (logs / "resumed.jsonl").write_bytes(b"".join(_claude_line(i) for i in range(302)))
    second = TokenHistory(state_path=state)
    assert not second.notices
    assert _read(second, logs) == 302
    assert second.snapshot()["totals"]["output_tokens"] == 302 * 50
    second.save()

    # And a third run, which also reads the copies the second one made, counts nothing more.
    (logs / "again.jsonl").write_bytes(b"".join(_claude_line(i) for i in range(302)))
    third = TokenHistory(state_path=state)
    assert _read(third, logs) == 302


def test_a_report_from_a_saved_state_knows_its_requests_without_writing(tmp_path: Path):
    logs, state = tmp_path / "projects" / "-home-me-shop", tmp_path / "state.toml"
    logs.mkdir(parents=True)
    (logs / "first.jsonl").write_bytes(b"".join(_claude_line(i) for i in range(100)))
    first = TokenHistory(state_path=state)
    _read(first, logs)
    first.save()
    (logs / "resumed.jsonl").write_bytes(b"".join(_claude_line(i) for i in range(101)))
    keys_file = tmp_path / "state.history.sqlite"
    before = keys_file.read_bytes()
    report = TokenHistory(state_path=state, read_only=True)
    assert _read(report, logs) == 101
    assert keys_file.read_bytes() == before, "a read-only history writes no key"


def test_keys_of_a_save_that_never_completed_are_not_trusted(tmp_path: Path, monkeypatch):
    """The keys are written before the state that counts them; if that state is never
    written (a crash, a full disk), the lines they came from are read again after the
    restart and must count."""
    from session_insights import state as state_file

    logs, state = tmp_path / "projects" / "-home-me-shop", tmp_path / "state.toml"
    logs.mkdir(parents=True)
    path = logs / "first.jsonl"
    path.write_bytes(b"".join(_claude_line(i) for i in range(10)))
    history = TokenHistory(state_path=state)
    source = open_source(f"claude:{logs}", history)
    source.poll()
    history.drain()
    history.save()
    with path.open("ab") as f:
        f.write(b"".join(_claude_line(i) for i in range(10, 15)))
    source.poll()
    history.drain()

    def disk_full(*_args, **_kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(state_file, "write_atomic", disk_full)
    with pytest.raises(OSError):
        history.save()
    monkeypatch.undo()

    restarted = TokenHistory(state_path=state)
    assert _read(restarted, logs) == 15, "the 5 requests the saved state lacks count after the restart"


def test_a_larger_streamed_copy_after_a_restart_replaces_the_saved_copy(tmp_path: Path):
    logs, state = tmp_path / "projects" / "-home-me-shop", tmp_path / "state.toml"
    logs.mkdir(parents=True)
    path = logs / "first.jsonl"
    path.write_bytes(b"".join(_claude_line(i, output_tokens=5) for i in range(20)))
    first = TokenHistory(state_path=state)
    _read(first, logs)
    first.save()
    with path.open("ab") as f:  # the final copies of the last 20 requests, larger
        f.write(b"".join(_claude_line(i, output_tokens=50) for i in range(20)))
    second = TokenHistory(state_path=state)
    assert _read(second, logs) == 20
    assert second.snapshot()["totals"]["output_tokens"] == 20 * 50


@pytest.mark.parametrize("ts", [1e12, 253_402_300_800.0, 0.5, -1.0, math.nan, math.inf])
def test_the_host_api_refuses_a_time_outside_2000_to_2100_on_its_fast_path_too(ts: float):
    history = TokenHistory()
    history.record_usage("gpt-4o", 10, 1, ts=1_760_000_000.0)  # the model name now takes the fast path
    with pytest.raises(ValueError, match="ts"):
        history.record_usage("gpt-4o", 10, 1, ts=ts)
    assert history.drain() == 1


def test_a_state_file_that_cannot_be_read_is_never_overwritten(tmp_path: Path, monkeypatch):
    """Root reads anything, so unreadability is simulated at the open: the file is the
    user's, and a clean start must not save over it."""
    import os

    path = tmp_path / "state.toml"
    _saved_state(path)
    before = path.read_bytes()
    real_open = os.open

    def denied(file, flags, *args, **kwargs):
        if Path(file) == path and not flags & (os.O_WRONLY | os.O_RDWR):
            raise PermissionError(13, "Permission denied")
        return real_open(file, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", denied)
    history = TokenHistory(state_path=path)
    monkeypatch.undo()
    assert any("could not be read" in n for n in history.notices), history.notices
    history.record_usage("gpt-4o", 10, 1, ts=TS)
    history.drain()
    with pytest.raises(OSError, match="not overwritten"):
        history.save()
    assert path.read_bytes() == before


def test_a_host_state_path_naming_a_folder_is_a_notice_and_no_save_replaces_it(tmp_path: Path):
    folder = tmp_path / "state.toml"
    folder.mkdir()
    history = TokenHistory(state_path=folder)
    assert history.notices
    with pytest.raises(OSError):
        history.save()
    assert folder.is_dir()


def test_a_log_replaced_while_the_app_was_closed_is_read_again_after_the_restart(tmp_path: Path):
    """The saved read position keeps a digest of the file's first bytes: a file rewritten
    in place (same inode) and grown past the saved offset is told from one that grew."""
    logs, state = tmp_path / "logs", tmp_path / "state.toml"
    logs.mkdir()
    path = logs / "s1.comms.jsonl"

    def lines(n: int, tokens: int) -> bytes:
        return b"".join(
            b'{"kind": "model_call", "ts": %d, "model": "gpt-4o", "usage": {"input_tokens": %d}}\n'
            % (1_760_000_000 + i, tokens)
            for i in range(n)
        )

    path.write_bytes(lines(8, 100))
    first = TokenHistory(state_path=state)
    open_source(f"comms:{logs}", first).poll()
    first.drain()
    first.save()
    with path.open("r+b") as f:  # rewritten in place: same inode, new head, longer than before
        f.truncate(0)
        f.write(lines(13, 7))
    second = TokenHistory(state_path=state)
    open_source(f"comms:{logs}", second).poll()
    second.drain()
    snap = second.snapshot()
    assert snap["totals"]["requests"] == 8 + 13
    assert snap["totals"]["input_tokens"] == 8 * 100 + 13 * 7


def test_a_read_only_history_over_a_relative_state_path_reads_its_keys(tmp_path: Path, monkeypatch):
    """`report --state state.toml` (a relative path) crashed once a history sat beside it:
    'relative path can't be expressed as a file URI'."""
    monkeypatch.chdir(tmp_path)
    logs = Path("projects") / "-home-me-shop"
    logs.mkdir(parents=True)
    (logs / "first.jsonl").write_bytes(b"".join(_claude_line(i) for i in range(5)))
    first = TokenHistory(state_path="state.toml")
    _read(first, logs)
    first.save()
    (logs / "resumed.jsonl").write_bytes(b"".join(_claude_line(i) for i in range(6)))
    report = TokenHistory(state_path="state.toml", read_only=True)
    assert not report.notices
    assert _read(report, logs) == 6


@pytest.mark.parametrize("bad", [{"project": "p\ud800"}, {"session_id": "a/b"}, {"session_id": "s\ud800"}])
def test_a_session_logger_refused_leaves_no_file_behind(tmp_path: Path, bad: dict):
    folder = tmp_path / "logs"
    with pytest.raises(ValueError):
        SessionLogger(folder, **{"session_id": "s2", **bad})
    assert not folder.exists() or not list(folder.iterdir())


# --- read positions live beside the state, so it stays small ---------------------------


def _comms_logs(folder: Path, n: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (folder / f"{i:08x}.comms.jsonl").write_text(
            f'{{"kind": "model_call", "ts": {TS + i}, "model": "gpt-4o", "session": "s{i}", '
            f'"usage": {{"input_tokens": 100, "output_tokens": 10}}}}\n'
        )


def test_state_toml_stays_within_256_kb_with_10000_log_files_and_a_restart_reads_none_again(tmp_path: Path):
    from session_insights import state as state_file

    logs, path = tmp_path / "logs", tmp_path / "state.toml"
    _comms_logs(logs, 10_000)
    first = TokenHistory(state_path=path)
    open_source(f"comms:{logs}", first).poll()
    first.drain()
    assert first.save() <= state_file.MAX_STATE_BYTES
    with (logs / "00000007.comms.jsonl").open("a") as f:
        f.write(
            f'{{"kind": "model_call", "ts": {TS + 99_999}, "model": "gpt-4o", "session": "s7", '
            f'"usage": {{"input_tokens": 5}}}}\n'
        )

    second = TokenHistory(state_path=path)
    assert not second.notices
    assert open_source(f"comms:{logs}", second).poll() == 1, "only the appended line is read"
    second.drain()
    totals = second.snapshot()["totals"]
    assert (totals["requests"], totals["input_tokens"]) == (10_001, 1_000_005)


def test_a_state_whose_history_was_removed_starts_clean_and_counts_each_request_once(tmp_path: Path):
    logs, path = tmp_path / "logs", tmp_path / "state.toml"
    _comms_logs(logs, 20)
    first = TokenHistory(state_path=path)
    open_source(f"comms:{logs}", first).poll()
    first.drain()
    first.save()
    for side in ("", "-wal", "-shm"):
        (tmp_path / f"state.history.sqlite{side}").unlink(missing_ok=True)

    second = TokenHistory(state_path=path)
    assert any("does not hold" in n and "moved it to" in n for n in second.notices), second.notices
    assert [p.name for p in tmp_path.iterdir() if CORRUPT_NAME.match(p.name)], "the old state is kept aside"
    open_source(f"comms:{logs}", second).poll()
    second.drain()
    assert second.snapshot()["totals"]["requests"] == 20, "read again from the start, once"


def test_a_log_renamed_over_by_a_copy_of_itself_while_stopped_is_read_on_from_its_offset(tmp_path: Path):
    """The saved position keeps digests of the file's head and of the bytes before the
    offset: a new file with the same content up to there plus new lines is the same log."""
    logs, path = tmp_path / "logs", tmp_path / "state.toml"
    with SessionLogger(logs, "s1") as log:
        for i in range(100):  # past the 4 KiB the head digest covers
            log.tool_call("pytest", 100.0, ts=TS + i)
    tools = logs / "s1.tools.jsonl"
    assert tools.stat().st_size > 2 * 4096
    first = TokenHistory(state_path=path)
    open_source(f"comms:{logs}", first).poll()
    first.drain()
    first.save()
    copy = tmp_path / "copy.jsonl"
    copy.write_bytes(tools.read_bytes() + tools.read_bytes().splitlines(keepends=True)[0])
    copy.replace(tools)  # a new inode: the same calls, then one more line

    second = TokenHistory(state_path=path)
    open_source(f"comms:{logs}", second).poll()
    second.drain()
    assert second.snapshot()["tools"]["pytest"]["calls"] == 101


# --- a save keeps no position past what it counts -----------------------------------------


def test_a_save_while_read_records_wait_in_the_inbox_loses_none_of_them(tmp_path: Path):
    """The poller thread queues what it read and the render thread applies it: a save in
    between (then a kill) used to keep the files' positions past records the state did not
    count, and a restart never read them again (487 requests of a log came out as 0)."""
    logs, state = tmp_path / "projects" / "-home-me-shop", tmp_path / "state.toml"
    logs.mkdir(parents=True)
    (logs / "a.jsonl").write_bytes(b"".join(_claude_line(i) for i in range(400)))
    comms = tmp_path / "b.comms.jsonl"
    with comms.open("w") as f:
        for i in range(50):
            f.write(f'{{"kind": "tool_call", "ts": {TS + i}, "name": "Bash", "duration_ms": 5}}\n')
    history = TokenHistory(state_path=state)
    open_source(f"claude:{logs}", history).poll()
    open_source(f"comms:{comms}", history).poll()
    history.drain(max_records=150)  # a frame's worth applied, the rest still queued
    history.save()  # ... and then the process is killed

    restarted = TokenHistory(state_path=state)
    assert _read(restarted, logs) == 400
    open_source(f"comms:{comms}", restarted).poll()
    restarted.drain()
    assert restarted.snapshot()["tools"]["Bash"]["calls"] == 50


def _saved_over(folder: Path, n: int) -> tuple[Path, Path]:
    """(logs, state) of a state that read ``n`` comms requests and saved once."""
    logs, state = folder / "logs", folder / "state.toml"
    _comms_logs(logs, n)
    history = TokenHistory(state_path=state)
    open_source(f"comms:{logs}", history).poll()
    history.drain()
    history.save()
    history.close()  # as the app does when it exits
    return logs, state


def test_a_state_copied_from_another_folder_is_not_taken_for_this_ones(tmp_path: Path):
    """Both states are at their first save (generation 1): the copy names the same
    generation as the history beside it, but not the same state."""
    _, x_state = _saved_over(tmp_path / "x", 48)
    y_logs, y_state = _saved_over(tmp_path / "y", 75)
    y_state.write_bytes(x_state.read_bytes())
    history = TokenHistory(state_path=y_state)
    assert any("copied from elsewhere" in n for n in history.notices), history.notices
    open_source(f"comms:{y_logs}", history).poll()
    history.drain()
    assert history.snapshot()["totals"]["requests"] == 75


def test_a_history_locked_at_start_keeps_the_state_and_counts_from_the_logs(tmp_path: Path, monkeypatch):
    import sqlite3

    from session_insights import saved_reads

    logs, state = _saved_over(tmp_path, 30)
    before = state.read_bytes()
    monkeypatch.setattr(saved_reads, "OPEN_TIMEOUT_S", 0.05)
    holder = sqlite3.connect(tmp_path / "state.history.sqlite", isolation_level=None)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")  # another program holds it, for longer than we wait
    try:
        history = TokenHistory(state_path=state)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert any("was not used" in n and "does not save over it" in n for n in history.notices), history.notices
    open_source(f"comms:{logs}", history).poll()
    history.drain()
    assert history.snapshot()["totals"]["requests"] == 30, "counted once, from the logs"
    with pytest.raises(OSError):
        history.save()
    assert state.read_bytes() == before, "kept for a run that can read what it read"
    assert TokenHistory(state_path=state).snapshot()["totals"]["requests"] == 30


def test_a_report_from_a_state_in_a_read_only_folder_uses_it(tmp_path: Path, monkeypatch):
    """Root writes anywhere, so the read-only folder is simulated where SQLite would
    create its shared-memory file; a clean exit leaves none."""
    import sqlite3

    from session_insights import saved_reads

    logs, state = _saved_over(tmp_path, 12)
    real_connect = sqlite3.connect

    def read_only_folder(target, *args, **kwargs):
        if "immutable=1" not in str(target):
            raise sqlite3.OperationalError("unable to open database file")
        return real_connect(target, *args, **kwargs)

    monkeypatch.setattr(saved_reads.sqlite3, "connect", read_only_folder)
    report = TokenHistory(state_path=state, read_only=True)
    assert not report.notices
    assert report.snapshot()["totals"]["requests"] == 12
    assert open_source(f"comms:{logs}", report).poll() == 0, "nothing is read twice"


def test_a_history_of_garbage_bytes_is_moved_aside_and_saves_go_on(tmp_path: Path):
    logs, state = _saved_over(tmp_path, 10)
    history_file = tmp_path / "state.history.sqlite"
    for side in ("-wal", "-shm"):
        (tmp_path / f"state.history.sqlite{side}").unlink(missing_ok=True)
    history_file.write_bytes(b"\x00garbage" * 2000)
    history = TokenHistory(state_path=state)
    assert any("is not a readable session history" in n for n in history.notices), history.notices
    open_source(f"comms:{logs}", history).poll()
    history.drain()
    assert history.snapshot()["totals"]["requests"] == 10
    history.save()  # no longer fails for good
    assert TokenHistory(state_path=state).snapshot()["totals"]["requests"] == 10


HOLDER = """
import sys, time
from session_insights.history import TokenHistory
h = TokenHistory(state_path=sys.argv[1])
h.record_usage("gpt-4o", 10, 1, ts=1_760_000_000.0)
h.drain()
h.save()
print("holding", flush=True)
time.sleep(60)
"""


def test_a_second_process_on_one_state_shows_it_but_never_saves_over_it(tmp_path: Path):
    """Two windows on one state each saved over the other's counts (488 requests read,
    292 kept): the second to open it now leaves saving to the first."""
    import subprocess
    import sys

    state = tmp_path / "state.toml"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(state)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "holding\n"
        before = state.read_bytes()
        second = TokenHistory(state_path=state)
        assert any("being written by another session-insights" in n for n in second.notices), second.notices
        assert second.snapshot()["totals"]["requests"] == 1, "its figures are shown"
        second.record_usage("gpt-4o", 10, 1, ts=1_760_000_060.0)
        second.drain()
        with pytest.raises(OSError, match="another session-insights"):
            second.save()
        assert state.read_bytes() == before
    finally:
        holder.kill()
        holder.wait()
    third = TokenHistory(state_path=state)  # the first one is gone: this one writes again
    assert not third.notices
    third.save()


def test_thousands_of_model_names_fold_into_other_models_and_the_state_stays_small(tmp_path: Path):
    from session_insights import state as state_file

    path = tmp_path / "state.toml"
    history = TokenHistory(state_path=path)
    for i in range(3000):
        history.record_usage(f"model-{i:04d}", 100 + i, 10, ts=TS + i, session=f"s{i % 50}")
    history.record_usage("gpt-4o", 1_000_000, 1000, ts=TS + 5000, session="s1")
    history.drain()
    before = history.snapshot()["totals"]
    assert history.save() <= state_file.MAX_STATE_BYTES
    after = TokenHistory(state_path=path).snapshot()
    assert after["totals"] == before
    assert "gpt-4o" in after["by_model"] and "(other models)" in after["by_model"]
