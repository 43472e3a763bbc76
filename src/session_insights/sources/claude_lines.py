"""What a Claude Code transcript line says, as the reader takes it: two decoders, one answer.

``line_fields`` decodes a line with msgspec into structs that declare only the fields read,
so the big strings (tool outputs, texts, thinking) are skipped in C and never built; a line
it cannot vouch for is read by ``dict_fields`` with orjson, as every line once was. Both
give the same fields, and ``claude.ClaudeSource`` builds records (or raises) from those alone.
Quirks kept here:
- each declared field is as strict as its reader: any other type, an integer beyond int64
  (orjson makes those past 2**64 floats) or a block that is not an object sends the line
  to orjson, which gives it today's verdict;
- msgspec checks neither the UTF-8 nor the range of what it skips: a line that is not ASCII
  is checked as UTF-8 here; a number past a double's range in a field never read is not
  looked for (a scan costs more than the decode saves, and Claude Code writes lines with
  JSON.stringify, which writes finite numbers only): such a line is read, not called bad;
- msgspec nests as deep as Python's recursion limit lets it, orjson 1,024 levels: with a
  limit past 1,024 (or on Python 3.12+, where the C stack sets it) a long line's brackets
  are counted first;
- ``usage`` is a plain dict, bounded like the rest as deep as normalize reads it, and a
  TodoWrite's ``input`` stays raw for orjson: the usage rules and the ticket checks see
  the very values they always saw.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import msgspec
import orjson

ORJSON_MAX_DEPTH = 1024
# Integers orjson keeps as int (it makes larger ones floats) that msgspec can bound.
Int64 = Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]
NOT_WRITTEN = msgspec.Raw(b"")  # a raw field the line does not have
# ``usage`` as the plain dict normalize.anthropic_usage reads, its values as orjson would
# give them as deep as it reads (usage.iterations[i].cache_creation.<count>: 4 levels).
_Scalar = Int64 | float | str | bool | None
_Usage4 = _Scalar | list[Any] | dict[str, Any]
_Usage3 = _Scalar | list[Any] | dict[str, _Usage4]
_Usage2 = _Scalar | list[_Usage3] | dict[str, _Usage3]
Usage = dict[str, _Scalar | list[_Usage2] | dict[str, _Usage2]]


class Block(msgspec.Struct, gc=False):
    """A content block: a tool_use (name, id, input) or a tool_result (tool_use_id, is_error)."""

    type: str | None = None
    id: str | None = None
    name: str | None = None
    input: msgspec.Raw = NOT_WRITTEN
    tool_use_id: str | None = None
    is_error: bool | None = None


class Message(msgspec.Struct, gc=False):
    id: str | None = None
    model: str | None = None
    usage: Usage | None = None
    content: list[Block] | str | None = None


class Line(msgspec.Struct, gc=False):
    type: str | None = None
    timestamp: str | None = None
    sessionId: str | None = None
    isSidechain: bool | None = None
    requestId: str | None = None
    cwd: str | None = None
    costUSD: Int64 | float | None = None
    message: Message | None = None


_decode = msgspec.json.Decoder(Line).decode
# What each decoder hands on, in ``claude.ClaudeSource``'s terms:
#   ("assistant", (timestamp, sessionId, isSidechain, cwd, requestId, costUSD, message.id,
#                  message.model, message.usage, [(name, id, input) of each tool_use]))
#   ("user", (timestamp, [(tool_use_id, is_error) of each tool_result]))
# with None for the values of a line without a message, and () for a line with nothing to
# read. A tool_use's input is decoded for TodoWrite only: no other is read.


def line_fields(line: bytes) -> tuple:
    """A line's fields from msgspec where it can vouch for them, else from orjson."""
    typed = _typed(line)
    if typed is None:
        return dict_fields(line)
    kind = typed.type
    if kind != "assistant" and kind != "user":
        return ()
    message = typed.message
    if message is None:
        return kind, None
    content = message.content
    if kind == "user":
        if type(content) is not list:
            return ()  # a user's own text
        return kind, (typed.timestamp, [(b.tool_use_id, b.is_error) for b in content if b.type == "tool_result"])
    # A TodoWrite input orjson refuses (a number past a double's range, which msgspec skips)
    # raises here as orjson refuses the whole line: the same bad line, nothing remembered.
    uses = (
        [(b.name, b.id, _raw(b.input) if b.name == "TodoWrite" else None) for b in content if b.type == "tool_use"]
        if type(content) is list
        else []
    )
    return kind, (
        typed.timestamp,
        typed.sessionId,
        typed.isSidechain,
        typed.cwd,
        typed.requestId,
        typed.costUSD,
        message.id,
        message.model,
        message.usage,
        uses,
    )


def dict_fields(line: bytes) -> tuple:
    """A line's fields from orjson's dicts: any line, with any odd value as it is."""
    obj = orjson.loads(line)
    if not isinstance(obj, dict):
        raise ValueError("a transcript line must be a JSON object")
    kind = obj.get("type")
    if kind != "assistant" and kind != "user":
        return ()
    message = obj.get("message")
    if not isinstance(message, dict):
        return kind, None
    content = message.get("content")
    if kind == "user":
        if not isinstance(content, list):
            return ()
        results = [
            (b.get("tool_use_id"), b.get("is_error"))
            for b in content
            if isinstance(b, dict) and b.get("type") == "tool_result"
        ]
        return kind, (obj.get("timestamp"), results)
    uses = (
        [
            (b.get("name"), b.get("id"), b.get("input"))
            for b in content
            if isinstance(b, dict) and b.get("type") == "tool_use"
        ]
        if isinstance(content, list)
        else []
    )
    return kind, (
        obj.get("timestamp"),
        obj.get("sessionId"),
        obj.get("isSidechain"),
        obj.get("cwd"),
        obj.get("requestId"),
        obj.get("costUSD"),
        message.get("id"),
        message.get("model"),
        message.get("usage"),
        uses,
    )


def _raw(value: msgspec.Raw) -> object:
    """A raw field as orjson reads it; None where the line does not have it."""
    return orjson.loads(bytes(value)) if value else None  # orjson takes no Raw itself


def _typed(line: bytes) -> Line | None:
    """The line decoded by msgspec, or None where orjson might judge it otherwise."""
    if not line.isascii():
        try:
            line.decode()  # orjson refuses invalid UTF-8 anywhere, msgspec only where it reads
        except UnicodeDecodeError:
            return None
    if len(line) > 2 * ORJSON_MAX_DEPTH and _may_nest_deeper_than_orjson() and _nested_deep(line):
        return None
    try:
        return _decode(line)
    except (msgspec.MsgspecError, ValueError, RecursionError):
        return None


def _may_nest_deeper_than_orjson() -> bool:
    """Whether msgspec could read a value nested past orjson's limit: on Python 3.11 it
    stops at the recursion limit; from 3.12 the C stack sets its limit."""
    return sys.version_info >= (3, 12) or sys.getrecursionlimit() > ORJSON_MAX_DEPTH


def _nested_deep(line: bytes) -> bool:
    """Whether ``line`` holds enough brackets to nest past orjson's limit."""
    return line.count(b"[") + line.count(b"{") > ORJSON_MAX_DEPTH
