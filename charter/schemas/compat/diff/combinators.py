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

from charter.schemas.compat.diff.keywords import ANNOTATIONS, ROOT_ONLY
from charter.schemas.compat.diff.normal import normalise
from charter.schemas.compat.diff.schema import Path, canonical, deref, refs_in
from charter.schemas.compat.diff.values import value_kinds

if TYPE_CHECKING:
    from charter.schemas.compat.diff.differ import Differ


#: Reference keywords change what validates: never an annotation.
REFERENCE_KEYWORDS = ("x-charter-ref", "x-charter-asset")


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
    if "allOf" in old or "allOf" in new:
        # Conditions are a conjunction: their order means nothing.
        _branches(d, old.get("allOf") or [], new.get("allOf") or [], (*path, "allOf"), conjunction=(old, new))
    if "not" in old and "not" in new:
        # `not` is antitone: if the inner schema accepts no less, the negation accepts no more.
        # So an inner change breaks the other direction outside (a recursion met: both).
        found, recursion = d.opaque_changes(lambda sub: sub.compare(old["not"], new["not"], (*path, "not")))
        if found or recursion:
            backward = recursion or any(c.forward for c in found)
            forward = recursion or any(c.backward for c in found)
            d.add(
                (*path, "not"),
                "not.changed",
                "not changed: " + "; ".join(c.message for c in found[:3]) + " (under not: the directions swap)"
                if found
                else "not changed",
                backward=backward,
                forward=forward,
            )
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
    """Can no value match two of ``branches``? True when every two branches accept disjoint
    JSON types (``string`` and ``number``; ``integer`` overlaps ``number``), or are both
    object-only and require a common property whose ``const``/``enum`` values do not overlap
    (a discriminator such as a section's ``intent``)."""
    if not isinstance(branches, list):
        return False
    resolved = [normalise_branch(b, root, (*path, i), side) for i, b in enumerate(branches)]
    return all(_apart(resolved[i], resolved[j]) for i in range(len(resolved)) for j in range(i + 1, len(resolved)))


def normalise_branch(branch: Any, root: dict[str, Any], path: Path, side: str) -> Any:
    resolved, _ = deref(branch, root, path, side)
    return normalise(resolved) if isinstance(resolved, dict) else resolved


def _apart(a: Any, b: Any) -> bool:
    if not (value_kinds(a) & value_kinds(b)):
        return True
    if not isinstance(a, dict) or not isinstance(b, dict):
        return False
    if value_kinds(a) != {"object"} or value_kinds(b) != {"object"}:
        return False
    for name in set(_strs(a.get("required"))) & set(_strs(b.get("required"))):
        va, vb = _values_of((a.get("properties") or {}).get(name)), _values_of((b.get("properties") or {}).get(name))
        if va is not None and vb is not None and not (va & vb):
            return True
    return False


def _strs(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _values_of(schema: Any) -> set[str] | None:
    if not isinstance(schema, dict):
        return None
    values = [schema["const"]] if "const" in schema else schema.get("enum")
    return {canonical(v) for v in values} if isinstance(values, list) else None


def align_unions(old: dict[str, Any], new: dict[str, Any], at_root: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """When one side is only an ``anyOf``/``oneOf`` and the other has none, read the other as a
    one-alternative union of itself (an exact rewrite), so that making a field nullable with
    ``anyOf: [{type: string}, {type: null}]`` is an alternative added, not a new condition."""
    for key in ("anyOf", "oneOf"):
        if _only(new, key, at_root) and "anyOf" not in old and "oneOf" not in old:
            old = _wrapped(old, key, at_root)
        elif _only(old, key, at_root) and "anyOf" not in new and "oneOf" not in new:
            new = _wrapped(new, key, at_root)
    return old, new


def _is_note(key: str, at_root: bool) -> bool:
    return (
        key in ANNOTATIONS or (key.startswith("x-") and key not in REFERENCE_KEYWORDS) or (at_root and key in ROOT_ONLY)
    )


def _only(schema: dict[str, Any], key: str, at_root: bool) -> bool:
    return isinstance(schema.get(key), list) and all(k == key or _is_note(k, at_root) for k in schema)


def _wrapped(schema: dict[str, Any], key: str, at_root: bool) -> dict[str, Any]:
    notes = {k: v for k, v in schema.items() if _is_note(k, at_root)}
    body = {k: v for k, v in schema.items() if not _is_note(k, at_root)}
    return {**notes, key: [body]}


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


def _branches(
    d: Differ, old: Any, new: Any, path: Path, conjunction: tuple[dict[str, Any], dict[str, Any]] | None = None
) -> None:
    """Pair alternatives (or, with ``conjunction``, ``allOf`` conditions) and compare the pairs.
    An alternative removed breaks backward and one added forward; a condition the other way.
    ``conjunction``: the two whole subschemas the conditions belong to (a condition removed is
    no break when the whole new subschema implies it, one added when the whole old one does)."""
    if not isinstance(old, list) or not isinstance(new, list):
        return
    oi = None if conjunction else _intent_map(old, d.old_root, path, "old")
    ni = None if conjunction else _intent_map(new, d.new_root, path, "new")
    if oi is not None and ni is not None:
        _intent_branches(d, old, new, path, oi, ni)
        return
    remaining_new = list(range(len(new)))
    unmatched_old = []
    for i, branch in enumerate(old):
        match = next((j for j in remaining_new if d.same(branch, new[j])), None)
        if match is None:
            unmatched_old.append(i)
        else:
            remaining_new.remove(match)
    # Leftovers: pair those accepting the same JSON types first, then the rest in order.
    kinds_old = {i: value_kinds(normalise_branch(old[i], d.old_root, (*path, i), "old")) for i in unmatched_old}
    kinds_new = {j: value_kinds(normalise_branch(new[j], d.new_root, (*path, j), "new")) for j in remaining_new}
    for i in list(unmatched_old):
        j = next((j for j in remaining_new if kinds_new[j] == kinds_old[i]), None)
        if j is not None:
            unmatched_old.remove(i)
            remaining_new.remove(j)
            d.compare(old[i], new[j], (*path, j))
    while unmatched_old and remaining_new:
        i, j = unmatched_old.pop(0), remaining_new.pop(0)
        d.compare(old[i], new[j], (*path, j))
    # An alternative removed breaks backward unless a new one holds all it accepted; one added
    # breaks forward unless an old one held all it accepts. Conditions the other way round.
    for i in unmatched_old:
        where = (*path, i)
        if conjunction:
            covered = any(not d.effect(old[i], n, where)[1] for n in [*new, conjunction[1]])
            d.add(where, "allOf.removed", "an allOf condition was removed", forward=not covered)
        else:
            covered = any(not d.effect(old[i], n, where)[0] for n in new)
            d.add(where, "branch.removed", "an alternative was removed", backward=not covered)
    for j in remaining_new:
        where = (*path, j)
        if conjunction:
            covered = any(not d.effect(o, new[j], where)[0] for o in [*old, conjunction[0]])
            d.add(where, "allOf.added", "a new allOf condition must hold", backward=not covered)
        else:
            covered = any(not d.effect(o, new[j], where)[1] for o in old)
            d.add(where, "branch.added", "a new alternative was added", forward=not covered)


def _intent_branches(
    d: Differ, old: list[Any], new: list[Any], path: Path, oi: dict[str, int], ni: dict[str, int]
) -> None:
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
