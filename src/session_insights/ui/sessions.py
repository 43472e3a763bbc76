"""Sessions: every session the durable history and the live history hold, in one
sortable table; selecting a row makes that session the panel's scope.
Also ``AcrossHeader``, the base of the headers across sessions; what they draw is
``across_view.AcrossView``, built off the render thread.
"""

from __future__ import annotations

from collections.abc import Callable

import dearpygui.dearpygui as dpg

from ..across_view import DEFAULT_SORT, MAX_ROWS, AcrossView, SessionKey
from ..views import SESSION_COLUMNS as COLUMNS
from ..views import session_title
from .header import Header
from .theme import COLOURS
from .widgets import BoundText, figure_cell, figure_cell_theme

ROW_PX = 23  # a table row at the base font, for the table's height
# A column's share of the width, by field: ids, times and a cost naming its unpriced
# requests ('$0.24 (+1 unpriced)') need more than a count.
WIDTHS = {"session": 1.6, "project": 1.3, "start_ts": 1.6, "requests": 0.8, "cost_usd": 1.6}


class AcrossHeader(Header):
    """A header drawn from an ``AcrossView`` (every session) rather than from the
    snapshot of the session(s) being watched. ``draw`` is called when the view changed,
    or when ``dirty`` (the header's own controls changed what it shows)."""

    across = True

    def __init__(self, parent: int | str, *, open_: bool = True):
        self.seen: AcrossView | None = None
        self.dirty = False
        super().__init__(parent, open_=open_)
        self.loading = dpg.add_text(
            "Reading the session history...", parent=self.item, before=self.body, color=COLOURS["dim"], indent=6
        )
        dpg.configure_item(self.body, show=False)

    def update(self, snap: dict, timeline: dict) -> None:
        pass  # see update_across

    def needs(self, view: AcrossView) -> bool:
        return view is not self.seen or self.dirty

    def draw(self, view: AcrossView) -> None:
        if self.seen is None:
            dpg.configure_item(self.loading, show=False)
            dpg.configure_item(self.body, show=True)
        self.seen = view
        self.dirty = False
        self.update_across(view)

    def update_across(self, view: AcrossView) -> None:
        raise NotImplementedError


# --- the table ------------------------------------------------------------------------


class SessionsHeader(AcrossHeader):
    """The sortable table of sessions. Clicks are only recorded by the callbacks (Dear
    PyGui runs them on a thread of its own); the panel applies them on its next tick."""

    key = "sessions"
    title = "Sessions"

    def __init__(
        self, parent: int | str, *, open_: bool = True, on_pick: Callable[[SessionKey | None], None] | None = None
    ):
        self.on_pick = on_pick
        super().__init__(parent, open_=open_)

    def build(self) -> None:
        with dpg.group(horizontal=True, parent=self.body, show=False) as self.back:
            self.showing = BoundText(self.back, "", color=COLOURS["warn"])
            self.live_button = dpg.add_button(label="Back to active session", callback=lambda: self._pick(None))
        self.count = BoundText(self.body, "", color=COLOURS["dim"], show=False)
        self.empty = dpg.add_text(
            "No sessions yet: a session appears here with its first request, rating or tool call.",
            parent=self.body,
            color=COLOURS["dim"],
            wrap=0,
        )
        self.table = dpg.add_table(
            parent=self.body,
            header_row=True,
            sortable=True,
            sort_tristate=False,
            callback=self._sort_clicked,
            row_background=True,
            borders_outerH=True,
            borders_outerV=True,
            policy=dpg.mvTable_SizingStretchProp,
            scrollY=True,
            freeze_rows=1,
            height=ROW_PX * 4,
            show=False,
        )
        with dpg.theme() as row_theme, dpg.theme_component(dpg.mvSelectable):
            # A selectable spanning the row draws its label higher than the texts beside it.
            dpg.add_theme_style(dpg.mvStyleVar_SelectableTextAlign, 0.0, 1.0)
        dpg.bind_item_theme(self.table, row_theme)
        self._columns: dict[int, str] = {}
        # The figures (all but the names) line up on the right.
        self._figures = {j for j, (_, name) in enumerate(COLUMNS) if name not in ("session", "project")}
        self._figure_theme = figure_cell_theme()
        for label, name in COLUMNS:
            numeric = name not in ("session", "project")  # the largest first on a first click
            column = dpg.add_table_column(
                label=label,
                parent=self.table,
                width_stretch=True,
                init_width_or_weight=WIDTHS.get(name, 1.0),
                default_sort=(name, True) == DEFAULT_SORT,
                prefer_sort_ascending=not numeric,
                prefer_sort_descending=numeric,
            )
            self._columns[column] = name
        self.sort = DEFAULT_SORT
        self._rows: list[tuple[int, int, list[int], list[str]]] = []  # (row, selectable, cells, texts)
        self.row_keys: list[SessionKey] = []  # the session of each table row, top first
        self.viewing: SessionKey | None = None
        self._pending_sort: tuple[str, bool] | None = None
        self._view: AcrossView | None = None

    # --- callbacks (Dear PyGui's thread): record only ---------------------------------

    def _sort_clicked(self, _sender: object, specs: list | None) -> None:
        if specs:
            column, direction = specs[0][0], specs[0][1]
            name = self._columns.get(column)
            if name is not None:
                self.request_sort(name, direction < 0)

    def _row_clicked(self, _sender: object, _value: object, row_index: int) -> None:
        keys = self.row_keys
        if row_index < len(keys):
            self._pick(keys[row_index])

    def _pick(self, key: SessionKey | None) -> None:
        if self.on_pick is not None:
            self.on_pick(key)

    # --- render thread --------------------------------------------------------------------

    def request_sort(self, name: str, descending: bool) -> None:
        """Sort by the column showing ``name`` (a session_figures field) on the next draw."""
        self._pending_sort = (name, descending)
        self.dirty = True

    def set_viewing(self, key: SessionKey | None) -> None:
        """Mark the session the other headers show (None: the live view)."""
        self.viewing = key
        view = self._view
        fig = view.figures[view.keys.index(key)] if view is not None and key in view.keys else None
        self.showing.set(f"Showing {session_title(fig)}" if fig else "Showing a past session")
        dpg.configure_item(self.back, show=key is not None)
        self._mark_selection()

    def update_across(self, view: AcrossView) -> None:
        if self._pending_sort is not None:
            self.sort, self._pending_sort = self._pending_sort, None
        n = len(view.figures)
        self._view = view
        order = view.order(self.sort)[:MAX_ROWS]
        name = next(label for label, f in COLUMNS if f == self.sort[0])
        where = "kept in the durable history and read now" if view.stored else "read now (no durable history)"
        shown = (
            f"Showing the first {len(order):,} of {n:,} sessions"
            if n > len(order)
            else f"{n:,} session{'' if n == 1 else 's'}"
        )
        self.count.set_or_hide(
            f"{shown} {where}; sorted by {name[0].lower() + name[1:]}, "
            f"{'highest' if self.sort[1] else 'lowest'} first. Select a row to see it in the "
            f"other headers."
            if n
            else ""
        )
        dpg.configure_item(self.empty, show=not n)
        dpg.configure_item(self.table, show=bool(n), height=ROW_PX * (min(len(order), 12) + 1) + 8)
        while len(self._rows) > len(order):
            dpg.delete_item(self._rows.pop()[0])
        keys = []
        for pos, i in enumerate(order):
            texts = view.cells(i)
            keys.append(view.keys[i])
            if pos == len(self._rows):
                row = dpg.add_table_row(parent=self.table)
                selectable = dpg.add_selectable(
                    label=texts[0], parent=row, span_columns=True, callback=self._row_clicked, user_data=pos
                )
                cells = [
                    figure_cell(row, t, self._figure_theme) if j in self._figures else dpg.add_text(t, parent=row)
                    for j, t in enumerate(texts[1:], start=1)
                ]
                self._rows.append((row, selectable, cells, list(texts)))
                continue
            _, selectable, cells, shown_texts = self._rows[pos]
            if shown_texts[0] != texts[0]:
                dpg.configure_item(selectable, label=texts[0])
            for j in range(1, len(texts)):
                if shown_texts[j] != texts[j]:
                    if j in self._figures:
                        dpg.configure_item(cells[j - 1], label=texts[j])
                    else:
                        dpg.set_value(cells[j - 1], texts[j])
            shown_texts[:] = texts
        self.row_keys = keys
        self.set_viewing(self.viewing)

    def _mark_selection(self) -> None:
        for pos, (_, selectable, _, _) in enumerate(self._rows):
            # Written every time: a click toggles the selectable's own value.
            dpg.set_value(selectable, self.row_keys[pos] == self.viewing)

    def texts(self) -> list[list[str]]:
        """What the table shows, row by row (for tests and copy)."""
        return [list(texts) for _, _, _, texts in self._rows]
