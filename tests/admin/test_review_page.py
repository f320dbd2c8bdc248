"""The admin's review queue: the backlog with ages, one item with its audit record, the claim and
label forms, and the same refusals as the API (held by another reviewer, already labelled)."""

from __future__ import annotations

import html
import re

from fastapi.testclient import TestClient

from tests.admin.conftest import BOTH


def _item_id(page: str) -> str:
    m = re.search(r'href="/admin/review/([0-9a-f-]{36})"', page)
    assert m, page
    return m.group(1)


@BOTH
def test_review_in_the_admin(client: TestClient, as_role) -> None:  # type: ignore[no-untyped-def]
    r = client.post("/v1/ask", json={"question": "Can I get a refund on an annual plan?"})
    assert r.status_code == 200, r.text
    viewer, _ = as_role("viewer")
    editor, editor_csrf = as_role("editor")
    publisher, publisher_csrf = as_role("publisher")

    page = viewer.get("/admin/review")
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert "Can I get a refund on an annual plan?" in text and "regulated index" in text
    assert 'id="review-backlog">1 pending' in page.text and 'href="/admin/review"' in page.text
    item_id = _item_id(page.text)
    shown = viewer.get(f"/admin/review/{item_id}").text
    assert "retrieval.answer@builtin-" in shown and "Retrieved sources" in shown
    assert "can read the queue but not label it" in shown and 'id="label-form"' not in shown

    r = editor.post(f"/admin/review/{item_id}/claim", data={"csrf_token": editor_csrf}, follow_redirects=False)
    assert r.status_code == 303
    mine = editor.get(r.headers["location"]).text
    assert "This item is yours for the lease" in mine and 'id="label-form"' in mine

    held = publisher.get(f"/admin/review/{item_id}").text
    assert "user:editor is reviewing this item" in held and 'id="label-form"' not in held
    r = publisher.post(f"/admin/review/{item_id}/label", data={"csrf_token": publisher_csrf, "label": "unsafe"})
    assert r.status_code == 409 and "being reviewed by user:editor" in html.unescape(r.text)

    r = editor.post(f"/admin/review/{item_id}/label", data={"csrf_token": editor_csrf, "label": ""})
    assert r.status_code == 400 and "Choose a verdict" in r.text  # nothing chosen: the form says so
    form = {"csrf_token": editor_csrf, "label": "correct", "comment": "Fine.", "facts": "30 days\n\nrefund\n"}
    r = editor.post(f"/admin/review/{item_id}/label", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text
    done = html.unescape(editor.get(r.headers["location"]).text)
    assert "Labelled: the label is final" in done and "Correct" in done and "by user:editor: Fine." in done

    r = publisher.post(f"/admin/review/{item_id}/label", data={"csrf_token": publisher_csrf, "label": "unsafe"})
    assert r.status_code == 409 and "already labelled" in r.text
    r = editor.post(f"/admin/review/{item_id}/claim", data={"csrf_token": "forged"})
    assert r.status_code == 403
    assert viewer.get("/admin/review/00000000-0000-0000-0000-000000000000").status_code == 404
    listing = viewer.get("/admin/review?status=reviewed").text
    assert "Correct" in listing and "100 % of all queued" in listing
