"""False alarms of the schema-change classifier on a table of cases with known directions.

    PYTHONPATH=$PWD .venv/bin/python bench/compat/precision.py

For each case the classifier's directions are compared with the truth written in the table
(tests/schemas/precision_cases.py; public fixtures are measured by bench/compat/fixtures.py).
A false alarm is a direction reported that the case does not break; a miss is a direction it
breaks that is not reported (unsound). Run it with another checkout first
on PYTHONPATH to measure that version.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def load(name: str) -> list[Any]:
    """The case table ``tests/schemas/<name>.py`` of this checkout (charter comes from PYTHONPATH)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "tests" / "schemas" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return list(module.CASES)


def directions(old: dict[str, Any], new: dict[str, Any]) -> str:
    from charter.schemas.compat import classify_release

    try:
        changes = classify_release(old, new).changes
    except Exception as exc:  # an old version may refuse a case: count it, don't stop
        return f"error: {type(exc).__name__}"
    return ("B" if any(c.backward for c in changes) else "") + ("F" if any(c.forward for c in changes) else "")


def measure(name: str, cases: list[Any]) -> None:
    alarms, misses, errors = [], [], []
    for case in cases:
        truth = set(case.breaks.replace("same", "").replace("doc", ""))
        got = directions(case.old, case.new)
        if got.startswith("error"):
            errors.append((case.id, got))
            continue
        if set(got) - truth:
            alarms.append((case.id, case.breaks or "-", got))
        if truth - set(got):
            misses.append((case.id, case.breaks, got or "-"))
    n = len(cases)
    print(
        f"{name}: {n} cases, false alarms {len(alarms)} ({len(alarms) / n:.0%}), misses {len(misses)}, "
        f"refused {len(errors)}"
    )
    for row in alarms:
        print("  alarm:", *row)
    for row in misses:
        print("  MISS:", *row)
    for row in errors:
        print("  refused:", *row)


def main() -> None:
    measure("content-type changes", load("precision_cases"))


if __name__ == "__main__":
    main()
