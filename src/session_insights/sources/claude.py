"""``claude[:DIR]`` — Claude Code transcripts (``<projects>/<project>/<session>.jsonl``).

Quirks kept here:
- usage lives on ``type == "assistant"`` lines in ``message.usage`` (Anthropic's shape:
  input excludes cache; ``cache_creation.ephemeral_5m/1h`` splits cache writes);
- a streamed response is written several times with the same ``message.id`` +
  ``requestId``: they share one request key, and the history keeps the largest copy;
- ``<synthetic>`` model lines are Claude Code's own messages, not requests;
- sidechain (subagent) turns get their own tier;
- ``tool_use`` blocks pair with the ``tool_result`` that answers them (``is_error``)
  to give tool calls with durations; ``TodoWrite`` inputs give tickets. Todo text is
  never kept: a todo without an id is known by a digest of its text.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

import orjson

from ..events import (
    SessionMark,
    TicketUpdate,
    ToolCall,
    UsageEvent,
    check_cost_usd,
    check_name,
)
from ..history import TokenHistory
from ..normalize import anthropic_usage
from .base import LineSource, Memory, Record, project_name

MAIN_TIER = "main agent"
SIDECHAIN_TIER = "subagent"
_TODO_STATUS = {"pending": "todo", "in_progress": "in_progress", "completed": "completed"}
_MAX_OPEN_TOOL_USES = 10_000


def default_roots() -> list[Path]:
    """Where Claude Code keeps transcripts: $CLAUDE_CONFIG_DIR (comma-separated), then
    ~/.config/claude and ~/.claude, each with a ``projects`` folder."""
    configured = os.environ.get("CLAUDE_CONFIG_DIR", "")
    bases = [Path(p).expanduser() for p in configured.split(",") if p.strip()]
    bases += [Path("~/.config/claude").expanduser(), Path("~/.claude").expanduser()]
    return [base / "projects" for base in bases]


def parse_ts(value: object) -> float:
    if not isinstance(value, str):
        raise ValueError(f"timestamp must be an ISO 8601 string, got {value!r}")
    return datetime.fromisoformat(value).timestamp()


class ClaudeSource(LineSource):
    kind = "claude"
    logs_name = "Claude Code logs"
    default_roots = staticmethod(default_roots)

    def __init__(self, path: str | os.PathLike | None, history: TokenHistory):
        super().__init__(path, history)
        self._models: set[str] = set()  # model names already checked
        # tool_use id -> (name, ts, session): answered by a later tool_result line.
        self._open_tool_uses = Memory(_MAX_OPEN_TOOL_USES)
        self._projects_named = Memory(_MAX_OPEN_TOOL_USES)  # sessions whose project was passed on
        self._tools_of_request = Memory(_MAX_OPEN_TOOL_USES)  # request key -> tools its copies called

    def parse(self, line: bytes, file: str) -> Iterable[Record]:
        # Most lines are user text, summaries or snapshots: skip them before parsing JSON.
        if b'"usage"' not in line and b'"tool_result"' not in line:
            return ()
        obj = orjson.loads(line)
        if not isinstance(obj, dict):
            raise ValueError("a transcript line must be a JSON object")
        kind = obj.get("type")
        if kind == "assistant":
            return self._assistant(obj)
        if kind == "user":
            return self._tool_results(obj)
        return ()

    def _assistant(self, obj: dict) -> list[Record]:
        message = obj.get("message")
        if not isinstance(message, dict):
            raise ValueError("assistant line without a message")
        ts = parse_ts(obj.get("timestamp"))
        session = obj.get("sessionId")
        session = session if isinstance(session, str) else None
        tier = SIDECHAIN_TIER if obj.get("isSidechain") else MAIN_TIER
        out: list[Record] = []
        content = message.get("content")
        blocks = [b for b in content if isinstance(b, dict) and b.get("type") == "tool_use"] \
            if isinstance(content, list) else []
        if session and session not in self._projects_named:
            project = project_name(obj.get("cwd"))
            if project is not None:
                self._projects_named.remember(session)
                out.append(SessionMark(ts, session, None, project, "claude"))
        model = message.get("model")
        usage = message.get("usage")
        if isinstance(usage, dict) and model != "<synthetic>":
            msg_id, request_id = message.get("id"), obj.get("requestId")
            key = f"{msg_id}:{request_id}" if msg_id or request_id else None
            tools = self._turn_tools(key, blocks)
            cost = obj.get("costUSD")
            c = anthropic_usage(usage)  # checked counts
            if model not in self._models:  # checked once per name, not once per line
                if check_name("model", model) != model:
                    raise ValueError(f"model name {model!r} has surrounding spaces")
                self._models.add(model)
            out.append(UsageEvent(ts, model, "anthropic", c["input_tokens"], c["cache_read_tokens"],
                                  c["cache_write_tokens"], c["cache_write_1h_tokens"], c["output_tokens"], 0,
                                  tier, session or None, "claude", key,
                                  check_cost_usd("costUSD", cost) if isinstance(cost, (int, float)) else None,
                                  tools))
        for block in blocks:
            out.extend(self._tool_use(block, ts, session))
        return out

    def _turn_tools(self, key: str | None, blocks: list[dict]) -> tuple[str, ...] | None:
        """The tools a request called so far. Each streamed copy of a response holds one
        content block, so the names seen under its key are gathered and every later
        copy carries them all (the copy the history keeps among them)."""
        names = tuple(b["name"] for b in blocks if isinstance(b.get("name"), str) and b["name"].strip())
        if key is None:
            return names or None
        seen = self._tools_of_request.get(key, ())
        if not names:  # most copies: text or thinking blocks
            return seen or None
        merged = tuple(dict.fromkeys((*seen, *names)))
        if merged != seen:
            self._tools_of_request.remember(key, merged)
        return merged or None

    def _tool_use(self, block: dict, ts: float, session: str | None) -> list[Record]:
        name, use_id = block.get("name"), block.get("id")
        if isinstance(name, str) and isinstance(use_id, str):
            self._open_tool_uses.remember(use_id, (name, ts, session))
        if name != "TodoWrite":
            return []
        todos = (block.get("input") or {}).get("todos")
        if not isinstance(todos, list):
            return []
        updates: list[Record] = []
        for todo in todos:
            if not isinstance(todo, dict) or todo.get("status") not in _TODO_STATUS:
                continue
            todo_id = todo.get("id")
            if not isinstance(todo_id, str) or not todo_id:
                text = str(todo.get("content", ""))
                todo_id = "todo-" + hashlib.blake2b(text.encode(), digest_size=6).hexdigest()
            updates.append(TicketUpdate(ts, f"{session or 'claude'}/{todo_id}", _TODO_STATUS[todo["status"]],
                                        session, None, session))
        return updates

    def _tool_results(self, obj: dict) -> list[Record]:
        message = obj.get("message")
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, list):
            return []
        ts = parse_ts(obj.get("timestamp"))
        out: list[Record] = []
        for block in content:
            if not isinstance(block, dict) or block.get("type") != "tool_result":
                continue
            opened = self._open_tool_uses.pop(block.get("tool_use_id"), None)
            if opened is None:
                continue  # its tool_use was read before this run, or never written
            name, started, session = opened
            out.append(ToolCall(ts, name, max(0.0, (ts - started) * 1000.0), not block.get("is_error"), session))
        return out
SOURCE = ClaudeSource
