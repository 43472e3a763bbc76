"""Cost by Model: requests, tokens by kind, cost and share per model; unpriced named."""

from __future__ import annotations

from .. import formatting as fmt
from .header import Header
from .theme import COLOURS
from .widgets import BoundText, RowTable

COLUMNS = ("Model", "Requests", "Input", "Output", "Cache read", "Cache write", "Cost", "Share")


def usage_cells(fig: dict) -> list[str]:
    return [
        f"{fig['requests']:,}",
        fmt.tokens(fig["input_tokens"]),
        fmt.tokens(fig["output_tokens"]),
        fmt.tokens(fig["cache_read_tokens"]),
        fmt.tokens(fig["cache_write_tokens"]),
    ]


class ModelsHeader(Header):
    key = "models"
    title = "Cost by Model"

    def build(self) -> None:
        self.table = RowTable(self.body, COLUMNS, empty_text="No model requests yet.")
        self.unpriced = BoundText(self.body, "", color=COLOURS["warn"])

    def update(self, snap: dict, timeline: dict) -> None:
        rows = []
        for model, fig in snap["by_model"].items():
            cost = fmt.cost_cell(fig["cost_usd"], fig["unpriced_requests"])
            rows.append([model, *usage_cells(fig), cost, fmt.percent(fig["share_pct"])])
        self.table.set_rows(rows)
        names = snap["unpriced_models"]
        self.unpriced.set(
            f"Unpriced (no known price; tokens counted, cost unknown): {', '.join(names)}. "
            "Add a price under [pricing.overrides] in state.toml."
            if names
            else ""
        )
