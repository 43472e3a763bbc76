"""``claude[:DIR]`` — Claude Code transcripts (``<projects>/<project>/<session>.jsonl``).

Quirks kept here:
- usage lives on ``type == "assistant"`` lines in ``message.usage`` (Anthropic's shape:
  input excludes cache; ``cache_creation.ephemeral_5m/1h`` splits cache writes);
- a streamed response is written several times with the same ``message.id`` +
  ``requestId``: they share one request key, and the history keeps the largest copy;
- ``<synthetic>`` model lines are Claude Code's own messages, not requests;
- sidechain (subagent) turns get their own tier;
- ``usage.speed: "fast"`` is fast mode, priced at its own rate; ``usage.server_tool_use``
  counts the server's web searches, billed per search;
- Claude Code writes no cost on transcript lines since 1.0 (``costUSD`` before); on exit it
  writes the session's cost per model to ``.claude.json`` beside the config folder
  (``projects.<cwd>.lastModelUsage`` of ``lastSessionId``): the agent's figure of that
  session, beside ours (``history.agent_cost``), never usage;
- ``tool_use`` blocks pair with the ``tool_result`` that answers them (``is_error``)
  to give tool calls with durations; ``TodoWrite`` inputs give tickets once their result
  says the tool took them (a rejected call set no todos). Todo text is never kept: a
  todo without an id is known by a digest of its text.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

import orjson

from ..events import (
    SessionMark,
    TicketUpdate,
    ToolCall,
    UsageEvent,
    check_cost_usd,
    check_duration_ms,
    check_name,
    iso_ts,
)
from ..history import TokenHistory
from ..normalize import anthropic_price_terms, anthropic_usage
from .base import Interned, LineSource, Memory, Record, project_name

CONFIG_COST = ".claude.json"  # its lastModelUsage
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
    """A line's ``timestamp``: ISO 8601, from 2000 to 2100 (``events.iso_ts``)."""
    return iso_ts(value, "timestamp")


class ClaudeSource(LineSource):
    kind = "claude"
    logs_name = "Claude Code logs"
    default_roots = staticmethod(default_roots)
    # Each line names its session: a big transcript may be read in byte ranges. A tool call
    # whose tool_use and tool_result fall in different ranges is paired by settle(); a
    # request whose streamed copies fall on both sides of a cut names the tools of the
    # copies on the side of the copy kept.
    lines_independent = True

    def __init__(self, path: str | os.PathLike | None, history: TokenHistory):
        super().__init__(path, history)
        self._models: set[str] = set()  # model names already checked
        self._tool_names: set[str] = set()  # tool names already checked
        self._label = Interned()  # one copy of each model, session and tool-names tuple
        # tool_use id -> (name, ts, session): answered by a later tool_result line.
        self._open_tool_uses = Memory(_MAX_OPEN_TOOL_USES)
        self._projects_named = Memory(_MAX_OPEN_TOOL_USES)  # sessions whose project was passed on
        self._tools_of_request = Memory(_MAX_OPEN_TOOL_USES)  # request key -> tools its copies called
        # While reading a byte range: (tool_use id, ts, ok) of tool_results whose tool_use lies before it.
        self._answers: list[tuple[str, float, bool]] = []

    def poll(self, max_bytes_per_file: int | None = None) -> int:
        queued = super().poll(max_bytes_per_file)
        self._read_configs()
        return queued

    def read_all(self, workers: int | None = None) -> int:
        queued = super().read_all(workers)
        self._read_configs()
        return queued

    def _read_configs(self) -> None:
        """The sessions' costs Claude Code wrote to the ``.claude.json`` of each root (read
        again only when it changed)."""
        for path in dict.fromkeys(config_files(self.roots)):
            if path.is_file():
                found = self.read_whole(path, orjson.loads)
                if found is not None:
                    for session, model, cost in _config_costs(found.content):
                        self.history.reading.agent.session_cost(CONFIG_COST, session, model, cost, add=False)

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

    def _usage_event(
        self, obj: dict, message: dict, model, usage: dict, ts: float, tier: str, session, blocks
    ) -> UsageEvent:
        """The request an assistant line's usage counts (its copies share the key)."""
        c = anthropic_usage(usage)  # checked counts
        terms = anthropic_price_terms(usage)  # fast mode, web searches
        if model not in self._models:  # checked once per name, not once per line
            if check_name("model", model) != model:
                raise ValueError(f"model has surrounding spaces, got {model!r}")
            self._models.add(model)
        model = self._label(model)
        cost = obj.get("costUSD")
        msg_id, request_id = message.get("id"), obj.get("requestId")
        key = f"{msg_id}:{request_id}" if msg_id or request_id else None
        return UsageEvent(
            ts,
            model,
            "anthropic",
            c["input_tokens"],
            c["cache_read_tokens"],
            c["cache_write_tokens"],
            c["cache_write_1h_tokens"],
            c["output_tokens"],
            0,
            tier,
            session or None,
            "claude",
            key,
            None if cost is None else check_cost_usd("costUSD", cost),
            self._turn_tools(key, blocks),
            0,
            terms["price_context"],
            terms["server_tools"],
            message.get("stop_reason") is not None,  # the last copy of a streamed response
        )

    def _assistant(self, obj: dict) -> list[Record]:
        message = obj.get("message")
        if not isinstance(message, dict):
            raise ValueError("assistant line without a message")
        # Check everything before remembering anything, so a bad line changes nothing.
        ts = parse_ts(obj.get("timestamp"))
        session = obj.get("sessionId")
        session = self._label(session) if isinstance(session, str) else None
        tier = SIDECHAIN_TIER if obj.get("isSidechain") else MAIN_TIER
        content = message.get("content")
        blocks = []  # its tool_use blocks: most lines hold one text or thinking block
        if isinstance(content, list):
            for b in content:
                if isinstance(b, dict) and b.get("type") == "tool_use":
                    blocks.append(self._tool_use_block(b))
        # A TodoWrite's tickets wait for its tool_result: one the tool rejected set nothing.
        tickets = (
            {block["id"]: _todos(block, ts, session) for block in blocks if block["name"] == "TodoWrite"}
            if blocks
            else None
        )
        model, usage = message.get("model"), message.get("usage")
        if usage is not None and not isinstance(usage, dict):
            raise ValueError(f"message.usage must be an object, got {type(usage).__name__}")
        event = None
        if usage is not None and model != "<synthetic>":
            event = self._usage_event(obj, message, model, usage, ts, tier, session, blocks)
        out: list[Record] = []
        if session and session not in self._projects_named:
            project = project_name(obj.get("cwd"))
            if project is not None:
                self._projects_named.remember(session)
                out.append(SessionMark(ts, session, None, project, "claude"))
        if event is not None:
            out.append(event)
        for block in blocks:
            self._open_tool_uses.remember(block["id"], (block["name"], ts, session, tickets.get(block["id"], ())))
        return out

    def _tool_use_block(self, block: dict) -> dict:
        """A ``tool_use`` block, checked: a tool call needs its name (checked once per
        name, as models are) and the id its result answers."""
        name = block.get("name")
        if type(name) is not str or name not in self._tool_names:
            check_name("tool_use name", name)
            self._tool_names.add(name)
        if not isinstance(block.get("id"), str):
            raise ValueError(f"tool_use id must be a string, got {block.get('id')!r}")
        return block

    def _turn_tools(self, key: str | None, blocks: list[dict]) -> tuple[str, ...] | None:
        """The tools a request called so far. Each streamed copy of a response holds one
        content block, so the names seen under its key are gathered and every later
        copy carries them all (the copy the history keeps among them)."""
        if not blocks:  # most copies: text or thinking blocks
            return (self._tools_of_request.get(key) or None) if key is not None else None
        names = tuple(b["name"] for b in blocks)
        if key is None:
            return names
        seen = self._tools_of_request.get(key, ())
        merged = self._label(tuple(dict.fromkeys((*seen, *names))))
        if merged != seen:
            self._tools_of_request.remember(key, merged)
        return merged or None

    def _tool_results(self, obj: dict) -> list[Record]:
        message = obj.get("message")
        if not isinstance(message, dict):
            raise ValueError("user line without a message")
        content = message.get("content")
        if not isinstance(content, list):
            return []  # a user's own text
        ts = parse_ts(obj.get("timestamp"))
        answered: list[tuple[str, Record]] = []
        early: list[tuple[str, float, bool]] = []  # answers to tool uses before this byte range
        for block in content:
            if not isinstance(block, dict) or block.get("type") != "tool_result":
                continue
            use_id = block.get("tool_use_id")
            opened = self._open_tool_uses.get(use_id)
            if opened is None:  # its tool_use was read before this run or range, or never written
                if self.reading_range and isinstance(use_id, str):
                    early.append((use_id, ts, not block.get("is_error")))
                continue
            name, started, session, tickets = opened
            duration_ms = check_duration_ms(max(0.0, (ts - started) * 1000.0), "tool_result time")
            ok = not block.get("is_error")
            answered.append((use_id, [ToolCall(ts, name, duration_ms, ok, session, use_id), *(tickets if ok else ())]))
        for use_id, _ in answered:  # forgotten only once the whole line is read
            self._open_tool_uses.pop(use_id, None)
        self._answers.extend(early[: _MAX_OPEN_TOOL_USES - len(self._answers)])
        return [record for _, records in answered for record in records]

    def carry(self, file: str) -> tuple[list, list]:
        """A byte range's answers to earlier tool uses, and the tool uses it leaves open."""
        return self._answers, list(self._open_tool_uses.items())

    def settle(self, carried: list) -> list[Record]:
        """Tool calls split by a cut: each range's early answers meet the uses the ranges
        before it left open, as one read of the file pairs them."""
        opened = Memory(_MAX_OPEN_TOOL_USES)
        out: list[Record] = []
        for answers, uses in carried:
            for use_id, ts, ok in answers:
                hit = opened.pop(use_id, None)
                if hit is not None:
                    name, started, session, tickets = hit
                    try:
                        duration_ms = check_duration_ms(max(0.0, (ts - started) * 1000.0), "tool_result time")
                    except ValueError:
                        continue  # out of range: the line read in one pass is a bad line
                    out.append(ToolCall(ts, name, duration_ms, ok, session, use_id))
                    if ok:
                        out.extend(tickets)
            for use_id, value in uses:
                opened.remember(use_id, value)
        return out


def config_files(roots: Iterable[Path]) -> list[Path]:
    """Where Claude Code keeps the config of a ``projects`` root: ``$CLAUDE_CONFIG_DIR/
    .claude.json``, or ``~/.claude.json`` beside ``~/.claude``."""
    out = []
    for root in roots:
        base = root.parent
        out.append(base.parent / ".claude.json" if base.name == ".claude" else base / ".claude.json")
    return out


def _config_costs(config: object) -> list[tuple[str, str, float]]:
    """(session, model, USD) of each project's last session in a ``.claude.json``; an entry
    that is not of that shape is skipped (the file is Claude Code's config, not a log)."""
    projects = config.get("projects") if isinstance(config, dict) else None
    out = []
    for entry in projects.values() if isinstance(projects, dict) else ():
        session = entry.get("lastSessionId") if isinstance(entry, dict) else None
        usage = entry.get("lastModelUsage") if isinstance(entry, dict) else None
        if not isinstance(session, str) or not session or not isinstance(usage, dict):
            continue
        for model, figures in usage.items():
            cost = figures.get("costUSD") if isinstance(figures, dict) else None
            try:
                cost = check_cost_usd("costUSD", cost)
            except ValueError:
                continue
            if cost is not None and isinstance(model, str) and model:
                out.append((session, model, cost))
    return out


def _todos(block: dict, ts: float, session: str | None) -> list[Record]:
    """The tickets a ``TodoWrite`` tool use sets; a todo we cannot read makes the line bad."""
    tool_input = block.get("input")
    todos = tool_input.get("todos") if isinstance(tool_input, dict) else None
    if not isinstance(todos, list):
        raise ValueError("TodoWrite input.todos must be a list")
    updates: list[Record] = []
    for todo in todos:
        status = todo.get("status") if isinstance(todo, dict) else None
        if not isinstance(status, str) or status not in _TODO_STATUS:
            raise ValueError(f"TodoWrite todo status is not {' or '.join(_TODO_STATUS)}, got {status!r}")
        todo_id = todo.get("id")
        if not isinstance(todo_id, str) or not todo_id:
            text = str(todo.get("content", ""))
            todo_id = "todo-" + hashlib.blake2b(text.encode(errors="replace"), digest_size=6).hexdigest()
        updates.append(
            TicketUpdate(ts, f"{session or 'claude'}/{todo_id}", _TODO_STATUS[status], session, None, session)
        )
    return updates


SOURCE = ClaudeSource
