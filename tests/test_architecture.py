"""The house's floors, checked over the source (AST, nothing imported): docs/architecture.md.

- ``charter.schemas`` is the foundation: it imports only the other foundation modules (settings,
  exceptions, the database, events, the plugin machinery, the runtime), never a feature package.
- No import cycle between files, counting every import that runs (at module level and inside
  functions; an import under ``TYPE_CHECKING`` only names a type for annotations and never runs),
  except the schema differ, which is recursive by nature (a keyword's differ calls back into the
  schema differ for sub-schemas).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "charter"

#: What ``charter.schemas`` may import besides itself.
FOUNDATION = frozenset(
    {
        "charter",  # the package itself (``__version__``)
        "charter.config",
        "charter.db",
        "charter.events",
        "charter.exceptions",
        "charter.hookspecs",
        "charter.plugins",
        "charter.runtime",
        "charter.strictjson",  # the I-JSON rules every JSON reader applies
    }
)

#: The one allowed cycle: the recursive schema differ (every module of this package).
DIFFER = "charter.schemas.compat.diff."

#: Cycles still to break: none left. A new cycle fails the test; break it rather than list it here.
KNOWN_CYCLES: list[frozenset[str]] = []


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _typing_only(tree: ast.Module) -> set[int]:
    """ids of the nodes inside ``if TYPE_CHECKING:`` blocks."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            inside |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    return inside


def _imports(modules: dict[str, Path], *, typing: bool = True) -> dict[str, set[tuple[str, int]]]:
    """module -> {(imported charter module, line)}: every import statement, wherever it stands
    (without ``typing``, those under ``TYPE_CHECKING`` are left out)."""
    graph: dict[str, set[tuple[str, int]]] = defaultdict(set)
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = set() if typing else _typing_only(tree)
        for node in ast.walk(tree):
            if id(node) in skip:
                continue
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                    base = f"{base}.{node.module}" if node.module else base
                else:
                    base = node.module or ""
                # ``from pkg import sub`` imports the submodule when there is one.
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            for target in targets:
                while target not in modules and "." in target:
                    target = target.rpartition(".")[0]
                if target in modules and target != name:
                    graph[name].add((target, node.lineno))
    return graph


def _cycles(graph: dict[str, set[tuple[str, int]]]) -> list[frozenset[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    edges = {m: sorted({t for t, _ in targets}) for m, targets in graph.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            succ = edges.get(node, [])
            if i < len(succ):
                work.append((node, i + 1))
                nxt = succ[i]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if low[node] == index[node]:
                comp = set()
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    comp.add(top)
                    if top == node:
                        break
                if len(comp) > 1:
                    found.append(frozenset(comp))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return found


def _floor(module: str) -> str:
    """``charter.db.engine`` -> ``charter.db``: the top-level module or package of ``charter``."""
    return ".".join(module.split(".")[:2])


@pytest.fixture(scope="module")
def graph() -> dict[str, set[tuple[str, int]]]:
    return _imports(_modules())


@pytest.fixture(scope="module")
def runtime_graph() -> dict[str, set[tuple[str, int]]]:
    return _imports(_modules(), typing=False)


def test_schemas_import_nothing_above_them(graph: dict[str, set[tuple[str, int]]]) -> None:
    upward = sorted(
        f"{name}:{line} imports {target}"
        for name, targets in graph.items()
        if name == "charter.schemas" or name.startswith("charter.schemas.")
        for target, line in targets
        if not target.startswith("charter.schemas") and _floor(target) not in FOUNDATION
    )
    assert upward == [], "charter.schemas is the foundation; move the feature code up instead:\n" + "\n".join(upward)


def test_no_import_cycles_but_the_schema_differ(runtime_graph: dict[str, set[tuple[str, int]]]) -> None:
    cycles = [c for c in _cycles(runtime_graph) if not all(m.startswith(DIFFER) for m in c)]
    new = [sorted(c) for c in cycles if c not in KNOWN_CYCLES]
    assert new == [], "import cycle(s) between files; break them (docs/architecture.md):\n" + "\n".join(map(str, new))
    gone = [sorted(c) for c in KNOWN_CYCLES if c not in cycles]
    assert gone == [], f"cycle(s) broken: remove them from KNOWN_CYCLES: {gone}"


def test_the_checks_see_an_upward_import_and_a_cycle() -> None:
    """The graph is the real one: it finds the differ's cycle (through its typing imports), a
    relative and a lazy import; and the cycle finder finds a ring."""
    graph = _imports(_modules())
    assert any(all(m.startswith(DIFFER) for m in c) for c in _cycles(graph))
    assert "charter.delivery.pinning" in {t for t, _ in graph["charter.delivery.api"]}
    assert "charter.schemas.releases" in {t for t, _ in graph["charter.runtime"]}  # inside a function
    fake = {"a": {("b", 1)}, "b": {("c", 1)}, "c": {("a", 1)}, "d": {("a", 1)}}
    assert _cycles(fake) == [frozenset({"a", "b", "c"})]
