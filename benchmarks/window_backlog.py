"""The window over a Claude Code corpus, in a process of its own, under an X display.

  backlog  a fresh state: frames until every source's backlog is applied (the window's own
           backlog_s, as --frame-stats reports it), the frame and Python ms of the frames
           drawn while catching up, then 60 more; writes them as JSON to OUT.
  restart  the state the backlog run left: prints "first-frame" on stdout as soon as the
           first frame is drawn (the caller times it from the process's start), then draws
           a few frames and closes as a user would.

The app is driven as tests/window_driver.py drives it (App.start, App.frame, App.finish);
the window keeps its frame times and backlog_s in attributes of its own, read here. Where
the window would die of a race (history.pending read while the readers append), the
count is taken again under the inbox's lock and the retries are reported; any other RuntimeError in a frame is
counted and that frame skipped.

    python benchmarks/window_backlog.py backlog|restart PROJECTS STATE OUT [--timeout-s 300]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import orjson

SKIPPED_FRAMES = 5  # the first frames build fonts and atlases (as --frame-stats skips them)


def stats(frame_ms: list[float], python_ms: list[float]) -> dict:
    """frame_stats' figures (as --frame-stats writes them), the ones this run prints."""
    from session_insights.frame_stats import frame_stats

    full = frame_stats(frame_ms, python_ms)
    return {
        "frames": full["frames"],
        "frame_ms": {"median": full["frame_ms"]["median"], "p95": full["frame_ms"]["p95"]},
        "python_ms": {"median": full["python_ms"]["median"], "p99": full["python_ms"]["p99"]},
    }


def open_app(projects: Path, state: Path):
    from session_insights.app import App
    from session_insights.cli_args import window_parser

    # --frames turns vsync off (as in every headless run), so frames are timed, not paced.
    argv = [f"claude:{projects}", "--state", str(state), "--size", "1280x800", "--frames", str(10**9)]
    app = App(window_parser().parse_args(argv))
    app.start()
    return app


def count_retried_pending(app, retried: list[str]) -> None:
    """The window reads history.pending on the render thread while the readers append to
    what it sums, and then dies of "deque mutated during iteration". To measure the rest,
    the count is taken again when that happens, under the inbox's lock (the lock its
    writers hold while they append); every retry is counted and printed."""
    cls = type(app.history)
    prop = next((k.__dict__["pending"] for k in cls.__mro__ if "pending" in k.__dict__), None)
    if not isinstance(prop, property):
        return

    def pending(self) -> int:
        try:
            return prop.fget(self)
        except RuntimeError as exc:
            retried.append(f"RuntimeError: {exc}")
        with self._lock:
            return prop.fget(self)

    cls.pending = property(pending)


def frame(app, crashes: list[str]) -> None:
    """One frame. A RuntimeError in it (a race between the render thread and the readers)
    would end the window; here it is counted and the next frame drawn, so the rest can be
    measured. The frame it broke is not timed on its own: its time falls to the next one."""
    try:
        app.frame()
    except RuntimeError as exc:
        crashes.append(f"RuntimeError: {exc}")


def backlog(projects: Path, state: Path, out: Path, timeout_s: float) -> None:
    state.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    app = open_app(projects, state)
    crashes: list[str] = []
    retried: list[str] = []
    count_retried_pending(app, retried)
    try:
        while getattr(app, "_backlog_s", None) is None and time.perf_counter() - started < timeout_s:
            frame(app, crashes)
        caught_up = len(app._frame_times)
        for _ in range(60):
            frame(app, crashes)
        frame_ms, python_ms = list(app._frame_times), list(app._python_ms)
        result = {
            "backlog_s": app._backlog_s,
            "timeout_s": timeout_s,
            "applied_events": getattr(app.history, "applied", None),
            "catching_up": stats(frame_ms[SKIPPED_FRAMES:caught_up], python_ms[SKIPPED_FRAMES:caught_up]),
            "after": stats(frame_ms[caught_up:], python_ms[caught_up:]),
            "pending_retried": len(retried),
            "pending_error": retried[0] if retried else None,
            "crashes": len(crashes),
            "crash": crashes[0] if crashes else None,
        }
    finally:
        app.finish()
    out.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2))


def restart(projects: Path, state: Path) -> None:
    app = open_app(projects, state)
    count_retried_pending(app, [])
    try:
        app.frame()
        print("first-frame", flush=True)
        for _ in range(10):
            app.frame()
    finally:
        app.finish()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=("backlog", "restart"))
    ap.add_argument("projects", type=Path)
    ap.add_argument("state", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--timeout-s", type=float, default=300.0)
    args = ap.parse_args()
    if args.mode == "backlog":
        backlog(args.projects, args.state, args.out, args.timeout_s)
    else:
        restart(args.projects, args.state)
    return 0


if __name__ == "__main__":
    sys.exit(main())
