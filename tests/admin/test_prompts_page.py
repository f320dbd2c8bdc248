"""The prompts page: versions, labels, changelog, eval results per version and label history; the
differences between two versions, for every role; promotion (refused by the eval gate when the
report misses a threshold) and roll back, for the roles the prompt API allows (publish) and no
others."""

from __future__ import annotations

import html
import json
import re
from typing import Any

import pytest

from charter.gateway.prompts import catalog
from charter.runtime import Runtime
from tests.admin.htmlforms import form_fields

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


def diff_rows(page: str, part: str) -> list[str]:
    """The rows of one part's diff table as "old|new|change|text" (tags stripped)."""
    start = page.index(f'aria-labelledby="compare-{part}"')
    table = page[start : page.index("</table>", start)]
    rows = re.findall(r"<tr class=\"udiff-(?:same|add|remove)\">(.*?)</tr>", table, re.S)
    return [
        "|".join(html.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S))
        for r in rows
    ]


@pytest.mark.parametrize("role", ["viewer", "editor", "publisher", "admin"])
def test_compare_versions_for_every_role(as_role, role: str) -> None:  # type: ignore[no-untyped-def]
    client, _ = as_role(role)
    page = client.get(PAGE)
    assert page.status_code == 200
    # With no label set, the version before the newest against the newest.
    assert form_fields(page.text, "compare-form") == [("from", "1.0.0"), ("to", "1.1.0")]
    assert "What changed from 1.0.0 to 1.1.0" in page.text
    messages = diff_rows(page.text, "messages")
    assert "2||−removed|  Answer only from the sources below and cite them like [S1]." in messages
    assert (
        "|2|+added|  Answer in at most three sentences, only from the sources below, citing them like [S1]." in messages
    )
    assert "|3|+added|  If they do not answer the question, say you don't know." in messages
    assert "1|1|unchanged|system: |" in messages
    settings = diff_rows(page.text, "settings")
    assert "1||−removed|changelog: First version." in settings
    assert "4|4|unchanged|route: answer" in settings
    assert not any("temperature" in r and "added" in r for r in settings)

    # The other way round, as the form submits it.
    page = client.get(PAGE, params={"from": "1.1.0", "to": "1.0.0"})
    assert page.status_code == 200
    assert form_fields(page.text, "compare-form") == [("from", "1.1.0"), ("to", "1.0.0")]
    assert "|2|+added|  Answer only from the sources below and cite them like [S1]." in diff_rows(page.text, "messages")


def test_compare_defaults_to_the_labelled_version(runtime: Runtime, as_role, tmp_path) -> None:  # type: ignore[no-untyped-def]
    client, csrf = as_role("publisher")
    assert promote(client, csrf, "1.0.0", report=report("1.0.0")).status_code == 303
    page = client.get(PAGE)
    assert form_fields(page.text, "compare-form") == [("from", "1.0.0"), ("to", "1.1.0")]
    assert ">1.0.0 (production)</option>" in page.text
    assert promote(client, csrf, "1.1.0", report=report("1.1.0")).status_code == 303
    page = client.get(PAGE)  # production serves the newest: the one before it, against it
    assert form_fields(page.text, "compare-form") == [("from", "1.0.0"), ("to", "1.1.0")]
    page = client.get("/admin/prompts/claim-draft")
    assert page.status_code == 200
    assert "This prompt has one version, so there is nothing to compare yet." in page.text
    assert 'id="compare-form"' not in page.text


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        (
            {"from": "9.9.9"},
            404,
            "Prompt &#39;support-answer&#39; has no version &#39;9.9.9&#39; (versions: 1.0.0, 1.1.0).",
        ),
        ({"from": "1.0.0", "to": "2.0.0-rc.1"}, 404, "has no version &#39;2.0.0-rc.1&#39;"),
        ({"from": "1.1.0", "to": "1.1.0"}, 400, "Pick two different versions to compare: both are 1.1.0."),
        ({"from": "1.1.0"}, 400, "both are 1.1.0"),  # the default "to" is the newest
        ({"to": "7"}, 400, "&#39;7&#39; is not a version: versions look like 1.2.0."),
        ({"from": "<script>x</script>"}, 400, "&#39;&lt;script&gt;x&lt;/script&gt;&#39; is not a version"),
        ({"from": "a" * 5000}, 400, "&#39;" + "a" * 40 + "…&#39; is not a version"),
    ],
    ids=["unknown", "unknown-prerelease", "same", "same-by-default", "not-semver", "markup", "long"],
)
def test_bad_comparisons(as_role, params: dict[str, str], status: int, message: str) -> None:  # type: ignore[no-untyped-def]
    client, _ = as_role("viewer")
    r = client.get(PAGE, params=params)
    assert r.status_code == status and message in r.text, r.text[-3000:]
    assert 'id="compare-error"' in r.text and "Not compared" in r.text
    assert "<script>x" not in r.text
    assert "Version 1.1.0" in r.text  # the rest of the page is still there
