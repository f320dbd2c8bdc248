"""The content types seen from outside: the OpenAPI document carries a schema per content type (and
its envelope), which real delivery responses satisfy; ``charter schema check`` shows what a schema
change does to the generated TypeScript types, as a diff."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from charter.config import DEMO_DIR, load_settings
from charter.content.schema_check import run_schema_check
from charter.runtime import Runtime


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "$ref" and isinstance(v, str)] + [
            r for v in node.values() for r in _refs(v)
        ]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def _validator(doc: dict[str, Any], component: str) -> Draft202012Validator:
    registry = Registry().with_resource("urn:openapi", Resource.from_contents(doc, default_specification=DRAFT202012))
    return Draft202012Validator({"$ref": f"urn:openapi#/components/schemas/{component}"}, registry=registry)


def test_the_openapi_document_has_a_schema_per_content_type(client: TestClient, runtime: Runtime) -> None:
    doc = client.get("/openapi.json").json()
    schemas = doc["components"]["schemas"]
    for ct in runtime.registry:
        prefix = "".join(p.capitalize() for p in ct.name.split("-")) + f"V{ct.major}"
        assert schemas[prefix]["x-charter-schema-id"] == ct.schema_id
        assert "$id" not in schemas[prefix] and "$defs" not in schemas[prefix]
        assert doc["x-charter-content-types"][ct.name] == f"#/components/schemas/{prefix}Envelope"
    assert {"PageV1Hero", "PageV1PricingTable", "PageV1Link"} <= set(schemas)
    assert schemas["PageV1Hero"]["properties"]["cta"] == {"$ref": "#/components/schemas/PageV1Link"}
    for ref in _refs(doc):  # every reference resolves inside the document
        if ref.startswith("#/components/schemas/"):
            assert ref.rpartition("/")[2] in schemas, ref


def test_delivery_responses_satisfy_their_content_type_schema(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    page = client.get("/v1/pages/home").json()
    assert not list(_validator(doc, "PageV1Envelope").iter_errors(page))
    plans = client.get("/v1/entries/pricing-plan").json()["items"]
    assert plans and all(not list(_validator(doc, "PricingPlanV1Envelope").iter_errors(p)) for p in plans)
    broken = {**page, "data": {**page["data"], "sections": [{"intent": "hero", "title": "no cta"}]}}
    assert list(_validator(doc, "PageV1Envelope").iter_errors(broken))
    wrong_type = {**plans[0], "type": "page"}
    assert list(_validator(doc, "PricingPlanV1Envelope").iter_errors(wrong_type))


def _project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    shutil.copytree(DEMO_DIR, project, ignore=shutil.ignore_patterns("__pycache__", "*.py", ".charter*"))
    Runtime.open(load_settings(project, database_url=f"sqlite:///{tmp_path / 'c.db'}")).close()  # released
    return project


def test_a_schema_change_shows_as_a_type_diff(tmp_path: Path) -> None:
    project = _project(tmp_path)
    settings = load_settings(project, database_url=f"sqlite:///{tmp_path / 'c.db'}")
    assert run_schema_check(settings, contracts=False).type_diffs == {}  # nothing changed, nothing shown
    path = project / "content-types" / "pricing-plan.schema.json"
    schema = json.loads(path.read_text())
    schema["properties"]["currency"]["enum"] = ["EUR", "USD", "CHF"]
    schema["properties"]["seats"] = {"type": "integer", "minimum": 1, "description": "Seats included."}
    schema["version"] = "1.1.0"
    path.write_text(json.dumps(schema, indent=2))
    report = run_schema_check(settings, contracts=False)
    assert list(report.type_diffs) == ["pricing-plan"]
    diff = report.type_diffs["pricing-plan"]
    assert diff.startswith("--- registry/pricing-plan.v1.ts\n+++ working tree/pricing-plan.v1.ts\n")
    assert '+  currency: "EUR" | "USD" | "CHF";' in diff.splitlines()
    assert any(line.startswith("+  seats?: number;") for line in diff.splitlines())
    assert report.to_dict()["type_diffs"] == report.type_diffs
    run = subprocess.run(
        [sys.executable, "-m", "charter", "schema", "check", "--project", str(project), "--no-contracts"],
        capture_output=True, text=True, timeout=120,
        env={"PATH": "/usr/bin:/bin", "CHARTER_DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}", "COLUMNS": "200"},
    )  # fmt: skip
    assert "TypeScript types of pricing-plan (charter types generate):" in run.stdout, run.stdout + run.stderr
    assert '+  currency: "EUR" | "USD" | "CHF";' in run.stdout
