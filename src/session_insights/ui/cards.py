"""The row of summary cards: total tokens, cost so far, burn rate, efficiency, budget
left, under a caption naming the scope they are for; and the quota window nearest its
limit (the account's, whatever the scope)."""

from __future__ import annotations

import dearpygui.dearpygui as dpg

from .. import efficiency_words, limits, views
from .. import formatting as fmt
from .theme import COLOURS, Fonts
from .widgets import BoundText

CARDS = (
    ("tokens", "Total tokens"),
    ("cost", "Cost so far"),
    ("burn", "Burn rate"),
    ("efficiency", "Tokens / ticket"),
    ("budget", "Budget left"),
    ("quota", "Quota"),
)


def pressing_window(windows: list[dict]) -> dict | None:
    """The window the Quota card shows: of those with a used share (the servers', and the
    logs' estimates against a limit the user set) and no reset since, a current one
    before a stale one, then the one on course to pass 100% first, then the fullest."""
    known = [w for w in windows if not w.get("reset_passed") and w.get("used_percent") is not None]
    if not known:
        return None
    return max(known, key=lambda w: (not w["stale"], w.get("full_before_reset", False), w["used_percent"]))


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
        self._quota_colour = "total"
        self.show_quota([])

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
            else efficiency_words.no_per_ticket_why(snap, short=True)
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

    def show_quota(self, windows: list[dict]) -> None:
        """The window nearest its limit: used % (in the warning colour at 80% or on
        course to pass 100% before the reset, dim when stale), which, and its reset."""
        w = pressing_window(windows)
        colour = "total"
        if w is not None and w["stale"]:
            colour = "dim"
        elif w is not None and (w.get("full_before_reset", False) or w["used_percent"] >= 80):
            colour = "warn"
        if colour != self._quota_colour:
            self._quota_colour = colour
            self.values["quota"].configure(color=COLOURS[colour])
        if w is None:
            self.values["quota"].set("—")
            self.subs["quota"].set("no quota figures")
            return
        self.values["quota"].set(f"{w['used_percent']:,.0f}%")
        parts = ["your limit " + w["label"] if w.get("estimate") else f"{w['source']} {w['label']}"]
        if w["stale"]:
            parts.append(f"seen {limits.duration_short(w['age_s'])} ago")
        elif w.get("resets_in_s") is not None:
            parts.append(f"resets in {limits.duration_short(w['resets_in_s'])}")
        self.subs["quota"].set(" · ".join(parts))  # short: six cards share the width

    def _show_short(self, short: bool) -> None:
        """The budget card in the warning colour while finishing would overrun it."""
        if short != self._short:
            self._short = short
            colour = COLOURS["bad"] if short else COLOURS["dim"]
            self.subs["budget"].configure(color=colour)
            self.values["budget"].configure(color=COLOURS["bad"] if short else COLOURS["total"])
