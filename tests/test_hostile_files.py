"""Log files built to break a reader: one huge transcript, a file truncated and regrown,
a byte-order mark, a line with no end, a folder that cannot be read, a FIFO named *.jsonl.
Each is read with the totals a plain sequential read of well-formed lines gives, in
bounded memory, and without stalling or blocking the poller."""

from __future__ import annotations

import os
import shutil
import signal
import tracemalloc
from collections.abc import Iterable
from pathlib import Path

import orjson
import pytest

from session_insights import TokenHistory
from session_insights.events import ToolCall, usage_event
from session_insights.sources import base, open_source, parallel, tail
from session_insights.sources.base import LineSource, Memory, bad_reason
from session_insights.sources.tail import FileTail, Position

SESSION = "sess-hostile"
MODEL = "claude-sonnet-4-5"
FILLER = "lorem ipsum dolor sit amet " * 40  # assistant text: never kept, only makes lines realistic


def assistant(n: int, copy: int, output: int, *, tool: str | None = None, session: str = SESSION) -> dict:
    """One streamed copy of request ``n`` (copies share message.id + requestId and time)."""
    content = (
        [{"type": "tool_use", "id": f"toolu_{n}", "name": tool, "input": {"path": "x"}}]
        if tool
        else [{"type": "text", "text": FILLER}]
    )
    return {
        "type": "assistant",
        "sessionId": session,
        "cwd": "/home/me/proj",
        "uuid": f"u{n}-{copy}",
        "timestamp": f"2025-11-20T{10 + n // 3600 % 10:02d}:{n // 60 % 60:02d}:{n % 60:02d}.000Z",
        "requestId": f"req_{n}",
        "message": {
            "id": f"msg_{n}",
            "model": MODEL,
            "role": "assistant",
            "content": content,
            "usage": {
                "input_tokens": 10 + n % 7,
                "cache_read_input_tokens": 1000 + n % 13,
                "cache_creation_input_tokens": n % 5,
                "output_tokens": output,
            },
        },
    }


def tool_result(n: int, ts_n: int, ok: bool = True) -> dict:
    return {
        "type": "user",
        "sessionId": SESSION,
        "uuid": f"r{n}",
        "timestamp": f"2025-11-20T{10 + ts_n // 3600 % 10:02d}:{ts_n // 60 % 60:02d}:{ts_n % 60:02d}.500Z",
        "message": {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": f"toolu_{n}",
                    "is_error": not ok,
                    "content": "done",
                }
            ],
        },
    }


def dumps(objs: Iterable[dict]) -> bytes:
    return b"".join(orjson.dumps(o) + b"\n" for o in objs)


def write_big_transcript(path: Path, target_bytes: int) -> None:
    """A realistic transcript of about ``target_bytes``: each request written in three
    growing copies (one calls a tool, answered on the next line). Around its middle,
    where a cut falls, a request's copies and a tool's use and answer lie far apart."""
    tools = ("Read", "Bash", "Edit")
    chunk = dumps(
        x
        for n in range(1000)
        for x in (
            assistant(n, 0, 5),
            assistant(n, 1, 50 + n % 9, tool=tools[n % 3]),
            assistant(n, 2, 100 + n % 11),
            tool_result(n, n, ok=n % 7 != 0),
        )
    )
    far = 10**6  # request numbers of the far-apart lines
    with open(path, "wb") as f:
        written = 0
        for i in range(max(1, target_bytes // len(chunk))):
            if i == target_bytes // len(chunk) * 4 // 10:
                f.write(dumps([assistant(far, 0, 7, tool="Task")]))
            if i == target_bytes // len(chunk) * 6 // 10:
                f.write(
                    dumps(
                        [
                            assistant(far, 1, 700),
                            tool_result(far, far, ok=False),
                            assistant(far, 2, 9),
                        ]
                    )
                )
            # Each block its own requests (the last two digits of n change with i).
            f.write(
                chunk.replace(b'"req_', f'"req_{i}_'.encode())
                .replace(b'"msg_', f'"msg_{i}_'.encode())
                .replace(b'"toolu_', f'"toolu_{i}_'.encode())
            )
            written += len(chunk)


def figures(snap: dict) -> dict:
    tools = {name: (t["calls"], t["failures"]) for name, t in snap["tools"].items()}
    return {
        "totals": snap["totals"],
        "by_model": snap["by_model"],
        "sessions": snap["sessions"],
        "tools": tools,
        "errors": snap["errors"],
    }


@pytest.fixture(scope="module")
def big_transcript(tmp_path_factory) -> tuple[Path, dict, dict]:
    """(folder, sequential figures, sequential offsets) of one 65 MB transcript."""
    folder = tmp_path_factory.mktemp("big") / "projects"
    (folder / "p").mkdir(parents=True)
    write_big_transcript(folder / "p" / f"{SESSION}.jsonl", 65 * 1024 * 1024)
    h = TokenHistory()
    open_source(f"claude:{folder}", h).poll()
    h.drain()
    return folder, figures(h.snapshot(now_ts=0)), dict(h.offsets)


def spy_jobs(monkeypatch) -> list:
    """The jobs read_all hands to processes, recorded as it plans them."""
    planned: list = []
    balance = parallel._balance

    def recording(pieces, workers):
        jobs = balance(pieces, workers)
        planned.extend(jobs)
        return jobs

    monkeypatch.setattr(parallel, "_balance", recording)
    return planned


def test_one_65_mb_log_is_read_with_the_totals_of_a_sequential_read(big_transcript):
    # It crashed: the files (one) were split over the workers, and the pool got 0 processes.
    folder, sequential, offsets = big_transcript
    h = TokenHistory()
    open_source(f"claude:{folder}", h).read_all(workers=2)
    h.drain()
    assert figures(h.snapshot(now_ts=0)) == sequential
    assert h.offsets == offsets  # the file's offset is its end, as after a sequential read
    size = (folder / "p" / f"{SESSION}.jsonl").stat().st_size
    assert [o["offset"] for o in h.offsets.values()] == [size]
    assert sequential["totals"]["requests"] > 10_000 and sequential["errors"]["bad_lines"] == 0
    assert sequential["tools"]["Task"] == (
        1,
        1,
    )  # its use and answer lie 20% of the file apart


def test_one_65_mb_log_is_read_in_parallel(big_transcript, monkeypatch):
    folder, sequential, offsets = big_transcript
    planned = spy_jobs(monkeypatch)
    h = TokenHistory()
    open_source(f"claude:{folder}", h).read_all(workers=2)
    h.drain()
    assert len(planned) == 2 and all(len(job) == 1 and job[0].split for job in planned)
    assert figures(h.snapshot(now_ts=0)) == sequential and h.offsets == offsets


# --- byte ranges, with an adapter whose lines stand alone but pair across lines ------------


class PairedLines(LineSource):
    """Lines ``{"req": key, "out": n}`` (a request, copies keep the largest), ``{"use": id}``
    and ``{"answer": id}`` (a tool call from use to answer): independent lines that
    still pair, as Claude's tool_use and tool_result do."""

    kind = "comms"
    lines_independent = True

    def __init__(self, path, history):
        super().__init__(path, history)
        self._open = Memory(1000)
        self._answers: list = []

    def parse(self, line: bytes, file: str):
        obj = orjson.loads(line)
        ts = 1_760_000_000.0 + obj["ts"]
        if "req" in obj:
            return [
                usage_event(
                    model="m",
                    ts=ts,
                    input_tokens=1,
                    output_tokens=obj["out"],
                    request_key=obj["req"],
                )
            ]
        if "use" in obj:
            self._open.remember(obj["use"], ts)
            return []
        started = self._open.pop(obj["answer"], None)
        if started is None:
            if self.reading_range:
                self._answers.append((obj["answer"], ts))
            return []
        return [ToolCall(ts, "t", (ts - started) * 1000.0, True, None)]

    def carry(self, file):
        return self._answers, list(self._open.items())

    def settle(self, carried):
        opened, out = {}, []
        for answers, uses in carried:
            out += [ToolCall(ts, "t", (ts - opened.pop(a)) * 1000.0, True, None) for a, ts in answers if a in opened]
            opened.update(uses)
        return out


SOURCE = PairedLines  # what a process reading a range opens (it imports this module)


def paired_file(path: Path) -> None:
    lines = []
    for n in range(3000):
        lines += [{"ts": n, "req": f"r{n}", "out": 1}, {"ts": n, "use": f"u{n}"}]
        if n >= 40:  # each answer 40 requests later: every cut falls between some pairs
            lines.append({"ts": n, "answer": f"u{n - 40}"})
        lines.append({"ts": n, "req": f"r{n}", "out": 5})  # a larger copy, maybe past a cut
    path.write_bytes(b"{}\n" + dumps(lines))  # one bad line too


def test_a_file_read_in_byte_ranges_counts_copies_and_pairs_across_cuts_exactly(tmp_path, monkeypatch):
    path = tmp_path / "paired.jsonl"
    paired_file(path)
    monkeypatch.setattr(base, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(parallel, "MIN_RANGE_BYTES", 1000)
    snaps, offsets = [], []
    planned = spy_jobs(monkeypatch)
    for workers in (1, 3):  # 1: one sequential poll()
        h = TokenHistory()
        PairedLines(path, h).read_all(workers=workers)
        h.drain()
        snaps.append(figures(h.snapshot(now_ts=0)))
        offsets.append(h.offsets)
    assert len(planned) == 3 and [p.index for job in planned for p in job] == [0, 1, 2]
    assert snaps[1] == snaps[0]
    assert snaps[0]["totals"]["requests"] == 3000 and snaps[0]["totals"]["output_tokens"] == 15_000
    assert snaps[0]["tools"] == {"t": (2960, 0)} and snaps[0]["errors"]["bad_lines"] == 1
    assert offsets[1] == offsets[0] == {str(path): {**offsets[0][str(path)], "offset": path.stat().st_size}}


def test_cuts_fall_on_line_starts_inside_the_range(tmp_path):
    path = tmp_path / "lines.jsonl"
    data = b"".join(b"x" * (n % 50) + b"\n" for n in range(2000))
    path.write_bytes(data)
    cuts = parallel.line_starts(str(path), 10, len(data), 4)
    assert len(cuts) == 3 and cuts == sorted(set(cuts)) and all(10 < c < len(data) for c in cuts)
    assert all(data[c - 1 : c] == b"\n" for c in cuts)
    one_line = tmp_path / "one.jsonl"
    one_line.write_bytes(b"y" * 100_000 + b"\n")
    assert parallel.line_starts(str(one_line), 0, 100_001, 4) == []  # nowhere to cut


def test_context_carrying_adapters_and_small_corpora_are_not_split(tmp_path, monkeypatch):
    rollout = tmp_path / "rollout-2025-11-20T10-00-00-x.jsonl"
    rollout.write_bytes(b"{}\n" * 50_000)
    monkeypatch.setattr(parallel, "MIN_RANGE_BYTES", 1000)
    monkeypatch.setattr(base, "PARALLEL_MIN_BYTES", 0)
    planned = spy_jobs(monkeypatch)
    open_source(f"codex:{tmp_path}", TokenHistory()).read_all(workers=2)  # session and totals run on
    assert planned == [] or not any(p.split for job in planned for p in job)
    monkeypatch.undo()

    def no_processes(*args, **kwargs):
        raise AssertionError("a small corpus started processes")

    monkeypatch.setattr(parallel, "ProcessPoolExecutor", no_processes)
    paired_file(tmp_path / "paired.jsonl")
    h = TokenHistory()
    PairedLines(tmp_path / "paired.jsonl", h).read_all(workers=2)  # well under PARALLEL_MIN_BYTES
    h.drain()
    assert h.snapshot()["totals"]["requests"] == 3000


# --- a file truncated and regrown, a byte-order mark ----------------------------------------


def claude_folder(tmp_path: Path) -> tuple[Path, TokenHistory, LineSource]:
    folder = tmp_path / "projects" / "p"
    folder.mkdir(parents=True)
    h = TokenHistory()
    return (
        folder / f"{SESSION}.jsonl",
        h,
        open_source(f"claude:{tmp_path / 'projects'}", h),
    )


def requests(source, h) -> int:
    source.poll()
    h.drain()
    return h.snapshot()["totals"]["requests"]


def test_a_file_truncated_and_regrown_past_its_offset_is_read_from_its_start(tmp_path):
    path, h, source = claude_folder(tmp_path)
    path.write_bytes(dumps(assistant(n, 0, 10) for n in range(10)))
    assert requests(source, h) == 10
    inode = path.stat().st_ino
    # Rewritten in place (same inode) with 13 other requests, longer than before.
    path.write_bytes(dumps(assistant(n, 0, 10, session="sess-new") for n in range(100, 113)))
    assert path.stat().st_ino == inode and path.stat().st_size > 10 * len(orjson.dumps(assistant(0, 0, 10)))
    assert requests(source, h) == 23  # all 13 new ones, not the 8 past the old offset


def test_a_copy_truncated_log_goes_on_from_its_new_start(tmp_path):
    path, h, source = claude_folder(tmp_path)
    path.write_bytes(dumps(assistant(n, 0, 10) for n in range(10)))
    assert requests(source, h) == 10
    shutil.copy(path, path.with_name(path.name + ".1"))  # logrotate's copytruncate
    with open(path, "r+b") as f:
        f.truncate(0)
    with open(path, "ab") as f:  # the writer goes on, past the old offset before the next poll
        f.write(dumps(assistant(n, 0, 10) for n in range(200, 213)))
    assert requests(source, h) == 23


def test_a_position_keeps_the_files_head_and_older_state_without_it_still_loads(
    tmp_path,
):
    path = tmp_path / "log.jsonl"
    path.write_bytes(b"1\n2\n")
    first = FileTail(path)
    list(first.read_lines())
    saved = first.position()
    assert saved["head_len"] == 4 and Position.from_dict(saved).as_dict() == saved
    with open(path, "ab") as f:
        f.write(b"3\n" * 3000)  # the head grows with the file, up to 4096 bytes
    resumed = FileTail(path, Position.from_dict(saved))
    assert len(list(resumed.read_lines())) == 3000 and resumed.pos.head_len == 4096
    path.write_bytes(b"9\n" * 5000)  # same size and inode, other bytes: replaced
    assert list(FileTail(path, Position.from_dict(resumed.position())).read_lines())[:1] == [b"9"]
    old = {"offset": 4, "inode": path.stat().st_ino, "device": path.stat().st_dev}
    assert Position.from_dict(old) == Position(4, old["inode"], old["device"], 0, 0)


def test_a_byte_order_mark_is_not_part_of_the_first_line(tmp_path):
    path, h, source = claude_folder(tmp_path)
    path.write_bytes(b"\xef\xbb\xbf" + dumps(assistant(n, 0, 10) for n in range(3)))
    assert requests(source, h) == 3
    with open(path, "ab") as f:
        f.write(dumps([assistant(3, 0, 10)]))
    assert requests(source, h) == 4 and h.snapshot()["errors"]["bad_lines"] == 0
    assert source.tails[str(path)].pos.offset == path.stat().st_size


# --- a line with no end -------------------------------------------------------------------


@pytest.fixture
def small_limits(monkeypatch):
    monkeypatch.setattr(tail, "MAX_LINE_BYTES", 1024 * 1024)
    monkeypatch.setattr(tail, "CHUNK_BYTES", 64 * 1024)


def test_a_line_longer_than_the_limit_is_one_bad_line_and_its_neighbours_are_read(tmp_path, small_limits):
    path, h, source = claude_folder(tmp_path)
    huge = orjson.dumps({**assistant(1, 0, 10), "junk": "z" * (5 * 1024 * 1024)})
    path.write_bytes(dumps([assistant(0, 0, 10)]) + huge + b"\n" + dumps([assistant(2, 0, 10)]))
    tracemalloc.start()
    try:
        assert requests(source, h) == 2
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < tail.MAX_LINE_BYTES + 4 * tail.CHUNK_BYTES  # the 5 MiB line was never held
    assert h.snapshot()["errors"]["reasons"] == {"line longer than 1 MiB": 1}


def test_a_file_with_no_newline_is_scanned_once_in_bounded_memory(tmp_path, small_limits, monkeypatch):
    path, h, source = claude_folder(tmp_path)
    path.write_bytes(b"y" * (8 * 1024 * 1024))
    read = []
    pread = os.pread
    monkeypatch.setattr(tail.os, "pread", lambda fd, n, at: read.append(n) or pread(fd, n, at))
    tracemalloc.start()
    try:
        assert requests(source, h) == 0
        scanned = sum(read)
        assert requests(source, h) == 0  # nothing new: not scanned again
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert scanned >= 8 * 1024 * 1024 and sum(read) - scanned < 64 * 1024
    assert peak < tail.MAX_LINE_BYTES + 4 * tail.CHUNK_BYTES
    with open(path, "ab") as f:  # the line ends at last, and a good one follows
        f.write(b"\n" + dumps([assistant(5, 0, 10)]))
    assert requests(source, h) == 1
    errors = h.snapshot()["errors"]
    assert errors["bad_lines"] == 1 and errors["reasons"] == {"line longer than 1 MiB": 1}


def test_a_byte_budget_smaller_than_a_line_still_reads_a_line_each_poll(tmp_path):
    path, h, source = claude_folder(tmp_path)
    path.write_bytes(dumps(assistant(n, 0, 10) for n in range(5)))
    for polled in range(1, 6):
        source.poll(max_bytes_per_file=100)  # each line is some 1.3 KB
        h.drain()
        assert h.snapshot()["totals"]["requests"] == polled
    assert source.tails[str(path)].pos.offset == path.stat().st_size


# --- folders and files that are not what they seem ---------------------------------------


def test_an_unreadable_folder_is_a_notice_and_the_other_folders_are_read(tmp_path, monkeypatch):
    """Tests run as root here, where chmod 000 does not stop a read, so the refusal is
    simulated: os.scandir raises PermissionError for that one folder, as it does for a
    user without the right to list it."""
    root = tmp_path / "projects"
    for name in ("a", "locked", "z"):
        (root / name).mkdir(parents=True)
        (root / name / f"{name}.jsonl").write_bytes(dumps([assistant(ord(name[0]), 0, 10)]))
    scandir = os.scandir

    def refusing(path):
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return scandir(path)

    monkeypatch.setattr(base.os, "scandir", refusing)
    h = TokenHistory()
    assert requests(open_source(f"claude:{root}", h), h) == 2
    assert h.notices == [f"claude:{root}: cannot read folder {root / 'locked'} (Permission denied)"]


def test_a_fifo_named_like_a_log_never_blocks_the_poller(tmp_path):
    path, h, source = claude_folder(tmp_path)
    path.write_bytes(dumps([assistant(1, 0, 10)]))
    fifo = path.with_name("pipe.jsonl")
    os.mkfifo(fifo)

    def blocked(signum, frame):
        raise TimeoutError("the poller blocked on a FIFO")

    previous = signal.signal(signal.SIGALRM, blocked)
    signal.alarm(10)  # a blocking open would hang here: fail instead
    try:
        assert requests(source, h) == 1
        with pytest.raises(OSError, match="not a regular file"):
            list(FileTail(fifo).read_lines())  # a path that became a FIFO after it was listed
        alone = TokenHistory()
        assert requests(open_source(f"claude:{fifo}", alone), alone) == 0
        assert alone.notices == [f"claude:{fifo}: {fifo} is neither a regular file nor a folder"]
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_a_file_read_whole_larger_than_the_limit_is_skipped_with_a_notice(tmp_path, monkeypatch):
    monkeypatch.setattr(base, "MAX_WHOLE_BYTES", 1000)
    path = tmp_path / "audit.json"
    path.write_bytes(b"[" + b",".join([b'{"x": 1}'] * 500) + b"]")
    h = TokenHistory()
    source = open_source(f"audit:{path}", h)
    source.poll()
    source.poll()
    assert len(h.notices) == 1 and f"skipped {path}: {path.stat().st_size:,} bytes, over the 1,000" in h.notices[0]
    assert h.snapshot()["errors"]["bad_lines"] == 0


# --- why a line was bad -------------------------------------------------------------------


@pytest.mark.parametrize(
    "exc, reason",
    [
        (
            orjson.JSONDecodeError("unexpected character: line 1 column 3 (char 2)", "{x", 2),
            "not valid JSON",
        ),
        (OverflowError("int too large to convert to float"), "number out of range"),
        (
            ValueError("input_tokens must not be negative, got -4"),
            "input_tokens must not be negative",
        ),
        (
            ValueError("Invalid isoformat string: '2025-13-45T99'"),
            "Invalid isoformat string",
        ),
        (ValueError("model name ' secret ' has surrounding spaces"), "model name"),
        (TypeError("unknown usage fields ['secret']"), "unknown usage fields"),
        (KeyError("secret"), "missing field"),
        (AttributeError("'list' object has no attribute 'get'"), "AttributeError"),
        (ValueError("'secret'"), "ValueError"),
        (
            ValueError(
                "attributes.gen_ai.usage.input_tokens is too many tokens for one request, "
                "got 10,000,000,000 (at most 1,000,000,000)"
            ),
            "attributes.gen_ai.usage.input_tokens is too many tokens for one request",
        ),
    ],
)
def test_a_bad_lines_reason_names_its_kind_without_a_value_from_it(exc, reason):
    assert bad_reason(exc) == reason


def digit_limit_error(text: str) -> ValueError:
    try:
        int(text)
    except ValueError as exc:
        return exc
    raise AssertionError("no digit limit")


def test_a_number_past_pythons_digit_limit_is_a_number_too_long():
    assert bad_reason(digit_limit_error("9" * 5000)) == "number too long"
    try:
        str(10**5000)
    except ValueError as exc:
        assert bad_reason(exc) == "number too long"
    named = ValueError(f"tokens.input: {digit_limit_error('9' * 5000)}")
    assert bad_reason(named) == "tokens.input number too long"


def test_a_long_reason_is_cut_at_a_word_boundary():
    words = "field " + "rather " * 30 + "long"
    reason = bad_reason(ValueError(words))
    assert 80 <= len(reason) <= 100 and words.startswith(reason + " ")
    assert bad_reason(ValueError("x" * 300)) == "x" * 100  # no boundary: cut at the limit


def test_bad_lines_are_counted_by_reason_per_poll(tmp_path):
    path, h, source = claude_folder(tmp_path)
    bad_time = {**assistant(2, 0, 10), "timestamp": "not a time"}
    path.write_bytes(dumps([assistant(1, 0, 10), bad_time, bad_time]) + b'{"usage": {broken\n')
    assert requests(source, h) == 1
    reasons = h.snapshot()["errors"]["reasons"]
    assert reasons.pop("not valid JSON") == 1 and list(reasons.values()) == [2]
    assert "time" in next(iter(reasons)) and "not a time" not in next(iter(reasons))


def test_a_big_comms_log_read_in_byte_ranges_counts_as_a_sequential_read(tmp_path: Path, monkeypatch):
    """SessionLogger lines each name their session and carry a key: a big comms log is cut
    across processes like a Claude transcript, with the same figures."""
    from session_insights.session_logger import SessionLogger

    with SessionLogger(tmp_path, "s1") as log:
        for i in range(3000):
            log.model_call("gpt-4o", input_tokens=100 + i, output_tokens=10, ended_ts=1_760_000_000.0 + i)
            log.tool_call("Bash", 5.0 + i % 7, ok=i % 5 != 0, ts=1_760_000_000.0 + i)
    monkeypatch.setattr(base, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(parallel, "MIN_RANGE_BYTES", 1000)
    planned = spy_jobs(monkeypatch)
    snaps = []
    for workers in (1, 2):
        h = TokenHistory()
        open_source(f"comms:{tmp_path}", h).read_all(workers=workers)
        h.drain()
        snaps.append(figures(h.snapshot(now_ts=0)))
    assert any(p.split for job in planned for p in job), "the log was cut into ranges"
    assert snaps[0] == snaps[1] and snaps[1]["totals"]["requests"] == 3000


# --- a log rewritten as a copy of itself plus more lines ------------------------------------


def replace_with(path: Path, data: bytes) -> None:
    """What a sync tool or an editor does: write a new file, rename it over the old one."""
    new = path.with_name(path.name + ".tmp")
    new.write_bytes(data)
    os.replace(new, path)


def tool_calls(source, h) -> int:
    source.poll()
    h.drain()
    return sum(t["calls"] for t in h.snapshot()["tools"].values())


def test_a_tools_log_replaced_by_a_copy_of_itself_plus_a_line_counts_each_call_once(
    tmp_path,
):
    from session_insights.session_logger import SessionLogger

    with SessionLogger(tmp_path, "s1") as log:
        for i in range(100):  # past 8 KiB: the bytes before the offset are not the head
            log.tool_call("Bash", 5.0, ts=1_760_000_000.0 + i)
    tools = tmp_path / "s1.tools.jsonl"
    h = TokenHistory()
    source = open_source(f"comms:{tools}", h)
    assert tool_calls(source, h) == 100 and tools.stat().st_size > 2 * tail.HEAD_BYTES
    inode = tools.stat().st_ino
    line = orjson.dumps(
        {
            "v": 1,
            "kind": "tool_call",
            "ts": 1_760_000_100.0,
            "session": "s1",
            "name": "Read",
            "duration_ms": 1.0,
            "ok": True,
        }
    )
    replace_with(tools, tools.read_bytes() + line + b"\n")
    assert tools.stat().st_ino != inode
    assert tool_calls(source, h) == 101  # not 201: the first 100 were counted already
    assert source.tails[str(tools)].restarts == 0


def claude_tool_transcript(n: int) -> bytes:
    return dumps(x for i in range(n) for x in (assistant(i, 0, 5), assistant(i, 1, 9, tool="Read"), tool_result(i, i)))


def test_a_transcript_replaced_by_a_copy_plus_a_tool_result_counts_each_tool_once(
    tmp_path,
):
    path, h, source = claude_folder(tmp_path)
    path.write_bytes(claude_tool_transcript(3) + dumps([assistant(3, 1, 9, tool="Bash")]))
    assert tool_calls(source, h) == 3
    replace_with(path, path.read_bytes() + dumps([tool_result(3, 3)]))
    assert tool_calls(source, h) == 4  # not 7
    assert h.snapshot()["tools"]["Read"]["calls"] == 3
    assert h.snapshot()["totals"]["requests"] == 4


def test_a_replaced_file_with_the_same_head_but_other_bytes_before_the_offset_is_read_again(
    tmp_path,
):
    path, h, source = claude_folder(tmp_path)
    first = claude_tool_transcript(3)
    assert len(first) > tail.HEAD_BYTES  # the head is the same in both files below
    path.write_bytes(first + dumps([assistant(10, 0, 5)]))
    assert requests(source, h) == 4
    other = first + dumps([assistant(11, 0, 5), assistant(12, 0, 5)])
    replace_with(path, other)  # larger than the offset, same 4 KiB head, another last line
    assert requests(source, h) == 6  # 11 and 12 are read: the file was read again from 0
    assert source.tails[str(path)].restarts == 1


def test_a_copy_truncated_log_regrown_with_the_same_head_is_read_from_its_start(
    tmp_path,
):
    path, h, source = claude_folder(tmp_path)
    first = claude_tool_transcript(3)
    path.write_bytes(first + dumps([assistant(10, 0, 5)]))
    assert requests(source, h) == 4
    inode = path.stat().st_ino
    with open(path, "r+b") as f:  # logrotate's copytruncate, then the writer goes on
        f.truncate(0)
    with open(path, "ab") as f:
        f.write(first + dumps([assistant(20, 0, 5), assistant(21, 0, 5)]))
    assert path.stat().st_ino == inode
    assert requests(source, h) == 6
    assert source.tails[str(path)].restarts == 1


def test_a_log_replaced_by_a_copy_while_stopped_goes_on_from_its_saved_offset(tmp_path):
    from session_insights.session_logger import SessionLogger

    with SessionLogger(tmp_path, "s1") as log:
        for i in range(60):
            log.tool_call("Bash", 5.0, ts=1_760_000_000.0 + i)
    tools = tmp_path / "s1.tools.jsonl"
    h = TokenHistory()
    assert tool_calls(open_source(f"comms:{tools}", h), h) == 60
    saved = h.offsets[str(tools)]
    assert saved["tail_len"] == tail.HEAD_BYTES and isinstance(saved["tail"], int)
    line = orjson.dumps(
        {
            "v": 1,
            "kind": "tool_call",
            "ts": 1_760_000_100.0,
            "session": "s1",
            "name": "Read",
            "duration_ms": 1.0,
            "ok": True,
        }
    )
    replace_with(tools, tools.read_bytes() + line + b"\n")
    again = TokenHistory()
    again.offsets[str(tools)] = Position.from_dict(saved).as_dict()  # as state.toml keeps it
    assert tool_calls(open_source(f"comms:{tools}", again), again) == 1


def test_a_position_keeps_a_digest_of_the_bytes_before_its_offset(tmp_path):
    path = tmp_path / "log.jsonl"
    path.write_bytes(b"12345\n" * 2000)
    reader = FileTail(path)
    assert len(list(reader.read_lines())) == 2000
    saved = reader.position()
    assert set(saved) == {"offset", "inode", "device", "head_len", "head", "tail_len", "tail"}
    assert saved["tail_len"] == 4096
    assert saved["tail"] == tail.head_digest(path.read_bytes()[-4096:])
    assert Position.from_dict(saved).as_dict() == saved
    older = {k: saved[k] for k in ("offset", "inode", "device", "head_len", "head")}
    assert Position.from_dict(older).as_dict() == {**older, "tail_len": 0, "tail": 0}
    with open(path, "ab") as f:
        f.write(b"x\n" + b"y\n")
    small = FileTail(path, Position.from_dict(saved))
    assert list(small.read_lines()) == [b"x", b"y"]
    assert small.pos.tail == tail.head_digest(path.read_bytes()[-4096:])


def test_a_big_log_grown_since_its_saved_offset_is_read_in_ranges_from_that_offset(tmp_path, monkeypatch):
    path = tmp_path / "paired.jsonl"
    paired_file(path)
    first = TokenHistory()
    PairedLines(path, first).poll()  # read once, as before a restart
    first.drain()  # its position is the file's once what was read up to it is applied
    saved = dict(first.offsets)
    with open(path, "ab") as f:
        f.write(dumps({"ts": 5000 + n, "req": f"new{n}", "out": 2} for n in range(3000)))
    monkeypatch.setattr(base, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(parallel, "MIN_RANGE_BYTES", 1000)
    planned = spy_jobs(monkeypatch)
    h = TokenHistory()
    h.offsets.update(saved)
    PairedLines(path, h).read_all(workers=3)
    h.drain()
    assert sum(p.split for job in planned for p in job) == 3
    totals = h.snapshot()["totals"]
    assert totals["requests"] == 3000 and totals["output_tokens"] == 6000  # the new ones only
    assert h.offsets[str(path)]["offset"] == path.stat().st_size


# --- a finished log whose last line has no newline ------------------------------------------


def test_report_counts_a_last_line_without_its_newline(tmp_path):
    path, h, source = claude_folder(tmp_path)
    path.write_bytes(dumps(assistant(n, 0, 10) for n in range(3)).rstrip(b"\n"))
    source.read_all(workers=1)
    h.drain()
    assert h.snapshot()["totals"]["requests"] == 3
    assert source.tails[str(path)].pos.offset == path.stat().st_size


def test_report_counts_a_half_written_last_line_as_one_bad_line(tmp_path):
    path, h, source = claude_folder(tmp_path)
    whole = dumps([assistant(1, 0, 10)])
    path.write_bytes(dumps([assistant(0, 0, 10)]) + whole[:-20])  # cut in its usage
    source.read_all(workers=1)
    h.drain()
    snap = h.snapshot()
    assert snap["totals"]["requests"] == 1 and snap["errors"]["bad_lines"] == 1


def test_live_tailing_waits_for_the_newline_of_a_last_line(tmp_path):
    path, h, source = claude_folder(tmp_path)
    line = dumps([assistant(1, 0, 10)])
    path.write_bytes(dumps([assistant(0, 0, 10)]) + line[:-1])
    assert requests(source, h) == 1
    with open(path, "ab") as f:
        f.write(b"\n")
    assert requests(source, h) == 2 and h.snapshot()["errors"]["bad_lines"] == 0


def test_a_big_log_read_in_byte_ranges_counts_its_last_line_without_a_newline(tmp_path, monkeypatch):
    path = tmp_path / "paired.jsonl"
    paired_file(path)
    path.write_bytes(path.read_bytes() + orjson.dumps({"ts": 1, "req": "last", "out": 7}))
    monkeypatch.setattr(base, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(parallel, "MIN_RANGE_BYTES", 1000)
    planned = spy_jobs(monkeypatch)
    h = TokenHistory()
    PairedLines(path, h).read_all(workers=3)
    h.drain()
    assert any(p.split for job in planned for p in job)
    totals = h.snapshot()["totals"]
    assert totals["requests"] == 3001 and totals["output_tokens"] == 15_007
    assert h.offsets[str(path)]["offset"] == path.stat().st_size


# --- folders: bad entries, symlinked folders, loops -----------------------------------------


def test_a_self_referencing_symlink_costs_only_itself(tmp_path):
    root = tmp_path / "projects"
    (root / "p").mkdir(parents=True)
    (root / "p" / "a.jsonl").write_bytes(dumps([assistant(1, 0, 10, session="sa")]))
    (root / "p" / "z.jsonl").write_bytes(dumps([assistant(2, 0, 10, session="sz")]))
    os.symlink("loop.jsonl", root / "p" / "loop.jsonl")
    h = TokenHistory()
    assert requests(open_source(f"claude:{root}", h), h) == 2
    assert len(h.notices) == 1 and str(root / "p" / "loop.jsonl") in h.notices[0]
    assert "cannot read folder" not in h.notices[0]


def test_folder_symlinks_are_followed_and_each_real_folder_is_listed_once(tmp_path):
    root = tmp_path / "claude"
    (root / "p1").mkdir(parents=True)
    elsewhere = tmp_path / "elsewhere" / "p2"
    elsewhere.mkdir(parents=True)
    (root / "p1" / "a.jsonl").write_bytes(dumps([assistant(1, 0, 10, session="sa")]))
    (elsewhere / "b.jsonl").write_bytes(dumps([assistant(2, 0, 10, session="sb")]))
    os.symlink("../elsewhere/p2", root / "linkedproj")
    os.symlink(".", root / "p1" / "selfdir")  # a loop onto its own folder
    (root / "x").mkdir()
    (root / "y").mkdir()
    os.symlink("../y", root / "x" / "to_y")  # x/to_y -> y and y/to_x -> x
    os.symlink("../x", root / "y" / "to_x")
    (root / "y" / "c.jsonl").write_bytes(dumps([assistant(3, 0, 10, session="sc")]))
    os.symlink("c.jsonl", root / "y" / "c2.jsonl")  # one file under two names
    h = TokenHistory()
    source = open_source(f"claude:{root}", h)
    assert [p.relative_to(root) for p in source.files()] == [
        Path("linkedproj/b.jsonl"),
        Path("p1/a.jsonl"),
        Path("x/to_y/c.jsonl"),
    ]
    assert requests(source, h) == 3 and h.notices == []


def test_a_link_to_nothing_named_like_a_log_is_a_notice(tmp_path):
    path, h, source = claude_folder(tmp_path)
    path.write_bytes(dumps([assistant(1, 0, 10)]))
    os.symlink("gone.jsonl", path.with_name("dangling.jsonl"))
    os.symlink("gone", path.with_name("not-a-log"))  # not a log's name: not ours to name
    assert requests(source, h) == 1
    dangling = path.with_name("dangling.jsonl")
    assert h.notices == [f"claude:{tmp_path / 'projects'}: cannot read {dangling} (No such file or directory)"]


# --- a whole file that cannot be read is never silence --------------------------------------

LEGACY_CHAT = {
    "sessionId": "legacy-1",
    "projectHash": "0123456789abcdef",
    "startTime": "2025-09-01T08:00:00.000Z",
    "messages": [
        {
            "id": "lg1",
            "timestamp": "2025-09-01T08:00:04.000Z",
            "type": "gemini",
            "model": "gemini-2.5-flash",
            "tokens": {"input": 900, "output": 25},
        },
    ],
}


def legacy_chat_path(tmp_path: Path) -> Path:
    folder = tmp_path / "tmp" / "0123456789abcdef" / "chats"
    folder.mkdir(parents=True)
    return folder / "session-2025-09-01T08-00-3a9e1b2c.json"


def test_a_legacy_gemini_chat_starting_with_a_byte_order_mark_is_read(tmp_path):
    path = legacy_chat_path(tmp_path)
    path.write_bytes(tail.BOM + orjson.dumps(LEGACY_CHAT, option=orjson.OPT_INDENT_2))
    h = TokenHistory()
    assert requests(open_source(f"gemini:{tmp_path / 'tmp'}", h), h) == 1
    assert h.snapshot()["errors"]["bad_lines"] == 0 and h.notices == []


def test_report_counts_a_whole_file_just_written_that_does_not_parse_as_one_bad_line(
    tmp_path,
):
    path = legacy_chat_path(tmp_path)
    path.write_bytes(orjson.dumps(LEGACY_CHAT)[:60])  # written a moment ago, cut short
    h = TokenHistory()
    open_source(f"gemini:{tmp_path / 'tmp'}", h).read_all(workers=1)
    h.drain()
    assert h.snapshot()["errors"]["files"] == {str(path): 1}


def test_a_legacy_chat_replaced_by_a_longer_copy_while_stopped_counts_only_new_messages(
    tmp_path,
):
    path = legacy_chat_path(tmp_path)
    call = {"id": "c1", "name": "read_file", "status": "success", "timestamp": "2025-09-01T08:00:05.000Z"}
    first = {**LEGACY_CHAT["messages"][0], "toolCalls": [call]}
    path.write_bytes(orjson.dumps({**LEGACY_CHAT, "messages": [first]}))
    state = tmp_path / "state.toml"
    h = TokenHistory(state_path=state)
    assert tool_calls(open_source(f"gemini:{tmp_path / 'tmp'}", h), h) == 1
    h.save()
    later = {
        "id": "lg2",
        "timestamp": "2025-09-01T08:01:04.000Z",
        "type": "gemini",
        "model": "gemini-2.5-flash",
        "tokens": {"input": 50, "output": 5},
        "toolCalls": [{**call, "id": "c2", "name": "glob"}],
    }
    replace_with(path, orjson.dumps({**LEGACY_CHAT, "messages": [first, later]}))
    h = TokenHistory(state_path=state)
    assert tool_calls(open_source(f"gemini:{tmp_path / 'tmp'}", h), h) == 2  # not 3
    assert h.snapshot()["totals"]["requests"] == 2
    h.save()
    other = {**first, "id": "other", "toolCalls": [{**call, "id": "c3"}]}
    replace_with(path, orjson.dumps({**LEGACY_CHAT, "messages": [other, later]}))
    h = TokenHistory(state_path=state)  # other messages: another file, read in full
    assert tool_calls(open_source(f"gemini:{tmp_path / 'tmp'}", h), h) == 4


def test_a_source_path_that_is_a_link_loop_says_so(tmp_path):
    loop = tmp_path / "loop.jsonl"
    os.symlink("loop.jsonl", loop)
    with pytest.raises(base.SourceError, match="Too many levels of symbolic links") as raised:
        open_source(f"comms:{loop}", TokenHistory())
    assert "does not exist" not in str(raised.value)


def test_a_source_file_gone_since_it_was_named_costs_only_itself(tmp_path):
    kept, gone = tmp_path / "a.comms.jsonl", tmp_path / "b.comms.jsonl"
    for path in (kept, gone):
        path.write_bytes(b'{"kind": "tool_call", "ts": 1760000000, "name": "Bash"}\n')
    h = TokenHistory()
    source = base.LineSource([kept, gone], h)
    gone.unlink()
    assert source.files() == [kept]
    assert h.notices == [f"{source.label}: cannot read {gone} (No such file or directory)"]
