"""Reading the usage part by combo and by time: a sessions' combos, and the combos'
counters summed over the quarter hours of a span (the time scopes)."""

from __future__ import annotations

import math

from ..store_values import QUARTER_S
from .usage_fold import session_name


class UsageReading:
    """The reading side of UsagePart (a mixin: its sums are the part's)."""

    def combos_of(self, sessions) -> list[tuple[tuple, list[int]]]:
        """(key, counters) of the given session names; every combo for None."""
        if sessions is None:
            return list(self.combos.items())
        return [(key, self.combos[key]) for name in sessions for key in self.by_session.get(name, ())]

    def combos_between(self, start_ts: float | None, end_ts: float | None, sessions) -> list[tuple[tuple, list[int]]]:
        """(key, counters summed over the quarters from ``start_ts`` to ``end_ts``)."""
        lo = -math.inf if start_ts is None else start_ts // QUARTER_S
        hi = math.inf if end_ts is None else -(-end_ts // QUARTER_S)
        by_quarter = self._quarter_index()
        if hi - lo < len(by_quarter):
            wanted = [q for q in range(int(lo), int(hi)) if q in by_quarter]
        else:
            wanted = [q for q in by_quarter if lo <= q < hi]
        found: dict[tuple, list[list[int]]] = {}
        quarters = self.quarters
        for q in wanted:
            for key in by_quarter[q]:
                if sessions is None or session_name(key[2]) in sessions:
                    rows = found.get(key)
                    if rows is None:
                        found[key] = [quarters[key][q]]
                    else:
                        rows.append(quarters[key][q])
        # Summed column by column once a combo's quarters are all found (zip): one pass.
        return [(key, list(rows[0]) if len(rows) == 1 else list(map(sum, zip(*rows)))) for key, rows in found.items()]

    def _quarter_index(self) -> dict[int, list[tuple]]:
        """Which combos hold each quarter hour, rebuilt only after a quarter came or went."""
        if self._by_quarter is None:
            index: dict[int, list[tuple]] = {}
            for key, quarters in self.quarters.items():
                for q in quarters:
                    index.setdefault(q, []).append(key)
            self._by_quarter = index
        return self._by_quarter

    def active_quarters(self) -> set[int]:
        return set(self._quarter_index())
