"""Labels become eval cases: reviewed items as golden JSONL rows that ``charter eval run`` reads
unchanged (the format of :mod:`charter.evals.dataset`).

What each label says about the question:

* ``correct`` on a refusal, ``should_have_refused``, ``unsafe``: ``must_refuse: true``.
* ``correct`` on an answer: ``must_refuse: false``; ``must_cite`` and ``relevant`` (the cited
  entries) when it cited; the reviewer's ``facts``.
* ``incorrect``: ``must_refuse: false`` with the reviewer's ``facts`` (without facts the item is
  skipped: there is nothing to check).
* ``citation_wrong``: as ``incorrect``, plus ``must_cite: true``.

Items with no question (a gateway call whose content was not logged) are skipped. The file is
written to a temporary file beside it and renamed, so a failure leaves no half-written file.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from charter.auth.roles import Actor, Permission
from charter.exceptions import BadRequest, Forbidden
from charter.review.tables import review_items as t


@dataclass
class Export:
    rows: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)  # [{id, why}]


def golden_row(item: dict[str, Any]) -> dict[str, Any] | None:
    """The golden case for one reviewed item (None: it says nothing checkable)."""
    question = (item.get("question") or "").strip()
    if not question:
        return None
    value = item["label"]
    facts = list(item.get("facts") or [])
    expected: dict[str, Any] = {}
    if value in ("should_have_refused", "unsafe") or (value == "correct" and item["refused"]):
        expected["must_refuse"] = True
    elif value == "correct":
        expected["must_refuse"] = False
        relevant = list(dict.fromkeys(c["entry_id"] for c in item.get("citations") or [] if c.get("entry_id")))
        if relevant:
            expected["must_cite"] = True
            expected["relevant"] = relevant
        if facts:
            expected["facts"] = facts
    elif value in ("incorrect", "citation_wrong"):
        if not facts:
            return None
        expected = {"must_refuse": False, "facts": facts}
        if value == "citation_wrong":
            expected["must_cite"] = True
    else:
        return None
    row: dict[str, Any] = {
        "id": f"review-{item['id']}",
        "query": question,
        "locale": item.get("locale") or "en",
        "expected": expected,
        "tags": ["review", value],
        "metadata": {
            "review_item": item["id"],
            "label": value,
            "reviewed_by": item.get("reviewed_by"),
            "prompt": item.get("prompt"),
            "prompt_version": item.get("prompt_version"),
            **({"comment": item["comment"]} if item.get("comment") else {}),
        },
    }
    if item.get("intent"):
        row["intent"] = item["intent"]
    return row


def collect(rt: Any, actor: Actor, *, labels: tuple[str, ...] = (), since: Any = None) -> Export:
    """Every reviewed item (oldest first), as golden rows."""
    if not actor.can(Permission.READ):
        raise Forbidden("this role may not read the review queue")
    q = sa.select(t).where(t.c.status == "reviewed").order_by(t.c.reviewed_at, t.c.id)
    if labels:
        q = q.where(t.c.label.in_(labels))
    if since is not None:
        q = q.where(t.c.reviewed_at >= since)
    with rt.read() as conn:
        items = [dict(r._mapping) for r in conn.execute(q)]
    out = Export()
    for item in items:
        row = golden_row(item)
        if row is None:
            why = "no question logged" if not (item.get("question") or "").strip() else "no expected facts"
            out.skipped.append({"id": item["id"], "why": why})
        else:
            out.rows.append(row)
    return out


def write_jsonl(rows: list[dict[str, Any]], path: Path) -> None:
    """Write ``rows`` atomically; BadRequest naming the path when it cannot be written."""
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise BadRequest(f"cannot write the golden file {path}: it is a directory")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise BadRequest(f"cannot write the golden file {path}: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise BadRequest(f"cannot write the golden file {path}: {exc.strerror or exc}") from exc
