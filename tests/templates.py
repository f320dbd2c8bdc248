"""A migrated database holding the demo content, built once and copied per test.

Running Alembic and importing the demo takes about a second on SQLite and two or three on
PostgreSQL; copying a ready database takes milliseconds (a file copy on SQLite, ``CREATE
DATABASE ... TEMPLATE`` on PostgreSQL). Each test still gets its own database, so tests stay
independent; only the cost of building it is shared.

    @pytest.fixture(scope="module", params=BACKENDS)
    def demo_template(request, tmp_path_factory):
        with DemoTemplate.build(request.param, tmp_path_factory.mktemp("template")) as template:
            yield template

    @pytest.fixture
    def database_url(demo_template, tmp_path):
        with demo_template.copy(tmp_path) as url:
            yield url
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse, urlunparse

from charter.config import DEMO_DIR, load_settings
from charter.runtime import Runtime
from tests.services import require_postgres


@dataclass(frozen=True)
class DemoTemplate:
    backend: str  # sqlite | postgresql
    url: str
    #: Copies are dropped in the background (a DROP DATABASE waits for a checkpoint).
    dropper: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(1), compare=False, repr=False)

    @classmethod
    @contextmanager
    def build(cls, backend: str, workdir: Path) -> Iterator[DemoTemplate]:
        """Migrate a new database, load the demo content and release the demo's content types."""
        from charter.demo import load_demo_content

        if backend == "sqlite":
            url = f"sqlite:///{workdir / 'template.db'}"
            admin = None
        else:
            import psycopg

            admin = require_postgres()
            name = f"charter_tmpl_{uuid.uuid4().hex[:10]}"
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            url = urlunparse(urlparse(admin)._replace(path=f"/{name}"))
        try:
            settings = load_settings(DEMO_DIR, database_url=url, trace_exporter="memory", log_json=True, worker=False)
            rt = Runtime.open(settings)
            try:
                load_demo_content(rt)
                if backend == "sqlite":
                    with rt.engine.connect() as conn:  # fold the WAL into the main file: one file to copy
                        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                rt.close()  # no connection may stay open on a PostgreSQL template
            template = cls(backend, url)
            try:
                yield template
            finally:
                template.dropper.shutdown(wait=True)
        finally:
            if admin is not None:
                _drop(admin, _name(url))

    @contextmanager
    def copy(self, workdir: Path) -> Iterator[str]:
        """A fresh database with the template's content, dropped afterwards; yields its URL."""
        if self.backend == "sqlite":
            target = workdir / "charter.db"
            shutil.copyfile(self.url.removeprefix("sqlite:///"), target)
            yield f"sqlite:///{target}"
            return
        import psycopg

        admin = require_postgres()
        name = f"charter_test_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{_name(self.url)}"')
        try:
            yield urlunparse(urlparse(admin)._replace(path=f"/{name}"))
        finally:
            self.dropper.submit(_drop, admin, name)


def _drop(admin: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _name(url: str) -> str:
    return urlparse(url).path.lstrip("/")
