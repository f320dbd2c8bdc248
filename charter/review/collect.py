"""Review items made from the audit record.

* **Gateway calls** (``gateway_calls``: chat, stream, prompt runs, SDK calls): :func:`sync` reads
  the records written since it last looked (a cursor, re-reading a minute back because records are
  written in batches) and puts in the queue those the policy picks. A record is never queued twice
  (``call_id`` is unique), so a re-read or two syncs at once are harmless. It runs as a worker duty
  and before the queue is read (API, CLI, admin).
* **/v1/ask answers**: :func:`consider_answer` sees the answer as the asker got it (its citations,
  refusal and reason, the intent and indexes, the evidence score) and queues it with the id of its
  model call's audit record; the sync leaves ``endpoint: ask`` records to it.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import deque
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
import structlog

from charter.events import ReviewQueued, record
from charter.review.policy import Facts, ReviewPolicy, load_policy
from charter.review.tables import review_cursor, review_items

log = structlog.get_logger("charter.review")

#: How far back a sync looks for records committed late (audit rows are committed in batches, a
#: little after ``at``; another instance's may come later still): every sync looks :data:`LATE` back
#: from the latest record it judged, and every :data:`SWEEP_SECONDS` the whole ``OVERLAP`` back from
#: the cursor, so a record committed up to ``OVERLAP`` minus ``SWEEP_SECONDS`` late is still queued.
OVERLAP = timedelta(seconds=75)
LATE = timedelta(seconds=2)
SWEEP_SECONDS = 15.0
#: Records judged in one sync at most, and record ids read in one sync at most.
BATCH = 2000
IDS_BATCH = 50_000
#: The columns of an audit record :func:`facts_of_call` reads (the rest is read only when picked).
FACT_COLUMNS = ("id", "at", "prompt", "route", "key_name", "risk", "status", "tools", "tool_calls")
#: The worker's duty syncs at most this often (reading the queue syncs first, whenever it is read),
#: except while a backlog larger than a batch is read.
DUTY_SECONDS = 1.0


def _now() -> datetime:
    return datetime.now(UTC)


def _insert(conn: sa.Connection, pending: list[Any], row: dict[str, Any]) -> bool:
    """Insert unless an item for the same audit record exists; True when inserted."""
    if row.get("call_id"):
        found = conn.execute(sa.select(review_items.c.id).where(review_items.c.call_id == row["call_id"])).first()
        if found is not None:
            return False
    base = {
        "id": str(uuid.uuid4()),
        "created_at": _now(),
        "status": "pending",
        "version": 1,
        "refused": False,
        "citations": [],
        "chunks": [],
        "tool_calls": [],
        "indexes": [],
    }
    values = {**base, **row}
    try:  # two syncs at once (a worker and a reader) may both see the record new: one insert wins
        with conn.begin_nested():
            conn.execute(sa.insert(review_items).values(**values))
    except sa.exc.IntegrityError:
        return False
    event = record(
        conn,
        ReviewQueued(
            item_id=values["id"],
            source=values["source"],
            call_id=values.get("call_id"),
            reasons=list(values["reasons"]),
            intent=values.get("intent"),
            prompt=values.get("prompt"),
            prompt_version=values.get("prompt_version"),
        ).event(domain="review"),
    )
    pending.append(event)
    return True


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return ""


def facts_of_call(row: Any, risky_tools: set[str]) -> Facts:
    called = tuple(str(t.get("name")) for t in (row.tool_calls or []) if isinstance(t, dict))
    offered_high = {
        str(t.get("name")) for t in (row.tools or []) if isinstance(t, dict) and t.get("risk") == "high"
    } | risky_tools
    return Facts(
        request_id=row.id,
        prompt=row.prompt,
        route=row.route,
        key=row.key_name,
        risk=row.risk,
        refused=row.status == "refused",
        tools=called,
        risky_tools=tuple(t for t in called if t in offered_high),
    )


def item_of_call(row: Any, reasons: list[str]) -> dict[str, Any]:
    from charter.gateway.providers.local import parse_sources

    messages = row.request if isinstance(row.request, list) else []
    question = next((_text(m.get("content")) for m in reversed(messages) if m.get("role") == "user"), None)
    chunks = [{"source": n, "id": i, "text": t} for n, i, t in parse_sources(messages)] or [
        {"source": "", "id": str(s), "text": ""} for s in (row.retrieval_sources or [])
    ]
    return {
        "source": "gateway",
        "call_id": row.id,
        "request_id": row.id,
        "endpoint": row.endpoint,
        "reasons": reasons,
        "prompt": row.prompt,
        "prompt_version": row.prompt_version,
        "route": row.route,
        "model": row.model,
        "key_name": row.key_name,
        "risk": row.risk,
        "question": question,
        "answer": row.response,
        "refused": row.status == "refused",
        "refusal_reason": (row.error or "")[:100] or None if row.status == "refused" else None,
        "chunks": chunks,
        "tool_calls": list(row.tool_calls or []),
    }


class Judged:
    """What this process's syncs have judged lately: the ids of the records of the last few
    seconds (a sync reads those again as ids only), and how many records of each second of the
    look-back it judged (a sweep compares them with the table's counts and reads again only the
    seconds that gained a record). One per runtime (:func:`judged`); a sync holds :attr:`lock`, so
    two syncs of one process never judge a record twice (two processes may: the item's ``call_id``
    is unique, and the second insert is a no-op). Its size follows the rate of calls over
    :data:`LATE`, not over :data:`OVERLAP`."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ids: dict[str, datetime] = {}
        self._order: deque[tuple[datetime, str]] = deque()
        #: Records judged per second of ``at`` (:func:`second`).
        self.counts: dict[str, int] = {}
        #: The latest ``at`` judged, and when the whole overlap was last looked through (monotonic).
        self.high: datetime | None = None
        self.swept = float("-inf")
        #: When the worker's duty last synced (monotonic).
        self.duty_ran = float("-inf")
        #: The last sync stopped at a full batch: the next one reads on even if nothing newer came.
        self.paging = False

    def add(self, call_id: str, at: datetime) -> None:
        if call_id not in self.ids:
            self.ids[call_id] = at
            self._order.append((at, call_id))
            key = second(at)
            self.counts[key] = self.counts.get(key, 0) + 1
        if self.high is None or at > self.high:
            self.high = at

    def forget(self, ids_before: datetime, counts_before: datetime) -> None:
        order = self._order
        while order and order[0][0] < ids_before:
            self.ids.pop(order.popleft()[1], None)
        oldest = second(counts_before)
        for key in [k for k in self.counts if k < oldest]:
            del self.counts[key]


def second(at: Any) -> str:
    """The second of ``at`` (UTC), as :func:`_second_of` reads it in SQL: ``YYYY-MM-DD HH:MM:SS``."""
    if isinstance(at, str):  # SQLite: the stored text
        return at[:19]
    return _aware(at).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _second_of(conn: sa.Connection, column: Any) -> Any:
    """SQL for the second of a timestamp column, read back through :func:`second`."""
    if conn.dialect.name == "postgresql":
        return sa.func.date_trunc("second", column)
    return sa.func.substr(column, 1, 19)  # SQLite stores 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC)


def judged(rt: Any) -> Judged:
    """``rt``'s :class:`Judged` (made on first use)."""
    memo = rt.review_judged
    if memo is None:
        with rt.service_lock:
            memo = rt.review_judged
            if memo is None:
                memo = rt.review_judged = Judged()
    return memo


def sync(rt: Any, policy: ReviewPolicy | None = None) -> int:
    """Queue the audit records written since the last sync that the policy picks; returns how
    many items were added. Cheap when nothing new was audited (one indexed read).

    Each sync looks again at the records of the last :data:`LATE` before the latest it judged
    (committed in batches, so a record may land a little after a later one), and every
    :data:`SWEEP_SECONDS` through the whole :data:`OVERLAP` (a record committed late by another
    instance); a record this process judged already is read as its id only."""
    gw = _gateway(rt)
    if gw is not None:
        gw.audit.flush()
    memo = judged(rt)
    with memo.lock:
        return _sync(rt, gw, memo, policy)


def _sync(rt: Any, gw: Any, memo: Judged, policy: ReviewPolicy | None) -> int:
    from charter.gateway.tables import gateway_calls as calls

    facts = [calls.c[c] for c in FACT_COLUMNS]
    with rt.read() as conn:
        cursor = conn.execute(sa.select(review_cursor.c.at).where(review_cursor.c.name == "gateway")).scalar()
        newest = conn.execute(sa.select(sa.func.max(calls.c.at))).scalar()
        # Nothing audited since the cursor (unless the last sync stopped at a full batch).
        if newest is None or (cursor is not None and _aware(newest) <= _aware(cursor) and not memo.paging):
            return 0
        now = time.monotonic()
        sweep = memo.high is not None and now - memo.swept >= SWEEP_SECONDS
        since = _aware(cursor) - OVERLAP if cursor is not None else None
        late: list[Any] = []  # records of earlier seconds that gained one since judged (a sweep)
        counted: dict[str, int] = {}
        if sweep and memo.high is not None:
            late, counted = _late_records(conn, calls, facts, memo, since, memo.high - LATE)
        if memo.high is not None:
            since = max(since, memo.high - LATE) if since is not None else memo.high - LATE
        q = sa.select(calls.c.id, calls.c.at).where(calls.c.endpoint != "ask").order_by(calls.c.at, calls.c.id)
        if since is not None:
            q = q.where(calls.c.at >= since)
        seen = conn.execute(q.limit(IDS_BATCH)).all()
        new = [r.id for r in seen if r.id not in memo.ids]
        full = len(new) > BATCH or len(seen) >= IDS_BATCH
        new = new[:BATCH]
        rows = []  # what the policy looks at (facts_of_call); the whole record only of those it picks
        for i in range(0, len(new), 500):  # bounded IN lists
            rows += conn.execute(sa.select(*facts).where(calls.c.id.in_(new[i : i + 500]))).all()
    rows.sort(key=lambda r: (_aware(r.at), r.id))
    # A full batch stops at its last row (the next sync goes on from there: ``memo.high``);
    # otherwise everything up to ``newest`` was seen.
    top = _aware(rows[-1].at if rows and len(new) >= BATCH else seen[-1].at) if full else _aware(newest)
    added = 0
    if not rows and not late and not counted and not full and cursor is not None and top <= _aware(cursor):
        memo.paging = False
        if sweep:
            memo.swept = now
        return 0  # nothing new, and the cursor stays: no write
    policy = policy or (load_policy(rt) if rows or late else ReviewPolicy())
    risky_tools = _risky_tools(gw) if rows or late else set()
    with rt.write() as (conn, pending):
        cursor = conn.execute(
            sa.select(review_cursor.c.at).where(review_cursor.c.name == "gateway").with_for_update()
        ).scalar()
        for row in [*late, *rows]:
            reasons = policy.reasons(facts_of_call(row, risky_tools))
            if not reasons:
                continue
            record = conn.execute(sa.select(calls).where(calls.c.id == row.id)).first()
            if record is not None and _insert(conn, pending, item_of_call(record, reasons)):
                added += 1
        if cursor is None:
            try:
                with conn.begin_nested():
                    conn.execute(sa.insert(review_cursor).values(name="gateway", at=top))
            except sa.exc.IntegrityError:  # another sync made it first; the next sync moves it on
                pass
        elif top > _aware(cursor):
            conn.execute(sa.update(review_cursor).where(review_cursor.c.name == "gateway").values(at=top))
    # Committed: remember what was judged (a failed write above judges it again next time).
    for row in rows:
        memo.add(row.id, _aware(row.at))
    memo.counts.update(counted)
    memo.paging = full
    if sweep:
        memo.swept = now
    memo.forget(
        (memo.high or top) - 2 * LATE,
        (max(top, _aware(cursor)) if cursor is not None else top) - OVERLAP,
    )
    return added


def _late_records(
    conn: sa.Connection, calls: Any, facts: list[Any], memo: Judged, since: Any, before: datetime
) -> tuple[list[Any], dict[str, int]]:
    """Records of the seconds from ``since`` up to the second before ``before`` that this process
    has not judged: the table counts more records in such a second than :attr:`Judged.counts` (one
    committed late, by another instance). Every record of such a second is judged again unless
    this process judged it lately (a record queued already is not queued twice); returned with
    the table's count of each such second, :attr:`Judged.counts` once committed."""
    bucket = _second_of(conn, calls.c.at)
    q = sa.select(bucket, sa.func.count()).where(calls.c.endpoint != "ask", calls.c.at < before).group_by(bucket)
    if since is not None:
        q = q.where(calls.c.at >= since)
    limit = second(before)
    gained = {key: n for key, n in ((second(b), n) for b, n in conn.execute(q)) if key < limit}
    gained = {key: n for key, n in gained.items() if memo.counts.get(key, 0) < n}
    out: list[Any] = []
    counted: dict[str, int] = {}
    for key in sorted(gained):
        start = datetime.strptime(key, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
        window = sa.and_(calls.c.at >= start, calls.c.at < start + timedelta(seconds=1), calls.c.endpoint != "ask")
        out += [r for r in conn.execute(sa.select(*facts).where(window)) if r.id not in memo.ids]
        counted[key] = gained[key]
        if len(out) >= BATCH:
            break
    return out, counted


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _gateway(rt: Any) -> Any:
    from charter.exceptions import CharterError
    from charter.gateway import get_gateway

    try:
        return get_gateway(rt)
    except CharterError:
        return None


def _risky_tools(gw: Any) -> set[str]:
    if gw is None:
        return set()
    from charter.exceptions import CharterError

    try:
        return {name for name, tool in gw.tools.tools.items() if getattr(tool, "risk", None) == "high"}
    except CharterError:
        return set()


def regulated_indexes(rt: Any, answer: Any) -> tuple[str, ...]:
    """The regulated indexes ``answer`` drew on (its citations, and the indexes it searched)."""
    from charter.retrieval.lifecycle import service_for

    contract = service_for(rt).contract
    used = {c.index for c in answer.citations} | set(answer.indexes or ())
    return tuple(sorted(i for i in used if i in contract.indexes and contract.indexes[i].regulated))


def consider_answer(rt: Any, answer: Any, *, request_id: str, key: str | None, route: str | None = None) -> str | None:
    """Queue a ``/v1/ask`` answer if the policy picks it; returns the item's id (None: not picked).
    Never raises: the answer has been given; a failure here is logged loudly."""
    try:
        policy = load_policy(rt)
        regulated = regulated_indexes(rt, answer)
        facts = Facts(
            request_id=request_id,
            intent=answer.intent,
            route=route,
            key=key,
            refused=bool(answer.refused),
            regulated=regulated,
            evidence=float(answer.evidence),
        )
        reasons = policy.reasons(facts)
        if not reasons:
            return None
        from charter.retrieval.answer import PROMPT_VERSION

        row = {
            "source": "ask",
            "call_id": getattr(answer, "audit_id", "") or None,
            "request_id": request_id[:200],
            "endpoint": "ask",
            "reasons": reasons,
            "intent": answer.intent,
            "prompt": "retrieval.answer",
            "prompt_version": PROMPT_VERSION,
            "route": route,
            "model": answer.model,
            "key_name": key,
            "locale": answer.locale,
            "question": answer.question,
            "answer": answer.answer,
            "refused": bool(answer.refused),
            "refusal_reason": answer.refusal_reason,
            "citations": [
                {"source": c.source, "entry_id": c.entry_id, "chunk": c.chunk, "index": c.index, "title": c.title}
                for c in answer.citations
            ],
            "chunks": list(answer.sources or []),
            "indexes": list(answer.indexes or []),
            "evidence": float(answer.evidence),
        }
        with rt.write() as (conn, pending):
            item_id = str(uuid.uuid4())
            if _insert(conn, pending, {**row, "id": item_id}):
                return item_id
        return None
    except Exception:  # the asker has the answer; losing the review item must be loud, not fatal
        log.exception("review_item_failed", request_id=request_id)
        return None


def worker_duty(rt: Any) -> float | None:
    """Queue newly audited calls, at most every :data:`DUTY_SECONDS` (a broken review.yaml is
    logged, not fatal)."""
    from charter.exceptions import CharterError

    memo = judged(rt)
    now = time.monotonic()
    if now - memo.duty_ran < DUTY_SECONDS and not memo.paging:  # a backlog is read on at every tick
        return None
    memo.duty_ran = now
    try:
        sync(rt)
    except CharterError as exc:
        log.error("review_sync_failed", error=str(exc))
    return None
