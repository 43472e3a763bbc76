"""What a bad line is, and why it was bad in a few words that hold no value from it: a
reason is named in notices and provenance, so it must never quote the line."""

from __future__ import annotations

import re

import orjson

# What a line (or an entry of a whole file) that cannot be read raises: one bad line.
# OverflowError: a number too large for a float or a time (``1e400``, a 400-digit integer).
BAD_LINE = (ValueError, TypeError, KeyError, AttributeError, OverflowError, orjson.JSONDecodeError)
# A reason's text ends where a value may start (a quote, a colon, "got", a bracket...).
_REASON_TEXT = re.compile(r"[A-Za-z0-9_ .<>=-]*")
MAX_REASON_CHARS = 100
# What Python's int <-> str conversion says past its digit limit (4300 by default).
_DIGIT_LIMIT = "Exceeds the limit ("


def bad_reason(exc: BaseException) -> str:
    """Why a line was bad, in a few words that hold no value from the line."""
    if isinstance(exc, orjson.JSONDecodeError):
        return "not valid JSON"
    if isinstance(exc, OverflowError):
        return "number out of range"
    if isinstance(exc, KeyError):
        return "missing field"
    if isinstance(exc, (ValueError, TypeError)) and exc.args and isinstance(exc.args[0], str):
        text = exc.args[0]
        if _DIGIT_LIMIT in text and "integer string conversion" in text:
            # The field, where the source named it before Python's message.
            return " ".join(filter(None, (_reason_text(text.split(_DIGIT_LIMIT, 1)[0]), "number too long")))
        text = _reason_text(text.split(", got", 1)[0].split("; got", 1)[0])
        if len(text) >= 3:
            return text
    return type(exc).__name__


def _reason_text(text: str) -> str:
    """The start of ``text`` that holds no value, cut at a word within MAX_REASON_CHARS."""
    text = _REASON_TEXT.match(text).group()
    if len(text) > MAX_REASON_CHARS:
        cut = text.rfind(" ", 0, MAX_REASON_CHARS + 1)
        text = text[:cut] if cut > 0 else text[:MAX_REASON_CHARS]
    return text.strip(" .-")
