"""The window's background work: polling the sources and saving what they gave.

Both run on threads of their own, so file I/O never stalls a frame; neither touches
Dear PyGui. A source or a save that fails is a notice, and the thread goes on.
"""

from __future__ import annotations

import threading
import time

from .history import TokenHistory
from .pricing import PriceBook
from .sources import LineSource
from .store import SessionStore

POLL_INTERVAL_S = 0.5
SAVE_INTERVAL_S = 30.0
# Sessions reach the durable history this often: rows, not events, so it is cheap, and a
# crash loses at most this much of the cross-session figures.
STORE_INTERVAL_S = 2.0


class SourcePoller:
    """Reads every source on a background thread; records go to the history's inbox.

    With ``backlog_idle_s``, the first pass reads the files no one has written for that
    long in worker processes first (``parallel.read_backlog``): months of logs are
    counted at report's speed and merged as parts, not applied a millisecond a frame.
    """

    def __init__(self, sources: list[LineSource], backlog_idle_s: float | None = None):
        self.sources = sources
        self.backlog_idle_s = backlog_idle_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="session-insights-sources", daemon=True)
        self.first_pass = threading.Event()  # every source was read to its end once
        self.reading_backlog = threading.Event()  # set while the backlog is read in processes
        if not sources:
            self.first_pass.set()

    def start(self) -> None:
        if self.sources and not self._thread.is_alive():
            self._thread.start()

    def add(self, source: LineSource) -> None:
        self.sources.append(source)
        self.start()

    def _run(self) -> None:
        PriceBook.load()  # here, not before the window's first frame
        if self.backlog_idle_s is not None:
            self.read_backlog()
        while not self._stop.is_set():
            self.poll_once()
            self.first_pass.set()
            self._stop.wait(POLL_INTERVAL_S)

    def poll_once(self) -> None:
        """Poll every source once. A source that fails is a notice and is polled again next
        time; the others go on: this thread must never die quietly."""
        for source in list(self.sources):
            try:
                source.poll()
            except Exception as exc:  # a bug in one adapter must not stop every source
                source.history.notice(f"{source.label}: reading failed ({type(exc).__name__}: {exc}); will try again")

    def read_backlog(self) -> None:
        from .sources.parallel import read_backlog  # multiprocessing: not before the first frame

        self.reading_backlog.set()
        try:
            for source in list(self.sources):
                if self._stop.is_set():
                    return
                try:
                    read_backlog(source, self.backlog_idle_s)
                except Exception as exc:  # poll() reads what this did not
                    source.history.notice(f"{source.label}: reading the backlog failed ({type(exc).__name__}: {exc})")
        finally:
            self.reading_backlog.clear()

    def stop(self) -> None:
        self._stop.set()


class Saver:
    """Writes the sessions to the durable history every STORE_INTERVAL_S and saves the
    state every SAVE_INTERVAL_S, on a background thread; both once more on close. A
    failure of either is a notice in the panel, never an exception."""

    def __init__(self, history: TokenHistory, store: SessionStore | None = None):
        self.history = history
        self.store = store
        self._stored_version = -1
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="session-insights-saver", daemon=True)

    def start(self) -> None:
        if self.history.state_path is not None or self.store is not None:
            self._thread.start()

    def _run(self) -> None:
        last_save = time.monotonic()
        while not self._stop.wait(STORE_INTERVAL_S):
            self.write_sessions()
            if time.monotonic() - last_save >= SAVE_INTERVAL_S:
                self.save()
                last_save = time.monotonic()

    def write_sessions(self) -> None:
        """Write the live sessions to the durable history, if anything changed since."""
        if self.store is None:
            return
        version = self.history.version
        if version == self._stored_version:
            return
        try:
            self.store.write(self.history.session_rows())
            self._stored_version = version
        except Exception as exc:  # the store reports its own failures; anything else must not stop the saver
            self.history.notice(f"could not write the session history: {type(exc).__name__}: {exc}")

    def save(self) -> None:
        if self.history.state_path is None:
            return
        try:
            self.history.save()
        except OSError as exc:
            self.history.notice(f"could not save {self.history.state_path}: {exc.strerror or exc}")
        except Exception as exc:  # whatever it is, the next save must still happen
            self.history.notice(f"could not save {self.history.state_path}: {type(exc).__name__}: {exc}")

    def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        """The last write and save, then the durable history closes."""
        self.stop()
        if self._thread.is_alive():
            self._thread.join(timeout=5.0)
        self.write_sessions()
        self.save()
        self.history.close()
        if self.store is not None:
            self.store.close()
