"""Semantic versions (semver.org 2.0.0) and npm-style version ranges.

Ranges follow node-semver's grammar (https://github.com/npm/node-semver#ranges), desugared the
way node-semver does it:

* comparators ``<``, ``<=``, ``>``, ``>=``, ``=`` and a bare version (``1.2.3``);
* X-ranges ``1.x``, ``1.2.*``, ``1``, ``*``, ``""`` (any version);
* tilde ``~1.2.3`` (>=1.2.3 <1.3.0), ``~1.2`` (>=1.2.0 <1.3.0), ``~1`` (>=1.0.0 <2.0.0);
* caret ``^1.2.3`` (>=1.2.3 <2.0.0), ``^0.2.3`` (>=0.2.3 <0.3.0), ``^0.0.3`` (>=0.0.3 <0.0.4),
  ``^1.x``, ``^0.x``;
* hyphen ranges ``1.2 - 2.3.4`` (>=1.2.0 <=2.3.4; a partial upper bound is exclusive of the next);
* space-separated comparators are ANDed; ``||`` separates alternatives.

Pre-releases: as in npm, a version with a pre-release tag satisfies a range only when some
comparator of the matching set names a pre-release of the same ``[major, minor, patch]``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import total_ordering

from charter.exceptions import BadRequest

_SEMVER = re.compile(
    r"^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
    r"(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$"
)
_PARTIAL = re.compile(
    r"^v?(?P<major>0|[1-9]\d*|[xX*])(?:\.(?P<minor>0|[1-9]\d*|[xX*])(?:\.(?P<patch>0|[1-9]\d*|[xX*])"
    r"(?:-(?P<pre>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?)?)?$"
)
_COMPARATOR = re.compile(r"^(<=|>=|<|>|=|~>|~|\^)?\s*(.*)$")
BUMPS = ("none", "patch", "minor", "major")


class SemverError(BadRequest):
    """A version or a range that does not parse."""

    type_slug = "bad-semver"
    title = "Invalid version or range"


@total_ordering
@dataclass(frozen=True)
class Version:
    major: int
    minor: int
    patch: int
    prerelease: tuple[str | int, ...] = ()

    @classmethod
    def parse(cls, text: str) -> Version:
        m = _SEMVER.match(text.strip()) if isinstance(text, str) else None
        if not m:
            raise SemverError(f"{text!r} is not a semantic version (MAJOR.MINOR.PATCH)")
        pre = tuple(int(p) if p.isdigit() else p for p in m.group(4).split(".")) if m.group(4) else ()
        return cls(int(m.group(1)), int(m.group(2)), int(m.group(3)), pre)

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
    return BUMPS.index(bump) if bump in BUMPS else -1


@dataclass(frozen=True)
class _Cmp:
    op: str  # one of < <= > >= =
    version: Version

    def test(self, v: Version) -> bool:
        o = self.version
        return {
            "<": v < o,
            "<=": v <= o,
            ">": v > o,
            ">=": v >= o,
            "=": v == o,
        }[self.op]


@dataclass(frozen=True)
class Range:
    """A parsed npm range: alternatives (``||``) of comparator sets (ANDed)."""

    text: str
    alternatives: tuple[tuple[_Cmp, ...], ...]

    @classmethod
    def parse(cls, text: str) -> Range:
        if not isinstance(text, str):
            raise SemverError(f"version range must be a string, not {type(text).__name__} {text!r}")
        alternatives = []
        for part in text.split("||"):
            alternatives.append(tuple(_parse_set(part.strip(), text)))
        return cls(text, tuple(alternatives))

    def satisfied_by(self, version: Version | str) -> bool:
        v = Version.parse(version) if isinstance(version, str) else version
        for comparators in self.alternatives:
            if not all(c.test(v) for c in comparators):
                continue
            if v.prerelease and not any(c.version.prerelease and c.version.core == v.core for c in comparators):
                continue
            return True
        return False

    def __str__(self) -> str:
        return self.text


def _partial(text: str, whole: str) -> tuple[int | None, int | None, int | None, tuple[str | int, ...]]:
    m = _PARTIAL.match(text)
    if not m:
        raise SemverError(f"{text!r} in range {whole!r} is not a version or partial version (1, 1.2, 1.x, 1.2.3)")

    def num(name: str) -> int | None:
        value = m.group(name)
        return None if value is None or value in "xX*" else int(value)

    major, minor, patch = num("major"), num("minor"), num("patch")
    # "1.x.3" is not a thing: once a part is a wildcard the rest are too.
    if major is None:
        minor = patch = None
    elif minor is None:
        patch = None
    pre_raw = m.group("pre")
    pre = tuple(int(p) if p.isdigit() else p for p in pre_raw.split(".")) if pre_raw and patch is not None else ()
    return major, minor, patch, pre


def _v(major: int, minor: int, patch: int, pre: tuple[str | int, ...] = ()) -> Version:
    return Version(major, minor, patch, pre)


def _parse_set(text: str, whole: str) -> list[_Cmp]:
    if text in ("", "*", "x", "X"):
        return [_Cmp(">=", _v(0, 0, 0))]
    hyphen = re.match(r"^(\S+)\s+-\s+(\S+)$", text)
    if hyphen:
        return _hyphen(hyphen.group(1), hyphen.group(2), whole)
    # Glue operators to their versions ("> = 1.2" is not allowed, ">= 1.2" is).
    tokens = re.sub(r"(<=|>=|<|>|=|~>|~|\^)\s+", r"\1", text).split()
    out: list[_Cmp] = []
    for token in tokens:
        out.extend(_comparator(token, whole))
    return out


def _hyphen(low: str, high: str, whole: str) -> list[_Cmp]:
    out: list[_Cmp] = []
    a, b, c, pre = _partial(low, whole)
    if a is not None:
        out.append(_Cmp(">=", _v(a, b or 0, c or 0, pre)))
    a, b, c, pre = _partial(high, whole)
    if a is None:
        pass
    elif b is None:
        out.append(_Cmp("<", _v(a + 1, 0, 0, (0,))))
    elif c is None:
        out.append(_Cmp("<", _v(a, b + 1, 0, (0,))))
    else:
        out.append(_Cmp("<=", _v(a, b, c, pre)))
    return out or [_Cmp(">=", _v(0, 0, 0))]


def _comparator(token: str, whole: str) -> list[_Cmp]:
    m = _COMPARATOR.match(token)
    assert m is not None  # the pattern matches any string
    op, rest = m.group(1) or "", m.group(2)
    if not rest:
        raise SemverError(f"operator {op!r} without a version in range {whole!r}")
    major, minor, patch, pre = _partial(rest, whole)
    # Upper bounds use "-0" so that pre-releases of the next version are excluded (node-semver).
    if op == "^":
        if major is None:
            return [_Cmp(">=", _v(0, 0, 0))]
        if minor is None:
            return [_Cmp(">=", _v(major, 0, 0)), _Cmp("<", _v(major + 1, 0, 0, (0,)))]
        if patch is None:
            if major == 0:
                return [_Cmp(">=", _v(0, minor, 0)), _Cmp("<", _v(0, minor + 1, 0, (0,)))]
            return [_Cmp(">=", _v(major, minor, 0)), _Cmp("<", _v(major + 1, 0, 0, (0,)))]
        low = _Cmp(">=", _v(major, minor, patch, pre))
        if major > 0:
            return [low, _Cmp("<", _v(major + 1, 0, 0, (0,)))]
        if minor > 0:
            return [low, _Cmp("<", _v(0, minor + 1, 0, (0,)))]
        return [low, _Cmp("<", _v(0, 0, patch + 1, (0,)))]
    if op in ("~", "~>"):
        if major is None:
            return [_Cmp(">=", _v(0, 0, 0))]
        if minor is None:
            return [_Cmp(">=", _v(major, 0, 0)), _Cmp("<", _v(major + 1, 0, 0, (0,)))]
        return [_Cmp(">=", _v(major, minor, patch or 0, pre)), _Cmp("<", _v(major, minor + 1, 0, (0,)))]
    if op in ("", "="):
        if major is None:
            return [_Cmp(">=", _v(0, 0, 0))]
        if minor is None:
            return [_Cmp(">=", _v(major, 0, 0)), _Cmp("<", _v(major + 1, 0, 0, (0,)))]
        if patch is None:
            return [_Cmp(">=", _v(major, minor, 0)), _Cmp("<", _v(major, minor + 1, 0, (0,)))]
        return [_Cmp("=", _v(major, minor, patch, pre))]
    # <, <=, >, >= with a possibly partial version.
    if major is None:
        # "<*" matches nothing, ">=*" everything.
        return [_Cmp("<", _v(0, 0, 0, (0,)))] if op in ("<", ">") else [_Cmp(">=", _v(0, 0, 0))]
    if patch is not None:
        return [_Cmp(op, _v(major, minor or 0, patch, pre))]
    if op == ">":  # >1 means >=2.0.0; >1.2 means >=1.3.0
        return [_Cmp(">=", _v(major + 1, 0, 0) if minor is None else _v(major, minor + 1, 0))]
    if op == "<=":  # <=1 means <2.0.0-0; <=1.2 means <1.3.0-0
        return [_Cmp("<", _v(major + 1, 0, 0, (0,)) if minor is None else _v(major, minor + 1, 0, (0,)))]
    if op == "<":
        return [_Cmp("<", _v(major, minor or 0, 0, (0,)))]
    return [_Cmp(">=", _v(major, minor or 0, 0))]  # >=1, >=1.2
