"""Where files live (DESIGN §4, §5): the window and ``report`` keep the state, the layout
file and the durable history in the per-user data folder, or beside the state that
``--state`` / ``SESSION_INSIGHTS_STATE`` names; nothing goes into the working folder. With
no SOURCE, ``report`` reads the agents' default folders, as the window does.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from conftest import isolated_env

from session_insights import state
from session_insights.cli import EXIT_USAGE, main
from session_insights.session_logger import SessionLogger
from session_insights.sources import default_roots

T0 = 1_760_000_000.0
CLAUDE_SESSION = "5b1c4e0f-0000-4000-8000-0000000000aa"


def comms_logs(folder: Path, session: str = "s1") -> Path:
    """A logged session of two requests, outside any folder a test checks."""
    with SessionLogger(folder, session) as log:
        log.model_call("gpt-4o", input_tokens=4_000, output_tokens=500, tier="Tier 3", ended_ts=T0)
        log.model_call("gpt-4o", input_tokens=1_000, output_tokens=100, tier="Tier 3", ended_ts=T0 + 60)
    return folder


def claude_transcript(home: Path) -> Path:
    """One Claude Code request in the default folder under ``home``."""
    project = home / ".claude" / "projects" / "-home-me-shop"
    project.mkdir(parents=True)
    line = {
        "type": "assistant",
        "sessionId": CLAUDE_SESSION,
        "timestamp": "2025-11-20T10:00:05.000Z",
        "requestId": "req_1",
        "cwd": "/home/me/shop",
        "message": {
            "id": "msg_1",
            "model": "claude-sonnet-4-5-20250929",
            "role": "assistant",
            "usage": {"input_tokens": 1_200, "output_tokens": 300},
            "content": [{"type": "text", "text": "done"}],
        },
    }
    (project / f"{CLAUDE_SESSION}.jsonl").write_bytes(orjson.dumps(line) + b"\n")
    return project


def data_folder(home: Path) -> Path:
    return home / "data" / "session-insights"  # conftest's XDG_DATA_HOME


@pytest.fixture
def work(tmp_path: Path, monkeypatch) -> Path:
    """An empty working folder, the one commands run from."""
    folder = tmp_path / "work"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


def report_json(capsys, *args: str) -> dict:
    code = main(["report", *args, "--format", "json"])
    out, err = capsys.readouterr()
    assert (code, err) == (0, ""), err
    return json.loads(out)


def one_line_error(capsys, argv: list[str], *needles: str) -> str:
    code = main(argv)
    out, err = capsys.readouterr()
    assert (code, out) == (EXIT_USAGE, "")
    assert err.count("\n") == 1 and "Traceback" not in err, err
    for needle in needles:
        assert needle in err, err
    return err


# --- the working folder stays empty ----------------------------------------------------


def test_report_from_an_empty_folder_leaves_it_empty_and_keeps_the_history_in_the_data_folder(tmp_path: Path):
    work, home = tmp_path / "work", tmp_path / "home"
    work.mkdir()
    logs = comms_logs(tmp_path / "logs")

    done = subprocess.run(
        [sys.executable, "-m", "session_insights.cli", "report", f"comms:{logs}"],
        cwd=work,
        env=isolated_env(dict(os.environ), home),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert (done.returncode, done.stderr) == (0, "")
    assert list(work.iterdir()) == []
    assert (data_folder(home) / "state.history.sqlite").is_file()
    assert not (data_folder(home) / "state.toml").exists()  # report is read-only on the state
    assert stat.S_IMODE(data_folder(home).stat().st_mode) == 0o700


@pytest.mark.gui
@pytest.mark.parametrize(
    ("what", "kept"),
    [
        ("a source", {"state.toml", "state.layout.ini", "state.history.sqlite"}),
        ("the demo", {"state.demo.toml", "state.layout.ini", "state.demo.history.sqlite"}),
    ],
)
def test_the_window_from_an_empty_folder_leaves_it_empty_and_keeps_its_files_in_the_data_folder(
    x_display, tmp_path: Path, what: str, kept: set[str]
):
    work, home = tmp_path / "work", tmp_path / "home"
    work.mkdir()
    sources = [f"comms:{comms_logs(tmp_path / 'logs')}"] if what == "a source" else []

    done = subprocess.run(
        [sys.executable, "-m", "session_insights.cli", *sources, "--frames", "8"],
        cwd=work,
        env=isolated_env(x_display, home),
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert done.returncode == 0, done.stderr[-3000:]
    assert list(work.iterdir()) == []
    names = {p.name for p in data_folder(home).iterdir()}
    assert kept <= names, names
    assert not {n for n in names if n.endswith(".tmp")}  # no save left a temporary file
    assert stat.S_IMODE(data_folder(home).stat().st_mode) == 0o700


def test_a_report_from_one_folder_is_kept_for_report_by_session_from_another(capsys, tmp_path: Path, monkeypatch):
    logs = comms_logs(tmp_path / "logs")
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    monkeypatch.chdir(tmp_path / "a")
    report_json(capsys, f"comms:{logs}")
    (logs / "s1.comms.jsonl").unlink()  # the agent's own log is gone; the history is not

    monkeypatch.chdir(tmp_path / "b")
    rows = report_json(capsys, "--by", "session")["rows"]

    assert [row["session"] for row in rows] == ["s1"]
    assert list((tmp_path / "a").iterdir()) == list((tmp_path / "b").iterdir()) == []


# --- which data folder, which state -------------------------------------------------------


def test_the_data_folder_is_under_xdg_data_home_else_local_share(home_in_tmp: Path, monkeypatch):
    assert state.default_path() == data_folder(home_in_tmp) / "state.toml"
    monkeypatch.delenv("XDG_DATA_HOME")
    assert state.default_path() == home_in_tmp / ".local" / "share" / "session-insights" / "state.toml"


def test_session_insights_state_chooses_the_state_and_the_history_sits_beside_it(
    capsys, tmp_path: Path, work: Path, home_in_tmp: Path, monkeypatch
):
    chosen = tmp_path / "elsewhere" / "mine.toml"
    monkeypatch.setenv("SESSION_INSIGHTS_STATE", str(chosen))

    report_json(capsys, f"comms:{comms_logs(tmp_path / 'logs')}")

    assert (chosen.parent / "mine.history.sqlite").is_file()
    assert not data_folder(home_in_tmp).exists()
    assert list(work.iterdir()) == []


def test_a_data_folder_that_cannot_be_made_is_one_line_for_report_and_the_window(
    capsys, tmp_path: Path, work: Path, monkeypatch
):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("XDG_DATA_HOME", str(blocker))
    logs = comms_logs(tmp_path / "logs")

    one_line_error(capsys, ["report", f"comms:{logs}"], "cannot make the folder", "--no-history")
    one_line_error(capsys, [f"comms:{logs}", "--frames", "1"], "state file", str(blocker))
    assert blocker.read_text() == "not a folder"
    assert list(work.iterdir()) == []


def test_make_folder_makes_each_missing_folder_private_and_leaves_an_existing_one(tmp_path: Path):
    tmp_path.chmod(0o755)
    state.make_folder(tmp_path / "a" / "b")

    assert stat.S_IMODE((tmp_path / "a").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "a" / "b").stat().st_mode) == 0o700
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o755


# --- a state that does not exist yet ------------------------------------------------------


def test_report_with_a_new_state_and_no_source_reads_the_default_folders(capsys, tmp_path: Path, home_in_tmp: Path):
    claude_transcript(home_in_tmp)
    new = tmp_path / "new.toml"

    snap = report_json(capsys, "--state", str(new))

    assert snap["totals"]["requests"] == 1 and snap["totals"]["input_tokens"] == 1_200
    assert not new.exists()


# --- report with no SOURCE discovers, as the window does ----------------------------------


def test_report_without_source_reads_the_agents_default_folders(capsys, home_in_tmp: Path, work: Path):
    claude_transcript(home_in_tmp)

    discovered = report_json(capsys)
    named = report_json(capsys, "claude", "--no-history")

    assert discovered["totals"] == named["totals"]
    assert discovered["totals"]["requests"] == 1 and list(discovered["sessions"]) == [CLAUDE_SESSION]
    assert (data_folder(home_in_tmp) / "state.history.sqlite").is_file()
    assert list(work.iterdir()) == []


def test_report_without_source_and_without_logs_says_where_it_looked(capsys, work: Path):
    looked = [str(root) for kind in ("claude", "codex", "gemini") for root in default_roots(kind)]
    assert len(looked) >= 3

    one_line_error(capsys, ["report"], "nothing to report", *looked)
    assert list(work.iterdir()) == []


def test_report_by_without_source_takes_the_kept_history_and_what_discovery_finds(
    capsys, tmp_path: Path, home_in_tmp: Path
):
    report_json(capsys, f"comms:{comms_logs(tmp_path / 'logs')}")
    claude_transcript(home_in_tmp)

    rows = report_json(capsys, "--by", "session")["rows"]

    assert sorted(row["session"] for row in rows) == sorted(["s1", CLAUDE_SESSION])
