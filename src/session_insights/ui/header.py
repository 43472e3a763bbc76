"""The base of every metric header: a collapsing header that owns its items, titled
with the scope its figures are for."""

from __future__ import annotations

import dearpygui.dearpygui as dpg


class Header:
    """One collapsing header. Subclasses build their items under ``self.body`` and
    refresh them in ``update(snap, timeline)``; the panel skips closed headers and
    names the scope in the title with ``show_scope``."""

    key = ""
    title = ""
    default_open = True  # open on a first run (a saved list of open headers wins)

    def __init__(self, parent: int | str, *, open_: bool = True):
        self.item = dpg.add_collapsing_header(label=self.title, parent=parent, default_open=open_)
        self.label = self.title
        self.body = dpg.add_group(parent=self.item, indent=6)
        self.build()

    def build(self) -> None:
        raise NotImplementedError

    def update(self, snap: dict, timeline: dict) -> None:
        raise NotImplementedError

    def show_scope(self, name: str | None) -> None:
        """Title the header "<title> · <name>" (the scope its figures are for); the item
        is only written when the title changes (Dear PyGui keys it by its id, not its
        label, so it stays open or closed)."""
        label = f"{self.title} · {name}" if name else self.title
        if label != self.label:
            dpg.configure_item(self.item, label=label)
            self.label = label

    def is_open(self) -> bool:
        return bool(dpg.get_value(self.item))

    def set_open(self, open_: bool) -> None:
        dpg.set_value(self.item, open_)
