"""The panel's Token Usage by Tier: its Cost figures end on the right of their column,
as the other figures and report's text tables do, whatever their length."""

from __future__ import annotations

from pathlib import Path

from conftest import run_driver

DRIVER = Path(__file__).with_name("tiers_driver.py")


def test_tier_costs_of_every_length_end_on_the_right_of_their_column(x_display, artifacts, tmp_path):
    found = run_driver(DRIVER, "tiers", tmp_path / "tiers.json", x_display, str(artifacts))
    costs = {row[0]: row[6] for row in found["texts"]}
    assert costs["reviewer"] == "unpriced"
    assert costs["mixed"].endswith("(+1 unpriced)")
    assert len({len(c) for c in costs.values()}) >= 3  # '$0.0054', '$1.20', 'unpriced', '$0.09 (+1 unpriced)'

    lefts = [left for left, _, _ in found["cost_ink"]]
    rights = [right for _, right, _ in found["cost_ink"]]
    edges = [edge for _, _, edge in found["cost_ink"]]
    assert min(lefts) >= 0, found["cost_ink"]  # every cost was drawn
    # Texts of different lengths start apart and end together, within a pixel of each other
    # and a few of the cell's right edge, as the Requests figures do.
    assert max(lefts) - min(lefts) > 20
    assert max(rights) - min(rights) <= 1, found["cost_ink"]
    assert all(0 <= edge - right <= 4 for right, edge in zip(rights, edges)), found["cost_ink"]
    requests_rights = [right for _, right, _ in found["requests_ink"]]
    assert max(requests_rights) - min(requests_rights) <= 1
