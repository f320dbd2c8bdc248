"""Entry references: string fields marked ``"x-charter-ref": "<type>"`` hold another entry's id.

:func:`find_references` walks a document alongside its schema (following local ``$ref`` and
choosing ``oneOf``/``anyOf`` branches by ``intent``) and yields every reference with its pointer.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from charter.schemas.validation import pointer, resolve_local_ref


def find_references(root: dict[str, Any], doc: Any) -> Iterator[tuple[str, str, str]]:
    """Yield ``(json_pointer, target_type, entry_id)`` for every reference in ``doc``."""
    yield from _walk(root, root, doc, (), 0)


def _walk(
    root: dict[str, Any], schema: Any, value: Any, path: tuple[Any, ...], depth: int
) -> Iterator[tuple[str, str, str]]:
    if depth > 32 or not isinstance(schema, dict):
        return
    if "$ref" in schema:
        target = resolve_local_ref(root, schema["$ref"])
        yield from _walk(root, target, value, path, depth + 1)
    target_type = schema.get("x-charter-ref")
    if target_type and isinstance(value, str):
        yield pointer(path), str(target_type), value
        return
    for keyword in ("oneOf", "anyOf", "allOf"):
        branches = schema.get(keyword)
        if not isinstance(branches, list):
            continue
        for branch in branches:
            resolved = (
                resolve_local_ref(root, branch["$ref"]) if isinstance(branch, dict) and "$ref" in branch else branch
            )
            if isinstance(value, dict) and isinstance(resolved, dict) and "intent" in value:
                intent = (resolved.get("properties") or {}).get("intent") or {}
                if intent.get("const", value["intent"]) != value["intent"]:
                    continue
            yield from _walk(root, resolved, value, path, depth + 1)
    if isinstance(value, dict):
        for key, prop in (schema.get("properties") or {}).items():
            if key in value:
                yield from _walk(root, prop, value[key], (*path, key), depth + 1)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            yield from _walk(root, schema["items"], item, (*path, i), depth + 1)
