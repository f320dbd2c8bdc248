"""Changes that cannot affect content, and keywords that are not analysed.

Decides that a change to an annotation (``title``, ``description``, an ``x-`` extension other
than Charter's own, ...) or to a definition no ``$ref`` reaches is documentation only, and that a
change to a keyword no rule understands (or to a definition such a keyword reaches) breaks both
ways.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from charter.schemas.compat.diff.keywords import ANNOTATIONS, HANDLED, ROOT_ONLY
from charter.schemas.compat.diff.schema import Path, canonical, refs_in

if TYPE_CHECKING:
    from charter.schemas.compat.diff.differ import Differ


#: Charter's own keywords: they change what validates, so they are not notes.
CHARTER_KEYWORDS = ("x-charter", "x-charter-ref", "x-charter-asset")


def diff_annotations(d: Differ, old: dict[str, Any], new: dict[str, Any], path: Path) -> None:
    for key in sorted(set(old) | set(new)):
        is_note = key in ANNOTATIONS or (
            key.startswith("x-") and key not in ("x-charter", "x-charter-ref", "x-charter-asset")
        )
        if not is_note or canonical(old.get(key)) == canonical(new.get(key)):
            continue
        verb = "added" if key not in old else "removed" if key not in new else "changed"
        d.add(
            (*path, key),
            f"annotation.{verb}",
            f"{key} {verb} (documentation only)",
            annotation=True,
            old=old.get(key),
            new=new.get(key),
        )


def diff_unanalysed(d: Differ, old: dict[str, Any], new: dict[str, Any], path: Path) -> None:
    is_root = path == ()
    for key in sorted(set(old) | set(new)):
        if key in HANDLED or key in ANNOTATIONS or key.startswith("x-") or (is_root and key in ROOT_ONLY):
            continue
        if key in ("$defs", "definitions"):
            continue
        refs = refs_in(old.get(key)) | refs_in(new.get(key))
        d.visited_defs |= refs
        differs = canonical(old.get(key)) != canonical(new.get(key)) or any(d.closure_differs(r, r) for r in refs)
        if key in ("$dynamicRef", "$recursiveRef") and not differs:
            # Resolved at validation time through anchors anywhere in the document: unless the
            # document's schemas are unchanged, what it points at may have changed.
            differs = _body(d.old_root) != _body(d.new_root)
        if differs:
            d.add(
                (*path, key),
                "keyword.changed",
                f"{key} changed (not analysed: treated as breaking both ways)",
                backward=True,
                forward=True,
                old=old.get(key),
                new=new.get(key),
            )


def _body(root: dict[str, Any]) -> str:
    return canonical({k: v for k, v in root.items() if k not in ("version", "$id")})


def diff_unused_definitions(d: Differ) -> None:
    """Changes in ``$defs`` no ``$ref`` reaches cannot affect content: documentation-level.
    Run after the walk, when ``d.visited_defs`` holds every definition it reached."""
    od, nd = d.old_root.get("$defs") or {}, d.new_root.get("$defs") or {}
    for name in sorted(set(od) | set(nd)):
        ref = "#/$defs/" + name.replace("~", "~0").replace("/", "~1")
        if ref in d.visited_defs or canonical(od.get(name)) == canonical(nd.get(name)):
            continue
        verb = "added" if name not in od else "removed" if name not in nd else "changed"
        d.add(("$defs", name), f"definition.{verb}", f"unused definition {name!r} {verb}", annotation=True)
