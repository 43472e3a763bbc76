"""What a cell says, the same in report's text and md and in the panel's tables: a
partly priced model, tier, tool and session, read through every place that shows it."""

from __future__ import annotations

import re
from pathlib import Path

from session_insights import TokenHistory, across, report, views
from session_insights.events import SessionMark, ToolCall, usage_event

START_TS = 1_763_251_200.0 + 10 * 3600  # 2025-11-16 10:00 UTC
LOCAL = "acme-local-coder-7b"  # no price list knows it
PRICED = "claude-sonnet-4-5"
A_PRICE = {LOCAL: {"input_mtok": 1.0, "output_mtok": 2.0}}


def _request(model: str, ts: float):
    return usage_event(
        model=model,
        input_tokens=10_000,
        output_tokens=2_000,
        ts=ts,
        session="s-1",
        tier="Tier 3",
        source="claude",
        tools=["Read"],
    )


def partly_priced(tmp_path: Path) -> TokenHistory:
    """One session: a request to the local model before a price for it was set, then
    (restarted with the price in state.toml) another to it and one to a priced model. The
    local model, Tier 3, the session and the Read tool each leave one request out."""
    state = tmp_path / "state.toml"
    before = TokenHistory(state)
    before.add(SessionMark(START_TS, "s-1", "start", "web", "claude"))
    before.add(_request(LOCAL, START_TS + 10))
    before.add(ToolCall(START_TS + 11, "Read", 40.0, True, "s-1"))
    before.drain()
    before.save()
    history = TokenHistory(state, price_overrides=A_PRICE)
    history.add(_request(LOCAL, START_TS + 60))
    history.add(_request(PRICED, START_TS + 70))
    history.add(ToolCall(START_TS + 71, "Read", 40.0, True, "s-1"))
    history.drain()
    return history


def text_row(text: str, name: str) -> list[str]:
    """The cells of report text's one line that starts with ``name`` (columns are two or
    more spaces apart; a cell holds single spaces at most)."""
    (row,) = [cells for line in text.splitlines() if (cells := re.split(r" {2,}", line.strip()))[0] == name]
    return row


def md_row(md: str, name: str) -> list[str]:
    """The cells of report md's one table row that starts with ``name``."""
    rows = [[cell.strip() for cell in line.strip("|").split(" | ")] for line in md.splitlines() if line.startswith("|")]
    (row,) = [cells for cells in rows if cells[0] == name]
    return row


def cost_of(header: tuple | list, row: list[str]) -> str:
    return row[list(header).index("Cost")]


def test_a_partly_priced_model_and_tier_read_alike_in_report_and_panel(tmp_path):
    snap = partly_priced(tmp_path).snapshot()
    text, md = report.render_text(snap), report.render_md(snap)
    shown = (
        (LOCAL, views.REPORT_MODEL_COLUMNS, views.MODEL_COLUMNS, snap["by_model"][LOCAL], "$0.01 (+1 unpriced)"),
        ("Tier 3", views.REPORT_TIER_COLUMNS, views.TIER_COLUMNS, snap["by_tier"]["Tier 3"], "$0.07 (+1 unpriced)"),
    )
    for name, report_columns, panel_columns, fig, expected in shown:
        assert cost_of(report_columns, text_row(text, name)) == expected
        assert cost_of(report_columns, md_row(md, name)) == expected
        # The panel's Cost by Model and Token Usage by Tier.
        assert cost_of(panel_columns, views.usage_cells(name, fig, panel_columns)) == expected


def test_a_partly_priced_session_reads_alike_in_every_sessions_table(tmp_path):
    history = partly_priced(tmp_path)
    snap = history.snapshot()
    expected = "$0.07 (+1 unpriced)"
    assert cost_of(views.SNAPSHOT_SESSION_COLUMNS, text_row(report.render_text(snap), "s-1")) == expected
    assert cost_of(views.SNAPSHOT_SESSION_COLUMNS, md_row(report.render_md(snap), "s-1")) == expected
    # The panel's Sessions, and report --by session (text and md), from the session rows.
    (row,) = history.session_rows()
    panel = [label for label, _ in views.SESSION_COLUMNS]
    assert cost_of(panel, views.session_cells(across.session_figures(row))) == expected
    view = report.across_view([row], "session")
    by_session = [label for label, _ in views.REPORT_SESSION_COLUMNS]
    assert cost_of(by_session, text_row(report.render_across_text(view), "s-1")) == expected
    assert cost_of(by_session, md_row(report.render_across_md(view), "s-1")) == expected


def test_a_session_without_a_request_has_no_cost_in_any_sessions_table():
    history = TokenHistory()
    history.add(ToolCall(START_TS, "Bash", 1_200.0, False, "tools-only"))
    history.add(usage_event(model=PRICED, input_tokens=10, output_tokens=1, ts=START_TS + 5, session="other"))
    history.drain()
    snap = history.snapshot()
    assert cost_of(views.SNAPSHOT_SESSION_COLUMNS, text_row(report.render_text(snap), "tools-only")) == "—"
    assert cost_of(views.SNAPSHOT_SESSION_COLUMNS, md_row(report.render_md(snap), "tools-only")) == "—"
    row = next(r for r in history.session_rows() if r["session"] == "tools-only")
    panel = [label for label, _ in views.SESSION_COLUMNS]
    assert cost_of(panel, views.session_cells(across.session_figures(row))) == "—"


def test_cost_by_tool_names_the_turns_its_cost_leaves_out():
    tools = {
        "Read": {"calls": 3, "turns": 3, "turn_tokens": 36_000, "turn_cost_usd": 0.074, "unpriced_turns": 1},
        "Bash": {"calls": 1, "turns": 1, "turn_tokens": 12_000, "turn_cost_usd": None, "unpriced_turns": 1},
        "Grep": {"calls": 2, "turns": 2, "turn_tokens": 1_000, "turn_cost_usd": 0.01, "unpriced_turns": 0},
    }
    rows = {row[0]: row for row in views.tool_cost_rows(tools)}
    assert cost_of(views.TOOL_COST_COLUMNS, rows["Read"]) == "$0.07 (+1 unpriced)"
    assert cost_of(views.TOOL_COST_COLUMNS, rows["Bash"]) == "unpriced"
    assert cost_of(views.TOOL_COST_COLUMNS, rows["Grep"]) == "$0.01"


def test_a_snapshot_tools_cost_names_the_turn_it_leaves_out(tmp_path):
    snap = partly_priced(tmp_path).snapshot()
    (row,) = views.tool_cost_rows(snap["tools"])
    assert cost_of(views.TOOL_COST_COLUMNS, row) == "$0.07 (+1 unpriced)"


def test_every_row_has_a_cell_per_column(tmp_path):
    history = partly_priced(tmp_path)
    snap = history.snapshot()
    tables = [
        (
            views.REPORT_MODEL_COLUMNS,
            [views.usage_cells(m, f, views.REPORT_MODEL_COLUMNS) for m, f in snap["by_model"].items()],
        ),
        (
            views.REPORT_TIER_COLUMNS,
            [views.usage_cells(t, f, views.REPORT_TIER_COLUMNS) for t, f in snap["by_tier"].items()],
        ),
        (views.MODEL_COLUMNS, [views.usage_cells(m, f, views.MODEL_COLUMNS) for m, f in snap["by_model"].items()]),
        (views.TIER_COLUMNS, [views.usage_cells(t, f, views.TIER_COLUMNS) for t, f in snap["by_tier"].items()]),
        (views.TOOL_COLUMNS, [views.tool_cells(n, t) for n, t in snap["tools"].items()]),
        (views.TOOL_COST_COLUMNS, views.tool_cost_rows(snap["tools"])),
        (views.SNAPSHOT_SESSION_COLUMNS, [views.snapshot_session_cells(n, s) for n, s in snap["sessions"].items()]),
    ]
    figures = [across.session_figures(row) for row in history.session_rows()]
    tables.append((views.SESSION_COLUMNS, [views.session_cells(f) for f in figures]))
    tables.append((views.REPORT_SESSION_COLUMNS, [views.report_session_cells(f) for f in figures]))
    for columns, rows in tables:
        assert rows and all(len(row) == len(columns) for row in rows), columns


def test_the_last_minutes_burn_reads_idle_when_nothing_was_spent_in_them():
    assert views.window_burn({"tokens_per_min": None, "usd_per_hour": None}) == "idle"
    assert views.window_burn({"tokens_per_min": 12_345.6, "usd_per_hour": 1.5}) == "12,346 tokens/min, $1.50/hour"


def test_the_summary_of_an_idle_session_says_idle_as_the_burn_card_does():
    # The summary the panel copies is as at now: 20 minutes after the last request
    # nothing was spent in the last 5 minutes.
    from session_insights import metrics
    from session_insights.history import TokenHistory

    h = TokenHistory()
    h.record_usage(model="claude-sonnet-4-5", ts=1_763_900_000.0, session="s", input_tokens=1_000, output_tokens=100)
    h.drain()
    text = metrics.summary_text(h.snapshot(now_ts=1_763_900_000.0 + 20 * 60))
    line = next(line for line in text.splitlines() if line.startswith("Burn rate:"))
    assert line.startswith("Burn rate: idle (last 5 min); 1,100 tokens/min"), line
    assert "Tokens: 1,100 in 1 request (" in text
