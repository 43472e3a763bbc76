"""The API a host app calls from any thread: its comms log, tool calls, tickets, ratings.

Every call validates and enqueues; nothing here touches the panel or blocks on it, so a
host can call these from worker threads at every model call. When nothing is attached
the module-level functions do nothing and return False, so a host can leave its calls
in place whether or not the panel is open.

A comms entry is the host's record of one message to or from a model:
``{"ts", "direction": "in"|"out", "kind", "provider", "model", "tier", "session",
"payload": <the provider's response body or its usage block>}``. Only incoming entries
that carry a usage block count as a request.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import normalize
from .events import UsageEvent, check_ts, usage_event
from .history import TokenHistory

_INCOMING = {"in", "incoming", "inbound", "response", "recv", "received"}
_USAGE_KEYS = ("usage", "usageMetadata", "usage_metadata")


def guess_provider(usage: Mapping[str, Any]) -> str:
    """The provider whose usage block this looks like, for entries that do not say."""
    if "promptTokenCount" in usage or "candidatesTokenCount" in usage:
        return "google"
    if "prompt_cache_hit_tokens" in usage:
        return "deepseek"
    if "prompt_tokens" in usage or "input_tokens_details" in usage or "cached_input_tokens" in usage:
        return "openai"
    return "anthropic"  # input/output counts with or without cache_*_input_tokens


def usage_from_comms_entry(entry: Mapping[str, Any]) -> UsageEvent | None:
    """The request a comms entry records, or None if it records none (an outgoing
    message, a tool message, no usage). Raises ValueError for an unreadable usage block."""
    direction = str(entry.get("direction", "in")).lower()
    if direction not in _INCOMING:
        return None
    payload = entry.get("payload")
    if not isinstance(payload, Mapping):
        return None
    usage = next((payload[k] for k in _USAGE_KEYS if payload.get(k) is not None), None)
    if usage is not None and not isinstance(usage, Mapping):
        raise ValueError(f"payload usage must be an object, got {type(usage).__name__}")
    if usage is None:
        # The payload may be the usage block itself.
        if any(k in payload for k in ("input_tokens", "prompt_tokens", "promptTokenCount")):
            usage = payload
        else:
            return None
    provider = entry.get("provider")
    try:
        provider_id, counts = normalize.usage_counts(usage, provider or guess_provider(usage))
    except ValueError:
        if not isinstance(provider, str):
            raise
        # A provider we do not know (a local server, a proxy): read the block by its
        # shape and keep the host's label; pricing then goes by the model name alone.
        counts = normalize.usage_counts(usage, guess_provider(usage))[1]
        provider_id = provider
    model = entry.get("model") or payload.get("model") or payload.get("modelVersion")
    key = entry.get("request_id") or payload.get("id") or payload.get("responseId")
    terms = normalize.anthropic_price_terms(usage) if provider_id == "anthropic" else {}
    return usage_event(
        model=model,
        ts=check_ts(entry.get("ts")) if entry.get("ts") is not None else None,
        tier=entry.get("tier"),
        session=entry.get("session"),
        provider=provider_id,
        source="comms",
        request_key=key if isinstance(key, str) else None,
        tools=entry.get("tools"),  # the tools the response called, where the host names them
        **counts,
        **terms,
    )


class Hooks:
    """Feeds one TokenHistory from a host app; every method is safe from any thread."""

    def __init__(self, history: TokenHistory):
        self.history = history

    def on_comms_entry(self, entry: Mapping[str, Any]) -> bool:
        """Record the request a comms log entry carries; True if it carried one."""
        event = usage_from_comms_entry(entry)
        if event is None:
            return False
        self.history.add(event)
        return True

    def on_tool_call(
        self, name: str, duration_ms: float, ok: bool = True, ts: float | None = None, session: str | None = None
    ) -> bool:
        self.history.record_tool_call(name, duration_ms, ok=ok, ts=ts, session=session)
        return True

    def on_ticket(
        self,
        ticket_id: str,
        status: str,
        ts: float | None = None,
        track: str | None = None,
        reason: str | None = None,
        session: str | None = None,
    ) -> bool:
        self.history.update_ticket(ticket_id, status, ts, track=track, reason=reason, session=session)
        return True

    def on_rating(self, score: float, ts: float | None = None, session: str | None = None) -> bool:
        self.history.rate(score, ts, session=session)
        return True


_attached: Hooks | None = None


def attach(history: TokenHistory) -> Hooks:
    """Make ``history`` the one the module-level hook functions feed."""
    global _attached
    _attached = Hooks(history)
    return _attached


def detach() -> None:
    global _attached
    _attached = None


def attached() -> Hooks | None:
    return _attached


def on_comms_entry(entry: Mapping[str, Any]) -> bool:
    hooks = _attached
    return hooks.on_comms_entry(entry) if hooks else False


def on_tool_call(
    name: str, duration_ms: float, ok: bool = True, ts: float | None = None, session: str | None = None
) -> bool:
    hooks = _attached
    return hooks.on_tool_call(name, duration_ms, ok, ts, session) if hooks else False


def on_ticket(
    ticket_id: str,
    status: str,
    ts: float | None = None,
    track: str | None = None,
    reason: str | None = None,
    session: str | None = None,
) -> bool:
    hooks = _attached
    return hooks.on_ticket(ticket_id, status, ts, track, reason, session) if hooks else False


def on_rating(score: float, ts: float | None = None, session: str | None = None) -> bool:
    hooks = _attached
    return hooks.on_rating(score, ts, session) if hooks else False
