"""The durable history's tables, and the migrations that bring an older database to them.

The schema version is SQLite's ``user_version``; ``MIGRATIONS[n]`` takes a database
from version n to n + 1, each in one transaction, so a migration cut short leaves the
database at the version before it. A database of a newer version than ours is never
written to (``NewerSchema``).
"""

from __future__ import annotations

import sqlite3

MIGRATIONS = [
    # 0 -> 1
    """
    CREATE TABLE sessions (
        source TEXT NOT NULL,
        session TEXT NOT NULL,
        project TEXT,
        state TEXT,
        first_ts REAL,
        last_ts REAL,
        end_ts REAL,
        requests INTEGER NOT NULL,
        input_tokens INTEGER NOT NULL,
        output_tokens INTEGER NOT NULL,
        cache_read_tokens INTEGER NOT NULL,
        cache_write_tokens INTEGER NOT NULL,
        reasoning_tokens INTEGER NOT NULL,
        total_tokens INTEGER NOT NULL,
        cost_pusd INTEGER NOT NULL,
        unpriced_requests INTEGER NOT NULL,
        tool_calls INTEGER NOT NULL,
        tool_failures INTEGER NOT NULL,
        tickets_completed INTEGER NOT NULL,
        ratings INTEGER NOT NULL,
        rating_sum REAL NOT NULL,
        written_ts REAL NOT NULL,
        PRIMARY KEY (source, session)
    ) WITHOUT ROWID;
    CREATE INDEX sessions_by_last_ts ON sessions (last_ts);
    CREATE TABLE session_models (
        source TEXT NOT NULL,
        session TEXT NOT NULL,
        model TEXT NOT NULL,
        requests INTEGER NOT NULL,
        total_tokens INTEGER NOT NULL,
        cost_pusd INTEGER NOT NULL,
        unpriced_requests INTEGER NOT NULL,
        PRIMARY KEY (source, session, model)
    ) WITHOUT ROWID;
    CREATE TABLE session_days (
        source TEXT NOT NULL,
        session TEXT NOT NULL,
        day INTEGER NOT NULL,
        model TEXT NOT NULL,
        requests INTEGER NOT NULL,
        tokens INTEGER NOT NULL,
        cost_pusd INTEGER NOT NULL,
        PRIMARY KEY (source, session, day, model)
    ) WITHOUT ROWID;
    CREATE VIEW day_models AS
        SELECT day, model, SUM(requests) AS requests, SUM(tokens) AS tokens, SUM(cost_pusd) AS cost_pusd
        FROM session_days GROUP BY day, model;
    """,
    # 1 -> 2: the model mix keeps tokens by kind, a session its tool-use prompt tokens
    # (part of its input); each row says which version of the figures it holds.
    """
    ALTER TABLE session_models ADD COLUMN input_tokens INTEGER;
    ALTER TABLE session_models ADD COLUMN output_tokens INTEGER;
    ALTER TABLE session_models ADD COLUMN cache_read_tokens INTEGER;
    ALTER TABLE session_models ADD COLUMN cache_write_tokens INTEGER;
    ALTER TABLE session_models ADD COLUMN reasoning_tokens INTEGER;
    ALTER TABLE sessions ADD COLUMN tool_prompt_tokens INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE sessions ADD COLUMN row_version INTEGER NOT NULL DEFAULT 1;
    """,
    # 2 -> 3: the per-day view no reader used (its SQL sums cannot take a figure past
    # 64 bits, which is stored as a BLOB); readers sum session_days in Python.
    """
    DROP VIEW IF EXISTS day_models;
    """,
    # 3 -> 4: what each session spent per UTC quarter hour and model, tokens by kind, so
    # report can group by local day (every zone in use is a whole number of quarter hours
    # from UTC: India +5:30, Nepal +5:45) and by 5-hour block (whole hours). Days kept
    # before this hold no quarter hours: readers take their session_days row instead.
    """
    CREATE TABLE session_quarters (
        source TEXT NOT NULL,
        session TEXT NOT NULL,
        quarter_ts INTEGER NOT NULL,
        model TEXT NOT NULL,
        requests INTEGER NOT NULL,
        input_tokens INTEGER NOT NULL,
        output_tokens INTEGER NOT NULL,
        cache_read_tokens INTEGER NOT NULL,
        cache_write_tokens INTEGER NOT NULL,
        reasoning_tokens INTEGER NOT NULL,
        total_tokens INTEGER NOT NULL,
        cost_pusd INTEGER NOT NULL,
        unpriced_requests INTEGER NOT NULL,
        PRIMARY KEY (source, session, quarter_ts, model)
    ) WITHOUT ROWID;
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)


class NewerSchema(sqlite3.DatabaseError):
    """A database written by a newer version: left as it is, never moved aside."""


def migrate(db: sqlite3.Connection) -> None:
    """Bring ``db`` (opened in autocommit) to ``SCHEMA_VERSION``; NewerSchema if it is past it."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise NewerSchema(
            f"it has schema {version}, newer than this version of session-insights knows "
            f"({SCHEMA_VERSION}); upgrade session-insights to keep sessions in it"
        )
    for target in range(version, SCHEMA_VERSION):
        # One transaction a step (executescript would commit on its own).
        db.execute("BEGIN IMMEDIATE")
        for statement in _statements(MIGRATIONS[target]):
            db.execute(statement)
        db.execute(f"PRAGMA user_version = {target + 1}")
        db.execute("COMMIT")


def _statements(script: str) -> list[str]:
    """A migration script split into statements (none of ours holds a ';' in a literal)."""
    return [s.strip() for s in script.split(";") if s.strip()]
