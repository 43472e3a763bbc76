"""What an agent says it spent, beside ours: its own cost figures by where it wrote them,
session and model, for ``provenance``'s ``agent_cost``.

Invariant: a request's agent cost comes from one place, and a session's from one kind.
- per request, on the request itself (Claude Code's ``costUSD``, a host's ``cost_usd``, an
  OTel span's ``gen_ai.usage.cost``): the usage counters' REPORTED (a snapshot's
  ``reported_cost_usd``), not kept here;
- per request, apart from it (Claude Code's OpenTelemetry ``claude_code.api_request``
  events): kept here by request id; one whose transcript line carried ``costUSD`` too is
  left out, whichever of the two is read first;
- per session (the ``claude_code.cost.usage`` metric, ``.claude.json``'s
  ``lastModelUsage``): counted only for a session that no per-request figure names, as it
  is the sum of those; of two places with a session's figure, the larger counts.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from .. import decode
from ..pricing import PUSD_PER_USD, usd

ON_REQUEST = "on the requests"  # REPORTED: costUSD, cost_usd, gen_ai.usage.cost
MAX_REQUESTS = 50_000  # request costs kept one by one (a later costUSD may take one back)
MAX_ROWS = 500  # (from, session, model) rows kept (and saved); past it, under OTHER
MAX_REPORTED_IDS = 200_000  # request ids whose own line carried a cost
OTHER = "(other sessions)"
SESSION_SCOPES = ("active", "session")  # scopes made of whole sessions (and "all")


def _pusd(cost_usd: float) -> int:
    return round(cost_usd * PUSD_PER_USD)


class AgentCosts:
    """The agent's figures read so far. Sources call it from their reading threads; the
    snapshot reads it under the history's lock: its own lock keeps the two apart."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: OrderedDict[str, tuple[str, str, str, int]] = OrderedDict()  # id -> (from, session, model, pusd)
        self.folded: dict[tuple[str, str, str], list[int]] = {}  # (from, session, model) -> [requests, pusd]
        self.totals: dict[tuple[str, str, str], int] = {}  # (from, session, model) -> pusd: a session's figure
        self.reported_ids: OrderedDict[str, None] = OrderedDict()  # requests whose own line carried a cost
        self.reported_sessions: set[str] = set()
        self.version = 0  # bumped by every change: explain() is asked at every snapshot
        self._explained: tuple[int, list[dict]] | None = None

    def request(self, where: str, request_id: str | None, session: str | None, model: str, cost_usd: float) -> None:
        """A request's cost the agent wrote apart from the request (a copy of it replaces it)."""
        row = (where, session or "", model, _pusd(cost_usd))
        with self._lock:
            self.version += 1
            if request_id is None:
                self._fold(row)
            elif request_id not in self.reported_ids:
                self.requests[request_id] = row
                self.requests.move_to_end(request_id)
                while len(self.requests) > MAX_REQUESTS:
                    self._fold(self.requests.popitem(last=False)[1])

    def session_cost(self, where: str, session: str, model: str, cost_usd: float, add: bool) -> None:
        """A session's cost of ``model`` as the agent counts it: a delta to ``add``, else its
        running total (the latest wins)."""
        key = self._row_key((where, session, model))
        with self._lock:
            self.version += 1
            self.totals[key] = (self.totals.get(key, 0) if add else 0) + _pusd(cost_usd)

    def reported(self, request_id: str | None, session: str | None) -> None:
        """A request whose own line carried the agent's cost (counted in REPORTED)."""
        with self._lock:
            self.version += 1
            if session and len(self.reported_sessions) < MAX_ROWS:
                self.reported_sessions.add(session)
            if request_id is None:
                return
            self.requests.pop(request_id, None)
            self.reported_ids[request_id] = None
            if len(self.reported_ids) > MAX_REPORTED_IDS:
                self.reported_ids.popitem(last=False)

    def _row_key(self, key: tuple[str, str, str]) -> tuple[str, str, str]:
        if key in self.folded or key in self.totals or len(self.folded) + len(self.totals) < MAX_ROWS:
            return key
        return (key[0], OTHER, key[2])

    def _fold(self, row: tuple[str, str, str, int]) -> None:
        counts = self.folded.setdefault(self._row_key(row[:3]), [0, 0])
        counts[0] += 1
        counts[1] += row[3]

    def _per_request(self) -> dict[tuple[str, str, str], list[int]]:
        rows = {key: list(counts) for key, counts in self.folded.items()}
        for where, session, model, pusd in self.requests.values():
            key = (where, session, model)
            if key not in rows and len(rows) + len(self.totals) >= MAX_ROWS:
                key = (where, OTHER, model)
            counts = rows.setdefault(key, [0, 0])
            counts[0] += 1
            counts[1] += pusd
        return rows

    def explain(self) -> list[dict]:
        """Per (where, session, model) the agent's figure: ``requests`` counted, or None for a
        session's total; a total of a session a per-request figure names is left out."""
        explained = self._explained
        if explained is not None and explained[0] == self.version:
            return [dict(row) for row in explained[1]]
        with self._lock:
            version = self.version
            per_request = self._per_request()
            named = {session for _, session, _ in per_request} | self.reported_sessions
            totals = {key: pusd for key, pusd in self.totals.items() if key[1] not in named}
        # Two places may each hold a session's whole figure (the metric while it runs, the
        # config at its end): the larger, as a request's largest copy wins.
        by_place: dict[tuple[str, str], int] = {}
        for (where, session, _), pusd in totals.items():
            by_place[(session, where)] = by_place.get((session, where), 0) + pusd
        chosen: dict[str, tuple[int, str]] = {}
        for (session, where), pusd in sorted(by_place.items()):
            if session not in chosen or pusd > chosen[session][0]:
                chosen[session] = (pusd, where)
        totals = {key: pusd for key, pusd in totals.items() if chosen[key[1]][1] == key[0]}
        rows = [(key, n, pusd) for key, (n, pusd) in per_request.items()]
        rows += [(key, None, pusd) for key, pusd in totals.items()]
        out = [
            {"from": where, "session": session or None, "model": model, "requests": n, "agent_usd": usd(pusd)}
            for (where, session, model), n, pusd in sorted(rows, key=lambda r: r[0])
        ]
        self._explained = (version, out)
        return [dict(row) for row in out]

    def merge(self, other: AgentCosts) -> None:
        """Add another reading's figures (files read apart) into these."""
        with other._lock:
            requests, folded = dict(other.requests), {k: list(v) for k, v in other.folded.items()}
            totals, ids, sessions = dict(other.totals), list(other.reported_ids), set(other.reported_sessions)
        for request_id in ids:
            self.reported(request_id, None)
        with self._lock:
            self.version += 1
            self.reported_sessions |= sessions
            for key, (n, pusd) in folded.items():
                counts = self.folded.setdefault(self._row_key(key), [0, 0])
                counts[0] += n
                counts[1] += pusd
            for key, pusd in totals.items():
                key = self._row_key(key)
                self.totals[key] = self.totals.get(key, 0) + pusd
        for request_id, (where, session, model, pusd) in requests.items():
            self.request(where, request_id, session, model, pusd / PUSD_PER_USD)

    # --- findings (a worker's reading, as plain data) and state.toml ---------------

    def findings(self) -> dict:
        with self._lock:
            return {
                "requests": {k: list(v) for k, v in self.requests.items()},
                "folded": [[*k, *v] for k, v in self.folded.items()],
                "totals": [[*k, v] for k, v in self.totals.items()],
                "reported_ids": list(self.reported_ids),
                "reported_sessions": sorted(self.reported_sessions),
            }

    def absorb(self, found: dict) -> None:
        other = AgentCosts()
        other.requests.update((k, tuple(v)) for k, v in found.get("requests", {}).items())
        other.folded.update(((w, s, m), [n, p]) for w, s, m, n, p in found.get("folded", []))
        other.totals.update(((w, s, m), p) for w, s, m, p in found.get("totals", []))
        other.reported_ids.update(dict.fromkeys(found.get("reported_ids", [])))
        other.reported_sessions.update(found.get("reported_sessions", []))
        self.merge(other)

    def encode(self) -> dict:
        """Rows as TOML holds them: per-request figures folded by session and model (the ids
        are not kept: a restart reads on from where it stopped)."""
        with self._lock:
            per_request = self._per_request()
            totals = dict(self.totals)
            sessions = sorted(self.reported_sessions)
        return {
            "agent_cost_requests": [[*k, n, str(p)] for k, (n, p) in sorted(per_request.items())],
            "agent_cost_sessions": [[*k, str(p)] for k, p in sorted(totals.items())],
            "agent_cost_reported_sessions": sessions,
        }

    def decode(self, data: dict) -> None:
        self.version += 1
        for i, row in enumerate(decode.array(data.get("agent_cost_requests", []), "agent_cost_requests")):
            where = f"agent_cost_requests[{i}]"
            w, s, m, n, p = decode.array(row, where, 5)
            key = (decode.text(w, where), decode.text(s, where), decode.text(m, where))
            self.folded[key] = [decode.whole(n, where), decode.whole(p, where)]
        for i, row in enumerate(decode.array(data.get("agent_cost_sessions", []), "agent_cost_sessions")):
            where = f"agent_cost_sessions[{i}]"
            w, s, m, p = decode.array(row, where, 4)
            key = (decode.text(w, where), decode.text(s, where), decode.text(m, where))
            self.totals[key] = decode.whole(p, where)
        sessions = decode.array(data.get("agent_cost_reported_sessions", []), "agent_cost_reported_sessions")
        self.reported_sessions.update(decode.text(s, "agent_cost_reported_sessions") for s in sessions[:MAX_ROWS])


def agent_cost(reports: list[dict], by_model: dict, sessions=None) -> dict:
    """Per model the agent's figure beside ours and the difference (ours - agent), and where
    the agent wrote it: what the requests carried (``reported_cost_usd``) and ``reports``
    (``AgentCosts.explain``) of ``sessions`` (None: every session). ``by_model`` is a
    snapshot's (``counters.figures`` per model). ``ours_usd`` is our cost of the model's
    ``requests`` in the scope; ``agent_requests`` how many the agent billed where it says
    (None when part of its figure is a session's total or rode on our requests)."""
    models: dict[str, list] = {}  # model -> [agent pusd, agent requests or None, where]
    for model, f in by_model.items():
        if f.get("reported_cost_usd"):
            models[model] = [_pusd(f["reported_cost_usd"]), None, {ON_REQUEST}]
    for r in reports:
        if sessions is not None and r["session"] not in sessions:
            continue
        a = models.setdefault(r["model"], [0, 0, set()])
        a[0] += _pusd(r["agent_usd"])
        a[1] = None if a[1] is None or r["requests"] is None else a[1] + r["requests"]
        a[2].add(r["from"])
    out = {}
    for model, (agent_pusd, agent_requests, where) in sorted(models.items()):
        f = by_model.get(model)
        ours = None if f is None or f["cost_usd"] is None else _pusd(f["cost_usd"])
        out[model] = {
            "agent_usd": usd(agent_pusd),
            "ours_usd": None if ours is None else usd(ours),
            "difference_usd": None if ours is None else usd(ours - agent_pusd),
            "agent_requests": agent_requests,
            "requests": 0 if f is None else f["requests"],
            "from": sorted(where),
        }
    return out


def of_snapshot(snap: dict) -> dict:
    """``agent_cost`` of a snapshot's scope, from its ``by_model`` and its provenance's
    ``agent_reports``: every session's for ``all``, the scope's sessions' for a session. A
    time scope (block, today, week) holds parts of sessions, and a report is of whole
    requests or sessions with no time: there only what the requests carried is compared."""
    kind = snap["scope"]["kind"]
    sessions = None if kind == "all" else set(snap["sessions"]) if kind in SESSION_SCOPES else set()
    return agent_cost(snap["provenance"].get("agent_reports", []), snap["by_model"], sessions)
