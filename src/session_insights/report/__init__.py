"""``report``'s formats (text, md, csv, json): one scope's snapshot (``render``, in
``snapshot``), or, with ``--by``, the sessions of the durable history (``across_view``,
``render_across``, in ``across_sessions``; usage per period or block in ``periods``).

The text form is for a terminal: aligned columns, thousands separators, units on every
figure. md is the same tables for pasting into an issue or a PR; csv is for a
spreadsheet: a header line, then plain numbers (no separators, costs as decimals, an
empty cell for what is unknown). Every figure comes from ``metrics`` / ``across`` and
every cell from ``views``, as the panel's do, so the two never disagree. Names come from
logs, so text, md and csv show their control characters as escapes
(``formatting.printable``); json escapes them itself.
"""

from .across_sessions import (
    BLOCK_CSV_COLUMNS,
    BY,
    INTERVAL_CSV_COLUMNS,
    PERIOD_CSV_COLUMNS,
    SESSION_CSV_COLUMNS,
    across_tables,
    across_view,
    efficiency_json,
    render_across,
    render_across_csv,
    render_across_md,
    render_across_text,
    session_json,
)
from .draw import render_json
from .snapshot import FORMATS, render, render_csv, render_md, render_text, tables

__all__ = [
    "BLOCK_CSV_COLUMNS",
    "BY",
    "FORMATS",
    "INTERVAL_CSV_COLUMNS",
    "PERIOD_CSV_COLUMNS",
    "SESSION_CSV_COLUMNS",
    "across_tables",
    "across_view",
    "efficiency_json",
    "render",
    "render_across",
    "render_across_csv",
    "render_across_md",
    "render_across_text",
    "render_csv",
    "render_json",
    "render_md",
    "render_text",
    "session_json",
    "tables",
]
