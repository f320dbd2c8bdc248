"""Reading one schema on its own: its canonical form, where its ``$ref`` lead, whether it is ``false``.

Decides what a ``$ref`` stands for in the comparison: a chain of local refs is followed and
sibling keywords are merged into the target (or kept beside it under ``allOf`` when both constrain
the same keyword). A ref that does not resolve, or a chain that only points at itself, raises
:class:`SchemaDiffError`. The definitions a ref reaches (:func:`closure`) are its fingerprint:
two refs mean the same when their closures are equal.
"""

from __future__ import annotations

import json
from typing import Any

from charter.exceptions import BadRequest, ErrorDetail
from charter.schemas.compat.diff.keywords import ANNOTATIONS, ROOT_ONLY
from charter.schemas.validation import pointer, resolve_local_ref

Path = tuple[Any, ...]


class SchemaDiffError(BadRequest):
    """A schema cannot be compared: unresolvable or purely cyclic ``$ref``. ``pointer`` locates
    the offending ``$ref``; ``side`` is ``old`` or ``new``; ``file`` is set by callers that know it."""

    type_slug = "schema-diff"
    title = "Schema cannot be compared"

    def __init__(self, message: str, pointer: str, side: str, file: str | None = None) -> None:
        super().__init__(detail=message, errors=[ErrorDetail(pointer, message, "$ref", file)])
        self.pointer = pointer
        self.side = side

    def in_file(self, file: str) -> SchemaDiffError:
        """The same error, naming the file it is in."""
        return SchemaDiffError(f"{file}: {self.detail}", self.pointer, self.side, file)


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def deref(schema: Any, root: dict[str, Any], path: Path, side: str) -> tuple[Any, str | None]:
    """Follow ``$ref`` (merging sibling keywords); return the schema and the last ref followed."""
    ref_seen: list[str] = []
    last: str | None = None
    while isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
        ref = schema["$ref"]
        if ref in ref_seen:
            raise SchemaDiffError(
                f"cyclic $ref: {' -> '.join([*ref_seen, ref])} never reaches a schema", pointer(path), side
            )
        ref_seen.append(ref)
        target = resolve_local_ref(root, ref)
        if target is None:
            raise SchemaDiffError(f"unresolvable $ref {ref!r}", pointer((*path, "$ref")), side)
        # At the root, $id, version, x-charter and $defs describe the document, not the value.
        siblings = {k: v for k, v in schema.items() if k != "$ref" and not (path == () and k in ROOT_ONLY)}
        last = ref
        if target is True:
            target = {}
        if target is False:
            target = {"not": {}}
        if not isinstance(target, dict):
            raise SchemaDiffError(f"$ref {ref!r} does not point at a schema", pointer((*path, "$ref")), side)
        if siblings and set(siblings) & (set(target) - ANNOTATIONS):
            # $ref with a sibling the target also has: both apply (2020-12 §8.2.3.1), so
            # merging would let one hide the other.
            schema = {"allOf": [target, siblings]}
        else:
            schema = {**target, **siblings} if siblings else target
    return schema, last


def refs_in(value: Any) -> set[str]:
    """Every ``$ref`` string anywhere in ``value``."""
    out: set[str] = set()
    if isinstance(value, dict):
        if isinstance(value.get("$ref"), str):
            out.add(value["$ref"])
        for v in value.values():
            out |= refs_in(v)
    elif isinstance(value, list):
        for v in value:
            out |= refs_in(v)
    return out


def closure(root: dict[str, Any], ref: str | None) -> dict[str, Any]:
    """ref -> target for ``ref`` and every ``$ref`` reachable from it (a fingerprint of what it means)."""
    out: dict[str, Any] = {}
    todo = [ref] if ref else []
    while todo:
        r = todo.pop()
        if r in out:
            continue
        target = resolve_local_ref(root, r)
        out[r] = target
        todo.extend(refs_in(target))
    return out


def is_false(schema: Any) -> bool:
    return schema is False or (isinstance(schema, dict) and set(schema) == {"not"} and schema["not"] in ({}, True))
