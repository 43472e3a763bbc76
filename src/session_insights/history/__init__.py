"""TokenHistory and the parts it is made of (DESIGN §1): the inbox, usage counters,
sessions, tickets and tools, and the pure ``snapshot`` of a scope."""

from .copies import REWRITE_MARK, copy_rank, supersedes
from .core import MAX_DEDUP_KEYS, TokenHistory
from .counters import N_COUNTERS, T_REQ, TOOL_PROMPT
from .sessions import EARLIER_SESSIONS, MAX_SESSIONS, NO_SESSION
from .snapshot import NO_TIER
from .tickets import MAX_TICKETS
from .tools import MAX_TOOLS, OTHER_TOOLS
from .usage import MAX_DAYS_PER_COMBO, MAX_DETAILED, OTHER_MODELS, TIMELINE_CAPACITY

__all__ = [
    "EARLIER_SESSIONS",
    "MAX_DAYS_PER_COMBO",
    "MAX_DEDUP_KEYS",
    "MAX_DETAILED",
    "MAX_SESSIONS",
    "MAX_TICKETS",
    "MAX_TOOLS",
    "NO_SESSION",
    "NO_TIER",
    "N_COUNTERS",
    "OTHER_MODELS",
    "OTHER_TOOLS",
    "REWRITE_MARK",
    "TIMELINE_CAPACITY",
    "TOOL_PROMPT",
    "T_REQ",
    "TokenHistory",
    "copy_rank",
    "supersedes",
]
