"""What the demo's requests and tool calls look like: the comms entries of each tier
(Anthropic, OpenAI Responses, Gemini and a local model's payloads, usage blocks only)
and tool calls with realistic durations and failures, as ``DemoStep``s at offsets
into the session. Every random draw goes through the script's one ``random.Random``."""

from __future__ import annotations

import math
import random
import string
from collections.abc import Mapping
from typing import Any, NamedTuple

from ..hooks import Hooks

DURATION_S = 90 * 60
SESSION = "demo"

TIER_1, TIER_2, TIER_3, TIER_4 = "Tier 1", "Tier 2", "Tier 3", "Tier 4"
PLANNER = "claude-opus-4-1"
LEAD = "gpt-5"
WORKER = "claude-sonnet-4-5"
CHECKER = "gemini-2.5-flash"
LOCAL_CHECKER = "acme-local-coder-7b"

_ALNUM = string.ascii_letters + string.digits
_HEX = "0123456789abcdef"


class DemoStep(NamedTuple):
    """One thing the host does ``offset_s`` into the session: a ``Hooks`` method and its
    arguments, without ``ts`` (added when the step is pushed, from the session's start)."""

    offset_s: float
    hook: str
    args: Mapping[str, Any]

    def push(self, hooks: Hooks, ts: float) -> None:
        if self.hook == "on_comms_entry":
            hooks.on_comms_entry({**self.args, "ts": ts})
        else:
            getattr(hooks, self.hook)(**self.args, ts=ts)


class Calls:
    """Emits the steps of requests and tool calls into ``steps``."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.steps: list[DemoStep] = []
        self.worker_cache_written = False
        self.last_tools: list[str] = []  # the tools the last response emitted called

    # --- emitting -------------------------------------------------------------------

    def emit(self, offset_s: float, hook: str, **args: Any) -> None:
        # Whatever would happen after the end has not happened yet: a request still in
        # flight, a ticket still in progress.
        if offset_s <= DURATION_S:
            self.steps.append(DemoStep(round(offset_s, 3), hook, args))

    def call(self, t: float, tier: str, provider: str | None, model: str, latency_s: float, payload: dict) -> float:
        """A request leaves at ``t`` and its response, with usage, arrives ``latency_s``
        later; returns the arrival time."""
        head = {"kind": "request", "direction": "out", "model": model, "tier": tier, "session": SESSION}
        if provider is not None:
            head["provider"] = provider
        self.emit(t, "on_comms_entry", **head, payload={"model": model})
        done = t + latency_s
        # The tools this response asks for are added as they are called (``tool``): a
        # ticket's turns are emitted one after another, so the last response is theirs.
        self.last_tools: list[str] = []
        response = {**head, "kind": "response", "direction": "in", "tools": self.last_tools}
        self.emit(done, "on_comms_entry", **response, payload=payload)
        return done

    def tool(self, t: float, name: str, duration_ms: float, ok: bool = True) -> float:
        # Hosts log a tool call when it returns, so its time is the end of the call.
        done = t + duration_ms / 1000
        self.emit(done, "on_tool_call", name=name, duration_ms=round(duration_ms, 1), ok=ok, session=SESSION)
        if name not in self.last_tools:
            self.last_tools.append(name)
        return done

    def ticket(self, t: float, ticket_id: str, status: str, track: str, reason: str | None = None) -> None:
        self.emit(t, "on_ticket", ticket_id=ticket_id, status=status, track=track, reason=reason, session=SESSION)

    def gap(self, low: float = 0.4, high: float = 3.0) -> float:
        return self.rng.uniform(low, high)

    def ident(self, prefix: str, alphabet: str, n: int) -> str:
        return prefix + "".join(self.rng.choices(alphabet, k=n))

    # --- the four tiers -------------------------------------------------------------

    def anthropic(
        self,
        t: float,
        tier: str,
        model: str,
        *,
        input_tokens: int,
        cache_read: int,
        write_5m: int,
        write_1h: int,
        output: int,
        tokens_per_s: float,
    ) -> float:
        usage = {
            "input_tokens": input_tokens,
            "cache_creation_input_tokens": write_5m + write_1h,
            "cache_read_input_tokens": cache_read,
            "cache_creation": {"ephemeral_5m_input_tokens": write_5m, "ephemeral_1h_input_tokens": write_1h},
            "output_tokens": output,
        }
        prompt = input_tokens + cache_read + write_5m + write_1h
        # Time to first token grows with the uncached part of the prompt; then streaming.
        latency = 2.0 + (input_tokens + write_5m + write_1h) / 30_000 + prompt / 150_000 + output / tokens_per_s
        payload = {"id": self.ident("msg_01", _ALNUM, 22), "model": model, "usage": usage}
        return self.call(t, tier, "anthropic", model, latency, payload)

    def plan(self, t: float, *, opening: bool = False) -> float:
        """Tier 1: the opening plan, or a later decision (a block, the mid-session review)."""
        rng = self.rng
        if opening:
            # The planner's system prompt and repo map go in a 1-hour cache: it is
            # consulted again at blocks and the mid-session review, well past 5 minutes.
            return self.anthropic(
                t,
                TIER_1,
                PLANNER,
                input_tokens=rng.randint(1_200, 2_600),
                cache_read=0,
                write_5m=rng.randint(2_500, 4_500),
                write_1h=rng.randint(17_000, 22_000),
                output=rng.randint(2_800, 4_200),
                tokens_per_s=45,
            )
        return self.anthropic(
            t,
            TIER_1,
            PLANNER,
            input_tokens=rng.randint(150, 900),
            cache_read=rng.randint(19_000, 26_000),
            write_5m=rng.randint(1_500, 4_000),
            write_1h=0,
            output=rng.randint(500, 1_600),
            tokens_per_s=45,
        )

    def lead(
        self,
        t: float,
        *,
        prompt_range: tuple[int, int],
        cached_share: tuple[float, float],
        output_range: tuple[int, int],
    ) -> float:
        """Tier 2: breaking a track down, specifying a ticket or reviewing it."""
        rng = self.rng
        prompt = rng.randint(*prompt_range)
        cached = int(prompt * rng.uniform(*cached_share)) // 128 * 128  # OpenAI caches in 128-token steps
        output = rng.randint(*output_range)
        reasoning = int(output * rng.uniform(0.4, 0.75))
        usage = {
            "input_tokens": prompt,
            "input_tokens_details": {"cached_tokens": cached},
            "output_tokens": output,
            "output_tokens_details": {"reasoning_tokens": reasoning},
            "total_tokens": prompt + output,
        }
        payload = {"id": self.ident("resp_", _HEX, 48), "model": LEAD, "usage": usage}
        latency = 2.5 + output / rng.uniform(55, 90)
        return self.call(t, TIER_2, "openai", LEAD, latency, payload)

    def work_turn(self, t: float, context: int, new: int, *, coding: bool) -> tuple[float, int, int]:
        """One worker turn over a conversation whose first ``context`` tokens are cached and
        whose last ``new`` tokens are not yet; returns (arrival time, cached prompt now,
        output tokens), the output being new to the next turn."""
        rng = self.rng
        cache_read, write_1h = context, 0
        if not self.worker_cache_written:
            # The first worker turn of the session caches the shared system prompt and tool
            # definitions for an hour; every later worker turn reads it.
            cache_read, write_1h, self.worker_cache_written = 0, context, True
        output = rng.randint(400, 3_200) if coding else rng.randint(80, 700)
        input_tokens = rng.randint(1, 40) if rng.random() < 0.8 else rng.randint(200, 1_500)
        done = self.anthropic(
            t,
            TIER_3,
            WORKER,
            input_tokens=input_tokens,
            cache_read=cache_read,
            write_5m=new,
            write_1h=write_1h,
            output=output,
            tokens_per_s=rng.uniform(35, 70),
        )
        return done, context + new + input_tokens, output

    def check(self, t: float) -> float:
        """Tier 4: sometimes a quick local pass first, then the Gemini review."""
        rng = self.rng
        if rng.random() < 0.4:
            prompt, completion = rng.randint(1_500, 6_000), rng.randint(60, 420)
            # A local OpenAI-compatible server: Chat Completions usage and no provider named,
            # as hooks reject provider labels they cannot price under (e.g. "ollama").
            payload = {
                "id": self.ident("chatcmpl-", _ALNUM, 29),
                "model": LOCAL_CHECKER,
                "usage": {
                    "prompt_tokens": prompt,
                    "completion_tokens": completion,
                    "total_tokens": prompt + completion,
                },
            }
            t = self.call(t, TIER_4, None, LOCAL_CHECKER, 0.8 + completion / rng.uniform(25, 45), payload)
            t += self.gap()
        prompt = rng.randint(6_000, 32_000)
        cached = int(prompt * rng.uniform(0.35, 0.7)) if rng.random() < 0.7 else 0
        candidates, thoughts = rng.randint(150, 900), rng.randint(200, 2_200)
        usage = {
            "promptTokenCount": prompt,
            "cachedContentTokenCount": cached,
            "candidatesTokenCount": candidates,
            "thoughtsTokenCount": thoughts,
            "totalTokenCount": prompt + candidates + thoughts,
        }
        payload = {"responseId": self.ident("", _ALNUM + "-_", 23), "modelVersion": CHECKER, "usageMetadata": usage}
        return self.call(t, TIER_4, "gemini", CHECKER, 1.0 + (candidates + thoughts) / rng.uniform(180, 260), payload)

    # --- tools ----------------------------------------------------------------------

    def tools_after_turn(self, t: float, phase: float) -> tuple[float, int]:
        """The tool calls a worker turn asks for; returns (time, tokens of results)."""
        rng = self.rng
        if phase < 0.3:
            names, weights = ("Read", "Grep", "Glob", "WebFetch"), (6, 4, 2, 1)
        elif phase < 0.75:
            names, weights = ("Read", "Edit", "Write", "Grep", "Bash"), (3, 6, 1, 1, 1)
        else:
            names, weights = ("Edit", "Bash", "pytest", "Read"), (3, 3, 2, 1)
        result_tokens = 0
        for _ in range(rng.choice((1, 1, 2, 2, 3))):
            name = rng.choices(names, weights)[0]
            t, tokens, _ = self.run_tool(t + self.gap(0.1, 0.8), name)
            result_tokens += tokens
        return t, result_tokens

    def run_tool(self, t: float, name: str, *, fail_p: float | None = None) -> tuple[float, int, bool]:
        """Run one tool; returns (time it returned, tokens of its result, whether it succeeded)."""
        rng = self.rng
        # (median ms, spread of the log-normal, failure probability, result tokens low/high)
        median_ms, sigma, default_fail_p, lo, hi = {
            "Read": (45, 0.8, 0.01, 800, 7_000),
            "Grep": (180, 0.9, 0.0, 200, 2_500),
            "Glob": (35, 0.6, 0.0, 50, 600),
            "Edit": (30, 0.5, 0.07, 80, 400),  # fails when old_string is not unique
            "Write": (25, 0.5, 0.0, 60, 200),
            "Bash": (1_800, 1.3, 0.12, 100, 3_000),
            "pytest": (14_000, 0.7, 0.3, 400, 4_500),
            "WebFetch": (1_600, 0.6, 0.15, 1_500, 6_000),  # timeouts and 4xx
        }[name]
        duration_ms = rng.lognormvariate(math.log(median_ms), sigma)
        ok = rng.random() >= (default_fail_p if fail_p is None else fail_p)
        return self.tool(t, name, duration_ms, ok), rng.randint(lo, hi), ok
