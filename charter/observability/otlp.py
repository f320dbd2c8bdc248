"""OTLP export: the ``[charter.telemetry]`` table and the standard ``OTEL_*`` variables, resolved once.

Precedence follows the rest of Charter (docs/configuration.md): an ``OTEL_*`` environment variable
wins over ``charter.toml``, which wins over the defaults. Options that the OpenTelemetry SDK reads
from the environment itself (``OTEL_EXPORTER_OTLP_HEADERS``, ``_TIMEOUT``, ``_COMPRESSION``,
``OTEL_BSP_*``) are read here too and passed on explicitly, so what Charter reports is what the SDK
uses; the certificate variables are left to the SDK. The exporters are the maintained ones
(``opentelemetry-exporter-otlp-proto-http`` and ``-grpc``); spans leave through a
``BatchSpanProcessor`` (a bounded queue drained by a background thread), so a collector that is
down or slow costs a request nothing: the queue fills and spans are dropped, never waited for.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Literal

from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_OFF,
    ALWAYS_ON,
    ParentBased,
    Sampler,
    TraceIdRatioBased,
)
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from charter import __version__
from charter.exceptions import ConfigError

Protocol = Literal["http/protobuf", "grpc"]
SamplerName = Literal[
    "always_on",
    "always_off",
    "traceidratio",
    "parentbased_always_on",
    "parentbased_always_off",
    "parentbased_traceidratio",
]
DEFAULT_ENDPOINTS: dict[str, str] = {"http/protobuf": "http://localhost:4318", "grpc": "http://localhost:4317"}


class TelemetryOptions(BaseModel):
    """``[charter.telemetry]`` in ``charter.toml``; each key's ``OTEL_*`` variable wins over it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: ``service.name`` of every span and metric (OTEL_SERVICE_NAME).
    service_name: str = "charter"
    #: More resource attributes, e.g. ``deployment.environment.name`` (OTEL_RESOURCE_ATTRIBUTES).
    resource_attributes: dict[str, str] = Field(default_factory=dict)
    #: ``http/protobuf`` (port 4318) or ``grpc`` (port 4317) (OTEL_EXPORTER_OTLP_PROTOCOL).
    protocol: Protocol = "http/protobuf"
    #: The collector's base URL (OTEL_EXPORTER_OTLP_ENDPOINT); HTTP appends ``/v1/traces`` and ``/v1/metrics``.
    endpoint: str = ""
    #: Full per-signal URLs (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, OTEL_EXPORTER_OTLP_METRICS_ENDPOINT).
    traces_endpoint: str = ""
    metrics_endpoint: str = ""
    #: Sent with every export, e.g. an API key (OTEL_EXPORTER_OTLP_HEADERS).
    headers: dict[str, str] = Field(default_factory=dict)
    #: Seconds one export may take, retries included (OTEL_EXPORTER_OTLP_TIMEOUT).
    timeout: float | None = Field(default=None, gt=0)
    #: ``gzip`` or ``none`` (OTEL_EXPORTER_OTLP_COMPRESSION).
    compression: Literal["gzip", "none"] | None = None
    #: gRPC without TLS (OTEL_EXPORTER_OTLP_INSECURE); an ``http://`` endpoint is insecure anyway.
    insecure: bool | None = None
    #: The sampler (OTEL_TRACES_SAMPLER); its argument (OTEL_TRACES_SAMPLER_ARG) defaults to
    #: ``trace_sample_ratio``.
    traces_sampler: SamplerName = "parentbased_traceidratio"
    traces_sampler_arg: float | None = Field(default=None, ge=0.0, le=1.0)
    #: Batching (OTEL_BSP_MAX_QUEUE_SIZE, _SCHEDULE_DELAY, _MAX_EXPORT_BATCH_SIZE, _EXPORT_TIMEOUT).
    max_queue_size: int | None = Field(default=None, ge=1)
    schedule_delay_ms: int | None = Field(default=None, ge=1)
    max_export_batch_size: int | None = Field(default=None, ge=1)
    export_timeout_ms: int | None = Field(default=None, ge=1)
    #: ``otlp`` also pushes the Prometheus metrics to the collector (OTEL_METRICS_EXPORTER).
    metrics_exporter: Literal["none", "otlp"] = "none"
    #: Milliseconds between metric exports (OTEL_METRIC_EXPORT_INTERVAL).
    metric_export_interval_ms: int = Field(default=60_000, ge=100)
    #: Record prompt and completion text on model spans (OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT);
    #: off by default, and the gateway's redaction applies when on.
    capture_content: bool = False
    #: Where an operator opens a trace: a URL with ``{trace_id}``, e.g. Grafana's or Jaeger's trace view
    #: (``http://jaeger:16686/trace/{trace_id}``); the admin links audit records there.
    trace_url: str = ""

    def trace_link(self, trace_id: str | None) -> str:
        """The URL of ``trace_id`` in the operator's tracing backend, or "" when none is configured."""
        return self.trace_url.replace("{trace_id}", trace_id) if (self.trace_url and trace_id) else ""


#: Option -> the variable that wins over it (the OTEL_BSP_* and exporter-read ones included).
ENVIRONMENT: dict[str, str] = {
    "service_name": "OTEL_SERVICE_NAME",
    "resource_attributes": "OTEL_RESOURCE_ATTRIBUTES",
    "protocol": "OTEL_EXPORTER_OTLP_PROTOCOL",
    "endpoint": "OTEL_EXPORTER_OTLP_ENDPOINT",
    "traces_endpoint": "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "metrics_endpoint": "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
    "headers": "OTEL_EXPORTER_OTLP_HEADERS",
    "timeout": "OTEL_EXPORTER_OTLP_TIMEOUT",
    "compression": "OTEL_EXPORTER_OTLP_COMPRESSION",
    "insecure": "OTEL_EXPORTER_OTLP_INSECURE",
    "traces_sampler": "OTEL_TRACES_SAMPLER",
    "traces_sampler_arg": "OTEL_TRACES_SAMPLER_ARG",
    "max_queue_size": "OTEL_BSP_MAX_QUEUE_SIZE",
    "schedule_delay_ms": "OTEL_BSP_SCHEDULE_DELAY",
    "max_export_batch_size": "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
    "export_timeout_ms": "OTEL_BSP_EXPORT_TIMEOUT",
    "metrics_exporter": "OTEL_METRICS_EXPORTER",
    "metric_export_interval_ms": "OTEL_METRIC_EXPORT_INTERVAL",
    "capture_content": "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",
}


def _pairs(text: str) -> dict[str, str]:
    """``k1=v1,k2=v2`` (the W3C baggage-like format of OTEL_RESOURCE_ATTRIBUTES and _HEADERS)."""
    from urllib.parse import unquote

    out: dict[str, str] = {}
    for item in text.split(","):
        if not item.strip():
            continue
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"expected key=value pairs separated by commas, got {item.strip()!r}")
        out[unquote(key.strip())] = unquote(value.strip())
    return out


def resolve(table: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> TelemetryOptions:
    """The effective options: ``table`` (``[charter.telemetry]``) overridden by ``OTEL_*`` variables.

    Raises :class:`ConfigError` naming the key or variable for anything invalid."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = dict(table)
    for key, variable in ENVIRONMENT.items():
        raw = environ.get(variable)
        if raw is None or raw == "":
            continue
        if key in ("resource_attributes", "headers"):
            values[key] = _pairs(raw)
        elif key == "timeout":
            values[key] = raw  # seconds, as the Python exporters read it
        elif key == "capture_content" or key == "insecure":
            values[key] = raw.strip().lower() == "true"
        elif key in ("traces_sampler", "metrics_exporter", "protocol", "compression"):
            values[key] = raw.strip().lower()
        else:
            values[key] = raw.strip()
    try:
        return TelemetryOptions(**values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])} ({ENVIRONMENT.get(str(e['loc'][0]), 'charter.toml')}): {e['msg']}"
            for e in exc.errors()
        )
        raise ConfigError(f"invalid telemetry settings ([charter.telemetry] or OTEL_*): {problems}") from exc


def sampler(options: TelemetryOptions, default_ratio: float) -> Sampler:
    """The configured sampler; ``traceidratio`` kinds take ``traces_sampler_arg`` or ``default_ratio``."""
    ratio = options.traces_sampler_arg if options.traces_sampler_arg is not None else default_ratio
    name = options.traces_sampler
    if name == "always_on":
        return ALWAYS_ON
    if name == "always_off":
        return ALWAYS_OFF
    if name == "traceidratio":
        return TraceIdRatioBased(ratio)
    if name == "parentbased_always_on":
        return ParentBased(ALWAYS_ON)
    if name == "parentbased_always_off":
        return ParentBased(ALWAYS_OFF)
    return ParentBased(TraceIdRatioBased(ratio))


def may_sample(options: TelemetryOptions, default_ratio: float) -> bool:
    """Whether a request without a sampled parent can ever be recorded (hot paths skip spans if not)."""
    ratio = options.traces_sampler_arg if options.traces_sampler_arg is not None else default_ratio
    name = options.traces_sampler
    if name in ("always_off", "parentbased_always_off"):
        return False
    return name in ("always_on", "parentbased_always_on") or ratio > 0


def resource(options: TelemetryOptions) -> Resource:
    return Resource.create(
        {
            **options.resource_attributes,
            "service.name": options.service_name,
            "service.version": __version__,
        }
    )


def _signal_endpoint(options: TelemetryOptions, signal: str) -> str | None:
    """The URL for ``signal`` (``traces``/``metrics``), or None to let the exporter read the environment."""
    explicit = options.traces_endpoint if signal == "traces" else options.metrics_endpoint
    if explicit:
        return explicit
    base = options.endpoint or DEFAULT_ENDPOINTS[options.protocol]
    if options.protocol == "grpc":
        return base
    return base.rstrip("/") + f"/v1/{signal}"


def _common(options: TelemetryOptions) -> dict[str, Any]:
    """Keyword arguments both exporters take (the options already hold the variables' values)."""
    kwargs: dict[str, Any] = {"meter_provider": NoOpMeterProvider()}
    if options.headers:
        kwargs["headers"] = dict(options.headers)
    if options.timeout is not None:
        kwargs["timeout"] = options.timeout
    return kwargs


def span_exporter(options: TelemetryOptions) -> SpanExporter:
    """The OTLP span exporter for ``options.protocol`` (the gRPC one is imported only when chosen),
    encoding batches with :mod:`charter.observability.spanwire` (the same messages, in a fraction
    of the official encoder's CPU)."""
    kwargs = _common(options)
    endpoint = _signal_endpoint(options, "traces")
    if options.protocol == "grpc":
        import grpc

        from charter.observability.grpc_exporter import GrpcSpanExporter

        if options.compression is not None:
            kwargs["compression"] = (
                grpc.Compression.Gzip if options.compression == "gzip" else grpc.Compression.NoCompression
            )
        insecure = options.insecure if options.insecure is not None else (endpoint or "").startswith("http://")
        return GrpcSpanExporter(endpoint=endpoint, insecure=insecure, **kwargs)
    from opentelemetry.exporter.otlp.proto.http import Compression

    from charter.observability.exporters import HttpSpanExporter

    if options.compression is not None:
        kwargs["compression"] = Compression.Gzip if options.compression == "gzip" else Compression.NoCompression
    return HttpSpanExporter(endpoint=endpoint, **kwargs)


def metric_exporter(options: TelemetryOptions) -> Any:
    """The OTLP metric exporter for ``options.protocol``."""
    kwargs = _common(options)
    endpoint = _signal_endpoint(options, "metrics")
    if options.protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter as GrpcMetricExporter

        insecure = options.insecure if options.insecure is not None else (endpoint or "").startswith("http://")
        return GrpcMetricExporter(endpoint=endpoint, insecure=insecure, **kwargs)
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter as HttpMetricExporter

    return HttpMetricExporter(endpoint=endpoint, **kwargs)


def batch_processor(exporter: SpanExporter, options: TelemetryOptions) -> BatchSpanProcessor:
    """A ``BatchSpanProcessor``; unset options fall to the SDK (which reads OTEL_BSP_*, then its defaults)."""
    return BatchSpanProcessor(
        exporter,
        max_queue_size=options.max_queue_size,
        schedule_delay_millis=options.schedule_delay_ms,
        max_export_batch_size=options.max_export_batch_size,
        export_timeout_millis=options.export_timeout_ms,
        meter_provider=NoOpMeterProvider(),
    )
