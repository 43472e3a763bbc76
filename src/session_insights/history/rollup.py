"""A scope's counters rolled up by model, tier and session, and its session rows.

``rollups`` and ``session_rows`` compute them from scratch. ``SnapshotMemo`` gives the
same results, brought up to date from the last snapshot of the same scope: only the
(model, tier, session) counters that changed since are summed again and only the
sessions whose figures changed get new rows. With hundreds of sessions and one of them
live, a snapshot of ``all`` then costs what that session changed, not what the history
holds (DESIGN §6: a snapshot p99 <= 2 ms with 400 sessions). The memo keys on the
inputs themselves (each counter list's values, each session row's fields), never on a
signal of what changed, so it cannot go stale.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from operator import add, sub

from .. import metrics
from .counters import COST, CR, CW1H, CW5, IN, N_COUNTERS, OUT, REASON, REQ, TOOL_PROMPT, UNPRICED, figures
from .sessions import EARLIER_SESSIONS, NO_SESSION, SessionRow

NO_TIER = "(no tier)"
MAX_SCOPES = 8  # scopes whose rollups are kept: the panel's and a few switched between


def rollups(combos) -> tuple[dict, dict, dict, dict]:
    """Counters summed by model, by tier and by session, and each tier's models. Rows
    are grouped first, then each group is summed column by column (``zip``)."""
    models: dict[str, list[list[int]]] = {}
    tiers: dict[str | None, list[list[int]]] = {}
    sessions: dict[str, list[list[int]]] = {}
    tier_models: dict[str, set[str]] = {}
    for (model, tier, session), counters in combos:
        if not counters[REQ] and not any(counters):
            continue  # every copy counted there was taken back: a later copy named another model
        models.setdefault(model, []).append(counters)
        tiers.setdefault(tier, []).append(counters)
        sessions.setdefault(NO_SESSION if session is None else session, []).append(counters)
        tier_models.setdefault(tier or NO_TIER, set()).add(model)
    return _sums(models), _sums(tiers), _sums(sessions), tier_models


def _sums(groups: dict) -> dict:
    return {key: [sum(column) for column in zip(*rows)] for key, rows in groups.items()}


def session_row(name: str, c: list[int], row: SessionRow, done: int, models=None, days=None) -> dict:
    """One session's figures: labels, span, ``state``, token counts by kind,
    ``cost_pusd``, requests, tool calls and failures, tickets completed, ratings, and
    ``models`` / ``days`` where given; ``counters`` the raw ones."""
    return {
        "session": name,
        "source": row.source,
        "project": row.project,
        "state": row.state,
        "first_ts": row.first_ts if math.isfinite(row.first_ts) else None,
        "last_ts": row.last_ts if math.isfinite(row.last_ts) else None,
        "end_ts": row.end_ts,
        "counters": c,
        "requests": c[REQ],
        "input_tokens": c[IN],
        "output_tokens": c[OUT],
        "cache_read_tokens": c[CR],
        "cache_write_tokens": c[CW5] + c[CW1H],
        "reasoning_tokens": c[REASON],
        "tool_prompt_tokens": c[TOOL_PROMPT],
        "total_tokens": c[IN] + c[CR] + c[CW5] + c[CW1H] + c[OUT],
        "cost_pusd": c[COST],
        "unpriced_requests": c[UNPRICED],
        "tool_calls": row.tool_calls,
        "tool_failures": row.tool_failures,
        "tickets_completed": done,
        "ratings": row.ratings,
        "rating_sum": row.rating_milli / 1000,
        "models": models or {},
        "days": days or [],
    }


def measured(c: list[int], row: SessionRow | None, done: int) -> bool:
    """Whether a session holds anything to show yet."""
    return row is not None and bool(c[REQ] or row.tool_calls or row.ratings or done)


def wanted_sessions(rows: dict, counters: dict, names) -> list[str]:
    return sorted(set(counters) | (set(rows) if names is None else set(names)))


def session_rows(parts, counters: dict[str, list[int]], names=None, models=None, days=None) -> list[dict]:
    """One row (``session_row``) per session measured, sorted by name; ``models`` /
    ``days`` (the durable history's) where given."""
    completed = parts.tickets.completed_by_session()
    zero = [0] * N_COUNTERS
    out = []
    for name in wanted_sessions(parts.sessions.rows, counters, names):
        c = counters.get(name, zero)
        row = parts.sessions.rows.get(name)
        done = completed.get(None if name == NO_SESSION else name, 0)
        if measured(c, row, done):
            out.append(session_row(name, c, row, done, (models or {}).get(name), (days or {}).get(name)))
    return out


def session_figures(row: dict) -> dict:
    """A session row in the report's shape (USD, named fields)."""
    fig = figures(row["counters"])
    fig.update(
        source=row["source"],
        project=row["project"],
        state=row["state"],
        first_ts=row["first_ts"],
        last_ts=row["last_ts"],
        end_ts=row["end_ts"],
        tool_calls=row["tool_calls"],
        tool_failures=row["tool_failures"],
        tickets_completed=row["tickets_completed"],
        ratings=row["ratings"],
        mean_satisfaction=row["rating_sum"] / row["ratings"] if row["ratings"] else None,
    )
    return fig


class _Kept:
    """A session's row as last built, with what it was built from."""

    __slots__ = ("counters", "fields", "figures", "row", "unit")

    def __init__(self, counters: list[int], fields: tuple, row: dict) -> None:
        self.counters, self.fields, self.row = counters, fields, row
        self.figures = session_figures(row)
        self.unit = metrics.session_unit(row)


def _row_fields(row: SessionRow, done: int) -> tuple:
    return (
        row.first_ts,
        row.last_ts,
        row.end_ts,
        row.mark,
        row.project,
        row.source,
        row.tool_calls,
        row.tool_failures,
        row.ratings,
        row.rating_milli,
        done,
    )


class ScopeMemo:
    """One scope's running sums by model, tier and session, and its session rows.

    Each sum is a new list when it changes, so a row or a caller holding one never sees
    it move. A group is present while one of its combos is not all zeros, as in
    ``rollups``.
    """

    def __init__(self) -> None:
        self.seen: dict[tuple, list[int]] = {}  # each combo's counters when last summed
        self.groups: tuple[dict, dict, dict] = ({}, {}, {})  # model, tier, session -> sum
        self.members: tuple[dict, dict, dict] = ({}, {}, {})  # -> combos not all zeros
        self.tier_models: dict[str, dict[str, int]] = {}  # tier -> model -> such combos
        self.kept: dict[str, _Kept] = {}
        self.over_time: tuple | None = None  # (the units' ids, the figures, the units)

    def rollups(self, combos) -> tuple[dict, dict, dict, dict]:
        """What ``rollups(combos)`` gives, from the combos that changed since last time."""
        seen = self.seen
        matched = 0
        changed = []
        for key, c in combos:
            old = seen.get(key)
            if old is None:
                changed.append((key, c, None))
            else:
                matched += 1
                if old != c:
                    changed.append((key, c, old))
        if matched != len(seen):  # a combo went (folded, or out of a time scope)
            current = {key for key, _ in combos}
            for key in [k for k in seen if k not in current]:
                self._count(key, seen.pop(key), sub)
        for key, c, old in changed:
            if old is not None:
                self._count(key, old, sub)
            seen[key] = kept = list(c)
            self._count(key, kept, add)
        models, tiers, sessions = (dict(g) for g in self.groups)
        return models, tiers, sessions, {t: set(m) for t, m in self.tier_models.items()}

    def _count(self, key: tuple, c: list[int], op) -> None:
        if not c[REQ] and not any(c):
            return
        model, tier, session = key
        step = 1 if op is add else -1
        for groups, members, g in zip(self.groups, self.members, (model, tier, session or NO_SESSION)):
            n = members.get(g, 0) + step
            if n:
                members[g] = n
                total = groups.get(g)
                groups[g] = list(c) if total is None else list(map(op, total, c))
            else:
                del members[g]
                del groups[g]
        by_tier = self.tier_models.setdefault(tier or NO_TIER, {})
        n = by_tier.get(model, 0) + step
        if n:
            by_tier[model] = n
        else:
            del by_tier[model]
            if not by_tier:
                del self.tier_models[tier or NO_TIER]

    def session_rows(self, parts, counters: dict[str, list[int]], names) -> list[_Kept]:
        """``session_rows(parts, counters, names)``, each row built again only when its
        counters or its session's fields changed."""
        completed = parts.tickets.completed_by_session()
        rows = parts.sessions.rows
        kept, zero = self.kept, [0] * N_COUNTERS
        out = []
        for name in wanted_sessions(rows, counters, names):
            c = counters.get(name, zero)
            row = rows.get(name)
            done = completed.get(None if name == NO_SESSION else name, 0)
            if not measured(c, row, done):
                continue
            fields = _row_fields(row, done)
            entry = kept.get(name)
            if entry is None or entry.counters is not c or entry.fields != fields:
                entry = kept[name] = _Kept(c, fields, session_row(name, c, row, done))
            out.append(entry)
        if len(kept) > 2 * len(out) + 64:  # sessions gone from the scope: let their rows go
            wanted = {e.row["session"] for e in out}
            for name in [n for n in kept if n not in wanted]:
                del kept[name]
        return out

    def efficiency_over_time(self, kept: list[_Kept]) -> dict:
        """``metrics.efficiency_over_time`` of the rows' units, computed again only when
        a unit changed (an open session has none: its requests change nothing here)."""
        units = [e.unit for e in kept if e.unit is not None and e.row["session"] != EARLIER_SESSIONS]
        ids = tuple(map(id, units))
        if self.over_time is None or self.over_time[0] != ids:
            self.over_time = (ids, metrics.efficiency_over_time(units), units)
        return self.over_time[1]


class SnapshotMemo:
    """The ``ScopeMemo`` of each of the last ``MAX_SCOPES`` scopes a snapshot was taken of."""

    def __init__(self) -> None:
        self.scopes: OrderedDict = OrderedDict()

    def of(self, scope) -> ScopeMemo:
        memo = self.scopes.get(scope)
        if memo is None:
            memo = self.scopes[scope] = ScopeMemo()
            if len(self.scopes) > MAX_SCOPES:
                self.scopes.popitem(last=False)
        else:
            self.scopes.move_to_end(scope)
        return memo
