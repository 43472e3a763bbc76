"""state.toml on disk: atomic writes, a schema version, corrupt files moved aside.

A save never leaves a half-written file: it writes a temporary file beside the target,
fsyncs it and ``os.replace``s it over, so a crash at any instant leaves either the old
file or the new one. What goes into the file (and keeping it small) is TokenHistory's
business; this module only moves bytes safely.
"""

from __future__ import annotations

import os
import tempfile
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

import tomli_w

SCHEMA = 1
MAX_STATE_BYTES = 256 * 1024


@dataclass(frozen=True)
class Loaded:
    data: dict | None  # None: start clean
    notice: str | None = None  # what the user should be told, if anything


def move_aside(path: Path, why: str, companions: tuple[str, ...] = ()) -> Loaded:
    """Rename an unusable file to ``<name>.corrupt-<timestamp>`` and say so; files named
    ``<name><suffix>`` for each of ``companions`` (a database's journal) go with it."""
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
    ``move_corrupt`` is False, for read-only callers), with a notice."""
    path = Path(path)

    def unusable(why: str) -> Loaded:
        if move_corrupt:
            return move_aside(path, why)
        return Loaded(None, f"{path} {why}; it was left as it is and not used")

    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Loaded(None)
    except OSError as exc:
        return Loaded(None, f"{path} could not be read ({exc.strerror or exc}); starting clean")
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return unusable(f"is not valid TOML ({exc})")
    schema = data.get("schema")
    if not isinstance(schema, int) or isinstance(schema, bool):
        return unusable("has no schema number")
    if schema > SCHEMA:
        return unusable(f"was written by a newer session-insights (schema {schema} > {SCHEMA})")
    return Loaded(migrate(data))


def migrate(data: dict) -> dict:
    """Bring an older schema up to SCHEMA. Schema 1 is the first; each later version adds
    a step here, so a file from any release loads."""
    return data


def encode(data: dict) -> bytes:
    return tomli_w.dumps({"schema": SCHEMA, **data}).encode("utf-8")


def write_atomic(path: str | os.PathLike, payload: bytes) -> None:
    """Replace ``path`` with ``payload`` so that a crash leaves the old or the new file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
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
