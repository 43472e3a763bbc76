"""The token timeline as the panel draws it: cumulative series and a rate per bucket,
thinned to about one point per pixel column, broken across idle gaps (DESIGN §3b, §7).
A pure function of ``TokenHistory.timeline()``; no window here."""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Sequence

from .metrics import IDLE_GAP_S

RATE_SMOOTHING_S = 60.0
# ImPlot leaves a NaN point out of a line series, and breaks the line there.
LINE_BREAK = float("nan")
_TIMELINE_KEYS = ("x", "input", "output", "cache_read", "total", "rate_x", "tokens_per_min")


def _line_breaks(
    buckets: Sequence[tuple[float, Sequence[int]]], width_s: float, idle_gap_s: float, most: int
) -> set[int]:
    """Indexes of the buckets an idle gap follows: the ``most`` widest such gaps."""
    gaps = []
    for i in range(len(buckets) - 1):
        idle_s = buckets[i + 1][0] - buckets[i][0] - width_s
        if idle_s >= idle_gap_s:
            gaps.append((idle_s, i))
    if len(gaps) > most:
        gaps = heapq.nlargest(most, gaps)
    return {i for _, i in gaps}


def timeline_view(
    buckets: Sequence[tuple[float, Sequence[int]]],
    width_s: float,
    max_points: int = 512,
    idle_gap_s: float = IDLE_GAP_S,
) -> dict:
    """Cumulative input, output, cache-read and total tokens, and tokens/min per bucket,
    against bucket end times, at most ``max_points`` per series for drawing.

    ``buckets`` are (start_ts, [input, output, cache_read, cache_write, cost_pusd,
    requests]) in time order, as ``TokenHistory.timeline()`` gives them. Cumulative
    series are monotone, so keeping every n-th point (and always the last) loses no
    shape. The rate is tokens over the trailing ``RATE_SMOOTHING_S`` (or one bucket, if
    wider) per minute, so a lone request reads as what it is, not as its tokens over a
    one-second bucket; each stride keeps its maximum so a spike is never hidden.

    Where ``idle_gap_s`` or more passes between one bucket's end and the next one's
    start (idle, DESIGN §3b), the lines break instead of running straight over the gap:
    a ``LINE_BREAK`` (NaN) point ends them, the cumulative lines resume flat where
    activity resumes, and the rate drops to zero (its trailing window empties) before
    the break and rises from zero after it, as it does where the first bucket starts.
    Each break costs up to four points a series; past ``max_points // 8`` gaps only the
    widest break the lines.
    """
    view: dict[str, list[float]] = {key: [] for key in _TIMELINE_KEYS}
    breaks = _line_breaks(buckets, width_s, idle_gap_s, max_points // 8)
    stride = max(1, -(-len(buckets) // max(1, max_points - 1 - 4 * len(breaks))))
    _walk(view, buckets, width_s, breaks, stride)
    return view


def _walk(view: dict[str, list[float]], buckets, width_s: float, breaks, stride: int) -> None:
    """Fill ``view`` with every ``stride``-th bucket's point (and each break's, and the
    last): the cumulative sums at its end, and the peak trailing rate since the last point."""
    xs, rate_xs, rate = view["x"], view["rate_x"], view["tokens_per_min"]
    cumulative = (view["input"], view["output"], view["cache_read"], view["total"])
    sums = [0, 0, 0, 0]  # input, output, cache read, total

    def cumulative_point(x: float, values: Sequence[float]) -> None:
        xs.append(x)
        for series, value in zip(cumulative, values, strict=True):
            series.append(float(value))

    if buckets:  # every series starts from zero where the first bucket starts
        cumulative_point(buckets[0][0], sums)
        rate_xs.append(buckets[0][0])
        rate.append(0.0)
    peak = 0.0
    span = max(RATE_SMOOTHING_S, width_s)
    trailing: deque[tuple[float, int]] = deque()  # (bucket end, tokens) within the span
    in_span = 0
    for i, (start, v) in enumerate(buckets):
        tokens = v[0] + v[1] + v[2] + v[3]
        sums[0] += v[0]
        sums[1] += v[1]
        sums[2] += v[2]
        sums[3] += tokens
        end = start + width_s
        trailing.append((end, tokens))
        in_span += tokens
        while trailing[0][0] <= end - span:
            in_span -= trailing.popleft()[1]
        peak = max(peak, in_span * 60.0 / span)
        if (i + 1) % stride == 0 or i == len(buckets) - 1 or i in breaks:
            cumulative_point(end, sums)
            rate_xs.append(end)
            rate.append(peak)
            peak = 0.0
        if i in breaks:  # idle until the next bucket
            _break(view, end, buckets[i + 1][0], span, sums)


def _break(view: dict[str, list[float]], end: float, resume: float, span: float, sums: Sequence[int]) -> None:
    """Points that break the lines from ``end`` to ``resume``: the cumulative lines end
    with NaN and resume flat; the rate falls to zero as its trailing window empties."""
    for x, values in ((end, (LINE_BREAK,) * 4), (resume, sums)):
        view["x"].append(x)
        for key, value in zip(("input", "output", "cache_read", "total"), values, strict=True):
            view[key].append(float(value))
    emptied = min(end + span, resume)  # the trailing window holds nothing from here
    view["rate_x"].extend((emptied, emptied, resume))
    view["tokens_per_min"].extend((0.0, LINE_BREAK, 0.0))
