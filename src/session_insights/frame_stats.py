"""What ``--frame-stats`` writes: the frames' times and what the cards showed.

A headless run (``--frames N --frame-stats OUT``) is checked against its budgets (DESIGN
§6) and against ``report --scope``: whole-frame and Python ms per frame (median, p95,
p99), the headline the cards show, and how long the backlog took to apply.
"""

from __future__ import annotations

import statistics
from pathlib import Path

import orjson


def headline(snap: dict | None) -> dict | None:
    """What the summary cards show (DESIGN §5), for checking a headless run against
    ``report --scope``."""
    if snap is None:
        return None
    scope = snap.get("scope") or {}
    return {
        "scope": scope.get("kind"),
        "session": scope.get("session"),
        "project": scope.get("project"),
        "total_tokens": snap["totals"]["total_tokens"],
        "cost_usd": snap["totals"]["cost_usd"],
        "tokens_per_min": snap["burn_rate"]["window"]["tokens_per_min"],
    }


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def frame_stats(frame_ms: list[float], python_ms: list[float]) -> dict:
    return {
        "frames": len(frame_ms),
        "frame_ms": {
            "median": statistics.median(frame_ms) if frame_ms else 0.0,
            "p95": quantile(frame_ms, 0.95),
            "p99": quantile(frame_ms, 0.99),
        },
        "python_ms": {
            "median": statistics.median(python_ms) if python_ms else 0.0,
            "p95": quantile(python_ms, 0.95),
            "p99": quantile(python_ms, 0.99),
        },
    }


def write_frame_stats(
    path: Path, frame_ms: list[float], python_ms: list[float], snap: dict | None, backlog_s: float | None
) -> None:
    """``--frame-stats``' JSON: the frames' figures (the first 5 left out: they build
    fonts and atlases), what the cards showed (``headline``) and when the backlog was in."""
    stats = {
        **frame_stats(frame_ms[5:] or frame_ms, python_ms[5:] or python_ms),
        "headline": headline(snap),
        "backlog_s": backlog_s,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps(stats, option=orjson.OPT_INDENT_2))
