"""Import and export entries as JSON Lines.

One line per entry: ``{"id", "type", "status", "data": {locale: document}}`` where status is
``draft`` or ``published`` (export also writes ``revision``). An import validates every line first
and then writes all of them in one transaction: a bad line means nothing is imported.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from charter import strictjson
from charter.auth.roles import Actor
from charter.content import store
from charter.content.actions import create_entry, publish_entry, update_entry
from charter.exceptions import BadRequest, CharterError, ErrorDetail, NotFound, ValidationFailed
from charter.runtime import Runtime

Progress = Callable[[int], None]


def read_lines(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """Parse a JSONL file; raises ValidationFailed naming every bad line."""
    errors: list[ErrorDetail] = []
    rows: list[tuple[int, dict[str, Any]]] = []
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BadRequest(f"cannot read {path}: {exc.strerror}")
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = strictjson.loads(line, what=f"line {lineno}")
        except strictjson.InvalidJSON as exc:
            # The same strict gate as the API (charter.strictjson): the pointer is line/position.
            where = exc.errors[0].pointer if exc.errors else ""
            errors.append(ErrorDetail(f"/{lineno}{where}", f"invalid JSON: {exc.detail}", file=str(path)))
            continue
        if not isinstance(row, dict) or not isinstance(row.get("type"), str) or not isinstance(row.get("data"), dict):
            errors.append(
                ErrorDetail(f"/{lineno}", "each line needs 'type' (string) and 'data' (object)", file=str(path))
            )
            continue
        if row.get("status", "draft") not in ("draft", "published"):
            errors.append(ErrorDetail(f"/{lineno}/status", "status must be 'draft' or 'published'", file=str(path)))
            continue
        rows.append((lineno, row))
    if errors:
        raise ValidationFailed(detail=f"{len(errors)} bad line(s) in {path}", errors=errors)
    return rows


def import_entries(
    rt: Runtime,
    actor: Actor,
    rows: list[tuple[int, dict[str, Any]]],
    progress: Progress | None = None,
    source: str = "",
) -> dict[str, int]:
    """Create or update (by id) every entry, publishing those marked published; all or nothing."""
    counts = {"created": 0, "updated": 0, "published": 0}
    with rt.write() as (conn, _pending):
        for lineno, row in dependency_order(rt, rows):
            try:
                entry_id = row.get("id")
                existing = None
                if entry_id:
                    try:
                        existing = store.get_entry(conn, entry_id)
                    except NotFound:
                        existing = None
                if existing is not None:
                    entry = update_entry(
                        rt,
                        actor,
                        existing.id,
                        row["data"],
                        if_match=existing.etag,
                        message=row.get("message") or "import",
                    )
                    counts["updated"] += 1
                else:
                    entry = create_entry(
                        rt, actor, row["type"], row["data"], entry_id=entry_id, message=row.get("message") or "import"
                    )
                    counts["created"] += 1
                if row.get("status") == "published":
                    publish_entry(rt, actor, entry.id)
                    counts["published"] += 1
            except CharterError as exc:
                exc.detail = f"{source or 'import'} line {lineno}: {exc.detail}"
                for e in exc.errors:
                    e.pointer = f"/{lineno}{e.pointer}"
                raise
            if progress:
                progress(1)
    return counts


def dependency_order(rt: Runtime, rows: list[tuple[int, dict[str, Any]]]) -> list[tuple[int, dict[str, Any]]]:
    """``rows`` with every entry after the entries of the same file it references (an export is
    ordered by id, not by reference), otherwise in file order; a reference cycle keeps file order."""
    from charter.schemas.references import find_references

    in_file = {row["id"]: i for i, (_n, row) in enumerate(rows) if isinstance(row.get("id"), str)}
    needs: list[set[int]] = []
    for i, (_n, row) in enumerate(rows):
        wanted: set[int] = set()
        try:
            schema = rt.registry.get(row["type"]).schema
        except CharterError:
            schema = None  # reported with its line number when the entry is written
        if schema is not None:
            for doc in row["data"].values():
                for _ptr, _target, ref in find_references(schema, doc):
                    if ref in in_file and in_file[ref] != i:
                        wanted.add(in_file[ref])
        needs.append(wanted)
    order: list[int] = []
    done: set[int] = set()
    pending = list(range(len(rows)))
    while pending:
        ready = [i for i in pending if needs[i] <= done] or pending[:1]  # a cycle: take the first as is
        for i in ready:
            order.append(i)
            done.add(i)
        pending = [i for i in pending if i not in done]
    return [rows[i] for i in order]


def export_entries(rt: Runtime, out: IO[str], type_name: str | None = None, progress: Progress | None = None) -> int:
    n = 0
    for row in iter_export(rt, type_name):
        out.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
        n += 1
        if progress:
            progress(1)
    return n


def iter_export(rt: Runtime, type_name: str | None = None) -> Iterator[dict[str, Any]]:
    with rt.read() as conn:
        entries: Iterable[Any] = store.list_entries(conn, type_name)
        for entry in entries:
            rev = store.get_revision(conn, entry.id, entry.current_revision)
            yield {
                "id": entry.id,
                "type": entry.type,
                "status": "published" if entry.status == "published" else "draft",
                "revision": entry.current_revision,
                "data": rev.data,
            }
