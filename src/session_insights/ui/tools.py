"""Tool Usage: calls, time and failures per tool."""

from __future__ import annotations

from .. import formatting as fmt
from .header import Header
from .widgets import RowTable

COLUMNS = ("Tool", "Calls", "Mean", "Total", "Failures", "Failure rate")


def _ms(ms: float | None) -> str:
    if ms is None:
        return "—"
    return f"{ms:,.0f} ms" if ms < 60_000 else fmt.duration(ms / 1000)


class ToolsHeader(Header):
    key = "tools"
    title = "Tool Usage"

    def build(self) -> None:
        self.table = RowTable(self.body, COLUMNS, empty_text="No tool calls yet.")

    def update(self, snap: dict, timeline: dict) -> None:
        self.table.set_rows([
            [name, f"{t['calls']:,}", _ms(t["mean_ms"]), _ms(t["total_ms"]), f"{t['failures']:,}",
             fmt.percent(t["failure_rate_pct"])]
            for name, t in snap["tools"].items()
        ])
