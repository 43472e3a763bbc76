"""session-insights: see what an AI coding session spends, live.

The headless API a host app uses; the panel lives in ``session_insights.ui``.
"""

from .events import Rating, TicketUpdate, ToolCall, UsageEvent
from .history import TokenHistory

__all__ = ["Rating", "TicketUpdate", "TokenHistory", "ToolCall", "UsageEvent"]
__version__ = "0.1.0"
