"""Uploads through the real app: the bytes decide the type, alt text is required, bad input is a
clear 4xx and leaves nothing behind, the same bytes are one asset."""

from __future__ import annotations

import json
import os
import threading
from typing import Any

import pytest
import sqlalchemy as sa

from charter.assets import actions
from charter.assets.settings import asset_settings, files_dir
from charter.assets.tables import asset_versions, assets
from charter.auth.roles import SYSTEM
from charter.runtime import Runtime
from tests.assets.images import image_bytes, png_bomb
from tests.conftest import auth

ALT = json.dumps({"alt": {"en": "A red square with a blue corner"}})


def upload(client: Any, token: str, data: bytes, name: str = "photo.jpg", meta: str | bytes | None = ALT) -> Any:
    fields = {"metadata": meta} if meta is not None else {}
    return client.post("/v1/manage/assets", headers=auth(token), files={"file": (name, data)}, data=fields)


def stored_files(runtime: Runtime) -> list[str]:
    root = files_dir(runtime.settings, asset_settings(runtime.settings))
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def rows(runtime: Runtime) -> int:
    with runtime.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(assets)).scalar_one())


def test_upload_measures_the_image_and_the_same_bytes_are_one_asset(
    client: Any, tokens: dict[str, str], runtime: Runtime
) -> None:
    data = image_bytes("JPEG", (640, 480))
    first = upload(client, tokens["editor"], data)
    assert first.status_code == 201, first.text
    body = first.json()
    assert (body["media_type"], body["width"], body["height"]) == ("image/jpeg", 640, 480)
    assert body["dominant_color"].startswith("#") and body["metadata"]["alt"] == {
        "en": "A red square with a blue corner"
    }
    assert body["version"] == 1 and body["deduplicated"] is False
    assert first.headers["location"] == f"/v1/manage/assets/{body['id']}"
    again = upload(client, tokens["editor"], data, name="copy.jpeg")
    assert again.status_code == 200 and again.json()["id"] == body["id"] and again.json()["deduplicated"] is True
    assert rows(runtime) == 1 and len([f for f in stored_files(runtime) if f.startswith("blobs/")]) == 1
    got = client.get(f"/v1/manage/assets/{body['id']}", headers=auth(tokens["viewer"]))
    assert got.status_code == 200 and got.headers["etag"] == f'"{body["id"]}-v1"'
    listed = client.get("/v1/manage/assets?q=PHOTO", headers=auth(tokens["viewer"])).json()
    assert [a["id"] for a in listed] == [body["id"]]


def test_the_type_comes_from_the_bytes(client: Any, tokens: dict[str, str]) -> None:
    png = upload(client, tokens["editor"], image_bytes("PNG", (32, 16)), name="logo")
    assert png.status_code == 201 and png.json()["media_type"] == "image/png"
    webp = upload(client, tokens["editor"], image_bytes("WEBP", (20, 20)), name="x.webp")
    assert webp.status_code == 201 and webp.json()["media_type"] == "image/webp"


def test_alt_text_is_required_unless_decorative(client: Any, tokens: dict[str, str]) -> None:
    missing = upload(client, tokens["editor"], image_bytes(), meta=None)
    assert missing.status_code == 422
    assert missing.headers["content-type"] == "application/problem+json"
    assert [e["pointer"] for e in missing.json()["errors"]] == ["/metadata/alt"]
    blank = upload(client, tokens["editor"], image_bytes(), meta=json.dumps({"alt": {"en": "  "}}))
    assert blank.status_code == 422
    decorative = upload(client, tokens["editor"], image_bytes(), meta=json.dumps({"decorative": True}))
    assert decorative.status_code == 201


SVG_OK = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="24" height="12"><rect width="24" height="12" fill="#f00"/></svg>'
)
SVG = '<svg xmlns="http://www.w3.org/2000/svg"{}'
XLINK = ' xmlns:x="http://www.w3.org/1999/xlink"><image x:href="https://evil.example/a.png"/></svg>'
ENTITIES = '<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaa">]>' + SVG.format(">&a;</svg>")
FOCAL = json.dumps({"alt": {"en": "x"}, "focal_point": {"x": 2, "y": 0}})
UNKNOWN = json.dumps({"alt": {"en": "x"}, "colour": "red"})
FOREIGN = SVG.format("><foreignObject><div/></foreignObject></svg>").encode()
JS_LINK = SVG.format('><a href="javascript:alert(1)"><rect/></a></svg>').encode()
BAD = [
    pytest.param("photo.png", image_bytes("JPEG"), ALT, 422, "extension", id="wrong-extension"),
    pytest.param("../../etc/passwd.jpg", image_bytes("JPEG"), ALT, 422, "filename", id="traversal"),
    pytest.param("a\\b.jpg", image_bytes("JPEG"), ALT, 422, "filename", id="backslash"),
    pytest.param("doc.pdf", b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n", ALT, 415, None, id="unsupported-pdf"),
    pytest.param("notes.jpg", b"just some text, not an image", ALT, 415, None, id="text-named-jpg"),
    pytest.param("bomb.png", png_bomb(), ALT, 422, "pixels", id="decompression-bomb"),
    pytest.param("bomb2.png", png_bomb(10_000, 10_000), ALT, 422, "pixels", id="pixel-budget"),
    pytest.param("poly.png", image_bytes("PNG") + b"<script>alert(1)</script>", ALT, 422, "polyglot", id="png-html"),
    pytest.param("poly.jpg", image_bytes("JPEG") + b"<?php system($_GET[1]); ?>", ALT, 422, "polyglot", id="jpeg-php"),
    pytest.param("cut.jpg", image_bytes("JPEG")[:400], ALT, 422, "decode", id="truncated"),
    pytest.param("x.svg", SVG.format("><script>alert(1)</script></svg>").encode(), ALT, 422, "svg", id="svg-script"),
    pytest.param("x.svg", SVG.format(' onload="alert(1)"/>').encode(), ALT, 422, "svg", id="svg-onload"),
    pytest.param("x.svg", SVG.format(XLINK).encode(), ALT, 422, "svg", id="svg-external"),
    pytest.param("x.svg", ENTITIES.encode(), ALT, 422, "svg", id="svg-entities"),
    pytest.param("x.svg", FOREIGN, ALT, 422, "svg", id="svg-foreign"),
    pytest.param("x.svg", JS_LINK, ALT, 422, "svg", id="svg-javascript"),
    pytest.param("big.jpg", os.urandom(3 * 1024 * 1024), ALT, 413, None, id="oversize"),
    pytest.param("empty.jpg", b"", ALT, 400, None, id="empty"),
    pytest.param("p.jpg", image_bytes("JPEG"), "{not json", 400, None, id="metadata-not-json"),
    pytest.param("p.jpg", image_bytes("JPEG"), FOCAL, 422, None, id="focal-out-of-range"),
    pytest.param("p.jpg", image_bytes("JPEG"), UNKNOWN, 422, None, id="unknown-metadata"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "data", "meta", "status", "keyword"), BAD)
def test_bad_uploads_are_clear_4xx_and_leave_nothing(
    client: Any,
    tokens: dict[str, str],
    runtime: Runtime,
    name: str,
    data: bytes,
    meta: str,
    status: int,
    keyword: str | None,
) -> None:
    response = upload(client, tokens["editor"], data, name=name, meta=meta)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    if keyword:
        assert keyword in [e.get("keyword") for e in response.json()["errors"]], response.json()
    assert rows(runtime) == 0
    assert [f for f in stored_files(runtime) if not f.startswith("tmp/")] == []
    assert [f for f in stored_files(runtime) if f.startswith("tmp/")] == []


def test_a_clean_svg_is_accepted(client: Any, tokens: dict[str, str]) -> None:
    response = upload(client, tokens["editor"], SVG_OK, name="icon.svg")
    assert response.status_code == 201, response.text
    assert (response.json()["media_type"], response.json()["width"], response.json()["height"]) == (
        "image/svg+xml",
        24,
        12,
    )


def test_uploads_need_a_writer_and_multipart(client: Any, tokens: dict[str, str]) -> None:
    assert upload(client, tokens["viewer"], image_bytes()).status_code == 403
    as_json = client.post("/v1/manage/assets", headers=auth(tokens["editor"]), json={"file": "x"})
    assert as_json.status_code == 415
    no_file = client.post("/v1/manage/assets", headers=auth(tokens["editor"]), files={"other": ("a.jpg", b"x")})
    assert no_file.status_code == 422


def test_concurrent_uploads_of_one_file_make_one_asset(runtime: Runtime) -> None:
    data = image_bytes("JPEG", (300, 200))
    meta = {"alt": {"en": "same"}}
    results: list[tuple[str, bool]] = []
    errors: list[BaseException] = []

    def go() -> None:
        try:
            asset, created = actions.upload_asset(runtime, SYSTEM, data, "same.jpg", meta)
            results.append((asset.id, created))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=go) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len({asset_id for asset_id, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert rows(runtime) == 1


def test_metadata_edits_make_versions(client: Any, tokens: dict[str, str], runtime: Runtime) -> None:
    asset = upload(client, tokens["editor"], image_bytes()).json()
    url = f"/v1/manage/assets/{asset['id']}"
    patch = {"metadata": {"alt": {"de": "Ein rotes Quadrat"}, "focal_point": {"x": 0.2, "y": 0.8}, "credit": "Ada"}}
    edited = client.patch(url, headers=auth(tokens["editor"], **{"If-Match": f'"{asset["id"]}-v1"'}), json=patch)
    assert edited.status_code == 200, edited.text
    meta = edited.json()["metadata"]
    assert meta["alt"] == {"en": "A red square with a blue corner", "de": "Ein rotes Quadrat"}
    assert meta["focal_point"] == {"x": 0.2, "y": 0.8} and edited.json()["version"] == 2
    stale = client.patch(url, headers=auth(tokens["editor"], **{"If-Match": f'"{asset["id"]}-v1"'}), json=patch)
    assert stale.status_code == 412
    no_alt = client.patch(url, headers=auth(tokens["editor"]), json={"metadata": {"alt": None}})
    assert no_alt.status_code == 422
    with runtime.read() as conn:
        versions = conn.execute(sa.select(asset_versions.c.version).where(asset_versions.c.asset_id == asset["id"]))
        assert [v for (v,) in versions] == [1, 2]


def test_delete_removes_the_row_and_the_bytes(client: Any, tokens: dict[str, str], runtime: Runtime) -> None:
    asset = upload(client, tokens["editor"], image_bytes()).json()
    assert client.delete(f"/v1/manage/assets/{asset['id']}", headers=auth(tokens["editor"])).status_code == 204
    assert rows(runtime) == 0 and [f for f in stored_files(runtime) if f.startswith("blobs/")] == []
    assert client.get(f"/v1/manage/assets/{asset['id']}", headers=auth(tokens["viewer"])).status_code == 404
    assert client.get(f"/v1/assets/{asset['id']}/x.jpg").status_code == 404


def test_hostile_json_in_the_metadata_part_is_refused_and_stores_nothing(
    client: Any, tokens: dict[str, str], runtime: Runtime
) -> None:
    """The metadata part goes through the strict JSON gate like any JSON body: every hostile spelling
    (lone surrogates, NaN, 1e400, integers beyond 2**53, NUL in a name, deep nesting) is a 400
    invalid-json problem naming the pointer, and no file or row is written."""
    from tests.api.test_hostile_json import HOSTILE, counts

    before, files = counts(runtime), stored_files(runtime)
    for case, raw, ptr in HOSTILE:
        r = upload(client, tokens["editor"], image_bytes("JPEG"), meta=raw)
        if case == "raw surrogate bytes":
            # Starlette reads a text part that is not UTF-8 as Latin-1 (valid, if garbled, text), so
            # the gate sees no surrogate: the metadata is then checked as any other (a known gap).
            assert 400 <= r.status_code < 500, (case, r.status_code, r.text[:300])
            continue
        assert r.status_code == 400, (case, r.status_code, r.text[:300])
        problem = r.json()
        assert problem["type"].endswith("/invalid-json") and problem["errors"][0]["pointer"] == ptr, (case, problem)
    assert counts(runtime) == before and stored_files(runtime) == files
