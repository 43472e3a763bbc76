"""``report`` of one scope's snapshot (``TokenHistory.snapshot``): the summary, then the
By model, By tier, Tools and Sessions tables, then the Problems; as text, md or csv."""

from __future__ import annotations

import io

from .. import formatting as fmt
from .. import provenance_views, views
from ..metrics import summary_text
from .draw import CsvWriter, md_problems, md_table, plain, problems, render_json, text_table
from .limits import sections as limits_sections

FORMATS = ("text", "json", "md", "csv")
CSV_COLUMNS = (
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
)


# Tables whose first columns are names (read left to right), not only the first.
NAME_COLUMNS = {"Sessions": 3}


def tables(snap: dict) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, header, rows) for every table of the report, shared by text and md."""
    out = [
        (
            "By model",
            list(views.REPORT_MODEL_COLUMNS),
            [views.usage_cells(m, f, views.REPORT_MODEL_COLUMNS) for m, f in snap["by_model"].items()],
        ),
        (
            "By tier",
            list(views.REPORT_TIER_COLUMNS),
            [views.usage_cells(t, f, views.REPORT_TIER_COLUMNS) for t, f in snap["by_tier"].items()],
        ),
    ]
    if snap["tools"]:
        out.append(
            ("Tools", list(views.TOOL_COLUMNS), [views.tool_cells(name, t) for name, t in snap["tools"].items()])
        )
    if len(snap["sessions"]) > 1 or (snap["sessions"] and "(no session)" not in snap["sessions"]):
        out.append(
            (
                "Sessions",
                list(views.SNAPSHOT_SESSION_COLUMNS),
                [views.snapshot_session_cells(name, s) for name, s in views.in_start_order(snap["sessions"])],
            )
        )
    return out


def _summary_lines(snap: dict) -> list[str]:
    """The summary lines, names in them printable (before the lines are composed, so a
    line break in a name cannot start a line of its own). The quota windows are the
    Limits tables'."""
    return summary_text(fmt.printable_all(snap)).splitlines()


def render_text(snap: dict, explain: bool = False) -> str:
    parts = ["Summary", "-------", *_summary_lines(snap)]
    if snap["totals"]["requests"] or snap["tools"]:
        for title, header, rows in tables(snap):
            parts += ["", title, text_table(header, rows, NAME_COLUMNS.get(title, 1))]
    for title, header, rows in limits_sections(snap):
        parts += ["", title, text_table(header, rows)]
    if explain:
        prov = fmt.printable_all(provenance_views.explained(snap))
        for title, header, rows in provenance_views.provenance_tables(prov):
            parts += ["", title, text_table(header, rows)]
        searches = provenance_views.web_searches_line(fmt.printable_all(snap["by_model"]))
        parts += ["", *([searches] if searches else []), provenance_views.price_data_line(prov.get("prices"))]
    errors = problems(snap["errors"], snap["notices"])
    if errors:
        parts += ["", *errors]
    return "\n".join(parts) + "\n"


def render_md(snap: dict, explain: bool = False) -> str:
    parts = ["# Session report", "", *(f"- {line}" for line in _summary_lines(snap))]
    prov = fmt.printable_all(provenance_views.explained(snap)) if explain else {}
    extra = provenance_views.provenance_tables(prov) if explain else []
    for title, header, rows in [*tables(snap), *limits_sections(snap), *extra]:
        parts += ["", f"## {title}", "", md_table(header, rows, NAME_COLUMNS.get(title, 1))]
    if explain:
        searches = provenance_views.web_searches_line(fmt.printable_all(snap["by_model"]))
        parts += ["", *([searches, ""] if searches else []), provenance_views.price_data_line(prov.get("prices"))]
    parts += md_problems(problems(snap["errors"], snap["notices"]))
    return "\n".join(parts) + "\n"


def render_csv(snap: dict) -> str:
    buf = io.StringIO()
    w = CsvWriter(buf)
    w.writerow(CSV_COLUMNS)

    def row(section: str, name: str, f: dict) -> None:
        w.writerow(
            [
                section,
                name,
                *(f[key] for key in CSV_COLUMNS[2:8]),
                plain(f["cost_usd"]),
                f["unpriced_requests"],
            ]
        )

    row("total", "all", snap["totals"])
    for section, key in (("model", "by_model"), ("tier", "by_tier"), ("session", "sessions")):
        for name, f in snap[key].items():
            row(section, name, f)
    return buf.getvalue()


def render(snap: dict, fmt_name: str, explain: bool = False) -> str:
    """One scope's report (``TokenHistory.snapshot``) in one of ``FORMATS``; with
    ``explain``, text and md add how it was counted (json always holds ``provenance``)."""
    if fmt_name in ("text", "md"):
        return (render_text if fmt_name == "text" else render_md)(snap, explain)
    return {"json": render_json, "csv": render_csv}[fmt_name](snap)
