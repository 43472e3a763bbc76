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
"happened" by now on a simulated clock. ``calls``: what each tier's requests and the
tools look like; ``script``: the session's plan; ``player``: ``DemoSession``.
"""

from .calls import (
    CHECKER,
    DURATION_S,
    LEAD,
    LOCAL_CHECKER,
    PLANNER,
    SESSION,
    TIER_1,
    TIER_2,
    TIER_3,
    TIER_4,
    WORKER,
    DemoStep,
)
from .player import DemoSession
from .script import BLOCK_REASONS, BUDGET_USD, DEFAULT_SEED, TRACKS, WORKER_LANES, build_script

__all__ = [
    "BLOCK_REASONS",
    "BUDGET_USD",
    "CHECKER",
    "DEFAULT_SEED",
    "DURATION_S",
    "LEAD",
    "LOCAL_CHECKER",
    "PLANNER",
    "SESSION",
    "TIER_1",
    "TIER_2",
    "TIER_3",
    "TIER_4",
    "TRACKS",
    "WORKER",
    "WORKER_LANES",
    "DemoSession",
    "DemoStep",
    "build_script",
]
