"""What a TokenHistory shows: the parts a snapshot is made of, a scope resolved at a
time, the snapshot of a scope, the sessions the top bar offers, the rows the durable
history keeps, and the timeline of a scope. Each reads under the history's lock and
changes nothing."""

from __future__ import annotations

from .. import scope as scopes
from .. import state as state_file
from ..scope import Resolved, Scope
from . import codec
from .rollup import session_rows
from .sessions import EARLIER_SESSIONS
from .snapshot import Parts, snapshot
from .usage import QUARTER_S


class Readers:
    """The read side of TokenHistory (a mixin: its parts and lock are the history's)."""

    def parts(self) -> Parts:
        """The parts a snapshot is built from (read them under the lock)."""
        return Parts(
            self.usage,
            self.sessions,
            self.tickets,
            self.tools,
            budget_usd=self._budget_usd,
            window_s=self.window_s,
            extras={
                "schema": state_file.SCHEMA,
                "sources": sorted(self.source_labels),
                "rate_limits": dict(sorted(self.rate_limits.items())),
                "errors": {
                    "bad_lines": sum(self.bad_lines.values()),
                    "files": dict(sorted(self.bad_lines.items())),
                    "reasons": dict(sorted(self.bad_reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
                },
                "notices": list(self.notices),
            },
            reading=self.reading,
            bad_lines=self.bad_lines,
            memo=self.memo,
        )

    def resolve(self, scope: Scope | None, now_ts: float | None = None) -> Resolved:
        """``scope`` (default: all) at ``now_ts`` (default: the latest record).
        scope.UnknownSession for a session id that names no session here."""
        scope = scope or Scope()
        with self._lock:
            now = now_ts if now_ts is not None else self._latest_ts()
            return scopes.resolve(
                scope,
                now,
                latest_session=self.sessions.latest(),
                sessions=[s for s in self.sessions.rows if s != EARLIER_SESSIONS],
                active_quarters=self.usage.active_quarters() if scope.kind == "block" else (),
                quarter_s=QUARTER_S,
                server_resets=scopes.server_block_resets(self.rate_limits),
            )

    def _latest_ts(self) -> float:
        last = self.usage.last_ts
        return last if last is not None else (self._latest_other_ts or 0.0)

    def snapshot(self, now_ts: float | None = None, scope: Scope | Resolved | None = None) -> dict:
        """Every figure of ``scope`` (default: all), in the shape of ``report --format json``.

        ``now_ts`` is the time rates and projections are taken at; by default the
        latest record, which suits a finished log. The live panel passes the clock.
        """
        with self._lock:
            resolved = scope if isinstance(scope, Resolved) else self.resolve(scope, now_ts)
            if resolved.kind == "all" and now_ts is None:
                now_ts = self._latest_ts()
            snap = snapshot(self.parts(), resolved, now_ts)
            if resolved.kind == "all":  # the requests' own span, as a finished log's report gives it
                snap["session"] = {"first_ts": self.usage.first_ts, "last_ts": self.usage.last_ts}
            return snap

    def scope_choices(self, limit: int = 20) -> list[dict]:
        """The sessions the panel's top bar offers, latest first: ``{scope, session,
        project, source, first_ts, last_ts}``."""
        with self._lock:
            ranked = sorted(
                ((row.last_ts, name, row) for name, row in self.sessions.rows.items() if name != EARLIER_SESSIONS),
                key=lambda t: (t[0], t[1]),
                reverse=True,
            )[:limit]
            return [
                {
                    "scope": Scope.of_session(name),
                    "session": name,
                    "project": row.project,
                    "source": row.source,
                    "first_ts": row.first_ts,
                    "last_ts": row.last_ts,
                }
                for _, name, row in ranked
            ]

    def session_rows(self) -> list[dict]:
        """Every session's figures with exact integer costs (``cost_pusd``): what the
        durable history stores (``store.SESSION_FIELDS`` and ``models`` / ``days`` /
        ``quarters``). The row of folded sessions is left out: it is no session of its own."""
        with self._lock:  # only the sums are taken under the lock: the saver must not stall a drain
            counters, models, days, quarters = codec.session_parts(self.usage)
            rows = session_rows(self.parts(), counters, models=models, days=days)
        for row in rows:
            del row["counters"]
            row["quarters"] = quarters.get(row["session"], [])
        return [row for row in rows if row["session"] != EARLIER_SESSIONS]

    def timeline(self, scope: Scope | Resolved | None = None) -> tuple[float, list[tuple[float, list[int]]]]:
        """(bucket width in seconds, [(bucket start ts, [input, output, cache_read,
        cache_write, cost_pusd, requests])]) of ``scope`` (default: all) in time order;
        per-bucket sums. A session whose detail was let go has none: (0.0, [])."""
        with self._lock:
            resolved = scope if isinstance(scope, Resolved) else self.resolve(scope)
            if resolved.kind == "all":
                return self.usage.timeline.width_s, [(ts, list(v)) for ts, v in self.usage.timeline.items()]
            return codec.merged_timeline(self.usage, resolved)
