"""The curated public surface (``charter.__all__``) is sorted, complete and importable, and
``import charter`` / ``charter --help`` stay cheap: no web stack, no database, no ML, no SDKs."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import charter

INIT = Path(charter.__file__)


def test_all_is_sorted_and_unique() -> None:
    assert charter.__all__ == sorted(set(charter.__all__))


def test_every_public_name_resolves_to_where_the_lazy_table_says() -> None:
    lazy: dict[str, str] = charter._LAZY  # type: ignore[attr-defined]
    assert set(charter.__all__) == {*lazy, "__version__"}
    for name, module in lazy.items():
        value = getattr(charter, name)
        assert getattr(sys.modules[module], name) is value, name


def test_type_checking_imports_match_the_lazy_table() -> None:
    """What type checkers see is what callers get."""
    tree = ast.parse(INIT.read_text(encoding="utf-8"))
    block = next(n for n in tree.body if isinstance(n, ast.If) and getattr(n.test, "id", "") == "TYPE_CHECKING")
    seen = {
        alias.asname or alias.name: node.module
        for node in block.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    assert seen == charter._LAZY  # type: ignore[attr-defined]


def test_unknown_names_raise_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_thing"):
        charter.no_such_thing  # type: ignore[attr-defined]  # noqa: B018
    assert set(charter.__all__) <= set(dir(charter))


#: Top-level packages that must not be imported by `import charter` or by building the CLI.
HEAVY = {
    "torch", "openai", "anthropic", "numpy", "scipy", "bm25s", "Stemmer", "fastapi", "starlette",
    "uvicorn", "granian", "sqlalchemy", "alembic", "psycopg", "redis", "opentelemetry", "jsonschema", "httpx",
    "prometheus_client", "jinja2", "pydantic",
}  # fmt: skip


def _imported(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"],
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    return {name.split(".")[0] for name in json.loads(out.splitlines()[-1])}


def test_import_charter_is_cheap() -> None:
    assert _imported("import charter") & HEAVY == set()


def test_building_the_cli_is_cheap() -> None:
    """`charter --help` loads every group's module: none may import a heavy dependency at import time."""
    assert _imported("from charter.cli.main import _build\n_build()") & HEAVY == set()
