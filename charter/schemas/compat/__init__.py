"""Schema evolution: diff two content-type versions, classify every change, enforce semver.

>>> report = classify_release(old_schema, new_schema, policy="FULL")
>>> report.required_bump            # "none" | "patch" | "minor" | "major"
>>> [c.pointer for c in report.changes]
"""

from __future__ import annotations

from typing import Any

from charter.schemas.compat.diff import SchemaDiffError, diff_schemas
from charter.schemas.compat.diff.drafts import upgrade
from charter.schemas.compat.model import DEFAULT_POLICY, POLICIES, Change, ReleaseReport, check_policy
from charter.schemas.compat.semver import Range, SemverError, Version, bump_between


def classify_release(
    old_schema: dict[str, Any], new_schema: dict[str, Any], policy: str = DEFAULT_POLICY
) -> ReleaseReport:
    """Every change from ``old_schema`` to ``new_schema`` with its level under ``policy``.

    ``.required_bump`` is the smallest semver bump the new version must declare. A draft-07
    schema is read as 2020-12 first (``.notes`` says what was converted). Raises
    SchemaDiffError for an unresolvable or purely cyclic ``$ref``; ValueError for an unknown policy.
    """
    name = check_policy(policy)
    old_2020, old_notes = upgrade(old_schema)
    new_2020, new_notes = upgrade(new_schema)
    return ReleaseReport(
        policy=name,
        changes=diff_schemas(old_2020, new_2020),
        old_version=old_schema.get("version") if isinstance(old_schema.get("version"), str) else None,
        new_version=new_schema.get("version") if isinstance(new_schema.get("version"), str) else None,
        notes=[f"old: {n}" for n in old_notes] + [f"new: {n}" for n in new_notes],
    )


__all__ = [
    "DEFAULT_POLICY",
    "POLICIES",
    "Change",
    "Range",
    "ReleaseReport",
    "SchemaDiffError",
    "SemverError",
    "Version",
    "bump_between",
    "check_policy",
    "classify_release",
    "diff_schemas",
]
