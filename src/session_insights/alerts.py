"""The panel's alerts: the guard's thresholds (``history.thresholds``: each quota window
at 80 % and 95 % used and on course to pass 100 % before its reset, the budget at 80 % and
100 % spent) as the lines of the banner, newest first, at most ``MAX_LINES``.

A line stands while its crossing does (``thresholds.Standing``: the figure fell back
below, or the window reset, and it goes) or until the user dismisses it; ``update``
returns each crossing once, when it is new: what the desktop is told of. ``Told`` keeps
those across restarts, so a crossing that still stands then is not told again.

- The budget is the scope's shown (the figure Burn Rate gives). Each scope keeps its own
  standing crossings, so going to another scope and back fires nothing again.
- A window whose reset has passed is past its crossing, whatever its last figure said.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass

from . import formatting as fmt
from .history.thresholds import BUDGET_LEVELS, WINDOW_LEVELS, Crossing, Standing, crossings
from .limits import duration_short

MAX_LINES = 6
MAX_SCOPES = 32  # scopes whose budget crossings are kept (the least recently shown go)
MAX_TOLD = 64


@dataclass(frozen=True, slots=True)
class AlertLine:
    """One line of the banner: ``key`` names the crossing (``dismiss`` takes it), ``level``
    "warning" or "error" (its colour)."""

    key: tuple
    level: str
    text: str
    since_ts: float  # when it crossed


def alert_level(c: Crossing) -> str:
    """A limit reached or the last window level: "error"; the earlier ones: "warning"."""
    if c.kind == "budget":
        return "error" if c.level_percent >= 100 else "warning"
    if c.kind == "window":
        return "error" if c.level_percent >= max(WINDOW_LEVELS) or c.value_percent >= 100 else "warning"
    return "warning"


def window_name(c: Crossing, noun: str = "window") -> str:
    """'claude 5h window', 'estimate 5h block': a window as the Limits header names it."""
    if c.figures.get("estimate"):  # ``limits_estimate``: the logs against the user's own limit
        return "estimate 5h block" if c.window == "five_hour" else "estimate last 7d"
    return f"{c.source} {c.figures.get('label') or c.window} {noun}"


def alert_title(c: Crossing) -> str:
    """What crossed, in a few words: a desktop notification's title."""
    if c.kind == "budget":
        return "Budget spent" if c.level_percent >= 100 else f"Budget {c.level_percent:.0f}% spent"
    if c.kind == "pace":
        return f"{window_name(c, 'quota')}: on course to run out before its reset"
    return f"{window_name(c, 'quota')} {c.level_percent:.0f}% used"


def alert_text(c: Crossing) -> str:
    """What crossed, with its figure: the banner's line and a notification's body."""
    if c.kind == "budget":
        spent, budget = c.figures["spent_usd"], c.figures["budget_usd"]
        return (
            f"Budget: {c.value_percent:,.0f}% spent, past {c.level_percent:.0f}% "
            f"({fmt.usd(spent)} of {fmt.usd(budget)})"
        )
    w = c.figures
    used = "of your limit used" if w.get("estimate") else "used"
    reset = f", resets {fmt.clock(w['resets_at_ts'])}" if w.get("resets_at_ts") is not None else ""
    if c.kind == "pace":
        full = f", 100% in {duration_short(w['full_in_s'])}" if w.get("full_in_s") is not None else ""
        return (
            f"{window_name(c)} on course to pass 100% before its reset: {w['used_percent']:,.0f}% {used}, "
            f"pace {c.value_percent:,.0f}% at reset{full}{reset}"
        )
    return f"{window_name(c)}: {c.value_percent:,.0f}% {used}, past {c.level_percent:.0f}%{reset}"


class Told:
    """The crossings the desktop was told of, by name (their key as JSON: state.toml keeps
    them as ``told_alerts`` under ``[ui]``). A name goes once its crossing is known to be
    over: its window seen below the level or in a later instance, or past its reset; the
    scope shown below its budget level. Lists are replaced, never changed in place (the
    state is saved from another thread); at most ``MAX_TOLD`` names."""

    def __init__(self, names: Iterable[str] = ()):
        self.names: list[str] = [name for name in names if isinstance(name, str)][-MAX_TOLD:]

    def new(self, fresh: dict[tuple, Crossing]) -> list[Crossing]:
        """The crossings of ``fresh`` not told before, now told."""
        named = {json.dumps(key): c for key, c in fresh.items()}
        out = {name: c for name, c in named.items() if name not in self.names}
        if out:
            self.names = [*self.names, *out][-MAX_TOLD:]
        return list(out.values())

    def forget_over(self, standing: set[tuple], windows: list[dict], scope_key: Hashable, now_ts: float) -> None:
        standing_names = {json.dumps(key) for key in standing}
        seen = {(w["source"], w["name"]) for w in windows if not w["stale"]}
        shown_scope = json.dumps(scope_key)

        def over(name: str) -> bool:
            if name in standing_names:
                return False
            key = json.loads(name)
            if key[0] in ("window", "pace"):
                return (key[1], key[2]) in seen or (key[3] is not None and now_ts >= key[3])
            return json.dumps(key[0]) == shown_scope

        kept = [name for name in self.names if not over(name)]
        if len(kept) != len(self.names):
            self.names = kept


class Alerts:
    """The crossings standing and the banner's lines; see the module docstring. No I/O and
    no lock: the panel calls ``update`` with each snapshot's figures on the render thread
    (a few windows and two budget levels: microseconds)."""

    def __init__(self, *, window_levels=WINDOW_LEVELS, budget_levels=BUDGET_LEVELS, max_lines: int = MAX_LINES,
                 told: Iterable[str] = ()):  # fmt: skip
        self.window_levels, self.budget_levels = tuple(window_levels), tuple(budget_levels)
        self.max_lines = max_lines
        self.told = Told(told)
        self._windows = Standing()
        self._budgets: OrderedDict[Hashable, Standing] = OrderedDict()
        self._since: dict[tuple, tuple[float, Crossing]] = {}  # standing: first crossed, latest figures
        self._dismissed: set[tuple] = set()
        self._scope_key: Hashable = None  # the scope whose budget lines are shown
        self.lines: list[AlertLine] = []
        self.version = 0  # moves when the lines change

    def _budget_standing(self, scope_key: Hashable) -> Standing:
        standing = self._budgets.pop(scope_key, None) or Standing()
        self._budgets[scope_key] = standing
        while len(self._budgets) > MAX_SCOPES:
            self._budgets.popitem(last=False)
        return standing

    def update(
        self, windows: list[dict], spent_usd: float, budget_usd: float | None, scope_key: Hashable, now_ts: float
    ) -> list[Crossing]:
        """Take the figures now (``limits.all_windows``; the scope's spent and budget);
        returns the crossings new since the last update and not told before, oldest
        level first."""
        now_w = crossings(windows, 0.0, None, now_ts, self.window_levels, ())
        now_b = crossings([], spent_usd, budget_usd, now_ts, (), self.budget_levels)
        budget = self._budget_standing(scope_key)
        fresh_w, fresh_b = self._windows.update(now_w, windows), budget.update(now_b, [])
        # A budget crossing is the scope's: its key names the scope.
        fresh = {**fresh_w, **{(scope_key, *key): c for key, c in fresh_b.items()}}
        now = {**now_w, **{(scope_key, *key): c for key, c in now_b.items()}}
        for key, c in fresh.items():
            self._since[key] = (now_ts, c)
        standing = set(self._windows.keys).union(
            *({(scope, *key) for key in kept.keys} for scope, kept in self._budgets.items())
        )
        for key in list(self._since):
            reset_ts = key[3] if key[0] in ("window", "pace") else None
            if key not in standing or (reset_ts is not None and now_ts >= reset_ts):
                del self._since[key]
            elif key in now:
                self._since[key] = (self._since[key][0], now[key])
        self._dismissed &= set(self._since)
        self._scope_key = scope_key
        self._set_lines()
        to_tell = self.told.new(fresh)
        self.told.forget_over(standing, windows, scope_key, now_ts)
        return to_tell

    def of_snapshot(self, snap: dict, windows: list[dict], now_ts: float) -> list[Crossing]:
        """``update`` with a snapshot's budget figures, for its scope."""
        p, scope = snap["projection"], snap["scope"]
        return self.update(windows, p["spent_usd"], p["budget_usd"], (scope["kind"], scope.get("session")), now_ts)

    def _set_lines(self) -> None:
        shown = sorted(
            (
                (since, key, c)
                for key, (since, c) in self._since.items()
                if key not in self._dismissed and (c.kind != "budget" or key[0] == self._scope_key)
            ),
            key=lambda t: (t[0], t[2].level_percent),
            reverse=True,
        )
        lines = [AlertLine(key, alert_level(c), alert_text(c), since) for since, key, c in shown[: self.max_lines]]
        if lines != self.lines:
            self.lines = lines
            self.version += 1

    def dismiss(self, key: tuple) -> None:
        """Hide the line of ``key`` while its crossing stands."""
        if key in self._since:
            self._dismissed.add(key)
            self._set_lines()
