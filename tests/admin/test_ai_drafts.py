"""AI drafts in the editor: "Generate draft" runs the claim-draft prompt on the demo's offline
``local`` provider, fills the form with the validated output and its risk level, and saves
nothing; failures (bad variables, output failing the schema, provider down, a role that may not
write) are shown on the page with the form kept."""

from __future__ import annotations

import html
from pathlib import Path

import pytest
import yaml

from charter.content import store
from charter.runtime import Runtime
from tests.admin.htmlforms import all_ids, as_data, form_fields, set_field
from tests.services import free_port

NEW = "/admin/content/new?type=marketing-claim"
GENERATE = "/admin/content/new/generate?type=marketing-claim"
BRIEF = {
    "slug": "faster-reports",
    "claim": "Lumen builds reports <script>alert(1)</script> faster than spreadsheets",
    "evidence": "Internal benchmark, 2026",
    "approved_by": "ana@example.com",
}


def _claims(runtime: Runtime) -> int:
    with runtime.read() as conn:
        return len(store.list_entries(conn, "marketing-claim"))


def _fields(page: str, **variables: str) -> list[tuple[str, str]]:
    fields = form_fields(page, "entry-form")
    for key, value in variables.items():
        fields = set_field(fields, f"_ai:claim-draft:{key}", value)
    return set_field(fields, "_ai_prompt", "claim-draft")


def test_generate_fills_the_form_with_risk_and_saves_nothing(runtime: Runtime, as_role) -> None:  # type: ignore[no-untyped-def]
    editor, _ = as_role("editor")
    before = _claims(runtime)
    page = editor.get(NEW).text
    assert "Generate a draft with AI" in page and "Prompt claim-draft" in page
    assert "version 1.0.0 (not released yet)" in page  # no production label yet: the latest version
    assert 'href="/admin/prompts/claim-draft"' in page

    r = editor.post(GENERATE, data=as_data(_fields(page, **BRIEF)))
    assert r.status_code == 200, r.text
    filled = dict(form_fields(r.text, "entry-form"))
    assert filled["/en/slug"] == "faster-reports"
    assert filled["/en/claim"] == BRIEF["claim"]  # what was typed, as text...
    assert "<script>alert(1)</script>" not in r.text  # ...never as markup
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text
    assert filled["/en/approvedBy"] == "ana@example.com"
    text = html.unescape(r.text)
    assert "Draft generated" in text and "high risk" in text and "matched: claims, comparative" in text
    assert 'role="status" id="ai-result"' in r.text  # announced to screen readers
    assert filled["_message"] == "AI draft from prompt claim-draft@1.0.0 (risk: high: claims, comparative)"
    assert filled["_ai:claim-draft:claim"] == BRIEF["claim"]  # the brief stays for another try
    assert _claims(runtime) == before  # nothing saved yet

    # The editor saves the form: that is the first revision, with the note naming the prompt.
    r = editor.post(NEW, data=as_data(form_fields(r.text, "entry-form")), follow_redirects=False)
    assert r.status_code == 303, r.text
    with runtime.read() as conn:
        entry = next(e for e in store.list_entries(conn, "marketing-claim") if e.slug == "faster-reports")
        revision = store.get_revision(conn, entry.id, 1)
    assert revision.data["en"]["claim"] == BRIEF["claim"] and entry.published_revision is None
    assert revision.message and "claim-draft@1.0.0" in revision.message


def test_generate_on_an_existing_entry_keeps_its_other_values(runtime: Runtime, as_role) -> None:  # type: ignore[no-untyped-def]
    editor, _ = as_role("editor")
    with runtime.read() as conn:
        entry = store.list_entries(conn, "marketing-claim")[0]
    page = editor.get(f"/admin/content/{entry.id}").text
    fields = set_field(_fields(page, **{**BRIEF, "slug": entry.slug or "x"}), "/en/source", "https://example.com/b")
    r = editor.post(f"/admin/content/{entry.id}/generate", data=as_data(fields))
    assert r.status_code == 200, r.text
    filled = dict(form_fields(r.text, "entry-form"))
    assert filled["/en/claim"] == BRIEF["claim"] and filled["/en/source"] == "https://example.com/b"
    assert filled["_etag"] == entry.etag  # still based on the revision the editor opened
    saved = as_data(form_fields(r.text, "entry-form"))
    r = editor.post(f"/admin/content/{entry.id}", data=saved, follow_redirects=False)
    assert r.status_code == 303, r.text


@pytest.mark.parametrize(
    ("variables", "status", "expect", "field_error"),
    [
        ({**BRIEF, "approved_by": "not-an-email"}, 422, "does not validate against marketing-claim.v1", None),
        ({**BRIEF, "slug": "Bad Slug", "claim": ""}, 422, "Variables do not match", "ai-claim-draft-claim-error"),
    ],
    ids=["output-fails-the-schema", "bad-variables"],
)
def test_generation_errors_are_shown_and_the_form_is_kept(  # type: ignore[no-untyped-def]
    runtime: Runtime, as_role, variables: dict[str, str], status: int, expect: str, field_error: str | None
) -> None:
    editor, _ = as_role("editor")
    page = editor.get(NEW).text
    fields = set_field(_fields(page, **variables), "/en/evidence", "typed by hand")
    r = editor.post(GENERATE, data=as_data(fields))
    assert r.status_code == status, r.text
    text = html.unescape(r.text)
    assert "The draft could not be generated" in text and expect in text
    assert 'role="alert" id="ai-error"' in r.text
    assert dict(form_fields(r.text, "entry-form"))["/en/evidence"] == "typed by hand"
    if field_error:
        assert field_error in all_ids(r.text) and "This is required." in text
        assert "does not match" in text  # the slug's pattern, at its field
    else:
        assert "/approvedBy" in text  # the output's error, with its pointer


@pytest.fixture
def provider_down(project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The drafts route goes to an OpenAI-compatible upstream that refuses connections."""
    monkeypatch.setenv("CHARTER_TEST_UPSTREAM_KEY", "sk-test")
    path = project_dir / "configs" / "model.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["defaults"] = {"timeout": 2, "connect_timeout": 1, "retry": {"attempts": 1, "backoff_base": 0.01}}
    doc["providers"]["down"] = {
        "kind": "openai",
        "base_url": f"http://127.0.0.1:{free_port()}/v1",
        "api_key_env": "CHARTER_TEST_UPSTREAM_KEY",
    }
    doc["models"]["down-model"] = {"provider": "down", "model": "gpt-x"}
    doc["routes"]["drafts"] = {"policy": "fallback", "targets": ["down-model"]}
    path.write_text(yaml.safe_dump(doc))


def test_provider_down_is_reported_and_the_form_kept(provider_down: None, runtime: Runtime, as_role) -> None:  # type: ignore[no-untyped-def]
    editor, _ = as_role("editor")
    page = editor.get(NEW).text
    fields = set_field(_fields(page, **BRIEF), "/en/claim", "my own words")
    r = editor.post(GENERATE, data=as_data(fields))
    assert r.status_code == 502, r.text
    assert "The draft could not be generated" in r.text and "failed" in r.text
    assert dict(form_fields(r.text, "entry-form"))["/en/claim"] == "my own words"


def test_roles_and_csrf(runtime: Runtime, as_role) -> None:  # type: ignore[no-untyped-def]
    editor, _ = as_role("editor")
    viewer, _ = as_role("viewer")
    with runtime.read() as conn:
        entry = store.list_entries(conn, "marketing-claim")[0]
    assert "Generate a draft with AI" not in viewer.get(f"/admin/content/{entry.id}").text
    page = editor.get(f"/admin/content/{entry.id}").text
    fields = _fields(page, **BRIEF)
    r = viewer.post(f"/admin/content/{entry.id}/generate", data=as_data(set_field(fields, "csrf_token", "")))
    assert r.status_code == 403  # no token of its own: refused before anything runs
    viewer_page = viewer.get(f"/admin/content/{entry.id}").text
    viewer_csrf = dict(form_fields(viewer_page, "entry-form"))["csrf_token"]
    r = viewer.post(f"/admin/content/{entry.id}/generate", data=as_data(set_field(fields, "csrf_token", viewer_csrf)))
    assert r.status_code == 403 and "Role &#39;viewer&#39; may not write entries" in r.text
    assert "Generate a draft with AI" not in r.text
    r = editor.post(f"/admin/content/{entry.id}/generate", data=as_data(set_field(fields, "_ai_prompt", "nope")))
    assert r.status_code == 404 and "nope" in r.text
    assert dict(form_fields(r.text, "entry-form"))["/en/slug"] == entry.slug


def test_a_type_without_prompts_shows_no_panel(as_role) -> None:  # type: ignore[no-untyped-def]
    editor, _ = as_role("editor")
    assert "Generate a draft with AI" not in editor.get("/admin/content/new?type=doc").text


def test_a_production_label_is_the_default_choice(runtime: Runtime, as_role) -> None:  # type: ignore[no-untyped-def]
    from charter.auth.roles import SYSTEM
    from charter.gateway.prompts import catalog

    report = {
        "format": "charter.eval-report/1",
        "subject": {"prompt": "claim-draft", "prompt_version": "1.0.0"},
        "summary": {"factuality": 0.95, "critical_regressions": 0},
    }
    catalog.promote_prompt(runtime, SYSTEM, "claim-draft", "1.0.0", "production", reason="ok", report=report)
    editor, _ = as_role("editor")
    page = editor.get(NEW).text
    assert '<option value="label:production" selected>production (version 1.0.0)</option>' in page
    assert '<option value="version:1.0.0">version 1.0.0 (released)</option>' in page
    r = editor.post(GENERATE, data=as_data(_fields(page, **BRIEF)))
    assert r.status_code == 200 and "claim-draft version 1.0.0 filled the en fields" in r.text
    assert dict(form_fields(r.text, "entry-form"))["_ai:claim-draft:_version"] == "label:production"
