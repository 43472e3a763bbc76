"""A set of 64-bit request-key digests in 16 bytes each, for the keys a history let go.

The history keeps the last ``MAX_DEDUP_KEYS`` requests whole, so a larger copy replaces
a smaller one; a request older than that is only remembered as counted, by its digest,
so a copy of it arriving later (a resumed session repeating its history hundreds of
thousands of requests on) is left out at any corpus size. A Python set of ints costs
~70 bytes a key; this open-addressing table in an ``array`` costs 16 at most (half
full), which keeps a year of requests in a few megabytes.
"""

from __future__ import annotations

from array import array

_EMPTY = 0  # digest 0 is stored as 1: one in 2**64 keys shares a slot's meaning


class DigestSet:
    __slots__ = ("_mask", "_slots", "count")

    def __init__(self) -> None:
        self._slots = array("q", bytes(8 * 1024))
        self._mask = 1023
        self.count = 0

    def __len__(self) -> int:
        return self.count

    def __contains__(self, digest: int) -> bool:
        digest = digest or 1
        slots, mask = self._slots, self._mask
        i = digest & mask
        while True:
            held = slots[i]
            if held == digest:
                return True
            if held == _EMPTY:
                return False
            i = (i + 1) & mask

    def add(self, digest: int) -> None:
        digest = digest or 1
        if 2 * (self.count + 1) > len(self._slots):
            self._grow()
        slots, mask = self._slots, self._mask
        i = digest & mask
        while True:
            held = slots[i]
            if held == digest:
                return
            if held == _EMPTY:
                slots[i] = digest
                self.count += 1
                return
            i = (i + 1) & mask

    def _grow(self) -> None:
        old = self._slots
        self._slots = array("q", bytes(16 * len(old)))
        self._mask = 2 * len(old) - 1
        self.count = 0
        for digest in old:
            if digest != _EMPTY:
                self.add(digest)

    def clear(self) -> None:
        self.__init__()
