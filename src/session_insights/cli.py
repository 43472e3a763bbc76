"""``session-insights`` (the window) and ``session-insights report`` (DESIGN §5).

Every failure a user can cause (a missing file, an unknown source, a bad flag) ends in
one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import report
from .history import TokenHistory
from .sources import SourceError, open_source

EXIT_USAGE = 2
SOURCE_HELP = "claude[:DIR] | codex[:DIR] | gemini[:DIR] | comms:FILE | audit:FILE | otel:FILE"


def default_state_path() -> Path:
    return Path(os.environ.get("SESSION_INSIGHTS_STATE", "state.toml"))


def _budget(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"budget must be a number of US dollars, got {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"budget must be a finite amount >= 0, got {text!r}")
    return value


def report_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="session-insights report",
        description="Print what the given logs (and/or a state file) spent, without opening a window.",
    )
    p.add_argument("sources", nargs="*", metavar="SOURCE", help=SOURCE_HELP)
    p.add_argument("--state", type=Path, help="a state.toml to start from (read only)")
    p.add_argument("--format", choices=report.FORMATS, default="text", help="output format (default: text)")
    p.add_argument("--budget", type=_budget, help="budget in USD for the projection")
    return p


def window_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="session-insights",
        description="A live panel of what an AI coding session spends. "
                    "'session-insights report --help' prints the same figures without a window.",
    )
    p.add_argument("sources", nargs="*", metavar="SOURCE", help=SOURCE_HELP)
    p.add_argument("--state", type=Path, default=None, help="state file (default: ./state.toml)")
    p.add_argument("--budget", type=_budget, help="budget in USD")
    p.add_argument("--demo", action="store_true", help="play the built-in demo session live")
    p.add_argument("--demo-speed", type=float, default=30.0, help=argparse.SUPPRESS)
    p.add_argument("--frames", type=int, help="render this many frames, then exit")
    p.add_argument("--screenshot", type=Path, help="save the window as PNG near the end (with --frames)")
    p.add_argument("--frame-stats", type=Path, help="write frame-time statistics as JSON (with --frames)")
    return p


def run_report(argv: list[str]) -> int:
    args = report_parser().parse_args(argv)
    state_path = args.state
    if state_path is None and not args.sources:
        state_path = default_state_path()
        if not state_path.exists():
            print(f"session-insights report: nothing to report: give a SOURCE ({SOURCE_HELP}) or --state PATH",
                  file=sys.stderr)
            return EXIT_USAGE
    if state_path is not None and not state_path.exists():
        print(f"session-insights report: state file {state_path} does not exist", file=sys.stderr)
        return EXIT_USAGE
    # Read-only: report never saves the state, nor moves an unreadable one aside.
    history = TokenHistory(state_path=state_path, budget_usd=args.budget, read_only=True)
    try:
        sources = [open_source(spec, history) for spec in args.sources]
    except SourceError as exc:
        print(f"session-insights report: {exc}", file=sys.stderr)
        return EXIT_USAGE
    for source in sources:
        source.read_all()
        history.drain()
    sys.stdout.write(report.render(history.snapshot(), args.format))
    return 0


def run_window(argv: list[str]) -> int:
    args = window_parser().parse_args(argv)
    from . import app  # imports dearpygui: only when a window is wanted

    return app.run(args)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] == "report":
            return run_report(argv[1:])
        return run_window(argv)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `report | head`
        return 0


if __name__ == "__main__":
    sys.exit(main())
