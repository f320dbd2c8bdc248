"""The schema check: semver enforcement against git refs and the registry, explained change by
change; contracts run inside it; the CLI doors and their bad-input errors."""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from charter.cli.commands import contracts as contracts_cli
from charter.cli.commands import schema as schema_cli
from charter.config import load_settings
from charter.content.schema_check import run_schema_check
from charter.schemas.compat.baselines import Released
from charter.schemas.compat.check import check_type
from charter.schemas.compat.semver import Range, SemverError, Version

runner = CliRunner()
APP = typer.Typer()
APP.add_typer(schema_cli.app, name="schema")
APP.add_typer(contracts_cli.app, name="contracts")


def cli(*args: str) -> Any:
    """The ``schema`` and ``contracts`` groups as the root CLI mounts them."""
    return runner.invoke(APP, list(args))


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=repo, check=True,
        capture_output=True,
    )  # fmt: skip


@pytest.fixture
def repo(project_dir: Path) -> Path:
    _git(project_dir, "init", "-q", "-b", "main")
    _git(project_dir, "add", "-A")
    _git(project_dir, "commit", "-q", "-m", "v1")
    return project_dir


def page(repo: Path) -> dict[str, Any]:
    return json.loads((repo / "content-types" / "page.schema.json").read_text())


def write_page(repo: Path, schema: dict[str, Any]) -> None:
    (repo / "content-types" / "page.schema.json").write_text(json.dumps(schema, indent=2))


def released(schema: dict[str, Any], version: str, source: str = "registry") -> Released:
    s = {**copy.deepcopy(schema), "version": version}
    return Released("page", s["$id"], version, s, source)


def test_bump_too_small_is_explained_change_by_change(repo: Path) -> None:
    old = page(repo)
    new = copy.deepcopy(old)
    new["version"] = "1.1.0"
    new["required"].append("description")  # stored pages without a description break
    new["properties"]["title"]["maxLength"] = 60  # stored long titles break
    result = check_type("page", new, [released(old, "1.0.0")])
    assert not result.ok and result.required_bump == "major" and result.declared_bump == "minor"
    (problem,) = result.problems
    assert problem.kind == "bump-too-small"
    assert "1.0.0 -> 1.1.0 is a minor bump, but 2 change(s) require a major bump (2.0.0)" in problem.message
    assert "/required" in problem.message and "/properties/title/maxLength" in problem.message
    assert {c.pointer for c in problem.changes} == {"/required", "/properties/title/maxLength"}


def test_unbumped_change_and_downgrade_fail(repo: Path) -> None:
    old = page(repo)
    new = copy.deepcopy(old)
    new["description"] = "now with better words"
    result = check_type("page", new, [released(old, "1.0.0")])
    assert [p.kind for p in result.problems] == ["not-bumped"]
    assert "bump it to at least a patch release (1.0.1)" in result.problems[0].message
    new["version"] = "1.0.1"
    assert check_type("page", new, [released(old, "1.0.0")]).ok
    result = check_type("page", new, [released(old, "1.0.0"), released(old, "1.2.0")])
    assert "downgrade" in [p.kind for p in result.problems]


def test_major_needs_a_new_id_major(repo: Path) -> None:
    old = page(repo)
    new = copy.deepcopy(old)
    new["required"].append("description")
    new["version"] = "2.0.0"
    result = check_type("page", new, [released(old, "1.0.0")])
    assert [p.kind for p in result.problems] == ["id-major"]
    assert "needs $id 'page.v2'" in result.problems[0].message
    new["$id"] = "page.v2"
    assert check_type("page", new, [released(old, "1.0.0")]).ok


def test_transitive_policy_compares_with_every_release_of_the_major(repo: Path) -> None:
    v1 = page(repo)
    v1["x-charter"]["policy"] = "BACKWARD_TRANSITIVE"
    v1["properties"]["note"] = {"type": "string"}  # 1.0.0 allowed a string note
    v11 = copy.deepcopy(v1)
    del v11["properties"]["note"]
    v11["additionalProperties"] = True  # 1.1.0: note gone, model opened (backward-compatible)
    v12 = copy.deepcopy(v11)
    v12["properties"]["note"] = {"type": "string"}  # 1.2.0: vs 1.1.0 a backward break (any -> string)
    v12["properties"]["note"] = {"type": "string", "maxLength": 5}
    v12["additionalProperties"] = False
    history = [released(v1, "1.0.0"), released(v11, "1.1.0")]
    plain = check_type("page", {**v12, "version": "1.2.0"}, history, policy="BACKWARD")
    transitive = check_type("page", {**v12, "version": "1.2.0"}, history)
    assert transitive.policy == "BACKWARD_TRANSITIVE"
    assert [v for v, _ in transitive.transitive] == ["1.0.0"]
    assert any(p.kind == "transitive" and "1.0.0" in p.message for p in transitive.problems)
    assert not plain.transitive


def test_check_against_git_ref_with_contracts(repo: Path) -> None:
    settings = load_settings(repo, database_url=f"sqlite:///{repo / 'none.db'}")
    report = run_schema_check(settings, against="main")
    assert report.ok and all(t.status == "unchanged" for t in report.types)
    schema = page(repo)
    schema["version"] = "1.1.0"
    schema["$defs"]["hero"]["properties"]["cta"] = {"$ref": "#/$defs/link"}
    schema["$defs"]["hero"]["required"] = ["intent", "title"]  # cta becomes optional: FORWARD break
    write_page(repo, schema)
    report = run_schema_check(settings, against="main")
    assert not report.ok
    (pg,) = [t for t in report.types if t.name == "page"]
    assert pg.required_bump == "major" and pg.baseline_source == "git:main"
    assert any(c.pointer == "/$defs/hero/required" and c.forward for c in pg.changes)
    assert report.contracts is not None
    failing = {(f.consumer, f.endpoint, f.field) for f in report.contracts.failures}
    assert ("marketing-web", "/v1/pages/{slug}", "hero.cta.href") in failing
    assert all(f.introduced for f in report.contracts.failures)
    data = report.to_dict()
    assert data["ok"] is False and data["contracts"]["failures"][0]["consumer"] == "marketing-web"


def test_cli_check_fails_naming_consumer_endpoint_field(repo: Path) -> None:
    schema = page(repo)
    schema["version"] = "1.0.1"
    schema["$defs"]["link"]["properties"]["href"] = {"type": "string"}  # no longer a url
    write_page(repo, schema)
    result = cli("schema", "check", "--against", "main", "-p", str(repo))
    assert result.exit_code == 1, result.output
    assert "marketing-web -> /v1/pages/{slug} hero.cta.href:" in result.output
    assert "bump-too-small" not in result.output  # people read messages, not kinds
    assert "is a patch bump, but" in result.output
    result = cli("schema", "check", "--against", "main", "-p", str(repo), "--json")
    assert result.exit_code == 1
    assert json.loads(result.output)["types"][3]["name"] == "page"


def test_cli_check_bad_ref_and_bad_policy(repo: Path) -> None:
    result = cli("schema", "check", "--against", "no-such-ref", "-p", str(repo))
    assert result.exit_code == 1
    assert "unknown git ref 'no-such-ref'" in str(result.exception) + result.output
    result = cli("schema", "check", "--policy", "SIDEWAYS", "-p", str(repo))
    assert result.exit_code == 2 and "unknown compatibility policy 'SIDEWAYS'" in result.output


def test_cli_diff_files_and_git_specs(repo: Path, tmp_path: Path) -> None:
    schema = page(repo)
    schema["properties"]["title"]["maxLength"] = 200
    new = tmp_path / "new.json"
    new.write_text(json.dumps(schema))
    result = cli("schema", "diff", str(repo / "content-types" / "page.schema.json"), str(new), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["required_bump"] == "major"
    assert data["changes"] == [
        {
            "pointer": "/properties/title/maxLength",
            "kind": "maxLength.relaxed",
            "message": "maxLength 120 -> 200",
            "breaks_backward": False,
            "breaks_forward": True,
            "level": "major",
        }
    ]
    result = cli("schema", "diff", str(new), str(new), "--policy", "BACKWARD")
    assert result.exit_code == 0 and "no changes" in result.output


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "is not valid JSON"),
        ('{"type": 5}', "invalid JSON Schema"),
        (
            '{"type": "object", "properties": {"a": {"$ref": "#/$defs/a"}}, "$defs": {"a": {"$ref": "#/$defs/b"},'
            ' "b": {"$ref": "#/$defs/a"}}}',
            "cyclic $ref",
        ),
        ('{"type": "object", "properties": {"a": {"$ref": "#/$defs/missing"}}}', "unresolvable $ref"),
    ],
)
def test_cli_diff_bad_input(tmp_path: Path, content: str, expected: str) -> None:
    good = tmp_path / "good.json"
    good.write_text('{"type": "object"}')
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    result = cli("schema", "diff", str(good), str(bad))
    assert result.exit_code == 1
    message = (
        str(result.exception) + result.output + " ".join(e.message for e in getattr(result.exception, "errors", []))
    )
    assert expected in message and "bad.json" in message


@pytest.mark.parametrize(
    ("range_", "yes", "no"),
    [
        ("1.x", ["1.0.0", "1.9.3"], ["2.0.0", "0.9.0", "2.0.0-rc.1"]),
        ("^1.2.3", ["1.2.3", "1.9.0"], ["1.2.2", "2.0.0"]),
        ("^0.2.3", ["0.2.9"], ["0.3.0"]),
        ("~1.2", ["1.2.0", "1.2.9"], ["1.3.0"]),
        (">=1.2 <2", ["1.2.0", "1.99.0"], ["2.0.0", "1.1.9"]),
        ("1.2 - 2.3.4", ["1.2.0", "2.3.4"], ["2.3.5"]),
        ("1 || 3", ["1.5.0", "3.0.0"], ["2.0.0"]),
        ("*", ["0.0.1", "7.0.0"], ["1.0.0-beta"]),
        ("^1.0.0-beta.2", ["1.0.0-beta.3", "1.0.0"], ["1.0.0-beta.1", "1.1.0-beta.1"]),
        ("1.2.3", ["1.2.3"], ["1.2.4"]),
    ],
)
def test_npm_ranges(range_: str, yes: list[str], no: list[str]) -> None:
    r = Range.parse(range_)
    assert all(r.satisfied_by(v) for v in yes)
    assert not any(r.satisfied_by(v) for v in no)


@pytest.mark.parametrize("bad", ["foo", "1.x.y", ">=a", "1.2.3 -", 12, None])
def test_bad_ranges(bad: Any) -> None:
    with pytest.raises(SemverError):
        Range.parse(bad)


def test_versions_order_by_semver() -> None:
    ordered = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-beta", "1.0.0", "1.0.1", "1.10.0", "2.0.0"]
    scrambled = ["1.10.0", "1.0.0", "2.0.0", "1.0.0-beta", "1.0.1", "1.0.0-alpha.1", "1.0.0-alpha"]
    assert sorted(scrambled, key=Version.parse) == ordered
    with pytest.raises(SemverError):
        Version.parse("1.0")


def test_back_on_an_old_major_after_a_rolled_back_migration(repo: Path) -> None:
    v1 = page(repo)
    v2 = {**copy.deepcopy(v1), "$id": "page.v2", "version": "2.0.0"}
    history = [released(v1, "1.0.0"), Released("page", "page.v2", "2.0.0", v2, "registry")]
    assert [p.kind for p in check_type("page", v1, history).problems] == ["downgrade"]
    result = check_type("page", v1, history, rolled_back={"page.v2"})
    assert result.ok and result.status == "unchanged"
    assert result.notes == ["back on the released 1.0.0 after rolling back the migration to page.v2"]
    edited = {**copy.deepcopy(v1), "description": "edited"}
    assert "downgrade" in [p.kind for p in check_type("page", edited, history, rolled_back={"page.v2"}).problems]


def test_an_empty_registry_says_so(repo: Path) -> None:
    settings = load_settings(repo, database_url=f"sqlite:///{repo / 'none.db'}")
    report = run_schema_check(settings)
    assert report.ok and all(t.status == "new" for t in report.types)
    assert "nothing released yet" in report.notes[0] and "--against" in report.notes[0]


def test_demo_check_is_green_from_a_fresh_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # and in a fresh demo database (CHARTER_DEMO_DATA, tests/conftest.py)
    result = cli("schema", "check", "--demo", "--content")
    assert result.exit_code == 0, result.output
    assert "unchanged page  1.0.0 -> 1.0.0" in result.output and "schema check passed" in result.output
    assert "0 entr(ies) would break" in result.output and "nothing released yet" not in result.output
