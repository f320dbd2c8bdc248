"""Per-instance OpenTelemetry tracer and Prometheus registry (no global providers)."""

from __future__ import annotations

import os
import random
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Tracer
from prometheus_client import CollectorRegistry, Counter

from charter.config import Settings
from charter.observability import otlp
from charter.observability.httpmetrics import RequestMetrics
from charter.observability.tracer import LeanTracer


@dataclass
class Telemetry:
    tracer: Tracer
    provider: TracerProvider
    registry: CollectorRegistry
    #: ``charter_http_requests`` and ``charter_http_request_duration_seconds`` (:meth:`observe_request`).
    http: RequestMetrics
    renders: Counter
    exporter: SpanExporter | None = None
    #: The resolved ``[charter.telemetry]`` and ``OTEL_*`` options.
    options: otlp.TelemetryOptions = field(default_factory=otlp.TelemetryOptions)
    #: Whether a request without a sampled parent may be recorded (hot paths skip spans when not).
    sampling: bool = True
    #: Pushes the registry to the collector (``metrics_exporter = "otlp"``), else None.
    pusher: Any = None
    #: Delivery requests answered from the response cache and rendered (``charter_delivery_cache_requests``);
    #: plain ints, bumped on the event loop, read at scrape time.
    delivery_hits: int = 0
    delivery_misses: int = 0
    #: For hot paths: with the default ``parentbased_traceidratio`` sampler, a request without a
    #: parent is recorded with probability ``root_ratio``; :meth:`sample_root` draws that cheaply and
    #: ``root_tracer`` (the same processors, sampler ALWAYS_ON) builds only the spans drawn. None when
    #: another sampler is configured or nothing records spans.
    root_tracer: Tracer | None = None
    root_ratio: float = 0.0

    def sample_root(self) -> bool:
        """Draw whether a request without a parent is recorded (``root_tracer`` set): the same
        probability the SDK's TraceIdRatioBased gives a random trace id, without building a span
        for the requests not drawn (with 10 % sampling, nine in ten)."""
        return self.root_ratio >= 1.0 or random.random() < self.root_ratio

    extra: dict[str, object] = field(default_factory=dict)

    def exporting(self) -> bool:
        """Whether a span would reach anyone: a span processor (an exporter) is registered. Without
        one the SDK would build every span and drop it unseen, so callers skip building it."""
        processors = getattr(self.provider._active_span_processor, "_span_processors", None)
        return processors is None or bool(processors)  # an SDK without that attribute: build them

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one HTTP request and its latency (``charter_http_requests`` and
        ``charter_http_request_duration_seconds``, by route template so the series stay few)."""
        self.http.observe(method, route, status, seconds)

    @classmethod
    def build(cls, settings: Settings, environ: Mapping[str, str] | None = None) -> Telemetry:
        """Build from ``settings`` and the ``OTEL_*`` variables in ``environ`` (default ``os.environ``).

        ``OTEL_TRACES_EXPORTER`` (``otlp``, ``console``, ``none``) chooses the exporter unless
        ``CHARTER_TRACE_EXPORTER`` or ``trace_exporter`` in ``charter.toml`` did; ``OTEL_SDK_DISABLED=true``
        turns tracing and metric pushing off."""
        environ = os.environ if environ is None else environ
        options = otlp.resolve(settings.telemetry, environ)
        kind: str = settings.trace_exporter
        chosen = environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
        if kind == "none" and chosen in ("otlp", "console") and "trace_exporter" not in settings.model_fields_set:
            kind = chosen
        disabled = environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true"
        if disabled:
            kind = "none"
        # The SDK's own span metrics would look the global meter provider up on every span: this
        # instance keeps its metrics in Prometheus, so give the tracer a no-op one.
        provider = TracerProvider(
            sampler=otlp.sampler(options, settings.trace_sample_ratio),
            resource=otlp.resource(options),
            meter_provider=NoOpMeterProvider(),
            shutdown_on_exit=False,
        )
        exporter: SpanExporter | None = None
        if kind == "memory":
            exporter = InMemorySpanExporter()
            provider.add_span_processor(SimpleSpanProcessor(exporter))
        elif kind == "console":
            from opentelemetry.sdk.trace.export import ConsoleSpanExporter

            exporter = ConsoleSpanExporter()
            provider.add_span_processor(SimpleSpanProcessor(exporter))
        elif kind == "otlp":
            # Batched: a request only enqueues its span; a slow or absent collector drops spans
            # from a full queue instead of holding requests (docs/observability.md).
            exporter = otlp.span_exporter(options)
            provider.add_span_processor(otlp.batch_processor(exporter, options))
        root_tracer, root_ratio = _root_sampling(provider, options, settings.trace_sample_ratio)
        registry = CollectorRegistry(auto_describe=True)
        http = RequestMetrics()
        registry.register(http)
        pusher = None
        if options.metrics_exporter == "otlp" and not disabled:
            from charter.observability.metric_push import MetricPusher

            pusher = MetricPusher(
                registry,
                otlp.metric_exporter(options),
                otlp.resource(options),
                options.metric_export_interval_ms / 1000,
            )
        ratio = options.traces_sampler_arg if options.traces_sampler_arg is not None else settings.trace_sample_ratio
        return cls(
            options=options,
            sampling=otlp.may_sample(options, settings.trace_sample_ratio),
            pusher=pusher,
            root_tracer=root_tracer,
            root_ratio=root_ratio,
            # Charter's spans come from a lean tracer feeding the provider's processors
            # (charter.observability.tracer: the SDK's tracer cost 25-40 µs a span).
            tracer=LeanTracer(provider, options.traces_sampler, ratio),
            provider=provider,
            registry=registry,
            http=http,
            renders=Counter(
                "charter_delivery_renders", "Delivery renders (cache misses)", ["schema_id"], registry=registry
            ),
            exporter=exporter,
        )

    def shutdown(self, grace: float = 5.0) -> None:
        """Flush what is queued and stop. A collector that is down would hold the last batches for
        their retries: after ``grace`` seconds the exporter is shut, which ends its retries at once
        (the spans still queued are dropped; a stopping server does not wait on a collector)."""
        if self.pusher is not None:
            self.pusher.shutdown()
        stopping = threading.Thread(target=self.provider.shutdown, name="charter-trace-shutdown", daemon=True)
        stopping.start()
        stopping.join(grace)
        if stopping.is_alive() and self.exporter is not None:
            self.exporter.shutdown()
            stopping.join(grace)


def _root_sampling(
    provider: TracerProvider, options: otlp.TelemetryOptions, default_ratio: float
) -> tuple[Tracer | None, float]:
    """A tracer for pre-drawn root spans and its ratio, for the default sampler only."""
    processors = getattr(provider._active_span_processor, "_span_processors", ())
    if not processors or options.traces_sampler != "parentbased_traceidratio":
        return None, 0.0
    ratio = options.traces_sampler_arg if options.traces_sampler_arg is not None else default_ratio
    # The same provider and processors; every span it starts is recorded (the draw was made).
    return LeanTracer(provider, "always_on", 1.0), ratio
