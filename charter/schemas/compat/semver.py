"""Semantic versions (semver.org 2.0.0) and npm-style version ranges.

Versions are parsed strictly (``MAJOR.MINOR.PATCH[-pre][+build]``). Ranges are npm's grammar
(https://github.com/npm/node-semver#ranges) evaluated by ``node-semver``, a port of npm's own
implementation: ``1.x``, ``^1.2.3``, ``~1.2``, ``>=1.2 <2``, ``1.2 - 2.3.4``, ``1 || 3``, ``*``.
As in npm, a pre-release satisfies a range only when a comparator of the matching set names a
pre-release of the same ``MAJOR.MINOR.PATCH``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import total_ordering
from typing import Any

import nodesemver

from charter.exceptions import BadRequest

_SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
    r"(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$"
)
#: The bumps in increasing order; ``bump_rank`` orders them.
BUMPS = ("none", "patch", "minor", "major")


class SemverError(BadRequest):
    """A version or a range that does not parse."""

    type_slug = "bad-semver"
    title = "Invalid version or range"


@total_ordering
@dataclass(frozen=True)
class Version:
    """A semantic version; ordered by semver §11 (build metadata ignored)."""

    major: int
    minor: int
    patch: int
    prerelease: tuple[str | int, ...] = ()
    build: str = field(default="", compare=False)

    @classmethod
    def parse(cls, text: Any) -> Version:
        m = _SEMVER.match(text.strip()) if isinstance(text, str) else None
        if not m:
            raise SemverError(f"{text!r} is not a semantic version (MAJOR.MINOR.PATCH, e.g. '1.4.0')")
        pre = tuple(int(p) if p.isdigit() else p for p in m.group(4).split(".")) if m.group(4) else ()
        return cls(int(m.group(1)), int(m.group(2)), int(m.group(3)), pre, m.group(5) or "")

    @property
    def core(self) -> tuple[int, int, int]:
        return (self.major, self.minor, self.patch)

    def _key(self) -> tuple[tuple[int, int, int], int, tuple[tuple[int, int | str], ...]]:
        # semver §11: a pre-release sorts before its release; numeric identifiers sort before
        # alphanumeric ones and compare numerically.
        ids = tuple((0, p) if isinstance(p, int) else (1, p) for p in self.prerelease)
        return (self.core, 0 if self.prerelease else 1, ids)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._key() < other._key()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __str__(self) -> str:
        pre = "-" + ".".join(str(p) for p in self.prerelease) if self.prerelease else ""
        return f"{self.major}.{self.minor}.{self.patch}{pre}"


def bump_between(old: Version, new: Version) -> str:
    """The bump declared by going from ``old`` to ``new``: none, patch, minor, major, or
    ``downgrade`` when ``new`` is lower."""
    if new < old:
        return "downgrade"
    if new.major != old.major:
        return "major"
    if new.minor != old.minor:
        return "minor"
    if new.patch != old.patch or new.prerelease != old.prerelease:
        return "patch"
    return "none"


def bump_rank(bump: str) -> int:
    """0 for none .. 3 for major; -1 for anything else (a downgrade)."""
    return BUMPS.index(bump) if bump in BUMPS else -1


@dataclass(frozen=True)
class Range:
    """A parsed npm range. ``Range.parse`` raises SemverError for anything npm would reject."""

    text: str
    normalised: str

    @classmethod
    def parse(cls, text: Any) -> Range:
        if not isinstance(text, str):
            raise SemverError(f"a version range must be a string such as '1.x', not {type(text).__name__} {text!r}")
        try:
            parsed = nodesemver.make_range(text, loose=False)
        except (ValueError, TypeError) as exc:
            raise SemverError(
                f"{text!r} is not an npm version range (e.g. '1.x', '^1.2.0', '>=1.2 <2'): {exc}"
            ) from None
        return cls(text, str(parsed.range) or "*")

    def satisfied_by(self, version: Version | str) -> bool:
        v = Version.parse(version) if isinstance(version, str) else version
        return bool(nodesemver.satisfies(str(v), self.text, loose=False))

    def __str__(self) -> str:
        return self.text
