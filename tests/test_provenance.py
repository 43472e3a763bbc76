"""How a figure was counted (``provenance``, ``report --explain``): per source the sessions
and requests counted and what de-duplication left out, the requests no price list knows,
and the cost an agent wrote beside ours."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest

from session_insights import cli
from session_insights.history import TokenHistory
from session_insights.scope import Scope
from session_insights.sources import open_source
from tests.test_scope_agree import assistant

TS = 1_763_974_800.0


def test_streamed_copies_count_once_and_say_how_many_were_left_out():
    h = TokenHistory()
    for output in (1, 50, 120):  # three streamed copies of one request, largest last
        h.record_usage("claude-sonnet-4-5", 100, output, ts=TS, session="s", request_key="msg_1:req_1")
    h.record_usage("acme-local-7b", 1_000, 10, ts=TS + 5, session="s")
    h.drain()
    prov = h.snapshot()["provenance"]
    assert prov["sources"]["host"] == {
        "sessions": 1,
        "requests": 2,
        "total_tokens": 220 + 1_010,
        "files_read": 0,  # through the hooks: no file
        "lines_read": 0,
        "usage_lines_read": 0,
        "duplicate_copies": 2,
        "counted_before_restart": 0,
        "bad_lines": 0,
        "files_not_read": 0,
    }
    assert prov["unpriced"] == {"acme-local-7b": {"requests": 1, "total_tokens": 1_010}}


def test_copies_of_requests_counted_before_a_restart_are_counted_there(tmp_path):
    path = tmp_path / "state.toml"
    h = TokenHistory(state_path=path)
    for i in range(300):  # more than state.toml keeps in full: the first ones only as keys
        h.record_usage("gpt-4o", 100, 10, ts=TS + i, session="a", request_key=f"r{i}")
    h.drain()
    h.save()
    h.close()
    again = TokenHistory(state_path=path)
    # a resumed session copies the first requests into a file of its own
    for i in range(3):
        again.record_usage("gpt-4o", 100, 10, ts=TS + i, session="b", request_key=f"r{i}")
    again.drain()
    host = again.snapshot()["provenance"]["sources"]["host"]
    assert (host["requests"], host["counted_before_restart"], host["duplicate_copies"]) == (300, 3, 0)
    again.save()
    again.close()
    assert TokenHistory(state_path=path).snapshot()["provenance"]["sources"]["host"]["counted_before_restart"] == 3


def test_the_cost_an_agent_wrote_stands_beside_ours():
    h = TokenHistory()
    h.record_usage("claude-sonnet-4-5", 100_000, 0, ts=TS, session="s", reported_cost_usd=0.35)
    h.drain()
    [(model, cost)] = h.snapshot()["provenance"]["agent_cost"].items()
    assert model == "claude-sonnet-4-5"
    assert (cost["agent_usd"], cost["ours_usd"]) == (0.35, 0.3)  # $3 per million input tokens
    assert abs(cost["difference_usd"] - (-0.05)) < 1e-9


def test_a_scope_counts_its_own_sessions_and_requests():
    h = TokenHistory()
    h.record_usage("gpt-4o", 100, 10, ts=TS, session="a")
    h.record_usage("gpt-4o", 100, 10, ts=TS + 60, session="b")
    h.drain()
    assert h.snapshot(scope=Scope("active"))["provenance"]["sources"]["host"]["sessions"] == 1
    assert h.snapshot()["provenance"]["sources"]["host"]["sessions"] == 2


def claude_log(root, n_files: int = 1):
    folder = root / "projects" / "-home-me-project"
    folder.mkdir(parents=True)
    for i in range(n_files):
        lines = [assistant(f"s-{i}", TS, 0, 1_000), assistant(f"s-{i}", TS, 0, 1_000)]
        lines.append(assistant(f"s-{i}", TS + 60, 1, 2_000))
        cut_short = b'{"type": "assistant", "message": {"usage": {"input_tokens": 12'  # a usage line cut short
        body = b"\n".join(orjson.dumps(line) for line in lines) + b"\n" + cut_short + b"\n"
        (folder / f"s-{i}.jsonl").write_bytes(body)
    return root / "projects"


def test_report_explain_prints_how_a_claude_log_was_counted(tmp_path, capsys):
    projects = claude_log(tmp_path)
    assert cli.main(["report", f"claude:{projects}", "--no-history", "--explain"]) == 0
    out = capsys.readouterr().out
    header, _, row = out[out.index("How this was counted") :].splitlines()[1:4]
    assert header.split()[:4] == ["Source", "Sessions", "Requests", "Total"]
    # 1 file of 4 lines, 3 usage lines for 2 requests: 1 copy counted once; 1 line cut short
    assert row.split() == ["claude", "1", "2", "5,200", "1", "4", "3", "1", "0", "1", "0"]
    assert cli.main(["report", f"claude:{projects}", "--no-history", "--format", "json"]) == 0
    prov = json.loads(capsys.readouterr().out)["provenance"]
    assert prov["sources"]["claude"]["duplicate_copies"] == 1
    assert prov["bad_reasons"] == [{"source": "claude", "reason": "not valid JSON", "lines": 1}]
    reasons = out[out.index("\nBad lines by reason\n") + 1 :].splitlines()
    assert reasons[3].split() == ["claude", "not", "valid", "JSON", "1"]


def test_a_folder_read_by_several_processes_is_explained_as_one_read_in_one(tmp_path, monkeypatch):
    from session_insights.sources import base

    projects = claude_log(tmp_path, n_files=6)
    explained = []
    for workers in (1, 3):  # one process, then three (whatever the folder's size)
        monkeypatch.setattr(base, "PARALLEL_MIN_BYTES", 0)
        h = TokenHistory()
        source = open_source(f"claude:{projects}", h)
        source.read_all(workers=workers)
        h.drain()
        explained.append(h.snapshot()["provenance"]["sources"]["claude"])
    assert explained[0] == explained[1]
    assert explained[0]["files_read"] == 6 and explained[0]["usage_lines_read"] == 18
    assert explained[0]["duplicate_copies"] == 6 and explained[0]["bad_lines"] == 6
    assert [h.snapshot()["provenance"]["bad_reasons"]] == [
        [{"source": "claude", "reason": "not valid JSON", "lines": 6}]
    ]


def test_a_fast_requests_larger_copy_after_a_restart_replaces_it_at_the_fast_price(tmp_path):
    # The copy kept in state.toml keeps what its price depends on (Claude's fast mode, web
    # searches), so taking it back after a restart takes back what it cost.
    from session_insights.events import UsageEvent

    def copy(output: int) -> UsageEvent:
        return UsageEvent(
            TS, "claude-opus-4-6", "anthropic", 1_000, 0, 0, 0, output, 0, None, "s", "claude", "msg_1:req_1",
            None, None, 0, (("speed", "fast"),), (("web_searches", 2),),
        )  # fmt: skip

    path = tmp_path / "state.toml"
    h = TokenHistory(state_path=path)
    h.add(copy(10))
    h.drain()
    h.save()
    h.close()
    again = TokenHistory(state_path=path)
    again.add(copy(500))
    again.drain()
    fresh = TokenHistory()
    fresh.add(copy(500))
    fresh.drain()
    assert again.snapshot()["totals"] == fresh.snapshot()["totals"]


# The genuine fixtures, as their CLIs wrote them (see each folder's README): what was read,
# and the copies of a request counted once, explained for each.
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.mark.parametrize(
    ("spec", "source", "files", "usage_lines", "requests", "copies"),
    [
        # one usage line per response
        ("claude:claude/fast_search_todo/projects", "claude", 1, 3, 3, 0),
        # Codex writes each response's usage twice: a token_usage_record, then the
        # token_count that repeats it
        ("codex:codex/cache-writes-and-tool-failures", "codex", 2, 6, 3, 3),
        ("codex:codex/spawn-fork", "codex", 2, 8, 4, 4),
        # a resume appends its responses to the first run's rollout
        ("codex:codex/resume", "codex", 1, 6, 3, 3),
        # the subagent's transcript under <session>/subagents/
        ("claude:claude/subagent/projects", "claude", 2, 3, 3, 0),
        ("gemini:gemini", "gemini", 2, 2, 2, 0),
        # the Anthropic SDK and OpenLLMetry both traced the one call
        ("otel:otel/anthropic-sdk-and-openllmetry.jsonl", "otel", 1, 2, 1, 1),
        # opentelemetry-instrumentation-google-genai: one span per call
        ("otel:otel/google-genai.jsonl", "otel", 1, 2, 2, 0),
    ],
)
def test_the_genuine_fixtures_explain_what_was_read_and_counted_once(
    spec, source, files, usage_lines, requests, copies, capsys
):
    kind, _, path = spec.partition(":")
    assert cli.main(["report", f"{kind}:{FIXTURES / path}", "--no-history", "--format", "json"]) == 0
    explained = json.loads(capsys.readouterr().out)["provenance"]["sources"][source]
    assert explained["files_read"] == files
    assert explained["usage_lines_read"] == usage_lines
    assert explained["requests"] == requests
    assert explained["duplicate_copies"] == copies
    assert explained["bad_lines"] == 0


def test_what_was_read_is_kept_across_a_restart_and_a_file_counts_once(tmp_path):
    projects = claude_log(tmp_path / "logs", n_files=2)
    path = tmp_path / "state.toml"
    for restart in range(2):
        h = TokenHistory(state_path=path)
        if restart:  # a new line in one log, read after the restart
            log = next(projects.rglob("s-0.jsonl"))
            with log.open("ab") as f:
                f.write(orjson.dumps(assistant("s-0", TS + 120, 2, 3_000)) + b"\n")
        open_source(f"claude:{projects}", h).poll()
        h.drain()
        h.save()
        explained = h.snapshot()["provenance"]["sources"]["claude"]
        h.close()
    assert explained["files_read"] == 2
    assert explained["usage_lines_read"] == 2 * 3 + 1
    assert explained["requests"] == 2 * 2 + 1


def test_a_file_not_read_is_named_with_why_in_the_explanation(tmp_path, capsys):
    projects = claude_log(tmp_path)
    (projects / "-home-me-project" / "gone.jsonl").symlink_to(tmp_path / "nowhere.jsonl")
    assert cli.main(["report", f"claude:{projects}", "--no-history", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    prov = report["provenance"]
    assert prov["sources"]["claude"]["files_not_read"] == 1
    [skipped] = prov["not_read"]
    assert skipped["source"] == "claude" and skipped["file"].endswith("gone.jsonl")
    assert skipped["why"] == "No such file or directory"
    assert any("cannot read" in n and "gone.jsonl" in n for n in report["notices"])  # a notice, as before
    assert cli.main(["report", f"claude:{projects}", "--no-history", "--explain"]) == 0
    out = capsys.readouterr().out
    table = out[out.index("\nFiles not read\n") + 1 :].splitlines()
    assert table[3].split()[0] == "claude" and table[3].rstrip().endswith("No such file or directory")
