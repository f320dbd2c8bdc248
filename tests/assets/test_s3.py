"""The s3 store against a real S3-compatible server (moto_server on loopback, or
CHARTER_TEST_S3_URL): uploads, dedup, delivery and delete go through the bucket."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from charter.app import create_app
from charter.config import Settings, load_settings
from charter.runtime import Runtime
from tests.assets.images import image_bytes
from tests.assets.test_upload import upload
from tests.conftest import auth
from tests.services import s3_endpoint


@pytest.fixture
def settings(project_dir: Path, database_url: str, services: frozenset[str]) -> Iterator[Settings]:
    with s3_endpoint() as url:
        s3 = {
            "bucket": "charter-test",
            "prefix": "t/",
            "endpoint_url": url,
            "access_key_id": "test",
            "secret_access_key": "test",
            "create_bucket": True,
        }
        yield load_settings(
            project_dir,
            database_url=database_url,
            trace_exporter="memory",
            assets={"store": "s3", "s3": s3},
            worker="worker" in services,
        )


def _keys(runtime: Runtime) -> list[str]:
    from charter.assets.storage import store_for

    store: Any = store_for(runtime)
    listed = store.client.list_objects_v2(Bucket="charter-test", Prefix="t/")
    return sorted(o["Key"] for o in listed.get("Contents", []))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_s3_store_holds_the_originals(runtime: Runtime, tokens: dict[str, str]) -> None:
    with TestClient(create_app(runtime.settings, runtime=runtime), raise_server_exceptions=False) as client:
        data = image_bytes("JPEG", (1200, 800))
        created = upload(client, tokens["editor"], data, name="s3.jpg")
        assert created.status_code == 201, created.text
        asset = created.json()
        assert _keys(runtime) == [f"t/blobs/{asset['sha256'][:2]}/{asset['sha256']}"]
        assert upload(client, tokens["editor"], data, name="again.jpg").json()["deduplicated"] is True
        original = client.get(f"/v1/assets/{asset['id']}/s3.jpg")
        assert original.status_code == 200 and original.content == data
        webp = client.get(f"/v1/assets/{asset['id']}/s3.jpg?w=640&fm=webp")
        assert webp.status_code == 200 and webp.headers["content-type"] == "image/webp"
        refused = upload(client, tokens["editor"], b"<svg onload='x()'", name="x.svg")
        assert refused.status_code in (415, 422) and len(_keys(runtime)) == 1  # nothing written for a refusal
        assert client.delete(f"/v1/manage/assets/{asset['id']}", headers=auth(tokens["editor"])).status_code == 204
        assert _keys(runtime) == []
