"""The durable history: one row per session, and what each spent per UTC day and per UTC
quarter hour by model, in SQLite beside state.toml, so the answer to "better or worse?"
outlives the agents' own transcripts.

What it keeps: a session's figures (``SESSION_FIELDS``), its model mix, its per-day
spend by model, and its per-quarter-hour spend by model with tokens by kind: rollups,
never requests and never text, so a year of daily use is a few megabytes (a quarter
hour is a row only where a model was used in it). What a reader can rely on:
- a row is replaced only by a fuller copy of itself (``across.row_rank``: an ended session over an
  open one, then more tokens, requests, tickets, ratings...), so writing the same
  figures again changes nothing (a re-import is idempotent), a later import of logs
  partly deleted never shrinks a session, and two copies meet at the same row whatever
  their order; and the same copy written again replaces a row stored before the
  schema kept all of its figures (``ROW_VERSION``), filling them in;
- a locked or unreadable database is a notice, never an exception: the panel keeps
  working on the live session, and the next write tries again, rows a failed write
  rolled back included. Only a file SQLite read and found not a database (or malformed)
  is moved aside (``<name>.corrupt-<timestamp>``) and a new one started; a folder or a
  file we may not open is left as it is;
- every figure is stored exactly as Python's int: one past SQLite's 64 bits (a
  session over $9.2M in picodollars) as the BLOB of its decimal digits, so ordinary
  rows stay plain integers (an SQL sum would not take such a BLOB: readers sum in Python);
- a (day, model)'s quarter rows, where there are any, add up to its day row (requests,
  tokens, cost); a day kept without them (before schema 4, or after the live history
  let them go) is read from its day row alone (``store_values.whole_days``);
- the database and its -wal / -shm files are the user's alone (mode 0600).

The tables and their migrations are store_schema.py's.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterable
from pathlib import Path

from . import state as state_file
from .across import row_rank
from .store_schema import MIGRATIONS, SCHEMA_VERSION, NewerSchema, migrate
from .store_values import (
    DAY_S,
    MODEL_FIELDS,
    Q_REQ,
    QUARTER_FIELDS,
    SESSION_FIELDS,
    UNPLAIN_SESSIONS,
    decoded,
    is_corrupt,
    quarters_to_keep,
    stored_row,
    to_sql,
)

HISTORY_SUFFIX = "history.sqlite"
BUSY_TIMEOUT_MS = 200  # a writer in another process holds the lock at most this long before we give up for now

# The figures a row written now holds. A stored row of an earlier version is replaced by
# the same copy of the session written again, which then fills in what it lacked: the
# version comes after the figures in a row's rank, so it never lets a lesser copy win;
# then the requests its quarter rows hold, so logs read again fill in a session's quarter
# hours that an earlier copy (a restarted live history) lacked.
ROW_VERSION = 3
_QUARTER_COLUMNS = ", ".join(("quarter_ts", "model", *QUARTER_FIELDS))


def history_path_for(state_path: Path) -> Path:
    """Where the durable history of a state file lives: beside it, named after it
    (``state.toml`` -> ``state.history.sqlite``), so the demo's state keeps its own."""
    return state_path.with_name(f"{state_path.stem}.{HISTORY_SUFFIX}")


def _rank(row: dict, version: int) -> tuple:
    """Which of two copies of a stored session is the fuller: its figures, the version of
    the row, then how many of its requests its quarter rows hold."""
    return (row_rank(row), version, sum([q[Q_REQ] for q in row.get("quarters", ())]))


class SessionStore:
    """The durable history at ``path`` (created on first use). Thread-safe: the saver
    thread writes while the render thread reads."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.notices: list[str] = []
        self.version = 0  # bumped by every write that changed a row
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._written: dict[tuple[str, str], tuple] = {}  # rank of each row as last written or read
        self._altered: set[tuple[str, str]] = set()  # rows read holding figures not ours: replace them
        self._open()

    # --- opening -------------------------------------------------------------------

    def _open(self) -> bool:
        if self._db is not None:
            return True
        try:
            self._db = self._connect()
        except NewerSchema as exc:
            self._notice(f"the session history {self.path} is not used: {exc}")
        except sqlite3.DatabaseError as exc:
            if self._is_locked(exc):
                self._notice(f"the session history {self.path} is busy ({exc}); will try again")
            elif is_corrupt(exc) and self.path.is_file():
                self._move_aside(exc)
                try:
                    self._db = self._connect()
                except (sqlite3.Error, OSError) as again:
                    self._notice(
                        f"the session history {self.path} cannot be opened ({again}); sessions are not being kept"
                    )
            else:
                self._notice(f"the session history {self.path} cannot be opened ({exc}); sessions are not being kept")
        except OSError as exc:
            self._notice(
                f"the session history {self.path} cannot be opened ({exc.strerror or exc}); sessions are not being kept"
            )
        return self._db is not None

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Made (or narrowed to) 0600 before SQLite opens it: SQLite gives the -wal and -shm
        # files it creates the database's mode. Opening it ourselves first also tells a
        # folder or a file we may not read (OSError) from one SQLite finds corrupt.
        state_file.private_file(self.path)
        for suffix in ("-wal", "-shm"):  # left by an earlier version, with the umask's mode
            side = self.path.with_name(self.path.name + suffix)
            if side.is_file():
                state_file.private_file(side)
        db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            migrate(db)
            db.execute("SELECT COUNT(*) FROM sessions").fetchone()
        except BaseException:
            db.close()
            raise
        return db

    @staticmethod
    def _is_locked(exc: BaseException) -> bool:
        return isinstance(exc, sqlite3.OperationalError) and ("locked" in str(exc) or "busy" in str(exc))

    def _move_aside(self, exc: BaseException) -> None:
        moved = state_file.move_aside(
            self.path, f"is not a readable session history ({exc})", companions=("-wal", "-shm")
        )
        self._notice(moved.notice)

    def _notice(self, text: str) -> None:
        if text not in self.notices:
            self.notices.append(text)
            del self.notices[:-20]

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    # --- writing -------------------------------------------------------------------

    def write(self, rows: Iterable[dict], now_ts: float | None = None) -> int:
        """Keep each session row unless the stored copy is as full or fuller; returns the
        rows written. Rows are TokenHistory.session_rows()."""
        now_ts = time.time() if now_ts is None else now_ts
        with self._lock:
            fresh = []
            for row in rows:
                row = stored_row(row)
                key = (row["source"], row["session"])
                rank = _rank(row, ROW_VERSION)
                if self._written.get(key, ()) >= rank:
                    continue  # already written (or read) as full
                fresh.append((key, rank, row))
            if not fresh or not self._open():
                return 0
            try:
                return self._write(fresh, now_ts)
            except sqlite3.DatabaseError as exc:
                self._failed(exc, "write to")
                return 0

    def _write(self, fresh: list[tuple[tuple[str, str], tuple, dict]], now_ts: float) -> int:
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            written = 0
            known: dict[tuple[str, str], tuple] = {}  # ranks to remember once committed
            for key, rank, row in fresh:
                stored_rank = self._stored_rank(key)
                if stored_rank is not None and stored_rank >= rank:
                    known[key] = stored_rank
                    continue
                self._replace(key, row, now_ts)
                known[key] = rank
                written += 1
            db.execute("COMMIT")
            # Only now: rows a failed write rolled back must be tried again by the next.
            self._written.update(known)
            self._altered.difference_update(known)
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        if written:
            self.version += 1
        return written

    def _stored_rank(self, key: tuple[str, str]) -> tuple | None:
        """The rank of the row stored for ``key`` (None if there is none; the lowest rank
        if its figures are not ours, so any copy of ours replaces it)."""
        stored = self._db.execute(
            f"SELECT {', '.join(SESSION_FIELDS)}, row_version FROM sessions WHERE source = ? AND session = ?",
            key,
        ).fetchone()
        if stored is None:
            return None
        if key in self._altered:
            return ()
        quarters = self._db.execute(
            "SELECT requests FROM session_quarters WHERE source = ? AND session = ?", key
        ).fetchall()
        try:
            row = decoded(stored[:-1], {}, [])
            row["quarters"] = [(0, "", int(requests)) for (requests,) in quarters]
            return _rank(row, int(stored[-1]))
        except (ValueError, TypeError):
            return ()

    def _replace(self, key: tuple[str, str], row: dict, now_ts: float) -> None:
        """Write ``row`` over what is stored for its session, in the open transaction."""
        db = self._db
        db.execute(
            f"INSERT OR REPLACE INTO sessions (source, session, {', '.join(SESSION_FIELDS)}, "
            f"row_version, written_ts) VALUES ({', '.join('?' * (len(SESSION_FIELDS) + 4))})",
            to_sql((*key, *(row[f] for f in SESSION_FIELDS), ROW_VERSION, now_ts)),
        )
        db.execute("DELETE FROM session_models WHERE source = ? AND session = ?", key)
        db.executemany(
            f"INSERT INTO session_models (source, session, model, {', '.join(MODEL_FIELDS)}) "
            f"VALUES ({', '.join('?' * (len(MODEL_FIELDS) + 3))})",
            [to_sql((*key, model, *(m[f] for f in MODEL_FIELDS))) for model, m in row["models"].items()],
        )
        # The live history keeps a long session's recent days only: stored days
        # before the first day of this copy stay.
        first_day = min((d[0] for d in row["days"]), default=None)
        if first_day is not None:
            db.execute("DELETE FROM session_days WHERE source = ? AND session = ? AND day >= ?", (*key, first_day))
        db.executemany(
            "INSERT INTO session_days VALUES (?, ?, ?, ?, ?, ?, ?)",
            [to_sql((*key, day, model, requests, tokens, cost)) for day, model, requests, tokens, cost in row["days"]],
        )
        if first_day is not None:
            self._replace_quarters(key, row, first_day * DAY_S)

    def _replace_quarters(self, key: tuple[str, str], row: dict, from_ts: int) -> None:
        """The copy's quarter rows from ``from_ts`` on, and the stored ones it does not
        replace (``quarters_to_keep``); those before stay, as their days do."""
        db = self._db
        stored = db.execute(
            f"SELECT {_QUARTER_COLUMNS} FROM session_quarters WHERE source = ? AND session = ? AND quarter_ts >= ?",
            (*key, from_ts),
        ).fetchall()
        kept = quarters_to_keep(stored, row["quarters"], row["days"])
        db.execute("DELETE FROM session_quarters WHERE source = ? AND session = ? AND quarter_ts >= ?", (*key, from_ts))
        db.executemany(
            f"INSERT INTO session_quarters (source, session, {_QUARTER_COLUMNS}) "
            f"VALUES ({', '.join('?' * (len(QUARTER_FIELDS) + 4))})",
            [to_sql((*key, *q)) for q in (*row["quarters"], *kept)],
        )

    def _failed(self, exc: sqlite3.DatabaseError, doing: str) -> None:
        if self._is_locked(exc):
            self._notice(f"the session history {self.path} is locked by another program; will try again")
            return
        self._notice(f"could not {doing} the session history {self.path} ({exc})")
        if self._db is not None:
            self._db.close()
            self._db = None
        if is_corrupt(exc) and self.path.is_file():
            self._move_aside(exc)  # malformed: start a new one at the next write

    # --- reading -------------------------------------------------------------------

    def sessions(
        self, since_ts: float | None = None, until_ts: float | None = None, project: str | None = None
    ) -> list[dict]:
        """Stored session rows (the shape TokenHistory.session_rows gives) whose activity
        overlaps [since_ts, until_ts), of ``project`` if given; [] when unreadable."""
        where, args = ["1 = 1"], []
        if since_ts is not None:
            where.append("COALESCE(end_ts, last_ts, first_ts) >= ?")
            args.append(since_ts)
        if until_ts is not None:
            where.append("first_ts < ?")
            args.append(until_ts)
        if project is not None:
            where.append("project = ?")
            args.append(project)
        with self._lock:
            if not self._open():
                return []
            try:
                found = self._read(" AND ".join(where), args)
            except sqlite3.DatabaseError as exc:
                self._failed(exc, "read")
                return []
        return self._rows(*found)

    def _read(self, where: str, args: list) -> tuple[list, dict, dict, dict, set]:
        """The sessions matching ``where``, and the model mix, days, quarter hours and keys
        of the rows holding figures not plain integers of every stored session."""
        db = self._db
        rows = db.execute(
            f"SELECT source, session, {', '.join(SESSION_FIELDS)}, row_version FROM sessions "
            f"WHERE {where} ORDER BY first_ts, source, session",
            args,
        ).fetchall()
        models: dict[tuple, dict] = {}
        for source, session, model, *figures in db.execute(
            f"SELECT source, session, model, {', '.join(MODEL_FIELDS)} FROM session_models"
        ):
            models.setdefault((source, session), {})[model] = dict(zip(MODEL_FIELDS, figures))
        days: dict[tuple, list] = {}
        for source, session, day, model, requests, tokens, cost in db.execute(
            "SELECT * FROM session_days ORDER BY day, model"
        ):
            days.setdefault((source, session), []).append((day, model, requests, tokens, cost))
        quarters: dict[tuple, list] = {}
        for quarter in db.execute(
            f"SELECT source, session, {_QUARTER_COLUMNS} FROM session_quarters ORDER BY source, session, quarter_ts, model"
        ).fetchall():  # in the table's own order: nothing to sort
            quarters.setdefault(quarter[:2], []).append(quarter[2:])
        unplain = set(db.execute(UNPLAIN_SESSIONS).fetchall())
        return rows, models, days, quarters, unplain

    def _rows(self, rows: list, models: dict, days: dict, quarters: dict, unplain: set) -> list[dict]:
        """Session rows from what ``_read`` found; a row holding figures not ours is left
        out (with a notice) and replaced by the next write of its session."""
        out, left_out = [], 0
        for source, session, *figures, version in rows:
            key = (source, session)
            try:
                if key in unplain:
                    row = {
                        "source": source or None,
                        "session": session,
                        **decoded(figures, models.get(key, {}), days.get(key, []), quarters.get(key, [])),
                    }
                else:
                    row = {
                        "source": source or None,
                        "session": session,
                        **dict(zip(SESSION_FIELDS, figures)),
                        "models": models.get(key, {}),
                        "days": days.get(key, []),
                        "quarters": quarters.get(key, []),
                    }
                rank = _rank(row, int(version))
            except (ValueError, TypeError):
                left_out += 1
                self._altered.add(key)
                self._written.pop(key, None)
                continue
            self._written.setdefault(key, rank)
            out.append(row)
        if left_out:
            which = "1 session" if left_out == 1 else f"{left_out:,} sessions"
            self._notice(
                f"the session history {self.path} holds figures that are not ours in {which}; "
                "left out until they are written again"
            )
        return out


__all__ = [
    "MIGRATIONS",
    "MODEL_FIELDS",
    "ROW_VERSION",
    "SCHEMA_VERSION",
    "SESSION_FIELDS",
    "NewerSchema",
    "SessionStore",
    "history_path_for",
]
