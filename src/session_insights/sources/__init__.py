"""Log sources: one adapter per format, each yielding normalised records.

``SOURCE`` specs on the command line: ``claude[:DIR] | codex[:DIR] | gemini[:DIR] |
comms:FILE | audit:FILE | otel:FILE`` (DESIGN §5).
"""

from __future__ import annotations

import importlib
from pathlib import Path

from ..history import TokenHistory
from .base import LineSource, SourceError

KINDS = ("claude", "codex", "gemini", "comms", "audit", "otel")
AGENTS = ("claude", "codex", "gemini")  # the kinds with default log folders, searched with no SOURCE
_NEEDS_PATH = {"comms", "audit", "otel"}
# kind -> module holding its adapter, ``SOURCE`` (a LineSource subclass; the agents'
# ones know their default folders). Imported when first used.
_MODULES = {kind: f"{__name__}.{kind}" for kind in KINDS}


def _module(kind: str):
    return importlib.import_module(_MODULES[kind])


def parse_spec(spec: str) -> tuple[str, str | None]:
    """(kind, path or None) from a SOURCE spec; SourceError with a one-line reason."""
    kind, _, path = spec.partition(":")
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
    return _module(kind).SOURCE(path, history)


def default_roots(kind: str) -> list[Path]:
    """The folders an agent writes its logs to by default (none for file sources)."""
    return _module(kind).SOURCE.default_roots()


def discover() -> list[str]:
    """SOURCE specs for the agents whose default log folders hold logs on this machine."""
    specs = []
    for kind in AGENTS:
        try:  # the source's own walk: it follows folder links, as reading then does
            source = _module(kind).SOURCE(None, TokenHistory())
        except SourceError:
            continue  # none of its default folders exists
        if source.files():
            specs.append(kind)
    return specs


__all__ = ["AGENTS", "KINDS", "LineSource", "SourceError", "default_roots", "discover", "open_source", "parse_spec"]
