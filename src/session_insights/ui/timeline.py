"""Token Timeline: cumulative input, output, cache-read and total tokens against time;
the lines break across idle gaps (``drawn.timeline_view`` puts a NaN point there)."""

from __future__ import annotations

import dearpygui.dearpygui as dpg

from .. import formatting as fmt
from .header import Header
from .plots import LiveAxes, add_plot
from .theme import COLOURS, series_theme, shade_series_theme
from .widgets import BoundText

MIN_SPAN_S = 120.0  # the least time a chart shows


def finite_max(values: list[float]) -> float:
    """The largest value, leaving out the NaN points that break the lines (0 if none)."""
    return max((v for v in values if v == v), default=0.0)


def frame_axes(plot: int, x_axis: int, y_axis: int) -> None:
    """Fit ``y_axis`` from zero to 15% above the top, so a line at its maximum (a peak
    rate, the last total) stands clear of the plot's edge; show at least
    ``MIN_SPAN_S`` of time, so a session of one request is a step, not a second-long ramp."""
    with dpg.theme() as theme, dpg.theme_component(dpg.mvPlot):
        dpg.add_theme_style(dpg.mvPlotStyleVar_FitPadding, 0.0, 0.3, category=dpg.mvThemeCat_Plots)
    dpg.bind_item_theme(plot, theme)
    dpg.set_axis_limits_constraints(y_axis, 0.0, 1e300)  # the padding below zero is cut off
    dpg.set_axis_zoom_constraints(x_axis, MIN_SPAN_S, 1e300)


def area_points(xs: list[float], ys: list[float]) -> list[list[float]]:
    """The points (x, top, floor) of the area under a cumulative line, its break points (NaN) left out:
    the line resumes flat after an idle gap, so the area runs flat across it, as the
    total did (nothing was spent)."""
    kept = [(x, y) for x, y in zip(xs, ys, strict=True) if y == y]
    # Dear PyGui reads a shade series' lower edge for every point: given none, it reads
    # past the list's end and crashes; so the floor (0) is given point by point.
    return [[x for x, _ in kept], [y for _, y in kept], [0.0] * len(kept)]


SERIES = (("total", "Total"), ("input", "Input"), ("output", "Output"), ("cache_read", "Cache read"))


class TimelineHeader(Header):
    key = "timeline"
    title = "Token Timeline"

    def build(self) -> None:
        self.empty = dpg.add_text(
            "No model requests in this scope yet: the timeline starts with the first one.",
            parent=self.body,
            color=COLOURS["dim"],
        )
        self.plot = add_plot(self.body, height=250, width=-1, no_menus=True, show=False)
        # Above the plot, in one row: a legend inside sat on the session's first minutes.
        dpg.add_plot_legend(parent=self.plot, location=dpg.mvPlot_Location_North, horizontal=True, outside=True)
        self.x_axis = dpg.add_plot_axis(dpg.mvXAxis, parent=self.plot, scale=dpg.mvPlotScale_Time)
        self.y_axis = dpg.add_plot_axis(dpg.mvYAxis, parent=self.plot, label="tokens")
        frame_axes(self.plot, self.x_axis, self.y_axis)
        self.view = LiveAxes(self.plot, self.x_axis, self.y_axis, "tokens")
        # The area under the total, faint, drawn first so every line stays on top of it.
        self.total_area = dpg.add_shade_series([], [], label="##area under the total", parent=self.y_axis)
        dpg.bind_item_theme(self.total_area, shade_series_theme(COLOURS["total"]))
        self.series: dict[str, int] = {}
        for key, label in SERIES:
            self.series[key] = dpg.add_line_series([], [], label=label, parent=self.y_axis)
            dpg.bind_item_theme(self.series[key], series_theme(COLOURS[key]))
        self.totals = BoundText(self.body, "")
        self._version = -1
        self._top_series = "total"

    def update(self, snap: dict, timeline: dict) -> None:
        t = snap["totals"]
        has_data = bool(timeline["x"])
        dpg.configure_item(self.plot, show=has_data)
        dpg.configure_item(self.empty, show=not has_data)
        self.totals.set(
            f"Input {fmt.tokens(t['input_tokens'])}   Output {fmt.tokens(t['output_tokens'])}   "
            f"Cache read {fmt.tokens(t['cache_read_tokens'])}   Cache write {fmt.tokens(t['cache_write_tokens'])}   "
            f"Total {fmt.tokens(t['total_tokens'])} tokens"
            if t["requests"]
            else ""
        )
        if timeline["version"] != self._version:
            self._version = timeline["version"]
            for key, _ in SERIES:
                # Python lists of float64: epoch seconds stay exact (no float32 staircase).
                dpg.set_value(self.series[key], [timeline["x"], timeline[key]])
            dpg.set_value(self.total_area, area_points(timeline["x"], timeline["total"]))
            self.view.fit()
            top = finite_max(timeline[self._top_series])
            dpg.set_axis_ticks(self.y_axis, fmt.axis_ticks(top))
