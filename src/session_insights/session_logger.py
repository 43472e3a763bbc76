"""A JSONL session logger for host apps, which also feeds a TokenHistory live.

One session writes two files under the folder it is given:
``<session>.comms.jsonl`` (model calls, ticket updates, ratings) and
``<session>.tools.jsonl`` (tool calls). Lines hold counts, names and times only — never
prompt or response text. ``comms:FOLDER`` (or ``comms:FILE``) reads them back, so any
logged session can be reported on or replayed. Each line is flushed as it is written,
so a tailing panel sees it at once. Safe to call from any thread.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson

from . import normalize
from .events import (
    Rating,
    SessionMark,
    TicketUpdate,
    ToolCall,
    UsageEvent,
    check_duration_ms,
    check_label,
    check_name,
    check_reason,
    check_score,
    check_status,
    check_ts,
    usage_event,
)
from .history import TokenHistory

FORMAT_VERSION = 1


class SessionLogger:
    """Logs one session to JSONL and, if given a history, records it there too."""

    def __init__(
        self,
        folder: str | os.PathLike,
        session_id: str | None = None,
        *,
        history: TokenHistory | None = None,
        project: str | None = None,
    ):
        self.folder = Path(folder).expanduser()
        self.session_id = (
            check_label("session_id", session_id) or time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:8]
        )
        if any(c in self.session_id for c in "/\\\0"):
            raise ValueError(f"session_id must not contain path separators, got {self.session_id!r}")
        self.project = check_label("project", project)
        self.folder.mkdir(parents=True, exist_ok=True)  # only once every argument passed its check
        self.history = history
        self.comms_path = self.folder / f"{self.session_id}.comms.jsonl"
        self.tools_path = self.folder / f"{self.session_id}.tools.jsonl"
        self._lock = threading.Lock()
        # Open for the session's life, closed by close(): no with-block can span that.
        self._comms = open(self.comms_path, "ab")  # noqa: SIM115
        self._tools = open(self.tools_path, "ab")  # noqa: SIM115
        started = time.time()
        self._write(
            self._comms, {"kind": "session_start", "ts": started, "session": self.session_id, "project": self.project}
        )
        self._start_mark: SessionMark | None = SessionMark(started, self.session_id, None, self.project, "comms")

    def _write(self, f: Any, obj: dict) -> None:
        line = orjson.dumps({"v": FORMAT_VERSION, **{k: v for k, v in obj.items() if v is not None}}) + b"\n"
        with self._lock:
            if f.closed:
                raise ValueError(f"session {self.session_id} is closed")
            f.write(line)
            f.flush()

    def model_call(
        self,
        model: str,
        usage: Mapping[str, Any] | None = None,
        *,
        provider: str | None = None,
        tier: str | None = None,
        ticket: str | None = None,
        started_ts: float | None = None,
        ended_ts: float | None = None,
        request_key: str | None = None,
        **counts: int,
    ) -> UsageEvent:
        """Log one model call: either the provider's raw ``usage`` block with ``provider``,
        or normalised counts (input_tokens=..., output_tokens=..., cache_read_tokens=...,
        cache_write_tokens=..., cache_write_1h_tokens=..., reasoning_tokens=..., tool_prompt_tokens=...)."""
        provider, counts = _usage_counts(usage, provider, counts)
        ended = check_ts(ended_ts, "ended_ts")
        started = check_ts(started_ts, "started_ts") if started_ts is not None else None
        if started is not None and started > ended:
            raise ValueError(f"started_ts ({started}) is after ended_ts ({ended})")
        # Every call gets a key, so a log copied, replaced or read twice counts each call once.
        event = usage_event(
            model=model,
            ts=ended,
            tier=tier,
            session=self.session_id,
            provider=provider,
            source="comms",
            request_key=request_key or uuid.uuid4().hex,
            **counts,
        )
        self._write(
            self._comms,
            {
                "kind": "model_call",
                "ts": event.ts,
                "started_ts": started,
                "session": self.session_id,
                "model": event.model,
                "provider": event.provider,
                "tier": event.tier,
                "ticket": check_label("ticket", ticket),
                "request_key": event.request_key,
                "usage": _logged_usage(event),
            },
        )
        self._feed(event)
        return event

    def tool_call(
        self, name: str, duration_ms: float, ok: bool = True, *, ts: float | None = None, ticket: str | None = None
    ) -> ToolCall:
        if not isinstance(ok, bool):
            raise ValueError(f"ok must be True or False, got {ok!r}")
        call = ToolCall(check_ts(ts), check_name("name", name), check_duration_ms(duration_ms), ok, self.session_id)
        self._write(
            self._tools,
            {
                "kind": "tool_call",
                "ts": call.ts,
                "session": self.session_id,
                "name": call.name,
                "duration_ms": call.duration_ms,
                "ok": ok,
                "ticket": check_label("ticket", ticket),
            },
        )
        self._feed(call)
        return call

    def ticket(
        self,
        ticket_id: str,
        status: str,
        *,
        ts: float | None = None,
        track: str | None = None,
        reason: str | None = None,
    ) -> TicketUpdate:
        update = TicketUpdate(
            check_ts(ts),
            check_name("ticket_id", ticket_id),
            check_status(status),
            check_label("track", track),
            check_reason(reason),
            self.session_id,
        )
        self._write(
            self._comms,
            {
                "kind": "ticket",
                "ts": update.ts,
                "session": self.session_id,
                "ticket_id": update.ticket_id,
                "status": update.status,
                "track": update.track,
                "reason": update.reason,
            },
        )
        self._feed(update)
        return update

    def rate(self, score: float, *, ts: float | None = None) -> Rating:
        rating = Rating(check_ts(ts), check_score(score), self.session_id)
        self._write(self._comms, {"kind": "rating", "ts": rating.ts, "session": self.session_id, "score": rating.score})
        self._feed(rating)
        return rating

    def _feed(self, record: UsageEvent | ToolCall | TicketUpdate | Rating | SessionMark) -> None:
        """Record in the history too, if there is one; its project goes first, once."""
        if self.history is None:
            return
        if self._start_mark is not None:
            self.history.add(self._start_mark)
            self._start_mark = None
        self.history.add(record)

    def close(self) -> None:
        """End the session: it joins the efficiency figures across sessions as ended."""
        if self._comms.closed:
            return
        ended = time.time()
        self._write(self._comms, {"kind": "session_end", "ts": ended, "session": self.session_id})
        self._feed(SessionMark(ended, self.session_id, "end", self.project, "comms"))
        with self._lock:
            self._comms.close()
            self._tools.close()

    def __enter__(self) -> SessionLogger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _usage_counts(
    usage: Mapping[str, Any] | None, provider: str | None, counts: dict[str, int]
) -> tuple[str | None, dict[str, int]]:
    """(provider, normalised counts) of a model call given a raw ``usage`` block (read
    as ``provider`` writes it) or the counts themselves, never both."""
    if usage is None:
        return provider, counts
    if counts:
        raise ValueError("pass either usage=<provider block> or token counts, not both")
    if provider is None:
        raise ValueError("provider is needed to read a raw usage block (anthropic, openai, google, deepseek)")
    return normalize.usage_counts(usage, provider)


def _logged_usage(event: UsageEvent) -> dict[str, int]:
    """A model call's counts as its comms line holds them (``comms:`` reads them back)."""
    return {
        "input_tokens": event.input,
        "cache_read_tokens": event.cache_read,
        "cache_write_tokens": event.cache_write_5m,
        "cache_write_1h_tokens": event.cache_write_1h,
        "output_tokens": event.output,
        "reasoning_tokens": event.reasoning,
        **({"tool_prompt_tokens": event.tool_prompt} if event.tool_prompt else {}),
    }
