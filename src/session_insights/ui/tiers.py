"""Token Usage by Tier: which agent roles spend, on which models."""

from __future__ import annotations

from .. import views
from .header import Header
from .widgets import RowTable


class TiersHeader(Header):
    key = "tiers"
    title = "Token Usage by Tier"

    def build(self) -> None:
        # The models a tier used can be several long names: their column is the widest and
        # wraps, so a name is never cut ("claude-haiku-4-5-202"). The cost is a figure like
        # the others, on the right; its column is wide enough for its unpriced mark
        # ("$0.19 (+11 unpriced)").
        self.table = RowTable(
            self.body,
            views.TIER_COLUMNS,
            empty_text="No model requests yet.",
            weights=(1.2, 3.5, 0.9, 1.0, 1.0, 1.2, 2.0),
            wrapped=(1,),
            figures=range(2, len(views.TIER_COLUMNS)),
        )

    def update(self, snap: dict, timeline: dict) -> None:
        self.table.set_rows([views.usage_cells(tier, fig, views.TIER_COLUMNS) for tier, fig in snap["by_tier"].items()])
