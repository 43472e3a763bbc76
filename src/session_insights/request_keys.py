"""The request keys a saved state has counted, kept on disk so that a copy of a request
seen again after a restart never counts twice, however many requests lie between (a
resumed session copies hundreds of earlier messages into a new file).

What it keeps: one row per key, a 64-bit digest of the key (never the key itself) and
the generation of the state save that counted it, in a table of the durable history
beside state.toml; rows written more than ``KEEP_DAYS`` ago go (the agents' own logs
rarely outlive a month, and a session resumed after that is rarer still). What a reader can rely on: a key is "counted" only if the
state file it is read with holds its request. Keys are written before the state that
counts them, under that state's next generation; the state then names it. A crash in
between leaves keys of a generation no state names: they are not trusted (a reader
ignores them, the next writer deletes them), so the lines they came from count again.

state.toml itself keeps the latest copies in full (``SAVED_DEDUP_KEYS``): a larger
streamed copy of one of those replaces it exactly; of an older request it is ignored.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from array import array
from pathlib import Path

from . import state as state_file

KEEP_DAYS = 120
MAX_PENDING = 2_000_000  # keys counted since the last save (16 MB); older ones are not kept past it
DAY_S = 86_400
BUSY_TIMEOUT_S = 0.2
_SCHEMA = """CREATE TABLE IF NOT EXISTS request_keys (
    digest INTEGER PRIMARY KEY,
    generation INTEGER NOT NULL,
    day INTEGER NOT NULL  -- UTC day it was written, for pruning
) WITHOUT ROWID"""


def key_digest(request_key: str) -> int:
    """A request key as a signed 64-bit integer (SQLite's INTEGER)."""
    raw = hashlib.blake2b(request_key.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(raw, "little", signed=True)


class SavedKeys:
    """The keys counted by the saves of one state file, in the SQLite file at ``path``.

    ``generation``: the one the state file names (0 for none). Read-only opens never
    write, not even to create the file; a file that cannot be opened makes this an
    empty set with ``problem`` saying why (the figures then stay exact for what this
    run reads, as before keys were kept).
    """

    def __init__(self, path: str | os.PathLike, generation: int = 0, *, read_only: bool = False):
        self.path = Path(path)
        self.generation = generation
        self.read_only = read_only
        self.problem: str | None = None
        self.may_hold = False  # whether any trusted key is stored (else a look-up is skipped)
        self._lock = threading.Lock()
        self._pending = array("q")
        # Opened now only if it exists: a state that never saves a key creates no file.
        self._db = self._connect() if self.path.is_file() else None

    def _connect(self) -> sqlite3.Connection | None:
        try:
            if self.read_only:
                db = sqlite3.connect(f"{self.path.absolute().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S,
                                     check_same_thread=False, isolation_level=None)
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                state_file.private_file(self.path)  # before SQLite: its -wal / -shm take this mode
                db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, check_same_thread=False,
                                     isolation_level=None)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute(_SCHEMA)
                # Keys of a save that never completed are not this state's.
                db.execute("DELETE FROM request_keys WHERE generation > ?", (self.generation,))
            has = db.execute("SELECT 1 FROM request_keys WHERE generation <= ? LIMIT 1",
                             (self.generation,)).fetchone()
            self.may_hold = has is not None
            return db
        except (sqlite3.Error, OSError) as exc:
            self.problem = f"the saved request keys in {self.path} cannot be used ({exc}); " \
                           "a request read again after this restart may count twice"
            return None

    def counted(self, digest: int) -> bool:
        """Whether a save of this state counted the request with this key digest."""
        if not self.may_hold or self._db is None:
            return False
        with self._lock:
            try:
                row = self._db.execute("SELECT 1 FROM request_keys WHERE digest = ? AND generation <= ?",
                                       (digest, self.generation)).fetchone()
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

    def take_pending(self) -> array:
        """The keys counted since the last save, handed over (call under the history's lock)."""
        taken, self._pending = self._pending, array("q")
        return taken

    def give_back(self, pending: array) -> None:
        """Keys whose save failed, kept for the next one."""
        self._pending = pending + self._pending

    def write(self, pending: array, generation: int, now_ts: float) -> None:
        """Store ``pending`` under ``generation``, before the state naming it is written.
        Raises sqlite3.Error or OSError; the caller keeps the state it had then."""
        if self._db is None:
            if self.read_only or not pending:
                return
            self._db = self._connect()
            if self._db is None:
                raise OSError(self.problem)
        today = int(now_ts // DAY_S)
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                # A key already stored keeps its generation: it was counted by that save.
                db.executemany("INSERT OR IGNORE INTO request_keys VALUES (?, ?, ?)",
                               ((digest, generation, today) for digest in pending))
                db.execute("DELETE FROM request_keys WHERE day < ?", (today - KEEP_DAYS,))
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
        if pending:
            self.may_hold = True

    def forget(self) -> None:
        """Every key goes (the figures that counted them were reset)."""
        with self._lock:
            self._pending = array("q")
            self.may_hold = False
            if self._db is not None and not self.read_only:
                try:
                    self._db.execute("DELETE FROM request_keys")
                except sqlite3.Error:
                    pass  # the next open deletes them: their generation is then unnamed
            self.generation = 0

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
