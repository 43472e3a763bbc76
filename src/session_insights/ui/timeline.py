"""Token Timeline: cumulative input, output, cache-read and total tokens against time."""

from __future__ import annotations

import dearpygui.dearpygui as dpg

from .. import formatting as fmt
from .header import Header
from .theme import COLOURS, series_theme
from .widgets import BoundText

SERIES = (("total", "Total"), ("input", "Input"), ("output", "Output"), ("cache_read", "Cache read"))


class TimelineHeader(Header):
    key = "timeline"
    title = "Token Timeline"

    def build(self) -> None:
        self.empty = dpg.add_text(
            "No model requests yet: the timeline starts with the first one.", parent=self.body, color=COLOURS["dim"]
        )
        self.plot = dpg.add_plot(parent=self.body, height=220, width=-1, no_menus=True, show=False)
        dpg.add_plot_legend(parent=self.plot, location=dpg.mvPlot_Location_NorthWest)
        self.x_axis = dpg.add_plot_axis(dpg.mvXAxis, parent=self.plot, scale=dpg.mvPlotScale_Time)
        self.y_axis = dpg.add_plot_axis(dpg.mvYAxis, parent=self.plot, label="tokens")
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
            dpg.fit_axis_data(self.x_axis)
            dpg.fit_axis_data(self.y_axis)
            top = max(timeline[self._top_series], default=0.0)
            dpg.set_axis_ticks(self.y_axis, fmt.axis_ticks(top))
