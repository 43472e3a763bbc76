"""``report --by day|week|month|block``: the sessions' spend per local day, week or month
(UTC with ``--utc``) or per 5-hour block, tokens by kind, split by model, under a
grand total (``across.usage_by_period`` / ``usage_by_block``, whose json the text, md
and csv forms render)."""

from __future__ import annotations

from collections.abc import Sequence

from .. import across, times, views
from .. import formatting as fmt
from .draw import CsvWriter, plain

_PERIOD_NAMES = {"day": "Day", "week": "Week from", "month": "Month"}
FIGURE_COLUMNS = ("Requests", "Input", "Output", "Cache read", "Cache write", "Total tokens", "Cost")
# The figures of a line in csv, after its labels (``spend.figures_json``'s keys).
_CSV_FIGURES = (
    "requests",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "tokens",
    "cost_usd",
    "unpriced_requests",
    "unsplit_tokens",
)
PERIOD_CSV_COLUMNS = ("period_start", "start_utc", "end_utc", "line", "model", *_CSV_FIGURES)
BLOCK_CSV_COLUMNS = ("start_utc", "end_utc", "line", "model", *_CSV_FIGURES)
Table = tuple[str, list[str], list[list[str]], int]  # title, header, rows, name columns


def period_view(rows: Sequence[dict], by: str, since_ts: float | None, until_ts: float | None) -> dict:
    """The json of ``--by day|week|month``: the periods, their grand total, the zone."""
    usage = across.usage_by_period(rows, by, since_ts, until_ts, times.in_utc())
    return {**usage, "zone": _zones(ts for p in usage["periods"] for ts in (p["start_ts"], p["end_ts"]))}


def block_view(rows: Sequence[dict], since_ts: float | None, until_ts: float | None) -> dict:
    """The json of ``--by block``: each block with its span in ISO 8601 UTC too, the
    grand total, what lies in no block, and the zone the text names."""
    usage = across.usage_by_block(rows, since_ts, until_ts)
    blocks = [{"start": fmt.iso_utc(b["start_ts"]), "end": fmt.iso_utc(b["end_ts"]), **b} for b in usage["blocks"]]
    zone = _zones(ts for b in blocks for ts in (b["start_ts"], b["end_ts"]))
    return {**usage, "blocks": blocks, "zone": zone}


def _zones(moments) -> str:
    """'CET/CEST': the zone names the times are written in, in the order met; 'UTC'."""
    names = list(dict.fromkeys(times.zone(ts) for ts in moments))
    return "/".join(names) if names else times.zone()


# --- text and md --------------------------------------------------------------------------


def _figure_cells(f: dict) -> list[str]:
    """Requests, tokens by kind, the total and the cost of a line. Kinds not known (a
    day kept whole, before quarter hours were kept) show '—'."""
    unknown = f["tokens"] and f["unsplit_tokens"] == f["tokens"]
    kinds = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")
    return [
        f"{f['requests']:,}",
        *("—" if unknown else fmt.tokens(f[k]) for k in kinds),
        fmt.tokens(f["tokens"]),
        views.cost_cell(f["cost_usd"], f["unpriced_requests"]),
    ]


def _lines(labels: list[str], figures: dict) -> list[list[str]]:
    """A line for all models, then one per model under it."""
    blank = [""] * (len(labels) - 1)
    rows = [[*labels, "all models", *_figure_cells(figures)]]
    return rows + [[*blank, "", model, *_figure_cells(m)] for model, m in figures["models"].items()]


def period_table(view: dict) -> Table:
    by = view["by"]
    rows = []
    for p in view["periods"]:
        rows += _lines([p["start"][:7] if by == "month" else p["start"]], p)
    if view["periods"]:
        rows.append(["Total", "", *_figure_cells(view["total"])])
    zone = "UTC" if times.in_utc() else f"local days, {view['zone']}"
    return (f"Usage by {by} ({zone})", [_PERIOD_NAMES[by], "Model", *FIGURE_COLUMNS], rows, 2)


def block_table(view: dict) -> Table:
    rows = []
    for b in view["blocks"]:
        end = times.moment(b["end_ts"])
        if times.day(b["end_ts"]) == times.day(b["start_ts"]):
            end = end[len("2025-09-01 ") :]  # '14:00 CEST': the same day as the start
        rows += _lines([times.moment(b["start_ts"]), end], b)
    if view["not_in_blocks"] is not None:
        rows.append(["Kept by day", "", "all models", *_figure_cells(view["not_in_blocks"])])
    if view["blocks"] or view["not_in_blocks"] is not None:
        rows.append(["Total", "", "", *_figure_cells(view["total"])])
    return (f"Usage by 5-hour block ({view['zone']})", ["Start", "End", "Model", *FIGURE_COLUMNS], rows, 3)


def notes(view: dict) -> list[str]:
    """What the table cannot show by itself: tokens of no known kind, spend in no block."""
    out = []
    unsplit = view["total"]["unsplit_tokens"]
    if unsplit:
        out.append(
            f"{fmt.tokens(unsplit)} tokens are of days kept by UTC day only (recorded before the history "
            "kept quarter hours): in Total tokens and on their UTC date, their kinds unknown ('—')."
        )
    if view.get("not_in_blocks") is not None:
        out.append("Kept by day: their time of day is not known, so they are in no block, only in the Total.")
    return out


# --- csv ------------------------------------------------------------------------------------


def _csv_figures(f: dict) -> list:
    return [plain(f[k]) if k == "cost_usd" else f[k] for k in _CSV_FIGURES]


def period_csv(w: CsvWriter, view: dict) -> None:
    """A ``total`` line per period, then a ``model`` line per model; then ``grand_total``:
    filter on ``line`` to sum."""
    w.writerow(PERIOD_CSV_COLUMNS)
    for p in view["periods"]:
        span = [p["start"], fmt.iso_utc(p["start_ts"]), fmt.iso_utc(p["end_ts"])]
        w.writerow([*span, "total", "", *_csv_figures(p)])
        for model, m in p["models"].items():
            w.writerow([*span, "model", model, *_csv_figures(m)])
    if view["periods"]:
        w.writerow(["", "", "", "grand_total", "", *_csv_figures(view["total"])])


def block_csv(w: CsvWriter, view: dict) -> None:
    """A ``block`` line per block, a ``model`` line per model in it; ``not_in_blocks``
    (days kept whole), then ``grand_total``."""
    w.writerow(BLOCK_CSV_COLUMNS)
    for b in view["blocks"]:
        w.writerow([b["start"], b["end"], "block", "", *_csv_figures(b)])
        for model, m in b["models"].items():
            w.writerow([b["start"], b["end"], "model", model, *_csv_figures(m)])
    if view["not_in_blocks"] is not None:
        w.writerow(["", "", "not_in_blocks", "", *_csv_figures(view["not_in_blocks"])])
    if view["blocks"] or view["not_in_blocks"] is not None:
        w.writerow(["", "", "grand_total", "", *_csv_figures(view["total"])])
