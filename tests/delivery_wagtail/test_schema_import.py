"""``charter schema import --from wagtail``: content types inferred from a real Wagtail 8's live pages,
written like the Directus and Strapi imports, valid for the pages they came from, and an editor's
later change to those pages diffed and classified like any other schema change."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from jsonschema import Draft202012Validator, FormatChecker
from typer.testing import CliRunner

from charter.cli.commands import schema as schema_cli
from charter.config import DEMO_DIR, load_settings
from charter.delivery.schema_import import _all_pages, _wagtail_document, import_content_types
from charter.delivery.sources.wagtail import WagtailSource
from charter.runtime import Runtime
from charter.schemas.compat import classify_release
from charter.schemas.registry import Registry
from tests.delivery_wagtail import site
from tests.delivery_wagtail.conftest import LOCALES, WAGTAIL_TYPES, WagtailSite, demo_rows
from tests.services import free_port

pytestmark = pytest.mark.slow

TOML = """
[charter.wagtail.types.page]
model = "intents.IntentPage"
streams = { sections = "body" }

[charter.wagtail.types.pricing-plan]
model = "intents.PricingPlanPage"
fields = { id = "plan_id", name = "title" }
"""

#: An editor's later change in Wagtail: every page gets a description, one plan's features become objects.
EDIT = """
from intents.models import IntentPage, PricingPlanPage
for page in IntentPage.objects.all():
    if not page.description:
        page.description = "Described at last"
        page.save_revision().publish()
plan = PricingPlanPage.objects.filter(locale__language_code="en").order_by("id").first()
plan.features = [{"name": "SSO", "included": True}, {"name": "Audit log", "included": False}]
plan.save_revision().publish()
print(plan.plan_id)
"""


@pytest.fixture(scope="module")
def own_site(wagtail_python: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WagtailSite]:
    """The suite's Wagtail test site with a database of its own: this test edits its pages."""
    db = site.migrated_database(wagtail_python, tmp_path_factory.mktemp("wagtail-import") / "site.sqlite3")
    rows = demo_rows()
    ids = site.seed(
        wagtail_python, db, site.seed_from_charter(rows, Registry.load(DEMO_DIR / "content-types"), LOCALES)
    )
    with site.serve(wagtail_python, db, free_port()) as url:
        yield WagtailSite(url, ids, rows, db, wagtail_python)


def settings(project: Path, tmp_path: Path, url: str) -> Any:
    return load_settings(
        project,
        database_url=f"sqlite:///{tmp_path / 'c.db'}",
        source="wagtail",
        wagtail_url=url,
        wagtail=WAGTAIL_TYPES,
        worker=False,
    )


def documents(rt: Runtime, type_name: str) -> list[dict[str, Any]]:
    """Every live page of the type (every locale) as the adapter reads it."""
    source = WagtailSource(rt)
    try:
        tm, ct = source._type(type_name)
        items = _all_pages(source, {"type": tm.model, "fields": "*"}, 20)
        return [_wagtail_document(source, tm, ct, item) for item in items]
    finally:
        source.close()


def indexed(rt: Runtime) -> dict[str, int]:
    """How many entries per type the Wagtail source serves to the retrieval indexes: it leaves out
    (and logs) any page whose data does not validate against the runtime's content type."""
    source = WagtailSource(rt)
    try:
        counts: dict[str, int] = {}
        for entry, _revision in source.published_entries():
            counts[entry.type] = counts.get(entry.type, 0) + 1
        return counts
    finally:
        source.close()


def test_wagtail_pages_become_inferred_content_types(
    project_dir: Path, tmp_path: Path, own_site: WagtailSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    pages = {
        t: sum(len(own_site.ids[r["id"]]) for r in own_site.rows if r["type"] == t) for t in ("page", "pricing-plan")
    }
    per_type = {t: sum(1 for r in own_site.rows if r["type"] == t) for t in ("page", "pricing-plan")}
    (project_dir / "charter.toml").write_text((project_dir / "charter.toml").read_text() + TOML)
    monkeypatch.setenv("CHARTER_WAGTAIL_URL", own_site.url)
    monkeypatch.setenv("CHARTER_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.chdir(project_dir)
    project_schema = json.loads((project_dir / "content-types" / "pricing-plan.schema.json").read_text())

    # The command, over the project's own content-types/: each type says it was inferred, and from how much.
    app = typer.Typer()
    app.add_typer(schema_cli.app, name="schema")
    result = CliRunner().invoke(app, ["schema", "import", "--from", "wagtail", "--project", str(project_dir)])
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert f"content-types/page.schema.json page, inferred from {pages['page']} live page(s)" in out
    assert f"pricing-plan, inferred from {pages['pricing-plan']} live page(s), not read from the model" in out
    assert "skipped wagtailcore.Page:" in out  # the site root and its translations: no type maps the model
    plan = json.loads((project_dir / "content-types" / "pricing-plan.schema.json").read_text())
    page = json.loads((project_dir / "content-types" / "page.schema.json").read_text())
    assert plan["x-charter-import"] == {
        "from": "wagtail",
        "inferred_from_pages": pages["pricing-plan"],
        "kept": ["name", "id", "price", "currency", "features"],
    }
    # The project's schema accepts every value the pages hold, so its constraints stay (and the
    # imported file differs from it only by the import's mark); the sections keep their references.
    assert {k: v for k, v in plan.items() if k != "x-charter-import"} == {
        **project_schema,
        "required": ["name", "id", "price", "currency", "features"],
    }
    assert page["required"] == ["slug", "title", "sections"] and "description" in page["properties"]
    assert page["x-charter-import"]["inferred_from_pages"] == pages["page"]

    # The written files validate the pages they came from: each page as the adapter reads it, and
    # the Wagtail source itself running on the imported types serves every entry.
    with Runtime.open(settings(project_dir, tmp_path, own_site.url)) as rt:
        for name, schema in (("page", page), ("pricing-plan", plan)):
            validator = Draft202012Validator(schema, format_checker=FormatChecker())
            docs = documents(rt, name)
            assert len(docs) == pages[name]
            for doc in docs:
                assert not list(validator.iter_errors(doc)), doc
        assert indexed(rt) == per_type

    # An editor changes the pages in Wagtail; the next import shows the change as a schema change.
    changed_plan = own_site.edit(EDIT).strip().splitlines()[-1]
    with Runtime.open(settings(project_dir, tmp_path, own_site.url)) as rt:
        done = {d.name: d for d in import_content_types(rt, "wagtail")}
    assert done["page"].changed and done["pricing-plan"].changed
    assert done["pricing-plan"].kept == ["name", "id", "price", "currency"]
    new_plan = json.loads((project_dir / "content-types" / "pricing-plan.schema.json").read_text())
    new_page = json.loads((project_dir / "content-types" / "page.schema.json").read_text())
    # features: no longer the project's (it rejects the objects), inferred from the values held.
    assert new_plan["properties"]["features"] == {
        "type": "array",
        "items": {
            "anyOf": [
                {
                    "type": "object",
                    "required": ["name", "included"],
                    "properties": {"name": {"type": "string"}, "included": {"type": "boolean"}},
                },
                {"type": "string"},
            ]
        },
    }
    assert new_page["required"] == ["slug", "title", "description", "sections"]
    page_report = classify_release(page, new_page, "FULL")
    assert page_report.required_bump == "major"
    assert any("description" in c.pointer or "required" in c.pointer for c in page_report.changes)
    plan_report = classify_release(plan, new_plan, "FULL")
    assert plan_report.required_bump == "major" and any("/features" in c.pointer for c in plan_report.changes)
    # The new files accept the changed pages; the first import's plan file rejects the edited plan.
    with Runtime.open(settings(project_dir, tmp_path, own_site.url)) as rt:
        assert indexed(rt) == per_type
        for doc in documents(rt, "pricing-plan"):
            assert not list(Draft202012Validator(new_plan).iter_errors(doc))
        edited = [d for d in documents(rt, "pricing-plan") if d["id"] == changed_plan]
        assert edited and list(Draft202012Validator(plan).iter_errors(edited[0]))
