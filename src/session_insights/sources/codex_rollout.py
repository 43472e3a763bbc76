"""What one Codex rollout file has said so far that its later lines depend on.

A rollout's lines are read one at a time, but their meaning depends on what came before:
the session and tier its ``session_meta`` named, the model of the last ``turn_context``,
the running token totals, the calls waiting for their output, and whether the lines
being read are a fork's replay of its parent. ``Rollout`` holds that, one per file.

The fork quirk kept here: a forked rollout (``forked_from_id``, a subagent's
``parent_thread_id``, or a copy of another session's ``session_meta`` before any count)
starts by replaying its parent's history, token counts included, all re-stamped at the
fork. Those counts were the parent's: they set the baseline and are not counted. The
replay ends at the first turn whose id (a UUIDv7) was minted at or after the fork, or
at the first line written more than ``REPLAY_WINDOW_S`` after it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from ..events import UsageEvent
from .base import Memory
from .claude import MAIN_TIER, SIDECHAIN_TIER, parse_ts

REPLAY_WINDOW_S = 2.0  # a fork's replayed history is written within this of the fork itself
MAX_OPEN_CALLS = 10_000
_TOTAL_FIELDS = (
    "input_tokens",
    "cached_input_tokens",
    "output_tokens",
    "reasoning_output_tokens",
    "cache_write_input_tokens",
)
# input (with cached and cache writes), cached, output (with reasoning), reasoning, cache writes
Totals = tuple[int, int, int, int, int]


def totals(usage: object) -> Totals | None:
    """The five counters of a Codex usage object, or None if it is not one."""
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
    return values[0], values[1], values[2], values[3], values[4]


def _uuid7_time(value: object) -> float | None:
    """The creation time a UUIDv7 carries (ms since the epoch), or None."""
    try:
        u = uuid.UUID(str(value))
    except ValueError:
        return None
    return (u.int >> 80) / 1000.0 if u.version == 7 else None


@dataclass
class Rollout:
    """What one rollout file has said so far that later lines depend on."""

    session: str | None = None
    tier: str = MAIN_TIER
    model: str | None = None
    provider: str | None = "openai"
    totals: Totals | None = None
    meta_ts: float = 0.0  # when its session_meta says the session was created
    fork_ts: float | None = None  # set while a fork's replayed history is being read
    replay_started: float | None = None
    calls: Memory = field(default_factory=lambda: Memory(MAX_OPEN_CALLS))  # call_id -> (name, ts)
    # Tools called since the last token_count: a response's calls are written before its usage.
    turn_tools: dict[str, None] = field(default_factory=dict)
    # Calls Codex said failed (``item_completed``, status ``failed``) before their output.
    failed_calls: Memory = field(default_factory=lambda: Memory(MAX_OPEN_CALLS))
    # Requests read before any line named the model: named by the next turn_context, or
    # kept as the unknown model at the end of the read.
    pending: list[UsageEvent] = field(default_factory=list)

    @classmethod
    def opened(cls, payload: dict, ts: float) -> Rollout:
        """The rollout a ``session_meta`` payload (written at ``ts``) opens."""
        session = payload.get("id")
        source = payload.get("source")
        subagent = isinstance(source, dict) and "subagent" in source
        rollout = cls(
            session=session if isinstance(session, str) and session else None,
            tier=SIDECHAIN_TIER if subagent else MAIN_TIER,
        )
        provider = payload.get("model_provider")
        if isinstance(provider, str) and provider and provider.lower() != "openai":
            rollout.provider = provider  # a local or third-party provider: priced if known, else named unpriced
        stamped = payload.get("timestamp")
        rollout.meta_ts = parse_ts(stamped) if isinstance(stamped, str) else ts
        spawn = source.get("subagent") if subagent else None
        parent = spawn.get("thread_spawn", {}).get("parent_thread_id") if isinstance(spawn, dict) else None
        if payload.get("forked_from_id") or parent:
            rollout.start_replay(session, rollout.meta_ts, ts)
        return rollout

    def start_replay(self, session: object, created_ts: float, ts: float) -> None:
        """Read what follows as a copy of another session's history, made when ``session``
        (a UUIDv7 carries its time) or else its ``session_meta`` was created."""
        created = _uuid7_time(session)
        self.fork_ts = created_ts if created is None else created
        self.replay_started = ts

    def check_replay_end(self, kind: object, payload: dict, ts: float) -> None:
        """End the replay at a turn minted since the fork, or once lines come later than it."""
        if kind == "turn_context":
            minted = _uuid7_time(payload.get("turn_id"))
            if minted is not None and minted >= self.fork_ts:
                self.fork_ts = None
                return
        if ts > self.replay_started + REPLAY_WINDOW_S:
            self.fork_ts = None
