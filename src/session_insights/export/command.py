"""``session-insights export``: the figures of the window, headless, for a team's engines.

It reads what the window reads (the agents' default folders with no SOURCE), tails it,
keeps its state where the window does (a restart resumes: nothing is counted twice), and
every ``INTERVAL_S`` hands what grew to each destination: a Prometheus endpoint, an
OTLP/HTTP push, or both. SIGTERM or SIGINT saves the state and ends it. OpenTelemetry is
imported here only, once an export is asked for.
"""

from __future__ import annotations

import argparse
import re
import signal
import sys
import threading
from pathlib import Path

from .. import state as state_file
from ..cli_args import EXIT_USAGE, SOURCE_HELP, _OneLineParser, _state_help
from ..formatting import printable
from ..history import TokenHistory
from ..sources import AGENTS, KINDS, SourceError, default_roots, discover, open_source
from ..store import SessionStore, history_path_for
from ..workers import Saver, SourcePoller
from .address import address
from .requests import RequestLog

PROG = "session-insights export"
INTERVAL_S = 1.0
_LABEL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
# Labels of our own metrics, which a --label must not replace.
RESERVED_LABELS = frozenset(
    {"type", "model", "source", "project", "tier", "tool", "ok", "window", "le", "job", "instance"}
)
INSTALL_HINT = "pip install 'session-insights[export]'"


def label(text: str) -> tuple[str, str]:
    """``NAME=VALUE``, one label on every figure exported (e.g. user=ana)."""
    name, sep, value = text.partition("=")
    if not sep or not _LABEL_NAME.fullmatch(name) or name.startswith("__") or name.startswith("gen_ai"):
        raise argparse.ArgumentTypeError(f"give NAME=VALUE with NAME a label name (letters, digits, _), got {text!r}")
    if name in RESERVED_LABELS:
        raise argparse.ArgumentTypeError(f"label {name!r} is one the figures carry already; choose another name")
    if not value or len(value) > 128 or not value.isprintable():
        raise argparse.ArgumentTypeError(f"label {name!r} needs a printable value of 1 to 128 characters")
    return name, value


def export_parser() -> argparse.ArgumentParser:
    p = _OneLineParser(
        prog=PROG,
        description="Serve and/or push the figures the window shows, as Prometheus metrics and "
        "OpenTelemetry (OTLP/HTTP), until stopped (SIGTERM or SIGINT save the state and exit). "
        "With no SOURCE it reads the agents' default log folders. Needs " + INSTALL_HINT + ".",
    )
    p.add_argument("sources", nargs="*", metavar="SOURCE", help=SOURCE_HELP)
    p.add_argument("--prometheus", type=address, metavar="HOST:PORT", help="serve /metrics there (port 0: a free one)")
    p.add_argument(
        "--otlp",
        nargs="?",
        const="",
        metavar="URL",
        help="push OTLP/HTTP metrics to URL (a base URL, /v1/metrics added); without URL, where the "
        "OTEL_EXPORTER_OTLP_* variables say",
    )
    p.add_argument(
        "--temporality",
        choices=("cumulative", "delta"),
        help="of the OTLP push (default: $OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE, else cumulative)",
    )
    p.add_argument(
        "--label",
        type=label,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a label on every figure, e.g. user=ana (repeatable); sessions are never labels",
    )
    p.add_argument(
        "--state", type=Path, metavar="PATH", help=f"the state file ({_state_help('the history beside it')})"
    )
    p.add_argument(
        "--no-history",
        action="store_true",
        help="add no sessions to the durable session history (what was read is kept all the same, so a restart "
        "still counts nothing again)",
    )
    return p


def _fail(message: str) -> int:
    print(f"{PROG}: {printable(message)}", file=sys.stderr)
    return EXIT_USAGE


def _say(message: str) -> None:
    print(f"{PROG}: {printable(message)}", file=sys.stderr, flush=True)


def run_export(argv: list[str]) -> int:
    args = export_parser().parse_args(argv)
    if args.otlp and args.otlp.partition(":")[0].strip().lower() in KINDS:  # a bare --otlp, then a SOURCE
        args.sources.insert(0, args.otlp)
        args.otlp = ""
    if args.otlp and not args.otlp.lower().startswith(("http://", "https://")):
        return _fail(
            f"--otlp {args.otlp!r}: give an http:// or https:// URL, or no URL to use $OTEL_EXPORTER_OTLP_ENDPOINT"
        )
    if args.prometheus is None and args.otlp is None:
        return _fail("give --prometheus HOST:PORT, --otlp [URL], or both (see --help)")
    stop = threading.Event()  # from here on a signal ends the export cleanly, even while it starts
    before = {signum: signal.signal(signum, lambda *_: stop.set()) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        return _start(args, stop)
    finally:
        for signum, handler in before.items():
            signal.signal(signum, handler)


def _start(args: argparse.Namespace, stop: threading.Event) -> int:
    """Check the inputs, open the state; then serve until ``stop``."""
    try:
        from . import destinations
    except ImportError as exc:
        return _fail(f"export needs the OpenTelemetry SDK and exporters ({exc.name} is missing): {INSTALL_HINT}")
    from ..cli import state_path_problem

    state_path = args.state if args.state is not None else state_file.default_path()
    problem = state_path_problem(state_path)
    if problem is not None:
        return _fail(problem)
    specs = args.sources or discover()
    if not specs:
        looked = "; ".join(f"{kind}: {', '.join(str(root) for root in default_roots(kind))}" for kind in AGENTS)
        return _fail(
            f"nothing to export: no logs in the agents' default folders ({looked}); give a SOURCE ({SOURCE_HELP})"
        )
    history = TokenHistory(state_path=state_path)
    try:
        history.save()  # the state must be ours to write, or a restart would count again
    except OSError as exc:
        history.close()
        return _fail(
            f"{exc.strerror or exc}; give the export a --state of its own, or run the window with --prometheus"
        )
    requests = RequestLog()
    requests.attach(history)
    return _serve(args, history, specs, requests, destinations, stop)


def _open(args, history: TokenHistory, specs: list[str], destinations) -> tuple[list, list] | str:
    """The destinations and sources, or what is wrong with them (one line)."""
    labels = dict(args.label)
    opened: list = []
    problem = None
    try:
        if args.prometheus is not None:
            host, port = args.prometheus
            try:
                opened.append(destinations.prometheus(history, host, port, labels))
            except OSError as exc:
                problem = f"cannot serve metrics on {host}:{port} ({exc.strerror or exc})"
        if problem is None and args.otlp is not None:
            opened.append(destinations.otlp(history, args.otlp, args.temporality, labels))
        if problem is None:
            try:
                return opened, [open_source(spec, history) for spec in specs]
            except SourceError as exc:
                problem = str(exc)
    except BaseException:
        for destination in opened:
            destination.close()
        raise
    for destination in opened:
        destination.close()
    return problem


def _serve(
    args, history: TokenHistory, specs: list[str], requests: RequestLog, destinations, stop: threading.Event
) -> int:
    opened = _open(args, history, specs, destinations)
    if isinstance(opened, str):
        history.close()
        return _fail(opened)
    outs, sources = opened
    store = None
    if not args.no_history:
        try:
            store = SessionStore(history_path_for(state_path := history.state_path))
        except Exception as exc:  # the figures go on without the durable history
            _say(f"the session history beside {state_path} cannot be used ({type(exc).__name__}: {exc})")
    poller, saver = SourcePoller(sources), Saver(history, store)
    poller.start()
    saver.start()
    _say(f"reading {', '.join(s.label for s in sources)}; " + "; ".join(f"to {d.name}" for d in outs))
    said: set[str] = set()
    backlog = True  # every copy of a request the logs hold already is read in the first pass
    try:
        while not stop.wait(INTERVAL_S):
            caught_up = backlog and poller.first_pass.is_set() and not history.pending
            _step(history, requests, outs, said, flush=caught_up)
            backlog = backlog and not caught_up
    finally:
        poller.stop()
        _step(history, requests, outs, said, flush=True)
        saver.close()
        for destination in outs:
            destination.close()
    return 0


def _step(history: TokenHistory, requests: RequestLog, outs: list, said: set[str], flush: bool = False) -> None:
    """Apply what was read, hand what grew to every destination, say new notices."""
    history.drain()
    feed(requests, outs, flush)
    for text in list(history.notices):
        if text not in said:
            said.add(text)
            _say(text)


def feed(requests: RequestLog, outs: list, flush: bool = False) -> None:
    """Hand every destination what the history counted since the last feed."""
    ready = requests.take(flush=flush)
    for destination in outs:
        destination.meters.add(destination.tally.take())
        destination.meters.record(ready)
