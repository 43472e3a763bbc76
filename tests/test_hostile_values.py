"""Hostile values in logs and at the host API: a value out of range, a name that cannot
be saved or that would drive a terminal, a shape that carried usage. Each is refused
where it enters (a counted bad line, or ValueError naming the field), never a traceback
later at drain, save or report; and whatever a line holds, parsing raises nothing but
BAD_LINE, and the good lines around a bad one count exactly as they would alone.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from session_insights import hooks, report
from session_insights.cli import main
from session_insights.events import MAX_TS, MIN_TS, usage_event
from session_insights.formatting import printable
from session_insights.history import TokenHistory
from session_insights.sources import open_source
from session_insights.sources.base import BAD_LINE

T0 = 1_763_632_800.0  # 2025-11-20T10:00:00Z
ISO0 = "2025-11-20T10:00:00.000Z"
YEAR_10000 = "9999-12-31T23:59:59-23:59"  # its UTC day is 10000-01-01
YEAR_10000_TS = 253_402_387_139.0


def iso(s: float) -> str:
    return f"2025-11-20T10:{int(s) // 60:02d}:{int(s) % 60:02d}.000Z"


def jsonl(*lines: dict | bytes) -> bytes:
    return b"".join((line if isinstance(line, bytes) else orjson.dumps(line)) + b"\n" for line in lines)


def read(spec: str, history: TokenHistory | None = None) -> dict:
    h = history or TokenHistory()
    open_source(spec, h).poll()
    h.drain()
    return h.snapshot()


def render_all(snap: dict) -> None:
    """Every report format of a snapshot, as ``report`` prints them."""
    for name in report.FORMATS:
        report.render(snap, name)


# --- valid lines of each source, and where each source's files go --------------------------


def claude_usage(s: float, n: int, inp: int = 100, out: int = 20, content: list | None = None) -> dict:
    return {
        "type": "assistant",
        "timestamp": iso(s),
        "sessionId": "s1",
        "requestId": f"req_{n}",
        "cwd": "/home/me/shop",
        "isSidechain": False,
        "message": {
            "id": f"msg_{n}",
            "model": "claude-sonnet-4-5",
            "role": "assistant",
            "content": content or [{"type": "text", "text": "done"}],
            "usage": {
                "input_tokens": inp,
                "output_tokens": out,
                "cache_read_input_tokens": 10,
                "cache_creation_input_tokens": 5,
            },
        },
    }


def claude_result(s: float, use_id: str) -> dict:
    return {
        "type": "user",
        "timestamp": iso(s),
        "sessionId": "s1",
        "message": {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": use_id, "content": "ok", "is_error": False}],
        },
    }


def codex_head() -> list[dict]:
    return [
        {"timestamp": iso(0), "type": "session_meta", "payload": {"id": "cx-1", "cwd": "/home/me/shop"}},
        {"timestamp": iso(1), "type": "turn_context", "payload": {"model": "gpt-5"}},
    ]


def codex_tokens(s: float, inp: int, cached: int, out: int) -> dict:
    usage = {
        "input_tokens": inp,
        "cached_input_tokens": cached,
        "output_tokens": out,
        "reasoning_output_tokens": 0,
        "total_tokens": inp + out,
    }
    return {
        "timestamp": iso(s),
        "type": "event_msg",
        "payload": {"type": "token_count", "info": {"total_token_usage": usage}, "rate_limits": None},
    }


def codex_call(s: float, call_id: str, name: str = "shell", arguments: str = "{}") -> dict:
    return {
        "timestamp": iso(s),
        "type": "response_item",
        "payload": {"type": "function_call", "name": name, "arguments": arguments, "call_id": call_id},
    }


def codex_output(s: float, call_id: str, output: str) -> dict:
    return {
        "timestamp": iso(s),
        "type": "response_item",
        "payload": {"type": "function_call_output", "call_id": call_id, "output": output},
    }


def gemini_meta() -> dict:
    return {"sessionId": "g-1", "projectHash": "abc", "startTime": ISO0, "lastUpdated": ISO0}


def gemini_message(s: float, msg_id: str, inp: int = 1_000, out: int = 100, **extra) -> dict:
    return {
        "id": msg_id,
        "timestamp": iso(s),
        "type": "gemini",
        "content": "reply",
        "model": "gemini-2.5-pro",
        "tokens": {"input": inp, "output": out, "cached": 0, "thoughts": 0, "tool": 0, "total": inp + out},
        **extra,
    }


def otel_span(span_id: str, start_ns: object, end_ns: object, inp: int = 1_000, out: int = 100) -> dict:
    attrs = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.response.model": "gpt-4o",
        "gen_ai.usage.input_tokens": str(inp),
        "gen_ai.usage.output_tokens": str(out),
    }
    return {
        "traceId": "t" * 32,
        "spanId": span_id,
        "name": "chat gpt-4o",
        "kind": 3,
        "startTimeUnixNano": start_ns,
        "endTimeUnixNano": end_ns,
        "status": {"code": 0},
        "attributes": [{"key": k, "value": {"stringValue": v}} for k, v in attrs.items()],
    }


def otel_export(*spans: dict) -> dict:
    return {
        "resourceSpans": [
            {"resource": {"attributes": []}, "scopeSpans": [{"scope": {"name": "openai"}, "spans": list(spans)}]}
        ]
    }


def otel_chat(n: int, s: float, inp: int = 1_000, out: int = 100) -> dict:
    ns = int((T0 + s) * 1e9)
    return otel_export(otel_span(f"{n:016x}", str(ns - 10**9), str(ns), inp, out))


def audit_entry(
    ts: object,
    total_in: int,
    total_out: int,
    boundary: str | None = None,
    gen: str | None = None,
    session: str = "shop_session_0",
) -> dict:
    return {
        "timestamp": ts,
        "project_id": "shop",
        "session_id": session,
        "total_input_tokens": total_in,
        "total_output_tokens": total_out,
        "total_tokens": total_in + total_out,
        "session_boundary": boundary,
        "generation_id": gen,
        "done": boundary == "end",
    }


def comms_call(s: float, inp: int = 1_000, out: int = 100, **extra) -> dict:
    return {
        "kind": "model_call",
        "ts": T0 + s,
        "model": "gpt-4o",
        "session": "s1",
        "tier": "Tier 3",
        "usage": {"input_tokens": inp, "output_tokens": out},
        **extra,
    }


def comms_tool(s: float, duration_ms: object, name: str = "Bash", **extra) -> dict:
    return {
        "kind": "tool_call",
        "ts": T0 + s,
        "name": name,
        "duration_ms": duration_ms,
        "ok": True,
        "session": "s1",
        **extra,
    }


def write(kind: str, folder: Path, data: bytes) -> str:
    """Write ``data`` where ``kind``'s source looks, and return the source spec."""
    if kind == "claude":
        path = folder / "projects" / "shop" / "s1.jsonl"
    elif kind == "codex":
        path = folder / "sessions" / "2025" / "11" / "20" / "rollout-2025-11-20T10-00-00-cx-1.jsonl"
    elif kind == "gemini":
        path = folder / "tmp" / "abc" / "chats" / "session-2025-11-20T10-00-g1.jsonl"
    else:
        path = folder / f"log.{kind}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return f"{kind}:{path}"


# --- 2. tool durations (and costs) out of range ---------------------------------------------


def test_a_tool_duration_of_1e308_ms_in_a_comms_log_is_a_bad_line_and_report_runs(tmp_path, capsys):
    spec = write("comms", tmp_path, jsonl(comms_tool(1, 1e308), comms_tool(2, 250.0), comms_tool(3, -1.0)))
    snap = read(spec)
    assert snap["errors"]["bad_lines"] == 2
    assert snap["tools"]["Bash"]["calls"] == 1
    render_all(snap)
    assert main(["report", spec, "--no-history"]) == 0
    assert "Traceback" not in capsys.readouterr().err


def test_a_codex_tool_duration_of_1e308_seconds_or_300_digits_is_a_bad_line(tmp_path):
    stated = orjson.dumps({"output": "", "metadata": {"exit_code": 0, "duration_seconds": 1e308}}).decode()
    wall = "Exit code: 0\nWall time: " + "9" * 300 + " seconds\nOutput:\n"
    spec = write(
        "codex",
        tmp_path,
        jsonl(
            *codex_head(),
            codex_call(2, "c1"),
            codex_output(3, "c1", stated),
            codex_call(4, "c2"),
            codex_output(5, "c2", wall),
            codex_call(6, "c3"),
            codex_output(7, "c3", "Exit code: 0\nWall time: 1.5 seconds\nOutput:\n"),
        ),
    )
    snap = read(spec)
    assert snap["errors"]["bad_lines"] == 2
    assert snap["tools"]["shell"]["calls"] == 1 and snap["tools"]["shell"]["total_ms"] == 1_500


@pytest.mark.parametrize("duration_ms", [1e308, 10**400, float("inf"), 31 * 86_400_000])
def test_the_host_api_refuses_a_tool_duration_out_of_range_naming_it(duration_ms):
    h = TokenHistory()
    with pytest.raises(ValueError, match="duration_ms"):
        h.record_tool_call("Bash", duration_ms, ts=T0)
    with pytest.raises(ValueError, match="duration_ms"):
        hooks.Hooks(h).on_tool_call("Bash", duration_ms, ts=T0)
    h.record_tool_call("Bash", 30 * 86_400_000, ts=T0)  # 30 days: the longest a call may take
    h.drain()
    assert h.snapshot()["tools"]["Bash"]["calls"] == 1


def test_a_reported_cost_of_1e308_usd_is_refused_at_the_api_and_a_bad_line_in_a_log(tmp_path):
    h = TokenHistory()
    with pytest.raises(ValueError, match="reported_cost_usd"):
        h.record_usage("gpt-4o", 10, 10, ts=T0, reported_cost_usd=1e308)
    spec = write("comms", tmp_path, jsonl(comms_call(1, cost_usd=1e308), comms_call(2, cost_usd=0.25)))
    snap = read(spec)
    assert (snap["errors"]["bad_lines"], snap["totals"]["requests"]) == (1, 1)
    claude = jsonl({**claude_usage(1, 1), "costUSD": 1e308}, claude_usage(2, 2))
    snap = read(write("claude", tmp_path / "c", claude))
    assert (snap["errors"]["bad_lines"], snap["totals"]["requests"]) == (1, 1)


# --- 3. OpenTelemetry span times of hundreds of digits ---------------------------------------


@pytest.mark.parametrize("huge", ["1" * 400, "9" * 30], ids=["400-digit string", "30-digit string"])
def test_a_span_time_of_hundreds_of_digits_is_a_bad_line(tmp_path, huge):
    spec = write("otel", tmp_path, jsonl(otel_export(otel_span("a" * 16, huge, huge)), otel_chat(2, 60)))
    snap = read(spec)
    assert (snap["errors"]["bad_lines"], snap["totals"]["requests"]) == (1, 1)
    render_all(snap)


def test_a_tool_span_time_of_hundreds_of_digits_read_again_after_a_restart_is_no_crash(tmp_path):
    tool = otel_span("a" * 16, "1" * 400, "1" * 400)
    tool["attributes"] = [
        {"key": "gen_ai.operation.name", "value": {"stringValue": "execute_tool"}},
        {"key": "gen_ai.tool.name", "value": {"stringValue": "read_file"}},
    ]
    spec = write("otel", tmp_path, jsonl(otel_export(tool), otel_chat(2, 60)))
    h = TokenHistory()
    open_source(spec, h).poll()
    restarted = open_source(spec, h)  # the offsets are kept: the head is replayed, once
    with open(spec.partition(":")[2], "ab") as f:
        f.write(jsonl(otel_chat(3, 120)))
    restarted.poll()
    h.drain()
    assert h.snapshot()["totals"]["requests"] == 2


# --- 4. times outside 2000..2100 --------------------------------------------------------------


def _out_of_range_lines(kind: str, when: str, epoch: float) -> bytes:
    """One good line (or context) and one whose time is ``when`` / ``epoch``."""
    if kind == "claude":
        return jsonl(claude_usage(1, 1), {**claude_usage(2, 2), "timestamp": when})
    if kind == "codex":
        return jsonl(
            *codex_head(), codex_tokens(2, 1_000, 0, 100), {**codex_tokens(3, 2_000, 0, 200), "timestamp": when}
        )
    if kind == "gemini":
        return jsonl(gemini_meta(), gemini_message(1, "m1"), {**gemini_message(2, "m2"), "timestamp": when})
    if kind == "otel":
        ns = str(int(epoch) * 10**9)
        return jsonl(otel_chat(1, 1), otel_export(otel_span("b" * 16, ns, ns)))
    if kind == "audit":
        return jsonl(
            audit_entry(ISO0, 0, 0, "start"),
            audit_entry(iso(30), 1_000, 100, gen="g1"),
            audit_entry(when, 2_000, 200, gen="g2"),
        )
    return jsonl(comms_call(1), comms_call(2) | {"ts": epoch})


KINDS = ("claude", "codex", "gemini", "otel", "audit", "comms")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("when", "epoch"),
    [
        (YEAR_10000, YEAR_10000_TS),
        ("2100-01-01T00:00:00Z", MAX_TS),
        ("1999-12-31T23:59:59Z", MIN_TS - 1),
    ],
    ids=["year-10000", "2100", "1999"],
)
def test_a_time_outside_2000_to_2100_is_a_bad_line_in_every_source(tmp_path, kind, when, epoch):
    spec = write(kind, tmp_path, _out_of_range_lines(kind, when, epoch))
    snap = read(spec)
    assert snap["errors"]["bad_lines"] == 1
    assert snap["totals"]["requests"] == 1
    assert snap["session"]["last_ts"] < MAX_TS
    render_all(snap)


def test_report_over_a_log_with_a_time_in_year_10000_prints_a_report(tmp_path, capsys):
    spec = write("claude", tmp_path, _out_of_range_lines("claude", YEAR_10000, YEAR_10000_TS))
    assert main(["report", spec]) == 0
    out, err = capsys.readouterr()
    assert "Skipped 1 unreadable line(s)" in out and "Traceback" not in err


@pytest.mark.parametrize("ts", [YEAR_10000_TS, 10**12, 0, -1, MIN_TS - 1, MAX_TS, 10**400])
def test_the_host_api_refuses_a_time_outside_2000_to_2100_naming_ts(ts):
    h = TokenHistory()
    calls = [
        lambda: h.record_tool_call("Bash", 5, ts=ts),
        lambda: h.update_ticket("T-1", "todo", ts),
        lambda: h.rate(8, ts),
        lambda: usage_event(model="gpt-4o", ts=ts),
        lambda: h.record_usage("gpt-4o", 10, 10, ts=ts, tier="Tier 3", provider="openai"),
        lambda: h.record_usage("gpt-4o", 10, 10, ts=ts),
    ]  # the fast path, once the name is known
    for call in calls:
        with pytest.raises(ValueError, match=r"\bts out of range"):
            call()
    h.record_tool_call("Bash", 5, ts=None)  # None: now
    h.record_tool_call("Bash", 5, ts=MIN_TS)
    h.drain()
    assert h.snapshot()["tools"]["Bash"]["calls"] == 2


# --- 5. names that cannot be saved -------------------------------------------------------------

LONE = "gpt\ud800"


@pytest.mark.parametrize(
    ("field", "call"),
    [
        ("model", lambda h: h.record_usage(LONE, 10, 10, ts=T0)),
        ("tier", lambda h: h.record_usage("gpt-4o", 10, 10, ts=T0, tier=LONE)),
        ("session", lambda h: h.record_usage("gpt-4o", 10, 10, ts=T0, session=LONE)),
        ("provider", lambda h: h.record_usage("gpt-4o", 10, 10, ts=T0, provider=LONE)),
        ("tool name", lambda h: h.record_usage("gpt-4o", 10, 10, ts=T0, tools=["Bash", LONE])),
        ("name", lambda h: h.record_tool_call(LONE, 5, ts=T0)),
        ("ticket_id", lambda h: h.update_ticket(LONE, "todo", T0)),
        ("track", lambda h: h.update_ticket("T-1", "todo", T0, track=LONE)),
        ("reason", lambda h: h.update_ticket("T-1", "blocked", T0, reason=LONE)),
        (
            "model",
            lambda h: hooks.Hooks(h).on_comms_entry(
                {
                    "direction": "in",
                    "model": LONE,
                    "ts": T0,
                    "payload": {"usage": {"input_tokens": 1, "output_tokens": 1}},
                }
            ),
        ),
    ],
)
def test_a_name_with_a_lone_surrogate_is_refused_naming_the_field_and_save_still_works(tmp_path, field, call):
    h = TokenHistory(state_path=tmp_path / "state.toml")
    with pytest.raises(ValueError, match=rf"^{field} must be valid Unicode text"):
        call(h)
    h.record_usage("gpt-4o", 10, 10, ts=T0)
    h.drain()
    h.save()
    assert TokenHistory(state_path=tmp_path / "state.toml").snapshot()["totals"]["requests"] == 1


# --- 11b. lines that carried usage, a tool call or a ticket are bad lines, never dropped ------

CLAUDE_GOOD = claude_usage(0, 0)
ATTRS_HEAD = [
    {"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
    {"key": "gen_ai.response.model", "value": {"stringValue": "gpt-4o"}},
]
TODO = {"type": "tool_use", "id": "toolu_9", "name": "TodoWrite"}

SILENT_DROPS = {
    # Claude Code
    "claude usage not an object": (
        "claude",
        [CLAUDE_GOOD, claude_usage(1, 1) | {"message": {**claude_usage(1, 1)["message"], "usage": [100, 20]}}],
    ),
    "claude tool_use without a name": (
        "claude",
        [CLAUDE_GOOD, claude_usage(1, 1, content=[{"type": "tool_use", "id": "toolu_1", "name": None, "input": {}}])],
    ),
    "claude tool_use without an id": (
        "claude",
        [CLAUDE_GOOD, claude_usage(1, 1, content=[{"type": "tool_use", "name": "Bash", "input": {}}])],
    ),
    "claude TodoWrite todos not a list": (
        "claude",
        [CLAUDE_GOOD, claude_usage(1, 1, content=[{**TODO, "input": {"todos": "write the parser"}}])],
    ),
    "claude TodoWrite todo of unknown status": (
        "claude",
        [
            CLAUDE_GOOD,
            claude_usage(1, 1, content=[{**TODO, "input": {"todos": [{"id": "1", "content": "x", "status": "done"}]}}]),
        ],
    ),
    "claude TodoWrite todo not an object": (
        "claude",
        [CLAUDE_GOOD, claude_usage(1, 1, content=[{**TODO, "input": {"todos": ["write the parser"]}}])],
    ),
    "claude costUSD not a number": ("claude", [CLAUDE_GOOD, claude_usage(1, 1) | {"costUSD": "0.12"}]),
    "claude tool_result line without a message": (
        "claude",
        [
            CLAUDE_GOOD,
            {"type": "user", "timestamp": iso(2), "message": [{"type": "tool_result", "tool_use_id": "toolu_1"}]},
        ],
    ),
    # Codex CLI
    "codex token_count payload not an object": (
        "codex",
        [
            *codex_head(),
            codex_tokens(2, 500, 0, 50),
            {"timestamp": iso(3), "type": "event_msg", "payload": [{"type": "token_count"}]},
        ],
    ),
    "codex turn_context model not a string": (
        "codex",
        [
            *codex_head(),
            codex_tokens(2, 500, 0, 50),
            {"timestamp": iso(3), "type": "turn_context", "payload": {"model": {"name": "gpt-5"}}},
        ],
    ),
    "codex token_count info not an object": (
        "codex",
        [
            *codex_head(),
            codex_tokens(2, 500, 0, 50),
            {"timestamp": iso(3), "type": "event_msg", "payload": {"type": "token_count", "info": [1, 2]}},
        ],
    ),
    "codex function_call without a name": (
        "codex",
        [*codex_head(), codex_tokens(2, 500, 0, 50), codex_call(3, "c1", name="")],
    ),
    "codex function_call without a call_id": (
        "codex",
        [*codex_head(), codex_tokens(2, 500, 0, 50), codex_call(3, None)],
    ),
    "codex update_plan plan not a list": (
        "codex",
        [
            *codex_head(),
            codex_tokens(2, 500, 0, 50),
            codex_call(3, "c1", name="update_plan", arguments='{"plan": "write it"}'),
        ],
    ),
    "codex update_plan step of unknown status": (
        "codex",
        [
            *codex_head(),
            codex_tokens(2, 500, 0, 50),
            codex_call(3, "c1", name="update_plan", arguments='{"plan": [{"step": "x", "status": "done"}]}'),
        ],
    ),
    # Gemini CLI
    "gemini tokens with an empty model": (
        "gemini",
        [gemini_meta(), gemini_message(1, "m1"), gemini_message(2, "m2", model="")],
    ),
    "gemini tokens without a model": (
        "gemini",
        [gemini_meta(), gemini_message(1, "m1"), {k: v for k, v in gemini_message(2, "m2").items() if k != "model"}],
    ),
    "gemini tokens not an object": (
        "gemini",
        [gemini_meta(), gemini_message(1, "m1"), gemini_message(2, "m2", tokens=[1_000, 100])],
    ),
    "gemini toolCalls not a list": (
        "gemini",
        [
            gemini_meta(),
            gemini_message(1, "m1"),
            gemini_message(2, "m2", toolCalls={"id": "c1", "name": "read_file", "status": "success"}),
        ],
    ),
    "gemini finished tool call without a name": (
        "gemini",
        [
            gemini_meta(),
            gemini_message(1, "m1"),
            gemini_message(2, "m2", toolCalls=[{"id": "c1", "status": "success", "timestamp": iso(2)}]),
        ],
    ),
    "gemini tool call not an object": (
        "gemini",
        [gemini_meta(), gemini_message(1, "m1"), gemini_message(2, "m2", toolCalls=["read_file"])],
    ),
    "gemini message with tokens and a number id": (
        "gemini",
        [gemini_meta(), gemini_message(1, "m1"), gemini_message(2, "m2") | {"id": 2}],
    ),
    "gemini $set messages not a list": (
        "gemini",
        [gemini_meta(), gemini_message(1, "m1"), {"$set": {"messages": {"m2": gemini_message(2, "m2")}}}],
    ),
    "gemini $set holding a bad message": (
        "gemini",
        [gemini_meta(), {"$set": {"messages": [gemini_message(1, "m1"), gemini_message(2, "m2", model="")]}}],
    ),
    # OpenTelemetry
    "otel usage attribute of an array": (
        "otel",
        [
            otel_chat(1, 1),
            otel_export(
                otel_span("c" * 16, str(int(T0 * 1e9)), str(int(T0 * 1e9)))
                | {
                    "attributes": ATTRS_HEAD
                    + [{"key": "gen_ai.usage.input_tokens", "value": {"arrayValue": {"values": []}}}]
                }
            ),
        ],
    ),
    "otel usage attribute without a value": (
        "otel",
        [
            otel_chat(1, 1),
            otel_export(
                otel_span("c" * 16, str(int(T0 * 1e9)), str(int(T0 * 1e9)))
                | {"attributes": ATTRS_HEAD + [{"key": "gen_ai.usage.output_tokens", "value": {}}]}
            ),
        ],
    ),
    # comms
    "comms incoming entry with usage not an object": (
        "comms",
        [comms_call(1), {"direction": "in", "ts": T0 + 2, "model": "gpt-4o", "payload": {"usage": [1_000, 100]}}],
    ),
    "comms model_call usage an empty list": ("comms", [comms_call(1), comms_call(2) | {"usage": []}]),
}


def test_a_gemini_message_with_tokens_but_an_empty_model_is_a_counted_bad_line(tmp_path):
    spec = write("gemini", tmp_path, jsonl(gemini_meta(), gemini_message(1, "m1"), gemini_message(2, "m2", model="")))
    snap = read(spec)
    assert (snap["errors"]["bad_lines"], snap["totals"]["requests"]) == (1, 1)
    assert "model of a message with tokens must be a non-empty string" in snap["errors"]["reasons"]


@pytest.mark.parametrize("shape", list(SILENT_DROPS))
def test_a_line_that_carried_usage_a_tool_call_or_a_ticket_is_never_dropped_silently(tmp_path, shape):
    kind, lines = SILENT_DROPS[shape]
    snap = read(write(kind, tmp_path, jsonl(*lines)))
    assert snap["errors"]["bad_lines"] == 1, snap["errors"]
    assert snap["totals"]["requests"] >= 1  # the good line beside it still counts


# --- 17. control characters in names, on output --------------------------------------------------

EVIL = "evil\x1b[31mred"


def test_printable_shows_control_characters_as_escapes_and_leaves_other_text_alone():
    assert printable(EVIL) == "evil\\x1b[31mred"
    assert printable("a\x9b2Jb\u202ec\nd\x7f") == "a\\x9b2Jb\\u202ec\\x0ad\\x7f"
    assert printable("Tier 3 — naïve 模型") == "Tier 3 — naïve 模型"


def test_control_characters_in_names_never_reach_report_text_md_or_csv(tmp_path, capsys):
    spec = write(
        "comms",
        tmp_path,
        jsonl(
            {"kind": "session_start", "ts": T0, "session": "s\x1b]0;title\x07", "project": "p\x1b[2J"},
            comms_call(1, model=EVIL, tier="t\x9b1m", session="s\x1b]0;title\x07"),
            comms_tool(2, 5.0, name="Ba\x1bsh", session="s\x1b]0;title\x07"),
            b"not json \x1b[5m",
        ),
    )
    for fmt in ("text", "md", "csv"):
        assert main(["report", spec, "--format", fmt]) == 0
        out = capsys.readouterr().out
        assert not any(c in out for c in "\x1b\x07\x9b"), fmt
        assert "evil\\x1b[31mred" in out
    for fmt in ("text", "md", "csv"):
        assert main(["report", spec, "--by", "session", "--format", fmt]) == 0
        out = capsys.readouterr().out
        assert not any(c in out for c in "\x1b\x07\x9b"), fmt


# --- reasons in the Problems section ---------------------------------------------------------------


def test_the_problems_section_says_why_lines_were_skipped():
    h = TokenHistory()
    h.note_bad_line("/logs/a.jsonl", 2, "not valid JSON")
    h.note_bad_line("/logs/a.jsonl", 1, "ts out of range")
    snap = h.snapshot()
    text = report.render_text(snap)
    assert "Skipped 3 unreadable line(s): 2 not valid JSON, 1 ts out of range" in text
    assert "  /logs/a.jsonl: 3" in text
    assert "- Skipped 3 unreadable line(s): 2 not valid JSON, 1 ts out of range" in report.render_md(snap)


def test_a_log_with_bad_lines_reports_their_reasons(tmp_path, capsys):
    spec = write("comms", tmp_path, jsonl(comms_call(1), b"{cut", b"not json", comms_call(2) | {"ts": 10**12}))
    assert main(["report", spec]) == 0
    assert "Skipped 3 unreadable line(s): 2 not valid JSON, 1 ts out of range" in capsys.readouterr().out


# --- properties: whatever a line holds, parsing raises only BAD_LINE -----------------------------

GOOD_LINES = {
    "claude": [
        claude_usage(1, 1, content=[{"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {}}]),
        claude_result(3, "toolu_1"),
        claude_usage(5, 2, inp=300, out=40),
    ],
    "codex": [
        *codex_head(),
        codex_tokens(2, 1_000, 200, 100),
        codex_call(3, "c1"),
        codex_output(4, "c1", "Exit code: 0\nWall time: 0.5 seconds\n"),
        codex_tokens(5, 3_000, 700, 250),
    ],
    "gemini": [
        gemini_meta(),
        gemini_message(1, "m1"),
        gemini_message(
            2,
            "m2",
            inp=3_000,
            out=300,
            toolCalls=[{"id": "c1", "name": "read_file", "status": "success", "timestamp": iso(2)}],
        ),
    ],
    "otel": [otel_chat(1, 1), otel_chat(2, 30, inp=4_000, out=250)],
    "audit": [
        audit_entry(ISO0, 0, 0, "start"),
        audit_entry(iso(30), 1_000, 100, gen="g1"),
        audit_entry(iso(60), 2_500, 300, gen="g2"),
        audit_entry(iso(90), 2_500, 300, "end"),
    ],
    "comms": [
        comms_call(1),
        comms_tool(2, 40.0),
        {"kind": "ticket", "ts": T0 + 3, "ticket_id": "T-1", "status": "completed"},
        comms_call(4, inp=2_000, out=50),
    ],
}
# Bytes that get a line past each source's cheap pre-filters, so the parser itself is tried.
PREFIXES = [
    b"",
    b'{"type":"assistant","usage":',
    b'{"type":"user","tool_result":',
    b'{"token_count"',
    b'{"tokens":',
    b'{"toolCalls":',
    b'{"sessionId":',
    b'{"gen_ai.',
    b'{"kind":"model_call",',
    b"[",
]
# Values that broke a reader once: times out of range, numbers of hundreds of digits or
# past a float, names that drive a terminal, words a parser branches on.
HOSTILE_LEAVES = [
    YEAR_10000,
    "0001-01-01",
    "2025-11-20T10:00:00Z",
    "nan",
    "",
    " ",
    EVIL,
    "<synthetic>",
    "success",
    "TodoWrite",
    "update_plan",
    "token_count",
    "start",
    "end",
    1e308,
    -1,
    -0.0,
    2**64,
    2**63,
    0,
    True,
    None,
    [],
    {},
]
# Numbers of hundreds of digits, drawn by length (so a failing example's repr stays short).
huge_numbers = st.integers(300, 400).flatmap(lambda n: st.sampled_from([10**n, "1" * n, -(10**n)]))
hostile_values = st.sampled_from(HOSTILE_LEAVES) | huge_numbers
json_values = hostile_values | st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**30), 10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | hostile_values,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)
PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _dump(value: object) -> bytes:
    """JSON text as a writer might produce it: integers of any size, no NaN."""
    return json.dumps(value, allow_nan=False).encode()


def _figures(snap: dict) -> tuple:
    tools = {name: (t["calls"], t["failures"]) for name, t in snap["tools"].items()}
    return snap["totals"], tools, snap["tickets"]["by_status"]


def _read_lines(kind: str, lines: list[bytes]) -> dict:
    """Read ``lines`` through ``kind``'s public path; the snapshot, after every format renders."""
    with tempfile.TemporaryDirectory() as folder:
        spec = write(kind, Path(folder), b"".join(line + b"\n" for line in lines))
        h = TokenHistory()
        open_source(spec, h).poll()
        h.drain()
        snap = h.snapshot()
        render_all(snap)
        return snap


def _parse_each(kind: str, lines: list[bytes]) -> None:
    """Each line handed to ``kind``'s parser in turn: records, or one of BAD_LINE."""
    with tempfile.TemporaryDirectory() as folder:
        spec = write(kind, Path(folder), b"")
        source = open_source(spec, TokenHistory())
        for line in lines:
            try:
                list(source.parse(line, spec.partition(":")[2]))
            except BAD_LINE:
                pass


def _paths(value: object, path: tuple = ()) -> list[tuple]:
    """Every place in a line's JSON a value sits (the line itself excluded)."""
    out = [path] if path else []
    if isinstance(value, dict):
        for key, child in value.items():
            out += _paths(child, (*path, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            out += _paths(child, (*path, i))
    return out


def _replaced(value: object, path: tuple, new: object) -> object:
    if not path:
        return new
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[path[0]] = _replaced(copy[path[0]], path[1:], new)
    return copy


@pytest.mark.parametrize("kind", KINDS)
@PROPERTY
@given(data=st.data())
def test_any_bytes_as_a_line_are_read_or_counted_bad_never_raised(kind, data):
    noise = data.draw(
        st.lists(st.builds(bytes.__add__, st.sampled_from(PREFIXES), st.binary(max_size=60)), min_size=1, max_size=4)
    )
    lines = [orjson.dumps(line) for line in GOOD_LINES[kind]] + noise
    _parse_each(kind, lines)
    _read_lines(kind, lines)


@pytest.mark.parametrize("kind", KINDS)
@PROPERTY
@given(data=st.data())
def test_any_json_value_in_any_field_of_a_valid_line_is_read_or_counted_bad_never_raised(kind, data):
    lines = GOOD_LINES[kind]
    index = data.draw(st.integers(0, len(lines) - 1))
    hostile = lines[index]
    for path in data.draw(st.lists(st.sampled_from(_paths(hostile)), min_size=1, max_size=3, unique=True)):
        try:
            hostile = _replaced(hostile, path, data.draw(json_values))
        except (KeyError, IndexError, TypeError):
            pass  # an earlier replacement took this field's parent away
    changed = [orjson.dumps(line) for line in lines]
    changed[index] = _dump(hostile)
    _parse_each(kind, changed)
    _read_lines(kind, changed)


@pytest.mark.parametrize("kind", KINDS)
@PROPERTY
@given(data=st.data())
def test_good_lines_among_bad_ones_count_exactly_as_they_do_alone(kind, data):
    good = [orjson.dumps(line) for line in GOOD_LINES[kind]]
    bad = st.one_of(
        st.binary(max_size=80).filter(lambda b: b.strip()),
        json_values.map(_dump),
        st.builds(bytes.__add__, st.sampled_from(PREFIXES), st.binary(max_size=40)),
    )
    mixed = list(good)
    first = 1 if kind == "audit" else 0  # an audit log whose first line starts with [ is one JSON array
    for _ in range(data.draw(st.integers(1, 5))):
        mixed.insert(data.draw(st.integers(first, len(mixed))), data.draw(bad))
    assert _figures(_read_lines(kind, mixed)) == _figures(_read_lines(kind, good))


def test_a_line_break_in_a_name_cannot_forge_a_line_of_the_report(tmp_path, capsys):
    forged = "gpt\nCost so far: $0.00 (FORGED)\rFORGED2"
    spec = write("comms", tmp_path, jsonl(comms_call(1, model=forged)))
    for fmt in ("text", "md"):
        assert main(["report", spec, "--no-history", "--format", fmt]) == 0
        out = capsys.readouterr().out
        assert "\r" not in out
        assert not any(
            line.lstrip("- ").startswith(("Cost so far: $0.00 (FORGED)", "FORGED2")) for line in out.splitlines()
        ), fmt
        assert "gpt\\x0aCost so far" in out


@pytest.mark.parametrize(
    "call, field",
    [
        (lambda h: h.record_tool_call("x", 10**5000), "duration_ms"),
        (lambda h: h.record_tool_call("x", 1, ts=10**5000), "ts"),
        (lambda h: h.record_usage("gpt-4o", 10**5000, 1), "input_tokens"),
        (lambda h: h.record_usage("gpt-4o", 1, 1, cache_read_tokens=-(10**5000)), "cache_read_tokens"),
        (lambda h: h.rate(10**5000), "score"),
        (lambda h: h.record_tool_call("x", "9" * 10_000), "duration_ms"),
    ],
)
def test_a_number_of_thousands_of_digits_is_refused_naming_its_field_in_a_short_message(call, field):
    with pytest.raises(ValueError) as raised:
        call(TokenHistory())
    message = str(raised.value)
    assert message.startswith(field) or f" {field} " in message, message
    assert len(message) < 300 and "4300" not in message


def test_a_span_time_of_5000_digits_is_a_bad_line_whose_reason_names_the_field(tmp_path):
    spec = write(
        "otel", tmp_path, jsonl(otel_export(otel_span("a" * 16, 1_760_000_000 * 10**9, "9" * 5000)), otel_chat(2, 60))
    )
    snap = read(spec)
    assert (snap["errors"]["bad_lines"], snap["totals"]["requests"]) == (1, 1)
    assert list(snap["errors"]["reasons"]) == ["endTimeUnixNano out of range"]


def test_an_attribute_int_of_5000_digits_is_a_bad_line_naming_int_value(tmp_path):
    span = otel_span("a" * 16, 1_760_000_000 * 10**9, 1_760_000_001 * 10**9)
    span["attributes"].append({"key": "gen_ai.usage.input_tokens", "value": {"intValue": "9" * 5000}})
    snap = read(write("otel", tmp_path, jsonl(otel_export(span), otel_chat(2, 60))))
    assert (snap["errors"]["bad_lines"], snap["totals"]["requests"]) == (1, 1)
    assert list(snap["errors"]["reasons"]) == ["intValue out of range"]


@pytest.mark.parametrize(
    "cost_usd, unpriced, shown",
    [
        (None, 3, "unpriced"),
        (1.5, 0, "$1.50"),
        (1.5, 2, "$1.50 (+2 unpriced)"),
        (0.0, 1_200, "$0.00 (+1,200 unpriced)"),
    ],
)
def test_a_partly_priced_cost_reads_the_same_in_every_table(cost_usd, unpriced, shown):
    from session_insights import views

    assert views.cost_cell(cost_usd, unpriced) == shown


def test_tokens_per_satisfaction_point_is_unknown_without_a_rating():
    """With tickets completed in ended sessions but no rating, the overall score is tokens
    per completed ticket; the panel showed it as '478,853 (0 ratings)' per point."""
    from session_insights.events import SessionMark, TicketUpdate

    h = TokenHistory()
    for i, session in enumerate(("s1", "s2")):
        ts = 1_760_000_000.0 + i * 86_400
        h.add(SessionMark(ts, session, "start"))
        h.record_usage("gpt-4o", 1000, 100, ts=ts + 10, session=session)
        h.add(TicketUpdate(ts + 20, f"T-{i}", "completed", session=session))
        h.add(SessionMark(ts + 30, session, "end"))
    h.drain()
    efficiency = h.snapshot()["efficiency"]
    assert efficiency["ratings"] == 0 and efficiency["tokens_per_completed_ticket"] is not None
    assert efficiency["tokens_per_satisfaction_point"] is None
    assert "per satisfaction point" not in report.render_text(h.snapshot())
