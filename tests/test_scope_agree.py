"""On a home folder with months of Claude Code sessions and one written minutes ago,
``report --scope active``, the window's headline (``--frame-stats``) and the Sessions
table name the same session and the same figures.

The transcripts are written line by line in Claude Code's format (the fields
tests/test_claude.py pins); their usage is chosen, so the truth is known.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from session_insights import cli

DAY_S = 86_400
N_PAST = 40  # sessions over the past four months
REQUESTS = 6


def assistant(session: str, ts: float, n: int, input_tokens: int) -> dict:
    return {
        "type": "assistant",
        "sessionId": session,
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(ts)),
        "requestId": f"req_{session}_{n}",
        "isSidechain": False,
        "uuid": f"u-{session}-{n}",
        "cwd": "/home/me/project",
        "message": {
            "id": f"msg_{session}_{n}",
            "model": "claude-sonnet-4-5-20250929",
            "role": "assistant",
            "usage": {"input_tokens": input_tokens, "cache_read_input_tokens": 1_000, "output_tokens": 100},
            "content": [{"type": "text", "text": "done"}],
        },
    }


def claude_home(root: Path, now: float) -> tuple[Path, str]:
    projects = root / ".claude" / "projects"
    folder = projects / "-home-me-project"
    folder.mkdir(parents=True)
    live = "7f3e9a20-5d1c-4b8e-9f00-3a6c2e1d4b55"
    sessions = [(f"{i:08d}-past-4b8e-9f00-3a6c2e1d4b55", now - (120 - 3 * i) * DAY_S) for i in range(N_PAST)]
    sessions.append((live, now - 10 * 60))  # minutes ago
    for session, start in sessions:
        lines = [assistant(session, start + 60 * n, n, 10_000 + n) for n in range(REQUESTS)]
        (folder / f"{session}.jsonl").write_bytes(b"\n".join(orjson.dumps(line) for line in lines) + b"\n")
    return root, live


@pytest.fixture
def home(tmp_path, monkeypatch):
    root, live = claude_home(tmp_path / "home", time.time())
    monkeypatch.setenv("HOME", str(root))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    return root, live


def report_json(capsys, *args: str) -> dict:
    assert cli.main(["report", "--format", "json", *args]) == 0
    return json.loads(capsys.readouterr().out)


LIVE_TOKENS = sum(10_000 + n + 1_000 + 100 for n in range(REQUESTS))


def test_report_scope_active_is_the_session_written_minutes_ago(home, capsys):
    _, live = home
    snap = report_json(capsys, "--scope", "active")
    assert snap["scope"]["kind"] == "active" and snap["scope"]["session"] == live
    assert snap["scope"]["project"] == "project" and snap["scope"]["source"] == "claude"
    assert snap["totals"]["total_tokens"] == LIVE_TOKENS
    assert list(snap["sessions"]) == [live]
    # five one-minute gaps of activity, not four months
    assert snap["burn_rate"]["session"]["active_s"] == pytest.approx(5 * 60, abs=1)
    whole = report_json(capsys)
    assert whole["scope"]["kind"] == "all" and len(whole["sessions"]) == N_PAST + 1
    assert whole["sessions"][live]["total_tokens"] == LIVE_TOKENS


def test_report_scope_names_a_session_by_a_prefix_and_refuses_an_unknown_one(home, capsys):
    snap = report_json(capsys, "--scope", "00000003")
    assert snap["scope"]["session"].startswith("00000003-past")
    assert cli.main(["report", "--scope", "ffff"]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == ["session-insights report: --scope: no session 'ffff' in what was read"]


def test_the_windows_headline_and_sessions_table_agree_with_report(home, tmp_path, x_display, capsys):
    root, live = home
    stats = tmp_path / "stats.json"
    env = {**x_display, "HOME": str(root), "XDG_DATA_HOME": str(tmp_path / "window-data")}
    proc = subprocess.run(
        [sys.executable, "-m", "session_insights.cli", "--frames", "60", "--frame-stats", str(stats)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    shown = json.loads(stats.read_text())
    reported = report_json(capsys, "--scope", "active")
    assert shown["backlog_s"] is not None
    assert shown["headline"]["scope"] == "active"
    assert shown["headline"]["session"] == reported["scope"]["session"] == live
    assert shown["headline"]["project"] == reported["scope"]["project"]
    assert shown["headline"]["total_tokens"] == reported["totals"]["total_tokens"] == LIVE_TOKENS
    assert shown["headline"]["cost_usd"] == pytest.approx(reported["totals"]["cost_usd"])
    by_session = report_json(capsys, "--by", "session")
    row = next(r for r in by_session["rows"] if r["session"] == live)
    assert row["total_tokens"] == LIVE_TOKENS
