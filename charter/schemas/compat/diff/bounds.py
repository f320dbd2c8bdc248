"""Bounds on one value: numeric ranges, ``multipleOf``, length and count limits, ``pattern`` and
``format``.

Decides whether a bound tightened (breaks backward) or relaxed (breaks forward): inclusive and
exclusive bounds are compared as one, a limit left out takes its default (``minContains`` 1, the
other lower limits 0), a ``multipleOf`` is narrower or wider only when one divides the other,
and a ``format`` is wider only along :data:`FORMAT_SUBSETS`. A changed ``pattern`` is not
compared (regular languages): it breaks both ways.
"""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING, Any

from charter.schemas.compat.diff.keywords import LOWER_LIMITS, UPPER_LIMITS
from charter.schemas.compat.diff.schema import Path

if TYPE_CHECKING:
    from charter.schemas.compat.diff.differ import Differ

#: (narrower, wider): every value valid for the first format is valid for the second.
FORMAT_SUBSETS = {
    ("email", "idn-email"),
    ("hostname", "idn-hostname"),
    ("uri", "iri"),
    ("uri", "uri-reference"),
    ("uri-reference", "iri-reference"),
    ("iri", "iri-reference"),
    ("url", "uri-reference"),
    ("url", "iri-reference"),
    ("uri", "iri-reference"),
}


def diff_bounds(d: Differ, old: dict[str, Any], new: dict[str, Any], path: Path) -> None:
    for side, keys in (("lower", ("minimum", "exclusiveMinimum")), ("upper", ("maximum", "exclusiveMaximum"))):
        o, n = _bound(old, side), _bound(new, side)
        if o == n:
            continue
        key = next((k for k in keys if k in new), None) or next(k for k in keys if k in old)
        tighter = o is None if o is None or n is None else _tighter(n, o, side)
        what = "minimum" if side == "lower" else "maximum"
        describe = f"{what} {_fmt_bound(o, side)} -> {_fmt_bound(n, side)}"
        d.add(
            (*path, key),
            f"{what}.{'tightened' if tighter else 'relaxed'}",
            describe,
            backward=tighter,
            forward=not tighter,
            old=o,
            new=n,
        )


def diff_limits(d: Differ, old: dict[str, Any], new: dict[str, Any], path: Path) -> None:
    for key in (*LOWER_LIMITS, *UPPER_LIMITS):
        o, n = old.get(key), new.get(key)
        if o == n:
            continue
        lower = key in LOWER_LIMITS
        if lower:
            # minContains defaults to 1 (it applies only with contains); the others to 0.
            default = 1 if key == "minContains" else 0
            o_eff = o if o is not None else default
            n_eff = n if n is not None else default
            if o_eff == n_eff:
                continue
            tighter = n_eff > o_eff
        else:
            tighter = o is None or (n is not None and n < o)
        d.add(
            (*path, key),
            f"{key}.{'tightened' if tighter else 'relaxed'}",
            f"{key} {o} -> {n}",
            backward=tighter,
            forward=not tighter,
            old=o,
            new=n,
        )


def diff_multiple_of(d: Differ, old: dict[str, Any], new: dict[str, Any], path: Path) -> None:
    o, n = old.get("multipleOf"), new.get("multipleOf")
    if o == n:
        return
    if o is None or n is None:
        backward = o is None
        d.add(
            (*path, "multipleOf"),
            "multipleOf.changed",
            f"multipleOf {o} -> {n}",
            backward=backward,
            forward=not backward,
            old=o,
            new=n,
        )
        return
    fo, fn = Fraction(str(o)), Fraction(str(n))
    narrower = (fn / fo).denominator == 1  # every multiple of n is a multiple of o
    wider = (fo / fn).denominator == 1
    d.add(
        (*path, "multipleOf"),
        "multipleOf.changed",
        f"multipleOf {o} -> {n}",
        backward=narrower or not wider,
        forward=wider or not narrower,
        old=o,
        new=n,
    )


def diff_pattern_format(d: Differ, old: dict[str, Any], new: dict[str, Any], path: Path) -> None:
    o, n = old.get("pattern"), new.get("pattern")
    if o != n:
        if o is None:
            d.add((*path, "pattern"), "pattern.added", f"values must now match {n!r}", backward=True, new=n)
        elif n is None:
            d.add((*path, "pattern"), "pattern.removed", f"pattern {o!r} no longer enforced", forward=True, old=o)
        else:
            d.add(
                (*path, "pattern"),
                "pattern.changed",
                f"pattern {o!r} -> {n!r} (regular languages are not compared: treated as breaking both ways)",
                backward=True,
                forward=True,
                old=o,
                new=n,
            )
    o, n = old.get("format"), new.get("format")
    if o != n:
        if o is None:
            d.add((*path, "format"), "format.added", f"values must now be a valid {n}", backward=True, new=n)
        elif n is None:
            d.add((*path, "format"), "format.removed", f"format {o} no longer enforced", forward=True, old=o)
        else:
            wider, narrower = (o, n) in FORMAT_SUBSETS, (n, o) in FORMAT_SUBSETS
            d.add(
                (*path, "format"),
                "format.changed",
                f"format {o} -> {n}",
                backward=not wider,
                forward=not narrower,
                old=o,
                new=n,
            )


def _bound(schema: dict[str, Any], side: str) -> tuple[float, bool] | None:
    keys = ("minimum", "exclusiveMinimum") if side == "lower" else ("maximum", "exclusiveMaximum")
    found = [(schema[k], k.startswith("exclusive")) for k in keys if isinstance(schema.get(k), int | float)]
    if not found:
        return None
    best = found[0]
    for b in found[1:]:
        if _tighter(b, best, side):
            best = b
    return best


def _tighter(a: tuple[float, bool], b: tuple[float, bool], side: str) -> bool:
    """Is bound ``a`` strictly tighter than ``b``?"""
    if a[0] != b[0]:
        return a[0] > b[0] if side == "lower" else a[0] < b[0]
    return a[1] and not b[1]


def _fmt_bound(b: tuple[float, bool] | None, side: str) -> str:
    if b is None:
        return "(none)"
    op = (">" if b[1] else ">=") if side == "lower" else ("<" if b[1] else "<=")
    return f"{op} {b[0]}"
