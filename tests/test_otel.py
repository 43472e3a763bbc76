"""OpenTelemetry GenAI spans in OTLP JSON lines: usage with cache normalised, agent
spans that repeat their children's usage, duplicate exports, tool spans, bad lines."""

from pathlib import Path

import orjson
import pytest

from session_insights import TokenHistory
from session_insights.cli import main
from session_insights.sources import base, open_source

T0_NS = 1_763_632_800 * 10**9  # 2025-11-20T10:00:00Z
TRACE_AGENT = "5b8efff798038103d269b633813fc60c"
TRACE_REMOTE = "0af7651916cd43dd8448eb211c80319c"
TRACE_REVIEW = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACE_GEMINI = "00f067aa0ba902b7a3ce929d0e0e4736"
PROMPT = "Refactor the parser so the tests pass"  # message content: must never be kept


def attr(key: str, value) -> dict:
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}  # int64 is a JSON string in OTLP JSON
    if isinstance(value, float):
        return {"key": key, "value": {"doubleValue": value}}
    return {"key": key, "value": {"stringValue": value}}


def span(
    trace: str,
    span_id: str,
    parent: str | None,
    name: str,
    start_ms: int,
    end_ms: int,
    attributes: dict,
    *,
    status_code: int = 0,
) -> dict:
    out = {
        "traceId": trace,
        "spanId": span_id,
        "name": name,
        "kind": 3,
        "startTimeUnixNano": str(T0_NS + start_ms * 10**6),
        "endTimeUnixNano": str(T0_NS + end_ms * 10**6),
        "attributes": [attr(k, v) for k, v in attributes.items()],
        "status": {"code": status_code},
    }
    if parent:
        out["parentSpanId"] = parent
    if status_code == 2:
        out["status"]["message"] = "tool timed out"
    return out


def export(*scopes: tuple[str, list[dict]], resource: dict | None = None) -> bytes:
    """One OTLP JSON export line: scopes of spans under one resource."""
    res = {"service.name": "coding-agent", "telemetry.sdk.language": "python", **(resource or {})}
    return (
        orjson.dumps(
            {
                "resourceSpans": [
                    {
                        "resource": {"attributes": [attr(k, v) for k, v in res.items()]},
                        "scopeSpans": [
                            {"scope": {"name": name, "version": "0.40b0"}, "spans": spans} for name, spans in scopes
                        ],
                    }
                ]
            }
        )
        + b"\n"
    )


ANTHROPIC = "opentelemetry.instrumentation.anthropic"
OPENAI = "opentelemetry.instrumentation.openai_v2"
FRAMEWORK = "agent-framework"


def chat(
    trace,
    span_id,
    parent,
    start_ms,
    end_ms,
    *,
    input_tokens,
    output_tokens,
    cache_read=0,
    cache_creation=0,
    model="claude-sonnet-4-5-20250929",
    request_model="claude-sonnet-4-5",
    provider="anthropic",
    extra=None,
) -> dict:
    attributes = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": provider,
        "gen_ai.request.model": request_model,
        "gen_ai.response.model": model,
        "gen_ai.usage.input_tokens": input_tokens,
        "gen_ai.usage.output_tokens": output_tokens,
        **(extra or {}),
    }
    if cache_read:
        attributes["gen_ai.usage.cache_read.input_tokens"] = cache_read
    if cache_creation:
        attributes["gen_ai.usage.cache_creation.input_tokens"] = cache_creation
    return span(trace, span_id, parent, f"chat {request_model}", start_ms, end_ms, attributes)


def tool(trace, span_id, parent, name, start_ms, end_ms, *, status_code=0, error_type=None, session=None) -> dict:
    attributes = {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": name,
        "gen_ai.tool.call.id": f"call_{span_id}",
        "gen_ai.tool.call.arguments": '{"path": "src/parser.py"}',
    }
    if error_type:
        attributes["error.type"] = error_type
    if session:
        attributes["gen_ai.conversation.id"] = session
    return span(trace, span_id, parent, f"execute_tool {name}", start_ms, end_ms, attributes, status_code=status_code)


AGENT = "eee19b7ec3c1b174"
CODER = {
    "gen_ai.agent.name": "Coder",
    "gen_ai.conversation.id": "conv-1",
    "gen_ai.input.messages": orjson.dumps([{"role": "user", "parts": [{"type": "text", "content": PROMPT}]}]).decode(),
}

# A local agent ("Coder") makes two model calls and runs three tools. The model spans end,
# and are exported, before the agent span that sums their usage.
LINE_1 = export(
    (
        ANTHROPIC,
        [
            chat(
                TRACE_AGENT,
                "b7ad6b7169203331",
                AGENT,
                1_000,
                9_000,
                input_tokens=12_000,
                output_tokens=350,
                cache_read=8_000,
                cache_creation=2_000,
                extra=CODER,
            )
        ],
    ),
    (FRAMEWORK, [tool(TRACE_AGENT, "a1b2c3d4e5f60001", AGENT, "read_file", 9_000, 9_120, session="conv-1")]),
)
LINE_2 = export(
    (
        ANTHROPIC,
        [
            chat(
                TRACE_AGENT,
                "b7ad6b7169203332",
                AGENT,
                25_000,
                29_000,
                input_tokens=3_000,
                output_tokens=150,
                cache_read=2_000,
                extra=CODER,
            )
        ],
    ),
    (
        FRAMEWORK,
        [tool(TRACE_AGENT, "a1b2c3d4e5f60002", AGENT, "run_tests", 10_000, 25_000, status_code=2, session="conv-1")],
    ),
)
LINE_AGENT = export(
    (
        FRAMEWORK,
        [
            span(
                TRACE_AGENT,
                AGENT,
                None,
                "invoke_agent Coder",
                0,
                30_000,
                {
                    "gen_ai.operation.name": "invoke_agent",
                    "gen_ai.provider.name": "anthropic",
                    "gen_ai.request.model": "claude-sonnet-4-5",
                    "gen_ai.agent.name": "Coder",
                    "gen_ai.conversation.id": "conv-1",
                    "gen_ai.usage.input_tokens": 15_000,
                    "gen_ai.usage.output_tokens": 500,
                    "gen_ai.usage.cache_read.input_tokens": 10_000,
                    "gen_ai.usage.cache_creation.input_tokens": 2_000,
                },
            )
        ],
    )
)

# A remote agent (an assistants-style service): no model spans of its own in the trace,
# so its usage is the only record of it. Older instrumentation: gen_ai.system.
LINE_REMOTE = export(
    (
        OPENAI,
        [
            span(
                TRACE_REMOTE,
                "b9c7c989f97918e1",
                None,
                "invoke_agent Researcher",
                40_000,
                52_000,
                {
                    "gen_ai.operation.name": "invoke_agent",
                    "gen_ai.system": "openai",
                    "gen_ai.request.model": "gpt-4o",
                    "gen_ai.response.model": "gpt-4o-2024-08-06",
                    "gen_ai.agent.name": "Researcher",
                    "gen_ai.usage.input_tokens": 5_000,
                    "gen_ai.usage.cache_read.input_tokens": 1_000,
                    "gen_ai.usage.output_tokens": 800,
                },
            )
        ],
    ),
    resource={"session.id": "sess-42"},
)

# One line where the agent span comes first and a plain step span sits between it and the
# model call: order within a line does not matter. Azure OpenAI under OTel's provider id.
LINE_REVIEW = export(
    (
        FRAMEWORK,
        [
            span(
                TRACE_REVIEW,
                "1111111111111111",
                None,
                "invoke_agent Reviewer",
                60_000,
                66_000,
                {
                    "gen_ai.operation.name": "invoke_agent",
                    "gen_ai.agent.name": "Reviewer",
                    "gen_ai.usage.input_tokens": 2_000,
                    "gen_ai.usage.output_tokens": 100,
                },
            ),
            span(
                TRACE_REVIEW, "2222222222222222", "1111111111111111", "review step", 60_500, 65_500, {"step.index": 1}
            ),
            tool(
                TRACE_REVIEW, "3333333333333333", "1111111111111111", "bash", 65_500, 65_800, error_type="ProcessError"
            ),
        ],
    ),
    (
        OPENAI,
        [
            chat(
                TRACE_REVIEW,
                "4444444444444444",
                "2222222222222222",
                61_000,
                65_000,
                input_tokens=2_000,
                output_tokens=100,
                model="gpt-4.1-mini-2025-04-14",
                request_model="gpt-4.1-mini",
                provider="azure.ai.openai",
            )
        ],
    ),
)

# Semantic conventions before 1.27: prompt/completion token names, plain JSON numbers.
LINE_GEMINI = (
    orjson.dumps(
        {
            "resourceSpans": [
                {
                    "resource": {"attributes": []},
                    "scopeSpans": [
                        {
                            "scope": {"name": "opentelemetry.instrumentation.vertexai"},
                            "spans": [
                                {
                                    "traceId": TRACE_GEMINI,
                                    "spanId": "5555555555555555",
                                    "name": "chat gemini-2.5-pro",
                                    "startTimeUnixNano": T0_NS + 70_000 * 10**6,
                                    "endTimeUnixNano": T0_NS + 74_000 * 10**6,
                                    "attributes": [
                                        {"key": "gen_ai.system", "value": {"stringValue": "vertex_ai"}},
                                        {"key": "gen_ai.request.model", "value": {"stringValue": "gemini-2.5-pro"}},
                                        {"key": "gen_ai.usage.prompt_tokens", "value": {"intValue": 1500}},
                                        {"key": "gen_ai.usage.completion_tokens", "value": {"intValue": 300}},
                                    ],
                                    "status": {},
                                }
                            ],
                        }
                    ],
                }
            ]
        }
    )
    + b"\n"
)

# One span on its own line with flat attributes; a whole-number double as a count.
LINE_FLAT = (
    orjson.dumps(
        {
            "traceId": "6e0c63257de34c92bf9efcd03927272e",
            "spanId": "6666666666666666",
            "name": "chat claude-haiku-4-5",
            "startTimeUnixNano": T0_NS + 80_000 * 10**6,
            "endTimeUnixNano": T0_NS + 81_500 * 10**6,
            "attributes": {
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": "anthropic",
                "gen_ai.request.model": "claude-haiku-4-5",
                "gen_ai.usage.input_tokens": 900,
                "gen_ai.usage.output_tokens": 60.0,
                "gen_ai.conversation.id": "conv-1",
            },
            "status": {"code": 0},
        }
    )
    + b"\n"
)

LINE_HTTP = export(
    (
        "opentelemetry.instrumentation.requests",
        [
            span(
                "7f0c63257de34c92bf9efcd03927272e",
                "7777777777777777",
                None,
                "GET",
                0,
                80,
                {"http.request.method": "GET", "http.response.status_code": 200},
            )
        ],
    )
)

# Broken lines: cut mid-write; the wrong shape; a span whose cached tokens exceed the input
# that includes them (the line is bad, its other span still counts).
LINE_CUT = LINE_2[: LINE_2.index(b"gen_ai.usage") + 30] + b"\n"
LINE_WRONG_SHAPE = orjson.dumps({"resourceSpans": {"scopeSpans": [], "schemaUrl": "gen_ai.v1"}}) + b"\n"
LINE_BAD_SPAN = export(
    (
        ANTHROPIC,
        [
            chat(
                TRACE_AGENT,
                "8888888888888888",
                None,
                90_000,
                91_000,
                input_tokens=1_000,
                output_tokens=10,
                cache_read=5_000,
            ),
            tool(TRACE_AGENT, "9999999999999999", None, "grep", 91_000, 91_040),
        ],
    )
)

LINES = [
    LINE_1,
    LINE_2,
    LINE_1,
    LINE_AGENT,
    LINE_REMOTE,
    LINE_REVIEW,
    LINE_HTTP,
    LINE_GEMINI,
    LINE_FLAT,
    LINE_CUT,
    LINE_WRONG_SHAPE,
    LINE_BAD_SPAN,
]


def write_export(folder: Path, lines=LINES) -> Path:
    path = folder / "traces.jsonl"
    path.write_bytes(b"".join(lines))
    return path


def read(path: Path) -> dict:
    h = TokenHistory()
    open_source(f"otel:{path}", h).poll()
    h.drain()
    return h.snapshot()


FIELDS = ("requests", "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")


def figures(row: dict) -> tuple:
    return tuple(row[k] for k in FIELDS)


def test_usage_spans_count_with_input_net_of_cache_reads_and_writes(tmp_path):
    snap = read(write_export(tmp_path))
    by_model = {model: figures(row) for model, row in snap["by_model"].items()}
    assert by_model == {
        "claude-sonnet-4-5-20250929": (2, 3_000, 500, 10_000, 2_000),
        "gpt-4o-2024-08-06": (1, 4_000, 800, 1_000, 0),
        "gpt-4.1-mini-2025-04-14": (1, 2_000, 100, 0, 0),
        "gemini-2.5-pro": (1, 1_500, 300, 0, 0),
        "claude-haiku-4-5": (1, 900, 60, 0, 0),
    }
    assert figures(snap["totals"]) == (6, 11_400, 1_760, 11_000, 2_000)


def test_an_agent_span_summing_the_model_calls_below_it_is_not_counted_again(tmp_path):
    snap = read(write_export(tmp_path))
    # Coder's own span repeats its two calls; Reviewer's repeats its one (through a step
    # span, on the same line, listed first). The remote Researcher has nothing below it.
    assert {tier: row["requests"] for tier, row in snap["by_tier"].items()} == {
        "Coder": 2,
        "Researcher": 1,
        "(no tier)": 3,
    }
    assert figures(snap["by_tier"]["Coder"]) == (2, 3_000, 500, 10_000, 2_000)


def test_a_span_exported_twice_counts_once(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    once = read(write_export(tmp_path / "a", [LINE_1, LINE_2, LINE_AGENT]))
    twice = read(write_export(tmp_path / "b", [LINE_1, LINE_1, LINE_2, LINE_2, LINE_AGENT, LINE_AGENT]))
    assert figures(once["totals"]) == figures(twice["totals"]) == (2, 3_000, 500, 10_000, 2_000)
    assert once["tools"] == twice["tools"]
    assert twice["tools"]["read_file"]["calls"] == 1


# Tool spans name no request of their own: which turn called them is not known.
NO_TURNS = {"turns": 0, "turn_tokens": None, "turn_cost_usd": None, "unpriced_turns": 0}


def test_tool_spans_give_calls_durations_and_failures(tmp_path):
    tools = read(write_export(tmp_path))["tools"]
    assert tools == {
        "bash": {
            "calls": 1,
            "failures": 1,
            "failure_rate_pct": 100.0,
            "total_ms": 300.0,
            "mean_ms": 300.0,
            "max_ms": 300.0,
            **NO_TURNS,
        },
        "grep": {
            "calls": 1,
            "failures": 0,
            "failure_rate_pct": 0.0,
            "total_ms": 40.0,
            "mean_ms": 40.0,
            "max_ms": 40.0,
            **NO_TURNS,
        },
        "read_file": {
            "calls": 1,
            "failures": 0,
            "failure_rate_pct": 0.0,
            "total_ms": 120.0,
            "mean_ms": 120.0,
            "max_ms": 120.0,
            **NO_TURNS,
        },
        "run_tests": {
            "calls": 1,
            "failures": 1,
            "failure_rate_pct": 100.0,
            "total_ms": 15_000.0,
            "mean_ms": 15_000.0,
            "max_ms": 15_000.0,
            **NO_TURNS,
        },
    }


def test_providers_sessions_and_times_come_from_the_conventions_attributes(tmp_path):
    snap = read(write_export(tmp_path))
    providers = {model: row["provider"] for model, row in snap["by_model"].items()}
    assert providers == {
        "claude-sonnet-4-5-20250929": "anthropic",
        "gpt-4o-2024-08-06": "openai",
        "gpt-4.1-mini-2025-04-14": "openai",
        "gemini-2.5-pro": "google",
        "claude-haiku-4-5": "anthropic",
    }
    sessions = snap["sessions"]
    assert sorted(sessions) == ["(no session)", "conv-1", "sess-42"]
    assert sessions["conv-1"]["requests"] == 3
    assert sessions["sess-42"]["requests"] == 1
    # A request is at its span's end.
    assert sessions["conv-1"]["first_ts"] == 1_763_632_809.0
    assert sessions["conv-1"]["last_ts"] == 1_763_632_881.5


def test_a_model_the_span_does_not_name_is_counted_as_unrecorded_and_unpriced(tmp_path):
    line = export(
        (
            FRAMEWORK,
            [
                span(
                    "8a0c63257de34c92bf9efcd03927272e",
                    "aaaaaaaaaaaaaaaa",
                    None,
                    "invoke_agent",
                    0,
                    1_000,
                    {
                        "gen_ai.operation.name": "invoke_agent",
                        "gen_ai.usage.input_tokens": 700,
                        "gen_ai.usage.output_tokens": 70,
                    },
                )
            ],
        )
    )
    snap = read(write_export(tmp_path, [line]))
    assert figures(snap["by_model"]["unrecorded"]) == (1, 700, 70, 0, 0)
    assert snap["unpriced_models"] == ["unrecorded"]
    assert snap["by_model"]["unrecorded"]["cost_usd"] is None


def test_bad_lines_are_counted_and_no_message_text_reaches_the_state(tmp_path):
    (tmp_path / "logs").mkdir()
    path = write_export(tmp_path / "logs")
    h = TokenHistory(state_path=tmp_path / "state.toml")
    open_source(f"otel:{path}", h).poll()
    h.drain()
    assert (h.snapshot()["errors"]["bad_lines"], h.snapshot()["errors"]["files"]) == (3, {str(path): 3})
    h.save()
    saved = (tmp_path / "state.toml").read_text()
    for text in (PROMPT, "src/parser.py", "tool timed out"):
        assert text not in saved


@pytest.mark.parametrize("grows", ["before the restart", "after the first poll"])
def test_children_first_while_tailing_and_across_a_restart(tmp_path, grows):
    (tmp_path / "logs").mkdir()
    path = write_export(tmp_path / "logs", [LINE_1])
    state = tmp_path / "state.toml"
    h = TokenHistory(state_path=state)
    source = open_source(f"otel:{path}", h)
    source.poll()
    h.drain()
    assert figures(h.snapshot()["totals"]) == (1, 2_000, 350, 8_000, 2_000)
    with open(path, "ab") as f:
        f.write(LINE_2[:40])  # the exporter is mid-line
    source.poll()
    h.drain()
    assert h.snapshot()["totals"]["requests"] == 1
    with open(path, "ab") as f:
        f.write(LINE_2[40:])
    source.poll()
    h.drain()
    h.save()

    # After a restart the agent span arrives, with a repeat of an already-read tool span:
    # what was read before the restart still covers the one and de-duplicates the other.
    def append():
        with open(path, "ab") as f:
            f.write(LINE_1 + LINE_AGENT)

    if grows == "before the restart":
        append()
    again = TokenHistory(state_path=state)
    source = open_source(f"otel:{path}", again)
    source.poll()
    if grows == "after the first poll":
        append()
        source.poll()
    again.drain()
    snap = again.snapshot()
    assert figures(snap["totals"]) == (2, 3_000, 500, 10_000, 2_000)
    assert {name: row["calls"] for name, row in snap["tools"].items()} == {"read_file": 1, "run_tests": 1}
    assert snap["errors"]["bad_lines"] == 0


def test_report_reads_an_otel_export(tmp_path, capsys):
    path = write_export(tmp_path)
    assert main(["report", f"otel:{path}", "--format", "json"]) == 0
    snap = orjson.loads(capsys.readouterr().out)
    assert figures(snap["totals"]) == (6, 11_400, 1_760, 11_000, 2_000)
    assert snap["totals"]["cost_usd"] > 0
    assert (snap["errors"]["bad_lines"], snap["errors"]["files"]) == (3, {str(path): 3})


@pytest.mark.parametrize("status", [{"code": 2}, {"code": "STATUS_CODE_ERROR"}, {"status_code": "ERROR"}])
def test_every_spelling_of_an_error_status_fails_the_tool_call(tmp_path, status):
    line = (
        orjson.dumps(
            {
                "traceId": "9b0c63257de34c92bf9efcd03927272e",
                "spanId": "bbbbbbbbbbbbbbbb",
                "name": "execute_tool web_fetch",
                "start_time": "2025-11-20T10:00:00.000000Z",
                "end_time": "2025-11-20T10:00:02.500000Z",
                "attributes": {"gen_ai.operation.name": "execute_tool"},
                "status": status,
            }
        )
        + b"\n"
    )
    tools = read(write_export(tmp_path, [line]))["tools"]
    assert {name: (row["calls"], row["failures"], row["total_ms"]) for name, row in tools.items()} == {
        "web_fetch": (1, 1, 2_500.0)
    }


# --- exports of real instrumentations -----------------------------------------------------
# tests/fixtures/otel/ holds span exports made by make_fixtures.py beside them: the
# Anthropic SDK 2.15.0 tracing its own calls, OpenLLMetry 0.62.4
# (opentelemetry-instrumentation-anthropic and -openai), the OpenTelemetry SDK 1.45.2, each
# calling a mock API on 127.0.0.1 that answered with known usage. Anthropic: input 50,
# cache read 2,000, cache creation 1,000 (400 for 5 minutes, 600 for an hour), output 300
# with 120 thinking. OpenAI: prompt 1,500 with 1,024 cached, completion 700 with 512
# reasoning. Each span's input_tokens includes its cache reads and writes (3,050; 1,500).
FIXTURES = Path(__file__).parent / "fixtures" / "otel"
SONNET = "claude-sonnet-4-5-20250929"
DETAIL = (
    "requests",
    "input_tokens",
    "cache_read_tokens",
    "cache_write_tokens",  # 5-minute and 1-hour writes
    "cache_write_1h_tokens",
    "output_tokens",
    "reasoning_tokens",
)
SDK_TRUTH = (1, 50, 2_000, 1_000, 600, 300, 120)


def detail(row: dict) -> tuple:
    return tuple(row[k] for k in DETAIL)


def fixture_lines(name: str) -> list[bytes]:
    return (FIXTURES / name).read_bytes().splitlines(keepends=True)


@pytest.mark.parametrize("name", ["anthropic-sdk.jsonl", "anthropic-sdk-console.jsonl"])
def test_the_anthropic_sdks_own_spans_take_cache_writes_out_of_input(tmp_path, name):
    # gen_ai.usage.cache_write.input_tokens: read as 0 before, leaving 1,050 fresh input.
    snap = read(write_export(tmp_path, fixture_lines(name)))
    assert detail(snap["by_model"][SONNET]) == SDK_TRUTH
    assert snap["errors"]["bad_lines"] == 0


def test_openllmetrys_anthropic_spans_take_cache_creation_out_of_input(tmp_path):
    snap = read(write_export(tmp_path, fixture_lines("openllmetry-anthropic.jsonl")))
    assert detail(snap["by_model"][SONNET]) == (1, 50, 2_000, 1_000, 0, 300, 0)


def test_openllmetrys_reasoning_tokens_are_read(tmp_path):
    # gen_ai.usage.reasoning_tokens: read as 0 before.
    snap = read(write_export(tmp_path, fixture_lines("openllmetry-openai.jsonl")))
    assert detail(snap["by_model"]["o4-mini-2025-04-16"]) == (1, 476, 1_024, 0, 0, 700, 512)


@pytest.mark.parametrize("order", [1, -1], ids=["as exported", "reversed"])
def test_a_call_traced_by_the_sdk_and_by_openllmetry_counts_once_with_both_copies_detail(tmp_path, order):
    # Both instrumentations on: two spans in two traces, both naming response msg_01MockCacheWrite.
    lines = fixture_lines("anthropic-sdk-and-openllmetry.jsonl")
    assert len(lines) == 2
    snap = read(write_export(tmp_path, lines[::order]))
    assert detail(snap["by_model"][SONNET]) == SDK_TRUTH
    assert snap["notices"] == []


def test_a_call_traced_twice_counts_once_across_a_restart(tmp_path):
    sdk, openllmetry = fixture_lines("anthropic-sdk-and-openllmetry.jsonl")
    (tmp_path / "logs").mkdir()
    path = write_export(tmp_path / "logs", [openllmetry])
    state = tmp_path / "state.toml"
    h = TokenHistory(state_path=state)
    open_source(f"otel:{path}", h).poll()
    h.drain()
    h.save()
    with open(path, "ab") as f:
        f.write(sdk)
    again = TokenHistory(state_path=state)
    open_source(f"otel:{path}", again).poll()
    again.drain()
    assert detail(again.snapshot()["by_model"][SONNET]) == SDK_TRUTH


def test_calls_alike_in_two_traces_without_a_response_id_are_both_counted_and_noticed(tmp_path):
    def call(trace, span_id, start_ms, end_ms):
        return export((ANTHROPIC, [chat(trace, span_id, None, start_ms, end_ms, input_tokens=900, output_tokens=40)]))

    other_trace = "6e0c63257de34c92bf9efcd03927272f"
    (tmp_path / "overlap").mkdir()
    (tmp_path / "apart").mkdir()
    overlap = write_export(
        tmp_path / "overlap",
        [call(TRACE_AGENT, "0000000000000001", 0, 900), call(other_trace, "0000000000000002", 5, 905)],
    )
    snap = read(overlap)
    assert figures(snap["totals"]) == (2, 1_800, 80, 0, 0)
    assert snap["notices"] == [
        f"{overlap}: claude-sonnet-4-5-20250929 calls appear twice, in two traces with the same tokens at the "
        "same time (two instrumentations of one client?); each copy is counted, as they name no response id to match"
    ]
    apart = write_export(
        tmp_path / "apart",
        [call(TRACE_AGENT, "0000000000000001", 0, 900), call(other_trace, "0000000000000002", 1_000, 1_900)],
    )
    snap = read(apart)
    assert (snap["totals"]["requests"], snap["notices"]) == (2, [])


def test_a_call_traced_twice_into_two_files_counts_once_when_they_are_read_apart(tmp_path, monkeypatch):
    # Each file in a process of its own: the copies meet only in the history, by their key.
    monkeypatch.setattr(base, "PARALLEL_MIN_BYTES", 0)
    sdk, openllmetry = fixture_lines("anthropic-sdk-and-openllmetry.jsonl")
    (tmp_path / "a.jsonl").write_bytes(sdk)
    (tmp_path / "b.jsonl").write_bytes(openllmetry)
    h = TokenHistory()
    open_source(f"otel:{tmp_path}", h).read_all(workers=2)
    h.drain()
    row = h.snapshot()["by_model"][SONNET]
    assert (row["requests"], row["input_tokens"], row["cache_read_tokens"], row["cache_write_tokens"]) == (
        1,
        50,
        2_000,
        1_000,
    )


def test_google_genais_contrib_spans_take_cache_reads_out_of_input_and_bill_thoughts_as_output(capsys):
    # Made by make_google_genai.py: opentelemetry-instrumentation-google-genai 1.3b0 over a mock
    # generateContent that answered gemini-2.5-flash twice with
    #   promptTokenCount 1,200, cachedContentTokenCount 800, candidatesTokenCount 150, thoughtsTokenCount 400
    #   promptTokenCount 300, candidatesTokenCount 60
    # The spans say input 1,200 (cache reads in it) and output 550 (thoughts in it), so fresh input is
    # 400 + 300, output 550 + 60, of which 400 reasoning.
    assert main(["report", f"otel:{FIXTURES / 'google-genai.jsonl'}", "--no-history", "--format", "json"]) == 0
    snap = orjson.loads(capsys.readouterr().out)
    row = snap["by_model"]["gemini-2.5-flash"]
    assert detail(row) == (2, 700, 800, 0, 0, 610, 400)
    assert (row["provider"], row["priced"], row["unpriced_requests"]) == ("google", True, 0)
    # $0.30/M input, $0.03/M cache read, $2.50/M output: 210 + 24 + 1,525 micro-dollars
    assert row["cost_usd"] == snap["totals"]["cost_usd"] == 0.001759
    explained = snap["provenance"]["sources"]["otel"]
    assert (
        explained["files_read"],
        explained["usage_lines_read"],
        explained["requests"],
        explained["duplicate_copies"],
        explained["bad_lines"],
    ) == (1, 2, 2, 0, 0)
    assert snap["notices"] == []


def test_the_anthropic_sdks_compaction_tokens_are_counted_beside_the_usage_that_leaves_them_out(tmp_path):
    # The SDK sums a compaction's input, cache read and cache creation into one count: it
    # is priced as fresh input (the split is not on the span).
    extra = {"anthropic.usage.compaction.input_tokens": 4_000, "anthropic.usage.compaction.output_tokens": 250}
    line = export(
        (
            ANTHROPIC,
            [chat(TRACE_REVIEW, "00f067aa0ba902b7", None, 0, 900, input_tokens=1_000, output_tokens=100, extra=extra)],
        )
    )
    row = read(write_export(tmp_path, [line]))["by_model"]["claude-sonnet-4-5-20250929"]
    assert (row["input_tokens"], row["output_tokens"]) == (5_000, 350)
