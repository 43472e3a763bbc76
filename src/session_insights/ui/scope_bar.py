"""The top bar: which scope the panel shows (DESIGN §3b), picked from a combo, and beside
it what that scope is: for a session, its project, source, short id, start and active
time; for a span of time, the span.

- The combo's callback runs on Dear PyGui's thread: it only hands the picked ``Scope`` to
  ``on_pick`` (the panel's ``set_scope``), which applies it at the next tick.
- What the bar and the headers' titles say are pure functions of the snapshot's
  ``scope`` and the history's ``scope_choices``, tested without a window; the text is
  the summary's and report's (``views.scope_label``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import dearpygui.dearpygui as dpg

from .. import formatting as fmt
from .. import views
from ..scope import UNNAMED, Scope
from .theme import COLOURS
from .widgets import BoundText

KIND_LABELS = {
    "active": "Active session",
    "block": "This 5-hour block",
    "today": "Today",
    "week": "Last 7 days",
    "all": "All sessions",
}
# How a header's title names a scope of time ("Token Timeline · today").
SPAN_NAMES = {"block": "this 5-hour block", "today": "today", "week": "last 7 days", "all": "all sessions"}
SHORT_ID = 8  # agents name sessions by UUID: the first 8 characters tell them apart
COMBO_PX = 330
SEP = " · "


def short_id(session: str) -> str:
    """A session id cut to ``SHORT_ID`` characters; the name of requests with no
    session id is no id, and stays whole."""
    return fmt.printable(session if session == UNNAMED else session[:SHORT_ID])


def session_label(session: str, project: str | None, source: str | None, first_ts: float | None) -> str:
    """'web · claude · 1a2b3c4d · 2025-11-26 09:00': a session as the combo lists it."""
    if session == UNNAMED:  # a host's hooks name no session
        return SEP.join(("requests with no session id", fmt.clock(first_ts)))
    return SEP.join(
        (
            fmt.printable(project or "no project"),
            fmt.printable(source or "no source"),
            short_id(session),
            fmt.clock(first_ts),
        )
    )


def choice_scopes(choices: Sequence[dict]) -> dict[str, Scope]:
    """The combo's items, label -> scope: the kinds, then ``scope_choices`` (latest first).
    Two sessions that would read alike are told apart by their whole id."""
    scopes = {label: Scope(kind) for kind, label in KIND_LABELS.items()}
    for c in choices:
        label = session_label(c["session"], c["project"], c["source"], c["first_ts"])
        if label in scopes:
            label += SEP + fmt.printable(c["session"])
        scopes[label] = c["scope"]
    return scopes


def scope_name(info: dict) -> str:
    """The scope as headers' titles name it: 'active session 1a2b3c4d', 'today'."""
    kind, session = info["kind"], info.get("session")
    if kind == "active":
        return f"active session {short_id(session)}" if session else "active session"
    if kind == "session":
        return f"session {short_id(session)}" if session else "one session"
    return SPAN_NAMES.get(kind, kind)


def scope_text(info: dict) -> str:
    """What the bar says beside the combo: the summary's and report's line for the scope
    (``views.scope_label``); a session only the durable history keeps has no active time."""
    text = fmt.printable(views.scope_label(info))
    return text + ", active time not kept" if info.get("past") else text


def past_scope(row: dict) -> dict:
    """A session row of the durable history as a resolved scope; ``past``: its active
    time is not kept."""
    end = row["end_ts"] if row["end_ts"] is not None else row["last_ts"]
    return {
        "kind": "session",
        "session": row["session"],
        "project": row["project"],
        "source": row["source"],
        "start_ts": row["first_ts"],
        "end_ts": end,
        "active_s": None,
        "past": True,
    }


class ScopeBar:
    """The combo of scopes and the text naming the one shown; owns its items."""

    def __init__(self, parent: int | str, on_pick: Callable[[Scope], None]):
        self.on_pick = on_pick
        self._scopes = choice_scopes(())
        with dpg.group(horizontal=True, parent=parent) as self.group:
            dpg.add_text("Scope", color=COLOURS["dim"])
            self.combo = dpg.add_combo(
                items=list(self._scopes),
                default_value=KIND_LABELS["active"],
                width=COMBO_PX,
                height_mode=dpg.mvComboHeight_Large,
                callback=self._picked,
            )
            self.text = BoundText(self.group, "")
        self._label = KIND_LABELS["active"]

    def _picked(self, _sender: object, label: str, *_: object) -> None:
        scope = self._scopes.get(label)
        if scope is not None:
            self.on_pick(scope)

    @property
    def labels(self) -> list[str]:
        """The combo's items, in order (for tests)."""
        return list(self._scopes)

    def set_choices(self, choices: Sequence[dict]) -> None:
        """Offer the kinds and these sessions (``scope_choices``); items rewritten only when they change."""
        scopes = choice_scopes(choices)
        if list(scopes) != list(self._scopes):
            dpg.configure_item(self.combo, items=list(scopes))
        self._scopes = scopes

    def label_of(self, scope: Scope, info: dict) -> str:
        """The combo's text for ``scope``: its item, or the session's label if none lists it."""
        for label, listed in self._scopes.items():
            if listed == scope:
                return label
        return session_label(scope.session or "", info.get("project"), info.get("source"), info.get("start_ts"))

    def show(self, scope: Scope, info: dict) -> None:
        """Name ``scope``, resolved to ``info`` (a snapshot's ``scope``, or ``past_scope``)."""
        label = self.label_of(scope, info)
        if label != self._label:
            dpg.set_value(self.combo, label)
            self._label = label
        self.text.set(scope_text(info))

    @property
    def value(self) -> str:
        """The combo's text (for tests)."""
        return self._label
