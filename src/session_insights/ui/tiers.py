"""Token Usage by Tier: which agent roles spend, on which models."""

from __future__ import annotations

from .. import formatting as fmt
from .header import Header
from .widgets import RowTable

COLUMNS = ("Tier", "Model(s)", "Requests", "Input", "Output", "Cache read", "Cost")


class TiersHeader(Header):
    key = "tiers"
    title = "Token Usage by Tier"

    def build(self) -> None:
        self.table = RowTable(self.body, COLUMNS, empty_text="No model requests yet.")

    def update(self, snap: dict, timeline: dict) -> None:
        self.table.set_rows(
            [
                [
                    tier,
                    ", ".join(fig["models"]),
                    f"{fig['requests']:,}",
                    fmt.tokens(fig["input_tokens"]),
                    fmt.tokens(fig["output_tokens"]),
                    fmt.tokens(fig["cache_read_tokens"]),
                    fmt.cost_cell(fig["cost_usd"], fig["unpriced_requests"]),
                ]
                for tier, fig in snap["by_tier"].items()
            ]
        )
