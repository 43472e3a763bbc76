"""Reading every file of a source once, in several processes (``report``).

The result is that of one sequential ``poll()``: the same records reach the history, and
every file's offset ends where a sequential read leaves it. Quirks:
- files are spread over the processes largest first, onto the lightest process;
- a file of an adapter whose lines stand alone (``lines_independent``) that is larger
  than a process's share is cut at line starts into byte ranges, each read by a fresh
  source of the adapter; the parent takes the ranges' records in file order (a request
  copied on both sides of a cut is settled by its request key, as any copy is), hands
  their ``carry`` to the adapter's ``settle``, and keeps the offset of the last range;
- the context an adapter carries stays in the process that read the file, so a source
  that goes on tailing afterwards should use ``poll()``;
- a process hands its whole files back as the parts it counted them into, not as
  records (``history/handover.py``); the files of one folder go to one process, since a
  resumed session repeats its requests beside them. Should a request still have been
  counted by two, the later process's files are read again here, the usual way.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from itertools import pairwise
from pathlib import Path
from typing import NamedTuple

from ..history import TokenHistory
from ..history.copies import latest_copies
from . import base
from .tail import FileTail, Position, open_regular, tail_at

MIN_RANGE_BYTES = 8 * 1024 * 1024  # a smaller share of a file is not worth a process of its own
_SCAN_BYTES = 64 * 1024  # read at a time while looking for the line start after a cut


class Piece(NamedTuple):
    """What one process reads of one file: from ``position`` on, ``max_bytes`` of it (None:
    to its end). ``index`` orders a split file's ranges; ``split`` says it is one."""

    file: str
    position: dict | None
    max_bytes: int | None
    size: int
    index: int = 0
    split: bool = False
    last: bool = True


def read_all(source: base.LineSource, workers: int | None) -> int:
    """Read every file of ``source`` to its end, as finished files (``one_shot``: a last
    line without its newline counts); returns the records taken (merged as parts, or
    queued)."""
    one_shot, source.one_shot = source.one_shot, True
    try:
        return _read_all(source, workers)
    finally:
        source.one_shot = one_shot


def read_backlog(source: base.LineSource, idle_s: float, workers: int | None = None) -> int:
    """Read the files of ``source`` no one has written for ``idle_s`` to their end, all in
    worker processes (this thread only merges what they hand over, so a window's frames
    do not wait for the parsing); returns the records taken, 0 when too few bytes are
    unread for processes to pay. The files being written are left to ``poll()``, which
    keeps their context (an open tool call, a rollout's model) as it tails them; a file
    read here that grows later is read on from where it ended, as after a restart."""
    now = time.time()

    def idle(path: Path) -> bool:
        try:
            return now - path.stat().st_mtime >= idle_s
        except OSError:
            return False

    one_shot, source.one_shot = source.one_shot, True
    try:
        return _read_all(source, workers, keep=idle, in_process=False)
    finally:
        source.one_shot = one_shot


def _read_all(source: base.LineSource, workers: int | None, keep=None, in_process: bool = True) -> int:
    """Read the files of ``source`` (those ``keep`` keeps) in processes; without enough
    to read for them, poll() (or, for a backlog, nothing)."""
    if workers is None:
        workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    try:
        files = source.files()
    except OSError:
        return source.poll() if in_process else 0  # poll() reports the listing problem as a notice
    history = source.history
    left: dict[str, int] = {}
    for path in files if keep is None else filter(keep, files):
        key = str(path)
        try:
            left[key] = max(
                0,
                path.stat().st_size - int((history.offset_for(key) or {}).get("offset", 0)),
            )
        except OSError:
            left[key] = 0
    jobs = []
    if (
        workers >= 2
        and sum(left.values()) >= base.PARALLEL_MIN_BYTES
        and "fork" in multiprocessing.get_all_start_methods()
    ):
        jobs = _balance(_pieces(source, left, workers), workers)
    if len(jobs) < 2:
        return source.poll() if in_process else 0
    module = type(source).__module__
    source.history.prices.load()  # each process prices what it reads: load the prices once, here
    overrides = source.history.prices.overrides or None
    return _absorb(source, _run(jobs, module, source.label, overrides), module, overrides)


def _pieces(source: base.LineSource, left: dict[str, int], workers: int) -> list[Piece]:
    """Each file whole, or cut into ranges when it is larger than a process's share."""
    share = max(MIN_RANGE_BYTES, sum(left.values()) // workers)
    pieces: list[Piece] = []
    for key, n in left.items():
        saved = source.history.offset_for(key)
        if not source.lines_independent or n < share + MIN_RANGE_BYTES:
            pieces.append(Piece(key, saved, None, n))
            continue
        try:
            tail = FileTail(key, Position.from_dict(saved))
            start, size = tail.check()  # from 0 if it was replaced since the saved offset
            cuts = line_starts(key, start, size, min(workers, -(-(size - start) // share)))
            bounds = [start, *cuts, size]
            starts = _range_positions(key, tail.position(), bounds[:-1])
        except OSError:
            pieces.append(Piece(key, saved, None, n))  # the read reports it
            continue
        for i, (a, b) in enumerate(pairwise(bounds)):
            last = i == len(bounds) - 2
            pieces.append(
                Piece(
                    key,
                    starts[i],
                    None if last else b - a,
                    b - a,
                    i,
                    True,
                    last,
                )
            )
    return pieces


def line_starts(file: str, start: int, end: int, parts: int) -> list[int]:
    """Up to ``parts - 1`` offsets that cut [start, end) of ``file`` into about equal parts,
    each the start of a line (just after a newline), increasing, inside (start, end)."""
    cuts: list[int] = []
    fd = open_regular(file)
    try:
        for i in range(1, parts):
            at = max(start + (end - start) * i // parts, cuts[-1] if cuts else start)
            while at < end:  # the line start at or after ``at``: after the newline before it
                data = os.pread(fd, min(_SCAN_BYTES, end - at + 1), at - 1)
                nl = data.find(b"\n")
                if nl >= 0:
                    at += nl
                    break
                if not data:
                    at = end
                    break
                at += len(data)
            if start < at < end and (not cuts or at > cuts[-1]):
                cuts.append(at)
    finally:
        os.close(fd)
    return cuts


def _range_positions(file: str, position: dict, offsets: list[int]) -> list[dict]:
    """``position`` moved to each of ``offsets``, with the digest of the bytes before it
    (its ``tail``), so the range's reader takes the file for the one read so far."""
    fd = open_regular(file)
    try:
        return [{**position, "offset": at, **dict(zip(("tail_len", "tail"), tail_at(fd, at)))} for at in offsets]
    finally:
        os.close(fd)


def _balance(pieces: list[Piece], workers: int) -> list[list[Piece]]:
    """Pieces over at most ``workers`` jobs, largest first onto the lightest job; a
    folder's whole files go together (``_folder``)."""
    groups: dict[str, list[Piece]] = {}
    for piece in pieces:
        groups.setdefault(f"range {piece.file} {piece.index}" if piece.split else _folder(piece.file), []).append(piece)
    jobs: list[list[Piece]] = [[] for _ in range(workers)]
    loads = [0] * workers
    for group in sorted(groups.values(), key=lambda g: sum(p.size for p in g), reverse=True):
        i = loads.index(min(loads))
        jobs[i].extend(group)
        loads[i] += sum(p.size for p in group)
    return [job for job in jobs if job]


def _folder(file: str) -> str:
    """Where a file's requests may repeat: its folder (a resumed session copies the one
    it resumes, beside it); a session's subagents, under ``<session>/subagents/``, with
    the session's folder."""
    folder = Path(file).parent
    return str(folder.parent.parent if folder.name == "subagents" else folder)


def _run(jobs: list[list[Piece]], module: str, label: str, overrides):
    """Yield (piece or None for a job's whole files, findings) job by job, in order, each
    job read in a process of its own. This one only merges: had it read a job too, it
    would hold that job's look-ups (the requests held whole, the open tool calls) beside
    the merged parts, and be the largest process by that much."""
    with ProcessPoolExecutor(len(jobs), mp_context=multiprocessing.get_context("fork")) as pool:
        futures = [pool.submit(_read_job, module, label, job, overrides) for job in jobs]
        for future in futures:
            yield from future.result()


def _absorb(source: base.LineSource, results, module: str, overrides) -> int:
    """Take what the jobs found into the source's history: whole files' parts as they
    come (or, if a request of theirs is counted already, their files read again here),
    a split file's ranges in file order, then what its ranges settle together."""
    history = source.history
    queued = 0
    waiting: dict[str, dict[int, tuple[Piece, dict]]] = {}
    carried: dict[str, list[object]] = {}
    for piece, findings in results:
        if piece is None:
            if history.take_over(findings):
                queued += findings["applied"]
            else:
                queued += history.absorb(_read(module, source.label, findings["pieces"], overrides))
            continue
        ready = waiting.setdefault(piece.file, {})
        ready[piece.index] = (piece, findings)
        done = carried.setdefault(piece.file, [])
        while len(done) in ready:
            piece, findings = ready.pop(len(done))
            queued += history.absorb(findings)
            done.append(findings["carry"])
            if piece.last:
                for record in source.settle(done):
                    history.add(record)
                    queued += 1
    return queued


def _read_job(module: str, label: str, pieces: list[Piece], overrides) -> list[tuple[Piece | None, dict]]:
    """What one process reads: its whole files with one source, handed over as parts;
    each range with its own source, as records."""
    out: list[tuple[Piece | None, dict]] = []
    whole = [p for p in pieces if not p.split]
    if whole:
        out.append((None, _read(module, label, whole, overrides, hand_over=True)))
    out.extend((p, _read(module, label, [p], overrides)) for p in pieces if p.split)
    return out


def _read(module: str, label: str, pieces: list[Piece], overrides, hand_over: bool = False) -> dict:
    """Read ``pieces`` with a fresh source of the adapter in ``module``, and return what it
    found: ``TokenHistory.findings()`` (a range's also its ``carry``), or with
    ``hand_over`` the parts it counted (``TokenHistory.hand_over()``)."""
    reader = TokenHistory(price_overrides=overrides)
    if hand_over:
        reader.keep_digests()
    reader.offsets.update({p.file: p.position for p in pieces if p.position})
    source = importlib.import_module(module).SOURCE([Path(p.file) for p in pieces], reader)
    source.label = label
    ranged = pieces[0] if pieces[0].split else None
    source.reading_range = ranged is not None
    source.one_shot = ranged is None or ranged.last  # only the last range ends at the end
    source.poll(ranged.max_bytes if ranged else None)
    if hand_over:
        found = reader.hand_over()
        found["applied"], found["pieces"] = reader.applied, pieces
        return found
    findings = reader.findings()
    findings["records"], left_out = latest_copies(findings["records"])
    copies = findings["reading"]["copies"]
    for kind, (n, _) in left_out.items():  # lines the worker read: copies now, not lines
        copies.setdefault(kind, [0, 0])[0] += n
    if ranged is not None:
        findings["carry"] = source.carry(ranged.file)
        if not ranged.last:  # the file's offset is where its last range ends
            findings["offsets"] = {}
    return findings
