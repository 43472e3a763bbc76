"""state.toml on disk: atomic writes, a schema version, corrupt files moved aside.

A save never leaves a half-written file: it writes a temporary file beside the target,
fsyncs it and ``os.replace``s it over, so a crash at any instant leaves either the old
file or the new one; the temporary files of killed saves are removed at the next load.
What goes into the file (and keeping it small) is TokenHistory's business; this module
only moves bytes safely. Every file it writes is the user's alone (mode 0600), in a folder
it makes 0700: it says what they spend and on which projects.

Where the files live when no ``--state`` names one: ``default_path()``, in the per-user
data folder, never the working folder (a history that depends on where one stands is
a different history in every folder).
"""

from __future__ import annotations

import errno
import os
import re
import stat
import tempfile
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

import orjson
import tomli_w

from . import state_cache

APP_NAME = "session-insights"
STATE_ENV = "SESSION_INSIGHTS_STATE"  # names the state file when no --state does
STATE_NAME = "state.toml"
SCHEMA = 1
MAX_STATE_BYTES = 256 * 1024
# A file larger than this is none of ours (we write at most MAX_STATE_BYTES): it is moved
# aside unread rather than parsed in memory.
MAX_READ_BYTES = 16 * 1024 * 1024
# A temporary file of a save is removed at the next load once it is this old: younger,
# it may be another process's save under way (a save takes milliseconds).
STALE_TEMP_S = 10.0
_TEMP_PREFIX, _TEMP_SUFFIX = ".", ".tmp"  # mkstemp's names: .<name>.<8 random chars>.tmp


def data_folder() -> Path:
    """The per-user folder the app and ``report`` keep their files in: on Linux
    ``$XDG_DATA_HOME/session-insights``, else ``~/.local/share/session-insights``; the
    platform's own folder elsewhere."""
    import platformdirs  # here: a host app that passes its own state path never needs it

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def default_path() -> Path:
    """The state file when no ``--state`` names one: ``$SESSION_INSIGHTS_STATE``, else
    ``state.toml`` in ``data_folder()``. The layout file and the durable history sit
    beside it."""
    named = os.environ.get(STATE_ENV, "").strip()
    return Path(named).expanduser() if named else data_folder() / STATE_NAME


def make_folder(folder: str | os.PathLike) -> None:
    """Create ``folder`` and the folders above it that are missing, each 0700 (as the XDG
    base-directory spec asks); one that exists is left as it is. Raises OSError, also
    when a file stands where a folder must be."""
    missing = []
    folder = Path(folder)
    while not folder.is_dir() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    for path in reversed(missing):
        if os.path.lexists(path) and not path.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, "a file stands where a folder must be", str(path))
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            if not path.is_dir():  # made meanwhile by another process: only a folder will do
                raise


@dataclass(frozen=True)
class Loaded:
    data: dict | None  # None: start clean
    notice: str | None = None  # what the user should be told, if anything


def move_aside(path: Path, why: str, companions: tuple[str, ...] = ()) -> Loaded:
    """Rename an unusable file to ``<name>.corrupt-<timestamp>`` and say so; files named
    ``<name><suffix>`` for each of ``companions`` (a database's journal) go with it."""
    if not path.is_file():  # a folder or a device (/dev/null, for root) is never ours to rename
        return Loaded(None, f"{path} {why}; it is not a regular file and was left as it is")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    backup = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while backup.exists():
        backup = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
        n += 1
    try:
        os.replace(path, backup)
        for suffix in companions:
            side = path.with_name(path.name + suffix)
            if side.exists():
                os.replace(side, backup.with_name(backup.name + suffix))
    except OSError as exc:
        return Loaded(None, f"{path} {why}, and could not be moved aside ({exc}); starting clean")
    return Loaded(None, f"{path} {why}; moved it to {backup.name} and started clean")


def load(path: str | os.PathLike, *, move_corrupt: bool = True) -> Loaded:
    """Read a state file. Missing -> clean start; unreadable -> moved aside (unless
    ``move_corrupt`` is False, for read-only callers), with a notice. A writer's load
    (``move_corrupt``) also removes the temporary files that killed saves left."""
    path = Path(path)

    def unusable(why: str) -> Loaded:
        if move_corrupt:
            return move_aside(path, why)
        return Loaded(None, f"{path} {why}; it was left as it is and not used")

    if move_corrupt:
        remove_stale_temps(path)
        remove_stale_temps(state_cache.cache_path(path))
    try:
        raw = _read_bounded(path)
    except FileNotFoundError:
        return Loaded(None)
    except OSError as exc:
        return Loaded(None, f"{path} could not be read ({exc.strerror or exc}); starting clean")
    if raw is None:
        return unusable(f"is larger than {MAX_READ_BYTES // (1024 * 1024)} MiB, far more than a state file holds")
    data = state_cache.cached(path, raw)
    parsed = data is None
    if parsed:
        try:
            data = tomllib.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            return unusable(f"is not valid TOML ({exc})")
        except Exception as exc:
            return unusable(f"is not valid TOML ({type(exc).__name__}: {exc})")
    schema = data.get("schema")
    if not isinstance(schema, int) or isinstance(schema, bool):
        return unusable("has no schema number")
    if schema > SCHEMA:
        return unusable(f"was written by a newer session-insights (schema {schema} > {SCHEMA})")
    if parsed and move_corrupt:  # a writer's load: the next start reads the copy
        keep_copy(path, raw, data)
    return Loaded(migrate(data))


# ``[limits]``: the user's own plan limits (``limits_estimate.PlanLimits``), by key: whole
# tokens or USD, each above 0. Only the user writes them; a save keeps them as they are.
PLAN_LIMIT_KEYS = {
    "five_hour_tokens": "tokens",
    "five_hour_cost_usd": "usd",
    "weekly_tokens": "tokens",
    "weekly_cost_usd": "usd",
}
MAX_PLAN_TOKENS = 10**15
MAX_PLAN_USD = 1e9


def plan_limits(value: object) -> dict[str, int | float]:
    """The ``[limits]`` table of a state, checked: ``decode.CorruptState`` (one line,
    naming the key) for an unknown key or a value that is not a limit."""
    from . import decode

    table = decode.table(value, "limits")
    out: dict[str, int | float] = {}
    for key, limit in table.items():
        unit = PLAN_LIMIT_KEYS.get(key)
        where = f"limits.{key}"
        if unit is None:
            raise decode.CorruptState(where, f"is not a limit (one of {', '.join(PLAN_LIMIT_KEYS)})")
        if unit == "tokens":
            out[key] = decode.whole(limit, where, 1, MAX_PLAN_TOKENS)
        else:
            out[key] = decode.number(limit, where, 0.01, MAX_PLAN_USD)
    return out


def read_plan_limits(path: str | os.PathLike) -> tuple[dict[str, int | float], str | None]:
    """The ``[limits]`` of the state file at ``path``, read only (a missing file or table
    is none), and a notice when the file or its table cannot be used."""
    loaded = load(path, move_corrupt=False)
    if loaded.data is None or "limits" not in loaded.data:
        return {}, loaded.notice
    try:
        return plan_limits(loaded.data["limits"]), None
    except ValueError as exc:
        return {}, f"{path}: {exc}; no plan limit used"


def _read_bounded(path: Path) -> bytes | None:
    """The bytes of a regular file, or None if it holds more than MAX_READ_BYTES (read
    no further than that). Raises OSError, also for a folder or a device."""
    # O_NONBLOCK: a FIFO named by mistake must not hang the start.
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    with os.fdopen(fd, "rb", buffering=0) as f:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(
                errno.EISDIR if stat.S_ISDIR(st.st_mode) else errno.EINVAL,
                "it is a folder" if stat.S_ISDIR(st.st_mode) else "it is not a regular file",
            )
        if st.st_size > MAX_READ_BYTES:
            return None
        raw = f.read(MAX_READ_BYTES + 1)  # it may have grown since
    return None if len(raw) > MAX_READ_BYTES else raw


def remove_stale_temps(path: Path, now_ts: float | None = None) -> int:
    """Remove the temporary files of saves of ``path`` killed before their rename (ours
    only: ``.<name>.<8 chars>.tmp``, at least STALE_TEMP_S old); returns how many."""
    pattern = re.compile(re.escape(f"{_TEMP_PREFIX}{path.name}.") + r"[a-z0-9_]{8}" + re.escape(_TEMP_SUFFIX))
    cutoff_ts = (time.time() if now_ts is None else now_ts) - STALE_TEMP_S
    removed = 0
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return 0
    for entry in entries:
        if not pattern.fullmatch(entry.name):
            continue
        try:
            if entry.is_file(follow_symlinks=False) and entry.stat(follow_symlinks=False).st_mtime < cutoff_ts:
                os.unlink(entry.path)
                removed += 1
        except OSError:
            pass  # gone already, or not ours to remove
    return removed


def private_file(path: str | os.PathLike) -> None:
    """Create ``path`` empty with mode 0600 if it is missing, or take group and others'
    access away from one we own, so what it says stays the user's own. Raises OSError
    (a folder, or a file we may not open)."""
    # O_NONBLOCK: a FIFO named by mistake must not hang the open.
    fd = os.open(path, os.O_RDONLY | os.O_CREAT | getattr(os, "O_NONBLOCK", 0), 0o600)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(errno.EINVAL, "it is not a regular file", str(path))
        _narrow(fd, st)
    finally:
        os.close(fd)


def _narrow(fd: int, st: os.stat_result) -> None:
    if st.st_mode & 0o077 and hasattr(os, "fchmod") and hasattr(os, "getuid") and st.st_uid == os.getuid():
        os.fchmod(fd, stat.S_IMODE(st.st_mode) & 0o700)


def migrate(data: dict) -> dict:
    """Bring an older schema up to SCHEMA. Schema 1 is the first; each later version adds
    a step here, so a file from any release loads."""
    return data


def encode(data: dict) -> bytes:
    return tomli_w.dumps({"schema": SCHEMA, **data}).encode("utf-8")


def _flat_rows(value: object) -> bool:
    """A non-empty array of tables none of whose values is a table or an array of them
    (tomli-w writes an array as one only when its first item is a table): each row can
    be written on its own, as ``[[name]]`` and its ``key = value`` lines."""
    return type(value) is list and bool(value) and all(type(row) is dict and _flat(row) for row in value)


def _flat(row: dict) -> bool:
    return not any(type(v) is dict or (type(v) is list and v and type(v[0]) is dict) for v in row.values())


class Encoder:
    """``encode``, keeping the TOML of each row of the arrays of tables for the next call.

    A save writes the same rows again and again (past sessions, their days, finished
    tickets), and a save that must shrink the state encodes it several times; tomli-w
    costs ~80 us a row. A row is kept by its content (orjson's bytes of it), so what
    changed is written anew and nothing else; only the rows of the last call are kept.
    The file reads back as ``encode``'s does (the order of its tables may differ).
    """

    def __init__(self) -> None:
        self._rows: dict[bytes, str] = {}
        self.sizes: dict[str, int] = {}  # characters of each array of tables at the last call

    def encode(self, data: dict) -> bytes:
        data = {"schema": SCHEMA, **data}
        arrays = {k: v for k, v in data.items() if _flat_rows(v)}
        chunks = [tomli_w.dumps({k: v for k, v in data.items() if k not in arrays})]
        kept: dict[bytes, str] = {}
        self.sizes = {}
        for name, rows in arrays.items():
            first = len(chunks)
            header = f"\n[[{tomli_w.dumps({name: 0}).split(' = ')[0]}]]\n"
            for row in rows:
                try:
                    key = orjson.dumps((name, row))
                except TypeError:  # an int past 64 bits: written, not kept
                    chunks.append(header + tomli_w.dumps(row))
                    continue
                text = kept.get(key) or self._rows.get(key)
                if text is None:
                    text = header + tomli_w.dumps(row)
                kept[key] = text
                chunks.append(text)
            self.sizes[name] = sum(map(len, chunks[first:]))
        self._rows = kept
        return "".join(chunks).encode("utf-8")


def write_state(path: Path, payload: bytes, data: dict) -> None:
    """Replace the state file with ``payload``, the TOML of ``data`` (``Encoder.encode``'s
    ``{"schema": SCHEMA, **data}``), and keep its parsed copy for the next start."""
    write_atomic(path, payload)
    keep_copy(path, payload, {"schema": SCHEMA, **data})


def keep_copy(path: Path, toml_bytes: bytes, data: dict) -> None:
    """Write the parsed copy of the state at ``path`` (``state_cache``), or remove an old
    one when JSON cannot carry ``data``. A convenience: not made durable, and a failure
    costs the next start only its TOML parse."""
    copy, copy_path = state_cache.copy_of(toml_bytes, data), state_cache.cache_path(path)
    try:
        if copy is None:
            copy_path.unlink(missing_ok=True)
        else:
            write_atomic(copy_path, copy, durable=False)
    except OSError:
        pass


def write_atomic(path: str | os.PathLike, payload: bytes, durable: bool = True) -> None:
    """Replace ``path`` with ``payload`` so that a crash leaves the old or the new file;
    ``durable``: on disk before it returns (fsynced, and the rename too)."""
    path = Path(path)
    make_folder(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f"{_TEMP_PREFIX}{path.name}.", suffix=_TEMP_SUFFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    if not durable:
        return
    try:  # make the rename itself durable
        dir_fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def lock_for_writing(path: Path) -> int | None:
    """Hold ``.<name>.lock`` beside a state file for as long as this process writes it: a
    descriptor to close when done, or None if another process holds it (two writers of
    one state would each save over the other's counts). A POSIX record lock: it belongs
    to the process, so a restart within one process (a test, a host re-creating its
    history) takes it again. Where the platform has none, every caller gets it."""
    try:
        import fcntl
    except ImportError:  # Windows: one writer is the user's to ensure
        return -1
    lock_path = path.with_name(f".{path.name}.lock")
    make_folder(path.parent)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd
