"""Reading the gateway's audit records (``gateway_calls``): one action behind
``GET /v1/manage/llm-calls``, ``charter audit llm`` and the admin's LLM call page.

Records come newest first, ``limit`` at a time; ``next_cursor`` continues where a page ended,
stable while new records arrive. A cursor is a keyset position, ``<microseconds since the epoch>.<call
id>`` (:data:`CURSOR_PATTERN`): any such value is a place in the list, so the API declares its form
instead of calling it opaque. Filters combine with AND.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from charter.exceptions import BadRequest, NotFound
from charter.gateway.tables import gateway_calls as t

STATUSES = ("ok", "error", "refused")
#: ``next_cursor``'s form: microseconds since 1970-01-01T00:00:00Z, a dot, the last call's id.
CURSOR_PATTERN = r"^[0-9]{1,16}\.[0-9A-Za-z-]{1,64}$"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
RISKS = ("low", "medium", "high")
#: What a list shows of each record; :func:`get_call` returns every column.
SUMMARY = (
    "id",
    "at",
    "endpoint",
    "key_name",
    "route",
    "model",
    "prompt",
    "prompt_version",
    "status",
    "risk",
    "latency_ms",
    "cost",
    "tools",
    "tool_calls",
)


@dataclass(frozen=True)
class CallFilter:
    since: datetime | None = None
    until: datetime | None = None
    key: str | None = None
    route: str | None = None
    model: str | None = None
    prompt: str | None = None
    prompt_version: str | None = None
    tool: str | None = None
    status: str | None = None
    risk: str | None = None

    def __post_init__(self) -> None:
        if self.status is not None and self.status not in STATUSES:
            raise BadRequest(f"status is one of {', '.join(STATUSES)}")
        if self.risk is not None and self.risk not in RISKS:
            raise BadRequest(f"risk is one of {', '.join(RISKS)}")
        if self.prompt_version is not None and self.prompt is None:
            raise BadRequest("prompt_version needs prompt")

    def where(self) -> list[sa.ColumnElement[bool]]:
        out: list[sa.ColumnElement[bool]] = []
        if self.since is not None:
            out.append(t.c.at >= _utc(self.since))
        if self.until is not None:
            out.append(t.c.at < _utc(self.until))
        for column, value in (
            (t.c.key_name, self.key),
            (t.c.route, self.route),
            (t.c.model, self.model),
            (t.c.prompt, self.prompt),
            (t.c.prompt_version, self.prompt_version),
            (t.c.status, self.status),
            (t.c.risk, self.risk),
        ):
            if value is not None:
                out.append(column == value)
        if self.tool is not None:
            # The tool's quoted name in the offered tools or the calls (JSON text on every backend).
            quoted = '%"' + self.tool.replace("\\", "").replace("%", "").replace("_", "\\_") + '"%'
            out.append(
                sa.or_(
                    sa.cast(t.c.tools, sa.Text).like(quoted, escape="\\"),
                    sa.cast(t.c.tool_calls, sa.Text).like(quoted, escape="\\"),
                )
            )
        return out


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _encode(at: datetime, call_id: str) -> str:
    return f"{(_utc(at) - _EPOCH) // _US}.{call_id}"


def _decode(cursor: str) -> tuple[datetime, str]:
    if not re.fullmatch(CURSOR_PATTERN, cursor):
        raise BadRequest(
            f"cursor {cursor[:80]!r} is not one this API gives out (<microseconds>.<call id>, as next_cursor)"
        )
    micros, _, call_id = cursor.partition(".")
    return _EPOCH + int(micros) * _US, call_id


def _row(row: Any, columns: tuple[str, ...] | None = None) -> dict[str, Any]:
    data = dict(row._mapping)
    out = {k: data[k] for k in columns} if columns else data
    out["at"] = _utc(data["at"]).isoformat()
    return out


def list_calls(conn: sa.Connection, where: CallFilter, *, limit: int = 50, cursor: str | None = None) -> dict[str, Any]:
    """``{"data": [summaries], "next_cursor": str | None}``, newest first."""
    if not 1 <= limit <= 500:
        raise BadRequest("limit is from 1 to 500")
    query = sa.select(*(t.c[c] for c in SUMMARY)).where(*where.where())
    if cursor:
        at, call_id = _decode(cursor)
        query = query.where(sa.or_(t.c.at < at, sa.and_(t.c.at == at, t.c.id < call_id)))
    rows = conn.execute(query.order_by(t.c.at.desc(), t.c.id.desc()).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "data": [_row(r) for r in rows],
        "next_cursor": _encode(rows[-1].at, rows[-1].id) if more else None,
    }


def get_call(conn: sa.Connection, call_id: str) -> dict[str, Any]:
    """Every field of one record (404 when there is none)."""
    row = conn.execute(sa.select(t).where(t.c.id == call_id)).first()
    if row is None:
        raise NotFound(f"no LLM call {call_id!r}")
    return _row(row)
