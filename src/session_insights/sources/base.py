"""What every log source shares: finding its files, tailing each by byte offset with the
position kept in the history (so state.toml carries it), and counting bad lines.

An adapter subclasses LineSource and implements ``parse(line, file)``, returning the
normalised records a line holds; format quirks stay in the adapter. An adapter that
carries context from line to line within a file (a session id, the current model, a
running total) implements ``resume(file, head)`` too: after a restart, a file that has
grown past its saved offset gets its already-read head passed there once, to rebuild
that context without counting anything again.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import orjson

from ..events import Rating, TicketUpdate, ToolCall, UsageEvent
from ..history import TokenHistory
from .tail import FileTail, Position

Record = UsageEvent | ToolCall | TicketUpdate | Rating


class SourceError(Exception):
    """A source that cannot be read at all (missing path, bad spec): one line for the user."""


class LineSource:
    """Lines of JSON from one file, or from the matching files under a folder."""

    kind = "lines"
    pattern = "*.jsonl"

    def __init__(self, path: str | os.PathLike | list[Path], history: TokenHistory):
        """``path``: a file, a folder (searched recursively for ``pattern``), or several."""
        self.roots = [Path(p).expanduser() for p in path] if isinstance(path, list) else [Path(path).expanduser()]
        self.history = history
        for root in self.roots:
            if not root.exists():
                raise SourceError(f"{self.kind}: {root} does not exist")
        self.tails: dict[str, FileTail] = {}
        self.label = f"{self.kind}:{','.join(str(r) for r in self.roots)}"
        history.source_labels.add(self.label)

    def files(self) -> list[Path]:
        out: list[Path] = []
        for root in self.roots:
            if root.is_file():
                out.append(root)
            elif root.is_dir():
                out.extend(sorted(p for p in root.rglob(self.pattern) if p.is_file()))
        return out

    def parse(self, line: bytes, file: str) -> Iterable[Record]:
        raise NotImplementedError

    def resume(self, file: str, head: Iterable[bytes]) -> None:
        """Rebuild per-file context from lines read before a restart (none by default)."""

    def _open_tail(self, path: Path, key: str) -> FileTail:
        tail = FileTail(path, Position.from_dict(self.history.offset_for(key)))
        pos = tail.pos
        if pos.offset and type(self).resume is not LineSource.resume:
            st = path.stat()
            if (st.st_ino, st.st_dev) == (pos.inode, pos.device) and st.st_size > pos.offset:
                self.resume(key, FileTail(path).read_lines(pos.offset))
        return tail

    def poll(self, max_bytes_per_file: int | None = None) -> int:
        """Read what was appended since the last poll; returns the records queued."""
        queued = 0
        try:
            files = self.files()
        except OSError as exc:
            self.history.notice(f"{self.label}: cannot list files ({exc.strerror or exc})")
            return 0
        for path in files:
            key = str(path)
            tail = self.tails.get(key)
            bad = 0
            try:
                if tail is None:
                    tail = self.tails[key] = self._open_tail(path, key)
                for line in tail.read_lines(max_bytes_per_file):
                    if not line.strip():
                        continue
                    try:
                        for record in self.parse(line, key):
                            self.history.add(record)
                            queued += 1
                    except (ValueError, TypeError, KeyError, AttributeError, orjson.JSONDecodeError):
                        bad += 1
            except OSError as exc:
                self.history.notice(f"{self.label}: cannot read {key} ({exc.strerror or exc})")
            if bad:
                self.history.note_bad_line(key, bad)
            if tail is not None:
                self.history.set_offset(key, tail.position())
        return queued
