"""Usage Over Time: tokens or cost per day / week / month, stacked by model."""

from __future__ import annotations

import dearpygui.dearpygui as dpg

from .. import formatting as fmt
from .. import times, views
from ..across_view import AcrossView
from .plots import add_plot
from .sessions import AcrossHeader
from .theme import COLOURS, PALETTE, bar_series_theme
from .widgets import BoundText

PERIOD_NAMES = {"day": "Day", "week": "Week", "month": "Month"}
MEASURE_NAMES = {"tokens": "Tokens", "cost_usd": "Cost"}
MAX_TICKS = 10  # period labels on the x axis; more would overlap at 1280 px
BAR_WIDTH = 0.7  # of a period
MIN_SLOTS = 7


def period_tick(start: str, by: str) -> str:
    """An x-axis label: '2025-11-18' for a day or the week starting then, '2025-11' for a month."""
    return start[:7] if by == "month" else start


def stacked_heights(periods: list[dict], models: list[str], measure: str) -> list[list[float]]:
    """Bar tops per model, bottom model first: each model's bar stands on the ones below,
    so the last list holds each period's whole figure."""
    heights, below = [], [0.0] * len(periods)
    for model in models:
        below = [base + float((p["models"].get(model) or {}).get(measure) or 0.0) for base, p in zip(below, periods)]
        heights.append(below)
    return heights


class UsageOverTimeHeader(AcrossHeader):
    key = "usage"
    title = "Usage Over Time"

    def build(self) -> None:
        self.by = "day"
        self.measure = "tokens"
        with dpg.group(horizontal=True, parent=self.body):
            dpg.add_text("Per")
            self.by_radio = dpg.add_radio_button(
                [PERIOD_NAMES[k] for k in PERIOD_NAMES],
                horizontal=True,
                default_value=PERIOD_NAMES[self.by],
                callback=self._by_chosen,
            )
            dpg.add_spacer(width=24)
            dpg.add_text("Show")
            self.measure_radio = dpg.add_radio_button(
                [MEASURE_NAMES[k] for k in MEASURE_NAMES],
                horizontal=True,
                default_value=MEASURE_NAMES[self.measure],
                callback=self._measure_chosen,
            )
        self.empty = dpg.add_text(
            "No usage yet: each day's tokens and cost appear here, by model.", parent=self.body, color=COLOURS["dim"]
        )
        self.plot = add_plot(
            self.body, height=230, width=-1, no_menus=True, no_mouse_pos=True, no_box_select=True, show=False
        )
        # Above the plot, in one row: a legend inside sat on the first periods' bars.
        dpg.add_plot_legend(parent=self.plot, location=dpg.mvPlot_Location_North, horizontal=True, outside=True)
        self.x_axis = dpg.add_plot_axis(dpg.mvXAxis, parent=self.plot, no_gridlines=True)
        self.y_axis = dpg.add_plot_axis(dpg.mvYAxis, parent=self.plot)
        self.latest = BoundText(self.body, "", show=False)
        self.unpriced = BoundText(self.body, "", color=COLOURS["warn"], wrap=0, show=False)
        self._themes = [bar_series_theme(colour) for colour in PALETTE]
        self.series: dict[str, int] = {}  # model -> its bar series (bars stand on the models before it)
        self.models: list[str] = []
        self._shown: tuple | None = None

    # Dear PyGui's callback thread: record the choice; the panel redraws on its next tick.
    def _by_chosen(self, _sender: object, label: str) -> None:
        self.by = next(k for k, v in PERIOD_NAMES.items() if v == label)
        self.dirty = True

    def _measure_chosen(self, _sender: object, label: str) -> None:
        self.measure = next(k for k, v in MEASURE_NAMES.items() if v == label)
        self.dirty = True

    def choose(self, by: str | None = None, measure: str | None = None) -> None:
        """Show another period or measure (what the radio buttons do)."""
        if by is not None:
            self.by = by
            dpg.set_value(self.by_radio, PERIOD_NAMES[by])
        if measure is not None:
            self.measure = measure
            dpg.set_value(self.measure_radio, MEASURE_NAMES[measure])
        self.dirty = True

    def update_across(self, view: AcrossView) -> None:
        by, measure = self.by, self.measure
        periods = view.usage(by)
        shown = (by, measure, periods)
        if shown == self._shown:
            return
        self._shown = shown
        has_data = bool(periods)
        dpg.configure_item(self.plot, show=has_data)
        dpg.configure_item(self.empty, show=not has_data)
        unpriced = [m for m in view.unpriced_models if any(m in p["models"] for p in periods)]
        self.unpriced.set_or_hide(
            f"Cost leaves out unpriced models (no known price; tokens counted): {', '.join(unpriced)}."
            if unpriced and measure == "cost_usd"
            else ""
        )
        if not has_data:
            self.latest.set_or_hide("")
            return
        last = periods[-1]
        when = {"day": last["start"], "week": f"from {last['start']}", "month": last["start"][:7]}[by]
        self.latest.set_or_hide(
            # Periods run from local midnight (UTC with --utc): the zone of that midnight.
            f"Latest {by}, {when} ({times.zone(last['start_ts'])}): {fmt.tokens(last['tokens'])} tokens, "
            f"{views.cost_cell(last['cost_usd'], last['unpriced_requests'])}, {last['requests']:,} requests"
        )
        models = sorted({model for p in periods for model in p["models"]})
        if models != self.models:
            for item in self.series.values():
                dpg.delete_item(item)
            # The top of the stack first: later series draw over earlier ones, so each
            # model's bar shows from the top of the one below it up to its own top.
            self.series = {}
            for k in range(len(models) - 1, -1, -1):
                item = dpg.add_bar_series([], [], label=models[k], parent=self.y_axis, weight=BAR_WIDTH)
                dpg.bind_item_theme(item, self._themes[k % len(self._themes)])
                self.series[models[k]] = item
            self.models = models
        xs = [float(i) for i in range(len(periods))]
        heights = stacked_heights(periods, models, measure)
        for model, tops in zip(models, heights):
            dpg.set_value(self.series[model], [xs, tops])
        top = max(heights[-1]) if heights else 0.0
        step = -(-len(periods) // MAX_TICKS)
        dpg.set_axis_ticks(
            self.x_axis, tuple((period_tick(p["start"], by), float(i)) for i, p in enumerate(periods) if i % step == 0)
        )
        # Room for at least MIN_SLOTS bars, so one or two periods do not fill the plot.
        pad = max(0.0, (MIN_SLOTS - len(periods)) / 2)
        dpg.set_axis_limits(self.x_axis, -0.6 - pad, len(periods) - 0.4 + pad)
        ticks = fmt.axis_ticks(top)
        if measure == "cost_usd":
            ticks = tuple((fmt.usd(value) if value else "$0", value) for _, value in ticks)
        dpg.set_axis_ticks(self.y_axis, ticks)
        dpg.set_axis_limits(self.y_axis, 0.0, max(top, ticks[-1][1], 1e-9) * 1.05)
        dpg.configure_item(self.y_axis, label="tokens" if measure == "tokens" else "USD")

    def stacks(self) -> dict[str, list[float]]:
        """Each model's bar tops as drawn, by model (for tests)."""
        return {model: list(dpg.get_value(item)[1]) for model, item in self.series.items()}
