"""Database spans: one CLIENT span per SQL statement, when a span processor records them.

Listeners are attached to the engine only when the instance exports spans, so with tracing off
a query costs nothing more; a statement gets a span only inside a recorded span (a request, a
webhook delivery), never as a trace of its own. Each span is named after the statement's operation and the database
system (``SELECT sqlite``) and carries ``db.system.name``, ``db.operation.name`` and the
parametrised statement (``db.query.text``, at most 1,000 characters: values travel as bound
parameters and are never recorded).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from opentelemetry.trace import SpanKind, StatusCode, get_current_span

if TYPE_CHECKING:
    from charter.observability.telemetry import Telemetry

_KEY = "charter_span"


def instrument(engine: sa.Engine, telemetry: Telemetry) -> None:
    """Give every statement run through ``engine`` a span (no-op when nothing records spans)."""
    if not telemetry.exporting():
        return
    tracer = telemetry.tracer
    system = engine.dialect.name

    def before(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if not get_current_span().is_recording():
            return  # only inside traced work: background polling makes no root traces of its own
        operation = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "SQL"
        span = tracer.start_span(
            f"{operation} {system}",
            kind=SpanKind.CLIENT,
            attributes={
                "db.system.name": system,
                "db.operation.name": operation,
                "db.query.text": statement[:1000],
            },
        )
        if context is not None:
            setattr(context, _KEY, span)
        else:
            span.end()  # no execution context to carry it to the end: a zero-length span

    def after(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        span = getattr(context, _KEY, None)
        if span is not None:
            if cursor is not None and getattr(cursor, "rowcount", -1) >= 0:
                span.set_attribute("db.response.returned_rows", cursor.rowcount)
            span.end()

    def failed(exception_context: Any) -> None:
        span = getattr(exception_context.execution_context, _KEY, None)
        if span is not None:
            span.set_attribute("error.type", type(exception_context.original_exception).__name__)
            span.set_status(StatusCode.ERROR)
            span.end()

    sa.event.listen(engine, "before_cursor_execute", before)
    sa.event.listen(engine, "after_cursor_execute", after)
    sa.event.listen(engine, "handle_error", failed)
