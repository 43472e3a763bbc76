"""``report --by``: the sessions of the durable history, one row per session, usage per
local day / week / month or 5-hour block (``periods``), or efficiency per interval
(``across_view``, its json form, which the text, md and csv forms render). The keys are
documented in the README ("Across sessions") and stay as they are."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from datetime import datetime

from .. import across, efficiency_words, times, views
from .. import formatting as fmt
from . import periods
from .draw import CsvWriter, md_problems, md_table, plain, problems, render_json, text_table
from .periods import BLOCK_CSV_COLUMNS as BLOCK_CSV_COLUMNS
from .periods import PERIOD_CSV_COLUMNS as PERIOD_CSV_COLUMNS

BY = ("session", *across.PERIODS, "block", "interval")
_NO_ERRORS = {"bad_lines": 0, "files": {}}
# The figures of an efficiency interval, in json and csv; json also gives its span in ts.
_BUCKET_FIGURES = ("sessions", "tokens", "ratings", "completed", "avg_tokens", "avg_satisfaction", "score")
_BUCKET_KEYS = ("start", "end", "start_ts", "end_ts", *_BUCKET_FIGURES)
Table = tuple[str, list[str], list[list[str]], int]  # title, header, rows, name columns


def across_view(
    rows: Sequence[dict],
    by: str,
    since_ts: float | None = None,
    until_ts: float | None = None,
    project: str | None = None,
    errors: dict | None = None,
) -> dict:
    """What ``report --by`` shows of these session rows (already selected): its json
    form, which the text, md and csv forms render."""
    view: dict = {"by": by, "since": fmt.iso_utc(since_ts), "until": fmt.iso_utc(until_ts), "project": project}
    if by == "session":
        view["rows"] = [session_json(row) for row in rows]
    elif by in across.PERIODS:
        view.update(periods.period_view(rows, by, since_ts, until_ts))
    elif by == "block":
        view.update(periods.block_view(rows, since_ts, until_ts))
    elif by == "interval":
        view["efficiency_over_time"] = efficiency_json(across.efficiency_over_time(rows))
    else:
        raise ValueError(f"by must be one of {', '.join(BY)}, got {by!r}")
    view["errors"] = errors if errors is not None else _NO_ERRORS
    return view


def session_json(row: dict) -> dict:
    """One session of ``--by session``: ``across.session_figures`` and its start in UTC."""
    figures = across.session_figures(row)
    return {**figures, "start": fmt.iso_utc(figures["start_ts"])}


def efficiency_json(over: dict) -> dict:
    """``across.efficiency_over_time`` with every bucket holding every key (the figures
    a measure does not use are null: no averages where no session is rated)."""
    return {**over, "buckets": [{key: bucket.get(key) for key in _BUCKET_KEYS} for bucket in over["buckets"]]}


def _scope(view: dict) -> str:
    """'from 2025-09-01 00:00 CEST to 2025-10-01 00:00 CEST, project shop': what the
    filters keep, by the time rule (the range is half-open: its end is the first moment
    left out)."""
    since, until = (
        None if iso is None else datetime.fromisoformat(iso).timestamp() for iso in (view["since"], view["until"])
    )
    parts = []
    if since is not None and until is not None:
        parts.append(f"from {times.moment(since)} to {times.moment(until)}")
    elif since is not None:
        parts.append(f"from {times.moment(since)}")
    elif until is not None:
        parts.append(f"before {times.moment(until)}")
    if view["project"] is not None:
        parts.append(f"project {view['project']}")
    return ", ".join(parts)


# --- text and md --------------------------------------------------------------------------


def across_tables(view: dict) -> Table:
    """(title, header, rows, name columns) of a ``--by`` report, shared by text and md."""
    if view["by"] == "session":
        return _session_table(view)
    if view["by"] in across.PERIODS:
        return periods.period_table(view)
    if view["by"] == "block":
        return periods.block_table(view)
    return _interval_table(view)


def _session_table(view: dict) -> Table:
    header = [label for label, _ in views.REPORT_SESSION_COLUMNS]
    return ("Sessions", header, [views.report_session_cells(s) for s in view["rows"]], 5)


def _interval_table(view: dict) -> Table:
    over = view["efficiency_over_time"]
    measure = (
        "score = average tokens / average satisfaction"
        if over["measure"] == "tokens_per_satisfaction_point"
        else "score = tokens per completed ticket"
    )
    title = f"Efficiency over time ({over['interval']} intervals, UTC; {measure}; lower is better)"
    rows = [
        [
            b["start"] if b["start"] == b["end"] else f"{b['start']} to {b['end']}",
            f"{b['sessions']:,}",
            efficiency_words.bucket_label(b, over["measure"]),
        ]
        for b in over["buckets"]
    ]
    return (title, ["Interval", "Sessions", "Score"], rows, 1)


def _empty_text(view: dict) -> str:
    where = " in this range" if view["since"] or view["until"] or view["project"] is not None else " recorded"
    if view["by"] == "session":
        return f"No sessions{where}."
    if view["by"] in (*across.PERIODS, "block"):
        return f"No usage{where}."
    return f"No ended sessions{where}."


def _is_empty(view: dict) -> bool:
    if view["by"] == "block":
        return not view["blocks"] and view["not_in_blocks"] is None
    return not (view.get("rows") or view.get("periods") or view.get("efficiency_over_time", {}).get("buckets"))


def _body(view: dict, table: Table, draw: Callable[[list[str], list[list[str]], int], str]) -> list[str]:
    """What follows the heading: the table drawn by ``draw`` (or why there is none), and
    the verdict of ``--by interval``."""
    if _is_empty(view):
        return [_empty_text(view)]
    _, header, rows, names = table
    if view["by"] == "interval":
        return [draw(header, rows, names), "", efficiency_words.verdict_text(view["efficiency_over_time"])]
    if view["by"] in (*across.PERIODS, "block"):
        notes = periods.notes(view)
        return [draw(header, rows, names), *(["", *notes] if notes else [])]
    return [draw(header, rows, names)]


def render_across_text(view: dict) -> str:
    table = across_tables(view)
    scope = fmt.printable(_scope(view))
    heading = table[0] + (f", {scope}" if scope else "")
    parts = [heading, "-" * len(heading), *_body(view, table, text_table)]
    errors = problems(view["errors"])
    if errors:
        parts += ["", *errors]
    return "\n".join(parts) + "\n"


def render_across_md(view: dict) -> str:
    table = across_tables(view)
    scope = fmt.printable(_scope(view))
    parts = [f"# {table[0]}"]
    if scope:
        parts += ["", scope[0].upper() + scope[1:] + "."]
    parts += ["", *_body(view, table, md_table)]
    parts += md_problems(problems(view["errors"]))
    return "\n".join(parts) + "\n"


# --- csv ------------------------------------------------------------------------------------

SESSION_CSV_COLUMNS = (
    "session",
    "project",
    "source",
    "state",
    "start_utc",
    "duration_s",
    "requests",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "tool_prompt_tokens",
    "total_tokens",
    "cost_usd",
    "unpriced_requests",
    "tool_calls",
    "tool_failures",
    "tickets_completed",
    "cost_per_completed_ticket_usd",
    "ratings",
    "mean_satisfaction",
    "models",
)
INTERVAL_CSV_COLUMNS = ("line", "interval", "start", "end", *_BUCKET_FIGURES, "verdict", "change_pct", "label")


def _session_csv(w: CsvWriter, view: dict) -> None:
    w.writerow(SESSION_CSV_COLUMNS)
    for s in view["rows"]:
        start = s["start"] or ""  # ISO 8601, UTC
        w.writerow(
            [
                s["session"],
                s["project"] or "",
                s["source"] or "",
                s["state"] or "",
                start,
                plain(s["duration_s"], 3),
                *(s[k] for k in SESSION_CSV_COLUMNS[6:14]),
                plain(s["cost_usd"]),
                *(s[k] for k in SESSION_CSV_COLUMNS[15:19]),
                plain(s["cost_per_completed_ticket_usd"]),
                s["ratings"],
                plain(s["mean_satisfaction"]),
                ";".join(s["models"]),
            ]
        )


def _interval_csv(w: CsvWriter, view: dict) -> None:
    """One line per interval, then one verdict line holding the overall score."""
    over = view["efficiency_over_time"]
    w.writerow(INTERVAL_CSV_COLUMNS)
    for b in over["buckets"]:
        w.writerow(
            [
                "interval",
                over["interval"],
                *(b[k] for k in INTERVAL_CSV_COLUMNS[2:8]),
                *(plain(b[k]) for k in INTERVAL_CSV_COLUMNS[8:11]),
                "",
                "",
                efficiency_words.bucket_label(b, over["measure"]),
            ]
        )
    if over["buckets"]:
        first, last = over["buckets"][0], over["buckets"][-1]
        overall = [plain(over["overall_score"]), over["verdict"] or "", plain(over["change_pct"])]
        w.writerow(
            [
                "verdict",
                over["interval"],
                first["start"],
                last["end"],
                *[""] * 6,
                *overall,
                efficiency_words.verdict_text(over),
            ]
        )


def render_across_csv(view: dict) -> str:
    buf = io.StringIO()
    w = CsvWriter(buf)
    if view["by"] == "session":
        _session_csv(w, view)
    elif view["by"] in across.PERIODS:
        periods.period_csv(w, view)
    elif view["by"] == "block":
        periods.block_csv(w, view)
    else:
        _interval_csv(w, view)
    return buf.getvalue()


def render_across(view: dict, fmt_name: str) -> str:
    """A ``--by`` report (``across_view``) in one of ``report.FORMATS``."""
    return {"text": render_across_text, "json": render_json, "md": render_across_md, "csv": render_across_csv}[
        fmt_name
    ](view)
