"""``DemoSession``: plays the demo script into a history through ``Hooks`` on a
simulated clock."""

from __future__ import annotations

import math
import time

from ..history import TokenHistory
from ..hooks import Hooks
from .calls import DURATION_S, DemoStep
from .script import BUDGET_USD, DEFAULT_SEED, build_script


class DemoSession:
    """Plays the demo script into ``history`` through ``Hooks`` on a simulated clock.

    The simulated clock starts at ``start_ts`` (default: now) and runs ``speed``
    simulated seconds per wall second, measured on ``time.monotonic()`` so a wall-clock
    change cannot replay or skip steps. Records carry simulated times (``start_ts`` +
    step offset). Call ``advance()`` from one thread, e.g. once per frame.
    """

    budget_usd = BUDGET_USD  # a budget the demo spends a good part of, but not all, in 90 minutes

    def __init__(
        self, history: TokenHistory, *, seed: int = DEFAULT_SEED, start_ts: float | None = None, speed: float = 30.0
    ):
        if not (isinstance(speed, (int, float)) and math.isfinite(speed) and speed > 0):
            raise ValueError(f"speed must be a positive number of simulated seconds per second, got {speed!r}")
        self.history = history
        self.hooks = Hooks(history)
        self.seed = seed
        self.speed = float(speed)
        self.steps: tuple[DemoStep, ...] = tuple(build_script(seed))
        self.start_ts = time.time() if start_ts is None else float(start_ts)
        self.wall_start = time.monotonic()
        self.pushed = 0  # steps[:pushed] have been handed to the hooks

    @property
    def duration_s(self) -> float:
        return float(DURATION_S)

    @property
    def done(self) -> bool:
        return self.pushed >= len(self.steps)

    def elapsed_s(self, wall_now: float | None = None) -> float:
        """Simulated seconds since the start, from 0 to ``duration_s``."""
        wall = time.monotonic() if wall_now is None else wall_now
        return min(max(wall - self.wall_start, 0.0) * self.speed, self.duration_s)

    def sim_now(self, wall_now: float | None = None) -> float:
        """The simulated clock, epoch seconds; ``wall_now`` is a ``time.monotonic()`` reading."""
        return self.start_ts + self.elapsed_s(wall_now)

    def advance(self, wall_now: float | None = None) -> int:
        """Push every step that has happened by the simulated now; returns how many."""
        return self._push_until(self.elapsed_s(wall_now))

    def play_all(self) -> int:
        """Push every remaining step at once; returns how many."""
        return self._push_until(math.inf)

    def _push_until(self, elapsed_s: float) -> int:
        steps, hooks, start, first = self.steps, self.hooks, self.start_ts, self.pushed
        i = first
        while i < len(steps) and steps[i].offset_s <= elapsed_s:
            steps[i].push(hooks, start + steps[i].offset_s)
            i += 1
            self.pushed = i  # kept current, so a step that raises is not pushed twice
        return i - first
