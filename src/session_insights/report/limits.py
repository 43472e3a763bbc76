"""``report``'s Limits section: every quota window known (``limits.all_windows``), one
row each, for text and md; json carries the figures themselves (``limits.as_json``)."""

from __future__ import annotations

from .. import formatting as fmt
from ..limits import duration_short

COLUMNS = ("window", "used", "resets", "elapsed", "pace at reset", "100% in", "seen")


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}%"


def rows(by_source: dict[str, dict[str, dict]]) -> list[list[str]]:
    """One row per window: 'claude 5h', '42%', '14:05 (in 2h)', '60%', '70%', '-', '1m ago'."""
    out = []
    for source, windows in by_source.items():
        for w in windows.values():
            if w["reset_passed"]:
                resets = "passed"
            elif w["resets_at_ts"] is None:
                resets = "-"
            else:
                resets = f"{fmt.clock(w['resets_at_ts'])} (in {duration_short(w['resets_in_s'])})"
            elapsed = None if w["elapsed_share"] is None else w["elapsed_share"] * 100
            full = duration_short(w["full_in_s"]) if w["full_before_reset"] else "-"
            seen = f"{duration_short(w['age_s'])} ago" + (" (stale)" if w["stale"] else "")
            out.append(
                [
                    f"{source} {w['label']}",
                    _pct(w["used_percent"]),
                    resets,
                    _pct(elapsed),
                    _pct(w["pace_percent_at_reset"]),
                    full,
                    seen,
                ]
            )
    return out


def section(snap: dict) -> tuple[str, list[str], list[list[str]]] | None:
    """("Limits", header, rows) when the snapshot holds any window, else None."""
    found = rows(fmt.printable_all(snap.get("limits") or {}))
    return ("Limits", list(COLUMNS), found) if found else None
