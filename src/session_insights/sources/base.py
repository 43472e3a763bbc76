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

An adapter whose lines each stand alone sets ``lines_independent``: ``read_all`` may then
read one big file in byte ranges in several processes (parallel.py); what a range leaves
for the ranges after it goes through ``carry`` and ``settle``.
"""

from __future__ import annotations

import fnmatch
import os
import stat
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import NamedTuple

from ..events import Rating, SessionMark, TicketUpdate, ToolCall, UsageEvent
from ..history import TokenHistory
from . import tail as tail_module
from .bad_lines import BAD_LINE, bad_reason
from .tail import CompressedTail, FileTail, Position, open_regular, open_tail

Record = UsageEvent | ToolCall | TicketUpdate | Rating | SessionMark
PARALLEL_MIN_BYTES = 64 * 1024 * 1024  # below this, starting processes costs more than it saves
# A file read to its end is handed on in parts of this many bytes of lines (tail_files).
READ_BYTES = 4 * 1024 * 1024
MAX_WHOLE_BYTES = 256 * 1024 * 1024  # a file read whole that is larger is skipped, with a notice
# A whole file that does not parse and changed this recently is probably being rewritten:
# read it again at the next poll before calling it bad.
REWRITE_SETTLE_S = 2.0


def _identity(st: os.stat_result) -> tuple[int, int]:
    return st.st_dev, st.st_ino


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


class Interned(dict):
    """One copy of each label a source hands on (a model, a session id, a request's tool
    names): the history holds thousands of requests whole for their copies, and each
    holding its own copy of the same strings made a third of a reader's memory. Bounded: past
    ``limit`` labels it starts again."""

    def __init__(self, limit: int = 4096):
        super().__init__()
        self.limit = limit

    def __call__(self, value):
        found = self.get(value)
        if found is None:
            if len(self) >= self.limit:
                self.clear()
            found = self[value] = value
        return found


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
    # Whether a line can be read without the lines before it in its file, so read_all may
    # split a big file into byte ranges read in several processes. An adapter that carries
    # context from line to line (a session id, the current model, a running total) must not.
    lines_independent = False

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
                raise SourceError(
                    f"{self.kind}: no {self.logs_name} found (looked in "
                    + ", ".join(str(r) for r in self.default_roots())
                    + ")"
                )
        self.roots = [Path(p).expanduser() for p in path] if isinstance(path, list) else [Path(path).expanduser()]
        self.history = history
        for root in self.roots:
            try:
                os.stat(root)
            except FileNotFoundError:
                raise SourceError(f"{self.kind}: {root} does not exist") from None
            except OSError as exc:  # a link loop, a folder on the way that cannot be entered
                raise SourceError(f"{self.kind}: cannot read {root} ({exc.strerror or exc})") from None
        self.tails: dict[str, FileTail | CompressedTail] = {}
        self._to_resume: set[str] = set()  # files read before a restart whose context is not rebuilt yet
        self._whole_seen: dict[str, tuple[int, int, int, int]] = {}  # file -> (inode, device, size, mtime_ns) read
        self.label = f"{self.kind}:{','.join(str(r) for r in self.roots)}"
        self.reading_range = False  # set while this source reads one byte range of a file
        # Set while read_all reads files as finished: a last line without its newline is a
        # line, and a whole file that does not parse is bad now, not maybe mid-rewrite.
        self.one_shot = False
        history.source_labels.add(self.label)

    def files(self) -> list[Path]:
        """The files to read: each root file, and the matching files under each root folder
        in sorted order; a file reached twice (through links) is listed once, first path."""
        out: list[Path] = []
        seen_files: set[tuple[int, int]] = set()
        seen_folders: set[tuple[int, int]] = set()
        for root in self.roots:
            try:
                st = os.stat(root)
            except OSError as exc:  # gone since it was named: the other roots are still read
                self.history.notice(f"{self.label}: cannot read {root} ({exc.strerror or exc})")
                continue
            if stat.S_ISREG(st.st_mode):
                found = [(root, _identity(st))]
            elif stat.S_ISDIR(st.st_mode):
                found = sorted((p, key) for p, key in self._walk(root, seen_folders) if self.wanted(p))
            else:  # a FIFO or a device: never opened (it could block or never end)
                self.history.notice(f"{self.label}: {root} is neither a regular file nor a folder")
                continue
            for path, key in found:
                if key not in seen_files:
                    seen_files.add(key)
                    out.append(path)
        return out

    def _walk(self, root: Path, seen: set[tuple[int, int]]) -> Iterable[tuple[Path, tuple[int, int]]]:
        """(path, (device, inode)) of the regular files under ``root`` whose names match
        ``pattern``, following folder links; each real folder is listed once (``seen``),
        so a link loop ends. A folder or an entry that cannot be read is a notice that
        costs only itself."""
        folders = [root]
        while folders:
            folder = folders.pop()
            try:
                st = os.stat(folder)
                if _identity(st) in seen:
                    continue
                seen.add(_identity(st))
                with os.scandir(folder) as listing:
                    entries = sorted(listing, key=lambda e: e.name, reverse=True)
            except OSError as exc:
                self.history.notice(f"{self.label}: cannot read folder {folder} ({exc.strerror or exc})")
                continue
            # Reversed onto a stack: folders are visited in sorted order, so of two paths
            # to one real folder the one that sorts first is kept.
            for entry in entries:
                try:
                    if entry.is_dir():
                        folders.append(Path(entry.path))
                    elif not fnmatch.fnmatchcase(entry.name, self.pattern):
                        continue
                    elif entry.is_file():  # a FIFO or device is never opened
                        # A link's own inode is not its file's: stat through it.
                        key = _identity(entry.stat()) if entry.is_symlink() else (st.st_dev, entry.inode())
                        yield Path(entry.path), key
                    elif entry.is_symlink():
                        entry.stat()  # a link to nothing: raises, so it is named
                except OSError as exc:
                    self.cannot_read(entry.path, exc)

    def not_read(self, file: str, why: str) -> None:
        """Skip ``file``, saying so in a notice and in provenance."""
        self.history.file_not_read(self.kind, str(file), why, f"{self.label}: skipped {file}: {why}")

    def cannot_read(self, file: str, exc: OSError) -> None:
        why = str(exc.strerror or exc)
        self.history.file_not_read(self.kind, str(file), why, f"{self.label}: cannot read {file} ({why})")

    @staticmethod
    def wanted(path: Path) -> bool:
        """Whether a file under a folder that matches ``pattern`` is one of this format's."""
        return True

    def parse(self, line: bytes, file: str) -> Iterable[Record]:
        raise NotImplementedError

    def resume(self, file: str, head: Iterable[bytes]) -> None:
        """Rebuild per-file context from lines read before a restart (none by default)."""

    def _open_tail(self, path: Path, key: str) -> FileTail | CompressedTail:
        tail = open_tail(path, Position.from_dict(self.history.offset_for(key)))
        if isinstance(tail, CompressedTail) and not tail.pos.offset:
            # A log compressed after it was read (Codex's idle rollouts): only what follows
            # is new; what was read rebuilds context, as after a restart.
            plain = self.history.offset_for(key.removesuffix(tail_module.ZSTD_SUFFIX))
            if plain:
                tail.read_before = Position.from_dict(plain)
                tail.on_read_before = lambda line: self.resume(key, (line,))
        if tail.pos.offset and type(self).resume is not LineSource.resume:
            self._to_resume.add(key)
        return tail

    def _resume_if_grown(self, path: Path, key: str, pos: Position) -> None:
        """Hand a file's already-read head to ``resume`` once, when it first has new bytes
        after a restart (a file read again from its start needs no head)."""
        offset, size = open_tail(path, Position(**vars(pos))).check()
        if offset < pos.offset:  # truncated or replaced: read again from its start
            self._to_resume.discard(key)
        elif size > pos.offset:
            self._to_resume.discard(key)
            self.resume(key, open_tail(path).read_lines(pos.offset))

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
        """Read the lines appended to ``files`` since the last poll; returns the records queued.
        A file read to its end is handed on READ_BYTES at a time, each part with the position
        it ends at: a 100 MB transcript never holds all its records at once."""
        queued = 0
        for path in files:
            key = str(path)
            tail = self.tails.get(key)
            try:
                if tail is None:
                    tail = self.tails[key] = self._open_tail(path, key)
                if key in self._to_resume:
                    self._resume_if_grown(path, key, tail.pos)
            except OSError as exc:
                self.cannot_read(key, exc)
                if tail is not None:
                    self.history.add_read(key, [], tail.position())
                continue
            if max_bytes_per_file is not None:
                queued += self._read_part(key, tail, max_bytes_per_file)
                continue
            end = None  # the size the first part saw: a file growing meanwhile waits for the next poll
            while True:
                before = tail.pos.offset
                queued += self._read_part(key, tail, READ_BYTES)
                end = tail.size if end is None else end
                if not before < tail.pos.offset < end:
                    break
        return queued

    def _read_part(self, key: str, tail: FileTail | CompressedTail, max_bytes: int | None) -> int:
        """Read the lines of one file past its offset, up to ``max_bytes`` of them, and hand
        them on with the position they end at; returns the records queued."""
        bad: Counter[str] = Counter()
        found: list[Record] = []
        lines = 0
        too_long = tail.too_long
        try:
            for line in tail.read_lines(max_bytes, final=self.one_shot):
                if not line.strip():
                    continue
                lines += 1
                try:
                    found.extend(self.parse(line, key))
                except BAD_LINE as exc:
                    bad[bad_reason(exc)] += 1
        except OSError as exc:
            self.cannot_read(key, exc)
        finally:
            if tail.too_long > too_long:
                bad[tail_module.too_long_reason()] += tail.too_long - too_long
        for reason, count in bad.items():
            self.history.note_bad_line(key, count, reason, source=self.kind)
        self.history.add_read(key, found, tail.position())
        if lines:
            self.history.note_lines(self.kind, lines)
        return len(found)

    def read_whole(self, path: Path, load: Callable[[bytes], object]) -> WholeFile | None:
        """``path`` read whole and passed to ``load``, if its identity, size or time changed
        since it was last read; otherwise None.

        None too when it cannot be read (a notice) or ``load`` raises one of BAD_LINE: a
        file that changed within REWRITE_SETTLE_S is probably being rewritten and is read
        again at the next poll; one that stayed so longer, or any in a one-shot read,
        counts as one bad line, until it changes again. A leading byte-order mark is dropped.
        """
        key = str(path)
        try:
            fd = open_regular(path)
            with open(fd, "rb", buffering=0) as f:
                st = os.fstat(fd)
                seen = (st.st_ino, st.st_dev, st.st_size, st.st_mtime_ns)
                if self._whole_seen.get(key) == seen:
                    return None
                if st.st_size > MAX_WHOLE_BYTES:
                    # Read whole, it would be held whole (and parsed into more): skip it.
                    self._whole_seen[key] = seen
                    self.not_read(
                        key,
                        f"{st.st_size:,} bytes, over the {MAX_WHOLE_BYTES:,} a file read whole may hold",
                    )
                    return None
                data = f.read(MAX_WHOLE_BYTES + 1)
        except OSError as exc:
            self.cannot_read(key, exc)
            return None
        data = data.removeprefix(tail_module.BOM)  # written by some editors; not JSON
        first = key not in self._whole_seen
        try:
            content = load(data)
        except BAD_LINE as exc:
            if not self.one_shot and time.time() - st.st_mtime < REWRITE_SETTLE_S:
                return None
            self._whole_seen[key] = seen
            self.history.note_bad_line(key, 1, bad_reason(exc), source=self.kind)
            return None
        self._whole_seen[key] = seen
        return WholeFile(content, st, first)

    def read_all(self, workers: int | None = None) -> int:
        """Read every file to its end once, in ``workers`` processes (default: the CPUs
        this process may use); returns the records taken. See parallel.read_all."""
        from .parallel import read_all

        return read_all(self, workers)

    def carry(self, file: str) -> object:
        """What reading one byte range of ``file`` left for the ranges after it (an open
        tool call, an answer to one opened before the range): plain data, or None."""
        return None

    def settle(self, carried: list[object]) -> list[Record]:
        """The records a file's byte ranges, read apart, make only together; ``carried``
        holds each range's ``carry``, in file order."""
        return []
