"""What a schema change does to the front end's types: the TypeScript module of every content type
that changed, baseline against working tree, as a unified diff (``charter schema check``'s report).

The modules are the ones ``charter types generate`` writes (:mod:`charter.frontend.typescript`),
so the diff is exactly the change a front end sees after regenerating: a removed field is a removed
member, a narrowed enum a shorter literal union. Types whose schema did not change are left out;
a type new since the baseline diffs against nothing, a type gone diffs to nothing.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

from charter.frontend.typescript import content_type_module, module_name
from charter.schemas.registry import ContentType, Registry

if TYPE_CHECKING:
    from charter.schemas.compat.baselines import Released


def _released(r: Released) -> ContentType:
    major = int(r.schema_id.rpartition(".v")[2] or 1)
    return ContentType(name=r.name, major=major, version=r.version, schema=r.schema)


def type_diffs(registry: Registry, history: dict[str, list[Released]], baseline: str) -> dict[str, str]:
    """Content type name → unified diff of its TypeScript module (only types whose schema changed)."""
    before = Registry(types={name: _released(v[-1]) for name, v in history.items() if v})
    out: dict[str, str] = {}
    for name in sorted(set(before.types) | set(registry.types)):
        old: ContentType | None = before.types.get(name)
        new: ContentType | None = registry.types.get(name)
        if old is not None and new is not None and old.fingerprint == new.fingerprint:
            continue
        old_text = content_type_module(old, before) if old is not None else ""
        new_text = content_type_module(new, registry) if new is not None else ""
        if old_text == new_text:
            continue
        diff = difflib.unified_diff(
            old_text.splitlines(keepends=True),
            new_text.splitlines(keepends=True),
            fromfile=f"{baseline}/{module_name(old)}.ts" if old is not None else "/dev/null",
            tofile=f"working tree/{module_name(new)}.ts" if new is not None else "/dev/null",
        )
        out[name] = "".join(diff)
    return out
