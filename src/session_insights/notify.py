"""Desktop notifications of the panel's alerts, through the platform's own service: D-Bus
``org.freedesktop.Notifications`` on Linux, the Notification Center on macOS, toasts on
Windows, by ``desktop-notifier`` (the optional extra ``session-insights[notify]``).

``Notifier.send`` only queues (at most ``MAX_QUEUED``; past that a notification is
dropped and counted): a thread of the notifier's own calls the backend, so a service that
is slow or hangs never holds up a frame. A backend that fails is told once per distinct
failure (``on_error``: the panel's notices), and the next notification is tried as usual.

- The library is imported and set up on that thread at the first notification, not at
  start: the first frame does not wait for D-Bus.
- desktop-notifier logs a failed send instead of raising it: its log is caught here and
  becomes the failure, not a traceback on stderr.
"""

from __future__ import annotations

import importlib.util
import logging
import queue
import threading
from collections.abc import Callable

APP_NAME = "Session Insights"
MAX_QUEUED = 16
CLOSE_WAIT_S = 0.5  # at exit, a service that hangs costs at most this
EXTRA_HINT = "pip install 'session-insights[notify]'"

Backend = Callable[[str, str], object]


class Notifier:
    """Calls ``backend(title, body)`` on a thread of its own for each ``send``."""

    def __init__(
        self, backend: Backend, *, on_error: Callable[[str], object] | None = None, max_queued: int = MAX_QUEUED
    ):
        self.backend = backend
        self.on_error = on_error
        self.sent = 0  # notifications the backend took
        self.dropped = 0  # sends refused: the queue was full, or the notifier closed
        self._errors: set[str] = set()
        self._queue: queue.Queue[tuple[str, str] | None] = queue.Queue(maxsize=max_queued)
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="session-insights-notify", daemon=True)
        self._thread.start()

    def send(self, title: str, body: str) -> bool:
        """Queue one notification; never blocks. False if it was dropped."""
        if self._closed:
            self.dropped += 1
            return False
        try:
            self._queue.put_nowait((title, body))
        except queue.Full:
            self.dropped += 1
            return False
        return True

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None or self._closed:
                return
            try:
                self.backend(*item)
                why = getattr(self.backend, "failure", None)
            except Exception as exc:  # a notification service's failure is a notice, not a crash
                why = f"{type(exc).__name__}: {exc}"
            if why:
                self._failed(why)
            else:
                self.sent += 1

    def _failed(self, why: str) -> None:
        if why not in self._errors and self.on_error is not None:
            self._errors.add(why)
            self.on_error(f"desktop notification failed ({why}); the banner in the panel still shows each alert")

    def close(self, wait_s: float = CLOSE_WAIT_S) -> None:
        """Stop the thread; notifications still queued are dropped."""
        self._closed = True
        try:
            self._queue.put_nowait(None)
        except queue.Full:
            pass  # the thread sees _closed after the item it is on
        self._thread.join(timeout=wait_s)


class _Failures(logging.Handler):
    """Keeps the last warning desktop-notifier logged (a failed send)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.last: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        exc = record.exc_info[1] if record.exc_info else None
        self.last = f"{type(exc).__name__}: {exc}" if exc is not None else record.getMessage()


class DesktopBackend:
    """desktop-notifier, set up at its first call (on the notifier's thread)."""

    def __init__(self, app_name: str = APP_NAME):
        self.app_name = app_name
        self.failure: str | None = None  # why the last call failed, if it did
        self._notifier = None
        self._failures = _Failures()

    def __call__(self, title: str, body: str) -> None:
        if self._notifier is None:
            from desktop_notifier import DesktopNotifierSync

            log = logging.getLogger("desktop_notifier")
            log.addHandler(self._failures)
            log.propagate = False
            # No icon: the library's own is the Python logo, which says nothing of us.
            self._notifier = DesktopNotifierSync(app_name=self.app_name, app_icon=None)
        self._failures.last = None
        self._notifier.send(title=title, message=body)
        self.failure = self._failures.last


def desktop_available() -> bool:
    """Whether the ``[notify]`` extra is installed (looked up, not imported)."""
    return importlib.util.find_spec("desktop_notifier") is not None


def desktop_notifier(ui: dict, *, on_error: Callable[[str], object] | None = None) -> Notifier | None:
    """The desktop's notifier, unless the extra is missing or the user turned it off
    (``notify = false`` under ``[ui]`` in state.toml)."""
    if ui.get("notify", True) is False or not desktop_available():
        return None
    return Notifier(DesktopBackend(), on_error=on_error)
