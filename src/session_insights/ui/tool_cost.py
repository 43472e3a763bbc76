"""Cost by Tool: the tokens and cost of the model requests that called each tool."""

from __future__ import annotations

from .. import views
from .header import Header
from .theme import COLOURS
from .widgets import BoundText, RowTable

NOTE = (
    "Tokens and cost of the model requests (turns) that called each tool; a turn that called several "
    "tools counts under each of them."
)
NO_TURNS = (
    "No request is known to have called these tools: the logs read so far do not say which request "
    "made which tool call."
)


class ToolCostHeader(Header):
    key = "tool_cost"
    title = "Cost by Tool"

    def build(self) -> None:
        self.note = BoundText(self.body, "", color=COLOURS["dim"], wrap=0, show=False)
        self.table = RowTable(
            self.body,
            views.TOOL_COST_COLUMNS,
            empty_text="No tool calls yet.",
            figures=range(1, len(views.TOOL_COST_COLUMNS)),
        )

    def update(self, snap: dict, timeline: dict) -> None:
        tools = snap["tools"]
        linked = any(t.get("turns") for t in tools.values())
        self.note.set_or_hide((NOTE if linked else NO_TURNS) if tools else "")
        self.table.set_rows(views.tool_cost_rows(tools))
