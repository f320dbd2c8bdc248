"""Preview tokens one by one: each is recorded when issued, listed, and revocable; a revoked token
is refused at once on every app instance. Through the real app, the CLI and the library, on
SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from charter.app import create_app
from charter.audit import list_audit
from charter.auth import preview
from charter.auth.preview_register import list_records
from charter.auth.roles import Actor, Role
from charter.cli.errors import run_cli
from charter.cli.main import _build
from charter.content.actions.preview import issue_preview, revoke_preview
from charter.exceptions import Conflict, Forbidden, NotFound
from charter.runtime import Runtime
from tests.conftest import auth
from tests.content.releasing import CAREERS_PAGE, STARTER, new_release, plan, post

H = preview.HEADER


def mint(client: TestClient, token: str, **body: object) -> dict[str, Any]:
    r = post(client, "/v1/manage/previews", token, body)
    assert r.status_code == 201, r.text
    minted: dict[str, Any] = r.json()
    return minted


def revoke(client: TestClient, token: str, token_id: str) -> Any:
    return client.delete(f"/v1/manage/previews/{token_id}", headers=auth(token))


def refused(r: Any, words: str) -> None:
    assert r.status_code == 401, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert words in r.json()["detail"], r.json()


def test_issue_use_list_revoke_then_refused(client: TestClient, tokens: dict[str, str], runtime: Runtime) -> None:
    minted = mint(client, tokens["editor"], entry_id=CAREERS_PAGE, ttl=600)
    token, token_id = minted["token"], minted["token_id"]
    assert len(token_id) == 16 and client.get("/v1/pages/careers", headers={H: token}).status_code == 200

    listed = client.get("/v1/manage/previews", headers=auth(tokens["viewer"]))
    assert listed.status_code == 200, listed.text
    (row,) = [t for t in listed.json() if t["id"] == token_id]
    assert row["scope"] == "entry" and row["target_id"] == CAREERS_PAGE and row["status"] == "active"
    assert row["issued_by"] == "token:test-editor" and row["expires_at"] == minted["expires_at"]
    assert row["revoked_at"] is None and "token" not in row  # the register never shows the secret
    one = client.get(f"/v1/manage/previews/{token_id}", headers=auth(tokens["viewer"]))
    assert one.status_code == 200 and one.json() == row

    r = revoke(client, tokens["editor"], token_id)
    assert r.status_code == 204, r.text
    # Refused at once, in the header and in the query parameter, as problem+json like an expired token.
    refused(client.get("/v1/pages/careers", headers={H: token}), f"preview token {token_id} was revoked at")
    refused(client.get(f"/v1/pages/careers?preview={token}"), "revoked")
    refused(client.get(f"/v1/entries/page/{CAREERS_PAGE}", headers={H: token}), "revoked")
    refused(client.get("/v1/entries/page", headers={H: token}), "revoked")
    # ...and the public page is still not shown in its place.
    assert client.get("/v1/pages/careers").status_code == 404

    row = client.get(f"/v1/manage/previews/{token_id}", headers=auth(tokens["viewer"])).json()
    assert row["status"] == "revoked" and row["revoked_by"] == "token:test-editor" and row["revoked_at"]
    again = revoke(client, tokens["editor"], token_id)
    assert again.status_code == 409 and "already revoked" in again.json()["detail"]
    with runtime.read() as conn:
        audit = list_audit(conn, "preview", token_id)
    assert [a["action"] for a in audit] == ["preview.revoke", "preview.issue"]
    assert audit[1]["detail"]["id"] == CAREERS_PAGE


def test_revoking_one_token_leaves_the_others(client: TestClient, tokens: dict[str, str]) -> None:
    rel = new_release(client, tokens["editor"], [{"action": "update", "entry_id": STARTER, "data": plan("starter", 5)}])
    first = mint(client, tokens["editor"], release_id=rel["id"])
    second = mint(client, tokens["publisher"], release_id=rel["id"])
    other = mint(client, tokens["editor"], entry_id=CAREERS_PAGE)
    # An editor may revoke a token a publisher shared: whoever may issue may revoke.
    assert revoke(client, tokens["editor"], second["token_id"]).status_code == 204
    path = f"/v1/entries/pricing-plan/{STARTER}"
    assert client.get(path, headers={H: first["token"]}).json()["data"]["price"] == 5
    refused(client.get(path, headers={H: second["token"]}), "revoked")
    assert client.get("/v1/pages/careers", headers={H: other["token"]}).status_code == 200

    viewer = auth(tokens["viewer"])
    by_release = client.get(f"/v1/manage/previews?release_id={rel['id']}", headers=viewer).json()
    assert {t["id"] for t in by_release} == {second["token_id"], first["token_id"]}
    active = client.get(f"/v1/manage/previews?release_id={rel['id']}&status=active", headers=viewer).json()
    assert [t["id"] for t in active] == [first["token_id"]]
    revoked = client.get("/v1/manage/previews?status=revoked", headers=viewer).json()
    assert [t["id"] for t in revoked] == [second["token_id"]]
    by_entry = client.get(f"/v1/manage/previews?entry_id={CAREERS_PAGE}", headers=viewer).json()
    assert [t["id"] for t in by_entry] == [other["token_id"]]
    assert len(client.get("/v1/manage/previews?limit=1", headers=viewer).json()) == 1


def test_revocation_holds_on_every_app_instance(client: TestClient, tokens: dict[str, str], runtime: Runtime) -> None:
    """Two app instances on one database (each its own runtime, engine and cache): a token minted
    on one works on the other, and a revocation on one is refused by the other on the next request."""
    other_rt = Runtime.open(runtime.settings)
    try:
        with TestClient(create_app(other_rt.settings, runtime=other_rt), raise_server_exceptions=False) as other:
            token = mint(client, tokens["editor"], entry_id=CAREERS_PAGE)
            assert other.get("/v1/pages/careers", headers={H: token["token"]}).status_code == 200
            assert revoke(client, tokens["editor"], token["token_id"]).status_code == 204
            refused(other.get("/v1/pages/careers", headers={H: token["token"]}), "revoked")
            # And the other way round.
            token = mint(other, tokens["editor"], entry_id=CAREERS_PAGE)
            assert client.get("/v1/pages/careers", headers={H: token["token"]}).status_code == 200
            assert revoke(other, tokens["editor"], token["token_id"]).status_code == 204
            refused(client.get("/v1/pages/careers", headers={H: token["token"]}), "revoked")
    finally:
        other_rt.close()


def _payload(token: str) -> dict[str, Any]:
    part = token.split(".")[1]
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return claims


def test_tokens_not_matching_the_register_are_refused(
    client: TestClient, tokens: dict[str, str], runtime: Runtime
) -> None:
    """The signature is not enough (the development key is public): a token is honoured only as the
    register recorded it. Issue 13: an expired token re-signed with a later expiry and another
    draft's id was accepted. A token without the ``v`` claim (from before the register) has no
    record and is refused; a recorded-format token never issued here is refused."""
    editor = Actor("ed", Role.EDITOR)
    issued = mint(client, tokens["editor"], entry_id=CAREERS_PAGE, ttl=60)
    claims = preview.verify(runtime.settings, issued["token"])
    assert client.get("/v1/pages/careers", headers={H: issued["token"]}).status_code == 200
    forged = {
        "later expiry": replace(claims, expires_at=claims.expires_at + 86400),
        "another target": replace(claims, id="00000000-0000-4000-8000-000000000000"),
        "another scope": replace(claims, scope="release"),
        "earlier expiry": replace(claims, expires_at=claims.expires_at - 1),
    }
    for case, forged_claims in forged.items():
        r = client.get("/v1/pages/careers", headers={H: preview.sign(runtime.settings, forged_claims)})
        assert r.status_code == 401, case
        assert "does not match its record" in r.json()["detail"], (case, r.json())
    expired = replace(claims, expires_at=claims.issued_at - 10)
    refused(client.get("/v1/pages/careers", headers={H: preview.sign(runtime.settings, expired)}), "expired")
    old_claims = preview.PreviewToken("entry", CAREERS_PAGE, 0, 2**31, "token:ed", "a" * 16, version=1)
    legacy = preview.sign(runtime.settings, old_claims)
    assert "v" not in _payload(legacy)
    refused(client.get("/v1/pages/careers", headers={H: legacy}), "no longer honoured")
    unrecorded, unrecorded_claims = preview.issue(runtime.settings, editor, "entry", CAREERS_PAGE)
    assert _payload(unrecorded)["v"] == 2
    refused(
        client.get("/v1/pages/careers", headers={H: unrecorded}),
        f"preview token {unrecorded_claims.jti} is not on record",
    )
    with pytest.raises(NotFound):
        revoke_preview(runtime, editor, "a" * 16)  # a legacy token has no record
    version_3 = preview.sign(runtime.settings, preview.PreviewToken("entry", CAREERS_PAGE, 0, 2**31, "x", "b" * 16, 3))
    refused(client.get("/v1/pages/careers", headers={H: version_3}), "unknown preview token version 3")


@pytest.mark.parametrize(
    ("method", "path", "role", "status", "words"),
    [
        ("DELETE", "/v1/manage/previews/0123456789abcdef", "editor", 404, "no preview token '0123456789abcdef'"),
        ("GET", "/v1/manage/previews/0123456789abcdef", "viewer", 404, "no preview token"),
        ("DELETE", "/v1/manage/previews/%E2%9C%93%20x", "editor", 404, "no preview token"),
        ("DELETE", "/v1/manage/previews/" + "f" * 65, "editor", 422, "invalid"),
        ("DELETE", "/v1/manage/previews/%00", "editor", 400, "NUL"),
        ("GET", "/v1/manage/previews?status=gone", "viewer", 422, "invalid"),
        ("GET", "/v1/manage/previews?limit=0", "viewer", 422, "invalid"),
        ("GET", "/v1/manage/previews?entry_id=" + "e" * 37, "viewer", 422, "invalid"),
        ("GET", f"/v1/manage/previews?entry_id={CAREERS_PAGE}&release_id=x", "viewer", 400, "not both"),
        ("DELETE", "/v1/manage/previews/0123456789abcdef", "viewer", 403, "may not write"),
        ("GET", "/v1/manage/previews", None, 401, "API token"),
        ("DELETE", "/v1/manage/previews/0123456789abcdef", None, 401, "API token"),
    ],
)
def test_bad_requests_are_clear_problems(
    client: TestClient, tokens: dict[str, str], method: str, path: str, role: str | None, status: int, words: str
) -> None:
    r = client.request(method, path, headers=auth(tokens[role]) if role else {})
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json" and words in r.json()["detail"], r.json()


def test_roles_issue_and_revoke_alike(client: TestClient, tokens: dict[str, str], runtime: Runtime) -> None:
    """The action checks the role itself, so the admin and the CLI doors cannot skip it."""
    viewer = Actor("vi", Role.VIEWER)
    with pytest.raises(Forbidden):
        issue_preview(runtime, viewer, "entry", CAREERS_PAGE)
    token_id = mint(client, tokens["admin"], entry_id=CAREERS_PAGE)["token_id"]
    with pytest.raises(Forbidden):
        revoke_preview(runtime, viewer, token_id)
    assert revoke(client, tokens["viewer"], token_id).status_code == 403
    assert revoke(client, tokens["publisher"], token_id).status_code == 204
    with pytest.raises(Conflict):
        revoke_preview(runtime, Actor("ed", Role.EDITOR), token_id)


def test_reuse_hands_out_the_same_live_token(runtime: Runtime) -> None:
    editor = Actor("ed", Role.EDITOR)
    first = issue_preview(runtime, editor, "entry", CAREERS_PAGE, 3600, reuse=True)
    again = issue_preview(runtime, editor, "entry", CAREERS_PAGE, 3600, reuse=True)
    assert again.token == first.token  # re-signed from the record: the same string
    other = issue_preview(runtime, Actor("pat", Role.PUBLISHER), "entry", CAREERS_PAGE, 3600, reuse=True)
    assert other.jti != first.jti  # never another person's token
    revoke_preview(runtime, editor, first.jti)
    assert issue_preview(runtime, editor, "entry", CAREERS_PAGE, 3600, reuse=True).jti != first.jti
    with runtime.read() as conn:
        assert len(list_records(conn, target_id=CAREERS_PAGE)) == 3


APP = _build()


def charter(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = 0
    try:
        run_cli(APP, list(args))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_create_list_revoke(
    client: TestClient,
    tokens: dict[str, str],
    runtime: Runtime,
    project_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CHARTER_DATABASE_URL", runtime.settings.resolved_database_url())
    p = ("--project", str(project_dir))
    code, token, err = charter(monkeypatch, capsys, "previews", "create", "--entry", CAREERS_PAGE, "--as", "ops", *p)
    assert code == 0, err
    token = token.strip()
    token_id = _payload(token)["jti"]
    assert f"preview token {token_id} for entry {CAREERS_PAGE}" in err and "charter previews revoke" in err
    assert client.get("/v1/pages/careers", headers={H: token}).status_code == 200

    rel = new_release(client, tokens["editor"], [])
    code, release_token, err = charter(monkeypatch, capsys, "releases", "preview", rel["id"], "--ttl", "60", *p)
    assert code == 0 and _payload(release_token.strip())["scope"] == "release", err

    code, out, _ = charter(monkeypatch, capsys, "previews", "list", "--entry", CAREERS_PAGE, *p)
    assert code == 0 and token_id in out and "active" in out  # the table (its id column never wraps)
    code, out, _ = charter(monkeypatch, capsys, "previews", "list", "--entry", CAREERS_PAGE, "--json", *p)
    (row,) = json.loads(out)
    assert row["id"] == token_id and row["issued_by"] == "cli:ops" and row["status"] == "active"
    code, out, _ = charter(monkeypatch, capsys, "previews", "list", "--release", rel["id"], "--json", *p)
    assert code == 0 and [r["target_id"] for r in json.loads(out)] == [rel["id"]]

    code, _, err = charter(monkeypatch, capsys, "previews", "revoke", token_id, "--as", "ops", *p)
    assert code == 0 and f"revoked preview token {token_id}" in err
    refused(client.get("/v1/pages/careers", headers={H: token}), "revoked")
    code, out, _ = charter(monkeypatch, capsys, "previews", "list", "--status", "revoked", "--json", *p)
    assert code == 0 and [(r["id"], r["revoked_by"]) for r in json.loads(out)] == [(token_id, "cli:ops")]

    for args, exit_code, words in [
        (("previews", "revoke", "0123456789abcdef"), 1, "no preview token '0123456789abcdef'"),
        (("previews", "revoke", token_id), 1, "already revoked"),
        (("previews", "create", "--entry", "00000000-0000-0000-0000-000000000000"), 1, "not found"),
        (("previews", "create", "--entry", CAREERS_PAGE, "--ttl", "999999999"), 1, "7 days"),
        (("previews", "create"), 2, "exactly one of --entry"),
        (("previews", "create", "--entry", CAREERS_PAGE, "--release", rel["id"]), 2, "exactly one"),
        (("previews", "list", "--status", "gone"), 2, "unknown status"),
        (("releases", "preview", "no-such-release"), 1, "no-such-release"),
    ]:
        code, _, err = charter(monkeypatch, capsys, *args, *p)
        assert code == exit_code and words in err, (args, code, err)
