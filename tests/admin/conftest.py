"""Admin fixtures: one user per role (password ``<role>-password-1``) and a signed-in client."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from charter.auth.roles import SYSTEM, Role
from charter.config import Settings, load_settings
from charter.runtime import Runtime
from tests.admin.htmlforms import csrf_of
from tests.services import temporary_postgres_database

#: Cheap Argon2 parameters so tests do not spend seconds hashing (production keeps RFC 9106's).
FAST_HASH = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}


BOTH = pytest.mark.parametrize(
    "database_url", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """SQLite unless a test asks for both backends with ``@BOTH`` (the admin's own SQL runs on both;
    everything else it does goes through library functions that are tested on both)."""
    if getattr(request, "param", "sqlite") == "sqlite":
        yield f"sqlite:///{tmp_path / 'charter.db'}"
    else:
        with temporary_postgres_database() as url:
            yield url


@pytest.fixture
def admin_options() -> dict[str, object]:
    return {"password_hash": FAST_HASH}


@pytest.fixture
def settings(
    project_dir: Path, database_url: str, admin_options: dict[str, object], services: frozenset[str]
) -> Settings:
    return load_settings(
        project_dir,
        database_url=database_url,
        trace_exporter="memory",
        log_json=True,
        admin=admin_options,
        worker="worker" in services,
    )


def password_of(username: str) -> str:
    return f"{username}-password-1"


@pytest.fixture
def users(runtime: Runtime) -> dict[str, str]:
    """role -> username; each user's password is ``password_of(username)``."""
    from charter.auth.users import create_user

    for role in Role:
        create_user(runtime, SYSTEM, role.value, password_of(role.value), role, f"{role.value.title()} User")
    return {role.value: role.value for role in Role}


def login(client: TestClient, username: str, password: str | None = None, *, next_url: str = "/admin") -> str:
    """Sign ``client`` in through the real form; returns the session's CSRF token."""
    page = client.get("/admin/login")
    assert page.status_code == 200, page.text
    r = client.post(
        "/admin/login",
        data={
            "username": username,
            "password": password or password_of(username),
            "csrf_token": csrf_of(page.text),
            "next": next_url,
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    home = client.get(r.headers["location"])
    assert home.status_code == 200
    m = re.search(r'data-csrf="([^"]+)"', home.text)
    assert m
    return m.group(1)


@pytest.fixture
def as_role(app, users):  # type: ignore[no-untyped-def]
    """``as_role("editor")`` -> a TestClient signed in as that role's user (and its CSRF token)."""
    clients: list[TestClient] = []

    def make(role: str) -> tuple[TestClient, str]:
        c = TestClient(app, raise_server_exceptions=False)
        c.__enter__()
        clients.append(c)
        return c, login(c, users[role])

    yield make
    for c in clients:
        c.__exit__(None, None, None)
