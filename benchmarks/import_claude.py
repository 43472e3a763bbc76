"""Cold import of Claude Code logs, against ccusage and DESIGN §6, every row from one run.

Writes Claude Code corpora of real density (claude_corpus.py: streamed copies, tool
results kept twice, subagents, `<synthetic>` lines, resumed sessions; exact expected
totals computed by the writer) into a cache folder, reused while their format, size and
seed are the same. Then, on one machine and in one run, prints against its budget:
  report     `session-insights report claude:DIR --format json` with an empty history,
             alternating with `ccusage claude daily --offline --json --breakdown`
             (CLAUDE_CONFIG_DIR at the corpus) at each of --sizes: medians of --runs,
             MB/s, the ratio to ccusage (budget <= 0.75x), the load average beside
             every run, and whether the totals are exact;
  memory     peak RSS of the largest process of each run (exact: wait4's ru_maxrss
             covers the child and every process it reaped), and its growth with size
             (budget <= 150 MB, flat);
  start-up   both tools on a 1-session corpus;
  window     (window_backlog.py under Xvfb, on the largest corpus) the time until the
             backlog is fully applied against report's median (budget <= 1.2x), frames
             while catching up (p95 <= 25 ms, Python p99 <= 4 ms), and a warm restart's
             first frame (<= 0.3 s);
  panel      frame.py's docked-panel cost (<= 8 ms p95) and ingest.py's hook throughput
             (>= 400k events/s), skipped in a smoke run.
Asserts no time; exits 1 if report's totals differ from the expected ones.

Usage: python benchmarks/import_claude.py [--sizes 70,350,700] [--runs 3] [--size-mb 5 (smoke)]
           [--seed 1] [--cache DIR] [--remove] [--ccusage PATH] [--skip-ccusage] [--skip-window]
           [--skip-panel] [--drop-caches]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson
from claude_corpus import MB, corpus_files, describe, ensure_corpus
from claude_runs import GNU_TIME, ChildRun, compare, compare_ccusage, find_ccusage, load_text, page_cache

HERE = Path(__file__).resolve().parent
BUDGET_RATIO, BUDGET_RSS_MB = 0.75, 150.0
BUDGET_BACKLOG_X, BUDGET_FRAME_P95_MS, BUDGET_PYTHON_P99_MS, BUDGET_RESTART_S = 1.2, 25.0, 4.0, 0.3
BUDGET_DOCKED_MS, BUDGET_INGEST = 8.0, 400_000
WINDOW_TRIES = 3  # a crash is printed, then tried again: one crash must not hide the other rows
STARTUP_MB = 0.03  # one session of ~30 KB


def report_command(projects: Path, history: Path) -> list[str]:
    """``report`` as a user runs it: it also keeps the sessions in its durable history
    (here in the corpus folder, never the working folder's)."""
    script = Path(sys.executable).parent / "session-insights"
    head = [str(script)] if script.exists() else [sys.executable, "-m", "session_insights.cli"]
    return [*head, "report", f"claude:{projects}", "--format", "json", "--history", str(history)]


def verdict(ok: bool) -> str:
    return "meets" if ok else "MISSES"


class Corpus:
    """One corpus on disk and what it should sum to."""

    def __init__(self, cache: Path, size_mb: float, seed: int):
        self.folder = cache / f"claude-{size_mb:g}mb-seed{seed}"
        self.meta = ensure_corpus(self.folder, size_mb, seed, log=lambda s: print(s, flush=True))
        self.projects = self.folder / "projects"
        self.files = corpus_files(self.projects)
        self.bytes = sum(p.stat().st_size for p in self.files)
        self.history = self.folder / "bench.history.sqlite"

    def fresh_history(self) -> None:
        for stale in self.folder.glob(self.history.name + "*"):
            stale.unlink()  # every run of report is a cold import


class Pairs:
    """Alternating runs of report and ccusage on one corpus: ours first in even pairs."""

    def __init__(self, corpus: Corpus, ccusage: list[str] | None, args: argparse.Namespace):
        self.corpus, self.args = corpus, args
        self.ours: list[ChildRun] = []
        self.theirs: list[ChildRun] = []
        self.cc_command, self.cc_env = ccusage, {**os.environ, "CLAUDE_CONFIG_DIR": str(corpus.folder)}
        self.diffs: list[str] = []
        self.report: dict | None = None
        self.cc_output: dict | None = None

    def run(self, n_runs: int, label: str) -> bool:
        """False if a tool failed (its error printed)."""
        for i in range(n_runs):
            order = ("ours", "theirs") if i % 2 == 0 else ("theirs", "ours")
            for who in order:
                if who == "theirs" and self.cc_command is None:
                    continue
                if not self._one(who, i, label):
                    return False
        return True

    def _one(self, who: str, i: int, label: str) -> bool:
        if self.args.drop_caches:
            page_cache(self.corpus.files, drop=True)
        if who == "ours":
            self.corpus.fresh_history()
            run = ChildRun(report_command(self.corpus.projects, self.corpus.history))
        else:
            run = ChildRun(self.cc_command, self.cc_env)
        print(
            f"    {label} {i + 1} {'report ' if who == 'ours' else 'ccusage'} {run.line(self.corpus.bytes)}", flush=True
        )
        if run.exit_code != 0:
            print(f"    exit {run.exit_code}: {run.stderr.decode(errors='replace')[-2000:]}")
            return False
        out = orjson.loads(run.stdout)
        if who == "ours":
            self.report = out
            self.diffs = self.diffs or compare(self.corpus.meta["expected"], out)
            self.ours.append(run)
        else:
            self.cc_output = out
            self.theirs.append(run)
        return True

    def medians(self) -> tuple[float, float | None]:
        ours = statistics.median(r.wall_s for r in self.ours)
        theirs = statistics.median(r.wall_s for r in self.theirs) if self.theirs else None
        return ours, theirs

    def pair_ratios(self) -> list[float]:
        return [a.wall_s / b.wall_s for a, b in zip(self.ours, self.theirs, strict=False)]

    def max_rss_mb(self, runs: list[ChildRun]) -> float:
        return max(r.max_rss_mb for r in runs)


def measure_size(corpus: Corpus, ccusage: list[str] | None, args: argparse.Namespace) -> Pairs | None:
    print(f"\n== {corpus.bytes / MB:,.0f} MB: {describe(corpus.meta)}")
    page_cache(corpus.files, drop=False)  # every run reads from the page cache unless --drop-caches
    print("  (files in the page cache before the runs" + (", dropped before each run)" if args.drop_caches else ")"))
    pairs = Pairs(corpus, ccusage, args)
    if not pairs.run(args.runs, "run"):
        return None
    ours, theirs = pairs.medians()
    exact = "totals exact" if not pairs.diffs else f"totals DIFFER in {len(pairs.diffs)} figures"
    line = f"  report  median {ours:6.2f} s ({corpus.bytes / MB / ours:6.1f} MB/s), {exact}"
    if theirs is not None:
        ratios = ", ".join(f"{r:.2f}" for r in pairs.pair_ratios())
        ratio = ours / theirs
        line += (
            f"; ccusage median {theirs:6.2f} s: ratio {ratio:.2f}x "
            f"(pairs {ratios}; budget <= {BUDGET_RATIO}x: {verdict(ratio <= BUDGET_RATIO)})"
        )
    print(line)
    for diff in pairs.diffs[:40]:
        print(f"      {diff}")
    if pairs.cc_output is not None and pairs.report is not None:
        rows = compare_ccusage(pairs.report, pairs.cc_output)
        bad = [r for r in rows if not r[3]]
        print(f"  ccusage totals: {len(rows) - len(bad)}/{len(rows)} figures agree with report's")
        for figure, mine, cc, _ in bad[:12]:
            print(f"      {figure:44} report {mine:>18}  ccusage {cc:>18}")
    return pairs


def startup(cache: Path, ccusage: list[str] | None, args: argparse.Namespace) -> dict:
    corpus = Corpus(cache, STARTUP_MB, args.seed)
    print(f"\n== start-up: {describe(corpus.meta)}")
    pairs = Pairs(corpus, ccusage, args)
    pairs.run(max(args.runs, 5), "run")
    ours, theirs = pairs.medians() if pairs.ours else (None, None)
    return {"ours": ours, "theirs": theirs}


def window_rows(corpus: Corpus, args: argparse.Namespace) -> dict:
    """The window's backlog and a warm restart, from window_backlog.py in processes of
    their own (under the X display this script was started with)."""
    state = corpus.folder / "window" / "state.toml"
    shutil.rmtree(state.parent, ignore_errors=True)
    out = corpus.folder / "window-backlog.json"
    out.unlink(missing_ok=True)
    timeout_s = max(60.0, corpus.bytes / MB * 0.8)
    cmd = [sys.executable, str(HERE / "window_backlog.py"), "backlog", str(corpus.projects), str(state), str(out)]
    print(f"\n== window over {corpus.bytes / MB:,.0f} MB (load {load_text()}) ...", flush=True)
    failures = []
    for _ in range(WINDOW_TRIES):
        shutil.rmtree(state.parent, ignore_errors=True)
        proc = subprocess.run([*cmd, "--timeout-s", str(timeout_s)], capture_output=True, text=True, check=False)
        if proc.returncode == 0 and out.exists():
            break
        failures.append(f"exit {proc.returncode}: {(proc.stderr.strip().splitlines() or ['no output'])[-1]}")
        print(f"    the window FAILED ({failures[-1]}); trying again", flush=True)
    else:
        return {"error": f"window_backlog.py failed {WINDOW_TRIES} times; last {failures[-1]}"}
    result = orjson.loads(out.read_bytes())
    result["failures"] = failures
    caught, backlog_s = result["catching_up"], result["backlog_s"]
    if result.get("pending_retried"):
        print(
            f"    history.pending raised {result['pending_error']} {result['pending_retried']} times: the window "
            "would have closed at the first; the benchmark took the count again, under the inbox's lock"
        )
    if result.get("crashes"):
        print(f"    {result['crashes']} frames raised {result['crash']} (skipped: the window would have closed)")
    print(
        f"    backlog applied after {'(not within the timeout)' if backlog_s is None else f'{backlog_s:.1f} s'}, "
        f"{caught['frames']} frames: p95 {caught['frame_ms']['p95']:.1f} ms, Python p99 "
        f"{caught['python_ms']['p99']:.1f} ms (load {load_text()})"
    )
    restarts = []
    for _ in range(max(args.runs, 3)):
        cmd = [sys.executable, str(HERE / "window_backlog.py"), "restart", str(corpus.projects), str(state), str(out)]
        load = load_text()
        started = time.perf_counter()
        with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as child:
            first = ""
            while not first.startswith("first-frame"):
                first = child.stdout.readline()
                if not first:
                    break
            first_s = time.perf_counter() - started
            _, err = child.communicate()
        if not first.startswith("first-frame"):
            return {**result, "restart_error": f"exit {child.returncode}: {err.strip()[-800:]}"}
        restarts.append(first_s)
        print(f"    warm restart, first frame {first_s:.3f} s (load {load})")
    result["restart_s"] = restarts
    return result


def panel_rows() -> dict:
    """frame.py's docked-panel phases and ingest.py's hook throughput, as those
    benchmarks measure them."""
    sys.path.insert(0, str(HERE))
    import ingest

    rows: dict = {"ingest": max(ingest.throughput(1_000_000) for _ in range(3))}
    p95 = {}
    for phase in ("host", "host+panel"):
        cmd = [sys.executable, str(HERE / "frame.py"), "--phase", phase, "--frames", "600"]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            rows["docked_error"] = proc.stderr.strip()[-500:]
            return rows
        frame_ms = sorted(orjson.loads(proc.stdout.strip().splitlines()[-1])[0])
        p95[phase] = frame_ms[min(len(frame_ms) - 1, int(0.95 * len(frame_ms)))]
    rows["docked_ms"] = p95["host+panel"] - p95["host"]
    return rows


def print_table(sized: list[Pairs], start: dict, window: dict | None, panel: dict | None) -> None:
    print("\n== DESIGN §6 budgets (medians; load average beside each run above)")
    big = sized[-1]
    ours, theirs = big.medians()
    mbps = big.corpus.bytes / MB / ours
    cc = f"{theirs:.2f} s" if theirs else "not run"
    ratio_ok = theirs is not None and ours / theirs <= BUDGET_RATIO
    print(f"  report wall ({big.corpus.bytes / MB:,.0f} MB)   {ours:.2f} s ({mbps:.0f} MB/s)   ccusage {cc}", end="")
    print(f"   budget <= {BUDGET_RATIO}x ccusage: {verdict(ratio_ok) if theirs else 'n/a'}")
    ratios = []
    for p in sized:
        a, b = p.medians()
        pairs = f" (pairs' median {statistics.median(p.pair_ratios()):.2f})" if b else ""
        ratios.append(
            f"{p.corpus.bytes / MB:,.0f} MB {a / b:.2f}{pairs}" if b else f"{p.corpus.bytes / MB:,.0f} MB n/a"
        )
    print(f"  ratio to ccusage        {' / '.join(ratios)}   budget <= {BUDGET_RATIO}")
    rss = [p.max_rss_mb(p.ours) for p in sized]
    cc_rss = f"ccusage {big.max_rss_mb(big.theirs):.0f} MB" if big.theirs else "ccusage not run"
    grow = " -> ".join(f"{r:.0f}" for r in rss)
    flat = rss[-1] <= BUDGET_RSS_MB and (len(rss) < 2 or rss[-1] <= rss[0] * 1.25)
    print(f"  peak RSS, largest proc  {rss[-1]:.0f} MB ({grow} MB as the corpus grows)   {cc_rss}", end="")
    print(f"   budget <= {BUDGET_RSS_MB:.0f} MB, flat: {verdict(flat)}")
    if start.get("ours") is not None:
        theirs_s = f"{start['theirs']:.2f} s" if start.get("theirs") else "not run"
        x = f" ({start['ours'] / start['theirs']:.1f}x)" if start.get("theirs") else ""
        print(f"  start-up, 1 session     {start['ours']:.2f} s   ccusage {theirs_s}{x}   (no budget)")
    print_window(window, ours)
    if panel is None:
        print("  docked panel, hook ingest: not run (--skip-panel or a smoke run)")
        return
    if "docked_ms" in panel:
        ok = panel["docked_ms"] <= BUDGET_DOCKED_MS
        print(
            f"  docked, panel over host {panel['docked_ms']:+.1f} ms p95   budget <= {BUDGET_DOCKED_MS:.0f}: {verdict(ok)}"
        )
    else:
        print(f"  docked panel            not measured: {panel.get('docked_error')}")
    ok = panel["ingest"] >= BUDGET_INGEST
    print(f"  hook ingest             {panel['ingest']:,.0f} events/s   budget >= {BUDGET_INGEST:,}: {verdict(ok)}")


def print_window(window: dict | None, report_s: float) -> None:
    if window is None:
        print("  window rows             not run (--skip-window)")
        return
    if "error" in window:
        print(f"  window rows             not measured: {window['error']}")
        return
    for failure in window["failures"]:
        print(f"  window                  CRASHED once before the figures below ({failure})")
    if window.get("pending_retried"):
        print(
            f"  window                  CRASHES as it is: history.pending raised {window['pending_error']} "
            f"{window['pending_retried']} times (retried by the benchmark to measure the rows below)"
        )
    if window.get("crashes"):
        print(
            f"  window                  {window['crashes']} frames raised {window['crash']}: the window would "
            "have closed at the first; the benchmark skipped them to measure the rest"
        )
    backlog = window.get("backlog_s")
    if backlog is None:
        x = window["timeout_s"] / report_s
        print(
            f"  window backlog          not fully applied within {window['timeout_s']:.0f} s (> {x:.1f}x report)"
            f"   budget <= {BUDGET_BACKLOG_X}x: MISSES"
        )
    else:
        x = backlog / report_s
        print(f"  window backlog applied  {backlog:.1f} s ({x:.1f}x report)   budget <= {BUDGET_BACKLOG_X}x: ", end="")
        print(verdict(x <= BUDGET_BACKLOG_X))
    catching = window["catching_up"]
    ok = catching["frame_ms"]["p95"] <= BUDGET_FRAME_P95_MS and catching["python_ms"]["p99"] <= BUDGET_PYTHON_P99_MS
    print(
        f"  frames catching up      p95 {catching['frame_ms']['p95']:.1f} ms, Python p99 "
        f"{catching['python_ms']['p99']:.1f} ms over {catching['frames']} frames   budget p95 <= "
        f"{BUDGET_FRAME_P95_MS:.0f} ms, Python p99 <= {BUDGET_PYTHON_P99_MS:.0f} ms: {verdict(ok)}"
    )
    if "restart_s" in window:
        first = statistics.median(window["restart_s"])
        print(
            f"  warm restart, 1st frame {first:.2f} s from the process's start   budget <= {BUDGET_RESTART_S} s: {verdict(first <= BUDGET_RESTART_S)}"
        )
    else:
        print(f"  warm restart            not measured: {window.get('restart_error')}")


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="70,350,700", help="corpus sizes in MB, comma-separated (default 70,350,700)")
    ap.add_argument("--size-mb", type=float, help="one size only (a smoke run: --size-mb 5)")
    ap.add_argument("--runs", type=int, default=3, help="alternating runs of each tool per size (default 3)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "session-insights-bench")
    ap.add_argument("--remove", action="store_true", help="remove the corpora afterwards (default: kept for reuse)")
    ap.add_argument("--ccusage", help="path to ccusage (default: ccusage on the PATH)")
    ap.add_argument("--skip-ccusage", action="store_true")
    ap.add_argument("--skip-window", action="store_true")
    ap.add_argument("--skip-panel", action="store_true", help="leave out frame.py's and ingest.py's rows")
    ap.add_argument("--drop-caches", action="store_true", help="drop the page cache before every run (root)")
    args = ap.parse_args()
    try:
        args.size_list = [args.size_mb] if args.size_mb else sorted(float(s) for s in args.sizes.split(","))
    except ValueError:
        ap.error(f"--sizes takes sizes in MB separated by commas, not {args.sizes!r}")
    if args.runs < 1 or min(args.size_list) <= 0:
        ap.error("--runs must be >= 1 and every size > 0")
    args.smoke = args.size_mb is not None and args.size_mb < 50
    return args


def as_installed() -> None:
    """Run every child with its bytecode cached, as an installed package runs: with
    PYTHONDONTWRITEBYTECODE set (some shells and CI images set it), each start compiles
    the package's ~170 modules again, 0.15 s that no user's start pays."""
    import compileall

    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    package = Path(importlib.util.find_spec("session_insights").origin).parent
    compileall.compile_dir(package, quiet=1)
    print(f"bytecode compiled for {package} (as an installed package has it)")


def main() -> int:
    args = parse_args()
    if not args.skip_window and not os.environ.get("DISPLAY"):
        if shutil.which("xvfb-run") is None:
            sys.exit("import_claude.py: the window rows need Xvfb (apt-get install xvfb) or --skip-window")
        os.execvp("xvfb-run", ["xvfb-run", "-a", "-s", "-screen 0 1280x800x24", sys.executable, *sys.argv])
    if not os.access(GNU_TIME, os.X_OK):
        sys.exit(f"import_claude.py: the memory figures need GNU time at {GNU_TIME} (apt-get install time)")
    cache = args.cache.expanduser().resolve()
    ccusage = None if args.skip_ccusage else find_ccusage(args.ccusage)
    as_installed()
    print(f"machine  {os.cpu_count()} CPUs, load average {load_text()} at the start (other work slows every figure)")
    print(f"ccusage  {' '.join(ccusage) if ccusage else 'not run (--skip-ccusage, or not found: pass --ccusage)'}")
    corpora = [Corpus(cache, size, args.seed) for size in args.size_list]
    print(f"report   {' '.join(report_command(corpora[0].projects, corpora[0].history))}")
    sized = []
    for corpus in corpora:
        pairs = measure_size(corpus, ccusage, args)
        if pairs is None:
            return 1
        sized.append(pairs)
    start = startup(cache, ccusage, args)
    window = None if args.skip_window else window_rows(corpora[-1], args)
    panel = None if args.skip_panel or args.smoke else panel_rows()
    print_table(sized, start, window, panel)
    print(f"machine  load average {load_text()} at the end")
    if args.remove:
        shutil.rmtree(cache, ignore_errors=True)
        print(f"corpora  removed {cache}")
    else:
        print(f"corpora  kept in {cache} (--remove removes them)")
    failed = any(p.diffs for p in sized)
    if failed:
        print("FAILED: report's totals differ from the de-duplicated totals written into the corpus")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
