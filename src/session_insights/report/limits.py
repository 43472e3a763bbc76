"""``report``'s Limits sections, for text and md: every quota window the servers gave, one
row each, then the windows estimated from the logs (``limits_estimate``) with the limit
the user set. Both read the snapshot's ``rate_limits`` in report's json shape
(``limits.as_json``), every other figure taken from those at the clock; a history's own
snapshot (the sources' readings, by label) is read as its windows."""

from __future__ import annotations

import time

from .. import formatting as fmt
from .. import limits, limits_estimate
from ..limits import duration_short

COLUMNS = ("window", "used", "resets", "elapsed", "pace at reset", "100% in", "seen")
ESTIMATE_COLUMNS = ("window", "tokens", "cost", "requests", "your limit", "used", "ends", "elapsed", "pace at end")


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}%"


def _resets(w: dict) -> str:
    if w["reset_passed"]:
        return "passed"
    if w["resets_at_ts"] is None:
        return "-"
    return f"{fmt.clock(w['resets_at_ts'])} (in {duration_short(w['resets_in_s'])})"


def _elapsed(w: dict) -> str:
    return _pct(None if w["elapsed_share"] is None else w["elapsed_share"] * 100)


def rows(windows: list[dict]) -> list[list[str]]:
    """One row per server window: 'claude 5h', '42%', '14:05 (in 2h)', '60%', '70%', '-', '1m ago'."""
    out = []
    for w in windows:
        full = duration_short(w["full_in_s"]) if w["full_before_reset"] else "-"
        seen = f"{duration_short(w['age_s'])} ago" + (" (stale)" if w["stale"] else "")
        label = f"{w['source']} {w['label']}"
        out.append(
            [label, _pct(w["used_percent"]), _resets(w), _elapsed(w), _pct(w["pace_percent_at_reset"]), full, seen]
        )
    return out


def estimate_rows(windows: list[dict]) -> list[list[str]]:
    """One row per estimated window: '5h block', '1,234', '$0.42', '3', '5,000,000 tokens', '1%', ..."""
    out = []
    for w in windows:
        name = "5h block" if w["name"] == "five_hour" else "last 7d"
        cost = limits_estimate.cost_text(w)
        if w["name"] == "five_hour" and w["start_ts"] is None:
            ends = "none running"
        else:
            ends = "rolling" if w["name"] != "five_hour" else _resets(w)
        used, pace = _pct(w["used_percent"]), _pct(w["pace_percent_at_reset"])
        limit = limits_estimate.limit_text(w)
        out.append([name, f"{w['tokens']:,}", cost, f"{w['requests']:,}", limit, used, ends, _elapsed(w), pace])
    return out


def _is_report_shape(by_source: dict) -> bool:
    return all(
        isinstance(w, dict) and "observed_ts" in w
        for windows in by_source.values()
        for w in (windows.values() if isinstance(windows, dict) else [None])
    )


def windows_of(snap: dict, now_ts: float | None = None) -> list[dict]:
    """Every window of the snapshot's ``rate_limits`` with its figures at ``now_ts``."""
    now_ts = time.time() if now_ts is None else now_ts
    by_source = snap.get("rate_limits") or {}
    if _is_report_shape(by_source):
        return limits.from_json(by_source, now_ts)
    return limits.source_windows(by_source, now_ts)


def sections(snap: dict) -> list[tuple[str, list[str], list[list[str]]]]:
    """("Limits", header, rows) when the snapshot holds a server's window, then ("Limits
    estimated from the logs", ...) when it holds an estimate; none without."""
    windows = fmt.printable_all(windows_of(snap))
    server = [w for w in windows if not w.get("estimate")]
    estimated = [w for w in windows if w.get("estimate")]
    out = []
    if server:
        out.append(("Limits", list(COLUMNS), rows(server)))
    if estimated:
        out.append(("Limits estimated from the logs", list(ESTIMATE_COLUMNS), estimate_rows(estimated)))
    return out
