"""Content pages through the real app: list and filters, the generated form round trip, validation
errors at the field, conflicts, escaping, forbidden actions, publish, history and diff."""

from __future__ import annotations

import html
import re
from typing import Any

from fastapi.testclient import TestClient

from charter.auth.roles import SYSTEM
from charter.content import actions, store
from charter.runtime import Runtime
from tests.admin.conftest import BOTH
from tests.admin.htmlforms import all_ids, as_data, form_fields, set_field


def current_data(runtime: Runtime, entry_id: str) -> tuple[int, dict[str, Any]]:
    with runtime.read() as conn:
        entry = store.get_entry(conn, entry_id, include_deleted=True)
        return entry.current_revision, store.get_revision(conn, entry_id, entry.current_revision).data


def entry_ids(runtime: Runtime, type_name: str | None = None) -> list[str]:
    with runtime.read() as conn:
        return [e.id for e in store.list_entries(conn, type_name)]


@BOTH
def test_every_demo_entry_survives_a_round_trip_through_its_form(runtime: Runtime, as_role) -> None:  # type: ignore[no-untyped-def]
    client, _ = as_role("editor")
    for entry_id in entry_ids(runtime):
        before_rev, before = current_data(runtime, entry_id)
        page = client.get(f"/admin/content/{entry_id}")
        assert page.status_code == 200
        ids = all_ids(page.text)
        assert len(ids) == len(set(ids)), f"duplicate ids on {entry_id}"
        r = client.post(
            f"/admin/content/{entry_id}", data=as_data(form_fields(page.text, "entry-form")), follow_redirects=False
        )
        assert r.status_code == 303, re.findall(r'<li><a href="#[^"]*">[^<]*</a></li>', r.text)
        after_rev, after = current_data(runtime, entry_id)
        assert after_rev == before_rev + 1
        assert after == before, entry_id


@BOTH
def test_list_filters_and_search(runtime: Runtime, as_role) -> None:  # type: ignore[no-untyped-def]
    client, _ = as_role("viewer")
    page = client.get("/admin/content")
    assert page.status_code == 200 and "18 entries" in page.text
    assert "3 entries" in client.get("/admin/content?type=pricing-plan").text
    assert "1 entry" in client.get("/admin/content?status=draft").text  # the demo's unpublished careers page
    de = client.get("/admin/content?locale=de-AT").text
    assert "Lumen — analytics" in de and "Pricing</a>" not in de  # only the home page has de-AT values
    assert "2 entries" in client.get("/admin/content?q=SPREADSHEETS").text  # case-insensitive, in content
    assert "matching" in client.get("/admin/content?q=Datenaufbewahrung").text
    assert "1 entr" in client.get("/admin/content?q=Unbegrenzte").text  # non-ASCII-free German text
    found = client.get("/admin/content?q=Verfügbarkeits").text  # a non-ASCII search term
    assert "1 entry" in found and "Enterprise</a>" in found
    bad = client.get("/admin/content?type=nope&status=gone")
    assert bad.status_code == 400 and "There is no content type" in bad.text and "18 entries" in bad.text
    assert client.get("/admin/content?page=0").status_code == 400


def test_create_shows_errors_at_fields_keeps_input_then_succeeds(runtime: Runtime, as_role) -> None:  # type: ignore[no-untyped-def]
    client, _csrf = as_role("editor")
    form = client.get("/admin/content/new?type=marketing-claim")
    assert form.status_code == 200
    fields = form_fields(form.text, "entry-form")
    fields = set_field(fields, "/en/slug", "Bad Slug")
    fields = set_field(fields, "/en/claim", "Our <b>fastest</b> release")
    fields = set_field(fields, "/en/approvedBy", "not-an-email")
    r = client.post("/admin/content/new?type=marketing-claim", data=as_data(fields))
    assert r.status_code == 422
    body = r.text
    assert "problems to fix before this can be saved" in body
    assert (
        re.search(r'id="f-en-slug"[^>]*aria-invalid="true"', body.replace("\n", " ")) or 'aria-invalid="true"' in body
    )
    assert "Use only lowercase letters, digits and hyphens" in body
    assert "Enter an e-mail address" in body
    assert "Enter a value." in body  # evidence was left empty
    assert 'value="Bad Slug"' in body and "Our &lt;b&gt;fastest&lt;/b&gt; release" in body  # kept and escaped
    assert "<b>fastest</b>" not in body
    fixed = form_fields(body, "entry-form")
    fixed = set_field(fixed, "/en/slug", "fastest-release")
    fixed = set_field(fixed, "/en/approvedBy", "legal@lumen.example")
    fixed = set_field(fixed, "/en/evidence", "Benchmarks <script>alert(1)</script>")
    r = client.post("/admin/content/new?type=marketing-claim", data=as_data(fixed), follow_redirects=False)
    assert r.status_code == 303
    entry_id = r.headers["location"].split("/")[-1].split("?")[0]
    _, data = current_data(runtime, entry_id)
    assert data == {
        "en": {
            "slug": "fastest-release",
            "claim": "Our <b>fastest</b> release",
            "evidence": "Benchmarks <script>alert(1)</script>",
            "approvedBy": "legal@lumen.example",
        }
    }
    page = client.get(r.headers["location"])
    assert "Draft created." in page.text
    assert "<script>alert(1)</script>" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    listing = client.get("/admin/content?q=fastest").text
    assert "Our &lt;b&gt;fastest&lt;/b&gt; release" in listing and "<b>fastest</b>" not in listing


def test_structural_edits_over_htmx_return_the_form_body(runtime: Runtime, as_role) -> None:  # type: ignore[no-untyped-def]
    client, _ = as_role("editor")
    form = client.get("/admin/content/new?type=page")
    fields = form_fields(form.text, "entry-form")
    fields = set_field(fields, "/en/title", "Typed before adding")
    fields = set_field(fields, "/en/sections@add", "faq")
    r = client.post(
        "/admin/content/new?type=page",
        data=as_data([*fields, ("_op", "add:/en/sections")]),
        headers={"HX-Request": "true"},
    )
    assert r.status_code == 200
    assert r.text.lstrip().startswith('<div id="form-body">') and "<html" not in r.text
    assert "Section 1: FAQ" in r.text
    assert "Added" in r.text and "autofocus" in r.text
    # The full form (not an htmx request) keeps what was typed elsewhere.
    r = client.post("/admin/content/new?type=page", data=as_data([*fields, ("_op", "add:/en/sections")]))
    assert 'value="Typed before adding"' in r.text and "<html" in r.text
    assert entry_ids(runtime, "page") == entry_ids(runtime, "page")  # nothing was created
    with runtime.read() as conn:
        assert not [e for e in store.list_entries(conn, "page") if e.slug is None]


@BOTH
def test_concurrent_edit_shows_the_other_persons_change(runtime: Runtime, as_role) -> None:  # type: ignore[no-untyped-def]
    ana, _ = as_role("editor")
    bob, _ = as_role("publisher")
    entry_id = next(i for i in entry_ids(runtime, "doc"))
    mine = form_fields(ana.get(f"/admin/content/{entry_id}").text, "entry-form")
    theirs = form_fields(bob.get(f"/admin/content/{entry_id}").text, "entry-form")
    theirs = set_field(theirs, "/en/title", "Bob's better title")
    theirs = set_field(theirs, "_message", "tightened the title")
    assert bob.post(f"/admin/content/{entry_id}", data=as_data(theirs), follow_redirects=False).status_code == 303
    mine = set_field(mine, "/en/summary", "Ana's new summary")
    r = ana.post(f"/admin/content/{entry_id}", data=as_data(mine))
    assert r.status_code == 409
    assert "Someone else saved this entry while you were editing" in r.text
    assert "publisher saved revision" in r.text and "tightened the title" in r.text
    assert "Bob&#39;s better title" in r.text  # their change, shown
    assert "Ana&#39;s new summary" in r.text  # my change, still in the form
    rev, data = current_data(runtime, entry_id)
    assert data["en"]["title"] == "Bob's better title" and data["en"].get("summary") != "Ana's new summary"
    # Saving again from the conflict page is a deliberate overwrite of their revision.
    again = form_fields(r.text, "entry-form")
    assert ana.post(f"/admin/content/{entry_id}", data=as_data(again), follow_redirects=False).status_code == 303
    rev2, data = current_data(runtime, entry_id)
    assert rev2 == rev + 1 and data["en"]["summary"] == "Ana's new summary"


def test_forbidden_actions_keep_the_form(runtime: Runtime, as_role) -> None:  # type: ignore[no-untyped-def]
    viewer, _ = as_role("viewer")
    entry_id = entry_ids(runtime, "doc")[0]
    page = viewer.get(f"/admin/content/{entry_id}")
    assert "can read but not edit" in page.text and "Save draft" not in page.text
    fields = set_field(form_fields(page.text, "entry-form"), "/en/title", "Viewer was here")
    r = viewer.post(f"/admin/content/{entry_id}", data=as_data(fields))
    assert r.status_code == 403 and "may not write" in r.text and 'value="Viewer was here"' in r.text
    assert viewer.get("/admin/content/new?type=doc").status_code == 403
    editor, csrf = as_role("editor")
    r = editor.post(f"/admin/content/{entry_id}/publish", data={"csrf_token": csrf})
    assert r.status_code == 403 and "may not publish" in r.text
    assert editor.get("/admin/users").status_code == 403


def test_publish_unpublish_delete(runtime: Runtime, as_role) -> None:  # type: ignore[no-untyped-def]
    client, csrf = as_role("publisher")
    careers = next(i for i in entry_ids(runtime, "page") if current_data(runtime, i)[1]["en"]["slug"] == "careers")
    page = client.get(f"/admin/content/{careers}")
    etag = html.unescape(re.search(r'name="_etag" value="([^"]+)"', page.text).group(1))  # type: ignore[union-attr]
    r = client.post(
        f"/admin/content/{careers}/publish", data={"csrf_token": csrf, "_etag": etag}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"].endswith("done=published")
    assert client.get("/v1/pages/careers").status_code == 200
    stale = client.post(f"/admin/content/{careers}/publish", data={"csrf_token": csrf, "_etag": '"stale.1"'})
    assert stale.status_code in (200, 303) or stale.status_code == 412  # already live: idempotent or refused
    r = client.post(f"/admin/content/{careers}/unpublish", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303 and client.get("/v1/pages/careers").status_code == 404
    etag = f'"{careers}.{current_data(runtime, careers)[0]}"'
    r = client.post(
        f"/admin/content/{careers}/delete", data={"csrf_token": csrf, "_etag": etag}, follow_redirects=False
    )
    assert r.status_code == 303 and "deleted" in r.headers["location"]
    assert "deleted" in client.get(f"/admin/content/{careers}").text


def test_history_and_diff_between_any_two_revisions(runtime: Runtime, as_role) -> None:  # type: ignore[no-untyped-def]
    client, _ = as_role("editor")
    entry_id = entry_ids(runtime, "doc")[0]
    rev, data = current_data(runtime, entry_id)
    for title in ("Second title", "Third title with more words"):
        data["en"]["title"] = title
        actions.update_entry(runtime, SYSTEM, entry_id, data, if_match="*", message=f"set {title}")
    page = client.get(f"/admin/content/{entry_id}/history")
    assert page.status_code == 200 and "set Second title" in page.text and page.text.count('name="a"') == rev + 2
    diff = client.get(f"/admin/content/{entry_id}/diff?a={rev}&b={rev + 2}")
    assert diff.status_code == 200
    assert "en › title" in diff.text and "<ins>" in diff.text and "1 change." in diff.text
    same = client.get(f"/admin/content/{entry_id}/diff?a=1&b=1")
    assert "No differences." in same.text
    assert client.get(f"/admin/content/{entry_id}/diff?a=1&b=999").status_code == 400
    assert client.get("/admin/content/00000000-0000-0000-0000-000000000000/history").status_code == 404


def test_missing_things_are_html_404s(as_role) -> None:  # type: ignore[no-untyped-def]
    client, _ = as_role("viewer")
    for path in ["/admin/content/new?type=nope", "/admin/content/not-an-id", "/admin/missing/page"]:
        r = client.get(path)
        assert r.status_code == 404 and r.headers["content-type"].startswith("text/html") and "<h1>" in r.text, path


def test_every_page_renders_for_every_role(runtime: Runtime, as_role) -> None:  # type: ignore[no-untyped-def]
    entry_id = entry_ids(runtime, "page")[0]
    pages = [
        "/admin",
        "/admin/content",
        "/admin/content/new",
        f"/admin/content/{entry_id}",
        f"/admin/content/{entry_id}/history",
        "/admin/account",
    ]
    for role in ("viewer", "editor", "publisher", "admin"):
        client, _ = as_role(role)
        for path in pages:
            r = client.get(path)
            assert r.status_code == 200, (role, path, r.status_code)
            assert "Content-Security-Policy" in r.headers and r.headers["cache-control"] == "no-store"
        assert client.get("/admin/users").status_code == (200 if role == "admin" else 403)


def test_the_client_can_still_use_the_json_api(client: TestClient, tokens: dict[str, str]) -> None:
    # The admin router must not change the API's problem+json answers outside /admin (under the
    # content API's own families; an unknown /v1/<family> is the gateway's, an OpenAI error).
    r = client.get("/v1/manage/nope")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
