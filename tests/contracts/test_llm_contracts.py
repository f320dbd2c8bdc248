"""Consumer contracts on the LLM surface: ``/v1/ask`` (answer, citations, refusal shape) and
registered tools (argument and result schemas), checked statically against the demo project and
live against the demo app."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from charter.app import create_app
from charter.config import DEMO_DIR, load_settings
from charter.contracts import ContractFileError, check_contracts, load_contract, verify_contracts
from charter.runtime import Runtime
from charter.schemas.registry import Registry

SUPPORT = """\
consumer: support-widget
provider: charter
expects:
  - endpoint: /v1/ask
    must_include: [answer, refused, citations, 'citations[].url', 'citations[].entry_id']
    types: {answer: string, refused: boolean, 'citations[].url': string, 'citations[].revision': integer}
    questions:
      - {question: "Can I get a refund on an annual plan?", locale: en}
    refusal:
      question: What will the weather be in Lisbon tomorrow?
      text: I don't know based on the provided sources.
  - tool: lookup_plan
    version: 1.x
    arguments: {must_include: [plan], types: {plan: string}}
    result: {must_include: [plan, price_eur_per_month], types: {price_eur_per_month: number}}
"""


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry.load(DEMO_DIR / "content-types")


def failures(tmp_path: Path, registry: Registry, body: str) -> list[tuple[str, str]]:
    path = tmp_path / "c.yaml"
    path.write_text(f"consumer: web\nprovider: charter\nexpects:\n{body}")
    report = check_contracts([load_contract(path)], registry)
    return [(f.field, f.kind) for f in report.failures]


def test_the_support_contract_holds_statically(tmp_path: Path, registry: Registry) -> None:
    path = tmp_path / "support.yaml"
    path.write_text(SUPPORT)
    report = check_contracts([load_contract(path)], registry)
    assert report.ok, [f.describe() for f in report.failures]
    assert report.checked == 2


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("  - {endpoint: /v1/ask, must_include: [answer, citations]}", []),
        ("  - {endpoint: /v1/ask, must_include: [prompt.version]}", [("prompt.version", "optional")]),
        ("  - {endpoint: /v1/ask, must_include: [confidence]}", [("confidence", "optional")]),
        ("  - {endpoint: /v1/ask, types: {refused: string}}", [("refused", "type")]),
        ("  - {endpoint: /v1/ask, refusal: {question: 'Weather?', text: No idea.}}", [("refusal", "refusal")]),
        ("  - {endpoint: /v1/ask, refusal: {question: 'Weather?'}}", []),
        ("  - {tool: lookup_plan, arguments: {must_include: [plan]}}", []),
        ("  - {tool: lookup_plan, arguments: {must_include: [billing]}}", [("arguments.billing", "optional")]),
        ("  - {tool: lookup_plan, arguments: {must_include: [yearly]}}", [("arguments.yearly", "missing")]),
        ("  - {tool: lookup_plan, arguments: {types: {plan: integer}}}", [("arguments.plan", "type")]),
        ("  - {tool: lookup_plan, result: {must_include: [includes]}}", [("result.includes", "optional")]),
        ("  - {tool: lookup_plan, version: 2.x, arguments: {must_include: [plan]}}", [("", "version")]),
        ("  - {tool: lookup_plan, version: '~1.0.0', arguments: {must_include: [plan]}}", []),
        ("  - {tool: nope, arguments: {must_include: [x]}}", [("", "missing")]),
    ],
)
def test_static_checks_on_ask_and_tools(
    tmp_path: Path, registry: Registry, body: str, expected: list[tuple[str, str]]
) -> None:
    assert failures(tmp_path, registry, body) == expected


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("  - {tool: lookup_plan, endpoint: /v1/ask, arguments: {must_include: [plan]}}", "endpoint or a tool"),
        ("  - {endpoint: '/v1/pages/{slug}', arguments: {must_include: [x]}}", "belongs to a tool expectation"),
        ("  - {endpoint: '/v1/pages/{slug}', must_include: [title], questions: [hi]}", "expectation on /v1/ask"),
        ("  - {tool: lookup_plan, must_include: [plan]}", "under arguments or result"),
        ("  - {tool: 'bad name!', arguments: {must_include: [plan]}}", "registered tool's name"),
        ("  - {endpoint: /v1/ask, refusal: 'no'}", "refusal is {question, text}"),
        ("  - {tool: lookup_plan, arguments: {must_include: [plan], extra: 1}}", "mapping with must_include and types"),
    ],
)
def test_bad_llm_expectations(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(f"consumer: web\nprovider: charter\nexpects:\n{body}")
    with pytest.raises(ContractFileError) as info:
        load_contract(path)
    assert any(message in e.message for e in info.value.errors), [e.message for e in info.value.errors]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    from charter.demo import load_demo_content

    db = tmp_path_factory.mktemp("llm-contracts") / "charter.db"
    rt = Runtime.open(load_settings(DEMO_DIR, database_url=f"sqlite:///{db}", trace_exporter="memory", worker=False))
    load_demo_content(rt)
    try:
        with TestClient(create_app(rt.settings, runtime=rt), base_url="http://provider") as client:
            yield client
    finally:
        rt.close()


def test_the_support_contract_holds_live(demo: TestClient, registry: Registry, tmp_path: Path) -> None:
    path = tmp_path / "support.yaml"
    path.write_text(SUPPORT)
    report = verify_contracts([load_contract(path)], "http://provider", registry=registry, client=demo)
    assert report.ok, [f.describe() for f in report.failures]
    assert report.checked == 3  # the question, the refusal, the tool call's arguments


def test_live_failures_name_the_question_and_field(demo: TestClient, registry: Registry, tmp_path: Path) -> None:
    path = tmp_path / "strict.yaml"
    path.write_text(
        "consumer: strict\nprovider: charter\nexpects:\n"
        "  - endpoint: /v1/ask\n    types: {answer: integer}\n"
        "    questions: ['Can I get a refund on an annual plan?']\n"
        "    refusal: {question: 'Can I get a refund on an annual plan?'}\n"
        "  - tool: lookup_plan\n    arguments: {types: {plan: integer}}\n"
    )
    report = verify_contracts([load_contract(path)], "http://provider", registry=registry, client=demo)
    found = {(f.endpoint, f.entry, f.field, f.kind) for f in report.failures}
    question = "Can I get a refund on an annual plan?"
    assert found == {
        ("/v1/ask", question, "answer", "type"),
        ("/v1/ask", question, "refused", "refusal"),
        ("tool:lookup_plan", "lookup_plan", "arguments.plan", "type"),
    }
