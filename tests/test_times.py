"""One rule for every time the window and ``report`` write: local time with its zone
named, ISO dates, 24-hour clock; ``--utc`` writes them all in UTC. Run in subprocesses
with TZ set, as a user in New York would see them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from session_insights import times
from session_insights.session_logger import SessionLogger

START_TS = 1_796_141_700.0  # 2026-12-01 16:15 UTC, 11:15 in New York (EST)


@pytest.fixture
def logged(tmp_path: Path) -> Path:
    folder = tmp_path / "logs"
    with SessionLogger(folder, "nyc-session") as log:
        for i in range(3):
            log.model_call("claude-sonnet-4-5", input_tokens=10_000, output_tokens=2_000, ended_ts=START_TS + 60 * i)
    return folder


def report(folder: Path, tmp_path: Path, *flags: str) -> str:
    env = {k: v for k, v in os.environ.items() if k != "SESSION_INSIGHTS_STATE"}
    proc = subprocess.run(
        [sys.executable, "-m", "session_insights.cli", "report", f"comms:{folder}", *flags],
        env=env | {"TZ": "America/New_York"},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_report_writes_a_sessions_start_the_same_in_text_and_by_session_local_with_the_zone(logged, tmp_path):
    text = report(logged, tmp_path)
    by_session = report(logged, tmp_path, "--by", "session")
    assert "2026-12-01 11:15 EST" in text
    assert "2026-12-01 11:15 EST" in by_session
    assert "16:15" not in text + by_session


def test_utc_writes_every_time_in_utc(logged, tmp_path):
    text = report(logged, tmp_path, "--utc")
    by_session = report(logged, tmp_path, "--utc", "--by", "session")
    assert "2026-12-01 16:15 UTC" in text and "2026-12-01 16:15 UTC" in by_session
    assert "11:15" not in text + by_session


def test_csv_and_json_times_are_iso_8601_in_utc_whatever_the_choice(logged, tmp_path):
    for flags in ((), ("--utc",)):
        csv_text = report(logged, tmp_path, "--by", "session", "--format", "csv", *flags)
        assert ",2026-12-01T16:15:00Z," in csv_text
        rows = json.loads(report(logged, tmp_path, "--by", "session", "--format", "json", *flags))["rows"]
        assert rows[0]["start"] == "2026-12-01T16:15:00Z"


def test_the_rule_names_the_zone_and_uses_iso_dates_and_a_24_hour_clock(monkeypatch):
    monkeypatch.setenv("TZ", "Europe/Berlin")
    import time

    time.tzset()
    try:
        assert times.moment(START_TS) == "2026-12-01 17:15 CET"
        assert times.day(START_TS) == "2026-12-01"
        assert times.moment(START_TS + 6 * 3600) == "2026-12-01 23:15 CET"
        times.use_utc(True)
        assert times.moment(START_TS) == "2026-12-01 16:15 UTC"
        assert times.plot_options() == {"use_local_time": False, "use_ISO8601": True, "use_24hour_clock": True}
    finally:
        times.use_utc(False)
        monkeypatch.delenv("TZ")
        time.tzset()
    assert times.plot_options()["use_local_time"] is True
