"""Versioning against the last released token set: semver bump rules, changelog, release file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from charter.exceptions import ValidationFailed
from charter.tokens.build import BuildOptions, build
from charter.tokens.versioning import bump_version, diff
from tests.tokens.conftest import cli, srgb, write

BLUE, RED = srgb(0, 0, 1), srgb(1, 0, 0)


def snap(**tokens: tuple[str, Any]) -> dict[str, dict[str, Any]]:
    return {"default": {path.replace("_", "."): {"$type": t, "$value": v} for path, (t, v) in tokens.items()}}


OLD = {"version": "1.4.2", "themes": snap(a=("color", BLUE), b=("number", 1))}


@pytest.mark.parametrize(
    ("new", "policy", "bump", "kinds"),
    [
        (snap(a=("color", BLUE), b=("number", 1)), "patch", "none", []),
        (snap(a=("color", BLUE), b=("number", 1), c=("number", 2)), "patch", "minor", ["added"]),
        (snap(a=("color", RED), b=("number", 1)), "patch", "patch", ["value"]),
        (snap(a=("color", RED), b=("number", 1)), "minor", "minor", ["value"]),
        (snap(a=("color", BLUE)), "patch", "major", ["removed"]),
        (snap(a=("color", BLUE), c=("number", 1)), "patch", "major", ["renamed"]),
        (snap(a=("color", BLUE), b=("dimension", {"value": 1, "unit": "px"})), "patch", "major", ["type"]),
        (
            snap(a=("color", BLUE), b=("number", 1), c=("number", 5)) | {"dark": {}},
            "patch",
            "minor",
            ["added", "theme-added"],
        ),
        ({}, "patch", "major", ["theme-removed"]),
    ],
    ids=["same", "added", "value-patch", "value-minor", "removed", "renamed", "type", "theme-added", "theme-removed"],
)
def test_bump_rules(new: dict[str, Any], policy: str, bump: str, kinds: list[str]) -> None:
    d = diff(OLD, new, value_change=policy)
    assert d.bump == bump
    assert sorted(c.kind for c in d.changes) == sorted(kinds)
    assert d.version == bump_version("1.4.2", bump)


def test_renamed_token_names_both_paths() -> None:
    d = diff(OLD, snap(a=("color", BLUE), c=("number", 1)))
    (change,) = d.changes
    assert (change.kind, change.path, change.detail) == ("renamed", "b", "b -> c")


def test_deprecating_a_token_is_minor() -> None:
    new = snap(a=("color", BLUE), b=("number", 1))
    new["default"]["b"]["$deprecated"] = "Use a"
    d = diff(OLD, new)
    assert d.bump == "minor" and d.changes[0].kind == "deprecated" and d.changes[0].detail == "Use a"


@pytest.mark.parametrize(
    ("version", "bump", "expected"),
    [
        ("1.4.2", "major", "2.0.0"),
        ("1.4.2", "minor", "1.5.0"),
        ("1.4.2", "patch", "1.4.3"),
        ("2.0.0-rc.1", "patch", "2.0.1"),
    ],
)
def test_bump_version(version: str, bump: str, expected: str) -> None:
    assert bump_version(version, bump) == expected


def test_a_release_writes_the_snapshot_and_the_changelog(tmp_path: Path) -> None:
    d = tmp_path / "tokens"
    write(d / "tokens.json", {"a": {"$type": "color", "$value": BLUE}})
    first = build(BuildOptions(sources=[d], out=tmp_path / "out", release=True, name="@acme/tokens"))
    assert (first.version, first.bump, first.released) == ("1.0.0", "none", True)
    release = json.loads((d / "release.json").read_text())
    assert release["name"] == "@acme/tokens" and release["themes"]["default"]["a"]["$type"] == "color"

    write(d / "tokens.json", {"a": {"$type": "color", "$value": RED}, "b": {"$type": "number", "$value": 1}})
    preview = build(BuildOptions(sources=[d], out=tmp_path / "out"))
    assert (preview.version, preview.previous, preview.bump) == ("1.1.0", "1.0.0", "minor")
    assert json.loads((d / "release.json").read_text())["version"] == "1.0.0", "no --release: nothing recorded"

    second = build(BuildOptions(sources=[d], out=tmp_path / "out", release=True))
    assert second.version == "1.1.0" and second.name == "@acme/tokens"
    changelog = (tmp_path / "out" / "CHANGELOG.md").read_text()
    assert "## 1.1.0 (" in changelog and "## 1.0.0 (" in changelog
    assert "### Additions (minor)\n\n- Added `b` (themes: default)" in changelog
    assert "- Changed the value of `a`" in changelog
    assert json.loads((tmp_path / "out" / "package.json").read_text())["version"] == "1.1.0"


def test_a_broken_release_snapshot_is_an_error(tmp_path: Path) -> None:
    d = tmp_path / "tokens"
    write(d / "tokens.json", {"a": {"$type": "color", "$value": BLUE}})
    write(d / "release.json", {"themes": {}})
    with pytest.raises(ValidationFailed) as info:
        build(BuildOptions(sources=[d]))
    assert "needs 'version' and 'themes'" in info.value.errors[0].message


def test_tokens_diff_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = tmp_path / "tokens"
    write(d / "tokens.json", {"a": {"$type": "color", "$value": BLUE}, "b": {"$type": "number", "$value": 1}})
    assert cli(capsys, "diff", str(d)).out.startswith("no release snapshot at ")
    build(BuildOptions(sources=[d], release=True))
    write(d / "tokens.json", {"a": {"$type": "color", "$value": RED}})
    run = cli(capsys, "diff", str(d))
    assert run.code == 0
    assert run.out.splitlines()[0] == "1.0.0 -> 2.0.0 (major)"
    assert "major  removed       b  [default]" in run.out
    data = json.loads(cli(capsys, "diff", str(d), "--json", "--value-change", "minor").out)
    assert data["bump"] == "major" and {c["kind"] for c in data["changes"]} == {"removed", "value"}
    missing = cli(capsys, "diff", str(d), "--against", str(tmp_path / "nope.json"))
    assert missing.code == 1 and "no such release snapshot" in missing.err
