"""A synthetic Claude Code corpus of real density, with its exact expected totals.

The writer keeps, on its own, the de-duplicated totals of what it wrote (one request per
message.id + requestId, counted at its largest intact copy), so a reader can be checked
against them. What real transcripts hold and this writes too:
- a response written once per content block: 1-4 lines sharing message.id + requestId,
  output_tokens growing to the final count (usage on every copy);
- tool results kept twice (message.content and toolUseResult), heavy-tailed in size;
- subagents: sidechain transcripts under the parent's session id, in
  <session>/subagents/agent-<id>.jsonl (+ .meta.json) from 2.1.2 on, beside the session
  files before; a 2.1 Agent tool's result carries the subagent's usage (not a request);
- `<synthetic>` assistant lines with zero usage; some lines cut short (a crash mid-write);
- resumed sessions that start with a copy of an earlier conversation, so requests repeat
  across files, far apart in the corpus;
- the 2.1 envelope as the CLI writes it (promptId, entrypoint, attachments, turn_duration,
  last-prompt; the usage block's server_tool_use, inference_geo, iterations, speed),
  checked against tests/fixtures/claude/, written by the real CLI.
Density at 700 MB: ~190 sessions, ~700k lines, ~340k usage lines for ~220k requests (past
200k, so de-duplication has to hold more keys than that). A usage line comes every ~2.1 KB,
not ~1.4 KB: with the real 2.1 envelope an assistant line is ~1.1 KB and a tool result
line ~1 KB on their own, so ~705k lines and ~300k requests in 717 MB leave no room for
one usage line per 1.4 KB; the corpus keeps the line count and sessions, and most of the
requests.
"""

from __future__ import annotations

import math
import os
import random
import shutil
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path

import orjson
from claude_text import TOOLS, TextPool, lognormal_int, pick, token_id, tool_input, tool_output

CORPUS_FORMAT = 4  # bump when the writer changes, so an old corpus is not reused
EXPECTED_FILE = "corpus-expected.json"
MB = 1_000_000

T_START = 1_758_844_800.0  # 2025-09-26T00:00:00Z: sessions spread over the next 60 days
SPAN_DAYS = 60
DAY_S = 86_400.0
NEW_LAYOUT_FROM = T_START + 30 * DAY_S  # Claude Code 2.1.2+: subagents under <session>/subagents/

SONNET, OPUS, HAIKU = "claude-sonnet-4-5-20250929", "claude-opus-4-1-20250805", "claude-haiku-4-5-20251001"
MAIN_MODELS = ((SONNET, 0.62), (OPUS, 0.26), (HAIKU, 0.12))
SUBAGENT_MODELS = ((HAIKU, 0.5), (SONNET, 0.4), (OPUS, 0.1))
MAIN_TIER, SUBAGENT_TIER = "main agent", "subagent"  # the tiers the reader labels turns with
SYSTEM_PROMPT_TOKENS = 17_500  # Claude Code's system prompt and tool definitions
COMPACT_AT_TOKENS = 155_000  # auto-compact keeps every prompt under the 200k-token price tier
CHARS_PER_TOKEN = 3.7
SESSION_MEDIAN_BYTES, SESSION_SIGMA = 1_300_000, 1.2  # a main transcript, before its subagents
SUBAGENT_MEDIAN_BYTES = 90_000
RESUME_P = 0.12  # a session that starts with a copy of an earlier one of its project
SKILL_LISTING_CHARS = 4_453  # the CLI's skill_listing attachment, first prompt of a transcript

PROJECTS = [
    "webshop",
    "billing-service",
    "infra",
    "ml-pipeline",
    "mobile-app",
    "docs-site",
    "data-tools",
    "auth-gateway",
    "search",
    "cli-tools",
    "firmware",
    "analytics",
    "design-system",
    "etl-jobs",
]
BRANCHES = ("main", "main", "main", "feature/retry-queue", "fix/flaky-tests", "refactor/storage", "dev")
STATS = [
    "files",
    "sessions",
    "subagents",
    "resumed_sessions",
    "lines",
    "broken_lines",
    "broken_lines_with_usage_or_result",
    "usage_lines",
    "synthetic_lines",
    "tool_results",
]


def iso(ts: float) -> str:
    """Claude Code's timestamp shape: UTC, milliseconds, 'Z'."""
    whole = int(ts)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{int((ts - whole) * 1000):03d}Z"


class Expected:
    """De-duplicated totals computed from the lines as written: one request per
    message.id + requestId, counted at its largest intact copy; synthetic lines and
    cut-short lines count nothing."""

    FIGURES = (
        "requests",
        "input_tokens",
        "output_tokens",
        "cache_read_tokens",
        "cache_write_tokens",
        "cache_write_1h_tokens",
    )

    def __init__(self):
        self.requests: dict[str, tuple] = {}  # key -> (total, model, tier, counts)

    def add(self, obj: dict) -> None:
        message = obj["message"]
        if message["model"] == "<synthetic>":
            return
        usage = message["usage"]
        split = usage["cache_creation"]
        counts = (
            usage["input_tokens"],
            usage["output_tokens"],
            usage["cache_read_input_tokens"],
            split["ephemeral_5m_input_tokens"],
            split["ephemeral_1h_input_tokens"],
        )
        key = f"{message['id']}:{obj['requestId']}"
        old = self.requests.get(key)
        total = sum(counts)
        if old is None or total > old[0]:
            self.requests[key] = (total, message["model"], SUBAGENT_TIER if obj["isSidechain"] else MAIN_TIER, counts)

    def result(self) -> dict:
        totals, by_model, by_tier = dict.fromkeys(self.FIGURES, 0), {}, {}
        for _, model, tier, (inp, out, cr, cw5, cw1h) in self.requests.values():
            for row in (
                totals,
                by_model.setdefault(model, dict.fromkeys(self.FIGURES, 0)),
                by_tier.setdefault(tier, dict.fromkeys(self.FIGURES, 0)),
            ):
                row["requests"] += 1
                row["input_tokens"] += inp
                row["output_tokens"] += out
                row["cache_read_tokens"] += cr
                row["cache_write_tokens"] += cw5 + cw1h
                row["cache_write_1h_tokens"] += cw1h
        return {"totals": totals, "by_model": by_model, "by_tier": by_tier}


class Transcript:
    """One JSONL file being written: its envelope, clock and prompt-cache state."""

    def __init__(self, writer: CorpusWriter, path: Path, session_id: str, ts: float, model: str, **kw):
        self.w, self.rng, self.path = writer, writer.rng, path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.fh = open(path, "wb", buffering=1 << 20)  # noqa: SIM115 - written across many calls; see close()
        self.session_id, self.ts, self.model = session_id, ts, model
        self.agent_id: str | None = kw.get("agent_id")
        self.agent_type: str | None = kw.get("agent_type")
        self.cwd, self.version, self.branch = kw["cwd"], kw["version"], kw["branch"]
        self.cache_1h: bool = kw["cache_1h"]
        self.current = not self.version.startswith("2.0.")  # 2.1's envelope (as the fixtures)
        self.bytes = 0
        self.parent: str | None = None
        self.prompt_id: str | None = None
        self.cached_tokens = 0  # prompt prefix in the provider's cache
        self.pending_tokens = 0  # context added since the last request (results, last answer)
        self.last_request_ts = ts
        self.todos: list[list[str]] = []
        # Some files get a few lines cut short (a crash mid-write).
        self.breaks_left = self.rng.randrange(1, 4) if self.rng.random() < 0.15 else 0
        writer.stats["files"] += 1

    def close(self) -> None:
        self.fh.close()
        # Modified when its last line was written, as a real transcript: the window reads
        # files idle for 10 minutes as its backlog (in processes) and tails the others.
        os.utime(self.path, (self.ts, self.ts))

    def head(self) -> dict:
        line = {"parentUuid": self.parent, "isSidechain": self.agent_id is not None}
        if not self.current:  # 2.0 put the session's fields first
            line.update(self._session_fields())
        return line

    def tail(self, line: dict) -> dict:
        if self.current:
            line.update(self._session_fields())
        return line

    def _session_fields(self) -> dict:
        fields = {"userType": "external"}
        if self.current:
            fields["entrypoint"] = "cli"
        fields.update({"cwd": self.cwd, "sessionId": self.session_id, "version": self.version})
        fields["gitBranch"] = self.branch
        return fields

    def user(self, content: object, ts: float, extra: dict | None = None) -> dict:
        line = self.head()
        if self.current and self.prompt_id:
            line["promptId"] = self.prompt_id
        if self.agent_id is not None:
            line["agentId"] = self.agent_id
        line.update({"type": "user", "message": {"role": "user", "content": content}})
        line.update({"uuid": self.w.uuid(), "timestamp": iso(ts)})
        line.update(extra or {})
        return self.tail(line)

    def emit(self, obj: dict, *, link: bool = True) -> None:
        line = orjson.dumps(obj)
        stats = self.w.stats
        if self.breaks_left and self.rng.random() < 0.004:
            line = line[: self.rng.randrange(max(1, len(line) // 4), len(line) - 1)]
            self.breaks_left -= 1
            stats["broken_lines"] += 1
            if b'"usage"' in line or b'"tool_result"' in line:
                stats["broken_lines_with_usage_or_result"] += 1
        elif obj.get("type") == "assistant":
            self.w.expected.add(obj)
        self.fh.write(line)
        self.fh.write(b"\n")
        self.bytes += len(line) + 1
        stats["lines"] += 1
        if obj.get("type") == "assistant":
            stats["usage_lines"] += 1
        if link and "uuid" in obj:
            self.parent = obj["uuid"]

    def tick(self, lo_s: float, hi_s: float) -> float:
        self.ts += self.rng.uniform(lo_s, hi_s)
        return self.ts


class CorpusWriter:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.pool = TextPool(self.rng)
        self.expected = Expected()
        self.stats = dict.fromkeys(STATS, 0)
        self.total_bytes = 0

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def write(self, projects_dir: Path, size_bytes: int) -> None:
        rng = self.rng
        n_projects = max(3, min(len(PROJECTS), round(size_bytes / (60 * MB)) + 3))
        names = PROJECTS[:n_projects]
        weights = tuple((name, 1 / (i + 1)) for i, name in enumerate(names))
        norm = sum(w for _, w in weights)
        weights = tuple((name, w / norm) for name, w in weights)
        finished: dict[str, list[Path]] = {name: [] for name in names}  # main transcripts, to resume from
        session_cap = max(50_000, min(40 * MB, size_bytes // 6))
        while self.total_bytes < size_bytes:
            name = pick(rng, weights)
            target = lognormal_int(rng, SESSION_MEDIAN_BYTES, SESSION_SIGMA, 3_000, session_cap)
            target = min(target, max(3_000, size_bytes - self.total_bytes))
            resume_from = None
            if finished[name] and rng.random() < RESUME_P:
                resume_from = rng.choice(finished[name])
                if resume_from.stat().st_size > min(8 * MB, session_cap):
                    resume_from = None
            finished[name].append(self.session(projects_dir / f"-home-dev-src-{name}", name, target, resume_from))

    def session(self, project_dir: Path, name: str, target_bytes: int, resume_from: Path | None) -> Path:
        rng = self.rng
        session_id = self.uuid()
        start = T_START + rng.uniform(0, SPAN_DAYS) * DAY_S
        version = f"2.1.{rng.randrange(3, 200)}" if start >= NEW_LAYOUT_FROM else f"2.0.{rng.randrange(40, 77)}"
        tr = Transcript(
            self,
            project_dir / f"{session_id}.jsonl",
            session_id,
            start,
            pick(rng, MAIN_MODELS),
            cwd=f"/home/dev/src/{name}",
            version=version,
            branch=rng.choice(BRANCHES),
            cache_1h=rng.random() < 0.2,
        )
        self.stats["sessions"] += 1
        if tr.current:
            tr.emit({"type": "mode", "mode": "normal", "sessionId": session_id}, link=False)
            tr.emit({"type": "permission-mode", "permissionMode": "default", "sessionId": session_id}, link=False)
        if resume_from is not None:
            self.copy_conversation(tr, resume_from)
        elif rng.random() < 0.3:
            summary = self.pool.cut(rng, self.pool.prose, rng.randrange(30, 90))
            tr.emit({"type": "summary", "summary": summary, "leafUuid": self.uuid()}, link=False)
        self.conversation(tr, target_bytes, project_dir)
        tr.close()
        self.total_bytes += tr.bytes
        return tr.path

    def copy_conversation(self, tr: Transcript, earlier: Path) -> None:
        """A resumed or backgrounded session starts with a copy of the conversation so far,
        under its own session id: the same requests appear in two files."""
        self.stats["resumed_sessions"] += 1
        for raw in earlier.read_bytes().splitlines():
            try:
                obj = orjson.loads(raw)
            except orjson.JSONDecodeError:
                continue  # a line cut short stays lost
            if obj.get("type") in ("mode", "permission-mode", "last-prompt"):
                continue
            if "sessionId" in obj:
                obj["sessionId"] = tr.session_id
            tr.emit(obj)
            if obj.get("timestamp"):
                tr.ts = max(tr.ts, datetime.fromisoformat(obj["timestamp"]).timestamp())
        tr.ts += self.rng.uniform(600, 3 * DAY_S)  # resumed later
        tr.cached_tokens = 0  # the cache has expired by then

    def conversation(self, tr: Transcript, target_bytes: int, project_dir: Path | None) -> None:
        """Turns until the file reaches ``target_bytes``: a prompt, then an agentic loop of
        requests and tool results. ``project_dir`` is None for a subagent (no nesting)."""
        rng = self.rng
        first = True
        while tr.bytes < target_bytes:
            # Mostly a minute or two between prompts; sometimes long enough for the cache to expire.
            prompt_ts = tr.ts if first else tr.tick(0, rng.lognormvariate(math.log(90), 1.2))
            self.prompt(tr, prompt_ts, first)
            first = False
            turn_start = tr.ts
            for _ in range(lognormal_int(rng, 7, 0.9, 1, 80)):
                tool_uses, assistant_uuid = self.request(tr)
                if not tool_uses:
                    break
                for block in tool_uses:
                    self.tool_result(tr, block, assistant_uuid, project_dir)
                if tr.bytes >= target_bytes:
                    break
            if rng.random() < 0.025:
                self.synthetic(tr)
            if tr.current and tr.agent_id is None:
                self.turn_duration(tr, turn_start)
        if tr.current and tr.agent_id is None:
            tr.emit(
                {"type": "last-prompt", "lastPrompt": "...", "leafUuid": tr.parent, "sessionId": tr.session_id},
                link=False,
            )

    def prompt(self, tr: Transcript, ts: float, first: bool) -> None:
        rng, pool = self.rng, self.pool
        text = pool.cut(rng, pool.prose, lognormal_int(rng, 120 if tr.agent_id is None else 300, 1.0, 20, 12_000))
        tr.prompt_id = self.uuid()
        extra: dict = {}
        if tr.agent_id is None:
            if tr.current:
                extra = {"permissionMode": "default", "origin": {"kind": "human"}, "promptSource": "typed"}
            else:
                extra = {"thinkingMetadata": {"level": "high", "disabled": False, "triggers": []}, "todos": []}
        user = tr.user(text, ts, extra)
        if tr.agent_id is None:
            self.snapshot(tr, user["uuid"], ts)
        tr.emit(user)
        if first and tr.current:
            self.attachments(tr, ts)
        tr.pending_tokens += int(len(text) / CHARS_PER_TOKEN)

    def attachments(self, tr: Transcript, ts: float) -> None:
        """What 2.1 adds after a transcript's first prompt (the agents and skills it offers)."""
        listing = {
            "type": "skill_listing",
            "content": self.pool.cut(self.rng, self.pool.prose, SKILL_LISTING_CHARS),
            "skillCount": 13,
            "isInitial": True,
            "names": ["deep-research"],
        }
        agents = {
            "type": "agent_listing_delta",
            "addedTypes": ["claude"],
            "addedLines": [self.pool.cut(self.rng, self.pool.prose, 132)],
            "removedTypes": [],
            "isInitial": True,
            "showConcurrencyNote": True,
        }
        for attachment in ([agents] if tr.agent_id is None else []) + [listing]:
            line = tr.head()
            if tr.agent_id is not None:
                line["agentId"] = tr.agent_id
            line.update({"attachment": attachment, "type": "attachment", "uuid": self.uuid(), "timestamp": iso(ts)})
            tr.emit(tr.tail(line))

    def turn_duration(self, tr: Transcript, turn_start: float) -> None:
        line = tr.head()
        line.update(
            {
                "type": "system",
                "subtype": "turn_duration",
                "durationMs": int((tr.ts - turn_start) * 1000),
                "messageCount": self.rng.randrange(2, 40),
                "timestamp": iso(tr.tick(0.001, 0.01)),
                "uuid": self.uuid(),
                "isMeta": False,
            }
        )
        tr.emit(tr.tail(line))

    def snapshot(self, tr: Transcript, message_id: str, ts: float) -> None:
        rng = self.rng
        backups = {
            f"src/{rng.getrandbits(24):06x}.py": {
                "backupFileName": f"{rng.getrandbits(64):016x}@v{rng.randrange(1, 9)}",
                "version": rng.randrange(1, 9),
                "backupTime": iso(ts - rng.uniform(0, 3_600)),
            }
            for _ in range(rng.randrange(0, 6))
        }
        tr.emit(
            {
                "type": "file-history-snapshot",
                "messageId": message_id,
                "snapshot": {"messageId": message_id, "trackedFileBackups": backups, "timestamp": iso(ts)},
                "isSnapshotUpdate": False,
            },
            link=False,
        )

    def synthetic(self, tr: Transcript) -> None:
        """Claude Code's own assistant message (an API error, 'No response requested.')."""
        self.stats["synthetic_lines"] += 1
        message = {
            "id": self.uuid(),
            "container": None,
            "model": "<synthetic>",
            "role": "assistant",
            "stop_reason": "stop_sequence",
            "stop_sequence": "",
            "type": "message",
            "usage": {
                "input_tokens": 0,
                "output_tokens": 0,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
                "server_tool_use": {"web_search_requests": 0},
                "service_tier": None,
                "cache_creation": {"ephemeral_1h_input_tokens": 0, "ephemeral_5m_input_tokens": 0},
            },
            "content": [{"type": "text", "text": "No response requested."}],
        }
        line = tr.head()
        line.update({"message": message, "type": "assistant", "uuid": self.uuid()})
        line.update({"timestamp": iso(tr.tick(0.01, 0.2)), "isApiErrorMessage": False})
        tr.emit(tr.tail(line))

    # --- one model request --------------------------------------------------------

    def cache_split(self, tr: Transcript, start_ts: float) -> tuple[int, int]:
        """(cache read, cache write) of the next request: read the cached prefix, write what
        was added since the last request; a cache that expired while idle is written again
        from the top."""
        ttl_s = 3_600 if tr.cache_1h else 300
        if start_ts - tr.last_request_ts > ttl_s and tr.cached_tokens:
            tr.pending_tokens += tr.cached_tokens - SYSTEM_PROMPT_TOKENS
            tr.cached_tokens = SYSTEM_PROMPT_TOKENS
        if tr.cached_tokens + tr.pending_tokens > COMPACT_AT_TOKENS:
            self.compact(tr)
        if tr.cached_tokens == 0:
            cache_read, cache_write = 0, SYSTEM_PROMPT_TOKENS + tr.pending_tokens
        else:
            cache_read, cache_write = tr.cached_tokens, tr.pending_tokens
        tr.cached_tokens = cache_read + cache_write
        tr.pending_tokens = 0
        tr.last_request_ts = start_ts
        return cache_read, cache_write

    def blocks(self, tr: Transcript) -> list[dict]:
        """A response's content blocks (1-4): thinking, text, tool calls."""
        rng, pool = self.rng, self.pool
        blocks: list[dict] = []
        if tr.model != HAIKU and rng.random() < 0.2:
            blocks.append(
                {
                    "type": "thinking",
                    "thinking": pool.cut(rng, pool.prose, lognormal_int(rng, 100, 1.0, 20, 12_000)),
                    "signature": token_id(rng, "Eu", lognormal_int(rng, 160, 0.5, 80, 4_000)),
                }
            )
        final = rng.random() < 0.14
        if final or rng.random() < 0.1:
            size = lognormal_int(rng, 400 if final else 60, 1.0, 10, 9_000)
            blocks.append({"type": "text", "text": pool.cut(rng, pool.prose, size)})
        if not final:  # one tool call, sometimes a few in parallel; at most 4 blocks in all
            n_tools = min(4 - len(blocks), 1 if rng.random() < 0.85 else rng.randrange(2, 4))
            blocks.extend(self.tool_use(tr) for _ in range(n_tools))
        return blocks

    def request(self, tr: Transcript) -> tuple[list[dict], str | None]:
        """One API call written as one streamed copy per content block, all with the same
        message.id + requestId and output_tokens growing to the final count. Returns its
        tool_use blocks and the uuid of its last line."""
        rng = self.rng
        start_ts = tr.tick(1.5, 12)
        cache_read, cache_write = self.cache_split(tr, start_ts)
        input_tokens = rng.randrange(1, 12) if rng.random() < 0.9 else rng.randrange(12, 900)
        blocks = self.blocks(tr)
        tool_uses = [b for b in blocks if b["type"] == "tool_use"]
        output = sum(len(orjson.dumps(b)) for b in blocks) // 4 + rng.randrange(5, 60)
        outputs = sorted(rng.sample(range(1, output), len(blocks) - 1)) + [output]
        msg_id, request_id = token_id(rng, "msg_01"), token_id(rng, "req_011C", 20)
        split_1h = cache_write if tr.cache_1h else 0
        ts = start_ts
        for i, (block, out) in enumerate(zip(blocks, outputs, strict=True)):
            usage = {
                "input_tokens": input_tokens,
                "cache_creation_input_tokens": cache_write,
                "cache_read_input_tokens": cache_read,
            }
            cache_creation = {
                "ephemeral_1h_input_tokens": split_1h,
                "ephemeral_5m_input_tokens": cache_write - split_1h,
            }
            if tr.current:  # 2.1.197's block, as in the fixtures
                usage.update(
                    {"output_tokens": out, "server_tool_use": {"web_search_requests": 0, "web_fetch_requests": 0}}
                )
                usage.update({"service_tier": "standard", "cache_creation": cache_creation})
                usage.update({"inference_geo": "", "iterations": [], "speed": "standard"})
            else:
                usage.update({"cache_creation": cache_creation, "output_tokens": out, "service_tier": "standard"})
            stop = ("tool_use" if tool_uses else "end_turn") if i == len(blocks) - 1 else None
            if tr.current:
                message = {"id": msg_id, "type": "message", "role": "assistant", "model": tr.model}
            else:
                message = {"model": tr.model, "id": msg_id, "type": "message", "role": "assistant"}
            message.update({"content": [block], "stop_reason": stop, "stop_sequence": None, "usage": usage})
            if tr.current:
                message["stop_details"] = None
            line = tr.head()
            if tr.agent_id is not None:
                line["agentId"] = tr.agent_id
            line.update({"message": message, "requestId": request_id})
            if tr.agent_type is not None and tr.current:
                line["attributionAgent"] = tr.agent_type
            line.update({"type": "assistant", "uuid": self.uuid(), "timestamp": iso(ts)})
            tr.emit(tr.tail(line))
            ts = tr.tick(0.05, 4.0)
        tr.pending_tokens += output
        return tool_uses, tr.parent

    def compact(self, tr: Transcript) -> None:
        """Auto-compact: a boundary, a summary prompt, and a fresh (smaller) context."""
        line = tr.head()
        line.update(
            {
                "type": "system",
                "subtype": "compact_boundary",
                "content": "Conversation compacted",
                "isMeta": False,
                "timestamp": iso(tr.tick(1, 5)),
                "uuid": self.uuid(),
                "level": "info",
                "compactMetadata": {"trigger": "auto", "preTokens": tr.cached_tokens + tr.pending_tokens},
            }
        )
        tr.emit(tr.tail(line))
        summary = self.pool.cut(self.rng, self.pool.prose, self.rng.randrange(4_000, 16_000))
        tr.emit(tr.user(summary, tr.tick(1, 5), {"isCompactSummary": True}))
        tr.cached_tokens = 0
        tr.pending_tokens = int(len(summary) / CHARS_PER_TOKEN)

    # --- tools -------------------------------------------------------------------------

    def tool_use(self, tr: Transcript) -> dict:
        name = pick(self.rng, TOOLS)
        if name == "Task" and tr.agent_id is not None:
            name = "Read"  # subagents do not spawn subagents
        todos = self.advance_todos(tr) if name == "TodoWrite" else []
        given = tool_input(self.rng, self.pool, name, tr.cwd, todos)
        if name == "Task" and tr.current:
            name = "Agent"  # 2.1 renamed the tool
        return {"type": "tool_use", "id": token_id(self.rng, "toolu_01"), "name": name, "input": given}

    def advance_todos(self, tr: Transcript) -> list[dict]:
        rng = self.rng
        if not tr.todos or all(status == "completed" for _, status in tr.todos):
            tr.todos = [
                [self.pool.cut(rng, self.pool.prose, rng.randrange(20, 70)), "pending"]
                for _ in range(rng.randrange(2, 8))
            ]
        for todo in tr.todos:
            if todo[1] == "in_progress":
                todo[1] = "completed"
                break
        for todo in tr.todos:
            if todo[1] == "pending":
                todo[1] = "in_progress"
                break
        return [{"content": text, "status": status, "activeForm": text} for text, status in tr.todos]

    def tool_result(self, tr: Transcript, tool_use: dict, assistant_uuid: str | None, project_dir: Path | None) -> None:
        """The user line answering a tool_use: its output in message.content and, again,
        structured in toolUseResult."""
        rng, pool = self.rng, self.pool
        name = tool_use["name"]
        if name in ("Task", "Agent"):
            text, detail = self.subagent(tr, tool_use, project_dir)
        else:
            text, detail, took_s = tool_output(rng, pool, name, tool_use["input"])
            tr.ts += took_s
        ok = rng.random() > 0.05
        if not ok:
            text, detail = f"Error: {pool.cut(rng, pool.shell, rng.randrange(60, 600))}", "Error: tool failed"
        result = {"tool_use_id": tool_use["id"], "type": "tool_result", "content": text, "is_error": not ok}
        extra: dict = {"toolUseResult": detail}
        if tr.current and assistant_uuid is not None:
            extra["sourceToolAssistantUUID"] = assistant_uuid
        tr.emit(tr.user([result], tr.ts, extra))
        self.stats["tool_results"] += 1
        tr.pending_tokens += int(len(text) / CHARS_PER_TOKEN) + 10

    def subagent(self, parent: Transcript, tool_use: dict, project_dir: Path | None) -> tuple[str, object]:
        """A Task (2.1: Agent) tool's subagent: its own transcript, every line a sidechain
        under the parent's session id. Returns the tool's result (text, toolUseResult)."""
        rng, task = self.rng, tool_use["input"]
        agent_id = f"a{rng.getrandbits(68):017x}"
        started = parent.ts
        if parent.ts >= NEW_LAYOUT_FROM:
            folder = project_dir / parent.session_id / "subagents"
            folder.mkdir(parents=True, exist_ok=True)
            meta = {"agentType": task["subagent_type"], "description": task["description"]}
            meta.update({"toolUseId": tool_use["id"], "spawnDepth": 1})
            (folder / f"agent-{agent_id}.meta.json").write_bytes(orjson.dumps(meta))
        else:
            folder = project_dir  # before 2.1.2, beside the session files
        tr = Transcript(
            self,
            folder / f"agent-{agent_id}.jsonl",
            parent.session_id,
            parent.ts,
            pick(rng, SUBAGENT_MODELS),
            agent_id=agent_id,
            agent_type=task["subagent_type"],
            cwd=parent.cwd,
            version=parent.version,
            branch=parent.branch,
            cache_1h=False,
        )
        tr.prompt_id = parent.prompt_id
        self.stats["subagents"] += 1
        self.conversation(tr, lognormal_int(rng, SUBAGENT_MEDIAN_BYTES, 1.0, 4_000, 3 * MB), None)
        tr.close()
        self.total_bytes += tr.bytes
        parent.ts = tr.ts + rng.uniform(0.1, 2)
        text = self.pool.cut(rng, self.pool.prose, lognormal_int(rng, 900, 0.7, 100, 8_000))
        detail = {"status": "completed", "prompt": task["prompt"], "agentId": agent_id}
        detail.update({"agentType": task["subagent_type"], "content": [{"type": "text", "text": text}]})
        if parent.current:
            detail["resolvedModel"] = tr.model
        detail.update(
            {"totalDurationMs": int((parent.ts - started) * 1000), "totalTokens": rng.randrange(5_000, 90_000)}
        )
        detail["totalToolUseCount"] = rng.randrange(1, 30)
        if parent.current:  # the subagent's last usage, again: not a request of its own
            detail["usage"] = {
                "input_tokens": rng.randrange(1, 900),
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": rng.randrange(1_000, 60_000),
                "output_tokens": rng.randrange(10, 900),
                "service_tier": "standard",
            }
        return text, detail


# --- corpus on disk ---------------------------------------------------------------------


def corpus_files(projects: Path) -> list[Path]:
    return sorted(p for p in projects.rglob("*.jsonl") if p.is_file())


def ensure_corpus(folder: Path, size_mb: float, seed: int, log=print) -> dict:
    """The corpus in ``folder``: reused when written before with the same format, size and
    seed."""
    marker = folder / EXPECTED_FILE
    if marker.exists():
        meta = orjson.loads(marker.read_bytes())
        if (meta.get("format"), meta.get("size_mb"), meta.get("seed")) == (CORPUS_FORMAT, size_mb, seed):
            log(f"corpus           reusing {folder} ({meta['corpus_bytes'] / MB:,.1f} MB, seed {seed})")
            return meta
        shutil.rmtree(folder / "projects", ignore_errors=True)  # ours, but another format, size or seed
    elif folder.exists() and any(folder.iterdir()):
        sys.exit(f"{folder} is not empty and holds no {EXPECTED_FILE}: give an empty or new folder to --dir")
    folder.mkdir(parents=True, exist_ok=True)
    log(f"corpus           writing {size_mb:g} MB into {folder} (seed {seed}) ...")
    started = time.perf_counter()
    writer = CorpusWriter(seed)
    writer.write(folder / "projects", int(size_mb * MB))
    files = corpus_files(folder / "projects")
    meta = {
        "format": CORPUS_FORMAT,
        "size_mb": size_mb,
        "seed": seed,
        "corpus_bytes": sum(p.stat().st_size for p in files),
        "jsonl_files": len(files),
        "stats": writer.stats,
        "expected": writer.expected.result(),
    }
    marker.write_bytes(orjson.dumps(meta, option=orjson.OPT_INDENT_2))
    elapsed = time.perf_counter() - started
    log(f"corpus           written in {elapsed:.1f} s ({meta['corpus_bytes'] / MB / elapsed:,.0f} MB/s)")
    return meta


def describe(meta: dict) -> str:
    """The corpus's shape in one line: what its density is."""
    stats, totals = meta["stats"], meta["expected"]["totals"]
    per_usage_kb = meta["corpus_bytes"] / max(1, stats["usage_lines"]) / 1000
    return (
        f"{meta['corpus_bytes'] / MB:,.1f} MB in {meta['jsonl_files']:,} files: {stats['sessions']:,} sessions "
        f"({stats['resumed_sessions']} resumed), {stats['subagents']:,} subagents, {stats['lines']:,} lines, "
        f"{stats['usage_lines']:,} usage lines (one per {per_usage_kb:.2f} KB) for {totals['requests']:,} requests, "
        f"{stats['synthetic_lines']:,} synthetic, {stats['tool_results']:,} tool results, "
        f"{stats['broken_lines']} cut short"
    )
