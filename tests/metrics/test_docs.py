"""The docs name every metric, gate, budget key and CLI option, so a user never reads code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from charter.metrics.gates import ci_gates
from charter.metrics.registry import METRICS
from charter.plugins import make_plugin_manager

DOCS = Path(__file__).parents[2] / "docs"


def _text(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def test_every_metric_and_its_prometheus_name_is_documented() -> None:
    text = _text("metrics.md")
    for m in METRICS.values():
        assert f"`{m.name}`" in text, m.name
    for name in ("charter_metric_ok", "charter_metric_target", "charter_dora_change_fail_ratio"):
        assert name in text


def test_every_gate_is_documented() -> None:
    text = _text("ci.md")
    for name in ci_gates(make_plugin_manager(load_entrypoints=False)):
        assert f"| `{name}` |" in text, name
    assert "GitHub Actions" in text and "charter ci" in text


@pytest.mark.parametrize(
    ("module", "doc"),
    [
        ("charter.cli.commands.metrics", "metrics.md"),
        ("charter.cli.commands.deploy", "metrics.md"),
        ("charter.cli.commands.budgets", "budgets.md"),
        ("charter.cli.commands.ci", "ci.md"),
    ],
)
def test_every_cli_option_is_documented(module: str, doc: str) -> None:
    source = Path(__import__(module, fromlist=["_"]).__file__).read_text(encoding="utf-8")
    text = _text(doc)
    options = set(re.findall(r'typer\.Option\(\s*"(--[a-z-]+)"', source))
    assert options, module
    missing = sorted(o for o in options if o not in text)
    assert not missing, f"{doc} does not mention {missing}"


def test_every_budget_key_is_documented() -> None:
    from charter.metrics.budgets import config

    text = _text("budgets.md")
    source = Path(config.__file__).read_text(encoding="utf-8")
    keys = set()
    for group in re.findall(r"allowed = \{([^}]*)\}", source) + re.findall(r'\{("name", "files"[^}]*)\}', source):
        keys |= set(re.findall(r'"([a-z_0-9]+)"', group))
    assert keys >= {"endpoint", "p95_ms", "route", "files", "max_bytes"}
    missing = sorted(k for k in keys if not re.search(rf"\b{k}:", text))
    assert not missing, f"budgets.md does not show {missing}"
