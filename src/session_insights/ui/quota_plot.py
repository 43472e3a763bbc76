"""The Limits header's plots: per window, its used % over the window (x: time since the
window started, the reset at the right edge; y: 0..100 %), a line at 100 % and one at
now. Two plots a row; a window with no reset time known has no span to draw.

Drawn as the panel's other charts (``theme``): a faint grid, one accent colour for the
figures, the marker lines dim. Points are ``quota_tail.window_points``: at most about
one a pixel column, taken again only when the log or the window changed (a steady plot
costs a comparison a refresh), and written only when they changed.
"""

from __future__ import annotations

import dearpygui.dearpygui as dpg

from ..quota_tail import QuotaTail, window_points
from .plots import add_plot
from .theme import COLOURS, series_theme
from .widgets import BoundText

PLOT_PX = 120
PER_ROW = 2
ACCENT = COLOURS["input"]
GRID = (255, 255, 255, 22)
Y_TOP = 112.0  # room over the 100 % line, clear of the frame
X_ROOM = 0.07  # past the reset, the share of the window left for its label
Y_TICKS = (("0%", 0.0), ("50%", 50.0), ("100%", 100.0))


def x_ticks(window_s: float) -> tuple[tuple[str, float], ...]:
    """Hours for a window of a day or less, days past it; the right edge says 'reset'."""
    hour, day = 3600.0, 86400.0
    step, unit = (hour, "h") if window_s <= day else (day, "d")
    while window_s / step > 8:
        step *= 2
    ticks = [
        (f"{round(k * step / (hour if unit == 'h' else day))}{unit}", k * step) for k in range(int(window_s / step))
    ]
    return (*ticks, ("reset", window_s))


def plot_theme() -> int:
    with dpg.theme() as theme, dpg.theme_component(dpg.mvPlot):
        dpg.add_theme_color(dpg.mvPlotCol_AxisGrid, GRID, category=dpg.mvThemeCat_Plots)
        dpg.add_theme_style(dpg.mvPlotStyleVar_PlotPadding, 6, 6, category=dpg.mvThemeCat_Plots)
    return theme


def marker_theme(size: float = 3.0) -> int:
    with dpg.theme() as theme, dpg.theme_component(dpg.mvScatterSeries):
        dpg.add_theme_color(dpg.mvPlotCol_Line, ACCENT, category=dpg.mvThemeCat_Plots)
        dpg.add_theme_color(dpg.mvPlotCol_MarkerFill, ACCENT, category=dpg.mvThemeCat_Plots)
        dpg.add_theme_style(dpg.mvPlotStyleVar_Marker, dpg.mvPlotMarker_Circle, category=dpg.mvThemeCat_Plots)
        dpg.add_theme_style(dpg.mvPlotStyleVar_MarkerSize, size, category=dpg.mvThemeCat_Plots)
    return theme


def guide_theme(alpha: int, colour: tuple[int, int, int] = COLOURS["dim"]) -> int:
    with dpg.theme() as theme, dpg.theme_component(dpg.mvInfLineSeries):
        dpg.add_theme_color(dpg.mvPlotCol_Line, (*colour, alpha), category=dpg.mvThemeCat_Plots)
        dpg.add_theme_style(dpg.mvPlotStyleVar_LineWeight, 1.0, category=dpg.mvThemeCat_Plots)
    return theme


class WindowPlot:
    """One window's plot; owns its items. ``show`` rewrites only what changed."""

    def __init__(self, parent: int | str, themes: dict[str, int]):
        self.group = dpg.add_group(parent=parent)
        self.title = BoundText(self.group, "", color=COLOURS["dim"])
        self.plot = add_plot(
            self.group, height=PLOT_PX, width=-1, no_menus=True, no_mouse_pos=True, no_box_select=True, no_title=True
        )
        dpg.bind_item_theme(self.plot, themes["plot"])
        self.x_axis = dpg.add_plot_axis(dpg.mvXAxis, parent=self.plot, no_highlight=True)
        self.y_axis = dpg.add_plot_axis(dpg.mvYAxis, parent=self.plot, no_highlight=True)
        dpg.set_axis_limits(self.y_axis, 0.0, Y_TOP)
        dpg.set_axis_ticks(self.y_axis, Y_TICKS)
        self.full = dpg.add_inf_line_series([100.0], horizontal=True, parent=self.y_axis)
        dpg.bind_item_theme(self.full, themes["full"])
        self.now = dpg.add_inf_line_series([0.0], parent=self.y_axis)
        dpg.bind_item_theme(self.now, themes["now"])
        self.reset = dpg.add_inf_line_series([0.0], parent=self.y_axis)
        dpg.bind_item_theme(self.reset, themes["full"])
        self.line = dpg.add_line_series([], [], parent=self.y_axis)
        dpg.bind_item_theme(self.line, themes["line"])
        self.dots = dpg.add_scatter_series([], [], parent=self.y_axis)
        dpg.bind_item_theme(self.dots, themes["dots"])
        self._span: float | None = None
        self._points: tuple | None = None
        self._seen: tuple | None = None  # (log version, the window's figures) the points are of
        self._now_x: float | None = None
        self._top = Y_TOP

    def show(self, w: dict, tail: QuotaTail) -> None:
        self.title.set(f"{w['source']} {w['label']}: used % since the window started")
        window_s = w["window_s"]
        if window_s != self._span:
            self._span = window_s
            dpg.set_axis_limits(self.x_axis, 0.0, window_s * (1 + X_ROOM))
            dpg.set_value(self.reset, [[window_s]])
            dpg.set_axis_ticks(self.x_axis, x_ticks(window_s))
        seen = (tail.version, w["source"], w["name"], w["resets_at_ts"], w["observed_ts"], w["used_percent"])
        if seen != self._seen:
            self._seen = seen
            self._set_points(window_points(tail.observations, w))
        # The line at now moves a pixel column at a time (a window's 1/1,000th), not every refresh.
        now_x = round((w["elapsed_share"] or 0.0) * 1000) * window_s / 1000
        if now_x != self._now_x:
            self._now_x = now_x
            dpg.set_value(self.now, [[now_x]])

    def _set_points(self, points: tuple[list[float], list[float]]) -> None:
        if points != self._points:
            self._points = points
            dpg.set_value(self.line, list(points))
            dpg.set_value(self.dots, list(points))
            top = max(Y_TOP, max(points[1], default=0.0) + 5.0)  # a figure past 100 % stays in view
            if top != self._top:
                self._top = top
                dpg.set_axis_limits(self.y_axis, 0.0, top)

    def points(self) -> tuple[list[float], list[float]]:
        """What the line shows (for tests)."""
        xs, ys = dpg.get_value(self.line)[:2]
        n = len(self._points[0]) if self._points else 0
        return list(xs[:n]), list(ys[:n])


class QuotaPlots:
    """A plot per window with a span, ``PER_ROW`` a row, in the order the header lists
    them; a slot is reused for whatever window comes at its place."""

    def __init__(self, parent: int | str):
        self.table = dpg.add_table(parent=parent, header_row=False, policy=dpg.mvTable_SizingStretchSame, show=False)
        for _ in range(PER_ROW):
            dpg.add_table_column(parent=self.table)
        self._themes = {
            "plot": plot_theme(),
            "line": series_theme(ACCENT, 1.5),
            "dots": marker_theme(),
            "full": guide_theme(200),
            "now": guide_theme(90, ACCENT),
        }
        self._cells: list[int] = []
        self.plots: list[WindowPlot] = []
        self._rows: list[int] = []
        self._count = 0  # plots shown
        self.shown: list[str] = []  # the windows plotted, in order (for tests)

    def _slot(self, i: int) -> WindowPlot:
        while len(self.plots) <= i:
            if len(self._cells) == len(self.plots):
                row = dpg.add_table_row(parent=self.table)
                self._rows.append(row)
                self._cells += [dpg.add_group(parent=row) for _ in range(PER_ROW)]
            self.plots.append(WindowPlot(self._cells[len(self.plots)], self._themes))
        return self.plots[i]

    def show(self, windows: list[dict], tail: QuotaTail) -> None:
        """Plot each window of ``windows`` (``limits`` figures) that has a span, Claude's
        from ``tail``'s observations."""
        spanned = [
            w for w in windows if w["window_s"] and w["resets_at_ts"] is not None and w["used_percent"] is not None
        ]
        for i, w in enumerate(spanned):
            self._slot(i).show(w, tail)
        if len(spanned) != self._count:
            self._count = len(spanned)
            for i, plot in enumerate(self.plots):
                dpg.configure_item(plot.group, show=i < self._count)
            for r, row in enumerate(self._rows):
                dpg.configure_item(row, show=r * PER_ROW < self._count)
            dpg.configure_item(self.table, show=bool(self._count))
        self.shown = [f"{w['source']} {w['label']}" for w in spanned]
