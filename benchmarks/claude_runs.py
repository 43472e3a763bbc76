"""Timed runs of a command, and the comparisons of what report and ccusage print.

A run's memory is the peak RSS of its largest process, exact: wait4's ru_maxrss is the
largest of the child's and of every descendant it reaped (a report's workers, ccusage's
native binary under its node launcher). Nothing is sampled while the tools run. The child
is started by GNU time, which reads that rusage for us: a child forked from this process
would count this process's own RSS (the kernel keeps the pre-exec image's high-water mark
in ru_maxrss), a floor far above a small run's real figure.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from claude_corpus import MB, Expected

GNU_TIME = "/usr/bin/time"  # Debian's package `time`
COST_REL_TOLERANCE = 1e-3  # both price per request from list prices; this covers rounding only


def load_text() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.2f}/{five:.2f}"


class ChildRun:
    """One timed run of a command: wall time, largest process's peak RSS, exit, output."""

    def __init__(self, argv: list[str], env: dict | None = None):
        self.load = load_text()
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile() as use:
            started = time.perf_counter()
            proc = subprocess.Popen(
                [GNU_TIME, "-f", "%M %U %S", "-o", use.name, *argv], stdout=out, stderr=err, env=env
            )
            self.exit_code = proc.wait()
            self.wall_s = time.perf_counter() - started
            max_rss_kib, user_s, system_s = Path(use.name).read_text().split("\n")[-2].split()
            self.max_rss_mb = int(max_rss_kib) / 1024
            self.cpu_s = float(user_s) + float(system_s)
            out.seek(0)
            err.seek(0)
            self.stdout, self.stderr = out.read(), err.read()

    def line(self, corpus_bytes: int) -> str:
        return (
            f"{self.wall_s:7.2f} s {corpus_bytes / MB / self.wall_s:7.1f} MB/s  CPU {self.cpu_s:6.2f} s  "
            f"largest process {self.max_rss_mb:6.1f} MB  load {self.load}"
        )


def page_cache(files: list[Path], *, drop: bool) -> None:
    """Read every file once (so runs start alike, from the page cache), or drop the cache
    (root only: echo 3 > drop_caches; else posix_fadvise DONTNEED per file)."""
    if not drop:
        for path in files:
            with open(path, "rb") as f:
                while f.read(1 << 24):
                    pass
        return
    os.sync()
    try:
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
        return
    except OSError:
        pass
    for path in files:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def find_ccusage(given: str | None) -> list[str] | None:
    """`ccusage claude daily --offline --json --breakdown`: ccusage >= 18 reports every
    agent under `daily`, `claude daily` keeps it to Claude Code (older releases have no
    `claude` command); --breakdown gives the per-model figures compared below."""
    binary = given or shutil.which("ccusage")
    if binary is None:
        return None
    try:
        help_text = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=60, check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    scope = ["claude"] if any(line.split()[:1] == ["claude"] for line in help_text.splitlines()) else []
    return [binary, *scope, "daily", "--offline", "--json", "--breakdown"]


def compare(expected: dict, report: dict) -> list[str]:
    """Differences between the expected totals and the report's: empty when they agree."""
    diffs = []

    def rows(label: str, want: dict, got: dict | None) -> None:
        for figure in Expected.FIGURES:
            have = None if got is None else got.get(figure)
            if have != want[figure]:
                delta = "" if have is None else f" ({have - want[figure]:+,})"
                diffs.append(
                    f"{label:36} {figure:22} expected {want[figure]:>16,}  report "
                    f"{'missing' if have is None else format(have, ',')}{delta}"
                )

    rows("totals", expected["totals"], report.get("totals"))
    for group in ("by_model", "by_tier"):
        got = report.get(group) or {}
        for name, want in expected[group].items():
            rows(f"{group}[{name}]", want, got.get(name))
        for name in sorted(set(got) - set(expected[group])):
            diffs.append(f"{group}[{name}] is in the report but was never written")
    return diffs


def compare_ccusage(ours: dict, theirs: dict) -> list[tuple[str, str, str, bool]]:
    """(figure, ours, ccusage, agree) for the totals and per model."""
    out = []

    def tokens(label: str, mine: dict, cc: dict) -> None:
        pairs = (
            ("input", mine["input_tokens"], cc.get("inputTokens", 0)),
            ("output", mine["output_tokens"], cc.get("outputTokens", 0)),
            ("cache write", mine["cache_write_tokens"], cc.get("cacheCreationTokens", 0)),
            ("cache read", mine["cache_read_tokens"], cc.get("cacheReadTokens", 0)),
        )
        for name, a, b in pairs:
            out.append((f"{label} {name} tokens", f"{a:,}", f"{b:,}", a == b))
        a, b = mine.get("cost_usd"), cc.get("totalCost", cc.get("cost"))
        agree = a is not None and b is not None and math.isclose(a, b, rel_tol=COST_REL_TOLERANCE)
        out.append(
            (f"{label} cost", "unpriced" if a is None else f"${a:,.2f}", "n/a" if b is None else f"${b:,.2f}", agree)
        )

    tokens("total", ours["totals"], theirs.get("totals", {}))
    per_model: dict[str, dict] = {}
    for day in theirs.get("daily", []):
        for row in day.get("modelBreakdowns", []):
            acc = per_model.setdefault(
                row["modelName"],
                dict.fromkeys(("inputTokens", "outputTokens", "cacheCreationTokens", "cacheReadTokens", "cost"), 0),
            )
            for k in acc:
                acc[k] += row.get(k, 0)
    for model, mine in ours["by_model"].items():
        if model in per_model:
            tokens(model, mine, per_model[model])
        else:
            out.append((model, "present", "missing", False))
    return out
