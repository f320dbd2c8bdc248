"""Content types reference assets with constraints (x-charter-asset), checked on every write;
the delivery envelope gives each referenced image its src, srcset and dimensions; an asset in
use cannot be deleted; lint and the schema differ understand the keyword."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from charter.config import Settings
from charter.demo import load_demo_content
from charter.runtime import Runtime
from charter.schemas.assets import narrowed
from charter.schemas.lint import lint_schema
from charter.schemas.releases import sync
from tests.assets.images import image_bytes
from tests.assets.test_upload import upload
from tests.conftest import auth

HERO = {"media_types": ["image/jpeg", "image/png"], "min_width": 400, "max_bytes": 500_000}
ARTICLE = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "article.v1",
    "version": "1.0.0",
    "type": "object",
    "x-charter": {"slug": "slug", "localized": ["title"], "locales": {"default": "en", "fallbacks": {"de": ["en"]}}},
    "required": ["slug", "title", "hero"],
    "additionalProperties": False,
    "properties": {
        "slug": {"type": "string", "pattern": "^[a-z0-9-]+$"},
        "title": {"type": "string"},
        "hero": {"type": "string", "x-charter-asset": HERO},
        "gallery": {"type": "array", "items": {"type": "string", "x-charter-asset": True}},
        "divider": {"type": "string", "x-charter-asset": {"alt_required": False}},
    },
}


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    (settings.content_types_dir / "article.schema.json").write_text(json.dumps(ARTICLE))
    with Runtime.open(settings, migrate=False) as rt:
        sync(rt)
        load_demo_content(rt)
        yield rt


def _asset(client: Any, token: str, data: bytes, name: str, meta: dict[str, Any] | None = None) -> str:
    response = upload(client, token, data, name=name, meta=json.dumps(meta or {"alt": {"en": f"about {name}"}}))
    assert response.status_code in (200, 201), response.text
    return str(response.json()["id"])


def _write(client: Any, token: str, doc: dict[str, Any]) -> Any:
    base = {"slug": "a", "title": "A"}
    return client.post("/v1/manage/entries/article", headers=auth(token), json={"data": {"en": {**base, **doc}}})


def test_references_are_checked_on_every_write(client: Any, tokens: dict[str, str]) -> None:
    editor = tokens["editor"]
    hero = _asset(client, editor, image_bytes("JPEG", (800, 400)), "hero.jpg")
    small = _asset(client, editor, image_bytes("JPEG", (300, 200), (1, 2, 3)), "small.jpg")
    svg = _asset(client, editor, b'<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"/>', "i.svg")
    plain = _asset(client, editor, image_bytes("PNG", (500, 500)), "plain.png", {"decorative": True})
    cases = [
        ({"hero": "00000000-0000-4000-8000-000000000000"}, "does not exist"),
        ({"hero": small}, "less than min_width 400"),
        ({"hero": svg}, "is image/svg+xml, not one of image/jpeg, image/png"),
        ({"hero": plain}, "has no alt text"),
        ({"hero": hero, "gallery": [hero, plain]}, "has no alt text"),
    ]
    for doc, message in cases:
        response = _write(client, editor, doc)
        assert response.status_code == 422, (doc, response.text)
        errors = response.json()["errors"]
        assert any(message in e["message"] and e["keyword"] == "x-charter-asset" for e in errors), errors
    ok = _write(client, editor, {"hero": hero, "gallery": [hero, svg], "divider": plain})
    assert ok.status_code == 201, ok.text
    entry = ok.json()
    # the asset is in use (by the draft and every revision a rollback could restore): not deletable
    refused = client.delete(f"/v1/manage/assets/{plain}", headers=auth(editor))
    assert refused.status_code == 409 and refused.json()["entries"] == [entry["id"]]
    free = client.delete(f"/v1/manage/assets/{small}", headers=auth(editor))
    assert free.status_code == 204

    published = client.post(f"/v1/manage/entries/{entry['id']}/publish", headers=auth(tokens["publisher"]))
    assert published.status_code == 200, published.text
    delivered = client.get(f"/v1/entries/article/{entry['id']}")
    assert delivered.status_code == 200, delivered.text
    body = delivered.json()
    assert body["data"]["hero"] == hero  # ids stay in data as the schema says
    image = body["assets"][hero]
    assert (image["width"], image["height"], image["alt"]) == (800, 400, "about hero.jpg")
    assert image["src"] == f"/v1/assets/{hero}/hero.jpg?v=1"
    widths = [part.rsplit(" ", 1)[1] for part in image["srcset"].split(", ")]
    assert widths == ["160w", "320w", "480w", "640w", "800w"]
    first = image["srcset"].split(" ")[0]
    assert client.get(first).status_code == 200 and client.get(first).headers["content-type"] == "image/webp"
    assert body["assets"][plain]["alt"] == "" and body["assets"][svg]["srcset"] is None
    assert f"asset:{hero}" in delivered.headers["surrogate-key"]

    # an alt text edit shows in the next delivery (the asset's surrogate key purged the cached response)
    patch = {"metadata": {"alt": {"en": "A wide hero"}}}
    assert client.patch(f"/v1/manage/assets/{hero}", headers=auth(editor), json=patch).status_code == 200
    again = client.get(f"/v1/entries/article/{entry['id']}").json()
    assert again["assets"][hero]["alt"] == "A wide hero" and again["assets"][hero]["src"].endswith("?v=2")


def test_lint_knows_the_constraints(tmp_path: Path) -> None:
    bad = json.loads(json.dumps(ARTICLE))
    bad["properties"]["hero"]["x-charter-asset"] = {"min_width": -1, "max_height": "big", "colour": "red"}
    bad["properties"]["divider"]["x-charter-asset"] = "yes"
    messages = [e.message for e in lint_schema(bad, "article.schema.json")]
    assert any("unknown asset constraint 'colour'" in m for m in messages), messages
    assert any("min_width must be a non-negative integer" in m for m in messages)
    assert any("max_height must be a non-negative integer" in m for m in messages)
    assert any("must be true or an object" in m for m in messages)
    assert lint_schema(ARTICLE, "article.schema.json") == []


def test_tightened_constraints_are_narrowing() -> None:
    assert narrowed(HERO, HERO) == []
    assert narrowed(HERO, {**HERO, "min_width": 800}) == ["min_width raised from 400 to 800"]
    assert narrowed(HERO, {**HERO, "media_types": ["image/png"]}) == ["media_types narrowed to ['image/png']"]
    assert narrowed({"alt_required": False}, True) == ["alt text became required"]
    assert narrowed(HERO, {"media_types": ["image/jpeg", "image/png", "image/webp"]}) == []


def test_the_schema_differ_reads_asset_constraints() -> None:
    from charter.schemas.compat import diff_schemas

    def with_hero(constraints: Any) -> dict[str, Any]:
        schema = json.loads(json.dumps(ARTICLE))
        schema["properties"]["hero"]["x-charter-asset"] = constraints
        return schema

    tighter = diff_schemas(ARTICLE, with_hero({**HERO, "min_width": 1200}))
    assert [(c.kind, c.backward, c.forward) for c in tighter] == [("asset_reference.changed", True, False)]
    looser = diff_schemas(ARTICLE, with_hero({**HERO, "max_bytes": 900_000}))
    assert [(c.backward, c.forward) for c in looser] == [(False, True)]
    assert diff_schemas(ARTICLE, with_hero(dict(HERO))) == []


def test_entry_forms_pick_assets_from_the_library(client: Any, tokens: dict[str, str], runtime: Runtime) -> None:
    from charter.admin.forms import form_for
    from charter.admin.forms.schema import ASSET_REF
    from charter.admin.queries import reference_options

    hero = _asset(client, tokens["editor"], image_bytes("JPEG", (800, 400)), "pick-me.jpg")
    node = form_for(runtime.registry.get("article"))
    hero_node = next(child for child in node.children if child.key == "hero")
    assert (hero_node.kind, hero_node.ref_type) == ("ref", ASSET_REF)
    with runtime.read() as conn:
        options = reference_options(conn, runtime.registry, {ASSET_REF})[ASSET_REF]
    assert options == [(hero, "pick-me.jpg · 800×400 · about pick-me.jpg")]
