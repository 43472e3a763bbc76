"""Token Categories: where each session's tokens went (fresh input, tool-use prompt,
cache reads and writes, output, reasoning), a stacked bar per session and one for all
of them. The categories are those the sources count: none of the logs we read splits a
prompt into system, user and assistant parts, and the header says so."""

from __future__ import annotations

import dearpygui.dearpygui as dpg

from .. import across
from .. import formatting as fmt
from ..across_view import AcrossView
from ..views import short_session
from .plots import add_plot
from .sessions import AcrossHeader
from .theme import COLOURS, bar_series_theme
from .widgets import BoundText

CATEGORY_COLOURS = {
    "input": COLOURS["input"],
    "tool-use prompt": COLOURS["tool_prompt"],
    "cache read": COLOURS["cache_read"],
    "cache write": COLOURS["cache_write"],
    "output": COLOURS["output"],
    "reasoning": COLOURS["reasoning"],
}
ROW_PX = 28
SOURCES_NOTE = (
    "Categories as the sources count them: no agent log splits a prompt into system, user and "
    "assistant parts. Reasoning is counted by Codex, Gemini and OpenTelemetry; the tool-use prompt "
    "by Gemini."
)
BAR_WIDTH = 0.6


def stacked_ends(rows: list[dict[str, int]]) -> list[list[float]]:
    """Where each category's segment ends on every bar, first category first: a
    segment starts where the one before it ends, so the last list holds each bar's whole."""
    ends, below = [], [0.0] * len(rows)
    for name in across.TOKEN_CATEGORIES:
        below = [base + float(row[name]) for base, row in zip(below, rows)]
        ends.append(below)
    return ends


class StackedBars:
    """Horizontal bars split by token category, first bar at the top. Owns its plot."""

    def __init__(self, parent: int | str, *, legend: bool):
        # A legend of our own, in stacking order (the plot's would follow drawing order,
        # which is the reverse), naming only the categories some bar has.
        self.legend: dict[str, int] = {}
        if legend:
            with dpg.group(horizontal=True, parent=parent, show=False) as self.legend_row:
                for name in across.TOKEN_CATEGORIES:
                    with dpg.group(horizontal=True) as entry:
                        with dpg.drawlist(width=12, height=14):
                            dpg.draw_rectangle(
                                (0, 3), (11, 14), color=CATEGORY_COLOURS[name], fill=CATEGORY_COLOURS[name]
                            )
                        dpg.add_text(name)
                        dpg.add_spacer(width=8)
                    self.legend[name] = entry
        self.plot = add_plot(
            parent, height=80, width=-1, no_menus=True, no_mouse_pos=True, no_box_select=True, show=False
        )
        self.x_axis = dpg.add_plot_axis(dpg.mvXAxis, parent=self.plot, label="tokens")
        self.y_axis = dpg.add_plot_axis(dpg.mvYAxis, parent=self.plot, no_gridlines=True)
        self.series: dict[str, int] = {}
        # The last category's (longest) bars first: later series draw over earlier ones.
        for name in reversed(across.TOKEN_CATEGORIES):
            item = dpg.add_bar_series([], [], label=name, parent=self.y_axis, horizontal=True, weight=BAR_WIDTH)
            dpg.bind_item_theme(item, bar_series_theme(CATEGORY_COLOURS[name]))
            self.series[name] = item

    def set(self, labels: list[str], rows: list[dict[str, int]]) -> None:
        n = len(rows)
        dpg.configure_item(self.plot, show=bool(n), height=56 + ROW_PX * max(n, 1))
        if self.legend:
            dpg.configure_item(self.legend_row, show=bool(n))
        if not n:
            return
        positions = [float(n - 1 - i) for i in range(n)]
        ends = stacked_ends(rows)
        for name, segment_ends in zip(across.TOKEN_CATEGORIES, ends):
            dpg.set_value(self.series[name], [segment_ends, positions])
            if self.legend:  # most sources count no tool-use prompt, Claude Code no reasoning
                dpg.configure_item(self.legend[name], show=any(row[name] for row in rows))
        top = max(ends[-1]) or 1.0
        dpg.set_axis_ticks(self.x_axis, fmt.axis_ticks(top))
        dpg.set_axis_limits(self.x_axis, 0.0, top * 1.04)
        dpg.set_axis_ticks(self.y_axis, tuple(zip(labels, positions)))
        dpg.set_axis_limits(self.y_axis, -0.6, n - 0.4)

    def legend_shown(self) -> list[str]:
        """The categories the legend names, in its order (for tests)."""
        return [name for name, item in self.legend.items() if dpg.is_item_shown(item)]

    def ends(self) -> dict[str, list[float]]:
        """Each category's segment ends as drawn, first bar first (for tests)."""
        return {name: list(dpg.get_value(item)[0]) for name, item in self.series.items()}


class TokenCategoriesHeader(AcrossHeader):
    key = "categories"
    title = "Token Categories"

    def build(self) -> None:
        self.empty = dpg.add_text("No session has tokens yet.", parent=self.body, color=COLOURS["dim"])
        self.note = dpg.add_text(SOURCES_NOTE, parent=self.body, color=COLOURS["dim"], wrap=0, show=False)
        self.sessions = StackedBars(self.body, legend=True)
        self.hidden = BoundText(self.body, "", color=COLOURS["dim"], show=False)
        self.total_title = BoundText(self.body, "", show=False)
        self.total = StackedBars(self.body, legend=False)
        self.labels: list[str] = []
        self._shown: tuple | None = None

    def update_across(self, view: AcrossView) -> None:
        shown = ([(fig["session"], cats) for fig, cats in view.categories], view.categories_hidden)
        if shown == self._shown:
            return
        self._shown = shown
        has_data = bool(view.categories)
        dpg.configure_item(self.empty, show=not has_data)
        dpg.configure_item(self.note, show=has_data)
        self.labels = [short_session(fig["session"]) for fig, _ in view.categories]
        self.sessions.set(self.labels, [cats for _, cats in view.categories])
        self.hidden.set_or_hide(
            f"The latest {len(view.categories):,} sessions with tokens; {view.categories_hidden:,} older "
            f"hidden (they count in the total)."
            if view.categories_hidden
            else ""
        )
        total = view.total_categories
        n_with_tokens = len(view.categories) + view.categories_hidden
        self.total_title.set_or_hide(
            f"All {n_with_tokens:,} session{'' if n_with_tokens == 1 else 's'}: "
            + ", ".join(f"{name} {fmt.tokens(total[name])}" for name in across.TOKEN_CATEGORIES if total[name])
            + " tokens"
            if has_data
            else ""
        )
        self.total.set(["all sessions"] if has_data else [], [total] if has_data else [])
