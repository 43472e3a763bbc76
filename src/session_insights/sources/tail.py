"""Reading log files by byte offset: the one place every source gets its lines from.

A FileTail returns the complete lines appended to a file since its last read, holding at
most about MAX_LINE_BYTES plus two chunks in memory whatever the file holds. Quirks:
- a last line without its newline waits until it is complete, except in a read of a
  finished file (``final``: ``report``), where it is the last line;
- a file that shrank, or whose first bytes (``head``) or bytes just before the offset
  (``tail``) changed, was truncated or replaced: it is read again from the start. One that
  changed identity but kept both is the same log rewritten (a sync tool or an editor
  renames a longer copy over it): it goes on from the offset;
- a UTF-8 byte-order mark at the start of a file is not part of its first line;
- a line longer than MAX_LINE_BYTES is skipped unkept and counted in ``too_long``;
- only regular files are opened, without blocking (a FIFO named *.jsonl is refused).
Its position is plain data (``position()``), so a restart reads only new bytes. A
zstd-compressed log (``*.zst``) does not grow: a CompressedTail reads it whole, once.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

CHUNK_BYTES = 4 * 1024 * 1024
MAX_LINE_BYTES = 64 * 1024 * 1024  # a longer line is skipped as one bad line
HEAD_BYTES = 4096  # how much of a file's start identifies it
TAIL_BYTES = 4096  # how much of what was read, up to the offset, must still be there
BOM = b"\xef\xbb\xbf"
MIB = 1024 * 1024


def head_digest(data: bytes) -> int:
    """8 bytes of blake2b as a signed int: TOML integers are signed 64-bit."""
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big", signed=True)


def too_long_reason() -> str:
    """The bad-line reason of a line longer than MAX_LINE_BYTES."""
    return f"line longer than {MAX_LINE_BYTES / MIB:g} MiB"


def open_regular(path: str | os.PathLike) -> int:
    """A read-only descriptor of ``path`` if it is a regular file; OSError otherwise.

    O_NONBLOCK: opening a FIFO with no writer would otherwise wait forever.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_BINARY", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{os.fspath(path)} is not a regular file")
    except BaseException:
        os.close(fd)
        raise
    return fd


@dataclass
class Position:
    """Where a file was read to, and what identifies it: its inode and device, a digest
    (``head``) of its first ``head_len`` bytes, and one (``tail``) of the ``tail_len`` bytes
    ending at the offset (lengths 0: not known, older state)."""

    offset: int = 0
    inode: int = 0
    device: int = 0
    head_len: int = 0
    head: int = 0
    tail_len: int = 0
    tail: int = 0

    def as_dict(self) -> dict:
        return {
            "offset": self.offset,
            "inode": self.inode,
            "device": self.device,
            "head_len": self.head_len,
            "head": self.head,
            "tail_len": self.tail_len,
            "tail": self.tail,
        }

    @classmethod
    def from_dict(cls, data: dict | None) -> Position:
        if not data:
            return cls()
        return cls(*(int(data.get(name, 0)) for name in _POSITION_KEYS))

    def knows_tail(self) -> bool:
        """Whether ``tail`` describes the bytes before this offset (not older state)."""
        return self.tail_len == min(self.offset, TAIL_BYTES)


_POSITION_KEYS = ("offset", "inode", "device", "head_len", "head", "tail_len", "tail")


def tail_at(fd: int, offset: int) -> tuple[int, int]:
    """(tail_len, tail) of the bytes of ``fd`` ending at ``offset``."""
    n = min(offset, TAIL_BYTES)
    return n, head_digest(os.pread(fd, n, offset - n)) if n else 0


class _Tail:
    """What every tail of a file shares: its position, and the identity check a read
    makes (``_settle``) run on its own."""

    path: str
    pos: Position
    size = 0  # the file's size when the last read began

    def position(self) -> dict:
        return self.pos.as_dict()

    def check(self) -> tuple[int, int]:
        """(offset to read from, size) now, after the same identity check a read makes (a
        compressed file's offset is its size once read, 0 while it is still to read)."""
        fd = open_regular(self.path)
        try:
            st = os.fstat(fd)
            self._settle(fd, st)
            return self.pos.offset, st.st_size
        finally:
            os.close(fd)

    def _settle(self, fd: int, st: os.stat_result) -> None:
        raise NotImplementedError


class FileTail(_Tail):
    """Complete lines appended to one file, read from a remembered byte offset."""

    def __init__(self, path: str | os.PathLike, position: Position | None = None):
        self.path = os.fspath(path)
        self.pos = position or Position()
        self.restarts = 0  # times the file was found truncated or replaced
        self.too_long = 0  # lines skipped for being longer than MAX_LINE_BYTES
        # While the line at pos.offset is longer than a chunk: how far it was scanned for
        # its end, and whether it is already counted too long (so a poll never rescans it).
        self._scanned_to = 0
        self._long_counted = False
        # The offset ``pos.tail`` describes (None: not known), and the last bytes read with
        # the offset of their first: the tail is taken from them when they hold it.
        self._tail_at: int | None = self.pos.offset if self.pos.knows_tail() else None
        self._window: tuple[int, bytes] | None = None
        self._advised_to = 0  # the size up to which the read-ahead was asked for

    def _settle(self, fd: int, st: os.stat_result) -> None:
        """Start again from 0 if the file is not the one read so far; then know its head."""
        pos = self.pos
        head = os.pread(fd, HEAD_BYTES, 0) if st.st_size else b""
        moved = bool(pos.inode) and (st.st_ino, st.st_dev) != (pos.inode, pos.device)
        replaced = st.st_size < pos.offset or (
            pos.head_len and (len(head) < pos.head_len or head_digest(head[: pos.head_len]) != pos.head)
        )
        if not replaced and (moved or st.st_size > pos.offset):
            replaced = not self._same_before_offset(fd, strict=moved)
        if replaced:
            pos.offset = pos.head_len = pos.head = pos.tail_len = pos.tail = 0
            self.restarts += 1
            self._scanned_to, self._long_counted = 0, False
            self._tail_at = self._advised_to = 0
        pos.inode, pos.device = st.st_ino, st.st_dev
        if len(head) > pos.head_len:  # grows with the file up to HEAD_BYTES
            pos.head_len, pos.head = len(head), head_digest(head)

    def _same_before_offset(self, fd: int, strict: bool) -> bool:
        """Whether the bytes before the offset are those read (the head matched already).
        Not known (older state): ``strict`` says no, for a file of another identity; the
        same file is trusted, as it was before tails were kept."""
        pos = self.pos
        if pos.offset <= pos.head_len:  # the head covers them
            return True
        if not pos.knows_tail():
            return not strict
        return tail_at(fd, pos.offset) == (pos.tail_len, pos.tail)

    def read_lines(self, max_bytes: int | None = None, final: bool = False) -> Iterator[bytes]:
        """Yield each complete line (without its newline) past the offset that ends within
        ``max_bytes`` of it; if none does, the first whole line (a read always moves on).
        ``final``: the file is finished (a one-shot read), so what follows its last newline
        is a line too, once the read reaches the end. The offset advances past a line only
        once it has been yielded, so a reader that stops early loses nothing. Raises
        OSError if the file cannot be opened.
        """
        fd = open_regular(self.path)
        try:
            st = os.fstat(fd)
            self._settle(fd, st)
            origin, self.size = self.pos.offset, st.st_size
            if st.st_size - origin > CHUNK_BYTES and origin >= self._advised_to and hasattr(os, "posix_fadvise"):
                # Ask for the rest of the file now, so the disk reads ahead while we parse
                # (once: a file read in parts asks at its first part only).
                os.posix_fadvise(fd, origin, 0, os.POSIX_FADV_WILLNEED)
                self._advised_to = st.st_size
            if origin == 0 and os.pread(fd, len(BOM), 0) == BOM:
                self.pos.offset = len(BOM)
            soft_end = st.st_size if max_bytes is None else min(st.st_size, origin + max_bytes)
            yield from self._lines(fd, st.st_size, soft_end, origin, final)
        finally:
            try:
                self._keep_tail(fd)
            finally:
                os.close(fd)

    def _keep_tail(self, fd: int) -> None:
        """Take ``tail`` for the offset reached: from the bytes just read when they hold
        it, else from the file."""
        window, self._window = self._window, None
        end = self.pos.offset
        if end == self._tail_at:
            return
        n = min(end, TAIL_BYTES)
        if window is not None and window[0] <= end - n and end <= window[0] + len(window[1]):
            start = end - n - window[0]
            self.pos.tail_len, self.pos.tail = n, head_digest(window[1][start : start + n]) if n else 0
        else:
            self.pos.tail_len, self.pos.tail = tail_at(fd, end)
        self._tail_at = end

    def _lines(self, fd: int, size: int, soft_end: int, origin: int, final: bool) -> Iterator[bytes]:
        """The lines from the offset up to ``soft_end``, or past it up to the end of the
        first one if there is none before it (nothing moved past ``origin`` yet); with
        ``final``, the unterminated last line too once ``size`` is reached."""
        pos = self.pos
        read_at, long = pos.offset, False
        if pos.offset < self._scanned_to <= size:  # a long line scanned at an earlier read
            read_at, long = self._scanned_to, True
        carry = b""  # the start of an unfinished line, shorter than a chunk
        while read_at < size and (read_at < soft_end or pos.offset == origin):
            past = read_at >= soft_end  # reading on only to finish one line
            chunk = os.pread(fd, min(CHUNK_BYTES, (size if past else soft_end) - read_at), read_at)
            if not chunk:
                break
            read_at += len(chunk)
            if long:  # inside a line longer than a chunk: find its end, keeping nothing
                cut = chunk.find(b"\n")
                if cut < 0:
                    self._note_long(read_at - pos.offset)
                    continue
                long = False
                line = self._long_line(fd, read_at - len(chunk) + cut - pos.offset)
                if line is not None:
                    yield line
                    if past:
                        break
                chunk = chunk[cut + 1 :]
            data = carry + chunk if carry else chunk
            self._window = (read_at - len(data), data)
            lines = data.split(b"\n")
            carry = lines.pop()  # an incomplete last line waits for its newline
            for line in lines:
                pos.offset += len(line) + 1
                if len(line) > MAX_LINE_BYTES:
                    self.too_long += 1
                    continue
                yield line
                if past:
                    break
            if past and pos.offset > origin:
                break
            if len(carry) >= CHUNK_BYTES:
                self._note_long(len(carry))
                carry, long = b"", True
        self._scanned_to = read_at if long else 0
        if final and soft_end == size and read_at >= size > pos.offset:  # read to the end
            yield from self._last_line(fd, size, carry, long)

    def _last_line(self, fd: int, size: int, carry: bytes, long: bool) -> Iterator[bytes]:
        """The line after a finished file's last newline: ``carry``, or the long line being
        scanned when ``long``; the offset moves to ``size``."""
        if long:
            line = self._long_line(fd, size - self.pos.offset)
            if line is not None:
                yield line
            return
        self.pos.offset = size
        if len(carry) > MAX_LINE_BYTES:
            self.too_long += 1
        else:
            yield carry

    def _note_long(self, scanned: int) -> None:
        """Count the line being scanned once it is known to be too long, even unfinished."""
        if scanned > MAX_LINE_BYTES and not self._long_counted:
            self._long_counted = True
            self.too_long += 1

    def _long_line(self, fd: int, length: int) -> bytes | None:
        """The line of ``length`` bytes at the offset, or None if it is too long; the
        offset moves past it either way."""
        start = self.pos.offset
        self.pos.offset += length + 1
        self._scanned_to = 0
        counted, self._long_counted = self._long_counted, False
        if length > MAX_LINE_BYTES:
            if not counted:
                self.too_long += 1
            return None
        return os.pread(fd, length, start)  # read again: cheaper than keeping every chunk


ZSTD_SUFFIX = ".zst"


def open_tail(path: str | os.PathLike, position: Position | None = None) -> FileTail | CompressedTail:
    """The reader for ``path``: a CompressedTail for a ``*.zst`` file, else a FileTail."""
    if os.fspath(path).endswith(ZSTD_SUFFIX):
        return CompressedTail(path, position)
    return FileTail(path, position)


class CompressedTail(_Tail):
    """The lines of a zstd-compressed log, read whole once: its position is its compressed
    size and head, so a restart does not read it again; a file whose size or head changed
    is another and is read again. Memory stays within about MAX_LINE_BYTES plus a chunk.

    ``read_before``: where the plain log it was compressed from had been read to. When its
    head is this file's, the lines up to there go to ``on_read_before``, not out: they
    were read already."""

    def __init__(self, path: str | os.PathLike, position: Position | None = None):
        self.path = os.fspath(path)
        self.pos = position or Position()
        self.restarts = 0
        self.too_long = 0
        self.read_before: Position | None = None
        self.on_read_before: Callable[[bytes], object] = lambda line: None

    def _settle(self, fd: int, st: os.stat_result) -> None:
        pos = self.pos
        head = os.pread(fd, HEAD_BYTES, 0) if st.st_size else b""
        if pos.offset and (pos.offset != st.st_size or (pos.head_len, pos.head) != (len(head), head_digest(head))):
            pos.offset = pos.tail_len = pos.tail = 0
            self.restarts += 1
        pos.inode, pos.device = st.st_ino, st.st_dev
        pos.head_len, pos.head = len(head), head_digest(head)

    def read_lines(self, max_bytes: int | None = None, final: bool = True) -> Iterator[bytes]:
        """Yield every line of the file if it was not read yet (``max_bytes`` and ``final``
        do not apply: it is read whole and is finished). OSError if it cannot be opened,
        if zstandard is missing (it stays unread), or if it is not a readable zstd file
        (what was read before the fault is kept and the file is not read again)."""
        fd = open_regular(self.path)
        with open(fd, "rb", buffering=0) as f:
            st = os.fstat(fd)
            self._settle(fd, st)
            self.size = st.st_size
            if self.pos.offset:
                return
            try:
                import zstandard
            except ImportError:
                raise OSError(f"{ZSTD_SUFFIX} files need the zstandard package; skipped") from None
            try:
                yield from self._lines(zstandard.ZstdDecompressor().stream_reader(f, read_across_frames=True))
            except zstandard.ZstdError as exc:
                self._read_to(fd, st.st_size)  # what was read is kept; the file will not change
                raise OSError(f"not a readable zstd file, the rest skipped: {exc}") from None
            self._read_to(fd, st.st_size)

    def _read_to(self, fd: int, size: int) -> None:
        self.pos.offset = size
        self.pos.tail_len, self.pos.tail = tail_at(fd, size)

    def _skip_to(self, first_chunk: bytes) -> int:
        """How many decompressed bytes were read before, as the plain log (0: none known)."""
        before = self.read_before
        if before is None or not before.offset or not before.head_len or len(first_chunk) < before.head_len:
            return 0
        return before.offset if head_digest(first_chunk[: before.head_len]) == before.head else 0

    def _lines(self, reader: BinaryIO) -> Iterator[bytes]:
        carry, long, first = b"", False, True
        at = skip = 0  # where ``carry`` starts in the decompressed bytes; how many were read before
        while chunk := reader.read(CHUNK_BYTES):
            if first:
                skip, first = self._skip_to(chunk), False
                if chunk.startswith(BOM):
                    chunk, at = chunk[len(BOM) :], len(BOM)
            lines = (carry + chunk).split(b"\n")
            carry = lines.pop()
            for line in lines:
                end = at + len(line) + 1
                if long:  # the end of a line already counted too long
                    long = False
                elif end <= skip:
                    self.on_read_before(line)
                elif len(line) > MAX_LINE_BYTES:
                    self.too_long += 1
                else:
                    yield line
                at = end
            if len(carry) > MAX_LINE_BYTES:
                if not long and at + len(carry) > skip:
                    self.too_long += 1
                carry, long, at = b"", True, at + len(carry)
        if carry and not long and at + len(carry) > skip:
            yield carry
