"""``otel:FILE`` — OpenTelemetry GenAI spans (and agents' own cost exports), one OTLP JSON export per line.

A line is what an OTLP/JSON exporter writes (the Collector's file exporter, an SDK
dumping ``ExportTraceServiceRequest`` bodies): ``{"resourceSpans": [{"resource":
{"attributes": [...]}, "scopeSpans": [{"scope": {...}, "spans": [{traceId, spanId,
parentSpanId, name, kind, startTimeUnixNano, endTimeUnixNano, attributes: [{key, value:
{stringValue | intValue | doubleValue | boolValue | ...}}], status: {code}}]}]}]}``.
A line may also hold one span on its own with a flat ``attributes`` object (as the SDK's
ConsoleSpanExporter writes). Decoding, and which attributes are read, is ``otel_spans``.

Quirks kept here:
- ``gen_ai.usage.input_tokens`` includes cache reads and cache writes:
  ``normalize.otel_usage`` subtracts both, under every spelling instrumentations write
  (``cache_write.input_tokens`` from the Anthropic SDK, ``cache_creation.input_tokens``
  and ``reasoning_tokens`` from OpenLLMetry, the underscore forms), and takes the SDK's
  ``anthropic.usage.cache_creation.ephemeral_1h_input_tokens`` as the 1-hour writes, and
  its ``anthropic.usage.compaction.*`` tokens (left out of ``gen_ai.usage.*``) on top;
- model: ``gen_ai.response.model``, else ``gen_ai.request.model``, else "unrecorded"
  (counted, shown unpriced, never a silent $0);
- provider: ``gen_ai.provider.name``, else the older ``gen_ai.system``; OTel's own ids
  (``gcp.gemini``, ``azure.ai.openai``...) map to the ones we price under, and one we do
  not know is kept as written (prices are then matched by model alone);
- an exporter may write a span twice: usage is keyed by trace id + span id, and tool
  spans already read are remembered;
- two instrumentations may trace one call (the Anthropic SDK's own spans and
  OpenLLMetry's, in two traces): spans naming one ``gen_ai.response.id`` count once,
  keyed by it; alike spans with no id to match are counted and noticed (``otel_copies``);
- Claude Code's own export (OTLP logs and metrics, no spans): its cost figures go beside
  ours (``otel_agent``), never into usage; a span's cost attribute (``gen_ai.usage.cost``
  and the spellings ``otel_spans`` lists) is the cost the request itself reports;
- aggregated usage: the conventions let ``invoke_agent`` spans (and frameworks' wrapper
  spans) carry ``gen_ai.usage.*``, which for a local agent is the sum of the model calls
  below it. So the lowest span carrying usage counts, and a span with usage-carrying
  spans below it does not; a remote agent (no model spans of its own in the trace) still
  counts. A span is exported when it ends, after its children, so children are read
  first; within one line order does not matter. A parent written on an earlier line
  than its children would count twice — exporters that export ended spans never do that;
- session: ``gen_ai.conversation.id``, else ``session.id`` (on the span, then on the
  resource); tier: ``gen_ai.agent.name``;
- tool spans (``gen_ai.operation.name == "execute_tool"``) give tool calls named by
  ``gen_ai.tool.name`` (else the span name after "execute_tool "); a call failed when its
  status is ERROR or it has an ``error.type``.

Message content, tool arguments and results are never read into anything.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import orjson

from ..events import ToolCall, check_duration_ms, usage_event
from ..history import TokenHistory
from ..normalize import canonical_provider, otel_usage
from .base import BAD_LINE, LineSource, Memory, Record, bad_reason
from .otel_agent import read_logs, read_metrics
from .otel_copies import UNRECORDED_MODEL, Copies, response_key, twin_notice
from .otel_spans import EXECUTE_TOOL, Span, span_cost_usd, spans_of, usage_attributes

# OTel provider ids -> the provider we price under.
_OTEL_PROVIDERS = {
    "gcp.gemini": "google",
    "gcp.gen_ai": "google",
    "gcp.vertex_ai": "google",
    "vertex_ai": "google",
    "azure.ai.openai": "openai",
    "az.ai.openai": "openai",
}
# Bounded memory of spans seen: enough for the traces still being written.
MAX_REMEMBERED_SPANS = 100_000


def _label(*values: object) -> str | None:
    """The first non-empty string among ``values``."""
    for value in values:
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _provider(span: Span) -> str | None:
    name = _label(span.attributes.get("gen_ai.provider.name"), span.attributes.get("gen_ai.system"))
    if name is None:
        return None
    name = name.lower()
    try:
        return canonical_provider(_OTEL_PROVIDERS.get(name, name))
    except ValueError:
        return name  # a provider we do not price under: prices match by model alone


def _seconds(span: Span) -> tuple[float, float]:
    """(start, end) in epoch seconds; a span with one time is taken as instant."""
    end = span.end_ns if span.end_ns is not None else span.start_ns
    if end is None:
        raise ValueError("span has no start or end time")
    start = span.start_ns if span.start_ns is not None else end
    return start / 1e9, end / 1e9


def _session(span: Span) -> str | None:
    a, r = span.attributes, span.resource
    return _label(
        a.get("gen_ai.conversation.id"), a.get("session.id"), r.get("gen_ai.conversation.id"), r.get("session.id")
    )


class OtelSource(LineSource):
    kind = "otel"
    pattern = "*.json*"

    def __init__(self, path: str | os.PathLike | list[Path], history: TokenHistory):
        super().__init__(path, history)
        # (trace, span) of spans with usage-carrying spans below them: their own usage
        # is the aggregate of those, so it is not counted again.
        self._covered = Memory(MAX_REMEMBERED_SPANS)  # (trace, span)
        self._tools_seen = Memory(MAX_REMEMBERED_SPANS)  # (trace, span) of tool spans read
        self._copies = Copies()  # responses counted, recent calls: one call seen twice

    def parse(self, line: bytes, file: str) -> Iterable[Record]:
        return self._read(line, file, emit=True)

    def resume(self, file: str, head: Iterable[bytes]) -> None:
        """Remember which spans were covered and which tool spans were read before a restart."""
        for line in head:
            try:
                self._read(line, file, emit=False)
            except BAD_LINE:
                continue  # counted as bad when first read

    def _read(self, line: bytes, file: str, emit: bool) -> list[Record]:
        # Most spans of an application are not GenAI spans: skip their lines unparsed.
        if b"gen_ai." not in line and b"claude_code." not in line:
            return []
        obj = orjson.loads(line)
        if isinstance(obj, dict) and ("resourceLogs" in obj or "resourceMetrics" in obj):
            if emit:  # the figures read before a restart are in the saved state
                read = read_logs if "resourceLogs" in obj else read_metrics
                read(obj, self.history.reading.agent)
            return []
        spans: list[Span] = []
        errors: list[BaseException] = []
        for span in spans_of(obj):
            if isinstance(span, BaseException):
                errors.append(span)
            else:
                spans.append(span)
        self._cover(spans)
        out: list[Record] = []
        for span in spans:
            try:
                out.extend(self._records(span, file, emit))
            except BAD_LINE as exc:
                errors.append(exc)
        if errors and emit:
            # One bad span makes the line bad; the line's other spans still count.
            self.history.note_bad_line(file, 1, bad_reason(errors[0]), source=self.kind)
        return out

    def _cover(self, spans: list[Span]) -> None:
        """Mark every ancestor of a usage-carrying span as covered. Ancestors on this line
        are walked now; one on a later line passes it on to its parent when it arrives."""
        parents = {(s.trace, s.span_id): s.parent for s in spans if s.span_id}
        for span in spans:
            if not (span.has_usage or (span.trace, span.span_id) in self._covered):
                continue
            parent, steps = span.parent, len(parents)
            while parent and steps >= 0:  # steps: a malformed line may hold a cycle
                key = (span.trace, parent)
                self._covered.remember(key)
                parent = parents.get(key)
                steps -= 1

    def _records(self, span: Span, file: str, emit: bool) -> list[Record]:
        attrs = span.attributes
        key = (span.trace, span.span_id)
        if span.has_usage:
            if span.span_id and key in self._covered:
                return []  # covered: the aggregate of the spans below it, counted there
            return self._usage(span, file, emit)
        if attrs.get("gen_ai.operation.name") == EXECUTE_TOOL:
            start, end = _seconds(span)
            name = _label(attrs.get("gen_ai.tool.name"), span.name.removeprefix(EXECUTE_TOOL))
            if name is None:
                raise ValueError("tool span without a tool name")
            if span.trace and span.span_id:
                if key in self._tools_seen:
                    return []
                self._tools_seen.remember(key)
            if not emit:
                return []
            ok = not span.error and attrs.get("error.type") in (None, "")
            duration_ms = check_duration_ms(max(0.0, (end - start) * 1000.0), "tool span duration")
            return [ToolCall(end, name, duration_ms, ok, _session(span))]
        return []

    def _usage(self, span: Span, file: str, emit: bool) -> list[Record]:
        """The request of a usage span: once per response however many instrumentations
        export it (``otel_copies``), and a notice for a likely copy that names no response."""
        attrs = span.attributes
        counts = otel_usage(usage_attributes(attrs))
        model = _label(attrs.get("gen_ai.response.model"), attrs.get("gen_ai.request.model")) or UNRECORDED_MODEL
        provider, response_id = _provider(span), _label(attrs.get("gen_ai.response.id"))
        if response_id:
            request_key = response_key(provider, response_id)
        else:
            request_key = f"otel:{span.trace}:{span.span_id}" if span.trace and span.span_id else None
        start_s, end_s = _seconds(span)
        event = usage_event(
            model=model,
            ts=end_s,
            provider=provider,
            tier=_label(attrs.get("gen_ai.agent.name")),
            session=_session(span),
            source="otel",
            request_key=request_key,
            reported_cost_usd=span_cost_usd(attrs),
            **counts,
        )
        if response_id:
            event = self._copies.of_response(event)
            if event is None:
                if emit:
                    self.history.note_copies("otel")
                return []  # a copy of a response already counted, adding nothing
        if self._copies.twin(event, span.trace, response_id, start_s, end_s) and emit:
            self.history.notice(twin_notice(file, event.model))
        return [event] if emit else []


SOURCE = OtelSource
