"""``codex[:DIR]`` — Codex CLI rollouts (``sessions/YYYY/MM/DD/rollout-<time>-<id>.jsonl``,
compressed to ``.jsonl.zst`` once idle for 7 days: read whole, once).

Every line is ``{timestamp, type, payload}``. Quirks kept here:
- ``session_meta`` opens a file and names its session (the first one: a fork copies its
  parent's ``session_meta`` in too); ``source.subagent`` marks a subagent's rollout;
- ``turn_context`` names the model the following turns use. Older Codex wrote none: a
  request before any is the model's a later line names, else ``UNKNOWN_MODEL`` (unpriced);
- ``event_msg`` / ``token_count`` carries *cumulative* ``total_token_usage``: a request
  is the growth since the previous one. Codex writes the same totals more than once
  (repeats are skipped); a total that went backwards counts its ``last_token_usage``.
  OpenAI's input includes ``cached_input_tokens`` and (Codex >= ~0.145)
  ``cache_write_input_tokens``; output includes ``reasoning_output_tokens`` (DESIGN §2).
  The latest ``rate_limits`` are kept for display, per ``limit_id``: besides the
  ``codex`` windows, a model with a limit of its own has its own family, and each
  ``token_count`` holds only the family its response was sent last;
- ``token_usage_record`` (newer Codex; some clients write only these) gives one response's
  ``usage`` and its thread's totals, before the ``token_count`` that repeats them;
- a forked rollout starts by replaying its parent's history, token counts included:
  those set the baseline and are not counted (codex_rollout.py says when it ends);
- ``function_call`` / ``custom_tool_call`` pair with their ``*_output`` by ``call_id``
  to give tool calls (codex_tools.py says when one failed). ``update_plan`` steps give
  tickets, known by a digest of their text (the text is never kept).

Each request is keyed by session and cumulative totals, so the same rollout read
twice (moved to ``archived_sessions``, say) counts once.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import orjson

from ..events import (
    MAX_TS,
    MIN_TS,
    SessionMark,
    ToolCall,
    check_duration_ms,
    check_name,
    usage_event,
)
from ..history import TokenHistory
from ..limits import CODEX_LIMIT
from .base import BAD_LINE, LineSource, Record, project_name
from .claude import parse_ts
from .codex_rollout import REPLAY_WINDOW_S, Rollout, Totals, totals
from .codex_tools import agent_call_ok, plan_tickets, tool_outcome
from .tail import ZSTD_SUFFIX

_CONTEXT_KINDS = (b'"session_meta"', b'"turn_context"', b'"token_count"', b'"token_usage_record"')
_KINDS = ("session_meta", "turn_context", "event_msg", "response_item", "token_usage_record")  # the line types read
MAX_LIMIT_ID = 200  # characters of a limit's id or name kept; a longer one is no id
UNKNOWN_MODEL = "unknown model"  # a request no line of its rollout names the model of: unpriced


def default_roots() -> list[Path]:
    """``$CODEX_HOME`` (default ``~/.codex``): ``sessions`` and ``archived_sessions``."""
    home = Path(os.environ.get("CODEX_HOME") or "~/.codex").expanduser()
    return [home / "sessions", home / "archived_sessions"]


class CodexSource(LineSource):
    kind = "codex"
    logs_name = "Codex CLI logs"
    pattern = "*.jsonl*"  # a rollout idle for 7 days is compressed to *.jsonl.zst (Codex >= 0.137)
    default_roots = staticmethod(default_roots)

    def __init__(self, path: str | os.PathLike | None, history: TokenHistory):
        super().__init__(path, history)
        self._files: dict[str, Rollout] = {}
        self.rate_limits: dict | None = None

    def wanted(self, path: Path) -> bool:
        """A rollout, plain or compressed; any other ``*.jsonl*`` file is named in a notice."""
        if path.name.endswith((".jsonl", ".jsonl" + ZSTD_SUFFIX)):
            return True
        self.not_read(str(path), f"not a rollout (*.jsonl or *.jsonl{ZSTD_SUFFIX})")
        return False

    def resume(self, file: str, head: Iterable[bytes]) -> None:
        # Only the lines that carry context: the session, the model, the running totals.
        self._resuming = True  # what these lines left out was counted when first read
        try:
            for line in head:
                if any(kind in line for kind in _CONTEXT_KINDS):
                    try:
                        self.parse(line, file)
                    except BAD_LINE:
                        continue  # counted as bad when first read
        finally:
            self._resuming = False
        rollout = self._files.get(file)
        if rollout is not None:
            rollout.pending.clear()  # counted before the restart

    def tail_files(self, files: list[Path], max_bytes_per_file: int | None = None) -> int:
        """As LineSource's; then the requests no line read named the model of are kept
        under UNKNOWN_MODEL (unpriced), never dropped."""
        queued = super().tail_files(files, max_bytes_per_file)
        for key, rollout in self._files.items():
            tail = self.tails.get(key)
            if rollout.pending and tail is not None:
                self.history.add_read(key, rollout.pending, tail.position())
                queued += len(rollout.pending)
                rollout.pending = []
        return queued

    def parse(self, line: bytes, file: str) -> Iterable[Record]:
        # Most bytes are messages and reasoning: skip them before parsing JSON.
        if not (
            b'"token_count"' in line
            or b"_call" in line
            or b'"turn_context"' in line
            or b'"session_meta"' in line
            or b'"token_usage_record"' in line
            or (b'"item_completed"' in line and b'"failed"' in line)
        ):
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
                rollout = self._files[file] = Rollout.opened(payload, ts)
                project = project_name(payload.get("cwd"))
                if rollout.session is not None and project is not None:
                    return [SessionMark(ts, rollout.session, None, project, "codex")]
            elif rollout.fork_ts is None and rollout.totals is None and payload.get("id") != rollout.session:
                # A branch that copies another session's history without naming it its
                # parent (no forked_from_id): the copy starts here.
                rollout.start_replay(rollout.session, rollout.meta_ts, ts)
            return ()  # a later session_meta is a fork's copy of its parent's
        if rollout is None:
            rollout = self._files[file] = Rollout()
        if rollout.fork_ts is not None:
            rollout.check_replay_end(kind, payload, ts)
        if kind == "turn_context":
            if "model" in payload:  # the model the following turns use
                rollout.model = check_name("turn_context model", payload["model"])
                named, rollout.pending = [ev._replace(model=rollout.model) for ev in rollout.pending], []
                return named
            return ()
        if kind == "event_msg" and payload.get("type") == "token_count":
            return self._token_count(rollout, payload, ts)
        if kind == "token_usage_record":
            return self._usage_record(rollout, payload, ts)
        if kind == "event_msg" and payload.get("type") == "item_completed" and rollout.fork_ts is None:
            item = payload.get("item")
            if isinstance(item, dict) and item.get("status") == "failed" and isinstance(item.get("id"), str):
                rollout.failed_calls.remember(item["id"])
            return ()
        if kind == "response_item" and rollout.fork_ts is None:
            return self._response_item(rollout, payload, ts)
        return ()

    _resuming = False

    def _left_out(self) -> None:
        """A usage line this source counts no request for: a copy (provenance)."""
        if not self._resuming:
            self.history.note_copies("codex")

    def _token_count(self, rollout: Rollout, payload: dict, ts: float) -> list[Record]:
        limits = payload.get("rate_limits")
        if isinstance(limits, dict) and rollout.fork_ts is None:
            self._keep_rate_limits(limits, ts)
        info = payload.get("info")
        if info is None:
            return []  # rate limits only, before the first response
        if not isinstance(info, dict):
            raise ValueError(f"token_count info must be an object, got {type(info).__name__}")
        total = totals(info.get("total_token_usage"))
        if total is None:
            raise ValueError("token_count info without total_token_usage")
        previous, rollout.totals = rollout.totals, total
        if rollout.fork_ts is not None or total == previous:
            self._left_out()
            return []  # the parent's history, replayed; or the same totals written again
        if previous is not None and all(t >= p for t, p in zip(total, previous)):
            delta = tuple(t - p for t, p in zip(total, previous))
        else:
            delta = totals(info.get("last_token_usage")) or total
        return self._request(rollout, delta, ts, f"codex:{rollout.session}:{total[0]}:{total[1]}:{total[2]}")

    def _usage_record(self, rollout: Rollout, payload: dict, ts: float) -> list[Record]:
        """One response's ``usage`` (``token_usage_record``, written before the
        ``token_count`` that repeats it). It moves the running totals on to its
        ``thread_token_usage``, so that ``token_count`` is a repeat; one of another thread
        (a copy of the parent's history) or read in a fork's replay is not counted."""
        usage = totals(payload.get("usage"))
        if usage is None:
            raise ValueError("token_usage_record without usage")
        thread = payload.get("thread_id")
        if rollout.fork_ts is not None or (isinstance(thread, str) and rollout.session not in (None, thread)):
            self._left_out()
            return []
        total = totals(payload.get("thread_token_usage"))
        if total is None:
            previous = rollout.totals or (0, 0, 0, 0, 0)
            total = (
                usage[0] + previous[0],
                usage[1] + previous[1],
                usage[2] + previous[2],
                usage[3] + previous[3],
                usage[4] + previous[4],
            )
        if total == rollout.totals:
            return []  # the same record written again
        rollout.totals = total
        return self._request(rollout, usage, ts, f"codex:{rollout.session}:{total[0]}:{total[1]}:{total[2]}")

    @staticmethod
    def _request(rollout: Rollout, usage: Totals, ts: float, key: str) -> list[Record]:
        """The request ``usage`` counts (OpenAI's input includes cache reads and writes), with
        the tools called since the last one; held in ``pending`` until a line names the model."""
        inp, cached, out, reasoning, written = usage
        if not (inp or out):
            return []
        cached = min(cached, inp)
        written = min(written, inp - cached)
        event = usage_event(
            model=rollout.model or UNKNOWN_MODEL,
            ts=ts,
            tier=rollout.tier,
            session=rollout.session,
            provider=rollout.provider,
            source="codex",
            request_key=key,
            input_tokens=inp - cached - written,
            cache_read_tokens=cached,
            cache_write_tokens=written,
            output_tokens=out,
            reasoning_tokens=min(reasoning, out),
            tools=tuple(rollout.turn_tools) or None,
        )
        rollout.turn_tools = {}
        if rollout.model is None:
            rollout.pending.append(event)
            return []
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
        if not windows:
            return
        kept = self.rate_limits or {}
        limit_id = limits.get("limit_id")
        if isinstance(limit_id, str) and limit_id not in ("", CODEX_LIMIT) and len(limit_id) <= MAX_LIMIT_ID:
            # One model's own limit: Codex writes only the latest family it was sent.
            models = dict(kept.get("models") or {})
            if limit_id in models and ts < models[limit_id]["ts"]:
                return
            name = limits.get("limit_name")
            ok_name = isinstance(name, str) and 0 < len(name) <= MAX_LIMIT_ID and name.isprintable()
            models[limit_id] = {"ts": ts, "name": name if ok_name else None, **windows}
            kept = {**kept, "models": models}
        elif "ts" not in kept or ts >= kept["ts"]:
            kept = {**{k: v for k, v in kept.items() if k == "models"}, "ts": ts, **windows}
        else:
            return
        self.rate_limits = kept
        self.history.set_rate_limits(self.label, kept)

    def _response_item(self, rollout: Rollout, payload: dict, ts: float) -> list[Record]:
        kind = payload.get("type")
        if kind in ("function_call", "custom_tool_call", "local_shell_call"):
            call_id, name = (
                payload.get("call_id"),
                payload.get("name") or ("shell" if kind == "local_shell_call" else None),
            )
            check_name(f"{kind} name", name)
            if not isinstance(call_id, str):
                raise ValueError(f"{kind} call_id must be a string, got {call_id!r}")
            tickets = plan_tickets(rollout.session, payload.get("arguments"), ts) if name == "update_plan" else []
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
            ok, duration_ms = tool_outcome(payload.get("output"))
            if name in ("spawn_agent", "wait_agent"):
                ok = ok and agent_call_ok(name, payload.get("output"))
            if call_id in rollout.failed_calls:
                ok = False
                del rollout.failed_calls[call_id]
            if duration_ms is None:
                duration_ms = check_duration_ms(max(0.0, (ts - started) * 1000.0), "tool output time")
            del rollout.calls[call_id]
            return [ToolCall(ts, name, duration_ms, ok, rollout.session, call_id)]
        return []


SOURCE = CodexSource
__all__ = ["REPLAY_WINDOW_S", "SOURCE", "UNKNOWN_MODEL", "CodexSource", "default_roots"]
