"""The docs are part of the product: README opens with the two commands, links every page under
docs/, and no relative link in README or docs/ points at a file that does not exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_readme_opens_with_make_run_and_make_test() -> None:
    text = README.read_text(encoding="utf-8")
    first_block = text.split("```", 2)[1]
    commands = [line.split("#")[0].strip() for line in first_block.splitlines()[1:] if line.strip()]
    assert commands == ["make run", "make test"]


def test_every_docs_page_is_linked_from_the_readme() -> None:
    documentation = README.read_text(encoding="utf-8").split("## Documentation", 1)[1]
    linked = set(LINK.findall(documentation))
    missing = [f"docs/{page.name}" for page in DOCS if f"docs/{page.name}" not in linked]
    assert not missing, f"link these from README.md's Documentation section: {missing}"


@pytest.mark.parametrize("page", [README, *DOCS], ids=lambda p: p.name)
def test_relative_links_resolve(page: Path) -> None:
    broken = []
    for target in LINK.findall(page.read_text(encoding="utf-8")):
        if target.startswith(("http://", "https://", "mailto:", "#")):
            continue
        path = target.split("#", 1)[0]
        if path and not (page.parent / path).exists():
            broken.append(target)
    assert not broken, f"{page.name}: broken links {broken}"
