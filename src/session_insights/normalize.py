"""What each provider's usage block means, turned into our token fields (DESIGN §2).

Providers disagree about "input": Anthropic excludes cache traffic, OpenAI and Gemini
include cached tokens, DeepSeek includes cache hits, and OpenTelemetry includes both
cache reads and cache writes. Every function here returns the same dict of keyword
arguments for ``events.usage_event``: input never includes cache, output includes
reasoning. Inconsistent blocks (a cached count above the input it is part of) raise
ValueError rather than yield negative tokens.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .events import MAX_TOKENS_PER_REQUEST, check_tokens, shown

Counts = dict[str, int]


def _count(block: Mapping[str, Any] | None, key: str, where: str) -> int:
    if not block:
        return 0
    if not isinstance(block, Mapping):
        raise ValueError(f"{where} must be an object, got {type(block).__name__}")
    return _tokens(block.get(key), where, key)


def _part_of(whole: int, whole_name: str, part: int, part_name: str) -> int:
    """``whole`` minus a ``part`` the provider counts inside it."""
    if part > whole:
        raise ValueError(f"{part_name} ({part:,}) exceeds {whole_name} ({whole:,}) that includes it")
    return whole - part


def anthropic_usage(usage: Mapping[str, Any], where: str = "usage") -> Counts:
    """Anthropic Messages API / Claude Code ``message.usage``: input excludes cache. The
    compaction entries of ``usage.iterations`` are billed on top: their tokens are not in
    the top-level fields. One look at each field (the parse's per-line cost)."""
    if usage and not isinstance(usage, Mapping):
        raise ValueError(f"{where} must be an object, got {type(usage).__name__}")
    get = usage.get if usage else _NOTHING.get
    cache_write = _tokens(get("cache_creation_input_tokens"), where, "cache_creation_input_tokens")
    split = get("cache_creation") or _NOTHING
    if not isinstance(split, Mapping):
        raise ValueError(f"{where}.cache_creation must be an object, got {type(split).__name__}")
    write_5m = _tokens(split.get("ephemeral_5m_input_tokens"), f"{where}.cache_creation", "ephemeral_5m_input_tokens")
    write_1h = _tokens(split.get("ephemeral_1h_input_tokens"), f"{where}.cache_creation", "ephemeral_1h_input_tokens")
    counts = {
        "input_tokens": _tokens(get("input_tokens"), where, "input_tokens"),
        "cache_read_tokens": _tokens(get("cache_read_input_tokens"), where, "cache_read_input_tokens"),
        # older responses carry only the total: 5-minute writes
        "cache_write_tokens": write_5m if write_5m + write_1h else cache_write,
        "cache_write_1h_tokens": write_1h,
        "output_tokens": _tokens(get("output_tokens"), where, "output_tokens"),
    }
    iterations = get("iterations")
    if iterations and where == "usage":  # most responses have none, or an empty list
        if not isinstance(iterations, list):
            raise ValueError(f"usage.iterations must be a list, got {type(iterations).__name__}")
        for entry in iterations:
            if isinstance(entry, Mapping) and entry.get("type") == "compaction":
                for key, n in anthropic_usage(entry, "usage.iterations[compaction]").items():
                    counts[key] = check_tokens(f"usage {key} with its compactions", counts[key] + n)
    return counts


_NOTHING: Mapping[str, Any] = {}


def _tokens(value: object, where: str, key: str) -> int:
    """A count of a usage block: absent is 0; the field's name is built only for a bad one."""
    if value is None:
        return 0
    if type(value) is int and 0 <= value <= MAX_TOKENS_PER_REQUEST:
        return value
    return check_tokens(f"{where}.{key}", value)


# Fast mode's price context (genai-prices' ``speed`` variant); other speeds are standard.
FAST = (("speed", "fast"),)
# Counts of ``usage.server_tool_use`` billed per use -> genai-prices' unit. Web fetches
# are free on Anthropic, and genai-prices has no unit for them.
_SERVER_TOOL_UNITS = {"web_search_requests": "web_searches"}


def anthropic_price_terms(usage: Mapping[str, Any]) -> dict:
    """What an Anthropic ``usage`` block's price depends on beyond its tokens, as
    ``usage_event`` keywords: fast mode (``speed: "fast"``) as ``price_context``, and the
    server tool uses billed per use (``server_tool_use``) as ``server_tools``."""
    return {
        "price_context": FAST if usage.get("speed") == "fast" else None,
        "server_tools": _server_tools(usage.get("server_tool_use")),
    }


def _server_tools(block: object) -> tuple[tuple[str, int], ...] | None:
    """``usage.server_tool_use`` as (genai-prices unit, count) pairs of the uses billed."""
    if block is None:
        return None
    if not isinstance(block, Mapping):
        raise ValueError(f"usage.server_tool_use must be an object, got {type(block).__name__}")
    uses = []
    for field, unit in _SERVER_TOOL_UNITS.items():
        count = block.get(field)
        if count is None:
            continue
        if type(count) is not int or not 0 <= count <= MAX_TOKENS_PER_REQUEST:
            raise ValueError(f"usage.server_tool_use.{field} must be a whole number of uses, got {shown(count)}")
        if count:
            uses.append((unit, count))
    return tuple(uses) or None


def openai_usage(usage: Mapping[str, Any]) -> Counts:
    """OpenAI Chat Completions, Responses and Codex ``token_count``: input includes cached."""
    if "prompt_tokens" in usage:  # Chat Completions
        prompt = _count(usage, "prompt_tokens", "usage")
        cached = _count(usage.get("prompt_tokens_details"), "cached_tokens", "usage.prompt_tokens_details")
        output = _count(usage, "completion_tokens", "usage")
        reasoning = _count(
            usage.get("completion_tokens_details"), "reasoning_tokens", "usage.completion_tokens_details"
        )
    else:  # Responses API, Codex CLI
        prompt = _count(usage, "input_tokens", "usage")
        cached = _count(usage, "cached_input_tokens", "usage") or _count(
            usage.get("input_tokens_details"), "cached_tokens", "usage.input_tokens_details"
        )
        output = _count(usage, "output_tokens", "usage")
        reasoning = _count(usage, "reasoning_output_tokens", "usage") or _count(
            usage.get("output_tokens_details"), "reasoning_tokens", "usage.output_tokens_details"
        )
    return {
        "input_tokens": _part_of(prompt, "input tokens", cached, "cached tokens"),
        "cache_read_tokens": cached,
        "output_tokens": output,
        "reasoning_tokens": min(reasoning, output),
    }


def gemini_usage(usage: Mapping[str, Any]) -> Counts:
    """Gemini API ``usageMetadata``: prompt includes cached; thoughts bill as output."""
    prompt = _count(usage, "promptTokenCount", "usageMetadata")
    cached = _count(usage, "cachedContentTokenCount", "usageMetadata")
    thoughts = _count(usage, "thoughtsTokenCount", "usageMetadata")
    # Tool-use prompt tokens are counted beside the prompt and billed as input.
    tool_prompt = _count(usage, "toolUsePromptTokenCount", "usageMetadata")
    return {
        "input_tokens": _part_of(prompt, "promptTokenCount", cached, "cachedContentTokenCount") + tool_prompt,
        "cache_read_tokens": cached,
        "output_tokens": _count(usage, "candidatesTokenCount", "usageMetadata") + thoughts,
        "reasoning_tokens": thoughts,
        "tool_prompt_tokens": tool_prompt,
    }


def deepseek_usage(usage: Mapping[str, Any]) -> Counts:
    """DeepSeek API: prompt_tokens includes prompt_cache_hit_tokens."""
    prompt = _count(usage, "prompt_tokens", "usage")
    hit = _count(usage, "prompt_cache_hit_tokens", "usage")
    output = _count(usage, "completion_tokens", "usage")
    reasoning = _count(usage.get("completion_tokens_details"), "reasoning_tokens", "usage.completion_tokens_details")
    return {
        "input_tokens": _part_of(prompt, "prompt_tokens", hit, "prompt_cache_hit_tokens"),
        "cache_read_tokens": hit,
        "output_tokens": output,
        "reasoning_tokens": min(reasoning, output),
    }


# OpenTelemetry GenAI token attributes, each field under every spelling in use, the
# semantic conventions' own first: the Anthropic SDK's own spans and
# opentelemetry-util-genai (behind the contrib instrumentations, google-genai's among
# them) write ``cache_write.input_tokens``; OpenLLMetry writes ``cache_creation.input_tokens`` (its
# older releases the underscore forms, which it still lists as deprecated) and, for
# OpenAI, ``reasoning_tokens``.
OTEL_INPUT = "gen_ai.usage.input_tokens"
OTEL_OUTPUT = "gen_ai.usage.output_tokens"
OTEL_CACHE_READ = ("gen_ai.usage.cache_read.input_tokens", "gen_ai.usage.cache_read_input_tokens")
OTEL_CACHE_WRITE = (
    "gen_ai.usage.cache_creation.input_tokens",
    "gen_ai.usage.cache_write.input_tokens",
    "gen_ai.usage.cache_creation_input_tokens",
    "gen_ai.usage.cache_write_input_tokens",
)
OTEL_REASONING = ("gen_ai.usage.reasoning.output_tokens", "gen_ai.usage.reasoning_tokens")
OTEL_USAGE_KEYS = (OTEL_INPUT, OTEL_OUTPUT, *OTEL_CACHE_READ, *OTEL_CACHE_WRITE, *OTEL_REASONING)
# The Anthropic SDK's split of the cache writes (1-hour writes bill at twice the 5-minute rate).
OTEL_CACHE_WRITE_1H = "anthropic.usage.cache_creation.ephemeral_1h_input_tokens"
# The Anthropic SDK's compaction tokens, which gen_ai.usage.* leaves out; its input is the
# sum of the compactions' input, cache reads and cache writes, so it is priced as input.
OTEL_COMPACTION = ("anthropic.usage.compaction.input_tokens", "anthropic.usage.compaction.output_tokens")


def _first_count(attributes: Mapping[str, Any], spellings: tuple[str, ...]) -> int:
    """The count under the first of ``spellings`` a span has (0 when it has none)."""
    key = next((k for k in spellings if attributes.get(k) is not None), spellings[0])
    return _count(attributes, key, "attributes")


def otel_usage(attributes: Mapping[str, Any]) -> Counts:
    """OpenTelemetry GenAI ``gen_ai.usage.*``: input includes cache reads and writes."""
    total_in = _count(attributes, OTEL_INPUT, "attributes")
    read = _first_count(attributes, OTEL_CACHE_READ)
    write = _first_count(attributes, OTEL_CACHE_WRITE)
    write_1h = _count(attributes, OTEL_CACHE_WRITE_1H, "attributes")
    output = _count(attributes, OTEL_OUTPUT, "attributes")
    reasoning = _first_count(attributes, OTEL_REASONING)
    compaction_in, compaction_out = (_count(attributes, key, "attributes") for key in OTEL_COMPACTION)
    return {
        "input_tokens": _part_of(total_in, OTEL_INPUT, read + write, "cache read + creation") + compaction_in,
        "cache_read_tokens": read,
        "cache_write_tokens": _part_of(write, "cache write input tokens", write_1h, OTEL_CACHE_WRITE_1H),
        "cache_write_1h_tokens": write_1h,
        "output_tokens": output + compaction_out,
        "reasoning_tokens": min(reasoning, output),
    }


# Provider names as hosts spell them -> (canonical provider id, where usage lives,
# where the model name lives, its normaliser).
_RESPONSE_SHAPES = {
    "anthropic": ("anthropic", "usage", "model", anthropic_usage),
    "openai": ("openai", "usage", "model", openai_usage),
    "google": ("google", "usageMetadata", "modelVersion", gemini_usage),
    "deepseek": ("deepseek", "usage", "model", deepseek_usage),
}
_PROVIDER_ALIASES = {
    "claude": "anthropic",
    "azure": "openai",
    "azure-openai": "openai",
    "codex": "openai",
    "gemini": "google",
    "google-gla": "google",
    "google-vertex": "google",
    "vertex": "google",
    "vertexai": "google",
}


def canonical_provider(provider: str) -> str:
    """The provider id we price under, or ValueError naming the ones we know."""
    if not isinstance(provider, str):
        raise ValueError(f"provider must be a string, got {provider!r}")
    key = provider.strip().lower()
    key = _PROVIDER_ALIASES.get(key, key)
    if key not in _RESPONSE_SHAPES:
        known = ", ".join(sorted({*_RESPONSE_SHAPES, *_PROVIDER_ALIASES}))
        raise ValueError(f"provider {provider!r} is not one we read responses of; known: {known}")
    return key


def usage_counts(usage: Mapping[str, Any], provider: str) -> tuple[str, Counts]:
    """(canonical provider, counts) from a provider's bare usage block."""
    provider_id = canonical_provider(provider)
    return provider_id, _RESPONSE_SHAPES[provider_id][3](usage)


def response_usage(response: Mapping[str, Any], provider: str) -> tuple[str, str | None, Counts]:
    """(canonical provider, model or None, counts) from a raw response body."""
    if not isinstance(response, Mapping):
        raise ValueError(f"response must be a dict (the JSON body), got {type(response).__name__}")
    provider_id = canonical_provider(provider)
    _, usage_key, model_key, normalise = _RESPONSE_SHAPES[provider_id]
    usage = response.get(usage_key)
    if not isinstance(usage, Mapping):
        raise ValueError(f"response has no {usage_key!r} block to read token counts from")
    model = response.get(model_key)
    return provider_id, model if isinstance(model, str) else None, normalise(usage)


def gemini_cli_usage(tokens: Mapping[str, Any]) -> Counts:
    """Gemini CLI chat recordings' ``tokens`` (usageMetadata renamed): ``input`` includes
    ``cached``; ``thoughts`` bill as output; ``tool`` (tool-use prompt) bills as input."""
    prompt = _count(tokens, "input", "tokens")
    cached = _count(tokens, "cached", "tokens")
    thoughts = _count(tokens, "thoughts", "tokens")
    tool_prompt = _count(tokens, "tool", "tokens")
    return {
        "input_tokens": _part_of(prompt, "tokens.input", cached, "tokens.cached") + tool_prompt,
        "cache_read_tokens": cached,
        "output_tokens": _count(tokens, "output", "tokens") + thoughts,
        "reasoning_tokens": thoughts,
        "tool_prompt_tokens": tool_prompt,
    }
