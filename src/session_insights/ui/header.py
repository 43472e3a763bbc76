"""The base of every metric header: a collapsing header that owns its items."""

from __future__ import annotations

import dearpygui.dearpygui as dpg


class Header:
    """One collapsing header. Subclasses build their items under ``self.body`` and
    refresh them in ``update(snap, timeline)``; the panel skips closed headers."""

    key = ""
    title = ""

    def __init__(self, parent: int | str, *, open_: bool = True):
        self.item = dpg.add_collapsing_header(label=self.title, parent=parent, default_open=open_)
        self.body = dpg.add_group(parent=self.item, indent=6)
        self.build()

    def build(self) -> None:
        raise NotImplementedError

    def update(self, snap: dict, timeline: dict) -> None:
        raise NotImplementedError

    def is_open(self) -> bool:
        return bool(dpg.get_value(self.item))

    def set_open(self, open_: bool) -> None:
        dpg.set_value(self.item, open_)
