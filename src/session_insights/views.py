"""Cells and rows as people read them: what a model, a tier, a tool or a session says
in a table, and a cost with the requests it leaves out. ``report``'s text and md and
the panel's tables (``ui/``) all call these, so a figure reads the same wherever it is
shown. No window here: a row is a pure function of a snapshot's (or ``across``'s) dict.

- A cost none of whose requests is priced reads "unpriced", never $0; a partly priced
  one names the requests it leaves out: "$1.23 (+2 unpriced)".
- A session without a request has no cost to show: "—".
- Each table's columns stand here beside the cells that fill them, so a header and its
  cells cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from . import formatting as fmt
from . import times
from .scope import UNNAMED


def cost_cell(cost_usd: float | None, unpriced_requests: int) -> str:
    """A cost as every table shows it: 'unpriced' when nothing of it is known, and the
    requests it leaves out when only some are priced."""
    text = fmt.usd(cost_usd, "unpriced")
    if cost_usd is not None and unpriced_requests:
        text += f" (+{unpriced_requests:,} unpriced)"
    return text


# --- by model, by tier ------------------------------------------------------------------

# A column's title and the cell it shows of a snapshot's ``by_model[m]`` / ``by_tier[t]``.
_USAGE_CELLS: dict[str, Callable[[dict], str]] = {
    "Model(s)": lambda f: ", ".join(f["models"]),
    "Requests": lambda f: f"{f['requests']:,}",
    "Input": lambda f: fmt.tokens(f["input_tokens"]),
    "Output": lambda f: fmt.tokens(f["output_tokens"]),
    "Cache read": lambda f: fmt.tokens(f["cache_read_tokens"]),
    "Cache write": lambda f: fmt.tokens(f["cache_write_tokens"]),
    "Total tokens": lambda f: fmt.tokens(f["total_tokens"]),
    "Cost": lambda f: cost_cell(f["cost_usd"], f["unpriced_requests"]),
    "Share": lambda f: fmt.percent(f["share_pct"]),
}
_REPORT_USAGE = ("Requests", "Input", "Output", "Cache read", "Cache write", "Total tokens", "Cost", "Share")
REPORT_MODEL_COLUMNS = ("Model", *_REPORT_USAGE)  # report's By model
REPORT_TIER_COLUMNS = ("Tier", *_REPORT_USAGE)  # report's By tier
MODEL_COLUMNS = ("Model", "Requests", "Input", "Output", "Cache read", "Cache write", "Cost", "Share")  # Cost by Model
TIER_COLUMNS = ("Tier", "Model(s)", "Requests", "Input", "Output", "Cache read", "Cost")  # Token Usage by Tier


def usage_cells(name: str, fig: dict, columns: Sequence[str]) -> list[str]:
    """A model's or a tier's row: ``name``, then the cell of each of ``columns[1:]``."""
    return [name, *(_USAGE_CELLS[column](fig) for column in columns[1:])]


# --- tools ------------------------------------------------------------------------------

TOOL_COLUMNS = ("Tool", "Calls", "Mean", "Total", "Failures", "Failure rate")
TOOL_COST_COLUMNS = ("Tool", "Calls", "Turns", "Tokens", "Cost")


def count(n: int, noun: str) -> str:
    """'1 ticket', '5 tickets', '1,204 requests'."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def window_burn(window: dict) -> str:
    """The burn of the last minutes (a snapshot's ``burn_rate.window``): 'idle' when
    nothing was spent in them, as the panel's card says, else tokens/min and $/hour."""
    if window["tokens_per_min"] is None:
        return "idle"
    return f"{fmt.rate(window['tokens_per_min'], 'tokens/min')}, {fmt.usd(window['usd_per_hour'], '—')}/hour"


def budget_shortfall(projection: dict) -> str | None:
    """What finishing the tickets left costs beyond the budget left, said plainly; None
    when it fits, or when either figure is unknown."""
    left, finish = projection.get("budget_left_usd"), projection.get("cost_to_finish_usd")
    if left is None or finish is None or finish <= left:
        return None
    return (
        f"Over budget: finishing the {count(projection['tickets_left'], 'ticket')} left costs about "
        f"{fmt.usd(finish)}, {fmt.usd(finish - left)} more than the {fmt.usd(left)} left"
    )


def tool_time(ms: float | None) -> str:
    """A tool's time in the unit that reads best: '840 ms', '37.7 s', '12m 30s'."""
    if ms is None:
        return "—"
    if ms < 1_000:
        return f"{ms:,.0f} ms"
    return f"{ms / 1000:.1f} s" if ms < 60_000 else fmt.duration(ms / 1000)


def tool_cells(name: str, tool: dict) -> list[str]:
    """A tool's row (``TOOL_COLUMNS``) as report's Tools table and the panel's Tool Usage
    show it, from a snapshot's ``tools[name]``."""
    return [
        name,
        f"{tool['calls']:,}",
        tool_time(tool["mean_ms"]),
        tool_time(tool["total_ms"]),
        f"{tool['failures']:,}",
        fmt.percent(tool["failure_rate_pct"]),
    ]


def tool_cost_rows(tools: dict[str, dict]) -> list[list[str]]:
    """Cost by Tool's rows (``TOOL_COST_COLUMNS``), costliest first; '—' where a figure
    is not known for a tool. ``unpriced_turns`` (the turns its cost leaves out) marks a
    partly priced cost as every other table does."""

    def cost_key(item: tuple[str, dict]) -> tuple:
        name, t = item
        cost = t.get("turn_cost_usd")
        return (cost is None, -(cost or 0.0), -(t.get("turn_tokens") or 0), -t["calls"], name)

    rows = []
    for name, t in sorted(tools.items(), key=cost_key):
        turns = t.get("turns")
        if turns:
            tokens = fmt.tokens(t.get("turn_tokens"))
            cost = cost_cell(t.get("turn_cost_usd"), t.get("unpriced_turns") or 0)
        else:  # no request known to have called it (or the figures are not kept): nothing to cost
            tokens = cost = "—"
        rows.append([name, f"{t['calls']:,}", "—" if turns is None else f"{turns:,}", tokens, cost])
    return rows


# --- sessions ---------------------------------------------------------------------------


def session_cost_cell(fig: dict) -> str:
    """A session's cost: '—' without a request, else ``cost_cell``."""
    return cost_cell(fig["cost_usd"], fig["unpriced_requests"]) if fig["requests"] else "—"


# A field of ``across.session_figures`` and the cell it shows.
_SESSION_CELLS: dict[str, Callable[[dict], str]] = {
    "project": lambda f: f["project"] or "—",
    "source": lambda f: f["source"] or "—",
    "state": lambda f: f["state"] or "—",
    "start_ts": lambda f: times.moment(f["start_ts"]),
    "duration_s": lambda f: fmt.duration(f["duration_s"]),
    "requests": lambda f: f"{f['requests']:,}",
    "total_tokens": lambda f: fmt.tokens(f["total_tokens"]),
    "cost_usd": session_cost_cell,
    "cost_per_completed_ticket_usd": lambda f: fmt.usd(f["cost_per_completed_ticket_usd"], "—"),
    "mean_satisfaction": lambda f: fmt.satisfaction(f["mean_satisfaction"]),
}
# (column title, the session_figures field it shows and sorts by): the panel's Sessions.
SESSION_COLUMNS = (
    ("Session", "session"),
    ("Project", "project"),
    ("Start", "start_ts"),
    ("Duration", "duration_s"),
    ("Requests", "requests"),
    ("Tokens", "total_tokens"),
    ("Cost", "cost_usd"),
    ("Cost / ticket", "cost_per_completed_ticket_usd"),
    ("Satisfaction", "mean_satisfaction"),
)
# The same for ``report --by session``: whole ids, and where each session comes from.
REPORT_SESSION_COLUMNS = (
    ("Session", "session"),
    ("Project", "project"),
    ("Source", "source"),
    ("State", "state"),
    ("Start", "start_ts"),
    ("Duration", "duration_s"),
    ("Requests", "requests"),
    ("Tokens", "total_tokens"),
    ("Cost", "cost_usd"),
    ("Cost per completed ticket", "cost_per_completed_ticket_usd"),
    ("Satisfaction", "mean_satisfaction"),
)
# A snapshot's ``sessions[name]`` in report's Sessions table.
SNAPSHOT_SESSION_COLUMNS = ("Session", "Project", "Source", "Start", "Duration", "Requests", "Total tokens", "Cost")


def short_session(name: str, limit: int = 14) -> str:
    """A session id short enough for a column: agents name sessions by UUID."""
    return name if len(name) <= limit else name[: limit - 2] + "…"


def session_cells(fig: dict) -> list[str]:
    """A row of the panel's Sessions (``SESSION_COLUMNS``) from ``across.session_figures``."""
    name = short_session(fig["session"]) + (" (open)" if fig["state"] == "open" else "")
    return [name, *(_SESSION_CELLS[field](fig) for _, field in SESSION_COLUMNS[1:])]


def report_session_cells(fig: dict) -> list[str]:
    """A row of ``report --by session`` (``REPORT_SESSION_COLUMNS``), from the same figures."""
    return [fig["session"], *(_SESSION_CELLS[field](fig) for _, field in REPORT_SESSION_COLUMNS[1:])]


def in_start_order(sessions: dict[str, dict]) -> list[tuple[str, dict]]:
    """A snapshot's sessions by their first request (as ``report --by session``)."""
    return sorted(sessions.items(), key=lambda item: (item[1]["first_ts"] is None, item[1]["first_ts"] or 0.0, item[0]))


def snapshot_session_cells(name: str, session: dict) -> list[str]:
    """A row of report's Sessions (``SNAPSHOT_SESSION_COLUMNS``) from a snapshot's
    ``sessions[name]`` (local time, as the rest of a one-scope report)."""
    first = session["first_ts"]
    return [
        name,
        session.get("project") or "—",
        session.get("source") or "—",
        fmt.clock(first),
        fmt.duration(session["last_ts"] - first) if first is not None else "—",
        f"{session['requests']:,}",
        fmt.tokens(session["total_tokens"]),
        session_cost_cell(session),
    ]


def session_title(fig: dict) -> str:
    """'abc123… (project web, started 2025-11-18 10:05)'."""
    details = [f"project {fig['project']}"] if fig["project"] else []
    details.append(f"started {times.moment(fig['start_ts'])}")
    return f"{short_session(fig['session'], 24)} ({', '.join(details)})"


# --- tracks and problems ----------------------------------------------------------------


def track_label(track: str, sessions: dict) -> str:
    """A track as a person names it. Claude Code keeps a todo list per session, so its
    tracks are session ids: such a track is named by the session's project, start and
    short id ('shop, 2025-11-20 10:00 (5b1c0000)'); any other track as it is."""
    session = sessions.get(track)
    if session is None:
        return track
    where = session.get("project") or session.get("source") or "session"
    return f"{where}, {fmt.clock(session.get('first_ts'))} ({track[:8]})"


def skipped_lines(errors: dict) -> str:
    """'Skipped 3 unreadable line(s): 2 not valid JSON, 1 ts out of range', from a
    snapshot's ``errors``: the panel's notice and report's Problems say it alike."""
    reasons = {r: n for r, n in (errors.get("reasons") or {}).items() if r != "unreadable"}
    why = ", ".join(f"{n:,} {reason}" for reason, n in reasons.items())
    return f"Skipped {errors['bad_lines']:,} unreadable line(s)" + (f": {why}" if why else "")


# --- scope ------------------------------------------------------------------------------

_SCOPE_NAMES = {
    "active": "Active session",
    "session": "Session",
    "block": "5-hour block",
    "today": "Today",
    "week": "Last 7 days",
    "all": "All sessions",
}


def scope_label(scope: dict) -> str:
    """What a snapshot's ``scope`` covers, in one line: a session by its project, source,
    short id, start and active time; a time scope by its span."""
    name = _SCOPE_NAMES.get(scope["kind"], scope["kind"])
    active = scope.get("active_s")
    active_part = f", active {fmt.duration(active)}" if active else ""
    if scope["kind"] in ("active", "session"):
        if scope["session"] is None:
            return f"{name}: none yet"
        labels = [x for x in (scope.get("project"), scope.get("source")) if x]
        # A host's hooks name no session: its requests are one, with no id to show.
        labels.append("requests with no session id" if scope["session"] == UNNAMED else scope["session"][:8])
        return f"{name}: {' · '.join(labels)}, started {fmt.clock(scope['start_ts'])}{active_part}"
    if scope["kind"] == "block" and scope["start_ts"] == scope["end_ts"]:
        return f"{name}: none running"
    start, end = scope.get("start_ts"), scope.get("end_ts")
    if start is None:
        return f"{name}: nothing recorded yet"
    until = f" to {fmt.clock(end)}" if end is not None and scope["kind"] in ("block", "all") else ""
    return f"{name}: from {fmt.clock(start)}{until}{active_part}"
