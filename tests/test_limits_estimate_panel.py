"""The panel's Limits header with no server figure, in a real window under Xvfb: the
5-hour block and the last 7 days estimated from the history's logs, named estimates,
against the limit the user set."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.gui
ARTIFACTS = Path(__file__).parent / "artifacts"

DRIVER = """
import json, sys, time
import dearpygui.dearpygui as dpg
from pathlib import Path
from session_insights import TokenHistory
from session_insights.ui.limits import LimitsHeader

log_path, shot, now_ts = Path(sys.argv[1]), sys.argv[2], float(sys.argv[3])
time.time = lambda: now_ts
history = TokenHistory()
history.plan_limits = {"five_hour_tokens": 1_000_000, "weekly_cost_usd": 10.0}
for minutes in (10, 70, 100):  # $3 per million input tokens
    history.record_usage("claude-sonnet-4-5", input_tokens=200_000, output_tokens=0, ts=now_ts - 2 * 3600 + minutes * 60)
history.drain()
dpg.create_context()
dpg.create_viewport(title="limits", width=900, height=300)
dpg.setup_dearpygui()
with dpg.window(width=900, height=300, pos=(0, 0), no_title_bar=True) as window:
    header = LimitsHeader(window, log_path=log_path)
header.history = history
dpg.show_viewport()
for n in range(6):
    header.update({"rate_limits": {}}, {})
    dpg.render_dearpygui_frame()
dpg.output_frame_buffer(file=shot)
dpg.render_dearpygui_frame()
print(json.dumps({"estimates": header.estimate_lines.value.splitlines(), "lines": header.lines.value,
                  "shown": [dpg.is_item_shown(i.item) for i in (header.empty, header.estimate_lines)]}))
"""


def test_with_no_server_figure_the_header_gives_the_blocks_estimate_against_the_users_limit(x_display, tmp_path):
    now_ts = 1_900_000_800.0 + 2 * 3600  # 2 hours into a block that starts on the hour
    shot = ARTIFACTS / "limits_estimates.png"
    shot.unlink(missing_ok=True)
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, str(tmp_path / "limits.jsonl"), str(shot), str(now_ts)],
        env=x_display,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.splitlines()[-1])
    assert found["lines"] == ""  # no server window
    assert found["estimates"] == [
        "estimate 5h block: 600,000 tokens, $1.80, 3 requests, ends in 3h, 40% elapsed; "
        "60% of your limit (1,000,000 tokens), pace 150% at the end, 100% in 1h 20m",
        "estimate last 7d: 600,000 tokens, $1.80, 3 requests; 18% of your limit ($10.00)",
    ]
    assert found["shown"] == [True, True]  # how to get the server's figures, then the estimates
    assert shot.exists()
