"""Burn Rate & Projection: tokens/min and $/hour, budget left, cost and ETA to finish; the
rate line drops to zero and breaks across idle gaps."""

from __future__ import annotations

from collections.abc import Callable

import dearpygui.dearpygui as dpg

from .. import formatting as fmt
from .. import views
from .header import Header
from .plots import LiveAxes, add_plot
from .theme import COLOURS, series_theme
from .timeline import finite_max, frame_axes
from .widgets import BoundText

# Tall enough that a peak stands clear under the top edge, and that the "tokens/min" axis
# title fits beside the plot at a 125% UI scale instead of running into the text above.
PLOT_PX = 170


class BurnHeader(Header):
    key = "burn"
    title = "Burn Rate & Projection"

    def __init__(
        self, parent: int | str, *, open_: bool = True, on_budget: Callable[[float | None], None] | None = None
    ):
        self.on_budget = on_budget
        super().__init__(parent, open_=open_)

    def build(self) -> None:
        self.window = BoundText(self.body, "—")
        self.session = BoundText(self.body, "—")
        with dpg.group(horizontal=True, parent=self.body):
            dpg.add_text("Budget (USD):")
            self.budget_input = dpg.add_input_double(
                width=120,
                format="%.2f",
                step=0,
                min_value=0.0,
                min_clamped=True,
                on_enter=True,
                callback=self._budget_entered,
            )
            dpg.add_button(label="Set", callback=self._budget_entered)
            dpg.add_button(label="Clear", callback=lambda: self._set_budget(None))
        self.budget = BoundText(self.body, "", color=COLOURS["dim"])
        self.finish = BoundText(self.body, "", show=False)
        self.over = BoundText(self.body, "", color=COLOURS["bad"], show=False)
        self.limits = BoundText(self.body, "", color=COLOURS["dim"], show=False)
        self.plot = add_plot(self.body, height=PLOT_PX, width=-1, no_menus=True, show=False)
        self.x_axis = dpg.add_plot_axis(dpg.mvXAxis, parent=self.plot, scale=dpg.mvPlotScale_Time)
        self.y_axis = dpg.add_plot_axis(dpg.mvYAxis, parent=self.plot, label="tokens/min")
        frame_axes(self.plot, self.x_axis, self.y_axis)
        self.view = LiveAxes(self.plot, self.x_axis, self.y_axis, "tokens/min")
        self.rate_series = dpg.add_line_series([], [], parent=self.y_axis, label="tokens/min")
        dpg.bind_item_theme(self.rate_series, series_theme(COLOURS["rate"], 1.5))
        self._version = -1
        self._top_series = "tokens_per_min"
        self._budget_shown: float | None = None

    def _budget_entered(self, *_: object) -> None:
        self._set_budget(float(dpg.get_value(self.budget_input)))

    def _set_budget(self, value: float | None) -> None:
        if self.on_budget is not None:
            self.on_budget(value)

    def update(self, snap: dict, timeline: dict) -> None:
        rate = snap["burn_rate"]
        w, s = rate["window"], rate["session"]
        minutes = rate["window_s"] // 60
        self.window.set(
            f"Last {minutes} min: {views.window_burn(w)}"
            + (f"   (active {fmt.duration(w['active_s'])})" if w["tokens_per_min"] is not None else "")
        )
        self.session.set(
            f"Whole scope:   {fmt.rate(s['tokens_per_min'], 'tokens/min')}   {fmt.usd(s['usd_per_hour'], '—')}/hour"
        )
        p = snap["projection"]
        if p["budget_usd"] != self._budget_shown:
            self._budget_shown = p["budget_usd"]
            dpg.set_value(self.budget_input, p["budget_usd"] or 0.0)
        if p["budget_usd"] is None:
            self.budget.set("No budget set: enter one to see what is left and when it runs out.")
        else:
            when = fmt.runs_out(p["time_to_exhaustion_s"])
            if p["time_to_exhaustion_s"]:
                when += f" (at {fmt.clock(p['exhaustion_ts'])})"
            self.budget.set(
                f"Spent {fmt.usd(p['spent_usd'])} of {fmt.usd(p['budget_usd'])}: "
                f"{fmt.usd(p['budget_left_usd'])} left, {when}"
            )
        if p["tickets_left"] and p["cost_to_finish_usd"] is not None:
            self.finish.set_or_hide(
                f"{views.count(p['tickets_left'], 'ticket')} left: about "
                f"{fmt.usd(p['cost_to_finish_usd'])} and {fmt.duration(p['eta_s'])} to finish"
            )
        elif p["tickets_left"]:
            self.finish.set_or_hide(
                f"{views.count(p['tickets_left'], 'ticket')} left: cost to finish known after the first completes"
            )
        else:
            self.finish.set_or_hide("")
        self.over.set_or_hide(views.budget_shortfall(p) or "")
        self.limits.set_or_hide("\n".join(fmt.rate_limit_lines(snap["rate_limits"])))
        has_data = bool(timeline["rate_x"])
        dpg.configure_item(self.plot, show=has_data)
        if has_data and timeline["version"] != self._version:
            self._version = timeline["version"]
            dpg.set_value(self.rate_series, [timeline["rate_x"], timeline["tokens_per_min"]])
            self.view.fit()
            top = finite_max(timeline[self._top_series])
            dpg.set_axis_ticks(self.y_axis, fmt.axis_ticks(top))
