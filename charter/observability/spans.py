"""Spans for Charter's own work, built only when someone will see them.

Every helper here follows the pattern of the request middleware: with no span processor
registered (``trace_exporter = "none"``) no span is built, yet a parent context handed in (a
``traceparent`` stored with an outbox event) is still made current, so what the work sends on
(:func:`charter.observability.propagation.inject`) carries the trace it belongs to.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry.context import Context
from opentelemetry.trace import INVALID_SPAN, Span, SpanKind

if TYPE_CHECKING:
    from charter.observability.telemetry import Telemetry


@contextmanager
def span(
    telemetry: Telemetry,
    name: str,
    attributes: Mapping[str, Any] | None = None,
    *,
    kind: SpanKind = SpanKind.INTERNAL,
    context: Context | None = None,
) -> Iterator[Span]:
    """A current span named ``name`` (a child of ``context`` when given, else of the current span).

    Yields the non-recording ``INVALID_SPAN`` when no processor would receive it; callers guard
    attribute work with ``span.is_recording()``. An exception leaving the block is recorded on
    the span and re-raised."""
    if telemetry.exporting():
        with telemetry.tracer.start_as_current_span(
            name, context=context, kind=kind, attributes=dict(attributes or {})
        ) as current:
            yield current
        return
    if context is None:
        yield INVALID_SPAN
        return
    token = otel_context.attach(context)
    try:
        yield INVALID_SPAN
    finally:
        otel_context.detach(token)


def client_span(
    telemetry: Telemetry, name: str, context: Context | None = None, attributes: Mapping[str, Any] | None = None
) -> Any:
    """:func:`span` of kind CLIENT: a call Charter makes to another service."""
    return span(telemetry, name, attributes, kind=SpanKind.CLIENT, context=context)
