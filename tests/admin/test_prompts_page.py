"""The prompts page: versions, labels, changelog, eval results per version and label history;
promotion (refused by the eval gate when the report misses a threshold) and roll back, for the
roles the prompt API allows (publish) and no others."""

from __future__ import annotations

import html
import json
from typing import Any

import pytest

from charter.gateway.prompts import catalog
from charter.runtime import Runtime

PAGE = "/admin/prompts/support-answer"


def report(version: str, factuality: float = 0.93) -> str:
    return json.dumps(
        {
            "format": "charter.eval-report/1",
            "subject": {"prompt": "support-answer", "prompt_version": version},
            "summary": {"factuality": {"value": factuality, "n": 40}, "citation_coverage": 0.9, "latency_p95_ms": 810},
        }
    )


def promote(client: Any, csrf: str, version: str, reason: str = "eval passed", **kw: Any) -> Any:
    data = {"csrf_token": csrf, "version": version, "label": "production", "reason": reason, **kw}
    return client.post(f"{PAGE}/promote", data=data, follow_redirects=False)


def test_list_and_detail_for_every_role(as_role) -> None:  # type: ignore[no-untyped-def]
    viewer, _ = as_role("viewer")
    page = viewer.get("/admin/prompts")
    assert page.status_code == 200
    assert "claim-draft" in page.text and "support-answer" in page.text and "dach-pilot" in page.text
    assert 'href="/admin/prompts" aria-current="page"' in page.text
    detail = viewer.get(PAGE)
    text = html.unescape(detail.text)
    assert detail.status_code == 200
    assert "Version 1.1.0" in text and "Version 1.0.0" in text
    assert 'say "I don\'t know" when the sources do not cover the question' in text  # changelog
    assert "factuality</code> ≥ 0.8" in text and "No eval report checked for this version yet." in text
    assert 'id="promote-form"' not in detail.text  # no buttons a viewer may not use...
    assert "Moving labels needs the publisher role; yours is viewer." in text


@pytest.mark.parametrize("role", ["viewer", "editor"])
def test_roles_without_publish_may_not_move_labels(runtime: Runtime, as_role, role: str) -> None:  # type: ignore[no-untyped-def]
    client, csrf = as_role(role)
    r = promote(client, csrf, "1.0.0", report=report("1.0.0"))
    assert r.status_code == 403
    assert f"Role &#39;{role}&#39; may not move prompt labels (it needs the publish permission)" in r.text
    r = client.post(f"{PAGE}/rollback", data={"csrf_token": csrf, "label": "production", "reason": "x"})
    assert r.status_code == 403 and "may not move prompt labels" in r.text
    assert catalog.describe_prompt(runtime, "support-answer")["labels"] == {}
    assert catalog.describe_prompt(runtime, "support-answer")["evals"] == []  # refused before the gate


def test_promote_gate_refusal_and_roll_back(runtime: Runtime, as_role) -> None:  # type: ignore[no-untyped-def]
    client, csrf = as_role("publisher")
    bad = report("1.0.0", factuality=0.61)
    r = promote(client, csrf, "1.0.0", reason="try <b>it</b>", report=bad)
    assert r.status_code == 422
    text = html.unescape(r.text)
    assert "Not promoted" in text and "The eval gate refused the promotion; the label did not move." in text
    assert "/summary/factuality: factuality = 0.61 is below the minimum 0.8" in text
    assert 'value="try &lt;b&gt;it&lt;/b&gt;"' in r.text  # the form keeps the reason, escaped
    assert catalog.describe_prompt(runtime, "support-answer")["labels"] == {}
    assert "refused" in r.text  # and the refused report is listed with the version's eval results

    # A report file, as a browser uploads it.
    files = {"report_file": ("report.json", report("1.0.0").encode(), "application/json")}
    r = client.post(
        f"{PAGE}/promote",
        data={"csrf_token": csrf, "version": "1.0.0", "label": "production", "reason": "first release"},
        files=files,
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == f"{PAGE}?done=promote"
    assert promote(client, csrf, "1.1.0", report=report("1.1.0")).status_code == 303
    assert catalog.describe_prompt(runtime, "support-answer")["labels"] == {"production": "1.1.0"}

    r = client.post(
        f"{PAGE}/rollback",
        data={"csrf_token": csrf, "label": "production", "reason": "answers too short <script>x</script>"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert catalog.describe_prompt(runtime, "support-answer")["labels"] == {"production": "1.0.0"}
    page = client.get(r.headers["location"])
    text = html.unescape(page.text)
    assert "Rolled back: the label serves the version it served before." in text
    assert "rollback" in text and "1.1.0 → 1.0.0" in text and "answers too short" in text
    assert "<script>x</script>" not in page.text and "&lt;script&gt;x&lt;/script&gt;" in page.text
    assert "passed" in text and "factuality</code> 0.93" in text


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({"version": "1.0.0", "reason": "x"}, 400, "Attach the eval report"),
        ({"version": "1.0.0", "reason": "x", "report": "{not json"}, 400, "The eval report is not JSON"),
        ({"version": "1.0.0", "reason": " ", "report": report("1.0.0")}, 400, "a label move needs a reason"),
        ({"version": "9.9.9", "reason": "x", "report": report("9.9.9")}, 404, "has no version"),
        ({"version": "1.0.0", "reason": "x", "report": report("1.1.0")}, 422, "not &#39;1.0.0&#39;"),
        ({"version": "1.0.0", "label": "Bad Label", "reason": "x", "report": report("1.0.0")}, 400, "Bad label"),
    ],
    ids=["no-report", "bad-json", "no-reason", "unknown-version", "report-for-another-version", "bad-label"],
)
def test_bad_promotions(as_role, data: dict[str, str], status: int, message: str) -> None:  # type: ignore[no-untyped-def]
    client, csrf = as_role("publisher")
    r = client.post(f"{PAGE}/promote", data={"csrf_token": csrf, "label": "production", **data})
    assert r.status_code == status and message in r.text, r.text[-3000:]


def test_nothing_to_roll_back_csrf_and_unknown_prompts(as_role) -> None:  # type: ignore[no-untyped-def]
    client, csrf = as_role("publisher")
    r = client.post(f"{PAGE}/rollback", data={"csrf_token": csrf, "label": "production", "reason": "x"})
    assert r.status_code == 404 and "is not set" in r.text
    assert promote(client, csrf, "1.0.0", report=report("1.0.0")).status_code == 303
    r = client.post(f"{PAGE}/rollback", data={"csrf_token": csrf, "label": "production", "reason": "x"})
    assert r.status_code == 409 and "Nothing to roll back to" in r.text
    r = promote(client, "", "1.1.0", report=report("1.1.0"))
    assert r.status_code == 403 and "security token" in r.text
    assert client.get("/admin/prompts/nope").status_code == 404
    assert client.get("/admin/prompts/Bad%20Name").status_code == 400
