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


#: id(root) -> (root, {id(schema node): may its subtree hold a reference?}). The root is kept, so
#: its id (and its nodes' ids) cannot be reused while the entry lives; bounded in number of roots.
_MAY_REFER: dict[int, tuple[dict[str, Any], dict[int, bool]]] = {}
_MAX_ROOTS = 256


def may_refer(root: dict[str, Any], schema: Any) -> bool:
    """Can any value under ``schema`` be a reference? Decided once per schema node, so a walk skips
    the subtrees (page sections of other intents, say) that cannot hold one."""
    if not isinstance(schema, dict):
        return False
    memo = _MAY_REFER.get(id(root))
    if memo is None:
        if len(_MAY_REFER) >= _MAX_ROOTS:
            _MAY_REFER.clear()
        memo = _MAY_REFER[id(root)] = (root, {})
    known = memo[1].get(id(schema))
    return known if known is not None else _decide(root, schema, memo[1], 0)


def _decide(root: dict[str, Any], schema: Any, memo: dict[int, bool], depth: int) -> bool:
    if not isinstance(schema, dict):
        return False
    known = memo.get(id(schema))
    if known is not None:
        return known
    if depth > 32:
        return True  # too deep to tell: walk it
    memo[id(schema)] = True  # a recursive $ref meets "maybe" while this node is decided
    children: list[Any] = []
    if "$ref" in schema:
        children.append(resolve_local_ref(root, schema["$ref"]))
    for keyword in ("oneOf", "anyOf", "allOf", "prefixItems"):
        branches = schema.get(keyword)
        if isinstance(branches, list):
            children.extend(branches)
    properties = schema.get("properties")
    if isinstance(properties, dict):
        children.extend(properties.values())
    children += [schema.get("items"), schema.get("additionalProperties")]
    result = "x-charter-ref" in schema or any(_decide(root, child, memo, depth + 1) for child in children)
    memo[id(schema)] = result
    return result


def _walk(
    root: dict[str, Any], schema: Any, value: Any, path: tuple[Any, ...], depth: int
) -> Iterator[tuple[str, str, str]]:
    if depth > 32 or not isinstance(schema, dict) or not may_refer(root, schema):
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
            if not may_refer(root, branch):
                continue
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
