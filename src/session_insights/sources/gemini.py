"""``gemini[:DIR]`` — Gemini CLI chat recordings (``<tmp>/<project>/chats/``).

Quirks kept here:
- ``session-<time>-<id8>.jsonl`` is append-only: a metadata line (``sessionId``,
  ``projectHash``, ``kind``...), then records. ``{"$set": {...}}`` patches the metadata,
  ``{"$rewindTo": id}`` drops that message and those after it from the conversation, and
  a message (``{id, timestamp, type, model?, tokens?, toolCalls?}``) is written again in
  full, under its id, each time its tokens or tool calls change: the last copy wins;
- ``tokens`` is the API's usageMetadata renamed (``input`` includes ``cached``;
  ``thoughts`` and ``tool`` come on top), normalised by ``gemini_cli_usage``; a message
  with tokens and no model is a bad line (it cannot be priced), never skipped;
- a rewind or a ``$set`` of ``messages`` takes nothing back: those requests were made
  and billed. ``$set.messages`` repeats messages, normally ones already read on their
  own lines: a copy equal to what was counted is skipped (so it never counts twice, even
  after a restart: the head of a file read before one is replayed); a new one counts;
- a tool call goes through statuses (``scheduled``, ``awaiting_approval``, ``executing``...)
  in successive copies of its message; it counts once, when it first shows a final one:
  ``success`` is ok, ``error`` failed, and ``cancelled`` (declined or interrupted) failed
  too, as Claude Code reports a declined tool use as an error. Recordings carry no tool
  timing (a call's ``timestamp`` is when its result was recorded), so durations are 0;
- a subagent's recording is ``chats/<parent session id>/<session id>.jsonl`` with
  ``kind: "subagent"`` in its metadata: the ``subagent`` tier (``kind`` wins when present);
- legacy ``session-*.json`` files hold one JSON object (``{sessionId, ..., messages}``)
  rewritten in full at every change: read whole whenever their size, time or identity
  changes. Their read position is the number of messages read, so after a restart only
  messages past it count (a legacy session Gemini CLI rewound while we were stopped may
  lose the requests recorded over the rewound ones).

Across files, a message or tool call counts once by its session and id: resuming a
legacy session copies it, message by message, into a ``.jsonl`` beside it under the same
session id. Ids are unique within a session only (a caller may give its own, such as
"m2"), so two sessions' messages of one id are two requests.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import orjson

from ..events import ToolCall, UsageEvent, check_name, iso_ts, usage_event
from ..history import REWRITE_MARK, TokenHistory
from ..normalize import gemini_cli_usage
from .base import BAD_LINE, LineSource, Memory, Record, bad_reason
from .tail import head_digest

MAIN_TIER = "main agent"
SUBAGENT_TIER = "subagent"
_KIND_TIER = {"main": MAIN_TIER, "subagent": SUBAGENT_TIER}
_FINAL_STATUS_OK = {"success": True, "error": False, "cancelled": False}
# Messages (id -> what was counted) and tool calls remembered across files, so copies of
# them count once. Only recent messages are rewritten, so an old id may be forgotten.
_MAX_REMEMBERED = 20_000


def default_roots() -> list[Path]:
    """Where Gemini CLI keeps its chats: the ``tmp`` folder of ``$GEMINI_CLI_HOME/.gemini``
    (Gemini CLI's own home override) and of ``~/.gemini``."""
    roots = []
    home = os.environ.get("GEMINI_CLI_HOME", "").strip()
    if home:
        roots.append(Path(home).expanduser() / ".gemini" / "tmp")
    roots.append(Path("~/.gemini/tmp").expanduser())
    return roots


def parse_ts(value: object) -> float:
    """A message's ``timestamp``: ISO 8601, from 2000 to 2100 (``events.iso_ts``)."""
    return iso_ts(value, "timestamp")


def is_recording(path: Path) -> bool:
    """A main session (``session-*.jsonl`` or legacy ``session-*.json``) or a subagent's
    ``.jsonl`` in a folder directly under ``chats``."""
    name = path.name
    if name.endswith(".jsonl"):
        return name.startswith("session-") or path.parent.parent.name == "chats"
    return name.endswith(".json") and name.startswith("session-")


class _Chat:
    """What a recording's metadata says about the messages after it."""

    __slots__ = ("path", "session", "tier")

    def __init__(self, path: str):
        p = Path(path)
        nested = p.parent.parent.name == "chats" and not p.name.startswith("session-")
        self.path = path
        self.session: str | None = None
        self.tier = SUBAGENT_TIER if nested else MAIN_TIER

    @property
    def scope(self) -> str:
        """What message and tool call ids are unique within: the session (a file that
        names none, its path)."""
        return f"session:{self.session}" if self.session else f"file:{self.path}"

    def update(self, meta: dict) -> None:
        session = meta.get("sessionId")
        if isinstance(session, str) and session.strip():
            self.session = session.strip()
        tier = _KIND_TIER.get(meta.get("kind"))
        if tier is not None:
            self.tier = tier


class GeminiSource(LineSource):
    kind = "gemini"
    logs_name = "Gemini CLI chats"
    default_roots = staticmethod(default_roots)
    pattern = "*.json*"

    def __init__(self, path: str | os.PathLike | list[Path] | None, history: TokenHistory):
        super().__init__(path, history)
        self._chats: dict[str, _Chat] = {}
        self._counted = Memory(_MAX_REMEMBERED)  # request key -> hash of its counted UsageEvent
        self._done_calls = Memory(_MAX_REMEMBERED)  # (scope, tool call id) counted
        self._legacy_bad: dict[str, int] = {}  # file -> bad messages already counted

    # --- files ---------------------------------------------------------------------

    wanted = staticmethod(is_recording)  # chat recordings only, not logs or checkpoints

    def poll(self, max_bytes_per_file: int | None = None) -> int:
        """Read legacy files that changed, then what was appended to the ``.jsonl`` ones."""
        found = self.list_files()
        if found is None:
            return 0
        # Legacy files first: a .jsonl copied from one then finds its messages counted.
        queued = sum(self._poll_legacy(p) for p in found if p.suffix == ".json")
        return queued + self.tail_files([p for p in found if p.suffix != ".json"], max_bytes_per_file)

    # --- .jsonl lines --------------------------------------------------------------

    def resume(self, file: str, head: Iterable[bytes]) -> None:
        """Replay lines read before a restart: the session id, and what was counted."""
        self._chats.setdefault(file, _Chat(file))
        for line in head:
            try:
                self._line(line, file, replaying=True)  # records dropped: they were counted before
            except BAD_LINE:
                pass  # counted as bad when first read

    def parse(self, line: bytes, file: str) -> Iterable[Record]:
        return self._line(line, file)

    def _line(self, line: bytes, file: str, replaying: bool = False) -> list[Record]:
        # Most lines are user text, `$set` of lastUpdated or rewinds: nothing to count. The
        # metadata line (where `kind` is) always names the session.
        if b'"tokens"' not in line and b'"toolCalls"' not in line and b'"sessionId"' not in line:
            return []
        obj = orjson.loads(line)
        if not isinstance(obj, dict):
            raise TypeError("a chat recording line must be a JSON object")
        chat = self._chats.get(file)
        if chat is None:
            chat = self._chats[file] = _Chat(file)
        if "$rewindTo" in obj:
            return []
        if "$set" in obj:
            patch = obj["$set"]
            if not isinstance(patch, dict):
                raise TypeError("set patch must be an object")
            messages = patch.get("messages")
            if messages is not None and not isinstance(messages, list):
                raise ValueError(f"set patch messages must be a list, got {type(messages).__name__}")
            chat.update(patch)
            records, errors = self._messages(messages or [], chat)
            if errors and not replaying:
                # One bad message makes the line bad; its other messages still count.
                self.history.note_bad_line(file, 1, bad_reason(errors[0]), source=self.kind)
            return records
        if "id" in obj or "tokens" in obj or "toolCalls" in obj:
            return self._message(obj, chat)
        chat.update(obj)  # the metadata line
        return []

    # --- messages ------------------------------------------------------------------

    def _messages(self, messages: list, chat: _Chat) -> tuple[list[Record], list[Exception]]:
        """Records of a list of messages, and the errors of those that could not be read."""
        out: list[Record] = []
        errors: list[Exception] = []
        for message in messages:
            try:
                if not isinstance(message, dict):
                    raise TypeError("a message must be an object")
                out.extend(self._message(message, chat))
            except BAD_LINE as exc:
                errors.append(exc)
        return out, errors

    def _message(self, msg: dict, chat: _Chat) -> list[Record]:
        """The request and finished tool calls of one copy of a message, those not counted
        yet. Checks everything before remembering anything, so a bad copy changes nothing."""
        msg_id = msg.get("id")
        if not isinstance(msg_id, str):
            raise TypeError("a message needs a string id")
        tokens, calls = msg.get("tokens"), msg.get("toolCalls")
        if tokens is not None and not isinstance(tokens, dict):
            raise ValueError(f"tokens must be an object, got {type(tokens).__name__}")
        if calls is not None and not isinstance(calls, list):
            raise ValueError(f"toolCalls must be a list, got {type(calls).__name__}")
        if tokens is None and not calls:
            return []
        ts = parse_ts(msg.get("timestamp"))
        event: UsageEvent | None = None
        if tokens is not None:
            # Tokens without a model cannot be priced or told apart: a bad line, not a silent skip.
            model = check_name("model of a message with tokens", msg.get("model"))
            called = [c.get("name") for c in calls if isinstance(c, dict)] if calls else []
            event = usage_event(
                model=model,
                ts=ts,
                tier=chat.tier,
                session=chat.session,
                provider="google",
                source="gemini",
                request_key=f"{REWRITE_MARK}gemini:{chat.scope}:{msg_id}",
                tools=[n for n in called if isinstance(n, str) and n.strip()] or None,
                **gemini_cli_usage(tokens),
            )
        finished = [_finished_call(call, ts, chat) for call in calls or ()]
        out: list[Record] = []
        if event is not None:
            signature = hash(event)
            if self._counted.get(event.request_key) != signature:
                self._counted.remember(event.request_key, signature)
                out.append(event)
        for call_id, record in filter(None, finished):
            if (chat.scope, call_id) not in self._done_calls:
                self._done_calls.remember((chat.scope, call_id))
                out.append(record)
        return out

    # --- legacy .json files -----------------------------------------------------------

    def _poll_legacy(self, path: Path) -> int:
        key = str(path)
        read = self.read_whole(path, _legacy_chat)
        if read is None:  # unchanged, unreadable, or caught mid-rewrite
            return 0
        obj, st = read.content, read.stat
        chat = self._chats.get(key)
        if chat is None:
            chat = self._chats[key] = _Chat(key)
        chat.update(obj)
        messages = obj["messages"]
        read_before = self._read_before_restart(key, st, messages) if read.first else 0
        self._messages(messages[:read_before], chat)  # remembered, not counted again
        records, errors = self._messages(messages[read_before:], chat)
        noted = self._legacy_bad.get(key, 0)
        if len(errors) > noted:
            for exc in errors[noted:]:  # the messages past those counted bad before
                self.history.note_bad_line(key, 1, bad_reason(exc), source=self.kind)
            self._legacy_bad[key] = len(errors)
        self.history.add_read(
            key,
            list(records),
            {
                "offset": len(messages),
                "inode": st.st_ino,
                "device": st.st_dev,
                "head_len": len(messages),
                "head": _ids_digest(messages),
            },
        )
        return len(records)

    def _read_before_restart(self, key: str, st: os.stat_result, messages: list) -> int:
        """How many of a legacy file's messages were read before a restart (and counted
        then): the saved count if the file is the one read, or a copy renamed over it (a
        sync tool, an editor) whose first messages have the ids of those read."""
        saved = self.history.offset_for(key) or {}
        count = min(int(saved.get("offset", 0)), len(messages))
        if (saved.get("inode"), saved.get("device")) == (st.st_ino, st.st_dev):
            return count
        if count and saved.get("head_len") == count and saved.get("head") == _ids_digest(messages[:count]):
            return count
        return 0


def _finished_call(call: object, ts: float, chat: _Chat) -> tuple[str, ToolCall] | None:
    """(id, tool call) of a call in its final status; None while it is still running."""
    if not isinstance(call, dict):
        raise ValueError(f"tool call must be an object, got {type(call).__name__}")
    status = call.get("status")
    if not isinstance(status, str):
        raise ValueError(f"tool call status must be a string, got {status!r}")
    if status not in _FINAL_STATUS_OK:
        return None  # scheduled, awaiting approval, executing...
    call_id, name = call.get("id"), check_name("tool call name", call.get("name"))
    if not isinstance(call_id, str):
        raise ValueError(f"tool call id must be a string, got {call_id!r}")
    try:
        call_ts = parse_ts(call.get("timestamp"))
    except ValueError:
        call_ts = ts  # when its result was recorded; the message's time is near enough
    return call_id, ToolCall(call_ts, name, 0.0, _FINAL_STATUS_OK[status], chat.session)


def _ids_digest(messages: list) -> int:
    """A digest of the ids of ``messages``, in order: what a legacy file's position keeps
    as its ``head`` (its offset is a count of messages, not bytes)."""
    ids = [m.get("id") if isinstance(m, dict) else None for m in messages]
    return head_digest(orjson.dumps(ids))


def _legacy_chat(data: bytes) -> dict:
    obj = orjson.loads(data)
    if not isinstance(obj, dict) or not isinstance(obj.get("messages"), list):
        raise TypeError("a legacy chat file must be an object with a messages list")
    return obj


SOURCE = GeminiSource
