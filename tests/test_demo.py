"""The built-in demo session: a deterministic, realistic conductor session played
through the host hooks on a simulated clock."""

from __future__ import annotations

import time

import pytest

from session_insights.demo import DemoSession, build_script
from session_insights.history import TokenHistory

START = 1_759_312_800.0  # 2025-10-01 10:00 UTC
PAYLOAD_KEYS = {"id", "model", "usage", "responseId", "modelVersion", "usageMetadata"}
# "tools": the names of the tools a response called (names only, never their input).
ENTRY_KEYS = {"kind", "direction", "provider", "model", "tier", "session", "payload", "tools"}


def played(seed: int = 7, start_ts: float = START) -> tuple[DemoSession, TokenHistory]:
    history = TokenHistory()
    demo = DemoSession(history, seed=seed, start_ts=start_ts)
    demo.play_all()
    history.drain()
    return demo, history


@pytest.fixture(scope="module")
def finished() -> tuple[DemoSession, dict]:
    demo, history = played()
    history.budget_usd = demo.budget_usd
    return demo, history.snapshot(now_ts=demo.start_ts + demo.duration_s)


def comms_steps(demo: DemoSession, direction: str | None = None) -> list:
    return [
        s for s in demo.steps if s.hook == "on_comms_entry" and (direction is None or s.args["direction"] == direction)
    ]


# --- determinism ---------------------------------------------------------------------


def test_same_seed_and_start_give_identical_snapshots():
    (demo_a, a), (_, b) = played(), played()
    now = demo_a.start_ts + demo_a.duration_s
    assert a.snapshot(now_ts=now) == b.snapshot(now_ts=now)


def test_another_seed_gives_another_session():
    (demo_a, a), (_, b) = played(seed=7), played(seed=8)
    now = demo_a.start_ts + demo_a.duration_s
    assert a.snapshot(now_ts=now)["totals"] != b.snapshot(now_ts=now)["totals"]
    assert build_script(7) != build_script(8)


def test_script_is_a_pure_function_of_the_seed_and_in_offset_order():
    steps = build_script(7)
    assert steps == build_script(7)
    offsets = [s.offset_s for s in steps]
    assert offsets == sorted(offsets)
    assert offsets[0] >= 0 and offsets[-1] <= DemoSession(TokenHistory(), start_ts=START).duration_s


def test_session_lasts_about_ninety_simulated_minutes():
    demo, history = played()
    assert 85 * 60 <= demo.duration_s <= 95 * 60
    assert demo.steps[-1].offset_s > 0.8 * demo.duration_s
    assert history.snapshot()["session"]["first_ts"] >= START


# --- what the session contains -----------------------------------------------------------


def test_four_tiers_each_with_its_model(finished):
    _, snap = finished
    models = {tier: row["models"] for tier, row in snap["by_tier"].items()}
    assert models == {
        "Tier 1": ["claude-opus-4-1"],
        "Tier 2": ["gpt-5"],
        "Tier 3": ["claude-sonnet-4-5"],
        "Tier 4": ["acme-local-coder-7b", "gemini-2.5-flash"],
    }


def test_local_model_is_unpriced_and_the_others_are_priced(finished):
    _, snap = finished
    assert snap["unpriced_models"] == ["acme-local-coder-7b"]
    local = snap["by_model"]["acme-local-coder-7b"]
    assert local["requests"] > 0 and local["total_tokens"] > 0 and local["cost_usd"] is None
    for model in ("claude-opus-4-1", "gpt-5", "claude-sonnet-4-5", "gemini-2.5-flash"):
        assert snap["by_model"][model]["priced"] and snap["by_model"][model]["cost_usd"] > 0


def test_provider_usage_shapes_are_normalised(finished):
    """Anthropic 5m/1h cache writes, OpenAI cached input and reasoning, Gemini cached
    content and thoughts all reach their own fields."""
    _, snap = finished
    opus, lead = snap["by_model"]["claude-opus-4-1"], snap["by_model"]["gpt-5"]
    worker, checker = snap["by_model"]["claude-sonnet-4-5"], snap["by_model"]["gemini-2.5-flash"]
    assert opus["cache_write_1h_tokens"] > 0 and opus["cache_write_tokens"] > opus["cache_write_1h_tokens"]
    assert lead["cache_read_tokens"] > 0 and 0 < lead["reasoning_tokens"] < lead["output_tokens"]
    assert checker["cache_read_tokens"] > 0 and 0 < checker["reasoning_tokens"] < checker["output_tokens"]
    # Workers re-read their conversation every turn: cache reads dwarf fresh input.
    assert worker["cache_read_tokens"] > 20 * worker["input_tokens"]


def test_some_worker_prompts_pass_the_200k_long_context_threshold():
    prompts = [
        sum(u[k] for k in ("input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens"))
        for s in comms_steps(DemoSession(TokenHistory()), "in")
        if s.args["model"] == "claude-sonnet-4-5"
        for u in [s.args["payload"]["usage"]]
    ]
    long_ones = [p for p in prompts if p > 200_000]
    assert long_ones and len(long_ones) < len(prompts) / 5


def test_outgoing_requests_are_logged_but_only_responses_count(finished):
    demo, snap = finished
    assert comms_steps(demo, "out")
    assert snap["totals"]["requests"] == len(comms_steps(demo, "in"))


def test_tools_have_realistic_durations_and_some_failures(finished):
    _, snap = finished
    tools = snap["tools"]
    assert {"Read", "Edit", "Bash", "Grep", "pytest", "WebFetch"} <= set(tools)
    assert sum(t["failures"] for t in tools.values()) > 0
    assert tools["pytest"]["failures"] > 0 and tools["pytest"]["failures"] < tools["pytest"]["calls"]
    # A test run takes seconds; reading a file takes milliseconds.
    assert tools["pytest"]["mean_ms"] > 1_000 > tools["Read"]["mean_ms"]


def test_tickets_end_in_every_status_with_reasons_for_the_blocked(finished):
    _, snap = finished
    tickets = snap["tickets"]
    assert 15 <= tickets["total"] <= 25
    statuses = ("todo", "in_progress", "blocked", "completed")
    assert all(tickets["by_status"][status] > 0 for status in statuses), tickets["by_status"]
    assert tickets["by_status"]["left_open"] == 0  # the demo is one session, being worked
    assert 2 <= len(tickets["tracks"]) <= 3
    assert tickets["blocked"] and all(b["reason"] for b in tickets["blocked"])


def test_tickets_move_todo_then_in_progress_then_completed():
    demo = DemoSession(TokenHistory(), start_ts=START)
    paths: dict[str, list[str]] = {}
    for step in demo.steps:
        if step.hook == "on_ticket":
            paths.setdefault(step.args["ticket_id"], []).append(step.args["status"])
    assert all(path[0] == "todo" for path in paths.values())
    assert ["todo", "in_progress", "completed"] in paths.values()
    # A blocked ticket that is unblocked goes back to work and finishes.
    assert ["todo", "in_progress", "blocked", "in_progress", "completed"] in paths.values()


def test_satisfaction_ratings_come_every_so_often(finished):
    demo, snap = finished
    scores = [s.args["score"] for s in demo.steps if s.hook == "on_rating"]
    assert 5 <= len(scores) <= 15 and all(0 <= s <= 10 for s in scores)
    assert len(set(scores)) > 1
    assert snap["efficiency"]["ratings"] == len(scores)


def test_payloads_carry_usage_blocks_model_names_and_ids_only():
    def numbers_only(block) -> bool:
        return all(numbers_only(v) if isinstance(v, dict) else type(v) is int for v in block.values())

    demo = DemoSession(TokenHistory(), start_ts=START)
    for step in comms_steps(demo):
        entry = step.args
        assert set(entry) <= ENTRY_KEYS and "ts" not in entry
        payload = entry["payload"]
        assert set(payload) <= PAYLOAD_KEYS, set(payload)
        assert payload.get("model", payload.get("modelVersion")) == entry["model"]
        usage = payload.get("usage", payload.get("usageMetadata"))
        assert (usage is None) == (entry["direction"] == "out")
        if usage is not None:
            assert numbers_only(usage)
    other_args = {
        "on_tool_call": {"name", "duration_ms", "ok", "session"},
        "on_ticket": {"ticket_id", "status", "track", "reason", "session"},
        "on_rating": {"score", "session"},
    }
    for step in demo.steps:
        if step.hook != "on_comms_entry":
            assert set(step.args) == other_args[step.hook]


# --- the simulated clock -----------------------------------------------------------------


def test_advance_at_half_time_pushes_about_half_and_nothing_from_the_future():
    history = TokenHistory()
    demo = DemoSession(history, start_ts=START, speed=60.0)
    half_wall = demo.wall_start + demo.duration_s / 2 / demo.speed
    pushed = demo.advance(half_wall)
    sim_now = demo.sim_now(half_wall)
    assert sim_now == pytest.approx(START + demo.duration_s / 2)
    assert 0.3 < pushed / len(demo.steps) < 0.7
    assert pushed == demo.pushed and not demo.done
    assert all(START + s.offset_s <= sim_now for s in demo.steps[:pushed])
    assert START + demo.steps[pushed].offset_s > sim_now
    history.drain()
    assert history.snapshot()["session"]["last_ts"] <= sim_now
    assert demo.advance(half_wall) == 0  # nothing is pushed twice

    end_wall = demo.wall_start + demo.duration_s / demo.speed
    assert demo.advance(end_wall) == len(demo.steps) - pushed
    assert demo.done and demo.play_all() == 0


def test_sim_now_runs_at_speed_from_start_and_stops_at_the_end():
    demo = DemoSession(TokenHistory(), start_ts=START, speed=30.0)
    assert demo.sim_now(demo.wall_start) == START
    assert demo.sim_now(demo.wall_start - 5) == START
    assert demo.sim_now(demo.wall_start + 10) == pytest.approx(START + 300)
    assert demo.sim_now(demo.wall_start + 10 * demo.duration_s) == START + demo.duration_s


def test_records_carry_simulated_times():
    demo, history = played(start_ts=START)
    first_response = comms_steps(demo, "in")[0]
    snap = history.snapshot()
    assert snap["session"]["first_ts"] == START + first_response.offset_s
    assert snap["session"]["last_ts"] <= START + demo.duration_s


def test_start_defaults_to_now_and_speed_must_be_positive():
    before = time.time()
    demo = DemoSession(TokenHistory())
    assert before <= demo.start_ts <= time.time()
    assert demo.sim_now() >= demo.start_ts
    with pytest.raises(ValueError, match="speed"):
        DemoSession(TokenHistory(), speed=0)


# --- the figures a finished demo shows ----------------------------------------------------


def test_finished_demo_fills_totals_efficiency_and_projection(finished):
    demo, snap = finished
    totals = snap["totals"]
    for key in ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "requests", "cost_usd"):
        assert totals[key] > 0, key
    # The suggested budget is spent in part, so the projection has something left to project.
    assert 0 < totals["cost_usd"] < demo.budget_usd
    efficiency = snap["efficiency"]
    assert efficiency["tokens_per_completed_ticket"] > 0
    assert efficiency["over_time"]["interval"] is not None and efficiency["over_time"]["buckets"]
    projection = snap["projection"]
    for key in (
        "budget_left_usd",
        "time_to_exhaustion_s",
        "exhaustion_ts",
        "cost_per_ticket_usd",
        "cost_to_finish_usd",
        "time_per_ticket_s",
        "eta_s",
    ):
        assert projection[key] is not None and projection[key] > 0, key
    assert snap["burn_rate"]["window"]["tokens_per_min"] > 0


def test_the_demo_plays_its_whole_session_within_half_a_minute_by_default():
    from session_insights.cli_args import DEMO_DURATION_S, DEMO_SPEED, window_parser
    from session_insights.demo.calls import DURATION_S

    assert DEMO_DURATION_S == DURATION_S
    assert window_parser().parse_args(["--demo"]).demo_speed == DEMO_SPEED
    assert DURATION_S / DEMO_SPEED <= 30.0


def test_the_demos_earlier_sessions_are_ended_rated_and_the_same_every_run():
    from session_insights import TokenHistory
    from session_insights.demo.earlier import DAYS_BEFORE, play_earlier

    first, second = TokenHistory(), TokenHistory()
    assert play_earlier(first, 1_796_141_700.0) == play_earlier(second, 1_796_141_700.0) > 0
    first.drain()
    second.drain()
    snap = first.snapshot(now_ts=1_796_141_700.0)
    assert snap["totals"] == second.snapshot(now_ts=1_796_141_700.0)["totals"]
    earlier = {name: s for name, s in snap["sessions"].items() if name.startswith("demo-earlier-")}
    assert len(earlier) == len(DAYS_BEFORE)


def test_the_demos_responses_name_the_tools_they_called_so_cost_by_tool_has_turns():
    demo, history = played()
    tools = history.snapshot(now_ts=START + demo.duration_s)["tools"]
    assert tools and all(t["turns"] and t["turn_cost_usd"] for t in tools.values())
    for step in comms_steps(demo):
        assert all(isinstance(name, str) for name in step.args.get("tools", []))


def test_a_comms_entry_naming_the_tools_its_response_called_counts_them_as_its_turn():
    from session_insights import TokenHistory
    from session_insights.hooks import Hooks

    history = TokenHistory()
    usage = {"input_tokens": 1_000, "output_tokens": 200}
    entry = {"direction": "in", "model": "claude-sonnet-4-5", "session": "s", "tools": ["Read", "Edit"]}
    Hooks(history).on_comms_entry({**entry, "ts": 1_796_141_700.0, "payload": {"usage": usage}})
    history.drain()
    tools = history.snapshot(now_ts=1_796_141_800.0)["tools"]
    assert {name: t["turns"] for name, t in tools.items()} == {"Read": 1, "Edit": 1}


def test_the_demo_sessions_cost_per_ticket_is_the_one_efficiency_shows(finished):
    from session_insights.across import session_figures

    demo, _ = finished
    _, history = played()
    history.budget_usd = demo.budget_usd
    snap = history.snapshot(now_ts=demo.start_ts + demo.duration_s)
    (row,) = [session_figures(r) for r in history.session_rows() if r["session"] == "demo"]
    assert row["tickets_completed"] == snap["tickets"]["by_status"]["completed"] > 0
    assert row["cost_per_completed_ticket_usd"] == pytest.approx(snap["projection"]["cost_per_ticket_usd"])
