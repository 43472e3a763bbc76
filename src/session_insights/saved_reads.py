"""What a saved state has read: the request keys it counted and the read position it
reached in each log file, kept beside state.toml in the durable history. The keys make
a copy of a request seen again after a restart count never twice, however many
requests lie between (a resumed session copies hundreds of earlier messages into a new
file); the positions make a restart read only new bytes, for any number of files,
while state.toml stays within its size budget.

What it keeps: a key as a 64-bit digest (never the key itself); a position as the
path's digest and its numbers; each tagged with the generation of the save that wrote
it, and a row in ``saves`` per completed generation. Keys written more than
``KEEP_DAYS`` ago go; a file's positions older than its latest committed one go.

What a reader can rely on: what is read with a state file is what that state counted.
Rows are written before the state that names their generation; a crash in between
leaves rows of a generation no state names, which a reader ignores and the next
writer deletes, so the lines they came from are read and counted again. A state whose
generation has no ``saves`` row here (the file was removed or replaced) cannot tell
its counted requests from new ones: the caller starts clean.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from array import array
from pathlib import Path

from . import state as state_file
from .store_values import is_corrupt

KEEP_DAYS = 120
MAX_PENDING = 2_000_000  # keys counted since the last save (16 MB); older ones are not kept past it
DAY_S = 86_400
BUSY_TIMEOUT_S = 0.2
_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS request_keys (
        digest INTEGER PRIMARY KEY,
        generation INTEGER NOT NULL,
        day INTEGER NOT NULL  -- UTC day it was written, for pruning
    ) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS read_positions (
        file TEXT NOT NULL,  -- a digest of the file's path
        generation INTEGER NOT NULL,
        position TEXT NOT NULL,  -- decode.position_row
        PRIMARY KEY (file, generation)
    ) WITHOUT ROWID""",
    # state_id: the state file's own id, so a state copied in from elsewhere is not taken
    # for the one whose reads these are.
    """CREATE TABLE IF NOT EXISTS saves (
        generation INTEGER PRIMARY KEY,
        state_id TEXT NOT NULL,
        saved_ts REAL NOT NULL
    )""",
)
OPEN_TIMEOUT_S = 5.0  # another process's save holds the write lock for milliseconds


def key_digest(request_key: str) -> int:
    """A request key as a signed 64-bit integer (SQLite's INTEGER)."""
    raw = hashlib.blake2b(request_key.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(raw, "little", signed=True)


def _is_busy(exc: BaseException | None) -> bool:
    """Another connection holds the file's lock (it is being written right now)."""
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


class SavedReads:
    """The keys and positions of the saves of one state file, in the SQLite file at ``path``.

    ``generation`` and ``state_id``: what the state file names (0 and "" for none).
    Read-only opens never write, not even to create the file. A writer that cannot write
    now (locked, disk full, a read-only folder) still reads, and its next ``write``
    tries again; a file SQLite finds is no database is moved aside. One that cannot be
    read at all leaves ``problem`` saying why, and ``unavailable`` true.
    """

    def __init__(self, path: str | os.PathLike, generation: int = 0, state_id: str = "", *, read_only: bool = False):
        self.path = Path(path)
        self.generation = generation
        self.state_id = state_id
        self.read_only = read_only
        self.problem: str | None = None
        self.moved_aside: str | None = None  # the notice, if a damaged file was moved aside
        self.writable = False
        self.may_hold = False  # whether any trusted key is stored (else a look-up is skipped)
        self._lock = threading.Lock()
        self._pending = array("q")
        # Opened now only if it exists: a state that never saves creates no file.
        self._db = self._connect() if self.path.exists() else None

    @property
    def unavailable(self) -> bool:
        return self.problem is not None

    def _connect(self) -> sqlite3.Connection | None:
        """A connection: a writer's if it may write now, else a reader's; None (and
        ``problem``) if the file cannot even be read."""
        why: BaseException | None = None
        if not self.read_only:
            try:
                db = self._checked(self._open_writer())
            except sqlite3.DatabaseError as exc:
                if is_corrupt(exc) and self.path.is_file():
                    self.moved_aside = state_file.move_aside(
                        self.path, f"is not a readable session history ({exc})", companions=("-wal", "-shm")
                    ).notice
                    return self._connect()
                why = exc
            except OSError as exc:
                why = exc
            else:
                self.writable, self.problem = True, None
                return db
        # A read-only folder has no -shm to share: immutable is then the only way in, and safe,
        # since nothing can write there either. Never past a lock: that one is being written.
        for flags in ("mode=ro", "mode=ro&immutable=1"):
            if flags.endswith("immutable=1") and _is_busy(why):
                break
            try:
                db = sqlite3.connect(
                    f"{self.path.absolute().as_uri()}?{flags}",
                    uri=True,
                    timeout=OPEN_TIMEOUT_S,
                    check_same_thread=False,
                    isolation_level=None,
                )
                return self._checked(db)
            except sqlite3.Error as exc:
                why = exc if why is None or _is_busy(exc) else why
        self.problem = f"what the saved state read, kept in {self.path}, cannot be read now ({why})"
        return None

    def _open_writer(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        state_file.private_file(self.path)  # before SQLite: its -wal / -shm take this mode
        db = sqlite3.connect(self.path, timeout=OPEN_TIMEOUT_S, check_same_thread=False, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            for statement in _SCHEMA:
                db.execute(statement)
            # Rows of a save that never completed are not this state's.
            for table in ("request_keys", "read_positions", "saves"):
                db.execute(f"DELETE FROM {table} WHERE generation > ?", (self.generation,))
            db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        except BaseException:
            db.close()
            raise
        return db

    def _checked(self, db: sqlite3.Connection) -> sqlite3.Connection:
        """``db`` once it answers; whether it holds any key of this state's saves."""
        try:
            has = db.execute("SELECT 1 FROM request_keys WHERE generation <= ? LIMIT 1", (self.generation,)).fetchone()
        except sqlite3.OperationalError as exc:
            if _is_busy(exc):  # it answers only once its writer lets go: not now
                db.close()
                raise
            has = None  # no such table: a history of before keys were kept
        self.may_hold = has is not None
        return db

    def knows_generation(self) -> bool:
        """Whether the save the state names is recorded here (always, for generation 0)."""
        if self.generation == 0:
            return True
        if self._db is None:
            return False
        with self._lock:
            try:
                return (
                    self._db.execute(
                        "SELECT 1 FROM saves WHERE generation = ? AND state_id = ?", (self.generation, self.state_id)
                    ).fetchone()
                    is not None
                )
            except sqlite3.Error:
                return False  # a table missing: a file of before positions were kept

    def positions(self) -> dict[str, str]:
        """Each file's latest saved position row (by path digest), of this state's saves."""
        if self._db is None:
            return {}
        with self._lock:
            try:
                return dict(
                    self._db.execute(
                        "SELECT file, position FROM read_positions p WHERE generation = (SELECT MAX(generation) "
                        "FROM read_positions q WHERE q.file = p.file AND q.generation <= ?)",
                        (self.generation,),
                    )
                )
            except sqlite3.Error:
                return {}

    def counted(self, digest: int) -> bool:
        """Whether a save of this state counted the request with this key digest."""
        if not self.may_hold or self._db is None:
            return False
        with self._lock:
            try:
                row = self._db.execute(
                    "SELECT 1 FROM request_keys WHERE digest = ? AND generation <= ?", (digest, self.generation)
                ).fetchone()
            except sqlite3.Error:
                return False  # busy or gone: counting again is the lesser harm than losing a request
        return row is not None

    def add(self, digest: int) -> None:
        """A key counted in this run, to be written with the next save."""
        if self.read_only:
            return
        if len(self._pending) >= MAX_PENDING:
            del self._pending[: MAX_PENDING // 8]
        self._pending.append(digest)

    def add_all(self, digests: array) -> None:
        """Keys counted in this run, many at once (a worker's, handed over)."""
        if self.read_only:
            return
        self._pending.extend(digests)
        if len(self._pending) > MAX_PENDING:
            del self._pending[: len(self._pending) - MAX_PENDING + MAX_PENDING // 8]

    def take_pending(self) -> array:
        """The keys counted since the last save, handed over (call under the history's lock)."""
        taken, self._pending = self._pending, array("q")
        return taken

    def give_back(self, pending: array) -> None:
        """Keys whose save failed, kept for the next one."""
        self._pending = pending + self._pending

    def write(self, pending: array, positions: dict[str, str], generation: int, now_ts: float) -> None:
        """Store keys and changed positions under ``generation``, before the state naming
        it is written. Raises sqlite3.Error or OSError; nothing of it is kept then."""
        if self.read_only:
            return
        if not self.writable or self._db is None:  # not writable at start, or closed: (re)open
            if self._db is not None:
                self._db.close()
            self._db = self._connect()
            if not self.writable:
                raise OSError(self.problem or f"{self.path} cannot be written now")
        today = int(now_ts // DAY_S)
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                # A key already stored keeps its generation: it was counted by that save.
                db.executemany(
                    "INSERT OR IGNORE INTO request_keys VALUES (?, ?, ?)",
                    ((digest, generation, today) for digest in pending),
                )
                db.executemany(
                    "INSERT OR REPLACE INTO read_positions VALUES (?, ?, ?)",
                    ((file, generation, row) for file, row in positions.items()),
                )
                db.execute("INSERT OR REPLACE INTO saves VALUES (?, ?, ?)", (generation, self.state_id, now_ts))
                self._prune(db, today)
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
        if pending:
            self.may_hold = True

    def _prune(self, db: sqlite3.Connection, today: int) -> None:
        """What no state can need any more: old keys, positions superseded by a committed
        one (``self.generation``, the last save that completed), earlier saves' rows."""
        committed = self.generation
        db.execute("DELETE FROM request_keys WHERE day < ?", (today - KEEP_DAYS,))
        db.execute(
            "DELETE FROM read_positions WHERE generation < (SELECT MAX(generation) FROM read_positions q "
            "WHERE q.file = read_positions.file AND q.generation <= ?)",
            (committed,),
        )
        db.execute("DELETE FROM saves WHERE generation < ?", (committed,))

    def forget(self) -> None:
        """Every key and position goes (the figures that counted them were reset)."""
        with self._lock:
            self._pending = array("q")
            self.may_hold = False
            if self._db is not None and not self.read_only:
                try:
                    for table in ("request_keys", "read_positions", "saves"):
                        self._db.execute(f"DELETE FROM {table}")
                except sqlite3.Error:
                    pass  # the next open deletes them: their generation is then unnamed
            self.generation = 0

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
            self.writable = False
