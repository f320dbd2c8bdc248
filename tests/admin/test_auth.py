"""Sign-in, sessions and CSRF through the real app: wrong passwords, throttling, expiry (with
nothing lost from the form), sign-out, cookie flags, cross-site requests, open redirects."""

from __future__ import annotations

import html
import re

import sqlalchemy as sa
from fastapi.testclient import TestClient

from charter.auth.sessions import sessions
from charter.content import store
from charter.runtime import Runtime
from tests.admin.conftest import BOTH, login, password_of
from tests.admin.htmlforms import as_data, csrf_of, form_fields, set_field


def sign_in(client: TestClient, username: str, password: str, next_url: str = "/admin") -> TestClient:
    page = client.get("/admin/login")
    return client.post(  # type: ignore[return-value]
        "/admin/login",
        data={"username": username, "password": password, "csrf_token": csrf_of(page.text), "next": next_url},
        follow_redirects=False,
    )


@BOTH
def test_sign_in_sets_a_hardened_cookie_and_sign_out_ends_the_session(app, users) -> None:  # type: ignore[no-untyped-def]
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/admin", follow_redirects=False).headers["location"] == "/admin/login?next=%2Fadmin"
        r = sign_in(client, "editor", password_of("editor"), "/admin/content")
        assert r.status_code == 303 and r.headers["location"] == "/admin/content"
        cookie = r.headers["set-cookie"]
        assert cookie.startswith("charter_admin=") and "HttpOnly" in cookie and "SameSite=lax" in cookie
        assert "Path=/" in cookie and "Max-Age=43200" in cookie
        token = client.cookies["charter_admin"]
        csrf = re.search(r'data-csrf="([^"]+)"', client.get("/admin").text).group(1)  # type: ignore[union-attr]
        r = client.post("/admin/logout", data={"csrf_token": csrf}, follow_redirects=False)
        assert r.status_code == 303 and "signed_out=1" in r.headers["location"]
        assert "You have signed out." in client.get(r.headers["location"]).text
        client.cookies.set("charter_admin", token)  # replaying the old cookie does not work
        assert "expired=1" in client.get("/admin", follow_redirects=False).headers["location"]
    with TestClient(app, base_url="https://admin.example", raise_server_exceptions=False) as secure:
        r = sign_in(secure, "editor", password_of("editor"))
        assert r.headers["set-cookie"].startswith("__Host-charter_admin=") and "Secure" in r.headers["set-cookie"]
        assert secure.get("/admin").status_code == 200


@BOTH
def test_wrong_passwords_unknown_users_and_throttling(app, users) -> None:  # type: ignore[no-untyped-def]
    with TestClient(app, raise_server_exceptions=False) as client:
        r = sign_in(client, "editor", "wrong password!")
        assert r.status_code == 401 and "Wrong username or password." in r.text
        assert 'value="editor"' in r.text and "wrong password!" not in r.text  # username kept, password not
        r = sign_in(client, "nobody", "whatever-password")
        assert r.status_code == 401 and "Wrong username or password." in r.text  # same words: no user probing
        assert sign_in(client, "", "").status_code == 400
        for _ in range(4):
            assert sign_in(client, "editor", "still wrong!!").status_code == 401
        r = sign_in(client, "editor", password_of("editor"))  # 5 failures: locked even with the right one
        assert r.status_code == 429 and "too many failed sign-ins" in r.text.lower()
        assert int(r.headers["retry-after"]) > 0
        assert sign_in(client, "viewer", password_of("viewer")).status_code == 303  # others are unaffected


def test_sign_in_form_needs_its_token_and_never_redirects_off_site(app, users) -> None:  # type: ignore[no-untyped-def]
    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.post("/admin/login", data={"username": "editor", "password": password_of("editor")})
        assert r.status_code == 403 and "sign-in form had expired" in r.text and 'value="editor"' in r.text
        for evil in ("//evil.example/x", "https://evil.example", "/admin\\@evil", "javascript:alert(1)"):
            client.cookies.clear()
            r = sign_in(client, "editor", password_of("editor"), evil)
            assert r.status_code == 303 and r.headers["location"] == "/admin", evil
        assert client.get("/admin/login?next=//evil.example", follow_redirects=False).headers["location"] == "/admin"


def test_missing_or_foreign_csrf_is_refused_and_the_form_is_kept(runtime: Runtime, as_role) -> None:  # type: ignore[no-untyped-def]
    client, csrf = as_role("editor")
    with runtime.read() as conn:
        entry_id = store.list_entries(conn, "doc")[0].id
    page = client.get(f"/admin/content/{entry_id}")
    fields = set_field(form_fields(page.text, "entry-form"), "/en/title", "Typed, not saved")
    no_token = [(k, v) for k, v in fields if k != "csrf_token"]
    r = client.post(f"/admin/content/{entry_id}", data=as_data(no_token))
    assert r.status_code == 403 and "security token was missing" in r.text and 'value="Typed, not saved"' in r.text
    r = client.post(f"/admin/content/{entry_id}", data=as_data(set_field(fields, "csrf_token", "forged")))
    assert r.status_code == 403
    r = client.post(f"/admin/content/{entry_id}", data=as_data(fields), headers={"Origin": "https://evil.example"})
    assert r.status_code == 403 and "another site" in r.text
    r = client.post(f"/admin/content/{entry_id}", data=as_data(fields), headers={"Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 403
    with runtime.read() as conn:
        assert store.get_entry(conn, entry_id).current_revision == 1  # nothing was saved
    # The header form of the token (htmx) is accepted too.
    r = client.post(
        f"/admin/content/{entry_id}",
        data=as_data(no_token),
        headers={"X-CSRF-Token": csrf, "Origin": str(client.base_url)},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert client.post("/admin/logout", data={}).status_code == 403  # even sign-out needs the token


@BOTH
def test_expired_session_keeps_the_form_through_sign_in(runtime: Runtime, as_role) -> None:  # type: ignore[no-untyped-def]
    client, _ = as_role("editor")
    with runtime.read() as conn:
        entry_id = store.list_entries(conn, "doc")[0].id
    page = client.get(f"/admin/content/{entry_id}")
    fields = set_field(form_fields(page.text, "entry-form"), "/en/title", "Written while the session ran out")
    _expire_all(runtime)  # the session idles past its limit
    r = client.get(f"/admin/content/{entry_id}", follow_redirects=False)
    assert r.status_code == 303 and "expired=1" in r.headers["location"]
    assert "Your session has expired" in client.get(r.headers["location"]).text
    r = client.post(f"/admin/content/{entry_id}", data=as_data(fields))
    assert r.status_code == 401 and "Your session has expired" in r.text and "has been kept" in r.text
    stash = html.unescape(re.search(r'name="stash" value="([^"]*)"', r.text).group(1))  # type: ignore[union-attr]
    assert "Written while the session ran out" in stash
    login_fields = dict(form_fields(r.text))
    login_fields.update(username="editor", password=password_of("editor"))
    r = client.post("/admin/login", data=login_fields)
    assert r.status_code == 200 and "Restore your changes" in r.text
    restore = form_fields(r.text)
    r = client.post(f"/admin/content/{entry_id}", data=as_data(restore))
    assert r.status_code == 200 and "Your unsaved changes are restored" in r.text
    assert 'value="Written while the session ran out"' in r.text
    with runtime.read() as conn:
        assert store.get_entry(conn, entry_id).current_revision == 1  # restored, not saved
    r = client.post(
        f"/admin/content/{entry_id}", data=as_data(form_fields(r.text, "entry-form")), follow_redirects=False
    )
    assert r.status_code == 303
    with runtime.read() as conn:
        assert store.get_revision(conn, entry_id, 2).data["en"]["title"] == "Written while the session ran out"


def _expire_all(runtime: Runtime) -> None:
    from datetime import timedelta

    from charter.events import utcnow

    with runtime.write() as (conn, _):
        conn.execute(sa.update(sessions).values(last_seen_at=utcnow() - timedelta(days=1)))


def test_htmx_request_with_an_expired_session_retargets_the_sign_in(runtime: Runtime, as_role) -> None:  # type: ignore[no-untyped-def]
    client, _ = as_role("editor")
    fields = form_fields(client.get("/admin/content/new?type=page").text, "entry-form")
    _expire_all(runtime)
    r = client.post(
        "/admin/content/new?type=page",
        data=as_data([*fields, ("_op", "add:/en/sections")]),
        headers={"HX-Request": "true"},
    )
    assert r.status_code == 401 and r.headers["hx-retarget"] == "#main" and 'name="stash"' in r.text


def test_password_change_ends_sessions(app, users) -> None:  # type: ignore[no-untyped-def]
    with TestClient(app, raise_server_exceptions=False) as a, TestClient(app, raise_server_exceptions=False) as b:
        csrf = login(a, "editor")
        login(b, "editor")
        bad = a.post(
            "/admin/account/password",
            data={"csrf_token": csrf, "current": "nope", "password": "x" * 12, "confirm": "x" * 12},
        )
        assert bad.status_code == 401 and "current password is not correct" in bad.text
        short = a.post(
            "/admin/account/password",
            data={"csrf_token": csrf, "current": password_of("editor"), "password": "short", "confirm": "short"},
        )
        assert short.status_code == 400 and "at least 10 characters" in short.text
        ok = a.post(
            "/admin/account/password",
            data={
                "csrf_token": csrf,
                "current": password_of("editor"),
                "password": "new-password-42",
                "confirm": "new-password-42",
            },
            follow_redirects=False,
        )
        assert ok.status_code == 303
        assert b.get("/admin", follow_redirects=False).status_code == 303  # the other session ended too
        assert sign_in(a, "editor", "new-password-42").status_code == 303
