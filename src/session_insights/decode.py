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

from .events import check_ts

MAX_COUNTER = 10**30  # far above any real total, far below what slows arithmetic down
MAX_TEXT_CHARS = 4096


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
