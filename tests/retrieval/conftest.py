"""Retrieval fixtures: the demo project with dense retrieval off (the embedding model is exercised
by the tests that ask for the session-scoped ``embedder``), and helpers that publish through the
real content actions."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from charter.app import create_app
from charter.auth.roles import SYSTEM
from charter.config import DEMO_DIR
from charter.runtime import Runtime


def copy_demo(dst: Path, *, dense: str = "off", mode: str = "bm25") -> Path:
    shutil.copytree(DEMO_DIR, dst, ignore=shutil.ignore_patterns("__pycache__", "*.py", ".charter*"))
    contract = (dst / "retrieval.yaml").read_text(encoding="utf-8")
    contract = contract.replace("mode: hybrid ", f"mode: {mode} ", 1).replace("dense: auto ", f"dense: {dense} ", 1)
    (dst / "retrieval.yaml").write_text(contract, encoding="utf-8")
    return dst


@pytest.fixture(scope="session")
def embedder() -> Any:
    """The real all-MiniLM-L6-v2, loaded once per test session (the weights are cached per
    process). ``make test`` installs the embeddings extra, so with CHARTER_REQUIRE_SERVICES=1 a
    missing extra fails instead of skipping."""
    from charter.retrieval.embeddings import Embedder, unavailable_reason
    from tests.services import unavailable

    reason = unavailable_reason()
    if reason:
        unavailable("charter[embeddings]", reason)
    embed = Embedder()
    embed(["warm-up"])
    return embed


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    return copy_demo(tmp_path / "project")


def publish_doc(rt: Runtime, slug: str, body: str, title: str = "A doc", **extra: Any) -> str:
    from charter.content.actions.create import create_entry
    from charter.content.actions.publish import publish_entry

    entry = create_entry(rt, SYSTEM, "doc", {"en": {"slug": slug, "title": title, "area": "dashboards", "body": body}})
    publish_entry(rt, SYSTEM, entry.id)
    return entry.id


@pytest.fixture
def rt(project_dir: Path, tmp_path: Path) -> Iterator[Runtime]:
    """A migrated runtime on SQLite with the demo content (the PostgreSQL paths have their own tests)."""
    from charter.config import load_settings
    from charter.demo import load_demo_content

    runtime = Runtime.open(
        load_settings(project_dir, database_url=f"sqlite:///{tmp_path / 'charter.db'}", trace_exporter="memory")
    )
    load_demo_content(runtime)
    try:
        yield runtime
    finally:
        runtime.close()


@pytest.fixture
def client(rt: Runtime) -> Iterator[TestClient]:
    """The demo app on ``rt``, through its lifespan (500s are answered, not raised)."""
    with TestClient(create_app(rt.settings, runtime=rt), raise_server_exceptions=False) as c:
        yield c
