"""What the history counted since the last look, by the label sets an export keeps.

``Tally.take()`` returns, per (model, source, project, tier), the growth of the
history's usage counters since the previous call, and per (tool, ok) the growth of tool
calls: what an exporter adds to its counters, so their sums always equal ``report`` over
the same history. Sessions are never labels: a label set sums its sessions. Quirks:
- a fold moves a session's counters into ``(earlier sessions)`` (or a model's into
  ``(other models)``): what was already exported stays under the labels it had, and the
  combo that took it in grows only by what is new;
- a counter never goes down: a label set whose sum shrank (a copy replaced by a larger
  one naming another model) exports nothing until it has grown past what it exported.
Pure bookkeeping over the history's parts, read under its lock; no OpenTelemetry here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..history import TokenHistory
from ..history.counters import COST, CR, CW1H, CW5, IN, OUT, REQ, UNPRICED
from ..history.sessions import EARLIER_SESSIONS, NO_SESSION
from ..history.tools import CALLS, FAILURES
from ..history.usage import OTHER_MODELS

TOKEN_TYPES = ("input", "output", "cache_read", "cache_write")
# Fields of one label set's figures: the four token types, then cost, requests, unpriced.
F_COST, F_REQ, F_UNPRICED = 4, 5, 6
N_FIGURES = 7
PUSD_PER_USD = 10**12

Labels = tuple[str, str, str, str]  # model, source, project, tier ("" where none is known)


@dataclass(slots=True)
class Growth:
    """What grew since the last ``take``: per label set its figures (token types, cost
    in picodollars, requests, unpriced requests), per (tool, ok) its calls, and every
    rate-limit window's latest reading."""

    usage: dict[Labels, list[int]] = field(default_factory=dict)
    tool_calls: dict[tuple[str, str], int] = field(default_factory=dict)
    rate_limits: list[dict] = field(default_factory=list)


def _figures(c: list[int]) -> list[int]:
    return [c[IN], c[OUT], c[CR], c[CW5] + c[CW1H], c[COST], c[REQ], c[UNPRICED]]


def rate_limit_windows(rate_limits: dict[str, dict]) -> list[dict]:
    """One row per source and window: ``{source, window, used_pct, window_minutes,
    resets_at}`` (the latest reading a source gave; a window without a figure left out).
    A model's own windows (Codex's ``models``) are named ``<limit id>_primary`` and
    ``_secondary``, as ``limits`` names them, and carry the ``model``."""
    rows = []
    for source, limits in sorted(rate_limits.items()):
        rows += _window_rows(source, limits)
        models = limits.get("models")
        for limit_id, reading in sorted(models.items()) if isinstance(models, dict) else ():
            if isinstance(reading, dict):
                name = reading.get("name")
                model = name if isinstance(name, str) and name else limit_id
                rows += _window_rows(source, reading, f"{limit_id}_", model)
    return rows


def _window_rows(source: str, limits: dict, prefix: str = "", model: str | None = None) -> list[dict]:
    rows = []
    for window, reading in sorted(limits.items()):
        if not isinstance(reading, dict) or not isinstance(reading.get("used_pct"), (int, float)):
            continue
        row = {
            "source": source,
            "window": prefix + window,
            "used_pct": float(reading["used_pct"]),
            "window_minutes": reading.get("window_minutes"),
            "resets_at": reading.get("resets_at"),
        }
        if model is not None:
            row["model"] = model
        rows.append(row)
    return rows


class Tally:
    """The history's counters as an exporter's counter adds (see the module docstring).

    ``since_now``: start from what the history holds now (what an earlier run already
    exported, restored from the state), for a delta exporter that must not send it again;
    otherwise the first ``take`` gives everything, as a cumulative counter shows it."""

    def __init__(self, history: TokenHistory, *, since_now: bool = False) -> None:
        self.history = history
        self._seen: dict[tuple, list[int]] = {}  # combo key -> its figures at the last take
        self._target: dict[Labels, list[int]] = {}  # label set -> the sum its combos give
        self._exported: dict[Labels, list[int]] = {}  # label set -> what was handed out
        self._tools_seen: dict[tuple[str, str], int] = {}
        if since_now:
            self.take()

    def take(self) -> Growth:
        """What grew since the last call (everything, the first time)."""
        history = self.history
        with history._lock:  # the drain runs on another thread in the window
            combos = {key: _figures(c) for key, c in history.usage.combos.items()}
            places = {name: (row.source or "", row.project or "") for name, row in history.sessions.rows.items()}
            tools: dict[tuple[str, str], int] = {}
            for by_tool in history.tools.calls.values():
                for tool, counts in by_tool.items():
                    for ok, n in (("true", counts[CALLS] - counts[FAILURES]), ("false", counts[FAILURES])):
                        tools[(tool, ok)] = tools.get((tool, ok), 0) + n
            windows = rate_limit_windows(history.rate_limits)
        return Growth(self._usage_growth(combos, places), self._tools_growth(tools), windows)

    def _usage_growth(self, combos: dict[tuple, list[int]], places: dict[str, tuple[str, str]]) -> dict:
        seen = self._seen
        for key in [k for k in seen if k not in combos]:
            self._carry(key, seen.pop(key), combos)
        changed: set[Labels] = set()
        for key, now in combos.items():
            before = seen.get(key)
            if before == now:
                continue
            model, tier, session = key
            source, project = places.get(NO_SESSION if session is None else session, ("", ""))
            labels = (model, source, project, tier or "")
            target = self._target.setdefault(labels, [0] * N_FIGURES)
            for i, value in enumerate(now):
                target[i] += value - (before[i] if before is not None else 0)
            seen[key] = now
            changed.add(labels)
        growth = {}
        for labels in changed:
            exported = self._exported.setdefault(labels, [0] * N_FIGURES)
            adds = [max(0, t - e) for t, e in zip(self._target[labels], exported)]
            if any(adds):
                for i, n in enumerate(adds):
                    exported[i] += n
                growth[labels] = adds
        return growth

    def _carry(self, key: tuple, figures: list[int], combos: dict) -> None:
        """A combo that is gone was folded: count what it held as already seen in the
        combo that took it in, so only that combo's new requests are exported."""
        model, tier, session = key
        for into in (
            (model, tier, EARLIER_SESSIONS),
            (OTHER_MODELS, tier, session),
            (OTHER_MODELS, tier, EARLIER_SESSIONS),
        ):
            if into in combos and (into[2] != session or into[0] != model):
                before = self._seen.get(into, [0] * N_FIGURES)
                self._seen[into] = [b + f for b, f in zip(before, figures)]
                return

    def _tools_growth(self, tools: dict[tuple[str, str], int]) -> dict[tuple[str, str], int]:
        growth = {}
        for key, n in tools.items():
            before = self._tools_seen.get(key, 0)
            if n > before:
                growth[key] = n - before
                self._tools_seen[key] = n
        return growth
