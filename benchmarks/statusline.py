"""`session-insights statusline`: wall time of one call, as Claude Code makes it.

Runs the installed console script as a subprocess (Python's start, the imports, reading
the captured statusLine JSON, printing the line, recording the observation) many times
in a scratch data folder and prints the median and the 90th percentile; the budget is
100 ms a call. For scale it also times a bare `python -c pass`.

Usage: python benchmarks/statusline.py [--runs 50]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FIXTURE = Path(__file__).parent.parent / "tests/fixtures/claude/statusline/subscriber_after_first_response.json"
BUDGET_MS = 100.0


def _times_ms(cmd: list[str], data: bytes, env: dict[str, str], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, input=data, env=env, capture_output=True, check=True)
        out.append((time.perf_counter() - start) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    script = shutil.which("session-insights", path=str(Path(sys.executable).parent)) or shutil.which("session-insights")
    cmd = [script, "statusline"] if script else [sys.executable, "-m", "session_insights.cli", "statusline"]
    data = FIXTURE.read_bytes()
    with tempfile.TemporaryDirectory(prefix="statusline-bench-") as folder:
        env = dict(os.environ, SESSION_INSIGHTS_STATE=str(Path(folder) / "state.toml"))
        calls = sorted(_times_ms(cmd, data, env, args.runs))
        bare = statistics.median(_times_ms([sys.executable, "-c", "pass"], b"", env, args.runs))
        kept = (Path(folder) / "limits.jsonl").read_bytes().count(b"\n")
    median = statistics.median(calls)
    p90 = calls[int(0.9 * (len(calls) - 1))]
    print(f"statusline: {' '.join(cmd[-2:])}, {args.runs} calls")
    print(
        f"  median {median:.1f} ms, p90 {p90:.1f} ms (budget {BUDGET_MS:.0f} ms: {'within' if p90 <= BUDGET_MS else 'OVER'})"
    )
    print(f"  python -c pass: median {bare:.1f} ms; observations recorded: {kept}")


if __name__ == "__main__":
    main()
