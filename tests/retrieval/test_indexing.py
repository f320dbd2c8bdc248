"""Indexing from events: publish, unpublish, rollback, delete and releases update the indexes at
once and record the publish-to-searchable lag; other instances follow through the events table."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from charter import events as ev
from charter.auth.roles import SYSTEM
from charter.config import load_settings
from charter.content.actions.delete import delete_entry
from charter.content.actions.publish import publish_entry, unpublish_entry
from charter.content.actions.update import update_entry
from charter.retrieval.lifecycle import loaded_service, service_for, worker_duty
from charter.retrieval.tables import retrieval_chunks, retrieval_freshness
from charter.runtime import Runtime
from tests.retrieval.conftest import publish_doc


def hits(rt: Runtime, query: str, locale: str = "en") -> list[str]:
    return [h.chunk.entry_id for h in service_for(rt).search(query, locale, ["product-docs"], k=10).hits]


def events_of(rt: Runtime, kind: str) -> list[ev.Event]:
    with rt.read() as conn:
        return ev.since(conn, 0, [kind], limit=10_000)


def test_publish_is_searchable_at_once_and_the_lag_is_recorded(rt: Runtime) -> None:
    service_for(rt)
    entry_id = publish_doc(rt, "zeppelins", "# Zeppelins\n\nLumen tracks zeppelin fleets in real time.")
    assert hits(rt, "zeppelin fleets")[:1] == [entry_id]
    [update] = [e for e in events_of(rt, ev.INDEX_UPDATED) if e.payload["entry_id"] == entry_id]
    p = update.payload
    assert p["index"] == "product-docs" and p["op"] == "index" and p["revision"] == 1
    assert p["event_type"] == ev.ENTRY_PUBLISHED and p["locales"] == ["de-AT", "de-DE", "en"]
    assert 0 <= p["lag_ms"] < 1000 and p["freshness_slo_ms"] == 60_000
    with rt.read() as conn:
        rows = list(conn.execute(sa.select(retrieval_freshness).where(retrieval_freshness.c.entry_id == entry_id)))
    assert len(rows) == 1 and rows[0].lag_ms == pytest.approx(p["lag_ms"], abs=0.01)
    status = service_for(rt).status()["indexes"]["product-docs"]["freshness"]
    assert status["count"] >= 1 and status["slo_breaches"] == 0


def test_update_unpublish_rollback_and_delete(rt: Runtime) -> None:
    service_for(rt)
    entry_id = publish_doc(rt, "gliders", "Gliders soar on thermals.")
    entry = update_entry(
        rt,
        SYSTEM,
        entry_id,
        {"en": {"slug": "gliders", "title": "A doc", "area": "dashboards", "body": "Gliders land on grass strips."}},
        if_match="*",
    )
    assert hits(rt, "grass strips") == []  # a draft is not searchable
    publish_entry(rt, SYSTEM, entry_id, revision=entry.current_revision)
    assert hits(rt, "grass strips")[:1] == [entry_id]
    assert entry_id not in hits(rt, "thermals")
    # A rollback (as the content domain's action records it): publish revision 1 again, then the event.
    publish_entry(rt, SYSTEM, entry_id, revision=1)
    with rt.write() as (conn, pending):
        pending.append(ev.record(conn, ev.Event(ev.ENTRY_ROLLED_BACK, {"id": entry_id, "type": "doc", "revision": 1})))
    assert hits(rt, "thermals")[:1] == [entry_id]
    unpublish_entry(rt, SYSTEM, entry_id)
    assert entry_id not in hits(rt, "thermals")
    removed = [e.payload for e in events_of(rt, ev.INDEX_UPDATED) if e.payload["op"] == "remove"]
    assert any(p["entry_id"] == entry_id and p["revision"] is None for p in removed)
    publish_entry(rt, SYSTEM, entry_id, revision=1)
    assert hits(rt, "thermals")[:1] == [entry_id]
    delete_entry(rt, SYSTEM, entry_id, if_match="*")
    assert entry_id not in hits(rt, "thermals")


def test_a_release_event_indexes_every_entry_it_names(rt: Runtime) -> None:
    from charter.content.actions.create import create_entry

    service = service_for(rt)
    ids = []
    for n in range(2):
        e = create_entry(
            rt,
            SYSTEM,
            "doc",
            {"en": {"slug": f"rel-{n}", "title": "R", "area": "billing", "body": f"Kestrel{n} plan."}},
        )
        ids.append(e.id)
    # Publish behind the service's back, then deliver one release event naming both.
    saved, rt.retrieval = rt.retrieval, None
    for entry_id in ids:
        publish_entry(rt, SYSTEM, entry_id)
    rt.retrieval = saved
    assert hits(rt, "kestrel0") == []
    with rt.write() as (conn, pending):
        pending.append(
            ev.record(conn, ev.Event(ev.RELEASE_PUBLISHED, {"id": "rel-1", "entries": ids, "types": ["doc"]}))
        )
    assert hits(rt, "kestrel0")[:1] == [ids[0]] and hits(rt, "kestrel1")[:1] == [ids[1]]
    assert service.indexes[("product-docs", "en")].pending > 0


def test_a_breached_slo_is_an_event(project_dir: Path, tmp_path: Path) -> None:
    text = (
        (project_dir / "retrieval.yaml").read_text(encoding="utf-8").replace("freshness_slo: 60s", "freshness_slo: 0ms")
    )
    (project_dir / "retrieval.yaml").write_text(text, encoding="utf-8")
    rt = Runtime.open(load_settings(project_dir, database_url=f"sqlite:///{tmp_path / 'slo.db'}"))
    try:
        service_for(rt)
        entry_id = publish_doc(rt, "late", "Slow indexing example.")
        breaches = [e.payload for e in events_of(rt, ev.INDEX_FRESHNESS_BREACHED)]
        assert [b["entry_id"] for b in breaches] == [entry_id]
        assert breaches[0]["lag_ms"] > breaches[0]["freshness_slo_ms"] == 0
        assert service_for(rt).status()["indexes"]["product-docs"]["freshness"]["slo_breaches"] == 1
    finally:
        rt.close()


@pytest.fixture
def two_instances(settings) -> Iterator[tuple[Runtime, Runtime]]:  # type: ignore[no-untyped-def]
    """Two runtimes on one database, as two app instances would be."""
    from charter.demo import load_demo_content

    a = Runtime.open(settings)
    load_demo_content(a)
    b = Runtime.open(settings)
    try:
        yield a, b
    finally:
        a.close()
        b.close()


def test_another_instance_follows_through_the_event_stream(two_instances: tuple[Runtime, Runtime]) -> None:
    a, b = two_instances
    service_for(a)
    service_b = service_for(b)
    entry_id = publish_doc(a, "ospreys", "Ospreys dive for fish.")
    assert hits(a, "ospreys dive")[:1] == [entry_id]
    assert entry_id not in hits(b, "ospreys dive")
    worker_duty(b)  # b's worker tick
    assert hits(b, "ospreys dive")[:1] == [entry_id]
    unpublish_entry(a, SYSTEM, entry_id)
    worker_duty(b)
    assert entry_id not in hits(b, "ospreys dive")
    # b recorded nothing itself: a did, once per change.
    updates = [e.payload for e in events_of(b, ev.INDEX_UPDATED) if e.payload["entry_id"] == entry_id]
    assert {p["instance"] for p in updates} == {service_for(a).instance}
    assert service_b.instance != service_for(a).instance


def test_a_publish_from_a_process_without_the_service_is_picked_up(two_instances: tuple[Runtime, Runtime]) -> None:
    import time

    a, b = two_instances  # a is a CLI process: it never loads the retrieval service
    service_for(b)
    entry_id = publish_doc(a, "herons", "Herons wait in shallow water.")
    assert loaded_service(a) is None
    time.sleep(0.6)  # the grace period for the committing instance to index it itself
    worker_duty(b)
    assert hits(b, "herons shallow")[:1] == [entry_id]
    [update] = [e.payload for e in events_of(b, ev.INDEX_UPDATED) if e.payload["entry_id"] == entry_id]
    assert update["instance"] == service_for(b).instance and update["lag_ms"] >= 500


@pytest.mark.postgres
@pytest.mark.slow
def test_chunks_are_the_shared_truth_on_postgresql(tmp_path: Path, project_dir: Path) -> None:
    from charter.demo import load_demo_content
    from tests.services import temporary_postgres_database

    with temporary_postgres_database() as url:
        settings = load_settings(project_dir, database_url=url)
        a = Runtime.open(settings)
        try:
            load_demo_content(a)
            service_for(a)
            entry_id = publish_doc(a, "puffins", "Puffins nest on cliffs.")
            with a.read() as conn:
                rows = conn.execute(
                    sa.select(sa.func.count())
                    .select_from(retrieval_chunks)
                    .where(retrieval_chunks.c.entry_id == entry_id)
                ).scalar_one()
            assert rows == 1  # English only: de-DE and de-AT questions reach it along the fallback chain
            assert service_for(a).store.kind == "database"
            b = Runtime.open(settings)  # a new instance loads the table, re-chunking nothing
            try:
                counts = service_for(b).reconcile()
                assert counts["indexed"] == 0 and counts["unchanged"] >= 15
                assert hits(b, "puffins cliffs")[:1] == [entry_id]
            finally:
                b.close()
        finally:
            a.close()


def test_the_snapshot_beside_sqlite_is_reloaded(rt: Runtime) -> None:
    service = service_for(rt)
    entry_id = publish_doc(rt, "lynx", "The lynx hunts at dusk.")
    service.maintain(force=True)
    snapshot = Path(rt.engine.url.database or "").parent / "retrieval" / "product-docs" / "en.chunks.json.gz"
    assert snapshot.is_file()
    other = Runtime.open(rt.settings)
    try:
        counts = service_for(other).reconcile()
        assert counts["indexed"] == 0
        assert hits(other, "lynx dusk")[:1] == [entry_id]
    finally:
        other.close()


def test_worker_merges_an_idle_delta(rt: Runtime) -> None:
    import charter.retrieval.service as svc

    service = service_for(rt)
    publish_doc(rt, "moths", "Moths fly at night.")
    idx = service.indexes[("product-docs", "en")]
    assert idx.pending
    service._last_write -= svc.IDLE_MERGE_S + 1
    worker_duty(rt)
    assert idx.pending == 0
