"""Shared fixtures: a real X display (Xvfb) for the GUI tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).parent / "artifacts"


@pytest.fixture(scope="session")
def x_display():
    """Environment with DISPLAY set to a fresh Xvfb (1280x800, depth 24).

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
    env = dict(os.environ, DISPLAY=f":{number}")
    yield env
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(autouse=True)
def state_in_tmp(tmp_path_factory, monkeypatch):
    """Commands run without --state use a state file (and durable history) of their own,
    never ./state.toml and ./state.history.sqlite of the folder pytest runs from."""
    monkeypatch.setenv("SESSION_INSIGHTS_STATE", str(tmp_path_factory.mktemp("state") / "state.toml"))
