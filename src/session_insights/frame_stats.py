"""What ``--frame-stats`` writes: the frames' times and what the cards showed.

A headless run (``--frames N --frame-stats OUT``) is checked against its budgets (DESIGN
§6) and against ``report --scope``: whole-frame and Python ms per frame (median, p95,
p99), the headline the cards show, and how long the backlog took to apply.
"""

from __future__ import annotations

import statistics


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
