"""A history read apart, handed over as its parts rather than its records.

``report`` reads a source's files in several processes. Each used to send back every
record it read, and this process unpickled and applied them one by one: for 300k
requests more time than the reading itself. Now a worker applies its records to its
own parts, and this process merges the parts (every aggregate is a sum). What the parts
cannot say is which requests were counted, so a worker also hands over the 64-bit
digest of every request key it counted: a request both histories counted would be
counted twice, so a worker whose digests meet this history's is not merged, and its
files are read again here the usual way (``parallel.py``, which keeps the copies of
a request in one worker, makes that rare).
"""

from __future__ import annotations

from array import array

from ..saved_reads import key_digest
from .digests import meets, sorted_digests


class Handover:
    """The handing-over side of TokenHistory (a mixin: its parts and lock are the history's)."""

    def keep_digests(self) -> None:
        """Note the digest of every request key counted from now on, and count each file's
        records as it is read, not all at the end (a worker's history: what it holds is
        its parts, never a job's records)."""
        self._counted_digests = array("q")
        self._apply_reads = True

    def hand_over(self) -> dict:
        """``findings()`` after applying everything queued (no records), with the parts
        and the digest of every request key counted since ``keep_digests``."""
        self.drain()
        found = self.findings()
        with self._lock:
            found["parts"] = (self.sessions, self.usage, self.tickets, self.tools, self._latest_other_ts)
            found["digests"] = sorted_digests(self._counted_digests)  # sorted here, a run there
        return found

    def take_over(self, found: dict) -> bool:
        """Merge what a history read apart handed over (``hand_over``), unless one of its
        requests is counted here already: then nothing is taken and False returned.

        The panel takes the history's lock every frame, so the look-ups of the digests
        against what was held a moment ago are done outside it (at 700 MB of logs they
        took 60 to 160 ms a handover); under the lock only what changed since is looked
        at again, and the digests join the ones let go as a run of their own."""
        digests = found["digests"]
        reads = self._reads
        # The saved keys first, outside the lock: one look-up each in SQLite.
        if reads is not None and reads.may_hold and any(map(reads.counted, digests)):
            return False
        with self._lock:
            held, keys, counted = self._held, list(self._held), self._keys_counted
            let_go = self._let_go
            runs = let_go.runs()
        if self._counted_apart(digests, keys, runs):
            return False
        with self._lock:
            changed = self._held is not held or self._keys_counted != counted  # requests counted meanwhile
            if changed and self._counted_apart(digests, list(self._held), ()):
                return False
            if let_go is not self._let_go or let_go.small_meets(digests):
                return False
            added = [run for run in let_go.runs() if all(run is not old for old in runs)]
            if added and let_go.any_of(digests, added):
                return False
            sessions, usage, tickets, tools, latest_other_ts = found["parts"]
            self.sessions.merge(sessions)
            self.usage.merge(usage, take=True)
            self.tickets.merge(tickets, take=True)
            self.tools.merge(tools)
            if latest_other_ts is not None and (
                self._latest_other_ts is None or latest_other_ts > self._latest_other_ts
            ):
                self._latest_other_ts = latest_other_ts
            let_go.add_run(digests)  # counted, and not held whole: a later copy is left out
            if reads is not None:
                reads.add_all(digests)
        self.absorb(found)  # positions, bad lines, notices, what was read (no records)
        return True

    @staticmethod
    def _counted_apart(digests, keys: list[str], runs) -> bool:
        """Whether one of a handover's sorted ``digests`` is the digest of one of ``keys``
        (requests held whole) or in one of ``runs`` (digests let go); no lock held."""
        held = set(map(key_digest, keys))
        return not held.isdisjoint(digests) or any(meets(run, digests) for run in runs)
