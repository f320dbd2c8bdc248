"""The retrieval contract is validated on load: every problem with a pointer and a line."""

from __future__ import annotations

from pathlib import Path

import pytest

from charter.config import DEMO_DIR
from charter.exceptions import ConfigError, ValidationFailed
from charter.retrieval.contract import load_contract, parse_contract, parse_duration
from charter.schemas.registry import Registry

GOOD = """
version: 1
indexes:
  product-docs:
    sources:
      - type: doc
        fields: [body]
intents:
  help:
    indexes: [product-docs]
"""


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry.load(DEMO_DIR / "content-types")


def test_the_demo_contract_loads(registry: Registry) -> None:
    contract = load_contract(DEMO_DIR / "retrieval.yaml", registry)
    assert set(contract.indexes) == {"product-docs", "legal", "marketing-claims"}
    assert contract.indexes["legal"].citations.every_sentence
    assert contract.indexes["legal"].regulated
    assert contract.indexes["legal"].freshness_slo == 300.0
    assert contract.chunking_for("legal").max_tokens == 80
    assert contract.chunking_for("product-docs").max_tokens == 120
    assert contract.intents["claims"].indexes == ["marketing-claims"]  # regulated: never mixed


def test_defaults_apply(registry: Registry) -> None:
    contract = parse_contract(GOOD, registry=registry)
    assert contract.mode == "hybrid" and contract.dense == "auto"
    assert contract.chunking.by_heading and contract.chunking.overlap < contract.chunking.max_tokens
    assert contract.fallback_intent == "help"


@pytest.mark.parametrize(
    ("text", "pointer", "fragment"),
    [
        (
            GOOD.replace("type: doc", "type: nope"),
            "/indexes/product-docs/sources/0/type",
            "unknown content type 'nope'",
        ),
        (GOOD.replace("[body]", "[bodyy]"), "/indexes/product-docs/sources/0/fields/0", "has no field 'bodyy'"),
        (GOOD.replace("[body]", "['bo dy']"), "/indexes/product-docs/sources/0/fields", "bad field path"),
        (GOOD.replace("indexes: [product-docs]", "indexes: [legal]"), "/intents/help/indexes/0", "unknown index"),
        (GOOD + "chunking: {max_tokens: 50, overlap: 50}\n", "/chunking/overlap", "smaller than max_tokens"),
        (GOOD + "default_intent: sales\n", "/default_intent", "unknown intent 'sales'"),
        (GOOD + "mode: fuzzy\n", "/mode", "Input should be"),
        (GOOD + "colour: blue\n", "/colour", "Extra inputs"),
        (
            GOOD.replace("        fields: [body]", "        fields: [body]\n    freshness_slo: soon"),
            "/indexes/product-docs/freshness_slo",
            "not a duration",
        ),
        (
            GOOD.replace("product-docs:\n", "Product_Docs:\n", 1).replace("[product-docs]", "[Product_Docs]"),
            "/indexes/Product_Docs",
            "must match",
        ),
    ],
)
def test_invalid_contracts_are_rejected_with_a_pointer_and_line(
    registry: Registry, text: str, pointer: str, fragment: str
) -> None:
    with pytest.raises(ValidationFailed) as info:
        parse_contract(text, "retrieval.yaml", registry)
    found = [e for e in info.value.errors if e.pointer == pointer]
    assert found, [e.to_dict() for e in info.value.errors]
    assert fragment in found[0].message
    assert found[0].message.startswith("line ")
    assert found[0].file == "retrieval.yaml"


def test_every_problem_is_reported_at_once(registry: Registry) -> None:
    text = GOOD.replace("type: doc", "type: nope").replace("indexes: [product-docs]", "indexes: [x]")
    with pytest.raises(ValidationFailed) as info:
        parse_contract(text, registry=registry)
    assert {e.pointer for e in info.value.errors} >= {"/indexes/product-docs/sources/0/type", "/intents/help/indexes/0"}


def test_not_yaml_and_not_a_mapping() -> None:
    with pytest.raises(ValidationFailed, match=r"not valid YAML \(line \d+\)"):
        parse_contract("indexes:\n  - [unclosed\n")
    with pytest.raises(ValidationFailed, match="must be a mapping"):
        parse_contract("- a\n- b\n")


def test_a_missing_contract_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="retrieval contract not found"):
        load_contract(tmp_path / "retrieval.yaml")


@pytest.mark.parametrize(
    ("value", "seconds"), [("30s", 30.0), ("5m", 300.0), ("24h", 86400.0), ("250ms", 0.25), (7, 7.0)]
)
def test_durations(value: str | int, seconds: float) -> None:
    assert parse_duration(value) == seconds
