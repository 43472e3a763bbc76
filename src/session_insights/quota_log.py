"""The quota observations the statusline records: one JSON line each, at most
``MAX_BYTES`` on disk (past it, the newest half is kept), beside the state file.

A line holds the windows' used % and resets, the session id, the model id, the session's
cost and the time: never a prompt, a path or any other text. Claude Code may run several
statuslines at once (one per terminal): an append holds a lock on a file of its own
(``limits.jsonl.lock``; not the log itself, which a trim replaces), so no line is torn
and no trim loses one (on POSIX; Windows appends unlocked). Reading never locks: a
reader skips a line it cannot parse.

- An observation equal to the last one (same session, windows and cost) within
  ``REPEAT_S`` is not written again: Claude Code refreshes the bar every few hundred ms.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from .limits import CLAUDE_WINDOW_S, MAX_TS, MIN_TS, finite

LOG_NAME = "limits.jsonl"
STATE_ENV = "SESSION_INSIGHTS_STATE"  # as state.STATE_ENV: the log sits beside that file
MAX_BYTES = 256 * 1024
MAX_READ_BYTES = 4 * MAX_BYTES
REPEAT_S = 60.0
TAIL_BYTES = 4096
MAX_ID_CHARS = 200


def default_path() -> Path:
    """``limits.jsonl`` beside ``state.default_path()`` (computed here as there, without
    importing the state module: the statusline must start fast)."""
    named = os.environ.get(STATE_ENV, "").strip()
    if named:
        return Path(named).expanduser().parent / LOG_NAME
    import platformdirs

    return Path(platformdirs.user_data_dir("session-insights", appauthor=False)) / LOG_NAME


def clean_id(value: object) -> str | None:
    """An id (session, model) as kept: printable, at most ``MAX_ID_CHARS``, else None."""
    if not isinstance(value, str) or not value or len(value) > MAX_ID_CHARS or not value.isprintable():
        return None
    return value


def clean(obs: object) -> dict | None:
    """An observation as it may be kept or used, or None: every field checked, unknown
    fields dropped (a line read back is as untrusted as the statusline's input)."""
    if not isinstance(obs, dict):
        return None
    ts = finite(obs.get("ts"), MIN_TS, MAX_TS)
    if ts is None:
        return None
    windows = {}
    raw_windows = obs.get("windows")
    for name in CLAUDE_WINDOW_S:
        window = raw_windows.get(name) if isinstance(raw_windows, dict) else None
        used = finite(window.get("used_percent"), 0.0, 1e4) if isinstance(window, dict) else None
        if used is not None:
            windows[name] = {"used_percent": used, "resets_at_ts": finite(window.get("resets_at_ts"), MIN_TS, MAX_TS)}
    return {
        "ts": ts,
        "source": "claude",
        "session": clean_id(obs.get("session")),
        "model": clean_id(obs.get("model")),
        "cost_usd": finite(obs.get("cost_usd"), 0.0, 1e9),
        "windows": windows,
    }


def _same(a: dict, b: dict) -> bool:
    return all(a.get(k) == b.get(k) for k in ("session", "model", "cost_usd", "windows"))


def _last_line(fd: int) -> dict | None:
    size = os.fstat(fd).st_size
    tail = os.pread(fd, TAIL_BYTES, max(0, size - TAIL_BYTES))
    lines = tail.rstrip(b"\n").rsplit(b"\n", 1)
    try:
        return clean(json.loads(lines[-1]))
    except (ValueError, RecursionError):
        return None


def _lock(fd: int) -> None:
    if sys.platform != "win32":
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX)


def _trim(path: Path, fd: int) -> None:
    """Keep the newest half of the log (whole lines), replacing it atomically."""
    size = os.fstat(fd).st_size
    keep = os.pread(fd, MAX_BYTES // 2, size - MAX_BYTES // 2)
    keep = keep[keep.find(b"\n") + 1 :]
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as out:
        out.write(keep)
    os.replace(temp, path)


def append(obs: dict, path: Path | None = None) -> bool:
    """Record ``obs`` (cleaned); returns whether a line was written. Raises OSError."""
    obs = clean(obs)
    if obs is None:
        return False
    path = default_path() if path is None else path
    if not path.parent.is_dir():
        os.makedirs(path.parent, mode=0o700, exist_ok=True)
    lock_fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        _lock(lock_fd)  # released with the close
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            last = _last_line(fd)
            if last is not None and _same(last, obs) and 0 <= obs["ts"] - last["ts"] < REPEAT_S:
                return False
            os.write(fd, json.dumps(obs, separators=(",", ":")).encode() + b"\n")
            if os.fstat(fd).st_size > MAX_BYTES:
                _trim(path, fd)
        finally:
            os.close(fd)
    finally:
        os.close(lock_fd)
    return True


def read(path: Path | None = None, max_bytes: int = MAX_READ_BYTES) -> list[dict]:
    """The observations kept, oldest first, from the last ``max_bytes`` of the log (the
    panel reads a short tail: it needs only the latest); a missing or unreadable log is
    none, a line that does not parse (or is cut by the tail) is skipped."""
    path = default_path() if path is None else path
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            f.seek(max(0, size - max_bytes))
            data = f.read(max_bytes)
    except OSError:
        return []
    out = []
    for line in data.splitlines():
        try:
            obs = clean(json.loads(line))
        except (ValueError, RecursionError):
            continue
        if obs is not None:
            out.append(obs)
    return out
