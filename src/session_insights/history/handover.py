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
            found["digests"] = array("q", sorted(self._counted_digests))  # sorted here, merged there
        return found

    def take_over(self, found: dict) -> bool:
        """Merge what a history read apart handed over (``hand_over``), unless one of its
        requests is counted here already: then nothing is taken and False returned."""
        digests = found["digests"]
        reads = self._reads
        # The saved keys first, outside the history's lock: one look-up each in SQLite,
        # and the panel takes that lock every frame.
        if reads is not None and reads.may_hold and any(map(reads.counted, digests)):
            return False
        with self._lock:
            let_go = self._let_go
            held = {key_digest(key) for key in self._seen}
            if not held.isdisjoint(digests) or let_go.any_of(digests):
                return False
            sessions, usage, tickets, tools, latest_other_ts = found["parts"]
            self.sessions.merge(sessions)
            self.usage.merge(usage, take=True)
            self.tickets.merge(tickets)
            self.tools.merge(tools)
            if latest_other_ts is not None and (
                self._latest_other_ts is None or latest_other_ts > self._latest_other_ts
            ):
                self._latest_other_ts = latest_other_ts
            let_go.add_all(digests)  # counted, and not held whole: a later copy is left out
            if reads is not None:
                for digest in digests:
                    reads.add(digest)
        self.absorb(found)  # positions, bad lines, notices, what was read (no records)
        return True
