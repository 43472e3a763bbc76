"""Numbers as people read them: separators, units, short durations. Shared by the
panel, the report and the summary so they never disagree on a figure's look; the cells
and rows built of them are ``views``."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime

from . import times

# What a terminal or a table must never get raw from a log: C0 and C1 control characters
# (ESC starts colour and cursor sequences, CR and LF break a row), DEL, Unicode's line
# and paragraph separators, and the bidirectional controls that reorder what is shown.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """``text`` with each control character shown as its escape ('evil\\x1b[31m'), so a
    name read from a log cannot colour a terminal, move its cursor or break a table."""
    if text.isprintable():  # the common case, in C
        return text
    return _UNPRINTABLE.sub(_escape, text)


def printable_all(value: object) -> object:
    """``value`` with every string in it (keys too) ``printable``: for text composed from
    many names at once, where a line break inside a name would forge a line."""
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {printable_all(k): printable_all(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(printable_all(v) for v in value)
    return value


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def tokens(n: float | None) -> str:
    if n is None:
        return "—"
    return f"{round(n):,}"


def tokens_short(n: float | None) -> str:
    """1,234 -> '1.2K', 3,400,000 -> '3.4M' (plot axes and cards)."""
    if n is None:
        return "—"
    n = float(n)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(n) >= limit:
            return f"{n / limit:,.1f}".removesuffix(".0") + suffix
    return f"{n:,.0f}"


def usd(x: float | None, unknown: str = "unknown") -> str:
    if x is None:
        return unknown
    if x != 0 and abs(x) < 0.01:
        return f"${x:,.4f}" if x > 0 else f"-${-x:,.4f}"
    return f"${x:,.2f}" if x >= 0 else f"-${-x:,.2f}"


def percent(x: float | None, digits: int = 1) -> str:
    return "—" if x is None else f"{x:,.{digits}f}%"


def rate(x: float | None, unit: str) -> str:
    return "—" if x is None else f"{x:,.0f} {unit}"


def duration(seconds: float | None) -> str:
    """'45s', '12m 30s', '3h 05m', '2d 4h'."""
    if seconds is None:
        return "—"
    s = max(0, round(seconds))
    if s < 60:
        return f"{s}s"
    m, s = divmod(s, 60)
    if m < 60:
        return f"{m}m {s:02d}s"
    h, m = divmod(m, 60)
    if h < 48:
        return f"{h}h {m:02d}m"
    d, h = divmod(h, 24)
    return f"{d}d {h}h"


def milliseconds(ms: float | None) -> str:
    """Tool times: '1,234 ms' under a minute, then '2m 05s'."""
    if ms is None:
        return "—"
    return f"{ms:,.0f} ms" if ms < 60_000 else duration(ms / 1000)


def runs_out(seconds_left: float | None) -> str:
    """When a budget runs out at the current burn rate (None: nothing is being spent)."""
    if seconds_left is None:
        return "not being spent right now"
    return "exhausted" if seconds_left == 0 else f"runs out in {duration(seconds_left)}"


def clock(ts: float | None) -> str:
    """Date and time of an epoch timestamp, by the one rule of ``times``."""
    return times.moment(ts)


def clock_utc(ts: float | None) -> str:
    """UTC date and time of an epoch timestamp, to the minute: '2025-09-03 13:50'."""
    if ts is None:
        return "—"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M")


def iso_utc(ts: float | None) -> str | None:
    """An epoch timestamp as ISO 8601 in UTC, 'Z'-suffixed (json and csv); None stays None."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def satisfaction(score: float | None) -> str:
    """A mean satisfaction score (0 to 10) to one decimal, out of 10: '7.7/10'."""
    return "—" if score is None else f"{score:.1f}/10"


def window_name(minutes: int | None) -> str:
    """'5-hour', '7-day', '45-min' for a rate-limit window."""
    if not minutes:
        return "usage"
    if minutes % 1440 == 0:
        return f"{minutes // 1440}-day"
    return f"{minutes // 60}-hour" if minutes % 60 == 0 else f"{minutes}-min"


def rate_limit_lines(by_source: dict[str, dict]) -> list[str]:
    """One line per source that reports rate limits (a snapshot's ``rate_limits``); one
    with only a model's own windows (Codex's ``models``) has none here."""
    return [
        rate_limits(source, limits)
        for source, limits in by_source.items()
        if limits.get("primary") or limits.get("secondary")
    ]


def rate_limits(source: str, limits: dict) -> str:
    """'Rate limits (codex): 5-hour 7.0% used, resets 2025-11-18 14:05; 7-day 77.0% used, …'."""
    parts = []
    for name in ("primary", "secondary"):
        window = limits.get(name)
        if window:
            part = f"{window_name(window['window_minutes'])} {percent(window['used_pct'])} used"
            if window["resets_at"] is not None:
                part += f", resets {clock(window['resets_at'])}"
            parts.append(part)
    return f"Rate limits ({source.partition(':')[0]}): " + "; ".join(parts)


def axis_ticks(top: float, count: int = 5) -> tuple[tuple[str, float], ...]:
    """Round tick values from 0 to about ``top`` labelled '20K', '1.5M' (plot axes)."""
    if top <= 0:
        return (("0", 0.0),)
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    ticks = []
    value = 0.0
    while value <= top * 1.0001 + step:
        ticks.append((tokens_short(value) if value >= 1000 or value == 0 else f"{value:,.0f}", value))
        if value >= top:
            break
        value += step
    return tuple(ticks)


def __getattr__(name: str) -> object:
    """``skipped_lines`` moved to ``views``; ``ui/panel.py`` still reads it from here."""
    if name == "skipped_lines":
        from .views import skipped_lines

        return skipped_lines
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
