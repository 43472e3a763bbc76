"""SessionLogger: a host app's JSONL session log that also feeds a TokenHistory live.

Each call writes one whole, flushed line; raw provider usage blocks are normalised per
DESIGN §2 before they are written; reading the folder back with ``comms:`` gives the
same figures the live history had; bad input raises ValueError before anything is
written or queued.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import orjson
import pytest

from session_insights import report
from session_insights.cli import main
from session_insights.events import UsageEvent
from session_insights.history import TokenHistory
from session_insights.session_logger import FORMAT_VERSION, SessionLogger
from session_insights.sources import open_source

T0 = 1_760_000_000.0


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_bytes().splitlines()]


@pytest.fixture
def logger(tmp_path: Path):
    with SessionLogger(tmp_path, "s1", project="demo") as log:
        yield log


def test_a_session_writes_a_comms_and_a_tools_file_named_after_it(tmp_path: Path, logger: SessionLogger):
    assert logger.comms_path == tmp_path / "s1.comms.jsonl"
    assert logger.tools_path == tmp_path / "s1.tools.jsonl"
    start = _lines(logger.comms_path)
    assert start == [
        {"v": FORMAT_VERSION, "kind": "session_start", "ts": start[0]["ts"], "session": "s1", "project": "demo"}
    ]
    assert logger.tools_path.read_bytes() == b""


def test_every_line_is_readable_right_after_the_call_without_closing(logger: SessionLogger):
    event = logger.model_call("gpt-4o", input_tokens=100, output_tokens=20, ended_ts=T0, tier="Tier 3", ticket="T-1")
    assert len(event.request_key) == 32, "every call gets a key of its own, so a copied log counts it once"
    assert _lines(logger.comms_path)[-1] == {
        "v": FORMAT_VERSION,
        "kind": "model_call",
        "ts": T0,
        "session": "s1",
        "model": "gpt-4o",
        "tier": "Tier 3",
        "ticket": "T-1",
        "request_key": event.request_key,
        "usage": {
            "input_tokens": 100,
            "cache_read_tokens": 0,
            "cache_write_tokens": 0,
            "cache_write_1h_tokens": 0,
            "output_tokens": 20,
            "reasoning_tokens": 0,
        },
    }

    logger.tool_call("Bash", 120.5, ok=False, ts=T0 + 1, ticket="T-1")
    assert _lines(logger.tools_path) == [
        {
            "v": FORMAT_VERSION,
            "kind": "tool_call",
            "ts": T0 + 1,
            "session": "s1",
            "name": "Bash",
            "duration_ms": 120.5,
            "ok": False,
            "ticket": "T-1",
        }
    ]

    logger.ticket("T-1", "blocked", ts=T0 + 2, track="core", reason="needs review")
    assert _lines(logger.comms_path)[-1] == {
        "v": FORMAT_VERSION,
        "kind": "ticket",
        "ts": T0 + 2,
        "session": "s1",
        "ticket_id": "T-1",
        "status": "blocked",
        "track": "core",
        "reason": "needs review",
    }

    logger.rate(7.5, ts=T0 + 3)
    assert _lines(logger.comms_path)[-1] == {
        "v": FORMAT_VERSION,
        "kind": "rating",
        "ts": T0 + 3,
        "session": "s1",
        "score": 7.5,
    }


def test_raw_anthropic_usage_block_is_normalised_with_the_cache_write_split(logger: SessionLogger):
    event = logger.model_call(
        "claude-sonnet-4-5",
        {
            "input_tokens": 100,
            "output_tokens": 30,
            "cache_read_input_tokens": 5_000,
            "cache_creation_input_tokens": 20,
            "cache_creation": {"ephemeral_5m_input_tokens": 5, "ephemeral_1h_input_tokens": 15},
        },
        provider="claude",
        ended_ts=T0,
    )

    assert (
        event.provider,
        event.input,
        event.cache_read,
        event.cache_write_5m,
        event.cache_write_1h,
        event.output,
    ) == ("anthropic", 100, 5_000, 5, 15, 30)
    line = _lines(logger.comms_path)[-1]
    assert line["provider"] == "anthropic"
    assert line["usage"] == {
        "input_tokens": 100,
        "cache_read_tokens": 5_000,
        "cache_write_tokens": 5,
        "cache_write_1h_tokens": 15,
        "output_tokens": 30,
        "reasoning_tokens": 0,
    }


def test_raw_openai_chat_usage_block_takes_cached_tokens_out_of_input(logger: SessionLogger):
    event = logger.model_call(
        "gpt-4o",
        {
            "prompt_tokens": 1_000,
            "prompt_tokens_details": {"cached_tokens": 400},
            "completion_tokens": 200,
            "completion_tokens_details": {"reasoning_tokens": 50},
        },
        provider="openai",
        ended_ts=T0,
    )

    assert (event.provider, event.input, event.cache_read, event.output, event.reasoning) == (
        "openai",
        600,
        400,
        200,
        50,
    )
    assert _lines(logger.comms_path)[-1]["usage"] == {
        "input_tokens": 600,
        "cache_read_tokens": 400,
        "cache_write_tokens": 0,
        "cache_write_1h_tokens": 0,
        "output_tokens": 200,
        "reasoning_tokens": 50,
    }


def test_raw_openai_responses_usage_block_is_normalised_too(logger: SessionLogger):
    event = logger.model_call(
        "gpt-5",
        {
            "input_tokens": 3_000,
            "input_tokens_details": {"cached_tokens": 2_500},
            "output_tokens": 700,
            "output_tokens_details": {"reasoning_tokens": 600},
        },
        provider="openai",
        ended_ts=T0,
    )
    assert (event.input, event.cache_read, event.output, event.reasoning) == (500, 2_500, 700, 600)


def test_explicit_normalised_counts_are_logged_as_given(logger: SessionLogger):
    event = logger.model_call(
        "house-model",
        input_tokens=10,
        output_tokens=20,
        cache_read_tokens=30,
        cache_write_tokens=40,
        cache_write_1h_tokens=50,
        reasoning_tokens=5,
        started_ts=T0 - 2,
        ended_ts=T0,
        request_key="req-9",
    )
    assert event == UsageEvent(
        ts=T0,
        model="house-model",
        provider=None,
        input=10,
        cache_read=30,
        cache_write_5m=40,
        cache_write_1h=50,
        output=20,
        reasoning=5,
        tier=None,
        session="s1",
        source="comms",
        request_key="req-9",
    )
    line = _lines(logger.comms_path)[-1]
    assert line["started_ts"] == T0 - 2 and line["request_key"] == "req-9"
    assert "provider" not in line  # None fields are left out, not written as null


def test_logger_without_session_id_makes_a_unique_one(tmp_path: Path):
    with SessionLogger(tmp_path) as a, SessionLogger(tmp_path) as b:
        assert a.session_id != b.session_id
        assert a.comms_path.exists() and b.comms_path.exists()


def _log_a_session(log: SessionLogger) -> None:
    """A small but varied session: several models (one unpriced), tiers, a streamed
    request logged twice under one key, tools, tickets and ratings."""
    log.model_call(
        "claude-sonnet-4-5",
        {
            "input_tokens": 1_200,
            "output_tokens": 300,
            "cache_read_input_tokens": 20_000,
            "cache_creation_input_tokens": 2_000,
        },
        provider="anthropic",
        tier="Tier 1",
        ended_ts=T0,
    )
    log.model_call(
        "gpt-4o",
        {"prompt_tokens": 4_000, "prompt_tokens_details": {"cached_tokens": 1_000}, "completion_tokens": 500},
        provider="openai",
        tier="Tier 3",
        ended_ts=T0 + 40,
    )
    log.model_call("mystery-model-9000", input_tokens=900, output_tokens=90, tier="Tier 4", ended_ts=T0 + 75)
    log.model_call(
        "gpt-4o",
        input_tokens=100,
        output_tokens=10,
        provider="openai",
        tier="Tier 3",
        request_key="stream-1",
        ended_ts=T0 + 80,
    )
    log.model_call(
        "gpt-4o",
        input_tokens=100,
        output_tokens=60,
        provider="openai",
        tier="Tier 3",
        request_key="stream-1",
        ended_ts=T0 + 81,
    )
    log.tool_call("Bash", 250.0, ts=T0 + 10)
    log.tool_call("Bash", 40.0, ok=False, ts=T0 + 20)
    log.tool_call("Edit", 3.5, ts=T0 + 30)
    log.ticket("T-1", "in_progress", ts=T0, track="core")
    log.ticket("T-1", "completed", ts=T0 + 60, track="core")
    log.ticket("T-2", "blocked", ts=T0 + 65, track="ui", reason="waiting for design")
    log.ticket("T-3", "todo", ts=T0 + 70)
    log.rate(8, ts=T0 + 61)


def test_replaying_the_logged_folder_gives_the_same_report_as_the_live_history(tmp_path: Path, capsys):
    live = TokenHistory()
    with SessionLogger(tmp_path, "s1", history=live) as log:
        _log_a_session(log)
    with SessionLogger(tmp_path, "s2", history=live) as log:
        log.model_call("gpt-4o", input_tokens=50, output_tokens=5, provider="openai", ended_ts=T0 + 90)
        log.tool_call("Read", 1.0, ts=T0 + 91)
    live.drain()

    assert main(["report", f"comms:{tmp_path}", "--format", "json"]) == 0
    replayed = json.loads(capsys.readouterr().out)
    # report takes its rates at the clock, as the panel does: the live history at the same.
    live_report = json.loads(report.render_json(live.snapshot(now_ts=replayed["now_ts"])))

    assert replayed.pop("sources") == [f"comms:{tmp_path}"]
    assert live_report.pop("sources") == []
    # What was read differs (files and lines, against records handed over in-process);
    # what was counted does not.
    read, live = replayed.pop("provenance"), live_report.pop("provenance")
    assert read["sources"]["comms"]["files_read"] == 2 and live["sources"]["comms"]["files_read"] == 0
    for key in ("sessions", "requests", "total_tokens", "duplicate_copies", "bad_lines"):
        assert read["sources"]["comms"][key] == live["sources"]["comms"][key], key
    assert read["unpriced"] == live["unpriced"]
    assert replayed == live_report
    # The session logged something worth comparing.
    assert replayed["totals"]["requests"] == 5
    assert replayed["unpriced_models"] == ["mystery-model-9000"]
    assert set(replayed["sessions"]) == {"s1", "s2"}
    assert replayed["errors"]["bad_lines"] == 0


def test_threads_logging_at_once_write_only_whole_lines(tmp_path: Path):
    history = TokenHistory()
    threads_n, calls_n = 8, 250
    with SessionLogger(tmp_path, "busy", history=history) as log:

        def work(k: int) -> None:
            for i in range(calls_n):
                log.model_call("gpt-4o", input_tokens=1_000 + k, output_tokens=i, tier=f"worker-{k}", ended_ts=T0 + i)
                log.tool_call(f"tool-{k}", float(i), ts=T0 + i)

        threads = [threading.Thread(target=work, args=(k,)) for k in range(threads_n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    comms = log.comms_path.read_bytes()
    tools = log.tools_path.read_bytes()
    assert comms.endswith(b"\n") and tools.endswith(b"\n")
    comms_lines = [orjson.loads(line) for line in comms.splitlines()]
    tool_lines = [orjson.loads(line) for line in tools.splitlines()]
    assert len(comms_lines) == 2 + threads_n * calls_n  # session_start, the calls, session_end
    assert comms_lines[-1]["kind"] == "session_end"
    assert len(tool_lines) == threads_n * calls_n
    assert sum(line["usage"]["input_tokens"] for line in comms_lines[1:-1]) == sum(
        (1_000 + k) * calls_n for k in range(threads_n)
    )
    history.drain()
    assert history.snapshot()["totals"]["requests"] == threads_n * calls_n


BAD_CALLS = {
    "empty model name": lambda log: log.model_call("", input_tokens=1, output_tokens=1),
    "negative tokens": lambda log: log.model_call("gpt-4o", input_tokens=-1, output_tokens=1),
    "fractional tokens": lambda log: log.model_call("gpt-4o", input_tokens=1.5, output_tokens=1),
    "boolean tokens": lambda log: log.model_call("gpt-4o", input_tokens=True, output_tokens=1),
    "reasoning above output": lambda log: log.model_call("gpt-4o", output_tokens=5, reasoning_tokens=6),
    "absurd token count": lambda log: log.model_call("gpt-4o", input_tokens=10**12),
    "usage block and counts": lambda log: log.model_call(
        "gpt-4o", {"prompt_tokens": 1}, provider="openai", input_tokens=1
    ),
    "usage block without provider": lambda log: log.model_call("gpt-4o", {"prompt_tokens": 1}),
    "unknown provider": lambda log: log.model_call("gpt-4o", {"prompt_tokens": 1}, provider="acme"),
    "cached above prompt": lambda log: log.model_call(
        "gpt-4o", {"prompt_tokens": 10, "prompt_tokens_details": {"cached_tokens": 11}}, provider="openai"
    ),
    "start after end": lambda log: log.model_call("gpt-4o", input_tokens=1, started_ts=T0 + 5, ended_ts=T0),
    "non-numeric ts": lambda log: log.model_call("gpt-4o", input_tokens=1, ended_ts="yesterday"),
    "infinite ts": lambda log: log.model_call("gpt-4o", input_tokens=1, ended_ts=float("inf")),
    "non-string ticket": lambda log: log.model_call("gpt-4o", input_tokens=1, ticket=7),
    "non-string tier": lambda log: log.model_call("gpt-4o", input_tokens=1, tier=3),
    "tool ok not a bool": lambda log: log.tool_call("Bash", 1.0, ok="yes"),
    "negative duration": lambda log: log.tool_call("Bash", -1.0),
    "NaN duration": lambda log: log.tool_call("Bash", float("nan")),
    "blank tool name": lambda log: log.tool_call("  ", 1.0),
    "unknown ticket status": lambda log: log.ticket("T-1", "done"),
    "blank ticket id": lambda log: log.ticket("", "todo"),
    "score above 10": lambda log: log.rate(11),
    "score NaN": lambda log: log.rate(float("nan")),
}


@pytest.mark.parametrize("bad_call", BAD_CALLS.values(), ids=BAD_CALLS.keys())
def test_bad_input_raises_value_error_before_anything_is_written(tmp_path: Path, bad_call):
    history = TokenHistory()
    with SessionLogger(tmp_path, "s1", history=history) as log:
        comms_before = log.comms_path.read_bytes()
        tools_before = log.tools_path.read_bytes()

        with pytest.raises(ValueError):
            bad_call(log)

        assert log.comms_path.read_bytes() == comms_before
        assert log.tools_path.read_bytes() == tools_before
        assert history.pending == 0


def test_session_id_with_a_path_separator_is_refused_before_any_file_is_created(tmp_path: Path):
    with pytest.raises(ValueError, match="path separators"):
        SessionLogger(tmp_path, "../escape")
    assert list(tmp_path.iterdir()) == []


def test_logging_after_close_raises_value_error(tmp_path: Path):
    log = SessionLogger(tmp_path, "s1")
    log.close()
    with pytest.raises(ValueError, match="closed"):
        log.tool_call("Bash", 1.0)


def test_a_logged_session_names_its_project_and_ends_when_closed(tmp_path):
    history = TokenHistory()
    with SessionLogger(tmp_path, "work", history=history, project="shop") as log:
        log.model_call("gpt-4o", input_tokens=100, output_tokens=10, ended_ts=T0)
        log.ticket("T-1", "completed", ts=T0 + 1)
        history.drain()
        (row,) = history.session_rows()
        # Not marked open at its start: the live session stays in the efficiency figures.
        assert (row["project"], row["source"], row["state"], row["tickets_completed"]) == ("shop", "comms", None, 1)
        assert history.snapshot()["efficiency"]["tokens_per_completed_ticket"] == 110
    history.drain()
    (row,) = history.session_rows()
    assert row["state"] == "ended"
    replayed = TokenHistory()
    open_source(f"comms:{tmp_path}", replayed).poll()
    replayed.drain()
    (again,) = replayed.session_rows()
    assert (again["project"], again["state"], again["tickets_completed"]) == ("shop", "ended", 1)


def test_a_gemini_tool_use_prompt_is_logged_apart_and_read_back(tmp_path: Path):
    live = TokenHistory()
    with SessionLogger(tmp_path, "g1", history=live) as log:
        event = log.model_call(
            "gemini-2.5-flash",
            {"promptTokenCount": 1_000, "toolUsePromptTokenCount": 250, "candidatesTokenCount": 40},
            provider="google",
            ended_ts=T0,
        )
    assert (event.input, event.tool_prompt) == (1_250, 250)
    (call,) = [line for line in _lines(log.comms_path) if line["kind"] == "model_call"]
    assert call["usage"]["tool_prompt_tokens"] == 250
    replayed = TokenHistory()
    open_source(f"comms:{tmp_path}", replayed).poll()
    replayed.drain()
    live.drain()
    assert replayed.snapshot()["totals"]["tool_prompt_tokens"] == live.snapshot()["totals"]["tool_prompt_tokens"] == 250
