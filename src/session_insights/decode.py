"""Explicit checks for what is read back from state.toml.

A state file is the user's, and may have been edited, cut short or damaged: every value
is checked for its type and range before it reaches an aggregate, so a bad one is a
``CorruptState`` naming where it is (the caller moves the file aside and starts clean),
never an exception from deep inside a figure later. Numbers must be finite; counters are
whole numbers in a range that no session reaches (big ones are saved as decimal text).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from .events import MAX_TOKENS_PER_REQUEST, TICKET_STATUSES, UsageEvent, check_ts

MAX_COUNTER = 10**30  # far above any real total, far below what slows arithmetic down
MAX_TEXT_CHARS = 4096
_DAY_S = 86_400


class CorruptState(ValueError):
    """A value in a state file that no save of ours writes."""

    def __init__(self, where: str, why: str):
        super().__init__(f"{where}: {why}")


def table(value: object, where: str) -> dict:
    if not isinstance(value, dict):
        raise CorruptState(where, f"must be a table, not {type(value).__name__}")
    return value


def array(value: object, where: str, length: int | None = None) -> list:
    if not isinstance(value, list):
        raise CorruptState(where, f"must be an array, not {type(value).__name__}")
    if length is not None and len(value) != length:
        raise CorruptState(where, f"must have {length} items, has {len(value)}")
    return value


def whole(value: object, where: str, lo: int = 0, hi: int = MAX_COUNTER) -> int:
    """A whole number in [lo, hi]; big counters are saved as decimal text."""
    if isinstance(value, str) and value.lstrip("-").isdigit() and len(value) <= 32:
        value = int(value)
    if type(value) is not int or not lo <= value <= hi:
        raise CorruptState(where, f"must be a whole number from {lo:,} to {hi:,}")
    return value


def flag(value: object, where: str) -> bool:
    if type(value) is not bool:
        raise CorruptState(where, "must be true or false")
    return value


def counters(value: object, where: str, length: int, signed: bool = False) -> list[int]:
    """An array of ``length`` counters (negative ones only where a take-back may leave them)."""
    lo = -MAX_COUNTER if signed else 0
    return [whole(v, f"{where}[{i}]", lo) for i, v in enumerate(array(value, where, length))]


def number(value: object, where: str, lo: float = 0.0, hi: float = float(MAX_COUNTER)) -> float:
    """A finite number in [lo, hi]."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise CorruptState(where, "must be a number")
    result = float(value)
    if not math.isfinite(result) or not lo <= result <= hi:
        raise CorruptState(where, f"must be a finite number from {lo:g} to {hi:g}")
    return result


def moment(value: object, where: str) -> float:
    """Epoch seconds in the range every record is checked against."""
    try:
        return check_ts(number(value, where))
    except ValueError as exc:
        raise CorruptState(where, str(exc)) from None


def optional(check: Callable[[object, str], Any], value: object, where: str) -> Any:
    return None if value is None else check(value, where)


def text(value: object, where: str, empty_is_none: bool = False) -> str | None:
    """A string of printable length; ``""`` reads as None where ``empty_is_none``."""
    if not isinstance(value, str) or len(value) > MAX_TEXT_CHARS:
        raise CorruptState(where, f"must be a string of at most {MAX_TEXT_CHARS:,} characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise CorruptState(where, "is not valid text") from None
    return (value or None) if empty_is_none else value


def rows(data: dict, key: str) -> list[dict]:
    """``data[key]``: an array of tables (empty if absent)."""
    return [table(row, f"{key}[{i}]") for i, row in enumerate(array(data.get(key, []), key))]


# --- the rows of our own state file --------------------------------------------------


def day(value: object, where: str) -> int:
    """A UTC day number (days since the epoch) within the range of record times."""
    day = whole(value, where, 0, 10**6)
    moment(day * _DAY_S, where)
    return day


def status(value: object, where: str) -> str:
    if value not in TICKET_STATUSES:
        raise CorruptState(where, f"must be one of {', '.join(TICKET_STATUSES)}")
    return value


def named_counters(rows: list[dict], where: str) -> dict[str, list[int]]:
    return {
        text(row.get("name"), f"{where}[{i}].name"): counters(row.get("counts"), f"{where}[{i}].counts", 4)
        for i, row in enumerate(rows)
    }


def counts_by_name(value: object, where: str) -> dict[str, int]:
    return {text(k, where): whole(v, f"{where}.{k}") for k, v in table(value, where).items()}


POSITION_FIELDS = ("offset", "inode", "device", "head_len", "head", "tail_len", "tail")


def position_row(position: dict) -> str:
    """A read position as saved: offset, inode, device, then the length and digest of the
    file's first bytes and of the bytes before the offset where known (they tell a
    replaced file from a grown one), in hex, one string: a few dozen bytes a file."""
    known = 7 if position.get("tail_len") else 5 if position.get("head_len") else 3
    return ":".join(format(int(position.get(k, 0)), "x") for k in POSITION_FIELDS[:known])


def position(value: object, where: str) -> dict[str, int]:
    """A saved read position (``position_row``; an array of [offset, inode, device] in a
    state saved before positions were kept beside it)."""
    if isinstance(value, str):
        try:
            row = [int(part, 16) for part in value.split(":")]
        except ValueError:
            raise CorruptState(where, "must be hex numbers separated by ':'") from None
    else:
        row = array(value, where, 3)
    if len(row) not in (3, 5, 7):
        raise CorruptState(where, f"must have 3, 5 or 7 numbers, has {len(row)}")
    return {name: whole(v, f"{where}[{i}]", -(2**63), 2**64) for i, (name, v) in enumerate(zip(POSITION_FIELDS, row))}


def request_copy(row: list, where: str) -> UsageEvent:
    """A remembered request copy as ``to_state`` writes it. Rows saved before tools were
    kept have 13 fields; before tool-use prompts, 14; before price contexts and server
    tools, 15; before copies said whether their response ended, 17."""
    if len(row) not in (13, 14, 15, 17, 18):
        raise CorruptState(where, f"must have 13 to 18 items, has {len(row)}")
    row = list(row)
    finished = flag(row.pop(), f"{where}.finished") if len(row) == 18 else False
    server_tools = price_context = None
    if len(row) == 17:
        server_tools = (
            tuple(
                (text(unit, f"{where}.server_tools"), whole(n, f"{where}.server_tools", 0, MAX_TOKENS_PER_REQUEST))
                for unit, n in (array(pair, f"{where}.server_tools", 2) for pair in array(row.pop(), where))
            )
            or None
        )
        price_context = (
            tuple(
                (text(k, f"{where}.price_context"), text(v, f"{where}.price_context"))
                for k, v in (array(pair, f"{where}.price_context", 2) for pair in array(row.pop(), where))
            )
            or None
        )
    tool_prompt = whole(row.pop(), f"{where}.tool_prompt", 0, MAX_TOKENS_PER_REQUEST) if len(row) == 15 else 0
    tools = tuple(text(t, f"{where}.tools") for t in array(row.pop(), f"{where}.tools")) if len(row) == 14 else ()
    key, ts, model, provider, *counts, tier, session, reported = row
    inp, cr, cw5, cw1h, out, reasoning = (whole(c, f"{where}.counts", 0, MAX_TOKENS_PER_REQUEST) for c in counts)
    return UsageEvent(
        moment(ts, f"{where}.ts"),
        text(model, f"{where}.model"),
        text(provider, f"{where}.provider", True),
        inp,
        cr,
        cw5,
        cw1h,
        out,
        reasoning,
        text(tier, f"{where}.tier", True),
        text(session, f"{where}.session", True),
        None,
        text(key, f"{where}.key"),
        number(reported, f"{where}.reported") or None,
        tools or None,
        tool_prompt,
        price_context,
        server_tools,
        finished,
    )


def ui_preferences(value: object) -> dict:
    """The panel's preferences: the headers open (names) and the UI scale, checked as
    such; any other key (a host's panel may keep its own) a flat value or list of them."""
    prefs = table(value, "ui")
    out: dict = {}
    for key, item in prefs.items():
        where = f"ui.{key}"
        if key == "open_headers":
            out[key] = [text(name, f"{where}[{i}]") for i, name in enumerate(array(item, where))]
        elif key == "scale":
            out[key] = number(item, where, 0.25, 8.0)
        elif isinstance(item, list):
            out[key] = [_flat(v, f"{where}[{i}]") for i, v in enumerate(item)]
        else:
            out[key] = _flat(item, where)
    return out


def _flat(value: object, where: str) -> object:
    if isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return number(value, where, -float(MAX_COUNTER))
    return text(value, where)
