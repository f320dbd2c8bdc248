"""Forwarded headers are honoured only from ``forwarded_allow_ips`` (default: none), through a
real uvicorn server on loopback started with ``charter serve``'s options: issue 13's bypass of
the admin sign-in lock by sending ``X-Forwarded-For`` from loopback no longer works."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
import uvicorn

from charter.app import create_app
from charter.config import Settings, load_settings
from charter.exceptions import ConfigError
from charter.runtime import Runtime
from charter.serving import uvicorn_options
from tests.admin.conftest import FAST_HASH
from tests.admin.htmlforms import csrf_of
from tests.services import free_port


@pytest.fixture
def admin_options() -> dict[str, object]:
    return {"password_hash": FAST_HASH, "login_max_failures_per_address": 3}


@contextmanager
def served(rt: Runtime) -> Iterator[str]:
    """``rt``'s app under uvicorn with exactly the options ``charter serve`` passes."""
    port = free_port()
    options = uvicorn_options(rt.settings)
    config = uvicorn.Config(
        create_app(rt.settings, runtime=rt), host="127.0.0.1", port=port, log_level="warning", **options
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def attempt(client: httpx.Client, username: str, forwarded_for: str) -> int:
    page = client.get("/admin/login")
    r = client.post(
        "/admin/login",
        data={"username": username, "password": "wrong password!", "csrf_token": csrf_of(page.text), "next": "/admin"},
        headers={"X-Forwarded-For": forwarded_for},
    )
    return r.status_code


def test_options_default_to_no_trusted_proxy(settings: Settings) -> None:
    assert settings.forwarded_allow_ips == ()
    assert uvicorn_options(settings)["proxy_headers"] is False
    assert uvicorn_options()["proxy_headers"] is False
    trusted = settings.model_copy(update={"forwarded_allow_ips": ("10.0.0.0/8", "127.0.0.1")})
    assert (
        uvicorn_options(trusted).items()
        >= {"proxy_headers": True, "forwarded_allow_ips": "10.0.0.0/8,127.0.0.1"}.items()
    )


def test_forwarded_allow_ips_from_environment_and_checked(project_dir, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CHARTER_FORWARDED_ALLOW_IPS", "10.1.2.3, 192.168.0.0/16")
    assert load_settings(project_dir).forwarded_allow_ips == ("10.1.2.3", "192.168.0.0/16")
    monkeypatch.setenv("CHARTER_FORWARDED_ALLOW_IPS", "10.1.2.3, proxy.example")
    with pytest.raises(ConfigError, match="not an IP address or network"):
        load_settings(project_dir)


def test_x_forwarded_for_from_an_untrusted_peer_does_not_bypass_the_sign_in_lock(
    runtime: Runtime, users: dict[str, str]
) -> None:
    with served(runtime) as url, httpx.Client(base_url=url, timeout=30) as client:
        statuses = [attempt(client, name, f"203.0.113.{i}") for i, name in enumerate(["editor", "viewer", "admin"])]
        assert statuses == [401, 401, 401]
        # Three failures from this (real) address: locked, whatever address the header claims.
        assert attempt(client, "publisher", "198.51.100.7") == 429


def test_x_forwarded_for_from_a_trusted_proxy_is_the_client(runtime: Runtime, users: dict[str, str]) -> None:
    trusted = Runtime.open(runtime.settings.model_copy(update={"forwarded_allow_ips": ("127.0.0.1",)}))
    try:
        with served(trusted) as url, httpx.Client(base_url=url, timeout=30) as client:
            statuses = [attempt(client, name, f"203.0.113.{i}") for i, name in enumerate(["editor", "viewer", "admin"])]
            # Each failure came from another client behind the proxy: nobody is locked.
            assert [*statuses, attempt(client, "publisher", "198.51.100.7")] == [401, 401, 401, 401]
            assert attempt(client, "publisher", "203.0.113.1") == 401  # .1's second failure
            assert attempt(client, "admin", "203.0.113.1") == 401  # .1's third
            assert attempt(client, "viewer", "203.0.113.1") == 429  # the address behind the proxy is locked
    finally:
        trusted.close()
