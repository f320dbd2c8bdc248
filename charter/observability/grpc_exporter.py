"""The maintained OTLP/gRPC span exporter with batches encoded by
:func:`charter.observability.spanwire.encode_request` (see :mod:`charter.observability.exporters`);
a module of its own so that OTLP/HTTP never imports gRPC."""

from __future__ import annotations

from collections.abc import Sequence

from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan

from charter.observability.spanwire import encode_request


class GrpcSpanExporter(OTLPSpanExporter):
    """OTLP/gRPC: the request message parsed (in C) from :func:`encode_request`'s bytes."""

    def _translate_data(self, data: Sequence[ReadableSpan]) -> ExportTraceServiceRequest:
        return ExportTraceServiceRequest.FromString(encode_request(data))
