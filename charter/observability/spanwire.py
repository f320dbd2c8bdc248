"""Finished spans as an OTLP ``ExportTraceServiceRequest``, written straight to protobuf wire format.

The maintained exporters encode a batch by building one ``opentelemetry-proto`` message object per
span, attribute and value in Python (``opentelemetry.exporter.otlp.proto.common.trace_encoder``),
about 35 µs per span on this project's machines; the export thread holds the GIL all that time, so
every request pays for it. :func:`encode_request` writes the same bytes' meaning (the same fields,
parsed back it equals the official encoder's message: ``tests/observability/test_spanwire.py``
checks it field by field) without the objects, in a few µs per span. The HTTP exporter sends these
bytes as they are; the gRPC one parses them into the request message in C (upb) and sends that.

Wire format: https://protobuf.dev/programming-guides/encoding/ ; messages:
``opentelemetry/proto/trace/v1/trace.proto`` and ``common/v1/common.proto`` (opentelemetry-proto).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from struct import Struct
from typing import Any

from opentelemetry.trace import SpanKind, StatusCode

_logger = logging.getLogger(__name__)
_fixed64 = Struct("<Q").pack
_fixed32 = Struct("<I").pack
_double = Struct("<d").pack
_INT64 = (1 << 64) - 1
#: Varints 0-127 are one byte; kept ready.
_SMALL = [bytes((n,)) for n in range(128)]
#: Span.flags: the parent's remoteness is known (SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK), and remote.
_HAS_IS_REMOTE = 0x100
_IS_REMOTE = 0x200
_FLAGS_LOCAL = b"\x85\x01" + _fixed32(_HAS_IS_REMOTE)  # field 16, fixed32
_FLAGS_REMOTE = b"\x85\x01" + _fixed32(_HAS_IS_REMOTE | _IS_REMOTE)
_STATUS_UNSET = b"\x7a\x00"
#: Span.kind (field 6): the proto's SpanKind values are the API's plus one.
_KINDS = {
    kind.value: b"\x30" + bytes((kind.value + 1,)) for kind in SpanKind
}  # field 15: an empty Status (code UNSET), as the official encoder sends it


def _varint(n: int) -> bytes:
    if n < 128:
        return _SMALL[n]
    out = bytearray()
    while n > 127:
        out.append((n & 127) | 128)
        n >>= 7
    out.append(n)
    return bytes(out)


def _len(tag: bytes, payload: bytes) -> bytes:
    """A length-delimited field: ``tag``, the payload's length, the payload."""
    n = len(payload)
    return tag + (_SMALL[n] if n < 128 else _varint(n)) + payload


def _value(value: Any) -> bytes:
    """An ``AnyValue`` (common.proto), following the official encoder's order of type checks."""
    if value is None:
        return b""
    if value is True:
        return b"\x10\x01"
    if value is False:
        return b"\x10\x00"
    if isinstance(value, str):
        return _len(b"\x0a", value.encode("utf-8", "replace"))
    if isinstance(value, bool):  # a bool subclass other than the two singletons
        return b"\x10\x01" if value else b"\x10\x00"
    if isinstance(value, int):
        return b"\x18" + _varint(value & _INT64)  # int64: two's complement, ten bytes when negative
    if isinstance(value, float):
        return b"\x21" + _double(value)
    if isinstance(value, bytes):
        return _len(b"\x3a", value)
    if isinstance(value, Sequence):
        return _len(b"\x2a", b"".join([_len(b"\x0a", _value(v)) for v in value]))
    if isinstance(value, Mapping):
        return _len(b"\x32", b"".join([_len(b"\x0a", _key_value(str(k), v)) for k, v in value.items()]))
    raise TypeError(f"invalid attribute value type {type(value).__name__}")


#: Encoded ``KeyValue`` messages of (key, plain value) pairs (a plain value: a str, int, float or
#: bool, or a tuple of them): spans repeat the same keys and most of the same values (a method, a
#: route, a model, a status code, finish reasons). Bounded: cleared when full.
_pairs: dict[tuple[str, Any, Any], bytes] = {}
_PLAIN = frozenset({str, int, bool, float})


def _key_value(key: str, value: Any) -> bytes:
    return _len(b"\x0a", key.encode("utf-8", "replace")) + _len(b"\x12", _value(value))


def _attributes(tag: bytes, attributes: Mapping[str, Any] | None) -> list[bytes]:
    """Each attribute as a ``KeyValue`` field ``tag``; one that cannot be encoded is left out and
    logged, as the official encoder does."""
    if not attributes:
        return []
    out = []
    pairs = _pairs
    for key, value in attributes.items():
        kind: Any = type(value)
        plain = kind in _PLAIN
        if not plain and kind is tuple:
            kind = tuple(map(type, value))  # (1,) == (True,): the element types tell them apart
            plain = _PLAIN.issuperset(kind)
        if plain:
            found = pairs.get((key, value, kind))
            if found is not None:
                out.append(tag + found)
                continue
        try:
            encoded = _len(b"", _key_value(key, value))
        except Exception:  # the official encoder's rule: log, skip the attribute, keep the span
            _logger.exception("Failed to encode key %s", key)
            continue
        if plain:
            if len(pairs) >= 8192:
                pairs.clear()
            pairs[(key, value, kind)] = encoded
        out.append(tag + encoded)
    return out


def _uint(tag: bytes, n: int) -> bytes:
    return tag + _varint(n) if n else b""


def _span(span: Any) -> bytes:
    context = span.context
    parent = span.parent
    name = span.name.encode("utf-8", "replace")
    parts = [
        b"\x0a\x10",
        context.trace_id.to_bytes(16, "big"),
        b"\x12\x08",
        context.span_id.to_bytes(8, "big"),
    ]
    trace_state = context.trace_state
    if trace_state:
        parts.append(_len(b"\x1a", ",".join(f"{k}={v}" for k, v in trace_state.items()).encode()))
    if parent is not None:
        parts += (b"\x22\x08", parent.span_id.to_bytes(8, "big"))
    parts += (
        b"\x2a",
        _varint(len(name)),
        name,
        _KINDS[span.kind.value],
        b"\x39",
        _fixed64(span.start_time or 0),
        b"\x41",
        _fixed64(span.end_time or 0),
    )
    parts += _attributes(b"\x4a", span.attributes)
    if span.dropped_attributes:
        parts.append(b"\x50" + _varint(span.dropped_attributes))
    if span.events:
        for event in span.events:
            fields = [b"\x09" + _fixed64(event.timestamp), _len(b"\x12", event.name.encode("utf-8", "replace"))]
            fields += _attributes(b"\x1a", event.attributes)
            fields.append(_uint(b"\x20", event.dropped_attributes))
            parts.append(_len(b"\x5a", b"".join(fields)))
        parts.append(_uint(b"\x60", span.dropped_events))
    if span.links:
        for link in span.links:
            linked = link.context
            fields = [
                b"\x0a\x10" + linked.trace_id.to_bytes(16, "big"),
                b"\x12\x08" + linked.span_id.to_bytes(8, "big"),
            ]
            fields += _attributes(b"\x22", link.attributes)
            fields.append(_uint(b"\x28", link.dropped_attributes))
            fields.append(b"\x35" + _fixed32(_HAS_IS_REMOTE | (_IS_REMOTE if linked.is_remote else 0)))
            parts.append(_len(b"\x6a", b"".join(fields)))
        parts.append(_uint(b"\x70", span.dropped_links))
    status = span.status
    code = 0 if status.status_code is StatusCode.UNSET else status.status_code.value
    if code or status.description:
        fields = [_len(b"\x12", status.description.encode()) if status.description else b"", _uint(b"\x18", code)]
        parts.append(_len(b"\x7a", b"".join(fields)))
    else:
        parts.append(_STATUS_UNSET)
    parts.append(_FLAGS_REMOTE if parent is not None and parent.is_remote else _FLAGS_LOCAL)
    return b"".join(parts)


_resources: dict[Any, bytes] = {}
_scopes: dict[Any, bytes] = {}


def _resource(resource: Any) -> bytes:
    """``ResourceSpans.resource`` (field 1), encoded once per resource."""
    found = _resources.get(resource)
    if found is None:
        found = _len(b"\x0a", b"".join(_attributes(b"\x0a", resource.attributes)))
        if len(_resources) < 64:
            _resources[resource] = found
    return found


def _scope(scope: Any) -> bytes:
    """``ScopeSpans.scope`` (field 1), encoded once per instrumentation scope."""
    found = _scopes.get(scope)
    if found is None:
        fields = []
        if scope is not None:
            if scope.name:
                fields.append(_len(b"\x0a", scope.name.encode()))
            if scope.version:
                fields.append(_len(b"\x12", scope.version.encode()))
            fields += _attributes(b"\x1a", scope.attributes)
        found = _len(b"\x0a", b"".join(fields))
        if len(_scopes) < 256:
            _scopes[scope] = found
    return found


#: Spans encoded between two hand-overs of the GIL (about 0.15 ms of encoding).
YIELD_EVERY = 32


def encode_request(spans: Sequence[Any]) -> bytes:
    """The serialized ``ExportTraceServiceRequest`` of ``spans`` (SDK ``ReadableSpan`` objects),
    grouped by resource, then instrumentation scope, as the official encoder groups them."""
    # Grouped by identity: a Resource's hash serialises its attributes to JSON, and every span
    # of a provider shares one Resource and one scope per tracer.
    grouped: dict[int, tuple[Any, dict[int, tuple[Any, list[bytes]]]]] = {}
    for n, span in enumerate(spans, 1):
        if not n % YIELD_EVERY:
            # Encoding runs in the export thread and holds the GIL: hand it over now and then, so a
            # request waiting for it is not held up for the whole batch (512 spans take ~2 ms,
            # and a waiting thread would otherwise get it only at the 5 ms switch interval).
            time.sleep(0)
        resource = span.resource
        scope = span.instrumentation_scope or None
        group = grouped.get(id(resource))
        if group is None:
            group = grouped[id(resource)] = (resource, {})
        entry = group[1].get(id(scope))
        if entry is None:
            entry = group[1][id(scope)] = (scope, [])
        entry[1].append(_len(b"\x12", _span(span)))
    out = []
    for resource, by_scope in grouped.values():
        fields = [_resource(resource)]
        for scope, encoded in by_scope.values():
            scope_fields = [_scope(scope), *encoded]
            if scope is not None and scope.schema_url:
                scope_fields.append(_len(b"\x1a", scope.schema_url.encode()))
            fields.append(_len(b"\x12", b"".join(scope_fields)))
        if resource.schema_url:
            fields.append(_len(b"\x1a", resource.schema_url.encode()))
        out.append(_len(b"\x0a", b"".join(fields)))
    return b"".join(out)
