"""Codex CLI rollouts: cumulative totals, repeats, forks, subagents, tools, plans, limits."""

import shutil
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from session_insights import TokenHistory
from session_insights.cli import main
from session_insights.sources import default_roots, discover, open_source
from session_insights.sources.codex import REPLAY_WINDOW_S

T0 = datetime(2025, 11, 20, 10, 0, tzinfo=UTC).timestamp()


def iso(s: float) -> str:
    return datetime.fromtimestamp(T0 + s, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def uuid7(s: float, n: int = 0) -> str:
    """A UUIDv7 minted at T0 + s (its top 48 bits are the milliseconds)."""
    ms = int((T0 + s) * 1000)
    return str(uuid.UUID(int=(ms << 80) | (0x7 << 76) | (n << 64) | (0b10 << 62) | 0x1234))


MAIN = uuid7(0)
FORK = uuid7(3600)


def line(s: float, kind: str, payload: dict) -> dict:
    return {"timestamp": iso(s), "type": kind, "payload": payload}


def meta(s: float, session: str, **extra) -> dict:
    return line(
        s,
        "session_meta",
        {
            "id": session,
            "timestamp": iso(s),
            "cwd": "/home/me/project",
            "originator": "codex_cli_rs",
            "cli_version": "0.58.0",
            "source": "cli",
            "model_provider": "openai",
            "git": {"branch": "main"},
            **extra,
        },
    )


def turn(s: float, model: str, turn_id: str | None = None) -> dict:
    payload = {
        "cwd": "/home/me/project",
        "approval_policy": "on-request",
        "model": model,
        "effort": "medium",
        "summary": "auto",
        "sandbox_policy": {"mode": "workspace-write"},
    }
    if turn_id:
        payload["turn_id"] = turn_id
    return line(s, "turn_context", payload)


def usage(inp: int, cached: int, out: int, reasoning: int) -> dict:
    return {
        "input_tokens": inp,
        "cached_input_tokens": cached,
        "output_tokens": out,
        "reasoning_output_tokens": reasoning,
        "total_tokens": inp + out,
    }


def tokens(s: float, total: tuple | None, last: tuple | None = None, limits: dict | None = None) -> dict:
    info = None
    if total is not None:
        info = {"total_token_usage": usage(*total), "model_context_window": 272000}
        if last is not None:
            info["last_token_usage"] = usage(*last)
    return line(s, "event_msg", {"type": "token_count", "info": info, "rate_limits": limits})


def limits(used5h: float, used7d: float, s: float) -> dict:
    return {
        "primary": {"used_percent": used5h, "window_minutes": 300, "resets_at": int(T0 + s + 3600)},
        "secondary": {"used_percent": used7d, "window_minutes": 10080, "resets_at": int(T0 + s + 86400)},
    }


def user_text(s: float, text: str) -> dict:
    return line(
        s, "response_item", {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}
    )


def call(s: float, name: str, call_id: str, arguments: dict) -> dict:
    return line(
        s,
        "response_item",
        {"type": "function_call", "name": name, "call_id": call_id, "arguments": orjson.dumps(arguments).decode()},
    )


def output(s: float, call_id: str, out: str, kind: str = "function_call_output") -> dict:
    return line(s, "response_item", {"type": kind, "call_id": call_id, "output": out})


def write(path: Path, lines: list, tail: bytes = b"") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(orjson.dumps(x) + b"\n" for x in lines) + tail)
    return path


def main_rollout() -> list:
    return [
        meta(0, MAIN),
        user_text(1, "Fix the failing test in parser.py " * 200),
        turn(1, "gpt-5-codex", uuid7(1, 1)),
        tokens(1.5, None, limits=limits(5.0, 70.0, 1.5)),
        line(
            2,
            "response_item",
            {
                "type": "reasoning",
                "summary": [{"type": "summary_text", "text": "Looking"}],
                "encrypted_content": "gAAAA" * 400,
            },
        ),
        call(5, "shell", "call_1", {"command": ["bash", "-lc", "pytest -q"]}),
        tokens(5, (10_000, 4_000, 500, 200), (10_000, 4_000, 500, 200), limits(6.0, 71.0, 5)),
        tokens(5.2, (10_000, 4_000, 500, 200), (10_000, 4_000, 500, 200)),  # the same totals again
        output(
            7,
            "call_1",
            orjson.dumps({"output": "1 failed", "metadata": {"exit_code": 1, "duration_seconds": 1.5}}).decode(),
        ),
        call(
            9,
            "update_plan",
            "call_2",
            {
                "explanation": "steps",
                "plan": [
                    {"step": "Reproduce the failure", "status": "completed"},
                    {"step": "Fix the parser", "status": "in_progress"},
                    {"step": "Run the whole suite", "status": "pending"},
                ],
            },
        ),
        output(9.25, "call_2", "Plan updated"),
        tokens(10, (25_000, 18_000, 1_300, 600), (15_000, 14_000, 800, 400), limits(7.0, 72.0, 10)),
        turn(20, "gpt-5", uuid7(20, 2)),
        line(
            21,
            "response_item",
            {"type": "custom_tool_call", "name": "apply_patch", "call_id": "call_3", "input": "*** Begin Patch"},
        ),
        output(22, "call_3", "Exit code: 0\nWall time: 0.2 seconds\nOutput:\nSuccess.", "custom_tool_call_output"),
        tokens(25, (40_000, 30_000, 2_000, 900), (15_000, 12_000, 700, 300)),
    ]


# Expected from the main rollout: three requests.
#   gpt-5-codex: (10000-4000, 4000, 500) + (15000-14000, 14000, 800) -> input 7000, cache 18000, output 1300
#   gpt-5:       (15000-12000, 12000, 700)                            -> input 3000, cache 12000, output 700


def fork_rollout() -> list:
    # The fork replays its parent's history, re-stamped at the fork (3600 s), then works on.
    return [
        meta(3600, FORK, forked_from_id=MAIN),
        meta(3600.01, MAIN),
        turn(3600.01, "gpt-5-codex", uuid7(1, 1)),
        call(3600.02, "shell", "call_1", {"command": ["bash", "-lc", "pytest -q"]}),
        tokens(3600.02, (10_000, 4_000, 500, 200), (10_000, 4_000, 500, 200)),
        output(3600.02, "call_1", "Exit code: 1\nWall time: 1.5 seconds"),
        tokens(3600.03, (25_000, 18_000, 1_300, 600), (15_000, 14_000, 800, 400)),
        turn(3600.03, "gpt-5", uuid7(20, 2)),
        tokens(3600.04, (40_000, 30_000, 2_000, 900), (15_000, 12_000, 700, 300)),
        # The fork's own first turn, minted after the fork.
        turn(3660, "gpt-5", uuid7(3660, 3)),
        call(3661, "shell", "call_9", {"command": ["bash", "-lc", "git status"]}),
        output(3662, "call_9", "Exit code: 0\nWall time: 0.5 seconds"),
        tokens(3665, (45_000, 34_000, 2_300, 1_000), (5_000, 4_000, 300, 100), limits(9.0, 73.0, 3665)),
    ]


def subagent_rollout() -> list:
    sub = uuid7(30)
    return [
        meta(30, sub, source={"subagent": {"thread_spawn": {"parent_thread_id": MAIN, "depth": 1}}}),
        turn(30.5, "gpt-5-mini", uuid7(30.5, 4)),
        tokens(40, (2_000, 0, 100, 0), (2_000, 0, 100, 0)),
    ]


def codex_home(tmp_path: Path) -> Path:
    home = tmp_path / "codex"
    day = home / "sessions" / "2025" / "11" / "20"
    write(day / f"rollout-2025-11-20T10-00-00-{MAIN}.jsonl", main_rollout(), tail=b'{"timestamp": "2025-11-20T1')
    write(day / f"rollout-2025-11-20T11-00-00-{FORK}.jsonl", fork_rollout())
    write(home / "archived_sessions" / "rollout-2025-11-20T10-00-30-sub.jsonl", subagent_rollout())
    return home


def read(*specs: str, history: TokenHistory | None = None) -> tuple[TokenHistory, dict]:
    history = history or TokenHistory()
    for spec in specs:
        open_source(spec, history).poll()
    history.drain()
    return history, history.snapshot(now_ts=T0 + 4000)


def test_codex_rollouts_count_each_request_once(tmp_path):
    home = codex_home(tmp_path)
    _, snap = read(f"codex:{home / 'sessions'}", f"codex:{home / 'archived_sessions'}")
    by_model = snap["by_model"]
    assert by_model["gpt-5-codex"]["requests"] == 2
    assert (
        by_model["gpt-5-codex"]["input_tokens"],
        by_model["gpt-5-codex"]["cache_read_tokens"],
        by_model["gpt-5-codex"]["output_tokens"],
    ) == (7_000, 18_000, 1_300)
    # Main rollout's gpt-5 turn, plus the fork's own turn (5000-4000 input, 4000 cached, 300 out).
    assert by_model["gpt-5"]["requests"] == 2
    assert (
        by_model["gpt-5"]["input_tokens"],
        by_model["gpt-5"]["cache_read_tokens"],
        by_model["gpt-5"]["output_tokens"],
    ) == (3_000 + 1_000, 12_000 + 4_000, 700 + 300)
    assert (
        by_model["gpt-5-mini"]["requests"],
        by_model["gpt-5-mini"]["input_tokens"],
        by_model["gpt-5-mini"]["output_tokens"],
    ) == (1, 2_000, 100)
    totals = snap["totals"]
    assert (
        totals["requests"],
        totals["input_tokens"],
        totals["cache_read_tokens"],
        totals["output_tokens"],
        totals["cache_write_tokens"],
    ) == (5, 13_000, 34_000, 2_400, 0)
    assert snap["unpriced_models"] == []
    assert totals["cost_usd"] > 0


def test_codex_sessions_tiers_and_the_fork_keeps_its_own_id(tmp_path):
    home = codex_home(tmp_path)
    _, snap = read(f"codex:{home}")
    assert snap["sessions"][MAIN]["requests"] == 3
    assert snap["sessions"][FORK]["requests"] == 1
    assert snap["sessions"][FORK]["total_tokens"] == 1_000 + 4_000 + 300
    assert snap["by_tier"]["subagent"]["requests"] == 1
    assert snap["by_tier"]["main agent"]["requests"] == 4
    assert {(snap["sessions"][s]["project"], snap["sessions"][s]["source"]) for s in (MAIN, FORK)} == {
        ("project", "codex")
    }


def test_codex_tools_plan_steps_and_rate_limits(tmp_path):
    home = codex_home(tmp_path)
    _, snap = read(f"codex:{home}")
    tools = snap["tools"]
    # The replayed shell call in the fork is the parent's: only the fork's own git status counts.
    assert (tools["shell"]["calls"], tools["shell"]["failures"]) == (2, 1)
    assert tools["shell"]["total_ms"] == pytest.approx(1_500 + 500)
    assert (tools["apply_patch"]["calls"], tools["apply_patch"]["failures"]) == (1, 0)
    assert tools["apply_patch"]["total_ms"] == pytest.approx(200)
    assert tools["update_plan"]["calls"] == 1
    assert tools["update_plan"]["total_ms"] == pytest.approx(250)
    assert snap["tickets"]["total"] == 3
    # The plan is the main session's; the fork is the session worked now, so the main
    # session's unfinished steps were left open there.
    assert snap["tickets"]["by_status"] == {"completed": 1, "in_progress": 0, "todo": 0, "blocked": 0, "left_open": 2}
    [(label, latest)] = snap["rate_limits"].items()
    assert label.startswith("codex:")
    assert latest["primary"] == {"used_pct": 9.0, "window_minutes": 300, "resets_at": T0 + 3665 + 3600}
    assert latest["secondary"]["used_pct"] == 73.0


def test_a_rollout_read_again_under_another_path_counts_once(tmp_path):
    home = codex_home(tmp_path)
    src = next((home / "sessions").rglob(f"*{MAIN}.jsonl"))
    history, first = read(f"codex:{home / 'sessions'}")
    shutil.copy(src, home / "archived_sessions" / src.name)  # archived while being watched
    _, again = read(f"codex:{home}", history=history)
    assert again["totals"] == first["totals"] | {
        "requests": 5,
        "input_tokens": 13_000,
        "cache_read_tokens": 34_000,
        "output_tokens": 2_400,
        "total_tokens": 49_400,
        "cost_usd": again["totals"]["cost_usd"],
    }
    assert again["by_model"]["gpt-5-codex"] == first["by_model"]["gpt-5-codex"] | {
        "share_pct": again["by_model"]["gpt-5-codex"]["share_pct"]
    }


def test_totals_that_go_backwards_count_the_last_request(tmp_path):
    s = uuid7(100)
    path = write(
        tmp_path / "r.jsonl",
        [
            meta(100, s),
            turn(100, "gpt-5"),
            tokens(110, (8_000, 0, 400, 0)),  # an early build without last_token_usage: the total is the request
            tokens(120, (12_000, 2_000, 600, 0)),
            tokens(130, (3_000, 1_000, 50, 0), (3_000, 1_000, 50, 0)),  # the counters restarted
        ],
    )
    _, snap = read(f"codex:{path}")
    t = snap["totals"]
    assert (t["requests"], t["input_tokens"], t["cache_read_tokens"], t["output_tokens"]) == (
        3,
        8_000 + 2_000 + 2_000,
        2_000 + 1_000,
        400 + 200 + 50,
    )


def test_a_fork_without_turn_ids_ends_its_replay_by_time(tmp_path):
    fork = str(uuid.UUID(int=42))  # not a UUIDv7: the fork time comes from its timestamp
    path = write(
        tmp_path / "f.jsonl",
        [
            meta(500, fork, forked_from_id=MAIN),
            meta(500, MAIN),
            turn(500, "gpt-5"),
            tokens(500.01, (10_000, 4_000, 500, 200), (10_000, 4_000, 500, 200)),
            tokens(500 + REPLAY_WINDOW_S / 2, (25_000, 18_000, 1_300, 600)),
            turn(530, "gpt-5"),
            tokens(540, (26_000, 18_500, 1_400, 600), (1_000, 500, 100, 0)),
        ],
    )
    _, snap = read(f"codex:{path}")
    t = snap["totals"]
    assert (t["requests"], t["input_tokens"], t["cache_read_tokens"], t["output_tokens"]) == (1, 500, 500, 100)
    assert list(snap["sessions"]) == [fork]


def test_bad_lines_are_counted_per_file_and_the_half_line_waits(tmp_path):
    home = codex_home(tmp_path)
    main_file = next((home / "sessions").rglob(f"*{MAIN}.jsonl"))
    with main_file.open("ab") as f:
        f.write(b'0:00.000Z", "type": "event_msg"}\n')  # completes the half line: JSON, but no payload
        f.write(
            b'{"timestamp": "2025-11-20T10:01:00Z", "type": "event_msg", "payload": {"type": "token_count", '
            b'"info": {"total_token_usage": {"input_tokens": -5}}}}\n'
        )
        f.write(b'{"timestamp": "2025-11-20T10:01:00Z", "type": "event_msg", "payload": {"type": "token_count", "in\n')
    _, snap = read(f"codex:{home}")
    assert snap["errors"]["files"] == {str(main_file): 2}
    assert snap["totals"]["requests"] == 5


def test_tailing_a_live_rollout_and_restarting_from_saved_offsets(tmp_path):
    state = tmp_path / "state.toml"
    path = tmp_path / "live" / "rollout.jsonl"
    lines = main_rollout()
    write(path, lines[:7])
    history = TokenHistory(state_path=state)
    source = open_source(f"codex:{path.parent}", history)
    source.poll()
    history.drain()
    assert history.snapshot()["totals"]["requests"] == 1
    with path.open("ab") as f:  # the next turn arrives, its last line in two writes
        for x in lines[7:12]:
            f.write(orjson.dumps(x) + b"\n")
        last = orjson.dumps(lines[12]) + b"\n"
        f.write(last[:20])
        f.flush()
        source.poll()
        history.drain()
        assert history.snapshot()["totals"]["requests"] == 2
        f.write(last[20:])
    source.poll()
    history.drain()
    history.save()
    before = history.snapshot()["totals"]

    # A restart: the model and the running totals come back from the head of the file.
    with path.open("ab") as f:
        for x in lines[13:]:
            f.write(orjson.dumps(x) + b"\n")
        f.write(orjson.dumps(tokens(40, (41_000, 30_500, 2_100, 900), (1_000, 500, 100, 0))) + b"\n")
    restarted = TokenHistory(state_path=state)
    open_source(f"codex:{path.parent}", restarted).poll()
    restarted.drain()
    snap = restarted.snapshot()
    assert snap["totals"]["requests"] == before["requests"] + 2
    assert snap["by_model"]["gpt-5"]["requests"] == 2
    assert (
        snap["by_model"]["gpt-5"]["input_tokens"],
        snap["by_model"]["gpt-5"]["cache_read_tokens"],
        snap["by_model"]["gpt-5"]["output_tokens"],
    ) == (3_000 + 500, 12_000 + 500, 700 + 100)
    assert snap["tools"]["apply_patch"]["calls"] == 1
    assert snap["sessions"][MAIN]["requests"] == 4


def test_report_over_codex_home_and_discovery(tmp_path, monkeypatch, capsys):
    home = codex_home(tmp_path)
    monkeypatch.setenv("CODEX_HOME", str(home))
    monkeypatch.setenv("HOME", str(tmp_path / "nohome"))
    monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)
    assert default_roots("codex") == [home / "sessions", home / "archived_sessions"]
    assert discover() == ["codex"]
    assert main(["report", "codex", "--format", "json"]) == 0
    snap = orjson.loads(capsys.readouterr().out)
    assert snap["totals"]["requests"] == 5
    assert main(["report", "codex"]) == 0
    text = capsys.readouterr().out
    limits_table = text[text.index("\nLimits\n") :].split("\n\n")[0]
    assert "codex 5h    9%" in limits_table and "codex 7d   73%" in limits_table


def test_no_codex_logs_is_a_clear_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "none"))
    assert main(["report", "codex"]) == 2
    assert "no Codex CLI logs found" in capsys.readouterr().err


def test_discovery_finds_rollouts_reached_through_a_folder_link(tmp_path, monkeypatch):
    """A CODEX_HOME whose sessions folder links to rollouts kept elsewhere (a dotfiles or
    sync setup) is discovered, as reading it then follows the link too."""
    elsewhere = codex_home(tmp_path / "real")
    home = tmp_path / "home" / ".codex"
    home.mkdir(parents=True)
    (home / "sessions").mkdir()
    (home / "sessions" / "2025").symlink_to(elsewhere / "sessions" / "2025", target_is_directory=True)
    monkeypatch.setenv("CODEX_HOME", str(home))
    monkeypatch.setenv("HOME", str(tmp_path / "nohome"))
    monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)
    assert discover() == ["codex"]


# --- Genuine rollouts, written by Codex CLI 0.171.0 (npm @openai/codex) ---------------------
# Made with `codex exec` under a scratch CODEX_HOME whose config.toml points a model provider
# (id "anthropic", model claude-haiku-4-5, wire_api "responses") at a mock Responses API on
# 127.0.0.1 that streams the replies and usage in each folder's mock-script.json; see
# tests/fixtures/codex/README.md for the truth of each. Claude Haiku 4.5 prices a 5-minute
# cache write ($1.25/M) apart from fresh input ($1/M): cache reads $0.10/M, output $5/M.
FIXTURES = Path(__file__).parent / "fixtures" / "codex"
TOOLS_DIR = FIXTURES / "cache-writes-and-tool-failures"
TOOLS_ROLLOUT = TOOLS_DIR / "rollout-2026-12-01T23-50-51-01a23404-adba-70b3-b7fb-f88500210b36.jsonl"
HAIKU = "claude-haiku-4-5"
NOW = datetime(2026, 12, 2, tzinfo=UTC).timestamp()


def snap_of(*paths: Path, history: TokenHistory | None = None) -> tuple[TokenHistory, dict]:
    history = history or TokenHistory()
    for path in paths:
        open_source(f"codex:{path}", history).poll()
    history.drain()
    return history, history.snapshot(now_ts=NOW)


def tokens_of(t: dict) -> tuple:
    return (
        t["requests"],
        t["input_tokens"],
        t["cache_read_tokens"],
        t["cache_write_tokens"],
        t["output_tokens"],
    )


def genuine_lines(path: Path = TOOLS_ROLLOUT) -> list[dict]:
    return [orjson.loads(x) for x in path.read_bytes().splitlines() if x.strip()]


def test_codex_cache_writes_are_priced_as_cache_writes_not_fresh_input(tmp_path):
    """Two responses: 12,000 input of which 8,000 cache reads and 3,000 cache writes, then
    13,000 / 11,000 / 1,500. Fresh input is 1,000 + 500; read as fresh, the writes were
    billed at $1/M instead of $1.25/M and missing from cache writes ($0.0109, not $0.012025)."""
    _, snap = snap_of(TOOLS_ROLLOUT)
    assert tokens_of(snap["totals"]) == (2, 1_500, 19_000, 4_500, 600)
    assert snap["totals"]["cost_usd"] == pytest.approx(0.012025)
    assert snap["by_model"][HAIKU]["requests"] == 2


def test_genuine_forks_count_only_their_own_requests():
    """``codex exec fork`` continues the parent's totals in a file of its own (4,000 more
    input: 500 fresh, 2,500 read, 1,000 written, 60 out); a ``spawn_agent`` with
    ``fork_context`` copies the parent's history into a subagent rollout."""
    _, snap = snap_of(TOOLS_DIR)
    assert tokens_of(snap["totals"]) == (3, 2_000, 21_500, 5_500, 660)
    assert snap["totals"]["cost_usd"] == pytest.approx(0.014325)
    _, snap = snap_of(FIXTURES / "spawn-fork")
    assert tokens_of(snap["totals"]) == (4, 1_900, 5_500, 2_800, 260)
    assert snap["totals"]["cost_usd"] == pytest.approx(0.00725)
    assert snap["by_tier"]["subagent"]["requests"] == 1
    assert (snap["tools"]["spawn_agent"]["calls"], snap["tools"]["spawn_agent"]["failures"]) == (1, 0)


def test_failed_codex_tool_calls_count_as_failures():
    """exec_command's ``Process exited with code 3``, a spawn_agent answered ``unknown
    agent_type``, a wait_agent on a target ``not_found`` and a call Codex could not route
    (``unsupported call: shell``) each failed; ``echo ok`` did not."""
    _, snap = snap_of(TOOLS_ROLLOUT)
    tools = {name: (row["calls"], row["failures"]) for name, row in snap["tools"].items()}
    assert tools == {"exec_command": (2, 1), "spawn_agent": (1, 1), "wait_agent": (1, 1)}
    _, snap = snap_of(FIXTURES / "unsupported-call")
    assert (snap["tools"]["shell"]["calls"], snap["tools"]["shell"]["failures"]) == (1, 1)


def test_a_failed_item_completed_marks_its_call_failed_whatever_its_output_says(tmp_path):
    s = uuid7(200)
    path = write(
        tmp_path / "r.jsonl",
        [
            meta(200, s),
            turn(200, "gpt-5"),
            call(201, "view_image", "call_v", {"path": "a.png"}),
            line(
                202,
                "event_msg",
                {"type": "item_completed", "item": {"type": "ImageView", "id": "call_v", "status": "failed"}},
            ),
            output(202, "call_v", "done"),
            tokens(203, (1_000, 0, 10, 0)),
        ],
    )
    _, snap = read(f"codex:{path}")
    assert (snap["tools"]["view_image"]["calls"], snap["tools"]["view_image"]["failures"]) == (1, 1)


def test_token_usage_records_alone_count_each_response(tmp_path):
    """Some clients write only ``token_usage_record`` lines (one per response, its own
    usage beside the thread's totals): the genuine rollout without its token_count lines."""
    lines = [x for x in genuine_lines() if x["payload"].get("type") != "token_count"]
    _, snap = snap_of(write(tmp_path / "only-records.jsonl", lines))
    assert tokens_of(snap["totals"]) == (2, 1_500, 19_000, 4_500, 600)
    assert snap["totals"]["cost_usd"] == pytest.approx(0.012025)


def test_token_usage_records_beside_token_counts_count_once(tmp_path):
    """Both kinds, as Codex 0.171 writes them (each record before the token_count that
    repeats its totals), in either order, and a record copied from another thread."""
    lines = genuine_lines()
    records = [x for x in lines if x["type"] == "token_usage_record"]
    swapped, waiting = [], list(records)
    for x in lines:
        if x["type"] != "token_usage_record":
            swapped.append(x)
        if x["payload"].get("type") == "token_count":
            swapped.append(waiting.pop(0))  # each record after its token_count instead
    foreign = orjson.loads(orjson.dumps(records))
    for x in foreign:
        x["payload"]["thread_id"] = MAIN  # another thread's response, copied in
    for name, body in (("as-written", lines), ("swapped", swapped), ("foreign", lines + foreign)):
        _, snap = snap_of(write(tmp_path / f"{name}.jsonl", body))
        assert tokens_of(snap["totals"]) == (2, 1_500, 19_000, 4_500, 600), name
        assert snap["totals"]["cost_usd"] == pytest.approx(0.012025), name


def test_token_counts_before_any_turn_context_take_the_model_a_later_line_names(tmp_path):
    """Older Codex wrote no model metadata before its token counts: the genuine rollout
    with its turn_context moved after them. Its requests are the session's model's."""
    lines = genuine_lines()
    contexts = [x for x in lines if x["type"] == "turn_context"]
    late = [x for x in lines if x["type"] != "turn_context"] + contexts
    _, snap = snap_of(write(tmp_path / "late-context.jsonl", late))
    assert tokens_of(snap["totals"]) == (2, 1_500, 19_000, 4_500, 600)
    assert snap["by_model"][HAIKU]["requests"] == 2
    assert snap["totals"]["cost_usd"] == pytest.approx(0.012025)
    assert snap["errors"]["bad_lines"] == 0


def test_token_counts_no_line_names_the_model_of_are_kept_unpriced(tmp_path):
    lines = [x for x in genuine_lines() if x["type"] != "turn_context"]
    _, snap = snap_of(write(tmp_path / "no-context.jsonl", lines))
    assert tokens_of(snap["totals"]) == (2, 1_500, 19_000, 4_500, 600)
    assert snap["by_model"]["unknown model"]["requests"] == 2
    assert "unknown model" in snap["unpriced_models"]
    assert snap["errors"]["bad_lines"] == 0


def test_a_request_without_a_model_counted_before_a_restart_is_not_counted_again(tmp_path):
    state = tmp_path / "state.toml"
    path = write(tmp_path / "live" / "r.jsonl", [x for x in genuine_lines() if x["type"] != "turn_context"])
    history = TokenHistory(state_path=state)
    open_source(f"codex:{path.parent}", history).poll()
    history.drain()
    history.save()
    with path.open("ab") as f:
        f.write(orjson.dumps(tokens(9_000, (26_000, 19_500, 700, 100), (1_000, 500, 100, 0))) + b"\n")
    restarted = TokenHistory(state_path=state)
    open_source(f"codex:{path.parent}", restarted).poll()
    restarted.drain()
    assert restarted.snapshot(now_ts=NOW)["by_model"]["unknown model"]["requests"] == 3


def test_a_branch_with_its_own_id_does_not_count_its_parents_copied_history(tmp_path):
    """A branch that names no parent (no forked_from_id) but copies the parent's
    session_meta and history in. Parent: 6,000 fresh + 4,000 read + 500 out of gpt-5
    ($0.013); the branch's own request 1,000 + 4,000 + 300 ($0.00475). Counted again under
    the branch's id, the copy made 3 requests and $0.03075."""
    home = tmp_path / "sessions"
    write(home / "parent.jsonl", [meta(0, MAIN), turn(1, "gpt-5"), tokens(5, (10_000, 4_000, 500, 200))])
    write(
        home / "branch.jsonl",
        [
            meta(3600, FORK),
            meta(3600.01, MAIN),
            turn(3600.01, "gpt-5"),
            tokens(3600.02, (10_000, 4_000, 500, 200)),
            turn(3660, "gpt-5", uuid7(3660, 3)),
            tokens(3665, (15_000, 8_000, 800, 300), (5_000, 4_000, 300, 100)),
        ],
    )
    _, snap = read(f"codex:{home}")
    assert (snap["totals"]["requests"], snap["totals"]["input_tokens"], snap["totals"]["cache_read_tokens"]) == (
        2,
        6_000 + 1_000,
        4_000 + 4_000,
    )
    assert snap["totals"]["output_tokens"] == 500 + 300
    assert snap["totals"]["cost_usd"] == pytest.approx(0.013 + 0.00475)
    assert snap["sessions"][FORK]["requests"] == 1


def zst(path: Path, data: bytes) -> Path:
    import zstandard

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(zstandard.ZstdCompressor().compress(data))
    return path


def test_a_compressed_rollout_is_read_and_not_read_again_after_a_restart(tmp_path):
    """Codex >= 0.137 compresses a rollout idle for 7 days to rollout-*.jsonl.zst: the
    genuine rollout compressed, beside its fork still plain (3 requests, $0.014325)."""
    home = tmp_path / "sessions" / "2026" / "12" / "01"
    packed = zst(home / (TOOLS_ROLLOUT.name + ".zst"), TOOLS_ROLLOUT.read_bytes())
    fork = next(p for p in TOOLS_DIR.glob("rollout-*.jsonl") if p != TOOLS_ROLLOUT)
    shutil.copy(fork, home / fork.name)
    state = tmp_path / "state.toml"
    history, snap = snap_of(tmp_path / "sessions", history=TokenHistory(state_path=state))
    assert tokens_of(snap["totals"]) == (3, 2_000, 21_500, 5_500, 660)
    assert snap["totals"]["cost_usd"] == pytest.approx(0.014325)
    assert snap["tools"]["exec_command"]["calls"] == 2
    assert history.notices == []
    history.save()
    restarted, again = snap_of(tmp_path / "sessions", history=TokenHistory(state_path=state))
    assert restarted.offset_for(str(packed))["offset"] == packed.stat().st_size
    assert tokens_of(again["totals"]) == (3, 2_000, 21_500, 5_500, 660)
    assert again["tools"]["exec_command"]["calls"] == 2  # not read again: no second copy of its tools


def test_files_not_read_are_named_in_a_notice_with_why(tmp_path):
    home = tmp_path / "sessions"
    broken = home / "rollout-2026-12-01T00-00-00-x.jsonl.zst"
    broken.parent.mkdir(parents=True)
    broken.write_bytes(b"not zstd at all")
    (home / "rollout-2026-12-01T00-00-00-y.jsonl.gz").write_bytes(b"\x1f\x8b")
    history, snap = snap_of(home)
    assert snap["totals"]["requests"] == 0
    assert any(str(broken) in n and "not a readable zstd file" in n for n in history.notices)
    assert any("jsonl.gz" in n and "skipped" in n and "not a rollout" in n for n in history.notices)


def test_a_compressed_rollout_left_unread_for_want_of_zstandard_is_read_once_it_is_there(tmp_path, monkeypatch):
    home = tmp_path / "sessions"
    zst(home / (TOOLS_ROLLOUT.name + ".zst"), TOOLS_ROLLOUT.read_bytes())
    history = TokenHistory()
    source = open_source(f"codex:{home}", history)
    monkeypatch.setitem(sys.modules, "zstandard", None)  # import zstandard raises ImportError
    source.poll()
    history.drain()
    assert history.snapshot(now_ts=NOW)["totals"]["requests"] == 0
    assert any("need the zstandard package" in n and "skipped" in n for n in history.notices)
    monkeypatch.undo()
    source.poll()
    history.drain()
    assert tokens_of(history.snapshot(now_ts=NOW)["totals"]) == (2, 1_500, 19_000, 4_500, 600)


def test_restarting_within_a_rollout_of_usage_records_counts_each_response_once(tmp_path):
    """The running totals come back from the records in the head read before the restart."""
    state = tmp_path / "state.toml"
    lines = genuine_lines()
    cut = next(i for i, x in enumerate(lines) if x["payload"].get("type") == "token_count") + 1
    path = write(tmp_path / "live" / "rollout.jsonl", lines[:cut])
    history = TokenHistory(state_path=state)
    open_source(f"codex:{path.parent}", history).poll()
    history.drain()
    assert history.snapshot(now_ts=NOW)["totals"]["requests"] == 1
    history.save()
    with path.open("ab") as f:
        f.write(b"".join(orjson.dumps(x) + b"\n" for x in lines[cut:]))
    restarted = TokenHistory(state_path=state)
    open_source(f"codex:{path.parent}", restarted).poll()
    restarted.drain()
    snap = restarted.snapshot(now_ts=NOW)
    assert tokens_of(snap["totals"]) == (2, 1_500, 19_000, 4_500, 600)
    assert snap["totals"]["cost_usd"] == pytest.approx(0.012025)


@pytest.mark.parametrize("restart", [False, True])
def test_a_rollout_compressed_after_it_was_read_counts_only_what_came_after(tmp_path, restart):
    """Codex compresses a rollout that was read while plain (the usual case: it sat idle
    for 7 days): its tool calls are not counted again, and its later lines still are."""
    state = tmp_path / "state.toml"
    lines = genuine_lines()
    cut = next(i for i, x in enumerate(lines) if x["payload"].get("type") == "token_count") + 1
    plain = write(tmp_path / "sessions" / TOOLS_ROLLOUT.name, lines[:cut])
    history = TokenHistory(state_path=state)
    source = open_source(f"codex:{plain.parent}", history)
    source.poll()
    history.drain()
    assert history.snapshot(now_ts=NOW)["tools"]["exec_command"]["calls"] == 2
    history.save()
    zst(plain.with_name(plain.name + ".zst"), b"".join(orjson.dumps(x) + b"\n" for x in lines))
    plain.unlink()
    if restart:
        history = TokenHistory(state_path=state)
        source = open_source(f"codex:{plain.parent}", history)
    source.poll()
    history.drain()
    snap = history.snapshot(now_ts=NOW)
    assert tokens_of(snap["totals"]) == (2, 1_500, 19_000, 4_500, 600)
    assert snap["totals"]["cost_usd"] == pytest.approx(0.012025)
    tools = {name: (row["calls"], row["failures"]) for name, row in snap["tools"].items()}
    assert tools == {"exec_command": (2, 1), "spawn_agent": (1, 1), "wait_agent": (1, 1)}
    assert snap["sessions"]["01a23404-adba-70b3-b7fb-f88500210b36"]["requests"] == 2


RESUMED = FIXTURES / "resume" / "rollout-2026-12-02T00-54-12-01a2343e-ada3-7451-8911-b519843226ef.jsonl"
FIRST_RUN_BYTES = 38_226  # the rollout as the first `codex exec` left it


def test_a_genuine_resume_counts_the_first_runs_requests_once(capsys):
    """``codex exec resume`` appended one response (6,000 input: 400 fresh, 5,000 read, 600
    written, 70 out) to the first run's rollout (5,000 / 0 / 4,000 / 100 and 5,500 / 4,000 /
    1,000 / 50): 3 requests, $0.0065 + $0.0024 + $0.002."""
    assert main(["report", f"codex:{RESUMED.parent}", "--no-history", "--format", "json"]) == 0
    report = orjson.loads(capsys.readouterr().out)
    assert tokens_of(report["totals"]) == (3, 1_900, 9_000, 5_600, 220)
    assert report["totals"]["reasoning_tokens"] == 10
    assert report["totals"]["cost_usd"] == pytest.approx(0.0109)
    explained = report["provenance"]["sources"]["codex"]
    assert (explained["files_read"], explained["usage_lines_read"], explained["requests"]) == (1, 6, 3)
    assert (explained["duplicate_copies"], explained["bad_lines"]) == (3, 0)


def test_a_genuine_resume_read_after_the_first_run_adds_only_its_own_request(tmp_path):
    data = RESUMED.read_bytes()
    path = tmp_path / RESUMED.name
    path.write_bytes(data[:FIRST_RUN_BYTES])
    history, snap = snap_of(path)
    assert tokens_of(snap["totals"]) == (2, 1_500, 4_000, 5_000, 150)
    path.write_bytes(data)  # the resume appends to the same file
    _, snap = snap_of(path, history=history)
    assert tokens_of(snap["totals"]) == (3, 1_900, 9_000, 5_600, 220)
    assert snap["totals"]["cost_usd"] == pytest.approx(0.0109)


def test_a_rollout_read_again_under_another_path_counts_its_tool_calls_once(tmp_path):
    # Its requests were known by their totals; its tool calls now by their call_id, in
    # this run and after a restart from the saved state.
    home = codex_home(tmp_path)
    src = next((home / "sessions").rglob(f"*{MAIN}.jsonl"))
    history, first = read(f"codex:{home}")
    shutil.copy(src, home / "archived_sessions" / ("copy-" + src.name))  # archived while being watched
    _, again = read(f"codex:{home}", history=history)
    assert again["tools"] == first["tools"]
    state = tmp_path / "state.toml"
    saved = TokenHistory(state_path=state)
    read(f"codex:{home / 'sessions'}", history=saved)
    saved.save()
    saved.close()
    restarted, _ = read(f"codex:{home / 'archived_sessions'}", history=TokenHistory(state_path=state))
    assert restarted.snapshot()["tools"]["shell"]["calls"] == first["tools"]["shell"]["calls"]
