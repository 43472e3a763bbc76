"""A set of 64-bit request-key digests in about 8 bytes each, for the keys a history let go.

The history keeps the last ``MAX_DEDUP_KEYS`` requests whole, so a larger copy replaces
a smaller one; a request older than that (or counted in another process and handed
over) is only remembered as counted, by its digest, so a copy of it arriving later (a
resumed session repeating its history hundreds of thousands of requests on) is left
out at any corpus size. A Python set of ints costs ~70 bytes a key; here the digests
sit in one sorted ``array`` (8 bytes a key, looked up by bisection in C) and only the
latest few in a small set, merged into the array once it has ``SMALL`` of them.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Iterable
from itertools import chain

SMALL = 65_536


class DigestSet:
    __slots__ = ("_small", "_sorted")

    def __init__(self) -> None:
        self._sorted = array("q")
        self._small: set[int] = set()

    def __len__(self) -> int:
        return len(self._sorted) + len(self._small)

    @property
    def count(self) -> int:
        return len(self)

    def __contains__(self, digest: int) -> bool:
        if digest in self._small:
            return True
        held = self._sorted
        i = bisect_left(held, digest)
        return i < len(held) and held[i] == digest

    def add(self, digest: int) -> None:
        if digest not in self:
            self._small.add(digest)
            if len(self._small) >= SMALL:
                self._merge(())

    def add_all(self, digests: Iterable[int]) -> None:
        """Add many at once, none of them held yet (``any_of``); sorted, they are merged
        in one pass (a sort of two runs, in C)."""
        self._merge(digests)

    def any_of(self, digests: Iterable[int]) -> bool:
        """Whether one of ``digests`` is held."""
        small, held, n = self._small, self._sorted, len(self._sorted)
        if not small and not n:
            return False
        for digest in digests:
            if digest in small:
                return True
            i = bisect_left(held, digest)
            if i < n and held[i] == digest:
                return True
        return False

    def sorted_part(self) -> array:
        """The sorted array as it is now: never changed in place, only replaced."""
        return self._sorted

    def small_meets(self, digests: set[int]) -> bool:
        """Whether one of ``digests`` is among the latest few (not yet in the array)."""
        return not self._small.isdisjoint(digests)

    @staticmethod
    def merged(base: array, digests: Iterable[int]) -> array:
        """``base`` with ``digests`` merged in (none held there), for ``swap_sorted``."""
        return array("q", sorted(chain(base, digests)))

    def swap_sorted(self, base: array, merged: array) -> bool:
        """Put ``merged`` (``merged(base, ...)``) in place of the array, if it is still
        ``base``; False if the array was replaced since (the caller adds the usual way)."""
        if self._sorted is not base:
            return False
        self._sorted = merged
        return True

    def _merge(self, digests: Iterable[int]) -> None:
        self._sorted = array("q", sorted(chain(self._sorted, sorted(self._small), digests)))
        self._small = set()

    def clear(self) -> None:
        self._sorted = array("q")
        self._small = set()
