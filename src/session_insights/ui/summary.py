"""Session Summary: the summary text, and a button that copies it."""

from __future__ import annotations

import dearpygui.dearpygui as dpg

from ..metrics import summary_text
from .header import Header
from .theme import COLOURS
from .widgets import BoundText


class SummaryHeader(Header):
    key = "summary"
    title = "Session Summary"

    def build(self) -> None:
        self.text = BoundText(self.body, "", wrap=0)
        with dpg.group(horizontal=True, parent=self.body) as row:
            dpg.add_button(label="Copy summary", callback=self.copy)
        self.copied = BoundText(row, "", color=COLOURS["dim"])

    def copy(self, *_: object) -> None:
        dpg.set_clipboard_text(self.text.value)
        self.copied.set("copied to the clipboard")

    def update(self, snap: dict, timeline: dict) -> None:
        self.text.set(summary_text(snap))
