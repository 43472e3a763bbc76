"""The figures across sessions, as the panel's headers draw them, with no window in
sight: ``AcrossView`` (the merged session rows and what ``across`` gives of them, built
off the render thread by ``AcrossLoader``, with the Sessions rows of ``views``) and the
order a column sorts in. ``ui/`` only binds these to items.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field

from . import across
from . import formatting as fmt
from .history import TokenHistory
from .views import session_cells
from .views import session_title as session_title  # ui/panel.py reads it from here

ACROSS_INTERVAL_S = 2.0  # the sessions are read again at most this often
STORE_REREAD_S = 30.0  # and the durable history, when it changed, at most this often
CATEGORY_SESSIONS = 12  # sessions drawn in Token Categories (the latest with tokens)
MAX_ROWS = 100  # rows the Sessions table holds; sorting ranks every session first
SessionKey = tuple[str, str]  # across.row_key: (source or "", session)
DEFAULT_SORT = ("start_ts", True)  # latest first
# Headers with nothing kept for a past session: hidden while one is shown, with a note.
NOT_KEPT = ("timeline", "burn", "tiers", "tools", "tool_cost", "progress")


# --- the figures across sessions ------------------------------------------------------


@dataclass(eq=False)
class AcrossView:
    """One reading of every session: ``rows`` (merged, in start order), their
    ``figures`` (``across.session_figures``, same order) and what the headers across
    sessions draw. Built off the render thread; what it computes later (another sort,
    another period) it caches."""

    seq: int
    rows: list[dict]
    figures: list[dict]
    keys: list[SessionKey]
    over_time: dict
    unpriced_models: list[str]
    categories: list[tuple[dict, dict[str, int]]]  # (figures, token_categories), latest first
    categories_hidden: int
    total_categories: dict[str, int]
    stored: bool  # a durable history was read (else only the live sessions)
    _orders: dict[tuple[str, bool], list[int]] = field(default_factory=dict)
    _cells: dict[int, list[str]] = field(default_factory=dict)
    _usage: dict[str, list[dict]] = field(default_factory=dict)

    def row_for(self, key: SessionKey) -> dict | None:
        try:
            return self.rows[self.keys.index(key)]
        except ValueError:
            return None

    def order(self, sort: tuple[str, bool]) -> list[int]:
        """Row indexes sorted by ``(field, descending)``; cached per sort."""
        order = self._orders.get(sort)
        if order is None:
            order = self._orders[sort] = sort_order(self.figures, *sort)
        return order

    def cells(self, i: int) -> list[str]:
        """The Sessions table's texts for row ``i``; cached."""
        texts = self._cells.get(i)
        if texts is None:
            texts = self._cells[i] = session_cells(self.figures[i])
        return texts

    def usage(self, by: str) -> list[dict]:
        """``across.usage_over_time`` of every row per ``by`` (day, week, month); cached."""
        periods = self._usage.get(by)
        if periods is None:
            periods = self._usage[by] = across.usage_over_time(self.rows, by)
        return periods


def build_across_view(
    rows: list[dict],
    seq: int = 0,
    stored: bool = False,
    *,
    figures: list[dict] | None = None,
    warm_sort: tuple[str, bool] = DEFAULT_SORT,
    warm_usage: str = "day",
) -> AcrossView:
    """Everything the headers across sessions draw, from merged session rows (and their
    ``across.session_figures`` when the caller has them already)."""
    if figures is None:
        figures = [across.session_figures(row) for row in rows]
    with_tokens = [i for i, row in enumerate(rows) if row["total_tokens"]]
    latest = with_tokens[-CATEGORY_SESSIONS:][::-1]
    view = AcrossView(
        seq=seq,
        rows=rows,
        figures=figures,
        keys=[across.row_key(row) for row in rows],
        over_time=across.efficiency_over_time(rows),
        unpriced_models=sorted(across.unpriced_models(rows)),
        categories=[(figures[i], across.token_categories(rows[i])) for i in latest],
        categories_hidden=len(with_tokens) - len(latest),
        total_categories=across.total_categories(rows),
        stored=stored,
    )
    # What the headers show first, so the render thread finds it ready.
    view.usage(warm_usage)
    for i in view.order(warm_sort)[:MAX_ROWS]:
        view.cells(i)
    return view


class AcrossLoader:
    """Reads the durable history and merges the live sessions into it on a thread of
    its own (a year of sessions is a few hundred milliseconds of work: never on a frame).

    ``poll()`` runs on the render thread every frame and costs a comparison. A reading
    starts when the live history changed, at most every ``interval_s``; the durable
    history is read again only when it changed and at most every ``store_interval_s``:
    between times its changes are this panel's own saver writing the live sessions, which
    the reading has already (``across.merge`` keeps the fuller copy), and a year of rows
    is worth reading once, not every 2 s. ``view`` is the latest reading (None before the
    first).
    """

    def __init__(
        self,
        history: TokenHistory,
        store=None,
        *,
        interval_s: float = ACROSS_INTERVAL_S,
        store_interval_s: float = STORE_REREAD_S,
    ):
        self.history = history
        self.store = store
        self.interval_s = interval_s
        self.store_interval_s = store_interval_s
        self.view: AcrossView | None = None
        # What the headers show, prepared with each reading (set by the panel).
        self.sort: tuple[str, bool] = DEFAULT_SORT
        self.usage_by = "day"
        self.error: str | None = None
        self._history_version: int | None = None  # of the last reading
        self._store_version: int | None = None
        self._stored: list[dict] = []
        self._figures: dict[int, tuple[dict, dict]] = {}  # id(row) -> (row, its figures), rows of the last reading
        self._last_start = -math.inf
        self._last_store_read = -math.inf
        self._read_store = False
        self._seq = 0
        self._wake = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._stop = False
        self._thread: threading.Thread | None = None

    def poll(self, now: float | None = None) -> None:
        """Start a reading in the background if one is due."""
        now = time.monotonic() if now is None else now
        if not self._idle.is_set() or now - self._last_start < self.interval_s:
            return
        store_due = (
            self.store is not None
            and self.store.version != self._store_version
            and now - self._last_store_read >= self.store_interval_s
        )
        if not store_due and self.history.version == self._history_version:
            return
        self._last_start = now
        if store_due:
            self._last_store_read = now
        self._read_store = store_due
        self._idle.clear()
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="session-insights-across", daemon=True)
            self._thread.start()
        self._wake.set()

    def wait(self, timeout_s: float = 30.0) -> bool:
        """Block until the reading under way (if any) is done; True if none is left."""
        return self._idle.wait(timeout_s)

    def load_now(self) -> AcrossView | None:
        """Read everything now, in this thread (tests, and a host that wants figures at once)."""
        self.wait()
        self._load(read_store=True)
        return self.view

    def close(self) -> None:
        self._stop = True
        self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            if self._stop:
                return
            try:
                self._load(read_store=self._read_store)
            finally:
                self._idle.set()

    def _load(self, read_store: bool) -> None:
        # Versions first: a change during the reading triggers the next one.
        history_version = self.history.version
        store_version = self.store.version if self.store is not None else None
        try:
            live = self.history.session_rows()
            if read_store and self.store is not None:
                self._stored = self.store.sessions()
            rows = across.merge(self._stored, live)
            self._seq += 1
            self.view = build_across_view(
                rows,
                self._seq,
                stored=self.store is not None,
                figures=self._figures_of(rows),
                warm_sort=self.sort,
                warm_usage=self.usage_by,
            )
            self.error = None
        except Exception as exc:  # a bad row must cost the headers across sessions, not the panel
            self.error = f"could not read the sessions across the history ({type(exc).__name__}: {exc})"
        self._history_version = history_version
        if read_store:
            self._store_version = store_version

    def _figures_of(self, rows: list[dict]) -> list[dict]:
        """``across.session_figures`` of each row, reusing those of rows already seen (the
        stored rows are the same objects from one reading to the next)."""
        cache, fresh = self._figures, {}
        figures = []
        for row in rows:
            hit = cache.get(id(row))
            fig = hit[1] if hit is not None and hit[0] is row else across.session_figures(row)
            fresh[id(row)] = (row, fig)
            figures.append(fig)
        self._figures = fresh
        return figures


def sort_order(figures: list[dict], field_name: str, descending: bool) -> list[int]:
    """Indexes of ``figures`` sorted by one field: numbers as numbers, text without case,
    unknown values (None) last either way; ties keep start order."""
    known = [i for i, f in enumerate(figures) if f[field_name] is not None]
    unknown = [i for i, f in enumerate(figures) if f[field_name] is None]
    if known and isinstance(figures[known[0]][field_name], str):
        known.sort(key=lambda i: figures[i][field_name].casefold(), reverse=descending)
    else:
        known.sort(key=lambda i: figures[i][field_name], reverse=descending)
    return known + unknown


# --- one past session, as the other headers show it ----------------------------------


def past_session_notes(row: dict) -> dict[str, str]:
    """What the headers with nothing kept for a past session say instead (by header key)."""
    fig = across.session_figures(row)
    kept = "Not kept for past sessions"
    tools = (
        f"{kept}: per-tool figures. This session made {row['tool_calls']:,} tool call"
        f"{'' if row['tool_calls'] == 1 else 's'} ({row['tool_failures']:,} failed)."
    )
    return {
        "timeline": f"{kept}: the timeline covers the sessions being watched. This one spent "
        f"{fmt.tokens(row['total_tokens'])} tokens over {fmt.duration(fig['duration_s'])}.",
        "burn": f"{kept}: burn rate by the minute, budget and projection.",
        "tiers": f"{kept}: tokens by tier (the Cost by Model header shows its models).",
        "tools": tools,
        "tool_cost": tools,
        "progress": f"{kept}: ticket statuses and tracks. {row['tickets_completed']:,} ticket"
        f"{'' if row['tickets_completed'] == 1 else 's'} completed in this session.",
    }


# --- the header -------------------------------------------------------------------------
