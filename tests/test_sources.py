"""Sources and hooks: reading logs by byte offset, the comms adapter, and the API a host
calls from any thread.

FileTail yields only complete lines, waits for an unfinished last line, restarts from 0
when a file shrinks or is replaced, and its position is plain data. The comms source
skips what it cannot read, counting it per file, and reads the rest; offsets kept in the
history mean nothing is counted twice. Hooks turn a host's comms entries into requests,
normalised per provider.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from session_insights import hooks
from session_insights.history import TokenHistory
from session_insights.sources import KINDS, SourceError, open_source, parse_spec
from session_insights.sources.comms import CommsSource
from session_insights.sources.tail import FileTail, Position, head_digest

T0 = 1_760_000_000.0


def _jsonl(*objs: dict) -> bytes:
    return b"".join(orjson.dumps(o) + b"\n" for o in objs)


def _model_call(ts: float, input_tokens: int, output_tokens: int, model: str = "gpt-4o", **extra) -> dict:
    return {
        "kind": "model_call",
        "ts": ts,
        "model": model,
        "session": "s1",
        "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens},
        **extra,
    }


# --- FileTail -----------------------------------------------------------------------


def test_tail_yields_only_complete_lines_and_an_unfinished_last_line_waits(tmp_path: Path):
    path = tmp_path / "log.jsonl"
    path.write_bytes(b"one\ntwo\nthr")
    tail = FileTail(path)

    assert list(tail.read_lines()) == [b"one", b"two"]
    assert tail.pos.offset == len(b"one\ntwo\n")
    assert list(tail.read_lines()) == []  # still no newline after "thr"

    with open(path, "ab") as f:
        f.write(b"ee\nfour\n")
    assert list(tail.read_lines()) == [b"three", b"four"]
    assert tail.pos.offset == path.stat().st_size


def test_tail_picks_up_appended_lines_on_each_read(tmp_path: Path):
    path = tmp_path / "log.jsonl"
    path.write_bytes(b"")
    tail = FileTail(path)
    seen = []
    for i in range(5):
        with open(path, "ab") as f:
            f.write(f"line {i}\n".encode())
        seen += list(tail.read_lines())
    assert seen == [f"line {i}".encode() for i in range(5)]
    assert tail.restarts == 0


def test_truncated_file_is_read_again_from_the_start(tmp_path: Path):
    path = tmp_path / "log.jsonl"
    path.write_bytes(b"a long first line\nsecond\n")
    tail = FileTail(path)
    list(tail.read_lines())

    path.write_bytes(b"new\n")  # same inode, shorter than the offset
    assert list(tail.read_lines()) == [b"new"]
    assert tail.restarts == 1


def test_replaced_file_with_a_new_inode_is_read_again_from_the_start(tmp_path: Path):
    path = tmp_path / "log.jsonl"
    path.write_bytes(b"old 1\nold 2\n")
    tail = FileTail(path)
    list(tail.read_lines())

    # Rotation: a new, longer file takes the name. The old one still exists while the new
    # one is created, so the inode cannot be reused.
    replacement = tmp_path / "log.jsonl.new"
    replacement.write_bytes(b"new 1\nnew 2\nnew 3\n")
    os.replace(replacement, path)

    assert list(tail.read_lines()) == [b"new 1", b"new 2", b"new 3"]
    assert tail.restarts == 1


def test_tail_position_round_trips_so_a_restart_reads_only_new_lines(tmp_path: Path):
    path = tmp_path / "log.jsonl"
    path.write_bytes(b"1\n2\n")
    first = FileTail(path)
    assert list(first.read_lines()) == [b"1", b"2"]
    saved = first.position()
    assert saved == {
        "offset": 4,
        "inode": path.stat().st_ino,
        "device": path.stat().st_dev,
        "head_len": 4,
        "head": head_digest(b"1\n2\n"),
        "tail_len": 4,
        "tail": head_digest(b"1\n2\n"),
    }  # the bytes before the offset
    assert Position.from_dict(saved).as_dict() == saved

    with open(path, "ab") as f:
        f.write(b"3\n")
    resumed = FileTail(path, Position.from_dict(saved))
    assert list(resumed.read_lines()) == [b"3"]
    assert resumed.restarts == 0


def test_missing_or_empty_position_starts_at_zero():
    assert Position.from_dict(None) == Position(0, 0, 0, 0, 0)
    assert Position.from_dict({}) == Position(0, 0, 0, 0, 0)
    # State saved before positions knew a file's head: no head, so no head check.
    assert Position.from_dict({"offset": 7, "inode": 3, "device": 1}) == Position(7, 3, 1, 0, 0)


def test_a_reader_that_stops_early_loses_no_line(tmp_path: Path):
    path = tmp_path / "log.jsonl"
    path.write_bytes(b"a\nb\nc\n")
    tail = FileTail(path)
    lines = tail.read_lines()
    assert next(lines) == b"a"
    lines.close()
    assert list(tail.read_lines()) == [b"b", b"c"]


@settings(max_examples=60, deadline=None)
@given(
    lines=st.lists(st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"")), max_size=20),
    cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=8),
)
def test_tail_yields_the_same_lines_however_the_writes_are_split(lines: list[bytes], cuts: list[int]):
    data = b"".join(line + b"\n" for line in lines)
    points = sorted({min(c, len(data)) for c in cuts} | {len(data)})
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "log.jsonl"
        path.write_bytes(b"")
        tail = FileTail(path)
        seen: list[bytes] = []
        written = 0
        for point in points:
            with open(path, "ab") as f:
                f.write(data[written:point])
            written = point
            seen += list(tail.read_lines())
    # A byte-order mark that opens the file is no part of its first line.
    expected = [lines[0].removeprefix(b"\xef\xbb\xbf"), *lines[1:]] if lines else []
    assert seen == expected


# --- source specs -------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec, parsed",
    [
        ("comms:/tmp/x.jsonl", ("comms", "/tmp/x.jsonl")),
        ("COMMS:logs", ("comms", "logs")),
        ("claude", ("claude", None)),
        ("codex:~/.codex", ("codex", "~/.codex")),
    ],
)
def test_parse_spec_splits_kind_and_path(spec: str, parsed: tuple):
    assert parse_spec(spec) == parsed


@pytest.mark.parametrize("spec", ["foo:x", "comms", "comms:", "otel", ""])
def test_bad_source_specs_raise_source_error_with_one_line(spec: str):
    with pytest.raises(SourceError) as exc:
        parse_spec(spec)
    assert "\n" not in str(exc.value)


def test_every_documented_kind_is_known():
    assert set(KINDS) == {"claude", "codex", "gemini", "comms", "audit", "otel"}


def test_open_source_refuses_a_missing_path(tmp_path: Path):
    with pytest.raises(SourceError, match="does not exist"):
        open_source(f"comms:{tmp_path / 'nope.jsonl'}", TokenHistory())


# --- comms source -------------------------------------------------------------------


def test_comms_source_skips_and_counts_unreadable_lines_per_file_and_reads_the_rest(tmp_path: Path):
    good = tmp_path / "good.comms.jsonl"
    bad = tmp_path / "bad.comms.jsonl"
    good.write_bytes(_jsonl(_model_call(T0, 100, 10)))
    bad.write_bytes(
        _jsonl({"kind": "session_start", "ts": T0, "session": "s1"}, _model_call(T0 + 1, 1_000, 100))
        + b'{"kind": "model_call", "ts": 1760000002, "model": "gpt-4o", \n'  # malformed JSON
        + b'{"kind": "rating", "ts": 1760000003, "score": 5, "session": "\xff\xfe"}\n'  # invalid UTF-8
        + _jsonl(
            {"kind": "telepathy", "ts": T0 + 4},  # unknown kind
            {"no_kind_at_all": True},  # unknown kind
            _model_call(T0 + 5, -5, 10),  # negative tokens
            _model_call(T0 + 6, 5, 10, model=""),  # blank model
            {**_model_call(T0 + 7, 5, 10), "usage": {"input_tokens": 5, "bogus_tokens": 1}},  # unknown field
            {"kind": "model_call", "model": "gpt-4o", "usage": {"input_tokens": 5}},  # no ts
            {"kind": "ticket", "ts": "yesterday", "ticket_id": "T-1", "status": "todo"},  # bad ts
            {"kind": "ticket", "ts": T0 + 8, "ticket_id": "T-1", "status": "done"},  # bad status
            {"kind": "tool_call", "ts": T0 + 9, "name": "Bash", "duration_ms": 5, "ok": "yes"},  # bad ok
            {"kind": "rating", "ts": T0 + 10, "score": 11},  # score out of range
        )
        + b"[1, 2, 3]\n"  # not an object
        + b"\n   \n"  # blank: not an error
        + _jsonl(
            {"kind": "tool_call", "ts": T0 + 11, "name": "Bash", "duration_ms": 30, "ok": False},
            {"kind": "ticket", "ts": T0 + 12, "ticket_id": 42, "status": "completed"},
            {"kind": "rating", "ts": T0 + 13, "score": 9},
        )
    )
    history = TokenHistory()
    source = CommsSource(tmp_path, history)

    queued = source.poll()
    history.drain()

    assert queued == 6  # the session_start names its session (a mark), then 5 records
    snap = history.snapshot()
    assert (snap["errors"]["bad_lines"], snap["errors"]["files"]) == (13, {str(bad): 13})
    assert snap["totals"]["requests"] == 2
    assert snap["totals"]["input_tokens"] == 1_100
    assert snap["tools"]["Bash"]["calls"] == 1 and snap["tools"]["Bash"]["failures"] == 1
    assert snap["tickets"]["by_status"]["completed"] == 1
    assert snap["efficiency"]["ratings"] == 1


BAD_LINES = {
    "malformed JSON": b'{"kind": "model_call", "ts": 1760000002, "model": "gpt-4o", ',
    "invalid UTF-8": b'{"kind": "rating", "ts": 1760000003, "score": 5, "session": "\xff\xfe"}',
    "unknown kind": b'{"kind": "telepathy", "ts": 1760000004}',
    "no kind": b'{"no_kind_at_all": true}',
    "not an object": b"[1, 2, 3]",
    "negative tokens": orjson.dumps(_model_call(T0, -5, 10)),
    "blank model": orjson.dumps(_model_call(T0, 5, 10, model="")),
    "unknown usage field": orjson.dumps({**_model_call(T0, 5, 10), "usage": {"bogus_tokens": 1}}),
    "usage not an object": orjson.dumps({**_model_call(T0, 5, 10), "usage": [5, 10]}),
    "model call without ts": b'{"kind": "model_call", "model": "gpt-4o", "usage": {"input_tokens": 5}}',
    "ts not a number": b'{"kind": "ticket", "ts": "yesterday", "ticket_id": "T-1", "status": "todo"}',
    "unknown ticket status": b'{"kind": "ticket", "ts": 1760000008, "ticket_id": "T-1", "status": "done"}',
    "ok not a boolean": b'{"kind": "tool_call", "ts": 1760000009, "name": "Bash", "duration_ms": 5, "ok": "yes"}',
    "score out of range": b'{"kind": "rating", "ts": 1760000010, "score": 11}',
    "host entry with inconsistent usage": orjson.dumps(
        {
            "ts": T0,
            "direction": "in",
            "provider": "openai",
            "model": "gpt-4o",
            "payload": {"usage": {"prompt_tokens": 10, "prompt_tokens_details": {"cached_tokens": 20}}},
        }
    ),
}


@pytest.mark.parametrize("bad_line", BAD_LINES.values(), ids=BAD_LINES.keys())
def test_each_kind_of_bad_line_is_skipped_and_counted_and_its_neighbours_are_read(tmp_path: Path, bad_line: bytes):
    path = tmp_path / "s1.comms.jsonl"
    path.write_bytes(_jsonl(_model_call(T0, 100, 10)) + bad_line + b"\n" + _jsonl(_model_call(T0 + 1, 200, 20)))
    history = TokenHistory()

    assert CommsSource(path, history).poll() == 2
    history.drain()

    snap = history.snapshot()
    assert (snap["errors"]["bad_lines"], snap["errors"]["files"]) == (1, {str(path): 1})
    assert snap["totals"]["input_tokens"] == 300


def test_a_second_poll_reads_only_new_lines(tmp_path: Path):
    path = tmp_path / "s1.comms.jsonl"
    path.write_bytes(_jsonl(_model_call(T0, 100, 10), _model_call(T0 + 1, 200, 20)))
    history = TokenHistory()
    source = CommsSource(path, history)

    assert source.poll() == 2
    assert source.poll() == 0
    with open(path, "ab") as f:
        f.write(_jsonl(_model_call(T0 + 2, 300, 30)))
    assert source.poll() == 1
    history.drain()

    assert history.snapshot()["totals"]["input_tokens"] == 600
    assert history.offsets[str(path)]["offset"] == path.stat().st_size


def test_offsets_kept_in_the_history_stop_a_new_source_from_counting_lines_twice(tmp_path: Path):
    path = tmp_path / "s1.comms.jsonl"
    path.write_bytes(_jsonl(_model_call(T0, 100, 10)))
    history = TokenHistory()
    CommsSource(path, history).poll()

    with open(path, "ab") as f:
        f.write(_jsonl(_model_call(T0 + 1, 200, 20)))
    assert CommsSource(path, history).poll() == 1  # a second reader resumes at the kept offset
    history.drain()
    assert history.snapshot()["totals"]["input_tokens"] == 300


def test_offsets_survive_a_restart_through_state_toml(tmp_path: Path):
    logs = tmp_path / "logs"
    logs.mkdir()
    path = logs / "s1.comms.jsonl"
    path.write_bytes(_jsonl(_model_call(T0, 100, 10), _model_call(T0 + 1, 200, 20)))
    state_path = tmp_path / "state.toml"
    history = TokenHistory(state_path=state_path)
    CommsSource(logs, history).poll()
    history.drain()
    history.save()

    with open(path, "ab") as f:
        f.write(_jsonl(_model_call(T0 + 2, 400, 40)))
    restarted = TokenHistory(state_path=state_path)
    assert CommsSource(logs, restarted).poll() == 1
    restarted.drain()

    assert restarted.snapshot()["totals"]["input_tokens"] == 700
    assert restarted.snapshot()["totals"]["requests"] == 3


def test_an_unfinished_last_line_is_counted_once_it_is_complete_not_as_an_error(tmp_path: Path):
    path = tmp_path / "s1.comms.jsonl"
    whole = orjson.dumps(_model_call(T0, 100, 10)) + b"\n"
    path.write_bytes(whole[:20])
    history = TokenHistory()
    source = CommsSource(path, history)

    assert source.poll() == 0
    with open(path, "ab") as f:
        f.write(whole[20:])
    assert source.poll() == 1
    history.drain()
    assert history.snapshot()["errors"]["bad_lines"] == 0


def test_host_comms_entry_line_counts_as_a_request_and_an_outgoing_one_does_not(tmp_path: Path):
    path = tmp_path / "host.jsonl"
    path.write_bytes(
        _jsonl(
            {
                "ts": T0,
                "direction": "out",
                "provider": "anthropic",
                "model": "claude-sonnet-4-5",
                "payload": {"messages": [{"role": "user", "content": "hi"}]},
            },
            {
                "ts": T0 + 3,
                "direction": "in",
                "provider": "anthropic",
                "model": "claude-sonnet-4-5",
                "tier": "Tier 2",
                "session": "host",
                "payload": {
                    "usage": {
                        "input_tokens": 1_000,
                        "output_tokens": 200,
                        "cache_read_input_tokens": 3_000,
                        "cache_creation_input_tokens": 400,
                    }
                },
            },
            {
                "ts": T0 + 4,
                "direction": "out",
                "provider": "openai",
                "model": "gpt-4o",
                "payload": {"usage": {"prompt_tokens": 50, "completion_tokens": 5}},
            },
        )
    )
    history = TokenHistory()

    assert CommsSource(path, history).poll() == 1
    history.drain()

    snap = history.snapshot()
    assert snap["errors"]["bad_lines"] == 0
    assert snap["totals"]["requests"] == 1
    model = snap["by_model"]["claude-sonnet-4-5"]
    assert (
        model["input_tokens"],
        model["output_tokens"],
        model["cache_read_tokens"],
        model["cache_write_tokens"],
        model["provider"],
    ) == (1_000, 200, 3_000, 400, "anthropic")
    assert list(snap["by_tier"]) == ["Tier 2"]
    assert list(snap["sessions"]) == ["host"]


def test_comms_source_over_a_folder_reads_jsonl_files_in_subfolders(tmp_path: Path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.comms.jsonl").write_bytes(_jsonl(_model_call(T0, 1, 1)))
    (tmp_path / "y.tools.jsonl").write_bytes(_jsonl({"kind": "tool_call", "ts": T0, "name": "Read", "duration_ms": 2}))
    (tmp_path / "notes.txt").write_bytes(b"not a log\n")
    history = TokenHistory()
    assert CommsSource(tmp_path, history).poll() == 2
    history.drain()
    assert history.snapshot()["errors"]["bad_lines"] == 0


# --- hooks --------------------------------------------------------------------------


@pytest.fixture
def detached():
    hooks.detach()
    yield
    hooks.detach()


ANTHROPIC_ENTRY = {
    "ts": T0,
    "direction": "in",
    "provider": "anthropic",
    "model": "claude-sonnet-4-5",
    "tier": "Tier 3",
    "session": "s1",
    "payload": {
        "id": "msg_01",
        "model": "claude-sonnet-4-5",
        "usage": {
            "input_tokens": 10,
            "output_tokens": 300,
            "cache_read_input_tokens": 20_000,
            "cache_creation_input_tokens": 1_000,
            "cache_creation": {"ephemeral_5m_input_tokens": 400, "ephemeral_1h_input_tokens": 600},
        },
    },
}
OPENAI_ENTRY = {
    "ts": T0,
    "direction": "in",
    "provider": "openai",
    "model": "gpt-4o",
    "payload": {
        "id": "chatcmpl-1",
        "usage": {
            "prompt_tokens": 5_000,
            "prompt_tokens_details": {"cached_tokens": 4_000},
            "completion_tokens": 250,
            "completion_tokens_details": {"reasoning_tokens": 100},
        },
    },
}
GEMINI_ENTRY = {
    "ts": T0,
    "direction": "in",
    "provider": "gemini",
    "payload": {
        "responseId": "resp-1",
        "modelVersion": "gemini-2.5-pro",
        "usageMetadata": {
            "promptTokenCount": 8_000,
            "cachedContentTokenCount": 6_000,
            "candidatesTokenCount": 500,
            "thoughtsTokenCount": 1_500,
        },
    },
}
# (provider, input, cache_read, cache_write_5m, cache_write_1h, output, reasoning, model, request_key)
EXPECTED = {
    "anthropic": ("anthropic", 10, 20_000, 400, 600, 300, 0, "claude-sonnet-4-5", "msg_01"),
    "openai": ("openai", 1_000, 4_000, 0, 0, 250, 100, "gpt-4o", "chatcmpl-1"),
    "gemini": ("google", 2_000, 6_000, 0, 0, 2_000, 1_500, "gemini-2.5-pro", "resp-1"),
}
ENTRIES = {"anthropic": ANTHROPIC_ENTRY, "openai": OPENAI_ENTRY, "gemini": GEMINI_ENTRY}


def _fields(ev) -> tuple:
    return (
        ev.provider,
        ev.input,
        ev.cache_read,
        ev.cache_write_5m,
        ev.cache_write_1h,
        ev.output,
        ev.reasoning,
        ev.model,
        ev.request_key,
    )


@pytest.mark.parametrize("with_provider", [True, False], ids=["provider given", "provider guessed"])
@pytest.mark.parametrize("name", ENTRIES)
def test_comms_entry_usage_is_normalised_per_provider(name: str, with_provider: bool):
    entry = dict(ENTRIES[name])
    if not with_provider:
        del entry["provider"]
    event = hooks.usage_from_comms_entry(entry)
    assert _fields(event) == EXPECTED[name]
    assert event.source == "comms" and event.ts == T0


@pytest.mark.parametrize(
    "usage, provider",
    [
        ({"input_tokens": 1, "output_tokens": 1, "cache_read_input_tokens": 1}, "anthropic"),
        ({"input_tokens": 1, "output_tokens": 1}, "anthropic"),
        ({"prompt_tokens": 1, "completion_tokens": 1}, "openai"),
        ({"input_tokens": 1, "input_tokens_details": {"cached_tokens": 0}}, "openai"),
        ({"input_tokens": 1, "cached_input_tokens": 0}, "openai"),
        ({"promptTokenCount": 1, "candidatesTokenCount": 1}, "google"),
        ({"prompt_tokens": 1, "prompt_cache_hit_tokens": 0}, "deepseek"),
    ],
)
def test_guess_provider_from_the_shape_of_a_usage_block(usage: dict, provider: str):
    assert hooks.guess_provider(usage) == provider


def test_a_payload_that_is_itself_the_usage_block_counts():
    event = hooks.usage_from_comms_entry(
        {"ts": T0, "model": "gpt-4o", "payload": {"prompt_tokens": 100, "completion_tokens": 10}}
    )
    assert (event.provider, event.input, event.output) == ("openai", 100, 10)


@pytest.mark.parametrize(
    "entry",
    [
        {**ANTHROPIC_ENTRY, "direction": "out"},
        {**ANTHROPIC_ENTRY, "direction": "outgoing"},
        {**ANTHROPIC_ENTRY, "payload": {"content": "a tool result, no usage"}},
        {**ANTHROPIC_ENTRY, "payload": "not an object"},
    ],
    ids=["out", "outgoing", "no usage", "payload not an object"],
)
def test_entries_that_record_no_request_give_none(entry: dict):
    assert hooks.usage_from_comms_entry(entry) is None


def test_an_unreadable_usage_block_raises_value_error():
    entry = {
        **OPENAI_ENTRY,
        "payload": {"usage": {"prompt_tokens": 10, "prompt_tokens_details": {"cached_tokens": 20}}},
    }
    with pytest.raises(ValueError):
        hooks.usage_from_comms_entry(entry)


def test_module_functions_do_nothing_and_return_false_when_detached(detached):
    history = TokenHistory()
    hooks.attach(history)
    hooks.detach()

    assert hooks.attached() is None
    assert hooks.on_comms_entry(ANTHROPIC_ENTRY) is False
    assert hooks.on_tool_call("Bash", 1.0) is False
    assert hooks.on_ticket("T-1", "todo") is False
    assert hooks.on_rating(5) is False
    assert history.pending == 0


def test_attached_module_functions_feed_the_history(detached):
    history = TokenHistory()
    attached = hooks.attach(history)
    assert hooks.attached() is attached and attached.history is history

    assert hooks.on_comms_entry(ANTHROPIC_ENTRY) is True
    assert hooks.on_comms_entry({**OPENAI_ENTRY, "direction": "out"}) is False
    assert hooks.on_comms_entry({k: v for k, v in GEMINI_ENTRY.items() if k != "provider"}) is True
    assert hooks.on_tool_call("Bash", 12.0, ok=False, ts=T0, session="s1") is True
    assert hooks.on_ticket("T-1", "blocked", ts=T0, track="core", reason="needs a key") is True
    assert hooks.on_rating(9, ts=T0) is True
    history.drain()

    snap = history.snapshot()
    assert snap["totals"]["requests"] == 2
    assert set(snap["by_model"]) == {"claude-sonnet-4-5", "gemini-2.5-pro"}
    assert snap["by_model"]["gemini-2.5-pro"]["provider"] == "google"
    assert snap["tools"]["Bash"]["failures"] == 1
    assert snap["tickets"]["blocked"] == [{"id": "T-1", "reason": "needs a key", "since_ts": T0}]
    assert snap["efficiency"]["ratings"] == 1


def test_attach_replaces_the_previously_attached_history(detached):
    first, second = TokenHistory(), TokenHistory()
    hooks.attach(first)
    hooks.attach(second)
    hooks.on_tool_call("Read", 1.0)
    assert (first.pending, second.pending) == (0, 1)


def test_the_same_comms_entry_seen_twice_counts_once(detached):
    history = TokenHistory()
    hooks.attach(history)
    hooks.on_comms_entry(ANTHROPIC_ENTRY)
    hooks.on_comms_entry(ANTHROPIC_ENTRY)
    history.drain()
    assert history.snapshot()["totals"]["requests"] == 1


def test_hooks_raise_value_error_for_bad_values_and_queue_nothing(detached):
    history = TokenHistory()
    hooks.attach(history)
    with pytest.raises(ValueError):
        hooks.on_tool_call("Bash", -5)
    with pytest.raises(ValueError):
        hooks.on_ticket("T-1", "finished")
    with pytest.raises(ValueError):
        hooks.on_rating(42)
    with pytest.raises(ValueError):
        hooks.on_comms_entry(
            {
                **OPENAI_ENTRY,
                "payload": {"usage": {"prompt_tokens": 10, "prompt_tokens_details": {"cached_tokens": 20}}},
            }
        )
    with pytest.raises(ValueError):
        hooks.on_comms_entry({**OPENAI_ENTRY, "model": None, "payload": {"usage": {"prompt_tokens": 10}}})
    assert history.pending == 0


def test_an_unknown_provider_is_read_by_the_shape_of_its_usage_block_and_keeps_its_label():
    event = hooks.usage_from_comms_entry({**OPENAI_ENTRY, "provider": "local-vllm"})
    assert _fields(event) == ("local-vllm", *EXPECTED["openai"][1:])
