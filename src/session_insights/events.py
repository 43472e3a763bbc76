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
from datetime import datetime
from typing import NamedTuple

# A single request above this is a unit mix-up (bytes, characters), not a prompt.
MAX_TOKENS_PER_REQUEST = 1_000_000_000
# Times a record may carry, epoch seconds, UTC: outside them a time is a unit mix-up
# (milliseconds read as seconds, an unset 0) or garbage, and a calendar day of it may
# not even exist (year 10000).
MIN_TS = 946_684_800.0  # 2000-01-01T00:00:00Z
MAX_TS = 4_102_444_800.0  # 2100-01-01T00:00:00Z
# One tool call longer than this is a unit mix-up, not a run (and 1e308 ms overflows sums).
MAX_DURATION_MS = 30 * 86_400_000.0  # 30 days
# A reported cost above this for one request is a unit mix-up (cents, micro-dollars).
MAX_COST_USD_PER_REQUEST = 100_000.0

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
    # What the request asked for that its price depends on, as genai-prices' price context
    # in sorted (key, value) pairs: (("speed", "fast"),) for Claude's fast mode; None for
    # the standard price, which nearly every request has.
    price_context: tuple[tuple[str, str], ...] | None = None
    # Server-side tool uses billed per use, as (genai-prices unit, count) pairs:
    # (("web_searches", 3),) for three Anthropic web searches; None for none.
    server_tools: tuple[tuple[str, int], ...] | None = None
    # Whether the log says the response ended (a Claude line's stop_reason): then no
    # later copy of it can be larger. False where a source cannot tell.
    finished: bool = False

    @property
    def total_tokens(self) -> int:
        return self.input + self.cache_read + self.cache_write_5m + self.cache_write_1h + self.output


class ToolCall(NamedTuple):
    """One tool invocation and how it ended. ``call_key``: the call's own id where its
    log gives one (Claude's tool_use id, Codex's call_id), so the call copied into
    another file (a resumed session, a rollout archived beside itself) counts once."""

    ts: float
    name: str
    duration_ms: float
    ok: bool = True
    session: str | None = None
    call_key: str | None = None


class TicketUpdate(NamedTuple):
    """A ticket entering a status (todo, in_progress, blocked, completed)."""

    ts: float
    ticket_id: str
    status: str
    track: str | None = None
    reason: str | None = None
    session: str | None = None


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
# The value comes last, after ", got": a source line's reason to be skipped is the
# message cut there (``sources.base.bad_reason``), a phrase that never quotes the line.


def _as_float(value: int | float) -> float:
    """A number as a float; an int too large for one is infinite (and so out of any range)."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def shown(value: object) -> str:
    """A value as an error message quotes it: cut short, and a huge number by its size
    (Python will not even write an integer of over 4,300 digits as text)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 100:
        return f"a number of about {int(value.bit_length() * 0.30103):,} digits"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def check_tokens(field: str, value: object) -> int:
    """A token count: a whole number from 0 to MAX_TOKENS_PER_REQUEST."""
    if type(value) is int:
        if 0 <= value <= MAX_TOKENS_PER_REQUEST:
            return value
    elif isinstance(value, bool) or not hasattr(value, "__index__"):
        raise ValueError(f"{field} must be a whole number of tokens, got {shown(value)}")
    else:
        value = value.__index__()  # numpy and other integer types
        if 0 <= value <= MAX_TOKENS_PER_REQUEST:
            return value
    if value < 0:
        raise ValueError(f"{field} must not be negative, got {shown(value)}")
    raise ValueError(
        f"{field} is too many tokens for one request, got {shown(value)} (at most {MAX_TOKENS_PER_REQUEST:,})"
    )


def check_ts(value: object, field: str = "ts") -> float:
    """Epoch seconds from MIN_TS (2000) to MAX_TS (2100); None means now."""
    if value is None:
        return time.time()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{field} must be epoch seconds (a number), got {shown(value)}")
    ts = _as_float(value)
    if not MIN_TS <= ts < MAX_TS:  # also rejects NaN
        raise ValueError(
            f"{field} out of range, got {shown(value)}: epoch seconds must be from 2000-01-01 to 2100-01-01 UTC"
        )
    return ts


def iso_ts(value: object, field: str = "timestamp") -> float:
    """Epoch seconds from an ISO 8601 time (naive: local time), checked like ``check_ts``."""
    if not isinstance(value, str):
        raise ValueError(f"{field} must be an ISO 8601 string, got {shown(value)}")
    try:
        ts = datetime.fromisoformat(value).timestamp()
    except (ValueError, OverflowError, OSError):  # OSError: a local time the platform cannot convert
        raise ValueError(f"{field} must be an ISO 8601 time, got {shown(value)}") from None
    if MIN_TS <= ts < MAX_TS:  # a float already: check_ts's range, without its type tests
        return ts
    return check_ts(ts, field)


def _encodable(field: str, value: str) -> str:
    """``value`` if it can be written as UTF-8 (state.toml, the durable history): a lone
    surrogate from a host's badly decoded bytes cannot, and would fail the next save."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{field} must be valid Unicode text, got {shown(value)} (a lone surrogate)") from None
    return value


def check_name(field: str, value: object) -> str:
    """A required, non-empty name such as a model or a tool."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{field} must be a non-empty string, got {shown(value)}")
    return _encodable(field, value.strip())


def check_label(field: str, value: object) -> str | None:
    """An optional label (tier, session, provider): a string or None."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{field} must be a string or None, got {shown(value)}")
    return _encodable(field, value.strip()) or None


MAX_REASON_CHARS = 200


def check_reason(value: object) -> str | None:
    """Why a ticket is blocked: a short label, cut to MAX_REASON_CHARS so free text from a
    host can never grow the state (we keep names, not prose)."""
    reason = check_label("reason", value)
    if reason is not None and len(reason) > MAX_REASON_CHARS:
        reason = reason[: MAX_REASON_CHARS - 1] + "…"
    return reason


def check_duration_ms(value: object, field: str = "duration_ms") -> float:
    """A tool call's duration: milliseconds from 0 to MAX_DURATION_MS (30 days)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{field} must be a number of milliseconds, got {shown(value)}")
    ms = _as_float(value)
    if not 0 <= ms <= MAX_DURATION_MS:  # also rejects NaN
        raise ValueError(
            f"{field} out of range, got {shown(value)}: milliseconds must be from 0 to {MAX_DURATION_MS:,.0f} (30 days)"
        )
    return ms


def check_status(value: object) -> str:
    if value not in TICKET_STATUSES:
        raise ValueError(f"status is unknown, got {shown(value)}: use one of {', '.join(TICKET_STATUSES)}")
    return value  # type: ignore[return-value]


def check_score(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"score must be a number from 0 to 10, got {shown(value)}")
    score = _as_float(value)
    if not (MIN_SCORE <= score <= MAX_SCORE):  # also rejects NaN
        raise ValueError(f"score must be from 0 to 10, got {shown(value)}")
    return score


def check_cost_usd(field: str, value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{field} must be a number of US dollars, got {shown(value)}")
    usd = _as_float(value)
    if not 0 <= usd <= MAX_COST_USD_PER_REQUEST:  # also rejects NaN
        raise ValueError(
            f"{field} out of range, got {shown(value)}: US dollars must be from 0 to "
            f"{MAX_COST_USD_PER_REQUEST:,.0f} for one request"
        )
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
    price_context: tuple[tuple[str, str], ...] | None = None,
    server_tools: tuple[tuple[str, int], ...] | None = None,
) -> UsageEvent:
    """Build a validated UsageEvent from already-normalised counts.

    ``cache_write_tokens`` are 5-minute cache writes; 1-hour writes, priced higher by
    Anthropic, go in ``cache_write_1h_tokens``. ``reasoning_tokens`` are part of
    ``output_tokens``, ``tool_prompt_tokens`` part of ``input_tokens``.
    ``price_context`` and ``server_tools`` come checked from ``normalize`` (e.g.
    ``anthropic_price_terms``).
    """
    reasoning = check_tokens("reasoning_tokens", reasoning_tokens)
    output = check_tokens("output_tokens", output_tokens)
    if reasoning > output:
        raise ValueError(f"reasoning_tokens ({reasoning:,}) is part of output_tokens and cannot exceed it ({output:,})")
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
        price_context=price_context,
        server_tools=server_tools,
    )


def check_tools(value: object) -> tuple[str, ...] | None:
    """The tools a request called: names, each once, in order; None for none."""
    if value is None:
        return None
    if isinstance(value, str) or not hasattr(value, "__iter__"):
        raise ValueError(f"tools must be a list of tool names, got {shown(value)}")
    names = tuple(dict.fromkeys(check_name("tool name", name) for name in value))
    return names or None
