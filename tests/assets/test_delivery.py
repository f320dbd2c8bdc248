"""Delivery of originals and transforms: configured sizes or signed URLs only, a disk cache with
strong ETags, immutable caching for versioned URLs, purge on change."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image

from charter.assets import transforms
from charter.assets.settings import asset_settings, cache_dir
from charter.runtime import Runtime
from tests.assets.images import image_bytes
from tests.assets.test_upload import upload
from tests.conftest import auth


def _image(response: Any) -> Any:
    return Image.open(io.BytesIO(response.content))


def test_original_and_transforms(client: Any, tokens: dict[str, str], runtime: Runtime) -> None:
    data = image_bytes("JPEG", (1600, 1200))
    asset = upload(client, tokens["editor"], data, name="hero.jpg").json()
    base = f"/v1/assets/{asset['id']}/hero.jpg"
    original = client.get(base)
    assert original.status_code == 200 and original.content == data
    assert original.headers["content-type"] == "image/jpeg"
    assert original.headers["x-content-type-options"] == "nosniff"
    assert original.headers["surrogate-key"] == f"asset:{asset['id']}"
    assert original.headers["cache-control"] == "public, max-age=60"  # no version in the URL

    webp = client.get(f"{base}?v=1&w=800&fm=webp")
    assert webp.status_code == 200, webp.text
    assert webp.headers["content-type"] == "image/webp"
    assert webp.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert webp.headers["surrogate-key"] == f"asset:{asset['id']}"
    assert _image(webp).size == (800, 600)
    etag = webp.headers["etag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    again = client.get(f"{base}?v=1&w=800&fm=webp", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert client.get(f"{base}?v=1&w=800&fm=webp").content == webp.content  # from the disk cache

    cover = client.get(f"{base}?w=320&h=320&fit=cover&fm=png")
    assert cover.status_code == 200 and _image(cover).size == (320, 320)
    avif = client.get(f"{base}?w=160&fm=avif&q=50")
    assert avif.status_code == 200 and avif.headers["content-type"] == "image/avif"


def test_sizes_off_the_ladder_need_a_signature(client: Any, tokens: dict[str, str], runtime: Runtime) -> None:
    asset = upload(client, tokens["editor"], image_bytes("PNG", (900, 900)), name="sq.png").json()
    base = f"/v1/assets/{asset['id']}/sq.png"
    refused = client.get(f"{base}?w=801")
    assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"
    assert client.get(f"{base}?w=800&q=33").status_code == 403
    t = transforms.Transform(w=801)
    signature = transforms.sign(runtime.settings.secret_key, asset["id"], t)
    signed = client.get(f"{base}?w=801&s={signature}")
    assert signed.status_code == 200 and _image(signed).size == (801, 801)
    assert client.get(f"{base}?w=802&s={signature}").status_code == 403  # the signature covers the parameters
    bad = [f"{base}?w=0", f"{base}?w=99999", f"{base}?fm=gif", f"{base}?fit=stretch", f"{base}?q=101"]
    assert [client.get(url).status_code for url in bad] == [422] * len(bad)
    assert client.get(f"/v1/assets/{asset['id']}/..%2F..%2Fetc%2Fpasswd").status_code in (404, 422)
    assert client.get("/v1/assets/not-a-uuid/x.png").status_code == 422


def test_a_change_purges_the_transforms(client: Any, tokens: dict[str, str], runtime: Runtime) -> None:
    asset = upload(client, tokens["editor"], image_bytes("JPEG", (1000, 500)), name="wide.jpg").json()
    url = f"/v1/assets/{asset['id']}/wide.jpg?w=320&h=320&fit=cover"
    first = client.get(url)
    assert first.status_code == 200
    folder = cache_dir(runtime.settings, asset_settings(runtime.settings)) / asset["id"]
    assert any(folder.iterdir())
    patch = {"metadata": {"focal_point": {"x": 0.0, "y": 0.5}}}
    assert (
        client.patch(f"/v1/manage/assets/{asset['id']}", headers=auth(tokens["editor"]), json=patch).status_code == 200
    )
    assert not folder.exists()
    second = client.get(url)
    assert second.status_code == 200 and second.headers["etag"] != first.headers["etag"]  # the crop moved


def test_svg_is_served_as_it_is_with_a_sandbox(client: Any, tokens: dict[str, str]) -> None:
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4" height="4"/></svg>'
    asset = upload(client, tokens["editor"], svg, name="i.svg").json()
    got = client.get(f"/v1/assets/{asset['id']}/i.svg")
    assert got.status_code == 200 and got.content == svg
    assert "sandbox" in got.headers["content-security-policy"]
    assert client.get(f"/v1/assets/{asset['id']}/i.svg?w=320").status_code == 422


def test_the_fast_path_answers_cached_transforms_like_the_route(client: Any, tokens: dict[str, str]) -> None:
    asset = upload(client, tokens["editor"], image_bytes("JPEG", (1000, 800)), name="fast.jpg").json()
    url = f"/v1/assets/{asset['id']}/fast.jpg?v=1&w=640&fm=webp"
    rendered = client.get(url)  # the route renders and caches
    served = client.get(url)  # the fast path reads the cached file
    assert served.status_code == 200 and served.content == rendered.content
    same = (
        "content-type",
        "etag",
        "cache-control",
        "surrogate-key",
        "x-content-type-options",
        "content-security-policy",
    )
    assert {k: served.headers[k] for k in same} == {k: rendered.headers[k] for k in same}
    assert served.headers["content-length"] == str(len(served.content)) and served.headers["x-request-id"]
    head = client.head(url)
    assert head.status_code == 200 and head.content == b"" and head.headers["etag"] == rendered.headers["etag"]
    assert client.get(url, headers={"If-None-Match": rendered.headers["etag"]}).status_code == 304
    # what the fast path does not know goes to the route, which answers as before
    assert client.get(url + "&w=320").status_code == 200  # a repeated parameter: FastAPI's reading of it
    assert client.get(url.replace("w=640", "w=641")).status_code == 403
    assert client.get(url.replace("v=1", "v=abc")).status_code == 422
    # a change purges the cache: the old version's URL is rendered again by the route, at the new version
    patch = {"metadata": {"focal_point": {"x": 0.1, "y": 0.1}}}
    assert (
        client.patch(f"/v1/manage/assets/{asset['id']}", headers=auth(tokens["editor"]), json=patch).status_code == 200
    )
    stale = client.get(url)
    assert stale.status_code == 200 and stale.headers["cache-control"] == "public, max-age=60"
