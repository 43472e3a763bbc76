"""The row of summary cards: total tokens, cost so far, burn rate, efficiency, budget
left, under a caption naming the scope they are for."""

from __future__ import annotations

import dearpygui.dearpygui as dpg

from .. import formatting as fmt
from .. import views
from .theme import COLOURS, Fonts
from .widgets import BoundText

CARDS = (
    ("tokens", "Total tokens"),
    ("cost", "Cost so far"),
    ("burn", "Burn rate"),
    ("efficiency", "Tokens / ticket"),
    ("budget", "Budget left"),
)


class SummaryCards:
    def __init__(self, parent: int | str, fonts: Fonts | None):
        self.caption = BoundText(parent, "", color=COLOURS["dim"])
        self.table = dpg.add_table(
            parent=parent,
            header_row=False,
            policy=dpg.mvTable_SizingStretchSame,
            borders_innerV=True,
            borders_outerV=False,
        )
        for _ in CARDS:
            dpg.add_table_column(parent=self.table)
        row = dpg.add_table_row(parent=self.table)
        self.values: dict[str, BoundText] = {}
        self.fonts = fonts
        self.subs: dict[str, BoundText] = {}
        for key, label in CARDS:
            cell = dpg.add_group(parent=row)
            dpg.add_text(label, parent=cell, color=COLOURS["dim"])
            self.values[key] = BoundText(cell, "—")
            if fonts is not None:
                dpg.bind_item_font(self.values[key].item, fonts.card)
            self.subs[key] = BoundText(cell, "", color=COLOURS["dim"])
        self._short = False  # the budget card shows that finishing would overrun it

    def use_fonts(self, fonts: Fonts) -> None:
        """Draw the headline figures in ``fonts.card`` (after the UI scale changed)."""
        self.fonts = fonts
        for value in self.values.values():
            dpg.bind_item_font(value.item, fonts.card)

    def show_scope(self, name: str) -> None:
        """Name the scope the cards' figures are for (written only when it changes)."""
        self.caption.set(f"Figures for {name}")

    def update(self, snap: dict) -> None:
        t = snap["totals"]
        self.values["tokens"].set(fmt.tokens_short(t["total_tokens"]) if t["requests"] else "—")
        n = t["requests"]
        self.subs["tokens"].set(f"{n:,} request{'' if n == 1 else 's'}" if n else "no requests yet")
        self.values["cost"].set(fmt.usd(t["cost_usd"]) if t["requests"] else "—")
        unpriced = snap["unpriced_models"]
        self.subs["cost"].set(
            f"+ {len(unpriced)} unpriced model{'s' if len(unpriced) > 1 else ''}"
            if unpriced
            else "all models priced"
            if t["requests"]
            else ""
        )
        w = snap["burn_rate"]["window"]
        self.values["burn"].set(f"{fmt.usd(w['usd_per_hour'], '—')}/h" if w["usd_per_hour"] is not None else "—")
        past = "past_session" in snap  # a session from the durable history: no live rate, no budget
        self.subs["burn"].set(
            f"{fmt.tokens_short(w['tokens_per_min'])} tokens/min"
            if w["tokens_per_min"] is not None
            else "past session"
            if past
            else "idle"
        )
        e = snap["efficiency"]
        self.values["efficiency"].set(fmt.tokens_short(e["tokens_per_completed_ticket"]))
        self.subs["efficiency"].set(
            f"{fmt.usd(e['cost_per_completed_ticket_usd'])} per ticket"
            if e["cost_per_completed_ticket_usd"] is not None
            else "no ticket completed"
        )
        p = snap["projection"]
        if p["budget_usd"] is None:
            self._show_short(False)
            self.values["budget"].set("—")
            self.subs["budget"].set("past session" if past else "no budget set")
        else:
            self.values["budget"].set(fmt.usd(p["budget_left_usd"]))
            short = views.budget_shortfall(p)
            self._show_short(short is not None)
            self.subs["budget"].set(
                f"{fmt.usd(p['cost_to_finish_usd'] - p['budget_left_usd'])} short to finish"
                if short
                else fmt.runs_out(p["time_to_exhaustion_s"])
            )

    def _show_short(self, short: bool) -> None:
        """The budget card in the warning colour while finishing would overrun it."""
        if short != self._short:
            self._short = short
            colour = COLOURS["bad"] if short else COLOURS["dim"]
            self.subs["budget"].configure(color=colour)
            self.values["budget"].configure(color=COLOURS["bad"] if short else COLOURS["total"])
