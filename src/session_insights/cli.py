"""``session-insights`` (the window) and ``session-insights report`` (DESIGN §5).

Every failure a user can cause (a missing file, an unknown source, a bad flag) ends in
one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse

    from .history import TokenHistory

# The commands' modules load inside the functions that use them: ``statusline`` runs on
# every refresh of Claude Code's status bar and must not wait for the history, the price
# tables or the report to load.

EXIT_CHART = 1  # the report was printed, the chart could not be drawn
CHART_TIMEOUT_S = 120.0
# Run as ``python -m CHART_MODULE OVER_TIME_JSON PNG``: draws ``across.efficiency_over_time``
# with the panel's Efficiency Over Time drawing, off-screen, and saves it.
CHART_MODULE = "session_insights.ui.chart"


def _fail(message: str, prog: str = "session-insights report") -> int:
    from . import formatting as fmt
    from .cli_args import EXIT_USAGE

    print(f"{prog}: {fmt.printable(message)}", file=sys.stderr)  # a path may hold escape sequences
    return EXIT_USAGE


def state_path_problem(state_path: Path) -> str | None:
    """Why a state file a run will save could not be used (one line), or None: it must
    be readable if it exists and sit in a folder that can be made and written."""
    return (
        _unreadable(state_path, "state file")
        or _in_a_folder(state_path, "state file", make_folders=True)
        or _folder_problem(state_path, "state file")
    )


def _unreadable(path: Path, named: str) -> str | None:
    """Why the file a user named cannot be used as one of ours (a folder, a file we may not
    read), if it cannot; a missing file is the caller's to judge."""
    if path.is_dir():
        return f"{named} {path} is a folder; give a file"
    if not path.exists():
        return None
    try:  # O_NONBLOCK: a FIFO named by mistake must not hang the check
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        return f"{named} {path} cannot be read ({exc.strerror or exc})"
    try:
        regular = stat.S_ISREG(os.fstat(fd).st_mode)
    finally:
        os.close(fd)
    return None if regular else f"{named} {path} is not a regular file; give a file"


def _in_a_folder(path: Path, named: str, *, make_folders: bool) -> str | None:
    """Why ``path`` cannot be made where it is named, if it cannot: its folder must exist,
    or with ``make_folders`` the nearest existing one must be a folder."""
    parent = path.parent
    while make_folders and not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        return f"{named} {path}: give a file in an existing folder"
    return None


def _check_paths(args: argparse.Namespace) -> str | None:
    """What is wrong with the files report was named, before anything is read."""
    if args.state is not None:
        problem = _unreadable(args.state, "state file")
        if problem is not None:
            return problem
    if args.history is not None:
        return _unreadable(args.history, "--history") or _in_a_folder(args.history, "--history", make_folders=False)
    return None


def _check_across(args: argparse.Namespace, argv: list[str]) -> str | None:
    """What is wrong with the across-session options together, if anything."""
    import shlex

    from . import display
    from . import formatting as fmt

    filters = [
        name
        for name, value in (("--since", args.since), ("--until", args.until), ("--project", args.project))
        if value is not None
    ]
    if filters and not (args.by or args.chart):
        return (
            f"{' and '.join(filters)} {'narrows' if len(filters) == 1 else 'narrow'} the sessions of --by or --chart "
            "only; add --by session|day|week|month|block|interval"
        )
    if args.since is not None and args.until is not None and args.until <= args.since:
        return f"--until ({fmt.iso_utc(args.until)}) must come after --since ({fmt.iso_utc(args.since)})"
    if args.chart is not None:
        if args.chart.is_dir() or not args.chart.parent.is_dir():
            return f"--chart {args.chart}: give a file in an existing folder"
        problem = display.display_problem()
        if problem is not None:
            return (
                f"--chart draws the panel's chart, which needs an X display: {problem}. Run it on a "
                f"virtual one: xvfb-run -a session-insights report {shlex.join(argv)}"
            )
    return None


def _nowhere(state_path: Path) -> str:
    """What report says when it has nothing to read: where it looked, in one line."""
    from .cli_args import SOURCE_HELP
    from .sources import AGENTS, default_roots

    looked = "; ".join(f"{kind}: {', '.join(str(root) for root in default_roots(kind))}" for kind in AGENTS)
    return (
        f"nothing to report: no logs in the agents' default folders ({looked}) and no state file "
        f"{state_path}; give a SOURCE ({SOURCE_HELP}) or --state PATH, or --by with an existing --history PATH"
    )


def _folder_problem(path: Path, named: str, hint: str = "") -> str | None:
    """Why the folder that will hold ``path`` cannot be made, if it cannot (made 0700 if
    it can: it is about to be written)."""
    from . import state as state_file

    try:
        state_file.make_folder(path.parent)
    except OSError as exc:
        return f"cannot make the folder {exc.filename or path.parent} for the {named} ({exc.strerror or exc}){hint}"
    return None


def run_report(argv: list[str]) -> int:
    from . import state as state_file
    from . import times
    from .cli_args import report_parser
    from .history import TokenHistory
    from .sources import SourceError, discover, open_source
    from .store import history_path_for

    args = report_parser().parse_args(argv)
    times.use_utc(args.utc)
    args.since, args.until = (None if w is None else w.ts() for w in (args.since, args.until))
    problem = _check_across(args, argv) or _check_paths(args)
    if problem is not None:
        return _fail(problem)
    across_wanted = args.by is not None or args.chart is not None
    # With a SOURCE, report starts from a state only if one is named; with none it reads
    # what the window reads: the default state and the agents' default folders.
    state_path = args.state
    if state_path is None and not args.sources:
        state_path = state_file.default_path()
        problem = _unreadable(state_path, "state file")
        if problem is not None:
            return _fail(problem)
    history_path = (
        None
        if args.no_history
        else (args.history if args.history is not None else history_path_for(state_path or state_file.default_path()))
    )
    specs = args.sources or discover()
    state_exists = state_path is not None and state_path.exists()  # one that does not is empty
    if not specs and not state_exists:
        if across_wanted and args.history is not None and not args.history.exists():
            return _fail(f"session history {args.history} does not exist")
        if not (across_wanted and history_path is not None and history_path.exists()):
            return _fail(_nowhere(state_path))
    if specs and history_path is not None:
        problem = _folder_problem(history_path, "session history", "; --no-history keeps none")
        if problem is not None:
            return _fail(problem)
    # Read-only: report never saves the state, nor moves an unreadable one aside.
    history = TokenHistory(state_path=state_path, budget_usd=args.budget, read_only=True)
    if state_path is None:  # the user's plan limits are in their state file all the same
        history.plan_limits, notice = state_file.read_plan_limits(state_file.default_path())
        if notice:
            history.notice(notice)
    try:
        sources = [open_source(spec, history) for spec in specs]
    except SourceError as exc:
        return _fail(str(exc))
    for source in sources:
        source.read_all()
        history.drain()
    return _print_report(args, history, history_path, render_snapshot=bool(specs) or state_exists)


def _print_report(
    args: argparse.Namespace, history: TokenHistory, history_path: Path | None, *, render_snapshot: bool
) -> int:
    """Add what was read to the durable history, print the report, draw the chart."""
    import time

    from . import across, limits, limits_estimate, quota_log, report
    from . import formatting as fmt
    from .scope import UnknownSession
    from .store import SessionStore

    live_rows = history.session_rows()
    store = None
    if history_path is not None and (live_rows or history_path.exists()):
        store = SessionStore(history_path)
        store.write(live_rows)
    rows: list[dict] = []
    try:
        try:
            # Rates at the clock, as the panel takes them: a session idle for more than the
            # burn window reads "idle", not the rate of its last minutes.
            snap = history.snapshot(now_ts=time.time(), scope=args.scope)
        except UnknownSession as exc:
            return _fail(f"--scope: {exc}")
        if args.by is not None or args.chart is not None:
            stored = store.sessions() if store is not None else []
            rows = across.select(across.merge(stored, live_rows), args.since, args.until, args.project)
        if args.by is not None:
            view = report.across_view(rows, args.by, args.since, args.until, args.project, snap["errors"])
            sys.stdout.write(report.render_across(view, args.format))
        elif render_snapshot:
            now_ts = time.time()  # the quota's clock, not the logs' latest record
            windows = limits.all_windows(quota_log.read(), history.rate_limits, now_ts)
            windows += limits_estimate.of_history(history, windows, now_ts)
            snap["rate_limits"] = limits.as_json(windows)  # report's shape, for every format
            sys.stdout.write(report.render(snap, args.format, explain=args.explain))
        sys.stdout.flush()
    finally:
        if store is not None:
            for notice in store.notices:
                print(f"session-insights report: {fmt.printable(notice)}", file=sys.stderr)
            store.close()
    if args.chart is not None:
        return _write_chart(across.efficiency_over_time(rows), args.chart)
    return 0


def _write_chart(over: dict, png_path: Path) -> int:
    """Draw the efficiency-over-time chart with the panel's own drawing, in a process of
    its own: Dear PyGui aborts its whole process on some failures, and the report has
    been printed by then."""
    import subprocess
    import tempfile

    import orjson

    from . import formatting as fmt

    with tempfile.TemporaryDirectory(prefix="session-insights-chart-") as folder:
        data_path = Path(folder) / "efficiency_over_time.json"
        data_path.write_bytes(orjson.dumps(over))
        try:
            done = subprocess.run(
                [sys.executable, "-m", CHART_MODULE, str(data_path), str(png_path.resolve())],
                check=False,
                capture_output=True,
                text=True,
                timeout=CHART_TIMEOUT_S,
            )
        except subprocess.TimeoutExpired:
            print(f"session-insights report: the chart was not drawn within {CHART_TIMEOUT_S:.0f} s", file=sys.stderr)
            return EXIT_CHART
    if done.returncode != 0 or not png_path.exists():
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        why = (
            lines[-1].strip()
            if lines
            else (f"exit code {done.returncode}" if done.returncode >= 0 else f"signal {-done.returncode}")
        )
        print(fmt.printable(f"session-insights report: could not draw the chart {png_path}: {why}"), file=sys.stderr)
        return EXIT_CHART
    return 0


def run_window(argv: list[str]) -> int:
    from . import state as state_file
    from .cli_args import window_parser

    args = window_parser().parse_args(argv)
    # The window saves its state (and keeps the history and layout beside it): a path it
    # could not use is one line now, not a traceback from the saver later.
    state_path = args.state if args.state is not None else state_file.default_path()
    problem = state_path_problem(state_path)
    if problem is not None:
        return _fail(problem, prog="session-insights")
    args.state = state_path
    from . import app  # imports dearpygui: only when a window is wanted

    return app.run(args)


def __getattr__(name: str) -> object:
    if name == "EXIT_USAGE":  # kept importable from here, loaded when asked for
        from .cli_args import EXIT_USAGE

        return EXIT_USAGE
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] == "statusline":
            from . import statusline

            return statusline.run()
        if argv and argv[0] == "report":
            return run_report(argv[1:])
        if argv and argv[0] == "export":
            from .export.command import run_export  # OpenTelemetry: only when an export is asked for

            return run_export(argv[1:])
        return run_window(argv)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `report | head`
        return 0


if __name__ == "__main__":
    sys.exit(main())
