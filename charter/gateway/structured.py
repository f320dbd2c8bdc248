"""Structured output: parse the model's JSON, validate it against a content type, repair once.

The repair message feeds the validation errors (JSON pointers and messages) back to the model and
asks for the corrected object only. A still-invalid answer is a 422 with the errors.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from charter.exceptions import ErrorDetail

FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)


def parse_json(text: str) -> tuple[Any, list[ErrorDetail]]:
    """The JSON object in ``text`` (code fences tolerated) or a parse error."""
    m = FENCE.match(text)
    body = m.group(1) if m else text.strip()
    if not body.startswith("{"):
        start, end = body.find("{"), body.rfind("}")
        body = body[start : end + 1] if 0 <= start < end else body
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        return None, [ErrorDetail("", f"the answer is not valid JSON: {exc}", "json")]
    if not isinstance(doc, dict):
        return None, [ErrorDetail("", "the answer must be a JSON object", "type")]
    return doc, []


def response_format(schema_id: str, schema: dict[str, Any]) -> dict[str, Any]:
    """An OpenAI ``response_format`` asking for JSON that matches ``schema``."""
    clean = {k: v for k, v in schema.items() if not k.startswith("$") and not k.startswith("x-")}
    return {
        "type": "json_schema",
        "json_schema": {"name": re.sub(r"[^A-Za-z0-9_-]", "_", schema_id), "schema": clean, "strict": False},
    }


def repair_message(schema_id: str, errors: list[ErrorDetail]) -> dict[str, str]:
    lines = "\n".join(f"- {e.pointer or '/'}: {e.message}" for e in errors[:20])
    return {
        "role": "user",
        "content": f"Your JSON does not validate against {schema_id}:\n{lines}\n"
        "Return only the corrected JSON object, nothing else.",
    }


def flatten_text(doc: Any) -> str:
    """Every string in ``doc``, for risk rules."""
    if isinstance(doc, str):
        return doc
    if isinstance(doc, dict):
        return " ".join(f"{k} {flatten_text(v)}" for k, v in doc.items())
    if isinstance(doc, list):
        return " ".join(flatten_text(v) for v in doc)
    return str(doc)
