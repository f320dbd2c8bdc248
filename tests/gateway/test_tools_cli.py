"""``charter tools``: list, show, diff, check on the demo's tools and on broken or mis-versioned files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from charter.cli.commands import tools as tools_cli
from charter.cli.errors import run_cli


@pytest.fixture
def cli(gw_project: Path, capsys: Any) -> Any:
    def invoke(*args: str) -> tuple[int, str, str]:
        try:
            run_cli(tools_cli.app, [*args, "--project", str(gw_project)])
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    return invoke


def test_list_show_and_openai_definition(cli: Any) -> None:
    code, out, _ = cli("list", "--json")
    assert code == 0
    assert [(t["name"], t["latest"], t["risk"]) for t in json.loads(out)] == [
        ("lookup_plan", "1.1.0", "low"),
        ("open_ticket", "1.0.0", "medium"),
    ]
    code, out, _ = cli("show", "lookup_plan", "1.0.0", "--openai")
    definition = json.loads(out)
    assert definition["function"]["name"] == "lookup_plan"
    assert definition["function"]["parameters"]["required"] == ["plan"]
    code, _, err = cli("show", "lookup_plan", "9.9.9")
    assert code == 1 and "no version '9.9.9'" in err


def test_diff_classifies_with_the_content_type_classifier(cli: Any) -> None:
    code, out, _ = cli("diff", "lookup_plan", "1.0.0", "1.1.0", "--json")
    report = json.loads(out)
    assert code == 0 and report["required_bump"] == "minor" and report["declared_bump"] == "minor"
    assert [c["pointer"] for c in report["arguments"]["changes"]] == ["/properties/billing"]


def _add_version(project: Path, version: str, arguments: dict[str, Any]) -> None:
    path = project / "tools" / "lookup_plan.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["versions"][version] = {"changelog": "Change.", "arguments": arguments}
    path.write_text(yaml.safe_dump(doc))


@pytest.mark.parametrize(
    ("version", "ok"),
    [("1.2.0", False), ("2.0.0", True)],
)
def test_check_needs_a_major_for_a_breaking_argument_change(cli: Any, gw_project: Path, version: str, ok: bool) -> None:
    # A new required argument breaks every caller of 1.1.0.
    required = {
        "type": "object",
        "required": ["plan", "seats"],
        "properties": {"plan": {"type": "string"}, "seats": {"type": "integer"}},
    }
    _add_version(gw_project, version, required)
    code, out, err = cli("check")
    assert (code == 0) is ok, out + err
    if not ok:
        assert "need a major version" in err and "seats" in err


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ({"risk": "extreme"}, "/risk"),
        ({"offer": {"routes": ["nowhere"]}}, "unknown route or model 'nowhere'"),
        ({"versions": {"1.0": {"changelog": "x", "arguments": {"type": "object"}}}}, "not a semantic version"),
        ({"versions": {"1.0.0": {"changelog": "x", "arguments": {"type": "bogus"}}}}, "not a valid JSON Schema"),
        ({"name": "other"}, "tools/other.yaml"),
    ],
)
def test_check_reports_broken_files(cli: Any, gw_project: Path, edit: dict[str, Any], message: str) -> None:
    path = gw_project / "tools" / "lookup_plan.yaml"
    path.write_text(yaml.safe_dump({**yaml.safe_load(path.read_text()), **edit}))
    code, _, err = cli("check")
    assert code == 1 and message in err
