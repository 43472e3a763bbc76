"""Claude Code transcripts: streamed copies, synthetic lines, sidechains, tool pairs, todos."""

import tomllib
from pathlib import Path

import orjson
import pytest
import tomli_w

from session_insights import TokenHistory
from session_insights.cli import main
from session_insights.report import render
from session_insights.sources import SourceError, open_source

SESSION = "5b1c4e0f-0000-4000-8000-000000000001"


def assistant(
    ts: str,
    msg_id: str,
    req: str,
    usage: dict,
    *,
    model="claude-sonnet-4-5-20250929",
    sidechain=False,
    content=None,
    cost=None,
) -> dict:
    line = {
        "type": "assistant",
        "sessionId": SESSION,
        "timestamp": ts,
        "requestId": req,
        "isSidechain": sidechain,
        "uuid": f"u-{msg_id}-{ts}",
        "cwd": "/home/me/project",
        "message": {
            "id": msg_id,
            "model": model,
            "role": "assistant",
            "usage": usage,
            "content": content or [{"type": "text", "text": "I will look at the file."}],
        },
    }
    if cost is not None:
        line["costUSD"] = cost
    return line


def user_tool_result(ts: str, tool_use_id: str, is_error: bool = False) -> dict:
    return {
        "type": "user",
        "sessionId": SESSION,
        "timestamp": ts,
        "message": {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": tool_use_id,
                    "content": "file contents here",
                    "is_error": is_error,
                }
            ],
        },
    }


def write_transcript(folder: Path) -> Path:
    project = folder / "-home-me-project"
    project.mkdir(parents=True)
    lines = [
        {
            "type": "user",
            "sessionId": SESSION,
            "timestamp": "2025-11-20T10:00:00.000Z",
            "message": {"role": "user", "content": "Please fix the failing test"},
        },
        # Three streamed copies of one response: only the largest (the last) counts.
        assistant(
            "2025-11-20T10:00:05.000Z",
            "msg_1",
            "req_1",
            {"input_tokens": 4, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "output_tokens": 1},
        ),
        assistant(
            "2025-11-20T10:00:06.000Z",
            "msg_1",
            "req_1",
            {
                "input_tokens": 4,
                "cache_creation_input_tokens": 2_000,
                "cache_read_input_tokens": 15_000,
                "cache_creation": {"ephemeral_5m_input_tokens": 1_500, "ephemeral_1h_input_tokens": 500},
                "output_tokens": 120,
            },
            content=[{"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"command": "make check-all-xyz"}}],
        ),
        assistant(
            "2025-11-20T10:00:07.000Z",
            "msg_1",
            "req_1",
            {
                "input_tokens": 4,
                "cache_creation_input_tokens": 2_000,
                "cache_read_input_tokens": 15_000,
                "cache_creation": {"ephemeral_5m_input_tokens": 1_500, "ephemeral_1h_input_tokens": 500},
                "output_tokens": 350,
            },
        ),
        user_tool_result("2025-11-20T10:00:09.500Z", "toolu_1", is_error=True),
        # Claude Code's own message: not a request.
        assistant(
            "2025-11-20T10:00:10.000Z",
            "msg_syn",
            "req_syn",
            {"input_tokens": 0, "output_tokens": 0},
            model="<synthetic>",
        ),
        # A subagent turn.
        assistant(
            "2025-11-20T10:01:00.000Z",
            "msg_2",
            "req_2",
            {"input_tokens": 10, "cache_read_input_tokens": 8_000, "output_tokens": 200},
            model="claude-haiku-4-5-20251001",
            sidechain=True,
            cost=0.0123,
            content=[
                {
                    "type": "tool_use",
                    "id": "toolu_2",
                    "name": "TodoWrite",
                    "input": {
                        "todos": [
                            {"content": "Reproduce the failure", "status": "completed", "activeForm": "Reproducing"},
                            {"content": "Fix the parser", "status": "in_progress", "activeForm": "Fixing"},
                            {"content": "Add a regression test", "status": "pending", "activeForm": "Adding"},
                        ]
                    },
                }
            ],
        ),
        user_tool_result("2025-11-20T10:01:00.250Z", "toolu_2"),
    ]
    path = project / f"{SESSION}.jsonl"
    # A line cut short mid-write; lines that cannot hold usage or a tool result are
    # skipped unparsed, so only a broken line of interest counts as bad.
    broken = b'{"type": "assistant", "message": {"usage": {"input_tokens": 12'
    path.write_bytes(b"\n".join(orjson.dumps(line) for line in lines) + b"\n" + broken + b"\n{not json at all\n")
    return path


def read(folder: Path) -> dict:
    h = TokenHistory()
    open_source(f"claude:{folder}", h).poll()
    h.drain()
    return h.snapshot()


def test_a_session_row_names_its_project_source_tools_and_tickets(tmp_path):
    write_transcript(tmp_path)
    session = read(tmp_path)["sessions"][SESSION]
    assert {
        k: session[k] for k in ("project", "source", "state", "tool_calls", "tool_failures", "tickets_completed")
    } == {
        "project": "project",
        "source": "claude",
        "state": None,
        "tool_calls": 2,
        "tool_failures": 1,
        "tickets_completed": 1,
    }
    h = TokenHistory()
    open_source(f"claude:{tmp_path}", h).poll()
    h.drain()
    (row,) = h.session_rows()
    assert sorted(row["models"]) == ["claude-haiku-4-5-20251001", "claude-sonnet-4-5-20250929"]


def test_streamed_copies_count_once_keeping_the_largest(tmp_path):
    write_transcript(tmp_path)
    snap = read(tmp_path)
    sonnet = snap["by_model"]["claude-sonnet-4-5-20250929"]
    assert sonnet["requests"] == 1
    assert (sonnet["input_tokens"], sonnet["output_tokens"]) == (4, 350)
    assert (sonnet["cache_read_tokens"], sonnet["cache_write_tokens"], sonnet["cache_write_1h_tokens"]) == (
        15_000,
        2_000,
        500,
    )


def test_synthetic_lines_are_not_requests_and_sidechains_get_their_own_tier(tmp_path):
    write_transcript(tmp_path)
    snap = read(tmp_path)
    assert "<synthetic>" not in snap["by_model"]
    assert snap["totals"]["requests"] == 2
    assert snap["by_tier"]["subagent"]["models"] == ["claude-haiku-4-5-20251001"]
    assert snap["by_tier"]["main agent"]["requests"] == 1
    assert snap["by_model"]["claude-haiku-4-5-20251001"]["reported_cost_usd"] == pytest.approx(0.0123)
    assert list(snap["sessions"]) == [SESSION]


def test_tool_uses_pair_with_their_results_for_duration_and_failure(tmp_path):
    write_transcript(tmp_path)
    tools = read(tmp_path)["tools"]
    snap = read(tmp_path)
    assert tools["Bash"] == {
        "calls": 1,
        "failures": 1,
        "failure_rate_pct": 100.0,
        "total_ms": 3_500.0,
        "mean_ms": 3_500.0,
        "max_ms": 3_500.0,
        "turns": 1,
        "turn_tokens": 17_354,
        "turn_cost_usd": snap["by_model"]["claude-sonnet-4-5-20250929"]["cost_usd"],
        "unpriced_turns": 0,
    }
    assert tools["TodoWrite"]["calls"] == 1 and tools["TodoWrite"]["failures"] == 0
    assert tools["TodoWrite"]["mean_ms"] == 250.0


def test_cost_by_tool_charges_the_largest_copy_of_the_request_that_called_it(tmp_path):
    # msg_1's tool_use block is in its second streamed copy; the third, largest copy counts,
    # and it carries the tool gathered from the copies before it.
    write_transcript(tmp_path)
    snap = read(tmp_path)
    bash, todo = snap["tools"]["Bash"], snap["tools"]["TodoWrite"]
    assert (bash["turns"], bash["turn_tokens"]) == (1, 4 + 2_000 + 15_000 + 350)
    assert (todo["turns"], todo["turn_tokens"]) == (1, 10 + 8_000 + 200)
    assert todo["turn_cost_usd"] == snap["by_model"]["claude-haiku-4-5-20251001"]["cost_usd"]


def test_todowrite_inputs_become_tickets_without_keeping_their_text(tmp_path):
    write_transcript(tmp_path)
    tickets = read(tmp_path)["tickets"]
    assert tickets["by_status"] == {"todo": 1, "in_progress": 1, "blocked": 0, "completed": 1, "left_open": 0}
    assert list(tickets["tracks"]) == [SESSION]


def test_broken_lines_are_counted_and_no_text_reaches_the_state(tmp_path):
    path = write_transcript(tmp_path / "logs")
    h = TokenHistory(state_path=tmp_path / "state.toml")
    open_source(f"claude:{tmp_path / 'logs'}", h).poll()
    h.drain()
    assert (h.snapshot()["errors"]["bad_lines"], h.snapshot()["errors"]["files"]) == (1, {str(path): 1})
    h.save()
    saved = (tmp_path / "state.toml").read_text()
    for text in ("failing test", "Reproduce the failure", "file contents", "check-all-xyz"):
        assert text not in saved


def test_report_reads_a_claude_folder(tmp_path, capsys):
    write_transcript(tmp_path)
    assert main(["report", f"claude:{tmp_path}", "--format", "json"]) == 0
    snap = orjson.loads(capsys.readouterr().out)
    assert snap["totals"]["requests"] == 2 and snap["totals"]["cost_usd"] > 0


def test_no_default_claude_folder_is_a_one_line_error(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)
    with pytest.raises(SourceError, match="no Claude Code logs found"):
        open_source("claude", TokenHistory())


def test_claude_config_dir_is_searched_first(tmp_path, monkeypatch):
    write_transcript(tmp_path / "custom" / "projects")
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "custom"))
    monkeypatch.setenv("HOME", str(tmp_path / "nohome"))
    h = TokenHistory()
    open_source("claude", h).poll()
    h.drain()
    assert h.snapshot()["totals"]["requests"] == 2


def test_reading_across_processes_gives_the_same_report_as_one_process(tmp_path, monkeypatch):
    from session_insights.sources import base

    # Several sessions, a streamed request copied into a resumed session's file, a broken line.
    write_transcript(tmp_path / "a")
    for n in range(6):
        project = tmp_path / "a" / f"-home-me-p{n}"
        project.mkdir()
        # (Copies of one request share its time here: the first and last times of a span
        # count the copies a history has seen, and a process that never sees the smaller
        # copies would differ by those seconds.)
        lines = [
            assistant(
                f"2025-11-2{n}T10:00:0{k % 3}.000Z",
                f"msg_{n}_{k % 3}",
                f"req_{n}_{k % 3}",
                {"input_tokens": 10 + k, "output_tokens": 5 * k, "cache_read_input_tokens": 100},
            )
            for k in range(9)
        ]
        lines.append(
            assistant(
                "2025-11-20T10:00:07.000Z",
                "msg_1",
                "req_1",
                {
                    "input_tokens": 4,
                    "cache_creation_input_tokens": 2_000,
                    "cache_read_input_tokens": 15_000,
                    "output_tokens": 350,
                },
            )
        )
        (project / f"s{n}.jsonl").write_bytes(b"".join(orjson.dumps(x) + b"\n" for x in lines) + b'{"usage": {broken\n')
    serial = TokenHistory()
    open_source(f"claude:{tmp_path / 'a'}", serial).poll()
    serial.drain()
    monkeypatch.setattr(base, "PARALLEL_MIN_BYTES", 0)
    parallel = TokenHistory()
    source = open_source(f"claude:{tmp_path / 'a'}", parallel)
    # Whole files come back as parts, merged at once; those whose request another process
    # counted too (the copy above) are read again here, their records queued.
    assert source.read_all(workers=3) >= parallel.pending
    parallel.drain()
    a, b = serial.snapshot(now_ts=0), parallel.snapshot(now_ts=0)
    assert b == a
    assert b["totals"]["requests"] == 2 + 6 * 3
    assert b["errors"]["bad_lines"] == 1 + 6
    assert parallel.offsets == serial.offsets


def test_a_track_that_is_a_session_is_named_by_its_project_and_start(tmp_path):
    """Claude Code's todo lists are per session: the panel names the track by project,
    start and short id, never by the bare UUID."""
    from session_insights import formatting, views

    write_transcript(tmp_path)
    snap = read(tmp_path)
    (track,) = snap["tickets"]["tracks"]
    label = views.track_label(track, snap["sessions"])
    start = formatting.clock(snap["sessions"][SESSION]["first_ts"])
    assert label == f"project, {start} ({SESSION[:8]})"
    assert views.track_label("core", snap["sessions"]) == "core"


# --- prices a request's usage block asks for; todos a tool call really set ---------------

OPUS_4_8 = "claude-opus-4-8"  # genai-prices: $5 in / $25 out; fast mode $10 / $50
# 1,000 input, 10,000 cache reads, 2,000 5-minute and 1,000 1-hour cache writes, 100 out:
# standard 5,000 + 5,000 + 12,500 + 10,000 + 2,500 micro-dollars = $0.035; fast twice that.
COUNTS = {
    "input_tokens": 1_000,
    "cache_read_input_tokens": 10_000,
    "cache_creation_input_tokens": 3_000,
    "cache_creation": {"ephemeral_5m_input_tokens": 2_000, "ephemeral_1h_input_tokens": 1_000},
    "output_tokens": 100,
}


def write_lines(folder: Path, lines: list[dict]) -> None:
    project = folder / "-home-me-project"
    project.mkdir(parents=True)
    (project / f"{SESSION}.jsonl").write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))


def test_a_fast_mode_request_is_priced_at_the_fast_rate(tmp_path):
    write_lines(
        tmp_path,
        [
            assistant("2026-12-01T10:00:00.000Z", "msg_s", "req_s", {**COUNTS, "speed": "standard"}, model=OPUS_4_8),
            assistant("2026-12-01T10:01:00.000Z", "msg_f", "req_f", {**COUNTS, "speed": "fast"}, model=OPUS_4_8),
        ],
    )
    snap = read(tmp_path)
    assert snap["by_model"][OPUS_4_8]["requests"] == 2
    assert snap["by_model"][OPUS_4_8]["total_tokens"] == 2 * 14_100
    assert snap["by_model"][OPUS_4_8]["cost_usd"] == 0.105  # $0.035 standard + $0.07 fast
    assert snap["totals"]["cost_usd"] == 0.105  # $0.035 standard + $0.07 fast


def test_a_response_is_finished_once_its_line_names_why_it_stopped(tmp_path):
    # A streamed response's copies before its last have stop_reason null: a larger copy
    # may follow. The last names why the model stopped: none can.
    streamed = assistant("2026-12-01T10:00:00.000Z", "msg_a", "req_a", COUNTS)
    streamed["message"]["stop_reason"] = None
    stopped = assistant("2026-12-01T10:00:05.000Z", "msg_b", "req_b", COUNTS)
    stopped["message"]["stop_reason"] = "end_turn"
    write_lines(tmp_path, [streamed, stopped, assistant("2026-12-01T10:00:09.000Z", "msg_c", "req_c", COUNTS)])
    h = TokenHistory()
    open_source(f"claude:{tmp_path}", h).poll()
    h.drain()
    assert {key: ev.finished for key, ev in h._held.items()} == {
        "msg_a:req_a": False,
        "msg_b:req_b": True,
        "msg_c:req_c": False,  # no stop_reason at all: it may still grow
    }


def test_a_model_used_only_in_fast_mode_names_where_its_price_comes_from(tmp_path):
    write_lines(
        tmp_path,
        [assistant("2026-12-01T10:01:00.000Z", "msg_f", "req_f", {**COUNTS, "speed": "fast"}, model=OPUS_4_8)],
    )
    row = read(tmp_path)["by_model"][OPUS_4_8]
    assert (row["cost_usd"], row["price_source"]) == (0.07, "genai-prices")


def test_web_searches_are_billed_per_search_in_totals_and_by_model(tmp_path):
    # Anthropic bills $10 per 1,000 web searches: three are $0.03 over the tokens' $0.035.
    searches = {"server_tool_use": {"web_search_requests": 3, "web_fetch_requests": 2}}
    write_lines(
        tmp_path,
        [assistant("2026-12-01T10:00:00.000Z", "msg_w", "req_w", {**COUNTS, **searches}, model=OPUS_4_8)],
    )
    snap = read(tmp_path)
    assert snap["by_model"][OPUS_4_8]["cost_usd"] == 0.065
    assert snap["totals"]["cost_usd"] == 0.065
    assert snap["totals"]["total_tokens"] == 14_100


def test_a_web_search_count_that_is_not_a_whole_number_makes_the_line_bad(tmp_path):
    searches = {"server_tool_use": {"web_search_requests": "3"}}
    write_lines(tmp_path, [assistant("2026-12-01T10:00:00.000Z", "msg_w", "req_w", {**COUNTS, **searches})])
    snap = read(tmp_path)
    assert snap["totals"]["requests"] == 0
    assert snap["errors"]["bad_lines"] == 1


def todo_write(tool_id: str, todos: list[dict]) -> list[dict]:
    return [{"type": "tool_use", "id": tool_id, "name": "TodoWrite", "input": {"todos": todos}}]


def test_a_todowrite_call_the_tool_rejected_makes_no_tickets(tmp_path):
    # The CLI rejects a todo without activeForm: that call set neither todo.
    rejected = todo_write(
        "toolu_bad",
        [{"content": "Write the parser", "status": "completed"}, {"content": "Ship it", "status": "pending"}],
    )
    taken = todo_write(
        "toolu_good",
        [
            {"content": "Write the parser", "status": "in_progress", "activeForm": "Writing"},
            {"content": "Add a test", "status": "pending", "activeForm": "Adding"},
        ],
    )
    write_lines(
        tmp_path,
        [
            assistant("2026-12-01T10:00:00.000Z", "msg_1", "req_1", COUNTS, content=rejected),
            user_tool_result("2026-12-01T10:00:01.000Z", "toolu_bad", is_error=True),
            assistant("2026-12-01T10:00:02.000Z", "msg_2", "req_2", COUNTS, content=taken),
            user_tool_result("2026-12-01T10:00:03.000Z", "toolu_good"),
        ],
    )
    snap = read(tmp_path)
    assert snap["tickets"]["by_status"] == {"todo": 1, "in_progress": 1, "blocked": 0, "completed": 0, "left_open": 0}
    assert snap["tools"]["TodoWrite"]["calls"] == 2 and snap["tools"]["TodoWrite"]["failures"] == 1


# A session of the real Claude Code CLI (2.1.197, `claude -p ... --model claude-opus-4-8`,
# CLAUDE_CODE_ENABLE_TASKS=0 so it offers TodoWrite) against the mock Messages API beside
# the transcript (mock_messages_api.py, on 127.0.0.1, scratch HOME). Its three requests:
#   1. fast, 2 web searches, 1,200 in, 20,000 cache read, 1,000 5m + 2,000 1h writes, 500 out;
#      a TodoWrite call ("Ship the release") without activeForm, which the CLI rejected.
#   2. standard, 50 in, 24,000 read, 600 5m writes, 300 out; a TodoWrite call it took.
#   3. fast, 1 web search, 30 in, 25,000 read, 400 1h writes, 120 out; "Done."
# The CLI's own bill (claude_result.json, total_cost_usd) is $0.2023: 0.1295 + 0.0235 +
# 0.0493. Priced at the standard rate without searches it was $0.0979.
REAL = Path(__file__).parent / "fixtures" / "claude" / "fast_search_todo"


def test_a_real_claude_code_session_costs_what_claude_code_billed(tmp_path):
    billed = orjson.loads((REAL / "claude_result.json").read_bytes())
    snap = read(REAL / "projects")
    totals = snap["totals"]
    assert (totals["requests"], totals["input_tokens"], totals["output_tokens"]) == (3, 1_280, 920)
    assert (totals["cache_read_tokens"], totals["cache_write_tokens"]) == (69_000, 4_000)
    assert snap["by_model"]["claude-opus-4-8"]["cache_write_1h_tokens"] == 2_400
    assert totals["cost_usd"] == 0.2023
    assert totals["cost_usd"] == pytest.approx(billed["total_cost_usd"], abs=1e-12)
    assert snap["by_model"]["claude-opus-4-8"]["cost_usd"] == 0.2023


def test_a_real_claude_code_session_makes_tickets_only_from_the_todowrite_it_took(tmp_path):
    snap = read(REAL / "projects")
    assert snap["tickets"]["by_status"] == {"todo": 1, "in_progress": 1, "blocked": 0, "completed": 0, "left_open": 0}
    assert snap["tools"]["TodoWrite"]["calls"] == 2 and snap["tools"]["TodoWrite"]["failures"] == 1


def test_a_real_session_read_in_byte_ranges_gives_the_same_tickets_and_cost(tmp_path, monkeypatch):
    from session_insights.sources import base, parallel

    serial = read(REAL / "projects")
    monkeypatch.setattr(base, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(parallel, "MIN_RANGE_BYTES", 1_000)  # the 13 KB transcript in three ranges
    h = TokenHistory()
    open_source(f"claude:{REAL / 'projects'}", h).read_all(workers=3)
    h.drain()
    parallel = h.snapshot()
    assert parallel["tickets"]["by_status"] == serial["tickets"]["by_status"]
    assert parallel["totals"]["cost_usd"] == serial["totals"]["cost_usd"] == 0.2023


# A real Claude Code session (CLI 2.1.197 against the mock Messages API beside it, see
# fixtures/claude/subagent/README.md): the main agent called `Agent`, and the subagent's
# transcript went to <session>/subagents/agent-*.jsonl. Requests: main 100 in, 10,000 read,
# 2,000 5m writes, 200 out ($0.023); subagent 300 in, 4,000 5m + 1,000 1h writes, 400 out
# ($0.0465); main 50 in, 12,000 read, 500 5m writes, 80 out ($0.011375).
SUBAGENT = Path(__file__).parent / "fixtures" / "claude" / "subagent"


def test_a_real_subagent_transcript_counts_as_the_subagent_tier_and_costs_what_was_billed(capsys):
    billed = orjson.loads((SUBAGENT / "claude_result.json").read_bytes())
    assert main(["report", f"claude:{SUBAGENT / 'projects'}", "--no-history", "--format", "json"]) == 0
    report = orjson.loads(capsys.readouterr().out)
    totals = report["totals"]
    assert (totals["requests"], totals["input_tokens"], totals["output_tokens"]) == (3, 450, 680)
    assert (totals["cache_read_tokens"], totals["cache_write_tokens"], totals["cache_write_1h_tokens"]) == (
        22_000,
        7_500,
        1_000,
    )
    assert totals["cost_usd"] == 0.080875 == billed["total_cost_usd"]
    sub, top = report["by_tier"]["subagent"], report["by_tier"]["main agent"]
    assert (sub["requests"], sub["input_tokens"], sub["cache_write_tokens"], sub["output_tokens"]) == (
        1,
        300,
        5_000,
        400,
    )
    assert (sub["cost_usd"], top["requests"], top["cost_usd"]) == (0.0465, 2, 0.034375)
    explained = report["provenance"]["sources"]["claude"]
    assert (explained["files_read"], explained["usage_lines_read"], explained["requests"]) == (2, 3, 3)
    assert (explained["duplicate_copies"], explained["bad_lines"]) == (0, 0)


def test_a_compactions_tokens_the_top_level_usage_leaves_out_are_counted_and_priced(tmp_path):
    # Anthropic's usage.iterations: a compaction entry's tokens are not in the top-level
    # fields (the SDK's BetaUsage says so), yet they are billed at the model's rates.
    compaction = {
        "type": "compaction",
        "input_tokens": 2_000,
        "cache_read_input_tokens": 1_000,
        "cache_creation_input_tokens": 500,
        "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 500},
        "output_tokens": 300,
    }
    message = {"type": "message", **{k: COUNTS[k] for k in ("input_tokens", "cache_read_input_tokens")}}
    usage = {**COUNTS, "iterations": [compaction, message]}
    write_lines(tmp_path, [assistant("2026-12-01T10:00:00.000Z", "msg_c", "req_c", usage, model=OPUS_4_8)])
    row = read(tmp_path)["by_model"][OPUS_4_8]
    kinds = ("input_tokens", "cache_read_tokens", "cache_write_tokens", "cache_write_1h_tokens", "output_tokens")
    assert tuple(row[k] for k in kinds) == (3_000, 11_000, 3_500, 1_500, 400)
    # $0.035 as before, + 2,000 x $5 + 1,000 x $0.5 + 500 x $10 + 300 x $25 a million
    assert row["cost_usd"] == 0.058


def write_projects(root: Path, projects: int, requests: int) -> list[Path]:
    """A transcript of ``requests`` requests in each of ``projects`` project folders."""
    paths = []
    for n in range(projects):
        project = root / f"-home-me-p{n}"
        project.mkdir(parents=True)
        usage = lambda k: {"input_tokens": 10 + k, "output_tokens": 5}  # noqa: E731
        lines = [
            assistant(f"2025-11-2{n}T10:00:0{k}.000Z", f"msg_{n}_{k}", f"req_{n}_{k}", usage(k))
            for k in range(requests)
        ]
        paths.append(project / f"s{n}.jsonl")
        paths[-1].write_bytes(b"".join(orjson.dumps(x) + b"\n" for x in lines))
    return paths


def test_files_read_apart_come_back_as_parts_with_the_totals_of_one_process(tmp_path, monkeypatch):
    # Each process counts its files into parts of its own and hands those over, not its
    # records: nothing is left to apply here, and every figure is a sequential read's,
    # prices overridden as here.
    from session_insights.sources import base

    write_projects(tmp_path / "a", 6, 4)
    overrides = {"claude-sonnet-4-5-20250929": {"input_mtok": 1.0, "output_mtok": 2.0}}
    serial = TokenHistory(price_overrides=overrides)
    open_source(f"claude:{tmp_path / 'a'}", serial).poll()
    serial.drain()
    monkeypatch.setattr(base, "PARALLEL_MIN_BYTES", 0)
    parallel = TokenHistory(price_overrides=overrides)
    assert open_source(f"claude:{tmp_path / 'a'}", parallel).read_all(workers=3) > 0
    assert parallel.pending == 0
    assert parallel.snapshot(now_ts=0) == serial.snapshot(now_ts=0)
    assert parallel.offsets == serial.offsets


def test_a_request_counted_before_a_restart_is_not_counted_again_by_a_parallel_read(tmp_path, monkeypatch):
    from session_insights.sources import base

    project = tmp_path / "a" / "-home-me-p0"
    project.mkdir(parents=True)
    first = [
        assistant(f"2025-11-20T10:00:0{k}.000Z", f"msg_{k}", f"req_{k}", {"input_tokens": 100, "output_tokens": 5})
        for k in range(3)
    ]
    (project / "s0.jsonl").write_bytes(b"".join(orjson.dumps(x) + b"\n" for x in first))
    state = tmp_path / "state" / "state.toml"
    h = TokenHistory(state_path=state)
    open_source(f"claude:{tmp_path / 'a'}", h).poll()
    h.drain()
    h.save()
    h.close()
    # A resumed session elsewhere repeats those requests and adds two of its own.
    other = tmp_path / "a" / "-home-me-p1"
    other.mkdir()
    more = [
        *first,
        *(
            assistant(f"2025-11-21T10:00:0{k}.000Z", f"msg_n{k}", f"req_n{k}", {"input_tokens": 7, "output_tokens": 1})
            for k in range(2)
        ),
    ]
    (other / "s1.jsonl").write_bytes(b"".join(orjson.dumps(x) + b"\n" for x in more))
    (other / "s2.jsonl").write_bytes(orjson.dumps(more[-1]) + b"\n")
    monkeypatch.setattr(base, "PARALLEL_MIN_BYTES", 0)
    again = TokenHistory(state_path=state, read_only=True)
    open_source(f"claude:{tmp_path / 'a'}", again).read_all(workers=2)
    again.drain()
    totals = again.snapshot()["totals"]
    assert totals["requests"] == 5
    assert totals["input_tokens"] == 3 * 100 + 2 * 7


def test_web_searches_are_counted_by_model_and_named_in_the_explanation():
    snap = read(REAL / "projects")  # requests 1 and 3: 2 and 1 searches, streamed copies counted once
    assert (snap["by_model"][OPUS_4_8]["web_searches"], snap["totals"]["web_searches"]) == (3, 3)
    assert f"Web searches, billed per search and in the costs: {OPUS_4_8} 3." in render(snap, "text", explain=True)


def test_a_state_saved_before_web_searches_were_counted_loads_with_none(tmp_path):
    state = tmp_path / "state.toml"
    h = TokenHistory(state_path=state)
    h.record_usage(OPUS_4_8, 100, 10, ts=1_796_000_000.0, session="s")
    h.drain()
    h.save()
    h.close()
    data = tomllib.loads(state.read_text())
    for row in data["usage"]:
        row["counts"] = row["counts"][:-1]  # eleven counters, as saved before
    state.write_text(tomli_w.dumps(data))
    again = TokenHistory(state_path=state)
    assert (again.snapshot()["totals"]["requests"], again.snapshot()["totals"]["web_searches"]) == (1, 0)
    assert not again.notices


def test_a_tool_call_copied_into_a_resumed_session_counts_once(tmp_path):
    # A resumed session's file starts with a copy of the conversation it resumes: the
    # tool_use and its tool_result come again, with the same id.
    project = tmp_path / "projects" / "-home-me-project"
    project.mkdir(parents=True)
    use = assistant(
        "2025-11-20T10:00:00.000Z",
        "msg_t",
        "req_t",
        {"input_tokens": 10, "output_tokens": 5},
        content=[{"type": "tool_use", "id": "toolu_copied", "name": "Bash", "input": {"command": "ls"}}],
    )
    lines = [use, user_tool_result("2025-11-20T10:00:02.000Z", "toolu_copied")]
    for name in ("first.jsonl", "resumed.jsonl"):
        (project / name).write_bytes(b"".join(orjson.dumps(x) + b"\n" for x in lines))
    h = TokenHistory()
    open_source(f"claude:{tmp_path / 'projects'}", h).poll()
    h.drain()
    snap = h.snapshot()
    assert snap["tools"]["Bash"]["calls"] == 1
    assert snap["totals"]["requests"] == 1


def test_the_windows_backlog_is_read_in_processes_and_a_live_file_is_tailed_with_its_context(tmp_path, monkeypatch):
    # At start the window reads the files no one writes any more in worker processes and
    # merges their parts; the file being written is left to poll(), so a tool call open
    # at its end pairs with the result written next. Totals are a sequential read's.
    import os

    from session_insights.sources import base
    from session_insights.workers import SourcePoller

    monkeypatch.setattr(base, "PARALLEL_MIN_BYTES", 0)
    for path in write_projects(tmp_path / "projects", 4, 3):
        os.utime(path, (1_700_000_000, 1_700_000_000))  # no one has written them for years
    live = tmp_path / "projects" / "-home-me-p0" / "live.jsonl"
    use = assistant(
        "2025-11-29T10:00:00.000Z",
        "msg_live",
        "req_live",
        {"input_tokens": 7, "output_tokens": 1},
        content=[{"type": "tool_use", "id": "toolu_live", "name": "Bash", "input": {"command": "ls"}}],
    )
    live.write_bytes(orjson.dumps(use) + b"\n")
    h = TokenHistory()
    poller = SourcePoller([open_source(f"claude:{tmp_path / 'projects'}", h)], backlog_idle_s=600)
    poller.read_backlog()
    assert h.pending == 0 and h.snapshot()["totals"]["requests"] == 12  # merged as parts
    assert str(live) not in h.offsets
    poller.poll_once()
    with live.open("ab") as f:
        f.write(orjson.dumps(user_tool_result("2025-11-29T10:00:03.000Z", "toolu_live")) + b"\n")
    poller.poll_once()
    h.drain()
    serial = TokenHistory()
    open_source(f"claude:{tmp_path / 'projects'}", serial).poll()
    serial.drain()
    assert h.snapshot(now_ts=0)["totals"] == serial.snapshot(now_ts=0)["totals"]
    assert h.snapshot()["tools"]["Bash"]["calls"] == 1


def _read_job_noting_pid(*args):
    """parallel._read_job, each findings naming the process that read it (module level:
    the pool pickles it by name)."""
    import os

    from session_insights.sources.parallel import _read

    module, label, pieces, overrides = args
    found = _read(module, label, pieces, overrides, hand_over=True)
    return [(None, {**found, "pid": os.getpid()})]


def test_every_job_of_a_parallel_read_is_read_in_a_process_of_its_own(tmp_path, monkeypatch):
    # This process only merges what the workers hand over: reading a job here too would
    # leave that job's look-ups (65,536 requests kept whole) beside the merged parts.
    import os

    from session_insights.sources import base, parallel

    read_in: list[int] = []

    def absorb(source, results, module, overrides):
        results = list(results)
        read_in.extend(found.pop("pid") for _, found in results)
        return real_absorb(source, iter(results), module, overrides)

    real_absorb = parallel._absorb
    monkeypatch.setattr(parallel, "_read_job", _read_job_noting_pid)
    monkeypatch.setattr(parallel, "_absorb", absorb)
    monkeypatch.setattr(base, "PARALLEL_MIN_BYTES", 0)
    write_projects(tmp_path / "a", 4, 3)
    h = TokenHistory()
    assert open_source(f"claude:{tmp_path / 'a'}", h).read_all(workers=2) > 0
    assert len(read_in) == 2 and os.getpid() not in read_in
    assert h.snapshot(now_ts=0)["totals"]["requests"] == 12


def test_requests_of_one_session_share_one_copy_of_its_labels(tmp_path):
    from session_insights.events import UsageEvent

    # The history keeps 65,536 requests whole for their copies: each must not hold its
    # own copy of the session id, the model and the tool names.
    tool = [{"type": "tool_use", "id": "t", "name": "Bash", "input": {}}]
    usage = {"input_tokens": 10, "output_tokens": 5}
    lines = [
        assistant(f"2025-11-20T10:00:0{k}.000Z", f"msg_{k}", f"req_{k}", usage, content=[{**tool[0], "id": f"t{k}"}])
        for k in range(3)
    ]
    write_lines(tmp_path / "p", lines)
    h = TokenHistory()
    open_source(f"claude:{tmp_path / 'p'}", h).poll()
    events = [ev for _, records, _ in h._reads_inbox for ev in records if type(ev) is UsageEvent]
    assert len(events) == 3
    for attr in ("session", "model", "tools"):
        assert len({id(getattr(ev, attr)) for ev in events}) == 1, attr


def test_a_tool_use_without_a_usable_name_is_a_bad_line_however_often_names_repeat(tmp_path):
    def turn(i: int, name) -> dict:
        content = [{"type": "tool_use", "id": f"toolu_{i}", "name": name, "input": {}}]
        return assistant(
            f"2026-11-20T10:00:{i:02d}.000Z", f"msg_{i}", f"req_{i}", {"input_tokens": 10}, content=content
        )

    names = ["Read", "Read", "", ["Read"], "   ", 7, "Read"]
    write_lines(tmp_path, [turn(i, name) for i, name in enumerate(names)])
    h = TokenHistory()
    open_source(f"claude:{tmp_path}", h).poll()
    h.drain()
    snap = h.snapshot()
    assert snap["totals"]["requests"] == 3  # the three lines whose tool is named
    assert snap["errors"]["bad_lines"] == 4
    assert set(h.bad_reasons) == {"tool_use name must be a non-empty string"}
