"""Track Progress: tickets by status, a progress bar, and the ETA."""

from __future__ import annotations

import dearpygui.dearpygui as dpg

from .. import formatting as fmt
from .. import views
from .header import Header
from .theme import COLOURS
from .widgets import BoundText, RowTable


class ProgressHeader(Header):
    key = "progress"
    title = "Track Progress"

    def build(self) -> None:
        self.bar = dpg.add_progress_bar(parent=self.body, width=-1, overlay="no tickets yet")
        self.counts = BoundText(self.body, "")
        self.eta = BoundText(self.body, "")
        self.blocked = BoundText(self.body, "", color=COLOURS["warn"])
        self.tracks = RowTable(
            self.body, ("Track", "Completed", "In progress", "Blocked", "Todo"), empty_text="", figures=range(1, 5)
        )
        self._fraction = -1.0

    def update(self, snap: dict, timeline: dict) -> None:
        k = snap["tickets"]
        by = k["by_status"]
        fraction = (k["progress_pct"] or 0.0) / 100.0
        if fraction != self._fraction:
            self._fraction = fraction
            dpg.set_value(self.bar, fraction)
            dpg.configure_item(
                self.bar,
                overlay=f"{by['completed']:,} of {k['total']:,} tickets ({fmt.percent(k['progress_pct'], 0)})"
                if k["total"]
                else "no tickets yet",
            )
        self.counts.set(
            f"Completed {by['completed']:,}   In progress {by['in_progress']:,}   "
            f"Blocked {by['blocked']:,}   Todo {by['todo']:,}"
            if k["total"]
            else ""
        )
        p = snap["projection"]
        self.eta.set(
            (
                "ETA: "
                + (
                    fmt.duration(p["eta_s"]) + f" (about {fmt.clock(p['eta_ts'])})"
                    if p["eta_s"]
                    else "all done"
                    if p["eta_s"] == 0
                    else "known once a ticket completes"
                )
            )
            if k["total"]
            else ""
        )
        self.blocked.set(
            "Blocked: "
            + "; ".join(f"{b['id']}" + (f" ({b['reason']})" if b["reason"] else "") for b in k["blocked"][:6])
            if k["blocked"]
            else ""
        )
        self.tracks.set_rows(
            [
                [
                    views.track_label(name, snap["sessions"]),
                    f"{c['completed']:,}",
                    f"{c['in_progress']:,}",
                    f"{c['blocked']:,}",
                    f"{c['todo']:,}",
                ]
                for name, c in k["tracks"].items()
            ]
        )
