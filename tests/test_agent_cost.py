"""The agent's own cost beside ours: from every place an agent writes it, per model, and a
request's cost from one place only.

tests/fixtures/claude/otel_cost/ was written by the Claude Code CLI 2.1.197, run
interactively (``drive_tty.py``) with telemetry on, against ``mock_messages_api.py`` and
``otlp_receiver.py`` on 127.0.0.1 (its README says how, and the truth).
"""

import shutil
import tomllib
from pathlib import Path

import orjson
import pytest
import tomli_w

from session_insights import TokenHistory, provenance_views
from session_insights.cli import main
from session_insights.history import agent_cost
from session_insights.report import render
from session_insights.scope import Scope
from session_insights.sources.claude import CONFIG_COST, ClaudeSource
from session_insights.sources.otel import OtelSource
from session_insights.sources.otel_agent import API_REQUEST, COST_METRIC

FIXTURE = Path(__file__).parent / "fixtures" / "claude" / "otel_cost"
PROJECTS = FIXTURE / "home" / ".claude" / "projects"
OTLP = FIXTURE / "otlp"
SESSION = "ee9a3a00-7705-4551-bedd-685492a3e1b1"
OPUS, HAIKU = "claude-opus-4-8", "claude-haiku-4-5-20251001"


def read(history: TokenHistory, *sources) -> dict:
    for source in sources:
        source.poll()
    history.drain()
    return history.snapshot()


def test_claude_codes_otel_events_put_its_cost_per_request_beside_ours():
    h = TokenHistory()
    snap = read(h, ClaudeSource(PROJECTS, h), OtelSource(OTLP, h))
    # The CLI billed the session title it asked for (opus, 10 in, 5 out: $0.000175), a
    # request its transcript does not hold; the others agree to the picodollar.
    assert provenance_views.explained(snap)["agent_cost"] == {
        HAIKU: {
            "agent_usd": 0.012,
            "ours_usd": 0.012,
            "difference_usd": 0.0,
            "agent_requests": 1,
            "requests": 1,
            "from": [API_REQUEST],
        },
        OPUS: {
            "agent_usd": 0.05755,
            "ours_usd": 0.057375,
            "difference_usd": -0.000175,
            "agent_requests": 3,
            "requests": 2,
            "from": [API_REQUEST],
        },
    }
    # The cost.usage metric sums the same requests: a session with events takes none of it.
    assert snap["provenance"]["agent_reports"] == [
        {"from": API_REQUEST, "session": SESSION, "model": HAIKU, "requests": 1, "agent_usd": 0.012},
        {"from": API_REQUEST, "session": SESSION, "model": OPUS, "requests": 3, "agent_usd": 0.05755},
    ]
    assert snap["totals"]["requests"] == 3  # the OTel export adds no request of its own


def test_claude_codes_cost_metric_is_the_sessions_figure_when_no_event_names_it(tmp_path):
    projects = tmp_path / "projects"  # the transcripts without the config beside them
    shutil.copytree(PROJECTS, projects)
    h = TokenHistory()
    snap = read(h, ClaudeSource(projects, h), OtelSource(OTLP / "metrics.jsonl", h))
    cost = provenance_views.explained(snap)["agent_cost"]
    assert {m: (c["agent_usd"], c["agent_requests"], c["from"]) for m, c in cost.items()} == {
        HAIKU: (0.012, None, [COST_METRIC]),
        OPUS: (0.05755, None, [COST_METRIC]),
    }


def test_of_two_places_holding_a_sessions_figure_the_larger_counts_never_their_sum(tmp_path):
    more = tmp_path / "metrics.jsonl"  # a later export of the metric: $0.001 more on opus
    more.write_bytes((OTLP / "metrics.jsonl").read_bytes() + cost_metric_line(1, [(OPUS, 0.001)], SESSION))
    for metrics, expected in ((OTLP / "metrics.jsonl", 0.06955), (more, 0.07055)):
        h = TokenHistory()
        snap = read(h, ClaudeSource(PROJECTS, h), OtelSource(metrics, h))
        reports = snap["provenance"]["agent_reports"]
        assert len({r["from"] for r in reports}) == 1  # the config's or the metric's
        assert sum(r["agent_usd"] for r in reports) == pytest.approx(expected, abs=1e-12)


def transcript_with_cost_usd(tmp_path: Path, request_id: str, cost_usd: float) -> Path:
    """The fixture's transcripts, the request ``request_id`` carrying ``costUSD`` as Claude
    Code wrote it on each assistant line before 1.0."""
    out = tmp_path / "projects"
    for path in PROJECTS.rglob("*.jsonl"):
        lines = []
        for line in path.read_bytes().splitlines():
            obj = orjson.loads(line)
            if obj.get("requestId") == request_id and obj.get("type") == "assistant":
                obj["costUSD"] = cost_usd
            lines.append(orjson.dumps(obj))
        target = out / path.relative_to(PROJECTS)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(b"\n".join(lines) + b"\n")
    return out


@pytest.mark.parametrize("otel_first", [False, True])
def test_a_request_whose_transcript_carries_cost_usd_takes_its_cost_from_there_only(tmp_path, otel_first):
    projects = transcript_with_cost_usd(tmp_path, "req_mock015", 0.05)  # OTel says $0.046
    h = TokenHistory()
    sources = [ClaudeSource(projects, h), OtelSource(OTLP, h)]
    snap = read(h, *(reversed(sources) if otel_first else sources))
    opus = provenance_views.explained(snap)["agent_cost"][OPUS]
    # $0.05 from the transcript, $0.000175 + $0.011375 from the other two events
    assert opus["agent_usd"] == pytest.approx(0.06155, abs=1e-12)
    assert opus["from"] == [API_REQUEST, agent_cost.ON_REQUEST]
    assert opus["agent_requests"] is None  # the transcript's share names no count


def cost_metric_line(temporality: int, points: list[tuple[str, float]], session: str = "s1") -> bytes:
    def attrs(model: str) -> list[dict]:
        return [
            {"key": "session.id", "value": {"stringValue": session}},
            {"key": "model", "value": {"stringValue": model}},
        ]

    metric = {
        "name": "claude_code.cost.usage",
        "unit": "USD",
        "sum": {
            "aggregationTemporality": temporality,
            "isMonotonic": True,
            "dataPoints": [{"attributes": attrs(m), "asDouble": v} for m, v in points],
        },
    }
    body = {"resourceMetrics": [{"resource": {}, "scopeMetrics": [{"scope": {}, "metrics": [metric]}]}]}
    return orjson.dumps(body) + b"\n"


@pytest.mark.parametrize(("temporality", "expected_usd"), [(1, 0.03), (2, 0.02)])
def test_a_cumulative_cost_metric_replaces_its_last_export_and_a_delta_one_adds(tmp_path, temporality, expected_usd):
    path = tmp_path / "metrics.jsonl"
    path.write_bytes(cost_metric_line(temporality, [(OPUS, 0.01)]) + cost_metric_line(temporality, [(OPUS, 0.02)]))
    h = TokenHistory()
    OtelSource(path, h).poll()
    [report] = h.snapshot()["provenance"]["agent_reports"]
    assert (report["session"], report["agent_usd"], report["requests"]) == ("s1", expected_usd, None)


def test_the_agents_figure_is_kept_across_a_restart_and_follows_the_scope(tmp_path):
    state = tmp_path / "state.toml"
    h = TokenHistory(state_path=state)
    read(h, ClaudeSource(PROJECTS, h), OtelSource(OTLP, h))
    h.save()
    h.close()
    again = TokenHistory(state_path=state)
    again.record_usage(OPUS, 100, 10, ts=1_796_174_900.0, session="another-session")
    again.drain()
    snap = again.snapshot(scope=Scope("session", SESSION))
    assert provenance_views.explained(snap)["agent_cost"][OPUS]["agent_usd"] == 0.05755
    other = again.snapshot(scope=Scope("session", "another-session"))
    assert provenance_views.explained(other)["agent_cost"] == {}


def test_explain_shows_the_agents_figure_beside_ours_and_the_price_datas_date():
    h = TokenHistory()
    text = render(read(h, ClaudeSource(PROJECTS, h), OtelSource(OTLP, h)), "text", explain=True)
    table = text.split("Cost the agent wrote, beside ours\n")[1]
    [opus_row] = [line for line in table.splitlines() if line.startswith(OPUS)]
    assert opus_row.split()[1:] == ["OTel", "api_request", "3", "$0.05755", "2", "$0.057375", "-$0.000175"]
    assert "Prices: genai-prices " in text and "newest price change 20" in text


def span_line(attributes: dict) -> bytes:
    values = []
    for key, value in attributes.items():
        kind = "stringValue" if isinstance(value, str) else "doubleValue" if isinstance(value, float) else "intValue"
        values.append({"key": key, "value": {kind: str(value) if kind == "intValue" else value}})
    span = {
        "traceId": "5b8efff798038103d269b633813fc60c",
        "spanId": "051581bf3cb55c13",
        "name": "chat claude-sonnet-4-5",
        "startTimeUnixNano": "1763632800000000000",
        "endTimeUnixNano": "1763632801000000000",
        "attributes": values,
    }
    return orjson.dumps({"resourceSpans": [{"resource": {}, "scopeSpans": [{"scope": {}, "spans": [span]}]}]}) + b"\n"


@pytest.mark.parametrize(
    "cost",
    [
        {"gen_ai.usage.cost": 0.35},  # OpenLLMetry and others
        {"gen_ai.usage.total_cost": 0.35},
        {"langfuse.observation.cost_details": '{"input": 0.3, "output": 0.05, "total": 0.35}'},
        {"langfuse.observation.cost_details": '{"input": 0.3, "output": 0.05}'},
        {"gen_ai.usage.input_cost": 0.3, "gen_ai.usage.output_cost": 0.05},  # any-agent
    ],
)
def test_a_spans_cost_attribute_is_the_cost_its_request_reports(tmp_path, cost):
    path = tmp_path / "spans.jsonl"
    usage = {"gen_ai.response.model": "claude-sonnet-4-5", "gen_ai.usage.input_tokens": 100_000}
    path.write_bytes(span_line({**usage, "gen_ai.usage.output_tokens": 0, **cost}))
    h = TokenHistory()
    snap = read(h, OtelSource(path, h))
    [(model, figure)] = provenance_views.explained(snap)["agent_cost"].items()
    assert (model, figure["ours_usd"], figure["from"]) == ("claude-sonnet-4-5", 0.3, [agent_cost.ON_REQUEST])
    assert figure["agent_usd"] == pytest.approx(0.35, abs=1e-12)


def test_a_span_cost_that_is_not_a_number_makes_its_line_bad(tmp_path):
    path = tmp_path / "spans.jsonl"
    path.write_bytes(
        span_line({"gen_ai.response.model": "m", "gen_ai.usage.input_tokens": 1, "gen_ai.usage.cost": "x"})
    )
    h = TokenHistory()
    snap = read(h, OtelSource(path, h))
    assert (snap["totals"]["requests"], snap["errors"]["bad_lines"]) == (0, 1)


def test_the_agents_figure_read_in_worker_processes_is_the_same(tmp_path, monkeypatch):
    from session_insights.sources import base, parallel

    monkeypatch.setattr(base, "PARALLEL_MIN_BYTES", 0)  # small files, read apart all the same
    monkeypatch.setattr(parallel, "MIN_RANGE_BYTES", 1024)
    runs = []
    run = parallel._run
    monkeypatch.setattr(parallel, "_run", lambda *a, **k: runs.append(1) or run(*a, **k))
    folders = [tmp_path / "logs", tmp_path / "metrics"]  # a folder's files go to one process
    for folder in folders:
        folder.mkdir()
        shutil.copy(OTLP / f"{folder.name}.jsonl", folder)
    h = TokenHistory()
    for source in (ClaudeSource(PROJECTS, h), OtelSource(folders, h)):
        source.read_all(workers=2)
    h.drain()
    cost = provenance_views.explained(h.snapshot())["agent_cost"]
    assert len(runs) == 2, "both sources were read in worker processes"
    assert {m: (c["agent_usd"], c["agent_requests"]) for m, c in cost.items()} == {
        HAIKU: (0.012, 1),
        OPUS: (0.05755, 3),
    }


def test_the_sessions_cost_claude_code_wrote_to_its_config_is_the_agents_figure_without_telemetry():
    h = TokenHistory()
    snap = read(h, ClaudeSource(PROJECTS, h))
    cost = provenance_views.explained(snap)["agent_cost"]
    assert {m: (c["agent_usd"], c["agent_requests"], c["ours_usd"], c["from"]) for m, c in cost.items()} == {
        HAIKU: (0.012, None, 0.012, [CONFIG_COST]),
        OPUS: (0.05755, None, 0.057375, [CONFIG_COST]),
    }
    assert snap["totals"]["requests"] == 3


def test_the_configs_session_cost_counts_only_where_no_per_request_figure_names_the_session():
    h = TokenHistory()
    snap = read(h, ClaudeSource(PROJECTS, h), OtelSource(OTLP / "logs.jsonl", h))
    assert {c["agent_usd"] for c in provenance_views.explained(snap)["agent_cost"].values()} == {0.012, 0.05755}
    assert {r["from"] for r in snap["provenance"]["agent_reports"]} == {API_REQUEST}


def test_a_config_file_that_is_not_json_is_a_bad_line_and_no_figure(tmp_path):
    projects = tmp_path / ".claude" / "projects"
    projects.mkdir(parents=True)
    (tmp_path / ".claude.json").write_text("{not json")
    h = TokenHistory()
    source = ClaudeSource(projects, h)
    source.one_shot = True  # as report reads: a file that does not parse is bad now
    snap = read(h, source)
    assert (snap["errors"]["bad_lines"], snap["provenance"]["agent_reports"]) == (1, [])


@pytest.mark.parametrize(
    "damage",
    [
        {"agent_cost_requests": 5},
        {"agent_cost_requests": [["OTel api_request", "s", "m", 1]]},
        {"agent_cost_sessions": [["OTel cost.usage", "s", "m", "-3"]]},
        {"agent_cost_reported_sessions": [7]},
    ],
)
def test_a_damaged_agent_figure_in_state_toml_moves_it_aside_and_starts_clean(tmp_path, damage):
    state = tmp_path / "state.toml"
    h = TokenHistory(state_path=state)
    read(h, OtelSource(OTLP, h))
    h.save()
    h.close()
    data = tomllib.loads(state.read_text())
    state.write_text(tomli_w.dumps({**data, **damage}))
    again = TokenHistory(state_path=state)
    assert again.snapshot()["provenance"]["agent_reports"] == []
    assert any("moved it to" in n for n in again.notices)


@pytest.mark.parametrize("per_request", [False, True], ids=["session totals", "request costs"])
def test_the_agents_figures_kept_stay_bounded_however_many_sessions_report(tmp_path, per_request):
    state = tmp_path / "state.toml"
    h = TokenHistory(state_path=state)
    for i in range(agent_cost.MAX_ROWS + 100):
        if per_request:
            h.reading.agent.request(API_REQUEST, f"req-{i}", f"session-{i}", OPUS, 0.01)
        else:
            h.reading.agent.session_cost(COST_METRIC, f"session-{i}", OPUS, 0.01, add=True)
    reports = h.snapshot()["provenance"]["agent_reports"]
    assert len(reports) == agent_cost.MAX_ROWS + 1  # the last 100 under "(other sessions)"
    assert sum(r["agent_usd"] for r in reports) == pytest.approx(0.01 * (agent_cost.MAX_ROWS + 100))
    h.save()
    h.close()
    assert len(TokenHistory(state_path=state).snapshot()["provenance"]["agent_reports"]) == agent_cost.MAX_ROWS + 1


def test_a_time_scope_compares_only_the_cost_its_requests_carried():
    # today's part of a session is not the session the agent's report is of
    h = TokenHistory()
    h.record_usage(OPUS, 100, 10, ts=1_796_174_900.0, session=SESSION, reported_cost_usd=0.01)
    read(h, ClaudeSource(PROJECTS, h), OtelSource(OTLP, h))
    snap = h.snapshot(scope=Scope("today"), now_ts=1_796_175_000.0)
    opus = provenance_views.explained(snap)["agent_cost"][OPUS]
    assert (opus["agent_usd"], opus["from"]) == (0.01, [agent_cost.ON_REQUEST])


def test_the_web_searches_billed_are_named_by_model_only_where_there_are_some():
    by_model = {OPUS: {"web_searches": 3}, HAIKU: {"web_searches": 0}, "gpt-5": {}}
    assert (
        provenance_views.web_searches_line(by_model) == f"Web searches, billed per search and in the costs: {OPUS} 3."
    )
    assert provenance_views.web_searches_line({HAIKU: {"web_searches": 0}}) == ""


def test_json_provenance_holds_the_agents_figure_beside_ours(tmp_path, capsys):
    state = str(tmp_path / "state.toml")
    assert main(["report", f"claude:{PROJECTS}", f"otel:{OTLP}", "--format", "json", "--state", state]) == 0
    opus = orjson.loads(capsys.readouterr().out)["provenance"]["agent_cost"][OPUS]
    assert (opus["agent_usd"], opus["ours_usd"], opus["agent_requests"], opus["requests"]) == (0.05755, 0.057375, 3, 2)
