from __future__ import annotations

from pathlib import Path

import pytest

from charter.config import Settings, load_settings

pytest.importorskip("PIL", reason="the assets domain needs Pillow (a core dependency)")

#: Small limits, so the oversize case stays cheap.
ASSETS = {"max_upload_bytes": 2 * 1024 * 1024, "max_pixels": 20_000_000}


@pytest.fixture
def settings(project_dir: Path, database_url: str, services: frozenset[str]) -> Settings:
    return load_settings(
        project_dir,
        database_url=database_url,
        trace_exporter="memory",
        log_json=True,
        assets=ASSETS,
        worker="worker" in services,
    )
