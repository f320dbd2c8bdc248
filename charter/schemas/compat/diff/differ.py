"""The walk: both schemas in step, every keyword rule applied at every subschema.

Decides where a change is reported and in which context it is classified. Local ``$ref`` are
followed; a pair of definitions is compared once and its changes are reported at the
definition's pointer in the new schema (``/$defs/hero/...``), which also makes recursive schemas
terminate. ``false`` on either side, and values that are not schemas, are settled here; every
other subschema pair goes through :data:`RULES` in order. Rules that sit below a non-monotonic
context (``not``, an overlapping ``oneOf``) compare afresh through :meth:`Differ.opaque_changes`
or :meth:`Differ.both_ways`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from charter.schemas.compat.diff.annotations import diff_annotations, diff_unanalysed, diff_unused_definitions
from charter.schemas.compat.diff.arrays import diff_items, diff_unique
from charter.schemas.compat.diff.bounds import diff_bounds, diff_limits, diff_multiple_of, diff_pattern_format
from charter.schemas.compat.diff.combinators import align_unions, diff_combinators
from charter.schemas.compat.diff.normal import normalise, opaque_unevaluated
from charter.schemas.compat.diff.objects import diff_dependencies, diff_properties, diff_required
from charter.schemas.compat.diff.schema import Path, canonical, closure, deref, is_false, refs_in
from charter.schemas.compat.diff.values import (
    diff_asset_reference,
    diff_entry_reference,
    diff_enum,
    diff_type,
    value_kinds,
)
from charter.schemas.compat.model import Change
from charter.schemas.validation import pointer

#: A keyword rule: records, on the differ, the changes from ``old`` to ``new`` (two subschemas,
#: ``$ref`` followed) at ``path``.
Rule = Callable[["Differ", dict[str, Any], dict[str, Any], Path], None]

#: In the order their changes are reported for one subschema.
RULES: tuple[Rule, ...] = (
    diff_annotations,
    diff_type,
    diff_enum,
    diff_bounds,
    diff_limits,
    diff_multiple_of,
    diff_pattern_format,
    diff_unique,
    diff_required,
    diff_properties,
    diff_items,
    diff_combinators,
    diff_dependencies,
    diff_entry_reference,
    diff_asset_reference,
    diff_unanalysed,
)


def diff_schemas(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """Every change from ``old`` to ``new`` (both whole content-type documents), in pointer order."""
    differ = Differ(old, new)
    differ.compare(old, new, ())
    diff_unused_definitions(differ)
    from charter.schemas.compat.locales import diff_x_charter

    changes = differ.changes + diff_x_charter(old, new)
    seen: set[tuple[str, str, str]] = set()
    out: list[Change] = []
    for c in changes:
        key = (c.pointer, c.kind, c.message)
        if key not in seen:
            seen.add(key)
            out.append(c)
    return out


class Differ:
    def __init__(self, old_root: dict[str, Any], new_root: dict[str, Any]) -> None:
        self.old_root = old_root
        self.new_root = new_root
        self.changes: list[Change] = []
        #: Ref pairs compared already (with the schemas they resolved to), and those being compared
        #: now (an ancestor in the walk: met again, the schema is recursive).
        self.seen_refs: set[tuple[str | None, str | None, str, str]] = set()
        self.in_progress: set[tuple[str | None, str | None, str, str]] = set()
        #: In-progress pairs met again below an opaque context (see :meth:`opaque_changes`).
        self.recursed: set[tuple[str | None, str | None, str, str]] = set()
        self.visited_defs: set[str] = set()

    # -- helpers --------------------------------------------------------------------------------

    def add(
        self,
        path: Path,
        kind: str,
        message: str,
        *,
        backward: bool = False,
        forward: bool = False,
        annotation: bool = False,
        old: Any = None,
        new: Any = None,
        tolerable: bool = False,
    ) -> None:
        self.changes.append(Change(pointer(path), kind, message, backward, forward, annotation, old, new, tolerable))

    def child(self, fresh: bool = False) -> Differ:
        """A differ for a sub-comparison. ``fresh``: forget the pairs already compared elsewhere
        (their changes were classified for a monotonic context; this one is not), keeping only
        the pairs in progress so that recursive schemas still terminate."""
        d = Differ(self.old_root, self.new_root)
        d.seen_refs = set(self.in_progress if fresh else self.seen_refs)
        d.in_progress = set(self.in_progress)
        return d

    def effect(self, old: Any, new: Any, path: Path) -> tuple[bool, bool]:
        """(breaks backward, breaks forward) of replacing ``old`` with ``new``, without recording."""
        # Afresh: a ref pair compared elsewhere must not count as unchanged here.
        found, recursion = self.opaque_changes(lambda sub: sub.compare(old, new, path))
        if recursion:
            return True, True
        return any(c.backward for c in found), any(c.forward for c in found)

    def opaque_changes(self, run: Callable[[Differ], None]) -> tuple[list[Change], bool]:
        """The changes ``run(child)`` finds below a context where a change's direction says
        nothing about the whole (``not``; a ``oneOf`` whose alternatives may overlap), compared
        afresh, even ref pairs met elsewhere. Also True when a recursive reference back to a
        schema being compared met a definition that changed (its changes are not all known yet,
        so the caller must assume some). Documentation-only changes are left out."""
        found, recursion = self._opaque(run)
        return [c for c in found if not c.annotation], recursion

    def _opaque(self, run: Callable[[Differ], None]) -> tuple[list[Change], bool]:
        d = self.child(fresh=True)
        run(d)
        self.visited_defs |= d.visited_defs
        self.recursed |= d.recursed - self.in_progress
        changed_recursion = any(self.closure_differs(k[0], k[1]) for k in d.recursed & self.in_progress)
        return d.changes, changed_recursion

    def both_ways(self, run: Callable[[Differ], None], context: str, path: Path, kind: str, message: str) -> None:
        """Record the changes ``run(child)`` finds below a non-monotonic ``context`` as breaking
        both ways; ``kind``/``message`` stand for them when only a changed recursion was met."""
        found, recursion = self._opaque(run)
        for c in found:
            if c.annotation:
                self.changes.append(c)  # documentation stays documentation in any context
                continue
            message_c = f"{c.message} ({context}: breaks both ways)"
            self.changes.append(Change(c.pointer, c.kind, message_c, True, True, False, c.old, c.new))
        if recursion and not any(not c.annotation for c in found):
            self.add(path, kind, message, backward=True, forward=True)

    def same(self, old: Any, new: Any) -> bool:
        """Are two subschemas identical, including every definition their ``$ref`` reach?"""
        if canonical(old) != canonical(new):
            return False
        refs = refs_in(old)
        self.visited_defs |= refs
        return not any(self.closure_differs(r, r) for r in refs)

    def closure_differs(self, old_ref: str | None, new_ref: str | None) -> bool:
        """Do the definitions reachable from ``old_ref`` (old schema) and ``new_ref`` differ?"""
        return canonical(closure(self.old_root, old_ref)) != canonical(closure(self.new_root, new_ref))

    # -- the walk -------------------------------------------------------------------------------

    def compare(self, old: Any, new: Any, path: Path) -> None:
        old, old_ref = deref(old, self.old_root, path, "old")
        new, new_ref = deref(new, self.new_root, path, "new")
        if old_ref or new_ref:
            key = (old_ref, new_ref, canonical(old), canonical(new))
            if key in self.seen_refs:
                if key in self.in_progress:
                    self.recursed.add(key)
                return  # compared already (or in progress: a recursive schema)
            self.seen_refs.add(key)
            self.visited_defs.update(r for r in (old_ref, new_ref) if r)
            ref = new_ref or old_ref
            if ref and ref.startswith("#/"):
                path = tuple(p.replace("~1", "/").replace("~0", "~") for p in ref[2:].split("/"))
            self.in_progress.add(key)
            try:
                self._compare_resolved(old, new, path)
            finally:
                self.in_progress.discard(key)
            return
        self._compare_resolved(old, new, path)

    def _compare_resolved(self, old: Any, new: Any, path: Path) -> None:
        old_false, new_false = is_false(old), is_false(new)
        if old_false or new_false:
            if old_false and not new_false:
                self.add(path, "schema.opened", "was `false` (nothing allowed), now allows values", forward=True)
            elif new_false and not old_false:
                self.add(path, "schema.closed", "now `false`: no value is allowed here", backward=True)
            return
        old = {} if old is True else old
        new = {} if new is True else new
        if not isinstance(old, dict) or not isinstance(new, dict):
            if canonical(old) != canonical(new):
                self.add(path, "schema.changed", "schema changed", backward=True, forward=True, old=old, new=new)
            return
        old, new = align_unions(normalise(old), normalise(new), path == ())
        old_empty, new_empty = not value_kinds(old), not value_kinds(new)
        if old_empty or new_empty:
            # No JSON type satisfies every condition (`type: number` with string values, ...):
            # the schema accepts nothing, as `false` does.
            if old_empty and not new_empty:
                self.add(path, "schema.opened", "accepted nothing (no type fits), now allows values", forward=True)
            elif new_empty and not old_empty:
                self.add(path, "schema.closed", "now accepts nothing: no type fits every condition", backward=True)
            elif canonical(old) != canonical(new):
                self.add(path, "schema.rewritten", "rewritten, but accepts nothing before and after")
            return
        opaque = opaque_unevaluated(old) or opaque_unevaluated(new)
        if opaque:
            # What `unevaluated*` rejects depends on what every applicator beside it evaluates
            # (2020-12 §11): a change anywhere below can move a name or an item in or out of it.
            self.both_ways(
                lambda sub: sub.apply_rules(old, new, path),
                f"beside {opaque}, which depends on what every subschema here evaluates",
                path,
                f"{opaque}.context_changed",
                f"a recursive schema beside {opaque} changed",
            )
            return
        self.apply_rules(old, new, path)

    def apply_rules(self, old: dict[str, Any], new: dict[str, Any], path: Path) -> None:
        """Every keyword rule on two normalised subschemas."""
        for rule in RULES:
            rule(self, old, new, path)
