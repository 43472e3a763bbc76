"""The window's ``--prometheus``: a real window under Xvfb serves the figures ``export``
serves, from its own history, while it draws; the same sums as ``report``."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from test_export_engines import SOURCES, TYPES, _until, report, scrape, sum_by

pytestmark = pytest.mark.gui


def test_the_window_serves_the_reports_figures_on_prometheus(x_display, tmp_path: Path):
    truth = report(SOURCES, tmp_path)
    expected = {kind: float(truth["totals"][key]) for kind, key in TYPES.items()}
    err_path = tmp_path / "window.err"
    with err_path.open("w") as err:
        window = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "session_insights.cli",
                *SOURCES,
                "--state",
                str(tmp_path / "state.toml"),
                "--prometheus",
                "127.0.0.1:0",
                "--frames",
                "100000",
            ],
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=x_display,
        )
        try:

            def served():
                if window.poll() is not None:
                    pytest.fail(f"the window ended early: {err_path.read_text()}")
                match = re.search(r"serving metrics on (http://\S+/metrics)", err_path.read_text())
                return match and match.group(1)

            url = _until(served, "the window serving /metrics")
            requests = float(truth["totals"]["requests"])

            def complete(s):  # the histogram follows the counters by one feed once caught up
                return sum_by(s, "session_insights_tokens_total", "type") == expected and sum_by(
                    s, "gen_ai_client_token_usage_count"
                ) == {"": 2.0 * requests}

            samples = _until(
                lambda: (s := scrape(url)) and complete(s) and s, "the report's totals on the window's /metrics"
            )
            assert sum_by(samples, "session_insights_requests_total") == {"": requests}
        finally:
            window.send_signal(signal.SIGTERM)
            window.wait(timeout=60)
