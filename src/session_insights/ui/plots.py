"""Charts in a panel that scrolls: the wheel scrolls the panel, Ctrl+wheel zooms the chart
under the pointer, a drag pans it and a double-click fits it to its data again.

A live chart (``LiveAxes``) says the time and value under the pointer, and follows its data at every update until the user zooms or
pans it; then the view stays where the user put it until a double-click fits it again.
(The axis limits Dear PyGui reads back are float32, 128 s apart at today's epoch
seconds: too coarse to tell a zoom from a fit, so the mouse is watched instead.)
"""

from __future__ import annotations

import dearpygui.dearpygui as dpg

from .. import formatting as fmt
from .. import times
from .theme import COLOURS
from .widgets import BoundText

# ImPlot zooms on any wheel by default, so a chart under the pointer stopped the panel's
# scrolling; and its "override" modifier, Ctrl by default, ignores all input while held,
# which would swallow Ctrl+wheel: move it to a key nobody holds while using the panel.
PLOT_INPUT = {"zoom_mod": dpg.mvKey_ModCtrl, "override_mod": dpg.mvKey_ModSuper}


def add_plot(parent: int | str, **kwargs) -> int:
    """A plot with the panel's wheel and zoom keys, its time axes written by the one
    rule of ``times`` (local or UTC, ISO dates, 24-hour)."""
    return dpg.add_plot(parent=parent, **PLOT_INPUT, **times.plot_options(), **kwargs)


class LiveAxes:
    """Fits a live chart's axes to its data at each update, unless the user zoomed or
    panned it (``ChartInput`` says so); a double-click on it lets it follow again. With
    the pointer over it, a line under it says the time and value there, with separators
    and unit (build it right after the plot: the line is added to the plot's container)."""

    __slots__ = ("held", "plot", "tip", "unit", "x_axis", "y_axis")

    def __init__(self, plot: int, x_axis: int, y_axis: int, unit: str):
        self.plot, self.x_axis, self.y_axis, self.unit = plot, x_axis, y_axis, unit
        self.held = False  # the user moved the view: leave it where they put it
        dpg.configure_item(plot, no_mouse_pos=True)  # ImPlot's own reads '1.60658e+06'
        self.tip = BoundText(dpg.get_item_parent(plot), "", color=COLOURS["dim"], show=False)

    def fit(self) -> None:
        if not self.held:
            dpg.fit_axis_data(self.x_axis)
            dpg.fit_axis_data(self.y_axis)

    def point_at(self, x: float, y: float) -> None:
        self.tip.set_or_hide(f"Pointer at {times.time_of_day(x)}: {fmt.tokens(max(y, 0.0))} {self.unit}")

    def point_away(self) -> None:
        self.tip.set_or_hide("")


class ChartInput:
    """Watches the mouse for the live charts: Ctrl+wheel or a drag over one holds its
    view; a double-click over one (ImPlot fits it then) lets it follow its data again.

    Dear PyGui calls the handlers off the render thread, so they only note what happened;
    ``apply`` (each tick, on the render thread) finds the chart under the pointer. A
    tick with nothing noted costs one attribute test."""

    def __init__(self, charts: list[LiveAxes]):
        self.charts = charts
        self._noted: list[bool] = []  # per event: True holds the view, False follows again
        self._pointer_moved = False
        with dpg.handler_registry() as self.registry:
            dpg.add_mouse_wheel_handler(callback=self._wheel)
            dpg.add_mouse_move_handler(callback=self._moved)
            for button in (dpg.mvMouseButton_Left, dpg.mvMouseButton_Right):  # pan; box zoom
                dpg.add_mouse_drag_handler(button=button, callback=lambda *_: self._noted.append(True))
            dpg.add_mouse_double_click_handler(
                button=dpg.mvMouseButton_Left, callback=lambda *_: self._noted.append(False)
            )

    def _wheel(self, *_: object) -> None:
        if dpg.is_key_down(dpg.mvKey_ModCtrl):  # a plain wheel scrolls the panel
            self._noted.append(True)

    def _moved(self, *_: object) -> None:
        self._pointer_moved = True

    def apply(self) -> None:
        if not (self._noted or self._pointer_moved):
            return
        noted, self._noted, self._pointer_moved = self._noted, [], False
        for chart in self.charts:
            if dpg.is_item_shown(chart.plot) and dpg.is_item_hovered(chart.plot):
                if noted:
                    chart.held = noted[-1]
                chart.point_at(*dpg.get_plot_mouse_pos())
            else:
                chart.point_away()

    def close(self) -> None:
        dpg.delete_item(self.registry)
