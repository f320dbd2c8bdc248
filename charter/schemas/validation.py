"""JSON Schema 2020-12 validation with errors located by RFC 6901 JSON pointers.

Formats are asserted (not just annotated): ``date-time`` (RFC 3339), ``email``, ``uri`` and
Charter's ``url`` (an absolute http(s) URL or a root-relative path).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator, FormatChecker, ValidationError

from charter.exceptions import ErrorDetail

_format_checker = Draft202012Validator.FORMAT_CHECKER


def _url(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if value.startswith("/") and not value.startswith("//"):
        return " " not in value
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and " " not in value


FORMAT_CHECKER: FormatChecker = FormatChecker()
for _name, _fn in _format_checker.checkers.items():
    FORMAT_CHECKER.checkers[_name] = _fn
FORMAT_CHECKER.checks("url")(_url)


def pointer(parts: Iterable[Any]) -> str:
    """RFC 6901: '~' -> '~0', '/' -> '~1'."""
    out = ""
    for p in parts:
        out += "/" + str(p).replace("~", "~0").replace("/", "~1")
    return out


def make_validator(schema: dict[str, Any]) -> Draft202012Validator:
    return Draft202012Validator(schema, format_checker=FORMAT_CHECKER)


def _message(error: ValidationError) -> str:
    if error.validator == "required":
        return error.message.replace("is a required property", "is required")
    if error.validator == "additionalProperties":
        return error.message.replace("Additional properties are not allowed", "Unknown field(s)")
    if error.validator == "format":
        return f"{error.instance!r} is not a valid {error.validator_value}"
    return error.message


def resolve_local_ref(root: dict[str, Any], ref: str) -> Any:
    """Follow a same-document ``$ref`` ("#/$defs/hero"); None when it is not local or not found."""
    if not ref.startswith("#"):
        return None
    node: Any = root
    for part in ref[1:].split("/")[1:]:
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def _discriminated(error: ValidationError, root: dict[str, Any]) -> list[ValidationError] | None:
    """For a failed oneOf/anyOf over intent-discriminated branches, the errors of the branch whose
    ``intent`` matches the instance: far clearer than "is not valid under any of the given schemas"."""
    instance = error.instance
    if not isinstance(instance, dict) or "intent" not in instance or not isinstance(error.validator_value, list):
        return None
    for index, branch in enumerate(error.validator_value):
        resolved = branch
        if isinstance(branch, dict) and "$ref" in branch:
            resolved = resolve_local_ref(root, branch["$ref"])
        if not isinstance(resolved, dict):
            continue
        intent = resolved.get("properties", {}).get("intent", {})
        if intent.get("const") == instance["intent"] or instance["intent"] in intent.get("enum", []):
            return [e for e in (error.context or []) if e.relative_schema_path and e.relative_schema_path[0] == index]
    return []


def iter_errors(validator: Draft202012Validator, instance: Any, prefix: tuple[Any, ...] = ()) -> list[ErrorDetail]:
    found: list[ErrorDetail] = []
    root = validator.schema if isinstance(validator.schema, dict) else {}

    def visit(error: ValidationError) -> None:
        if error.validator in ("oneOf", "anyOf"):
            branch_errors = _discriminated(error, root)
            if branch_errors:
                for sub in branch_errors:
                    visit(sub)
                return
            if branch_errors == [] and isinstance(error.instance, dict) and "intent" in error.instance:
                found.append(
                    ErrorDetail(
                        pointer(prefix + tuple(error.absolute_path) + ("intent",)),
                        f"unknown intent {error.instance['intent']!r}",
                        "intent",
                    )
                )
                return
        found.append(ErrorDetail(pointer(prefix + tuple(error.absolute_path)), _message(error), str(error.validator)))

    for error in validator.iter_errors(instance):
        visit(error)
    found.sort(key=lambda e: e.pointer)
    return found
