"""W3C Trace Context and Baggage on every request Charter makes, and across the outbox.

A call Charter makes (a model provider, a content source, a webhook target, a provider checked
by a live contract check) carries ``traceparent`` (and ``tracestate``, ``baggage`` when set) of
the span current at the call, so the peer's spans join the caller's trace (W3C Trace Context
Level 1, W3C Baggage). Nothing is sent when no span is current.

The outbox carries the context of the change that caused an event: :func:`current_traceparent`
is stored with the event (and with each webhook delivery made from it), and :func:`context_of`
turns it back into a parent, so a webhook delivery or a re-index, however much later and on
whichever instance, is a span in the trace of the publish.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any, cast

from opentelemetry import context as context_api
from opentelemetry import trace
from opentelemetry.baggage import _BAGGAGE_KEY
from opentelemetry.baggage.propagation import W3CBaggagePropagator
from opentelemetry.context import Context
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

_propagator = CompositePropagator([TraceContextTextMapPropagator(), W3CBaggagePropagator()])
_tracecontext = TraceContextTextMapPropagator()
_baggage = W3CBaggagePropagator()
_SPAN_KEY = trace._SPAN_KEY  # where the API keeps the current span in a context


def inject(headers: MutableMapping[str, str], context: Context | None = None) -> MutableMapping[str, str]:
    """Add ``traceparent``/``tracestate``/``baggage`` for ``context`` (default: the current one) to
    ``headers`` and return them; unchanged when there is no valid span and no baggage.

    What the SDK's W3C propagators write, without their per-call overhead (this runs on every
    outbound call): ``traceparent`` as ``00-{trace id}-{span id}-{flags}``, the span's sampled flag
    as it is (a request that was not sampled passes ``-00``, so the peer does not sample it either)."""
    span = cast("trace.Span | None", context_api.get_value(_SPAN_KEY, context))
    if span is not None:
        span_context = span.get_span_context()
        if span_context.is_valid:
            headers["traceparent"] = (
                f"00-{span_context.trace_id:032x}-{span_context.span_id:016x}-{span_context.trace_flags:02x}"
            )
            if span_context.trace_state:
                headers["tracestate"] = span_context.trace_state.to_header()
    if context_api.get_value(_BAGGAGE_KEY, context):
        _baggage.inject(headers, context=context)
    return headers


def extract(headers: Any) -> Context:
    """The context an inbound carrier (a mapping of header names to values) describes."""
    return _propagator.extract(headers)


def current_traceparent() -> str | None:
    """The ``traceparent`` of the current span (sampled or not), or None when there is none."""
    span_context = trace.get_current_span().get_span_context()
    if not span_context.is_valid:
        return None
    carrier: dict[str, str] = {}
    _tracecontext.inject(carrier)
    return carrier.get("traceparent")


def current_trace_id() -> str | None:
    """The current span's trace id as 32 hex digits, or None outside a span."""
    span_context = trace.get_current_span().get_span_context()
    return format(span_context.trace_id, "032x") if span_context.is_valid else None


def context_of(traceparent: str | None) -> Context | None:
    """A parent context from a stored ``traceparent`` (None for none or a malformed one)."""
    if not traceparent:
        return None
    ctx = _tracecontext.extract({"traceparent": traceparent})
    return ctx if trace.get_current_span(ctx).get_span_context().is_valid else None


def httpx_hooks() -> dict[str, list[Any]]:
    """``event_hooks`` for an ``httpx.Client``: each request gets the current trace context."""

    def add_context(request: Any) -> None:
        inject(request.headers)

    return {"request": [add_context]}


def async_httpx_hooks() -> dict[str, list[Any]]:
    """``event_hooks`` for an ``httpx.AsyncClient`` (its hooks are awaited)."""

    async def add_context(request: Any) -> None:
        inject(request.headers)

    return {"request": [add_context]}
