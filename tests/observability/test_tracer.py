"""The lean tracer (charter.observability.tracer): the configured sampler's decisions (the same
trace ids kept as the SDK's samplers keep), unsampled requests still carrying their trace context
(sampled flag off) to the calls made under them, and recorded spans behaving as the SDK's do."""

from __future__ import annotations

import random

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import TraceIdRatioBased
from opentelemetry.trace import (
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
    set_span_in_context,
)

from charter.observability.propagation import inject
from charter.observability.tracer import MAX_ATTRIBUTES, LeanTracer


def _tracer(sampler: str, ratio: float = 1.0) -> tuple[LeanTracer, InMemorySpanExporter]:
    provider = TracerProvider()
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return LeanTracer(provider, sampler, ratio), exporter


def _parent(trace_id: int, sampled: bool) -> SpanContext:
    flags = TraceFlags(TraceFlags.SAMPLED if sampled else TraceFlags.DEFAULT)
    return SpanContext(trace_id, 0xB7AD6B7169203331, is_remote=True, trace_flags=flags)


def test_traceidratio_keeps_the_trace_ids_the_sdk_keeps() -> None:
    tracer, _ = _tracer("traceidratio", 0.3)
    sdk = TraceIdRatioBased(0.3)
    rng = random.Random(16)
    kept = 0
    for _ in range(2000):
        trace_id = rng.getrandbits(128) or 1
        # Not parent-based: the decision is the ratio's, on the parent's trace id.
        context = set_span_in_context(NonRecordingSpan(_parent(trace_id, sampled=True)))
        span = tracer.start_span("s", context=context)
        expected = sdk.should_sample(context, trace_id, "s").decision.is_sampled()
        assert span.is_recording() is expected
        kept += expected
        span.end()
    assert 450 < kept < 750


@pytest.mark.parametrize("sampler", ["parentbased_traceidratio", "parentbased_always_on", "parentbased_always_off"])
@pytest.mark.parametrize("sampled", [True, False])
def test_parent_based_samplers_follow_the_parent(sampler: str, sampled: bool) -> None:
    tracer, exporter = _tracer(sampler, 0.5)
    parent = _parent(0x0AF7651916CD43DD8448EB211C80319C, sampled)
    with tracer.start_as_current_span("child", context=set_span_in_context(NonRecordingSpan(parent))) as span:
        assert span.is_recording() is sampled
        headers = inject({})
    assert headers["traceparent"].startswith("00-0af7651916cd43dd8448eb211c80319c-")
    assert headers["traceparent"].endswith("-01" if sampled else "-00")
    assert len(exporter.get_finished_spans()) == (1 if sampled else 0)


def test_an_unsampled_root_still_carries_its_trace_context() -> None:
    tracer, exporter = _tracer("parentbased_traceidratio", 0.0)
    with tracer.start_as_current_span("request", kind=SpanKind.SERVER) as span:
        assert not span.is_recording() and span.get_span_context().is_valid
        headers = inject({})
    version, trace_id, _span_id, flags = headers["traceparent"].split("-")
    assert version == "00" and trace_id == format(span.get_span_context().trace_id, "032x")
    assert int(flags, 16) & TraceFlags.SAMPLED == 0  # the peer is told not to sample either
    assert exporter.get_finished_spans() == ()


def test_recorded_spans_follow_the_sdks_rules() -> None:
    tracer, exporter = _tracer("always_on")
    with pytest.raises(ValueError), tracer.start_as_current_span("fails") as failing:
        raise ValueError("broken")
    assert not failing.is_recording()
    span = tracer.start_span("s", attributes={f"a{i}": i for i in range(MAX_ATTRIBUTES)})
    span.set_attribute("one more", "x")  # full: the oldest makes room
    span.set_attribute("list", ["a", "b"])
    span.set_attributes({"tags": ("x",), "n": 1})
    span.set_status(StatusCode.OK)
    span.set_status(Status(StatusCode.ERROR, "too late: OK is final"))
    span.end()
    span.set_attribute("after", "end")  # ignored
    span.end()  # ignored
    recorded, errored = {s.name: s for s in exporter.get_finished_spans()}["s"], exporter.get_finished_spans()[0]
    attributes = dict(recorded.attributes or {})
    assert errored.status.status_code is StatusCode.ERROR and "ValueError: broken" in (errored.status.description or "")
    assert [e.name for e in errored.events] == ["exception"]
    assert dict(errored.events[0].attributes or {})["exception.type"] == "ValueError"
    assert recorded.status.status_code is StatusCode.OK
    assert "a0" not in attributes and attributes["one more"] == "x"
    assert attributes["list"] == ("a", "b") and attributes["tags"] == ("x",)
    assert "after" not in attributes and recorded.dropped_attributes >= 1
    assert len(exporter.get_finished_spans()) == 2
