"""Host comms entries from providers we have no normaliser for still count."""

import pytest

from session_insights import TokenHistory
from session_insights.hooks import Hooks


def test_unknown_provider_label_is_read_by_shape_and_kept_for_the_row():
    h = TokenHistory()
    hooks = Hooks(h)
    entry = {
        "ts": 1_763_900_000.0,
        "direction": "in",
        "provider": "ollama",
        "model": "acme-local-coder-7b",
        "payload": {
            "usage": {"prompt_tokens": 1200, "completion_tokens": 300, "prompt_tokens_details": {"cached_tokens": 200}}
        },
    }
    assert hooks.on_comms_entry(entry) is True
    h.drain()
    snap = h.snapshot()
    row = snap["by_model"]["acme-local-coder-7b"]
    assert (row["input_tokens"], row["cache_read_tokens"], row["output_tokens"]) == (1000, 200, 300)
    assert row["provider"] == "ollama"
    assert row["cost_usd"] is None and snap["unpriced_models"] == ["acme-local-coder-7b"]


def test_unknown_provider_label_for_a_known_model_still_prices_by_model():
    h = TokenHistory()
    Hooks(h).on_comms_entry(
        {
            "ts": 1_763_900_000.0,
            "provider": "my-proxy",
            "model": "claude-sonnet-4-5",
            "payload": {"usage": {"input_tokens": 1000, "output_tokens": 100}},
        }
    )
    h.drain()
    assert h.snapshot()["by_model"]["claude-sonnet-4-5"]["cost_usd"] == 0.0045  # $3 and $15 per million tokens


def test_a_hosts_fast_mode_request_and_web_searches_are_priced_as_claude_codes_are():
    # The same Anthropic usage block, from a host's comms log and from a raw response:
    # fast mode at its rate, each web search at $10 per 1,000 (genai-prices).
    from session_insights.hooks import usage_from_comms_entry
    from session_insights.pricing import PriceBook

    usage = {
        "input_tokens": 1_000,
        "output_tokens": 200,
        "speed": "fast",
        "server_tool_use": {"web_search_requests": 3},
    }
    entry = {"direction": "in", "provider": "anthropic", "model": "claude-opus-4-6", "ts": 1_763_900_000.0}
    ev = usage_from_comms_entry({**entry, "payload": {"usage": usage}})
    assert ev.price_context == (("speed", "fast"),) and ev.server_tools == (("web_searches", 3),)
    h = TokenHistory()
    h.add(ev)
    h.record_response({"model": "claude-opus-4-6", "usage": usage}, "anthropic", ts=1_763_900_000.0)
    h.drain()
    fast = PriceBook().pricing("claude-opus-4-6", "anthropic", (("speed", "fast"),))
    one = fast.cost_pusd(1_763_900_000.0, 1_000, 0, 0, 0, 200) + fast.server_tools_pusd(
        1_763_900_000.0, (("web_searches", 3),)
    )
    assert h.snapshot()["totals"]["cost_usd"] == pytest.approx(2 * one / 1e12)
    standard = TokenHistory()
    standard.record_response(
        {"model": "claude-opus-4-6", "usage": {"input_tokens": 1_000, "output_tokens": 200}}, "anthropic"
    )
    standard.drain()
    assert standard.snapshot()["totals"]["cost_usd"] < h.snapshot()["totals"]["cost_usd"] / 2


def test_a_ticket_from_the_hooks_counts_for_the_session_it_names():
    from session_insights.across import session_figures

    h = TokenHistory()
    hooks = Hooks(h)
    usage = {"input_tokens": 1_000, "output_tokens": 100}
    entry = {"ts": 1_763_900_000.0, "model": "claude-sonnet-4-5", "session": "s-1", "payload": {"usage": usage}}
    hooks.on_comms_entry(entry)
    assert hooks.on_ticket("T-1", "todo", ts=1_763_900_010.0, session="s-1") is True
    hooks.on_ticket("T-1", "completed", ts=1_763_900_020.0, session="s-1")
    h.drain()
    (row,) = [r for r in h.session_rows() if r["session"] == "s-1"]
    assert row["tickets_completed"] == 1
    assert session_figures(row)["cost_per_completed_ticket_usd"] == pytest.approx(0.0045)


@pytest.mark.parametrize("bad", [7, b"s-1", "\ud800"], ids=["int", "bytes", "lone-surrogate"])
def test_a_ticket_with_an_unreadable_session_is_refused_in_one_line(bad):
    h = TokenHistory()
    with pytest.raises(ValueError, match="session") as refused:
        Hooks(h).on_ticket("T-1", "todo", ts=1_763_900_000.0, session=bad)
    assert "\n" not in str(refused.value)
    assert h.pending == 0
