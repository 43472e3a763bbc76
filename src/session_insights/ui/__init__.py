"""The Dear PyGui panel: the only package that imports dearpygui."""

from .panel import HEADERS, PANEL_WINDOW_TAG, InsightsPanel

__all__ = ["HEADERS", "PANEL_WINDOW_TAG", "InsightsPanel"]
