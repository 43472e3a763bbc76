"""The efficiency-over-time chart as a PNG, drawn by the panel's own ``EfficiencyChart``
in an off-screen viewport (``report --chart`` runs this in a process of its own).

    python -m session_insights.ui.chart OVER_TIME.json OUT.png

OVER_TIME.json holds ``across.efficiency_over_time(rows)``. Exit 0 when the PNG is
written, 2 with guidance when there is no display (Dear PyGui would abort the process).
"""

from __future__ import annotations

import sys
from pathlib import Path

import dearpygui.dearpygui as dpg
import orjson

from ..display import display_problem
from .efficiency_over_time import EfficiencyChart, plot_height
from .theme import Fonts

EXIT_NO_DISPLAY = 2
CHART_W = 1000
# Title, caption, verdict and the window's padding around the plot.
CHART_CHROME_PX = 110
FRAMES_AROUND = 3  # Dear PyGui writes the frame buffer while rendering: frames before and after


def chart_size(over_time: dict) -> tuple[int, int]:
    """The PNG's width and height in pixels for this chart."""
    return CHART_W, plot_height(len(over_time["buckets"])) + CHART_CHROME_PX


def _frames(n: int) -> None:
    for _ in range(n):
        dpg.render_dearpygui_frame()


def write_chart(over_time: dict, path: Path) -> None:
    """Draw ``over_time`` (``across.efficiency_over_time``) as the panel does and save
    it as PNG at ``path``. Needs an X display (see ``display_problem``)."""
    width, height = chart_size(over_time)
    dpg.create_context()
    try:
        dpg.create_viewport(
            title="Session Insights: efficiency over time",
            width=width,
            height=height,
            vsync=False,
            x_pos=0,
            y_pos=0,
            decorated=False,
            resizable=False,
        )
        Fonts()
        with dpg.window(
            no_title_bar=True, no_move=True, no_resize=True, no_scrollbar=True, pos=(0, 0), width=width, height=height
        ) as window:
            dpg.add_text("Efficiency over time")
        chart = EfficiencyChart(window)
        chart.set(over_time)
        dpg.setup_dearpygui()
        dpg.show_viewport()
        _frames(FRAMES_AROUND)
        path.parent.mkdir(parents=True, exist_ok=True)
        dpg.output_frame_buffer(file=str(path))
        _frames(FRAMES_AROUND)
    finally:
        dpg.destroy_context()


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m session_insights.ui.chart OVER_TIME.json OUT.png", file=sys.stderr)
        return 2
    problem = display_problem()
    if problem:
        print(
            f"session-insights: {problem}: the chart is drawn with the panel's own renderer, which needs a "
            "display. Run it on a virtual display: xvfb-run -s '-screen 0 1280x800x24' session-insights "
            "report --chart PATH ..., or leave out --chart.",
            file=sys.stderr,
        )
        return EXIT_NO_DISPLAY
    try:
        over_time = orjson.loads(Path(argv[0]).read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        print(f"session-insights: cannot read {argv[0]}: {exc}", file=sys.stderr)
        return 2
    out = Path(argv[1])
    write_chart(over_time, out)
    if not out.exists():
        print(f"session-insights: the chart was drawn but {out} was not written", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
