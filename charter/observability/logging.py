"""Structured JSON logs (structlog), with the request id bound per request.

Logging is process-wide (structlog and the stdlib root logger are global by nature), so it is
configured once: explicitly by ``charter serve`` with its ``--log-level``, otherwise by the first
:func:`charter.app.create_app` from its settings (``log_level``, ``log_json``).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog
from opentelemetry.trace import get_current_span

_configured = False


class _StderrLogger:
    """Writes each rendered line to whatever ``sys.stderr`` is *now* (test runners and CLI
    runners swap it; a logger that kept the old stream would write to a closed file)."""

    def msg(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    log = debug = info = warning = warn = error = critical = exception = fatal = failure = err = msg


def add_trace_context(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: ``trace_id`` and ``span_id`` (W3C hex) of the span current at the log
    call, so a log line and its trace find each other; nothing outside a span."""
    span_context = get_current_span().get_span_context()
    if span_context.is_valid:
        event.setdefault("trace_id", format(span_context.trace_id, "032x"))
        event.setdefault("span_id", format(span_context.span_id, "016x"))
    return event


def _factory(*_args: Any) -> _StderrLogger:
    return _StderrLogger()


def configure_logging(level: str = "INFO", json: bool = True) -> None:
    """Configure structlog and the stdlib root logger (JSON lines on stderr by default)."""
    global _configured
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        numeric = logging.INFO
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            add_trace_context,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=_factory,
        cache_logger_on_first_use=True,
    )
    if not _configured:
        logging.basicConfig(stream=sys.stderr, level=numeric, format="%(message)s")
    _configured = True


def ensure_logging(level: str = "INFO", json: bool = True) -> None:
    """Configure logging unless it already was (by ``charter serve`` or an earlier app)."""
    if not _configured:
        configure_logging(level, json)
