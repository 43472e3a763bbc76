"""Tool Usage: calls, time and failures per tool."""

from __future__ import annotations

from .. import views
from .header import Header
from .widgets import RowTable


class ToolsHeader(Header):
    key = "tools"
    title = "Tool Usage"

    def build(self) -> None:
        self.table = RowTable(
            self.body, views.TOOL_COLUMNS, empty_text="No tool calls yet.", figures=range(1, len(views.TOOL_COLUMNS))
        )

    def update(self, snap: dict, timeline: dict) -> None:
        self.table.set_rows([views.tool_cells(name, t) for name, t in snap["tools"].items()])
