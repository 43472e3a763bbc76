"""Cold import of Claude Code logs: `session-insights report claude:DIR --format json`.

Writes a realistic corpus of Claude Code transcripts (or reuses one written before with
the same size and seed), then times a cold and a warm report in a child process and
prints corpus MB, MB/s, peak memory (the report and the workers it forks: their summed
PSS, sampled every 20 ms; and the largest single process's exact peak RSS), and whether
the report's totals equal the de-duplicated totals the writer computed on its own. Warm
figures are the best of --warm-runs. With ccusage on the PATH (or --ccusage), runs
`ccusage claude daily --offline --json` the same way on the same corpus and compares
times and totals. Target (DESIGN §6): >= 200 MB/s, exact de-duplicated totals, RSS <=
150 MB for 700 MB of logs, on a 2-core machine.

Exits 1 if the report's totals differ from the expected ones (missed time or memory
budgets only print). A smoke run: --size-mb 5.

The corpus, as current Claude Code writes it:
  <dir>/projects/<project-slug>/<session-uuid>.jsonl
  <dir>/projects/<project-slug>/<session-uuid>/subagents/agent-<id>.jsonl  (+ .meta.json)
  <dir>/projects/<project-slug>/agent-<id>.jsonl  (subagents of versions before 2.1.2)
Most bytes are not usage: prompts, tool results (file contents, command output, kept
twice: in message.content and in toolUseResult), thinking blocks, file-history
snapshots. A response is written once per content block, 1-4 copies sharing message.id
+ requestId with output_tokens growing to the final count; some sessions start with a
copy of an earlier conversation (resumed / backgrounded), so requests repeat across
files; `<synthetic>` lines carry zero usage; a few lines per some files are cut short.

Usage: python benchmarks/import_claude.py [--size-mb 700] [--dir PATH] [--seed 1] [--keep]
                                          [--warm-runs 3] [--skip-ccusage] [--ccusage PATH]
"""

from __future__ import annotations

import argparse
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime
from pathlib import Path

import orjson

CORPUS_FORMAT = 1  # bump when the writer changes, so an old corpus is not reused
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

PROJECTS = (
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
)
BRANCHES = ("main", "main", "main", "feature/retry-queue", "fix/flaky-tests", "refactor/storage", "dev")
TOOLS = (
    ("Read", 0.30),
    ("Bash", 0.24),
    ("Edit", 0.16),
    ("Grep", 0.09),
    ("Glob", 0.05),
    ("Write", 0.04),
    ("TodoWrite", 0.07),
    ("Task", 0.025),
    ("WebFetch", 0.025),
)
ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
WORDS = (
    "the",
    "a",
    "to",
    "of",
    "and",
    "in",
    "is",
    "for",
    "that",
    "with",
    "on",
    "test",
    "file",
    "function",
    "error",
    "return",
    "value",
    "config",
    "parser",
    "request",
    "cache",
    "token",
    "user",
    "session",
    "build",
    "fix",
    "update",
    "check",
    "handler",
    "module",
    "import",
    "class",
    "data",
    "path",
    "should",
    "when",
    "failing",
    "output",
    "input",
    "retry",
    "timeout",
    "queue",
    "index",
    "schema",
    "migration",
    "service",
)
IDENTS = (
    "load_config",
    "parse_line",
    "RequestQueue",
    "retry_after",
    "user_id",
    "cache_key",
    "flush",
    "self",
    "items",
    "result",
    "response",
    "payload",
    "handler",
    "logger",
    "session",
    "tokens",
    "offset",
    "buf",
    "validate",
    "schema",
    "build_index",
    "fetch_rows",
    "on_message",
    "write_batch",
    "conn",
    "cursor",
)


def iso(ts: float) -> str:
    """Claude Code's timestamp shape: UTC, milliseconds, 'Z'."""
    whole = int(ts)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{int((ts - whole) * 1000):03d}Z"


def pick(rng: random.Random, weighted: tuple) -> str:
    x, acc = rng.random(), 0.0
    for value, weight in weighted:
        acc += weight
        if x < acc:
            return value
    return weighted[-1][0]


def lognormal_int(rng: random.Random, median: float, sigma: float, lo: int, hi: int) -> int:
    return int(min(hi, max(lo, rng.lognormvariate(math.log(median), sigma))))


class TextPool:
    """Pre-built text that tool results, prompts and answers are cut from (fast to slice)."""

    def __init__(self, rng: random.Random):
        code, prose, shell = [], [], []
        for n in range(1, 40_000):
            indent = " " * (4 * rng.randrange(0, 4))
            a, b, c = rng.choice(IDENTS), rng.choice(IDENTS), rng.choice(IDENTS)
            line = rng.choice(
                (
                    f"{indent}{a} = {b}({c}, timeout={rng.randrange(1, 90)})",
                    f"{indent}if {a} is None:",
                    f"{indent}return {b}.{c}()",
                    f"{indent}def {a}(self, {b}: str, {c}: int = 0) -> dict:",
                    f'{indent}logger.debug("{a} %s", {b})',
                    f"{indent}for {a} in {b}:",
                    f"{indent}# {' '.join(rng.choices(WORDS, k=rng.randrange(3, 12)))}",
                )
            )
            code.append(f"{n % 900 + 1:>6}\u2192{line}")  # the Read tool's "  12→" numbering
        for _ in range(20_000):
            prose.append(" ".join(rng.choices(WORDS, k=rng.randrange(5, 25))).capitalize() + ".")
        for _ in range(20_000):
            shell.append(
                rng.choice(
                    (
                        f"tests/test_{rng.choice(IDENTS)}.py::test_{rng.choice(IDENTS)} PASSED [{rng.randrange(100)}%]",
                        f"src/{rng.choice(IDENTS)}.py:{rng.randrange(1, 900)}: {rng.choice(IDENTS)}",
                        (
                            f"-rw-r--r--  1 dev  staff  {rng.randrange(100, 90_000)} Nov {rng.randrange(1, 28)} "
                            f"{rng.choice(IDENTS)}.py"
                        ),
                        f"+    {rng.choice(IDENTS)} = {rng.choice(IDENTS)}()",
                        f"-    return {rng.choice(IDENTS)}",
                        f"E   AssertionError: assert {rng.randrange(1000)} == {rng.randrange(1000)}",
                    )
                )
            )
        self.code, self.prose, self.shell = "\n".join(code), " ".join(prose), "\n".join(shell)

    def cut(self, rng: random.Random, text: str, n_chars: int) -> str:
        n_chars = min(n_chars, len(text) - 1)
        start = rng.randrange(0, len(text) - n_chars)
        return text[start : start + n_chars]


class Expected:
    """De-duplicated totals computed from the lines as written: one request per
    message.id + requestId, counted at its largest intact copy; synthetic lines and
    cut-short lines count nothing."""

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
        def zero() -> dict:
            return dict.fromkeys(
                (
                    "requests",
                    "input_tokens",
                    "output_tokens",
                    "cache_read_tokens",
                    "cache_write_tokens",
                    "cache_write_1h_tokens",
                ),
                0,
            )

        totals, by_model, by_tier = zero(), {}, {}
        for _, model, tier, (inp, out, cr, cw5, cw1h) in self.requests.values():
            for row in (totals, by_model.setdefault(model, zero()), by_tier.setdefault(tier, zero())):
                row["requests"] += 1
                row["input_tokens"] += inp
                row["output_tokens"] += out
                row["cache_read_tokens"] += cr
                row["cache_write_tokens"] += cw5 + cw1h
                row["cache_write_1h_tokens"] += cw1h
        return {"totals": totals, "by_model": by_model, "by_tier": by_tier}


class Transcript:
    """One JSONL file being written: its envelope fields, clock and prompt-cache state."""

    def __init__(
        self,
        writer: CorpusWriter,
        path: Path,
        session_id: str,
        ts: float,
        model: str,
        *,
        agent_id: str | None = None,
        cwd: str,
        version: str,
        branch: str,
        cache_1h: bool,
    ):
        self.w, self.rng, self.path = writer, writer.rng, path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.fh = open(path, "wb", buffering=1 << 20)  # noqa: SIM115 - written across many calls; see close()
        self.session_id, self.agent_id, self.ts, self.model = session_id, agent_id, ts, model
        self.cwd, self.version, self.branch, self.cache_1h = cwd, version, branch, cache_1h
        self.bytes = 0
        self.parent: str | None = None
        self.cached_tokens = 0  # prompt prefix in the provider's cache
        self.pending_tokens = 0  # context added since the last request (results, last answer)
        self.last_request_ts = ts
        self.todos: list[list[str]] = []
        # Some files get a few lines cut short (a crash mid-write).
        self.breaks_left = self.rng.randrange(1, 4) if self.rng.random() < 0.15 else 0
        writer.stats["files"] += 1

    def close(self) -> None:
        self.fh.close()

    def envelope(self, kind: str) -> dict:
        line = {
            "parentUuid": self.parent,
            "isSidechain": self.agent_id is not None,
            "userType": "external",
            "cwd": self.cwd,
            "sessionId": self.session_id,
            "version": self.version,
            "gitBranch": self.branch,
        }
        if self.agent_id is not None:
            line["agentId"] = self.agent_id
        line["type"] = kind
        return line

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
        self.stats = dict.fromkeys(
            (
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
            ),
            0,
        )
        self.total_bytes = 0

    # --- ids -------------------------------------------------------------------

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def token_id(self, prefix: str, n: int = 22) -> str:
        return prefix + "".join(self.rng.choices(ALPHABET, k=n))

    # --- the corpus ------------------------------------------------------------

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
            target = lognormal_int(rng, 300_000, 1.7, 3_000, session_cap)
            target = min(target, max(3_000, size_bytes - self.total_bytes))
            resume_from = None
            if finished[name] and rng.random() < 0.06:
                resume_from = rng.choice(finished[name])
                if resume_from.stat().st_size > 8 * MB:
                    resume_from = None
            finished[name].append(self.session(projects_dir / f"-home-dev-src-{name}", name, target, resume_from))

    def session(self, project_dir: Path, name: str, target_bytes: int, resume_from: Path | None) -> Path:
        rng = self.rng
        session_id = self.uuid()
        start = T_START + rng.uniform(0, SPAN_DAYS) * DAY_S
        version = f"2.1.{rng.randrange(3, 40)}" if start >= NEW_LAYOUT_FROM else f"2.0.{rng.randrange(40, 77)}"
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
        if resume_from is not None:
            self.copy_conversation(tr, resume_from)
        elif rng.random() < 0.3:
            tr.emit(
                {
                    "type": "summary",
                    "summary": self.pool.cut(rng, self.pool.prose, rng.randrange(30, 90)),
                    "leafUuid": self.uuid(),
                },
                link=False,
            )
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
        rng, pool = self.rng, self.pool
        first = True
        while tr.bytes < target_bytes:
            # Mostly a minute or two between prompts; sometimes long enough for the cache to expire.
            prompt_ts = tr.ts if first else tr.tick(0, rng.lognormvariate(math.log(90), 1.2))
            prompt = pool.cut(
                rng, pool.prose, lognormal_int(rng, 400 if tr.agent_id is None else 1_500, 1.0, 20, 12_000)
            )
            user = tr.envelope("user")
            user.update(
                {"message": {"role": "user", "content": prompt}, "uuid": self.uuid(), "timestamp": iso(prompt_ts)}
            )
            if tr.agent_id is None:
                user["thinkingMetadata"] = {"level": "high", "disabled": False, "triggers": []}
                user["todos"] = []
            tr.emit(user)
            tr.pending_tokens += int(len(prompt) / CHARS_PER_TOKEN)
            if tr.agent_id is None:
                self.snapshot(tr, user["uuid"], prompt_ts)
            first = False
            for _ in range(lognormal_int(rng, 6, 0.9, 1, 60)):
                tool_uses = self.request(tr)
                if not tool_uses:
                    break
                for block in tool_uses:
                    self.tool_result(tr, block, project_dir)
                if tr.bytes >= target_bytes:
                    break
            if rng.random() < 0.025:
                self.synthetic(tr)

    def snapshot(self, tr: Transcript, message_id: str, ts: float) -> None:
        rng = self.rng
        backups = {
            f"src/{rng.choice(IDENTS)}/{rng.choice(IDENTS)}.py": {
                "backupFileName": f"{rng.getrandbits(64):016x}@v{rng.randrange(1, 9)}",
                "version": rng.randrange(1, 9),
                "backupTime": iso(ts - rng.uniform(0, 3_600)),
            }
            for _ in range(rng.randrange(0, 12))
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
        line = tr.envelope("assistant")
        line.update(
            {
                "message": {
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
                },
                "uuid": self.uuid(),
                "timestamp": iso(tr.tick(0.01, 0.2)),
                "isApiErrorMessage": False,
            }
        )
        tr.emit(line)

    # --- one model request --------------------------------------------------------

    def request(self, tr: Transcript) -> list[dict]:
        """One API call written as 1-4 streamed copies (one per content block), all with the
        same message.id + requestId and output_tokens growing to the final count. Returns
        its tool_use blocks."""
        rng, pool = self.rng, self.pool
        start_ts = tr.tick(1.5, 12)
        # The prompt cache: read the cached prefix, write what was added since the last
        # request; a cache that expired while idle is written again from the top.
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
        input_tokens = rng.randrange(1, 12) if rng.random() < 0.9 else rng.randrange(12, 900)
        tr.cached_tokens = cache_read + cache_write
        tr.pending_tokens = 0
        tr.last_request_ts = start_ts

        blocks: list[dict] = []
        if tr.model != HAIKU and rng.random() < 0.45:
            blocks.append(
                {
                    "type": "thinking",
                    "thinking": pool.cut(rng, pool.prose, lognormal_int(rng, 900, 0.9, 40, 12_000)),
                    "signature": self.token_id("Eu", lognormal_int(rng, 900, 0.5, 200, 4_000)),
                }
            )
        final = rng.random() < 0.16
        if final or rng.random() < 0.55:
            blocks.append(
                {
                    "type": "text",
                    "text": pool.cut(rng, pool.prose, lognormal_int(rng, 1_200 if final else 250, 1.0, 10, 9_000)),
                }
            )
        if not final:  # one tool call, sometimes a few in parallel; at most 4 blocks in all
            n_tools = min(4 - len(blocks), 1 if rng.random() < 0.8 else rng.randrange(2, 4))
            blocks.extend(self.tool_use(tr) for _ in range(n_tools))
        tool_uses = [b for b in blocks if b["type"] == "tool_use"]

        output = sum(len(orjson.dumps(b)) for b in blocks) // 4 + rng.randrange(5, 60)
        outputs = sorted(rng.sample(range(1, output), len(blocks) - 1)) + [output]
        msg_id, request_id = self.token_id("msg_01"), self.token_id("req_011C", 20)
        split_1h = cache_write if tr.cache_1h else 0
        ts = start_ts
        for i, (block, out) in enumerate(zip(blocks, outputs, strict=True)):
            last = i == len(blocks) - 1
            line = tr.envelope("assistant")
            line.update(
                {
                    "message": {
                        "model": tr.model,
                        "id": msg_id,
                        "type": "message",
                        "role": "assistant",
                        "content": [block],
                        "stop_reason": ("tool_use" if tool_uses else "end_turn") if last else None,
                        "stop_sequence": None,
                        "usage": {
                            "input_tokens": input_tokens,
                            "cache_creation_input_tokens": cache_write,
                            "cache_read_input_tokens": cache_read,
                            "cache_creation": {
                                "ephemeral_5m_input_tokens": cache_write - split_1h,
                                "ephemeral_1h_input_tokens": split_1h,
                            },
                            "output_tokens": out,
                            "service_tier": "standard",
                        },
                    },
                    "requestId": request_id,
                    "uuid": self.uuid(),
                    "timestamp": iso(ts),
                }
            )
            tr.emit(line)
            self.stats["usage_lines"] += 1
            ts = tr.tick(0.05, 4.0)
        tr.pending_tokens += output
        return tool_uses

    def compact(self, tr: Transcript) -> None:
        """Auto-compact: a boundary, a summary prompt, and a fresh (smaller) context."""
        line = tr.envelope("system")
        line.update(
            {
                "subtype": "compact_boundary",
                "content": "Conversation compacted",
                "isMeta": False,
                "timestamp": iso(tr.tick(1, 5)),
                "uuid": self.uuid(),
                "level": "info",
                "compactMetadata": {"trigger": "auto", "preTokens": tr.cached_tokens + tr.pending_tokens},
            }
        )
        tr.emit(line)
        summary = self.pool.cut(self.rng, self.pool.prose, self.rng.randrange(4_000, 16_000))
        user = tr.envelope("user")
        user.update(
            {
                "message": {"role": "user", "content": summary},
                "isCompactSummary": True,
                "uuid": self.uuid(),
                "timestamp": iso(tr.tick(1, 5)),
            }
        )
        tr.emit(user)
        tr.cached_tokens = 0
        tr.pending_tokens = int(len(summary) / CHARS_PER_TOKEN)

    # --- tools -------------------------------------------------------------------------

    def tool_use(self, tr: Transcript) -> dict:
        rng, pool = self.rng, self.pool
        name = pick(rng, TOOLS)
        if name == "Task" and tr.agent_id is not None:
            name = "Read"  # subagents do not spawn subagents
        path = f"{tr.cwd}/src/{rng.choice(IDENTS)}/{rng.choice(IDENTS)}.py"
        if name == "Read":
            tool_input = {"file_path": path}
        elif name == "Bash":
            tool_input = {
                "command": rng.choice(("pytest -q", "git status", "git diff", "make build", "ls -la src", "npm test")),
                "description": pool.cut(rng, pool.prose, 40),
            }
        elif name == "Edit":
            tool_input = {
                "file_path": path,
                "old_string": pool.cut(rng, pool.code, rng.randrange(40, 800)),
                "new_string": pool.cut(rng, pool.code, rng.randrange(40, 1_200)),
            }
        elif name == "Write":
            tool_input = {
                "file_path": path,
                "content": pool.cut(rng, pool.code, lognormal_int(rng, 3_000, 0.8, 200, 30_000)),
            }
        elif name in ("Grep", "Glob"):
            tool_input = {"pattern": rng.choice(IDENTS), "path": tr.cwd}
        elif name == "WebFetch":
            tool_input = {
                "url": f"https://docs.example.org/{rng.choice(IDENTS)}",
                "prompt": pool.cut(rng, pool.prose, 80),
            }
        elif name == "Task":
            tool_input = {
                "description": pool.cut(rng, pool.prose, 30),
                "prompt": pool.cut(rng, pool.prose, 600),
                "subagent_type": rng.choice(("general-purpose", "Explore")),
            }
        else:  # TodoWrite: the session's todo list, moved on a step
            tool_input = {"todos": self.advance_todos(tr)}
        return {"type": "tool_use", "id": self.token_id("toolu_01"), "name": name, "input": tool_input}

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

    def tool_result(self, tr: Transcript, tool_use: dict, project_dir: Path | None) -> None:
        """The user line answering a tool_use: the output in message.content and, again,
        structured in toolUseResult (the bulk of a transcript's bytes)."""
        rng, pool = self.rng, self.pool
        name, tool_input = tool_use["name"], tool_use["input"]
        ok = rng.random() > 0.05
        started = tr.ts
        if name == "Read":
            text = pool.cut(rng, pool.code, lognormal_int(rng, 6_000, 0.9, 200, 60_000))
            detail = {
                "type": "text",
                "file": {
                    "filePath": tool_input["file_path"],
                    "content": text,
                    "numLines": text.count("\n") + 1,
                    "startLine": 1,
                    "totalLines": text.count("\n") + 1,
                },
            }
            tr.tick(0.02, 0.3)
        elif name == "Bash":
            text = pool.cut(rng, pool.shell, lognormal_int(rng, 2_000, 1.1, 20, 40_000))
            detail = {"stdout": text, "stderr": "", "interrupted": False, "isImage": False}
            tr.tick(0.2, 90)
        elif name == "Edit":
            original = pool.cut(rng, pool.code, lognormal_int(rng, 7_000, 0.8, 300, 50_000))
            text = (
                f"The file {tool_input['file_path']} has been updated. Here's the result of running `cat -n` "
                f"on a snippet of the edited file:\n" + pool.cut(rng, pool.code, rng.randrange(300, 2_000))
            )
            detail = {
                "filePath": tool_input["file_path"],
                "oldString": tool_input["old_string"],
                "newString": tool_input["new_string"],
                "originalFile": original,
                "structuredPatch": [
                    {
                        "oldStart": 10,
                        "oldLines": 3,
                        "newStart": 10,
                        "newLines": 5,
                        "lines": pool.cut(rng, pool.shell, 400).split("\n"),
                    }
                ],
                "userModified": False,
                "replaceAll": False,
            }
            tr.tick(0.05, 1.0)
        elif name == "Write":
            text = f"File created successfully at: {tool_input['file_path']}"
            detail = {
                "type": "create",
                "filePath": tool_input["file_path"],
                "content": tool_input["content"],
                "structuredPatch": [],
                "originalFile": None,
            }
            tr.tick(0.05, 0.5)
        elif name in ("Grep", "Glob"):
            text = pool.cut(rng, pool.shell, lognormal_int(rng, 800, 0.9, 20, 8_000))
            detail = {
                "filenames": text.split("\n")[:50],
                "durationMs": rng.randrange(5, 900),
                "numFiles": min(50, text.count("\n") + 1),
                "truncated": False,
            }
            tr.tick(0.05, 1.5)
        elif name == "WebFetch":
            text = pool.cut(rng, pool.prose, lognormal_int(rng, 3_000, 0.7, 100, 20_000))
            detail = {
                "bytes": len(text) * 3,
                "code": 200,
                "codeText": "OK",
                "result": text,
                "durationMs": rng.randrange(300, 9_000),
                "url": tool_input["url"],
            }
            tr.tick(0.5, 10)
        elif name == "Task":
            text = self.subagent(tr, tool_input, project_dir)
            detail = {
                "status": "completed",
                "content": [{"type": "text", "text": text}],
                "totalDurationMs": int((tr.ts - started) * 1000),
                "totalTokens": rng.randrange(5_000, 90_000),
                "totalToolUseCount": rng.randrange(1, 30),
            }
        else:
            text = (
                "Todos have been modified successfully. Ensure that you continue to use the todo list to "
                "track your progress. Please proceed with the current tasks if applicable"
            )
            detail = {"oldTodos": [], "newTodos": tool_input["todos"]}
            tr.tick(0.01, 0.1)
        if not ok:
            text, detail = f"Error: {pool.cut(rng, pool.shell, rng.randrange(60, 600))}", "Error: tool failed"
        line = tr.envelope("user")
        line.update(
            {
                "message": {
                    "role": "user",
                    "content": [
                        {"tool_use_id": tool_use["id"], "type": "tool_result", "content": text, "is_error": not ok}
                    ],
                },
                "uuid": self.uuid(),
                "timestamp": iso(tr.ts),
                "toolUseResult": detail,
            }
        )
        tr.emit(line)
        self.stats["tool_results"] += 1
        tr.pending_tokens += int(len(text) / CHARS_PER_TOKEN) + 10

    def subagent(self, parent: Transcript, task: dict, project_dir: Path | None) -> str:
        """A Task tool's subagent: its own transcript, every line a sidechain under the
        parent's session id. Returns its final report (the Task's tool result)."""
        rng = self.rng
        agent_id = f"a{rng.getrandbits(64):016x}"
        if parent.ts >= NEW_LAYOUT_FROM:
            folder = project_dir / parent.session_id / "subagents"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"agent-{agent_id}.meta.json").write_bytes(
                orjson.dumps({"agentType": task["subagent_type"], "spawnDepth": 1})
            )
        else:
            folder = project_dir  # before 2.1.2, beside the session files
        tr = Transcript(
            self,
            folder / f"agent-{agent_id}.jsonl",
            parent.session_id,
            parent.ts,
            pick(rng, SUBAGENT_MODELS),
            agent_id=agent_id,
            cwd=parent.cwd,
            version=parent.version,
            branch=parent.branch,
            cache_1h=False,
        )
        self.stats["subagents"] += 1
        self.conversation(tr, lognormal_int(rng, 120_000, 1.0, 4_000, 3 * MB), None)
        tr.close()
        self.total_bytes += tr.bytes
        parent.ts = tr.ts + rng.uniform(0.1, 2)
        return self.pool.cut(rng, self.pool.prose, lognormal_int(rng, 1_500, 0.7, 100, 8_000))


# --- corpus on disk ---------------------------------------------------------------------


def corpus_files(projects: Path) -> list[Path]:
    return sorted(p for p in projects.rglob("*.jsonl") if p.is_file())


def ensure_corpus(folder: Path, size_mb: float, seed: int) -> dict:
    """The corpus in ``folder``: reused when written before with the same size and seed."""
    marker = folder / EXPECTED_FILE
    if marker.exists():
        meta = orjson.loads(marker.read_bytes())
        if (meta.get("format"), meta.get("size_mb"), meta.get("seed")) == (CORPUS_FORMAT, size_mb, seed):
            print(f"corpus           reusing {folder} ({meta['corpus_bytes'] / MB:,.1f} MB, seed {seed})")
            return meta
        shutil.rmtree(folder / "projects", ignore_errors=True)  # ours, but another size or seed
    elif folder.exists() and any(folder.iterdir()):
        sys.exit(
            f"import_claude.py: {folder} is not empty and holds no {EXPECTED_FILE}: "
            "give an empty or new folder to --dir"
        )
    folder.mkdir(parents=True, exist_ok=True)
    print(f"corpus           writing {size_mb:g} MB into {folder} (seed {seed}) ...", flush=True)
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
    print(f"corpus           written in {elapsed:.1f} s ({meta['corpus_bytes'] / MB / elapsed:,.0f} MB/s)")
    return meta


def evict_page_cache(files: list[Path]) -> str:
    """Make the next read come from disk; says how (or that it could not)."""
    os.sync()
    try:
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
        return "page cache dropped (echo 3 > /proc/sys/vm/drop_caches)"
    except OSError as exc:
        why = exc.strerror or str(exc)
    if not hasattr(os, "posix_fadvise"):
        return f"page cache NOT dropped (drop_caches: {why}; no posix_fadvise here): 'cold' is warm"
    for path in files:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)
    return f"corpus pages evicted with posix_fadvise(DONTNEED) per file (drop_caches: {why})"


# --- runs ---------------------------------------------------------------------------------


class TreeMemory:
    """Samples the memory of a child and of the processes it starts (a report may fork
    workers; ccusage's launcher starts its native binary). Per process it reads PSS
    (shared pages split between the processes sharing them, so forked workers are not
    counted twice), else RSS; it keeps the peak of the sum."""

    def __init__(self, pid: int, interval_s: float = 0.02):
        self.pid, self.interval_s = pid, interval_s
        self.peak_mb, self.peak_processes = 0.0, 1
        self.kind = "PSS" if os.path.exists("/proc/self/smaps_rollup") else "RSS"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _tree(self) -> list[int]:
        pids, todo = [], [self.pid]
        while todo:
            pid = todo.pop()
            pids.append(pid)
            try:
                for task in os.listdir(f"/proc/{pid}/task"):
                    with open(f"/proc/{pid}/task/{task}/children") as f:
                        todo.extend(int(c) for c in f.read().split())
            except OSError:
                pass  # gone already
        return pids

    def _process_kb(self, pid: int) -> int:
        try:
            if self.kind == "PSS":
                with open(f"/proc/{pid}/smaps_rollup") as f:
                    for line in f:
                        if line.startswith("Pss:"):
                            return int(line.split()[1])
                return 0
            with open(f"/proc/{pid}/statm") as f:
                return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
        except OSError:
            return 0  # gone between listing and reading

    def _run(self) -> None:
        while not self._stop.is_set():
            pids = self._tree()
            total_mb = sum(self._process_kb(pid) for pid in pids) / 1024
            if total_mb > self.peak_mb:
                self.peak_mb, self.peak_processes = total_mb, len(pids)
            self._stop.wait(self.interval_s)


class ChildRun:
    """One timed run of a command: wall time, memory, exit code, output."""

    def __init__(self, argv: list[str], env: dict | None = None):
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            started = time.perf_counter()
            proc = subprocess.Popen(argv, stdout=out, stderr=err, env=env)
            memory = TreeMemory(proc.pid)
            # wait4 gives this child's rusage; its ru_maxrss is the largest single process
            # of the tree (the child, or a worker it waited for), exact, not sampled.
            _, status, usage = os.wait4(proc.pid, 0)
            self.wall_s = time.perf_counter() - started
            memory.stop()
            proc.returncode = self.exit_code = os.waitstatus_to_exitcode(status)
            self.max_process_rss_mb = usage.ru_maxrss / 1024
            self.tree_peak_mb, self.tree_processes, self.tree_kind = (
                memory.peak_mb,
                memory.peak_processes,
                memory.kind,
            )
            out.seek(0)
            err.seek(0)
            self.stdout, self.stderr = out.read(), err.read()

    def memory_text(self) -> str:
        return (
            f"peak {self.tree_kind} {self.tree_peak_mb:7,.1f} MB over {self.tree_processes} process"
            f"{'es' if self.tree_processes > 1 else ''} (largest process RSS {self.max_process_rss_mb:,.1f} MB)"
        )


def report_command(projects: Path, history: Path) -> list[str]:
    """``report`` as a user runs it: it also keeps the sessions in its durable history
    (here in the corpus folder, never the working folder's)."""
    script = Path(sys.executable).parent / "session-insights"
    head = [str(script)] if script.exists() else [sys.executable, "-m", "session_insights.cli"]
    return [*head, "report", f"claude:{projects}", "--format", "json", "--history", str(history)]


FIGURES = (
    "requests",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cache_write_1h_tokens",
)


def compare(expected: dict, report: dict) -> list[str]:
    """Differences between the expected totals and the report's: empty when they agree."""
    diffs = []

    def rows(label: str, want: dict, got: dict | None) -> None:
        for figure in FIGURES:
            have = None if got is None else got.get(figure)
            if have != want[figure]:
                delta = "" if have is None else f" ({have - want[figure]:+,})"
                diffs.append(
                    f"{label:36} {figure:22} expected {want[figure]:>16,}  report "
                    f"{'missing' if have is None else format(have, ',')}{delta}"
                )

    rows("totals", expected["totals"], report.get("totals"))
    for group in ("by_model", "by_tier"):
        got = report.get(group) or {}
        for name, want in expected[group].items():
            rows(f"{group}[{name}]", want, got.get(name))
        for name in sorted(set(got) - set(expected[group])):
            diffs.append(f"{group}[{name}] is in the report but was never written")
    return diffs


def print_run(label: str, corpus_bytes: int, run: ChildRun, diffs: list[str]) -> None:
    rate = corpus_bytes / MB / run.wall_s
    verdict = "exact" if not diffs else f"DIFFER in {len(diffs)} figures"
    print(f"{label:16} {run.wall_s:7.2f} s  {rate:8,.1f} MB/s  {run.memory_text()}  totals {verdict}")
    for line in diffs[:40]:
        print(f"    {line}")


def ccusage_command(binary: str) -> list[str]:
    """ccusage >= 18 reports every agent it finds under `daily`; `claude daily` keeps it to
    Claude Code. Older releases read only Claude Code, and have no `claude` command."""
    try:
        help_text = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=60, check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        help_text = ""
    scope = ["claude"] if any(line.split()[:1] == ["claude"] for line in help_text.splitlines()) else []
    return [binary, *scope, "daily", "--offline", "--json", "--breakdown"]


COST_REL_TOLERANCE = 1e-3  # both price per request from list prices; this covers rounding only


def compare_ccusage(ours: dict, theirs: dict) -> list[tuple[str, str, str, bool]]:
    """(figure, ours, ccusage, agree) for the totals and per model."""
    out = []

    def tokens(label: str, mine: dict, cc: dict) -> None:
        pairs = (
            ("input", mine["input_tokens"], cc.get("inputTokens", 0)),
            ("output", mine["output_tokens"], cc.get("outputTokens", 0)),
            ("cache write", mine["cache_write_tokens"], cc.get("cacheCreationTokens", 0)),
            ("cache read", mine["cache_read_tokens"], cc.get("cacheReadTokens", 0)),
        )
        for name, a, b in pairs:
            out.append((f"{label} {name} tokens", f"{a:,}", f"{b:,}", a == b))
        a, b = mine.get("cost_usd"), cc.get("totalCost", cc.get("cost"))
        agree = a is not None and b is not None and math.isclose(a, b, rel_tol=COST_REL_TOLERANCE)
        out.append(
            (f"{label} cost", "unpriced" if a is None else f"${a:,.2f}", "n/a" if b is None else f"${b:,.2f}", agree)
        )

    tokens("total", ours["totals"], theirs.get("totals", {}))
    per_model: dict[str, dict] = {}
    for day in theirs.get("daily", []):
        for row in day.get("modelBreakdowns", []):
            acc = per_model.setdefault(
                row["modelName"],
                dict.fromkeys(("inputTokens", "outputTokens", "cacheCreationTokens", "cacheReadTokens", "cost"), 0),
            )
            for k in acc:
                acc[k] += row.get(k, 0)
    for model, mine in ours["by_model"].items():
        if model in per_model:
            tokens(model, mine, per_model[model])
        else:
            out.append((model, "present", "missing", False))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size-mb", type=float, default=700.0, help="corpus size (default 700)")
    ap.add_argument(
        "--dir",
        type=Path,
        help="corpus folder (default: a folder under the temp dir, removed after the run unless --keep)",
    )
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", action="store_true", help="keep the corpus (the default when --dir is given)")
    ap.add_argument("--warm-runs", type=int, default=3, help="warm runs, the best one printed (default 3)")
    ap.add_argument("--skip-ccusage", action="store_true")
    ap.add_argument("--ccusage", help="path to ccusage (default: ccusage on the PATH)")
    args = ap.parse_args()
    if args.size_mb <= 0 or args.warm_runs < 1:
        ap.error("--size-mb must be > 0 and --warm-runs >= 1")
    folder = args.dir or Path(tempfile.gettempdir()) / f"session-insights-claude-{args.size_mb:g}mb-seed{args.seed}"
    keep = args.keep or args.dir is not None
    folder = folder.expanduser().resolve()

    meta = ensure_corpus(folder, args.size_mb, args.seed)
    projects = folder / "projects"
    files = corpus_files(projects)
    corpus_bytes = sum(p.stat().st_size for p in files)
    stats, expected = meta["stats"], meta["expected"]
    print(
        f"corpus           {corpus_bytes:,} bytes ({corpus_bytes / MB:,.1f} MB) in {len(files):,} files: "
        f"{stats['sessions']:,} sessions ({stats['resumed_sessions']} resumed), {stats['subagents']:,} subagents, "
        f"{stats['lines']:,} lines"
    )
    sizes = sorted(p.stat().st_size for p in files)
    print(
        f"                 file sizes {sizes[0] / 1000:,.1f} KB .. {sizes[-1] / MB:,.1f} MB "
        f"(median {sizes[len(sizes) // 2] / 1000:,.0f} KB); {stats['usage_lines']:,} usage lines for "
        f"{expected['totals']['requests']:,} requests, {stats['synthetic_lines']:,} synthetic, "
        f"{stats['tool_results']:,} tool results, {stats['broken_lines']} cut-short lines"
    )
    print(f"                 expected totals in {folder / EXPECTED_FILE}")

    history = folder / "bench.history.sqlite"
    for stale in folder.glob(history.name + "*"):
        stale.unlink()  # the cold run writes every session; the warm runs find them written
    command = report_command(projects, history)
    print(f"report           {' '.join(command)}")
    failed = False
    try:
        load_1min = os.getloadavg()[0]
        print(
            f"machine          {os.cpu_count()} CPUs, load average {load_1min:.2f} before the runs "
            "(other work on the machine slows every figure below)"
        )
        print(f"cold             {evict_page_cache(files)}")
        print("                 targets: >= 200 MB/s; <= 150 MB for 700 MB; totals exact")
        results = {}
        for label, n_runs in (("cold", 1), ("warm", args.warm_runs)):
            runs, diffs = [], []
            for _ in range(n_runs):
                run = ChildRun(command)
                if run.exit_code != 0:
                    print(f"{label} report: exit {run.exit_code}\n{run.stderr.decode(errors='replace')[-3000:]}")
                    return 1
                report = orjson.loads(run.stdout)
                diffs = diffs or compare(expected, report)
                runs.append(run)
            failed |= bool(diffs)
            best = min(runs, key=lambda r: r.wall_s)
            print_run(f"{label} report", corpus_bytes, best, diffs)
            if n_runs > 1:
                print(f"                 best of {n_runs}: {', '.join(f'{r.wall_s:.2f}' for r in runs)} s")
            results[f"{label} report"] = (best.wall_s, report)
        report = results["warm report"][1]
        bad = report.get("errors", {}).get("bad_lines")
        print(
            f"bad lines        report {bad}; written {stats['broken_lines']} cut-short lines, "
            f"{stats['broken_lines_with_usage_or_result']} of them still showing a usage or tool_result key "
            "(the reader skips other lines unparsed)"
        )

        binary = args.ccusage or shutil.which("ccusage")
        if args.skip_ccusage:
            print("ccusage          skipped (--skip-ccusage)")
        elif binary is None:
            print(
                "ccusage          not on the PATH: `npm install ccusage` and pass --ccusage "
                "node_modules/.bin/ccusage to compare"
            )
        else:
            cc_command = ccusage_command(binary)
            env = {**os.environ, "CLAUDE_CONFIG_DIR": str(folder)}
            print(f"ccusage          CLAUDE_CONFIG_DIR={folder} {' '.join(cc_command)}")
            version = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False).stdout.strip()
            print(f"                 {version}; {evict_page_cache(files)}")
            for label, n_runs in (("cold", 1), ("warm", args.warm_runs)):
                runs = [ChildRun(cc_command, env) for _ in range(n_runs)]
                failures = [r for r in runs if r.exit_code != 0]
                if failures:
                    print(
                        f"ccusage {label}: exit {failures[0].exit_code}\n"
                        f"{failures[0].stderr.decode(errors='replace')[-3000:]}"
                    )
                    return 1 if failed else 0
                best = min(runs, key=lambda r: r.wall_s)
                theirs = orjson.loads(best.stdout)
                ours_s = results[f"{label} report"][0]
                print(
                    f"ccusage {label:8} {best.wall_s:7.2f} s  {corpus_bytes / MB / best.wall_s:8,.1f} MB/s  "
                    f"{best.memory_text()}"
                )
                if n_runs > 1:
                    print(f"                 best of {n_runs}: {', '.join(f'{r.wall_s:.2f}' for r in runs)} s")
                print(
                    f"                 session-insights {label} {ours_s:.2f} s = {ours_s / best.wall_s:.2f}x "
                    "ccusage's time"
                )
            rows = compare_ccusage(report, theirs)
            agree = sum(r[3] for r in rows)
            print(f"ccusage totals   {agree}/{len(rows)} figures agree (cost within {COST_REL_TOLERANCE:.1%})")
            width = max(len(r[0]) for r in rows)
            for figure, mine, cc, ok in rows:
                print(f"    {figure:{width}}  ours {mine:>18}  ccusage {cc:>18}  {'agree' if ok else 'DISAGREE'}")
    finally:
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)
            print(f"corpus           removed {folder} (--keep keeps it)")
        else:
            print(f"corpus           kept in {folder}")
    if failed:
        print("FAILED: the report's totals differ from the de-duplicated totals written into the corpus")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
