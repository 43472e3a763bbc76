"""Reading log files by byte offset: the one place every source gets its lines from.

A FileTail returns the complete lines appended to a file since its last read. A last
line without its newline waits until it is complete. A file that shrank (truncated) or
whose identity changed (replaced, rotated) is read again from the start. Its position
is plain data (``position()``), so it can be kept in state.toml and a restart reads
only new bytes.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

CHUNK_BYTES = 4 * 1024 * 1024


@dataclass
class Position:
    offset: int = 0
    inode: int = 0
    device: int = 0

    def as_dict(self) -> dict:
        return {"offset": self.offset, "inode": self.inode, "device": self.device}

    @classmethod
    def from_dict(cls, data: dict | None) -> Position:
        if not data:
            return cls()
        return cls(int(data.get("offset", 0)), int(data.get("inode", 0)), int(data.get("device", 0)))


class FileTail:
    """Complete lines appended to one file, read from a remembered byte offset."""

    def __init__(self, path: str | os.PathLike, position: Position | None = None):
        self.path = os.fspath(path)
        self.pos = position or Position()
        self.restarts = 0  # times the file was found truncated or replaced

    def position(self) -> dict:
        return self.pos.as_dict()

    def read_lines(self, max_bytes: int | None = None) -> Iterator[bytes]:
        """Yield each complete line (without its newline) past the offset.

        The offset advances past a line only once it has been yielded, so a reader that
        stops early loses nothing. Raises OSError if the file cannot be opened.
        """
        with open(self.path, "rb") as f:
            st = os.fstat(f.fileno())
            if (self.pos.inode and (st.st_ino, st.st_dev) != (self.pos.inode, self.pos.device)) \
                    or st.st_size < self.pos.offset:
                self.pos.offset = 0
                self.restarts += 1
            self.pos.inode, self.pos.device = st.st_ino, st.st_dev
            if st.st_size - self.pos.offset > CHUNK_BYTES and hasattr(os, "posix_fadvise"):
                # Ask for the rest of the file now, so the disk reads ahead while we parse.
                os.posix_fadvise(f.fileno(), self.pos.offset, 0, os.POSIX_FADV_WILLNEED)
            f.seek(self.pos.offset)
            budget = st.st_size - self.pos.offset if max_bytes is None else max_bytes
            pending = b""
            while budget > 0:
                chunk = f.read(min(CHUNK_BYTES, budget))
                if not chunk:
                    break
                budget -= len(chunk)
                data = pending + chunk if pending else chunk
                lines = data.split(b"\n")
                pending = lines.pop()  # an incomplete last line waits for its newline
                for line in lines:
                    self.pos.offset += len(line) + 1
                    yield line
