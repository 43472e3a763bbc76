"""The panel's Limits header, in a real window under Xvfb: what it says with no quota
figures, and with Claude's (the statusline's log) and Codex's (the snapshot) windows,
each plotted over its span."""

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
dpg.create_viewport(title="limits", width=760, height=420)
dpg.setup_dearpygui()
with dpg.window(width=760, height=420, pos=(0, 0), no_title_bar=True) as window:
    header = LimitsHeader(window, log_path=log_path)
dpg.show_viewport()
found = {}
codex = {"codex:/home/me/.codex": {"ts": now_ts - 120, "primary": {"used_pct": 97.0, "window_minutes": 300,
         "resets_at": now_ts + 1800}, "secondary": {"used_pct": 20.0, "window_minutes": 10080, "resets_at": None}}}
for n in range(12):
    snap = {"rate_limits": {} if n < 4 else codex}
    if n == 4:
        header.tail.look_soon()  # the log was written meanwhile: read it now, not in 2 s
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
found["plotted"] = header.plots.shown
found["points"] = [plot.points() for plot in header.plots.plots[: len(header.plots.shown)]]
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
    start_ts = now_ts - 3 * 3600  # the 5-hour window resets in 2 h
    for since_start_s, used in ((3600, 10.0), (7200, 25.0), (3 * 3600 - 60, 42.0)):
        quota_log.append(
            {
                "ts": start_ts + since_start_s,
                "windows": {"five_hour": {"used_percent": used, "resets_at_ts": now_ts + 2 * 3600}},
                "cost_usd": used / 10,
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
    # A plot per window with a reset: Codex's weekly gives none, so has no span to draw.
    assert found["plotted"] == ["claude 5h", "codex 5h"]
    claude, codex = found["points"]
    assert claude == [[3600.0, 7200.0, 10740.0], [10.0, 25.0, 42.0]]  # seconds since the window started
    assert codex == [[16080.0], [97.0]]  # its last report only: 120 s before now, 30 min before the reset
    assert shot.exists()
