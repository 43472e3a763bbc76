"""``comms:FILE`` — the JSONL files our session_logger writes (and host comms entries).

Each line is one object with a ``kind``: ``model_call`` (normalised usage), ``tool_call``,
``ticket``, ``rating``, or ``session_start`` (informational). A line in the host's
comms-entry shape (``direction`` + ``payload``) is read through hooks, so a host that
dumps its comms log as JSONL can be reported on directly.
"""

from __future__ import annotations

from collections.abc import Iterable

import orjson

from ..events import (
    Rating,
    SessionMark,
    TicketUpdate,
    ToolCall,
    check_duration_ms,
    check_label,
    check_name,
    check_reason,
    check_score,
    check_status,
    check_ts,
    usage_event,
)
from ..hooks import usage_from_comms_entry
from .base import LineSource, Record

USAGE_FIELDS = (
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cache_write_1h_tokens",
    "reasoning_tokens",
    "tool_prompt_tokens",
)


_USAGE_FIELDS = frozenset(USAGE_FIELDS)


def _model_call(obj: dict, ts: float, session: str | None) -> list[Record]:
    usage = obj.get("usage")
    usage = {} if usage is None else usage
    if not isinstance(usage, dict):
        raise ValueError(f"usage must be an object, got {type(usage).__name__}")
    unknown = set(usage) - _USAGE_FIELDS
    if unknown:
        raise ValueError(f"usage has fields we do not read, got {sorted(unknown)}")
    return [
        usage_event(
            model=obj.get("model"),
            ts=ts,
            tier=obj.get("tier"),
            session=session,
            provider=obj.get("provider"),
            source="comms",
            request_key=obj.get("request_key"),
            reported_cost_usd=obj.get("cost_usd"),
            **usage,
        )
    ]


def _tool_call(obj: dict, ts: float, session: str | None) -> list[Record]:
    ok = obj.get("ok", True)
    if not isinstance(ok, bool):
        raise ValueError("ok must be true or false")
    return [ToolCall(ts, check_name("name", obj.get("name")), check_duration_ms(obj.get("duration_ms")), ok, session)]


def _ticket(obj: dict, ts: float, session: str | None) -> list[Record]:
    ticket_id = obj.get("ticket_id")
    return [
        TicketUpdate(
            ts,
            check_name("ticket_id", str(ticket_id) if isinstance(ticket_id, int) else ticket_id),
            check_status(obj.get("status")),
            check_label("track", obj.get("track")),
            check_reason(obj.get("reason")),
            session,
        )
    ]


def _rating(obj: dict, ts: float, session: str | None) -> list[Record]:
    return [Rating(ts, check_score(obj.get("score")), session)]


def _session_mark(obj: dict, ts: float | None, session: str | None, boundary: str | None) -> list[Record]:
    # A logged session names its project at its start and is ended by close(); it is
    # not marked open at its start, so the live session stays in the efficiency figures.
    if session is None or ts is None:
        return []
    return [SessionMark(ts, session, boundary, check_label("project", obj.get("project")), "comms")]


def _session_start(obj: dict, ts: float | None, session: str | None) -> list[Record]:
    return _session_mark(obj, ts, session, None)


def _session_end(obj: dict, ts: float | None, session: str | None) -> list[Record]:
    return _session_mark(obj, ts, session, "end")


# line kind -> its reader (obj, ts, session) -> records
_READERS = {
    "model_call": _model_call,
    "tool_call": _tool_call,
    "ticket": _ticket,
    "rating": _rating,
    "session_start": _session_start,
    "session_end": _session_end,
}
_TIMED_KINDS = ("model_call", "tool_call", "ticket", "rating")  # a line of these kinds needs its ts


def parse_comms_line(line: bytes) -> list[Record]:
    """The records one comms line holds; ValueError if it is not a line we can read."""
    obj = orjson.loads(line)
    if not isinstance(obj, dict):
        raise ValueError("a comms line must be a JSON object")
    kind = obj.get("kind")
    ts = check_ts(obj.get("ts"), "ts") if obj.get("ts") is not None else None
    if ts is None and kind in _TIMED_KINDS:
        raise ValueError(f"{kind} line without ts")
    session = check_label("session", obj.get("session"))
    read = _READERS.get(kind) if isinstance(kind, str) else None
    if read is not None:
        return read(obj, ts, session)
    if "direction" in obj and "payload" in obj:
        event = usage_from_comms_entry(obj)
        return [event] if event is not None else []
    raise ValueError(f"line kind is not one we read, got {kind!r}")


class CommsSource(LineSource):
    kind = "comms"
    lines_independent = True  # each line names its own session: a big log may be read in ranges

    def parse(self, line: bytes, file: str) -> Iterable[Record]:
        return parse_comms_line(line)


SOURCE = CommsSource
