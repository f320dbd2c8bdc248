"""What a JSON Schema guarantees of an expectation's paths: the core of the static check
(:mod:`charter.contracts.static` for content types, :mod:`charter.contracts.llm` for ``/v1/ask``
and tools)."""

from __future__ import annotations

from typing import Any

from charter.contracts.model import Contract, Expectation
from charter.contracts.resolve import SchemaWalker, schema_type_problem
from charter.schemas.registry import LocaleRules


def expectation_failures(
    contract: Contract, exp: Expectation, schema: dict[str, Any], version: str | None
) -> list[tuple[str, str, str]]:
    """(field, kind, message) for everything the schema does not guarantee."""
    out: list[tuple[str, str, str]] = []
    if exp.version is not None and version is not None and not exp.version.satisfied_by(version):
        out.append(
            (
                "",
                "version",
                f"expects {exp.endpoint.content_type} {exp.version} but it is {version}; the consumer must "
                f"update its contract or pin the old major (Charter-Schema header)",
            )
        )
    walker = SchemaWalker(schema)
    rules = LocaleRules.from_dict((schema.get("x-charter") or {}).get("locales"))
    for loc in exp.locales or ():
        if loc not in rules.supported:
            out.append(("", "locale", f"locale {loc!r} is not served by {exp.endpoint.content_type}"))
    for path in exp.must_include:
        for leaf in walker.leaves(schema, path):
            if not leaf.guaranteed:
                kind = "missing" if leaf.schema is None else "optional"
                out.append((path.text, kind, f"not guaranteed: {leaf.reason}"))
                break
    for path, wanted in exp.types:
        for leaf in walker.leaves(schema, path):
            if leaf.schema is None:
                if path not in exp.must_include:
                    out.append((path.text, "missing", f"cannot be typed: {leaf.reason}"))
                break
            types, formats = walker.types_of(leaf.schema)
            problem = schema_type_problem(types, formats, wanted)
            if problem:
                out.append((path.text, "type", f"{leaf.trail} {problem}"))
                break
    return out
