"""The demo's earlier sessions: six ended sessions over the ten days before it, so the
headers across sessions (Sessions, Efficiency Over Time, Usage Over Time, Token
Categories, Cost by Tool) have something to show from the first frame.

Each session is delimited (start and end marks), rated, completes tickets of its own and
names the tools each request called. Each spends more tokens per satisfaction point than
the next, the demo's own (2.3M) least: the verdict has a trend to state, and it is the
one a user would hope for. Built from ``random.Random(seed)``.
"""

from __future__ import annotations

import random

from ..events import SessionMark, TicketUpdate, usage_event
from ..history import TokenHistory
from .calls import SESSION, TIER_3

DAY_S = 86_400.0
# Days before the demo's start each earlier session ran on (oldest first).
DAYS_BEFORE = (10, 8, 6, 5, 3, 1)
PROJECT, SOURCE = "demo", "comms"
TOOLS = ("Read", "Grep", "Edit", "Bash", "pytest")


def play_earlier(history: TokenHistory, start_ts: float, seed: int = 7) -> int:
    """Add the earlier sessions to ``history``; returns how many requests they made."""
    rng = random.Random(seed * 31 + 1)
    requests = 0
    for k, days in enumerate(DAYS_BEFORE):
        session = f"demo-earlier-{k + 1}"
        t = start_ts - days * DAY_S + rng.uniform(-2, 2) * 3600
        history.add(SessionMark(t, session, "start", PROJECT, SOURCE))
        # Fewer tokens a request and more satisfied users as the sessions go on.
        scale = 1.6 - 0.12 * k
        for r in range(rng.randint(120, 160)):
            t += rng.uniform(20, 90)
            tools = tuple(sorted(set(rng.sample(TOOLS, rng.randint(1, 3)))))
            history.add(
                usage_event(
                    model="claude-sonnet-4-5",
                    input_tokens=int(rng.randint(2_000, 6_000) * scale),
                    cache_read_tokens=int(rng.randint(120_000, 180_000) * scale),
                    output_tokens=int(rng.randint(600, 2_400) * scale),
                    ts=t,
                    tier=TIER_3,
                    session=session,
                    source=SOURCE,
                    request_key=f"{session}-{r}",
                    tools=tools,
                )
            )
            for name in tools:
                history.record_tool_call(name, rng.uniform(30, 9_000), ok=rng.random() > 0.1, ts=t + 1, session=session)
            requests += 1
        for n in range(rng.randint(1, 3)):
            history.add(TicketUpdate(t + 10 + n, f"E{k + 1}-{n + 1}", "completed", track="earlier", session=session))
        history.rate(min(10.0, 5.0 + 0.7 * k + rng.uniform(-0.5, 0.5)), ts=t + 20, session=session)
        history.add(SessionMark(t + 30, session, "end"))
    history.add(SessionMark(start_ts, SESSION, None, PROJECT, SOURCE))  # the demo's own: its project
    return requests
