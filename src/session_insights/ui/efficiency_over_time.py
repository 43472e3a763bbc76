"""Efficiency Over Time: one bar per interval of ended sessions, each labelled with its
score and what it is made of, and the verdict from the first interval to the last.

The drawing is ``EfficiencyChart``; the header and ``report --chart`` (ui/chart.py) both
draw with it, so the PNG is the panel's own picture.
"""

from __future__ import annotations

import dearpygui.dearpygui as dpg

from .. import efficiency_words
from .. import formatting as fmt
from ..across_view import AcrossView
from .efficiency import VERDICT_COLOURS
from .plots import add_plot
from .sessions import AcrossHeader
from .theme import COLOURS, bar_series_theme
from .widgets import BoundText

MEASURES = {
    "tokens_per_satisfaction_point": "tokens per satisfaction point",
    "tokens_per_completed_ticket": "tokens per completed ticket",
}
BAR_ROW_PX = 34  # one interval's row: a bar and its label, legible at the base font
PLOT_MIN_PX, PLOT_MAX_PX = 150, 520
# The x axis runs past the longest bar so its label (about 22 characters) fits beside it.
LABEL_ROOM = 1.5
EMPTY_TEXT = (
    "No ended sessions yet: a bar appears for each interval once sessions end (open sessions are in no average)."
)


def plot_height(n_buckets: int) -> int:
    """The plot's height in pixels for this many intervals."""
    return max(PLOT_MIN_PX, min(PLOT_MAX_PX, 70 + BAR_ROW_PX * n_buckets))


def interval_name(bucket: dict) -> str:
    """'2025-11-18' for a one-day interval, '2025-11-18 – 11-20' for a longer one."""
    if bucket["start"] == bucket["end"]:
        return bucket["start"]
    same_year = bucket["start"][:4] == bucket["end"][:4]
    return f"{bucket['start']} – {bucket['end'][5:] if same_year else bucket['end']}"


def caption(over: dict) -> str:
    """What the bars measure, in one line."""
    if over["measure"] == "tokens_per_satisfaction_point":
        what = "average tokens / average satisfaction of the sessions that ended in each interval"
    else:
        what = "tokens per completed ticket of the sessions that ended in each interval (no session is rated yet)"
    return f"{over['interval'].capitalize()} intervals: {what}. Lower is better."


class EfficiencyChart:
    """A horizontal bar per interval, first interval at the top, labelled with
    ``efficiency_words.bucket_label``; the verdict line under it. Owns its items."""

    def __init__(self, parent: int | str, *, width: int = -1):
        self.caption = BoundText(parent, "", color=COLOURS["dim"], wrap=0, show=False)
        self.empty = dpg.add_text(EMPTY_TEXT, parent=parent, color=COLOURS["dim"], wrap=0)
        self.plot = add_plot(
            parent,
            height=PLOT_MIN_PX,
            width=width,
            no_menus=True,
            no_mouse_pos=True,
            no_box_select=True,
            show=False,
        )
        self.x_axis = dpg.add_plot_axis(dpg.mvXAxis, parent=self.plot)
        self.y_axis = dpg.add_plot_axis(dpg.mvYAxis, parent=self.plot, no_gridlines=True)
        self.bars = dpg.add_bar_series([], [], parent=self.y_axis, horizontal=True, weight=0.62)
        dpg.bind_item_theme(self.bars, bar_series_theme(COLOURS["bar"]))
        self.verdict = BoundText(parent, "", color=COLOURS["dim"], wrap=0, show=False)
        self._annotations: list[int] = []
        self.labels: list[str] = []  # bar labels, first interval first (what the chart shows)
        self._shown: dict | None = None

    def set(self, over: dict) -> None:
        """Draw ``across.efficiency_over_time(...)``; nothing is written if it is unchanged."""
        if over == self._shown:
            return
        self._shown = over
        buckets = over["buckets"]
        # With no bar, the empty text says it all; the verdict line would repeat it.
        self.verdict.set_or_hide(efficiency_words.verdict_text(over) if buckets else "")
        self.verdict.configure(color=VERDICT_COLOURS.get(over["verdict"], COLOURS["dim"]))
        for item in self._annotations:
            dpg.delete_item(item)
        self._annotations = []
        has_data = bool(buckets)
        dpg.configure_item(self.plot, show=has_data)
        dpg.configure_item(self.empty, show=not has_data)
        self.caption.set_or_hide(caption(over) if has_data else "")
        self.labels = [efficiency_words.bucket_label(b, over["measure"]) for b in buckets]
        if not has_data:
            return
        n = len(buckets)
        # ImPlot's y axis grows upwards: the first interval gets the top row.
        rows = [float(n - 1 - i) for i in range(n)]
        scores = [float(b["score"] or 0.0) for b in buckets]
        dpg.set_value(self.bars, [scores, rows])
        top = max(scores) or 1.0
        for score, row, label in zip(scores, rows, self.labels):
            self._annotations.append(
                dpg.add_plot_annotation(
                    parent=self.plot,
                    label=label,
                    default_value=(score, row),
                    offset=(8.0, 0.0),
                    color=(0, 0, 0, 0),
                    clamped=True,
                )
            )
        dpg.configure_item(self.plot, height=plot_height(n))
        dpg.configure_item(self.x_axis, label=f"{MEASURES[over['measure']]} (lower is better)")
        dpg.set_axis_ticks(self.x_axis, fmt.axis_ticks(top))
        dpg.set_axis_limits(self.x_axis, 0.0, top * LABEL_ROOM)
        dpg.set_axis_ticks(self.y_axis, tuple((interval_name(b), row) for b, row in zip(buckets, rows)))
        dpg.set_axis_limits(self.y_axis, -0.6, n - 0.4)

    def bar_values(self) -> list[float]:
        """The bars' lengths, first interval first (for tests)."""
        scores = list(dpg.get_value(self.bars)[0])
        return scores[: len(self.labels)]


class EfficiencyOverTimeHeader(AcrossHeader):
    """Efficiency over time across every session the panel knows (live and kept)."""

    key = "efficiency_over_time"
    title = "Efficiency Over Time"

    def build(self) -> None:
        self.chart = EfficiencyChart(self.body)

    def update_across(self, view: AcrossView) -> None:
        self.chart.set(view.over_time)
