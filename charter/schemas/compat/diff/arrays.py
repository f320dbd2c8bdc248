"""Array keywords: ``prefixItems``, ``items``, ``contains`` and ``uniqueItems``.

Decides how item schemas are paired (a position beyond ``prefixItems`` falls back to ``items``),
that adding ``contains`` or ``uniqueItems`` breaks backward and removing them forward, and that
below a ``contains`` bounded by ``maxContains`` every change breaks both ways.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from charter.schemas.compat.diff.schema import Path

if TYPE_CHECKING:
    from charter.schemas.compat.diff.differ import Differ


def diff_unique(d: Differ, old: dict[str, Any], new: dict[str, Any], path: Path) -> None:
    o, n = bool(old.get("uniqueItems")), bool(new.get("uniqueItems"))
    if o != n:
        d.add(
            (*path, "uniqueItems"),
            "uniqueItems.changed",
            "items must now be unique" if n else "items no longer need to be unique",
            backward=n,
            forward=o,
            old=o,
            new=n,
        )


def diff_items(d: Differ, old: dict[str, Any], new: dict[str, Any], path: Path) -> None:
    opf, npf = old.get("prefixItems") or [], new.get("prefixItems") or []
    oi, ni = old.get("items", True), new.get("items", True)
    for i in range(max(len(opf), len(npf))):
        where = (*path, "prefixItems", i)
        d.compare(opf[i] if i < len(opf) else oi, npf[i] if i < len(npf) else ni, where)
    if "items" in old or "items" in new:
        d.compare(oi, ni, (*path, "items"))
    oc, nc = old.get("contains"), new.get("contains")
    if oc is not None and nc is not None and ("maxContains" in old or "maxContains" in new):
        # With an upper bound on matching items, a narrower `contains` lets arrays that had
        # too many matches through and a wider one rejects them: any change breaks both ways.
        where = (*path, "contains")
        d.both_ways(
            lambda sub: sub.compare(oc, nc, where),
            "inside a contains bounded by maxContains",
            where,
            "contains.changed",
            "contains changed",
        )
    elif oc is not None and nc is not None:
        d.compare(oc, nc, (*path, "contains"))
    elif oc is not None or nc is not None:
        added = nc is not None
        d.add(
            (*path, "contains"),
            f"contains.{'added' if added else 'removed'}",
            "arrays must now contain a matching item" if added else "contains no longer enforced",
            backward=added,
            forward=not added,
        )
