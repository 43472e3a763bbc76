"""The statusline's log as the panel keeps it: read by byte offset as it grows, again
after a trim, bounded; and the points of a window's plot."""

from __future__ import annotations

import json

from session_insights import limits, quota_log
from session_insights.quota_tail import CHECK_S, KEEP_S, QuotaTail, window_points

H = 3600.0
NOW_TS = 1_900_000_000.0
RESET_TS = NOW_TS + 2 * H


def obs(ts: float, five: float | None = None, seven: float | None = None, cost: float = 1.0) -> dict:
    windows = {}
    if five is not None:
        windows["five_hour"] = {"used_percent": five, "resets_at_ts": RESET_TS}
    if seven is not None:
        windows["seven_day"] = {"used_percent": seven, "resets_at_ts": RESET_TS + 3 * 86400}
    return {"ts": ts, "windows": windows, "cost_usd": cost}


def line(o: dict) -> bytes:
    return json.dumps(o).encode() + b"\n"


def test_lines_appended_are_read_from_where_the_last_read_ended(tmp_path):
    path = tmp_path / quota_log.LOG_NAME
    path.write_bytes(b"".join(line(obs(NOW_TS + i, five=10.0 + i)) for i in range(3)))
    tail = QuotaTail(path)
    assert tail.poll(now_s=0.0)
    assert [o["windows"]["five_hour"]["used_percent"] for o in tail.observations] == [10.0, 11.0, 12.0]
    # Bytes before the offset are never read again: garbling them changes nothing.
    data = path.read_bytes()
    path.write_bytes(b"x" * 20 + data[20:] + line(obs(NOW_TS + 3, five=13.0)))
    assert tail.poll(now_s=CHECK_S)
    assert [o["windows"]["five_hour"]["used_percent"] for o in tail.observations] == [10.0, 11.0, 12.0, 13.0]


def test_a_line_still_being_written_waits_for_its_newline(tmp_path):
    path = tmp_path / quota_log.LOG_NAME
    whole = line(obs(NOW_TS, five=40.0))
    path.write_bytes(line(obs(NOW_TS - 60, five=39.0)) + whole[:25])
    tail = QuotaTail(path)
    tail.poll(now_s=0.0)
    assert len(tail.observations) == 1
    with open(path, "ab") as f:
        f.write(whole[25:])
    assert tail.poll(now_s=CHECK_S)
    assert [o["windows"]["five_hour"]["used_percent"] for o in tail.observations] == [39.0, 40.0]


def test_the_log_is_looked_at_once_a_check_interval(tmp_path):
    path = tmp_path / quota_log.LOG_NAME
    tail = QuotaTail(path)
    assert not tail.poll(now_s=0.0)  # no log yet
    path.write_bytes(line(obs(NOW_TS, five=5.0)))
    assert not tail.poll(now_s=CHECK_S / 2)
    assert tail.poll(now_s=CHECK_S) and tail.version == 1
    assert not tail.poll(now_s=2 * CHECK_S)  # unchanged
    path.unlink()
    assert tail.poll(now_s=3 * CHECK_S) and tail.observations == [] and tail.version == 2


def test_after_a_trim_the_log_is_read_again_as_it_now_is(tmp_path):
    path = tmp_path / quota_log.LOG_NAME
    tail = QuotaTail(path)
    i = 0
    while not path.exists() or path.stat().st_size < quota_log.MAX_BYTES // 2:
        quota_log.append(obs(NOW_TS + i * 61, five=(i % 90) + 1.0, cost=float(i)), path)
        i += 1
    tail.poll(now_s=0.0)
    before = path.stat().st_ino
    while path.stat().st_ino == before:  # appended past MAX_BYTES: the newest half is kept
        quota_log.append(obs(NOW_TS + i * 61, five=(i % 90) + 1.0, cost=float(i)), path)
        i += 1
    assert tail.poll(now_s=CHECK_S)
    assert tail.observations == quota_log.read(path)
    assert tail.observations[-1]["cost_usd"] == float(i - 1)


def test_what_is_kept_is_bounded_to_the_longest_window(tmp_path):
    path = tmp_path / quota_log.LOG_NAME
    old = [line(obs(NOW_TS - KEEP_S - 3600, seven=1.0)), line(obs(NOW_TS - KEEP_S + 60, seven=2.0))]
    path.write_bytes(b"".join(old) + line(obs(NOW_TS, seven=3.0)))
    tail = QuotaTail(path)
    tail.poll(now_s=0.0)
    assert [o["windows"]["seven_day"]["used_percent"] for o in tail.observations] == [2.0, 3.0]


def test_latest_gives_the_newest_observation_of_each_window(tmp_path):
    path = tmp_path / quota_log.LOG_NAME
    rows = [obs(NOW_TS - 300, five=10.0, seven=4.0), obs(NOW_TS - 200, five=11.0), obs(NOW_TS - 100, five=12.0)]
    path.write_bytes(b"".join(line(o) for o in rows))
    tail = QuotaTail(path)
    tail.poll(now_s=0.0)
    latest = tail.latest()
    assert [o["ts"] for o in latest] == [NOW_TS - 300, NOW_TS - 100]
    assert limits.claude_windows(latest, NOW_TS) == limits.claude_windows(tail.observations, NOW_TS)


def test_a_windows_points_are_its_current_span_relative_to_its_start_and_bounded():
    start_ts = RESET_TS - 5 * H
    seen = [obs(start_ts - 600, five=99.0)]  # the window before: not this one's
    other = obs(start_ts + 65, five=98.0)  # made in the span, of another window (its reset 5 h later)
    other["windows"]["five_hour"]["resets_at_ts"] = RESET_TS + 5 * H
    seen.append(other)
    seen += [obs(start_ts + k * 10, five=k / 100) for k in range(1, 1000)]
    w = limits.claude_windows(seen, NOW_TS)[0]
    xs, ys = window_points(seen, w, max_points=50)
    # Slices of 5 h / 50 = 360 s: 9,990 s of points fill 28 of them, the last of each kept.
    assert len(xs) == 28 and xs == sorted(xs) and 99.0 not in ys and 98.0 not in ys
    assert (xs[0], ys[0]) == (350.0, 0.35)
    assert (xs[-1], ys[-1]) == (9990.0, 9.99)  # the newest point is always kept
    every = window_points(seen, w, max_points=100_000)[1]
    assert len(every) == 999 and 98.0 not in every and 99.0 not in every


def test_another_sources_window_plots_its_last_report():
    w = limits.figures("codex", "primary", 40.0, RESET_TS, 5 * H, NOW_TS - 60, NOW_TS)
    assert window_points([], w) == ([3 * H - 60], [40.0])
    no_reset = limits.figures("codex", "secondary", 20.0, None, 7 * 86400.0, NOW_TS - 60, NOW_TS)
    assert window_points([], no_reset) == ([], [])
