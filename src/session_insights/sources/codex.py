"""``codex[:DIR]`` — Codex CLI rollouts (``sessions/YYYY/MM/DD/rollout-<time>-<id>.jsonl``).

Every line is ``{timestamp, type, payload}``. Quirks kept here:
- ``session_meta`` opens a file and names its session (the first one: a fork copies its
  parent's ``session_meta`` in too); ``source.subagent`` marks a subagent's rollout;
- ``turn_context`` names the model the following turns use;
- ``event_msg`` / ``token_count`` carries *cumulative* ``total_token_usage``: a request
  is the growth since the previous one. Codex writes the same totals more than once
  (repeats are skipped); a total that went backwards counts its ``last_token_usage``.
  OpenAI's input includes ``cached_input_tokens`` and output includes
  ``reasoning_output_tokens`` (DESIGN §2). The latest ``rate_limits`` are kept for display;
- a forked rollout (``forked_from_id``, or a subagent's ``parent_thread_id``) starts by
  replaying its parent's history, token counts included, all re-stamped at the fork.
  Those counts were the parent's: they set the baseline and are not counted. The replay
  ends at the first turn whose id (a UUIDv7) was minted at or after the fork, or at the
  first line written more than ``REPLAY_WINDOW_S`` after it;
- ``function_call`` / ``custom_tool_call`` pair with their ``*_output`` by ``call_id``
  to give tool calls; the shell's exit code and wall time come from the output's
  metadata or its ``Exit code:`` / ``Wall time:`` header. ``update_plan`` steps give
  tickets, known by a digest of their text (the text is never kept).

Each request is keyed by session and cumulative totals, so the same rollout read
twice (moved to ``archived_sessions``, say) counts once.
"""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from ..events import (
    MAX_TS,
    MIN_TS,
    SessionMark,
    TicketUpdate,
    ToolCall,
    check_duration_ms,
    check_name,
    usage_event,
)
from ..history import TokenHistory
from .base import BAD_LINE, LineSource, Memory, Record, project_name
from .claude import MAIN_TIER, SIDECHAIN_TIER, parse_ts

REPLAY_WINDOW_S = 2.0  # a fork's replayed history is written within this of the fork itself
_MAX_OPEN_CALLS = 10_000
_PLAN_STATUS = {"pending": "todo", "in_progress": "in_progress", "completed": "completed"}
_EXIT_CODE = re.compile(r"^Exit code: (-?\d+)", re.MULTILINE)
_WALL_TIME = re.compile(r"^Wall time: ([0-9.]+) seconds", re.MULTILINE)
_TOTAL_FIELDS = ("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_output_tokens")
_KINDS = ("session_meta", "turn_context", "event_msg", "response_item")  # the line types read

Totals = tuple[int, int, int, int]  # input (with cached), cached, output (with reasoning), reasoning


def default_roots() -> list[Path]:
    """``$CODEX_HOME`` (default ``~/.codex``): ``sessions`` and ``archived_sessions``."""
    home = Path(os.environ.get("CODEX_HOME") or "~/.codex").expanduser()
    return [home / "sessions", home / "archived_sessions"]


def _totals(usage: object) -> Totals | None:
    if not isinstance(usage, dict):
        return None
    values = []
    for name in _TOTAL_FIELDS:
        value = usage.get(name, 0)
        if value is None:
            value = 0
        if type(value) is not int or value < 0:
            raise ValueError(f"token_count {name} must be a whole number >= 0, got {value!r}")
        values.append(value)
    return values[0], values[1], values[2], values[3]


def _uuid7_time(value: object) -> float | None:
    """The creation time a UUIDv7 carries (ms since the epoch), or None."""
    try:
        u = uuid.UUID(str(value))
    except ValueError:
        return None
    return (u.int >> 80) / 1000.0 if u.version == 7 else None


def _tool_outcome(output: object) -> tuple[bool, float | None]:
    """(ok, duration in ms if the output states it) from a tool call's output; a stated
    duration out of range (``1e308`` seconds) raises ValueError."""
    if isinstance(output, dict):
        return output.get("success") is not False, None
    if not isinstance(output, str):
        return True, None
    if output.startswith("{"):
        try:
            body = orjson.loads(output)
        except orjson.JSONDecodeError:
            body = None
        if isinstance(body, dict):
            meta = body.get("metadata")
            if isinstance(meta, dict):
                code, secs = meta.get("exit_code"), meta.get("duration_seconds")
                ok = not (isinstance(code, int) and code != 0)
                if secs is None:
                    return ok, None
                if isinstance(secs, bool) or not isinstance(secs, (int, float)):
                    raise ValueError(f"metadata.duration_seconds must be a number, got {secs!r}")
                return ok, check_duration_ms(secs * 1000.0, "metadata.duration_seconds")
            return body.get("success") is not False, None
    head = output[:400]
    code, wall = _EXIT_CODE.search(head), _WALL_TIME.search(head)
    if wall is None:
        return code is None or int(code.group(1)) == 0, None
    try:
        secs = float(wall.group(1))
    except ValueError:
        raise ValueError("Wall time must be a number of seconds") from None
    return code is None or int(code.group(1)) == 0, check_duration_ms(secs * 1000.0, "Wall time")


@dataclass
class _Rollout:
    """What one rollout file has said so far that later lines depend on."""

    session: str | None = None
    tier: str = MAIN_TIER
    model: str | None = None
    provider: str | None = "openai"
    totals: Totals | None = None
    fork_ts: float | None = None  # set while a fork's replayed history is being read
    replay_started: float | None = None
    calls: Memory = field(default_factory=lambda: Memory(_MAX_OPEN_CALLS))  # call_id -> (name, ts)
    # Tools called since the last token_count: a response's calls are written before its usage.
    turn_tools: dict[str, None] = field(default_factory=dict)


class CodexSource(LineSource):
    kind = "codex"
    logs_name = "Codex CLI logs"
    default_roots = staticmethod(default_roots)

    def __init__(self, path: str | os.PathLike | None, history: TokenHistory):
        super().__init__(path, history)
        self._files: dict[str, _Rollout] = {}
        self.rate_limits: dict | None = None

    def resume(self, file: str, head: Iterable[bytes]) -> None:
        # Only the lines that carry context: the session, the model, the running totals.
        for line in head:
            if b'"session_meta"' in line or b'"turn_context"' in line or b'"token_count"' in line:
                try:
                    self.parse(line, file)
                except BAD_LINE:
                    continue  # counted as bad when first read

    def parse(self, line: bytes, file: str) -> Iterable[Record]:
        # Most bytes are messages and reasoning: skip them before parsing JSON.
        if not (b'"token_count"' in line or b"_call" in line or b'"turn_context"' in line or b'"session_meta"' in line):
            return ()
        obj = orjson.loads(line)
        if not isinstance(obj, dict):
            raise ValueError("a rollout line must be a JSON object")
        kind, payload = obj.get("type"), obj.get("payload")
        if not isinstance(payload, dict):
            if isinstance(kind, str) and kind in _KINDS:
                raise ValueError(f"{kind} payload must be an object, got {type(payload).__name__}")
            return ()
        ts = parse_ts(obj.get("timestamp"))
        rollout = self._files.get(file)
        if kind == "session_meta":
            if rollout is None or rollout.session is None:
                rollout = self._files[file] = self._open(payload, ts)
                project = project_name(payload.get("cwd"))
                if rollout.session is not None and project is not None:
                    return [SessionMark(ts, rollout.session, None, project, "codex")]
            return ()  # a later session_meta is a fork's copy of its parent's
        if rollout is None:
            rollout = self._files[file] = _Rollout()
        if rollout.fork_ts is not None:
            self._check_replay_end(rollout, kind, payload, ts)
        if kind == "turn_context":
            if "model" in payload:  # the model the following turns use
                rollout.model = check_name("turn_context model", payload["model"])
            return ()
        if kind == "event_msg" and payload.get("type") == "token_count":
            return self._token_count(rollout, payload, ts)
        if kind == "response_item" and rollout.fork_ts is None:
            return self._response_item(rollout, payload, ts)
        return ()

    @staticmethod
    def _open(payload: dict, ts: float) -> _Rollout:
        session = payload.get("id")
        source = payload.get("source")
        subagent = isinstance(source, dict) and "subagent" in source
        rollout = _Rollout(
            session=session if isinstance(session, str) and session else None,
            tier=SIDECHAIN_TIER if subagent else MAIN_TIER,
        )
        provider = payload.get("model_provider")
        if isinstance(provider, str) and provider and provider.lower() != "openai":
            rollout.provider = provider  # a local or third-party provider: priced if known, else named unpriced
        spawn = source.get("subagent") if subagent else None
        parent = spawn.get("thread_spawn", {}).get("parent_thread_id") if isinstance(spawn, dict) else None
        if payload.get("forked_from_id") or parent:
            created = _uuid7_time(session)
            if created is None:
                stamped = payload.get("timestamp")
                created = parse_ts(stamped) if isinstance(stamped, str) else ts
            rollout.fork_ts, rollout.replay_started = created, ts
        return rollout

    @staticmethod
    def _check_replay_end(rollout: _Rollout, kind: object, payload: dict, ts: float) -> None:
        if kind == "turn_context":
            minted = _uuid7_time(payload.get("turn_id"))
            if minted is not None and minted >= rollout.fork_ts:
                rollout.fork_ts = None
                return
        if ts > rollout.replay_started + REPLAY_WINDOW_S:
            rollout.fork_ts = None

    def _token_count(self, rollout: _Rollout, payload: dict, ts: float) -> list[Record]:
        limits = payload.get("rate_limits")
        if isinstance(limits, dict) and rollout.fork_ts is None:
            self._keep_rate_limits(limits, ts)
        info = payload.get("info")
        if info is None:
            return []  # rate limits only, before the first response
        if not isinstance(info, dict):
            raise ValueError(f"token_count info must be an object, got {type(info).__name__}")
        total = _totals(info.get("total_token_usage"))
        if total is None:
            raise ValueError("token_count info without total_token_usage")
        previous, rollout.totals = rollout.totals, total
        if rollout.fork_ts is not None or total == previous:
            return []  # the parent's history, replayed; or the same totals written again
        if previous is not None and all(t >= p for t, p in zip(total, previous)):
            delta = tuple(t - p for t, p in zip(total, previous))
        else:
            delta = _totals(info.get("last_token_usage")) or total
        inp, cached, out, reasoning = delta
        if not (inp or out):
            return []
        if rollout.model is None:
            raise ValueError("token_count before any turn_context names a model")
        cached = min(cached, inp)
        event = usage_event(
            model=rollout.model,
            ts=ts,
            tier=rollout.tier,
            session=rollout.session,
            provider=rollout.provider,
            source="codex",
            request_key=f"codex:{rollout.session}:{total[0]}:{total[1]}:{total[2]}",
            input_tokens=inp - cached,
            cache_read_tokens=cached,
            output_tokens=out,
            reasoning_tokens=min(reasoning, out),
            tools=tuple(rollout.turn_tools) or None,
        )
        rollout.turn_tools = {}
        return [event]

    def _keep_rate_limits(self, limits: dict, ts: float) -> None:
        windows = {}
        for name in ("primary", "secondary"):
            window = limits.get(name)
            if not isinstance(window, dict) or not isinstance(window.get("used_percent"), (int, float)):
                continue
            resets = window.get("resets_at")
            if not isinstance(resets, (int, float)) and isinstance(window.get("resets_in_seconds"), (int, float)):
                resets = ts + window["resets_in_seconds"]
            if not isinstance(resets, (int, float)) or isinstance(resets, bool) or not MIN_TS <= resets < MAX_TS:
                resets = None  # shown as a local time: one far out of range cannot be
            minutes = window.get("window_minutes")
            windows[name] = {
                "used_pct": float(window["used_percent"]),
                "window_minutes": minutes if isinstance(minutes, int) else None,
                "resets_at": None if resets is None else float(resets),
            }
        if windows and (self.rate_limits is None or ts >= self.rate_limits["ts"]):
            self.rate_limits = {"ts": ts, **windows}
            self.history.set_rate_limits(self.label, self.rate_limits)

    def _response_item(self, rollout: _Rollout, payload: dict, ts: float) -> list[Record]:
        kind = payload.get("type")
        if kind in ("function_call", "custom_tool_call", "local_shell_call"):
            call_id, name = (
                payload.get("call_id"),
                payload.get("name") or ("shell" if kind == "local_shell_call" else None),
            )
            check_name(f"{kind} name", name)
            if not isinstance(call_id, str):
                raise ValueError(f"{kind} call_id must be a string, got {call_id!r}")
            tickets = self._plan(rollout, payload.get("arguments"), ts) if name == "update_plan" else []
            rollout.calls.remember(call_id, (name, ts))
            if len(rollout.turn_tools) < 64:
                rollout.turn_tools[name] = None
            return tickets
        if kind in ("function_call_output", "custom_tool_call_output"):
            call_id = payload.get("call_id")
            opened = rollout.calls.get(call_id)
            if opened is None:
                return []  # its call was read before this run, or never written
            name, started = opened
            ok, duration_ms = _tool_outcome(payload.get("output"))
            if duration_ms is None:
                duration_ms = check_duration_ms(max(0.0, (ts - started) * 1000.0), "tool output time")
            del rollout.calls[call_id]
            return [ToolCall(ts, name, duration_ms, ok, rollout.session)]
        return []

    @staticmethod
    def _plan(rollout: _Rollout, arguments: object, ts: float) -> list[Record]:
        """The tickets an ``update_plan`` call sets; a step we cannot read makes the line bad."""
        if isinstance(arguments, str):
            arguments = orjson.loads(arguments)
        steps = arguments.get("plan") if isinstance(arguments, dict) else None
        if not isinstance(steps, list):
            raise ValueError("update_plan arguments.plan must be a list")
        updates: list[Record] = []
        for step in steps:
            status = step.get("status") if isinstance(step, dict) else None
            if not isinstance(status, str) or status not in _PLAN_STATUS:
                raise ValueError(f"update_plan step status is not {' or '.join(_PLAN_STATUS)}, got {status!r}")
            digest = hashlib.blake2b(str(step.get("step", "")).encode(errors="replace"), digest_size=6).hexdigest()
            updates.append(
                TicketUpdate(
                    ts,
                    f"{rollout.session or 'codex'}/step-{digest}",
                    _PLAN_STATUS[status],
                    rollout.session,
                    None,
                    rollout.session,
                )
            )
        return updates


SOURCE = CodexSource
