"""InsightsPanel: the whole panel, built into a host's container or its own window.

``tick()`` is the panel's only per-frame work: it drains the history within a time
budget, and at most ``refresh_hz`` times a second — only when something changed —
takes one snapshot and hands it to the open headers, which write only changed items.
Dear PyGui is called from the render thread only.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import dearpygui.dearpygui as dpg

from ..history import TokenHistory
from ..metrics import timeline_view
from .burn import BurnHeader
from .cards import SummaryCards
from .efficiency import EfficiencyHeader
from .header import Header
from .models import ModelsHeader
from .progress import ProgressHeader
from .summary import SummaryHeader
from .theme import LEVELS, Fonts
from .tiers import TiersHeader
from .timeline import TimelineHeader
from .tools import ToolsHeader
from .widgets import BoundText

# A fixed integer tag: a host's saved docking layout (its init file) keys windows by
# it, so the panel lands where the user docked it, whatever else the host adds.
PANEL_WINDOW_TAG = 0x5E551
HEADERS: tuple[type[Header], ...] = (TimelineHeader, BurnHeader, ModelsHeader, TiersHeader, EfficiencyHeader,
                                     ToolsHeader, ProgressHeader, SummaryHeader)
DRAIN_BUDGET_S = 0.001
TIMELINE_POINTS = 512


class InsightsPanel:
    """The Session Insights panel over one TokenHistory.

    ``parent``: a container of the host's to build into; None builds a top-level
    window (tag PANEL_WINDOW_TAG) that can be docked. ``clock`` gives "now" for rates
    (the demo passes its simulated clock).
    """

    def __init__(self, history: TokenHistory, parent: int | str | None = None, *,
                 clock: Callable[[], float] = time.time, fonts: Fonts | None = None,
                 refresh_hz: float = 4.0, width: int = 1000, height: int = 760):
        self.history = history
        self.clock = clock
        self.refresh_s = 1.0 / refresh_hz
        self._last_refresh = -1.0
        self._seen_version = -1
        self._timeline: dict = {}
        self.snapshot: dict | None = None
        self.python_ms = 0.0  # time the last tick() took, for the status bar and stats
        if parent is None:
            self.window = dpg.add_window(label="Session Insights", tag=PANEL_WINDOW_TAG, width=width,
                                         height=height, no_collapse=True)
            parent = self.window
        else:
            self.window = None
        self.root = dpg.add_group(parent=parent)
        self.notices = BoundText(self.root, "", color=LEVELS["warning"], wrap=0, show=False)
        self.cards = SummaryCards(self.root, fonts)
        dpg.add_spacer(parent=self.root, height=4)
        open_headers = history.ui.get("open_headers")
        self.headers: dict[str, Header] = {}
        for cls in HEADERS:
            is_open = cls.key in open_headers if isinstance(open_headers, list) else True
            if cls is BurnHeader:
                header = cls(self.root, open_=is_open, on_budget=self.set_budget)
            else:
                header = cls(self.root, open_=is_open)
            self.headers[cls.key] = header

    # --- per frame --------------------------------------------------------------

    def tick(self) -> bool:
        """Drain and refresh; returns True if the items were updated this frame."""
        started = time.perf_counter()
        self.history.drain(budget_s=DRAIN_BUDGET_S)
        now = time.monotonic()
        refreshed = False
        open_now = self.open_headers()
        if open_now != self.history.ui.get("open_headers"):
            self.history.ui["open_headers"] = open_now
            self._seen_version = -1  # a header just opened needs its figures
        changed = self.history.version != self._seen_version
        # Rates decay while idle, so refresh on the clock too (but never faster than refresh_hz).
        if now - self._last_refresh >= self.refresh_s and (changed or now - self._last_refresh >= 1.0):
            self.refresh()
            self._last_refresh = now
            refreshed = True
        self.python_ms = (time.perf_counter() - started) * 1000
        return refreshed

    def refresh(self) -> None:
        """Take one snapshot and write what changed into the open headers."""
        h = self.history
        self._seen_version = h.version
        snap = self.snapshot = h.snapshot(now_ts=self.clock())
        # refresh() runs only when the history's version moved (or once a second while
        # idle); rebuild the drawn series only in the first case.
        if self._timeline.get("version") != h.version:
            width, buckets = h.timeline()
            self._timeline = timeline_view(buckets, width, TIMELINE_POINTS)
            self._timeline["version"] = h.version
        self.cards.update(snap)
        for header in self.headers.values():
            if header.is_open():
                header.update(snap, self._timeline)
        self._update_notices(snap)

    def _update_notices(self, snap: dict) -> None:
        lines = list(snap["notices"])
        if snap["unpriced_models"]:
            lines.append(f"Unpriced models (cost unknown, tokens counted): {', '.join(snap['unpriced_models'])}")
        if snap["errors"]["bad_lines"]:
            files = snap["errors"]["files"]
            lines.append(f"Skipped {snap['errors']['bad_lines']:,} unreadable log line(s) in "
                         f"{len(files):,} file(s): " + ", ".join(f"{p} ({n:,})" for p, n in list(files.items())[:3]))
        self.notices.set("\n".join(f"! {line}" for line in lines))
        self.notices.configure(show=bool(lines))

    # --- actions ----------------------------------------------------------------

    def open_headers(self) -> list[str]:
        return [key for key, header in self.headers.items() if header.is_open()]

    def set_header_open(self, key: str, open_: bool) -> None:
        self.headers[key].set_open(open_)

    def set_budget(self, budget_usd: float | None) -> None:
        self.history.budget_usd = budget_usd if budget_usd else None
        self._seen_version = -1
