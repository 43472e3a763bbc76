"""The window as people use it: it fills its viewport and follows resizes, opens at
``--size`` or where it was last left, and the panel cannot be lost by closing it.
Rendered for real under an Xvfb larger than the windows (1920x1200), each scenario in a
process of its own (tests/window_driver.py)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
from conftest import isolated_env, run_driver

from session_insights import window_geometry

DRIVER = Path(__file__).with_name("window_driver.py")
pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def big_display(tmp_path_factory):
    """DISPLAY of a fresh 1920x1200 Xvfb (depth 24) and a home of its own."""
    if shutil.which("Xvfb") is None or shutil.which("xdotool") is None:
        message = "Xvfb and xdotool are needed (apt-get install xvfb xdotool)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    number = next(
        n
        for n in range(300, 400)
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists()
    )
    proc = subprocess.Popen(
        ["Xvfb", f":{number}", "-screen", "0", "1920x1200x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        if Path(f"/tmp/.X11-unix/X{number}").exists():
            break
        time.sleep(0.05)
    else:
        proc.kill()
        pytest.fail("Xvfb did not start")
    yield isolated_env(dict(os.environ, DISPLAY=f":{number}"), tmp_path_factory.mktemp("window-home"))
    proc.terminate()
    proc.wait(timeout=10)


def drive(scenario: str, env: dict, artifacts: Path, state: Path, *extra: str) -> dict:
    return run_driver(DRIVER, scenario, state.with_name(f"{scenario}.json"), env, str(artifacts), str(state), *extra)


@pytest.fixture(scope="module")
def standalone(big_display, artifacts, tmp_path_factory):
    state = tmp_path_factory.mktemp("window") / "state.toml"
    first = drive("standalone", big_display, artifacts, state)
    return first, drive("reopen", big_display, artifacts, state), state


def test_the_window_opens_at_the_size_asked_and_the_panel_fills_it(standalone):
    first, _, _ = standalone
    assert first["opened"]["viewport"] == [1000, 700]
    assert first["opened"]["panel"] == [1000, 700] and first["opened"]["panel_pos"] == [0, 0]


def test_a_click_where_a_close_box_would_be_leaves_the_panel_shown(standalone):
    first, _, _ = standalone
    assert first["after_click"]["panel_shown"] is True
    assert first["after_click"]["panel"] == [1000, 700]


def test_the_panel_follows_a_resize_of_the_window(standalone, artifacts):
    first, _, _ = standalone
    assert first["resized"]["viewport"] == [1180, 760]
    assert first["resized"]["panel"] == [1180, 760], "no black margins around the panel"
    assert (artifacts / "window_resized.png").stat().st_size > 10_000


def test_the_window_opens_again_at_the_size_and_place_it_was_left(standalone):
    first, again, state = standalone
    assert again["viewport"] == [1180, 760] and again["panel"] == [1180, 760]
    assert again["viewport_pos"] == first["resized"]["viewport_pos"] == [40, 30]
    assert window_geometry.remembered(state.with_name("state.layout.ini")) == window_geometry.Geometry(
        1180, 760, 40, 30
    )


@pytest.mark.parametrize("size", ["1280x800", "1600x1000"])
def test_the_demo_fills_the_window_at_each_size_the_readme_shows(big_display, artifacts, tmp_path, size):
    figures = drive("size", big_display, artifacts, tmp_path / "state.toml", size)
    w, h = (int(v) for v in size.split("x"))
    assert figures["viewport"] == [w, h] and figures["panel"] == [w, h]
    assert (artifacts / f"window_demo_{size}.png").stat().st_size > 10_000


def test_in_a_host_the_close_box_hides_the_panel_and_the_view_menu_item_brings_it_back(
    big_display, artifacts, tmp_path
):
    result = drive("host", big_display, artifacts, tmp_path / "state.toml")
    assert result == {"shown_at_first": True, "shown_after_close_box": False, "shown_after_menu_item": True}


# --- the remembered geometry, without a window ----------------------------------------


def test_size_reads_width_by_height_and_refuses_anything_else_in_one_line():
    assert window_geometry.parse_size("1600x1000") == (1600, 1000)
    assert window_geometry.parse_size(" 800X600 ") == (800, 600)
    for bad in ("1600", "1600x", "x1000", "-5x10", "100x100", "1600x1000x3", "99999x1000"):
        with pytest.raises(ValueError) as caught:
            window_geometry.parse_size(bad)
        assert "\n" not in str(caught.value) and repr(bad) in str(caught.value)


def test_size_given_wins_over_the_remembered_size_but_keeps_the_remembered_place(tmp_path):
    layout = tmp_path / "state.layout.ini"
    layout.write_text("[Window][Session Insights]\nPos=0,0\nSize=10,10\n")
    window_geometry.remember(layout, window_geometry.Geometry(900, 600, 12, 34))
    window_geometry.remember(layout, window_geometry.Geometry(1000, 700, 56, 78))  # replaces the first
    text = layout.read_text()
    assert text.startswith("[Window][Session Insights]\n") and text.count(window_geometry.SECTION) == 1
    assert window_geometry.chosen(None, layout) == window_geometry.Geometry(1000, 700, 56, 78)
    assert window_geometry.chosen((1600, 1000), layout) == window_geometry.Geometry(1600, 1000, 56, 78)
    assert window_geometry.chosen(None, tmp_path / "none.ini") == window_geometry.Geometry(1280, 800)


@pytest.mark.parametrize(
    "kept",
    ["Size=5,5", "Size=abc", "Pos=1,2", "Size=1000,700\nPos=99999999,0", ""],
)
def test_a_damaged_remembered_geometry_is_not_used(tmp_path, kept):
    layout = tmp_path / "state.layout.ini"
    layout.write_text(f"{window_geometry.SECTION}\n{kept}\n")
    got = window_geometry.remembered(layout)
    assert got is None or (got.width, got.height, got.x) == (1000, 700, None)


@pytest.fixture(scope="module")
def wheel(big_display, artifacts, tmp_path_factory):
    return drive("wheel", big_display, artifacts, tmp_path_factory.mktemp("wheel") / "state.toml")


# Axis limits read back from Dear PyGui are float32: 128 s apart at these epoch seconds.
F32_S = 256.0


def test_the_wheel_over_a_chart_scrolls_the_panel_and_leaves_the_chart(wheel):
    [before, after_wheel, *_] = wheel["x_limits"]
    assert wheel["scroll"][0] == 0.0 and wheel["scroll"][1] > 50.0
    assert after_wheel == before


def test_ctrl_wheel_zooms_the_chart_and_the_zoom_outlives_new_data(wheel, artifacts):
    [before, _, zoomed, after_new_data, *_] = wheel["x_limits"]
    assert zoomed[1] - zoomed[0] < 0.9 * (before[1] - before[0])
    assert before[0] <= zoomed[0] and zoomed[1] <= before[1]
    assert wheel["scroll"][2] == wheel["scroll"][1], "Ctrl+wheel zooms instead of scrolling"
    assert after_new_data == zoomed
    assert (artifacts / "window_chart_zoomed.png").stat().st_size > 10_000


def test_a_double_click_fits_the_chart_again_and_it_follows_new_data(wheel):
    *_, fitted, following = wheel["x_limits"]
    first_x, _ = wheel["data_x"]
    added_first, added_last = wheel["new_ts"]
    assert abs(fitted[0] - first_x) <= F32_S and fitted[1] >= added_first - F32_S
    assert following[1] >= added_last - F32_S > fitted[1]


# --- the words and times the panel writes ----------------------------------------------


@pytest.mark.parametrize(("flags", "zone"), [((), "EST"), (("--utc",), "UTC")])
def test_the_panel_writes_times_by_the_one_rule_and_figures_with_separators_and_units(
    big_display, artifacts, tmp_path, flags, zone
):
    env = big_display | {"TZ": "America/New_York"}
    words = drive("words", env, artifacts, tmp_path / "state.toml", *flags)
    assert re.fullmatch(rf"Pointer at \d\d:\d\d:\d\d {zone}: \d{{1,3}}(,\d{{3}})* tokens", words["pointer"])
    assert re.search(rf"started \d{{4}}-\d\d-\d\d \d\d:\d\d {zone}", words["scope_bar"]), words["scope_bar"]
    assert re.search(rf"\(at \d{{4}}-\d\d-\d\d \d\d:\d\d {zone}\)", words["budget"])
    for row in words["tools"]:
        for cell in row[2:4]:  # mean and total time
            assert re.fullmatch(r"\d{1,3} ms|\d+\.\d s|\d+m \d\ds|\d+h \d\dm", cell), row
    assert (artifacts / f"window_pointer_{'utc' if flags else 'local'}.png").stat().st_size > 10_000


# --- room, and the budget ---------------------------------------------------------------


def test_at_125_percent_every_tier_cell_the_burn_peak_and_its_axis_title_have_room(big_display, artifacts, tmp_path):
    clip = drive("clip", big_display, artifacts, tmp_path / "state.toml")
    assert clip["rate_limits"][1] >= 1.1 * clip["rate_max"], "the peak stands clear of the top edge"
    assert clip["title_px"] < clip["plot_px"], "the axis title fits beside the plot"
    assert any("," in cell["text"] for cell in clip["tier_cells"]), "a tier with several models"
    for cell in clip["tier_cells"]:
        assert cell["right"] <= cell["next_left"], cell
        assert cell["cost_right"] <= cell["room_right"], cell
    assert (artifacts / "window_scale_125.png").stat().st_size > 10_000
    # The font is rasterised again at 125%, not drawn at 100% and stretched.
    before_px, after_px = clip["label_px"]
    assert after_px == pytest.approx(before_px * 1.25, abs=1.0) and clip["global_font_scale"] == 1.0


def test_when_finishing_costs_more_than_the_budget_left_the_panel_says_so_in_red(big_display, artifacts, tmp_path):
    over = drive("budget", big_display, artifacts, tmp_path / "state.toml", "20")
    p = over["projection"]
    assert p["cost_to_finish_usd"] > p["budget_left_usd"] > 0
    short = p["cost_to_finish_usd"] - p["budget_left_usd"]
    assert over["card_sub"] == f"${short:,.2f} short to finish"
    assert over["over_shown"] and over["over"].startswith("Over budget: finishing the ")
    assert f"${short:,.2f} more than the ${p['budget_left_usd']:,.2f} left" in over["over"]
    assert [round(c * 255) for c in over["card_colour"][:3]] == [235, 100, 90]  # theme.COLOURS["bad"]


def test_within_budget_the_panel_says_when_it_runs_out(big_display, artifacts, tmp_path):
    within = drive("budget", big_display, artifacts, tmp_path / "state.toml", "500")
    assert within["card_sub"].startswith("runs out in") and not within["over_shown"]


# --- stopped from outside ---------------------------------------------------------------


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_to_stop_saves_the_state_the_layout_and_the_windows_place(big_display, tmp_path, signum):
    state = tmp_path / "state.toml"
    proc = subprocess.Popen(
        [sys.executable, "-m", "session_insights.cli", "--demo", "--demo-speed", "2000", "--size", "900x640"]
        + ["--state", str(state)],
        env=big_display,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        found = subprocess.run(
            ["xdotool", "search", "--sync", "--name", "^Session Insights$"],
            env=big_display,
            capture_output=True,
            timeout=60,
        )
        assert found.returncode == 0, "the window opened"
        time.sleep(2.0)  # a few hundred frames of the demo
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, err[-2000:]
    saved = tomllib.loads((tmp_path / "state.demo.toml").read_text())
    assert saved["usage"], "the demo's requests were saved"
    kept = window_geometry.remembered(tmp_path / "state.layout.ini")
    assert kept is not None and (kept.width, kept.height) == (900, 640)


def test_the_demo_fills_the_headers_across_sessions_with_a_trend(big_display, artifacts, tmp_path):
    across = drive("demo_across", big_display, artifacts, tmp_path / "state.toml")
    sessions = across["sessions"]
    assert [row[0] for row in sessions][:1] == ["demo"] and len(sessions) == 7
    assert all(row[7] != "—" for row in sessions[1:]), "each earlier session completed tickets of its own"
    assert across["verdict"].startswith("IMPROVED: ") and "fewer tokens per satisfaction point" in across["verdict"]
    for key in ("sessions", "efficiency_over_time", "usage", "categories", "tool_cost"):
        assert (artifacts / f"demo_{key}.png").stat().st_size > 10_000


def test_while_the_backlog_is_read_in_processes_frames_come_at_most_60_a_second(big_display, artifacts, tmp_path):
    # The backlog's processes share the cores with the render loop: with vsync off (or a
    # faster display) the window pauses to the rest of a sixtieth of a second, and only then.
    found = drive("backlog_pace", big_display, artifacts, tmp_path / "state.toml")
    assert found["reading"], "no frame paused while the backlog was read"
    assert all(0 < pause <= found["frame_s"] for pause in found["reading"])
    assert found["after"] == []
