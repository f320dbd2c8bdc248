"""CORS on the delivery API (charter.http.cors): allowed origins from ``[charter.cors]``, preflights,
``Vary: Origin`` on every answer that depends on the origin, cached fast-path hits included; never on the
management API unless its paths are configured; a bad table refuses to start. SQLite only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from charter.app import create_app
from charter.config import load_settings
from charter.exceptions import ConfigError
from charter.http.cors import cors_policy
from charter.runtime import Runtime
from tests.conftest import auth

SITE = "https://www.lumen.example"
OTHER = "https://evil.example"


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'charter.db'}"


def _client(runtime: Runtime, cors: dict[str, Any]) -> Iterator[TestClient]:
    settings = runtime.settings.model_copy(update={"cors": cors})
    with TestClient(create_app(settings, runtime=runtime), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def site(runtime: Runtime) -> Iterator[TestClient]:
    yield from _client(runtime, {"allow_origins": [SITE, "http://localhost:5173"], "max_age": 300})


@pytest.mark.parametrize("path", ["/v1/pages/pricing", "/v1/entries/doc?limit=2", "/v1/entries/pricing-plan"])
def test_an_allowed_origin_reads_with_allow_origin_and_vary_on_misses_and_hits(site: TestClient, path: str) -> None:
    for _ in range(3):  # a miss, then fast-path hits: the same headers
        r = site.get(path, headers={"Origin": SITE})
        assert r.status_code == 200
        assert r.headers["access-control-allow-origin"] == SITE
        assert "ETag" in r.headers["access-control-expose-headers"]
        vary = [v.strip() for v in r.headers["vary"].split(",")]
        assert "Origin" in vary and "Charter-Schema" in vary  # merged into one field
        assert "access-control-allow-credentials" not in r.headers


def test_an_origin_not_allowed_or_none_gets_no_cors_header_but_vary(site: TestClient) -> None:
    for headers in ({"Origin": OTHER}, {}, {"Origin": SITE + "/"}, {"Origin": "null"}):
        r = site.get("/v1/pages/pricing", headers=headers)
        assert r.status_code == 200
        assert "access-control-allow-origin" not in r.headers
        assert "Origin" in r.headers["vary"]  # a shared cache keeps the answers apart


def test_a_304_revalidation_keeps_the_cors_headers(site: TestClient) -> None:
    etag = site.get("/v1/pages/home", headers={"Origin": SITE}).headers["etag"]
    r = site.get("/v1/pages/home", headers={"Origin": SITE, "If-None-Match": etag})
    assert r.status_code == 304
    assert r.headers["access-control-allow-origin"] == SITE


def test_a_preflight_from_an_allowed_origin(site: TestClient) -> None:
    r = site.options(
        "/v1/entries/doc",
        headers={
            "Origin": SITE,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization, charter-preview, x-unknown",
        },
    )
    assert r.status_code == 204
    assert r.headers["access-control-allow-origin"] == SITE
    assert r.headers["access-control-allow-methods"] == "GET, HEAD, POST"
    assert r.headers["access-control-allow-headers"] == "Authorization, Charter-Preview"
    assert r.headers["access-control-max-age"] == "300"
    assert "Origin" in r.headers["vary"]


def test_a_preflight_for_ask_and_for_a_method_not_allowed(site: TestClient) -> None:
    ok = site.options(
        "/v1/ask",
        headers={
            "Origin": SITE,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert ok.status_code == 204 and ok.headers["access-control-allow-headers"] == "Content-Type"
    refused = site.options("/v1/entries/doc", headers={"Origin": SITE, "Access-Control-Request-Method": "DELETE"})
    assert refused.status_code == 204 and "access-control-allow-origin" not in refused.headers


def test_a_preflight_from_another_origin_is_the_plain_options_answer(site: TestClient) -> None:
    r = site.options("/v1/pages/home", headers={"Origin": OTHER, "Access-Control-Request-Method": "GET"})
    assert r.status_code == 204
    assert "access-control-allow-origin" not in r.headers
    assert "GET" in r.headers["allow"]


def test_problems_carry_cors_headers_so_the_client_can_read_them(site: TestClient) -> None:
    r = site.get("/v1/pages/no-such-page", headers={"Origin": SITE})
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.headers["access-control-allow-origin"] == SITE


def test_management_routes_get_no_cors_unless_configured(runtime: Runtime, tokens: dict[str, str]) -> None:
    preflight = {
        "Origin": SITE,
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization",
    }
    for c in _client(runtime, {"allow_origins": [SITE]}):
        r = c.get("/v1/manage/entries", headers=auth(tokens["viewer"], Origin=SITE))
        assert r.status_code == 200 and "access-control-allow-origin" not in r.headers
        assert "access-control-allow-origin" not in c.options("/v1/manage/entries", headers=preflight).headers
        assert "access-control-allow-origin" not in c.get("/admin/login", headers={"Origin": SITE}).headers
    for c in _client(runtime, {"allow_origins": [SITE], "paths": ["/v1/manage/"]}):
        r = c.get("/v1/manage/entries", headers=auth(tokens["viewer"], Origin=SITE))
        assert r.headers["access-control-allow-origin"] == SITE
        assert c.options("/v1/manage/entries", headers=preflight).headers["access-control-allow-origin"] == SITE


def test_any_origin_answers_star_without_vary(runtime: Runtime) -> None:
    for c in _client(runtime, {"allow_origins": ["*"]}):
        for _ in range(2):
            r = c.get("/v1/pages/pricing", headers={"Origin": OTHER})
            assert r.headers["access-control-allow-origin"] == "*"
            assert "Origin" not in r.headers["vary"]


def test_without_configuration_no_cors_header_and_no_vary(runtime: Runtime) -> None:
    for c in _client(runtime, {}):
        r = c.get("/v1/pages/pricing", headers={"Origin": SITE})
        assert "access-control-allow-origin" not in r.headers
        assert "Origin" not in r.headers["vary"]


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"allow_origins": ["https://www.lumen.example/"]}, "is not an origin"),
        ({"allow_origins": ["www.lumen.example"]}, "is not an origin"),
        ({"allow_origins": "ftp://x"}, "is not an origin"),
        ({"allow_origins": [SITE], "max_age": -1}, "max_age"),
        ({"allow_origins": [SITE], "allow_methods": ["BREW"]}, "allow_methods"),
        ({"allow_origins": [SITE], "allow_headers": ["bad header"]}, "allow_headers"),
        ({"allow_origins": [SITE], "paths": ["v1/manage"]}, "must start with /"),
        ({"allow_origin": [SITE]}, "unknown key"),
        ({"allow_origins": [1]}, "list of non-empty strings"),
    ],
)
def test_a_bad_table_is_a_config_error_naming_the_key(table: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        cors_policy(table)


def test_charter_toml_configures_it(project_dir: Path, runtime: Runtime) -> None:
    # the demo's charter.toml allows the example front end (examples/frontend) on port 8080
    policy = cors_policy(load_settings(project_dir, database_url=runtime.settings.database_url).cors)
    assert policy is not None and "http://localhost:8080" in policy.origins
