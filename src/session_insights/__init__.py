"""session-insights: see what an AI coding session spends, live.

The headless API a host app uses; the panel lives in ``session_insights.ui``. The names
below load on first use (PEP 562), so ``session-insights statusline``, which Claude Code
runs on every update of its status bar, starts without loading the history.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .events import Rating, TicketUpdate, ToolCall, UsageEvent
    from .history import TokenHistory

__all__ = ["Rating", "TicketUpdate", "TokenHistory", "ToolCall", "UsageEvent"]
__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    if name == "TokenHistory":
        from .history import TokenHistory

        return TokenHistory
    if name in ("Rating", "TicketUpdate", "ToolCall", "UsageEvent"):
        from . import events

        return getattr(events, name)
    raise AttributeError(f"module 'session_insights' has no attribute {name!r}")
