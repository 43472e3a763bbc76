"""A file read to its end is handed to the history in parts of READ_BYTES (base.tail_files):
the figures are those of one read, each part ends on a line with the position after it,
and a restart from any part's position reads exactly the rest."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from test_claude import assistant, user_tool_result

from session_insights import TokenHistory
from session_insights.sources import base
from session_insights.sources.claude import ClaudeSource


def transcript(path: Path, turns: int, first: int = 0) -> None:
    """Turns of a streamed reply (two copies) that calls a tool, and the tool's result
    (appended to ``path`` from turn ``first`` on)."""
    lines = []
    for i in range(first, first + turns):
        ts = f"2026-11-20T10:{i // 60:02d}:{i % 60:02d}.000Z"
        tool = [{"type": "tool_use", "id": f"toolu_{i}", "name": "Read", "input": {}}]
        for output in (1, 20 + i):  # the streamed copies: the last is the largest
            usage = {"input_tokens": 100 + i, "output_tokens": output, "cache_read_input_tokens": 5}
            lines.append(assistant(ts, f"msg_{i}", f"req_{i}", usage, content=tool))
        lines.append(user_tool_result(ts.replace(".000Z", ".500Z"), f"toolu_{i}"))
    with open(path, "ab") as f:
        f.write(b"".join(orjson.dumps(line) + b"\n" for line in lines))


def read(path: Path, history: TokenHistory | None = None) -> tuple[TokenHistory, list[tuple[int, int]]]:
    """The history after one poll, and (records, offset) of each part handed to it."""
    history = history or TokenHistory()
    parts: list[tuple[int, int]] = []
    add_read = history.add_read

    def noted(file, records, position):
        parts.append((len(records), position["offset"]))
        add_read(file, records, position)

    history.add_read = noted
    source = ClaudeSource(path, history)
    source.poll()
    history.drain()
    return history, parts


def figures(history: TokenHistory) -> dict:
    snap = history.snapshot(now_ts=1_800_000_000)
    return {k: snap[k] for k in ("totals", "by_model", "tools", "sessions")}


@pytest.fixture
def small_parts(monkeypatch):
    monkeypatch.setattr(base, "READ_BYTES", 4096)


def test_a_file_past_read_bytes_comes_in_parts_with_the_figures_of_one_read(tmp_path, monkeypatch):
    path = tmp_path / "s.jsonl"
    transcript(path, 120)
    whole, whole_parts = read(path)
    assert len(whole_parts) == 1  # 120 turns are well under 4 MB
    monkeypatch.setattr(base, "READ_BYTES", 4096)
    parted, parts = read(path)
    assert len(parts) > 10
    offsets = [offset for _, offset in parts]
    assert offsets == sorted(offsets) and offsets[-1] == path.stat().st_size
    data = path.read_bytes()
    assert all(data[offset - 1 : offset] == b"\n" for offset in offsets)  # each part ends on a line
    assert all(b - a <= 4096 for a, b in zip([0, *offsets], offsets))
    assert figures(parted) == figures(whole)
    assert figures(parted)["totals"]["requests"] == 120
    assert figures(parted)["totals"]["output_tokens"] == sum(20 + i for i in range(120))
    assert sum(t["calls"] for t in figures(parted)["tools"].values()) == 120


def test_a_restart_from_a_part_reads_exactly_the_rest(tmp_path, small_parts):
    path = tmp_path / "s.jsonl"
    transcript(path, 120)
    state = tmp_path / "state.toml"
    first = TokenHistory(state_path=state)
    source = ClaudeSource(path, first)
    tail = source._open_tail(path, str(path))
    source.tails[str(path)] = tail
    source._read_part(str(path), tail, base.READ_BYTES)  # one part, then the process ends
    first.drain()
    first.save()
    first.close()
    again, _ = read(path, TokenHistory(state_path=state))
    whole, _ = read(path)
    assert figures(again)["totals"] == figures(whole)["totals"]


def test_a_file_growing_while_read_loses_and_repeats_no_line(tmp_path, small_parts):
    path = tmp_path / "s.jsonl"
    transcript(path, 40)
    history = TokenHistory()
    source = ClaudeSource(path, history)
    parse = source.parse
    grown = []

    def parse_and_grow(line, file):
        if not grown:  # a writer appends while the first part is read
            grown.append(True)
            transcript(path, 25, first=40)
        return parse(line, file)

    source.parse = parse_and_grow
    source.poll()
    source.poll()
    history.drain()
    assert source.tails[str(path)].pos.offset == path.stat().st_size
    totals = figures(history)["totals"]
    assert totals["requests"] == 65
    assert totals["output_tokens"] == sum(20 + i for i in range(65))
