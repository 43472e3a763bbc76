"""``report``'s formats (text, md, csv, json): one session's snapshot, or, with ``--by``,
the sessions of the durable history (``across_view``).

The text form is for a terminal: aligned columns, thousands separators, units on every
figure. md is the same tables for pasting into an issue or a PR; csv is for a
spreadsheet: a header line, then plain numbers (no separators, costs as decimals, an
empty cell for what is unknown). Every figure comes from ``metrics`` / ``across`` and is
shaped by ``formatting``, as the panel's are, so the two never disagree. Names come from
logs, so text, md and csv show their control characters as escapes
(``formatting.printable``); json escapes them itself.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

import orjson

from . import across
from . import formatting as fmt
from .metrics import summary_text

FORMATS = ("text", "json", "md", "csv")
BY = ("session", *across.PERIODS, "interval")
_USAGE_COLUMNS = ("Requests", "Input", "Output", "Cache read", "Cache write", "Total tokens", "Cost", "Share")


def _usage_row(name: str, fig: dict) -> list[str]:
    cost = fmt.cost_cell(fig["cost_usd"], fig["unpriced_requests"])
    return [
        name,
        f"{fig['requests']:,}",
        fmt.tokens(fig["input_tokens"]),
        fmt.tokens(fig["output_tokens"]),
        fmt.tokens(fig["cache_read_tokens"]),
        fmt.tokens(fig["cache_write_tokens"]),
        fmt.tokens(fig["total_tokens"]),
        cost,
        fmt.percent(fig["share_pct"]),
    ]


def tables(snap: dict) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, header, rows) for every table of the report, shared by text and md."""
    out = [
        ("By model", ["Model", *_USAGE_COLUMNS], [_usage_row(m, f) for m, f in snap["by_model"].items()]),
        ("By tier", ["Tier", *_USAGE_COLUMNS], [_usage_row(t, f) for t, f in snap["by_tier"].items()]),
    ]
    if snap["tools"]:
        out.append(
            (
                "Tools",
                list(fmt.TOOL_COLUMNS),
                [fmt.tool_cells(name, t) for name, t in snap["tools"].items()],
            )
        )
    if len(snap["sessions"]) > 1 or (snap["sessions"] and "(no session)" not in snap["sessions"]):
        out.append(
            (
                "Sessions",
                ["Session", "Start", "Duration", "Requests", "Total tokens", "Cost"],
                [
                    [
                        name,
                        fmt.clock(s["first_ts"]),
                        fmt.duration(s["last_ts"] - s["first_ts"]) if s["first_ts"] is not None else "—",
                        f"{s['requests']:,}",
                        fmt.tokens(s["total_tokens"]),
                        fmt.usd(s["cost_usd"], "unpriced"),
                    ]
                    for name, s in snap["sessions"].items()
                ],
            )
        )
    return out


def _text_table(header: Sequence[str], rows: Sequence[Sequence[str]], names: int = 1) -> str:
    rows = [[fmt.printable(c) for c in r] for r in rows]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        # The first ``names`` columns read left to right; figures line up on the right.
        return "  ".join(
            c.ljust(w) if i < names else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))
        ).rstrip()

    return "\n".join([line(header), "  ".join("-" * w for w in widths), *(line(r) for r in rows)])


def _md_table(header: Sequence[str], rows: Sequence[Sequence[str]], names: int = 1) -> str:
    def esc(c: str) -> str:
        return c.replace("|", "\\|")

    lines = [
        "| " + " | ".join(esc(h) for h in header) + " |",
        "|" + "|".join(":---" if i < names else "---:" for i in range(len(header))) + "|",
    ]
    lines += ["| " + " | ".join(esc(fmt.printable(c)) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def _errors(snap: dict) -> list[str]:
    """The Problems lines: lines skipped (why, and in which files), then notices."""
    lines = []
    errors = snap["errors"]
    if errors["bad_lines"]:
        lines.append(f"{fmt.skipped_lines(errors)}; by file:")
        lines += [f"  {path}: {n:,}" for path, n in errors["files"].items()]
    lines += [f"Notice: {n}" for n in snap["notices"]]
    return [fmt.printable(line) for line in lines]


def _summary_lines(snap: dict) -> list[str]:
    """The summary and rate-limit lines, names in them printable (before the lines are
    composed, so a line break in a name cannot start a line of its own)."""
    shown = fmt.printable_all(snap)
    return [*summary_text(shown).splitlines(), *fmt.rate_limit_lines(shown["rate_limits"])]


def render_text(snap: dict) -> str:
    parts = ["Summary", "-------", *_summary_lines(snap)]
    if snap["totals"]["requests"] or snap["tools"]:
        for title, header, rows in tables(snap):
            parts += ["", title, _text_table(header, rows)]
    errors = _errors(snap)
    if errors:
        parts += ["", *errors]
    return "\n".join(parts) + "\n"


def render_md(snap: dict) -> str:
    parts = ["# Session report", "", *(f"- {line}" for line in _summary_lines(snap))]
    for title, header, rows in tables(snap):
        parts += ["", f"## {title}", "", _md_table(header, rows)]
    errors = _errors(snap)
    if errors:
        parts += ["", "## Problems", "", *(f"- {e.strip()}" for e in errors)]
    return "\n".join(parts) + "\n"


class _CsvWriter:
    """csv.writer whose text cells are printable (a name from a log may hold ESC)."""

    def __init__(self, buf: io.StringIO):
        self._writer = csv.writer(buf, lineterminator="\n")

    def writerow(self, row: Sequence[object]) -> None:
        self._writer.writerow([fmt.printable(c) if isinstance(c, str) else c for c in row])


def render_csv(snap: dict) -> str:
    buf = io.StringIO()
    w = _CsvWriter(buf)
    w.writerow(
        [
            "section",
            "name",
            "requests",
            "input_tokens",
            "output_tokens",
            "cache_read_tokens",
            "cache_write_tokens",
            "total_tokens",
            "cost_usd",
            "unpriced_requests",
        ]
    )

    def row(section: str, name: str, f: dict) -> None:
        w.writerow(
            [
                section,
                name,
                f["requests"],
                f["input_tokens"],
                f["output_tokens"],
                f["cache_read_tokens"],
                f["cache_write_tokens"],
                f["total_tokens"],
                _plain(f["cost_usd"]),
                f["unpriced_requests"],
            ]
        )

    row("total", "all", snap["totals"])
    for section, key in (("model", "by_model"), ("tier", "by_tier"), ("session", "sessions")):
        for name, f in snap[key].items():
            row(section, name, f)
    return buf.getvalue()


def render_json(snap: dict) -> str:
    return orjson.dumps(snap, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode() + "\n"


def render(snap: dict, fmt_name: str) -> str:
    return {"text": render_text, "json": render_json, "md": render_md, "csv": render_csv}[fmt_name](snap)


# --- across sessions (``report --by``) ------------------------------------------------

_NO_ERRORS = {"bad_lines": 0, "files": {}}
_BUCKET_KEYS = (
    "start",
    "end",
    "start_ts",
    "end_ts",
    "sessions",
    "tokens",
    "ratings",
    "completed",
    "avg_tokens",
    "avg_satisfaction",
    "score",
)
_PERIOD_NAMES = {"day": "Day", "week": "Week from", "month": "Month"}


def across_view(
    rows: Sequence[dict],
    by: str,
    since_ts: float | None = None,
    until_ts: float | None = None,
    project: str | None = None,
    errors: dict | None = None,
) -> dict:
    """What ``report --by`` shows of these session rows (already selected): its json
    form, which the text, md and csv forms render. The keys are documented in the
    README ("Across sessions") and stay as they are."""
    view: dict = {"by": by, "since": fmt.iso_utc(since_ts), "until": fmt.iso_utc(until_ts), "project": project}
    if by == "session":
        view["rows"] = [session_json(row) for row in rows]
    elif by in across.PERIODS:
        view["periods"] = across.usage_over_time(rows, by, since_ts, until_ts)
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
    """'from 2025-09-01 00:00 to 2025-10-01 00:00 UTC, project shop': what the filters keep
    (the range is half-open: its end is the first moment left out)."""

    def at(iso: str) -> str:
        return iso.replace("T", " ")[:16]

    parts = []
    if view["since"] and view["until"]:
        parts.append(f"from {at(view['since'])} to {at(view['until'])} UTC")
    elif view["since"]:
        parts.append(f"from {at(view['since'])} UTC")
    elif view["until"]:
        parts.append(f"before {at(view['until'])} UTC")
    if view["project"] is not None:
        parts.append(f"project {view['project']}")
    return ", ".join(parts)


def across_tables(view: dict) -> tuple[str, list[str], list[list[str]], int]:
    """(title, header, rows, name columns) of a ``--by`` report, shared by text and md."""
    by = view["by"]
    if by == "session":
        return (
            "Sessions",
            [
                "Session",
                "Project",
                "Source",
                "State",
                "Start (UTC)",
                "Duration",
                "Requests",
                "Tokens",
                "Cost",
                "Cost per completed ticket",
                "Satisfaction",
            ],
            [
                [
                    s["session"],
                    s["project"] or "—",
                    s["source"] or "—",
                    s["state"] or "—",
                    fmt.clock_utc(s["start_ts"]),
                    fmt.duration(s["duration_s"]),
                    f"{s['requests']:,}",
                    fmt.tokens(s["total_tokens"]),
                    fmt.cost_cell(s["cost_usd"], s["unpriced_requests"]) if s["requests"] else "—",
                    fmt.usd(s["cost_per_completed_ticket_usd"], "—"),
                    fmt.satisfaction(s["mean_satisfaction"]),
                ]
                for s in view["rows"]
            ],
            5,
        )
    if by in across.PERIODS:
        rows = []
        for p in view["periods"]:
            start = p["start"][:7] if by == "month" else p["start"]
            rows.append(
                [
                    start,
                    "all models",
                    f"{p['requests']:,}",
                    fmt.tokens(p["tokens"]),
                    fmt.cost_cell(p["cost_usd"], p["unpriced_requests"]),
                ]
            )
            rows += [
                ["", model, f"{m['requests']:,}", fmt.tokens(m["tokens"]), fmt.usd(m["cost_usd"], "unpriced")]
                for model, m in p["models"].items()
            ]
        return (f"Usage by {by} (UTC)", [_PERIOD_NAMES[by], "Model", "Requests", "Tokens", "Cost"], rows, 2)
    over = view["efficiency_over_time"]
    measure = (
        "score = average tokens / average satisfaction"
        if over["measure"] == "tokens_per_satisfaction_point"
        else "score = tokens per completed ticket"
    )
    title = f"Efficiency over time ({over['interval']} intervals, UTC; {measure}; lower is better)"
    return (
        title,
        ["Interval", "Sessions", "Score"],
        [
            [
                b["start"] if b["start"] == b["end"] else f"{b['start']} to {b['end']}",
                f"{b['sessions']:,}",
                across.bucket_label(b, over["measure"]),
            ]
            for b in over["buckets"]
        ],
        1,
    )


def _empty_text(view: dict) -> str:
    where = " in this range" if view["since"] or view["until"] or view["project"] is not None else " recorded"
    if view["by"] == "session":
        return f"No sessions{where}."
    if view["by"] in across.PERIODS:
        return f"No usage{where}."
    return f"No ended sessions{where}."


def _is_empty(view: dict) -> bool:
    return not (view.get("rows") or view.get("periods") or view.get("efficiency_over_time", {}).get("buckets"))


def _across_errors(view: dict) -> list[str]:
    return _errors({"errors": view["errors"], "notices": []})


def render_across_text(view: dict) -> str:
    title, header, rows, names = across_tables(view)
    scope = fmt.printable(_scope(view))
    heading = title + (f", {scope}" if scope else "")
    parts = [heading, "-" * len(heading)]
    if _is_empty(view):
        parts.append(_empty_text(view))
    else:
        parts.append(_text_table(header, rows, names))
        if view["by"] == "interval":
            parts += ["", across.verdict_text(view["efficiency_over_time"])]
    errors = _across_errors(view)
    if errors:
        parts += ["", *errors]
    return "\n".join(parts) + "\n"


def render_across_md(view: dict) -> str:
    title, header, rows, names = across_tables(view)
    scope = fmt.printable(_scope(view))
    parts = [f"# {title}"]
    if scope:
        parts += ["", scope[0].upper() + scope[1:] + "."]
    if _is_empty(view):
        parts += ["", _empty_text(view)]
    else:
        parts += ["", _md_table(header, rows, names)]
        if view["by"] == "interval":
            parts += ["", across.verdict_text(view["efficiency_over_time"])]
    errors = _across_errors(view)
    if errors:
        parts += ["", "## Problems", "", *(f"- {e.strip()}" for e in errors)]
    return "\n".join(parts) + "\n"


def _plain(x: float | None, digits: int = 6) -> str:
    """A number as a spreadsheet reads it: no separators, a plain decimal, '' if unknown."""
    if x is None:
        return ""
    if isinstance(x, int):
        return str(x)
    return f"{x:.{digits}f}".rstrip("0").rstrip(".") or "0"


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
PERIOD_CSV_COLUMNS = ("period_start", "line", "model", "requests", "tokens", "cost_usd", "unpriced_requests")
INTERVAL_CSV_COLUMNS = (
    "line",
    "interval",
    "start",
    "end",
    "sessions",
    "tokens",
    "ratings",
    "completed",
    "avg_tokens",
    "avg_satisfaction",
    "score",
    "verdict",
    "change_pct",
    "label",
)


def render_across_csv(view: dict) -> str:
    buf = io.StringIO()
    w = _CsvWriter(buf)
    by = view["by"]
    if by == "session":
        w.writerow(SESSION_CSV_COLUMNS)
        for s in view["rows"]:
            start = "" if s["start"] is None else s["start"].replace("T", " ").removesuffix("Z")
            w.writerow(
                [
                    s["session"],
                    s["project"] or "",
                    s["source"] or "",
                    s["state"] or "",
                    start,
                    _plain(s["duration_s"], 3),
                    *(s[k] for k in SESSION_CSV_COLUMNS[6:14]),
                    _plain(s["cost_usd"]),
                    s["unpriced_requests"],
                    s["tool_calls"],
                    s["tool_failures"],
                    s["tickets_completed"],
                    _plain(s["cost_per_completed_ticket_usd"]),
                    s["ratings"],
                    _plain(s["mean_satisfaction"]),
                    ";".join(s["models"]),
                ]
            )
    elif by in across.PERIODS:
        # One total line per period, then one line per model: filter on ``line`` to sum.
        w.writerow(PERIOD_CSV_COLUMNS)
        for p in view["periods"]:
            w.writerow(
                [p["start"], "total", "", p["requests"], p["tokens"], _plain(p["cost_usd"]), p["unpriced_requests"]]
            )
            for model, m in p["models"].items():
                w.writerow([p["start"], "model", model, m["requests"], m["tokens"], _plain(m["cost_usd"]), ""])
    else:
        # One line per interval, then one verdict line holding the overall score.
        over = view["efficiency_over_time"]
        w.writerow(INTERVAL_CSV_COLUMNS)
        for b in over["buckets"]:
            w.writerow(
                [
                    "interval",
                    over["interval"],
                    b["start"],
                    b["end"],
                    b["sessions"],
                    b["tokens"],
                    b["ratings"],
                    b["completed"],
                    _plain(b["avg_tokens"]),
                    _plain(b["avg_satisfaction"]),
                    _plain(b["score"]),
                    "",
                    "",
                    across.bucket_label(b, over["measure"]),
                ]
            )
        if over["buckets"]:
            w.writerow(
                [
                    "verdict",
                    over["interval"],
                    over["buckets"][0]["start"],
                    over["buckets"][-1]["end"],
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    _plain(over["overall_score"]),
                    over["verdict"] or "",
                    _plain(over["change_pct"]),
                    across.verdict_text(over),
                ]
            )
    return buf.getvalue()


def render_across(view: dict, fmt_name: str) -> str:
    """A ``--by`` report (``across_view``) in one of ``FORMATS``."""
    return {"text": render_across_text, "json": render_json, "md": render_across_md, "csv": render_across_csv}[
        fmt_name
    ](view)
