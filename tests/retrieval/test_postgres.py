"""PostgreSQL mode: chunks and embeddings live in ``retrieval_chunks`` as the one shared truth; a
second app instance loads them at start-up (re-chunking and re-embedding nothing) and keeps its
in-memory indexes in step through the event stream. Real PostgreSQL (a temporary database)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa

from charter import events as ev
from charter.auth.roles import SYSTEM
from charter.config import Settings, load_settings
from charter.content.actions.publish import unpublish_entry
from charter.db.engine import normalise_url
from charter.retrieval.lifecycle import service_for, worker_duty
from charter.retrieval.store import TableStore
from charter.retrieval.tables import retrieval_chunks
from charter.runtime import Runtime
from tests.retrieval.conftest import copy_demo, publish_doc

pytestmark = [pytest.mark.postgres]


@pytest.fixture
def pg_settings(tmp_path: Path, embedder: Any) -> Iterator[Settings]:
    """The demo project with dense retrieval on, in a fresh PostgreSQL database."""
    from tests.services import temporary_postgres_database

    project = copy_demo(tmp_path / "project", dense="on", mode="hybrid")
    with temporary_postgres_database() as url:
        yield load_settings(project, database_url=url)


def rows(rt: Runtime, *where: Any) -> list[Any]:
    t = retrieval_chunks
    with rt.read() as conn:
        return list(conn.execute(sa.select(t).where(*where).order_by(t.c.index_name, t.c.locale, t.c.chunk)))


def search(rt: Runtime, query: str) -> list[str]:
    result = service_for(rt).search(query, "en", ["product-docs"], mode="hybrid", k=5)
    assert result.mode == "hybrid" and result.degraded is None
    return [h.chunk.entry_id for h in result.hits]


def test_chunks_and_vectors_are_shared_and_a_second_instance_follows(pg_settings: Settings) -> None:
    a = Runtime.open(pg_settings)
    try:  # a small corpus of its own: the demo content would only cost embedding time
        publish_doc(a, "invoices", "Invoices are sent on the first day of each month.")
        publish_doc(a, "exports", "Exports run nightly at two in the morning.")
        service_a = service_for(a)
        assert isinstance(service_a.store, TableStore) and service_a.status()["store"] == "database"
        assert service_a.embed_all() > 0  # writes every vector to the table
        stored = rows(a)
        in_memory = sum(len(idx) for idx in service_a.indexes.values())
        assert len(stored) == in_memory > 0
        assert all(r.embedding is not None and len(r.embedding) == 384 * 4 for r in stored)

        b = Runtime.open(pg_settings)  # a new instance: loads the table at start-up
        try:
            service_b = service_for(b)
            assert sum(len(idx) for idx in service_b.indexes.values()) == in_memory
            assert all(not idx.missing_vectors() for idx in service_b.indexes.values())
            counts = service_b.reconcile()
            assert counts["indexed"] == counts["removed"] == counts["chunks"] == 0 and counts["unchanged"] > 0
            docs_a, docs_b = service_a.indexes[("product-docs", "en")], service_b.indexes[("product-docs", "en")]
            assert set(docs_a.vectors()) == set(docs_b.vectors()) and len(docs_b.vectors()) == 2
            key = next(iter(docs_a.vectors()))
            assert np.array_equal(docs_a.vectors()[key], docs_b.vectors()[key])

            # A publish on a: its rows (with embeddings) are written in the same transaction as the
            # index.updated event; b reads them from the table on its next worker tick.
            entry_id = publish_doc(a, "puffins", "Puffins nest on sea cliffs in large colonies.")
            new_rows = rows(a, retrieval_chunks.c.entry_id == entry_id)
            assert sorted(r.locale for r in new_rows) == ["en"]  # English only: German questions reach it by fallback
            assert all(r.embedding is not None for r in new_rows)
            assert entry_id not in search(b, "puffins cliffs")
            worker_duty(b)
            assert search(b, "puffins cliffs")[0] == entry_id
            en = service_b.indexes[("product-docs", "en")]
            [row_en] = [r for r in new_rows if r.locale == "en"]
            assert np.array_equal(en.vectors()[f"{entry_id}#0"], np.frombuffer(row_en.embedding, "<f4"))
            # Dense alone finds it by meaning in b, from the vector a computed.
            dense = service_b.search("seabirds breeding on rocks", "en", ["product-docs"], mode="dense", k=3)
            assert entry_id in [h.chunk.entry_id for h in dense.hits]

            unpublish_entry(a, SYSTEM, entry_id)
            assert rows(a, retrieval_chunks.c.entry_id == entry_id) == []
            worker_duty(b)
            assert entry_id not in search(b, "puffins cliffs")
            with b.read() as conn:
                updates = [
                    e.payload
                    for e in ev.since(conn, 0, [ev.INDEX_UPDATED], limit=10_000)
                    if e.payload["entry_id"] == entry_id
                ]
            # Only a recorded the changes: b followed them.
            assert {p["instance"] for p in updates} == {service_a.instance}
            assert {p["op"] for p in updates} == {"index", "remove"}
        finally:
            b.close()
    finally:
        a.close()


def test_dense_search_inside_postgresql_with_pgvector(tmp_path: Path, embedder: Any) -> None:
    """The optional pgvector path, on a server with the ``vector`` extension: the test server's
    when it has one, else PostgreSQL 16 + pgvector from the pgserver wheel (tests/services.py)."""
    from charter.retrieval import pgvector
    from tests.services import pgvector_database

    project = copy_demo(tmp_path / "project", dense="on", mode="hybrid")
    with pgvector_database() as (url, _server):
        settings = load_settings(project, database_url=url)
        engine = sa.create_engine(normalise_url(settings.database_url))
        try:
            assert pgvector.unavailable_reason(engine) is None
        finally:
            engine.dispose()
        rt = Runtime.open(settings)
        try:
            publish_doc(rt, "invoices", "Invoices are sent on the first day of each month.")
            publish_doc(rt, "exports", "Exports run nightly at two in the morning.")
            service = service_for(rt)
            service.embed_all()
            assert service.status()["dense"]["in_database"] is True
            entry_id = publish_doc(rt, "puffins", "Puffins nest on sea cliffs in large colonies.")
            in_db = service.search("seabirds breeding on rocks", "en", ["product-docs"], mode="dense", k=3)
            assert "dense_in_database" in in_db.timings_ms and "dense" not in in_db.timings_ms
            assert in_db.hits and in_db.hits[0].chunk.entry_id == entry_id  # a publish is in the vector column at once
            # The same ranking and cosine scores as the in-process search over the same vectors.
            idx = service.indexes[("product-docs", "en")]
            in_process = idx.search_dense(service.embed_query("seabirds breeding on rocks"), 3)
            assert [h.chunk.key for h in in_db.hits] == [h.chunk.key for h in in_process]
            assert [round(h.score, 4) for h in in_db.hits] == [round(h.score, 4) for h in in_process]
            with rt.read() as conn:
                vectors = conn.execute(
                    sa.text("SELECT count(*) FROM retrieval_chunks WHERE embedding_vec IS NOT NULL")
                ).scalar_one()
            assert vectors == sum(len(i) for i in service.indexes.values() if i.vectors())
            unpublish_entry(rt, SYSTEM, entry_id)
            gone = service.search("seabirds breeding on rocks", "en", ["product-docs"], mode="dense", k=3)
            assert entry_id not in [h.chunk.entry_id for h in gone.hits]
        finally:
            rt.close()
