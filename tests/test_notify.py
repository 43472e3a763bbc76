"""Desktop notifications: sent from the notifier's own thread, so a send never waits for
the service; bounded; a failing service is one notice per distinct failure."""

from __future__ import annotations

import logging
import sys
import threading
import tomllib
import types

from session_insights import TokenHistory, notify
from session_insights.notify import DesktopBackend, Notifier, desktop_notifier

WAIT_S = 10.0


class BlockingBackend:
    """A notification service that hangs until ``release`` is set."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.calls: list[tuple[str, str]] = []
        self.entered = threading.Event()
        self.threads: set[str] = set()
        self.done = threading.Semaphore(0)

    def __call__(self, title: str, body: str) -> None:
        self.threads.add(threading.current_thread().name)
        self.entered.set()
        assert self.release.wait(WAIT_S)
        self.calls.append((title, body))
        self.done.release()


def test_a_send_returns_while_the_service_hangs_and_each_is_delivered_in_order():
    backend = BlockingBackend()
    notifier = Notifier(backend)
    assert notifier.send("first", "a")
    assert backend.entered.wait(WAIT_S)  # the service holds the first one...
    assert notifier.send("second", "b")  # ...and the caller is not held
    assert backend.calls == []
    backend.release.set()
    for _ in range(2):
        assert backend.done.acquire(timeout=WAIT_S)
    assert backend.calls == [("first", "a"), ("second", "b")]
    assert backend.threads == {"session-insights-notify"}
    notifier.close()


def test_past_its_bound_a_send_is_dropped_not_waited_for():
    backend = BlockingBackend()
    notifier = Notifier(backend, max_queued=2)
    notifier.send("held", "")
    assert backend.entered.wait(WAIT_S)
    assert [notifier.send(str(i), "") for i in range(4)] == [True, True, False, False]
    assert notifier.dropped == 2
    backend.release.set()
    for _ in range(3):
        assert backend.done.acquire(timeout=WAIT_S)
    assert [title for title, _ in backend.calls] == ["held", "0", "1"]
    notifier.close()
    assert notifier.send("after close", "") is False


def test_a_failing_service_is_one_notice_per_distinct_failure():
    told: list[str] = []
    done = threading.Semaphore(0)

    def broken(title: str, body: str) -> None:
        done.release()
        raise OSError("no session bus")

    notifier = Notifier(broken, on_error=told.append)
    for i in range(3):
        notifier.send(str(i), "")
        assert done.acquire(timeout=WAIT_S)
    notifier.close(wait_s=WAIT_S)
    assert told == [
        "desktop notification failed (OSError: no session bus); the banner in the panel still shows each alert"
    ]
    assert notifier.sent == 0


def test_desktop_notifiers_logged_failure_becomes_the_failure(monkeypatch):
    """desktop-notifier logs a failed send instead of raising: that log is the failure."""
    sent: list[dict] = []

    class FakeSync:
        def __init__(self, app_name: str, app_icon="the library's default"):
            self.app_name, self.app_icon = app_name, app_icon

        def send(self, **kwargs):
            sent.append({"app": self.app_name, "icon": self.app_icon, **kwargs})
            if kwargs["title"] == "fails":
                try:
                    raise ConnectionError("bus gone")
                except ConnectionError:
                    logging.getLogger("desktop_notifier.backends.base").warning("Notification failed", exc_info=True)

    monkeypatch.setitem(sys.modules, "desktop_notifier", types.SimpleNamespace(DesktopNotifierSync=FakeSync))
    monkeypatch.setattr(logging.getLogger("desktop_notifier"), "propagate", True)
    backend = DesktopBackend()
    backend("works", "body")
    assert backend.failure is None
    backend("fails", "body")
    assert backend.failure == "ConnectionError: bus gone"
    assert sent[0] == {"app": "Session Insights", "icon": None, "title": "works", "message": "body"}
    logging.getLogger("desktop_notifier").removeHandler(backend._failures)


def test_no_notifier_without_the_extra_or_when_turned_off(monkeypatch):
    monkeypatch.setattr(notify, "desktop_available", lambda: False)
    assert desktop_notifier({}) is None
    monkeypatch.setattr(notify, "desktop_available", lambda: True)
    assert desktop_notifier({"notify": False}) is None
    notifier = desktop_notifier({"notify": True})
    assert isinstance(notifier, Notifier) and isinstance(notifier.backend, DesktopBackend)
    notifier.close()


def test_notify_false_under_ui_in_state_toml_turns_them_off_and_stays(tmp_path, monkeypatch):
    monkeypatch.setattr(notify, "desktop_available", lambda: True)
    state = tmp_path / "state.toml"
    state.write_text("schema = 1\n\n[ui]\nnotify = false\n")
    history = TokenHistory(state_path=state)
    assert desktop_notifier(history.ui) is None
    history.save()
    assert tomllib.loads(state.read_text())["ui"]["notify"] is False  # a save keeps the switch
    history.close()
