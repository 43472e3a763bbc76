"""A built-in demo session that plays "live" through the same hooks a host app calls.

What it contains (about 90 simulated minutes of a multi-tier agent conductor):

- Tier 1 plans with claude-opus-4-1 (Anthropic payloads; the opening plan writes a
  1-hour cache, later calls split ``cache_creation`` into ephemeral 5m / 1h writes);
- Tier 2 leads with gpt-5 (OpenAI Responses payloads with
  ``input_tokens_details.cached_tokens`` and ``output_tokens_details.reasoning_tokens``);
- Tier 3 workers code with claude-sonnet-4-5 (Anthropic payloads whose prompts are
  mostly cache reads; one large-context ticket pushes prompts past 200k tokens, where
  the long-context price applies);
- Tier 4 checks with gemini-2.5-flash (Gemini ``usageMetadata`` with
  ``cachedContentTokenCount`` and ``thoughtsTokenCount``), and sometimes first with
  "acme-local-coder-7b", a local model no price list knows (it must show as unpriced);
- tool calls (Read, Grep, Glob, Edit, Write, Bash, pytest, WebFetch) with realistic
  durations and failures; 20 tickets in three tracks moving todo -> in_progress ->
  completed, two blocked with a reason (one resumes later); satisfaction ratings (0-10)
  every ten minutes or so.

Comms entries carry model names, request ids and usage blocks only: never prompt or
response text. The whole script is built up front from ``random.Random(seed)``, so one
seed always gives the same session; ``DemoSession`` only decides how much of it has
"happened" by now on a simulated clock.
"""

from __future__ import annotations

import math
import random
import string
import time
from collections.abc import Mapping
from typing import Any, NamedTuple

from .history import TokenHistory
from .hooks import Hooks

DEFAULT_SEED = 7
DURATION_S = 90 * 60
BUDGET_USD = 25.0
SESSION = "demo"

TIER_1, TIER_2, TIER_3, TIER_4 = "Tier 1", "Tier 2", "Tier 3", "Tier 4"
PLANNER = "claude-opus-4-1"
LEAD = "gpt-5"
WORKER = "claude-sonnet-4-5"
CHECKER = "gemini-2.5-flash"
LOCAL_CHECKER = "acme-local-coder-7b"

TRACKS = {
    "rate-limits": ("RL", 7),
    "csv-export": ("EX", 7),
    "flaky-tests": ("FT", 6),
}
BLOCK_REASONS = (
    "waiting on staging API key",
    "needs decision: CSV encoding for Excel",
    "upstream fixture PR not merged",
)
# Two agents code at once: enough to interleave tracks on the timeline, few enough that
# the session ends with work still to do (so projections have something to project).
WORKER_LANES = 2

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


class _Script:
    """Builds the step list; every random draw goes through one ``random.Random``."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.steps: list[DemoStep] = []
        self.worker_cache_written = False
        self.blocked_at: list[float] = []
        self.completed_at: list[float] = []

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
        self.emit(done, "on_comms_entry", **{**head, "kind": "response", "direction": "in"}, payload=payload)
        return done

    def tool(self, t: float, name: str, duration_ms: float, ok: bool = True) -> float:
        # Hosts log a tool call when it returns, so its time is the end of the call.
        done = t + duration_ms / 1000
        self.emit(done, "on_tool_call", name=name, duration_ms=round(duration_ms, 1), ok=ok, session=SESSION)
        return done

    def ticket(self, t: float, ticket_id: str, status: str, track: str, reason: str | None = None) -> None:
        self.emit(t, "on_ticket", ticket_id=ticket_id, status=status, track=track, reason=reason)

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

    # --- a ticket on one worker lane --------------------------------------------------

    def work_ticket(
        self, t: float, ticket_id: str, track: str, *, block: str | None, resumed: bool, large_context: bool
    ) -> tuple[float, str]:
        """Work one ticket from ``t``; returns (time the lane is free, "completed" | "blocked")."""
        rng = self.rng
        self.ticket(t, ticket_id, "in_progress", track)
        t = self.lead(t + self.gap(), prompt_range=(9_000, 24_000), cached_share=(0.55, 0.9), output_range=(700, 3_500))
        # A worker starts from the shared system prompt (cached) plus the lead's spec (new).
        context, new = rng.randint(16_500, 18_500), rng.randint(5_000, 11_000)
        turns = rng.randint(3, 6) if resumed else rng.randint(8, 15)
        block_turn = rng.randint(3, turns - 2) if block else None
        for i in range(turns):
            phase = i / turns
            t, context, output = self.work_turn(t + self.gap(1.0, 6.0), context, new, coding=phase >= 0.3)
            if i == block_turn:
                t = self.plan(t + self.gap())  # the planner decides to park it
                t += self.gap()
                self.ticket(t, ticket_id, "blocked", track, reason=block)
                self.blocked_at.append(t)
                return t + self.gap(), "blocked"
            if i == turns - 1:
                break
            t, results = self.tools_after_turn(t, phase)
            new = output + results
            if large_context and i == 1:
                # A generated schema dump gets read whole: every later turn of this ticket
                # carries it, so its prompts cross Sonnet's 200k long-context threshold.
                t, _, _ = self.run_tool(t + self.gap(0.1, 0.8), "Read", fail_p=0.0)
                new += rng.randint(168_000, 176_000)
        new = output
        for attempt in range(3):
            t, results, tests_ok = self.run_tool(t + self.gap(), "pytest", fail_p=0.3 if attempt == 0 else 0.08)
            t = self.check(t + self.gap())
            if tests_ok and rng.random() > 0.1:
                break
            new += results
            for _ in range(rng.randint(2, 4)):
                t, context, output = self.work_turn(t + self.gap(), context, new, coding=True)
                t, results, _ = self.run_tool(t + self.gap(0.1, 0.8), "Edit")
                new = output + results
        t = self.lead(t + self.gap(), prompt_range=(8_000, 20_000), cached_share=(0.6, 0.92), output_range=(400, 1_800))
        t += self.gap()
        self.ticket(t, ticket_id, "completed", track)
        self.completed_at.append(t)
        if rng.random() < 0.35:
            # The conductor waits for the user to look at the diff: an idle gap, which the
            # window burn rate must not be diluted by.
            return t + rng.uniform(60, 300), "completed"
        return t + self.gap(), "completed"

    # --- the whole session ------------------------------------------------------------

    def build(self) -> list[DemoStep]:
        rng = self.rng
        tickets = [(f"{prefix}-{n}", track) for track, (prefix, count) in TRACKS.items() for n in range(1, count + 1)]
        # Round-robin across tracks, as a conductor keeps every track moving.
        queue = sorted(tickets, key=lambda tk: (int(tk[0].split("-")[1]), list(TRACKS).index(tk[1])))
        blockers = rng.sample(range(2, 12), 2)
        blocks = {queue[i][0]: reason for i, reason in zip(blockers, rng.sample(BLOCK_REASONS, 2))}
        resumes = queue[blockers[0]][0]  # the first blocker is unblocked later; the other stays blocked
        large = queue[rng.randint(1, 6)][0]

        t = self.plan(self.gap(1.0, 4.0), opening=True)
        for ticket_id, track in tickets:
            t += rng.uniform(0.05, 0.4)
            self.ticket(t, ticket_id, "todo", track)
        for _ in TRACKS:  # the lead breaks each track down before workers start
            t = self.lead(
                t + self.gap(), prompt_range=(14_000, 26_000), cached_share=(0.0, 0.5), output_range=(2_000, 5_500)
            )
        review_at = DURATION_S / 2 + rng.uniform(-120, 120)
        self.plan(review_at)  # the mid-session review, on its own agent beside the workers

        lanes = [t + self.gap() + lane * rng.uniform(20, 60) for lane in range(WORKER_LANES)]
        parked: list[tuple[float, str, str]] = []  # (back in the queue at, ticket, track)
        while lanes and min(lanes) < DURATION_S:
            lane = lanes.index(min(lanes))
            now = lanes[lane]
            ready = [p for p in parked if p[0] <= now]
            if ready:
                parked.remove(ready[0])
                _, ticket_id, track = ready[0]
                resumed = True
            elif queue:
                ticket_id, track = queue.pop(0)
                resumed = False
            else:
                break
            lanes[lane], outcome = self.work_ticket(
                now,
                ticket_id,
                track,
                block=None if resumed else blocks.get(ticket_id),
                resumed=resumed,
                large_context=ticket_id == large and not resumed,
            )
            if outcome == "blocked" and ticket_id == resumes:
                parked.append((lanes[lane] + rng.uniform(900, 1_500), ticket_id, track))

        self.rate_session()
        # Stable: steps at the same offset keep the order they were produced in.
        return sorted(self.steps, key=lambda step: step.offset_s)

    def rate_session(self) -> None:
        """A rating every ten minutes or so, lower after a block, higher after a run of
        completed tickets: the efficiency header then has a trend to judge."""
        rng = self.rng
        t, last = rng.uniform(480, 720), 0.0
        while t <= DURATION_S:
            blocks = sum(last < b <= t for b in self.blocked_at)
            done = sum(last < c <= t for c in self.completed_at)
            score = rng.gauss(6.5, 1.0) + 0.4 * min(done, 4) - 1.5 * blocks
            self.emit(t, "on_rating", score=float(min(10, max(0, round(score)))), session=SESSION)
            last, t = t, t + rng.uniform(480, 780)


def build_script(seed: int = DEFAULT_SEED) -> list[DemoStep]:
    """The demo session for ``seed``: every step in offset order (a pure function of the seed)."""
    return _Script(seed).build()


class DemoSession:
    """Plays the demo script into ``history`` through ``Hooks`` on a simulated clock.

    The simulated clock starts at ``start_ts`` (default: now) and runs ``speed``
    simulated seconds per wall second, measured on ``time.monotonic()`` so a wall-clock
    change cannot replay or skip steps. Records carry simulated times (``start_ts`` +
    step offset). Call ``advance()`` from one thread, e.g. once per frame.
    """

    budget_usd = BUDGET_USD  # a budget the demo spends a good part of, but not all, in 90 minutes

    def __init__(
        self, history: TokenHistory, *, seed: int = DEFAULT_SEED, start_ts: float | None = None, speed: float = 30.0
    ):
        if not (isinstance(speed, (int, float)) and math.isfinite(speed) and speed > 0):
            raise ValueError(f"speed must be a positive number of simulated seconds per second, got {speed!r}")
        self.history = history
        self.hooks = Hooks(history)
        self.seed = seed
        self.speed = float(speed)
        self.steps: tuple[DemoStep, ...] = tuple(build_script(seed))
        self.start_ts = time.time() if start_ts is None else float(start_ts)
        self.wall_start = time.monotonic()
        self.pushed = 0  # steps[:pushed] have been handed to the hooks

    @property
    def duration_s(self) -> float:
        return float(DURATION_S)

    @property
    def done(self) -> bool:
        return self.pushed >= len(self.steps)

    def elapsed_s(self, wall_now: float | None = None) -> float:
        """Simulated seconds since the start, from 0 to ``duration_s``."""
        wall = time.monotonic() if wall_now is None else wall_now
        return min(max(wall - self.wall_start, 0.0) * self.speed, self.duration_s)

    def sim_now(self, wall_now: float | None = None) -> float:
        """The simulated clock, epoch seconds; ``wall_now`` is a ``time.monotonic()`` reading."""
        return self.start_ts + self.elapsed_s(wall_now)

    def advance(self, wall_now: float | None = None) -> int:
        """Push every step that has happened by the simulated now; returns how many."""
        return self._push_until(self.elapsed_s(wall_now))

    def play_all(self) -> int:
        """Push every remaining step at once; returns how many."""
        return self._push_until(math.inf)

    def _push_until(self, elapsed_s: float) -> int:
        steps, hooks, start, first = self.steps, self.hooks, self.start_ts, self.pushed
        i = first
        while i < len(steps) and steps[i].offset_s <= elapsed_s:
            steps[i].push(hooks, start + steps[i].offset_s)
            i += 1
            self.pushed = i  # kept current, so a step that raises is not pushed twice
        return i - first
