"""Token Usage by Tier: which agent roles spend, on which models."""

from __future__ import annotations

from .. import views
from .header import Header
from .widgets import RowTable


class TiersHeader(Header):
    key = "tiers"
    title = "Token Usage by Tier"

    def build(self) -> None:
        self.table = RowTable(self.body, views.TIER_COLUMNS, empty_text="No model requests yet.")

    def update(self, snap: dict, timeline: dict) -> None:
        self.table.set_rows([views.usage_cells(tier, fig, views.TIER_COLUMNS) for tier, fig in snap["by_tier"].items()])
