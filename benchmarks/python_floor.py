"""The least a Python report of Claude Code logs can do, timed against ccusage.

DESIGN §6 asks `report` for <= 0.75x ccusage's wall time. This measures how much of that
a Python process spends before it does anything but add: every file read, every line with
a usage block decoded by orjson, one copy kept per request (message.id + requestId, the
largest), the five token totals summed. No checks, prices, timeline, sessions, tools or
tickets; in as many processes as report uses, files of one folder in one process, as
report spreads them. Its totals are checked against the corpus's expected ones, so the
floor is a correct count, not a skim.

Runs alternate with ccusage on the corpora import_claude.py writes (reused from its
cache). Prints each run, the medians and the floor's ratio to ccusage: whatever this
ratio is, report's per-line work (parse checks, pricing, buckets, tools, tickets) has
only the rest of the 0.75x to fit in.

    python benchmarks/python_floor.py [--sizes 350] [--runs 3] [--ccusage PATH]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import orjson
from claude_corpus import MB, corpus_files
from claude_runs import ChildRun, find_ccusage, page_cache
from import_claude import BUDGET_RATIO, Corpus

FIGURES = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "cache_write_1h_tokens")


def count(files: list[str]) -> dict[str, tuple[int, ...]]:
    """Request key -> its largest copy's five counts, over ``files``."""
    kept: dict[str, tuple[int, ...]] = {}
    for file in files:
        with open(file, "rb") as f:
            for line in f.read().split(b"\n"):
                if b'"usage"' not in line:
                    continue
                try:
                    obj = orjson.loads(line)
                except orjson.JSONDecodeError:
                    continue  # a line cut short
                message = obj.get("message") if obj.get("type") == "assistant" else None
                usage = message.get("usage") if isinstance(message, dict) else None
                if not usage or message.get("model") == "<synthetic>":
                    continue
                write_1h = (usage.get("cache_creation") or {}).get("ephemeral_1h_input_tokens", 0)
                counts = (
                    usage.get("input_tokens", 0),
                    usage.get("output_tokens", 0),
                    usage.get("cache_read_input_tokens", 0),
                    usage.get("cache_creation_input_tokens", 0),  # 5-minute and 1-hour writes
                    write_1h,
                )
                key = f"{message.get('id')}:{obj.get('requestId')}"
                old = kept.get(key)
                if old is None or sum(counts) > sum(old):
                    kept[key] = counts
    return kept


def child(projects: Path) -> None:
    """The timed process: count in processes, merge, print the totals as JSON."""
    folders: dict[Path, list[Path]] = {}
    for path in corpus_files(projects):
        folder = path.parent.parent.parent if path.parent.name == "subagents" else path.parent
        folders.setdefault(folder, []).append(path)
    workers = len(os.sched_getaffinity(0))
    jobs: list[list[str]] = [[] for _ in range(workers)]
    loads = [0] * workers
    for group in sorted(folders.values(), key=lambda g: -sum(p.stat().st_size for p in g)):
        i = loads.index(min(loads))
        jobs[i] += map(str, group)
        loads[i] += sum(p.stat().st_size for p in group)
    merged: dict[str, tuple[int, ...]] = {}
    with ProcessPoolExecutor(workers) as pool:
        for part in pool.map(count, [job for job in jobs if job]):
            for key, counts in part.items():
                old = merged.get(key)
                if old is None or sum(counts) > sum(old):
                    merged[key] = counts
    totals = {"requests": len(merged), **{name: sum(c[i] for c in merged.values()) for i, name in enumerate(FIGURES)}}
    sys.stdout.buffer.write(orjson.dumps(totals))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="350", help="corpus sizes in MB, comma-separated (default 350)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "session-insights-bench")
    ap.add_argument("--ccusage", help="path to ccusage (default: ccusage on the PATH)")
    ap.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child is not None:
        child(args.child)
        return 0
    ccusage = find_ccusage(args.ccusage)
    if ccusage is None:
        print("ccusage not found: give --ccusage PATH")
        return 1
    failed = False
    for size in (float(s) for s in args.sizes.split(",")):
        corpus = Corpus(args.cache, size, args.seed)
        page_cache(corpus.files, drop=False)
        env = {**os.environ, "CLAUDE_CONFIG_DIR": str(corpus.folder)}
        print(f"\n== {corpus.bytes / MB:,.0f} MB")
        floor, theirs = [], []
        for i in range(args.runs):
            order = ("floor", "ccusage") if i % 2 == 0 else ("ccusage", "floor")
            for who in order:
                argv = [sys.executable, __file__, "--child", str(corpus.projects)]
                run = ChildRun(argv) if who == "floor" else ChildRun(ccusage, env)
                print(f"    run {i + 1} {who:8} {run.line(corpus.bytes)}", flush=True)
                if run.exit_code != 0:
                    print(f"    exit {run.exit_code}: {run.stderr.decode(errors='replace')[-2000:]}")
                    return 1
                (floor if who == "floor" else theirs).append(run)
        want = corpus.meta["expected"]["totals"]
        got = orjson.loads(floor[-1].stdout)
        exact = all(got[name] == want[name] for name in ("requests", *FIGURES))
        failed |= not exact
        ours_s, theirs_s = (statistics.median(r.wall_s for r in runs) for runs in (floor, theirs))
        print(
            f"  floor median {ours_s:.2f} s, totals {'exact' if exact else 'DIFFER'}; ccusage median {theirs_s:.2f} s: "
            f"the floor is {ours_s / theirs_s:.2f}x ccusage, of report's budget of {BUDGET_RATIO}x"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
