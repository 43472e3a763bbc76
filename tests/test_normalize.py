"""Provider usage blocks turned into our token fields (DESIGN §2).

Whatever the provider means by "input", the result's ``input_tokens`` never includes
cache reads or writes and ``output_tokens`` includes reasoning. Every result is a dict
of keyword arguments that ``usage_event`` accepts as is.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from session_insights.events import usage_event
from session_insights.normalize import (
    anthropic_usage,
    canonical_provider,
    deepseek_usage,
    gemini_usage,
    openai_usage,
    otel_usage,
    response_usage,
)

# --- Anthropic: input already excludes cache ------------------------------------------


def test_anthropic_input_is_taken_as_is_and_cache_creation_splits_into_5m_and_1h():
    usage = {
        "input_tokens": 12,
        "cache_creation_input_tokens": 1_500,
        "cache_read_input_tokens": 20_000,
        "cache_creation": {"ephemeral_5m_input_tokens": 1_000, "ephemeral_1h_input_tokens": 500},
        "output_tokens": 345,
        "service_tier": "standard",
    }
    assert anthropic_usage(usage) == {
        "input_tokens": 12,
        "cache_read_tokens": 20_000,
        "cache_write_tokens": 1_000,
        "cache_write_1h_tokens": 500,
        "output_tokens": 345,
    }


def test_anthropic_1h_only_cache_writes_leave_no_5m_writes():
    usage = {
        "input_tokens": 3,
        "cache_creation_input_tokens": 8_000,
        "cache_read_input_tokens": 0,
        "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 8_000},
        "output_tokens": 10,
    }
    assert anthropic_usage(usage) == {
        "input_tokens": 3,
        "cache_read_tokens": 0,
        "cache_write_tokens": 0,
        "cache_write_1h_tokens": 8_000,
        "output_tokens": 10,
    }


def test_anthropic_older_total_only_cache_creation_counts_as_5m_writes():
    usage = {
        "input_tokens": 4,
        "cache_creation_input_tokens": 2_048,
        "cache_read_input_tokens": 512,
        "output_tokens": 77,
    }
    assert anthropic_usage(usage) == {
        "input_tokens": 4,
        "cache_read_tokens": 512,
        "cache_write_tokens": 2_048,
        "cache_write_1h_tokens": 0,
        "output_tokens": 77,
    }


def test_anthropic_empty_split_falls_back_to_the_total():
    usage = {
        "input_tokens": 4,
        "cache_creation_input_tokens": 2_048,
        "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
        "output_tokens": 77,
    }
    assert anthropic_usage(usage)["cache_write_tokens"] == 2_048
    assert anthropic_usage(usage)["cache_write_1h_tokens"] == 0


def test_anthropic_missing_and_null_counts_are_zero():
    usage = {"input_tokens": 9, "output_tokens": 1, "cache_read_input_tokens": None, "cache_creation": None}
    assert anthropic_usage(usage) == {
        "input_tokens": 9,
        "cache_read_tokens": 0,
        "cache_write_tokens": 0,
        "cache_write_1h_tokens": 0,
        "output_tokens": 1,
    }


# --- OpenAI: input includes cached ------------------------------------------------------


def test_openai_chat_completions_cached_tokens_move_from_input_to_cache_read():
    usage = {
        "prompt_tokens": 2_006,
        "completion_tokens": 300,
        "total_tokens": 2_306,
        "prompt_tokens_details": {"cached_tokens": 1_920, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 128,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }
    assert openai_usage(usage) == {
        "input_tokens": 86,
        "cache_read_tokens": 1_920,
        "output_tokens": 300,
        "reasoning_tokens": 128,
    }


def test_openai_chat_completions_without_details_has_no_cache():
    usage = {"prompt_tokens": 50, "completion_tokens": 7, "total_tokens": 57}
    assert openai_usage(usage) == {
        "input_tokens": 50,
        "cache_read_tokens": 0,
        "output_tokens": 7,
        "reasoning_tokens": 0,
    }


def test_openai_responses_input_tokens_details_cached_tokens_is_a_cache_read():
    usage = {
        "input_tokens": 5_000,
        "input_tokens_details": {"cached_tokens": 4_096},
        "output_tokens": 1_200,
        "output_tokens_details": {"reasoning_tokens": 1_024},
        "total_tokens": 6_200,
    }
    assert openai_usage(usage) == {
        "input_tokens": 904,
        "cache_read_tokens": 4_096,
        "output_tokens": 1_200,
        "reasoning_tokens": 1_024,
    }


def test_codex_token_count_cached_input_and_reasoning_output():
    usage = {
        "input_tokens": 24_763,
        "cached_input_tokens": 24_448,
        "output_tokens": 1_290,
        "reasoning_output_tokens": 1_024,
        "total_tokens": 26_053,
    }
    assert openai_usage(usage) == {
        "input_tokens": 315,
        "cache_read_tokens": 24_448,
        "output_tokens": 1_290,
        "reasoning_tokens": 1_024,
    }


def test_openai_reasoning_never_exceeds_output():
    usage = {"input_tokens": 10, "output_tokens": 5, "output_tokens_details": {"reasoning_tokens": 9}}
    assert openai_usage(usage)["reasoning_tokens"] == 5


@pytest.mark.parametrize(
    "usage",
    [
        {"prompt_tokens": 100, "completion_tokens": 1, "prompt_tokens_details": {"cached_tokens": 101}},
        {"input_tokens": 100, "output_tokens": 1, "input_tokens_details": {"cached_tokens": 101}},
        {"input_tokens": 100, "output_tokens": 1, "cached_input_tokens": 101},
    ],
    ids=["chat-completions", "responses", "codex"],
)
def test_openai_cached_above_input_raises(usage):
    with pytest.raises(ValueError, match=r"cached tokens \(101\) exceeds input tokens \(100\)"):
        openai_usage(usage)


# --- Gemini: prompt includes cached; thoughts bill as output ------------------------------


def test_gemini_cached_is_subtracted_and_thoughts_are_added_to_output():
    usage = {
        "promptTokenCount": 12_000,
        "candidatesTokenCount": 800,
        "totalTokenCount": 14_500,
        "cachedContentTokenCount": 8_000,
        "thoughtsTokenCount": 1_700,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 12_000}],
    }
    assert gemini_usage(usage) == {
        "input_tokens": 4_000,
        "cache_read_tokens": 8_000,
        "output_tokens": 2_500,
        "reasoning_tokens": 1_700,
        "tool_prompt_tokens": 0,
    }


def test_gemini_tool_use_prompt_tokens_count_as_input():
    usage = {
        "promptTokenCount": 1_000,
        "toolUsePromptTokenCount": 250,
        "candidatesTokenCount": 40,
        "totalTokenCount": 1_290,
    }
    assert gemini_usage(usage) == {
        "input_tokens": 1_250,
        "cache_read_tokens": 0,
        "output_tokens": 40,
        "reasoning_tokens": 0,
        "tool_prompt_tokens": 250,  # part of the input, kept apart for Token Categories
    }


def test_gemini_cached_above_prompt_raises():
    usage = {"promptTokenCount": 10, "cachedContentTokenCount": 11, "candidatesTokenCount": 1}
    with pytest.raises(ValueError, match=r"cachedContentTokenCount \(11\) exceeds promptTokenCount \(10\)"):
        gemini_usage(usage)


# --- DeepSeek: prompt includes cache hits ----------------------------------------------------


def test_deepseek_cache_hits_move_from_prompt_to_cache_read():
    usage = {
        "prompt_tokens": 1_000,
        "completion_tokens": 200,
        "total_tokens": 1_200,
        "prompt_tokens_details": {"cached_tokens": 640},
        "prompt_cache_hit_tokens": 640,
        "prompt_cache_miss_tokens": 360,
        "completion_tokens_details": {"reasoning_tokens": 150},
    }
    assert deepseek_usage(usage) == {
        "input_tokens": 360,
        "cache_read_tokens": 640,
        "output_tokens": 200,
        "reasoning_tokens": 150,
    }


def test_deepseek_hits_above_prompt_raise():
    usage = {"prompt_tokens": 10, "prompt_cache_hit_tokens": 20, "completion_tokens": 1}
    with pytest.raises(ValueError, match=r"prompt_cache_hit_tokens \(20\) exceeds prompt_tokens \(10\)"):
        deepseek_usage(usage)


# --- OpenTelemetry GenAI: input includes cache reads and creation ------------------------------


def test_otel_input_minus_cache_read_and_cache_creation():
    attributes = {
        "gen_ai.usage.input_tokens": 10_000,
        "gen_ai.usage.cache_read.input_tokens": 7_000,
        "gen_ai.usage.cache_creation.input_tokens": 2_500,
        "gen_ai.usage.output_tokens": 600,
        "gen_ai.usage.reasoning.output_tokens": 200,
        "gen_ai.request.model": "claude-sonnet-4-5",
    }
    assert otel_usage(attributes) == {
        "input_tokens": 500,
        "cache_read_tokens": 7_000,
        "cache_write_tokens": 2_500,
        "cache_write_1h_tokens": 0,
        "output_tokens": 600,
        "reasoning_tokens": 200,
    }


def test_otel_without_cache_attributes_keeps_input():
    attributes = {"gen_ai.usage.input_tokens": 42, "gen_ai.usage.output_tokens": 7}
    assert otel_usage(attributes) == {
        "input_tokens": 42,
        "cache_read_tokens": 0,
        "cache_write_tokens": 0,
        "cache_write_1h_tokens": 0,
        "output_tokens": 7,
        "reasoning_tokens": 0,
    }


def test_otel_cache_above_input_raises():
    attributes = {
        "gen_ai.usage.input_tokens": 100,
        "gen_ai.usage.cache_read.input_tokens": 60,
        "gen_ai.usage.cache_creation.input_tokens": 41,
    }
    with pytest.raises(ValueError, match=r"cache read \+ creation \(101\) exceeds gen_ai.usage.input_tokens \(100\)"):
        otel_usage(attributes)


def test_otel_cache_write_as_the_anthropic_sdk_spells_it_is_taken_out_of_input():
    # The Anthropic SDK's own span of usage {input 50, cache_read 2,000, cache_creation
    # 1,000 (400 for 5 minutes, 600 for an hour), output 300, thinking 120}.
    attributes = {
        "gen_ai.usage.input_tokens": 3_050,
        "gen_ai.usage.cache_write.input_tokens": 1_000,
        "gen_ai.usage.cache_read.input_tokens": 2_000,
        "anthropic.usage.cache_creation.ephemeral_5m_input_tokens": 400,
        "anthropic.usage.cache_creation.ephemeral_1h_input_tokens": 600,
        "gen_ai.usage.output_tokens": 300,
        "gen_ai.usage.reasoning.output_tokens": 120,
    }
    assert otel_usage(attributes) == {
        "input_tokens": 50,
        "cache_read_tokens": 2_000,
        "cache_write_tokens": 400,
        "cache_write_1h_tokens": 600,
        "output_tokens": 300,
        "reasoning_tokens": 120,
    }


@pytest.mark.parametrize(
    ("read_key", "write_key"),
    [
        ("gen_ai.usage.cache_read_input_tokens", "gen_ai.usage.cache_creation_input_tokens"),
        ("gen_ai.usage.cache_read_input_tokens", "gen_ai.usage.cache_write_input_tokens"),
        ("gen_ai.usage.cache_read.input_tokens", "gen_ai.usage.cache_creation.input_tokens"),
    ],
)
def test_otel_every_spelling_of_the_cache_counts_is_taken_out_of_input(read_key, write_key):
    attributes = {
        "gen_ai.usage.input_tokens": 10_000,
        read_key: 7_000,
        write_key: 2_500,
        "gen_ai.usage.output_tokens": 9,
    }
    counts = otel_usage(attributes)
    assert (counts["input_tokens"], counts["cache_read_tokens"], counts["cache_write_tokens"]) == (500, 7_000, 2_500)


def test_otel_reasoning_as_openllmetry_spells_it_is_read():
    # OpenLLMetry's OpenAI span: prompt 1,500 with 1,024 cached, completion 700 with 512 reasoning.
    attributes = {
        "gen_ai.usage.input_tokens": 1_500,
        "gen_ai.usage.cache_read.input_tokens": 1_024,
        "gen_ai.usage.output_tokens": 700,
        "gen_ai.usage.reasoning_tokens": 512,
    }
    assert otel_usage(attributes)["reasoning_tokens"] == 512
    assert otel_usage(attributes)["input_tokens"] == 476


def test_otel_one_hour_cache_writes_above_all_cache_writes_raise():
    attributes = {
        "gen_ai.usage.input_tokens": 3_050,
        "gen_ai.usage.cache_write.input_tokens": 1_000,
        "anthropic.usage.cache_creation.ephemeral_1h_input_tokens": 1_001,
    }
    with pytest.raises(ValueError, match=r"ephemeral_1h_input_tokens \(1,001\) exceeds cache write input tokens"):
        otel_usage(attributes)


# --- bad counts inside a block ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("normalise", "usage", "field", "shown"),
    [
        (anthropic_usage, {"input_tokens": -1}, "usage.input_tokens", "-1"),
        (
            anthropic_usage,
            {"input_tokens": 1, "cache_creation": {"ephemeral_1h_input_tokens": "12"}},
            "usage.cache_creation.ephemeral_1h_input_tokens",
            "'12'",
        ),
        (openai_usage, {"prompt_tokens": 1.5}, "usage.prompt_tokens", "1.5"),
        (
            openai_usage,
            {"input_tokens": 10, "input_tokens_details": {"cached_tokens": True}},
            "usage.input_tokens_details.cached_tokens",
            "True",
        ),
        (gemini_usage, {"promptTokenCount": 10, "thoughtsTokenCount": -3}, "usageMetadata.thoughtsTokenCount", "-3"),
        (deepseek_usage, {"prompt_tokens": 10, "completion_tokens": "7"}, "usage.completion_tokens", "'7'"),
        (otel_usage, {"gen_ai.usage.output_tokens": float("nan")}, "attributes.gen_ai.usage.output_tokens", "nan"),
    ],
)
def test_bad_count_in_a_block_raises_naming_where_it_is(normalise, usage, field, shown):
    with pytest.raises(ValueError) as excinfo:
        normalise(usage)
    assert field in str(excinfo.value)
    assert shown in str(excinfo.value)


# --- properties: normalising moves tokens between fields, never loses or invents any ------------

_n = st.integers(min_value=0, max_value=2_000_000)


@given(prompt=_n, cached=_n, output=_n, reasoning=_n)
def test_openai_normalised_tokens_add_up_to_the_reported_total(prompt, cached, output, reasoning):
    cached = min(cached, prompt)
    reasoning = min(reasoning, output)
    counts = openai_usage(
        {
            "prompt_tokens": prompt,
            "completion_tokens": output,
            "total_tokens": prompt + output,
            "prompt_tokens_details": {"cached_tokens": cached},
            "completion_tokens_details": {"reasoning_tokens": reasoning},
        }
    )
    assert counts["input_tokens"] + counts["cache_read_tokens"] + counts["output_tokens"] == prompt + output
    usage_event(model="gpt-5", ts=None, **counts)


@given(prompt=_n, cached=_n, candidates=_n, thoughts=_n, tool=_n)
def test_gemini_normalised_tokens_add_up_to_total_token_count(prompt, cached, candidates, thoughts, tool):
    cached = min(cached, prompt)
    counts = gemini_usage(
        {
            "promptTokenCount": prompt,
            "cachedContentTokenCount": cached,
            "candidatesTokenCount": candidates,
            "thoughtsTokenCount": thoughts,
            "toolUsePromptTokenCount": tool,
        }
    )
    total = prompt + candidates + thoughts + tool
    assert counts["input_tokens"] + counts["cache_read_tokens"] + counts["output_tokens"] == total
    usage_event(model="gemini-2.5-pro", ts=None, **counts)


@given(total_in=_n, read=_n, write=_n, output=_n)
def test_otel_normalised_prompt_adds_up_to_reported_input(total_in, read, write, output):
    read = min(read, total_in)
    write = min(write, total_in - read)
    counts = otel_usage(
        {
            "gen_ai.usage.input_tokens": total_in,
            "gen_ai.usage.cache_read.input_tokens": read,
            "gen_ai.usage.cache_creation.input_tokens": write,
            "gen_ai.usage.output_tokens": output,
        }
    )
    assert counts["input_tokens"] + counts["cache_read_tokens"] + counts["cache_write_tokens"] == total_in
    usage_event(model="claude-sonnet-4-5", ts=None, **counts)


# --- raw response bodies ------------------------------------------------------------------------

ANTHROPIC_MESSAGE = {
    "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
    "type": "message",
    "role": "assistant",
    "model": "claude-sonnet-4-5-20250929",
    "content": [{"type": "text", "text": "Done: the test suite passes."}],
    "stop_reason": "end_turn",
    "stop_sequence": None,
    "usage": {
        "input_tokens": 12,
        "cache_creation_input_tokens": 1_500,
        "cache_read_input_tokens": 20_000,
        "cache_creation": {"ephemeral_5m_input_tokens": 1_000, "ephemeral_1h_input_tokens": 500},
        "output_tokens": 345,
        "service_tier": "standard",
        "server_tool_use": {"web_search_requests": 0},
    },
}

OPENAI_CHAT_COMPLETION = {
    "id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
    "object": "chat.completion",
    "created": 1741570283,
    "model": "gpt-4o-mini-2024-07-18",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Hello!", "refusal": None, "annotations": []},
            "logprobs": None,
            "finish_reason": "stop",
        }
    ],
    "usage": {
        "prompt_tokens": 2_006,
        "completion_tokens": 300,
        "total_tokens": 2_306,
        "prompt_tokens_details": {"cached_tokens": 1_920, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    },
    "service_tier": "default",
    "system_fingerprint": "fp_06737a9306",
}

OPENAI_RESPONSE = {
    "id": "resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b",
    "object": "response",
    "created_at": 1741476542,
    "status": "completed",
    "model": "gpt-5-2025-08-07",
    "output": [
        {
            "type": "message",
            "id": "msg_67ccd2bf17f0819081ff3bb2cf6508e60bb6a6b452d3795b",
            "status": "completed",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "Refactored.", "annotations": []}],
        }
    ],
    "usage": {
        "input_tokens": 5_000,
        "input_tokens_details": {"cached_tokens": 4_096},
        "output_tokens": 1_200,
        "output_tokens_details": {"reasoning_tokens": 1_024},
        "total_tokens": 6_200,
    },
}

GEMINI_GENERATE_CONTENT = {
    "candidates": [
        {
            "content": {"parts": [{"text": "Here is the plan."}], "role": "model"},
            "finishReason": "STOP",
            "index": 0,
        }
    ],
    "usageMetadata": {
        "promptTokenCount": 12_000,
        "candidatesTokenCount": 800,
        "totalTokenCount": 14_500,
        "cachedContentTokenCount": 8_000,
        "thoughtsTokenCount": 1_700,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 12_000}],
        "cacheTokensDetails": [{"modality": "TEXT", "tokenCount": 8_000}],
    },
    "modelVersion": "gemini-2.5-pro",
    "responseId": "mJnMaOWiGqy3nvgPq5aDgQw",
}

DEEPSEEK_CHAT_COMPLETION = {
    "id": "930c60df-bf64-41c9-a88e-3ec75f81e00e",
    "object": "chat.completion",
    "created": 1705651092,
    "model": "deepseek-chat",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}],
    "usage": {
        "prompt_tokens": 1_000,
        "completion_tokens": 200,
        "total_tokens": 1_200,
        "prompt_cache_hit_tokens": 640,
        "prompt_cache_miss_tokens": 360,
    },
    "system_fingerprint": "fp_8802369eaa_prod0623_fp8_kvcache",
}


def test_anthropic_messages_response():
    assert response_usage(ANTHROPIC_MESSAGE, "anthropic") == (
        "anthropic",
        "claude-sonnet-4-5-20250929",
        {
            "input_tokens": 12,
            "cache_read_tokens": 20_000,
            "cache_write_tokens": 1_000,
            "cache_write_1h_tokens": 500,
            "output_tokens": 345,
        },
    )


def test_openai_chat_completion_response():
    assert response_usage(OPENAI_CHAT_COMPLETION, "openai") == (
        "openai",
        "gpt-4o-mini-2024-07-18",
        {"input_tokens": 86, "cache_read_tokens": 1_920, "output_tokens": 300, "reasoning_tokens": 0},
    )


def test_openai_responses_api_response():
    assert response_usage(OPENAI_RESPONSE, "openai") == (
        "openai",
        "gpt-5-2025-08-07",
        {"input_tokens": 904, "cache_read_tokens": 4_096, "output_tokens": 1_200, "reasoning_tokens": 1_024},
    )


def test_gemini_generate_content_response_reads_model_version_and_usage_metadata():
    assert response_usage(GEMINI_GENERATE_CONTENT, "google") == (
        "google",
        "gemini-2.5-pro",
        {
            "input_tokens": 4_000,
            "cache_read_tokens": 8_000,
            "output_tokens": 2_500,
            "reasoning_tokens": 1_700,
            "tool_prompt_tokens": 0,
        },
    )


def test_deepseek_chat_completion_response():
    assert response_usage(DEEPSEEK_CHAT_COMPLETION, "deepseek") == (
        "deepseek",
        "deepseek-chat",
        {"input_tokens": 360, "cache_read_tokens": 640, "output_tokens": 200, "reasoning_tokens": 0},
    )


@pytest.mark.parametrize(
    ("alias", "body", "canonical"),
    [
        ("claude", ANTHROPIC_MESSAGE, "anthropic"),
        ("Anthropic", ANTHROPIC_MESSAGE, "anthropic"),
        ("gemini", GEMINI_GENERATE_CONTENT, "google"),
        ("vertex", GEMINI_GENERATE_CONTENT, "google"),
        ("google-vertex", GEMINI_GENERATE_CONTENT, "google"),
        ("azure", OPENAI_CHAT_COMPLETION, "openai"),
        (" Azure-OpenAI ", OPENAI_CHAT_COMPLETION, "openai"),
        ("codex", OPENAI_RESPONSE, "openai"),
    ],
)
def test_provider_aliases_read_the_canonical_providers_shape(alias, body, canonical):
    provider, model, counts = response_usage(body, alias)
    assert provider == canonical
    assert (provider, model, counts) == response_usage(body, canonical)


def test_response_counts_build_a_usage_event():
    provider, model, counts = response_usage(ANTHROPIC_MESSAGE, "claude")
    event = usage_event(model=model, provider=provider, ts=1_759_312_800.0, **counts)
    assert event.total_tokens == 12 + 20_000 + 1_000 + 500 + 345


def test_response_without_a_model_gives_none_for_the_model():
    body = {"usage": {"input_tokens": 1, "output_tokens": 2}}
    assert response_usage(body, "anthropic")[1] is None


def test_unknown_provider_raises_listing_the_known_ones():
    with pytest.raises(ValueError) as excinfo:
        response_usage(OPENAI_CHAT_COMPLETION, "mistral")
    message = str(excinfo.value)
    assert "'mistral'" in message
    for known in ("anthropic", "openai", "google", "deepseek", "claude", "gemini", "vertex", "azure"):
        assert known in message


@pytest.mark.parametrize("provider", [None, 3])
def test_provider_that_is_not_a_string_raises(provider):
    with pytest.raises(ValueError, match="provider must be a string"):
        canonical_provider(provider)


@pytest.mark.parametrize(
    ("body", "provider", "block"),
    [
        ({"id": "msg_1", "model": "claude-sonnet-4-5", "content": []}, "anthropic", "'usage'"),
        ({"id": "chatcmpl-1", "model": "gpt-5", "usage": None}, "openai", "'usage'"),
        ({"candidates": [], "modelVersion": "gemini-2.5-flash"}, "gemini", "'usageMetadata'"),
        # A Gemini body read as OpenAI has no "usage" block either.
        (GEMINI_GENERATE_CONTENT, "openai", "'usage'"),
    ],
)
def test_body_without_usage_raises(body, provider, block):
    with pytest.raises(ValueError, match="no " + block):
        response_usage(body, provider)


@pytest.mark.parametrize("body", [None, "{}", [("usage", {})]])
def test_body_that_is_not_a_json_object_raises(body):
    with pytest.raises(ValueError, match="response must be a dict"):
        response_usage(body, "openai")


def _reference_usage(usage, where="usage"):
    """The Anthropic usage rules field by field, as they read before ``anthropic_usage``
    took each field in one look: the oracle the one-look reading must agree with."""
    from collections.abc import Mapping

    from session_insights.events import check_tokens

    def count(block, key, where):
        if not block:
            return 0
        if not isinstance(block, Mapping):
            raise ValueError(f"{where} must be an object, got {type(block).__name__}")
        value = block.get(key)
        return 0 if value is None else check_tokens(f"{where}.{key}", value)

    cache_write = count(usage, "cache_creation_input_tokens", where)
    split = usage.get("cache_creation") or {}
    write_5m = count(split, "ephemeral_5m_input_tokens", f"{where}.cache_creation")
    write_1h = count(split, "ephemeral_1h_input_tokens", f"{where}.cache_creation")
    if write_5m + write_1h == 0:
        write_5m = cache_write
    counts = {
        "input_tokens": count(usage, "input_tokens", where),
        "cache_read_tokens": count(usage, "cache_read_input_tokens", where),
        "cache_write_tokens": write_5m,
        "cache_write_1h_tokens": write_1h,
        "output_tokens": count(usage, "output_tokens", where),
    }
    iterations = usage.get("iterations")
    if iterations and where == "usage":
        if not isinstance(iterations, list):
            raise ValueError(f"usage.iterations must be a list, got {type(iterations).__name__}")
        for entry in iterations:
            if isinstance(entry, Mapping) and entry.get("type") == "compaction":
                for key, n in _reference_usage(entry, "usage.iterations[compaction]").items():
                    counts[key] = check_tokens(f"usage {key} with its compactions", counts[key] + n)
    return counts


_COUNTS = st.one_of(
    st.none(),
    st.integers(0, 2_000_000),
    st.integers(-5, 5),
    st.integers(10**9, 10**12),
    st.booleans(),
    st.floats(allow_nan=True),
    st.text(max_size=3),
)
_SPLITS = st.one_of(
    st.none(),
    st.just({}),
    st.fixed_dictionaries({}, optional={"ephemeral_5m_input_tokens": _COUNTS, "ephemeral_1h_input_tokens": _COUNTS}),
    st.lists(st.integers(), max_size=2),
    st.integers(0, 3),
)
_USAGE = st.fixed_dictionaries(
    {},
    optional={
        "input_tokens": _COUNTS,
        "cache_read_input_tokens": _COUNTS,
        "cache_creation_input_tokens": _COUNTS,
        "output_tokens": _COUNTS,
        "cache_creation": _SPLITS,
        "iterations": st.one_of(
            st.none(),
            st.just([]),
            st.lists(st.fixed_dictionaries({"type": st.just("compaction"), "input_tokens": _COUNTS}), max_size=2),
        ),
        "service_tier": st.just("standard"),
    },
)


def _read(read, usage):
    try:
        return read(usage)
    except ValueError as exc:
        return ("ValueError", str(exc))


@settings(max_examples=500, deadline=None)
@given(_USAGE)
def test_a_usage_block_reads_as_its_field_by_field_rules_say(usage):
    assert _read(anthropic_usage, usage) == _read(_reference_usage, usage)
