"""``POST /v1/ask`` answers with a registry prompt named in retrieval.yaml: pinned, chosen by the
production label (eval-gated promotion, rollback), per intent; the response and the audit record
name the version; a prompt or version that does not exist is a clear 409."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml
from fastapi.testclient import TestClient

from charter.app import create_app
from charter.auth.roles import SYSTEM
from charter.gateway import get_gateway
from charter.gateway.prompts.labels import promote, rollback
from charter.gateway.tables import gateway_calls
from charter.runtime import Runtime

REFUND = {"question": "Can I get a refund on an annual plan?", "locale": "en"}
REPORT = {
    "format": "charter.eval-report/1",
    "subject": {"prompt": "answer", "prompt_version": "1.0.0"},
    "summary": {"citation_coverage": {"value": 0.9}, "refusal_accuracy": {"value": 0.9}},
}


def _contract(project: Path, **answering: Any) -> None:
    path = project / "retrieval.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    for key, value in answering.items():
        if key == "intents":
            for intent, prompt in value.items():
                doc["intents"][intent]["prompt"] = prompt
        elif value is None:
            doc["answering"].pop(key, None)
        else:
            doc["answering"][key] = value
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")


def _audit(rt: Runtime) -> list[dict[str, Any]]:
    get_gateway(rt).audit.flush()
    with rt.engine.connect() as conn:
        rows = conn.execute(sa.select(gateway_calls).where(gateway_calls.c.endpoint == "ask")).all()
    return [dict(r._mapping) for r in rows]


def test_the_demo_answers_with_the_pinned_registry_prompt(client: TestClient, rt: Runtime) -> None:
    body = client.post("/v1/ask", json=REFUND).json()
    assert not body["refused"], body
    assert body["prompt"] == {"name": "answer", "version": "1.0.0", "selected_by": "version"}
    (row,) = _audit(rt)
    assert (row["prompt"], row["prompt_version"]) == ("answer", "1.0.0")
    # The rendered prompt is the one the built-in wording gave: the same system message.
    from charter.retrieval.answer import SYSTEM_PROMPT

    system = row["request"][0]["content"]
    assert system.startswith(SYSTEM_PROMPT.format(refusal="I don't know based on the provided sources."))


def test_without_a_prompt_the_builtin_wording_answers(project_dir: Path, rt: Runtime) -> None:
    _contract(project_dir, prompt=None)
    with TestClient(create_app(rt.settings, runtime=rt), raise_server_exceptions=False) as client:
        body = client.post("/v1/ask", json=REFUND).json()
    assert body["prompt"]["name"] == "retrieval.answer" and body["prompt"]["selected_by"] == "builtin"
    assert body["prompt"]["version"].startswith("builtin-")


def test_labels_promotion_and_rollback_choose_the_answer_prompt(project_dir: Path, rt: Runtime) -> None:
    path = project_dir / "prompts" / "answer.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    v2 = dict(doc["versions"]["1.0.0"])
    v2["changelog"] = "Shorter."
    v2["system"] = "Be brief. " + v2["system"]
    doc["versions"]["1.1.0"] = v2
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    _contract(project_dir, prompt="answer")
    with TestClient(create_app(rt.settings, runtime=rt), raise_server_exceptions=False) as client:
        none_yet = client.post("/v1/ask", json=REFUND)
        assert none_yet.status_code == 409
        assert "retrieval.yaml (answering) names prompt 'answer'" in none_yet.json()["detail"]
        assert "no production version yet" in none_yet.json()["detail"]
        prompt = get_gateway(rt).prompts.get("answer")
        promote(rt, prompt, "1.0.0", "production", actor=SYSTEM, reason="baseline", report=REPORT)
        assert client.post("/v1/ask", json=REFUND).json()["prompt"] == {
            "name": "answer",
            "version": "1.0.0",
            "selected_by": "label:production",
        }
        report = {**REPORT, "subject": {"prompt": "answer", "prompt_version": "1.1.0"}}
        promote(rt, prompt, "1.1.0", "production", actor=SYSTEM, reason="shorter", report=report)
        assert client.post("/v1/ask", json=REFUND).json()["prompt"]["version"] == "1.1.0"
        rollback(rt, prompt, "production", actor=SYSTEM, reason="too short")
        assert client.post("/v1/ask", json=REFUND).json()["prompt"]["version"] == "1.0.0"
    assert [r["prompt_version"] for r in _audit(rt)] == ["1.0.0", "1.1.0", "1.0.0"]
    assert "Be brief." in _audit(rt)[1]["request"][0]["content"]


def test_an_intent_names_its_own_prompt_version(project_dir: Path, rt: Runtime) -> None:
    path = project_dir / "prompts" / "answer.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["versions"]["2.0.0"] = {**doc["versions"]["1.0.0"], "changelog": "For legal questions."}
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    _contract(project_dir, intents={"legal": "answer@2.0.0"})
    with TestClient(create_app(rt.settings, runtime=rt), raise_server_exceptions=False) as client:
        legal = client.post("/v1/ask", json=REFUND).json()
        other = client.post("/v1/ask", json={"question": "How do I install the SDK?"}).json()
    assert legal["intent"] == "legal" and legal["prompt"]["version"] == "2.0.0"
    assert other["intent"] != "legal" and other["prompt"]["version"] == "1.0.0"


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"prompt": "answer@9.9.9"}, "names prompt answer@9.9.9, which answer.yaml does not have (versions: 1.0.0)"),
        ({"prompt": "nope"}, "names prompt 'nope', which prompts/ does not have"),
        ({"intents": {"legal": "answer@3.0.0"}}, "retrieval.yaml (intent 'legal') names prompt answer@3.0.0"),
    ],
)
def test_a_missing_prompt_or_version_is_a_clear_error(
    project_dir: Path, rt: Runtime, setting: dict[str, Any], message: str
) -> None:
    _contract(project_dir, **setting)
    with TestClient(create_app(rt.settings, runtime=rt), raise_server_exceptions=False) as client:
        r = client.post("/v1/ask", json=REFUND)
    assert r.status_code == 409 and r.headers["content-type"] == "application/problem+json"
    assert message in r.json()["detail"]
    assert _audit(rt) == []  # no model call was made
