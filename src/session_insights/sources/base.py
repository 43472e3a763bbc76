"""What every log source shares: finding its files, tailing each by byte offset with the
position kept in the history (so state.toml carries it), and counting bad lines.

An adapter subclasses LineSource and implements ``parse(line, file)``, returning the
normalised records a line holds; format quirks stay in the adapter. An adapter that
carries context from line to line within a file (a session id, the current model, a
running total) implements ``resume(file, head)`` too: after a restart, a file gets its
already-read head passed there once, when it first grows past its saved offset, to
rebuild that context without counting anything again.

A file its writer rewrites in full at every change (one JSON document, not lines) is
read whole with ``read_whole`` instead, whenever its identity, size or time changes.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import NamedTuple

import orjson

from ..events import Rating, SessionMark, TicketUpdate, ToolCall, UsageEvent
from ..history import TokenHistory, supersedes
from .tail import FileTail, Position

Record = UsageEvent | ToolCall | TicketUpdate | Rating | SessionMark
PARALLEL_MIN_BYTES = 64 * 1024 * 1024  # below this, starting processes costs more than it saves
# A whole file that does not parse and changed this recently is probably being rewritten:
# read it again at the next poll before calling it bad.
REWRITE_SETTLE_S = 2.0
# What a line (or an entry of a whole file) that cannot be read raises: one bad line.
# OverflowError: a number too large for a float or a time (``1e400``, a 400-digit integer).
BAD_LINE = (ValueError, TypeError, KeyError, AttributeError, OverflowError, orjson.JSONDecodeError)


def project_name(cwd: object) -> str | None:
    """A session's project as a person names it: the last part of its working folder."""
    if not isinstance(cwd, str) or not cwd.strip():
        return None
    name = cwd.strip().replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    return name or None


class Memory(OrderedDict):
    """What a source remembers between lines (open tool calls, ids already counted),
    bounded: past ``limit`` entries the least recently remembered are forgotten."""

    def __init__(self, limit: int):
        super().__init__()
        self.limit = limit

    def remember(self, key: object, value: object = None) -> None:
        self[key] = value
        self.move_to_end(key)
        if len(self) > self.limit:
            self.popitem(last=False)


class SourceError(Exception):
    """A source that cannot be read at all (missing path, bad spec): one line for the user."""


class WholeFile(NamedTuple):
    """A file read whole: what ``load`` made of it, its stat, and whether it is the first
    read of it by this source."""

    content: object
    stat: os.stat_result
    first: bool


class LineSource:
    """Lines of JSON from one file, or from the matching files under a folder."""

    kind = "lines"
    pattern = "*.jsonl"
    logs_name = "logs"  # what an agent's logs are called, for "no Codex CLI logs found"

    @staticmethod
    def default_roots() -> list[Path]:
        """The folders an agent writes its logs to, read when no path is given (none here)."""
        return []

    def __init__(self, path: str | os.PathLike | list[Path] | None, history: TokenHistory):
        """``path``: a file, a folder (searched recursively for ``pattern``), several, or
        None for the agent's default folders that exist."""
        if path is None:
            path = [root for root in self.default_roots() if root.is_dir()]
            if not path:
                raise SourceError(f"{self.kind}: no {self.logs_name} found (looked in "
                                  + ", ".join(str(r) for r in self.default_roots()) + ")")
        self.roots = [Path(p).expanduser() for p in path] if isinstance(path, list) else [Path(path).expanduser()]
        self.history = history
        for root in self.roots:
            if not root.exists():
                raise SourceError(f"{self.kind}: {root} does not exist")
        self.tails: dict[str, FileTail] = {}
        self._to_resume: set[str] = set()  # files read before a restart whose context is not rebuilt yet
        self._whole_seen: dict[str, tuple[int, int, int, int]] = {}  # file -> (inode, device, size, mtime_ns) read
        self.label = f"{self.kind}:{','.join(str(r) for r in self.roots)}"
        history.source_labels.add(self.label)

    def files(self) -> list[Path]:
        out: list[Path] = []
        for root in self.roots:
            if root.is_file():
                out.append(root)
            elif root.is_dir():
                out.extend(sorted(p for p in root.rglob(self.pattern) if self.wanted(p) and p.is_file()))
        return out

    @staticmethod
    def wanted(path: Path) -> bool:
        """Whether a file under a folder that matches ``pattern`` is one of this format's."""
        return True

    def parse(self, line: bytes, file: str) -> Iterable[Record]:
        raise NotImplementedError

    def resume(self, file: str, head: Iterable[bytes]) -> None:
        """Rebuild per-file context from lines read before a restart (none by default)."""

    def _open_tail(self, path: Path, key: str) -> FileTail:
        tail = FileTail(path, Position.from_dict(self.history.offset_for(key)))
        if tail.pos.offset and type(self).resume is not LineSource.resume:
            self._to_resume.add(key)
        return tail

    def _resume_if_grown(self, path: Path, key: str, pos: Position) -> None:
        """Hand a file's already-read head to ``resume`` once, when it first has new bytes
        after a restart (a file read again from its start needs no head)."""
        st = path.stat()
        if (st.st_ino, st.st_dev) != (pos.inode, pos.device) or st.st_size < pos.offset:
            self._to_resume.discard(key)
        elif st.st_size > pos.offset:
            self._to_resume.discard(key)
            self.resume(key, FileTail(path).read_lines(pos.offset))

    def poll(self, max_bytes_per_file: int | None = None) -> int:
        """Read what was appended since the last poll; returns the records queued."""
        files = self.list_files()
        return 0 if files is None else self.tail_files(files, max_bytes_per_file)

    def list_files(self) -> list[Path] | None:
        """``files()``, or None (and a notice) when they cannot be listed."""
        try:
            return self.files()
        except OSError as exc:
            self.history.notice(f"{self.label}: cannot list files ({exc.strerror or exc})")
            return None

    def tail_files(self, files: list[Path], max_bytes_per_file: int | None = None) -> int:
        """Read the lines appended to ``files`` since the last poll; returns the records queued."""
        queued = 0
        for path in files:
            key = str(path)
            tail = self.tails.get(key)
            bad = 0
            try:
                if tail is None:
                    tail = self.tails[key] = self._open_tail(path, key)
                if key in self._to_resume:
                    self._resume_if_grown(path, key, tail.pos)
                for line in tail.read_lines(max_bytes_per_file):
                    if not line.strip():
                        continue
                    try:
                        for record in self.parse(line, key):
                            self.history.add(record)
                            queued += 1
                    except BAD_LINE:
                        bad += 1
            except OSError as exc:
                self.history.notice(f"{self.label}: cannot read {key} ({exc.strerror or exc})")
            if bad:
                self.history.note_bad_line(key, bad)
            if tail is not None:
                self.history.set_offset(key, tail.position())
        return queued

    def read_whole(self, path: Path, load: Callable[[bytes], object]) -> WholeFile | None:
        """``path`` read whole and passed to ``load``, if its identity, size or time changed
        since it was last read; otherwise None.

        None too when it cannot be read (a notice) or ``load`` raises one of BAD_LINE: a
        file that changed within REWRITE_SETTLE_S is probably being rewritten and is read
        again at the next poll; one that stayed so longer counts as one bad line, until it
        changes again.
        """
        key = str(path)
        try:
            with open(path, "rb") as f:
                st = os.fstat(f.fileno())
                seen = (st.st_ino, st.st_dev, st.st_size, st.st_mtime_ns)
                if self._whole_seen.get(key) == seen:
                    return None
                data = f.read()
        except OSError as exc:
            self.history.notice(f"{self.label}: cannot read {key} ({exc.strerror or exc})")
            return None
        first = key not in self._whole_seen
        try:
            content = load(data)
        except BAD_LINE:
            if time.time() - st.st_mtime < REWRITE_SETTLE_S:
                return None
            self._whole_seen[key] = seen
            self.history.note_bad_line(key, 1)
            return None
        self._whole_seen[key] = seen
        return WholeFile(content, st, first)

    def read_all(self, workers: int | None = None) -> int:
        """Read every file to its end once, spreading the files over ``workers`` processes
        (default: the CPUs this process may use); returns the records queued.

        For one-shot reads (``report``): each process parses its own files, so records
        of one file stay in order; the parent takes over what they found. The context an
        adapter carries from line to line stays in the process that read the file, so a
        source that goes on tailing afterwards should use ``poll()``.
        """
        if workers is None:
            workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        try:
            files = self.files()
        except OSError:
            return self.poll()  # poll() reports the listing problem as a notice
        sizes = {}
        for path in files:
            try:
                sizes[str(path)] = path.stat().st_size
            except OSError:
                sizes[str(path)] = 0
        left = sum(sizes.values()) - sum(int((self.history.offset_for(k) or {}).get("offset", 0)) for k in sizes)
        if workers < 2 or left < PARALLEL_MIN_BYTES or "fork" not in multiprocessing.get_all_start_methods():
            return self.poll()
        groups: list[list[str]] = [[] for _ in range(workers)]
        loads = [0] * workers
        for key in sorted(sizes, key=sizes.get, reverse=True):  # largest first, onto the lightest group
            i = loads.index(min(loads))
            groups[i].append(key)
            loads[i] += sizes[key]
        jobs = [(type(self).__module__, self.label, g, {k: self.history.offset_for(k) for k in g})
                for g in groups if g]
        with ProcessPoolExecutor(len(jobs) - 1, mp_context=multiprocessing.get_context("fork")) as pool:
            futures = [pool.submit(_read_files, *job) for job in jobs[1:]]
            found = [_read_files(*jobs[0])] + [f.result() for f in futures]
        return sum(self.history.absorb(findings) for findings in found)


def _read_files(module: str, label: str, files: list[str], offsets: dict[str, dict | None]) -> dict:
    """Read ``files`` to their end with a fresh source of the adapter in ``module``, and
    return what it found (``TokenHistory.findings()``)."""
    reader = TokenHistory()
    reader.offsets.update({k: v for k, v in offsets.items() if v})
    source = importlib.import_module(module).SOURCE([Path(f) for f in files], reader)
    source.label = label
    source.poll()
    findings = reader.findings()
    findings["records"] = _latest_copies(findings["records"])
    return findings


def _latest_copies(records: list[Record]) -> list[Record]:
    """``records`` less the copies of a request the history would drop anyway (the smaller
    copies of a streamed request, the earlier copies of a rewritten one), in order, so
    fewer cross between processes. Keys are settled again where the copies meet."""
    keep: dict[str, int] = {}
    for i, record in enumerate(records):
        key = record.request_key if type(record) is UsageEvent else None
        if key is None:
            continue
        j = keep.get(key)
        if j is None or supersedes(record, records[j]):
            keep[key] = i
    winners = set(keep.values())
    return [r for i, r in enumerate(records)
            if type(r) is not UsageEvent or r.request_key is None or i in winners]
