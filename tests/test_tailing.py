"""Live tailing: a source polled while its files grow, split, shrink and rotate, with a
history draining in between, counts every request exactly once."""

import os
from pathlib import Path

import orjson

from session_insights import TokenHistory
from session_insights.sources import open_source

SESSION = "sess-tail"


def line(n: int, output: int = 100) -> bytes:
    return (
        orjson.dumps(
            {
                "type": "assistant",
                "sessionId": SESSION,
                "timestamp": f"2025-11-20T10:{n // 60:02d}:{n % 60:02d}Z",
                "requestId": f"req_{n}",
                "message": {
                    "id": f"msg_{n}",
                    "model": "claude-sonnet-4-5",
                    "usage": {"input_tokens": 10, "output_tokens": output},
                },
            }
        )
        + b"\n"
    )


def poll(source, history) -> dict:
    source.poll()
    history.drain()
    return history.snapshot()["totals"]


def setup(tmp_path: Path):
    folder = tmp_path / "projects" / "p"
    folder.mkdir(parents=True)
    history = TokenHistory()
    return folder / f"{SESSION}.jsonl", history, open_source(f"claude:{tmp_path / 'projects'}", history)


def test_appended_lines_show_at_the_next_poll_and_a_half_written_line_waits(tmp_path):
    path, h, source = setup(tmp_path)
    path.write_bytes(line(1) + line(2))
    assert poll(source, h)["requests"] == 2
    whole = line(3)
    with open(path, "ab") as f:
        f.write(whole[:25])  # the writer is mid-line
    assert poll(source, h)["requests"] == 2
    with open(path, "ab") as f:
        f.write(whole[25:] + line(4))
    totals = poll(source, h)
    assert totals["requests"] == 4 and totals["output_tokens"] == 400
    assert h.snapshot()["errors"]["bad_lines"] == 0


def test_new_files_are_picked_up(tmp_path):
    path, h, source = setup(tmp_path)
    path.write_bytes(line(1))
    assert poll(source, h)["requests"] == 1
    (path.parent / "other-session.jsonl").write_bytes(line(50))
    assert poll(source, h)["requests"] == 2


def test_a_truncated_file_is_read_again_without_double_counting(tmp_path):
    path, h, source = setup(tmp_path)
    path.write_bytes(line(1) + line(2) + line(3))
    assert poll(source, h)["requests"] == 3
    # Rewritten shorter, holding requests already counted plus one new one.
    path.write_bytes(line(2) + line(4))
    totals = poll(source, h)
    assert totals["requests"] == 4 and totals["output_tokens"] == 400


def test_a_replaced_file_is_read_from_the_start(tmp_path):
    path, h, source = setup(tmp_path)
    path.write_bytes(line(1) + line(2))
    assert poll(source, h)["requests"] == 2
    rotated = path.with_name("rotated.tmp")
    rotated.write_bytes(line(1) + line(2) + line(3) + line(5, output=300))
    os.replace(rotated, path)  # a new inode at the same path, longer than before
    totals = poll(source, h)
    assert totals["requests"] == 4 and totals["output_tokens"] == 600


def test_a_restart_reads_only_new_bytes(tmp_path):
    path, h, source = setup(tmp_path)
    h.state_path = tmp_path / "state.toml"
    path.write_bytes(line(1) + line(2))
    poll(source, h)
    h.save()
    with open(path, "ab") as f:
        f.write(line(3))
    again = TokenHistory(state_path=tmp_path / "state.toml")
    totals = poll(open_source(f"claude:{tmp_path / 'projects'}", again), again)
    assert totals["requests"] == 3 and totals["output_tokens"] == 300
