"""What a schema comparison produces: changes, their classification under a policy, reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Compatibility policies, as in a schema registry. BACKWARD: content stored under the old
#: schema still validates under the new one. FORWARD: consumers written against the old schema
#: still understand content written under the new one. FULL: both. ``*_TRANSITIVE``: the same,
#: against every earlier released version of the major, not just the last. NONE: no check.
#: TOLERANT: FULL for tolerant readers (consumers that ignore fields they don't know, and whose
#: reliance is written in their contracts): a forward break that only a reader rejecting unknown
#: fields would notice (an optional field added to a closed model, a model opened) is a minor;
#: everything else FULL protects stays major (docs/schema-evolution.md, "Policies").
POLICIES: dict[str, tuple[bool, bool, bool]] = {
    # name: (backward, forward, transitive)
    "BACKWARD": (True, False, False),
    "FORWARD": (False, True, False),
    "FULL": (True, True, False),
    "BACKWARD_TRANSITIVE": (True, False, True),
    "FORWARD_TRANSITIVE": (False, True, True),
    "FULL_TRANSITIVE": (True, True, True),
    "NONE": (False, False, False),
    "TOLERANT": (True, True, False),
}
#: Policies under which :attr:`Change.tolerable` changes are minor.
TOLERANT_POLICIES = frozenset({"TOLERANT"})
#: For a type whose ``x-charter.policy`` is not set: delivery consumers are tolerant readers.
DEFAULT_POLICY = "TOLERANT"
LEVELS = ("none", "patch", "minor", "major")


def check_policy(policy: str) -> str:
    """The canonical policy name, or ValueError naming the known ones."""
    name = policy.strip().upper().replace("-", "_")
    if name not in POLICIES:
        raise ValueError(f"unknown compatibility policy {policy!r}; use one of {', '.join(POLICIES)}")
    return name


@dataclass(frozen=True)
class Change:
    """One difference between two schemas.

    ``pointer`` is an RFC 6901 pointer into the new schema (into the old one for removals).
    ``backward`` is True when the change can make content valid under the old schema invalid
    under the new one (stored entries break); ``forward`` is True when content valid under the
    new schema can be invalid for, or unknown to, a consumer written against the old one.
    ``annotation`` marks documentation-only changes (title, description, examples...).
    ``tolerable`` marks a forward break that only a reader rejecting unknown fields notices (an
    optional field added where the old model was closed, a model opened): minor under TOLERANT.
    """

    pointer: str
    kind: str
    message: str
    backward: bool = False
    forward: bool = False
    annotation: bool = False
    old: Any = None
    new: Any = None
    tolerable: bool = False

    def level(self, policy: str = DEFAULT_POLICY) -> str:
        """patch (documentation), minor (compatible under ``policy``) or major (breaking)."""
        if self.annotation:
            return "patch"
        name = check_policy(policy)
        needs_backward, needs_forward, _ = POLICIES[name]
        if name in TOLERANT_POLICIES and self.tolerable and not self.backward:
            return "minor"
        if (needs_backward and self.backward) or (needs_forward and self.forward):
            return "major"
        return "minor"

    @property
    def breaks(self) -> str:
        """Which directions the change breaks, for people: 'BACKWARD', 'FORWARD', 'BOTH' or ''."""
        if self.backward and self.forward:
            return "BOTH"
        return "BACKWARD" if self.backward else "FORWARD" if self.forward else ""

    def to_dict(self, policy: str = DEFAULT_POLICY) -> dict[str, Any]:
        return {
            "pointer": self.pointer,
            "kind": self.kind,
            "message": self.message,
            "breaks_backward": self.backward,
            "breaks_forward": self.forward,
            "level": self.level(policy),
        }


def max_level(levels: list[str]) -> str:
    return max(levels, key=LEVELS.index, default="none")


@dataclass
class ReleaseReport:
    """The classification of going from one schema version to the next."""

    policy: str
    changes: list[Change] = field(default_factory=list)
    old_version: str | None = None
    new_version: str | None = None
    #: What the comparison had to assume or convert (a draft-07 schema read as 2020-12, ...).
    notes: list[str] = field(default_factory=list)

    @property
    def required_bump(self) -> str:
        """none (identical), patch, minor or major."""
        return max_level([c.level(self.policy) for c in self.changes])

    @property
    def breaking(self) -> list[Change]:
        return [c for c in self.changes if c.level(self.policy) == "major"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "old_version": self.old_version,
            "new_version": self.new_version,
            "required_bump": self.required_bump,
            "changes": [c.to_dict(self.policy) for c in self.changes],
            "notes": self.notes,
        }
