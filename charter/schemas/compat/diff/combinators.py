"""Combinators: ``oneOf``, ``anyOf``, ``allOf`` and ``not``.

Decides how alternatives are paired: by their ``intent`` value when every alternative is an
intent-discriminated section (an intent removed breaks backward, one added forward), otherwise
identical alternatives first and the leftovers in order. A ``oneOf`` whose alternatives may
overlap, and anything below ``not``, is not monotonic: a change there breaks both ways.
Switching ``oneOf`` to ``anyOf`` widens (breaks forward), the other way narrows; an ``allOf``
condition added breaks backward, one removed forward.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from charter.schemas.compat.diff.schema import Path, canonical, deref, refs_in

if TYPE_CHECKING:
    from charter.schemas.compat.diff.differ import Differ


def diff_combinators(d: Differ, old: dict[str, Any], new: dict[str, Any], path: Path) -> None:
    switched = False
    for a, b, wider in (("oneOf", "anyOf", True), ("anyOf", "oneOf", False)):
        if a in old and b in new and a not in new and b not in old:
            d.add(
                (*path, b),
                f"{a}.to_{b}",
                f"{a} -> {b}"
                + (
                    ": instances matching several branches are now accepted"
                    if wider
                    else ": instances matching several branches are now rejected"
                ),
                backward=not wider,
                forward=wider,
            )
            _branches(d, old[a], new[b], (*path, b))
            switched = True
    for key in ("oneOf", "anyOf"):
        if switched and (key in old) != (key in new):
            continue
        if (
            key == "oneOf"
            and key in old
            and key in new
            and not (
                _disjoint(old[key], d.old_root, (*path, key), "old")
                and _disjoint(new[key], d.new_root, (*path, key), "new")
            )
        ):
            _overlapping_one_of(d, old[key], new[key], (*path, key))
        elif key in old and key in new:
            _branches(d, old[key], new[key], (*path, key))
        elif key in new:
            d.add((*path, key), f"{key}.added", f"values must now match {key}", backward=True)
        elif key in old:
            d.add((*path, key), f"{key}.removed", f"{key} no longer enforced", forward=True)
    oa, na = old.get("allOf") or [], new.get("allOf") or []
    for i in range(max(len(oa), len(na))):
        where = (*path, "allOf", i)
        if i < len(oa) and i < len(na):
            d.compare(oa[i], na[i], where)
        elif i < len(na):
            d.add(where, "allOf.added", "a new allOf condition must hold", backward=True)
        else:
            d.add((*path, "allOf", i), "allOf.removed", "an allOf condition was removed", forward=True)
    if "not" in old and "not" in new:
        # Under `not` every direction flips and nothing is monotonic: any change breaks both.
        found, recursion = d.opaque_changes(lambda sub: sub.compare(old["not"], new["not"], (*path, "not")))
        if found or recursion:
            d.add((*path, "not"), "not.changed", "not changed", backward=True, forward=True)
    elif "not" in old or "not" in new:
        added = "not" in new
        d.add(
            (*path, "not"),
            f"not.{'added' if added else 'removed'}",
            "a `not` condition must now hold" if added else "the `not` condition was removed",
            backward=added,
            forward=not added,
        )
        d.visited_defs |= refs_in(new.get("not") if added else old.get("not"))


def _overlapping_one_of(d: Differ, old: Any, new: Any, path: Path) -> None:
    """``oneOf`` accepts what matches exactly one alternative. Unless the alternatives are
    disjoint, widening one can make a value match two (rejected) and narrowing one can make a
    value match only one (accepted): every change to an alternative breaks both ways."""
    d.both_ways(
        lambda sub: _branches(sub, old, new, path),
        "inside a oneOf whose alternatives may overlap",
        path,
        "oneOf.changed",
        "a recursive alternative of this oneOf changed",
    )


def _disjoint(branches: Any, root: dict[str, Any], path: Path, side: str) -> bool:
    """Can no value match two of ``branches``? True when each is an object type that
    requires ``intent`` and the branches' intent values do not overlap."""
    if not isinstance(branches, list):
        return False
    seen: set[str] = set()
    for i, branch in enumerate(branches):
        resolved, _ = deref(branch, root, (*path, i), side)
        if not isinstance(resolved, dict) or resolved.get("type") != "object":
            return False
        if "intent" not in (resolved.get("required") or []):
            return False
        intent = (resolved.get("properties") or {}).get("intent")
        if not isinstance(intent, dict):
            return False
        values = [intent["const"]] if "const" in intent else intent.get("enum")
        if not isinstance(values, list) or not values:
            return False
        keys = {canonical(v) for v in values}
        if keys & seen:
            return False
        seen |= keys
    return True


def _intent_map(branches: list[Any], root: dict[str, Any], path: Path, side: str) -> dict[str, int] | None:
    """intent value -> branch index when every branch is intent-discriminated, else None."""
    out: dict[str, int] = {}
    for i, branch in enumerate(branches):
        resolved, _ = deref(branch, root, (*path, i), side)
        intent = (resolved.get("properties") or {}).get("intent") if isinstance(resolved, dict) else None
        if not isinstance(intent, dict):
            return None
        values = [intent["const"]] if "const" in intent else intent.get("enum")
        if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
            return None  # only string intents discriminate; anything else is compared as a plain branch
        for v in values:
            out[v] = i
    return out


def _branches(d: Differ, old: Any, new: Any, path: Path) -> None:
    if not isinstance(old, list) or not isinstance(new, list):
        return
    oi = _intent_map(old, d.old_root, path, "old")
    ni = _intent_map(new, d.new_root, path, "new")
    if oi is not None and ni is not None:
        pairs: set[tuple[int, int]] = set()
        for intent, o_index in oi.items():
            if intent in ni:
                pairs.add((o_index, ni[intent]))
            else:
                d.add(
                    (*path, o_index),
                    "intent.removed",
                    f"intent {intent!r} removed: stored sections with it no longer validate",
                    backward=True,
                    old=intent,
                )
        for intent, n_index in ni.items():
            if intent not in oi:
                d.add(
                    (*path, n_index),
                    "intent.added",
                    f"intent {intent!r} added: consumers written against the old schema don't know it",
                    forward=True,
                    new=intent,
                )
        for o_index, n_index in sorted(pairs):
            d.compare(old[o_index], new[n_index], (*path, n_index))
        return
    remaining_new = list(range(len(new)))
    unmatched_old = []
    for i, branch in enumerate(old):
        match = next((j for j in remaining_new if d.same(branch, new[j])), None)
        if match is None:
            unmatched_old.append(i)
        else:
            remaining_new.remove(match)
    # Alternatives without a discriminator: pair the leftovers in order.
    while unmatched_old and remaining_new:
        i, j = unmatched_old.pop(0), remaining_new.pop(0)
        d.compare(old[i], new[j], (*path, j))
    for i in unmatched_old:
        d.add((*path, i), "branch.removed", "an alternative was removed", backward=True)
    for j in remaining_new:
        d.add((*path, j), "branch.added", "a new alternative was added", forward=True)
