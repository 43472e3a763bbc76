"""Host comms entries from providers we have no normaliser for still count."""

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
