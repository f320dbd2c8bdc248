"""``charter doctor``: find stored records holding a value Charter cannot serve back, and
quarantine them.

Charter refuses such values when they are written (:mod:`charter.strictjson`, enforced by the
engine's JSON serializer), but a database may hold some from an older version or from a write
made behind Charter's back (raw SQL, a restore). Reads of such a record answer a clear 409
(``unservable-record``) or leave the record out of a list; this finds them all: every JSON column
of every table, row by row, including values the JSON decoder cannot read at all.

Quarantine repairs a record in place, in one transaction per record: each bad value is replaced
(a lone surrogate by U+FFFD, a NUL by nothing, a non-finite or unsafe number by ``null``) and the
original, written as ASCII JSON text (``"\\ud800"``, ``NaN``, ``1e999``), goes to the audit log
(action ``doctor.quarantine``), so nothing is lost and every read serves the record again.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from charter.audit import record_audit
from charter.auth.roles import Actor
from charter.db.tables import load_all
from charter.runtime import Runtime
from charter.strictjson import MAX_SAFE_INTEGER, servable

_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class Finding:
    """One record holding a value that cannot be served: where, and what is wrong first."""

    table: str
    column: str
    key: dict[str, Any]
    pointer: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "column": self.column,
            "key": self.key,
            "pointer": self.pointer,
            "message": self.message,
        }


def _json_columns() -> Iterator[tuple[sa.Table, sa.Column[Any]]]:
    for table in load_all().sorted_tables:
        for column in table.columns:
            if isinstance(column.type, sa.JSON) or isinstance(getattr(column.type, "impl", None), sa.JSON):
                yield table, column


def _raw_reader(conn: sa.Connection, table: sa.Table, column: sa.Column[Any]) -> Iterator[tuple[dict[str, Any], Any]]:
    """(primary key, value) of every row: the value as the standard decoder reads the stored text
    (so NaN, lone surrogates and huge numbers come back as Python values); text it cannot read at
    all comes back as :class:`Unreadable`."""
    pk = list(table.primary_key.columns)
    text = sa.cast(column, sa.Text)
    for row in conn.execute(sa.select(*pk, text.label("raw")).order_by(*pk)):
        key = {c.name: row._mapping[c.name] for c in pk}
        if row.raw is None:
            continue
        try:
            value = json.loads(row.raw)
        except ValueError as exc:
            value = Unreadable(str(exc))
        yield key, value


class Unreadable:
    """A stored text no JSON decoder reads."""

    def __init__(self, error: str) -> None:
        self.error = error


def find(rt: Runtime) -> list[Finding]:
    """Every record holding a value a read could not serve back, table by table."""
    found: list[Finding] = []
    with rt.read() as conn:
        for table, column in _json_columns():
            for key, value in _raw_reader(conn, table, column):
                if isinstance(value, Unreadable):
                    message = f"not valid JSON: {value.error}"
                    found.append(Finding(str(table.name), str(column.name), _plain(key), "", message))
                    continue
                problem = servable(value)
                if problem is not None:
                    found.append(
                        Finding(str(table.name), str(column.name), _plain(key), problem.pointer, problem.message)
                    )
    return found


def _plain(key: dict[str, Any]) -> dict[str, Any]:
    return {k: v if isinstance(v, int | str) else str(v) for k, v in key.items()}


def repaired(value: Any) -> tuple[Any, list[dict[str, str]]]:
    """``value`` with every bad value replaced, and what was replaced: ``[{pointer, original}]``
    with the original as ASCII JSON text."""
    replaced: list[dict[str, str]] = []

    def fix(v: Any, path: str) -> Any:
        if isinstance(v, str):
            clean = _SURROGATE.sub("\ufffd", v).replace("\x00", "")
            if clean != v:
                replaced.append({"pointer": path, "original": json.dumps(v)})
            return clean
        if isinstance(v, bool) or v is None:
            return v
        if (isinstance(v, float) and not math.isfinite(v)) or (isinstance(v, int) and abs(v) > MAX_SAFE_INTEGER):
            replaced.append({"pointer": path, "original": json.dumps(v)})
            return None
        if isinstance(v, list):
            return [fix(item, f"{path}/{i}") for i, item in enumerate(v)]
        if isinstance(v, dict):
            out = {}
            for k, item in v.items():
                name = _SURROGATE.sub("\ufffd", str(k)).replace("\x00", "")
                escaped = name.replace("~", "~0").replace("/", "~1")
                if name != k:
                    replaced.append({"pointer": f"{path}/{escaped}", "original": json.dumps(k)})
                out[name] = fix(item, f"{path}/{escaped}")
            return out
        return v

    return fix(value, ""), replaced


def quarantine(rt: Runtime, actor: Actor, findings: list[Finding]) -> int:
    """Repair each record of ``findings`` (see the module docstring); the number repaired."""
    tables = {t.name: t for t in load_all().sorted_tables}
    done = 0
    for finding in findings:
        table = tables[finding.table]
        column = table.c[finding.column]
        where = sa.and_(*(table.c[k] == v for k, v in finding.key.items()))
        with rt.write() as (conn, _pending):
            raw = conn.execute(sa.select(sa.cast(column, sa.Text)).where(where)).scalar_one_or_none()
            if raw is None:
                continue
            try:
                value, replaced = repaired(json.loads(raw))
            except ValueError:
                value, replaced = ({} if not column.nullable else None), [{"pointer": "", "original": json.dumps(raw)}]
            conn.execute(sa.update(table).where(where).values({finding.column: value}))
            record_audit(
                conn,
                actor,
                "doctor.quarantine",
                finding.table,
                json.dumps(finding.key, sort_keys=True),
                {"column": str(finding.column), "replaced": replaced},
            )
        done += 1
    return done
