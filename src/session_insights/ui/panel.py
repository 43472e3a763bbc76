"""InsightsPanel: the whole panel, built into a host's container or its own window.

``tick()`` is the panel's only per-frame work: it drains the history within a time
budget, and at most ``refresh_hz`` times a second — only when something changed —
takes one snapshot and hands it to the open headers, which write only changed items.
The headers across sessions draw from an ``AcrossView`` that is read off the render
thread (at most every 2 s, when the durable or the live history changed) and redraw
only when a new one arrives. Dear PyGui is called from the render thread only.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import dearpygui.dearpygui as dpg

from .. import across
from .. import formatting as fmt
from ..across_view import NOT_KEPT, AcrossLoader, SessionKey, past_session_notes, session_title
from ..history import TokenHistory
from ..metrics import timeline_view
from .burn import BurnHeader
from .cards import SummaryCards
from .categories import TokenCategoriesHeader
from .efficiency import EfficiencyHeader
from .efficiency_over_time import EfficiencyOverTimeHeader
from .header import Header
from .models import ModelsHeader
from .progress import ProgressHeader
from .sessions import AcrossHeader, SessionsHeader
from .summary import SummaryHeader
from .theme import COLOURS, LEVELS, Fonts
from .tiers import TiersHeader
from .timeline import TimelineHeader
from .tool_cost import ToolCostHeader
from .tools import ToolsHeader
from .usage_over_time import UsageOverTimeHeader
from .widgets import BoundText

# A fixed integer tag: a host's saved docking layout (its init file) keys windows by
# it, so the panel lands where the user docked it, whatever else the host adds.
PANEL_WINDOW_TAG = 0x5E551
HEADERS: tuple[type[Header], ...] = (
    TimelineHeader,
    BurnHeader,
    ModelsHeader,
    TiersHeader,
    EfficiencyHeader,
    ToolsHeader,
    ToolCostHeader,
    ProgressHeader,
    SummaryHeader,
    SessionsHeader,
    EfficiencyOverTimeHeader,
    UsageOverTimeHeader,
    TokenCategoriesHeader,
)
DRAIN_BUDGET_S = 0.001
TIMELINE_POINTS = 512
_LIVE = ("live",)  # a requested view: back to the sessions being watched


class InsightsPanel:
    """The Session Insights panel over one TokenHistory.

    ``parent``: a container of the host's to build into; None builds a top-level
    window (tag PANEL_WINDOW_TAG) that can be docked. ``clock`` gives "now" for rates
    (the demo passes its simulated clock). ``store``: the durable history
    (``store.SessionStore``) whose sessions join the live ones in the headers across
    sessions; None shows the live sessions only.
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
    ):
        self.history = history
        self.store = store
        self.clock = clock
        self.refresh_s = 1.0 / refresh_hz
        self._last_refresh = -1.0
        self._seen_version = -1
        self._timeline: dict = {}
        self.snapshot: dict | None = None  # the latest snapshot of the live history
        self.shown_snapshot: dict | None = None  # what the headers show: live, or a past session
        self.python_ms = 0.0  # time the last tick() took, for the status bar and stats
        self.across = AcrossLoader(history, store)
        self.viewing: SessionKey | None = None  # a past session shown instead of the live view
        self._requested_view: tuple | None = None  # set from Dear PyGui's callback thread
        self._past_view = None  # the AcrossView the past snapshot was built from
        if parent is None:
            self.window = dpg.add_window(
                label="Session Insights", tag=PANEL_WINDOW_TAG, width=width, height=height, no_collapse=True
            )
            parent = self.window
        else:
            self.window = None
        self.root = dpg.add_group(parent=parent)
        self.notices = BoundText(self.root, "", color=LEVELS["warning"], wrap=0, show=False)
        with dpg.group(horizontal=True, parent=self.root, show=False) as self.past_line:
            self.past_text = BoundText(self.past_line, "", color=COLOURS["warn"])
            self.live_button = dpg.add_button(label="Current session", callback=lambda: self.request_view(None))
        self.cards = SummaryCards(self.root, fonts)
        dpg.add_spacer(parent=self.root, height=4)
        open_headers = history.ui.get("open_headers")
        self.headers: dict[str, Header] = {}
        for cls in HEADERS:
            is_open = cls.key in open_headers if isinstance(open_headers, list) else True
            if cls is BurnHeader:
                header = cls(self.root, open_=is_open, on_budget=self.set_budget)
            elif cls is SessionsHeader:
                header = cls(self.root, open_=is_open, on_pick=self.request_view)
            else:
                header = cls(self.root, open_=is_open)
            self.headers[cls.key] = header
        self.sessions: SessionsHeader = self.headers["sessions"]
        self.usage: UsageOverTimeHeader = self.headers["usage"]
        self._across_headers = [h for h in self.headers.values() if isinstance(h, AcrossHeader)]
        self._session_headers = [h for h in self.headers.values() if not isinstance(h, AcrossHeader)]
        # In each header with nothing kept for past sessions, the words shown instead.
        self._not_kept = {
            key: dpg.add_text(
                "",
                parent=self.headers[key].item,
                before=self.headers[key].body,
                color=COLOURS["dim"],
                wrap=0,
                indent=6,
                show=False,
            )
            for key in NOT_KEPT
        }

    # --- per frame --------------------------------------------------------------

    def tick(self) -> bool:
        """Drain and refresh; returns True if the items were updated this frame."""
        started = time.perf_counter()
        self.history.drain(budget_s=DRAIN_BUDGET_S)
        now = time.monotonic()
        refreshed = False
        if self._requested_view is not None:
            requested, self._requested_view = self._requested_view, None
            self.show_live() if requested is _LIVE else self.show_session(requested[0])
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
        self.python_ms = (time.perf_counter() - started) * 1000
        return refreshed

    def refresh(self) -> None:
        """Take one snapshot (or the past session's) and write what changed into the open headers."""
        h = self.history
        self._seen_version = h.version
        if self.viewing is not None:
            self._refresh_past()
            return
        snap = self.snapshot = self.shown_snapshot = h.snapshot(now_ts=self.clock())
        # refresh() runs only when the history's version moved (or once a second while
        # idle); rebuild the drawn series only in the first case.
        if self._timeline.get("version") != h.version:
            width, buckets = h.timeline()
            self._timeline = timeline_view(buckets, width, TIMELINE_POINTS)
            self._timeline["version"] = h.version
        self.cards.update(snap)
        for header in self._session_headers:
            if header.is_open():
                header.update(snap, self._timeline)
        self._update_notices(snap)

    def _refresh_past(self) -> None:
        view = self.across.view
        row = view.row_for(self.viewing) if view is not None else None
        if row is None:  # gone from the history: back to what is being watched
            self.show_live()
            self.refresh()
            return
        if view is not self._past_view:
            self._past_view = view
            self.shown_snapshot = across.session_snapshot(row)
            for key, text in past_session_notes(row).items():
                dpg.set_value(self._not_kept[key], text)
            self.past_text.set(
                f"Showing past session {session_title(view.figures[view.keys.index(self.viewing)])}"
                " — only what the session history keeps."
            )
        snap = self.shown_snapshot
        self.cards.update(snap)
        for header in self._session_headers:
            if header.key not in self._not_kept and header.is_open():
                header.update(snap, self._timeline)
        self._update_notices(None)

    def _update_notices(self, snap: dict | None) -> None:
        if snap is None:  # a past session is shown: the live history's own notices only
            lines = list(self.history.notices)
        else:
            lines = list(snap["notices"])
            if snap["unpriced_models"]:
                lines.append(f"Unpriced models (cost unknown, tokens counted): {', '.join(snap['unpriced_models'])}")
            if snap["errors"]["bad_lines"]:
                files = snap["errors"]["files"]
                lines.append(
                    f"{fmt.skipped_lines(snap['errors'])}; in {len(files):,} file(s): "
                    + ", ".join(f"{p} ({n:,})" for p, n in list(files.items())[:3])
                )
        if self.store is not None:
            lines.extend(self.store.notices)
        if self.across.error:
            lines.append(self.across.error)
        self.notices.set("\n".join(f"! {fmt.printable(line)}" for line in lines))
        self.notices.configure(show=bool(lines))

    # --- actions ----------------------------------------------------------------

    def open_headers(self) -> list[str]:
        return [key for key, header in self.headers.items() if header.is_open()]

    def set_header_open(self, key: str, open_: bool) -> None:
        self.headers[key].set_open(open_)

    def set_budget(self, budget_usd: float | None) -> None:
        self.history.budget_usd = budget_usd if budget_usd else None
        self._seen_version = -1

    def request_view(self, key: SessionKey | None) -> None:
        """Ask for a past session (None: the live view) from any thread; the next
        tick shows it. Dear PyGui's callbacks call this."""
        self._requested_view = _LIVE if key is None else (key,)

    def show_session(self, key: SessionKey) -> None:
        """Show one session's figures (from the Sessions table) in the other headers."""
        self.viewing = key
        self._past_view = None
        self.sessions.set_viewing(key)
        dpg.configure_item(self.past_line, show=True)
        for key_, note in self._not_kept.items():
            dpg.configure_item(self.headers[key_].body, show=False)
            dpg.configure_item(note, show=True)
        self._last_refresh = -1.0  # at once, not at the next refresh slot
        self._seen_version = -1

    def show_live(self) -> None:
        """Back to the sessions being watched."""
        self.viewing = None
        self._past_view = None
        self.sessions.set_viewing(None)
        dpg.configure_item(self.past_line, show=False)
        for key_, note in self._not_kept.items():
            dpg.configure_item(self.headers[key_].body, show=True)
            dpg.configure_item(note, show=False)
        self._last_refresh = -1.0
        self._seen_version = -1

    def close(self) -> None:
        """Stop reading the session history in the background."""
        self.across.close()
