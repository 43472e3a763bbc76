"""The demo session's plan: 20 tickets in three tracks worked on two lanes (a lead's
spec, worker turns and their tools, tests, the checker, blocks and a resume), idle
gaps while the user looks at a diff, and a rating every ten minutes or so. Built up
front from ``random.Random(seed)``: one seed, one session."""

from __future__ import annotations

from .calls import DURATION_S, SESSION, Calls, DemoStep

DEFAULT_SEED = 7
BUDGET_USD = 25.0

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


class _Script(Calls):
    """The whole session, from the calls ``Calls`` emits."""

    def __init__(self, seed: int):
        super().__init__(seed)
        self.blocked_at: list[float] = []
        self.completed_at: list[float] = []

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
