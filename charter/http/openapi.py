"""The OpenAPI document declares the strict JSON gate (:mod:`charter.strictjson`).

Every request body goes through one gate that refuses what the models alone would allow: integers
beyond ±(2**53 - 1) and NUL characters in member names (I-JSON, RFC 7493). :func:`declare_strict_json`
writes that rule into the document, once, for every request body: numbers get those bounds, objects
a ``propertyNames`` pattern without NUL, and every free-form place (``additionalProperties`` left
open, an untyped value such as a content entry's fields) the recursive ``StrictJsonValue`` schema.
A client or a fuzzer generating from the document then only sends what the gate takes.
"""

from __future__ import annotations

from typing import Any

from charter.strictjson import MAX_SAFE_INTEGER

VALUE = "StrictJsonValue"
OBJECT = "StrictJsonObject"
_REF = {"$ref": f"#/components/schemas/{VALUE}"}
#: Member names: any string without NUL (the gate's rule for names).
NAME = {"pattern": "^[^\\u0000]*$"}
#: White space, as Python's ``str.isspace`` and ECMAScript's ``\\s`` count it between them, and the
#: pattern of a text with something else in it: the same rule for a handler (``re.search``) and for
#: the document (``pattern``), where "must not be blank" is the rule.
BLANKS = (
    "\t\n\v\f\r \x1c\x1d\x1e\x1f\x85\xa0\u1680"
    + "".join(map(chr, range(0x2000, 0x200B)))
    + "\u2028\u2029\u202f\u205f\u3000\ufeff"
)
NOT_BLANK = "[^" + "".join(f"\\u{ord(c):04x}" for c in BLANKS) + "]"
_TYPED = ("type", "$ref", "anyOf", "oneOf", "allOf", "enum", "const", "not")


def components() -> dict[str, Any]:
    """The two recursive schemas of a strict JSON value."""
    return {
        VALUE: {
            "description": "Any JSON value the strict JSON gate accepts (I-JSON, RFC 7493).",
            "anyOf": [
                {"type": "null"},
                {"type": "boolean"},
                {"type": "number", "minimum": -MAX_SAFE_INTEGER, "maximum": MAX_SAFE_INTEGER},
                {"type": "string"},
                {"type": "array", "items": dict(_REF)},
                {"$ref": f"#/components/schemas/{OBJECT}"},
            ],
        },
        OBJECT: {"type": "object", "propertyNames": dict(NAME), "additionalProperties": dict(_REF)},
    }


def declare_strict_json(document: dict[str, Any]) -> dict[str, Any]:
    """Declare the gate in ``document`` (changed in place, and returned): on every request body
    schema and on every component schema a request body reaches."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    reached: set[str] = set()
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict):
                continue
            for media in (operation.get("requestBody") or {}).get("content", {}).values():
                if isinstance(media, dict) and "schema" in media:
                    media["schema"] = _declare(media["schema"], schemas, reached)
    schemas.update(components())
    return document


def _declare(schema: Any, schemas: dict[str, Any], reached: set[str]) -> Any:
    if not isinstance(schema, dict):
        return schema
    ref = schema.get("$ref")
    if isinstance(ref, str):
        name = ref.rsplit("/", 1)[-1]
        if ref.startswith("#/components/schemas/") and name not in reached and name in schemas:
            reached.add(name)
            schemas[name] = _declare(schemas[name], schemas, reached)
        return schema
    if not any(key in schema for key in _TYPED):
        # Untyped: any JSON value (pydantic's ``Any``); keep its description and title.
        return {**schema, **_REF}
    out = dict(schema)
    for key in ("anyOf", "oneOf", "allOf"):
        if isinstance(out.get(key), list):
            out[key] = [_declare(s, schemas, reached) for s in out[key]]
    kinds = out.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    if "integer" in kinds or "number" in kinds:
        if not isinstance(out.get("minimum"), int | float) or out["minimum"] < -MAX_SAFE_INTEGER:
            out["minimum"] = -MAX_SAFE_INTEGER
        if not isinstance(out.get("maximum"), int | float) or out["maximum"] > MAX_SAFE_INTEGER:
            out["maximum"] = MAX_SAFE_INTEGER
    if "array" in kinds:
        out["items"] = _declare(out.get("items", {}), schemas, reached)
        if isinstance(out.get("prefixItems"), list):
            out["prefixItems"] = [_declare(s, schemas, reached) for s in out["prefixItems"]]
    if "object" in kinds:
        if isinstance(out.get("properties"), dict):
            out["properties"] = {k: _declare(v, schemas, reached) for k, v in out["properties"].items()}
        extra = out.get("additionalProperties", True)
        if extra is True or extra == {}:
            out["additionalProperties"] = dict(_REF)
        elif isinstance(extra, dict):
            out["additionalProperties"] = _declare(extra, schemas, reached)
        if "propertyNames" not in out and extra is not False:
            out["propertyNames"] = dict(NAME)
    return out


def declare_problems(document: dict[str, Any]) -> dict[str, Any]:
    """Every error of the content API leaves as ``application/problem+json``
    (:mod:`charter.observability.errors`), including the 422 that FastAPI documents on its own as
    ``application/json`` with its ``HTTPValidationError`` schema: say so everywhere. (The gateway
    documents its OpenAI-shaped errors itself.)"""
    from charter.observability.errors import problem_responses

    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict):
                continue
            responses = operation.setdefault("responses", {})
            # Any route answers 400 to a NUL character in its path or query (the request guard).
            responses.setdefault("400", problem_responses(400)[400])
            for status, response in responses.items():
                body = response.get("content", {}).get("application/json", {})
                if "HTTPValidationError" in str(body.get("schema", "")):
                    response["content"] = problem_responses(int(status))[int(status)]["content"]
    schemas = document.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        if not _referenced(document, name):
            schemas.pop(name, None)
    return document


def _referenced(document: dict[str, Any], name: str) -> bool:
    import json

    return f'"#/components/schemas/{name}"' in json.dumps(document)


#: An operation's rules that JSON Schema cannot state (a timestamp not in the future, a release item
#: whose content must validate against its content type ...): ``[{name, status, description}]``. A
#: request that breaks one is answered with ``status`` and a problem whose ``type`` ends in ``name``,
#: or whose every ``errors[].keyword`` is a declared ``name`` (on the gateway: ``error.code``), so a
#: client (and the conformance run, tests/api/conformance.py) can tell a broken rule from a broken schema.
RULES = "x-charter-rules"


def rules(*declared: tuple[str, int, str]) -> dict[str, Any]:
    """``openapi_extra`` for a route: its rules as ``(name, status, description)``."""
    return {RULES: [{"name": name, "status": status, "description": text} for name, status, text in declared]}


def breaks_declared_rule(operation: dict[str, Any], status: int, problem: Any) -> bool:
    """Whether answer ``status`` with body ``problem`` is one of ``operation``'s declared rules."""
    declared = {r["name"] for r in operation.get(RULES, []) if r.get("status") == status}
    if not declared or not isinstance(problem, dict):
        return False
    if str(problem.get("type", "")).rsplit("/", 1)[-1] in declared:
        return True
    error = problem.get("error")  # the gateway's OpenAI-shaped errors name the rule as error.code
    if isinstance(error, dict) and error.get("code") in declared:
        return True
    errors = problem.get("errors")
    return (
        isinstance(errors, list)
        and bool(errors)
        and all(isinstance(e, dict) and e.get("keyword") in declared for e in errors)
    )
