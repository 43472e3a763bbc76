"""The parsed copy of state.toml (state_cache.py): a start reads it instead of the TOML
only when it stands for the TOML's exact bytes, and what it holds is what tomllib makes
of the TOML."""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from session_insights import state, state_cache
from session_insights.history import TokenHistory

KEYS = st.text(min_size=1, max_size=8)
SCALARS = (
    st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
)
ROWS = st.dictionaries(KEYS, SCALARS | st.lists(SCALARS, max_size=3).map(tuple), min_size=1, max_size=4)
VALUES = st.recursive(
    SCALARS | st.lists(ROWS, min_size=1, max_size=3),  # arrays of tables, as the state's rows
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
    max_leaves=12,
)
STATES = st.dictionaries(KEYS.filter(lambda k: k != "schema"), VALUES, max_size=5)


def parse_toml(path: Path) -> dict:
    return tomllib.loads(path.read_text("utf-8"))


def save(path: Path, data: dict) -> bytes:
    payload = state.Encoder().encode(data)
    state.write_state(path, payload, data)
    return payload


def same(a: object, b: object) -> bool:
    """Equal, with NaN equal to NaN and int never equal to float or bool."""
    if type(a) is not type(b):
        return False
    if type(a) is dict:
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if type(a) is list:
        return len(a) == len(b) and all(map(same, a, b))
    if type(a) is float and math.isnan(a):
        return math.isnan(b)
    return a == b


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=STATES)
def test_a_start_reads_what_tomllib_reads_whatever_the_data(tmp_path: Path, data: dict):
    path = tmp_path / "state.toml"
    try:
        save(path, data)
    except (TypeError, ValueError, UnicodeEncodeError):
        return  # not TOML (a lone surrogate): no state is written, so no copy either
    from_toml = parse_toml(path)
    loaded = state.load(path)
    assert loaded.notice is None
    assert same(loaded.data, from_toml)
    assert state_cache.cache_path(path).exists() == state_cache.exact_in_json(data)


def test_the_copy_is_what_the_start_reads(tmp_path: Path, monkeypatch):
    path = tmp_path / "state.toml"
    save(path, {"budget_usd": 12.5, "sessions": [{"name": "a", "tokens": 3}, {"name": "b", "tokens": 4}]})

    def no_toml(_text):
        raise AssertionError("the TOML was parsed although its copy stands for it")

    monkeypatch.setattr(tomllib, "loads", no_toml)
    loaded = state.load(path)
    assert loaded.data == {
        "schema": state.SCHEMA,
        "budget_usd": 12.5,
        "sessions": [{"name": "a", "tokens": 3}, {"name": "b", "tokens": 4}],
    }


def test_a_state_edited_by_hand_is_parsed_again(tmp_path: Path):
    path = tmp_path / "state.toml"
    save(path, {"budget_usd": 12.5})
    path.write_bytes(path.read_bytes().replace(b"12.5", b"99.5"))  # same size, other bytes
    assert state.load(path).data["budget_usd"] == 99.5
    # ... and the writer's load kept a copy of the edited file
    assert orjson.loads(state_cache.cache_path(path).read_bytes())["data"]["budget_usd"] == 99.5


@pytest.mark.parametrize("garbage", [b"", b"{", b"[]", b'{"toml_blake2b": 1}', b'{"data": {"budget_usd": 1.0}}'])
def test_a_torn_or_foreign_copy_is_ignored(tmp_path: Path, garbage: bytes):
    path = tmp_path / "state.toml"
    save(path, {"budget_usd": 12.5})
    state_cache.cache_path(path).write_bytes(garbage)
    assert state.load(path).data["budget_usd"] == 12.5


def test_a_copy_of_another_state_is_not_used(tmp_path: Path):
    path, other = tmp_path / "state.toml", tmp_path / "other.toml"
    save(path, {"budget_usd": 12.5})
    save(other, {"budget_usd": 7.0})
    state_cache.cache_path(path).write_bytes(state_cache.cache_path(other).read_bytes())
    assert state.load(path).data["budget_usd"] == 12.5


def test_data_json_cannot_carry_writes_no_copy_and_drops_the_old(tmp_path: Path):
    path = tmp_path / "state.toml"
    save(path, {"budget_usd": 12.5})
    assert state_cache.cache_path(path).exists()
    save(path, {"budget_usd": math.inf, "big": 2**65})
    assert not state_cache.cache_path(path).exists()
    assert state.load(path).data["budget_usd"] == math.inf


def test_a_read_only_load_writes_no_copy(tmp_path: Path):
    path = tmp_path / "state.toml"
    path.write_bytes(state.encode({"budget_usd": 3.0}))
    assert state.load(path, move_corrupt=False).data["budget_usd"] == 3.0
    assert not state_cache.cache_path(path).exists()
    assert state.load(path).data["budget_usd"] == 3.0  # a writer's load keeps one
    assert state_cache.cache_path(path).exists()


def test_a_history_restarts_from_the_copy_with_the_same_figures(tmp_path: Path, monkeypatch):
    path = tmp_path / "state.toml"
    h = TokenHistory(state_path=path)
    for i in range(50):
        h.record_usage(model="claude-sonnet-4-5", input_tokens=100 + i, output_tokens=10, ts=1.76e9 + i, session="s1")
    h.drain()
    h.save()
    h.close()
    before = TokenHistory(state_path=path, read_only=True).snapshot()["totals"]

    def no_toml(_text):
        raise AssertionError("the TOML was parsed although its copy stands for it")

    monkeypatch.setattr(tomllib, "loads", no_toml)
    after = TokenHistory(state_path=path, read_only=True).snapshot()["totals"]
    assert after == before
    assert after["input_tokens"] == sum(100 + i for i in range(50))
