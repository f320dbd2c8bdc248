"""The audit trail: one ``gateway_calls`` row per call, written off the request path.

Rows are queued and inserted in batches by one background thread, so a call never waits on the
database; :meth:`AuditWriter.flush` blocks until everything queued so far is committed (tests, CLI,
shutdown). Every string in a row is redacted before it is queued.
"""

from __future__ import annotations

import queue
import threading
from typing import Any

import sqlalchemy as sa
import structlog

from charter.db.engine import write_connection
from charter.gateway.tables import gateway_calls

log = structlog.get_logger("charter.gateway.audit")
_STOP = object()


class AuditWriter:
    def __init__(self, engine: sa.Engine, batch: int = 200) -> None:
        self.engine = engine
        self.batch = batch
        self._queue: queue.Queue[Any] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def record(self, row: dict[str, Any]) -> None:
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="charter-gateway-audit", daemon=True)
                    self._thread.start()
        self._queue.put(row)

    def flush(self, timeout: float = 10.0) -> None:
        """Wait until every row queued before this call is written."""
        if self._thread is None:
            return
        done = threading.Event()
        self._queue.put(done)
        done.wait(timeout)

    def close(self) -> None:
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join(timeout=10)
            self._thread = None

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            rows: list[dict[str, Any]] = []
            markers: list[threading.Event] = []
            stop = False
            while True:
                if item is _STOP:
                    stop = True
                elif isinstance(item, threading.Event):
                    markers.append(item)
                else:
                    rows.append(item)
                if len(rows) >= self.batch:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            if rows:
                try:
                    with write_connection(self.engine) as conn, conn.begin():
                        conn.execute(sa.insert(gateway_calls), rows)
                except Exception:  # the audit must never take the gateway down; say so loudly
                    log.exception("gateway_audit_write_failed", rows=len(rows))
            for marker in markers:
                marker.set()
            if stop:
                return
