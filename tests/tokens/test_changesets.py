"""The Changesets-compatible workflow: ``charter tokens changeset add`` and ``charter tokens version`` on a
workspace of a base token package and a brand package built on it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.tokens.conftest import cli, px, srgb, write

BASE = "@acme/base-tokens"
BRAND = "@acme/brand-tokens"


def _workspace(root: Path) -> Path:
    write(
        root / "package.json",
        {"name": "acme-design", "version": "0.0.0", "private": True, "workspaces": ["packages/*"]},
    )
    base, brand = root / "packages" / "base", root / "packages" / "brand"
    write(base / "package.json", {"name": BASE, "version": "1.0.0"})
    write(
        base / "tokens" / "base.tokens.json",
        {"color": {"$type": "color", "blue": {"$value": srgb(0, 0, 1)}, "red": {"$value": srgb(1, 0, 0)}}},
    )
    write(
        brand / "package.json",
        {
            "name": BRAND,
            "version": "1.0.0",
            "dependencies": {BASE: "^1.0.0"},
            "charter": {"tokens": ["../base/tokens", "tokens"]},
        },
    )
    write(brand / "tokens" / "brand.tokens.json", {"brand": {"$type": "color", "primary": {"$value": "{color.blue}"}}})
    return root


def _pkg(root: Path, name: str) -> dict[str, Any]:
    return json.loads((root / "packages" / name / "package.json").read_text())


def _first_release(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(capsys, "changeset", "add", "--root", str(root), "-m", "First release.").code == 0
    run = cli(capsys, "version", "--root", str(root))
    assert run.code == 0, run.err
    assert _pkg(root, "base")["version"] == _pkg(root, "brand")["version"] == "1.0.1"


def test_changeset_add_writes_a_changesets_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _workspace(tmp_path)
    run = cli(capsys, "changeset", "add", "--root", str(root), "-p", f"{BASE}=minor", "-p", BRAND, "-m", "Warm reds")
    assert run.code == 0, run.err
    [path] = (root / ".changeset").glob("*.md")
    assert path.read_text() == f'---\n"{BASE}": minor\n"{BRAND}": patch\n---\n\nWarm reds\n'


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["-p", "@acme/nope", "-m", "x"], "unknown package '@acme/nope'"),
        (["-p", f"{BASE}=huge", "-m", "x"], "bump must be one of patch, minor, major"),
        (["-m", "  "], "needs a summary"),
    ],
)
def test_changeset_add_refuses_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], words: str
) -> None:
    root = _workspace(tmp_path)
    run = cli(capsys, "changeset", "add", "--root", str(root), *argv)
    assert run.code == 1 and words in run.err
    assert not list((root / ".changeset").glob("*.md")) if (root / ".changeset").exists() else True


def test_a_declared_bump_smaller_than_the_token_change_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _workspace(tmp_path)
    _first_release(root, capsys)
    base_tokens = root / "packages" / "base" / "tokens" / "base.tokens.json"
    write(base_tokens, {"color": {"$type": "color", "blue": {"$value": srgb(0, 0, 1)}}})  # red removed: major
    cli(capsys, "changeset", "add", "--root", str(root), "-p", f"{BASE}=minor", "-m", "Drop red")
    before = {p: p.read_text() for p in root.rglob("*") if p.is_file()}
    run = cli(capsys, "version", "--root", str(root))
    assert run.code == 1
    assert (
        f"{BASE}: the changesets declare a minor bump, but the token changes need major (removed color.red)" in run.err
    )
    assert {p: p.read_text() for p in root.rglob("*") if p.is_file()} == before  # nothing written


def test_changed_tokens_without_a_changeset_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _workspace(tmp_path)
    _first_release(root, capsys)
    write(
        root / "packages" / "brand" / "tokens" / "brand.tokens.json",
        {"brand": {"$type": "color", "primary": {"$value": "{color.red}"}}},
    )
    run = cli(capsys, "version", "--root", str(root))
    assert run.code == 1 and f"{BRAND}: its tokens changed (patch bump) but no changeset names it" in run.err


def test_base_and_brand_are_versioned_together(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _workspace(tmp_path)
    _first_release(root, capsys)
    base_tokens = root / "packages" / "base" / "tokens" / "base.tokens.json"
    doc = json.loads(base_tokens.read_text())
    doc["space"] = {"$type": "dimension", "sm": {"$value": px(4)}}  # a new token: minor
    write(base_tokens, doc)
    cli(capsys, "changeset", "add", "--root", str(root), "-p", f"{BASE}=minor", "-m", "Add spacing.")
    dry = cli(capsys, "version", "--root", str(root), "--dry-run", "--json")
    planned = {r["name"]: r for r in json.loads(dry.out)}
    assert planned[BASE]["version"] == "1.1.0"
    # The brand package includes the base's tokens: its own diff needs minor, and it depends on the base.
    assert planned[BRAND]["version"] == "1.1.0" and planned[BRAND]["dependencies"] == [f"{BASE}@1.1.0"]
    assert list((root / ".changeset").glob("*.md"))  # a dry run keeps them

    run = cli(capsys, "version", "--root", str(root))
    assert run.code == 0, run.err
    assert _pkg(root, "base")["version"] == "1.1.0"
    brand = _pkg(root, "brand")
    assert brand["version"] == "1.1.0" and brand["dependencies"] == {BASE: "^1.1.0"}
    log = (root / "packages" / "brand" / "CHANGELOG.md").read_text()
    assert log.startswith(f"# {BRAND}\n\n## 1.1.0\n")
    assert f"- Updated dependencies\n  - {BASE}@1.1.0" in log and "- minor: added `space.sm`" in log
    assert "## 1.0.1" in log  # the earlier release stays below
    base_log = (root / "packages" / "base" / "CHANGELOG.md").read_text()
    assert "### Minor Changes\n\n- Add spacing." in base_log
    release = json.loads((root / "packages" / "base" / "release.json").read_text())
    assert release["version"] == "1.1.0" and "space.sm" in release["themes"]["default"]
    assert not list((root / ".changeset").glob("*.md"))
    assert cli(capsys, "version", "--root", str(root)).out.strip() == "nothing to release"


def test_a_malformed_changeset_is_reported_with_its_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _workspace(tmp_path)
    write(root / ".changeset" / "bad.md", f'---\n"{BASE}" minor\n---\n\nx\n')
    run = cli(capsys, "version", "--root", str(root))
    assert run.code == 1 and "bad.md#/line/2" in run.err
