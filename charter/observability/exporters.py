"""The maintained OTLP span exporters (``opentelemetry-exporter-otlp-proto-http`` and ``-grpc``)
with their batches encoded by :func:`charter.observability.spanwire.encode_request`.

Everything else is theirs: endpoints, headers, TLS, compression, timeouts, retries with back-off,
the request size limit and their own metrics. Only the encoding step changes: the HTTP exporter
posts the bytes as they are; the gRPC exporter parses them into its request message (in C, upb)
where it would have built that message object by object in Python
(:mod:`charter.observability.grpc_exporter`, imported only when gRPC is chosen).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from opentelemetry.exporter.otlp.proto.http._common import RequestPayloadTooLargeError, _is_request_too_large
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as _HttpSpanExporter
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExportResult
from opentelemetry.semconv.attributes.http_attributes import HTTP_RESPONSE_STATUS_CODE

from charter.observability.spanwire import encode_request

_logger = logging.getLogger("opentelemetry.exporter.otlp.proto.http.trace_exporter")


class HttpSpanExporter(_HttpSpanExporter):
    """OTLP/HTTP (protobuf). ``export`` is the parent's (opentelemetry-exporter-otlp-proto-http
    1.45.2) with the encoding step replaced."""

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if self._shutdown:
            _logger.warning("Exporter already shutdown, ignoring batch")
            return SpanExportResult.FAILURE
        with self._metrics.export_operation(len(spans)) as result:
            try:
                serialized = encode_request(spans)
            except Exception as error:  # as the parent: a batch that cannot be encoded is dropped
                _logger.error("Failed to encode span batch: %s", error)
                result.error = error
                return SpanExportResult.FAILURE
            if _is_request_too_large(serialized, self._max_request_size):
                _logger.warning(
                    "Dropping span batch: serialized size %d bytes exceeds max_request_size %d bytes.",
                    len(serialized),
                    self._max_request_size,
                )
                result.error = RequestPayloadTooLargeError(
                    f"Serialized span request size {len(serialized)} bytes exceeds max_request_size "
                    f"{self._max_request_size} bytes."
                )
                return SpanExportResult.FAILURE
            sent = self._client.export(serialized)
            if not sent.success:
                result.error = sent.error
                result.error_attrs = (
                    {HTTP_RESPONSE_STATUS_CODE: sent.status_code} if sent.status_code is not None else None
                )
                return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS
