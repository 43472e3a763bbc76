"""Quota windows as figures: used %, reset, elapsed share, pace, time to 100 %, stale.

A window is one usage limit as its provider reports it: Claude's 5-hour, 7-day and
per-model weekly ones (from Claude Code's statusline, kept by ``quota_log``) and Codex's
primary and secondary, and those of each model with a limit of its own (from its
rollouts, ``TokenHistory.rate_limits``). Everything here is a pure function of those
reports and ``now_ts``; the statusline, ``report``, the panel and the guard call the same.

- Pace is the used share projected to the reset at the window's average burn so far
  (used % / elapsed share at the observation): no guessed limit, only the server's own.
- Within the first minute of a window the burn is not yet a rate: pace is None.
- A window whose reset has passed, or whose last observation is older than ``STALE_S``,
  is stale: the figure is kept and named so, never shown as current.
"""

from __future__ import annotations

import math

CLAUDE_WINDOW_S = {
    "five_hour": 5 * 3600.0,
    "seven_day": 7 * 86400.0,
    "seven_day_opus": 7 * 86400.0,
    "seven_day_sonnet": 7 * 86400.0,
}
CLAUDE_MODELS = {"seven_day_opus": "Opus", "seven_day_sonnet": "Sonnet"}  # the weekly windows of one model
CODEX_LIMIT = "codex"  # the limit id of Codex's windows for every model; others are one model's
# What report's json ``rate_limits.<source>.<window>`` holds of each window.
JSON_FIELDS = ("used_percent", "resets_at_ts", "observed_ts", "window_s", "pace_percent_at_reset")
# What an estimate from the logs (``limits_estimate``) adds to them: what it was estimated
# from, and the limit the user set, if any.
ESTIMATE_FIELDS = (
    "estimate",
    "limit_source",
    "start_ts",
    "tokens",
    "cost_usd",
    "requests",
    "unpriced_requests",
    "limit_tokens",
    "limit_cost_usd",
)
STALE_S = 15 * 60.0
MIN_ELAPSED_S = 60.0
# Epoch seconds a reset can fall in (2001..2100): outside, a figure is a unit mix-up.
MIN_TS, MAX_TS = 1e9, 4.1e9


def finite(value: object, low: float = -math.inf, high: float = math.inf) -> float | None:
    """``value`` as a float if it is a real number (not a bool) within [low, high]."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    value = float(value)
    return value if math.isfinite(value) and low <= value <= high else None


def window_label(name: str, window_s: float | None, model: str | None = None) -> str:
    """'5h', '7d', '90m', '7d Opus': how long the window is (and whose), as the status bar
    and report name it."""
    if window_s is None:
        label = name
    else:
        minutes = round(window_s / 60)
        if minutes % 1440 == 0:
            label = f"{minutes // 1440}d"
        else:
            label = f"{minutes // 60}h" if minutes % 60 == 0 else f"{minutes}m"
    return f"{label} {model}" if model else label


def duration_short(seconds: float) -> str:
    """'2h 13m', '3d 4h', '45m', '<1m': a span to the minute, at most two units."""
    if seconds < 60:
        return "<1m"
    minutes = int(seconds // 60)
    days, hours, mins = minutes // 1440, minutes % 1440 // 60, minutes % 60
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {mins}m" if mins else f"{hours}h"
    return f"{mins}m"


def figures(
    source: str,
    name: str,
    used_percent: float | None,
    resets_at_ts: float | None,
    window_s: float | None,
    observed_ts: float,
    now_ts: float,
    model: str | None = None,
) -> dict:
    """Every figure of one window, as of ``now_ts``, from its last observation (a used
    share of None, an estimate's without a limit, has no pace nor time to 100 %)."""
    start_ts = None if resets_at_ts is None or window_s is None else resets_at_ts - window_s
    reset_passed = resets_at_ts is not None and now_ts >= resets_at_ts
    elapsed_share = pace = full_in_s = None
    if start_ts is not None and window_s:
        elapsed_share = min(1.0, max(0.0, (now_ts - start_ts) / window_s))
        burned_s = observed_ts - start_ts
        if used_percent is not None and burned_s >= MIN_ELAPSED_S and not reset_passed:
            rate_pct_per_s = used_percent / burned_s
            pace = used_percent + rate_pct_per_s * (resets_at_ts - observed_ts)
            if used_percent >= 100:
                full_in_s = 0.0
            elif rate_pct_per_s > 0:
                full_in_s = max(0.0, (100 - used_percent) / rate_pct_per_s - (now_ts - observed_ts))
    resets_in_s = None if resets_at_ts is None else max(0.0, resets_at_ts - now_ts)
    return {
        "source": source,
        "name": name,
        "model": model,
        "label": window_label(name, window_s, model),
        "used_percent": used_percent,
        "resets_at_ts": resets_at_ts,
        "resets_in_s": resets_in_s,
        "window_s": window_s,
        "elapsed_share": elapsed_share,
        "pace_percent_at_reset": pace,
        "full_in_s": full_in_s,
        "full_before_reset": full_in_s is not None and resets_in_s is not None and full_in_s < resets_in_s,
        "observed_ts": observed_ts,
        "age_s": max(0.0, now_ts - observed_ts),
        "stale": reset_passed or now_ts - observed_ts > STALE_S,
        "reset_passed": reset_passed,
    }


def claude_windows(observations: list[dict], now_ts: float) -> list[dict]:
    """Claude's windows from the statusline's observations: per window the latest
    observation of any session (the quota is the account's, not a session's)."""
    latest: dict[str, tuple[float, dict]] = {}
    for obs in observations:
        for name, window in (obs.get("windows") or {}).items():
            if name in CLAUDE_WINDOW_S and (name not in latest or obs["ts"] >= latest[name][0]):
                latest[name] = (obs["ts"], window)
    order = list(CLAUDE_WINDOW_S)
    return [
        figures(
            "claude",
            name,
            w["used_percent"],
            w.get("resets_at_ts"),
            CLAUDE_WINDOW_S[name],
            ts,
            now_ts,
            CLAUDE_MODELS.get(name),
        )
        for name, (ts, w) in sorted(latest.items(), key=lambda item: order.index(item[0]))
    ]


def _reading_windows(kind: str, reading: dict, ts: float, now_ts: float, model_id: str | None = None) -> list[dict]:
    """The primary and secondary windows of one reading (``{used_pct, window_minutes,
    resets_at}`` each); a model's are named ``<limit id>_primary`` and carry its name."""
    out = []
    for part in ("primary", "secondary"):
        window = reading.get(part)
        used = finite(window.get("used_pct"), 0.0) if isinstance(window, dict) else None
        if used is None:
            continue
        minutes = finite(window.get("window_minutes"), 1.0)
        resets = finite(window.get("resets_at"), MIN_TS, MAX_TS)
        name, model = part, None
        if model_id is not None:
            name = f"{model_id}_{part}"
            model = reading.get("name") if isinstance(reading.get("name"), str) else model_id
        window_s = None if minutes is None else minutes * 60
        out.append(figures(kind, name, used, resets, window_s, ts, now_ts, model))
    return out


def source_windows(rate_limits: dict[str, dict], now_ts: float) -> list[dict]:
    """The windows a log source reported (``TokenHistory.rate_limits``, by source label:
    ``{"ts", "primary": {used_pct, window_minutes, resets_at}, "secondary": ..., "models":
    {limit id: {"ts", "name", "primary", ...}}}``), the latest report per kind of source
    (the label before its ':') and per model."""
    latest: dict[str, dict] = {}
    models: dict[str, dict[str, dict]] = {}
    for label, limits in rate_limits.items():
        kind = label.partition(":")[0]
        ts = finite(limits.get("ts"))
        if ts is not None and (kind not in latest or ts >= latest[kind]["ts"]):
            latest[kind] = {**limits, "ts": ts}
        by_model = limits.get("models")
        for model_id, reading in by_model.items() if isinstance(by_model, dict) else ():
            seen = models.setdefault(kind, {})
            model_ts = finite(reading.get("ts")) if isinstance(reading, dict) else None
            if model_ts is not None and (model_id not in seen or model_ts >= seen[model_id]["ts"]):
                seen[model_id] = {**reading, "ts": model_ts}
    out = []
    for kind in sorted({*latest, *models}):
        if kind in latest:
            out += _reading_windows(kind, latest[kind], latest[kind]["ts"], now_ts)
        for model_id, reading in sorted(models.get(kind, {}).items()):
            out += _reading_windows(kind, reading, reading["ts"], now_ts, model_id)
    return out


def all_windows(observations: list[dict], rate_limits: dict[str, dict], now_ts: float) -> list[dict]:
    """Every window known: Claude's from the statusline, then the log sources'."""
    return [*claude_windows(observations, now_ts), *source_windows(rate_limits, now_ts)]


def as_json(windows: list[dict]) -> dict[str, dict[str, dict]]:
    """``{source: {window name: {JSON_FIELDS}}}``, as report's json ``rate_limits``: what
    was observed and the pace it gives (one model's window also names the ``model``; an
    estimate adds ``ESTIMATE_FIELDS``). Every other figure follows from these and the
    clock (``from_json``)."""
    out: dict[str, dict[str, dict]] = {}
    for w in windows:
        kept = {k: w[k] for k in JSON_FIELDS}
        if w.get("model"):
            kept["model"] = w["model"]
        kept.update((k, w[k]) for k in ESTIMATE_FIELDS if k in w)
        out.setdefault(w["source"], {})[w["name"]] = kept
    return out


def from_json(by_source: dict[str, dict[str, dict]], now_ts: float) -> list[dict]:
    """The windows of report's json ``rate_limits`` with every figure as of ``now_ts``
    (``figures``), each with the fields json gave beside them."""
    out = []
    for source, windows in by_source.items():
        for name, w in windows.items():
            figs = figures(source, name, w["used_percent"], w["resets_at_ts"], w["window_s"], w["observed_ts"],
                           now_ts, w.get("model"))  # fmt: skip
            out.append({**figs, **{k: w[k] for k in ESTIMATE_FIELDS if k in w}})
    return out


def window_phrase(w: dict) -> str:
    """'5h 42% used, resets in 2h 13m, 58% elapsed, pace 72% at reset': one window in words."""
    parts = [f"{w['label']} {w['used_percent']:.0f}% used"]
    if w["reset_passed"]:
        parts.append("reset since (stale)")
        return ", ".join(parts)
    if w["resets_in_s"] is not None:
        parts.append(f"resets in {duration_short(w['resets_in_s'])}")
    if w["elapsed_share"] is not None:
        parts.append(f"{w['elapsed_share'] * 100:.0f}% elapsed")
    if w["pace_percent_at_reset"] is not None:
        parts.append(f"pace {w['pace_percent_at_reset']:.0f}% at reset")
    if w["full_before_reset"]:
        parts.append(f"100% in {duration_short(w['full_in_s'])}")
    if w["stale"]:
        parts.append(f"stale: seen {duration_short(w['age_s'])} ago")
    return ", ".join(parts)
