"""One big Claude Code transcript: wall time of `report`'s read with 1 process vs 2.

Writes a single ~200 MB transcript in a temporary folder (streamed copies of each
response, tool uses answered on the next line, prompts and tool output in between: a
usage line per ~1.4 KB), then times what `report` does with it (read_all, drain,
snapshot) with workers=1 and workers=2, in alternating runs, and prints the figures and
whether both gave the same totals. A file is cut into byte ranges only for an adapter
that declares lines_independent; otherwise workers=2 reads it in one process too.

Usage: python benchmarks/big_file.py [--size-mb 200] [--runs 2]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import orjson

from session_insights import TokenHistory
from session_insights.sources import open_source
from session_insights.sources.claude import ClaudeSource

SESSION = "0f3c2a9e-big-file"
TOOLS = ("Read", "Bash", "Edit", "Grep")


def block_of_lines(i: int) -> bytes:
    """1,000 requests: a prompt, three growing copies of a response (the second calls a
    tool), the tool's result."""
    lines = []
    for n in range(1000):
        ts = f"2025-11-{1 + i // 86 % 28:02d}T{10 + n // 3600 % 10:02d}:{n // 60 % 60:02d}:{n % 60:02d}.000Z"
        base = {
            "sessionId": SESSION,
            "cwd": "/home/me/project",
            "timestamp": ts,
            "version": "2.1.3",
        }
        lines.append(
            {
                **base,
                "type": "user",
                "uuid": f"p{i}-{n}",
                "message": {
                    "role": "user",
                    "content": "please look at the parser " * 12,
                },
            }
        )
        for copy, output in enumerate((4, 60 + n % 17, 180 + n % 29)):
            content = (
                [
                    {
                        "type": "tool_use",
                        "id": f"toolu_{i}_{n}",
                        "name": TOOLS[n % 4],
                        "input": {"path": "a.py"},
                    }
                ]
                if copy == 1
                else [{"type": "text", "text": "the parser reads each line " * 18}]
            )
            lines.append(
                {
                    **base,
                    "type": "assistant",
                    "uuid": f"a{i}-{n}-{copy}",
                    "requestId": f"req_{i}_{n}",
                    "message": {
                        "id": f"msg_{i}_{n}",
                        "model": "claude-sonnet-4-5",
                        "role": "assistant",
                        "content": content,
                        "usage": {
                            "input_tokens": 3 + n % 5,
                            "cache_read_input_tokens": 20_000 + n,
                            "cache_creation_input_tokens": 300 + n % 50,
                            "output_tokens": output,
                        },
                    },
                }
            )
        lines.append(
            {
                **base,
                "type": "user",
                "uuid": f"r{i}-{n}",
                "message": {
                    "role": "user",
                    "content": [
                        {
                            "type": "tool_result",
                            "tool_use_id": f"toolu_{i}_{n}",
                            "is_error": n % 9 == 0,
                            "content": "line of output\n" * 20,
                        }
                    ],
                },
            }
        )
    return b"".join(orjson.dumps(x) + b"\n" for x in lines)


def write_transcript(path: Path, size_bytes: int) -> int:
    written = i = 0
    with open(path, "wb") as f:
        while written < size_bytes:
            data = block_of_lines(i)
            f.write(data)
            written += len(data)
            i += 1
    return written


def timed_report(folder: Path, workers: int) -> tuple[float, dict]:
    start = time.perf_counter()
    history = TokenHistory()
    open_source(f"claude:{folder}", history).read_all(workers=workers)
    history.drain()
    snap = history.snapshot(now_ts=0)
    return time.perf_counter() - start, snap["totals"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=float, default=200.0)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="si-big-file-"))
    try:
        (folder / "p").mkdir()
        size = write_transcript(folder / "p" / f"{SESSION}.jsonl", int(args.size_mb * 1024 * 1024))
        print(
            f"one transcript of {size / 2**20:,.0f} MiB; ClaudeSource.lines_independent = "
            f"{ClaudeSource.lines_independent}"
        )
        best: dict[int, float] = {}
        totals: dict[int, dict] = {}
        for _ in range(args.runs):
            for workers in (1, 2):
                wall_s, totals[workers] = timed_report(folder, workers)
                best[workers] = min(best.get(workers, wall_s), wall_s)
        for workers, wall_s in best.items():
            print(f"workers={workers}: {wall_s:.2f} s ({size / 2**20 / wall_s:,.0f} MiB/s), best of {args.runs}")
        print(
            f"speed-up {best[1] / best[2]:.2f}x; same totals: {totals[1] == totals[2]}; "
            f"requests {totals[1]['requests']:,}"
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
