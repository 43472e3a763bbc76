"""The window's ``--prometheus``: the figures ``export`` serves, from the window's own
history, fed every ``INTERVAL_S`` on a thread of its own (the render thread only drains,
and the drain's per-request hook only appends). A port that cannot be had, or the
``export`` extra missing, is a notice in the panel: the window opens all the same."""

from __future__ import annotations

import sys
import threading

from ..history import TokenHistory
from ..workers import SourcePoller
from .command import INSTALL_HINT, INTERVAL_S, feed
from .requests import RequestLog


class WindowExport:
    """Serves ``history``'s figures on ``host:port/metrics`` until ``close``."""

    def __init__(self, history: TokenHistory, destination, poller: SourcePoller) -> None:
        self.history = history
        self.destination = destination
        self.poller = poller
        self.requests = RequestLog()
        self.requests.attach(history)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="session-insights-export", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        backlog = True
        while not self._stop.wait(INTERVAL_S):
            caught_up = backlog and self.poller.first_pass.is_set() and not self.history.pending
            try:
                feed(self.requests, [self.destination], flush=caught_up)
            except Exception as exc:  # the window goes on; the next feed tries again
                self.history.notice(f"metrics export: {type(exc).__name__}: {exc}")
            backlog = backlog and not caught_up

    def close(self) -> None:
        """The last figures, then the endpoint closes."""
        self._stop.set()
        self._thread.join(timeout=5.0)
        feed(self.requests, [self.destination], flush=True)
        self.destination.close()


def serve(history: TokenHistory, address: tuple[str, int], poller: SourcePoller) -> WindowExport | None:
    """Start serving, or say in the panel why not (None)."""
    host, port = address
    try:
        from . import destinations
    except ImportError as exc:
        history.notice(f"--prometheus needs the OpenTelemetry SDK ({exc.name} is missing): {INSTALL_HINT}")
        return None
    try:
        destination = destinations.prometheus(history, host, port, {})
    except OSError as exc:
        history.notice(f"cannot serve metrics on {host}:{port} ({exc.strerror or exc})")
        return None
    print(f"session-insights: serving metrics on {destination.name}", file=sys.stderr, flush=True)
    return WindowExport(history, destination, poller)
