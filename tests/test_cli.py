"""``session-insights report`` (DESIGN §5): one snapshot rendered as text, json, md or
csv, the four agreeing on every total; every mistake a user can make ends in one line
on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from session_insights import state
from session_insights.cli import EXIT_USAGE, main
from session_insights.history import TokenHistory
from session_insights.session_logger import SessionLogger
from session_insights.sources import default_roots
from session_insights.store import history_path_for

T0 = 1_760_000_000.0
FIGURE_KEYS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "requests", "cost_usd")
UNPRICED = "mystery-model-9000"
# Published list prices, USD per million tokens: claude-sonnet-4-5 $3 in, $15 out, $0.30
# cache read, $3.75 cache write; gpt-4o $2.50 in, $10 out, $1.25 cached input.
SONNET_USD = (12_000 * 3 + 3_000 * 15 + 150_000 * 0.30 + 20_000 * 3.75) / 1e6
GPT4O_USD = (40_000 * 2.5 + 5_000 * 10 + 10_000 * 1.25) / 1e6


@pytest.fixture
def comms_folder(tmp_path: Path) -> Path:
    """A logged session: two priced models and an unpriced one over three tiers, tool
    calls, tickets, a rating, and one unreadable line."""
    folder = tmp_path / "logs"
    with SessionLogger(folder, "s1") as log:
        log.model_call(
            "claude-sonnet-4-5",
            input_tokens=12_000,
            output_tokens=3_000,
            cache_read_tokens=150_000,
            cache_write_tokens=20_000,
            provider="anthropic",
            tier="Tier 1",
            ended_ts=T0,
        )
        log.model_call(
            "gpt-4o",
            input_tokens=40_000,
            output_tokens=5_000,
            cache_read_tokens=10_000,
            provider="openai",
            tier="Tier 3",
            ended_ts=T0 + 120,
        )
        log.model_call(UNPRICED, input_tokens=9_000, output_tokens=900, tier="Tier 4", ended_ts=T0 + 300)
        log.tool_call("Bash", 1_500.0, ts=T0 + 10)
        log.tool_call("Bash", 20.0, ok=False, ts=T0 + 20)
        log.tool_call("Read", 4.0, ts=T0 + 30)
        log.ticket("T-1", "completed", ts=T0 + 200, track="core")
        log.ticket("T-2", "blocked", ts=T0 + 250, track="core", reason="waiting for review")
        log.ticket("T-3", "todo", ts=T0 + 260)
        log.rate(8, ts=T0 + 280)
    with open(folder / "s1.comms.jsonl", "ab") as f:
        f.write(b"this line is not JSON\n")
    return folder


def _report(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["report", *args])
    out, err = capsys.readouterr()
    return code, out, err


def _json_report(capsys, *args: str) -> dict:
    code, out, err = _report(capsys, *args, "--format", "json")
    assert (code, err) == (0, "")
    return json.loads(out)


# --- json ---------------------------------------------------------------------------


def test_json_report_has_every_documented_field(capsys, comms_folder: Path):
    snap = _json_report(capsys, f"comms:{comms_folder}")

    for key in (
        "totals",
        "by_model",
        "unpriced_models",
        "burn_rate",
        "efficiency",
        "tools",
        "tickets",
        "sessions",
        "errors",
    ):
        assert key in snap, key
    for key in FIGURE_KEYS:
        assert key in snap["totals"], key
        for model in snap["by_model"].values():
            assert key in model, key
    assert set(snap["errors"]) >= {"bad_lines", "files"}


def test_json_report_totals_and_breakdowns_are_exact(capsys, comms_folder: Path):
    snap = _json_report(capsys, f"comms:{comms_folder}")

    totals = snap["totals"]
    assert {k: totals[k] for k in FIGURE_KEYS} == {
        "input_tokens": 61_000,
        "output_tokens": 8_900,
        "cache_read_tokens": 160_000,
        "cache_write_tokens": 20_000,
        "requests": 3,
        "cost_usd": pytest.approx(SONNET_USD + GPT4O_USD),
    }
    assert set(snap["by_model"]) == {"claude-sonnet-4-5", "gpt-4o", UNPRICED}
    assert snap["by_model"]["claude-sonnet-4-5"]["cost_usd"] == pytest.approx(SONNET_USD)
    assert snap["by_model"]["gpt-4o"]["cost_usd"] == pytest.approx(GPT4O_USD)
    # An unpriced model's tokens count; its cost is unknown, never $0.
    assert snap["unpriced_models"] == [UNPRICED]
    assert snap["by_model"][UNPRICED]["cost_usd"] is None
    assert snap["by_model"][UNPRICED]["input_tokens"] == 9_000
    for key in FIGURE_KEYS[:-1]:
        assert sum(m[key] for m in snap["by_model"].values()) == totals[key]
    assert snap["tools"]["Bash"]["calls"] == 2 and snap["tools"]["Bash"]["failures"] == 1
    assert snap["tickets"]["by_status"] == {"todo": 1, "in_progress": 0, "blocked": 1, "completed": 1, "left_open": 0}
    assert snap["tickets"]["blocked"][0]["reason"] == "waiting for review"
    assert list(snap["sessions"]) == ["s1"]
    assert (snap["errors"]["bad_lines"], snap["errors"]["files"]) == (1, {str(comms_folder / "s1.comms.jsonl"): 1})
    assert snap["burn_rate"]["session"]["tokens"] == totals["total_tokens"]
    assert snap["efficiency"]["tokens_per_completed_ticket"] == totals["total_tokens"]


def test_budget_flag_reaches_the_projection(capsys, comms_folder: Path):
    snap = _json_report(capsys, f"comms:{comms_folder}", "--budget", "10")
    assert snap["projection"]["budget_usd"] == 10.0
    assert snap["projection"]["budget_left_usd"] == pytest.approx(10.0 - SONNET_USD - GPT4O_USD)


# --- csv, md, text ------------------------------------------------------------------


def _csv_rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_report_parses_and_its_total_row_agrees_with_json(capsys, comms_folder: Path):
    snap = _json_report(capsys, f"comms:{comms_folder}")
    code, out, _ = _report(capsys, f"comms:{comms_folder}", "--format", "csv")
    assert code == 0

    rows = _csv_rows(out)
    (total,) = [r for r in rows if r["section"] == "total"]
    for key in FIGURE_KEYS[:-1]:
        assert int(total[key]) == snap["totals"][key], key
    assert float(total["cost_usd"]) == pytest.approx(snap["totals"]["cost_usd"], abs=1e-6)
    by_model = {r["name"]: r for r in rows if r["section"] == "model"}
    assert set(by_model) == set(snap["by_model"])
    assert by_model[UNPRICED]["cost_usd"] == ""  # unknown, not 0
    assert {r["name"] for r in rows if r["section"] == "tier"} == {"Tier 1", "Tier 3", "Tier 4"}


def test_md_report_has_a_table_per_breakdown(capsys, comms_folder: Path):
    code, out, _ = _report(capsys, f"comms:{comms_folder}", "--format", "md")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "# Session report"
    for title, first_column in (("By model", "Model"), ("By tier", "Tier"), ("Tools", "Tool"), ("Sessions", "Session")):
        i = lines.index(f"## {title}")
        assert lines[i + 2].startswith(f"| {first_column} |")
        names = 3 if title == "Sessions" else 1  # a session's project and source read as names
        assert re.fullmatch(rf"\|(:---\|){{{names}}}(---:\|)+", lines[i + 3]), lines[i + 3]
    model_rows = [line for line in lines if line.startswith(f"| {UNPRICED} |")]
    assert len(model_rows) == 1 and "unpriced" in model_rows[0]


def test_text_report_uses_thousands_separators_dollars_and_names_unpriced_models(capsys, comms_folder: Path):
    code, out, _ = _report(capsys, f"comms:{comms_folder}")  # text is the default
    assert code == 0
    assert "249,900" in out and "160,000" in out
    assert "20000" not in out  # every large figure is separated
    assert re.search(r"Cost so far: \$0\.36\b", out)
    assert f"unpriced: {UNPRICED}" in out
    assert re.search(rf"^{re.escape(UNPRICED)} .* unpriced ", out, re.MULTILINE)
    assert "Skipped 1 unreadable line(s)" in out


def test_text_report_counts_one_request_in_the_singular(capsys, tmp_path: Path):
    with SessionLogger(tmp_path / "one", "s1") as log:
        log.model_call("claude-sonnet-4-5", input_tokens=1_000, output_tokens=100, ended_ts=T0)
    code, out, _ = _report(capsys, f"comms:{tmp_path / 'one'}")
    assert code == 0
    assert "Tokens: 1,100 in 1 request (input 1,000" in out


def _tokens_line(text: str) -> dict:
    m = re.search(
        r"Tokens: ([\d,]+) in ([\d,]+) requests? \(input ([\d,]+), output ([\d,]+), "
        r"cache read ([\d,]+), cache write ([\d,]+)\)",
        text,
    )
    assert m, text
    total, requests, inp, out, read, write = (int(g.replace(",", "")) for g in m.groups())
    cost = float(re.search(r"Cost so far: \$([\d,.]+)", text).group(1).replace(",", ""))
    return {
        "total_tokens": total,
        "requests": requests,
        "input_tokens": inp,
        "output_tokens": out,
        "cache_read_tokens": read,
        "cache_write_tokens": write,
        "cost_usd": cost,
    }


def test_the_four_formats_agree_on_totals(capsys, comms_folder: Path):
    spec = f"comms:{comms_folder}"
    totals = _json_report(capsys, spec)["totals"]
    expected = {k: totals[k] for k in (*FIGURE_KEYS, "total_tokens")}

    _, text, _ = _report(capsys, spec, "--format", "text")
    _, md, _ = _report(capsys, spec, "--format", "md")
    _, csv_text, _ = _report(capsys, spec, "--format", "csv")
    (csv_total,) = [r for r in _csv_rows(csv_text) if r["section"] == "total"]
    from_csv = {k: int(csv_total[k]) for k in expected if k != "cost_usd"}
    from_csv["cost_usd"] = float(csv_total["cost_usd"])

    for name, got in (("text", _tokens_line(text)), ("md", _tokens_line(md)), ("csv", from_csv)):
        cents = 0.005 if name in ("text", "md") else 1e-6  # text shows whole cents
        assert got.pop("cost_usd") == pytest.approx(expected["cost_usd"], abs=cents), name
        assert got == {k: v for k, v in expected.items() if k != "cost_usd"}, name


# --- state file ---------------------------------------------------------------------


def _saved_state(path: Path) -> TokenHistory:
    history = TokenHistory(state_path=path)
    history.record_usage("gpt-4o", 40_000, 5_000, 10_000, ts=T0, tier="Tier 3", session="saved", provider="openai")
    history.record_usage(UNPRICED, 1_000, 100, ts=T0 + 60, session="saved")
    history.record_tool_call("Bash", 10.0, ts=T0)
    history.update_ticket("T-9", "completed", ts=T0 + 30)
    history.drain()
    history.save()
    return history


def test_report_with_state_reports_its_aggregates_and_leaves_the_file_alone(capsys, tmp_path: Path):
    path = tmp_path / "state.toml"
    saved = _saved_state(path).snapshot()
    before = path.read_bytes()

    snap = _json_report(capsys, "--state", str(path))

    assert snap["totals"] == saved["totals"]
    assert snap["by_model"] == json.loads(json.dumps(saved["by_model"]))
    assert snap["unpriced_models"] == [UNPRICED]
    assert snap["tools"]["Bash"]["calls"] == 1
    assert snap["tickets"]["by_status"]["completed"] == 1
    assert path.read_bytes() == before  # report is read-only


def test_report_adds_sources_to_the_state_it_starts_from(capsys, tmp_path: Path, comms_folder: Path):
    path = tmp_path / "state.toml"
    saved = _saved_state(path).snapshot()["totals"]
    logged = _json_report(capsys, f"comms:{comms_folder}")["totals"]

    both = _json_report(capsys, f"comms:{comms_folder}", "--state", str(path))["totals"]

    for key in FIGURE_KEYS[:-1]:
        assert both[key] == saved[key] + logged[key], key


def test_report_without_source_reads_the_default_state_file(capsys):
    saved = _saved_state(state.default_path()).snapshot()["totals"]

    assert _json_report(capsys)["totals"] == saved


def test_report_with_a_new_state_path_treats_it_as_empty(capsys, tmp_path: Path, comms_folder: Path):
    new = tmp_path / "new" / "state.toml"
    logged = _json_report(capsys, f"comms:{comms_folder}")["totals"]

    assert _json_report(capsys, f"comms:{comms_folder}", "--state", str(new))["totals"] == logged
    assert not new.exists()  # report never writes the state
    assert history_path_for(new).exists()  # the history beside it takes in what was read


def test_report_with_a_corrupt_state_file_does_not_move_it(capsys, tmp_path: Path):
    path = tmp_path / "state.toml"
    path.write_bytes(b"not toml [[")

    _report(capsys, "--state", str(path), "--format", "json")

    assert path.read_bytes() == b"not toml [["
    assert [p.name for p in tmp_path.iterdir()] == ["state.toml"]


# --- errors -------------------------------------------------------------------------


def _assert_one_line_usage_error(code: int, out: str, err: str, *needles: str) -> None:
    assert code == EXIT_USAGE == 2
    assert out == ""
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert err.startswith("session-insights report: ")
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err


def test_missing_comms_file_is_a_one_line_error(capsys, tmp_path: Path):
    missing = tmp_path / "nope.comms.jsonl"
    _assert_one_line_usage_error(*_report(capsys, f"comms:{missing}"), str(missing), "does not exist")


def test_missing_comms_folder_is_a_one_line_error(capsys, tmp_path: Path):
    missing = tmp_path / "no-such-folder"
    _assert_one_line_usage_error(*_report(capsys, f"comms:{missing}"), str(missing), "does not exist")


def test_unknown_source_kind_is_a_one_line_error_listing_the_kinds(capsys):
    _assert_one_line_usage_error(*_report(capsys, "foo:x"), "foo:x", "comms:FILE")


@pytest.mark.parametrize("spec", ["comms", "comms:"])
def test_comms_without_a_path_is_a_one_line_error(capsys, spec: str):
    _assert_one_line_usage_error(*_report(capsys, spec), "needs a path")


def test_no_source_no_logs_and_no_state_is_one_line_naming_where_report_looked(capsys):
    looked = [str(root) for kind in ("claude", "codex", "gemini") for root in default_roots(kind)]

    _assert_one_line_usage_error(*_report(capsys), "nothing to report", "--state", *looked)


def test_a_new_state_path_with_no_logs_anywhere_is_nothing_to_report(capsys, tmp_path: Path):
    new = tmp_path / "gone.toml"
    _assert_one_line_usage_error(*_report(capsys, "--state", str(new)), "nothing to report", str(new))
    assert list(tmp_path.iterdir()) == []


def test_one_bad_source_among_good_ones_stops_before_printing_a_report(capsys, comms_folder: Path):
    _assert_one_line_usage_error(*_report(capsys, f"comms:{comms_folder}", "foo:x"), "foo:x")


def _console_script() -> str:
    script = Path(sys.executable).with_name("session-insights")
    assert script.exists(), "the package's console script should be installed in the venv"
    return str(script)


def test_console_script_reports_a_bad_source_without_a_traceback(tmp_path: Path):
    result = subprocess.run(
        [_console_script(), "report", "foo:x"], capture_output=True, text=True, cwd=tmp_path, timeout=120
    )
    _assert_one_line_usage_error(result.returncode, result.stdout, result.stderr, "unknown source")


def test_console_script_prints_a_json_report(tmp_path: Path, comms_folder: Path):
    result = subprocess.run(
        [_console_script(), "report", f"comms:{comms_folder}", "--format", "json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert (result.returncode, result.stderr) == (0, "")
    assert json.loads(result.stdout)["totals"]["requests"] == 3


def test_a_bad_flag_value_exits_2_without_a_traceback(capsys, comms_folder: Path):
    with pytest.raises(SystemExit) as exc:
        main(["report", f"comms:{comms_folder}", "--budget", "lots"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "budget must be a number" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("flags", "needle"),
    [(["--size", "big"], "WIDTHxHEIGHT"), (["--size", "10x10"], "at least"), (["--no-such-flag"], "--no-such-flag")],
)
def test_a_bad_flag_of_the_window_is_one_line_as_in_report(capsys, flags, needle):
    with pytest.raises(SystemExit) as exc:
        main(flags)
    assert exc.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1, captured.err
    assert captured.err.startswith("session-insights: ") and needle in captured.err
    assert "usage:" not in captured.err


def test_the_sessions_table_lists_sessions_in_start_order_with_their_project(capsys):
    # The genuine Claude Code fixtures: session ee9a3a00 started after f149cb5c.
    folder = Path(__file__).parent / "fixtures" / "claude"
    code, out, _ = _report(capsys, f"claude:{folder}", "--no-history", "--utc")
    assert code == 0
    table = out[out.index("\nSessions\n") + 1 :].split("\n\n")[0].splitlines()
    assert table[1].split()[:3] == ["Session", "Project", "Source"]
    rows = [line.split() for line in table[3:]]
    assert [r[0][:8] for r in rows] == ["f149cb5c", "ee9a3a00"]
    assert all(r[1:3] == ["work", "claude"] for r in rows)
