"""Normalised records: what every source and hook turns its input into.

Token fields follow DESIGN §2: ``input`` never includes cache reads or writes, and
``output`` includes reasoning. Records carry counts, names and times only; no
prompt or response text ever gets this far.

The records are NamedTuples: producers build them at every model call, and the
store unpacks them in its hot loop, where a tuple is the cheapest thing Python has.
"""

from __future__ import annotations

import math
import time
from typing import NamedTuple

# A single request above this is a unit mix-up (bytes, characters), not a prompt.
MAX_TOKENS_PER_REQUEST = 1_000_000_000

TICKET_STATUSES = ("todo", "in_progress", "blocked", "completed")
MIN_SCORE, MAX_SCORE = 0.0, 10.0


class UsageEvent(NamedTuple):
    """One model request, with token counts normalised across providers."""

    ts: float
    model: str
    provider: str | None = None
    input: int = 0
    cache_read: int = 0
    cache_write_5m: int = 0
    cache_write_1h: int = 0
    output: int = 0
    reasoning: int = 0
    tier: str | None = None
    session: str | None = None
    source: str | None = None
    request_key: str | None = None
    reported_cost_usd: float | None = None
    # Names of the tools this request called (its turn's tool calls), for cost by tool.
    tools: tuple[str, ...] | None = None
    # Part of ``input``: the tool-use prompt where a source counts it apart (Gemini's
    # toolUsePromptTokenCount, the CLI's ``tool``); informational, like ``reasoning``.
    tool_prompt: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input + self.cache_read + self.cache_write_5m + self.cache_write_1h + self.output


class ToolCall(NamedTuple):
    """One tool invocation and how it ended."""

    ts: float
    name: str
    duration_ms: float
    ok: bool = True
    session: str | None = None


class TicketUpdate(NamedTuple):
    """A ticket entering a status (todo, in_progress, blocked, completed)."""

    ts: float
    ticket_id: str
    status: str
    track: str | None = None
    reason: str | None = None
    session: str | None = None


SESSION_BOUNDARIES = ("start", "end", None)


class SessionMark(NamedTuple):
    """What a log says about a session itself: that it started or ended (``boundary``),
    or, with no boundary, only which project and source it belongs to.

    A session with a start and no end yet is open: its tokens show live, but efficiency
    averages leave it out until it ends. Sessions no log delimits are never open.
    """

    ts: float
    session: str
    boundary: str | None = None
    project: str | None = None
    source: str | None = None


class Rating(NamedTuple):
    """A satisfaction score, 0 to 10, given at ``ts``."""

    ts: float
    score: float
    session: str | None = None


# --- validation -------------------------------------------------------------------
# Each check raises ValueError naming the field and the value, so a host that passes
# a bad count learns where at the call, in its own thread, before anything is queued.


def check_tokens(field: str, value: object) -> int:
    """A token count: a whole number from 0 to MAX_TOKENS_PER_REQUEST."""
    if type(value) is int:
        if 0 <= value <= MAX_TOKENS_PER_REQUEST:
            return value
    elif isinstance(value, bool) or not hasattr(value, "__index__"):
        raise ValueError(f"{field} must be a whole number of tokens, got {value!r}")
    else:
        value = value.__index__()  # numpy and other integer types
        if 0 <= value <= MAX_TOKENS_PER_REQUEST:
            return value
    if value < 0:
        raise ValueError(f"{field} must not be negative, got {value!r}")
    raise ValueError(
        f"{field} = {value:,} is more than {MAX_TOKENS_PER_REQUEST:,} tokens for one request"
    )


def check_ts(value: object, field: str = "ts") -> float:
    """Epoch seconds; None means now."""
    if value is None:
        return time.time()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{field} must be epoch seconds (a number), got {value!r}")
    ts = float(value)
    if not math.isfinite(ts) or ts < 0:
        raise ValueError(f"{field} must be finite epoch seconds >= 0, got {value!r}")
    return ts


def check_name(field: str, value: object) -> str:
    """A required, non-empty name such as a model or a tool."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{field} must be a non-empty string, got {value!r}")
    return value.strip()


def check_label(field: str, value: object) -> str | None:
    """An optional label (tier, session, provider): a string or None."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{field} must be a string or None, got {value!r}")
    return value.strip() or None


MAX_REASON_CHARS = 200


def check_reason(value: object) -> str | None:
    """Why a ticket is blocked: a short label, cut to MAX_REASON_CHARS so free text from a
    host can never grow the state (we keep names, not prose)."""
    reason = check_label("reason", value)
    if reason is not None and len(reason) > MAX_REASON_CHARS:
        reason = reason[: MAX_REASON_CHARS - 1] + "…"
    return reason


def check_duration_ms(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"duration_ms must be a number of milliseconds, got {value!r}")
    ms = float(value)
    if not math.isfinite(ms) or ms < 0:
        raise ValueError(f"duration_ms must be finite and >= 0, got {value!r}")
    return ms


def check_status(value: object) -> str:
    if value not in TICKET_STATUSES:
        raise ValueError(f"status must be one of {', '.join(TICKET_STATUSES)}; got {value!r}")
    return value  # type: ignore[return-value]


def check_score(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"score must be a number from 0 to 10, got {value!r}")
    score = float(value)
    if not (MIN_SCORE <= score <= MAX_SCORE):  # also rejects NaN
        raise ValueError(f"score must be from 0 to 10, got {value!r}")
    return score


def check_cost_usd(field: str, value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{field} must be a number of US dollars, got {value!r}")
    usd = float(value)
    if not math.isfinite(usd) or usd < 0:
        raise ValueError(f"{field} must be finite and >= 0, got {value!r}")
    return usd


def usage_event(
    *,
    model: object,
    input_tokens: object = 0,
    output_tokens: object = 0,
    cache_read_tokens: object = 0,
    cache_write_tokens: object = 0,
    cache_write_1h_tokens: object = 0,
    reasoning_tokens: object = 0,
    tool_prompt_tokens: object = 0,
    ts: object = None,
    tier: object = None,
    session: object = None,
    provider: object = None,
    source: object = None,
    request_key: object = None,
    reported_cost_usd: object = None,
    tools: object = None,
) -> UsageEvent:
    """Build a validated UsageEvent from already-normalised counts.

    ``cache_write_tokens`` are 5-minute cache writes; 1-hour writes, priced higher by
    Anthropic, go in ``cache_write_1h_tokens``. ``reasoning_tokens`` are part of
    ``output_tokens``, ``tool_prompt_tokens`` part of ``input_tokens``.
    """
    reasoning = check_tokens("reasoning_tokens", reasoning_tokens)
    output = check_tokens("output_tokens", output_tokens)
    if reasoning > output:
        raise ValueError(
            f"reasoning_tokens ({reasoning:,}) is part of output_tokens and cannot exceed it ({output:,})"
        )
    tool_prompt = check_tokens("tool_prompt_tokens", tool_prompt_tokens)
    input_ = check_tokens("input_tokens", input_tokens)
    if tool_prompt > input_:
        raise ValueError(
            f"tool_prompt_tokens ({tool_prompt:,}) is part of input_tokens and cannot exceed it ({input_:,})"
        )
    return UsageEvent(
        ts=check_ts(ts),
        model=check_name("model", model),
        provider=check_label("provider", provider),
        input=input_,
        cache_read=check_tokens("cache_read_tokens", cache_read_tokens),
        cache_write_5m=check_tokens("cache_write_tokens", cache_write_tokens),
        cache_write_1h=check_tokens("cache_write_1h_tokens", cache_write_1h_tokens),
        output=output,
        reasoning=reasoning,
        tier=check_label("tier", tier),
        session=check_label("session", session),
        source=check_label("source", source),
        request_key=check_label("request_key", request_key),
        reported_cost_usd=check_cost_usd("reported_cost_usd", reported_cost_usd),
        tools=check_tools(tools),
        tool_prompt=tool_prompt,
    )


def check_tools(value: object) -> tuple[str, ...] | None:
    """The tools a request called: names, each once, in order; None for none."""
    if value is None:
        return None
    if isinstance(value, str) or not hasattr(value, "__iter__"):
        raise ValueError(f"tools must be a list of tool names, got {value!r}")
    names = tuple(dict.fromkeys(check_name("tool name", name) for name in value))
    return names or None
