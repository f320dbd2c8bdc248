"""The classifier on public schema-compatibility fixtures, judged by witness documents.

    PYTHONPATH=$PWD .venv/bin/python bench/compat/fixtures.py FIXTURE.json [...] [--docs 400] [--show]

Each fixture file is a JSON list of ``{"description", "original_schema", "update_schema", ...}``
objects (the format of the JSON Schema diff fixtures of Confluent's schema registry,
``json-schema-provider/src/test/resources/diff-*.json``; they are not shipped with Charter: pass
their paths). Every pair is classified; then documents aimed at both schemas (the property test's
generator, several seeds) are validated with the ``jsonschema`` validator of each schema's own
draft. A direction the classifier reports with no witness among the documents is counted as a
false alarm (an upper bound: a rarer witness may exist); a direction a witness shows but the
classifier does not report is a miss (unsound). Run it with another checkout on PYTHONPATH to
measure that version.
"""

from __future__ import annotations

import json
import random
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def _load(path: str) -> list[dict[str, Any]]:
    text = Path(path).read_text(encoding="utf-8")
    text = re.sub(r",(\s*[}\]])", r"\1", text)  # some fixture files carry trailing commas
    return [c for c in json.loads(text) if isinstance(c, dict) and "original_schema" in c]


def _validator(schema: Any, path: str) -> Any:
    """The validator of the schema's ``$schema``, else of its file's draft (``*-2020-12.json``
    holds 2020-12 schemas, the other files draft-07)."""
    from jsonschema import Draft7Validator, Draft202012Validator
    from jsonschema.validators import validator_for

    return validator_for(schema, default=Draft202012Validator if "2020-12" in path else Draft7Validator)(schema)


def _pool(*schemas: Any) -> tuple[list[Any], list[str]]:
    """Boundary values and property names drawn from the schemas themselves, so that a witness
    just past a bound (a string one character too long, a number on an exclusive bound) is tried."""
    numbers: set[float] = {0, 1}
    names: set[str] = set()
    values: list[Any] = [None, True, False, "", "x", [], {}]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if isinstance(v, int | float) and not isinstance(v, bool):
                    numbers.add(v)
                if k in ("properties", "patternProperties", "dependentRequired", "dependentSchemas") and isinstance(
                    v, dict
                ):
                    names.update(n.strip("^$") for n in v)
                if k == "required" and isinstance(v, list):
                    names.update(n for n in v if isinstance(n, str))
                if k in ("enum", "const"):
                    values.extend(v if isinstance(v, list) else [v])
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    for schema in schemas:
        walk(schema)
    for n in sorted(numbers):
        values += [n - 1, n, n + 1, n - 0.5, n + 0.5]
        if 0 <= n <= 40:
            values += ["x" * int(n), "x" * (int(n) + 1), [0] * int(n), [0] * (int(n) + 1)]
    values += ["a@b.io", "http://a.io/x", "2020-01-01", "12:00:00Z", "é"]
    return values, sorted(names)


def _variants(rnd: Any, doc: Any, values: list[Any], names: list[str], depth: int = 0) -> Any:
    """``doc`` with some values swapped for boundary values and some names added or dropped."""
    if depth > 4 or rnd.random() < 0.15:
        return rnd.choice(values)
    if isinstance(doc, dict):
        out = {k: _variants(rnd, v, values, names, depth + 1) for k, v in doc.items() if rnd.random() > 0.1}
        if names and rnd.random() < 0.4:
            out[rnd.choice(names)] = rnd.choice(values)
        return out
    if isinstance(doc, list):
        out_list = [_variants(rnd, v, values, names, depth + 1) for v in doc]
        if rnd.random() < 0.3:
            out_list.append(rnd.choice(values))
        return out_list
    return doc


def _aim(schema: dict[str, Any]) -> dict[str, Any]:
    """The 2020-12 form of a schema for the document generator (which knows ``prefixItems``);
    documents are still validated against the schema as written, by its own draft's validator.
    An older checkout without the converter aims at the schema as written."""
    try:
        from charter.schemas.compat.diff.drafts import upgrade
    except ImportError:
        return schema
    return upgrade(schema)[0]


def main() -> None:
    sys.path.append(str(ROOT))
    from charter.schemas.compat import classify_release
    from tests.schemas.test_compat_properties import documents

    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    count = int(sys.argv[sys.argv.index("--docs") + 1]) if "--docs" in sys.argv else 400
    args = [a for a in args if a != str(count)]
    total = alarms = misses = refused = 0
    shown: list[str] = []
    for path in args:
        for i, case in enumerate(_load(path)):
            old, new = case["original_schema"], case["update_schema"]
            if not isinstance(old, dict) or not isinstance(new, dict):
                continue
            total += 1
            label = f"{Path(path).name}#{i} {case.get('description', '')[:70]}"
            try:
                changes = classify_release(old, new).changes
            except Exception as exc:  # an older version may refuse a pair: count it
                refused += 1
                shown.append(f"refused {label}: {type(exc).__name__}: {str(exc)[:100]}")
                continue
            said = {"B": any(c.backward for c in changes), "F": any(c.forward for c in changes)}
            vo, vn = _validator(old, path), _validator(new, path)
            seen = {"B": False, "F": False}
            values, names = _pool(old, new)
            aim_old, aim_new = _aim(old), _aim(new)
            rnd = random.Random(i)
            for seed in range(count // 20):
                aimed = documents(seed, aim_old, aim_new, count=8)
                for doc in aimed + [_variants(rnd, d, values, names) for d in aimed for _ in range(3)]:
                    try:
                        a, b = vo.is_valid(doc), vn.is_valid(doc)
                    except Exception:
                        continue
                    seen["B"] |= a and not b
                    seen["F"] |= b and not a
            alarm = [d for d in "BF" if said[d] and not seen[d]]
            miss = [d for d in "BF" if seen[d] and not said[d]]
            alarms += bool(alarm)
            misses += bool(miss)
            if alarm or miss:
                shown.append(f"{'MISS ' + ''.join(miss) if miss else 'alarm ' + ''.join(alarm)}: {label}")
    print(
        f"public fixtures: {total} pairs, false alarms (no witness) {alarms} ({alarms / max(total, 1):.0%}), "
        f"misses {misses}, refused {refused}"
    )
    if "--show" in sys.argv:
        print("\n".join(shown))


if __name__ == "__main__":
    main()
