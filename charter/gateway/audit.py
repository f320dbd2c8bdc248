"""The audit trail: one ``gateway_calls`` row per call, written off the request path.

Rows are queued and inserted in batches by one background thread, so a call never waits on the
database; :meth:`AuditWriter.flush` blocks until everything queued so far is committed (tests, CLI,
shutdown). Every string in a row is redacted before it is queued.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson
import sqlalchemy as sa
import structlog

from charter.db.engine import write_connection
from charter.gateway.tables import gateway_calls

if TYPE_CHECKING:
    from charter.gateway.config import ModelConfig
    from charter.gateway.tools.offer import ToolOffer

log = structlog.get_logger("charter.gateway.audit")

#: The longest the writer sleeps while nothing is queued (a row queued meanwhile wakes it at once).
IDLE_WAIT = 5.0


@dataclass
class CallRecord:
    """What one audit row says about a call, before redaction (``Gateway._audit`` redacts it,
    bounds its tool traffic and queues the row). Filled in as the call goes: ``model`` stays
    None when no target answered."""

    endpoint: str  # chat | stream | prompt | ask | sdk
    route: str
    messages: list[dict[str, Any]]
    key_name: str = "internal"
    user: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    offer: ToolOffer | None = None
    model: ModelConfig | None = None
    chain: list[dict[str, Any]] = field(default_factory=list)
    text: str | None = None
    latency_ms: float = 0.0
    usage: dict[str, int] = field(default_factory=dict)
    cost: float = 0.0
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    validation: dict[str, Any] | None = None
    error: str | None = None
    call_id: str = ""


def _encode(value: Any, json: bool) -> Any:
    if json:
        return None if value is None else orjson.dumps(value).decode()
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


class AuditWriter:
    """Queue rows from any thread; one background thread inserts them in batches.

    The request path only appends to a deque (no lock handoff, no wake-up per call); while rows
    come the writer wakes every ``interval`` seconds, or at once for :meth:`flush`. When a wake
    finds nothing queued the writer sleeps until a row comes (the first row after a quiet spell
    wakes it, the rows after it do not), so an idle server spends nothing on its audit. A batch that
    fails to insert is retried row by row, so one bad row cannot lose the others; a row that still
    fails is logged.
    """

    def __init__(self, engine: sa.Engine, batch: int = 500, interval: float = 0.05) -> None:
        self.engine = engine
        self.batch = batch
        self.interval = interval
        self._rows: deque[dict[str, Any]] = deque()
        self._wake = threading.Event()
        self._stop = False
        self._done = threading.Condition()
        self._written = 0  # rows taken off the deque and handled (written or logged)
        self._queued = 0
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        #: Set by the writer when it goes to sleep with nothing queued: the next row wakes it.
        self._idle = False
        self._sqlite = engine.dialect.name == "sqlite"
        self._columns = [c.name for c in gateway_calls.columns]
        self._json = {c.name for c in gateway_calls.columns if isinstance(c.type, sa.JSON)}
        self._sql = (
            f"INSERT INTO gateway_calls ({', '.join(self._columns)}) VALUES ({', '.join('?' for _ in self._columns)})"
        )

    def record(self, row: dict[str, Any]) -> None:
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._stop = False
                    self._thread = threading.Thread(target=self._run, name="charter-gateway-audit", daemon=True)
                    self._thread.start()
        self._queued += 1
        self._rows.append(row)
        if self._idle:
            self._idle = False
            self._wake.set()

    def flush(self, timeout: float = 10.0) -> None:
        """Wait until every row queued before this call is written."""
        if self._thread is None:
            return
        target = self._queued
        self._wake.set()
        with self._done:
            self._done.wait_for(lambda: self._written >= target, timeout)

    def close(self) -> None:
        if self._thread is not None:
            self._stop = True
            self._wake.set()
            self._thread.join(timeout=10)
            self._thread = None

    def _take(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        while self._rows and len(rows) < self.batch:
            rows.append(self._rows.popleft())
        return rows

    def _insert(self, rows: list[dict[str, Any]]) -> None:
        if self._sqlite:
            try:
                self._insert_sqlite(rows)
                return
            except Exception:  # fall back to SQLAlchemy, which also finds the bad row(s)
                log.warning("gateway_audit_fast_insert_failed", rows=len(rows))
        rows = [_without_nul(row) for row in rows]
        try:
            with write_connection(self.engine) as conn, conn.begin():
                conn.execute(sa.insert(gateway_calls), rows)
            return
        except Exception:  # find the bad row(s); keep the good ones
            log.warning("gateway_audit_batch_failed", rows=len(rows))
        for row in rows:
            try:
                with write_connection(self.engine) as conn, conn.begin():
                    conn.execute(sa.insert(gateway_calls), [row])
            except Exception:  # the audit must never take the gateway down; say so loudly
                log.exception("gateway_audit_write_failed", call_id=row.get("id"))

    def _insert_sqlite(self, rows: list[dict[str, Any]]) -> None:
        """The same rows through the DB-API's ``executemany`` (a C loop): SQLAlchemy's per-row
        Python work, done in this thread, holds the GIL the request path needs. Values are
        encoded as SQLAlchemy stores them on SQLite (JSON as text, UTC timestamps without offset)."""
        values = [self._values(row) for row in rows]
        raw = self.engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute("BEGIN IMMEDIATE")
            cursor.executemany(self._sql, values)
            raw.commit()
        except BaseException:
            raw.rollback()
            raise
        finally:
            raw.close()

    def _values(self, row: dict[str, Any], checked: bool = False) -> tuple[Any, ...]:
        """``row``'s values in column order as SQLite stores them (:func:`_encode`), its NULs
        replaced (:func:`_without_nul`): looked for in the encoded values, so a row is encoded once."""
        json = self._json
        out = []
        nul = False
        for c in self._columns:
            value = _encode(row.get(c), c in json)
            if type(value) is str and ("\x00" in value or (c in json and "\\u0000" in value)):
                nul = True
            out.append(value)
        if nul and not checked:
            return self._values(_without_nul(row), checked=True)
        return tuple(out)

    def _run(self) -> None:
        idle = False
        while True:
            if idle:
                self._idle = True
                if not self._rows and not self._stop:  # a row queued meanwhile saw _idle, or is seen here
                    self._wake.wait(IDLE_WAIT)
                self._idle = False
            else:
                self._wake.wait(self.interval)
            self._wake.clear()
            idle = not self._rows
            while rows := self._take():
                self._insert(rows)
                with self._done:
                    self._written += len(rows)
                    self._done.notify_all()
            if self._stop and not self._rows:
                return


def _without_nul(row: dict[str, Any]) -> dict[str, Any]:
    """``row`` with every NUL character in its strings (a chat message may carry ``\\u0000``; an
    error message may quote a refused member name) replaced by U+FFFD: PostgreSQL keeps no NUL in
    text or JSON, and the record must be written whatever the request held. Checked once per row
    with orjson (C), walked only when one is there."""
    import orjson

    try:
        if b"\\u0000" not in orjson.dumps(row, default=str, option=orjson.OPT_NON_STR_KEYS):
            return row
    except TypeError:  # something orjson will not write: walk it
        pass
    return {k: _replace_nul(v) for k, v in row.items()}


def _replace_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_replace_nul(k): _replace_nul(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_replace_nul(v) for v in value]
    return value
