"""Drives the panel's Token Usage by Tier under an X display, in its own process, and
writes what its table shows and where its figures were drawn as JSON for
tests/test_tiers_panel.py.

    python tests/tiers_driver.py tiers OUT.json ARTIFACTS_DIR
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import dearpygui.dearpygui as dpg
from gui_driver import START_TS, frames, ink_extents, only_open, open_panel

from session_insights import TokenHistory

# Costs of four lengths: a priced tier, a cheap one, one of a model no price list knows
# (unpriced) and one of both (its priced part and its unpriced mark).
TIER_REQUESTS = (
    ("planner", "claude-opus-4-1", 40_000, 8_000),
    ("coder", "claude-sonnet-4-5", 1_000, 200),
    ("reviewer", "house-model-without-a-price", 5_000, 500),
    ("mixed", "claude-sonnet-4-5", 20_000, 2_000),
    ("mixed", "house-model-without-a-price", 1_000, 100),
)


def scenario_tiers(artifacts: Path) -> dict:
    history = TokenHistory()
    for i, (tier, model, inp, out) in enumerate(TIER_REQUESTS):
        history.record_usage(model, inp, out, ts=START_TS + 60 * i, tier=tier, session="s")
    history.drain()
    panel = open_panel(history, clock=lambda: START_TS + 600)
    only_open(panel, {"tiers"})
    table = panel.headers["tiers"].table
    rows = table._rows
    out = {
        "texts": table.texts(),
        "cost_ink": ink_extents([cells[6] for _, cells, _ in rows], artifacts / "header_tiers_measured.png"),
        "requests_ink": ink_extents([cells[2] for _, cells, _ in rows], artifacts / "header_tiers_measured.png"),
    }
    frames(2)
    dpg.destroy_context()
    return out


if __name__ == "__main__":
    name, out_path, artifacts = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    artifacts.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps({"tiers": scenario_tiers}[name](artifacts)))
