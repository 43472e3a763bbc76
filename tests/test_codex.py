"""Codex CLI rollouts: cumulative totals, repeats, forks, subagents, tools, plans, limits."""

import shutil
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
    assert "Rate limits (codex): 5-hour 9.0% used" in text
    assert "7-day 73.0% used" in text


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
