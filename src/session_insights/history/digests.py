"""A set of 64-bit request-key digests in about 8 bytes each, for the keys a history let go.

The history holds its recent requests whole (``copies.HeldCopies``), so a larger copy
replaces a smaller one; a request let go from there (or counted in another process and handed
over) is only remembered as counted, by its digest, so a copy of it arriving later (a
resumed session repeating its history hundreds of thousands of requests on) is left
out at any corpus size. A Python set of ints costs ~70 bytes a key; here the digests
sit in a few sorted ``array`` runs (8 bytes a key, looked up by bisection in C) and only
the latest few in a small set, which becomes a run of its own once it has ``SMALL``.

A worker's digests come sorted and become a run as they are. Past ``MAX_RUNS`` the two
smallest runs are merged, so a look-up bisects at most that many; sorting and merging
go a block at a time, since a list of every digest (what ``sorted`` builds) took 60 MB
for a moment at 2 GB of logs.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from itertools import chain

SMALL = 65_536
MAX_RUNS = 8
BLOCK = 65_536  # digests sorted at a time: a list of ints costs 40 bytes a digest, not 8
# The bitmap that turns away most digests not held: 1 MiB, so that at 1.5 million digests
# (2 GB of Claude logs) a digest not held still finds its bit clear five times in six.
FILTER_BITS = 1 << 23
FILTER_MASK = FILTER_BITS - 1


def merged(a: array, b: array) -> array:
    """Two sorted arrays as one, through lists of at most about ``2 * BLOCK`` ints: each
    step takes a block of one run and what of the other sorts before its end."""
    out = array("q")
    i = j = 0
    while i < len(a) and j < len(b):
        ai, bj = min(i + BLOCK, len(a)), min(j + BLOCK, len(b))
        if a[ai - 1] <= b[bj - 1]:
            bj = bisect_right(b, a[ai - 1], j, bj)
        else:
            ai = bisect_right(a, b[bj - 1], i, ai)
        out.extend(sorted(chain(a[i:ai], b[j:bj])))
        i, j = ai, bj
    out.extend(a[i:])
    out.extend(b[j:])
    return out


def sorted_digests(digests: array) -> array:
    """``digests`` sorted, a block at a time, the blocks then merged pairwise."""
    runs = [array("q", sorted(digests[i : i + BLOCK])) for i in range(0, len(digests), BLOCK)]
    while len(runs) > 1:
        runs = [merged(*runs[k : k + 2]) if k + 1 < len(runs) else runs[k] for k in range(0, len(runs), 2)]
    return runs[0] if runs else array("q")


def meets(a: array, b: array) -> bool:
    """Whether two sorted arrays share a digest: the shorter bisected into the longer."""
    if len(a) > len(b):
        a, b = b, a
    n = len(b)
    for digest in a:
        i = bisect_left(b, digest)
        if i < n and b[i] == digest:
            return True
    return False


class DigestSet:
    """Most look-ups are of digests not held (each new request, each new tool call): a
    bitmap of one bit per digest's low bits (FILTER_BITS, 1 MiB) answers those without
    bisecting the runs, but for the few whose bit another digest set. A run handed over
    whole (a worker's, ``add_run``) is not marked, which would cost a Python step per
    digest on report's last stretch: it is bisected at every look-up instead."""

    __slots__ = ("_bits", "_runs", "_small", "_unmarked")

    def __init__(self) -> None:
        self._runs: tuple[array, ...] = ()  # replaced, never changed in place
        self._unmarked: tuple[array, ...] = ()  # those of the runs the bitmap does not cover
        self._small: set[int] = set()
        self._bits = bytearray(FILTER_BITS >> 3)

    def __len__(self) -> int:
        return sum(map(len, self._runs)) + len(self._small)

    @property
    def count(self) -> int:
        return len(self)

    def __contains__(self, digest: int) -> bool:
        bit = digest & FILTER_MASK
        if not self._bits[bit >> 3] & (1 << (bit & 7)):
            return _in_runs(self._unmarked, digest)
        return digest in self._small or _in_runs(self._runs, digest)

    def add(self, digest: int) -> None:
        if digest not in self:
            bit = digest & FILTER_MASK
            self._bits[bit >> 3] |= 1 << (bit & 7)
            self._small.add(digest)
            if len(self._small) >= SMALL:
                self.flush()

    def flush(self) -> None:
        """The small set as a run of its own (its digests are marked already)."""
        small, self._small = self._small, set()
        self._add(array("q", sorted(small)), marked=True)

    def add_run(self, digests: array) -> None:
        """Add a sorted array of digests none of which is held (``any_of``), as it is."""
        self._add(digests, marked=False)

    def _add(self, digests: array, marked: bool) -> None:
        if digests:
            self._runs = (*self._runs, digests)
            if not marked:
                self._unmarked = (*self._unmarked, digests)
        while len(self._runs) > MAX_RUNS:
            a, b = sorted(self._runs, key=len)[:2]
            ab = merged(a, b)
            self._runs = (*(r for r in self._runs if r is not a and r is not b), ab)
            if any(r is a or r is b for r in self._unmarked):  # a merge of an unmarked run is one
                self._unmarked = (*(r for r in self._unmarked if r is not a and r is not b), ab)

    def runs(self) -> tuple[array, ...]:
        """The sorted runs as they are now (a later add replaces the tuple)."""
        return self._runs

    def any_of(self, digests: array, runs: Iterable[array] | None = None) -> bool:
        """Whether one of the sorted ``digests`` is held (among ``runs`` only, if given)."""
        if runs is None and not self._small.isdisjoint(digests):
            return True
        return any(meets(run, digests) for run in (self._runs if runs is None else runs))

    def small_meets(self, digests: Iterable[int]) -> bool:
        """Whether one of ``digests`` is among the latest few (not yet in a run)."""
        return not self._small.isdisjoint(digests)

    def clear(self) -> None:
        self._runs = self._unmarked = ()
        self._small = set()
        self._bits = bytearray(FILTER_BITS >> 3)


def _in_runs(runs: tuple[array, ...], digest: int) -> bool:
    for run in runs:
        i = bisect_left(run, digest)
        if i < len(run) and run[i] == digest:
            return True
    return False
