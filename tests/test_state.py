"""state.toml (DESIGN §4): a save is atomic, a corrupt file is moved aside and the
session starts clean with a notice, a history survives a save and a load unchanged, the
file stays within MAX_STATE_BYTES however long the session, and it never holds prompt
or response text.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import textwrap
import time
import tomllib
from pathlib import Path

import pytest

from session_insights import hooks, state
from session_insights.history import TokenHistory

FIXED_TS = 1_760_000_000.0  # 2025-10-09, an ordinary day for every model's prices
NOW_TS = FIXED_TS + 3_600.0
CORRUPT_NAME = re.compile(r"^state\.toml\.corrupt-\d{8}-\d{6}(-\d+)?$")
TEMP_NAME = re.compile(r"^\.state\.(toml|parsed\.json)\..+\.tmp$")  # the state's, or its parsed copy's


@pytest.fixture
def state_path(tmp_path: Path) -> Path:
    return tmp_path / "state.toml"


@pytest.fixture
def detached_hooks():
    hooks.detach()
    yield
    hooks.detach()


# --- atomic saves -------------------------------------------------------------------

WRITER = textwrap.dedent("""
    import sys
    from session_insights.history import TokenHistory

    history = TokenHistory(state_path=sys.argv[1])
    if history.notices:  # the state a killed writer left must load cleanly
        print("NOTICE", history.notices, file=sys.stderr, flush=True)
        sys.exit(3)
    i = history.snapshot()["totals"]["requests"]
    ts = float(sys.argv[2]) + i
    announced = False
    while True:
        # One iteration adds exactly: 1 request (1,000 in / 10 out), 1 tool call, 1 ticket.
        model = ("claude-sonnet-4-5", "gpt-4o", "mystery-model")[i % 3]
        history.record_usage(model, 1000, 10, ts=ts, tier=f"Tier {i % 4 + 1}", session=f"session-{i}")
        history.record_tool_call(f"tool-{i % 50}", 12.5, ok=i % 7 != 0, ts=ts)
        history.update_ticket(f"T-{i}", ("todo", "in_progress", "blocked", "completed")[i % 4], ts=ts,
                              reason="waiting on review" if i % 4 == 2 else None)
        history.drain()
        history.save()
        if not announced:
            print("saving", flush=True)
            announced = True
        i += 1
        ts += 1.0
""")


def test_killing_a_writer_mid_save_always_leaves_a_loadable_state_file(tmp_path: Path, state_path: Path):
    writer = tmp_path / "writer.py"
    writer.write_text(WRITER)
    rng = random.Random(20251009)  # reproducible kill points
    previous_requests = 0
    leftovers: set[str] = set()

    for kill in range(15):
        proc = subprocess.Popen(
            [sys.executable, str(writer), str(state_path), str(FIXED_TS)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            started = proc.stdout.readline()
            if started != b"saving\n":
                proc.wait(timeout=30)
                pytest.fail(
                    f"writer {kill} did not start saving: rc={proc.returncode} "
                    f"stderr={proc.stderr.read().decode(errors='replace')}"
                )
            time.sleep(rng.uniform(0.0, 0.3))  # a random point in the save loop
            os.kill(proc.pid, signal.SIGKILL)
            assert proc.wait(timeout=30) == -signal.SIGKILL
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()
            proc.stderr.close()

        data = tomllib.loads(state_path.read_text(encoding="utf-8"))
        assert data["schema"] == state.SCHEMA

        history = TokenHistory(state_path=state_path)
        assert history.notices == []
        snap = history.snapshot(now_ts=NOW_TS)
        totals = snap["totals"]
        # Everything one iteration added was saved together, or none of it was.
        assert totals["requests"] >= 1
        assert totals["input_tokens"] == 1000 * totals["requests"]
        assert totals["output_tokens"] == 10 * totals["requests"]
        assert sum(t["calls"] for t in snap["tools"].values()) == totals["requests"]
        assert snap["tickets"]["total"] == totals["requests"]
        # A replaced file is always a newer one: the state never goes backwards.
        assert totals["requests"] >= previous_requests
        previous_requests = totals["requests"]
        history.close()  # the next writer takes the state over

        # Beside the state: what it read (keys, positions), in the durable history and its journal.
        companions = {
            "state.history.sqlite",
            "state.history.sqlite-wal",
            "state.history.sqlite-shm",
            ".state.toml.lock",  # held while a process writes the state
            "state.parsed.json",  # the state's parsed copy (state_cache.py)
        }
        others = {p.name for p in tmp_path.iterdir()} - {"state.toml", "writer.py"} - companions
        strays = {name for name in others if not TEMP_NAME.match(name)}
        assert strays == set(), "only a killed writer's own temp files may be left over"
        leftovers |= others

    # Temp files a killed writer left behind are never read as the state: a fresh
    # history loads state.toml alone and saves over it.
    history = TokenHistory(state_path=state_path)
    history.save()
    assert TokenHistory(state_path=state_path).snapshot(now_ts=NOW_TS)["totals"]["requests"] == previous_requests
    print(f"temp files left by killed writers: {sorted(leftovers)}")


def test_write_atomic_leaves_no_temp_file_after_a_normal_save(state_path: Path):
    state.write_atomic(state_path, b"schema = 1\n")
    state.write_atomic(state_path, state.encode({"window_s": 300}))
    assert [p.name for p in state_path.parent.iterdir()] == ["state.toml"]
    assert tomllib.loads(state_path.read_text()) == {"schema": state.SCHEMA, "window_s": 300}


# --- corrupt files ------------------------------------------------------------------

CORRUPT_FILES = {
    "garbage_bytes": b"\x00\xff\xfe not toml at all \x89PNG\r\n\x1a\n[[[",
    "valid_toml_without_schema": b'window_s = 300\n[ui]\nopen = ["Tokens"]\n',
    "schema_newer_than_this_release": f"schema = {state.SCHEMA + 1}\nwindow_s = 300\n".encode(),
}


@pytest.mark.parametrize("original", CORRUPT_FILES.values(), ids=CORRUPT_FILES.keys())
def test_corrupt_state_file_is_moved_aside_and_the_session_starts_clean(state_path: Path, original: bytes):
    state_path.write_bytes(original)

    history = TokenHistory(state_path=state_path)

    backups = [p for p in state_path.parent.iterdir() if p.name not in ("state.toml", ".state.toml.lock")]
    assert len(backups) == 1
    backup = backups[0]
    assert CORRUPT_NAME.match(backup.name), backup.name
    assert backup.read_bytes() == original
    assert not state_path.exists()

    snap = history.snapshot(now_ts=NOW_TS)
    assert snap["totals"]["requests"] == 0
    assert snap["totals"]["total_tokens"] == 0
    assert snap["tools"] == {} and snap["tickets"]["total"] == 0
    assert history.offsets == {} and history.ui == {}

    assert len(history.notices) == 1
    notice = history.notices[0]
    assert backup.name in notice
    assert "started clean" in notice


def test_corrupt_file_notice_reaches_the_snapshot_and_a_save_does_not_touch_the_backup(state_path: Path):
    state_path.write_bytes(CORRUPT_FILES["garbage_bytes"])
    history = TokenHistory(state_path=state_path)
    history.record_usage("gpt-4o", 10, 1, ts=FIXED_TS)
    history.drain()
    history.save()

    (backup,) = [p for p in state_path.parent.iterdir() if CORRUPT_NAME.match(p.name)]
    assert backup.read_bytes() == CORRUPT_FILES["garbage_bytes"]
    assert history.snapshot(now_ts=NOW_TS)["notices"] == history.notices
    assert TokenHistory(state_path=state_path).snapshot(now_ts=NOW_TS)["totals"]["requests"] == 1


def test_two_corrupt_files_in_the_same_second_get_distinct_backups(state_path: Path):
    state_path.write_bytes(b"first garbage [[")
    TokenHistory(state_path=state_path)
    state_path.write_bytes(b"second garbage [[")
    TokenHistory(state_path=state_path)

    backups = sorted(p.read_bytes() for p in state_path.parent.iterdir() if CORRUPT_NAME.match(p.name))
    assert backups == [b"first garbage [[", b"second garbage [["]


def test_state_file_of_current_schema_but_wrong_shape_is_moved_aside_too(state_path: Path):
    original = b'schema = 1\nusage = "not a list of rows"\n'
    state_path.write_bytes(original)

    history = TokenHistory(state_path=state_path)
    history.save()

    backups = [p for p in state_path.parent.iterdir() if CORRUPT_NAME.match(p.name)]
    assert [b.read_bytes() for b in backups] == [original]
    assert len(history.notices) == 1 and backups[0].name in history.notices[0]


def test_missing_state_file_starts_clean_without_a_notice(state_path: Path):
    history = TokenHistory(state_path=state_path)
    assert history.notices == []
    assert history.snapshot(now_ts=NOW_TS)["totals"]["requests"] == 0
    assert not state_path.exists()


# --- round trip ---------------------------------------------------------------------


def _rich_history(state_path: Path) -> TokenHistory:
    history = TokenHistory(
        state_path=state_path,
        budget_usd=25.0,
        price_overrides={"house-model": {"input_mtok": 1.5, "output_mtok": 6.0}},
    )
    t = FIXED_TS
    history.record_usage(
        "claude-sonnet-4-5",
        12_000,
        800,
        40_000,
        3_000,
        ts=t,
        tier="Tier 1",
        session="plan",
        provider="anthropic",
        cache_write_1h_tokens=500,
    )
    history.record_usage(
        "claude-sonnet-4-5", 2_000, 300, 42_000, ts=t + 30, tier="Tier 2", session="plan", provider="anthropic"
    )
    history.record_usage(
        "gpt-4o", 5_000, 1_200, 1_000, ts=t + 90, tier="Tier 3", session="work", provider="openai", reasoning_tokens=200
    )
    history.record_usage("house-model", 7_000, 900, ts=t + 200, tier="Tier 3", session="work")
    history.record_usage("mystery-model-9000", 3_000, 100, ts=t + 400, tier="Tier 4", session="check")
    history.record_usage(
        "gpt-4o",
        1_000,
        100,
        ts=t + 800,
        session="work",
        provider="openai",
        request_key="req-1",
        reported_cost_usd=0.004,
    )
    history.record_tool_call("Bash", 1_250.5, ok=True, ts=t + 10, session="work")
    history.record_tool_call("Bash", 75.0, ok=False, ts=t + 20, session="work")
    history.record_tool_call("Read", 3.25, ts=t + 25)
    history.update_ticket("T-1", "todo", ts=t, track="core")
    history.update_ticket("T-1", "in_progress", ts=t + 60, track="core")
    history.update_ticket("T-1", "completed", ts=t + 500, track="core")
    history.update_ticket("T-2", "blocked", ts=t + 300, track="ui", reason="waiting for the API key")
    history.update_ticket("T-3", "in_progress", ts=t + 350)
    history.update_ticket("T-4", "todo", ts=t + 360, track="ui")
    history.rate(8, ts=t + 510, session="work")
    history.rate(6.5, ts=t + 700)
    history.offsets["/logs/a.comms.jsonl"] = {"offset": 4096, "inode": 1234, "device": 56}
    history.offsets["/logs/b.tools.jsonl"] = {"offset": 0, "inode": 0, "device": 0}
    history.ui.update({"open_headers": ["Tokens", "Cost", "Tools"], "font_scale": 1.25})
    history.note_bad_line("/logs/a.comms.jsonl", 2)
    history.drain()
    return history


def test_history_round_trips_through_state_toml_to_the_same_snapshot(state_path: Path):
    history = _rich_history(state_path)
    before = history.snapshot(now_ts=NOW_TS)
    assert before["unpriced_models"] == ["mystery-model-9000"]  # the fixture exercises an unpriced model
    assert before["tickets"]["blocked"][0]["reason"] == "waiting for the API key"

    in_window = history.snapshot(now_ts=FIXED_TS + 810)  # just after the last request
    assert in_window["burn_rate"]["window"]["tokens"] > 0

    history.save()
    loaded = TokenHistory(state_path=state_path)

    assert loaded.notices == []
    assert loaded.snapshot(now_ts=NOW_TS) == before
    assert loaded.snapshot(now_ts=FIXED_TS + 810) == in_window
    assert loaded.timeline() == history.timeline()
    for path, position in history.offsets.items():
        assert loaded.offset_for(path) == position
    assert loaded.ui == {"open_headers": ["Tokens", "Cost", "Tools"], "font_scale": 1.25}
    assert loaded.budget_usd == 25.0
    assert loaded.prices.overrides == history.prices.overrides
    assert loaded.bad_lines == {"/logs/a.comms.jsonl": 2}


def test_loaded_history_keeps_counting_where_the_saved_one_left_off(state_path: Path):
    live = _rich_history(state_path)
    live.save()
    resumed = TokenHistory(state_path=state_path)

    for h in (live, resumed):
        h.record_usage("house-model", 1_000, 100, ts=FIXED_TS + 900, tier="Tier 3", session="work")
        h.update_ticket("T-3", "completed", ts=FIXED_TS + 950)
        h.drain()

    assert resumed.snapshot(now_ts=NOW_TS) == live.snapshot(now_ts=NOW_TS)


def test_budget_and_overrides_given_at_start_win_over_the_saved_ones(state_path: Path):
    _rich_history(state_path).save()
    loaded = TokenHistory(state_path=state_path, budget_usd=99.0, price_overrides={})
    assert loaded.budget_usd == 99.0
    assert loaded.prices.overrides == {}


def test_saved_file_is_plain_toml_with_the_schema_number(state_path: Path):
    size = _rich_history(state_path).save()
    raw = state_path.read_bytes()
    assert size == len(raw)
    data = tomllib.loads(raw.decode("utf-8"))
    assert data["schema"] == state.SCHEMA
    assert data["budget_usd"] == 25.0
    assert data["pricing"]["overrides"]["house-model"] == {"input_mtok": 1.5, "output_mtok": 6.0}
    assert data["ui"]["open_headers"] == ["Tokens", "Cost", "Tools"]


# --- bounded ------------------------------------------------------------------------


def test_state_file_stays_bounded_for_a_pathological_history_with_totals_intact(state_path: Path):
    year_s = 365 * 86_400
    n = 5_000
    history = TokenHistory(state_path=state_path)
    models = ("claude-sonnet-4-5", "gpt-4o", "mystery-model-9000")
    statuses = ("todo", "in_progress", "blocked", "completed")
    for i in range(n):
        ts = FIXED_TS + year_s * i / n
        history.record_usage(
            models[i % 3],
            1_000 + i,
            100,
            10,
            5,
            ts=ts,
            tier=f"Tier {i % 4 + 1}",
            session=f"session-with-a-fairly-long-name-{i:05d}",
        )
        history.update_ticket(
            f"TICKET-{i:05d}",
            statuses[i % 4],
            ts=ts,
            track=f"track-{i % 7}",
            reason="blocked on a review by someone in another time zone" if i % 4 == 2 else None,
        )
    for i in range(300):
        history.record_tool_call(
            f"mcp__server__tool_with_a_long_name_{i:03d}", 10.0 + i, ok=i % 5 != 0, ts=FIXED_TS + i
        )
    for i in range(200):
        history.rate(i % 11, ts=FIXED_TS + year_s * i / 200)
    history.drain()
    before = history.snapshot(now_ts=FIXED_TS + year_s)

    size = history.save()

    assert size == state_path.stat().st_size
    assert size <= state.MAX_STATE_BYTES
    loaded = TokenHistory(state_path=state_path)
    assert loaded.notices == []
    after = loaded.snapshot(now_ts=FIXED_TS + year_s)
    assert after["totals"] == before["totals"]
    assert after["by_model"] == before["by_model"]
    assert after["by_tier"] == before["by_tier"]
    assert after["unpriced_models"] == ["mystery-model-9000"]
    assert (
        after["tickets"]["by_status"]
        == before["tickets"]["by_status"]
        == {
            **dict.fromkeys(statuses, n // 4),
            "left_open": 0,
        }
    )
    assert sum(s["requests"] for s in after["sessions"].values()) == n
    assert sum(t["calls"] for t in after["tools"].values()) == 300
    assert sum(t["failures"] for t in after["tools"].values()) == 60
    assert after["efficiency"]["ratings"] == 200
    # The timeline coarsened rather than grew; its sums still add up to the totals.
    _, buckets = loaded.timeline()
    assert sum(v[0] for _, v in buckets) == before["totals"]["input_tokens"]
    assert sum(v[5] for _, v in buckets) == n


def test_state_file_stays_bounded_after_tailing_thousands_of_session_files(tmp_path: Path, state_path: Path):
    from session_insights.sources.comms import CommsSource

    logs = tmp_path / "logs"
    logs.mkdir()
    n = 3_000  # about 1,500 sessions of the session logger, or 3,000 Claude Code sessions
    for i in range(n):
        (logs / f"{i:08x}-5b1c-4e0f-9d7a-0123456789ab.jsonl").write_text(
            f'{{"kind": "model_call", "ts": {FIXED_TS + i}, "model": "gpt-4o", "session": "s{i}", '
            f'"usage": {{"input_tokens": 100, "output_tokens": 10}}}}\n'
        )
    history = TokenHistory(state_path=state_path)
    CommsSource(logs, history).poll()
    history.drain()

    size = history.save()

    assert size <= state.MAX_STATE_BYTES
    assert TokenHistory(state_path=state_path).snapshot(now_ts=NOW_TS)["totals"]["requests"] == n


# --- no prompt or response text -----------------------------------------------------

SECRET_PROMPT = "PLEASE REFACTOR the billing module; password hunter2"
SECRET_REPLY = "Here is the refactored billing module with the secret sauce"


def test_state_file_never_holds_prompt_or_response_text(state_path: Path, detached_hooks):
    history = TokenHistory(state_path=state_path)
    hooks.attach(history)
    assert (
        hooks.on_comms_entry(
            {
                "ts": FIXED_TS,
                "direction": "out",
                "kind": "request",
                "provider": "anthropic",
                "model": "claude-sonnet-4-5",
                "tier": "Tier 3",
                "session": "s1",
                "payload": {"content": SECRET_PROMPT, "messages": [{"role": "user", "content": SECRET_PROMPT}]},
            }
        )
        is False
    )
    assert (
        hooks.on_comms_entry(
            {
                "ts": FIXED_TS + 5,
                "direction": "in",
                "kind": "response",
                "provider": "anthropic",
                "model": "claude-sonnet-4-5",
                "tier": "Tier 3",
                "session": "s1",
                "payload": {
                    "id": "msg_01",
                    "content": SECRET_REPLY,
                    "usage": {"input_tokens": 1200, "output_tokens": 340, "cache_read_input_tokens": 5000},
                },
            }
        )
        is True
    )
    assert (
        hooks.on_comms_entry(
            {
                "ts": FIXED_TS + 9,
                "direction": "in",
                "provider": "openai",
                "model": "gpt-4o",
                "session": "s1",
                "payload": {
                    "id": "chatcmpl-1",
                    "content": SECRET_REPLY,
                    "choices": [{"message": {"role": "assistant", "content": SECRET_REPLY}}],
                    "usage": {"prompt_tokens": 900, "completion_tokens": 80},
                },
            }
        )
        is True
    )
    hooks.on_tool_call("Bash", 40.0, ts=FIXED_TS + 7, session="s1")
    history.drain()

    history.save()

    raw = state_path.read_bytes()
    for text in (SECRET_PROMPT, SECRET_REPLY, "hunter2", "secret sauce"):
        assert text.encode() not in raw
    assert TokenHistory(state_path=state_path).snapshot(now_ts=NOW_TS)["totals"]["requests"] == 2


# --- saving a large state -------------------------------------------------------------

T_BIG = 1_763_900_000.0


def many_sessions(n_sessions: int = 120, per_session: int = 60) -> TokenHistory:
    """A history far over the state's budget: sessions of several models and tiers,
    with tickets, over two weeks."""
    h = TokenHistory()
    for s in range(n_sessions):
        for i in range(per_session):
            ts = T_BIG + s * 3 * 3600 + i * 37.0
            h.record_usage(
                f"model-{i % 3}", 1_000 + i, 300, 2_000, 10, ts=ts, session=f"sess-{s:04d}", tier=f"t{i % 2}"
            )
        h.update_ticket(f"T-{s}", "completed", ts=T_BIG + s * 3 * 3600, track=f"track-{s % 9}")
    h.drain()
    return h


def test_the_encoder_writes_what_tomli_w_writes_and_keeps_unchanged_rows():
    # Rows are written one by one and kept for the next save; what reads back is what
    # tomli-w's file of the same data reads back, save after save.
    h = many_sessions(30, 20)
    encoder = state.Encoder()
    for _ in range(2):
        data = h.to_state()
        assert tomllib.loads(encoder.encode(data).decode()) == tomllib.loads(state.encode(data).decode())
        h.record_usage("model-0", 5, 5, ts=T_BIG + 99 * 3600, session="sess-0029")
        h.drain()
    assert encoder.sizes["usage"] > 0 and set(encoder.sizes) >= {"usage", "sessions", "tickets"}


@pytest.mark.parametrize(
    "data",
    [
        {"rows": [{"a": 1, "b": [1, 2, [3, 4]], "c": 'x\ny\x7f"\\'}, {"a": 2, "b": [], "c": ""}]},
        {"rows": [{"nested": {"x": 1}}], "other": [{"t": [{"deep": 1}]}], "big": [{"n": 2**70}]},
        {"mixed": [{"a": 1}, 2], "empty": [], "k e y": [{"q": "u"}]},
    ],
)
def test_the_encoder_reads_back_as_the_data_for_any_shape(data):
    assert tomllib.loads(state.Encoder().encode(data).decode()) == tomllib.loads(state.encode(data).decode())


def test_a_save_writes_its_toml_without_holding_the_history(tmp_path: Path, monkeypatch):
    # The panel and the drain take the history's lock many times a second: a save holds
    # it to take the data, never while it writes TOML (which, for a state many times its
    # budget shrinking step by step, is the long part).
    h = many_sessions()
    h.state_path = tmp_path / "state.toml"
    encode = state.Encoder.encode
    held = []

    def watched(self, data):
        held.append(not _free_from_another_thread(h))
        return encode(self, data)

    monkeypatch.setattr(state.Encoder, "encode", watched)
    size = h.save()
    assert len(held) >= 2 and not any(held)  # it shrank, and never wrote under the lock
    assert size <= state.MAX_STATE_BYTES
    again = TokenHistory(state_path=h.state_path)
    assert again.snapshot()["totals"] == h.snapshot()["totals"]
    assert again.snapshot()["totals"]["requests"] == 120 * 60


def _free_from_another_thread(h: TokenHistory) -> bool:
    import threading

    free = []

    def probe():
        if h._lock.acquire(blocking=False):
            h._lock.release()
            free.append(True)

    t = threading.Thread(target=probe)
    t.start()
    t.join()
    return bool(free)


def test_a_state_many_times_its_budget_fits_in_a_few_encodings(tmp_path: Path, monkeypatch):
    # Each step of shrinking encodes the state again. A state ten times its budget once
    # halved its sessions step after step; it now drops what cannot help at once and
    # keeps as many sessions as fit.
    h = many_sessions(400, 30)
    h.state_path = tmp_path / "state.toml"
    calls = []
    encode = state.Encoder.encode
    monkeypatch.setattr(state.Encoder, "encode", lambda self, data: calls.append(1) or encode(self, data))
    assert h.save() <= state.MAX_STATE_BYTES
    assert len(calls) <= 7, len(calls)
    assert h.snapshot()["totals"]["requests"] == 400 * 30


def test_a_warm_start_restores_its_figures_without_loading_the_price_data(tmp_path: Path):
    # genai-prices' import and data cost ~0.5 s: a window restarting from its state draws
    # its first frame from what the state holds, and names each model's price source
    # once the prices are in (its poller thread loads them).
    path = tmp_path / "state.toml"
    h = TokenHistory(state_path=path)
    h.record_usage("claude-sonnet-4-5", 1_000, 100, ts=T_BIG, session="s")
    h.drain()
    h.save()
    h.close()
    script = textwrap.dedent(
        f"""
        import sys
        from session_insights.history import TokenHistory
        from session_insights.pricing import PriceBook
        h = TokenHistory(state_path={str(path)!r}, read_only=True)
        snap = h.snapshot()
        assert "genai_prices" not in sys.modules, "loaded at start"
        assert snap["totals"]["requests"] == 1 and snap["totals"]["cost_usd"] > 0
        PriceBook.load()
        print(h.snapshot()["by_model"]["claude-sonnet-4-5"]["price_source"])
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() not in ("", "None")
