"""The README's test command is what CI runs, and the root state.toml is valid."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ci_runs_exactly_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"```sh\n(.+?)\n```", readme)
    test_command = next(c for c in commands if "pytest" in c)
    assert test_command in ci.splitlines()


def test_root_state_file_is_valid_and_tiny():
    data = tomllib.loads((ROOT / "state.toml").read_text())
    assert data["schema"] == 1
    assert (ROOT / "state.toml").stat().st_size < 2048


def test_artifacts_folder_is_kept_but_its_contents_ignored():
    assert (ROOT / "tests" / "artifacts" / ".gitkeep").exists()
    assert "tests/artifacts/*" in (ROOT / ".gitignore").read_text()
