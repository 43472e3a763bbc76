"""Gemini CLI chat recordings: rewritten messages (last copy wins), `$set`, `$rewindTo`,
tool calls counted once at their final status, subagents, legacy `.json` files, tailing
and restarts from state.toml."""

import os
import time
from pathlib import Path

import orjson
import pytest

from session_insights import TokenHistory, across
from session_insights.cli import main
from session_insights.normalize import gemini_cli_usage
from session_insights.sources import SourceError, base, default_roots, open_source
from session_insights.sources.base import LineSource

SESSION = "8f0c6f7e-2b1d-4c3a-9e57-1d2f3a4b5c6d"
SUBAGENT = "c41d2e3f-7a8b-4c9d-8e0f-112233445566"
LEGACY = "3a9e1b2c-4d5e-4f60-8a7b-aabbccddeeff"
PROJECT = "9b1f0c2d3e4f5a6b"
FLASH, PRO = "gemini-2.5-flash", "gemini-2.5-pro"
SECRET = "fix the failing parser test"  # prompt text: must never reach the state


def tokens(input: int, output: int, cached: int = 0, thoughts: int = 0, tool: int = 0) -> dict:
    # As Gemini CLI records usageMetadata: input includes cached; total = input + output + thoughts + tool.
    return {
        "input": input,
        "output": output,
        "cached": cached,
        "thoughts": thoughts,
        "tool": tool,
        "total": input + output + thoughts + tool,
    }


def meta(session: str, kind: str | None = None) -> dict:
    line = {
        "sessionId": session,
        "projectHash": PROJECT,
        "startTime": "2025-11-20T10:00:00.000Z",
        "lastUpdated": "2025-11-20T10:00:00.000Z",
    }
    if kind:
        line["kind"] = kind
    return line


def user(msg_id: str, ts: str, text: str = SECRET) -> dict:
    return {"id": msg_id, "timestamp": ts, "type": "user", "content": [{"text": text}]}


def call(call_id: str, name: str, status: str, ts: str) -> dict:
    record = {
        "id": call_id,
        "name": name,
        "args": {"absolute_path": "/home/me/project/src/parser.py"},
        "status": status,
        "timestamp": ts,
        "displayName": name,
        "description": "",
        "renderOutputAsMarkdown": False,
    }
    if status in ("success", "error", "cancelled"):
        record["result"] = [
            {"functionResponse": {"id": call_id, "name": name, "response": {"output": "def parse(text): ..."}}}
        ]
    return record


def gemini(msg_id: str, ts: str, usage: dict | None, *, model: str = FLASH, calls: list | None = None) -> dict:
    msg = {
        "id": msg_id,
        "timestamp": ts,
        "type": "gemini",
        "content": "I will read the parser first.",
        "thoughts": [{"subject": "Planning", "description": "Reading the parser", "timestamp": ts}],
        "tokens": usage,
        "model": model,
    }
    if calls is not None:
        msg["toolCalls"] = calls
    return msg


def jsonl(*records: dict) -> bytes:
    return b"".join(orjson.dumps(r) + b"\n" for r in records)


T1 = tokens(12_000, 300, cached=8_000, thoughts=200)  # -> input 4_000, cache 8_000, output 500
T2_FIRST = tokens(30_000, 1_500, cached=20_000, thoughts=600, tool=250)  # replaced by the last copy
T2_LAST = tokens(26_000, 1_100, cached=20_000, thoughts=400, tool=150)  # -> input 6_150, output 1_500
T3 = tokens(27_500, 80, cached=24_000)  # -> input 3_500, cache 24_000, output 80
T4 = tokens(28_000, 640, thoughts=1_024)  # gemini-2.5-pro -> input 28_000, output 1_664


def main_session_lines() -> list[dict]:
    def g2_calls(shell: str, read: str) -> list[dict]:
        return [
            call("call-shell-1", "run_shell_command", shell, "2025-11-20T10:01:10.000Z"),
            call("call-read-1", "read_file", read, "2025-11-20T10:01:12.000Z"),
        ]

    g2_last = gemini("g2", "2025-11-20T10:01:00.000Z", T2_LAST, calls=g2_calls("success", "error"))
    return [
        meta(SESSION, "main"),
        user("u1", "2025-11-20T10:00:01.000Z"),
        {"$set": {"lastUpdated": "2025-11-20T10:00:01.000Z"}},
        gemini("g1", "2025-11-20T10:00:05.000Z", T1),
        user("u2", "2025-11-20T10:00:50.000Z", "now run the tests"),
        # One message written three times as its tool calls move on: one request, the last
        # copy's tokens (fewer than the first copy's), each tool call once.
        gemini("g2", "2025-11-20T10:01:00.000Z", T2_FIRST, calls=g2_calls("scheduled", "awaiting_approval")),
        gemini("g2", "2025-11-20T10:01:00.000Z", T2_FIRST, calls=g2_calls("success", "executing")),
        g2_last,
        # The conversation list replaced by copies of messages already read.
        {
            "$set": {
                "messages": [
                    user("u1", "2025-11-20T10:00:01.000Z"),
                    gemini("g1", "2025-11-20T10:00:05.000Z", T1),
                    g2_last,
                ],
                "lastUpdated": "2025-11-20T10:01:20.000Z",
            }
        },
        gemini(
            "g3",
            "2025-11-20T10:02:00.000Z",
            T3,
            calls=[call("call-edit-1", "replace", "cancelled", "2025-11-20T10:02:30.000Z")],
        ),
        # Rewound: g3 leaves the conversation, but its request was made and billed.
        {"$rewindTo": "g3"},
        user("u4", "2025-11-20T10:03:00.000Z", "try a smaller change"),
        {"id": "i1", "timestamp": "2025-11-20T10:03:01.000Z", "type": "info", "content": "Switched model"},
        gemini("g4", "2025-11-20T10:03:05.000Z", T4, model=PRO),
        # Tool calls recorded before the response's tokens came: no request, one call.
        gemini(
            "g5",
            "2025-11-20T10:03:40.000Z",
            None,
            model=PRO,
            calls=[call("call-glob-1", "glob", "success", "2025-11-20T10:03:41.500Z")],
        ),
    ]


def chats_dir(root: Path, project: str = PROJECT) -> Path:
    folder = root / project / "chats"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def write_main(root: Path, *extra: bytes) -> Path:
    path = chats_dir(root) / "session-2025-11-20T10-00-8f0c6f7e.jsonl"
    path.write_bytes(jsonl(*main_session_lines()) + b"".join(extra))
    return path


def write_subagent(root: Path) -> Path:
    folder = chats_dir(root) / SESSION
    folder.mkdir()
    path = folder / f"{SUBAGENT}.jsonl"
    path.write_bytes(
        jsonl(
            meta(SUBAGENT, "subagent"),
            user("su1", "2025-11-20T10:01:30.000Z", "search the codebase for parse("),
            gemini(
                "sg1",
                "2025-11-20T10:01:35.000Z",
                tokens(5_000, 700, cached=1_000, thoughts=300),
                calls=[call("call-grep-1", "search_file_content", "success", "2025-11-20T10:01:36.250Z")],
            ),
        )
    )
    return path


def legacy_record(messages: list[dict]) -> dict:
    return {
        "sessionId": LEGACY,
        "projectHash": "0123456789abcdef",
        "startTime": "2025-09-01T08:00:00.000Z",
        "lastUpdated": "2025-09-01T08:05:00.000Z",
        "messages": messages,
    }


LEGACY_MESSAGES = [
    user("lu1", "2025-09-01T08:00:01.000Z"),
    gemini(
        "lg1",
        "2025-09-01T08:00:04.000Z",
        tokens(9_000, 250, tool=50),
        calls=[call("call-read-9", "read_file", "success", "2025-09-01T08:00:05.000Z")],
    ),
]


def write_legacy(root: Path, messages: list[dict] = LEGACY_MESSAGES) -> Path:
    # Old Gemini CLI versions rewrote the whole conversation, pretty-printed, on every change.
    path = chats_dir(root, "0123456789abcdef") / "session-2025-09-01T08-00-3a9e1b2c.json"
    path.write_bytes(orjson.dumps(legacy_record(messages), option=orjson.OPT_INDENT_2))
    return path


def figures(row: dict) -> tuple:
    return (
        row["requests"],
        row["input_tokens"],
        row["cache_read_tokens"],
        row["output_tokens"],
        row["reasoning_tokens"],
    )


def read(spec: str, history: TokenHistory | None = None) -> dict:
    h = history or TokenHistory()
    open_source(spec, h).poll()
    h.drain()
    return h.snapshot()


# --- normalisation ---------------------------------------------------------------------


def test_cli_tokens_subtract_cached_from_input_and_bill_thoughts_and_tool_prompts():
    assert gemini_cli_usage(T2_LAST) == {
        "input_tokens": 26_000 - 20_000 + 150,
        "cache_read_tokens": 20_000,
        "output_tokens": 1_100 + 400,
        "reasoning_tokens": 400,
        "tool_prompt_tokens": 150,
    }
    # Older recordings leave out thoughts and tool; `total` is never read.
    assert gemini_cli_usage({"input": 10, "output": 2, "cached": 0, "total": 12}) == {
        "input_tokens": 10,
        "cache_read_tokens": 0,
        "output_tokens": 2,
        "reasoning_tokens": 0,
        "tool_prompt_tokens": 0,
    }
    with pytest.raises(ValueError, match=r"tokens.cached \(11\) exceeds tokens.input \(10\)"):
        gemini_cli_usage({"input": 10, "cached": 11, "output": 1})
    with pytest.raises(ValueError, match=r"tokens\.thoughts"):
        gemini_cli_usage({"input": 10, "output": 1, "thoughts": -5})


# --- one recording ---------------------------------------------------------------------


def test_a_rewritten_message_counts_once_at_its_last_copy_even_when_it_is_smaller(tmp_path):
    write_main(tmp_path)
    flash = read(f"gemini:{tmp_path}")["by_model"][FLASH]
    # g1 + g2 (last copy) + g3 (rewound, still billed)
    assert figures(flash) == (3, 4_000 + 6_150 + 3_500, 8_000 + 20_000 + 24_000, 500 + 1_500 + 80, 200 + 400)
    assert flash["provider"] == "google"
    assert flash["tool_prompt_tokens"] == 150, "the last copy's tool-use prompt, the first copy's 250 taken back"


def test_the_tool_use_prompt_is_its_own_token_category_of_the_session(tmp_path):
    write_main(tmp_path)
    h = TokenHistory()
    open_source(f"gemini:{tmp_path}", h).poll()
    h.drain()
    row = next(r for r in h.session_rows() if r["requests"])
    categories = across.token_categories(row)
    assert categories["tool-use prompt"] == 150
    assert categories["input"] == row["input_tokens"] - 150
    assert sum(categories.values()) == row["total_tokens"]


def test_rewinds_and_replaced_message_lists_take_nothing_back_and_add_nothing(tmp_path):
    write_main(tmp_path)
    snap = read(f"gemini:{tmp_path}")
    assert snap["totals"]["requests"] == 4
    assert figures(snap["by_model"][PRO]) == (1, 28_000, 0, 1_664, 1_024)
    assert snap["totals"]["total_tokens"] == (4_000 + 6_150 + 3_500 + 28_000) + 52_000 + (2_080 + 1_664)
    assert list(snap["sessions"]) == [SESSION]
    assert list(snap["by_tier"]) == ["main agent"]


def test_tool_calls_count_once_when_they_reach_a_final_status(tmp_path):
    write_main(tmp_path)
    tools = read(f"gemini:{tmp_path}")["tools"]
    assert {name: (t["calls"], t["failures"], t["total_ms"]) for name, t in tools.items()} == {
        "run_shell_command": (1, 0, 0.0),
        "read_file": (1, 1, 0.0),  # status error
        "replace": (1, 1, 0.0),  # cancelled: it did not do its work
        "glob": (1, 0, 0.0),
    }


def test_a_message_known_only_from_a_replaced_conversation_list_counts_once(tmp_path):
    g8 = gemini(
        "g8",
        "2025-11-20T10:04:00.000Z",
        tokens(2_000, 20, cached=1_500),
        calls=[call("call-ls-1", "list_directory", "success", "2025-11-20T10:04:01.000Z")] * 2,
    )
    write_main(
        tmp_path,
        jsonl(
            {"$set": {"messages": [gemini("g1", "2025-11-20T10:00:05.000Z", T1), g8]}},
            {"$set": {"messages": [gemini("g1", "2025-11-20T10:00:05.000Z", T1), g8]}},
        ),
    )
    snap = read(f"gemini:{tmp_path}")
    assert figures(snap["by_model"][FLASH]) == (4, 13_650 + 500, 52_000 + 1_500, 2_080 + 20, 600)
    assert snap["tools"]["list_directory"]["calls"] == 1  # listed twice, in two copies: one call


def test_a_subagent_recording_is_the_subagent_tier_under_its_own_session(tmp_path):
    write_main(tmp_path)
    write_subagent(tmp_path)
    snap = read(f"gemini:{tmp_path}")
    assert figures(snap["by_tier"]["subagent"]) == (1, 4_000, 1_000, 1_000, 300)
    assert snap["by_tier"]["subagent"]["models"] == [FLASH]
    assert snap["by_tier"]["main agent"]["requests"] == 4
    assert snap["sessions"][SUBAGENT]["requests"] == 1 and snap["sessions"][SESSION]["requests"] == 4
    assert snap["tools"]["search_file_content"]["calls"] == 1


def test_a_nested_recording_without_kind_is_a_subagent_by_its_folder(tmp_path):
    folder = chats_dir(tmp_path) / SESSION
    folder.mkdir()
    (folder / f"{SUBAGENT}.jsonl").write_bytes(
        jsonl(meta(SUBAGENT), gemini("sg1", "2025-11-20T10:01:35.000Z", tokens(100, 10)))
    )
    assert read(f"gemini:{tmp_path}")["by_tier"]["subagent"]["requests"] == 1


def test_only_chat_recordings_are_read(tmp_path):
    write_main(tmp_path)
    project = tmp_path / PROJECT
    (project / "logs.json").write_bytes(orjson.dumps([{"sessionId": SESSION, "message": "hi"}]))
    (project / "checkpoint-before-refactor.json").write_bytes(b"[]")
    (project / "chats" / "notes.jsonl").write_bytes(b"not a recording\n")
    h = TokenHistory()
    source = open_source(f"gemini:{tmp_path}", h)
    assert [p.name for p in source.files()] == ["session-2025-11-20T10-00-8f0c6f7e.jsonl"]
    source.poll()
    h.drain()
    assert h.snapshot()["errors"]["bad_lines"] == 0


def test_a_broken_line_is_counted_for_its_file_and_the_rest_is_read(tmp_path):
    cut = b'{"id":"g9","timestamp":"2025-11-20T10:05:00.000Z","type":"gemini","tokens":{"input":5'
    bad_ts = orjson.dumps(gemini("g10", "yesterday", tokens(10, 1)))
    path = write_main(
        tmp_path,
        cut + b"\n" + bad_ts + b"\n",
        jsonl(gemini("g11", "2025-11-20T10:06:00.000Z", tokens(1_000, 100), model=PRO)),
    )
    snap = read(f"gemini:{tmp_path}")
    assert (snap["errors"]["bad_lines"], snap["errors"]["files"]) == (2, {str(path): 2})
    assert snap["by_model"][PRO]["requests"] == 2


def test_a_set_of_session_id_names_the_session_of_the_messages_after_it(tmp_path):
    # The metadata line was cut short; resuming the session writes its id again.
    path = chats_dir(tmp_path) / "session-2025-11-20T10-00-8f0c6f7e.jsonl"
    path.write_bytes(
        orjson.dumps(meta(SESSION))[:30]
        + b"\n"
        + jsonl(
            gemini("g1", "2025-11-20T10:00:05.000Z", T1),
            {"$set": {"sessionId": SESSION}},
            gemini("g2", "2025-11-20T10:01:00.000Z", T2_LAST),
        )
    )
    snap = read(f"gemini:{tmp_path}")
    assert {s: row["requests"] for s, row in snap["sessions"].items()} == {"(no session)": 1, SESSION: 1}
    assert snap["errors"]["files"] == {str(path): 1}


def test_no_prompt_text_tool_arguments_or_outputs_reach_the_state(tmp_path):
    write_main(tmp_path / "tmp")
    write_legacy(tmp_path / "tmp")
    h = TokenHistory(state_path=tmp_path / "state.toml")
    read(f"gemini:{tmp_path / 'tmp'}", h)
    h.save()
    saved = (tmp_path / "state.toml").read_text()
    for text in (SECRET, "parser.py", "def parse", "Reading the parser", "I will read"):
        assert text not in saved


# --- legacy .json files -----------------------------------------------------------------


def test_a_legacy_json_file_is_read_whole(tmp_path):
    write_legacy(tmp_path)
    snap = read(f"gemini:{tmp_path}")
    assert figures(snap["by_model"][FLASH]) == (1, 9_050, 0, 250, 0)
    assert list(snap["sessions"]) == [LEGACY]
    assert snap["tools"]["read_file"]["calls"] == 1


def test_a_rewritten_legacy_file_is_read_again_without_counting_twice(tmp_path):
    path = write_legacy(tmp_path)
    h = TokenHistory()
    source = open_source(f"gemini:{tmp_path}", h)
    source.poll()
    h.drain()
    assert source.poll() == 0  # unchanged: not even parsed again
    # Rewritten in full: the response's tool call finished and one more request came.
    messages = [
        *LEGACY_MESSAGES,
        user("lu2", "2025-09-01T08:01:00.000Z"),
        gemini(
            "lg2",
            "2025-09-01T08:01:03.000Z",
            tokens(9_600, 40, cached=9_000),
            calls=[
                call("call-read-9", "read_file", "success", "2025-09-01T08:00:05.000Z"),
                call("call-ls-9", "list_directory", "error", "2025-09-01T08:01:04.000Z"),
            ],
        ),
    ]
    write_legacy(tmp_path, messages)
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10**9))  # a new mtime even on a coarse clock
    source.poll()
    h.drain()
    snap = h.snapshot()
    assert figures(snap["by_model"][FLASH]) == (2, 9_050 + 600, 9_000, 250 + 40, 0)
    assert {n: (t["calls"], t["failures"]) for n, t in snap["tools"].items()} == {
        "read_file": (1, 0),
        "list_directory": (1, 1),
    }


def test_an_unparsable_legacy_file_is_one_bad_line_once_it_has_settled(tmp_path):
    path = chats_dir(tmp_path) / "session-2025-09-01T08-00-3a9e1b2c.json"
    path.write_bytes(orjson.dumps(legacy_record(LEGACY_MESSAGES))[:200])  # cut mid-rewrite
    h = TokenHistory()
    source = open_source(f"gemini:{tmp_path}", h)
    source.poll()
    h.drain()
    assert h.snapshot()["errors"]["bad_lines"] == 0  # just written: maybe still being written
    old = time.time() - 60
    os.utime(path, (old, old))
    source.poll()
    source.poll()
    h.drain()
    assert (h.snapshot()["errors"]["bad_lines"], h.snapshot()["errors"]["files"]) == (1, {str(path): 1})


def test_a_legacy_session_resumed_into_jsonl_counts_once(tmp_path):
    legacy = write_legacy(tmp_path)
    h = TokenHistory()
    source = open_source(f"gemini:{tmp_path}", h)
    source.poll()
    # A newer Gemini CLI resumes it: metadata and every message copied into a .jsonl beside it.
    copy = legacy.with_name(legacy.name + "l")
    copy.write_bytes(
        jsonl(
            meta(LEGACY),
            *LEGACY_MESSAGES,
            {"$set": {"sessionId": LEGACY}},
            user("lu2", "2025-11-21T09:00:00.000Z"),
            gemini("lg2", "2025-11-21T09:00:02.000Z", tokens(10_000, 100, cached=9_000)),
        )
    )
    source.poll()
    h.drain()
    snap = h.snapshot()
    assert figures(snap["by_model"][FLASH]) == (2, 9_050 + 1_000, 9_000, 350, 0)
    assert snap["tools"]["read_file"]["calls"] == 1


# --- tailing --------------------------------------------------------------------------


def test_a_half_written_line_waits_for_its_newline(tmp_path):
    path = write_main(tmp_path)
    h = TokenHistory()
    source = open_source(f"gemini:{tmp_path}", h)
    source.poll()
    h.drain()
    whole = jsonl(gemini("g6", "2025-11-20T10:04:00.000Z", tokens(31_000, 200, cached=30_000)))
    with open(path, "ab") as f:
        f.write(whole[:40])
    source.poll()
    h.drain()
    assert h.snapshot()["totals"]["requests"] == 4
    with open(path, "ab") as f:
        f.write(whole[40:])
    source.poll()
    h.drain()
    snap = h.snapshot()
    assert snap["totals"]["requests"] == 5 and snap["errors"]["bad_lines"] == 0
    assert snap["by_model"][FLASH]["cache_read_tokens"] == 52_000 + 30_000


def test_tailing_while_draining_counts_each_request_and_tool_call_once(tmp_path):
    path = chats_dir(tmp_path) / "session-2025-11-20T10-00-8f0c6f7e.jsonl"
    path.write_bytes(b"")
    h = TokenHistory()
    source = open_source(f"gemini:{tmp_path}", h)
    seen = []
    for line in main_session_lines():
        with open(path, "ab") as f:
            f.write(jsonl(line))
        source.poll()
        h.drain()
        totals = h.snapshot()["totals"]
        seen.append((totals["requests"], totals["input_tokens"]))
    snap = h.snapshot()
    assert figures(snap["by_model"][FLASH]) == (3, 13_650, 52_000, 2_080, 600)
    assert figures(snap["by_model"][PRO]) == (1, 28_000, 0, 1_664, 1_024)
    # The first copy of g2 counted at once, then its smaller last copy replaced it.
    assert seen[5] == seen[6] == (2, 4_000 + 10_250)
    assert seen[7] == (2, 4_000 + 6_150)
    assert sum(t["calls"] for t in snap["tools"].values()) == 4
    assert list(snap["sessions"]) == [SESSION]


# --- restarts -------------------------------------------------------------------------


def rewrite_of_g2_with_one_more_call() -> dict:
    return gemini(
        "g2",
        "2025-11-20T10:01:00.000Z",
        T2_LAST,
        calls=[
            call("call-shell-1", "run_shell_command", "success", "2025-11-20T10:01:10.000Z"),
            call("call-read-1", "read_file", "error", "2025-11-20T10:01:12.000Z"),
            call("call-shell-2", "run_shell_command", "success", "2025-11-20T10:05:00.000Z"),
        ],
    )


def first_run(tmp_path: Path) -> Path:
    path = write_main(tmp_path / "tmp")
    h = TokenHistory(state_path=tmp_path / "state.toml")
    read(f"gemini:{tmp_path / 'tmp'}", h)
    h.save()
    return path


def after_restart(tmp_path: Path) -> tuple[TokenHistory, LineSource]:
    h = TokenHistory(state_path=tmp_path / "state.toml")
    return h, open_source(f"gemini:{tmp_path / 'tmp'}", h)


NEW_AFTER_RESTART = [
    user("u7", "2025-11-20T10:05:30.000Z"),
    gemini("g7", "2025-11-20T10:05:35.000Z", tokens(40_000, 500, cached=36_000), model=PRO),
]


def assert_restarted_totals(snap: dict) -> None:
    assert figures(snap["by_model"][FLASH]) == (3, 13_650, 52_000, 2_080, 600)
    assert figures(snap["by_model"][PRO]) == (2, 28_000 + 4_000, 36_000, 1_664 + 500, 1_024)
    assert snap["sessions"][SESSION]["requests"] == 5 and list(snap["sessions"]) == [SESSION]
    assert {n: t["calls"] for n, t in snap["tools"].items()} == {
        "run_shell_command": 2,
        "read_file": 1,
        "replace": 1,
        "glob": 1,
    }


def test_a_restart_reads_only_new_lines_and_keeps_the_session(tmp_path):
    path = first_run(tmp_path)
    # While stopped: g2 written again with one more finished call, and a new request.
    with open(path, "ab") as f:
        f.write(jsonl(rewrite_of_g2_with_one_more_call(), *NEW_AFTER_RESTART))
    h, source = after_restart(tmp_path)
    source.poll()
    h.drain()
    assert_restarted_totals(h.snapshot())


def test_a_file_that_grows_only_after_a_restart_keeps_its_session(tmp_path):
    path = first_run(tmp_path)
    h, source = after_restart(tmp_path)
    assert source.poll() == 0
    with open(path, "ab") as f:
        f.write(jsonl(rewrite_of_g2_with_one_more_call(), *NEW_AFTER_RESTART))
    source.poll()
    h.drain()
    assert_restarted_totals(h.snapshot())


def test_a_message_rewritten_after_a_restart_counts_once_though_the_history_forgot_it(tmp_path):
    # More requests than the state keeps for de-duplication, so g0's key is not among them.
    lines = [meta(SESSION)] + [
        gemini(
            f"g{i}",
            f"2025-11-20T11:{i // 60:02d}:{i % 60:02d}.000Z",
            tokens(100, 10),
            calls=[call(f"c{i}", "read_file", "executing", "2025-11-20T11:00:00.000Z")],
        )
        for i in range(80)
    ]
    path = chats_dir(tmp_path / "tmp") / "session-2025-11-20T11-00-8f0c6f7e.jsonl"
    path.write_bytes(jsonl(*lines))
    h = TokenHistory(state_path=tmp_path / "state.toml")
    read(f"gemini:{tmp_path / 'tmp'}", h)
    h.save()
    with open(path, "ab") as f:
        f.write(
            jsonl(
                gemini(
                    "g0",
                    "2025-11-20T11:00:00.000Z",
                    tokens(100, 10),
                    calls=[call("c0", "read_file", "success", "2025-11-20T11:02:00.000Z")],
                )
            )
        )
    h, source = after_restart(tmp_path)
    source.poll()
    h.drain()
    snap = h.snapshot()
    assert (snap["totals"]["requests"], snap["totals"]["input_tokens"]) == (80, 8_000)
    assert snap["tools"]["read_file"]["calls"] == 1


def test_a_restart_counts_a_legacy_file_again_only_for_its_new_messages(tmp_path):
    path = write_legacy(tmp_path / "tmp")
    h = TokenHistory(state_path=tmp_path / "state.toml")
    read(f"gemini:{tmp_path / 'tmp'}", h)
    h.save()
    h, source = after_restart(tmp_path)
    source.poll()
    h.drain()
    assert h.snapshot()["by_model"][FLASH]["requests"] == 1  # unchanged: nothing counted again
    h.save()
    write_legacy(tmp_path / "tmp", [*LEGACY_MESSAGES, gemini("lg2", "2025-09-01T08:01:03.000Z", tokens(500, 5))])
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10**9))
    h, source = after_restart(tmp_path)
    source.poll()
    h.drain()
    snap = h.snapshot()
    assert figures(snap["by_model"][FLASH]) == (2, 9_050 + 500, 0, 255, 0)
    assert snap["tools"]["read_file"]["calls"] == 1


def test_base_resume_also_runs_for_a_file_that_grows_after_the_first_poll(tmp_path):
    class Recorder(LineSource):
        def __init__(self, path, history):
            super().__init__(path, history)
            self.resumed: list[int] = []

        def parse(self, line, file):
            return ()

        def resume(self, file, head):
            self.resumed.append(len(list(head)))

    path = tmp_path / "log.jsonl"
    path.write_bytes(b'{"n": 1}\n{"n": 2}\n')
    h = TokenHistory(state_path=tmp_path / "state.toml")
    Recorder(path, h).poll()
    h.drain()  # a position is saved once what was read up to it is applied
    h.save()
    again = Recorder(path, TokenHistory(state_path=tmp_path / "state.toml"))
    again.poll()  # nothing new yet
    with open(path, "ab") as f:
        f.write(b'{"n": 3}\n')
    again.poll()
    assert again.resumed == [2]


# --- CLI and default folders ---------------------------------------------------------------


def test_report_reads_a_gemini_folder(tmp_path, capsys):
    write_main(tmp_path)
    write_subagent(tmp_path)
    write_legacy(tmp_path)
    assert main(["report", f"gemini:{tmp_path}", "--format", "json"]) == 0
    snap = orjson.loads(capsys.readouterr().out)
    flash_in, flash_cache, flash_out = 13_650 + 4_000 + 9_050, 52_000 + 1_000, 2_080 + 1_000 + 250
    assert {
        k: snap["totals"][k]
        for k in ("requests", "input_tokens", "cache_read_tokens", "output_tokens", "cache_write_tokens")
    } == {
        "requests": 6,
        "input_tokens": flash_in + 28_000,
        "cache_read_tokens": flash_cache,
        "output_tokens": flash_out + 1_664,
        "cache_write_tokens": 0,
    }
    # gemini-2.5-flash: $0.30 / $2.50 / $0.03 per million input / output / cache read tokens;
    # gemini-2.5-pro under 200k prompt tokens: $1.25 / $10.00.
    flash_usd = (flash_in * 0.30 + flash_out * 2.50 + flash_cache * 0.03) / 1e6
    pro_usd = (28_000 * 1.25 + 1_664 * 10.0) / 1e6
    assert snap["by_model"][FLASH]["cost_usd"] == pytest.approx(flash_usd, abs=1e-12)
    assert snap["by_model"][PRO]["cost_usd"] == pytest.approx(pro_usd, abs=1e-12)
    assert snap["totals"]["cost_usd"] == pytest.approx(flash_usd + pro_usd, abs=1e-12)
    assert snap["unpriced_models"] == [] and snap["errors"]["bad_lines"] == 0
    assert sorted(snap["sessions"]) == sorted([SESSION, SUBAGENT, LEGACY])


def test_reading_across_processes_gives_the_same_figures(tmp_path, monkeypatch):
    monkeypatch.setattr(base, "PARALLEL_MIN_BYTES", 0)
    write_main(tmp_path)
    write_subagent(tmp_path)
    write_legacy(tmp_path)
    snaps = []
    for workers in (1, 3):
        h = TokenHistory()
        open_source(f"gemini:{tmp_path}", h).read_all(workers=workers)
        h.drain()
        snaps.append(h.snapshot())
    for snap in snaps:
        assert figures(snap["totals"]) == (
            6,
            13_650 + 4_000 + 9_050 + 28_000,
            53_000,
            2_080 + 1_000 + 250 + 1_664,
            600 + 300 + 1_024,
        )
        assert {n: (t["calls"], t["failures"]) for n, t in snap["tools"].items()} == {
            "read_file": (2, 1),
            "run_shell_command": (1, 0),
            "replace": (1, 1),
            "glob": (1, 0),
            "search_file_content": (1, 0),
        }
        assert snap["by_tier"]["subagent"]["requests"] == 1 and sorted(snap["sessions"]) == sorted(
            [SESSION, SUBAGENT, LEGACY]
        )


def test_default_roots_follow_gemini_cli_home(tmp_path, monkeypatch):
    monkeypatch.setenv("GEMINI_CLI_HOME", str(tmp_path / "profile"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_roots("gemini") == [tmp_path / "profile" / ".gemini" / "tmp", tmp_path / "home" / ".gemini" / "tmp"]
    write_main(tmp_path / "profile" / ".gemini" / "tmp")
    h = TokenHistory()
    open_source("gemini", h).poll()
    h.drain()
    assert h.snapshot()["totals"]["requests"] == 4


def test_no_default_gemini_folder_is_a_one_line_error(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("GEMINI_CLI_HOME", raising=False)
    with pytest.raises(SourceError, match="no Gemini CLI chats found"):
        open_source("gemini", TokenHistory())


# --- recordings of the real CLI, and ids scoped by session ------------------------------
# tests/fixtures/gemini/: two recordings Gemini CLI 0.61.0 wrote (`gemini -p`, scratch HOME)
# against mock_api.py beside them on 127.0.0.1, which answered with known usageMetadata:
# gemini-2.5-flash {prompt 12,000 with 8,000 cached, candidates 300, thoughts 200} and
# gemini-2.5-pro {prompt 30,000 with 20,000 cached, candidates 1,100, thoughts 400}.
FIXTURES = Path(__file__).parent / "fixtures" / "gemini"
FLASH_SESSION = "9fb0a7dd-ee1d-4281-9d53-8f308e1ef256"
PRO_SESSION = "81365097-4b1d-4248-895b-3c9655f4b21d"
GENUINE_TRUTH = {FLASH: (1, 4_000, 8_000, 500, 200), PRO: (1, 10_000, 20_000, 1_500, 400)}


def copy_recordings(root: Path, message_id: str | None = None) -> None:
    """The two recordings in one project's chats; with ``message_id``, the model's
    message of each under that id (a caller may give its own ids, such as "m2")."""
    for path in FIXTURES.glob("session-*.jsonl"):
        lines = path.read_bytes().splitlines(keepends=True)
        if message_id is not None:
            for i, line in enumerate(lines):
                record = orjson.loads(line)
                if record.get("type") == "gemini":
                    lines[i] = orjson.dumps({**record, "id": message_id}) + b"\n"
        (chats_dir(root) / path.name).write_bytes(b"".join(lines))


def test_recordings_of_gemini_cli_read_as_the_usage_its_api_answered(tmp_path):
    copy_recordings(tmp_path)
    snap = read(f"gemini:{tmp_path}")
    assert {model: figures(row) for model, row in snap["by_model"].items()} == GENUINE_TRUTH
    assert {name: row["requests"] for name, row in snap["sessions"].items()} == {FLASH_SESSION: 1, PRO_SESSION: 1}
    assert snap["errors"]["bad_lines"] == 0


def test_two_sessions_messages_of_one_id_are_two_requests(tmp_path):
    # Keyed by the id alone, the second session's "m2" replaced the first's: one request lost.
    copy_recordings(tmp_path, message_id="m2")
    snap = read(f"gemini:{tmp_path}")
    assert {model: figures(row) for model, row in snap["by_model"].items()} == GENUINE_TRUTH
    assert snap["totals"]["requests"] == 2


def test_two_sessions_tool_calls_of_one_id_are_two_calls(tmp_path):
    folder = chats_dir(tmp_path)
    for session, name in (
        (SESSION, "session-2025-11-20T10-00-8f0c6f7e.jsonl"),
        (LEGACY, "session-2025-11-21T09-00-3a9e1b2c.jsonl"),
    ):
        done = call("call-1", "read_file", "success", "2025-11-20T10:00:06.000Z")
        (folder / name).write_bytes(jsonl(meta(session), gemini("m2", "2025-11-20T10:00:05.000Z", T1, calls=[done])))
    snap = read(f"gemini:{tmp_path}")
    assert figures(snap["by_model"][FLASH]) == (2, 8_000, 16_000, 1_000, 400)
    assert snap["tools"]["read_file"]["calls"] == 2
