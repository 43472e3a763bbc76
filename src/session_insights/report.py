"""``report``'s formats (text, md, csv, json), all rendered from one snapshot.

The text form is for a terminal: aligned columns, thousands separators, units on every
figure. md is the same tables for pasting into an issue or a PR; csv is the usage
breakdown (one row per total / model / tier / session) for a spreadsheet.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

import orjson

from . import formatting as fmt
from .metrics import summary_text

FORMATS = ("text", "json", "md", "csv")
_USAGE_COLUMNS = ("Requests", "Input", "Output", "Cache read", "Cache write", "Total tokens", "Cost", "Share")


def _usage_row(name: str, fig: dict) -> list[str]:
    cost = fmt.usd(fig["cost_usd"], "unpriced")
    if fig["cost_usd"] is not None and fig["unpriced_requests"]:
        cost += f" (+{fig['unpriced_requests']:,} unpriced)"
    return [name, f"{fig['requests']:,}", fmt.tokens(fig["input_tokens"]), fmt.tokens(fig["output_tokens"]),
            fmt.tokens(fig["cache_read_tokens"]), fmt.tokens(fig["cache_write_tokens"]),
            fmt.tokens(fig["total_tokens"]), cost, fmt.percent(fig["share_pct"])]


def tables(snap: dict) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, header, rows) for every table of the report, shared by text and md."""
    out = [
        ("By model", ["Model", *_USAGE_COLUMNS], [_usage_row(m, f) for m, f in snap["by_model"].items()]),
        ("By tier", ["Tier", *_USAGE_COLUMNS], [_usage_row(t, f) for t, f in snap["by_tier"].items()]),
    ]
    if snap["tools"]:
        out.append(("Tools", ["Tool", "Calls", "Mean", "Total", "Failures", "Failure rate"], [
            [name, f"{t['calls']:,}", fmt.milliseconds(t["mean_ms"]), fmt.milliseconds(t["total_ms"]),
             f"{t['failures']:,}", fmt.percent(t["failure_rate_pct"])]
            for name, t in snap["tools"].items()
        ]))
    if len(snap["sessions"]) > 1 or (snap["sessions"] and "(no session)" not in snap["sessions"]):
        out.append(("Sessions", ["Session", "Start", "Duration", "Requests", "Total tokens", "Cost"], [
            [name, fmt.clock(s["first_ts"]),
             fmt.duration(s["last_ts"] - s["first_ts"]) if s["first_ts"] is not None else "—",
             f"{s['requests']:,}", fmt.tokens(s["total_tokens"]), fmt.usd(s["cost_usd"], "unpriced")]
            for name, s in snap["sessions"].items()
        ]))
    return out


def _text_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    def line(cells: Sequence[str]) -> str:
        # First column reads left to right; figures line up on the right.
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))
    return "\n".join([line(header), "  ".join("-" * w for w in widths), *(line(r) for r in rows)])


def _md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    def esc(c: str) -> str:
        return c.replace("|", "\\|")
    lines = ["| " + " | ".join(esc(h) for h in header) + " |",
             "|" + "|".join(":---" if i == 0 else "---:" for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(esc(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def _errors(snap: dict) -> list[str]:
    lines = []
    errors = snap["errors"]
    if errors["bad_lines"]:
        lines.append(f"Skipped {errors['bad_lines']:,} unreadable line(s):")
        lines += [f"  {path}: {n:,}" for path, n in errors["files"].items()]
    lines += [f"Notice: {n}" for n in snap["notices"]]
    return lines


def render_text(snap: dict) -> str:
    parts = ["Summary", "-------", summary_text(snap), *fmt.rate_limit_lines(snap["rate_limits"])]
    if snap["totals"]["requests"] or snap["tools"]:
        for title, header, rows in tables(snap):
            parts += ["", title, _text_table(header, rows)]
    errors = _errors(snap)
    if errors:
        parts += ["", *errors]
    return "\n".join(parts) + "\n"


def render_md(snap: dict) -> str:
    parts = ["# Session report", "", *(f"- {line}" for line in [*summary_text(snap).splitlines(), *fmt.rate_limit_lines(snap["rate_limits"])])]
    for title, header, rows in tables(snap):
        parts += ["", f"## {title}", "", _md_table(header, rows)]
    errors = _errors(snap)
    if errors:
        parts += ["", "## Problems", "", *(f"- {e.strip()}" for e in errors)]
    return "\n".join(parts) + "\n"


def render_csv(snap: dict) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["section", "name", "requests", "input_tokens", "output_tokens", "cache_read_tokens",
                "cache_write_tokens", "total_tokens", "cost_usd", "unpriced_requests"])
    def row(section: str, name: str, f: dict) -> None:
        w.writerow([section, name, f["requests"], f["input_tokens"], f["output_tokens"], f["cache_read_tokens"],
                    f["cache_write_tokens"], f["total_tokens"],
                    "" if f["cost_usd"] is None else f"{f['cost_usd']:.6f}", f["unpriced_requests"]])
    row("total", "all", snap["totals"])
    for section, key in (("model", "by_model"), ("tier", "by_tier"), ("session", "sessions")):
        for name, f in snap[key].items():
            row(section, name, f)
    return buf.getvalue()


def render_json(snap: dict) -> str:
    return orjson.dumps(snap, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode() + "\n"


def render(snap: dict, fmt_name: str) -> str:
    return {"text": render_text, "json": render_json, "md": render_md, "csv": render_csv}[fmt_name](snap)
