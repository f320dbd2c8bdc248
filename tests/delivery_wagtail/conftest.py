"""A real Wagtail 8 on loopback, seeded with the demo's pages and pricing plans (built once per
session; the venv and the migrated database are cached under ``.venv-wagtail/``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from charter.config import DEMO_DIR, load_settings
from charter.schemas.registry import Registry
from tests.delivery_wagtail import site
from tests.services import free_port, unavailable

LOCALES = ("en", "de-DE", "de-AT")
#: How the demo project's types read from the test site (the same tables a user writes in charter.toml).
WAGTAIL_TYPES = {
    "types": {
        "page": {"model": "intents.IntentPage", "streams": {"sections": "body"}},
        "pricing-plan": {"model": "intents.PricingPlanPage", "fields": {"id": "plan_id", "name": "title"}},
    }
}


@dataclass
class WagtailSite:
    url: str
    ids: dict[str, dict[str, int]]  # Charter entry id -> {wagtail locale: page id}
    rows: list[dict[str, Any]]
    db: Path | None = None  #: the site's SQLite database (an editor's change goes through manage.py)
    python: Path | None = None  #: the site venv's python

    def edit(self, code: str) -> str:
        """Run Django shell code against the live site's database (as an editor's save would)."""
        assert self.db is not None and self.python is not None
        return site._manage(self.python, self.db, "shell", "-c", code)


def demo_rows() -> list[dict[str, Any]]:
    """The demo's published pages and pricing plans, as stored in Charter."""
    rows = [json.loads(line) for line in (DEMO_DIR / "content" / "entries.jsonl").read_text().splitlines() if line]
    return [r for r in rows if r["type"] in ("page", "pricing-plan") and r.get("status") == "published"]


@pytest.fixture(scope="session")
def wagtail_python() -> Path:
    try:
        return site.ensure_venv()
    except site.WagtailUnavailable as exc:
        unavailable("Wagtail", str(exc))
        raise  # unreachable: unavailable() skips or fails


@pytest.fixture(scope="session")
def wagtail_site(wagtail_python: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WagtailSite]:
    db = site.migrated_database(wagtail_python, tmp_path_factory.mktemp("wagtail") / "site.sqlite3")
    rows = demo_rows()
    registry = Registry.load(DEMO_DIR / "content-types")
    ids = site.seed(wagtail_python, db, site.seed_from_charter(rows, registry, LOCALES))
    with site.serve(wagtail_python, db, free_port()) as url:
        yield WagtailSite(url, ids, rows, db, wagtail_python)


@pytest.fixture
def wagtail_settings(project_dir: Path, tmp_path: Path, wagtail_site: WagtailSite) -> Any:
    return load_settings(
        project_dir,
        database_url=f"sqlite:///{tmp_path / 'wagtail-charter.db'}",
        source="wagtail",
        wagtail_url=wagtail_site.url,
        wagtail=WAGTAIL_TYPES,
        worker=False,
    )


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """The embedded side of the comparison runs on SQLite only: these tests are about the source."""
    return f"sqlite:///{tmp_path / 'charter.db'}"
