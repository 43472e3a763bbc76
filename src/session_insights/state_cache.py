"""A parsed copy of state.toml beside it, so a restart need not parse the TOML.

tomllib is pure Python: a state near its 256 KB budget takes ~45 ms to parse, a sixth
of the restart's first frame. ``<stem>.parsed.json`` holds the same data as JSON, which
orjson reads in ~1 ms, with the BLAKE2b digest of the TOML bytes it stands for. It is
used only when that digest is the state file's, so a state edited by hand, written by
an older release or replaced is parsed again; a cache that is missing, torn or of
another shape is ignored. The TOML stays the only truth: nothing else reads the copy.

The copy is written only of data JSON carries exactly as TOML does: tables with string
keys, arrays (tuples become arrays in both), strings, booleans, 64-bit integers and
finite floats. Anything else (a NaN, a date, a 70-bit integer) writes no copy, and the
next start parses the TOML (tests/test_state_cache.py checks the two reads agree). As
with ``state.Encoder``'s files, the top-level tables may come in another order: the
state is read by key.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import orjson

SUFFIX = ".parsed.json"
MAX_CACHE_BYTES = 4 * 1024 * 1024  # a copy of a state within its budget is far smaller
_INT_RANGE = (-(2**63), 2**64 - 1)  # what orjson writes as an integer


def cache_path(state_path: Path) -> Path:
    return state_path.with_name(state_path.stem + SUFFIX)


def digest(toml_bytes: bytes) -> str:
    return hashlib.blake2b(toml_bytes, digest_size=16).hexdigest()


def cached(state_path: Path, toml_bytes: bytes) -> dict | None:
    """The data the copy beside ``state_path`` holds, if it stands for ``toml_bytes``."""
    try:
        with open(cache_path(state_path), "rb") as f:
            raw = f.read(MAX_CACHE_BYTES + 1)
        if len(raw) > MAX_CACHE_BYTES:
            return None
        found = orjson.loads(raw)
    except (OSError, orjson.JSONDecodeError):
        return None
    if type(found) is not dict or found.get("toml_blake2b") != digest(toml_bytes):
        return None
    data = found.get("data")
    return data if type(data) is dict else None


def copy_of(toml_bytes: bytes, data: dict) -> bytes | None:
    """The copy of ``data``, the parse of ``toml_bytes``, as the bytes to write beside the
    state; None when JSON cannot carry it exactly (then no copy must stand)."""
    if not exact_in_json(data):
        return None
    try:
        return orjson.dumps({"toml_blake2b": digest(toml_bytes), "data": data})
    except orjson.JSONEncodeError:  # a lone surrogate: the TOML could not be written either
        return None


def exact_in_json(value: object) -> bool:
    """Whether orjson writes ``value`` so that it reads back as TOML's parse of it does."""
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is dict:
            if not all(type(k) is str for k in item):
                return False
            stack.extend(item.values())
        elif kind is list or kind is tuple:
            stack.extend(item)
        elif kind is float:
            if not math.isfinite(item):
                return False
        elif kind is int:
            if not _INT_RANGE[0] <= item <= _INT_RANGE[1]:
                return False
        elif kind is not str and kind is not bool:
            return False
    return True
