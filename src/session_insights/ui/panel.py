"""InsightsPanel: the whole panel, built into a host's container or its own window.

``tick()`` is the panel's only per-frame work: it drains the history within a time
budget, and at most ``refresh_hz`` times a second — only when something changed —
takes one snapshot of the scope shown and hands it to the open headers, which write
only changed items. The headers across sessions draw from an ``AcrossView`` that is read
off the render thread (at most every 2 s, when the durable or the live history changed)
and redraw only when a new one arrives. Dear PyGui is called from the render thread only.

- The scope (DESIGN §3b) is picked in the top bar or by selecting a Sessions row; a pick
  from any thread is applied at the next tick. Switching reads no log: one snapshot and
  one timeline of the new scope.
- A session the live history does not hold is shown from its durable-history row, with
  a "not kept" note in the headers that row cannot fill.
- Alerts come from each live snapshot and the Limits header's windows, open or not: the
  banner under the top bar shows them, a ``notifier`` is told each new one once.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import dearpygui.dearpygui as dpg

from .. import across
from ..across_view import NOT_KEPT, AcrossLoader, SessionKey, past_session_notes, session_title
from ..alerts import Alerts, alert_text, alert_title
from ..drawn import timeline_view
from ..history import TokenHistory
from ..scope import Scope, UnknownSession, find_session
from .banner import AlertBanner
from .burn import BurnHeader
from .cards import SummaryCards
from .header import Header
from .headers import HEADERS
from .limits import LimitsHeader
from .notices import notice_text
from .plots import ChartInput
from .scope_bar import ScopeBar, past_scope, scope_name
from .sessions import AcrossHeader, SessionsHeader
from .theme import COLOURS, LEVELS, Fonts
from .usage_over_time import UsageOverTimeHeader
from .widgets import BoundText

# A fixed integer tag: a host's saved docking layout (its init file) keys windows by
# it, so the panel lands where the user docked it, whatever else the host adds.
PANEL_WINDOW_TAG = 0x5E551
PANEL_TITLE = "Session Insights"
DRAIN_BUDGET_S = 0.001
TIMELINE_POINTS = 512
SCOPE_CHOICES = 20  # recent sessions the top bar offers
EVERY_SESSION = 1 << 30  # a scope_choices limit that lists every session the live history holds
ACTIVE = Scope("active")
_REMARK: SessionKey = ("", "")  # no Sessions row: the marked row is to be written again


class InsightsPanel:
    """The Session Insights panel over one TokenHistory.

    ``parent``: a container of the host's to build into; None builds a top-level
    window (tag PANEL_WINDOW_TAG) that can be docked. ``clock`` gives "now" for rates
    (the demo passes its simulated clock). ``store``: the durable history
    (``store.SessionStore``) whose sessions join the live ones in the headers across
    sessions; None shows the live sessions only. ``scope``: the scope shown first
    (default: the active session, followed as newer ones start). ``notifier``
    (``notify.Notifier``): told of each alert once; None: the banner alone.
    """

    def __init__(
        self,
        history: TokenHistory,
        parent: int | str | None = None,
        *,
        clock: Callable[[], float] = time.time,
        fonts: Fonts | None = None,
        refresh_hz: float = 4.0,
        width: int = 1000,
        height: int = 760,
        store=None,
        scope: Scope | None = None,
        notifier=None,
    ):
        self.history = history
        self.notifier = notifier
        self.alerts = Alerts(told=history.ui.get("told_alerts", ()) if notifier is not None else ())
        self.store = store
        self.clock = clock
        self.refresh_s = 1.0 / refresh_hz
        self._last_refresh = -1.0
        self._seen_version = -1
        self._timeline: dict = {}
        self._timeline_builds = 0
        self.snapshot: dict | None = None  # the latest snapshot of the live history
        self.shown_snapshot: dict | None = None  # what the headers show: live, or a past session
        self.python_ms = 0.0  # time the last tick() took, for the status bar and stats
        self.across = AcrossLoader(history, store)
        self.scope = scope or ACTIVE  # what the headers show
        self.scope_info: dict = {}  # what it resolved to, as the top bar names it
        self.viewing: SessionKey | None = None  # a session of the durable history only, shown from its row
        # (scope, Sessions row or None), set from any thread (Dear PyGui's callbacks); the next tick applies it.
        self._requested: tuple[Scope, SessionKey | None] | None = (self.scope, None)
        self._scope_problem: str | None = None  # why the last scope picked could not be shown
        self._choices, self._choices_version = [], -1
        self._marked: SessionKey | None = None  # the Sessions row marked as shown
        self._past_view = None  # the AcrossView the past snapshot was built from
        self.window = None
        if parent is None:
            parent = self.window = dpg.add_window(
                label=PANEL_TITLE, tag=PANEL_WINDOW_TAG, width=width, height=height, no_collapse=True
            )
        self.root = dpg.add_group(parent=parent)
        if fonts is None:  # a host's own font stays its own: the panel's is bound to the panel only
            fonts = Fonts(bind=False)
            dpg.bind_item_font(self.root, fonts.base)
        self.scope_bar = ScopeBar(self.root, on_pick=self.set_scope)
        self.banner = AlertBanner(self.root)
        self.notices = BoundText(self.root, "", color=LEVELS["warning"], wrap=0, show=False)
        with dpg.group(horizontal=True, parent=self.root, show=False) as self.past_line:
            self.past_text = BoundText(self.past_line, "", color=COLOURS["warn"])
            self.live_button = dpg.add_button(label="Back to active session", callback=lambda: self.set_scope(ACTIVE))
        self._build_headers(fonts)

    def _build_headers(self, fonts: Fonts | None) -> None:
        """The cards, then every header, open as the history's UI preferences say."""
        self.cards = SummaryCards(self.root, fonts)
        dpg.add_spacer(parent=self.root, height=4)
        open_headers = self.history.ui.get("open_headers")
        self.headers: dict[str, Header] = {}
        for cls in HEADERS:
            is_open = cls.key in open_headers if isinstance(open_headers, list) else cls.default_open
            if cls is BurnHeader:
                header = cls(self.root, open_=is_open, on_budget=self.set_budget)
            elif cls is SessionsHeader:
                header = cls(self.root, open_=is_open, on_pick=self.request_view)
            else:
                header = cls(self.root, open_=is_open)
            self.headers[cls.key] = header
        self.charts = ChartInput([self.headers["timeline"].view, self.headers["burn"].view])
        self.sessions: SessionsHeader = self.headers["sessions"]
        self.headers["limits"].history = self.history  # the Limits' estimates are of its logs
        self.limits: LimitsHeader = self.headers["limits"]
        self.usage: UsageOverTimeHeader = self.headers["usage"]
        self._across_headers = [h for h in self.headers.values() if isinstance(h, AcrossHeader)]
        self._session_headers = [h for h in self.headers.values() if not isinstance(h, AcrossHeader)]
        # In each header with nothing kept for past sessions, the words shown instead.
        dim = {"color": COLOURS["dim"], "wrap": 0, "indent": 6, "show": False}
        self._not_kept = {
            key: dpg.add_text("", parent=self.headers[key].item, before=self.headers[key].body, **dim)
            for key in NOT_KEPT
        }

    # --- per frame --------------------------------------------------------------

    def tick(self) -> bool:
        """Drain and refresh; returns True if the items were updated this frame. While a
        reader holds the history (merging a backlog's parts, ~35 ms at 700 MB of logs),
        the frame waits for nothing and shows what it showed."""
        if not self.history.hold_if_free():
            self.python_ms = 0.0
            return False
        try:
            return self._tick()
        finally:
            self.history.release_hold()

    def _tick(self) -> bool:
        started = time.perf_counter()
        self.charts.apply()
        self.history.drain(budget_s=DRAIN_BUDGET_S)
        for key in self.banner.take_dismissed():
            self.alerts.dismiss(key)
        now = time.monotonic()
        refreshed = False
        if self._requested is not None:
            (scope, key), self._requested = self._requested, None
            self._apply_scope(scope, key)
        open_now = self.open_headers()
        if open_now != self.history.ui.get("open_headers"):
            self.history.ui["open_headers"] = open_now
            self._seen_version = -1  # a header just opened needs its figures
        self.across.poll(now)
        view = self.across.view
        if view is not None:
            for header in self._across_headers:
                if header.needs(view) and header.key in open_now:
                    header.draw(view)
                    refreshed = True
            self.across.sort = self.sessions.sort
            self.across.usage_by = self.usage.by
        if self.viewing is not None:
            changed = view is not self._past_view
        else:
            changed = self.history.version != self._seen_version
        # Rates decay while idle, so refresh on the clock too (but never faster than refresh_hz).
        if now - self._last_refresh >= self.refresh_s and (changed or now - self._last_refresh >= 1.0):
            self.refresh()
            self._last_refresh = now
            refreshed = True
        self.banner.show(self.alerts)
        self.python_ms = (time.perf_counter() - started) * 1000
        return refreshed

    def refresh(self) -> None:
        """Take one snapshot of the scope (or the past session's) and write what changed
        into the open headers."""
        h = self.history
        self._seen_version = h.version
        if h.version != self._choices_version:
            self._choices_version = h.version
            self._choices = h.scope_choices(limit=SCOPE_CHOICES)
            self.scope_bar.set_choices(self._choices)
        if self.viewing is not None:
            self._refresh_past()
            return
        now = self.clock()
        try:
            # One resolution for the figures and the chart: a time scope's span moves with the
            # clock (today starts anew at midnight), not only when a record arrives.
            resolved = h.resolve(self.scope, now)
            snap = h.snapshot(now_ts=now, scope=resolved)
        except UnknownSession as exc:  # the live history does not hold the session pinned
            key = self._stored_key(self.scope.session or "")
            if key is not None:
                self.scope = Scope.of_session(key[1])
                self.show_session(key)
            else:
                self._apply_scope(ACTIVE, None, problem=f"Scope: {exc}; showing the active session.")
            self.refresh()
            return
        self.snapshot = self.shown_snapshot = snap
        # refresh() runs when the history's version moved (or once a second while idle):
        # rebuild the drawn series only when that or the scope changed.
        if self._timeline.get("key") != (resolved, h.version):
            width, buckets = h.timeline(resolved)
            self._timeline = timeline_view(buckets, width, TIMELINE_POINTS)
            self._timeline_builds += 1
            self._timeline["key"] = (resolved, h.version)
            self._timeline["version"] = self._timeline_builds
        self._show_scope(snap["scope"])
        self.cards.update(snap)
        self._update_alerts(snap)
        for header in self._session_headers:
            if header.is_open():
                header.update(snap, self._timeline)
        self._update_notices(snap)

    def _update_alerts(self, snap: dict) -> None:
        """The alerts of this snapshot and the windows known; each new one told, once."""
        now_ts = time.time()  # the quota windows run on the wall clock, whatever the panel's
        windows = self.limits.crossing_windows(snap, now_ts)
        self.cards.show_quota(windows)
        to_tell = self.alerts.of_snapshot(snap, windows, now_ts)
        if self.notifier is not None:
            for crossing in to_tell:
                self.notifier.send(alert_title(crossing), alert_text(crossing))
            self.history.ui["told_alerts"] = self.alerts.told.names  # kept across restarts

    def _refresh_past(self) -> None:
        view = self.across.view
        row = view.row_for(self.viewing) if view is not None else None
        if row is None:  # gone from the history: back to what is being watched
            self._apply_scope(ACTIVE, None)
            self.refresh()
            return
        if view is not self._past_view:
            self._past_view = view
            self.shown_snapshot = {**across.session_snapshot(row), "scope": past_scope(row)}
            for key, text in past_session_notes(row).items():
                dpg.set_value(self._not_kept[key], text)
            self.past_text.set(
                f"Showing past session {session_title(view.figures[view.keys.index(self.viewing)])}"
                " — only what the session history keeps."
            )
            self._show_scope(past_scope(row))
        snap = self.shown_snapshot
        self.cards.update(snap)
        for header in self._session_headers:
            if header.key not in self._not_kept and header.is_open():
                header.update(snap, self._timeline)
        self._update_notices(None)

    def _show_scope(self, info: dict) -> None:
        """Name the scope in the top bar, over the cards and in every header's title, and
        mark a pinned session's row in Sessions; each item is written only when it changes."""
        self.scope_info = info
        self.scope_bar.show(self.scope, info)
        name = scope_name(info)
        self.cards.show_scope(name)
        for header in self._session_headers:
            header.show_scope(name)
        marked = self.viewing
        if marked is None and self.scope.kind == "session" and info.get("session"):
            marked = (info.get("source") or "", info["session"])
        if marked != self._marked:
            self._marked = marked
            self.sessions.set_viewing(marked)

    def _update_notices(self, snap: dict | None) -> None:
        stored = self.store.notices if self.store is not None else ()
        text = notice_text(snap, self.history.notices, (*stored, self.across.error, self._scope_problem))
        self.notices.set(text)
        self.notices.configure(show=bool(text))

    # --- actions ----------------------------------------------------------------

    def open_headers(self) -> list[str]:
        return [key for key, header in self.headers.items() if header.is_open()]

    def set_header_open(self, key: str, open_: bool) -> None:
        self.headers[key].set_open(open_)

    def set_budget(self, budget_usd: float | None) -> None:
        self.history.budget_usd = budget_usd if budget_usd else None
        self._seen_version = -1

    def set_scope(self, scope: Scope) -> None:
        """Show ``scope`` from the next tick; callable from any thread (the top bar's and
        Dear PyGui's callbacks call it). A session scope pins that session; ``active``
        follows the latest again."""
        self._requested = (scope, None)

    def request_view(self, key: SessionKey | None) -> None:
        """Show one Sessions row's session (None: the active session) from the next tick;
        callable from any thread. The row is kept to fall back on if the live history
        does not hold the session."""
        self._requested = (ACTIVE, None) if key is None else (Scope.of_session(key[1]), key)

    def _apply_scope(self, scope: Scope, key: SessionKey | None, problem: str | None = None) -> None:
        """Show ``scope``: from the live history where it holds the session (or for a span
        of time), else from the durable history's row of it (``key``, or found by id)."""
        self._scope_problem = problem
        self._marked = _REMARK  # a click toggled the row's selectable: mark it again
        if scope.kind == "session":
            try:
                scope = Scope.of_session(find_session(scope.session or "", self._live_sessions()))
            except UnknownSession as exc:
                key = key or self._stored_key(scope.session or "")
                if key is None and self.across.view is None and self.store is not None:
                    self._requested = (scope, None)  # the durable history is still being read
                    return
                if key is None:
                    self._apply_scope(ACTIVE, None, problem=f"Scope: {exc}; showing the active session.")
                    return
                self.scope = Scope.of_session(key[1])
                self.show_session(key)
                return
        self.scope = scope
        self.show_live()

    def _live_sessions(self) -> list[str]:
        return [c["session"] for c in self.history.scope_choices(limit=EVERY_SESSION)]

    def _stored_key(self, session: str) -> SessionKey | None:
        """The Sessions row of ``session`` (an id or the start of one), if it is read."""
        view = self.across.view
        if view is None:
            return None
        try:
            name = find_session(session, [key[1] for key in view.keys])
        except UnknownSession:
            return None
        return next(key for key in view.keys if key[1] == name)

    def show_session(self, key: SessionKey) -> None:
        """Show a session of the durable history from its row (the Sessions table's)."""
        self.viewing = key
        self._show_past(True)

    def show_live(self) -> None:
        """Show the scope from the live history, every header with it."""
        self.viewing = None
        self._show_past(False)

    def _show_past(self, past: bool) -> None:
        """A past session's line and "not kept" notes, or the headers it cannot fill."""
        self._past_view = None
        dpg.configure_item(self.past_line, show=past)
        for key, note in self._not_kept.items():
            dpg.configure_item(self.headers[key].body, show=not past)
            dpg.configure_item(note, show=past)
        self._last_refresh = -1.0  # at once, not at the next refresh slot
        self._seen_version = -1

    def add_menu_item(self, parent: int | str = 0, label: str = PANEL_TITLE) -> int:
        """A menu item (in ``parent``, else the menu being built) that shows the panel's
        window again after its close box hid it, and brings it to the front."""
        return dpg.add_menu_item(label=label, parent=parent, callback=lambda: self.reopen())

    def reopen(self) -> None:
        """Show the panel's own window again (a closed window is only hidden)."""
        if self.window is not None:
            dpg.configure_item(self.window, show=True)
            dpg.focus_item(self.window)

    def close(self) -> None:
        """Stop reading the session history in the background, and watching the mouse."""
        self.across.close()
        self.charts.close()
