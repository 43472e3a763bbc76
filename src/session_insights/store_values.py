"""The figures a stored session row holds, and how each is kept in SQLite exactly.

Every figure is Python's int (or a float time, a text label). SQLite's INTEGER holds 64
bits: a figure past that (a session over $9.2M in picodollars) is stored as the BLOB of
its decimal digits, so ordinary rows stay plain integers and need no migration. A row
another program changed (a value of the wrong kind) is found by one query and checked
value by value when read; the others are taken as they are.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

# Scalar figures of a session row, as TokenHistory.session_rows gives them.
SESSION_FIELDS = (
    "project",
    "state",
    "first_ts",
    "last_ts",
    "end_ts",
    "requests",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "total_tokens",
    "cost_pusd",
    "unpriced_requests",
    "tool_calls",
    "tool_failures",
    "tickets_completed",
    "ratings",
    "rating_sum",
    "tool_prompt_tokens",
)
# Figures of one model in a session's model mix (token kinds NULL, None when read, in a
# row written before schema 2).
MODEL_FIELDS = (
    "requests",
    "total_tokens",
    "cost_pusd",
    "unpriced_requests",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
)

# Figures of one model in one UTC quarter hour of a session (schema 4), after its
# quarter_ts (epoch seconds, a multiple of QUARTER_S) and model: a stored quarter row is
# (quarter_ts, model, *QUARTER_FIELDS).
QUARTER_FIELDS = (
    "requests",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "total_tokens",
    "cost_pusd",
    "unpriced_requests",
)
QUARTER_S = 900
DAY_S = 86_400
Q_REQ, Q_TOTAL, Q_COST = (2 + QUARTER_FIELDS.index(f) for f in ("requests", "total_tokens", "cost_pusd"))

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def to_sql(values: Iterable) -> tuple:
    """Values as stored: an int past SQLite's 64-bit INTEGER as the BLOB of its decimal
    digits. Not a TEXT: an INTEGER column turns a TEXT of too many digits into a REAL, and
    leaves a BLOB as it is."""
    return tuple(str(v).encode("ascii") if type(v) is int and not _INT64_MIN <= v <= _INT64_MAX else v for v in values)


# What each stored value may be, in SQLite's typeof names (a count past int64 is a BLOB).
_COUNT, _TEXT = ("integer", "blob"), ("text",)
_SESSION_KINDS = tuple(
    ("text", "null")
    if f in ("project", "state")
    else ("real", "integer")
    if f == "rating_sum"
    else ("real", "integer", "null")
    if f.endswith("_ts")
    else _COUNT
    for f in SESSION_FIELDS
)
_MODEL_KINDS = (_TEXT, *(_COUNT + ("null",) if f in MODEL_FIELDS[4:] else _COUNT for f in MODEL_FIELDS))
_DAY_KINDS = (("integer",), _TEXT, _COUNT, _COUNT, _COUNT)
_QUARTER_KINDS = (("integer",), _TEXT, *(_COUNT for _ in QUARTER_FIELDS))
_TYPEOF = {int: "integer", float: "real", str: "text", bytes: "blob", type(None): "null"}


def _not_plain(columns: Iterable[str], kinds: Iterable[tuple]) -> str:
    """An SQL condition: the row holds a BLOB or a value of another kind than its column
    takes. Reading checks those rows value by value, and takes the others as they are."""
    return " OR ".join(
        f"typeof({column}) NOT IN ({', '.join(repr(t) for t in kind if t != 'blob')})"
        for column, kind in zip(columns, kinds, strict=True)
    )


# The sessions a row of which is not plain, in any of the four tables.
UNPLAIN_SESSIONS = " UNION ".join(
    f"SELECT source, session FROM {table} WHERE {_not_plain(columns, kinds)}"
    for table, columns, kinds in (
        ("sessions", SESSION_FIELDS, _SESSION_KINDS),
        ("session_models", ("model", *MODEL_FIELDS), _MODEL_KINDS),
        ("session_days", ("day", "model", "requests", "tokens", "cost_pusd"), _DAY_KINDS),
        ("session_quarters", ("quarter_ts", "model", *QUARTER_FIELDS), _QUARTER_KINDS),
    )
)


def _checked(values: Iterable, kinds: tuple) -> list:
    """Stored values as the figures they were (a BLOB of digits as its int); ValueError if
    one is not of its kind, so a row changed by another program cannot break a report."""
    values = list(values)
    for i, (value, kind) in enumerate(zip(values, kinds, strict=True)):
        if _TYPEOF.get(type(value)) not in kind:
            raise ValueError(f"{value!r} is not a figure of the session history")
        if type(value) is bytes:
            values[i] = int(value)
    return values


def decoded(figures: list, models: dict, days: list, quarters: list = ()) -> dict:
    """A stored session row that is not plain, checked value by value."""
    row = dict(zip(SESSION_FIELDS, _checked(figures, _SESSION_KINDS)))
    row["models"] = {}
    for model, m in models.items():
        model, *values = _checked((model, *m.values()), _MODEL_KINDS)
        row["models"][model] = dict(zip(MODEL_FIELDS, values))
    row["days"] = [tuple(_checked(day, _DAY_KINDS)) for day in days]
    row["quarters"] = [tuple(_checked(quarter, _QUARTER_KINDS)) for quarter in quarters]
    return row


def whole_days(quarters: Iterable[tuple], days: Iterable[tuple]) -> list[tuple]:
    """The quarter rows whose (UTC day, model) add up to that day's row of ``days`` in
    requests, tokens and cost: a reader takes them instead of the day. A day whose quarter
    hours were let go (the live history keeps the last 8 days of them, a state restarted
    from fewer) is left to its day row, so nothing is counted twice or lost."""
    quarters = list(quarters)
    sums: dict[tuple[int, str], list[int]] = {}
    for q in quarters:
        s = sums.setdefault((q[0] // DAY_S, q[1]), [0, 0, 0])
        s[0] += q[Q_REQ]
        s[1] += q[Q_TOTAL]
        s[2] += q[Q_COST]
    by_day = {(d[0], d[1]): list(d[2:5]) for d in days}
    whole = {key for key, s in sums.items() if by_day.get(key) == s}
    return [q for q in quarters if (q[0] // DAY_S, q[1]) in whole]


def quarters_to_keep(stored: Iterable[tuple], copy_quarters: Iterable[tuple], copy_days: Iterable[tuple]) -> list:
    """Of the stored quarter rows of a session (from the first day of a copy written over
    it on), those to keep: of a (day, model) the copy holds no quarter hours of, and adding
    up to the copy's row of that day (a live history restarted without them still
    replaces the row, and the hours stay); stored values a program changed are dropped."""
    covered = {(q[0] // DAY_S, q[1]) for q in copy_quarters}
    plain = []
    for q in stored:
        try:
            q = tuple(_checked(q, _QUARTER_KINDS))
        except ValueError:
            continue
        if (q[0] // DAY_S, q[1]) not in covered:
            plain.append(q)
    return whole_days(plain, copy_days)


def is_corrupt(exc: BaseException) -> bool:
    """SQLite read the file and found it is not a database, or a malformed one."""
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in (sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT)


def stored_row(row: dict) -> dict:
    """A row as stored: clock skew between sources can put an end mark before the first
    activity; the session then ends where it started, never before."""
    quarters = row.get("quarters", [])  # [(quarter_ts, model, *QUARTER_FIELDS)]
    row = {k: row[k] for k in ("source", "session", *SESSION_FIELDS, "models", "days")}
    row["quarters"] = quarters
    row["source"] = row["source"] or ""
    first = row["first_ts"]
    if row["end_ts"] is not None and first is not None and row["end_ts"] < first:
        row["end_ts"] = first
    return row
