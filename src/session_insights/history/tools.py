"""The tools part: per session and tool name, calls, failures, total and longest time.

At most ``MAX_TOOLS`` names a session; past that a new name counts under
``OTHER_TOOLS``. A folded session's rows merge into ``EARLIER_SESSIONS``'s, so the
totals over every session stay exact. (What the requests calling a tool cost is usage:
see ``UsagePart.tool_turns``.)
"""

from __future__ import annotations

from .. import decode
from ..events import ToolCall
from ..scope import Resolved
from .sessions import NO_SESSION

MAX_TOOLS = 200
OTHER_TOOLS = "(other tools)"
CALLS, FAILURES, TOTAL_US, MAX_US = range(4)


class ToolsPart:
    def __init__(self) -> None:
        # session -> tool name -> [calls, failures, total_us, max_us]
        self.calls: dict[str, dict[str, list[int]]] = {}
        self.total: dict[str, list[int]] = {}  # tool name -> the counts over every session

    def apply(self, call: ToolCall) -> None:
        tools = self.calls.setdefault(NO_SESSION if call.session is None else call.session, {})
        name = call.name
        tool = tools.get(name)
        if tool is None:
            if len(tools) >= MAX_TOOLS:
                name = OTHER_TOOLS
            tool = tools.setdefault(name, [0, 0, 0, 0])
        duration_us = round(call.duration_ms * 1000)
        tool[CALLS] += 1
        tool[FAILURES] += not call.ok
        tool[TOTAL_US] += duration_us
        tool[MAX_US] = max(tool[MAX_US], duration_us)
        merge_tool(self.total, name, [1, int(not call.ok), duration_us, duration_us], cap=False)

    def fold(self, names: set[str], into: str) -> None:
        target = self.calls.setdefault(into, {})
        for name in names:
            for tool, counts in self.calls.pop(name, {}).items():
                merge_tool(target, tool, counts)

    def merge(self, other: ToolsPart) -> None:
        """Add another part's calls (read apart) into this one's."""
        for session, tools in other.calls.items():
            target = self.calls.setdefault(session, {})
            for tool, counts in tools.items():
                merge_tool(self.total, merge_tool(target, tool, counts), counts, cap=False)

    def by_name(self, scope: Resolved) -> dict[str, list[int]]:
        """Each tool's counts summed over the sessions of ``scope``."""
        if scope.sessions is None:
            return {name: list(counts) for name, counts in self.total.items()}
        merged: dict[str, list[int]] = {}
        for session, tools in self.calls.items():
            if scope.holds_record(None if session == NO_SESSION else session):
                for tool, counts in tools.items():
                    merge_tool(merged, tool, counts, cap=False)
        return merged

    def encode(self) -> list[dict]:
        return [
            {"name": tool, "session": session, "counts": counts}
            for session, tools in self.calls.items()
            for tool, counts in tools.items()
        ]

    def decode(self, rows: list[dict]) -> None:
        self.calls, self.total = {}, {}
        for i, row in enumerate(rows):
            where = f"tools[{i}]"
            name = decode.text(row.get("name"), f"{where}.name")
            # a state saved before tools were kept by session holds them without one
            session = decode.text(row.get("session", NO_SESSION), f"{where}.session")
            counts = decode.counters(row.get("counts"), f"{where}.counts", 4)
            merge_tool(self.calls.setdefault(session, {}), name, counts, cap=False)
            merge_tool(self.total, name, counts, cap=False)


def merge_tool(target: dict[str, list[int]], name: str, counts: list[int], cap: bool = True) -> str:
    """Add ``counts`` into ``target``'s tool ``name`` (``OTHER_TOOLS`` when ``cap`` and
    the target is full); returns the name they went under."""
    tool = target.get(name)
    if tool is None:
        if cap and len(target) >= MAX_TOOLS:
            return merge_tool(target, OTHER_TOOLS, counts, cap=False)
        target[name] = list(counts)
        return name
    tool[CALLS] += counts[CALLS]
    tool[FAILURES] += counts[FAILURES]
    tool[TOTAL_US] += counts[TOTAL_US]
    tool[MAX_US] = max(tool[MAX_US], counts[MAX_US])
    return name
