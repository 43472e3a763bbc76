"""Fonts and colours: one table of roles -> colours, one bundled font at two sizes."""

from __future__ import annotations

from pathlib import Path

import dearpygui.dearpygui as dpg

FONT_PATH = Path(__file__).with_name("fonts") / "DejaVuSans.ttf"
BASE_FONT_PX = 15
CARD_FONT_PX = 22

COLOURS = {
    "dim": (150, 150, 160),
    "good": (110, 200, 120),
    "warn": (235, 190, 80),
    "bad": (235, 100, 90),
    "input": (90, 150, 240),
    "tool_prompt": (165, 200, 250),  # part of the input: a lighter blue
    "output": (240, 150, 70),
    "cache_read": (110, 200, 120),
    "cache_write": (70, 190, 200),
    "reasoning": (200, 120, 230),
    "total": (225, 225, 230),
    "rate": (200, 120, 230),
    "bar": (90, 150, 240),
}

# Series colours by position (models in a stacked chart): fixed, so a model keeps its
# colour while others come and go, and distinct on the dark background.
PALETTE = (
    (90, 150, 240),
    (240, 150, 70),
    (110, 200, 120),
    (200, 120, 230),
    (235, 100, 90),
    (70, 190, 200),
    (235, 190, 80),
    (170, 170, 180),
)

# Notice level -> colour of its text.
LEVELS = {"info": COLOURS["dim"], "warning": COLOURS["warn"], "error": COLOURS["bad"]}


class Fonts:
    """The bundled font at two sizes, times ``scale`` (the UI scale); ``bind``: made the
    context's default font (the standalone app's), else left for the panel to bind to
    its own items (in a host, whose font stays its own)."""

    def __init__(self, bind: bool = True, scale: float = 1.0) -> None:
        # Rasterised at the size shown: a font drawn at 15 px and scaled by 1.25 after is
        # blurred; one drawn at 19 px is sharp.
        self.scale = scale
        with dpg.font_registry() as self.registry:
            self.base = dpg.add_font(str(FONT_PATH), round(BASE_FONT_PX * scale))
            self.card = dpg.add_font(str(FONT_PATH), round(CARD_FONT_PX * scale))
        if bind:
            dpg.bind_font(self.base)


def series_theme(colour: tuple[int, int, int], weight: float = 2.0) -> int:
    with dpg.theme() as theme, dpg.theme_component(dpg.mvLineSeries):
        dpg.add_theme_color(dpg.mvPlotCol_Line, colour, category=dpg.mvThemeCat_Plots)
        dpg.add_theme_style(dpg.mvPlotStyleVar_LineWeight, weight, category=dpg.mvThemeCat_Plots)
    return theme


def shade_series_theme(colour: tuple[int, int, int], alpha: int = 36) -> int:
    """A faint fill of ``colour``: the area under a cumulative line, under the lines."""
    with dpg.theme() as theme, dpg.theme_component(dpg.mvShadeSeries):
        dpg.add_theme_color(dpg.mvPlotCol_Fill, (*colour, alpha), category=dpg.mvThemeCat_Plots)
    return theme


def bar_series_theme(colour: tuple[int, int, int]) -> int:
    """A theme filling bar series with ``colour`` (components build theirs once)."""
    with dpg.theme() as theme, dpg.theme_component(dpg.mvBarSeries):
        dpg.add_theme_color(dpg.mvPlotCol_Fill, colour, category=dpg.mvThemeCat_Plots)
        dpg.add_theme_color(dpg.mvPlotCol_Line, colour, category=dpg.mvThemeCat_Plots)
    return theme
