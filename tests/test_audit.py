"""Token-usage audit logs: running totals turned into per-session growth, sessions as
tickets, satisfaction as ratings, interleaved projects, resets, replays, restarts."""

import os
import time
from datetime import datetime
from pathlib import Path

import orjson
import pytest

from session_insights import TokenHistory
from session_insights.cli import main
from session_insights.sources import open_source

SHOP, BLOG = "shop-001", "blog-002"
S1, S2, S3, S4 = "shop-001_session_000", "blog-002_session_000", "shop-001_session_001", "blog-002_session_001"


def entry(
    ts: str, project: str, session: str | None, total_in, total_out, *, boundary=None, gen=None, satisfaction=None
) -> dict:
    line = {
        "timestamp": ts,
        "project_id": project,
        "session_id": session,
        "total_input_tokens": total_in,
        "total_output_tokens": total_out,
        "total_tokens": total_in + total_out if isinstance(total_in, int) and isinstance(total_out, int) else 0,
        "session_boundary": boundary,
        "generation_id": gen,
        "done": boundary == "end",
    }
    if satisfaction is not None:
        line["satisfaction"] = satisfaction
    return line


# Two projects interleave. Growth per session (input, output):
#   S1 shop: gen-a 1000/200, gen-b 1000/300 (its line written twice)       -> 2000/500, ended, satisfaction 8
#   S2 blog: gen-c 400/100, counters drop at gen-d, gen-e +500/+200, end 650/250 from a start at 0/0
#            -> 650/250 (end minus start; live it showed 900/300), ended, satisfaction 6
#   S3 shop: gen-f 1000/300, then gen-f again (stale id) +500/+100         -> 1500/400, left open
#   S4 blog: ends below where it started                                    ->    0/0,   ended, satisfaction 9
HEAD = [
    entry("2025-09-03T13:50:05+00:00", SHOP, S1, 269, 628, boundary="start"),
    entry("2025-09-03T13:50:07+00:00", BLOG, S2, 0, 0, boundary="start"),
    entry("2025-09-03T13:51:00+00:00", SHOP, S1, 1269, 828, gen="gen-a"),
    entry("2025-09-03T13:51:30+00:00", BLOG, S2, 400, 100, gen="gen-c"),
    entry("2025-09-03T13:52:00+00:00", SHOP, S1, 2269, 1128, gen="gen-b"),
    entry("2025-09-03T13:52:00+00:00", SHOP, S1, 2269, 1128, gen="gen-b"),
    entry("2025-09-03T13:53:00+00:00", BLOG, S2, 150, 50, gen="gen-d"),
    entry("2025-09-03T13:54:00+00:00", SHOP, S1, 2269, 1128, boundary="end", satisfaction=8),
    entry("2025-09-03T13:55:00+00:00", BLOG, S2, 650, 250, gen="gen-e"),
    entry("2025-09-03T13:56:00+00:00", SHOP, S3, 2269, 1128, boundary="start"),
    entry("2025-09-03T13:57:00+00:00", SHOP, S3, 3269, 1428, gen="gen-f"),
]
TAIL = [
    entry("2025-09-03T13:58:00+00:00", BLOG, S2, 650, 250, boundary="end", satisfaction=6),
    entry("2025-09-03T13:58:30+00:00", SHOP, S3, 3769, 1528, gen="gen-f"),
    entry("2025-09-03T14:00:00+00:00", BLOG, S4, 5000, 900, boundary="start"),
    entry("2025-09-03T14:05:00+00:00", BLOG, S4, 4000, 700, boundary="end", satisfaction=9),
]
BROKEN = [
    b'{"timestamp": "2025-09-03T14:06:00+00:00", "project_id": "blog-002", "session_id": "blog-',  # cut mid-write
    orjson.dumps(entry("2025-09-03T14:07:00+00:00", BLOG, "blog-002_session_007", -5, 10, boundary="start")),
    orjson.dumps(entry("2025-09-03T14:08:00+00:00", BLOG, S4, 4000, 700, boundary="end", satisfaction=11)),
    orjson.dumps(entry("2025-09-03T14:09:00+00:00", SHOP, S3, "1,000", 10, gen="gen-g")),
]

EXPECTED_TOTALS = {"input_tokens": 4_150, "output_tokens": 1_150, "requests": 6}


def lines(entries) -> bytes:
    return b"".join((e if isinstance(e, bytes) else orjson.dumps(e)) + b"\n" for e in entries)


def write_log(folder: Path, entries=None) -> Path:
    path = folder / "token_usage_audit.jsonl"
    path.write_bytes(lines(HEAD + TAIL + BROKEN if entries is None else entries))
    return path


def read(path: Path) -> dict:
    h = TokenHistory()
    open_source(f"audit:{path}", h).poll()
    h.drain()
    return h.snapshot()


def pick(figures: dict, *keys: str) -> dict:
    return {k: figures[k] for k in keys}


def test_session_usage_is_the_growth_of_its_running_totals(tmp_path):
    snap = read(write_log(tmp_path))
    assert pick(snap["totals"], "input_tokens", "output_tokens", "requests") == EXPECTED_TOTALS
    assert snap["totals"]["cache_read_tokens"] == snap["totals"]["cache_write_tokens"] == 0
    sessions = snap["sessions"]
    assert pick(sessions[S1], "input_tokens", "output_tokens", "requests") == {
        "input_tokens": 2_000,
        "output_tokens": 500,
        "requests": 2,
    }
    assert pick(sessions[S2], "input_tokens", "output_tokens", "requests") == {
        "input_tokens": 650,
        "output_tokens": 250,
        "requests": 3,
    }
    assert pick(sessions[S3], "input_tokens", "output_tokens", "requests") == {
        "input_tokens": 1_500,
        "output_tokens": 400,
        "requests": 1,
    }
    # S4 ended below its start: no usage at all, not a negative one; its rating stays.
    assert pick(sessions[S4], "total_tokens", "requests", "ratings", "state") == {
        "total_tokens": 0,
        "requests": 0,
        "ratings": 1,
        "state": "ended",
    }
    assert [sessions[s]["state"] for s in (S1, S2, S3)] == ["ended", "ended", "open"]
    assert {sessions[s]["project"] for s in (S1, S3)} == {SHOP} and sessions[S2]["project"] == BLOG
    assert {v["source"] for v in sessions.values()} == {"audit"}
    assert sessions[S1]["tickets_completed"] == 1 and sessions[S3]["tickets_completed"] == 0


def test_projects_are_the_tiers(tmp_path):
    by_tier = read(write_log(tmp_path))["by_tier"]
    assert sorted(by_tier) == [BLOG, SHOP]
    assert pick(by_tier[SHOP], "input_tokens", "output_tokens", "requests") == {
        "input_tokens": 3_500,
        "output_tokens": 900,
        "requests": 3,
    }
    assert pick(by_tier[BLOG], "input_tokens", "output_tokens", "requests") == {
        "input_tokens": 650,
        "output_tokens": 250,
        "requests": 3,
    }


def test_no_model_is_recorded_so_the_usage_is_unpriced_never_free(tmp_path):
    snap = read(write_log(tmp_path))
    assert snap["unpriced_models"] == ["unrecorded"]
    unrecorded = snap["by_model"]["unrecorded"]
    assert unrecorded["cost_usd"] is None and unrecorded["priced"] is False
    assert unrecorded["unpriced_requests"] == 6
    assert unrecorded["total_tokens"] == 5_300


def test_sessions_are_tickets_and_satisfaction_on_the_end_entry_is_a_rating(tmp_path):
    snap = read(write_log(tmp_path))
    tickets = snap["tickets"]
    assert tickets["total"] == 4
    assert tickets["by_status"] == {"todo": 0, "in_progress": 1, "blocked": 0, "completed": 3, "left_open": 0}
    assert tickets["tracks"] == {
        BLOG: {"todo": 0, "in_progress": 0, "blocked": 0, "completed": 2, "left_open": 0},
        SHOP: {"todo": 0, "in_progress": 1, "blocked": 0, "completed": 1, "left_open": 0},
    }
    efficiency = snap["efficiency"]
    # Ratings come only from ended sessions: 8, 6 and 9; the open session has none.
    assert efficiency["ratings"] == 3
    assert efficiency["mean_satisfaction"] == pytest.approx(23 / 3)


def test_tokens_per_completed_ticket_count_only_ended_sessions(tmp_path):
    # Ended: S1 2,500 + S2 900 + S4 0 tokens over three tickets; S3 (1,900 tokens) is open.
    efficiency = read(write_log(tmp_path))["efficiency"]
    assert efficiency["tokens_per_completed_ticket"] == pytest.approx(3_400 / 3)
    assert efficiency["open_sessions"] == 1
    # Rated sessions: 2,500 tokens at 8, 900 at 6, 0 at 9 -> 3,400 / 3 tokens over 23 / 3 points.
    assert efficiency["tokens_per_satisfaction_point"] == pytest.approx(3_400 / 23)
    over = efficiency["over_time"]
    assert over["interval"] == "daily" and [b["sessions"] for b in over["buckets"]] == [3]


def test_once_the_open_session_ends_it_joins_the_averages(tmp_path):
    path = write_log(
        tmp_path,
        HEAD + TAIL + [entry("2025-09-03T14:10:00+00:00", SHOP, S3, 3769, 1528, boundary="end", satisfaction=5)],
    )
    efficiency = read(path)["efficiency"]
    assert efficiency["open_sessions"] == 0
    assert efficiency["tokens_per_completed_ticket"] == pytest.approx(5_300 / 4)


@pytest.mark.parametrize(
    "middle, expected",
    [
        # Drops, then rises past where it started: end minus start, whatever happened between.
        ([(1100, 300), (100, 50), (900, 250)], (800 - 0, 150)),
        # Drops below its start and rises, but not back to it: nothing.
        ([(1500, 400), (200, 20), (600, 90)], (0, 0)),
        # Only grows: the live sum is already end minus start.
        ([(400, 100), (700, 160)], (700 - 100, 160 - 60)),
    ],
)
def test_a_counter_that_drops_mid_session_settles_at_end_minus_start(tmp_path, middle, expected):
    start = (100, 60) if expected == (600, 100) else (100, 100) if expected == (800, 150) else (1000, 300)
    entries = [entry("2025-09-03T13:50:00+00:00", SHOP, S1, *start, boundary="start")]
    entries += [
        entry(f"2025-09-03T13:5{i + 1}:00+00:00", SHOP, S1, i_, o_, gen=f"g{i}") for i, (i_, o_) in enumerate(middle)
    ]
    end = middle[-1]
    entries.append(entry("2025-09-03T13:59:00+00:00", SHOP, S1, *end, boundary="end"))
    path = write_log(tmp_path, entries)
    h = TokenHistory()
    source = open_source(f"audit:{path}", h)
    source.poll()
    h.drain()
    totals = h.snapshot()["totals"]
    assert (totals["input_tokens"], totals["output_tokens"]) == (max(0, end[0] - start[0]), max(0, end[1] - start[1]))
    assert totals["requests"] == len(middle)


def test_live_a_dropped_counter_shows_its_growth_until_the_end_settles_it(tmp_path):
    path = tmp_path / "token_usage_audit.jsonl"
    path.write_bytes(
        lines(
            [
                entry("2025-09-03T13:50:00+00:00", SHOP, S1, 0, 0, boundary="start"),
                entry("2025-09-03T13:51:00+00:00", SHOP, S1, 1000, 200, gen="a"),
                entry("2025-09-03T13:52:00+00:00", SHOP, S1, 100, 20),  # dropped
                entry("2025-09-03T13:53:00+00:00", SHOP, S1, 600, 120, gen="b"),
            ]
        )
    )
    h = TokenHistory()
    source = open_source(f"audit:{path}", h)
    source.poll()
    h.drain()
    assert h.snapshot()["totals"]["input_tokens"] == 1_500  # 1,000 + 500 of growth, counted live
    with open(path, "ab") as f:
        f.write(lines([entry("2025-09-03T13:54:00+00:00", SHOP, S1, 600, 120, boundary="end")]))
    source.poll()
    h.drain()
    snap = h.snapshot()
    assert (snap["totals"]["input_tokens"], snap["totals"]["output_tokens"]) == (600, 120)
    assert snap["totals"]["requests"] == 2 and snap["sessions"][S1]["state"] == "ended"


def test_a_duplicated_line_and_a_stale_generation_id_each_count_once(tmp_path):
    # gen-b's line is written twice; gen-f appears on a later entry with more tokens.
    snap = read(write_log(tmp_path))
    assert snap["sessions"][S1]["requests"] == 2
    assert pick(snap["sessions"][S3], "input_tokens", "output_tokens") == {"input_tokens": 1_500, "output_tokens": 400}


def test_a_replayed_earlier_entry_is_not_taken_for_a_counter_reset(tmp_path):
    path = write_log(
        tmp_path,
        [
            entry("2025-09-03T13:50:05+00:00", SHOP, S1, 100, 10, boundary="start"),
            entry("2025-09-03T13:51:00+00:00", SHOP, S1, 1100, 210, gen="gen-a"),
            entry("2025-09-03T13:52:00+00:00", SHOP, S1, 2100, 410, gen="gen-b"),
            entry("2025-09-03T13:51:00+00:00", SHOP, S1, 1100, 210, gen="gen-a"),  # written again, late
            entry("2025-09-03T13:53:00+00:00", SHOP, S1, 2600, 510, gen="gen-c"),
            entry("2025-09-03T13:54:00+00:00", SHOP, S1, 2600, 510, boundary="end"),
        ],
    )
    totals = read(path)["totals"]
    assert pick(totals, "input_tokens", "output_tokens", "requests") == {
        "input_tokens": 2_500,
        "output_tokens": 500,
        "requests": 3,
    }


def test_a_session_seen_first_mid_way_starts_at_its_first_entry(tmp_path):
    path = write_log(
        tmp_path,
        [
            entry("2025-09-03T13:51:00+00:00", SHOP, S1, 1100, 210, gen="gen-a"),
            entry("2025-09-03T13:52:00+00:00", SHOP, S1, 2100, 410, gen="gen-b"),
            entry("2025-09-03T13:54:00+00:00", SHOP, S1, 2100, 410, boundary="end", satisfaction=7.5),
        ],
    )
    snap = read(path)
    assert pick(snap["totals"], "input_tokens", "output_tokens", "requests") == {
        "input_tokens": 1_000,
        "output_tokens": 200,
        "requests": 1,
    }
    assert snap["tickets"]["by_status"]["completed"] == 1
    assert snap["efficiency"]["mean_satisfaction"] == 7.5


def test_a_start_for_an_open_session_rebases_it(tmp_path):
    path = write_log(
        tmp_path,
        [
            entry("2025-09-03T13:50:00+00:00", SHOP, S1, 0, 0, boundary="start"),
            entry("2025-09-03T13:51:00+00:00", SHOP, S1, 1000, 100, gen="gen-a"),
            entry("2025-09-03T13:52:00+00:00", SHOP, S1, 1500, 150),  # grew, no generation id
            entry("2025-09-03T13:53:00+00:00", SHOP, S1, 4000, 400, boundary="start"),  # 2500/250 not counted
            entry("2025-09-03T13:54:00+00:00", SHOP, S1, 4300, 450, boundary="end"),
        ],
    )
    snap = read(path)
    assert pick(snap["totals"], "input_tokens", "output_tokens", "requests") == {
        "input_tokens": 1_800,
        "output_tokens": 200,
        "requests": 3,
    }
    assert snap["tickets"]["by_status"] == {"todo": 0, "in_progress": 0, "blocked": 0, "completed": 1, "left_open": 0}


def test_naive_timestamps_are_local_time_and_epoch_seconds_are_accepted(tmp_path):
    path = write_log(
        tmp_path,
        [
            entry("2025-09-03T13:50:05.751641", SHOP, S1, 269, 628, boundary="start"),
            entry("2025-09-03T13:51:00.250000", SHOP, S1, 1269, 828, gen="gen-a"),
            entry(1756907600.5, BLOG, S2, 0, 0, boundary="start"),
            entry(1756907700, BLOG, S2, 10, 20, gen="gen-c"),
        ],
    )
    sessions = read(path)["sessions"]
    assert sessions[S1]["first_ts"] == datetime.fromisoformat("2025-09-03T13:50:05.751641").timestamp()
    assert sessions[S1]["last_ts"] == datetime.fromisoformat("2025-09-03T13:51:00.250000").timestamp()
    assert sessions[S2]["first_ts"] == 1756907600.5 and sessions[S2]["last_ts"] == 1756907700.0


def test_entries_outside_a_session_are_skipped(tmp_path):
    path = write_log(
        tmp_path,
        [
            entry("2025-09-03T13:50:00+00:00", SHOP, S1, 0, 0, boundary="start"),
            entry("2025-09-03T13:51:00+00:00", SHOP, S1, 1000, 100, gen="gen-a"),
            entry("2025-09-03T13:52:00+00:00", SHOP, S1, 1000, 100, boundary="end"),
            entry("2025-09-03T13:53:00+00:00", SHOP, None, 1700, 150, gen="gen-z"),
        ],
    )
    snap = read(path)
    assert pick(snap["totals"], "input_tokens", "output_tokens", "requests") == {
        "input_tokens": 1_000,
        "output_tokens": 100,
        "requests": 1,
    }
    assert snap["errors"]["bad_lines"] == 0


def test_bad_values_are_bad_lines_counted_per_file_and_change_nothing(tmp_path):
    path = write_log(tmp_path)
    (tmp_path / "other").mkdir()
    other = write_log(tmp_path / "other", BROKEN[:2])
    h = TokenHistory()
    open_source(f"audit:{path}", h).poll()
    open_source(f"audit:{other}", h).poll()
    h.drain()
    snap = h.snapshot()
    assert (snap["errors"]["bad_lines"], snap["errors"]["files"]) == (6, {str(path): 4, str(other): 2})
    # The end entry with satisfaction 11 was refused whole: S4 ended by its valid end only.
    assert snap["efficiency"]["ratings"] == 3
    assert pick(snap["totals"], "input_tokens", "output_tokens", "requests") == EXPECTED_TOTALS


def test_an_open_session_shows_live_while_the_log_grows(tmp_path):
    path = write_log(tmp_path, HEAD)
    h = TokenHistory()
    source = open_source(f"audit:{path}", h)
    source.poll()
    h.drain()
    live = h.snapshot()
    assert pick(live["sessions"][S3], "input_tokens", "output_tokens") == {"input_tokens": 1_000, "output_tokens": 300}
    assert live["tickets"]["by_status"] == {"todo": 0, "in_progress": 2, "blocked": 0, "completed": 1, "left_open": 0}
    with open(path, "ab") as f:
        whole = lines(TAIL[:1])
        f.write(whole[:30])  # the writer is mid-line
    source.poll()
    h.drain()
    assert h.snapshot()["tickets"]["by_status"]["completed"] == 1
    with open(path, "ab") as f:
        f.write(whole[30:] + lines(TAIL[1:]))
    source.poll()
    h.drain()
    snap = h.snapshot()
    assert pick(snap["totals"], "input_tokens", "output_tokens", "requests") == EXPECTED_TOTALS
    assert snap["tickets"]["by_status"] == {"todo": 0, "in_progress": 1, "blocked": 0, "completed": 3, "left_open": 0}
    assert snap["errors"]["bad_lines"] == 0


@pytest.mark.parametrize("grows", ["before the restart", "after the first poll"])
def test_a_restart_from_saved_offsets_keeps_measuring_growth_from_the_open_sessions(tmp_path, grows):
    (tmp_path / "logs").mkdir()
    path = write_log(tmp_path / "logs", HEAD)
    state = tmp_path / "state.toml"
    h = TokenHistory(state_path=state)
    open_source(f"audit:{path}", h).poll()
    h.drain()
    h.save()

    def append():
        with open(path, "ab") as f:
            f.write(lines(TAIL + BROKEN))

    if grows == "before the restart":
        append()
    again = TokenHistory(state_path=state)
    source = open_source(f"audit:{path}", again)
    source.poll()
    again.drain()
    if grows == "after the first poll":
        # Nothing new yet: the figures are the saved ones.
        assert pick(again.snapshot()["totals"], "input_tokens", "output_tokens") == {
            "input_tokens": 3_900,
            "output_tokens": 1_100,
        }
        append()
        source.poll()
        again.drain()
    snap = again.snapshot()
    # S2's end and S3's stale gen-f entry are measured against totals read before the restart.
    assert pick(snap["totals"], "input_tokens", "output_tokens", "requests") == EXPECTED_TOTALS
    assert pick(snap["sessions"][S3], "input_tokens", "output_tokens", "requests") == {
        "input_tokens": 1_500,
        "output_tokens": 400,
        "requests": 1,
    }
    assert snap["tickets"]["by_status"] == {"todo": 0, "in_progress": 1, "blocked": 0, "completed": 3, "left_open": 0}
    assert snap["efficiency"]["ratings"] == 3
    assert snap["errors"]["bad_lines"] == 4


def test_a_replaced_log_is_read_again_from_its_start_without_counting_twice(tmp_path):
    path = write_log(tmp_path, HEAD)
    h = TokenHistory()
    source = open_source(f"audit:{path}", h)
    source.poll()
    h.drain()
    rewritten = tmp_path / "rewrite.tmp"
    rewritten.write_bytes(lines(HEAD + TAIL))
    os.replace(rewritten, path)  # a new file at the same path, holding the old entries and new ones
    source.poll()
    h.drain()
    snap = h.snapshot()
    assert pick(snap["totals"], "input_tokens", "output_tokens", "requests") == EXPECTED_TOTALS
    assert snap["tickets"]["by_status"] == {"todo": 0, "in_progress": 1, "blocked": 0, "completed": 3, "left_open": 0}


def test_report_reads_an_audit_log(tmp_path, capsys):
    path = write_log(tmp_path)
    assert main(["report", f"audit:{path}", "--format", "json"]) == 0
    snap = orjson.loads(capsys.readouterr().out)
    assert pick(snap["totals"], "input_tokens", "output_tokens", "requests") == EXPECTED_TOTALS
    assert snap["unpriced_models"] == ["unrecorded"]
    assert snap["tickets"]["by_status"] == {"todo": 0, "in_progress": 1, "blocked": 0, "completed": 3, "left_open": 0}
    assert (snap["errors"]["bad_lines"], snap["errors"]["files"]) == (4, {str(path): 4})


# --- the array form: one JSON array, rewritten whole at every entry ---------------------------

# Entries that cannot be read, as they can appear inside a valid array.
ARRAY_BROKEN = [
    {k: v for k, v in entry("2025-09-03T14:06:00+00:00", BLOG, S4, 4000, 700).items() if k != "timestamp"},
    *(orjson.loads(line) for line in BROKEN[1:]),
]
S5 = "blog-002_session_005"


def array(entries) -> bytes:
    """The writer's form: ``json.dump(entries, f, indent=2)``."""
    return orjson.dumps(entries, option=orjson.OPT_INDENT_2)


def write_array(folder: Path, entries=None) -> Path:
    """Write (or rewrite in place, as the writer does) the array-form log."""
    path = folder / "token_usage_audit.json"
    path.write_bytes(array(HEAD + TAIL + ARRAY_BROKEN if entries is None else entries))
    return path


def poll(source, h: TokenHistory) -> int:
    queued = source.poll()
    h.drain()
    return queued


def test_an_array_log_gives_the_figures_of_the_same_entries_as_json_lines(tmp_path):
    snap = read(write_array(tmp_path))
    assert pick(snap["totals"], "input_tokens", "output_tokens", "requests") == EXPECTED_TOTALS
    assert {s: pick(f, "input_tokens", "output_tokens", "requests") for s, f in snap["sessions"].items()} == {
        S1: {"input_tokens": 2_000, "output_tokens": 500, "requests": 2},
        S2: {"input_tokens": 650, "output_tokens": 250, "requests": 3},
        S3: {"input_tokens": 1_500, "output_tokens": 400, "requests": 1},
        S4: {"input_tokens": 0, "output_tokens": 0, "requests": 0},
    }
    assert snap["tickets"]["by_status"] == {"todo": 0, "in_progress": 1, "blocked": 0, "completed": 3, "left_open": 0}
    assert snap["efficiency"]["ratings"] == 3
    assert (snap["errors"]["bad_lines"], snap["errors"]["files"]) == (4, {str(tmp_path / "token_usage_audit.json"): 4})
    (tmp_path / "lines").mkdir()
    as_lines = read(write_log(tmp_path / "lines", HEAD + TAIL + ARRAY_BROKEN))
    for figures in ("totals", "by_model", "by_tier", "sessions", "tickets", "efficiency"):
        assert snap[figures] == as_lines[figures]


def test_the_first_non_space_byte_tells_the_array_form(tmp_path):
    path = tmp_path / "token_usage_audit.json"
    path.write_bytes(b"\n  \n" + array(HEAD + TAIL))
    snap = read(path)
    assert pick(snap["totals"], "input_tokens", "output_tokens", "requests") == EXPECTED_TOTALS
    assert snap["errors"]["bad_lines"] == 0


def test_entries_appended_to_the_array_count_on_the_next_poll_and_nothing_twice(tmp_path):
    path = write_array(tmp_path, HEAD)
    h = TokenHistory()
    source = open_source(f"audit:{path}", h)
    # HEAD: 3 starts (a session mark and a ticket each), S1's end (mark, ticket, rating), 6
    # requests (gen-b's entry written twice is one entry: its copy is not queued again).
    assert poll(source, h) == 3 * 2 + 3 + 6
    assert pick(h.snapshot()["totals"], "input_tokens", "output_tokens", "requests") == {
        "input_tokens": 3_900,
        "output_tokens": 1_100,
        "requests": 6,
    }
    assert poll(source, h) == 0  # unchanged: not read again
    inode = path.stat().st_ino
    write_array(tmp_path, HEAD + TAIL[:2])
    assert path.stat().st_ino == inode  # rewritten in place, as the writer does
    # Only the new entries: S2's end (settling copy, mark, ticket, rating), S3's stale gen-f.
    assert poll(source, h) == 4 + 1
    write_array(tmp_path, HEAD + TAIL)
    assert poll(source, h) == 2 + 3  # S4's start (mark, ticket) and end (mark, ticket, rating)
    snap = h.snapshot()
    assert pick(snap["totals"], "input_tokens", "output_tokens", "requests") == EXPECTED_TOTALS
    assert pick(snap["sessions"][S3], "input_tokens", "output_tokens", "requests") == {
        "input_tokens": 1_500,
        "output_tokens": 400,
        "requests": 1,
    }
    assert snap["tickets"]["by_status"] == {"todo": 0, "in_progress": 1, "blocked": 0, "completed": 3, "left_open": 0}
    assert snap["efficiency"]["ratings"] == 3
    assert source.history.offset_for(str(path)) == {
        "offset": len(HEAD + TAIL),
        "inode": inode,
        "device": path.stat().st_dev,
    }


def test_a_generation_id_stamped_on_an_entry_already_read_changes_nothing(tmp_path):
    # The writer appends an entry, then rewrites the file to stamp the generation id on it.
    unstamped = entry("2025-09-03T13:58:30+00:00", SHOP, S3, 3769, 1528)
    path = write_array(tmp_path, HEAD + [unstamped])
    h = TokenHistory()
    source = open_source(f"audit:{path}", h)
    poll(source, h)
    write_array(tmp_path, HEAD + [{**unstamped, "generation_id": "gen-g"}])
    assert poll(source, h) == 0
    snap = h.snapshot()
    assert pick(snap["sessions"][S3], "input_tokens", "output_tokens", "requests") == {
        "input_tokens": 1_500,
        "output_tokens": 400,
        "requests": 2,
    }
    assert pick(snap["totals"], "input_tokens", "output_tokens", "requests") == {
        "input_tokens": 4_400,
        "output_tokens": 1_200,
        "requests": 7,
    }


@pytest.mark.parametrize("grows", ["before the restart", "after the first poll"])
def test_a_restart_reads_only_the_entries_after_the_saved_count(tmp_path, grows):
    (tmp_path / "logs").mkdir()
    path = write_array(tmp_path / "logs", HEAD)
    state = tmp_path / "state.toml"
    h = TokenHistory(state_path=state)
    poll(open_source(f"audit:{path}", h), h)
    h.save()
    if grows == "before the restart":
        write_array(tmp_path / "logs")
    again = TokenHistory(state_path=state)
    source = open_source(f"audit:{path}", again)
    if grows == "after the first poll":
        assert poll(source, again) == 0  # nothing new yet: the figures are the saved ones
        assert pick(again.snapshot()["totals"], "input_tokens", "output_tokens", "requests") == {
            "input_tokens": 3_900,
            "output_tokens": 1_100,
            "requests": 6,
        }
        write_array(tmp_path / "logs")
    # TAIL's 10 records only: S2's end (the copy of gen-e that settles it at end minus start,
    # mark, ticket, rating), S3's gen-f, S4's start (mark, ticket) and end (mark, ticket, rating).
    assert poll(source, again) == 4 + 1 + 2 + 3
    snap = again.snapshot()
    # S2's end and S3's stale gen-f are measured against totals read before the restart.
    assert pick(snap["totals"], "input_tokens", "output_tokens", "requests") == EXPECTED_TOTALS
    assert pick(snap["sessions"][S3], "input_tokens", "output_tokens", "requests") == {
        "input_tokens": 1_500,
        "output_tokens": 400,
        "requests": 1,
    }
    assert snap["tickets"]["by_status"] == {"todo": 0, "in_progress": 1, "blocked": 0, "completed": 3, "left_open": 0}
    assert snap["efficiency"]["ratings"] == 3
    assert (snap["errors"]["bad_lines"], snap["errors"]["files"]) == (4, {str(path): 4})


def test_a_rewrite_caught_half_written_is_read_again_at_the_next_poll(tmp_path):
    path = write_array(tmp_path, HEAD)
    h = TokenHistory()
    source = open_source(f"audit:{path}", h)
    poll(source, h)
    whole = array(HEAD + TAIL)
    for caught in (b"", whole[: len(whole) * 3 // 5]):  # truncated by open("w"), then part written
        path.write_bytes(caught)
        assert poll(source, h) == 0
        assert h.snapshot()["errors"]["bad_lines"] == 0  # just written: maybe still being written
    path.write_bytes(whole)
    assert poll(source, h) == 10  # TAIL's records, as above
    snap = h.snapshot()
    assert pick(snap["totals"], "input_tokens", "output_tokens", "requests") == EXPECTED_TOTALS
    assert snap["efficiency"]["ratings"] == 3
    assert snap["errors"]["bad_lines"] == 0


def test_an_array_left_unparsable_is_one_bad_line_once_it_has_settled(tmp_path):
    path = write_array(tmp_path, HEAD)
    h = TokenHistory()
    source = open_source(f"audit:{path}", h)
    poll(source, h)
    whole = array(HEAD + TAIL)
    path.write_bytes(whole[: len(whole) // 2])  # the writer died mid-rewrite
    old = time.time() - 60
    os.utime(path, (old, old))
    poll(source, h)
    poll(source, h)
    assert (h.snapshot()["errors"]["bad_lines"], h.snapshot()["errors"]["files"]) == (1, {str(path): 1})
    path.write_bytes(whole)  # rewritten whole again: read on
    assert poll(source, h) == 10  # TAIL's records
    snap = h.snapshot()
    assert pick(snap["totals"], "input_tokens", "output_tokens", "requests") == EXPECTED_TOTALS
    assert (snap["errors"]["bad_lines"], snap["errors"]["files"]) == (1, {str(path): 1})


def test_a_replaced_array_log_is_read_again_from_its_first_entry_without_counting_twice(tmp_path):
    # S3 grows once without a generation id: a request keyed by the entry itself.
    before = [*HEAD, entry("2025-09-03T13:57:30+00:00", SHOP, S3, 3469, 1478)]
    path = write_array(tmp_path, before + ARRAY_BROKEN[:1])
    h = TokenHistory()
    source = open_source(f"audit:{path}", h)
    poll(source, h)
    rewritten = tmp_path / "rewrite.tmp"
    rewritten.write_bytes(array(before + ARRAY_BROKEN[:1] + TAIL))
    os.replace(rewritten, path)  # a new file at the same path, holding the old entries and new ones
    # Only TAIL's records: its stale gen-f entry carries the gen-f growth so far (its key's larger copy).
    assert poll(source, h) == 10
    snap = h.snapshot()
    # S3: gen-f 1000/300, 200/50 without an id, then gen-f again +300/+50.
    assert pick(snap["sessions"][S3], "input_tokens", "output_tokens", "requests") == {
        "input_tokens": 1_500,
        "output_tokens": 400,
        "requests": 2,
    }
    assert pick(snap["totals"], "input_tokens", "output_tokens", "requests") == {
        "input_tokens": 4_150,
        "output_tokens": 1_150,
        "requests": 7,
    }
    assert snap["tickets"]["by_status"] == {"todo": 0, "in_progress": 1, "blocked": 0, "completed": 3, "left_open": 0}
    assert snap["efficiency"]["ratings"] == 3  # S1's, read twice, counts once
    assert (snap["errors"]["bad_lines"], snap["errors"]["files"]) == (1, {str(path): 1})


def test_an_array_begun_again_by_its_writer_counts_its_new_entries(tmp_path):
    path = write_array(tmp_path, HEAD)
    h = TokenHistory()
    source = open_source(f"audit:{path}", h)
    poll(source, h)
    # The writer could not load the old array and wrote a new one holding only its new entries.
    write_array(
        tmp_path,
        [
            entry("2025-09-03T14:10:00+00:00", BLOG, S5, 0, 0, boundary="start"),
            entry("2025-09-03T14:11:00+00:00", BLOG, S5, 300, 30, gen="gen-x"),
        ],
    )
    assert poll(source, h) == 2 + 1  # S5's start (mark, ticket), gen-x
    write_array(
        tmp_path,
        [
            entry("2025-09-03T14:10:00+00:00", BLOG, S5, 0, 0, boundary="start"),
            entry("2025-09-03T14:11:00+00:00", BLOG, S5, 300, 30, gen="gen-x"),
            entry("2025-09-03T14:12:00+00:00", BLOG, S5, 300, 30, boundary="end", satisfaction=5),
        ],
    )
    assert poll(source, h) == 3  # its end: mark, ticket, rating
    snap = h.snapshot()
    assert pick(snap["sessions"][S5], "input_tokens", "output_tokens", "requests") == {
        "input_tokens": 300,
        "output_tokens": 30,
        "requests": 1,
    }
    assert pick(snap["totals"], "input_tokens", "output_tokens", "requests") == {
        "input_tokens": 4_200,
        "output_tokens": 1_130,
        "requests": 7,
    }
    assert snap["tickets"]["by_status"] == {"todo": 0, "in_progress": 2, "blocked": 0, "completed": 2, "left_open": 0}
    assert snap["efficiency"]["ratings"] == 2
    assert snap["efficiency"]["mean_satisfaction"] == pytest.approx(13 / 2)


@pytest.mark.parametrize("first_form", ["lines", "array"])
def test_a_log_that_changes_form_is_read_again_from_its_start(tmp_path, first_form):
    # HEAD[:7]: starts and keyed requests only, which count once however often they are read.
    path = tmp_path / "token_usage_audit.json"
    path.write_bytes(lines(HEAD[:7]) if first_form == "lines" else array(HEAD[:7]))
    h = TokenHistory()
    source = open_source(f"audit:{path}", h)
    poll(source, h)
    path.write_bytes(array(HEAD + TAIL) if first_form == "lines" else lines(HEAD + TAIL))
    poll(source, h)
    snap = h.snapshot()
    assert pick(snap["totals"], "input_tokens", "output_tokens", "requests") == EXPECTED_TOTALS
    assert snap["tickets"]["by_status"] == {"todo": 0, "in_progress": 1, "blocked": 0, "completed": 3, "left_open": 0}
    assert snap["efficiency"]["ratings"] == 3
    assert snap["errors"]["bad_lines"] == 0


def test_a_log_rewritten_as_an_array_starts_with_no_open_sessions(tmp_path):
    path = tmp_path / "token_usage_audit.json"
    path.write_bytes(
        lines(
            [
                entry("2025-09-03T13:50:00+00:00", SHOP, S1, 0, 0, boundary="start"),
                entry("2025-09-03T13:51:00+00:00", SHOP, S1, 1000, 100, gen="gen-a"),
            ]
        )
    )
    h = TokenHistory()
    source = open_source(f"audit:{path}", h)
    poll(source, h)
    # A file of its own now: S1's first entry in it is its base, as in any file read from its start.
    path.write_bytes(
        array(
            [
                entry("2025-09-03T13:52:00+00:00", SHOP, S1, 1500, 150, gen="gen-b"),
                entry("2025-09-03T13:53:00+00:00", SHOP, S1, 1500, 150, boundary="end", satisfaction=7),
            ]
        )
    )
    poll(source, h)
    snap = h.snapshot()
    assert pick(snap["totals"], "input_tokens", "output_tokens", "requests") == {
        "input_tokens": 1_000,
        "output_tokens": 100,
        "requests": 1,
    }
    assert snap["tickets"]["by_status"] == {"todo": 0, "in_progress": 0, "blocked": 0, "completed": 1, "left_open": 0}
    assert snap["efficiency"]["ratings"] == 1


def test_report_reads_an_array_audit_log(tmp_path, capsys):
    path = write_array(tmp_path)
    assert main(["report", f"audit:{path}", "--format", "json"]) == 0
    snap = orjson.loads(capsys.readouterr().out)
    assert pick(snap["totals"], "input_tokens", "output_tokens", "requests") == EXPECTED_TOTALS
    assert snap["unpriced_models"] == ["unrecorded"]
    assert snap["tickets"]["by_status"] == {"todo": 0, "in_progress": 1, "blocked": 0, "completed": 3, "left_open": 0}
    assert snap["efficiency"]["ratings"] == 3
    assert (snap["errors"]["bad_lines"], snap["errors"]["files"]) == (4, {str(path): 4})


def test_an_array_log_after_a_byte_order_mark_is_read_as_an_array(tmp_path):
    path = tmp_path / "token_usage_audit.json"
    path.write_bytes(b"\xef\xbb\xbf\n " + array(HEAD + TAIL))
    snap = read(path)
    assert pick(snap["totals"], "input_tokens", "output_tokens", "requests") == EXPECTED_TOTALS
    assert snap["errors"]["bad_lines"] == 0
