"""Small components every header uses: text bound to a value, and a table whose rows
follow a list. Each owns the items it creates and calls ``set_value`` only for what
changed, so a steady panel costs almost nothing per frame."""

from __future__ import annotations

from collections.abc import Sequence

import dearpygui.dearpygui as dpg

from ..formatting import printable


class BoundText:
    """A text item that is only written when its string changes."""

    __slots__ = ("_last", "item")

    def __init__(self, parent: int | str, default: str = "", **kwargs):
        self.item = dpg.add_text(default, parent=parent, **kwargs)
        self._last = default

    def set(self, text: str) -> None:
        if text != self._last:
            dpg.set_value(self.item, text)
            self._last = text

    def set_or_hide(self, text: str) -> None:
        """Set the text, and take no room at all while it is empty."""
        if text != self._last:
            dpg.set_value(self.item, text)
            dpg.configure_item(self.item, show=bool(text))
            self._last = text

    @property
    def value(self) -> str:
        return self._last

    def configure(self, **kwargs: object) -> None:
        dpg.configure_item(self.item, **kwargs)


class RowTable:
    """A table whose rows follow ``set_rows``: cells are reused and rewritten only when
    their text changes; rows are added or removed as the list grows or shrinks."""

    def __init__(
        self,
        parent: int | str,
        columns: Sequence[str],
        *,
        first_stretch: bool = True,
        empty_text: str = "Nothing yet.",
        weights: Sequence[float] | None = None,
        wrapped: Sequence[int] = (),
        figures: Sequence[int] = (),
    ):
        """``weights``: each column's share of the width (default: the first 3, the others
        1); cells of the columns in ``wrapped`` wrap at the column's edge, never cut; those
        in ``figures`` (numbers) line up on the right, as report's text tables do."""
        self.columns = list(columns)
        self._wrap = [0 if i in wrapped else -1 for i in range(len(self.columns))]
        self._figures = frozenset(figures) - frozenset(wrapped)
        self._figure_theme = figure_cell_theme() if self._figures else None
        self.empty = dpg.add_text(empty_text, parent=parent, color=(150, 150, 150))
        self.table = dpg.add_table(
            parent=parent,
            header_row=True,
            row_background=True,
            borders_innerH=False,
            borders_outerH=True,
            borders_innerV=False,
            borders_outerV=True,
            policy=dpg.mvTable_SizingStretchProp,
            show=False,
        )
        for i, name in enumerate(self.columns):
            dpg.add_table_column(
                label=name,
                parent=self.table,
                width_stretch=True,
                init_width_or_weight=weights[i] if weights else 3.0 if i == 0 and first_stretch else 1.0,
            )
        self._rows: list[tuple[int, list[int], list[str]]] = []  # (row, cells, texts)

    def set_rows(self, rows: Sequence[Sequence[str]]) -> None:
        """Show ``rows``; a control character in a name read from a log shows as its escape."""
        rows = [[printable(v) for v in values] for values in rows]
        while len(self._rows) > len(rows):
            row, _, _ = self._rows.pop()
            dpg.delete_item(row)
        for i, values in enumerate(rows):
            if i == len(self._rows):
                row = dpg.add_table_row(parent=self.table)
                cells = [self._add_cell(row, j, v) for j, v in enumerate(values[: len(self.columns)])]
                self._rows.append((row, cells, list(values)))
                continue
            _, cells, texts = self._rows[i]
            for j, v in enumerate(values):
                if texts[j] != v:
                    if j in self._figures:
                        dpg.configure_item(cells[j], label=v)
                    else:
                        dpg.set_value(cells[j], v)
                    texts[j] = v
        has_rows = bool(rows)
        dpg.configure_item(self.table, show=has_rows)
        dpg.configure_item(self.empty, show=not has_rows)

    def _add_cell(self, row: int, column: int, text: str) -> int:
        if column in self._figures:
            return figure_cell(row, text, self._figure_theme)
        return dpg.add_text(text, parent=row, wrap=self._wrap[column])

    def texts(self) -> list[list[str]]:
        """What the table shows, row by row (for tests and copy)."""
        return [list(texts) for _, _, texts in self._rows]


def figure_cell_theme() -> int:
    """How a figure's cell looks: its text on the right of the cell, nothing else drawn.
    Dear PyGui cannot align a text item; a frameless button the width of the cell can."""
    with dpg.theme() as theme, dpg.theme_component(dpg.mvButton, enabled_state=False):
        for colour in (dpg.mvThemeCol_Button, dpg.mvThemeCol_ButtonHovered, dpg.mvThemeCol_ButtonActive):
            dpg.add_theme_color(colour, (0, 0, 0, 0))
        dpg.add_theme_color(dpg.mvThemeCol_Text, (255, 255, 255, 255))  # not the dimmed text of a disabled item
        dpg.add_theme_style(dpg.mvStyleVar_ButtonTextAlign, 1.0, 0.5)
        dpg.add_theme_style(dpg.mvStyleVar_FramePadding, 0.0, 0.0)
        dpg.add_theme_style(dpg.mvStyleVar_FrameBorderSize, 0.0)
        dpg.add_theme_style(dpg.mvStyleVar_DisabledAlpha, 1.0)
    return theme


def figure_cell(parent: int, text: str, theme: int) -> int:
    """A right-aligned cell holding ``text`` (its label); disabled, so a click on it
    reaches whatever spans the row (the Sessions table's row selectable)."""
    cell = dpg.add_button(label=text, parent=parent, width=-1, enabled=False)
    dpg.bind_item_theme(cell, theme)
    return cell
