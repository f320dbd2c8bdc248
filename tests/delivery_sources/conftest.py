"""Every content source behind the same delivery API: the embedded store (the reference), a real
Wagtail, a real Directus and a real Strapi 5, each started once per session on loopback and seeded with the demo's
published pages and pricing plans. A source whose server cannot be installed or started skips
its tests with the reason (fails under CHARTER_REQUIRE_SERVICES=1); the others still run."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from charter.app import create_app
from charter.config import DEMO_DIR, Settings, load_settings
from charter.runtime import Runtime
from charter.schemas.registry import Registry
from tests.delivery_wagtail.conftest import (  # noqa: F401  (fixtures, shared with the Wagtail tests)
    LOCALES,
    WAGTAIL_TYPES,
    demo_rows,
    wagtail_python,
    wagtail_site,
)
from tests.services import free_port, unavailable
from tests.vendors import VendorUnavailable
from tests.vendors import directus as directus_vendor
from tests.vendors import strapi as strapi_vendor

#: The sources the shared suite runs against (the embedded store is also the reference).
SOURCES = ("embedded", "wagtail", "directus", "strapi")


@dataclass
class DirectusSite:
    server: directus_vendor.Directus
    ids: dict[str, int]  # Charter entry id -> Directus id of its default-locale item


@pytest.fixture(scope="session")
def directus_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DirectusSite]:
    data = tmp_path_factory.mktemp("directus")
    try:
        with directus_vendor.serve(data, free_port()) as server:
            ids = directus_vendor.seed_demo(server, demo_rows(), Registry.load(DEMO_DIR / "content-types"), LOCALES)
            yield DirectusSite(server, ids)
    except VendorUnavailable as exc:
        unavailable("Directus", str(exc))


#: The secret of the webhooks the vendors' servers send to Charter.
WEBHOOK_SECRET = "vendor-webhook-secret"


@dataclass
class StrapiSite:
    server: strapi_vendor.Strapi
    ids: dict[str, str]  # Charter entry id -> Strapi documentId
    charter_port: int  # where its webhook expects Charter (registered when Strapi starts)


@pytest.fixture(scope="session")
def strapi_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StrapiSite]:
    data = tmp_path_factory.mktemp("strapi")
    port = free_port()
    hook = (f"http://127.0.0.1:{port}/v1/sources/strapi/events", WEBHOOK_SECRET)
    try:
        with strapi_vendor.serve(data, free_port(), webhook=hook) as server:
            ids = strapi_vendor.seed_demo(server, demo_rows(), Registry.load(DEMO_DIR / "content-types"), LOCALES)
            yield StrapiSite(server, ids, port)
    except VendorUnavailable as exc:
        unavailable("Strapi", str(exc))


def source_settings(request: pytest.FixtureRequest, name: str, project_dir: Path, tmp_path: Path) -> Settings:
    """Settings of a Charter that delivers from source ``name`` (starting its server on first use)."""
    db = f"sqlite:///{tmp_path / f'{name}-charter.db'}"
    if name == "wagtail":
        site = request.getfixturevalue("wagtail_site")
        return load_settings(
            project_dir, database_url=db, source="wagtail", wagtail_url=site.url, wagtail=WAGTAIL_TYPES, worker=False
        )
    if name == "directus":
        d: DirectusSite = request.getfixturevalue("directus_site")
        options = {"url": d.server.url, "token": d.server.token, "types": directus_vendor.TYPES}
        return load_settings(
            project_dir, database_url=db, source="directus", sources={"directus": options}, worker=False
        )
    if name == "strapi":
        st: StrapiSite = request.getfixturevalue("strapi_site")
        options = {"url": st.server.url, "token": st.server.token, "types": strapi_vendor.TYPES}
        return load_settings(project_dir, database_url=db, source="strapi", sources={"strapi": options}, worker=False)
    raise AssertionError(name)


@pytest.fixture(params=SOURCES)
def source_client(request: pytest.FixtureRequest, project_dir: Path, tmp_path: Path) -> Iterator[TestClient]:
    """A client of a Charter delivering from each source in turn (the embedded one is ``client``)."""
    if request.param == "embedded":
        yield request.getfixturevalue("client")
        return
    settings = source_settings(request, request.param, project_dir, tmp_path)
    rt = Runtime.open(settings)
    try:
        with TestClient(create_app(settings, runtime=rt), raise_server_exceptions=False) as c:
            yield c
    finally:
        rt.close()


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """The embedded side of the comparison runs on SQLite only: these tests are about the sources."""
    return f"sqlite:///{tmp_path / 'charter.db'}"


def front_end(envelope: dict[str, Any]) -> dict[str, Any]:
    """What a front end renders from a page envelope: everything but the source's own ids."""
    included = {e["id"]: e for e in envelope["included"]}
    sections = []
    for section in envelope["data"]["sections"]:
        section = dict(section)
        if section["intent"] == "pricing-table":
            section["plans"] = [
                {**included[p]["data"], "locale": included[p]["locale"], "schema": included[p]["schema"]}
                for p in section["plans"]
            ]
        sections.append(section)
    data = {k: v for k, v in envelope["data"].items() if k != "sections"}
    return {"data": data, "sections": sections, "locale": envelope["locale"], "schema": envelope["schema"]}
