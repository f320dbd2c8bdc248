"""A lean OpenTelemetry tracer for Charter's own spans, feeding the SDK's span processors.

The SDK's tracer (``opentelemetry.sdk.trace.Tracer``) builds each span with a lock, bounded
attribute maps that re-validate every value, a sampling result object, a parent trace-state lookup
and span metrics, then copies it into a ``ReadableSpan`` at the end: about 25-40 µs a span on this
project's machines, most of what exporting every span cost a gateway call (BENCHMARKS.md,
"Gateway with GenAI spans exported"). Charter's spans carry a handful of plain attributes, so
:class:`LeanTracer` does the same job directly:

- **Sampling** is the configured sampler's decision, made before anything is built: parent-based
  samplers follow the parent's sampled flag; ``traceidratio`` compares the low 64 bits of the trace
  id with the bound the SDK's ``TraceIdRatioBased`` computes (so the same trace ids are kept). A
  span that is not sampled is a ``NonRecordingSpan`` with a valid context, so the trace id and the
  sampled flag (off) still propagate (W3C ``traceparent``) to the calls made under it.
- **Recorded spans** are :class:`LeanSpan`: a ``ReadableSpan`` (what processors and exporters
  read) that is also the live ``Span``; attributes live in a plain dict, values checked once with
  the SDK's own rules only when they are not plain ``str``/``int``/``float``/``bool``; the SDK's
  default limit of 128 attributes, events and links holds. At ``end()`` the span itself goes to the
  provider's span processors (the same ``BatchSpanProcessor`` and exporters as before).

The provider (``opentelemetry.sdk.trace.TracerProvider``) stays what it was: its resource, its span
processors (added later ones included), ``force_flush`` and ``shutdown``.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Mapping, Sequence
from time import time_ns
from typing import Any, cast

from opentelemetry import context as context_api
from opentelemetry import trace as trace_api
from opentelemetry.attributes import _clean_attribute_value
from opentelemetry.sdk.trace import Event, ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.sampling import TraceIdRatioBased
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.semconv.attributes.exception_attributes import (
    EXCEPTION_MESSAGE,
    EXCEPTION_STACKTRACE,
    EXCEPTION_TYPE,
)
from opentelemetry.trace import (
    Link,
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
)
from opentelemetry.util.types import Attributes, AttributeValue

logger = logging.getLogger(__name__)
#: The SDK's default span limits (OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT and friends).
MAX_ATTRIBUTES = 128
MAX_EVENTS = 128
MAX_LINKS = 128
_PLAIN = frozenset({str, int, float, bool})
_KEYS = frozenset({str})
_UNSET = Status(StatusCode.UNSET)
_TRACE_ID_LIMIT = (1 << 64) - 1
_SAMPLED_RANDOM = TraceFlags(TraceFlags.SAMPLED | TraceFlags.RANDOM_TRACE_ID)
_NOT_SAMPLED_RANDOM = TraceFlags(TraceFlags.RANDOM_TRACE_ID)
_SAMPLED = TraceFlags(TraceFlags.SAMPLED)
_NOT_SAMPLED = TraceFlags(TraceFlags.DEFAULT)
_SPAN_KEY = trace_api._SPAN_KEY  # the context key the API keeps the current span under


def _clean(attributes: Attributes) -> dict[str, AttributeValue]:
    """``attributes`` as a new dict of valid values (the SDK's rules, at most MAX_ATTRIBUTES)."""
    if not attributes:
        return {}
    if (
        len(attributes) <= MAX_ATTRIBUTES
        and _PLAIN.issuperset(map(type, attributes.values()))
        and _KEYS.issuperset(map(type, attributes))
        and "" not in attributes
    ):
        return dict(attributes)  # the usual case: plain values, checked at C speed
    out: dict[str, AttributeValue] = {}
    for key, value in attributes.items():
        if not key or type(key) is not str:
            logger.warning("invalid span attribute key %r: dropped", key)
            continue
        if type(value) not in _PLAIN:
            value = _clean_attribute_value(value, None)
        if len(out) >= MAX_ATTRIBUTES and key not in out:
            del out[next(iter(out))]  # the SDK's rule: the oldest makes room
        out[key] = value
    return out


class LeanSpan(ReadableSpan, trace_api.Span):
    """A recorded span: readable by processors and exporters, writable until :meth:`end`."""

    def __init__(
        self,
        name: str,
        context: SpanContext,
        parent: SpanContext | None,
        kind: SpanKind,
        attributes: dict[str, AttributeValue],
        links: Sequence[Link],
        start_time: int,
        tracer: LeanTracer,
        record_exception: bool,
        set_status_on_exception: bool,
    ) -> None:
        # ReadableSpan's fields, set directly (its __init__ would build a default Resource).
        self._name = name
        self._context = context
        self._parent = parent
        self._kind = kind
        self._attributes = attributes
        self._attrs = attributes  # the same dict, typed as the dict it is (ReadableSpan's is a Mapping)
        # Empty until used: a span waiting in the export queue outlives a few garbage collections,
        # and every container it holds is one more object the collector promotes and walks.
        self._events: Sequence[Event] = ()
        self._links = links
        self._start_time = start_time
        self._end_time: int | None = None
        self._resource = tracer.resource
        self._instrumentation_scope = tracer.scope
        self._instrumentation_info = None
        self._status = _UNSET
        self._tracer = tracer
        self._dropped_attributes = 0
        self._dropped_events = 0
        self._record_exception = record_exception
        self._set_status_on_exception = set_status_on_exception

    # -- read ---------------------------------------------------------------------------------
    @property
    def dropped_attributes(self) -> int:
        return self._dropped_attributes

    @property
    def dropped_events(self) -> int:
        return self._dropped_events

    @property
    def dropped_links(self) -> int:
        return 0

    @property
    def events(self) -> Sequence[Event]:
        return self._events

    @property
    def links(self) -> Sequence[Link]:
        return self._links

    def get_span_context(self) -> SpanContext:
        return self._context  # type: ignore[return-value]  # always set: ReadableSpan types it optional

    def is_recording(self) -> bool:
        return self._end_time is None

    # -- write --------------------------------------------------------------------------------
    def set_attribute(self, key: str, value: AttributeValue) -> None:
        if self._end_time is not None:
            logger.warning("Setting attribute on ended span.")
            return
        if not key or type(key) is not str:
            logger.warning("invalid span attribute key %r: dropped", key)
            self._dropped_attributes += 1
            return
        kind = type(value)
        if kind not in _PLAIN:
            if (kind is tuple or kind is list) and _PLAIN.issuperset(map(type, value)):  # type: ignore[arg-type]
                value = tuple(value)  # type: ignore[arg-type]
            else:
                value = _clean_attribute_value(value, None)
        attributes = self._attrs
        if len(attributes) >= MAX_ATTRIBUTES and key not in attributes:
            del attributes[next(iter(attributes))]  # the SDK's rule: the oldest makes room
            self._dropped_attributes += 1
        attributes[key] = value

    def set_attributes(self, attributes: Mapping[str, AttributeValue]) -> None:
        current = self._attrs
        if (
            self._end_time is None
            and len(current) + len(attributes) <= MAX_ATTRIBUTES
            and _PLAIN.issuperset(map(type, attributes.values()))
            and _KEYS.issuperset(map(type, attributes))
            and "" not in attributes
        ):
            current.update(attributes)  # the usual case: plain values, checked at C speed
            return
        for key, value in attributes.items():
            self.set_attribute(key, value)

    def add_event(self, name: str, attributes: Attributes = None, timestamp: int | None = None) -> None:
        if self._end_time is not None:
            logger.warning("Calling add_event on an ended span.")
            return
        if len(self._events) >= MAX_EVENTS:
            self._dropped_events += 1
            return
        event = Event(name, _clean(attributes), timestamp if timestamp is not None else time_ns())
        if isinstance(self._events, list):
            self._events.append(event)
        else:
            self._events = [event]

    def add_link(self, context: SpanContext, attributes: Attributes = None) -> None:
        if self._end_time is None and context.is_valid and len(self._links) < MAX_LINKS:
            self._links = [*self._links, Link(context, _clean(attributes))]

    def update_name(self, name: str) -> None:
        if self._end_time is None:
            self._name = name

    def set_status(self, status: Status | StatusCode, description: str | None = None) -> None:
        # The SDK's rules: OK is final, UNSET is never set.
        if self._end_time is not None or self._status.status_code is StatusCode.OK:
            return
        if isinstance(status, Status):
            if status.status_code is not StatusCode.UNSET:
                self._status = status
        elif status is not StatusCode.UNSET:
            self._status = Status(status, description)

    def record_exception(
        self,
        exception: BaseException,
        attributes: Attributes = None,
        timestamp: int | None = None,
        escaped: bool = False,
    ) -> None:
        import traceback

        module = type(exception).__module__
        qualname = type(exception).__qualname__
        recorded: dict[str, Any] = {
            EXCEPTION_TYPE: f"{module}.{qualname}" if module and module != "builtins" else qualname,
            EXCEPTION_MESSAGE: str(exception),
            EXCEPTION_STACKTRACE: "".join(traceback.format_exception(exception)),
            "exception.escaped": str(escaped),
        }
        if attributes:
            recorded.update(attributes)
        self.add_event("exception", recorded, timestamp)

    def end(self, end_time: int | None = None) -> None:
        if self._end_time is not None:
            logger.warning("Calling end() on an ended span.")
            return
        self._end_time = end_time if end_time is not None else time_ns()
        processor = self._tracer.processor
        processor._on_ending(self)
        processor.on_end(self)

    def __exit__(self, exc_type: Any, exc_val: Any, exc_tb: Any) -> None:
        # As the SDK's span used as a context manager: an exception marks it failed, then it ends.
        if exc_val is not None and self.is_recording() and isinstance(exc_val, Exception):
            if self._record_exception:
                self.record_exception(exc_val, escaped=True)
            if self._set_status_on_exception:
                self.set_status(Status(StatusCode.ERROR, f"{type(exc_val).__name__}: {exc_val}"))
        self.end()


class LeanTracer(trace_api.Tracer):
    """Starts :class:`LeanSpan` (sampled) or ``NonRecordingSpan`` (not) for ``provider``'s processors.

    ``sampler`` is one of the OTEL_TRACES_SAMPLER names (``parentbased_traceidratio`` and the rest)
    and ``ratio`` the argument of the ``traceidratio`` kinds."""

    def __init__(self, provider: TracerProvider, sampler: str, ratio: float, name: str = "charter") -> None:
        self.provider = provider
        self.resource = provider.resource
        self.scope = InstrumentationScope(name, "", None, None)
        # The provider's processor list is mutated in place by add_span_processor: later ones count.
        self.processor: Any = provider._active_span_processor
        self.parent_based = sampler.startswith("parentbased_")
        root = sampler.removeprefix("parentbased_")
        self.sampler_name = sampler
        self._bound = TraceIdRatioBased.get_bound_for_rate(ratio) if root == "traceidratio" else 0
        self._root: Callable[[int], bool]
        if root == "always_on":
            self._root = _always
        elif root == "always_off":
            self._root = _never
        else:
            self._root = self._by_ratio
        self._getrandbits = random.getrandbits

    def _by_ratio(self, trace_id: int) -> bool:
        return trace_id & _TRACE_ID_LIMIT < self._bound

    def start_span(
        self,
        name: str,
        context: context_api.Context | None = None,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: Attributes = None,
        links: Sequence[Link] | None = (),
        start_time: int | None = None,
        record_exception: bool = True,
        set_status_on_exception: bool = True,
    ) -> trace_api.Span:
        current = cast("trace_api.Span | None", context_api.get_value(_SPAN_KEY, context))
        parent: SpanContext | None = current.get_span_context() if current is not None else None
        if parent is not None and parent.is_valid:
            trace_id = parent.trace_id
            sampled = parent.trace_flags.sampled if self.parent_based else self._root(trace_id)
            random_id = parent.trace_flags.random_trace_id
            trace_state = parent.trace_state
        else:
            parent = None
            trace_id = self._getrandbits(128) or 1  # never the invalid id 0
            sampled = self._root(trace_id)
            random_id = True
            trace_state = None
        if random_id:
            flags = _SAMPLED_RANDOM if sampled else _NOT_SAMPLED_RANDOM
        else:
            flags = _SAMPLED if sampled else _NOT_SAMPLED
        span_context = SpanContext(
            trace_id, self._getrandbits(64) or 1, is_remote=False, trace_flags=flags, trace_state=trace_state
        )
        if not sampled:
            return NonRecordingSpan(span_context)
        span = LeanSpan(
            name,
            span_context,
            parent,
            kind,
            _clean(attributes),
            [link for link in links if link.context.is_valid][:MAX_LINKS] if links else (),
            start_time if start_time is not None else time_ns(),
            self,
            record_exception,
            set_status_on_exception,
        )
        self.processor.on_start(span, parent_context=context)
        return span

    def record(
        self, name: str, kind: SpanKind, attributes: dict[str, AttributeValue], start_time: int, end_time: int
    ) -> None:
        """A finished root span, built and handed to the processors in one go: for a hot path that
        has already drawn its sampling decision (``Telemetry.sample_root``) and made no calls under
        the span, so nothing needed it current. ``attributes`` must be plain values (not copied)."""
        getrandbits = self._getrandbits
        context = SpanContext(getrandbits(128) or 1, getrandbits(64) or 1, False, _SAMPLED_RANDOM)
        span = LeanSpan(name, context, None, kind, attributes, (), start_time, self, True, True)
        processor = self.processor
        processor.on_start(span, parent_context=None)
        span._end_time = end_time
        processor._on_ending(span)
        processor.on_end(span)

    def start_as_current_span(  # type: ignore[override]
        self,
        name: str,
        context: context_api.Context | None = None,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: Attributes = None,
        links: Sequence[Link] | None = (),
        start_time: int | None = None,
        record_exception: bool = True,
        set_status_on_exception: bool = True,
        end_on_exit: bool = True,
    ) -> CurrentSpan:
        span = self.start_span(
            name, context, kind, attributes, links, start_time, record_exception, set_status_on_exception
        )
        return CurrentSpan(span, end_on_exit, record_exception, set_status_on_exception)


class CurrentSpan:
    """``with CurrentSpan(span):`` makes ``span`` current for the block, as the API's ``use_span``
    does (an ``Exception`` leaving the block is recorded on it and sets its status to ERROR; it
    ends on exit when ``end_on_exit``), as a plain object instead of a generator context manager."""

    __slots__ = ("end_on_exit", "record_exception", "set_status_on_exception", "span", "token")

    def __init__(
        self,
        span: trace_api.Span,
        end_on_exit: bool = True,
        record_exception: bool = True,
        set_status_on_exception: bool = True,
    ) -> None:
        self.span = span
        self.end_on_exit = end_on_exit
        self.record_exception = record_exception
        self.set_status_on_exception = set_status_on_exception

    def __enter__(self) -> trace_api.Span:
        self.token = context_api.attach(context_api.set_value(_SPAN_KEY, self.span))
        return self.span

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        context_api.detach(self.token)
        span = self.span
        try:
            if isinstance(exc, Exception) and span.is_recording():
                if self.record_exception:
                    span.record_exception(exc)
                if self.set_status_on_exception:
                    span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
        finally:
            if self.end_on_exit:
                span.end()


def _always(_trace_id: int) -> bool:
    return True


def _never(_trace_id: int) -> bool:
    return False
