"""The panel's headers, in the order it shows them (each names its own key and title)."""

from __future__ import annotations

from .burn import BurnHeader
from .categories import TokenCategoriesHeader
from .efficiency import EfficiencyHeader
from .efficiency_over_time import EfficiencyOverTimeHeader
from .header import Header
from .limits import LimitsHeader
from .models import ModelsHeader
from .progress import ProgressHeader
from .provenance import ProvenanceHeader
from .sessions import SessionsHeader
from .summary import SummaryHeader
from .tiers import TiersHeader
from .timeline import TimelineHeader
from .tool_cost import ToolCostHeader
from .tools import ToolsHeader
from .usage_over_time import UsageOverTimeHeader

HEADERS: tuple[type[Header], ...] = (
    TimelineHeader,
    BurnHeader,
    LimitsHeader,
    ModelsHeader,
    TiersHeader,
    EfficiencyHeader,
    ToolsHeader,
    ToolCostHeader,
    ProgressHeader,
    SummaryHeader,
    SessionsHeader,
    EfficiencyOverTimeHeader,
    UsageOverTimeHeader,
    TokenCategoriesHeader,
    ProvenanceHeader,
)
