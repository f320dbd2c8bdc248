"""References: string fields marked ``"x-charter-ref": "<type>"`` hold another entry's id;
string fields marked ``"x-charter-asset": {constraints}`` hold a media asset's id.

:func:`find_references` walks a document alongside its schema (following local ``$ref`` and
choosing ``oneOf``/``anyOf`` branches by ``intent``) and yields every entry reference with its
pointer; :func:`find_asset_references` does the same for asset references, with the field's
constraints (``true`` or ``{}`` for none).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from charter.schemas.validation import pointer, resolve_local_ref

ENTRY_KEYWORD = "x-charter-ref"
ASSET_KEYWORD = "x-charter-asset"


def find_references(root: dict[str, Any], doc: Any) -> Iterator[tuple[str, str, str]]:
    """Yield ``(json_pointer, target_type, entry_id)`` for every reference in ``doc``."""
    for ptr, target, value in _walk(root, root, doc, (), 0, ENTRY_KEYWORD):
        yield ptr, str(target), value


def find_asset_references(root: dict[str, Any], doc: Any) -> Iterator[tuple[str, dict[str, Any], str]]:
    """Yield ``(json_pointer, constraints, asset_id)`` for every asset reference in ``doc``."""
    for ptr, constraints, value in _walk(root, root, doc, (), 0, ASSET_KEYWORD):
        yield ptr, constraints if isinstance(constraints, dict) else {}, value


#: (id(root), keyword) -> (root, {id(schema node): may its subtree hold a reference?}). The root is
#: kept, so its id (and its nodes' ids) cannot be reused while the entry lives; bounded in number.
_MAY_REFER: dict[tuple[int, str], tuple[dict[str, Any], dict[int, bool]]] = {}
_MAX_ROOTS = 256


def may_refer(root: dict[str, Any], schema: Any, keyword: str = ENTRY_KEYWORD) -> bool:
    """Can any value under ``schema`` be a reference? Decided once per schema node, so a walk skips
    the subtrees (page sections of other intents, say) that cannot hold one."""
    if not isinstance(schema, dict):
        return False
    memo = _MAY_REFER.get((id(root), keyword))
    if memo is None:
        if len(_MAY_REFER) >= _MAX_ROOTS:
            _MAY_REFER.clear()
        memo = _MAY_REFER[(id(root), keyword)] = (root, {})
    known = memo[1].get(id(schema))
    return known if known is not None else _decide(root, schema, memo[1], 0, keyword)


def _decide(root: dict[str, Any], schema: Any, memo: dict[int, bool], depth: int, keyword: str) -> bool:
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
    for combinator in ("oneOf", "anyOf", "allOf", "prefixItems"):
        branches = schema.get(combinator)
        if isinstance(branches, list):
            children.extend(branches)
    properties = schema.get("properties")
    if isinstance(properties, dict):
        children.extend(properties.values())
    children += [schema.get("items"), schema.get("additionalProperties")]
    result = keyword in schema or any(_decide(root, child, memo, depth + 1, keyword) for child in children)
    memo[id(schema)] = result
    return result


def _walk(
    root: dict[str, Any], schema: Any, value: Any, path: tuple[Any, ...], depth: int, keyword: str
) -> Iterator[tuple[str, Any, str]]:
    if depth > 32 or not isinstance(schema, dict) or not may_refer(root, schema, keyword):
        return
    if "$ref" in schema:
        target = resolve_local_ref(root, schema["$ref"])
        yield from _walk(root, target, value, path, depth + 1, keyword)
    target = schema.get(keyword)
    if target is not None and target is not False and isinstance(value, str):
        yield pointer(path), target, value
        return
    for combinator in ("oneOf", "anyOf", "allOf"):
        branches = schema.get(combinator)
        if not isinstance(branches, list):
            continue
        for branch in branches:
            if not may_refer(root, branch, keyword):
                continue
            resolved = (
                resolve_local_ref(root, branch["$ref"]) if isinstance(branch, dict) and "$ref" in branch else branch
            )
            if isinstance(value, dict) and isinstance(resolved, dict) and "intent" in value:
                intent = (resolved.get("properties") or {}).get("intent") or {}
                if intent.get("const", value["intent"]) != value["intent"]:
                    continue
            yield from _walk(root, resolved, value, path, depth + 1, keyword)
    if isinstance(value, dict):
        for key, prop in (schema.get("properties") or {}).items():
            if key in value:
                yield from _walk(root, prop, value[key], (*path, key), depth + 1, keyword)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            yield from _walk(root, schema["items"], item, (*path, i), depth + 1, keyword)
