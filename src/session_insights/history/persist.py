"""The state file of a TokenHistory: restore at start, save, and the write lock.

A state is restored only with the read positions and request keys its saves wrote
beside it (``SavedReads``); without them its figures cannot be told from what a restart
reads again, so the history starts clean and says so. A save writes those first, then
state.toml (atomically), folding detail until the file fits its budget. One process
writes a state at a time: another opens it read-only.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import sqlite3
import time

from .. import decode
from .. import state as state_file
from ..saved_reads import SavedReads
from ..store import history_path_for
from . import codec
from .sessions import EARLIER_SESSIONS


def path_digest(path: str) -> str:
    return hashlib.blake2b(path.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


class Persisted:
    """What TokenHistory does with its state file (``state_path``)."""

    def _take_lock(self) -> bool:
        """Hold the state's write lock; whether this history must stay read-only because
        another process writes the state."""
        try:
            self._lock_fd = state_file.lock_for_writing(self.state_path)
        except OSError:
            self._lock_fd = -1  # no lock file can be made there: the save reports that folder
        if self._lock_fd is not None:
            return False
        self.notice(
            f"{self.state_path} is being written by another session-insights: this one "
            "shows its figures and what it reads but does not save them"
        )
        self._in_use = True
        return True

    def _restore(self, read_only: bool, *, keep_budget: bool, keep_overrides: bool) -> None:
        """Load state_path (a corrupt one is moved aside, see ``notices``) and what its
        saves read."""
        loaded = state_file.load(self.state_path, move_corrupt=not read_only)
        if loaded.notice:
            self.notice(loaded.notice)
        generation = 0  # of what the saved state read (keys, positions): none for a clean start
        # A file that is there but could not be read (permissions, a folder) was not
        # moved aside: it is the user's, and a save must never replace it.
        self._not_ours = loaded.data is None and os.path.lexists(self.state_path)
        if loaded.data is not None:
            try:
                codec.load_state(self, loaded.data, keep_budget=keep_budget, keep_overrides=keep_overrides)
                generation = decode.whole(loaded.data.get("reads_generation", 0), "reads_generation")
                if generation:
                    self._state_id = decode.text(loaded.data.get("reads_id"), "reads_id")
            # decode's checks raise ValueError; the rest is a last guard
            except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError, RecursionError) as exc:
                self._start_clean(f"has an unexpected shape ({exc})", read_only)
        self._open_reads(generation, read_only)

    def _start_clean(self, why: str, read_only: bool, *, keep_file: bool = False) -> None:
        """Forget what a state file said (its figures cannot be trusted) and say so; a
        writer moves the file aside, so nothing of it is lost, or with ``keep_file``
        leaves it where it is and never saves over it."""
        self._reset()
        self.offsets, self.ui, self._saved_offsets = {}, {}, {}
        self._held.clear()
        self._let_go.clear()
        self._state_id = secrets.token_hex(8)
        if keep_file and not read_only:
            self._not_ours = True
            self.notice(
                f"{self.state_path} was not used: {why}; this run counts from the logs alone and does not save over it"
            )
        elif read_only:
            self.notice(f"{self.state_path} {why}; it was left as it is and not used")
        else:
            self.notice(state_file.move_aside(self.state_path, why).notice)

    def _open_reads(self, generation: int, read_only: bool) -> None:
        """The keys and positions the saves up to ``generation`` wrote, beside the state in
        the durable history. Without them the state's figures cannot be told from what a
        restart reads again: then it starts clean."""
        path = history_path_for(self.state_path)
        reads = SavedReads(path, generation, self._state_id, read_only=read_only)
        if reads.moved_aside:
            self.notice(reads.moved_aside)
        if reads.unavailable and generation:
            # Cannot be read now (locked, a device gone): the state is kept for a later run.
            self._start_clean(reads.problem, read_only, keep_file=True)
            reads.generation, reads.state_id = 0, self._state_id
            self._reads = reads
            return
        if reads.unavailable:
            self.notice(reads.problem)
        positions = reads.positions()
        try:
            saved = {digest: decode.position(row, f"{path.name}: {digest}") for digest, row in positions.items()}
        except ValueError:
            saved = None
        if saved is None or not reads.knows_generation():
            self._start_clean(
                f"counted requests whose read positions and keys {path.name} does not hold "
                "(it was removed, replaced or damaged, or the state was copied from elsewhere)",
                read_only,
            )
            reads.close()
            # A writer's open deletes the rows of any save: none is this state's.
            reads = SavedReads(path, 0, self._state_id, read_only=read_only)
        else:
            self._saved_offsets.update(saved)
            self._positions_written = positions
        self._reads = reads

    # --- persistence ------------------------------------------------------------

    def save(self) -> int:
        """Write state_path now (atomically); returns the file's size in bytes. One save
        at a time (the saver's and a last one at exit may meet)."""
        with self._save_lock:
            return self._save()

    def _save(self) -> int:
        if self.state_path is None:
            raise ValueError("this TokenHistory has no state_path to save to")
        if self._not_ours and os.path.lexists(self.state_path):
            raise OSError(f"{self.state_path} could not be read at start, so it is not overwritten")
        if self._in_use:
            raise OSError(f"{self.state_path} is being written by another session-insights; not saved from here")
        if self._reads is None:  # a state_path set after construction: nothing was read with it
            self._open_reads(0, read_only=False)
        self._reads.state_id = self._state_id
        reads = self._reads
        generation = reads.generation + 1
        extra = {"reads_generation": generation, "reads_id": self._state_id}
        # The data, the keys and the positions are taken together under the lock (the
        # state must hold what the keys say was counted); the TOML is written outside it,
        # so a drain or the panel waits for the taking only. A state over its budget gives
        # the keys back, shrinks and is taken again.
        over = 0
        while True:
            with self._lock:
                shrunk = over and self._shrink_for_state(over)
                data = codec.encode_state(self)
                pending = reads.take_pending()
                positions = self._changed_positions()
            data = {**data, **extra}
            payload = self._encoder.encode(data)
            if len(payload) <= state_file.MAX_STATE_BYTES or (over and not shrunk):
                break
            reads.give_back(pending)
            over = len(payload)
        # Keys and positions first: a state must never count what a restart cannot tell apart.
        try:
            reads.write(pending, positions, generation, time.time())
        except (sqlite3.Error, OSError) as exc:
            reads.give_back(pending)
            raise OSError(f"what was read could not be kept in {reads.path} ({exc})") from exc
        self._positions_written.update(positions)
        state_file.write_state(self.state_path, payload, data)
        reads.generation = generation
        return len(payload)

    def _changed_positions(self) -> dict[str, str]:
        """The read positions (rows, by path digest) not written as they are now."""
        rows = {d: decode.position_row(v) for d, v in self._saved_offsets.items()}
        rows.update((path_digest(k), decode.position_row(v)) for k, v in self.offsets.items())
        written = self._positions_written
        return {d: row for d, row in rows.items() if written.get(d) != row}

    def close(self) -> None:
        """Let go of the file beside the state (what its saves read); call after the last
        save. Saving again opens it again."""
        if self._reads is not None:
            self._reads.close()
        if self._lock_fd is not None and self._lock_fd >= 0:
            os.close(self._lock_fd)  # another process may write the state from now on
            self._lock_fd = None

    def _shrink_for_state(self, size: int) -> bool:
        """Fold detail until the state fits its budget, one step a call; ``size`` is what
        it came to. Session timelines go first, then quarter hours, then the larger of the
        sessions and the tickets is halved (or, many times over, cut to what fits)."""
        budget, sizes = state_file.MAX_STATE_BYTES, self._encoder.sizes
        if self._saved_details:
            # 16, 4, 1, then none (a restart starts their timelines anew); none at once
            # when the state would not fit even without them.
            self._saved_details = 0 if size - sizes.get("details", 0) > budget else self._saved_details // 4
            return True
        # Quarter hours of the time scopes: a day, then the block's five hours, then none
        # (the totals stay whole; today's and the week's figures then begin at the restart).
        for hours in (24, 6, 0):
            if self._saved_quarter_hours > hours:
                self._saved_quarter_hours = hours
                return True
        sessions = [s for s in self.sessions.rows if s != EARLIER_SESSIONS]
        session_bytes = sizes.get("usage", 0) + sizes.get("sessions", 0)
        if len(self.tickets.tickets) > 50 and (len(sessions) <= 8 or sizes.get("tickets", 0) > session_bytes):
            for _ in range(len(self.tickets.tickets) // 2):
                self.tickets.retire()
            return True
        if len(sessions) > 8:
            # Many times over its budget, a state keeps as many sessions as fit (with a
            # margin, at least 8) at once: each step encodes the whole state again.
            over = size - budget
            keep = len(sessions) // 2
            if session_bytes and over > session_bytes // 2:
                keep = max(8, int(len(sessions) * (1 - over / session_bytes) * 0.9))
            self._fold_sessions(len(sessions) - keep)
            return True
        if self._saved_copies > 16:
            self._saved_copies //= 2  # the keys of the others are kept in saved_reads
            return True
        models = {m for m, _, _ in self.usage.combos if m != "(other models)"}
        if len(models) > 16:
            self.usage.fold_models(len(models) // 2)
            return True
        return False

    def to_state(self) -> dict:
        """Aggregates as plain TOML-able data: no prompt or response text, ever."""
        return codec.encode_state(self)
