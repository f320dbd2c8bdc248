"""Governance pages: the schema registry with its changes and breaks, and contract status."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient

from charter.app import create_app
from charter.config import Settings
from charter.runtime import Runtime
from tests.admin.conftest import login


def test_schema_registry_shows_versions_changes_and_breaks(settings: Settings, runtime: Runtime, users) -> None:  # type: ignore[no-untyped-def]
    path = Path(settings.project_dir) / "content-types" / "doc.schema.json"
    schema = json.loads(path.read_text())
    schema["version"] = "1.1.0"  # but the change below is breaking: it needed 2.0.0
    schema["required"].append("summary")
    path.write_text(json.dumps(schema))
    rt = Runtime.open(settings)  # start-up registers the new version and classifies the change
    try:
        with TestClient(create_app(settings, runtime=rt), raise_server_exceptions=False) as client:
            login(client, "viewer")
            page = client.get("/admin/schemas")
            assert page.status_code == 200
            text = page.text
            assert "doc.v1 1.1.0" in text and "doc.v1 1.0.0" in text
            assert "breaking" in text and "version bump too small" in text
            assert "/required" in text or "summary" in text
            assert "1 breaking release recorded" in text
    finally:
        rt.close()


def test_contract_status_per_consumer(settings: Settings, as_role) -> None:  # type: ignore[no-untyped-def]
    client, _ = as_role("viewer")
    page = client.get("/admin/contracts")
    assert page.status_code == 200
    assert "marketing-web" in page.text and "pricing-widget" in page.text and "holds" in page.text
    contract = Path(settings.project_dir) / "contracts" / "marketing-web.yaml"
    contract.write_text(contract.read_text().replace("      - title\n", "      - title\n      - description\n", 1))
    page = client.get("/admin/contracts")
    assert "1 failing" in page.text and "description" in page.text and "not guaranteed" in page.text
    contract.write_text("consumer: [unclosed\n")
    page = client.get("/admin/contracts")
    assert page.status_code == 200 and "alert-error" in page.text  # a broken file is reported, not a 500
    assert client.post("/admin/contracts/verify", data={}).status_code == 403
