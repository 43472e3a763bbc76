"""Log sources: one adapter per format, each yielding normalised records.

``SOURCE`` specs on the command line: ``claude[:DIR] | codex[:DIR] | gemini[:DIR] |
comms:FILE | audit:FILE | otel:FILE`` (DESIGN §5).
"""

from __future__ import annotations

from ..history import TokenHistory
from .base import LineSource, SourceError
from .claude import ClaudeSource, default_roots as claude_roots
from .comms import CommsSource

KINDS = ("claude", "codex", "gemini", "comms", "audit", "otel")
_NEEDS_PATH = {"comms", "audit", "otel"}
_ADAPTERS: dict[str, type[LineSource]] = {"comms": CommsSource, "claude": ClaudeSource}


def parse_spec(spec: str) -> tuple[str, str | None]:
    """(kind, path or None) from a SOURCE spec; SourceError with a one-line reason."""
    kind, sep, path = spec.partition(":")
    kind = kind.strip().lower()
    if kind not in KINDS:
        raise SourceError(
            f"unknown source {spec!r}: use one of claude[:DIR], codex[:DIR], gemini[:DIR], "
            "comms:FILE, audit:FILE, otel:FILE"
        )
    if kind in _NEEDS_PATH and not path:
        raise SourceError(f"source {kind!r} needs a path: {kind}:FILE")
    return kind, (path or None)


def open_source(spec: str, history: TokenHistory) -> LineSource:
    """The reader for a SOURCE spec, attached to ``history``."""
    kind, path = parse_spec(spec)
    adapter = _ADAPTERS.get(kind)
    if adapter is None:
        raise SourceError(f"reading {kind} logs is not available in this version; "
                          f"use one of {', '.join(sorted(_ADAPTERS))}")
    return adapter(path, history)


def discover() -> list[str]:
    """SOURCE specs for the agents whose default log folders hold logs on this machine."""
    specs = []
    if any(next(root.rglob("*.jsonl"), None) is not None for root in claude_roots() if root.is_dir()):
        specs.append("claude")
    return specs


__all__ = ["KINDS", "LineSource", "SourceError", "discover", "open_source", "parse_spec"]
