"""``report --by day|week|month|block``: spend per local day (UTC with --utc) and per
5-hour block, tokens by kind, a line per model and a grand total, in text, md, csv and
json that agree; the totals of every grouping equal the all-scope figures.

Every figure below is worked out by hand from the requests recorded here.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from session_insights import across, times
from session_insights.cli import main
from session_insights.history import TokenHistory
from session_insights.report import BLOCK_CSV_COLUMNS, PERIOD_CSV_COLUMNS
from session_insights.store import SessionStore

HOUR_S = 3_600
DAY_S = 86_400
SEP_1 = 1_756_684_800  # 2025-09-01 00:00 UTC, a Monday
SONNET = "claude-sonnet-4-5"  # $3 per million input tokens, $15 per million output
GPT4O = "gpt-4o"  # $2.50 in, $10 out


@pytest.fixture(autouse=True)
def _own_state(tmp_path: Path, monkeypatch):
    """A state of its own; and the time rule put back after a report run with --utc."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SESSION_INSIGHTS_STATE", str(tmp_path / "state.toml"))
    yield
    times.use_utc(False)


def utc(day: int, hour: float) -> float:
    """``hour`` o'clock UTC on 2025-09-01 + ``day`` days."""
    return SEP_1 + day * DAY_S + hour * HOUR_S


def state_of(path: Path, requests: list[tuple]) -> Path:
    """A saved state holding ``requests``: (ts, session, model, input, output[, cache
    read, cache write])."""
    history = TokenHistory(state_path=path)
    for ts, session, model, inp, out, *cache in requests:
        cr, cw = cache or (0, 0)
        history.record_usage(model, inp, out, cr, cw, ts=ts, session=session)
    history.drain()
    history.save()
    return path


def report(capsys, *args: str) -> str:
    code = main(["report", *args])
    out, err = capsys.readouterr()
    assert (code, err) == (0, ""), err
    return out


def as_json(capsys, *args: str) -> dict:
    return json.loads(report(capsys, *args, "--format", "json"))


def csv_rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def cells(text: str, first: str) -> list[str]:
    [line] = [line for line in text.splitlines() if line.startswith(first + " ")]
    return re.split(r" {2,}", line.strip())


# --- local days -----------------------------------------------------------------------------


def test_a_request_at_23_30_local_counts_on_that_local_day_and_on_the_next_in_utc(capsys, in_zone, tmp_path):
    in_zone("America/New_York")  # EDT, UTC-4, in September
    # 2025-09-01 23:30 EDT is 2025-09-02 03:30 UTC; 2025-09-02 10:00 EDT is 14:00 UTC.
    state = state_of(tmp_path / "s.toml", [(utc(1, 3.5), "a", SONNET, 1_000, 100), (utc(1, 14), "a", SONNET, 2_000, 0)])
    args = ("--state", str(state), "--history", str(tmp_path / "h.sqlite"), "--by", "day")

    local = as_json(capsys, *args)
    in_utc = as_json(capsys, *args, "--utc")
    text = report(capsys, *args)

    assert [(p["start"], p["requests"], p["input_tokens"]) for p in local["periods"]] == [
        ("2025-09-01", 1, 1_000),
        ("2025-09-02", 1, 2_000),
    ]
    # The day runs from local midnight: 04:00 UTC in EDT.
    assert local["periods"][0]["start_ts"] == utc(0, 4) and local["periods"][0]["end_ts"] == utc(1, 4)
    assert local["zone"] == "EDT"
    assert [(p["start"], p["requests"]) for p in in_utc["periods"]] == [("2025-09-02", 2)]
    assert text.splitlines()[0] == "Usage by day (local days, EDT)"
    assert report(capsys, *args, "--utc").splitlines()[0] == "Usage by day (UTC)"


def test_a_half_hour_zone_splits_its_days_at_its_own_midnight(capsys, in_zone, tmp_path):
    in_zone("Asia/Kolkata")  # IST, UTC+5:30
    # 23:45 IST on 09-01 is 18:15 UTC; 00:10 IST on 09-02 is 18:40 UTC: the same UTC hour.
    state = state_of(
        tmp_path / "s.toml", [(utc(0, 18.25), "a", SONNET, 1_000, 0), (utc(0, 18 + 40 / 60), "a", SONNET, 3_000, 0)]
    )
    periods = as_json(capsys, "--state", str(state), "--history", str(tmp_path / "h.sqlite"), "--by", "day")["periods"]
    assert [(p["start"], p["input_tokens"]) for p in periods] == [("2025-09-01", 1_000), ("2025-09-02", 3_000)]


def test_local_weeks_and_months_start_at_local_midnight(capsys, in_zone, tmp_path):
    in_zone("America/New_York")
    # Sunday 2025-08-31 23:30 EDT (Monday 09-01 03:30 UTC), and Monday 09-01 12:00 EDT.
    state = state_of(tmp_path / "s.toml", [(utc(0, 3.5), "a", SONNET, 1_000, 0), (utc(0, 16), "a", SONNET, 2_000, 0)])
    args = ("--state", str(state), "--history", str(tmp_path / "h.sqlite"))
    weeks = as_json(capsys, *args, "--by", "week")["periods"]
    months = as_json(capsys, *args, "--by", "month")["periods"]
    utc_weeks = as_json(capsys, *args, "--by", "week", "--utc")["periods"]
    assert [(p["start"], p["tokens"]) for p in weeks] == [("2025-08-25", 1_000), ("2025-09-01", 2_000)]
    assert [(p["start"], p["tokens"]) for p in months] == [("2025-08-01", 1_000), ("2025-09-01", 2_000)]
    assert [(p["start"], p["tokens"]) for p in utc_weeks] == [("2025-09-01", 3_000)]


# --- tokens by kind, grand totals, shapes ----------------------------------------------------

# Two sessions on two days, two models on the first (all UTC; TZ is UTC here):
#   09-01 10:05  a  sonnet  1,000 in  200 out  3,000 cache read  500 cache write
#   09-01 11:00  b  gpt-4o  2,000 in  100 out
#   09-03 09:30  a  sonnet    400 in   50 out
TWO_DAYS = [
    (utc(0, 10 + 5 / 60), "a", SONNET, 1_000, 200, 3_000, 500),
    (utc(0, 11), "b", GPT4O, 2_000, 100),
    (utc(2, 9.5), "a", SONNET, 400, 50),
]


def test_days_have_tokens_by_kind_a_line_per_model_and_a_grand_total(capsys, tmp_path):
    state = state_of(tmp_path / "s.toml", TWO_DAYS)
    args = ("--state", str(state), "--history", str(tmp_path / "h.sqlite"), "--by", "day", "--utc")
    text = report(capsys, *args)
    view = as_json(capsys, *args)
    table = csv_rows(report(capsys, *args, "--format", "csv"))

    # Day, model, requests, input, output, cache read, cache write, total, cost.
    sonnet_cost = 1_000 * 3 / 1e6 + 200 * 15 / 1e6 + 3_000 * 0.3 / 1e6 + 500 * 3.75 / 1e6
    assert cells(text, "2025-09-01")[:8] == ["2025-09-01", "all models", "2", "3,000", "300", "3,000", "500", "6,800"]
    assert cells(text, "Total") == ["Total", "3", "3,400", "350", "3,000", "500", "7,250", "$0.02"]
    total = view["total"]
    assert (total["requests"], total["input_tokens"], total["output_tokens"], total["tokens"]) == (3, 3_400, 350, 7_250)
    assert total["models"][SONNET]["cache_read_tokens"] == 3_000
    assert view["periods"][0]["models"][SONNET]["cost_usd"] == pytest.approx(sonnet_cost)
    assert total["cost_usd"] == pytest.approx(
        sonnet_cost + 2_000 * 2.5 / 1e6 + 100 * 10 / 1e6 + 400 * 3 / 1e6 + 50 * 15 / 1e6
    )
    assert tuple(table[0]) == PERIOD_CSV_COLUMNS
    assert [r["line"] for r in table] == ["total", "model", "model", "total", "total", "model", "grand_total"]
    grand = table[-1]
    assert (grand["period_start"], grand["requests"], grand["tokens"], grand["cache_write_tokens"]) == (
        "",
        "3",
        "7250",
        "500",
    )
    assert table[0]["start_utc"] == "2025-09-01T00:00:00Z" and table[0]["end_utc"] == "2025-09-02T00:00:00Z"


def test_blocks_in_csv_json_and_md_agree(capsys, tmp_path):
    state = state_of(tmp_path / "s.toml", TWO_DAYS)
    args = ("--state", str(state), "--history", str(tmp_path / "h.sqlite"), "--by", "block", "--utc")
    view = as_json(capsys, *args)
    table = csv_rows(report(capsys, *args, "--format", "csv"))
    md = report(capsys, *args, "--format", "md")

    blocks = view["blocks"]
    assert [(b["start"], b["end"], b["requests"], b["tokens"]) for b in blocks] == [
        ("2025-09-01T10:00:00Z", "2025-09-01T15:00:00Z", 2, 6_800),
        ("2025-09-03T09:00:00Z", "2025-09-03T14:00:00Z", 1, 450),
    ]
    assert set(blocks[0]["models"]) == {SONNET, GPT4O} and blocks[0]["models"][GPT4O]["input_tokens"] == 2_000
    assert view["not_in_blocks"] is None and view["total"]["tokens"] == 7_250
    assert tuple(table[0]) == BLOCK_CSV_COLUMNS
    assert [r["line"] for r in table] == ["block", "model", "model", "block", "model", "grand_total"]
    assert [int(r["tokens"]) for r in table if r["line"] == "block"] == [6_800, 450]
    assert table[-1]["tokens"] == "7250"
    assert "| 2025-09-01 10:00 UTC | 15:00 UTC | all models | 2 | 3,000 | 300 | 3,000 | 500 | 6,800 |" in md
    assert "| Total |  |  | 3 | 3,400 | 350 | 3,000 | 500 | 7,250 |" in md


# --- 5-hour blocks ----------------------------------------------------------------------------


def test_blocks_chain_from_each_first_request_floored_to_the_hour(capsys, tmp_path):
    requests = [
        (utc(0, 9 + 10 / 60), "a", SONNET, 100, 0),  # 09:10: block 09:00-14:00
        (utc(0, 13 + 50 / 60), "a", SONNET, 200, 0),  # 13:50: still in it
        (utc(0, 14), "b", GPT4O, 300, 0),  # 14:00, exactly its end: a new block 14:00-19:00
        (utc(0, 19), "b", GPT4O, 400, 0),  # 19:00, exactly that one's end: 19:00-00:00
        (utc(1, 6 + 20 / 60), "a", SONNET, 500, 0),  # after a gap of 11 h: 06:00-11:00
        (utc(1, 10 + 59 / 60), "a", SONNET, 600, 0),  # 10:59: in it
    ]
    state = state_of(tmp_path / "s.toml", requests)
    args = ("--state", str(state), "--history", str(tmp_path / "h.sqlite"), "--by", "block", "--utc")
    blocks = as_json(capsys, *args)["blocks"]
    text = report(capsys, *args)

    assert [(b["start"][5:16], b["end"][5:16], b["tokens"]) for b in blocks] == [
        ("09-01T09:00", "09-01T14:00", 300),
        ("09-01T14:00", "09-01T19:00", 300),
        ("09-01T19:00", "09-02T00:00", 400),
        ("09-02T06:00", "09-02T11:00", 1_100),
    ]
    assert all(b["end_ts"] - b["start_ts"] == 5 * HOUR_S for b in blocks)
    assert cells(text, "2025-09-01 19:00 UTC")[:3] == ["2025-09-01 19:00 UTC", "2025-09-02 00:00 UTC", "all models"]
    assert cells(text, "Total")[:2] == ["Total", "6"]


def test_since_keeps_a_blocks_start_and_counts_only_what_follows(capsys, tmp_path):
    requests = [(utc(0, 9.25), "a", SONNET, 100, 0), (utc(0, 12.5), "a", SONNET, 200, 0)]
    state = state_of(tmp_path / "s.toml", requests)
    args = ("--state", str(state), "--history", str(tmp_path / "h.sqlite"), "--by", "block", "--utc")
    view = as_json(capsys, *args, "--since", "2025-09-01T12:00")
    assert [(b["start"], b["tokens"]) for b in view["blocks"]] == [("2025-09-01T09:00:00Z", 200)]
    assert as_json(capsys, *args, "--until", "2025-09-01T09:00")["blocks"] == []
    assert report(capsys, *args, "--until", "2025-09-01T09:00").endswith("No usage in this range.\n")


# --- the idle burn ---------------------------------------------------------------------------


def test_a_session_idle_for_longer_than_the_burn_window_reads_idle_and_a_live_one_a_rate(capsys, tmp_path):
    now = time.time()
    idle = state_of(tmp_path / "idle.toml", [(now - 30 * 60, "a", SONNET, 1_000, 100)])
    live = state_of(
        tmp_path / "live.toml", [(now - 30 * 60, "a", SONNET, 1_000, 100), (now - 60, "a", SONNET, 5_000, 0)]
    )
    idle_text = report(capsys, "--state", str(idle), "--no-history")
    live_text = report(capsys, "--state", str(live), "--no-history")
    [idle_burn] = [line for line in idle_text.splitlines() if line.startswith("Burn rate:")]
    [live_burn] = [line for line in live_text.splitlines() if line.startswith("Burn rate:")]
    assert idle_burn.startswith("Burn rate: idle (last 5 min)")
    # Measured at the clock, as the panel measures: the request a minute ago is in the window.
    assert re.match(r"Burn rate: [\d,]+ tokens/min, \$[\d.]+/hour \(last 5 min\)", live_burn), live_burn


# --- the property: every grouping adds up to the same totals ---------------------------------

MODELS = (SONNET, GPT4O, "house-model-without-a-price")
KINDS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "requests", "unpriced_requests")


@st.composite
def requests(draw) -> list[dict]:
    # Over up to 12 days (the live history keeps 8 days of quarter hours: older days are
    # read from their day rows), in the same second, the same quarter hour or apart; a
    # request key repeated is a streaming copy, which replaces the one before.
    offsets = st.one_of(st.integers(0, 900), st.integers(0, 12 * DAY_S), st.sampled_from([0, 5 * HOUR_S]))
    counts = st.one_of(st.integers(0, 5_000), st.sampled_from([0, 10**9]))  # up to the most a request may hold
    out = []
    for _ in range(draw(st.integers(0, 12))):
        out.append(
            dict(
                ts=SEP_1 + draw(offsets) + 0.5,
                model=draw(st.sampled_from(MODELS)),
                session=draw(st.sampled_from(["s1", "s2", "s3"])),
                input_tokens=draw(counts),
                output_tokens=draw(st.integers(0, 3_000)),
                cache_read_tokens=draw(st.integers(0, 9_000)),
                cache_write_tokens=draw(st.integers(0, 2_000)),
                request_key=draw(st.sampled_from([None, None, "k1", "k2"])),
            )
        )
    return out


def _figures(f: dict) -> dict:
    """The figures of a grouping's total, its cost as the snapshot's totals give it: a
    report's cost is unknown (None) where none of the requests is priced, the snapshot's
    then the $0.00 of its priced part."""
    if f["cost_usd"] is None:
        assert f["requests"] and f["unpriced_requests"] == f["requests"]
    return {k: f[k] for k in KINDS} | {"tokens": f["tokens"], "cost_usd": f["cost_usd"] or 0.0}


@settings(max_examples=60, deadline=None)
@given(recorded=requests(), zone=st.sampled_from(["UTC", "Asia/Kolkata", "America/New_York"]))
def test_days_weeks_blocks_and_the_all_scope_have_the_same_totals_for_any_requests(recorded, zone):
    before = os.environ.get("TZ")
    os.environ["TZ"] = zone
    time.tzset()
    try:
        _same_totals(recorded)
    finally:
        if before is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = before
        time.tzset()


def _same_totals(recorded: list[dict]) -> None:
    history = TokenHistory()
    for r in recorded:
        history.record_usage(
            r["model"],
            r["input_tokens"],
            r["output_tokens"],
            r["cache_read_tokens"],
            r["cache_write_tokens"],
            ts=r["ts"],
            session=r["session"],
            request_key=r["request_key"],
        )
    history.drain()
    t = history.snapshot()["totals"]
    everything = {k: t[k] for k in KINDS} | {"tokens": t["total_tokens"], "cost_usd": t["cost_usd"]}
    live = history.session_rows()
    with tempfile.TemporaryDirectory() as folder:  # and as the durable history gives them back
        store = SessionStore(Path(folder) / "h.sqlite")
        store.write(live)
        stored = store.sessions()
        store.close()
    for rows in (live, stored):
        for by in ("day", "week", "month"):
            for in_utc in (False, True):
                grouped = across.usage_by_period(rows, by, utc=in_utc)
                if not recorded:
                    assert grouped["periods"] == []
                    continue
                assert _figures(grouped["total"]) == everything
                per_period = {k: sum(p[k] for p in grouped["periods"]) for k in KINDS}
                assert per_period == {k: everything[k] for k in KINDS}
        blocks = across.usage_by_block(rows)
        if recorded:
            assert _figures(blocks["total"]) == everything
            # Days older than the quarter hours kept are in no block, and in the total.
            outside = blocks["not_in_blocks"]["requests"] if blocks["not_in_blocks"] else 0
            assert sum(b["requests"] for b in blocks["blocks"]) + outside == everything["requests"]


def test_a_scope_active_under_a_minute_says_so_rather_than_zero_seconds():
    # Under a minute of activity a rate is taken over a minute (metrics.MIN_ACTIVE_S):
    # "(over 0s active)" beside a rate read as a contradiction.
    from session_insights import metrics

    burn = {
        "window_s": 300,
        "window": {"tokens": 0, "cost_usd": 0.0, "active_s": 0.0, "tokens_per_min": None, "usd_per_hour": None},
        "session": {"tokens": 900, "cost_usd": 0.01, "active_s": 0.0, "tokens_per_min": 900.0, "usd_per_hour": 0.6},
    }
    line = metrics._burn_line(burn)
    assert "under a minute active" in line and "0s active" not in line
    burn["session"]["active_s"] = 1_750.0
    assert "(over 29m 10s active)" in metrics._burn_line(burn)
