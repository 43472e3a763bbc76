"""The command lines of ``session-insights`` and ``session-insights report`` (DESIGN §5):
their arguments, and what makes a bad one a single line on stderr (exit 2)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import NoReturn

from . import report, times, window_geometry
from . import state as state_file
from .export.address import address
from .scope import SCOPE_HELP, Scope

EXIT_USAGE = 2
DEMO_SPEED = 200.0  # the demo's 90 simulated minutes in 27 s: every header filled within half a minute
DEMO_DURATION_S = 5_400  # demo.calls.DURATION_S, without importing the demo to print --help
SOURCE_HELP = "claude[:DIR] | codex[:DIR] | gemini[:DIR] | comms:FILE | audit:FILE | otel:FILE"


def _state_help(beside: str) -> str:
    return (
        f"default: ${state_file.STATE_ENV}, else {state_file.STATE_NAME} in the per-user data folder "
        f"{state_file.data_folder()}; {beside}"
    )


def _scope(text: str) -> Scope:
    try:
        return Scope.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _budget(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"budget must be a number of US dollars, got {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"budget must be a finite amount >= 0, got {text!r}")
    return value


def _demo_speed(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not (0 < value < 1e6):
        raise argparse.ArgumentTypeError(
            f"demo speed must be a number of simulated seconds per second > 0, got {text!r}"
        )
    return value


def _size(text: str) -> tuple[int, int]:
    try:
        return window_geometry.parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


class _OneLineParser(argparse.ArgumentParser):
    """An argument parser whose mistakes are one line on stderr (exit 2), never the
    usage block: every bad input of ``report`` reads the same way."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see --help)\n")


def _moment(text: str, end_of_day: bool) -> times.When:
    """A date or an ISO 8601 datetime, read by the time rule once every flag is (``When``)."""
    try:
        return times.when(text, end_of_day)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _since(text: str) -> times.When:
    return _moment(text, end_of_day=False)


def _until(text: str) -> times.When:
    return _moment(text, end_of_day=True)


def report_parser() -> argparse.ArgumentParser:
    p = _OneLineParser(
        prog="session-insights report",
        description="Print what the given logs (and/or a state file) spent, without opening a window. "
        "With no SOURCE it reads the agents' default log folders and the default state. "
        "What it reads is kept in the durable session history; --by reports across the "
        "sessions kept there and those just read.",
    )
    p.add_argument("sources", nargs="*", metavar="SOURCE", help=SOURCE_HELP)
    p.add_argument(
        "--state",
        type=Path,
        metavar="PATH",
        help=f"a state file to start from, read only; one that does not exist yet is empty "
        f"(with no SOURCE, {_state_help('the durable history sits beside it')})",
    )
    p.add_argument("--format", choices=report.FORMATS, default="text", help="output format (default: text)")
    p.add_argument("--budget", type=_budget, help="budget in USD for the projection")
    p.add_argument(
        "--explain",
        action="store_true",
        help="with text or md, add how the figures were counted: per source the sessions and requests, "
        "copies of a request counted once, requests counted before a restart; unpriced models; the cost "
        "an agent wrote beside ours (json always holds this as provenance)",
    )
    p.add_argument(
        "--scope",
        type=_scope,
        default=Scope("all"),
        metavar="SCOPE",
        help=f"which requests every figure covers: {SCOPE_HELP} (default: all); active is the session "
        "with the latest record, block the current 5-hour window, week the last 7 days; a session id "
        "may be shortened to a unique prefix",
    )
    _add_across_options(p)
    _add_utc_option(p)
    return p


def _add_utc_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--utc",
        action="store_true",
        help="write every time in UTC (default: local time, its zone named; json and csv are always UTC)",
    )


def _add_across_options(p: argparse.ArgumentParser) -> None:
    """The durable history, and the report across the sessions it keeps (--by, --chart)."""
    kept = p.add_mutually_exclusive_group()
    kept.add_argument(
        "--history",
        type=Path,
        metavar="PATH",
        help="the durable session history (SQLite) to add what is read to and report --by from "
        "(default: <state>.history.sqlite beside the state file)",
    )
    kept.add_argument(
        "--no-history",
        action="store_true",
        help="keep nothing: read the sources without writing the history (--by then covers only them)",
    )
    p.add_argument(
        "--by",
        choices=report.BY,
        help="report across sessions: one row per session, usage per day / week / month (from local "
        "midnight; UTC with --utc) or per 5-hour block, tokens by kind and a grand total, or efficiency "
        "per interval with its verdict",
    )
    p.add_argument(
        "--since",
        type=_since,
        metavar="WHEN",
        help="with --by or --chart: sessions active from then on; YYYY-MM-DD (a local day, UTC with --utc) "
        "or an ISO 8601 datetime (without an offset, local time; UTC with --utc)",
    )
    p.add_argument(
        "--until",
        type=_until,
        metavar="WHEN",
        help="with --by or --chart: sessions that started before then; YYYY-MM-DD (a local day, UTC "
        "with --utc) takes in that whole day, an ISO 8601 datetime (without an offset, local time; UTC "
        "with --utc) is the first moment left out",
    )
    p.add_argument("--project", metavar="NAME", help="with --by or --chart: only this project's sessions")
    p.add_argument(
        "--chart",
        type=Path,
        metavar="PNG",
        help="also write the efficiency-over-time chart as PNG, drawn as the panel draws it "
        "(needs an X display; xvfb-run -a provides one)",
    )


def window_parser() -> argparse.ArgumentParser:
    p = _OneLineParser(
        prog="session-insights",
        description="A live panel of what an AI coding session spends. "
        "'session-insights report --help' prints the same figures without a window.",
    )
    p.add_argument("sources", nargs="*", metavar="SOURCE", help=SOURCE_HELP)
    p.add_argument(
        "--state",
        type=Path,
        default=None,
        metavar="PATH",
        help=f"the state file ({_state_help('the layout file and the durable history sit beside it')})",
    )
    p.add_argument("--budget", type=_budget, help="budget in USD")
    p.add_argument(
        "--scope",
        type=_scope,
        default=Scope("active"),
        metavar="SCOPE",
        help=f"what the panel shows first: {SCOPE_HELP} (default: active, which follows the latest session)",
    )
    p.add_argument(
        "--size",
        type=_size,
        metavar="WxH",
        help="the window's size in pixels, such as 1600x1000 (default: the size it had when last "
        "closed, else 1280x800); the panel fills the window and follows when it is resized",
    )
    _add_utc_option(p)
    p.add_argument("--demo", action="store_true", help="play the built-in demo session live")
    p.add_argument(
        "--demo-speed",
        type=_demo_speed,
        default=DEMO_SPEED,
        metavar="X",
        help=f"with the demo: simulated seconds per second (default {DEMO_SPEED:g}: its 90-minute "
        f"session plays in {DEMO_DURATION_S / DEMO_SPEED:.0f} s; 1 plays it in real time)",
    )
    p.add_argument("--frames", type=int, help="render this many frames, then exit")
    p.add_argument("--screenshot", type=Path, help="save the window as PNG near the end (with --frames)")
    p.add_argument("--frame-stats", type=Path, help="write frame-time statistics as JSON (with --frames)")
    p.add_argument(
        "--prometheus",
        type=address,
        metavar="HOST:PORT",
        help="also serve the figures on HOST:PORT/metrics, as export does (needs session-insights[export])",
    )
    return p
