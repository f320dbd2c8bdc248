"""Shared fixtures: a temp copy of the demo project, a migrated runtime on SQLite and on
PostgreSQL (a fresh database per test, copied from a demo database built once per test process:
see tests/templates.py), the real app in-process, and a token per role.

The app starts no background service unless the test asks for it with the ``services`` marker,
per test or per module (``pytestmark``)::

    @pytest.mark.services("worker")               # the in-process worker (Settings.worker)
    @pytest.mark.services("retrieval", "gateway")  # those register_startup steps

``worker`` runs the worker's duties (webhook relay and deliveries, scheduled publishing, purges
for other instances' events, retrieval's and review's follow-up); ``retrieval`` loads the indexes
at start-up (and, without ``worker``, starts retrieval's own event poller, as a server with
``worker = false`` does); ``gateway`` builds the gateway at start-up (a bad model.yaml fails the
start). Without them the gateway and the indexes are still built on first use.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from charter.app import create_app
from charter.auth.roles import SYSTEM, Role
from charter.config import DEMO_DIR, Settings, load_settings
from charter.runtime import Runtime
from tests.templates import DemoTemplate

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
#: What the ``services`` marker may name: the worker, and the app's ``register_startup`` steps.
SERVICES = ("worker", "retrieval", "gateway")


@pytest.fixture
def services(request: pytest.FixtureRequest) -> frozenset[str]:
    """The background services the test asks for (``@pytest.mark.services(...)``); none by default."""
    names: set[str] = set()
    for marker in request.node.iter_markers("services"):
        names.update(marker.args)
    unknown = sorted(names - set(SERVICES))
    if unknown:
        pytest.fail(f"unknown service {', '.join(unknown)} in @pytest.mark.services (known: {', '.join(SERVICES)})")
    return frozenset(names)


@pytest.fixture(autouse=True)
def demo_data(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``--demo`` keeps its data in one fixed place (the checkout's .charter-demo/, where `make run`
    serves it): each test gets a folder of its own instead, subprocesses included."""
    folder = tmp_path_factory.mktemp("demo-data")
    monkeypatch.setenv("CHARTER_DEMO_DATA", str(folder))
    return folder


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    """A writable copy of the demo project. Its retrieval contract runs BM25 only: the embedding
    model is exercised by the retrieval tests (one session-scoped model), not by every app test,
    whose /readyz would otherwise wait for it."""
    dst = tmp_path / "project"
    shutil.copytree(DEMO_DIR, dst, ignore=shutil.ignore_patterns("__pycache__", "*.py", ".charter*"))
    contract = (dst / "retrieval.yaml").read_text(encoding="utf-8")
    contract = contract.replace("mode: hybrid ", "mode: bm25 ", 1).replace("dense: auto ", "dense: off ", 1)
    (dst / "retrieval.yaml").write_text(contract, encoding="utf-8")
    return dst


@pytest.fixture(scope="session")
def demo_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], DemoTemplate]]:
    """backend -> the demo database for it, built on first use (migrations run and the demo content
    imported once, not per test)."""
    built: dict[str, DemoTemplate] = {}
    with ExitStack() as stack:

        def get(backend: str) -> DemoTemplate:
            if backend not in built:
                workdir = tmp_path_factory.mktemp(f"demo-{backend}")
                built[backend] = stack.enter_context(DemoTemplate.build(backend, workdir))
            return built[backend]

        yield get


@pytest.fixture(params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, demo_templates: Callable[[str], DemoTemplate]
) -> Iterator[str]:
    """A database of its own for the test, holding the migrated demo content."""
    with demo_templates(request.param).copy(tmp_path) as url:
        yield url


@pytest.fixture
def settings(project_dir: Path, database_url: str, services: frozenset[str]) -> Settings:
    return load_settings(
        project_dir, database_url=database_url, trace_exporter="memory", log_json=True, worker="worker" in services
    )


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    """A runtime with the demo content. A copy of the demo template (the root ``database_url``)
    is migrated and released already: it opens without running the migrations and the registry
    sync again; an empty database (a directory's own ``database_url``) is migrated first."""
    from charter.db.engine import make_engine
    from charter.demo import load_demo_content

    engine = make_engine(settings.resolved_database_url())
    try:  # migrated, and the demo's content types released into the registry
        with engine.connect() as conn:
            prepared = sa.inspect(conn).has_table("content_types") and bool(
                conn.execute(sa.text("SELECT count(*) FROM content_types")).scalar_one()
            )
    finally:
        engine.dispose()
    with Runtime.open(settings, migrate=not prepared) as rt:
        load_demo_content(rt)  # one count query when the content is there
        yield rt


@pytest.fixture
def app(runtime: Runtime, services: frozenset[str]):  # type: ignore[no-untyped-def]
    """The app on the test's runtime, running only the start-up steps the test asks for."""
    if runtime.settings.worker != ("worker" in services):  # a module's own ``settings`` fixture forgot it
        pytest.fail('a settings fixture must pass worker="worker" in services (see tests/conftest.py)')
    return create_app(runtime.settings, runtime=runtime, startup=services - {"worker"})


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def tokens(runtime: Runtime) -> dict[str, str]:
    """role name -> bearer token"""
    from charter.auth.tokens import create_token

    return {role.value: create_token(runtime, SYSTEM, f"test-{role.value}", role.value)[0] for role in Role}


def auth(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}
