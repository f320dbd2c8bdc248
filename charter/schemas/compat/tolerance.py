"""The tolerant-reader policy's evidence: what consumers rely on, and what stored content holds.

Under TOLERANT a change marked :attr:`Change.tolerable` (an optional field added where the model
was closed, a model opened) is a minor, because delivery consumers ignore fields they don't know.
Two kinds of evidence refine that, both as pure functions over changes:

- :func:`relied_on`: a registered consumer contract names a field (``hero`` in ``must_include``
  or ``types``); a tolerable change at or below it is no longer tolerable, since that consumer
  reads the whole of it. A tolerable change inside a ``$defs`` entry that is not the document's
  root ``$ref`` cannot be placed on a field path and counts as relied on when any contract names
  the type.
- :func:`unheld`: stored content is the evidence for BACKWARD. A property added to an open model
  breaks backward only because a stored entry may already hold that name with another value;
  when no stored entry holds it, the change is safe for the content that exists.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from charter.schemas.compat.model import Change


def field_names(pointer: str, root_ref: str | None = None) -> tuple[str, ...] | None:
    """The property names a change pointer walks (``/properties/hero/properties/title`` ->
    ``("hero", "title")``, through items and combinators); None when it is no field path (inside a
    ``$defs`` entry other than ``root_ref``'s, below ``additionalProperties``, ``not``, ...)."""
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]
    if parts[:1] == ["$defs"]:
        if root_ref is None or root_ref != f"#/$defs/{parts[1] if len(parts) > 1 else ''}":
            return None
        parts = parts[2:]
    names: list[str] = []
    i = 0
    while i < len(parts):
        if parts[i] == "properties" and i + 1 < len(parts):
            names.append(parts[i + 1])
            i += 2
        elif parts[i] in ("prefixItems", "allOf", "anyOf", "oneOf") and i + 1 < len(parts):
            i += 2  # the same value (or an item of it: data lists are walked through)
        elif parts[i] == "items":
            i += 1
        else:
            return None  # additionalProperties, patternProperties, not, ...: no field path
    return tuple(names)


def relied_on(changes: list[Change], used: Iterable[tuple[str, ...]], root_ref: str | None = None) -> list[Change]:
    """``changes`` with ``tolerable`` cleared where a contract relies on the field they touch.
    ``used``: the field paths (as name tuples) the type's contracts name."""
    paths = [tuple(p) for p in used]
    if not paths:
        return changes
    out = []
    for c in changes:
        if c.tolerable:
            names = field_names(c.pointer, root_ref)
            if names is None or any(names[: len(p)] == p for p in paths):
                c = dataclasses.replace(c, tolerable=False, message=f"{c.message}; a consumer contract relies on it")
        out.append(c)
    return out


def unheld(changes: list[Change], entries: Iterable[Any], root_ref: str | None = None) -> list[Change]:
    """``changes`` with the backward break of an open-model property addition lifted when no
    stored entry (``entries``: their data) holds a value at that field."""
    data = list(entries)
    out = []
    for c in changes:
        if c.kind == "property.added" and c.backward and "open model" in c.message:
            names = field_names(c.pointer, root_ref)
            if names and not any(_holds(d, names) for d in data):
                c = dataclasses.replace(
                    c, backward=False, message=f"{c.message}; no stored entry holds it (checked {len(data)})"
                )
        out.append(c)
    return out


def _holds(data: Any, names: tuple[str, ...]) -> bool:
    """Does ``data`` have a value at ``names``, through any list of items on the way?"""
    if not names:
        return True
    if isinstance(data, list):
        return any(_holds(item, names) for item in data)
    return isinstance(data, dict) and names[0] in data and _holds(data[names[0]], names[1:])
