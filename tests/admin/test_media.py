"""The media library page: upload with alt text (refusals shown on the page, nothing stored),
browse and search, edit alt text per locale and the focal point, delete."""

from __future__ import annotations

import re
from typing import Any

from tests.assets.images import image_bytes


def _upload(client: Any, csrf: str, data: bytes, name: str, **fields: str) -> Any:
    return client.post(
        "/admin/media",
        data={"csrf_token": csrf, **fields},
        files={"file": (name, data)},
        follow_redirects=False,
    )


def test_upload_browse_edit_delete(as_role) -> None:  # type: ignore[no-untyped-def]
    client, csrf = as_role("editor")
    page = client.get("/admin/media")
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.text
    assert "style=" not in page.text  # CSP: no inline style

    missing_alt = _upload(client, csrf, image_bytes(), "hero.jpg")
    assert missing_alt.status_code == 422 and "alt text is required" in missing_alt.text
    disguised = _upload(client, csrf, image_bytes(), "hero.png", alt="x")
    assert disguised.status_code == 422 and "rename it to" in disguised.text
    no_csrf = _upload(client, "nope", image_bytes(), "hero.jpg", alt="x")
    assert no_csrf.status_code == 403

    done = _upload(client, csrf, image_bytes("JPEG", (800, 600)), "hero.jpg", alt="A red field", locale="en")
    assert done.status_code == 303, done.text
    location = done.headers["location"]
    asset_id = location.split("/")[-1].split("?")[0]
    edit = client.get(location)
    assert edit.status_code == 200 and "Uploaded." in edit.text and "A red field" in edit.text
    listed = client.get("/admin/media?q=HERO")
    assert asset_id in listed.text and 'alt="A red field"' in listed.text
    assert asset_id not in client.get("/admin/media?q=nothing-like-it").text

    form = {
        "csrf_token": csrf,
        "locale": ["en", "de", ""],
        "alt": ["A red field", "Ein rotes Feld", ""],
        "caption": ["", "", ""],
        "credit": "Ada",
        "focal_x": "0.25",
        "focal_y": "0.75",
    }
    saved = client.post(f"/admin/media/{asset_id}", data=form, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    api = client.get(f"/admin/media/{asset_id}")
    assert "Ein rotes Feld" in api.text and re.search(r'id="focal_x"[^>]*value="0.25"', api.text)
    bad = client.post(f"/admin/media/{asset_id}", data={**form, "focal_x": "7"}, follow_redirects=False)
    assert bad.status_code == 422 and "focal_point" in bad.text
    gone = client.post(
        f"/admin/media/{asset_id}", data={"csrf_token": csrf, "_action": "delete"}, follow_redirects=False
    )
    assert gone.status_code == 303 and client.get(f"/admin/media/{asset_id}").status_code == 404


def test_viewers_browse_but_do_not_upload(as_role) -> None:  # type: ignore[no-untyped-def]
    client, csrf = as_role("viewer")
    page = client.get("/admin/media")
    assert page.status_code == 200 and 'id="upload-form"' not in page.text
    refused = _upload(client, csrf, image_bytes(), "x.jpg", alt="x")
    assert refused.status_code == 403
