"""The admin goes through the AI-draft risk rule (charter.content.ai_risk) like the API and CLI."""

from __future__ import annotations

from fastapi.testclient import TestClient

from charter.content import store
from charter.runtime import Runtime
from tests.admin.conftest import login
from tests.admin.htmlforms import as_data, form_fields, set_field


def test_the_admin_records_and_gates_a_generated_draft(runtime: Runtime, app, users) -> None:  # type: ignore[no-untyped-def]
    """Saving a generated draft records it (its run's risk, or the saved text's if higher); the
    publish button then refuses it like the API does."""
    with TestClient(app, raise_server_exceptions=False) as editor, TestClient(app) as publisher:
        login(editor, users["editor"])
        page = editor.get("/admin/content/new?type=marketing-claim").text
        fields = form_fields(page, "entry-form")
        brief = {
            "slug": "fastest-reports",
            "claim": "The fastest reports",
            "evidence": "A study",
            "approved_by": "a@b.c",
        }
        for key, value in brief.items():
            fields = set_field(fields, f"_ai:claim-draft:{key}", value)
        fields = set_field(fields, "_ai_prompt", "claim-draft")
        r = editor.post("/admin/content/new/generate?type=marketing-claim", data=as_data(fields))
        assert r.status_code == 200, r.text
        saved = dict(form_fields(r.text, "entry-form"))
        assert saved["_ai_call"]
        r = editor.post(
            "/admin/content/new?type=marketing-claim",
            data=as_data(form_fields(r.text, "entry-form")),
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text
        with runtime.read() as conn:
            entry = next(e for e in store.list_entries(conn, "marketing-claim") if e.slug == "fastest-reports")

        csrf = login(publisher, users["publisher"])
        r = publisher.post(f"/admin/content/{entry.id}/publish", data={"csrf_token": csrf})
        assert r.status_code == 403 and "AI draft" in r.text
        with runtime.read() as conn:
            assert store.get_entry(conn, entry.id).published_revision is None

        # A forged or stale run id is refused with the form kept, nothing saved.
        fields = set_field(
            form_fields(editor.get("/admin/content/new?type=marketing-claim").text, "entry-form"), "_ai_call", "nope"
        )
        fields = set_field(fields, "/en/slug", "forged")
        r = editor.post("/admin/content/new?type=marketing-claim", data=as_data(fields))
        assert r.status_code == 400 and "no AI draft run" in r.text
