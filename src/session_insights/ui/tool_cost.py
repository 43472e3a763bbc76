"""Cost by Tool: the tokens and cost of the model requests that called each tool."""

from __future__ import annotations

from .. import formatting as fmt
from .header import Header
from .theme import COLOURS
from .widgets import BoundText, RowTable

COLUMNS = ("Tool", "Calls", "Turns", "Tokens", "Cost")
NOTE = (
    "Tokens and cost of the model requests (turns) that called each tool; a turn that called several "
    "tools counts under each of them."
)
NO_TURNS = (
    "No request is known to have called these tools: the logs read so far do not say which request "
    "made which tool call."
)


def tool_cost_rows(tools: dict[str, dict]) -> list[list[str]]:
    """The table's rows, costliest first; '—' where a figure is not known for a tool."""

    def cost_key(item: tuple[str, dict]) -> tuple:
        name, t = item
        cost = t.get("turn_cost_usd")
        return (cost is None, -(cost or 0.0), -(t.get("turn_tokens") or 0), -t["calls"], name)

    rows = []
    for name, t in sorted(tools.items(), key=cost_key):
        turns = t.get("turns")
        if turns:
            tokens, cost = fmt.tokens(t.get("turn_tokens")), fmt.usd(t.get("turn_cost_usd"), "unpriced")
        else:  # no request known to have called it (or the figures are not kept): nothing to cost
            tokens = cost = "—"
        rows.append([name, f"{t['calls']:,}", "—" if turns is None else f"{turns:,}", tokens, cost])
    return rows


class ToolCostHeader(Header):
    key = "tool_cost"
    title = "Cost by Tool"

    def build(self) -> None:
        self.note = BoundText(self.body, "", color=COLOURS["dim"], wrap=0, show=False)
        self.table = RowTable(self.body, COLUMNS, empty_text="No tool calls yet.")

    def update(self, snap: dict, timeline: dict) -> None:
        tools = snap["tools"]
        linked = any(t.get("turns") for t in tools.values())
        self.note.set_or_hide((NOTE if linked else NO_TURNS) if tools else "")
        self.table.set_rows(tool_cost_rows(tools))
