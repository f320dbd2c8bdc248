"""Lint content-type files: is each one a valid, complete Charter contract?

Checks, each reported with the file and a JSON pointer: JSON syntax, JSON Schema 2020-12
meta-schema validity, ``$id`` of the form ``<file name>.v<major>`` agreeing with the semver
``version``, a root object type, the ``x-charter`` block (locale codes, fallback chains, localised
and slug fields), unresolvable local ``$ref``, intents outside the vocabulary, and presentation
fields the type does not explicitly allow.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from charter import strictjson
from charter.exceptions import ErrorDetail
from charter.schemas.assets import KEYWORD, constraint_problems
from charter.schemas.content_type import ContentType, LocaleRules
from charter.schemas.intents import INTENT_NAME, KNOWN_INTENTS, is_presentation_field
from charter.schemas.validation import pointer, resolve_local_ref

SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")
SCHEMA_ID = re.compile(r"^([a-z][a-z0-9]*(?:-[a-z0-9]+)*)\.v([1-9]\d*)$")
UUID_SHAPE = re.compile(r"^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$")
LOCALE = re.compile(r"^[a-z]{2,3}(?:-[A-Z][a-z]{3})?(?:-(?:[A-Z]{2}|\d{3}))?$")
DIALECT = "https://json-schema.org/draft/2020-12/schema"
X_CHARTER_KEYS = {"domain", "slug", "localized", "locales", "presentation", "policy", "description"}
POLICIES = {
    "TOLERANT",
    "BACKWARD",
    "FORWARD",
    "FULL",
    "BACKWARD_TRANSITIVE",
    "FORWARD_TRANSITIVE",
    "FULL_TRANSITIVE",
    "NONE",
}
_META = Draft202012Validator(Draft202012Validator.META_SCHEMA)


def _walk(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], dict[str, Any]]]:
    """Every subschema (dict) in a schema, with its path."""
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            if key in ("const", "enum", "examples", "default", "x-charter"):
                continue
            yield from _walk(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, (*path, i))


def lint_schema(schema: Any, file: str, extra_intents: tuple[str, ...] = ()) -> list[ErrorDetail]:
    errs: list[ErrorDetail] = []

    def err(path: tuple[Any, ...], message: str, keyword: str | None = None) -> None:
        errs.append(ErrorDetail(pointer(path), message, keyword, file))

    if not isinstance(schema, dict):
        err((), "a content type must be a JSON object", "type")
        return errs
    for e in _META.iter_errors(schema):
        err(tuple(e.absolute_path), f"invalid JSON Schema: {e.message}", "schema")
    if "$schema" in schema and schema["$schema"] != DIALECT:
        err(("$schema",), f"content types use JSON Schema 2020-12 ({DIALECT})", "$schema")
    stem = Path(file).name.removesuffix(".json").removesuffix(".schema")
    version = schema.get("version")
    if version is None:
        err(("version",), "missing version (a semver string such as '1.0.0')", "version")
    elif not isinstance(version, str) or not SEMVER.match(version):
        err(("version",), f"version {version!r} is not semver (MAJOR.MINOR.PATCH)", "version")
    schema_id = schema.get("$id")
    m = SCHEMA_ID.match(schema_id) if isinstance(schema_id, str) else None
    if schema_id is None:
        err(("$id",), f"missing $id (expected '{stem}.v<major>')", "$id")
    elif not m:
        err(("$id",), f"$id {schema_id!r} must look like '<name>.v<major>', e.g. '{stem}.v1'", "$id")
    else:
        if m.group(1) != stem:
            err(("$id",), f"$id name {m.group(1)!r} does not match the file name {stem!r}", "$id")
        if UUID_SHAPE.match(m.group(1)):
            # /v1/manage/entries/<x> reads an entry when x is a UUID and lists a type's entries otherwise.
            err(("$id",), f"type name {m.group(1)!r} has the shape of an entry id (a UUID)", "$id")
        if isinstance(version, str) and SEMVER.match(version) and version.split(".")[0] != m.group(2):
            err(("$id",), f"$id major v{m.group(2)} does not match version {version}", "$id")
    if schema.get("type") != "object":
        err(("type",), "a content type's root must be {'type': 'object'}", "type")
    raw_props = schema.get("properties")
    props: dict[str, Any] = raw_props if isinstance(raw_props, dict) else {}
    errs.extend(_lint_options(schema, props, file))
    # Local $ref must resolve.
    for path, node in _walk(schema):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#") and resolve_local_ref(schema, ref) is None:
            err((*path, "$ref"), f"unresolvable $ref {ref!r}", "$ref")
    # Intents, by meaning, never component names.
    allowed = KNOWN_INTENTS | set(extra_intents)
    for path, node in _walk(schema):
        intent = (node.get("properties") or {}).get("intent") if isinstance(node.get("properties"), dict) else None
        if not isinstance(intent, dict):
            continue
        values = [intent["const"]] if "const" in intent else list(intent.get("enum", []))
        for i, value in enumerate(values):
            where = (
                (*path, "properties", "intent", "const")
                if "const" in intent
                else (*path, "properties", "intent", "enum", i)
            )
            if not isinstance(value, str) or not INTENT_NAME.match(value):
                err(
                    where, f"intent {value!r} must be a kebab-case meaning such as 'feature-grid', not a component name"
                )
            elif value not in allowed:
                err(
                    where,
                    f"unknown intent {value!r}; known: {', '.join(sorted(allowed))} "
                    "(declare project intents in charter.toml)",
                    "intent",
                )
    # Asset references: a known set of constraints.
    for path, node in _walk(schema):
        if KEYWORD in node:
            for key, message in constraint_problems(node[KEYWORD]):
                err((*path, KEYWORD, key) if key else (*path, KEYWORD), message, KEYWORD)
    # Presentation-only fields only where explicitly allowed.
    allowed_presentation = set((schema.get("x-charter") or {}).get("presentation", []) or [])
    for path, node in _walk(schema):
        for name in (node.get("properties") or {}) if isinstance(node.get("properties"), dict) else {}:
            if is_presentation_field(name) and name not in allowed_presentation:
                err(
                    (*path, "properties", name),
                    f"{name!r} is a presentation field; model meaning instead, or allow it in x-charter.presentation",
                    "presentation",
                )
    return errs


def _lint_options(schema: dict[str, Any], props: dict[str, Any], file: str) -> list[ErrorDetail]:
    errs: list[ErrorDetail] = []
    opts = schema.get("x-charter", {})

    def err(path: tuple[Any, ...], message: str, keyword: str | None = None) -> None:
        errs.append(ErrorDetail(pointer(("x-charter", *path)), message, keyword, file))

    if not isinstance(opts, dict):
        err((), "x-charter must be an object")
        return errs
    for key in opts:
        if key not in X_CHARTER_KEYS:
            err((key,), f"unknown x-charter option {key!r}; known: {', '.join(sorted(X_CHARTER_KEYS))}")
    if "policy" in opts and opts["policy"] not in POLICIES:
        err(("policy",), f"unknown policy {opts['policy']!r}; use one of {', '.join(sorted(POLICIES))}")
    for key in ("localized", "presentation"):
        values = opts.get(key, [])
        if not isinstance(values, list):
            err((key,), f"{key} must be a list of field names")
            continue
        for i, name in enumerate(values):
            if name not in props:
                err((key, i), f"{key} field {name!r} is not a property of this type")
    slug = opts.get("slug")
    if slug is not None:
        if slug not in props:
            err(("slug",), f"slug field {slug!r} is not a property of this type")
        elif slug not in schema.get("required", []):
            err(("slug",), f"slug field {slug!r} must be required")
        elif slug in opts.get("localized", []):
            err(("slug",), "the slug field cannot be localised")
    locales = opts.get("locales", {})
    if not isinstance(locales, dict):
        err(("locales",), "locales must be an object with default, required and fallbacks")
        return errs
    default = locales.get("default", "en")
    for path, code in [(("locales", "default"), default)] + [
        (("locales", "required", i), c) for i, c in enumerate(locales.get("required", []) or [])
    ]:
        if not isinstance(code, str) or not LOCALE.match(code):
            err(path, f"{code!r} is not a locale code such as 'en' or 'de-AT'", "locale")
    fallbacks = locales.get("fallbacks", {}) or {}
    if not isinstance(fallbacks, dict):
        err(("locales", "fallbacks"), "fallbacks must map a locale to its chain, e.g. {'de-AT': ['de-DE', 'en']}")
        return errs
    known = {default, *fallbacks, *(locales.get("required", []) or [])}
    for loc, chain in fallbacks.items():
        if not LOCALE.match(loc):
            err(("locales", "fallbacks", loc), f"{loc!r} is not a locale code", "locale")
        if not isinstance(chain, list) or not chain:
            err(("locales", "fallbacks", loc), "a fallback chain is a non-empty list of locales")
            continue
        for i, target in enumerate(chain):
            if target == loc:
                err(("locales", "fallbacks", loc, i), f"{loc!r} cannot fall back to itself")
            elif target not in known:
                err(("locales", "fallbacks", loc, i), f"fallback {target!r} is not a locale of this type")
        if len(set(chain)) != len(chain):
            err(("locales", "fallbacks", loc), "a fallback chain must not repeat a locale")
    for i, loc in enumerate(locales.get("required", []) or []):
        if loc != default and loc not in fallbacks:
            err(("locales", "required", i), f"required locale {loc!r} needs a fallback chain (or be the default)")
    if opts.get("localized") and not (set(fallbacks) or set(locales.get("required", [])) - {default}):
        err(("locales",), "localized fields are declared but no locale other than the default")
    return errs


def lint_file(path: Path, extra_intents: tuple[str, ...] = ()) -> tuple[ContentType | None, list[ErrorDetail]]:
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return None, [ErrorDetail("", f"cannot read: {exc.strerror}", None, file)]
    try:
        schema = strictjson.loads(text, what="the content-type file", file=file)
    except strictjson.InvalidJSON as exc:
        try:
            json.loads(text)  # a syntax error: say where, as a line and column
        except json.JSONDecodeError as syntax:
            where = f"line {syntax.lineno}, column {syntax.colno}"
            return None, [ErrorDetail("", f"invalid JSON at {where}: {syntax.msg}", "json", file)]
        return None, exc.errors
    errors = lint_schema(schema, file, extra_intents)
    if errors:
        return None, errors
    name, _, major = schema["$id"].partition(".v")
    ct = ContentType(name=name, major=int(major), version=schema["version"], schema=schema, path=path)
    LocaleRules.from_dict(ct.options.get("locales"))
    return ct, []


def lint_directory(directory: Path, extra_intents: tuple[str, ...] = ()) -> tuple[list[ContentType], list[ErrorDetail]]:
    """Lint every ``*.schema.json`` under ``directory``."""
    types: list[ContentType] = []
    errors: list[ErrorDetail] = []
    if not directory.is_dir():
        return [], [ErrorDetail("", "content-types folder not found", None, str(directory))]
    for path in sorted(directory.glob("*.schema.json")):
        # One file per type: the $id must match the file name, so a name cannot be defined twice.
        ct, errs = lint_file(path, extra_intents)
        errors.extend(errs)
        if ct:
            types.append(ct)
    return types, errors
