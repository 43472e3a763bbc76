"""The panel's Limits header, in a real window under Xvfb: what it says with no quota
figures, and with Claude's (the statusline's log) and Codex's (the snapshot) windows."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from session_insights import quota_log

pytestmark = pytest.mark.gui
ARTIFACTS = Path(__file__).parent / "artifacts"

DRIVER = """
import json, sys, time
import dearpygui.dearpygui as dpg
from pathlib import Path
from session_insights.ui.limits import LimitsHeader

log_path, shot, now_ts = Path(sys.argv[1]), sys.argv[2], float(sys.argv[3])
time.time = lambda: now_ts
dpg.create_context()
dpg.create_viewport(title="limits", width=760, height=260)
dpg.setup_dearpygui()
with dpg.window(width=760, height=260) as window:
    header = LimitsHeader(window, log_path=log_path)
dpg.show_viewport()
found = {}
codex = {"codex:/home/me/.codex": {"ts": now_ts - 120, "primary": {"used_pct": 97.0, "window_minutes": 300,
         "resets_at": now_ts + 1800}, "secondary": {"used_pct": 20.0, "window_minutes": 10080, "resets_at": None}}}
for n in range(12):
    snap = {"rate_limits": {} if n < 4 else codex}
    if n == 4:
        header._checked_s = -1e9  # the log was written meanwhile: read it now, not in 2 s
    header.update(snap, {})
    header.show_scope("some session")
    dpg.render_dearpygui_frame()
    if n == 2:
        found["empty"] = (header.empty.value, header.lines.value, dpg.is_item_shown(header.empty.item))
        Path(log_path.name + ".go").touch()
        while not Path(log_path.name + ".ready").exists():
            time.sleep(0.01)
dpg.output_frame_buffer(file=shot)
dpg.render_dearpygui_frame()
found["lines"] = header.lines.value.splitlines()
found["warning"] = header.warning.value
found["label"] = dpg.get_item_label(header.item)
found["shown"] = [dpg.is_item_shown(i.item) for i in (header.empty, header.lines, header.warning)]
print(json.dumps(found))
"""


def test_the_limits_header_says_where_figures_come_from_then_lists_every_window(x_display, tmp_path):
    now_ts = 1_900_000_000.0
    log_path = tmp_path / quota_log.LOG_NAME
    shot = ARTIFACTS / "limits_header.png"
    shot.unlink(missing_ok=True)
    proc = subprocess.Popen(
        [sys.executable, "-c", DRIVER, str(log_path), str(shot), str(now_ts)],
        env=x_display,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    while not (tmp_path / (log_path.name + ".go")).exists():
        assert proc.poll() is None, proc.stderr.read()
        time.sleep(0.01)
    quota_log.append(
        {
            "ts": now_ts - 60,
            "windows": {"five_hour": {"used_percent": 42.0, "resets_at_ts": now_ts + 2 * 3600}},
            "cost_usd": 1.0,
        },
        log_path,
    )
    (tmp_path / (log_path.name + ".ready")).touch()
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    found = json.loads(out.splitlines()[-1])
    empty_text, lines_text, empty_shown = found["empty"]
    assert "session-insights statusline" in empty_text and lines_text == "" and empty_shown
    assert found["lines"] == [
        "claude 5h 42% used, resets in 2h, 60% elapsed, pace 70% at reset",
        # 97 % in 16,080 s: +11.6 % by the reset (108.6 %), 3 % more in 497 s after the observation
        "codex 5h 97% used, resets in 30m, 90% elapsed, pace 109% at reset, 100% in 6m",
        "codex 7d 20% used",
    ]
    assert found["warning"] == "On course to reach 100% before the reset: codex 5h"
    assert found["label"] == "Limits"  # the account's windows: no scope in the title
    assert found["shown"] == [False, True, True]
    assert shot.exists()
