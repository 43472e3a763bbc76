"""Log sources: one adapter per format, each yielding normalised records.

``SOURCE`` specs on the command line: ``claude[:DIR] | codex[:DIR] | gemini[:DIR] |
comms:FILE | audit:FILE | otel:FILE`` (DESIGN §5).
"""

from __future__ import annotations

from ..history import TokenHistory
from .base import LineSource, SourceError
from .comms import CommsSource

KINDS = ("claude", "codex", "gemini", "comms", "audit", "otel")
_NEEDS_PATH = {"comms", "audit", "otel"}
_ADAPTERS: dict[str, type[LineSource]] = {"comms": CommsSource}


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
        raise SourceError(f"reading {kind} logs is not available in this version; use comms:FILE")
    return adapter(path, history)


__all__ = ["KINDS", "LineSource", "SourceError", "open_source", "parse_spec"]
