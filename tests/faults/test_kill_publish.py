"""kill -9 of the server while it publishes a 100-entry release: afterwards all or none are live."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
import sqlalchemy as sa

from charter.auth.roles import SYSTEM, Actor, Role
from charter.auth.tokens import create_token
from charter.config import load_settings
from charter.content.actions.approve import approve_release
from charter.content.actions.release import ItemSpec, create_release, submit_release
from charter.content.releases import get_release
from charter.db.tables import entries, events
from charter.runtime import Runtime
from tests.content.releasing import plan
from tests.faults import procs
from tests.services import free_port, temporary_postgres_database

pytestmark = pytest.mark.slow
N = 100


def _release(rt: Runtime, prefix: str = "bulk") -> tuple[str, list[str]]:
    # Slugs are unique per type: each release creates its own, so an earlier round that did
    # publish before its kill cannot collide with the next one.
    items = [ItemSpec("create", type="pricing-plan", data=plan(f"{prefix}-{i}", i)) for i in range(N)]
    rel = create_release(rt, Actor("author", Role.EDITOR), f"{N} new plans", items=items)
    submit_release(rt, Actor("author", Role.EDITOR), rel.id)
    approve_release(rt, Actor("reviewer-1", Role.PUBLISHER), rel.id)
    approve_release(rt, Actor("reviewer-2", Role.PUBLISHER), rel.id)
    return rel.id, [i.entry_id for i in rel.items]


def _live(rt: Runtime, ids: list[str]) -> int:
    with rt.read() as conn:
        return int(
            conn.execute(
                sa.select(sa.func.count())
                .select_from(entries)
                .where(entries.c.id.in_(ids), entries.c.published_revision.is_not(None))
            ).scalar_one()
        )


def _published_events(rt: Runtime, release_id: str) -> int:
    with rt.read() as conn:
        rows = conn.execute(sa.select(events.c.payload).where(events.c.type == "release.published")).scalars()
        return sum(1 for p in rows if p["id"] == release_id)


def _bm25_project(tmp_path: Path) -> Path:
    """The demo project with retrieval on BM25 alone: these tests are about a publish, and a server
    loading the embedding model at start-up (the embeddings extra) starved a publish on a loaded
    machine for minutes (the 180 s wait below ran out before it reached the blocked item)."""
    project = procs.project(tmp_path, (Path(procs.DEMO_DIR) / "charter.toml").read_text())
    contract = project / "retrieval.yaml"
    text = contract.read_text(encoding="utf-8").replace("\nmode: hybrid ", "\nmode: bm25 ", 1)
    contract.write_text(text.replace("\ndense: auto ", "\ndense: off ", 1), encoding="utf-8")
    return project


def _wait_for_no_open_transaction(pg: str, timeout: float = 60.0) -> None:
    """Until no other session of the database has a transaction open: the killed server's backend
    goes once it finds its client gone (on a busy machine that is not always within 0.5 s)."""
    with psycopg.connect(pg.replace("postgresql+psycopg", "postgresql"), autocommit=True) as conn:
        deadline = time.monotonic() + timeout
        while True:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND xact_start IS NOT NULL AND pid <> pg_backend_pid()"
            ).fetchone()
            if row is not None and row[0] == 0:
                return
            assert time.monotonic() < deadline, "the killed server's transaction is still open"
            time.sleep(0.05)


def _publish_in_background(
    port: int, token: str, release_id: str, result: list[object] | None = None
) -> threading.Thread:
    def run() -> None:
        try:
            r = httpx.post(
                f"http://127.0.0.1:{port}/v1/manage/releases/{release_id}/publish",
                headers={"Authorization": f"Bearer {token}"},
                timeout=120,
            )
            if result is not None:
                result.append(r.text)
        except httpx.HTTPError as exc:  # the server is killed under it
            if result is not None:
                result.append(repr(exc))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


@pytest.fixture
def pg() -> Iterator[str]:
    with temporary_postgres_database("charter_fault") as url:
        yield url


@pytest.mark.postgres
def test_kill_9_in_the_middle_of_the_publish_leaves_nothing_published(tmp_path: Path, pg: str) -> None:
    project = _bm25_project(tmp_path)
    rt = Runtime.open(load_settings(project, database_url=pg))
    try:
        release_id, ids = _release(rt)
        token = create_token(rt, SYSTEM, "fault-publisher", "publisher")[0]
        port = free_port()
        log = tmp_path / "server.log"
        server = procs.server(project, pg, port, log)
        # Hold item 60's entry id in an open transaction: the server's publish inserts items 1-59
        # inside its transaction and then waits on that row lock, mid-publish.
        blocker = psycopg.connect(pg.replace("postgresql+psycopg", "postgresql"))
        blocker.execute(
            "INSERT INTO entries (id, type, slug, current_revision, created_at, updated_at, created_by) "
            "VALUES (%s, 'pricing-plan', 'blocker', 1, now(), now(), 'test')",
            (ids[59],),
        )
        try:
            answered: list[object] = []
            _publish_in_background(port, token, release_id, answered)
            # Generous: on a loaded CI machine the server may still be building its retrieval
            # indexes (BM25 here: _bm25_project) when the publish arrives.
            deadline = time.monotonic() + 180
            waiting = False
            while time.monotonic() < deadline and not waiting:
                waiting = bool(
                    blocker.execute(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                        "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
                    ).fetchone()[0]  # type: ignore[index]
                )
                time.sleep(0.05)
            activity = blocker.execute(
                "SELECT state, wait_event_type, left(query, 80) FROM pg_stat_activity "
                "WHERE datname = current_database()"
            ).fetchall()
            assert waiting, f"the publish never reached the blocked item: {answered} {activity}"
            procs.kill(server)  # kill -9 mid-transaction
        finally:
            blocker.rollback()
            blocker.close()
        _wait_for_no_open_transaction(pg)  # PostgreSQL noticed the dead client and rolled back
        assert _live(rt, ids) == 0
        assert _published_events(rt, release_id) == 0
        with rt.read() as conn:
            assert get_release(conn, release_id).status == "approved"
            assert (
                conn.execute(sa.select(sa.func.count()).select_from(entries).where(entries.c.id.in_(ids))).scalar_one()
                == 0
            )

        # Restarted, the same release publishes whole.
        server = procs.server(project, pg, port, log)
        try:
            r = httpx.post(
                f"http://127.0.0.1:{port}/v1/manage/releases/{release_id}/publish",
                headers={"Authorization": f"Bearer {token}"},
                timeout=120,
            )
            assert r.status_code == 200, r.text
        finally:
            procs.stop(server)
        assert _live(rt, ids) == N and _published_events(rt, release_id) == 1
    finally:
        rt.close()


def test_kill_9_at_random_moments_on_sqlite_is_all_or_nothing(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'charter.db'}"
    project = _bm25_project(tmp_path)
    rt = Runtime.open(load_settings(project, database_url=db))
    rng = random.Random(4)
    outcomes = []
    try:
        token = create_token(rt, SYSTEM, "fault-publisher", "publisher")[0]
        port = free_port()
        log = tmp_path / "server.log"
        # Two kills at random moments of the publish, and one just after it committed.
        for round_, delay in enumerate([rng.uniform(0.05, 0.5), rng.uniform(0.5, 3.0), None]):
            release_id, ids = _release(rt, f"round{round_}")
            server = procs.server(project, db, port, log)
            started = time.monotonic()
            answered: list[object] = []
            _publish_in_background(port, token, release_id, answered)
            if delay is None:
                deadline = time.monotonic() + 120
                while not answered and time.monotonic() < deadline:
                    time.sleep(0.05)
            else:
                time.sleep(delay)
            procs.kill(server)
            live = _live(rt, ids)
            assert live in (0, N), f"round {round_}: {live} of {N} published after kill -9"
            assert _published_events(rt, release_id) == (1 if live else 0)
            with rt.read() as conn:
                status = get_release(conn, release_id).status
            assert status == ("published" if live else "approved")
            outcomes.append((live, round(time.monotonic() - started, 2)))
    finally:
        rt.close()
    print("outcomes (live entries, seconds before kill):", outcomes)
    assert outcomes[-1][0] == N
