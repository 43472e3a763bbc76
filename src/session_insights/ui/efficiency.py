"""Efficiency: tokens and cost per completed ticket, tokens per satisfaction point, and
whether it is getting better."""

from __future__ import annotations

from .. import efficiency_words
from .. import formatting as fmt
from .header import Header
from .theme import COLOURS
from .widgets import BoundText

VERDICT_COLOURS = {"IMPROVED": COLOURS["good"], "DECLINED": COLOURS["bad"], "UNCHANGED": COLOURS["dim"]}


class EfficiencyHeader(Header):
    key = "efficiency"
    title = "Efficiency"

    def build(self) -> None:
        self.per_ticket = BoundText(self.body, "")
        self.per_point = BoundText(self.body, "")
        self.verdict = BoundText(self.body, "")

    def update(self, snap: dict, timeline: dict) -> None:
        e = snap["efficiency"]
        if e["tokens_per_completed_ticket"] is None:
            self.per_ticket.set(f"Tokens per completed ticket: — ({efficiency_words.no_per_ticket_why(snap)})")
        else:
            self.per_ticket.set(
                f"Tokens per completed ticket: {fmt.tokens(e['tokens_per_completed_ticket'])} "
                f"({fmt.usd(e['cost_per_completed_ticket_usd'])} per ticket; lower is better)"
            )
        if e["tokens_per_satisfaction_point"] is None:
            self.per_point.set("Tokens per satisfaction point: — (no ratings yet)")
        else:
            self.per_point.set(
                f"Tokens per satisfaction point: {fmt.tokens(e['tokens_per_satisfaction_point'])} "
                f"({e['ratings']:,} rating{'' if e['ratings'] == 1 else 's'}, "
                f"mean {fmt.satisfaction(e['mean_satisfaction'])})"
            )
        over = e["over_time"]
        if over["verdict"]:
            self.verdict.set(efficiency_words.verdict_text(over))
            self.verdict.configure(color=VERDICT_COLOURS[over["verdict"]])
        else:
            self.verdict.set("Trend: needs two intervals with data.")
