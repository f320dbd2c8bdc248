"""Precision of the change classifier on realistic content-type changes (tests/schemas/precision_cases.py).

Each case states the directions it really breaks; the classifier must report exactly those: a
missing direction would be unsound, an extra one is a false alarm. Every claimed break has a
witness that the real validator checks, so the table's own claims are tested too. The
false-alarm rate (share of cases with a direction reported that they do not break) is measured
by ``bench/compat/precision.py``.
"""

from __future__ import annotations

from typing import Any

import pytest

from charter.schemas.compat import classify_release
from charter.schemas.validation import make_validator
from tests.schemas.precision_cases import CASES, Precise


def verdict(old: dict[str, Any], new: dict[str, Any]) -> str:
    """The classifier's directions in the table's notation."""
    changes = classify_release(old, new).changes
    if not changes:
        return "same"
    if all(c.annotation for c in changes):
        return "doc"
    return ("B" if any(c.backward for c in changes) else "") + ("F" if any(c.forward for c in changes) else "")


def test_table_is_varied() -> None:
    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES)
    assert {c.breaks for c in CASES} >= {"same", "doc", "", "B", "F", "BF"}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_verdict_is_exact(case: Precise) -> None:
    got = verdict(case.old, case.new)
    changes = [c.to_dict() for c in classify_release(case.old, case.new).changes]
    assert got == (case.reported or case.breaks), changes
    assert set(case.breaks.replace("same", "").replace("doc", "")) <= set(got), "a real break must be reported"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_witnesses_prove_the_table(case: Precise) -> None:
    old, new = make_validator(case.old), make_validator(case.new)
    for doc in case.wb:
        assert "B" in case.breaks and old.is_valid(doc) and not new.is_valid(doc), doc
    for doc in case.wf:
        assert "F" in case.breaks and new.is_valid(doc) and not old.is_valid(doc), doc
