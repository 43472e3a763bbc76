"""What a damaged state file, a failing source or a failing save must not break: start-up
moves a corrupt state aside and starts clean, the background threads go on with a
notice, and a logged session's calls count once however its file is copied or replaced.
"""

from __future__ import annotations

import math
import re
import shutil
import tomllib
from pathlib import Path

import pytest
import tomli_w

from session_insights.app import Saver, SourcePoller
from session_insights.history import TokenHistory
from session_insights.session_logger import SessionLogger
from session_insights.sources import open_source

TS = 1_760_000_000.0  # 2025-10-09
CORRUPT_NAME = re.compile(r"^state\.toml\.corrupt-\d{8}-\d{6}(-\d+)?$")


def _saved_state(path: Path) -> dict:
    """A real state file of a small session, as a table to damage."""
    history = TokenHistory(state_path=path)
    for i in range(5):
        history.record_usage("claude-sonnet-4-5", 1000, 100, ts=TS + i * 60, session="s1", tier="Tier 1",
                             request_key=f"r{i}")
    history.record_tool_call("Bash", 120.0, ts=TS + 10, session="s1")
    history.update_ticket("T-1", "completed", ts=TS + 20, track="build")
    history.rate(8, ts=TS + 30, session="s1")
    history.drain()
    history.save()
    return tomllib.loads(path.read_text())


def _set(data: dict, path: str, value: object) -> None:
    """``data`` with the value at a dotted path (``usage.0.counts``) replaced."""
    *parents, last = path.split(".")
    node = data
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


DAMAGE = {
    "timeline level 5000": ("timeline.level", 5000),
    "last_ts infinite": ("span.last_ts", math.inf),
    "first_ts not a number": ("span.first_ts", math.nan),
    "first_ts in year 10000": ("span.first_ts", 253_402_300_800.0),
    "timeline capacity huge": ("timeline.capacity", 10**12),
    "counters as text": ("usage.0.counts", ["a"] * 11),
    "counters too few": ("usage.0.counts", [1, 2, 3]),
    "counter as a float": ("usage.0.counts.1", 1.5),
    "model empty": ("usage.0.model", ""),
    "session start not a time": ("sessions.0.first_ts", "yesterday"),
    "session mark unknown": ("sessions.0.mark", 7),
    "ticket status unknown": ("tickets.0.status", "done-ish"),
    "ticket time infinite": ("tickets.0.ts", math.inf),
    "day far in the future": ("days.0.0", 10**9),
    "recent second infinite": ("recent.0.0", math.inf),
    "window of zero seconds": ("window_s", 0),
    "tools not a table row": ("tools.0", 5),
    "remembered request cut short": ("recent_requests.0", ["r0", 1.0]),
    "remembered request time nan": ("recent_requests.0.1", math.nan),
    "budget negative": ("budget_usd", -3.0),
    "usage not an array": ("usage", "everything"),
    "errors not a table": ("errors", [1, 2]),
}


@pytest.mark.parametrize("case", sorted(DAMAGE))
def test_a_corrupt_value_in_state_toml_moves_it_aside_and_starts_clean(tmp_path: Path, case: str):
    path = tmp_path / "state.toml"
    data = _saved_state(path)
    data.setdefault("budget_usd", 10.0)
    field, value = DAMAGE[case]
    _set(data, field, value)
    path.write_text(tomli_w.dumps(data))

    history = TokenHistory(state_path=path)  # must not raise

    assert history.snapshot()["totals"]["requests"] == 0, "started clean"
    assert any("moved it to" in n for n in history.notices), history.notices
    assert [p.name for p in tmp_path.iterdir() if CORRUPT_NAME.match(p.name)], "the damaged file is kept aside"
    history.record_usage("claude-sonnet-4-5", 10, 1, ts=TS + 1000)
    history.drain()
    history.save()  # and the clean start saves again
    assert TokenHistory(state_path=path).snapshot()["totals"]["requests"] == 1


def test_a_5000_deep_nested_array_in_state_toml_moves_it_aside(tmp_path: Path):
    path = tmp_path / "state.toml"
    path.write_text("schema = 1\nui = { x = " + "[" * 5000 + "]" * 5000 + " }\n")
    history = TokenHistory(state_path=path)
    assert history.snapshot()["totals"]["requests"] == 0
    assert any("moved it to" in n for n in history.notices), history.notices


def test_a_state_saved_and_loaded_is_unchanged_by_the_checks(tmp_path: Path):
    path = tmp_path / "state.toml"
    _saved_state(path)
    before = TokenHistory(state_path=path)
    assert not before.notices
    snap = before.snapshot()
    assert snap["totals"]["requests"] == 5 and snap["tools"]["Bash"]["calls"] == 1
    assert snap["tickets"]["by_status"]["completed"] == 1 and snap["efficiency"]["ratings"] == 1


# --- threads that must not die quietly ------------------------------------------------


class _Exploding:
    """A source whose reading fails with a bug, as an adapter could."""

    def __init__(self, history: TokenHistory):
        self.history, self.label, self.polls = history, "otel:/tmp/spans.jsonl", 0

    def poll(self) -> int:
        self.polls += 1
        raise OverflowError("int too large to convert to float")


def test_a_source_that_fails_is_a_notice_and_the_others_keep_being_polled(tmp_path: Path):
    history = TokenHistory()
    log = tmp_path / "s.comms.jsonl"
    log.write_text('{"kind": "model_call", "ts": 1760000000, "model": "gpt-4o", "usage": {"input_tokens": 5}}\n')
    bad = _Exploding(history)
    poller = SourcePoller([bad, open_source(f"comms:{log}", history)])
    poller.poll_once()
    with log.open("a") as f:
        f.write('{"kind": "model_call", "ts": 1760000060, "model": "gpt-4o", "usage": {"input_tokens": 7}}\n')
    poller.poll_once()
    history.drain()
    assert bad.polls == 2, "the failing source is tried again"
    assert history.snapshot()["totals"]["input_tokens"] == 12, "the other source kept being read"
    assert any("otel:/tmp/spans.jsonl: reading failed (OverflowError" in n for n in history.notices)


def test_a_save_that_fails_with_any_error_is_a_notice_and_the_next_save_happens(tmp_path: Path, monkeypatch):
    history = TokenHistory(state_path=tmp_path / "state.toml")
    history.record_usage("gpt-4o", 10, 1, ts=TS)
    history.drain()
    saver = Saver(history)
    real_save = history.save
    monkeypatch.setattr(history, "save", lambda: (_ for _ in ()).throw(UnicodeEncodeError(
        "utf-8", "x", 0, 1, "surrogates not allowed")))
    saver.save()
    assert any("could not save" in n and "UnicodeEncodeError" in n for n in history.notices)
    monkeypatch.setattr(history, "save", real_save)
    saver.save()
    assert (tmp_path / "state.toml").exists()


# --- a logged session counts each call once ------------------------------------------


def _log_calls(folder: Path, session: str, n: int, start: int = 0) -> Path:
    with SessionLogger(folder, session) as log:
        for i in range(start, start + n):
            log.model_call("gpt-4o", input_tokens=100 + i, output_tokens=10, ended_ts=TS + i)
    return folder / f"{session}.comms.jsonl"


def test_a_replaced_comms_log_counts_each_call_once(tmp_path: Path):
    """A comms log replaced by a longer copy of itself (a sync tool, an editor's save)
    is read again from its start: the calls it held before count once."""
    logs = tmp_path / "logs"
    path = _log_calls(logs, "s1", 5)
    history = TokenHistory()
    source = open_source(f"comms:{logs}", history)
    source.poll()
    history.drain()
    copy = tmp_path / "copy.jsonl"
    shutil.copy(path, copy)
    with SessionLogger(tmp_path / "more", "s1") as log:
        for i in range(5, 7):
            log.model_call("gpt-4o", input_tokens=100 + i, output_tokens=10, ended_ts=TS + i)
    with copy.open("ab") as f:
        f.write((tmp_path / "more" / "s1.comms.jsonl").read_bytes())
    copy.replace(path)  # a new file (a new inode) in its place
    source.poll()
    history.drain()
    assert history.snapshot()["totals"]["requests"] == 7
