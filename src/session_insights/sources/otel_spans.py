"""OTLP JSON lines decoded into the spans the ``otel`` source reads.

Invariant: only the attributes in ``WANTED`` are decoded (ids, times, status, model,
provider, session, tool name and token counts): message content, tool arguments and
results are never read into anything. A span that cannot be read comes out as its error,
so the line's other spans still count.

Quirks kept here:
- 64-bit integers (token counts, nanosecond times) are JSON strings in OTLP JSON;
  numbers are accepted too, and a whole-number double (JavaScript SDKs) as a count;
- a line may hold one span on its own with a flat ``attributes`` object (the
  OpenTelemetry SDK's ConsoleSpanExporter), its ids and times under the OTLP names or
  their snake_case forms, times as ISO 8601;
- token counts come under every spelling ``normalize.OTEL_USAGE_KEYS`` lists, and the
  deprecated ``gen_ai.usage.prompt_tokens`` / ``completion_tokens`` when the current
  names are absent;
- the cost an instrumentation wrote for the call (``span_cost_usd``): ``gen_ai.usage.cost``
  (OpenLLMetry's and others' total), ``gen_ai.usage.total_cost``, Langfuse's
  ``langfuse.observation.cost_details`` (JSON text, its ``total`` or else the sum of its
  parts), else ``gen_ai.usage.input_cost`` + ``output_cost`` (any-agent's), in USD.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

import orjson

from ..events import check_ts, iso_ts, shown
from ..normalize import OTEL_CACHE_WRITE_1H, OTEL_COMPACTION, OTEL_USAGE_KEYS
from .base import BAD_LINE

EXECUTE_TOOL = "execute_tool"

# Every spelling of every count (normalize.OTEL_USAGE_KEYS): a span with one carries usage.
USAGE_KEYS = frozenset(OTEL_USAGE_KEYS)
# Names from semantic conventions before 1.27, renamed since.
_DEPRECATED_USAGE = {
    "gen_ai.usage.prompt_tokens": "gen_ai.usage.input_tokens",
    "gen_ai.usage.completion_tokens": "gen_ai.usage.output_tokens",
}
_ANY_USAGE = USAGE_KEYS | set(_DEPRECATED_USAGE)
_COUNTS = USAGE_KEYS | {OTEL_CACHE_WRITE_1H, *OTEL_COMPACTION}
TOTAL_COST_KEYS = ("gen_ai.usage.cost", "gen_ai.usage.total_cost")
LANGFUSE_COST = "langfuse.observation.cost_details"
PART_COST_KEYS = ("gen_ai.usage.input_cost", "gen_ai.usage.output_cost")
WANTED = (
    _ANY_USAGE
    | _COUNTS
    | {
        "gen_ai.operation.name",
        "gen_ai.response.id",
        "gen_ai.request.model",
        "gen_ai.response.model",
        "gen_ai.provider.name",
        "gen_ai.system",
        "gen_ai.agent.name",
        "gen_ai.conversation.id",
        "session.id",
        "gen_ai.tool.name",
        "error.type",
        *TOTAL_COST_KEYS,
        LANGFUSE_COST,
        *PART_COST_KEYS,
    }
)
_ERROR_CODES = (2, "2", "STATUS_CODE_ERROR", "ERROR")


class Span(NamedTuple):
    """The parts of one span we read."""

    trace: str | None
    span_id: str | None
    parent: str | None
    name: str
    start_ns: int | None
    end_ns: int | None
    attributes: dict[str, Any]
    resource: dict[str, Any]
    error: bool

    @property
    def has_usage(self) -> bool:
        return any(key in self.attributes for key in _ANY_USAGE)


def _any_value(value: object) -> Any:
    """The scalar an OTLP ``AnyValue`` holds (None for arrays, maps and bytes)."""
    if not isinstance(value, dict):
        raise TypeError(f"an attribute value must be an object, got {value!r}")
    if "stringValue" in value:
        return value["stringValue"]
    if "intValue" in value:
        raw = value["intValue"]  # int64: a JSON string in OTLP JSON
        if isinstance(raw, str) and raw.lstrip("-").isascii() and raw.lstrip("-").isdigit():
            if len(raw) > 20:  # an int64 has at most 19 digits; int() refuses 4,300 and more
                raise ValueError(f"intValue out of range, got a number of {len(raw):,} digits")
            return int(raw)
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise ValueError(f"intValue must be a whole number, got {raw!r}")
        return raw
    if "doubleValue" in value:
        return float(value["doubleValue"])
    if "boolValue" in value:
        return bool(value["boolValue"])
    return None


def _otlp_attributes(attributes: object) -> dict[str, Any]:
    if attributes is None:
        return {}
    if not isinstance(attributes, list):
        raise TypeError("attributes must be a list of {key, value}")
    return {kv["key"]: _any_value(kv.get("value")) for kv in attributes if kv["key"] in WANTED}


def _flat_attributes(attributes: object) -> dict[str, Any]:
    if attributes is None:
        return {}
    if not isinstance(attributes, dict):
        raise TypeError("a span's flat attributes must be an object")
    return {key: attributes[key] for key in WANTED if key in attributes}


def _id(value: object) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise TypeError(f"span and trace ids must be strings, got {value!r}")
    return value


def _nanos(value: object, field: str) -> int | None:
    """Epoch nanoseconds from a fixed64 (string or number) or an ISO 8601 time, within
    the times ``events.check_ts`` accepts (a 400-digit string is a bad line, not a float
    overflow)."""
    if value is None:
        return None
    if isinstance(value, str):
        if not (value.isascii() and value.isdigit()):
            return round(iso_ts(value, field) * 1e9)
        if len(value) > 30:  # nanoseconds until 2100 have 19 digits; int() refuses 4,300+
            raise ValueError(f"{field} out of range, got a number of {len(value):,} digits")
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{field} must be epoch nanoseconds, got {shown(value)}")
    check_ts(value // 1_000_000_000, field)  # whole seconds: no float of a huge int
    return value


def _is_error(status: object) -> bool:
    if not isinstance(status, dict):
        return False
    return status.get("code", status.get("status_code")) in _ERROR_CODES


def _otlp_span(span: dict, resource: dict[str, Any]) -> Span:
    return Span(
        _id(span.get("traceId")),
        _id(span.get("spanId")),
        _id(span.get("parentSpanId")),
        str(span.get("name") or ""),
        _nanos(span.get("startTimeUnixNano"), "startTimeUnixNano"),
        _nanos(span.get("endTimeUnixNano"), "endTimeUnixNano"),
        _otlp_attributes(span.get("attributes")),
        resource,
        _is_error(span.get("status")),
    )


def _flat_span(span: dict) -> Span:
    context = span.get("context") if isinstance(span.get("context"), dict) else {}

    def first(*keys: str, where: Mapping = span) -> object:
        return next((where[k] for k in keys if where.get(k) not in (None, "")), None)

    return Span(
        _id(first("traceId", "trace_id") or first("trace_id", where=context)),
        _id(first("spanId", "span_id") or first("span_id", where=context)),
        _id(first("parentSpanId", "parent_span_id", "parent_id")),
        str(span.get("name") or ""),
        _nanos(first("startTimeUnixNano", "start_time_unix_nano", "start_time"), "span start time"),
        _nanos(first("endTimeUnixNano", "end_time_unix_nano", "end_time"), "span end time"),
        _flat_attributes(span.get("attributes")),
        _flat_attributes(
            span.get("resource", {}).get("attributes") if isinstance(span.get("resource"), dict) else None
        ),
        _is_error(span.get("status")),
    )


def spans_of(obj: object) -> Iterator[Span | Exception]:
    """The spans one line holds; a span that cannot be read comes out as its error.

    Raises ValueError or TypeError when the line as a whole is not an export or a span.
    """
    if not isinstance(obj, dict):
        raise TypeError("an OTLP JSON line must be an object")
    batches = obj.get("resourceSpans")
    if batches is None:
        if any(k in obj for k in ("spanId", "span_id", "context")):
            try:
                yield _flat_span(obj)
            except BAD_LINE as exc:
                yield exc
            return
        raise ValueError("neither an OTLP trace export (resourceSpans) nor a span")
    if not isinstance(batches, list):
        raise TypeError("resourceSpans must be a list")
    for batch in batches:
        if not isinstance(batch, dict):
            raise TypeError("a resourceSpans entry must be an object")
        resource = batch.get("resource") or {}
        try:
            resource_attrs = _otlp_attributes(resource.get("attributes"))
        except BAD_LINE as exc:
            yield exc
            resource_attrs = {}
        scopes = batch.get("scopeSpans") or []
        if not isinstance(scopes, list):
            raise TypeError("scopeSpans must be a list")
        for scope in scopes:
            spans = scope.get("spans") or []
            if not isinstance(spans, list):
                raise TypeError("spans must be a list")
            for span in spans:
                try:
                    yield _otlp_span(span, resource_attrs)
                except BAD_LINE as exc:
                    yield exc


def usage_attributes(attributes: dict[str, Any]) -> dict[str, Any]:
    """Token attributes under their current names, whole-number doubles as ints."""
    usage = {}
    for old, new in _DEPRECATED_USAGE.items():
        if old in attributes and new not in attributes:
            usage[new] = attributes[old]
    usage.update((k, attributes[k]) for k in _COUNTS if k in attributes)
    for key, value in usage.items():
        if value is None:  # an array, a map or bytes where a count belongs
            raise ValueError(f"{key} must be a number of tokens")
        # A count as a string (flat exporters) or a whole-number double (JavaScript SDKs).
        digits = isinstance(value, str) and value.isascii() and value.isdigit()
        if digits or (isinstance(value, float) and math.isfinite(value) and value.is_integer()):
            usage[key] = int(value)
    return usage


def _dollars(value: object, key: str) -> float:
    if isinstance(value, str):  # a flat exporter's number as text
        try:
            value = float(value)
        except ValueError:
            raise ValueError(f"{key} must be a number of US dollars") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{key} must be a number of US dollars")
    return float(value)


def span_cost_usd(attributes: dict[str, Any]) -> float | None:
    """The cost the span says its call had, in USD, or None (checked by the event)."""
    for key in TOTAL_COST_KEYS:
        if attributes.get(key) is not None:
            return _dollars(attributes[key], key)
    details = attributes.get(LANGFUSE_COST)
    if details is not None:
        try:
            parts = orjson.loads(details) if isinstance(details, str) else None
        except orjson.JSONDecodeError:
            parts = None
        if not isinstance(parts, dict):
            raise ValueError(f"{LANGFUSE_COST} must be a JSON object of US dollars")
        if "total" in parts:
            return _dollars(parts["total"], f"{LANGFUSE_COST}.total")
        return sum(_dollars(v, f"{LANGFUSE_COST}.{k}") for k, v in parts.items())
    found = [_dollars(attributes[k], k) for k in PART_COST_KEYS if attributes.get(k) is not None]
    return sum(found) if found else None
