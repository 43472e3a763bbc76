"""Cost by Model: requests, tokens by kind, cost and share per model; unpriced named."""

from __future__ import annotations

from .. import views
from .header import Header
from .theme import COLOURS
from .widgets import BoundText, RowTable


class ModelsHeader(Header):
    key = "models"
    title = "Cost by Model"

    def build(self) -> None:
        self.table = RowTable(
            self.body,
            views.MODEL_COLUMNS,
            empty_text="No model requests yet.",
            figures=range(1, len(views.MODEL_COLUMNS)),
        )
        self.unpriced = BoundText(self.body, "", color=COLOURS["warn"])

    def update(self, snap: dict, timeline: dict) -> None:
        self.table.set_rows(
            [views.usage_cells(model, fig, views.MODEL_COLUMNS) for model, fig in snap["by_model"].items()]
        )
        names = snap["unpriced_models"]
        self.unpriced.set(
            f"Unpriced (no known price; tokens counted, cost unknown): {', '.join(names)}. "
            "Add a price under [pricing.overrides] in state.toml."
            if names
            else ""
        )
