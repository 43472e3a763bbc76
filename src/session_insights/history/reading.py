"""The reading part: what the sources read and what de-duplication left out, by source,
for ``provenance`` (``report --explain``). Counts of the whole reading, not of a scope.

- a file counts once, when it is first read (one with a read position was counted before
  a restart, or by another worker of a parallel read);
- a usage line counts whether or not it became a request: every copy of one is a line;
- copies counted once are the history's (a key seen again) and the sources' own (a
  Codex total written twice, a fork's replay, a call two instrumentations traced);
- the cost an agent wrote apart from its requests is ``agent_cost``'s (``self.agent``).
"""

from __future__ import annotations

from .. import decode
from ..events import UsageEvent
from ..price_data import price_data
from .agent_cost import AgentCosts

MAX_FILES_NAMED = 100_000  # files whose source is remembered (in memory only)
MAX_NOT_READ = 50  # files not read, named per source (a restart tries them again: not saved)
MAX_REASONS = 40  # reasons for bad lines kept per source; past it they count as "(other reasons)"
FILES, LINES = range(2)
PROVENANCE_FIELDS = (
    "sessions",
    "requests",
    "total_tokens",
    "files_read",  # files that gave requests
    "lines_read",  # lines of line-based logs (a JSON file read whole is no lines)
    "usage_lines_read",  # lines with usage, every copy of a request counted
    "duplicate_copies",
    "counted_before_restart",
    "bad_lines",
    "files_not_read",
)
COPIES, BEFORE_RESTART = range(2)


class ReadingPart:
    def __init__(self) -> None:
        self.reads: dict[str, list[int]] = {}  # source -> [files with requests, usage lines]
        self.lines: dict[str, int] = {}  # source -> lines read (of line-based logs)
        self.copies: dict[str, list[int]] = {}  # source -> [copies counted once, counted before a restart]
        self.file_kinds: dict[str, str] = {}  # file -> the source that read it (its bad lines)
        self.not_read: dict[str, dict[str, str]] = {}  # source -> file -> why it was not read
        self.bad_reasons: dict[str, dict[str, int]] = {}  # source -> why lines were bad -> lines
        self.agent = AgentCosts()  # what agents wrote of their own cost, apart from the requests

    def _of(self, table: dict[str, list[int]], source: str | None) -> list[int]:
        counts = table.get(source or "host")
        if counts is None:
            counts = table[source or "host"] = [0, 0]
        return counts

    def read(self, file: str, records: list, first_read: bool) -> None:
        """A source read ``records`` from ``file``."""
        lines, kind = 0, None
        for record in records:
            if type(record) is UsageEvent:
                lines += 1
                kind = kind or record.source
                if record.reported_cost_usd is not None and record.source == "claude":
                    # Claude Code's costUSD: the request's cost comes from here, not OTel.
                    key = record.request_key
                    self.agent.reported(key.rpartition(":")[2] if key else None, record.session)
        if lines:
            self.note_file(file, kind or "host", first_read)
            self._of(self.reads, kind)[LINES] += lines

    def note_file(self, file: str, kind: str, first_read: bool) -> None:
        if file not in self.file_kinds:
            if len(self.file_kinds) < MAX_FILES_NAMED:
                self.file_kinds[file] = kind
            self._of(self.reads, kind)[FILES] += first_read

    def copy(self, ev: UsageEvent, before_restart: bool = False) -> None:
        """A copy of a request the history counts once (or counted before a restart)."""
        self._of(self.copies, ev.source)[BEFORE_RESTART if before_restart else COPIES] += 1

    def copies_seen(self, source: str, n: int) -> None:
        """``n`` copies of requests left out before they were applied (their lines are
        counted as read already)."""
        self._of(self.copies, source)[COPIES] += n

    def source_copies(self, source: str, n: int) -> None:
        """``n`` copies a source left out itself: each was a usage line read."""
        self._of(self.copies, source)[COPIES] += n
        self._of(self.reads, source)[LINES] += n

    def file_not_read(self, source: str, file: str, why: str) -> None:
        files = self.not_read.setdefault(source, {})
        if file in files or len(files) < MAX_NOT_READ:
            files[file] = why

    def bad_line(self, source: str, reason: str, count: int) -> None:
        reasons = self.bad_reasons.setdefault(source, {})
        if reason not in reasons and len(reasons) >= MAX_REASONS:
            reason = "(other reasons)"
        reasons[reason] = reasons.get(reason, 0) + count

    def bad_lines_by_source(self, bad_lines: dict[str, int]) -> dict[str, int]:
        """Bad lines per source, as far as their files are known to be that source's."""
        by_source: dict[str, int] = {}
        for file, n in bad_lines.items():
            kind = self.file_kinds.get(file)
            if kind is not None:
                by_source[kind] = by_source.get(kind, 0) + n
        return by_source

    def explain(self, bad_lines: dict[str, int]) -> dict:
        """Per source what was read and left out (``PROVENANCE_FIELDS``, sessions and
        requests left at 0 for the snapshot to fill), the files not read and why, and the
        bad lines by reason; ``bad_lines`` is the history's, by file."""
        sources: dict[str, dict] = {}

        def of(source: str) -> dict:
            return sources.setdefault(source, dict.fromkeys(PROVENANCE_FIELDS, 0))

        for source, (copies, before) in self.copies.items():
            of(source).update(duplicate_copies=copies, counted_before_restart=before)
        for source, (files, lines) in self.reads.items():
            of(source).update(files_read=files, usage_lines_read=lines)
        for source, n in self.lines.items():
            of(source)["lines_read"] = n
        for source, n in self.bad_lines_by_source(bad_lines).items():
            of(source)["bad_lines"] = n
        for source, files in self.not_read.items():
            of(source)["files_not_read"] = len(files)
        return {
            "sources": sources,
            "not_read": [
                {"source": source, "file": file, "why": why}
                for source, files in sorted(self.not_read.items())
                for file, why in sorted(files.items())
            ],
            "bad_reasons": [
                {"source": source, "reason": reason, "lines": n}
                for source, reasons in sorted(self.bad_reasons.items())
                for reason, n in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))
            ],
            "agent_reports": self.agent.explain(),
            "prices": price_data(),  # once a day, and only once genai-prices' data is in
        }

    def merge(self, other: ReadingPart) -> None:
        """Add another part's counts (files read apart) into this one's."""
        for mine, theirs in ((self.reads, other.reads), (self.copies, other.copies)):
            for source, (a, b) in theirs.items():
                counts = self._of(mine, source)
                counts[0] += a
                counts[1] += b
        for file, kind in other.file_kinds.items():
            self.file_kinds.setdefault(file, kind)
        for source, files in other.not_read.items():
            for file, why in files.items():
                self.file_not_read(source, file, why)
        for source, reasons in other.bad_reasons.items():
            for reason, n in reasons.items():
                self.bad_line(source, reason, n)
        for source, n in other.lines.items():
            self.lines[source] = self.lines.get(source, 0) + n
        self.agent.merge(other.agent)

    def findings(self) -> dict:
        return {
            "reads": {k: list(v) for k, v in self.reads.items()},
            "copies": {k: list(v) for k, v in self.copies.items()},
            "file_kinds": dict(self.file_kinds),
            "not_read": {k: dict(v) for k, v in self.not_read.items()},
            "bad_reasons": {k: dict(v) for k, v in self.bad_reasons.items()},
            "lines": dict(self.lines),
            "agent": self.agent.findings(),
        }

    def absorb(self, found: dict, first_read) -> None:
        """What a worker's history read: its lines and copies; each of its files once
        (``first_read(file)``: it has no read position here)."""
        for source, (_, lines) in found.get("reads", {}).items():
            self._of(self.reads, source)[LINES] += lines
        for source, (copies, before) in found.get("copies", {}).items():
            counts = self._of(self.copies, source)
            counts[COPIES] += copies
            counts[BEFORE_RESTART] += before
        for file, kind in found.get("file_kinds", {}).items():
            if file not in self.file_kinds:
                self.note_file(file, kind, first_read(file))
        for source, files in found.get("not_read", {}).items():
            for file, why in files.items():
                self.file_not_read(source, file, why)
        for source, reasons in found.get("bad_reasons", {}).items():
            for reason, n in reasons.items():
                self.bad_line(source, reason, n)
        for source, n in found.get("lines", {}).items():
            self.lines[source] = self.lines.get(source, 0) + n
        self.agent.absorb(found.get("agent", {}))

    # --- state.toml -------------------------------------------------------------

    def encode(self) -> dict:
        return {
            "copies_left_out": {k: list(v) for k, v in self.copies.items()},
            "read_counts": {k: list(v) for k, v in self.reads.items()},
            "bad_reasons_by_source": {k: dict(v) for k, v in self.bad_reasons.items()},
            "lines_read": dict(self.lines),
            **self.agent.encode(),
        }

    def decode(self, data: dict) -> None:
        for key, table in (("copies_left_out", self.copies), ("read_counts", self.reads)):
            for source, counts in decode.table(data.get(key, {}), key).items():
                table[decode.text(source, key)] = decode.counters(counts, f"{key}.{source}", 2)
        self.lines.update(decode.counts_by_name(data.get("lines_read", {}), "lines_read"))
        key = "bad_reasons_by_source"
        for source, reasons in decode.table(data.get(key, {}), key).items():
            self.bad_reasons[decode.text(source, key)] = decode.counts_by_name(reasons, f"{key}.{source}")
        self.agent.decode(data)
