"""The review workflow through the admin: submit, approve or reject with a comment, schedule,
preview as it will publish, publish, roll back (a release and one entry)."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from charter.content import store
from charter.runtime import Runtime
from tests.admin.htmlforms import as_data, form_fields, set_field


def _doc(runtime: Runtime) -> str:
    with runtime.read() as conn:
        return next(e.id for e in store.list_entries(conn, "doc") if e.slug == "sso")


def _edit_title(client: TestClient, entry_id: str, title: str) -> None:
    fields = set_field(form_fields(client.get(f"/admin/content/{entry_id}").text, "entry-form"), "/en/title", title)
    assert client.post(f"/admin/content/{entry_id}", data=as_data(fields), follow_redirects=False).status_code == 303


def _release_id(location: str) -> str:
    m = re.search(r"/admin/releases/([0-9a-f-]{36})", location)
    assert m, location
    return m.group(1)


def test_submit_review_schedule_preview_publish_and_roll_back(runtime: Runtime, as_role) -> None:  # type: ignore[no-untyped-def]
    editor, ecsrf = as_role("editor")
    publisher, pcsrf = as_role("publisher")
    entry_id = _doc(runtime)
    before = publisher.get("/v1/entries/doc/" + entry_id).json()["data"]["title"]
    _edit_title(editor, entry_id, "SSO <for> everyone")

    r = editor.post(f"/admin/content/{entry_id}/submit", data={"csrf_token": ecsrf}, follow_redirects=False)
    assert r.status_code == 303
    release_id = _release_id(r.headers["location"])
    page = editor.get(r.headers["location"]).text
    assert "Submitted for review." in page and "in review" in page and "SSO &lt;for&gt; everyone" in page
    assert "Approve" not in page  # an editor sees no review buttons...
    r = editor.post(f"/admin/releases/{release_id}/approve", data={"csrf_token": ecsrf})
    assert r.status_code == 403  # ...and may not approve by posting either

    r = publisher.post(f"/admin/releases/{release_id}/reject", data={"csrf_token": pcsrf, "comment": ""})
    assert 400 <= r.status_code < 500 and "comment" in r.text.lower()  # a rejection needs a reason
    r = publisher.post(
        f"/admin/releases/{release_id}/reject",
        data={"csrf_token": pcsrf, "comment": "Say SAML too"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = editor.get(f"/admin/releases/{release_id}").text
    assert "rejected" in page and "Say SAML too" in page
    assert editor.post(f"/admin/releases/{release_id}/submit", data={"csrf_token": ecsrf}).status_code in (200, 303)
    r = publisher.post(
        f"/admin/releases/{release_id}/approve", data={"csrf_token": pcsrf, "comment": "Good"}, follow_redirects=False
    )
    assert r.status_code == 303 and "approved" in publisher.get(r.headers["location"]).text

    past = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    r = publisher.post(
        f"/admin/releases/{release_id}/schedule", data={"csrf_token": pcsrf, "at": past, "timezone": "UTC"}
    )
    assert r.status_code == 422 and "in the past" in html.unescape(r.text)
    soon = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    r = publisher.post(
        f"/admin/releases/{release_id}/schedule",
        data={"csrf_token": pcsrf, "at": soon, "timezone": "Europe/Berlin"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = publisher.get(r.headers["location"]).text
    assert "Scheduled." in page and "Europe/Berlin" in page

    preview = publisher.get(f"/admin/releases/{release_id}/preview")
    assert preview.status_code == 200 and "as it will publish" in preview.text
    assert "SSO &lt;for&gt; everyone" in preview.text and "<for>" not in preview.text
    assert publisher.get("/v1/entries/doc/" + entry_id).json()["data"]["title"] == before  # still not live

    r = publisher.post(f"/admin/releases/{release_id}/publish", data={"csrf_token": pcsrf}, follow_redirects=False)
    assert r.status_code == 303
    assert publisher.get("/v1/entries/doc/" + entry_id).json()["data"]["title"] == "SSO <for> everyone"

    r = publisher.post(
        f"/admin/releases/{release_id}/rollback", data={"csrf_token": pcsrf, "comment": "wrong wording"},
        follow_redirects=False,
    )  # fmt: skip
    assert r.status_code == 303 and "Rolled back" in publisher.get(r.headers["location"]).text
    assert publisher.get("/v1/entries/doc/" + entry_id).json()["data"]["title"] == before


def test_entry_preview_and_rollback_from_history(runtime: Runtime, as_role) -> None:  # type: ignore[no-untyped-def]
    editor, _ = as_role("editor")
    publisher, pcsrf = as_role("publisher")
    entry_id = _doc(runtime)
    _edit_title(editor, entry_id, "Draft title")
    preview = editor.get(f"/admin/content/{entry_id}/preview?locale=de-DE")
    assert preview.status_code == 200 and "Draft title" in preview.text and "preview=" in preview.text
    history = publisher.get(f"/admin/content/{entry_id}/history").text
    assert "Roll back to 1" in history
    r = publisher.post(
        f"/admin/content/{entry_id}/rollback", data={"csrf_token": pcsrf, "revision": "1"}, follow_redirects=False
    )
    assert r.status_code == 303
    with runtime.read() as conn:
        entry = store.get_entry(conn, entry_id)
        assert entry.current_revision == 3
        assert store.get_revision(conn, entry_id, 3).data == store.get_revision(conn, entry_id, 1).data
    r = editor.post(f"/admin/content/{entry_id}/rollback", data={"csrf_token": "x", "revision": "1"})
    assert r.status_code == 403


def test_types_that_need_approvals_offer_no_direct_publish(runtime: Runtime, as_role) -> None:  # type: ignore[no-untyped-def]
    publisher, csrf = as_role("publisher")
    with runtime.read() as conn:
        plan = store.list_entries(conn, "pricing-plan")[0]
    page = publisher.get(f"/admin/content/{plan.id}").text
    assert "need 2 approvals from publishers" in page and "Unpublish</button>" not in page
    r = publisher.post(f"/admin/content/{plan.id}/unpublish", data={"csrf_token": csrf})
    assert r.status_code == 403 and "through a release" in r.text  # and the action refuses it anyway


def test_preview_links_are_listed_and_revocable(runtime: Runtime, as_role) -> None:  # type: ignore[no-untyped-def]
    editor, csrf = as_role("editor")
    viewer, vcsrf = as_role("viewer")
    entry_id = _doc(runtime)
    _edit_title(editor, entry_id, "Draft title")
    page = editor.get(f"/admin/content/{entry_id}/preview").text
    token = html.unescape(re.search(r"preview=(cpt1\.[^\"&]+)", page).group(1))  # type: ignore[union-attr]
    assert "Preview links (1 active)" in page
    # Showing the page again hands out the same link instead of filling the register.
    assert "Preview links (1 active)" in editor.get(f"/admin/content/{entry_id}/preview").text
    link_id = re.search(r"/admin/previews/([0-9a-f]{16})/revoke", page).group(1)  # type: ignore[union-attr]
    assert editor.get("/v1/entries/doc/" + entry_id, headers={"Charter-Preview": token}).status_code == 200

    # A viewer sees the rendering, but gets no link to pass on and no revoke button, and may not revoke.
    seen = viewer.get(f"/admin/content/{entry_id}/preview").text
    assert "Draft title" in seen and "preview=" not in seen and "/revoke" not in seen
    assert viewer.post(f"/admin/previews/{link_id}/revoke", data={"csrf_token": vcsrf}).status_code == 403
    assert editor.post(f"/admin/previews/{link_id}/revoke", data={"csrf_token": "forged"}).status_code == 403
    assert editor.post("/admin/previews/0123456789abcdef/revoke", data={"csrf_token": csrf}).status_code == 404

    r = editor.post(f"/admin/previews/{link_id}/revoke", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/admin/content/{entry_id}/preview?done=revoked"
    after = editor.get(r.headers["location"]).text
    assert "Preview link revoked" in after and link_id not in after  # a new link replaced it
    assert editor.get("/v1/entries/doc/" + entry_id, headers={"Charter-Preview": token}).status_code == 401
