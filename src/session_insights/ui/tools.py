"""Tool Usage: calls, time and failures per tool."""

from __future__ import annotations

from .. import formatting as fmt
from .header import Header
from .widgets import RowTable

COLUMNS = ("Tool", "Calls", "Mean", "Total", "Failures", "Failure rate")


class ToolsHeader(Header):
    key = "tools"
    title = "Tool Usage"

    def build(self) -> None:
        self.table = RowTable(self.body, COLUMNS, empty_text="No tool calls yet.")

    def update(self, snap: dict, timeline: dict) -> None:
        self.table.set_rows(
            [
                [
                    name,
                    f"{t['calls']:,}",
                    fmt.milliseconds(t["mean_ms"]),
                    fmt.milliseconds(t["total_ms"]),
                    f"{t['failures']:,}",
                    fmt.percent(t["failure_rate_pct"]),
                ]
                for name, t in snap["tools"].items()
            ]
        )
