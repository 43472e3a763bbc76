"""Shared fixtures: a real X display (Xvfb) for the GUI tests, and a home of its own for
every test, so none reads the user's agent logs or writes into their data folder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).parent / "artifacts"
# What points the app at the user's files: the state, and the agents' own log folders.
USER_PATHS = ("SESSION_INSIGHTS_STATE", "CLAUDE_CONFIG_DIR", "CODEX_HOME", "GEMINI_CLI_HOME")


def home_env(home: Path) -> dict[str, str]:
    """HOME and the XDG folders under ``home``: the data folder, the agents' default log
    folders and the caches a window writes (Mesa's shaders) all land there."""
    return {
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_CACHE_HOME": str(home / "cache"),
        "XDG_STATE_HOME": str(home / "state"),
    }


def isolated_env(base: dict[str, str], home: Path) -> dict[str, str]:
    """``base`` with ``home`` as the user's home and none of USER_PATHS: for a subprocess."""
    return {k: v for k, v in base.items() if k not in USER_PATHS} | home_env(home)


def run_driver(driver: Path, scenario: str, out: Path, env: dict, *args: str) -> dict:
    """Run a GUI driver script's ``scenario`` in a process of its own (a window per
    process), and return the JSON it wrote to ``out``; its stderr tail if it failed."""
    proc = subprocess.run(
        [sys.executable, str(driver), scenario, str(out), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, f"driver {scenario} exited {proc.returncode}:\n{proc.stderr[-3000:]}"
    return json.loads(out.read_text())


@pytest.fixture(scope="session")
def x_display(tmp_path_factory):
    """Environment with DISPLAY set to a fresh Xvfb (1280x800, depth 24), and a home of
    its own (``isolated_env``): a window run in it never touches the user's files.

    In CI a missing Xvfb is a failure, never a skip: .ci/run installs it.
    """
    if shutil.which("Xvfb") is None:
        message = "Xvfb is not installed (apt-get install xvfb); the GUI tests render under it"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)  # only outside CI, where Xvfb may be missing
    number = next(
        n for n in range(91, 200) if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists()
    )
    proc = subprocess.Popen(
        ["Xvfb", f":{number}", "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    socket = Path(f"/tmp/.X11-unix/X{number}")
    for _ in range(100):
        if socket.exists():
            break
        time.sleep(0.05)
    else:
        proc.kill()
        pytest.fail("Xvfb did not start")
    env = isolated_env(dict(os.environ, DISPLAY=f":{number}"), tmp_path_factory.mktemp("display-home"))
    yield env
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(autouse=True)
def home_in_tmp(tmp_path_factory, monkeypatch) -> Path:
    """Every test has a home of its own: commands run without --state keep their state and
    durable history in its data folder, and find no agent logs unless the test writes
    some there; never the real user's, nor the folder pytest runs from."""
    home = tmp_path_factory.mktemp("home")
    for name in USER_PATHS:
        monkeypatch.delenv(name, raising=False)
    for name, value in home_env(home).items():
        monkeypatch.setenv(name, value)
    return home


@pytest.fixture
def in_zone(monkeypatch):
    """Run with the local zone set to ``zone`` (and put back after)."""

    def set_zone(zone: str) -> None:
        monkeypatch.setenv("TZ", zone)
        time.tzset()

    yield set_zone
    from session_insights import times

    times.use_utc(False)
    monkeypatch.delenv("TZ", raising=False)
    time.tzset()
