"""When something happened, as the window and ``report`` write it: one rule everywhere.

Local time with its zone named, ISO dates, 24-hour clock: ``2026-12-01 16:15 CET``.
``--utc`` (``use_utc(True)``, set once at start) writes every time in UTC instead, in the
window's charts too (``plot_options``). Machine-read times (json, csv) are ISO 8601 in
UTC whatever the choice (``formatting.iso_utc``).
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

_in_utc = False


def use_utc(on: bool) -> None:
    """Write every time from now on in UTC (True) or in local time (False)."""
    global _in_utc
    _in_utc = bool(on)


def in_utc() -> bool:
    return _in_utc


def _struct(ts: float) -> time.struct_time:
    return time.gmtime(ts) if _in_utc else time.localtime(ts)


def zone(ts: float | None = None) -> str:
    """The zone times are written in, as at ``ts`` (summer time has its own name)."""
    if _in_utc:
        return "UTC"
    return time.strftime("%Z", time.localtime(time.time() if ts is None else ts)) or _offset(ts)


def _offset(ts: float | None) -> str:
    moment = datetime.fromtimestamp(time.time() if ts is None else ts).astimezone()
    return moment.strftime("UTC%z")


def moment(ts: float | None, missing: str = "—") -> str:
    """Date and time to the minute, zone named: '2026-12-01 16:15 CET'."""
    if ts is None:
        return missing
    return f"{time.strftime('%Y-%m-%d %H:%M', _struct(ts))} {zone(ts)}"


def time_of_day(ts: float | None, missing: str = "—") -> str:
    """Hours, minutes and seconds, zone named: '16:15:07 CET' (a chart's pointer)."""
    return missing if ts is None else f"{time.strftime('%H:%M:%S', _struct(ts))} {zone(ts)}"


def day(ts: float | None, missing: str = "—") -> str:
    """The ISO date: '2026-12-01'."""
    return missing if ts is None else time.strftime("%Y-%m-%d", _struct(ts))


def plot_options() -> dict:
    """Dear PyGui's plot options that draw a time axis by the same rule."""
    return {"use_local_time": not _in_utc, "use_ISO8601": True, "use_24hour_clock": True}


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class When(NamedTuple):
    """A moment as a user wrote it (``--since`` / ``--until``): a date is a whole day and a
    datetime without an offset a wall-clock time, both local unless ``--utc``. Kept as
    written until ``ts`` so the rule is the one in force once every flag is read."""

    text: str
    end_of_day: bool = False

    def ts(self) -> float:
        """Epoch seconds: a date's start (or, with ``end_of_day``, the next day's start,
        so an end date takes in that whole day)."""
        if _DATE.fullmatch(self.text):
            day = datetime.strptime(self.text, "%Y-%m-%d")
            moment = day + timedelta(days=1) if self.end_of_day else day
        else:
            moment = datetime.fromisoformat(self.text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC) if _in_utc else moment.astimezone()
        return moment.timestamp()


def when(text: str, end_of_day: bool = False) -> When:
    """``text`` as a When; ValueError in one line if it is neither a date nor a datetime."""
    try:
        if _DATE.fullmatch(text):
            datetime.strptime(text, "%Y-%m-%d")
        else:
            datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{text!r} is neither a date (YYYY-MM-DD) nor an ISO 8601 datetime (2025-09-03T14:00, +02:00 or Z)"
        ) from None
    return When(text, end_of_day)
