"""The README's "Docking in a host app" example, run exactly as written (under Xvfb, in
a folder of its own), so it cannot rot: it opens, shows the panel, is stopped after a
few frames and saves its state."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).parents[1] / "README.md"
pytestmark = pytest.mark.gui
STOP_AFTER_FRAMES = 30

# Runs before the example, in its namespace: counts frames, records one request once the
# example made its ``history`` (so the cards have figures), takes a screenshot and stops
# the loop; after the example, says what it found.
PRELUDE = """
import json, sys
import dearpygui.dearpygui as _dpg
_render, _frames, _found = _dpg.render_dearpygui_frame, [0], {}
def _counted_frame():
    _frames[0] += 1
    n = _frames[0]
    if n == 3:
        history.record_usage("claude-sonnet-4-5", 120_000, 30_000, ts=__import__("time").time(), session="readme")
    if n == STOP - 6:
        cards = panel.cards
        _found["card_px"] = _dpg.get_item_rect_size(cards.values["tokens"].item)[1]
        _found["label_px"] = _dpg.get_item_rect_size(cards.subs["tokens"].item)[1]
        _found["card_text"] = cards.values["tokens"].value
        _found["panel_shown"] = _dpg.is_item_shown(panel.window)
    if n == STOP - 3:
        _dpg.output_frame_buffer(file=SHOT)
    _render()
    if n >= STOP:
        _dpg.stop_dearpygui()
_dpg.render_dearpygui_frame = _counted_frame
"""
EPILOGUE = """
_found["frames"] = _frames[0]
open(OUT, "w").write(json.dumps(_found))
"""


def readme_host_example() -> str:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("### Docking in a host app") :]
    return re.search(r"```python\n(.*?)```", section, re.S)[1]


def test_the_readme_host_example_runs_as_written_and_saves_its_state(x_display, artifacts, tmp_path):
    shot, out = artifacts / "readme_host.png", tmp_path / "found.json"
    script = tmp_path / "host.py"
    script.write_text(
        f"STOP, SHOT, OUT = {STOP_AFTER_FRAMES}, {str(shot)!r}, {str(out)!r}\n"
        + PRELUDE
        + readme_host_example()
        + EPILOGUE
    )
    proc = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, env=x_display, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, f"exit {proc.returncode}:\n{proc.stderr[-3000:]}"
    found = json.loads(out.read_text())
    assert found["frames"] == STOP_AFTER_FRAMES and found["panel_shown"]
    assert found["card_text"] == "150K"
    # The headline numbers in the panel's own large font, not the host's small default.
    assert found["card_px"] >= 1.3 * found["label_px"], found
    assert (tmp_path / "state.toml").exists(), "the example saves the history where it said"
    assert shot.stat().st_size > 10_000


def test_the_example_is_the_whole_host_it_needs(tmp_path):
    code = readme_host_example()
    for needed in ("create_context", "create_viewport", "setup_dearpygui", "show_viewport", "destroy_context"):
        assert needed in code
    assert "history.save()" in code and "panel.close()" in code and "add_menu_item" in code
