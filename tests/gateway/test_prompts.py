"""The prompt registry: files, sandboxed templates, variables, immutability, labels, flags, the
eval gate, rollback, structured output with one repair, and AI drafts with risk levels."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml

from charter.auth.roles import Actor, Role
from charter.content.store import get_entry
from charter.db.tables import audit_log
from charter.events import PROMPT_LABEL_MOVED, since
from charter.exceptions import BadRequest, ConfigError, Conflict, Forbidden, NotFound, ValidationFailed
from charter.gateway import get_gateway
from charter.gateway.prompts import catalog
from charter.gateway.prompts.labels import bucket, select
from charter.gateway.prompts.registry import parse_prompt
from charter.gateway.prompts.run import run_prompt
from charter.gateway.tables import gateway_calls, gateway_drafts
from charter.runtime import Runtime
from tests.gateway.conftest import flush, provider, write_model_yaml

PUBLISHER = Actor(name="ana", role=Role.PUBLISHER, kind="user")
EDITOR = Actor(name="eddie", role=Role.EDITOR, kind="user")
VIEWER = Actor(name="vic", role=Role.VIEWER, kind="user")
SOURCES = [{"id": "e1#0", "text": "Refunds are processed within 5 business days."}]
QUESTION = {"question": "How long do refunds take?", "sources": SOURCES}


def report(prompt: str, version: str, **summary: Any) -> dict[str, Any]:
    return {
        "format": "charter.eval-report/1",
        "subject": {"prompt": prompt, "prompt_version": version},
        "summary": summary,
    }


GOOD_110 = report("support-answer", "1.1.0", factuality=0.9, citation_coverage=0.85, latency_p95_ms=900)
GOOD_100 = report("support-answer", "1.0.0", factuality=0.9, citation_coverage=0.85, latency_p95_ms=900)


def run(gw: Any, name: str, variables: dict[str, Any], **kw: Any) -> dict[str, Any]:
    return asyncio.run(run_prompt(gw, name, variables, **kw))


# -- files -------------------------------------------------------------------------------------


def write_prompt(directory: Path, name: str, doc: dict[str, Any]) -> Path:
    path = directory / f"{name}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


V = {"route": "default", "changelog": "First.", "template": "Hi {{ name }}"}


@pytest.mark.parametrize(
    ("doc", "pointer"),
    [
        ({"versions": {}}, "/versions"),
        ({"versions": {"1.0": V}}, "/versions/1.0"),
        ({"versions": {"1.0.0": {**V, "changelog": ""}}}, "/versions/1.0.0/changelog"),
        ({"versions": {"1.0.0": {**V, "route": None}}}, "/versions/1.0.0/route"),
        ({"versions": {"1.0.0": {"route": "default", "changelog": "x"}}}, "/versions/1.0.0/template"),
        ({"versions": {"1.0.0": {**V, "template": "{{ unclosed"}}}, "/versions/1.0.0/messages/0"),
        ({"versions": {"1.0.0": {**V, "variables": {"type": "nope"}}}}, "/versions/1.0.0/variables"),
        (
            {"versions": {"1.0.0": {**V, "eval": {"thresholds": {"f": {"at_least": 1}}}}}},
            "/versions/1.0.0/eval/thresholds/f",
        ),
        ({"versions": {"1.0.0": V}, "flags": [{"name": "x"}]}, "/flags/0"),
        (
            {"versions": {"1.0.0": V}, "flags": [{"name": "x", "serve": "staging", "percentage": 150}]},
            "/flags/0/percentage",
        ),
        ({"name": "Bad Name", "versions": {"1.0.0": V}}, "/name"),
    ],
)
def test_bad_prompt_files_name_the_key(tmp_path: Path, doc: dict[str, Any], pointer: str) -> None:
    path = write_prompt(tmp_path, "p", doc)
    with pytest.raises(ConfigError) as info:
        parse_prompt(path)
    assert info.value.errors[0].pointer == pointer
    assert info.value.errors[0].file == str(path)


def test_unknown_route_or_output_type_is_caught_at_load(gw_project: Path, make_runtime) -> None:  # type: ignore[no-untyped-def]
    write_prompt(
        gw_project / "prompts",
        "broken",
        {"versions": {"1.0.0": {**V, "route": "nowhere", "output": {"schema": "no-such-type.v1"}}}},
    )
    with pytest.raises(ConfigError) as info:
        _ = get_gateway(make_runtime()).prompts
    assert {e.pointer for e in info.value.errors} == {"/versions/1.0.0/route", "/versions/1.0.0/output/schema"}


def test_template_is_sandboxed(tmp_path: Path) -> None:
    evil = {**V, "template": "{{ name.__class__.__mro__[1].__subclasses__() }}"}
    prompt = parse_prompt(write_prompt(tmp_path, "p", {"versions": {"1.0.0": evil}}))
    with pytest.raises(ValidationFailed) as info:
        prompt.get("1.0.0").render({"name": "x"})
    assert "unsafe" in info.value.detail or "not safely" in info.value.detail


def test_variables_are_checked_against_the_schema(gw_project: Path, make_runtime) -> None:  # type: ignore[no-untyped-def]
    gw = get_gateway(make_runtime())
    with pytest.raises(ValidationFailed) as info:
        run(gw, "support-answer", {"question": "?"}, version="1.0.0")
    assert {(e.pointer, e.keyword) for e in info.value.errors} == {
        ("/variables/sources", "required"),
        ("/variables/question", "minLength"),
    }


def test_rendered_messages(gw_project: Path, make_runtime) -> None:  # type: ignore[no-untyped-def]
    prompt = get_gateway(make_runtime()).prompts.get("support-answer")
    messages = prompt.get("1.1.0").render(QUESTION)
    assert messages[0]["role"] == "system" and "[S1] (source: e1#0) Refunds are processed" in messages[0]["content"]
    assert messages[1] == {"role": "user", "content": "How long do refunds take?"}


# -- labels, the gate, rollback -----------------------------------------------------------------


def test_no_production_version_yet_is_a_clear_conflict(gw_project: Path, make_runtime) -> None:  # type: ignore[no-untyped-def]
    gw = get_gateway(make_runtime())
    with pytest.raises(Conflict, match="no production version yet"):
        run(gw, "support-answer", QUESTION)
    assert run(gw, "support-answer", QUESTION, version="1.1.0")["selected_by"] == "version"


@pytest.mark.parametrize(
    ("bad", "pointer", "keyword"),
    [
        ({**GOOD_110, "format": "promptfoo/1"}, "/format", "const"),
        ({**GOOD_110, "subject": {"prompt": "other", "prompt_version": "1.1.0"}}, "/subject/prompt", "const"),
        (
            {**GOOD_110, "subject": {"prompt": "support-answer", "prompt_version": "1.0.0"}},
            "/subject/prompt_version",
            "const",
        ),
        (
            report("support-answer", "1.1.0", factuality=0.9, latency_p95_ms=900),
            "/summary/citation_coverage",
            "required",
        ),
        (
            report("support-answer", "1.1.0", factuality=0.7, citation_coverage=0.9, latency_p95_ms=1),
            "/summary/factuality",
            "minimum",
        ),
        (
            report("support-answer", "1.1.0", factuality=0.9, citation_coverage=0.9, latency_p95_ms=2500),
            "/summary/latency_p95_ms",
            "maximum",
        ),
        (
            report(
                "support-answer", "1.1.0", factuality={"value": None, "n": 0}, citation_coverage=0.9, latency_p95_ms=1
            ),
            "/summary/factuality",
            "required",
        ),
        ({**GOOD_110, "summary": []}, "/summary", "required"),
    ],
)
def test_the_gate_refuses_reports_that_do_not_meet_the_thresholds(  # type: ignore[no-untyped-def]
    gw_project: Path, make_runtime, bad: dict[str, Any], pointer: str, keyword: str
) -> None:
    rt = make_runtime()
    with pytest.raises(ValidationFailed) as info:
        catalog.promote_prompt(rt, PUBLISHER, "support-answer", "1.1.0", "production", reason="try", report=bad)
    assert (pointer, keyword) in {(e.pointer, e.keyword) for e in info.value.errors}
    evals = catalog.describe_prompt(rt, "support-answer")["evals"]
    assert len(evals) == 1 and evals[0]["passed"] is False  # the refused report is kept too
    assert catalog.describe_prompt(rt, "support-answer")["labels"] == {}


def test_promote_accepts_harness_shaped_summaries_and_records_everything(gw_project: Path, make_runtime) -> None:  # type: ignore[no-untyped-def]
    rt = make_runtime()
    harness = report(
        "support-answer",
        "1.0.0",
        factuality={"value": 0.93, "n": 40},
        citation_coverage={"value": 0.9, "n": 40},
        latency_p95_ms={"value": 812.0, "n": 40},
    )
    move = catalog.promote_prompt(rt, PUBLISHER, "support-answer", "1.0.0", "production", reason="go", report=harness)
    assert move["from_version"] is None and move["to_version"] == "1.0.0" and move["actor"] == "user:ana"
    assert move["report_summary"] == {"factuality": 0.93, "citation_coverage": 0.9, "latency_p95_ms": 812.0}
    with rt.read() as conn:
        audit = conn.execute(sa.select(audit_log).where(audit_log.c.action == "prompt.promote")).one()
        events = since(conn, 0, [PROMPT_LABEL_MOVED])
    assert audit.actor == "user:ana" and audit.subject_id == "support-answer:production"
    assert audit.detail["reason"] == "go"
    assert len(events) == 1
    assert events[0].payload == {
        "prompt": "support-answer",
        "label": "production",
        "action": "promote",
        "from_version": None,
        "to_version": "1.0.0",
        "actor": "user:ana",
        "reason": "go",
        "report_sha256": move["report_sha256"],
        "report_summary": move["report_summary"],
    }
    info = catalog.describe_prompt(rt, "support-answer")
    v100 = next(v for v in info["versions"] if v["version"] == "1.0.0")
    assert v100["released"] and v100["labels"] == ["production"] and info["evals"][0]["passed"] is True


def test_label_moves_need_publish_and_a_reason(gw_project: Path, make_runtime) -> None:  # type: ignore[no-untyped-def]
    rt = make_runtime()
    with pytest.raises(Forbidden):
        catalog.promote_prompt(rt, EDITOR, "support-answer", "1.0.0", "production", reason="x", report=GOOD_100)
    with pytest.raises(BadRequest, match="reason"):
        catalog.promote_prompt(rt, PUBLISHER, "support-answer", "1.0.0", "production", reason=" ", report=GOOD_100)
    with pytest.raises(BadRequest, match="label"):
        catalog.promote_prompt(rt, PUBLISHER, "support-answer", "1.0.0", "Prod!", reason="x", report=GOOD_100)
    with pytest.raises(NotFound):
        catalog.promote_prompt(rt, PUBLISHER, "support-answer", "9.9.9", "production", reason="x", report=GOOD_100)


def test_rollback_moves_back_one_promotion_at_a_time(gw_project: Path, make_runtime) -> None:  # type: ignore[no-untyped-def]
    rt = make_runtime()
    gw = get_gateway(rt)
    catalog.promote_prompt(rt, PUBLISHER, "support-answer", "1.0.0", "production", reason="v1", report=GOOD_100)
    catalog.promote_prompt(rt, PUBLISHER, "support-answer", "1.1.0", "production", reason="v1.1", report=GOOD_110)
    assert run(gw, "support-answer", QUESTION)["version"] == "1.1.0"
    move = catalog.rollback_prompt(rt, PUBLISHER, "support-answer", "production", reason="answers too short")
    assert (move["from_version"], move["to_version"], move["action"]) == ("1.1.0", "1.0.0", "rollback")
    assert run(gw, "support-answer", QUESTION)["version"] == "1.0.0"
    with pytest.raises(Conflict, match="nothing to roll back to"):
        catalog.rollback_prompt(rt, PUBLISHER, "support-answer", "production", reason="again")
    with pytest.raises(NotFound):
        catalog.rollback_prompt(rt, PUBLISHER, "support-answer", "staging", reason="unset")
    history = catalog.describe_prompt(rt, "support-answer")["history"]
    assert [(m["action"], m["to_version"]) for m in history] == [
        ("promote", "1.0.0"),
        ("promote", "1.1.0"),
        ("rollback", "1.0.0"),
    ]


def test_released_versions_are_immutable(gw_project: Path, make_runtime) -> None:  # type: ignore[no-untyped-def]
    rt = make_runtime()
    catalog.promote_prompt(rt, PUBLISHER, "support-answer", "1.0.0", "production", reason="v1", report=GOOD_100)
    path = gw_project / "prompts" / "support-answer.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["versions"]["1.0.0"]["template"] = "{{ question }} (edited after release)"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    rt2 = make_runtime()  # a fresh process reads the edited file
    gw = get_gateway(rt2)
    with pytest.raises(Conflict, match="immutable"):
        run(gw, "support-answer", QUESTION)
    assert next(p for p in catalog.list_prompts(rt2) if p["name"] == "support-answer")["modified"] == ["1.0.0"]
    # An unreleased version may still be edited freely.
    doc["versions"]["1.0.0"]["template"] = "{{ question }}"
    doc["versions"]["1.1.0"]["changelog"] = "Edited before release."
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    rt3 = make_runtime()
    assert run(get_gateway(rt3), "support-answer", QUESTION)["version"] == "1.0.0"


def test_registry_picks_up_file_changes_without_a_restart(gw_project: Path, make_runtime) -> None:  # type: ignore[no-untyped-def]
    gw = get_gateway(make_runtime())
    assert "support-answer" in gw.prompts.prompts
    write_prompt(gw_project / "prompts", "fresh", {"versions": {"1.0.0": V}})
    gw._prompts_checked = 0.0  # skip the one-second recheck interval
    assert "fresh" in gw.prompts.prompts


# -- flags ---------------------------------------------------------------------------------------


def test_flags_by_locale_and_percentage(gw_project: Path, make_runtime) -> None:  # type: ignore[no-untyped-def]
    rt = make_runtime()
    gw = get_gateway(rt)
    catalog.promote_prompt(rt, PUBLISHER, "support-answer", "1.0.0", "production", reason="v1", report=GOOD_100)
    catalog.promote_prompt(rt, PUBLISHER, "support-answer", "1.1.0", "staging", reason="pilot", report=GOOD_110)
    prompt = gw.prompts.get("support-answer")
    labels = {"production": "1.0.0", "staging": "1.1.0"}
    # dach-pilot: locales [de], 50 % of users (bucketed by the HMAC user hash).
    users = [f"user-{i}" for i in range(200)]
    from charter.gateway.redaction import hash_user

    in_pilot = [u for u in users if bucket("dach-pilot", hash_user(u, gw.pii_key)) < 50]
    assert 70 < len(in_pilot) < 130
    for u in users[:40]:
        h = hash_user(u, gw.pii_key)
        chosen = select(prompt, labels, user_hash=h, locale="de-AT")
        expected = "1.1.0" if u in in_pilot else "1.0.0"
        assert chosen.version.version == expected
        assert select(prompt, labels, user_hash=h, locale="en").version.version == "1.0.0"
    # Through the runner, the same user always gets the same version.
    pilot_user = in_pilot[0]
    results = {run(gw, "support-answer", QUESTION, user=pilot_user, locale="de")["version"] for _ in range(3)}
    assert results == {"1.1.0"}
    assert run(gw, "support-answer", QUESTION, user=pilot_user, locale="de")["selected_by"] == "flag:dach-pilot"
    assert run(gw, "support-answer", QUESTION)["selected_by"] == "label:production"


def test_flags_by_market_and_cohort(tmp_path: Path) -> None:
    doc = {
        "versions": {"1.0.0": V, "1.1.0": {**V, "changelog": "Two."}},
        "flags": [
            {"name": "at-only", "serve": "1.1.0", "markets": ["AT"]},
            {"name": "beta", "serve": "beta-label", "users": ["hash-of-beta-user"]},
        ],
    }
    prompt = parse_prompt(write_prompt(tmp_path, "p", doc))
    labels = {"production": "1.0.0", "beta-label": "1.1.0"}
    assert select(prompt, labels, market="at", released={"1.1.0"}).selected_by == "flag:at-only"
    # A flag never serves a version that has not been released (passed a gate).
    assert select(prompt, labels, market="AT").selected_by == "label:production"
    assert select(prompt, labels, user_hash="hash-of-beta-user").selected_by == "flag:beta"
    assert select(prompt, labels, user_hash="someone-else").selected_by == "label:production"


# -- structured output and drafts ------------------------------------------------------------------

CLAIM_VARS = {
    "slug": "fast-dashboards",
    "claim": "Dashboards load in under 2 seconds",
    "evidence": "Internal benchmark, October 2026",
    "approved_by": "ana@lumen.example",
}
VALID = {
    "slug": "fast-dashboards",
    "claim": "Dashboards load in under 2 seconds",
    "evidence": "Internal benchmark",
    "approvedBy": "ana@lumen.example",
}


def test_claim_draft_is_saved_for_review(gw_project: Path, make_runtime) -> None:  # type: ignore[no-untyped-def]
    rt = make_runtime()
    out = run(get_gateway(rt), "claim-draft", CLAIM_VARS, version="1.0.0", actor=EDITOR)
    assert out["validation"] == {
        "schema": "marketing-claim.v1",
        "valid": True,
        "repaired": False,
        "attempts": 1,
        "errors": [],
    }
    assert out["data"]["approvedBy"] == "ana@lumen.example"
    assert out["risk"] == {"level": "medium", "reasons": ["claims"]}
    draft = out["draft"]
    assert draft["saved"] and draft["status"] == "needs_review" and draft["risk"] == "medium"
    with rt.read() as conn:
        entry = get_entry(conn, draft["entry_id"])
    assert entry.published_revision is None  # never auto-published
    assert catalog.list_drafts(rt, status="needs_review")[0]["entry_id"] == draft["entry_id"]


def test_drafts_need_write_permission(gw_project: Path, make_runtime) -> None:  # type: ignore[no-untyped-def]
    gw = get_gateway(make_runtime())
    with pytest.raises(Forbidden, match="may not write"):
        run(gw, "claim-draft", CLAIM_VARS, version="1.0.0", actor=VIEWER)
    assert run(gw, "claim-draft", CLAIM_VARS, version="1.0.0", actor=VIEWER, save_draft=False)["draft"] is None


def _structured_project(gw_project: Path, up: Any, *, auto_publish: bool = False, claim_level: str = "medium") -> None:
    write_model_yaml(
        gw_project,
        providers={"up": provider(up)},
        models={"m": {"provider": "up", "model": "gpt-x"}},
        routes={"drafts": {"policy": "fallback", "targets": ["m"]}},
    )
    write_prompt(
        gw_project / "prompts",
        "claim-draft",
        {
            "risk": {"rules": [{"name": "claims", "level": claim_level, "terms": ["fastest"]}]},
            "versions": {
                "1.0.0": {
                    "route": "drafts",
                    "changelog": "First.",
                    "template": "Write the claim {{ slug }}",
                    "output": {"schema": "marketing-claim.v1", "auto_publish": auto_publish},
                }
            },
        },
    )


def test_invalid_output_gets_one_repair_with_the_errors(gw_project, upstreams, make_runtime) -> None:  # type: ignore[no-untyped-def]
    up = upstreams("ok", answers=['{"slug": "x"}', "```json\n" + json.dumps(VALID) + "\n```"])
    _structured_project(gw_project, up)
    rt = make_runtime()
    out = run(get_gateway(rt), "claim-draft", {"slug": "x"}, version="1.0.0", actor=EDITOR)
    assert out["validation"]["repaired"] is True and out["validation"]["attempts"] == 2
    assert out["data"] == VALID
    repair = up.requests[1]["messages"][-1]["content"]
    assert "does not validate against marketing-claim.v1" in repair and "'claim' is required" in repair
    assert up.requests[0]["response_format"]["type"] == "json_schema"
    flush(rt)
    with rt.read() as conn:
        rows = conn.execute(sa.select(gateway_calls).where(gateway_calls.c.endpoint == "prompt")).all()
    assert len(rows) == 1  # one audit record for the run, repair included
    assert rows[0].validation["repaired"] is True and rows[0].prompt_version == "1.0.0"
    assert len([s for s in rows[0].fallback_chain if s["outcome"] == "ok"]) == 2


def test_still_invalid_after_the_repair_is_422_and_logged(gw_project, upstreams, make_runtime) -> None:  # type: ignore[no-untyped-def]
    up = upstreams("ok", answers=["not json at all", '{"slug": "Bad Slug"}'])
    _structured_project(gw_project, up)
    rt = make_runtime()
    with pytest.raises(ValidationFailed) as info:
        run(get_gateway(rt), "claim-draft", {"slug": "x"}, version="1.0.0", actor=EDITOR)
    assert info.value.status == 422
    assert "/slug" in {e.pointer for e in info.value.errors}  # the repaired answer's errors
    audit_id = info.value.extra["audit_id"]
    flush(rt)
    with rt.read() as conn:
        row = conn.execute(sa.select(gateway_calls).where(gateway_calls.c.id == audit_id)).one()
        drafts = conn.execute(sa.select(gateway_drafts)).all()
    assert row.status == "error" and row.validation["valid"] is False and row.validation["attempts"] == 2
    assert not drafts  # nothing half-written


@pytest.mark.parametrize(
    ("level", "actor", "status"),
    [
        ("low", PUBLISHER, "published"),  # low risk, allowed by the prompt, actor may publish
        ("low", EDITOR, "draft"),  # the actor may not publish: stays a draft
        ("medium", PUBLISHER, "needs_review"),  # medium and high are never auto-published
        ("high", PUBLISHER, "needs_review"),
    ],
)
def test_auto_publish_only_low_risk(  # type: ignore[no-untyped-def]
    gw_project, upstreams, make_runtime: Callable[..., Runtime], level: str, actor: Actor, status: str
) -> None:
    text = json.dumps({**VALID, "claim": "The fastest dashboards"})
    up = upstreams("ok", answer=text)
    # The demo marketing-claim type counts as "claims"; the prompt overrides that rule's level.
    _structured_project(gw_project, up, auto_publish=True, claim_level=level)
    rt = make_runtime()
    out = run(get_gateway(rt), "claim-draft", {"slug": "x"}, version="1.0.0", actor=actor)
    assert out["risk"]["level"] == level
    assert out["draft"]["status"] == status
    with rt.read() as conn:
        entry = get_entry(conn, out["draft"]["entry_id"])
    assert (entry.published_revision is not None) is (status == "published")


def test_draft_that_cannot_be_stored_is_reported_not_fatal(gw_project, upstreams, make_runtime) -> None:  # type: ignore[no-untyped-def]
    up = upstreams("ok", answer=json.dumps(VALID))
    _structured_project(gw_project, up)
    gw = get_gateway(make_runtime())
    assert run(gw, "claim-draft", {"slug": "x"}, version="1.0.0", actor=EDITOR)["draft"]["saved"] is True
    second = run(gw, "claim-draft", {"slug": "x"}, version="1.0.0", actor=EDITOR)["draft"]
    assert second["saved"] is False and "already exists" in second["detail"]
