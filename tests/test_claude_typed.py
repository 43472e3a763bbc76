"""Claude lines read by the typed decoder give what orjson's dicts give: the same records,
the same bad lines for the same reasons, for any sequence of lines, odd or not."""

from __future__ import annotations

import sys
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from session_insights.history import TokenHistory
from session_insights.sources import claude_lines
from session_insights.sources.base import BAD_LINE, bad_reason
from session_insights.sources.claude import ClaudeSource

FIXTURES = Path(__file__).parent / "fixtures" / "claude"
IDS = ["toolu_01", "toolu_02", " toolu_03"]
# Placeholders a line is written with, then swapped for bytes orjson.dumps will not write.
RAW = "@@raw{}@@"


def source(tmp_path: Path, typed: bool) -> ClaudeSource:
    s = ClaudeSource(str(tmp_path), TokenHistory())
    if not typed:
        s._fields = claude_lines.dict_fields
    return s


def read(s: ClaudeSource, lines: list[bytes]) -> list:
    """Each line's records, or why it was bad, as the reader of a file keeps them."""
    out = []
    for line in lines:
        try:
            out.append(list(s.parse(line, "f.jsonl")))
        except BAD_LINE as exc:
            out.append(("bad", bad_reason(exc)))
    return [*out, ("left open", s.carry("f.jsonl"))]


# --- lines ----------------------------------------------------------------------------
# A line is drawn with its usual shape, but for a few places (at most three) that take a
# value of another type, a raw number, or no value at all.
MISSING = object()
big_ints = st.sampled_from([2**63 - 1, 2**63, 2**64 - 1, 2**64, 2**70, -(2**63), -(2**63) - 1, 10**30])
odd = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    big_ints,
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=4),
    st.sampled_from(["", " ", "TodoWrite", "<synthetic>", "2025-11-20T10:00:00Z"]),
    st.lists(st.integers(0, 3), max_size=2),
    st.dictionaries(st.sampled_from(["a", "type", "id"]), st.integers(0, 3), max_size=2),
    st.just(MISSING),
)
# Numbers written as orjson.dumps would not write them; past a double's range (orjson
# refuses the line) only where the typed decoder reads the field: see the last test.
finite_numbers = st.sampled_from(["1e-400", "-0", "-0.0", "1E2", "1.5e3", "2.5", "18446744073709551616", "1e308"])
any_numbers = finite_numbers | st.sampled_from(["1e400", "-1e400", "1.8e308"])
PLACES = [
    *("type", "timestamp", "sessionId", "isSidechain", "requestId", "cwd", "costUSD", "message"),
    *("message.id", "message.model", "message.usage", "message.content", "block", "block.type"),
    *("block.id", "block.name", "block.tool_use_id", "block.is_error"),
    *("usage.input_tokens", "usage.output_tokens", "usage.cache_read_input_tokens"),
    *("usage.cache_creation_input_tokens", "usage.cache_creation", "split.ephemeral_5m_input_tokens"),
    *("split.ephemeral_1h_input_tokens", "usage.speed", "usage.server_tool_use", "usage.iterations"),
    *("iteration", "iteration.type", "iteration.input_tokens", "server.web_search_requests"),
    *("iteration.split.ephemeral_5m_input_tokens", "iteration.split.ephemeral_1h_input_tokens"),
    # skipped: a tool_result's content, and a tool's input but for TodoWrite's
    *("block.content", "input", "input.todos", "todo", "todo.status", "todo.id", "todo.content"),
]
SKIPPED = ("block.content", "input", "todo")


class Draw:
    """Draws a line's values: the usual one, or an odd one at the places chosen odd."""

    def __init__(self, draw, places: set[str]):
        self.draw, self.places = draw, places

    def __call__(self, place: str, usual: st.SearchStrategy) -> object:
        if place not in self.places:
            return self.draw(usual)
        numbers = finite_numbers if place.startswith(SKIPPED) else any_numbers
        return self.draw(st.one_of(odd, big_ints, numbers.map(lambda n: ("raw", n))))

    def object(self, fields: dict[str, tuple[str, st.SearchStrategy]]) -> dict:
        """An object of the fields drawn (a usual value may be MISSING too)."""
        values = {key: self(place, usual) for key, (place, usual) in fields.items()}
        return {key: value for key, value in values.items() if value is not MISSING}


def maybe(strategy: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(strategy, strategy, st.just(MISSING))


counts = st.integers(0, 200_000)
TIMESTAMPS = ["2025-11-20T10:00:00.000Z", "2025-11-20T10:00:02.500Z", "2025-11-20T10:01:00+01:00"]


def usage(v: Draw) -> dict:
    def split(at: str) -> dict:
        return v.object(
            {
                "ephemeral_5m_input_tokens": (f"{at}.ephemeral_5m_input_tokens", maybe(counts)),
                "ephemeral_1h_input_tokens": (f"{at}.ephemeral_1h_input_tokens", maybe(counts)),
            }
        )

    def compaction() -> object:
        fields = {"type": ("iteration.type", st.sampled_from(["compaction", "compaction", "message"]))}
        fields |= {"input_tokens": ("iteration.input_tokens", counts), "output_tokens": ("-", counts)}
        if "iteration" in v.places:
            return v("iteration", st.just(None))
        return {**v.object(fields), "cache_creation": split("iteration.split")}

    fields = {
        "input_tokens": ("usage.input_tokens", counts),
        "output_tokens": ("usage.output_tokens", counts),
        "cache_read_input_tokens": ("usage.cache_read_input_tokens", maybe(counts)),
        "cache_creation_input_tokens": ("usage.cache_creation_input_tokens", maybe(counts)),
        "service_tier": ("-", st.just("standard")),
        "speed": ("usage.speed", maybe(st.sampled_from(["fast", "standard"]))),
    }
    out = v.object(fields)
    out["cache_creation"] = (
        v("usage.cache_creation", st.just(None)) if "usage.cache_creation" in v.places else split("split")
    )
    out["server_tool_use"] = v(
        "usage.server_tool_use",
        st.just({"web_search_requests": v("server.web_search_requests", counts.map(lambda n: n % 4)), "x": 0}),
    )
    out["iterations"] = v("usage.iterations", st.just([compaction() for _ in range(v.draw(st.integers(0, 2)))]))
    return {key: value for key, value in out.items() if value is not MISSING}


def tool_input(v: Draw) -> object:
    todo = {"status": ("todo.status", st.sampled_from(["pending", "in_progress", "completed"]))}
    todo |= {"id": ("todo.id", maybe(st.sampled_from(["1", "2", ""]))), "content": ("todo.content", st.just("Do"))}
    todos = [
        v("todo", st.just(None)) if "todo" in v.places else v.object(todo) for _ in range(v.draw(st.integers(0, 2)))
    ]
    return v("input", st.just({"todos": v("input.todos", st.just(todos))}))


def block(v: Draw, kind: str) -> object:
    if kind == "tool_use":
        fields = {"id": ("block.id", st.sampled_from(IDS)), "name": ("block.name", st.sampled_from(TOOLS))}
        out = v.object(fields)
        out["input"] = tool_input(v)
    elif kind == "tool_result":
        fields = {
            "tool_use_id": ("block.tool_use_id", st.sampled_from(IDS)),
            "is_error": ("block.is_error", maybe(st.booleans())),
        }
        out = v.object(fields)
        out["content"] = v("block.content", st.sampled_from(["output", [{"type": "text", "text": "output"}]]))
    else:
        out = {"text": v.draw(st.text(max_size=20))}
    out = {"type": v("block.type", st.just(kind)), **out}
    return v("block", st.just(out)) if "block" in v.places else {k: x for k, x in out.items() if x is not MISSING}


TOOLS = ["Bash", "TodoWrite", "TodoWrite", "Read", " Edit "]


@st.composite
def line_objects(draw) -> dict:
    v = Draw(draw, set(draw(st.lists(st.sampled_from(PLACES), max_size=3))))
    kind = draw(st.sampled_from(["assistant", "user", "assistant", "user", "summary"]))
    kinds = ["tool_result", "tool_result", "text"] if kind == "user" else ["tool_use", "tool_use", "thinking"]
    content = [block(v, draw(st.sampled_from(kinds))) for _ in range(draw(st.integers(0, 3)))]
    message = {
        "id": ("message.id", maybe(st.sampled_from(["msg_1", "msg_2"]))),
        "model": ("message.model", st.sampled_from(["claude-sonnet-4-5-20250929", "claude-haiku-4-5", "<synthetic>"])),
        "content": ("message.content", st.just(content)),
        "usage": ("message.usage", st.just(usage(v)) if kind != "user" else maybe(st.just(None))),
    }
    fields = {
        "type": ("type", st.just(kind)),
        "timestamp": ("timestamp", st.sampled_from(TIMESTAMPS)),
        "sessionId": ("sessionId", st.sampled_from(["s-1", "s-2"])),
        "isSidechain": ("isSidechain", maybe(st.booleans())),
        "requestId": ("requestId", maybe(st.sampled_from(["req_1", "req_2"]))),
        "cwd": ("cwd", maybe(st.sampled_from(["/home/me/project", "C:\\work\\app\\", " "]))),
        "costUSD": ("costUSD", st.one_of(st.just(MISSING), st.floats(0, 5), st.integers(0, 3))),
        "uuid": ("-", st.just("3fa2e123-1e45-4000-8000-000000000001")),  # skipped: holds e123
        "toolUseResult": ("-", st.just({"stdout": "ok", "durationMs": 12, "big": 2**64})),
    }
    out = v.object(fields)
    out["message"] = v("message", st.just(None)) if "message" in v.places else v.object(message)
    return out


# What the bytes of a line may carry besides its values, in a string or a field that is
# skipped (the last of the line's fields).
MARK = "@@mark@@"
byte_quirks = st.sampled_from(
    [
        *[b""] * 30,
        b"\xff",  # invalid UTF-8
        b"\xed\xa0\x80",  # an encoded surrogate
        b"\xf4\x90\x80\x80",  # past U+10FFFF
        b"\xc3\xa9",  # valid UTF-8
        b"\\ud800",  # a lone surrogate, escaped
        b"\\udc00",
        b"\\ud83d\\ude00",  # a pair, escaped
        b"\x01",  # a control character
        b'","\xff":1,"y":"',  # invalid UTF-8 in a key
        b'","x":NaN,"y":"',
        b'","x":Infinity,"y":"',
        b'","x":01,"y":"',
        b'","ty\\u0070e":"user","y":"',  # "type" again, escaped: the last one counts
        b'","nest":' + b"[" * 1023 + b"]" * 1023 + b',"y":"',  # orjson's deepest
        b'","nest":' + b"[" * 1024 + b"]" * 1024 + b',"y":"',  # one past it
    ]
)
line_ends = st.sampled_from([*[b""] * 30, b" ", b"\r", b"\t", b" x", b"\x00", b"}"])


def raw_values(obj: object, raws: list[str]) -> object:
    """``obj`` with each ("raw", n) swapped for a placeholder of the raw number ``n``, and
    what is MISSING left out."""
    if isinstance(obj, tuple) and len(obj) == 2 and obj[0] == "raw":
        raws.append(obj[1])
        return RAW.format(len(raws) - 1)
    if isinstance(obj, dict):
        return {k: raw_values(v, raws) for k, v in obj.items() if v is not MISSING}
    if isinstance(obj, list):
        return [raw_values(v, raws) for v in obj if v is not MISSING]
    return obj


def dumps(obj: object) -> bytes:
    """JSON, with the integers past 64 bits orjson.dumps will not write written as text."""
    if isinstance(obj, int) and not isinstance(obj, bool) and not -(2**63) <= obj < 2**64:
        return str(obj).encode()
    if isinstance(obj, dict):
        return b"{" + b",".join(orjson.dumps(k) + b":" + dumps(v) for k, v in obj.items()) + b"}"
    if isinstance(obj, list):
        return b"[" + b",".join(dumps(v) for v in obj) + b"]"
    return orjson.dumps(obj)


@st.composite
def lines(draw) -> bytes:
    raws: list[str] = []
    obj = raw_values(draw(line_objects()), raws)
    obj["skipped"] = MARK
    text = dumps(obj)
    if draw(st.sampled_from([False] * 4 + [True])):  # a key written twice: the last one counts
        key = draw(st.sampled_from(["type", "timestamp", "message", "isSidechain", "costUSD", "sessionId"]))
        again = draw(odd.filter(lambda x: x is not MISSING))
        twice = orjson.dumps(key) + b":" + dumps(raw_values(again, raws))
        text = b"{" + twice + b"," + text[1:] if draw(st.booleans()) else text[:-1] + b"," + twice + b"}"
    for i, number in enumerate(raws):
        text = text.replace(f'"{RAW.format(i)}"'.encode(), number.encode())
    text = text.replace(MARK.encode(), draw(byte_quirks))
    bom = b"\xef\xbb\xbf" if draw(st.sampled_from([False] * 40 + [True])) else b""  # inside a file
    return bom + text + draw(line_ends)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(transcript=st.lists(lines(), min_size=1, max_size=8))
def test_the_typed_read_gives_the_records_and_bad_lines_of_the_dict_read(tmp_path_factory, transcript):
    folder = tmp_path_factory.getbasetemp()
    assert read(source(folder, typed=True), transcript) == read(source(folder, typed=False), transcript)


def test_the_fixtures_lines_give_the_same_records_both_ways(tmp_path):
    for path in sorted(FIXTURES.rglob("*.jsonl")):
        transcript = [line for line in path.read_bytes().split(b"\n") if line.strip()]
        assert read(source(tmp_path, typed=True), transcript) == read(source(tmp_path, typed=False), transcript)


def test_real_transcript_lines_are_read_without_orjson(tmp_path, monkeypatch):
    """The fast path is the one taken: no line Claude Code wrote goes to the dict read."""

    def refuse(line: bytes) -> tuple:
        raise AssertionError(f"read with orjson: {line[:60]!r}")

    monkeypatch.setattr(claude_lines, "dict_fields", refuse)
    s = source(tmp_path, typed=True)
    paths = sorted(FIXTURES.rglob("*.jsonl"))
    assert paths
    records = [r for path in paths for line in path.read_bytes().split(b"\n") if line for r in s.parse(line, "f")]
    assert any(type(r).__name__ == "UsageEvent" for r in records)
    assert any(type(r).__name__ == "ToolCall" for r in records)


TS = b'"timestamp":"2025-11-20T10:00:00Z"'


@pytest.mark.parametrize(
    ("line", "verdict"),
    [
        # orjson refuses what msgspec would skip unread
        (
            b'{"type":"user",' + TS + b',"message":{"content":[{"type":"tool_result","content":"\xff"}]}}',
            "not valid JSON",
        ),
        (
            b'{"type":"assistant",' + TS + b',"message":{"usage":{}},"x":' + b"[" * 1030 + b"]" * 1030 + b"}",
            "not valid JSON",
        ),
        # msgspec refuses what orjson reads
        (
            b'{"type":"assistant",' + TS + b',"message":{"usage":{"input_tokens":18446744073709551616}}}',
            "usage.input_tokens must be a whole number of tokens",
        ),
        (
            b'{"type":"assistant",' + TS + b',"message":{"usage":{"input_tokens":9223372036854775808}}}',
            "usage.input_tokens is too many tokens for one request",
        ),
        (
            b'{"type":"assistant",'
            + TS
            + b',"isSidechain":1,"message":{"usage":null,"content":[{"type":"tool_use","id":"t"}]}}',
            "tool_use name must be a non-empty string",
        ),
        (
            b'{"type":"assistant",'
            + TS
            + b',"message":{"usage":null,"content":["text",{"type":"tool_use","name":"Bash","id":1}]}}',
            "tool_use id must be a string",
        ),
        (b'[{"type":"assistant","usage":{}}]', "a transcript line must be a JSON object"),
        # both refuse, for reasons of their own (a TodoWrite's input is orjson's to decode)
        (
            b'{"type":"assistant",'
            + TS
            + b',"message":{"usage":null,"content":[{"type":"tool_use","name":"TodoWrite","id":"t","input":{"n":1e400}}]}}',
            "not valid JSON",
        ),
        (b'{"type":"assistant",' + TS + b',"message":{"usage":{"input_tokens":1e400}}}', "not valid JSON"),
        (b'{"type":"assistant",' + TS + b',"costUSD":1e400,"message":{"usage":{}}}', "not valid JSON"),
        (b'{"type":"assistant",' + TS + b',"message":{"usage":{}}}\xef\xbb\xbf', "not valid JSON"),
    ],
)
def test_a_line_the_typed_decoder_cannot_vouch_for_gets_the_dict_reads_verdict(tmp_path, line, verdict):
    assert read(source(tmp_path, typed=True), [line]) == read(source(tmp_path, typed=False), [line])
    assert read(source(tmp_path, typed=True), [line])[0] == ("bad", verdict)


def test_a_line_nested_past_orjsons_limit_is_bad_however_deep_python_may_recurse(tmp_path):
    """msgspec nests as deep as the recursion limit lets it (a host, or hypothesis, may
    raise it); orjson stops at 1,024 levels."""
    line = b'{"type":"assistant",' + TS + b',"message":{"usage":{}},"x":' + b"[" * 1025 + b"]" * 1025 + b"}"
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(10_000)
    try:
        assert read(source(tmp_path, typed=True), [line])[0] == ("bad", "not valid JSON")
    finally:
        sys.setrecursionlimit(limit)


def test_a_number_past_a_doubles_range_in_a_field_never_read_is_not_looked_for(tmp_path):
    """The one line the two reads judge apart, on purpose: Claude Code cannot write it
    (JSON.stringify writes finite numbers), and finding it would cost a scan of every line."""
    line = b'{"type":"assistant","timestamp":"2025-11-20T10:00:00Z","message":{"usage":{}},"x":1e400}'
    assert read(source(tmp_path, typed=False), [line])[0] == ("bad", "not valid JSON")
    assert read(source(tmp_path, typed=True), [line])[0] != ("bad", "not valid JSON")
