"""Bounded time series: per-bucket sums that coarsen as the span grows.

Keeps at most ``capacity`` buckets between the earliest and the latest event; when an
event would stretch the span past that, the bucket width doubles and neighbours merge.
Widths are powers of two seconds aligned to the epoch, so a bucket's sums are exact and
the same whatever order the events came in; cumulative sums over buckets equal totals.
"""

from __future__ import annotations

from collections.abc import Iterator

MAX_CAPACITY = 1 << 16
MAX_LEVEL = 40  # a bucket 2**40 s (35,000 years) wide: far past any span a series covers
MAX_TS = 2**33  # epoch seconds (year 2242): past every time a record may carry


class BucketSeries:
    """Sums of ``fields`` numbers per time bucket, at most ``capacity`` buckets wide."""

    __slots__ = ("_buckets", "_hi", "_last_bucket", "_last_idx", "_lo", "capacity", "fields", "level", "width_s")

    def __init__(self, capacity: int = 1024, fields: int = 1, level: int = 0):
        if capacity < 2:
            raise ValueError(f"capacity must be at least 2 buckets, got {capacity}")
        self.capacity = capacity
        self.fields = fields
        self.level = level
        self.width_s = float(2**level)
        self._buckets: dict[int, list[int]] = {}
        self._lo = self._hi = 0
        self._last_idx: int | None = None
        self._last_bucket: list[int] = []

    def __len__(self) -> int:
        return len(self._buckets)

    def bucket(self, ts: float) -> list[int]:
        """The mutable sums of the bucket holding ``ts``; add into it in place."""
        idx = int(ts // self.width_s)
        if idx == self._last_idx:
            return self._last_bucket
        bucket = self._buckets.get(idx)
        if bucket is None:
            if not self._buckets:
                self._lo = self._hi = idx
            elif idx < self._lo or idx > self._hi:
                lo, hi = min(idx, self._lo), max(idx, self._hi)
                shift = 0
                while (hi >> shift) - (lo >> shift) + 1 > self.capacity:
                    shift += 1
                if shift:
                    self._coarsen(shift)
                    idx >>= shift
                    lo >>= shift
                    hi >>= shift
                self._lo, self._hi = lo, hi
                bucket = self._buckets.get(idx)
            if bucket is None:
                bucket = self._buckets[idx] = [0] * self.fields
        self._last_idx = idx
        self._last_bucket = bucket
        return bucket

    def _coarsen(self, shift: int) -> None:
        merged: dict[int, list[int]] = {}
        for idx, sums in self._buckets.items():
            target = merged.get(idx >> shift)
            if target is None:
                merged[idx >> shift] = list(sums)
            else:
                for i, value in enumerate(sums):
                    target[i] += value
        self._buckets = merged
        self.level += shift
        self.width_s = float(2**self.level)
        self._last_idx = None

    def items(self) -> Iterator[tuple[float, list[int]]]:
        """(bucket start in epoch seconds, sums) in time order."""
        width = self.width_s
        for idx in sorted(self._buckets):
            yield idx * width, self._buckets[idx]

    def to_state(self) -> dict:
        return {
            "level": self.level,
            "capacity": self.capacity,
            "buckets": [[idx, *sums] for idx, sums in sorted(self._buckets.items())],
        }

    @classmethod
    def from_state(cls, state: dict, fields: int) -> BucketSeries:
        """A series as ``to_state`` saved it; ValueError for anything it never writes."""
        capacity, level = state.get("capacity"), state.get("level")
        if type(capacity) is not int or not 2 <= capacity <= MAX_CAPACITY:
            raise ValueError(f"series capacity must be a whole number from 2 to {MAX_CAPACITY}")
        if type(level) is not int or not 0 <= level <= MAX_LEVEL:
            raise ValueError(f"series level must be a whole number from 0 to {MAX_LEVEL}")
        series = cls(capacity=capacity, fields=fields, level=level)
        buckets = state.get("buckets")
        if not isinstance(buckets, list) or len(buckets) > capacity:
            raise ValueError(f"series buckets must be an array of at most {capacity} rows")
        for row in buckets:
            if not isinstance(row, list) or len(row) != fields + 1 or any(type(v) is not int for v in row):
                raise ValueError(f"a series bucket must be a time index and {fields} fields, all whole numbers")
            if not 0 <= row[0] * series.width_s < MAX_TS:
                raise ValueError("a series bucket lies outside the range of times")
            series.bucket(row[0] * series.width_s)[:] = row[1:]
        return series


class RecentSeconds:
    """Per-second sums over the last ``retention_s`` seconds before the latest event.

    Feeds the sliding-window burn rate. Pruning is lazy, so a reader filters by its own
    window; a reader can rely on every second within ``retention_s`` of the latest event.
    """

    __slots__ = ("_last_bucket", "_last_sec", "fields", "latest", "retention_s", "seconds")

    def __init__(self, retention_s: int = 3600, fields: int = 2):
        self.retention_s = retention_s
        self.fields = fields
        self.seconds: dict[int, list[int]] = {}
        self.latest = -1
        self._last_sec = -1
        self._last_bucket: list[int] = []

    def bucket(self, ts: float) -> list[int] | None:
        """The mutable sums of the second holding ``ts``, or None if it is too old to keep."""
        sec = int(ts)
        if sec == self._last_sec:
            return self._last_bucket
        if sec > self.latest:
            self.latest = sec
            if len(self.seconds) > self.retention_s + 256:
                self._prune()
        elif sec < self.latest - self.retention_s:
            return None
        bucket = self.seconds.get(sec)
        if bucket is None:
            bucket = self.seconds[sec] = [0] * self.fields
        self._last_sec = sec
        self._last_bucket = bucket
        return bucket

    def _prune(self) -> None:
        oldest = self.latest - self.retention_s
        self.seconds = {sec: sums for sec, sums in self.seconds.items() if sec >= oldest}
        self._last_sec = -1

    def window(self, start_s: float, end_s: float) -> list[tuple[int, list[int]]]:
        """(second, sums) with start_s <= second <= end_s, in time order."""
        lo, hi = int(start_s), int(end_s)
        if hi - lo < len(self.seconds):
            return [(s, self.seconds[s]) for s in range(lo, hi + 1) if s in self.seconds]
        return sorted((s, v) for s, v in self.seconds.items() if lo <= s <= hi)

    def before(self, sec: float, within_s: int) -> int | None:
        """The latest occupied second in [sec - within_s, sec), if any."""
        hi = int(sec) - 1
        for s in range(hi, max(hi - within_s, -1), -1):
            if s in self.seconds:
                return s
        return None
