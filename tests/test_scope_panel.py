"""What the panel's top bar says for a scope, with no window: the scope bar's texts
(ui/scope_bar.py) name the scope."""

from __future__ import annotations

from session_insights import formatting as fmt
from session_insights import views
from session_insights.scope import Scope
from session_insights.ui import scope_bar

# --- what the top bar and the headers' titles say ----------------------------------------

RECENT = {
    "scope": Scope.of_session("7ec3a7e0-2000-4000-8000-000000000002"),
    "session": "7ec3a7e0-2000-4000-8000-000000000002",
    "project": "web",
    "source": "codex",
    "first_ts": 1_764_157_600.0,
    "last_ts": 1_764_157_720.0,
}
OLD = {
    "scope": Scope.of_session("0a1d5e55-1000-4000-8000-000000000001"),
    "session": "0a1d5e55-1000-4000-8000-000000000001",
    "project": None,
    "source": "claude",
    "first_ts": 1_763_900_000.0,
    "last_ts": 1_763_900_180.0,
}


def unresolved(kind: str, **known: object) -> dict:
    """A snapshot's ``scope`` of ``kind``: None but what is ``known``."""
    info = {"kind": kind, "session": None, "project": None, "source": None, "start_ts": None, "end_ts": None}
    return {**info, "active_s": None, **known}


def test_the_combo_offers_the_kinds_then_the_recent_sessions_by_project_source_short_id_and_start():
    labels = list(scope_bar.choice_scopes([RECENT, OLD]))
    assert labels == [
        "Active session",
        "This 5-hour block",
        "Today",
        "Last 7 days",
        "All sessions",
        f"web · codex · 7ec3a7e0 · {fmt.clock(RECENT['first_ts'])}",
        f"no project · claude · 0a1d5e55 · {fmt.clock(OLD['first_ts'])}",
    ]
    scopes = scope_bar.choice_scopes([RECENT, OLD])
    assert scopes["Today"] == Scope("today") and scopes[labels[5]] == RECENT["scope"]


def test_two_sessions_that_would_read_alike_are_told_apart_by_their_whole_id():
    twin = {**RECENT, "session": "7ec3a7e0-ffff", "scope": Scope.of_session("7ec3a7e0-ffff")}
    scopes = scope_bar.choice_scopes([RECENT, twin])
    assert len(scopes) == 7
    assert list(scopes)[-1].endswith(" · 7ec3a7e0-ffff") and scopes[list(scopes)[-1]] == twin["scope"]


def test_active_and_a_pinned_session_are_named_by_their_session_in_the_summarys_words():
    active = unresolved("active", session=RECENT["session"], project="web", source="codex", active_s=125.0)
    active["start_ts"] = RECENT["first_ts"]
    assert scope_bar.scope_name(active) == "active session 7ec3a7e0"
    # The bar says what the summary and report say of the scope (views.scope_label).
    assert scope_bar.scope_text(active) == views.scope_label(active)
    assert scope_bar.scope_text(active) == (
        f"Active session: web · codex · 7ec3a7e0, started {fmt.clock(RECENT['first_ts'])}, active 2m 05s"
    )
    pinned = {**active, "kind": "session"}
    assert scope_bar.scope_name(pinned) == "session 7ec3a7e0"
    assert scope_bar.scope_text(pinned).startswith("Session: web · codex · 7ec3a7e0, started ")
    assert scope_bar.scope_name(unresolved("active")) == "active session"


def test_a_span_of_time_is_named_in_the_headers_titles_by_its_kind():
    assert [scope_bar.scope_name(unresolved(k)) for k in ("block", "today", "week", "all")] == [
        "this 5-hour block",
        "today",
        "last 7 days",
        "all sessions",
    ]
    today = unresolved("today", start_ts=1_764_115_200.0, end_ts=None, active_s=3_900.0)
    assert scope_bar.scope_text(today) == f"Today: from {fmt.clock(1_764_115_200.0)}, active 1h 05m"


def test_a_session_of_the_durable_history_says_its_active_time_is_not_kept():
    row = {"session": "5703ed00-3000", "project": "docs", "source": "gemini", "first_ts": 1_763_640_800.0}
    info = scope_bar.past_scope({**row, "last_ts": 1_763_640_860.0, "end_ts": None})
    assert info["end_ts"] == 1_763_640_860.0 and info["kind"] == "session"
    assert scope_bar.scope_name(info) == "session 5703ed00"
    assert scope_bar.scope_text(info) == (
        f"Session: docs · gemini · 5703ed00, started {fmt.clock(1_763_640_800.0)}, active time not kept"
    )


def test_a_control_character_in_a_project_read_from_a_log_shows_as_its_escape():
    odd = {**RECENT, "project": "web\x1b[31m"}
    label = list(scope_bar.choice_scopes([odd]))[-1]
    assert "\x1b" not in label and label.startswith("web\\x1b[31m · codex")
    info = unresolved("active", session=odd["session"], project=odd["project"], source="codex")
    assert "\x1b" not in scope_bar.scope_text(info)
