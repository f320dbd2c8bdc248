"""Per-instance OpenTelemetry tracer and Prometheus registry (no global providers)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import Tracer
from prometheus_client import CollectorRegistry, Counter, Histogram

from charter.config import Settings


@dataclass
class Telemetry:
    tracer: Tracer
    provider: TracerProvider
    registry: CollectorRegistry
    requests: Counter
    latency: Histogram
    renders: Counter
    exporter: SpanExporter | None = None
    extra: dict[str, object] = field(default_factory=dict)
    _children: dict[tuple[str, str, int], tuple[Any, Any]] = field(default_factory=dict, repr=False)

    def exporting(self) -> bool:
        """Whether a span would reach anyone: a span processor (an exporter) is registered. Without
        one the SDK would build every span and drop it unseen, so callers skip building it."""
        processors = getattr(self.provider._active_span_processor, "_span_processors", None)
        return processors is None or bool(processors)  # an SDK without that attribute: build them

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one HTTP request and its latency (``charter_http_requests`` and
        ``charter_http_request_duration_seconds``)."""
        # Labelled children are looked up once per (method, route, status), not on every request.
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            children = (self.requests.labels(method, route, str(status)), self.latency.labels(route))
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    @classmethod
    def build(cls, settings: Settings) -> Telemetry:
        # The SDK's own span metrics would look the global meter provider up on every span: this
        # instance keeps its metrics in Prometheus, so give the tracer a no-op one.
        provider = TracerProvider(
            sampler=ParentBased(TraceIdRatioBased(settings.trace_sample_ratio)),
            meter_provider=NoOpMeterProvider(),
            shutdown_on_exit=False,
        )
        exporter: SpanExporter | None = None
        if settings.trace_exporter == "memory":
            exporter = InMemorySpanExporter()
        elif settings.trace_exporter == "console":
            from opentelemetry.sdk.trace.export import ConsoleSpanExporter

            exporter = ConsoleSpanExporter()
        if exporter is not None:
            provider.add_span_processor(SimpleSpanProcessor(exporter))
        registry = CollectorRegistry(auto_describe=True)
        return cls(
            tracer=provider.get_tracer("charter"),
            provider=provider,
            registry=registry,
            requests=Counter(
                "charter_http_requests", "HTTP requests", ["method", "route", "status"], registry=registry
            ),
            latency=Histogram(
                "charter_http_request_duration_seconds",
                "HTTP request latency",
                ["route"],
                registry=registry,
                buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
            ),
            renders=Counter(
                "charter_delivery_renders", "Delivery renders (cache misses)", ["schema_id"], registry=registry
            ),
            exporter=exporter,
        )

    def shutdown(self) -> None:
        self.provider.shutdown()
