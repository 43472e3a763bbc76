"""The panel, rendered for real under Xvfb. Each scenario runs in its own process so a
Dear PyGui crash fails a test instead of killing pytest."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

from session_insights import formatting as fmt

DRIVER = Path(__file__).with_name("gui_driver.py")
pytestmark = pytest.mark.gui


def drive(scenario: str, env: dict, artifacts: Path, tmp_path: Path) -> dict:
    out = tmp_path / f"{scenario}.json"
    proc = subprocess.run([sys.executable, str(DRIVER), scenario, str(out), str(artifacts)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"driver {scenario} exited {proc.returncode}:\n{proc.stderr[-3000:]}"
    return json.loads(out.read_text())


@pytest.fixture(scope="module")
def demo_run(x_display, artifacts, tmp_path_factory):
    return drive("demo", x_display, artifacts, tmp_path_factory.mktemp("gui"))


def test_after_the_demo_every_header_is_open_and_screenshots_exist(demo_run, artifacts):
    assert set(demo_run["headers_open"]) == {"timeline", "burn", "models", "tiers", "efficiency", "tools",
                                             "progress", "summary"}
    for name in ["panel_full", *(f"header_{k}" for k in demo_run["headers_open"])]:
        png = artifacts / f"{name}.png"
        assert png.exists() and png.stat().st_size > 10_000, png
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_timeline_series_hold_the_history_and_x_values_round_trip_exactly(demo_run):
    view = demo_run["view"]
    assert len(view["x"]) > 10
    for key in ("total", "input", "output", "cache_read"):
        xs, ys = demo_run["series"][key]
        # Epoch seconds survive as float64: no float32 staircase.
        assert xs == view["x"]
        assert ys == view[key]
    assert demo_run["series"]["total"][1][-1] == demo_run["snapshot"]["totals"]["total_tokens"]
    assert demo_run["rate_series"] == [view["rate_x"], view["tokens_per_min"]]


def test_tables_show_the_snapshot_figures_with_separators_and_units(demo_run):
    snap = demo_run["snapshot"]
    models = {row[0]: row for row in demo_run["tables"]["models"]}
    assert list(models) == list(snap["by_model"])
    for model, fig in snap["by_model"].items():
        row = models[model]
        assert row[1] == f"{fig['requests']:,}"
        assert row[2] == fmt.tokens(fig["input_tokens"])
        assert row[6] == fmt.usd(fig["cost_usd"], "unpriced")
    for model in snap["unpriced_models"]:
        assert models[model][6] == "unpriced"
    tiers = {row[0]: row for row in demo_run["tables"]["tiers"]}
    assert list(tiers) == list(snap["by_tier"])
    tools = {row[0]: row for row in demo_run["tables"]["tools"]}
    assert list(tools) == list(snap["tools"])
    for name, t in snap["tools"].items():
        assert tools[name][1] == f"{t['calls']:,}" and tools[name][4] == f"{t['failures']:,}"
    assert demo_run["progress"] == pytest.approx(snap["tickets"]["progress_pct"] / 100)
    assert demo_run["summary_shown"] == demo_run["summary_expected"]
    assert demo_run["cards"]["cost"] == fmt.usd(snap["totals"]["cost_usd"])
    assert "Unpriced models" in demo_run["notices"]


def test_empty_history_renders_useful_empty_states(x_display, artifacts, tmp_path):
    result = drive("empty", x_display, artifacts, tmp_path)
    assert result["timeline_empty_shown"] and not result["timeline_plot_shown"]
    assert result["models_empty_shown"]
    assert result["summary"] == "No model requests recorded yet."
    assert "no ticket completed yet" in result["efficiency"]
    assert (artifacts / "panel_empty.png").exists()


def test_lines_appended_to_a_log_show_in_the_panel_on_the_next_tick(x_display, artifacts, tmp_path):
    result = drive("live", x_display, artifacts, tmp_path)
    first, second = result["steps"]
    assert first["tokens_card"] == fmt.tokens_short(10_500)
    assert second["tokens_card"] == fmt.tokens_short(30_900)
    assert result["total_tokens"] == 30_900
    assert first["limits"].startswith("Rate limits (codex): 5-hour 4.0% used, resets ")
    assert second["limits"].startswith("Rate limits (codex): 5-hour 6.5% used, resets ")
    assert (artifacts / "panel_live_codex.png").exists()


def test_a_click_on_a_header_toggles_it_and_the_preference_follows(x_display, artifacts, tmp_path):
    result = drive("click", x_display, artifacts, tmp_path)
    assert result["states"] == [True, False, True]
    assert result["open_headers_pref"] == ["tools"]


def test_app_renders_frames_saves_screenshot_stats_and_state(x_display, artifacts, tmp_path):
    shot, stats, state = artifacts / "app_demo.png", tmp_path / "stats.json", tmp_path / "state.toml"
    proc = subprocess.run(
        [sys.executable, "-m", "session_insights.cli", "--demo", "--demo-speed", "2000", "--frames", "90",
         "--screenshot", str(shot), "--frame-stats", str(stats), "--state", str(state)],
        env=x_display, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert shot.exists() and shot.stat().st_size > 10_000
    figures = json.loads(stats.read_text())
    assert figures["frames"] > 50
    for key in ("frame_ms", "python_ms"):
        assert set(figures[key]) == {"median", "p95", "p99"}
    assert not state.exists(), "demo figures never go into the user's own state file"
    saved = tomllib.loads((tmp_path / "state.demo.toml").read_text())
    assert saved["schema"] == 1 and saved["usage"], "the demo's requests are saved"
    assert set(saved["ui"]["open_headers"]) >= {"timeline", "summary"}
    assert (tmp_path / "state.layout.ini").exists()


def test_without_a_display_the_app_says_how_to_get_one_and_exits(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    proc = subprocess.run([sys.executable, "-m", "session_insights.cli", "--demo", "--state",
                           str(tmp_path / "s.toml")], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 3
    assert "xvfb-run" in proc.stderr and "report" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
