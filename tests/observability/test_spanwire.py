"""The OTLP wire encoder (charter.observability.spanwire) against the official one: parsed back,
its bytes are the very message opentelemetry-exporter-otlp-proto-common builds, for spans of
every shape (SDK spans and the lean tracer's, events, links, statuses, remote parents, trace
state, every attribute type, several resources and scopes)."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import (
    Link,
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
    TraceState,
    set_span_in_context,
)

from charter.observability.spanwire import encode_request
from charter.observability.tracer import LeanTracer

REMOTE = SpanContext(
    0x0AF7651916CD43DD8448EB211C80319C,
    0xB7AD6B7169203331,
    is_remote=True,
    trace_flags=TraceFlags(TraceFlags.SAMPLED),
    trace_state=TraceState([("vendor", "value"), ("other", "x")]),
)
ATTRIBUTES: dict[str, Any] = {
    "text": "héllo ✓",
    "empty": "",
    "yes": True,
    "no": False,
    "count": 42,
    "negative": -7,
    "huge": 2**62,
    "ratio": 0.25,
    "names": ["a", "b"],
    "numbers": (1, 2, 3),
    "flags": [True, False],
    "floats": [1.5, -2.0],
    "long": "x" * 300,
}


def _spans(tracer_kind: str) -> list[ReadableSpan]:
    provider = TracerProvider(resource=Resource.create({"service.name": "charter-test", "deployment": "ci"}))
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracers = (
        [LeanTracer(provider, "always_on", 1.0), LeanTracer(provider, "always_on", 1.0, name="charter.other")]
        if tracer_kind == "lean"
        else [provider.get_tracer("charter", "1.2.3", schema_url="https://opentelemetry.io/schemas/1.26.0")]
    )
    for i, tracer in enumerate(tracers):
        with tracer.start_as_current_span("GET /v1/pages/{slug}", kind=SpanKind.SERVER, attributes=ATTRIBUTES):
            child = tracer.start_span(f"child {i}", kind=SpanKind.CLIENT, links=[Link(REMOTE, {"why": "batch"})])
            child.add_event("retry", {"attempt": 2})
            child.set_status(Status(StatusCode.ERROR, "upstream said no"))
            child.end()
        remote = tracer.start_span(
            "from a caller", context=set_span_in_context(NonRecordingSpan(REMOTE)), kind=SpanKind.CONSUMER
        )
        remote.set_status(StatusCode.OK)
        remote.end()
        try:
            with tracer.start_as_current_span("fails", kind=SpanKind.PRODUCER):
                raise ValueError("broken")
        except ValueError:
            pass
    other = TracerProvider(resource=Resource.create({"service.name": "elsewhere"}))
    other.add_span_processor(SimpleSpanProcessor(exporter))
    other.get_tracer("x").start_span("internal").end()
    return list(exporter.get_finished_spans())


@pytest.mark.parametrize("tracer_kind", ["sdk", "lean"])
def test_the_bytes_are_the_official_encoders_message(tracer_kind: str) -> None:
    spans = _spans(tracer_kind)
    assert len(spans) == {"sdk": 5, "lean": 9}[tracer_kind]
    ours = ExportTraceServiceRequest.FromString(encode_request(spans))
    official = encode_spans(spans)
    assert ours == official
    assert len(ours.resource_spans) == 2  # grouped by resource, then scope, like the official one


def test_the_attribute_cache_keeps_equal_values_of_other_types_apart() -> None:
    provider = TracerProvider()
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = LeanTracer(provider, "always_on", 1.0)
    for value in (1, True, 1.0, "1", (1,), (True,)):
        tracer.start_span("s", attributes={"v": value}).end()
    spans = exporter.get_finished_spans()
    for _ in range(2):  # the second pass reads every pair from the cache
        assert ExportTraceServiceRequest.FromString(encode_request(spans)) == encode_spans(spans)
