"""``session-insights statusline``: Claude Code's status bar, and the quota's recorder.

Claude Code runs the command on every update of its bar with a JSON object on stdin
(``session_id``, ``model`` {id, display_name}, ``cost.total_cost_usd``, and for
subscribers after the first response ``rate_limits.five_hour`` / ``.seven_day`` with
``used_percentage`` and ``resets_at`` epoch seconds; the per-model weekly windows
``seven_day_opus`` / ``.seven_day_sonnet`` are read too, should it pass them). It prints
one line and records the windows in ``quota_log``, where ``report`` and the panel read them.

- It must never break the bar: any input (not JSON, partial, odd values) prints a short
  line and exits 0; a log that cannot be written costs the record, not the line.
- It runs every few hundred ms: only the standard library, ``limits`` and ``quota_log``
  load on this path (no dearpygui, no price tables, no history).
"""

from __future__ import annotations

import json
import sys
import time

from . import quota_log
from .limits import CLAUDE_MODELS, CLAUDE_WINDOW_S, MAX_TS, MIN_TS, duration_short, figures, finite

MAX_INPUT_BYTES = 1024 * 1024
MAX_NAME_CHARS = 40
NO_INPUT = "session-insights: no status input"


def _name(value: object) -> str | None:
    """A name to show: printable, short."""
    if not isinstance(value, str) or not value.strip():
        return None
    shown = "".join(c if c.isprintable() else "?" for c in value.strip())
    return shown if len(shown) <= MAX_NAME_CHARS else shown[: MAX_NAME_CHARS - 1] + "…"


def _get(data: object, *keys: str) -> object:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def observation(data: object, now_ts: float) -> dict:
    """What the input says, checked: {ts, session, model, display, cost_usd, windows}."""
    windows = {}
    for name in CLAUDE_WINDOW_S:
        used = finite(_get(data, "rate_limits", name, "used_percentage"), 0.0, 1e4)
        if used is not None:
            resets = finite(_get(data, "rate_limits", name, "resets_at"), MIN_TS, MAX_TS)
            windows[name] = {"used_percent": used, "resets_at_ts": resets}
    return {
        "ts": now_ts,
        "session": quota_log.clean_id(_get(data, "session_id")),
        "model": quota_log.clean_id(_get(data, "model", "id")),
        "display": _name(_get(data, "model", "display_name")) or _name(_get(data, "model", "id")),
        "cost_usd": finite(_get(data, "cost", "total_cost_usd"), 0.0, 1e9),
        "windows": windows,
    }


def _cost(cost_usd: float) -> str:
    return f"${cost_usd:,.2f}" if cost_usd >= 0.01 or cost_usd == 0 else f"${cost_usd:.4f}"


def line(obs: dict, now_ts: float) -> str:
    """'Opus 4.8 · $0.42 · 5h 42% (resets in 2h 13m) · 7d 17% · pace 5h 72%'."""
    parts = [obs["display"] or "Claude"]
    if obs["cost_usd"] is not None:
        parts.append(_cost(obs["cost_usd"]))
    paces = []
    for name, window in obs["windows"].items():
        w = figures(
            "claude",
            name,
            window["used_percent"],
            window["resets_at_ts"],
            CLAUDE_WINDOW_S[name],
            now_ts,
            now_ts,
            CLAUDE_MODELS.get(name),
        )
        text = f"{w['label']} {w['used_percent']:.0f}%"
        if w["reset_passed"]:  # a figure from before the reset: the window has begun anew
            text = f"{w['label']} reset"
        elif name == "five_hour" and w["resets_in_s"] is not None:
            text += f" (resets in {duration_short(w['resets_in_s'])})"
        parts.append(text)
        if w["pace_percent_at_reset"] is not None:
            mark = " !" if w["full_before_reset"] else ""
            paces.append(f"{w['label']} {w['pace_percent_at_reset']:.0f}%{mark}")
    if paces:
        parts.append("pace " + ", ".join(paces))
    return " · ".join(parts)


def _write(stdout: object, text: str) -> None:
    try:
        stdout.write(text.encode("utf-8", "replace") + b"\n")
        stdout.flush()
    except (OSError, ValueError):
        pass  # the bar went away


def run(stdin: object = None, stdout: object = None, now_ts: float | None = None) -> int:
    """Read the status JSON (binary ``stdin``), print the line (binary ``stdout``), record
    the observation; always 0."""
    stdin = sys.stdin.buffer if stdin is None else stdin
    stdout = sys.stdout.buffer if stdout is None else stdout  # UTF-8 whatever the locale
    now_ts = time.time() if now_ts is None else now_ts
    try:
        data = json.loads(stdin.read(MAX_INPUT_BYTES))
    except (OSError, ValueError, RecursionError):
        data = None
    if not isinstance(data, dict):
        _write(stdout, NO_INPUT)
        return 0
    obs = observation(data, now_ts)
    _write(stdout, line(obs, now_ts))
    if obs["windows"] or obs["cost_usd"] is not None:
        try:
            quota_log.append({k: v for k, v in obs.items() if k != "display"})
        except OSError:
            pass  # the bar matters more than the record
    return 0
