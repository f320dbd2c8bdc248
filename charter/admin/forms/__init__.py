"""The schema-driven form engine: a content type's JSON Schema becomes an editing form, the
submitted fields become entry data again, and validation errors land at their fields.

    node = form_for(ct)                               # compiled once per schema version
    data = read_entry(ct, node, form_fields)           # never validates, never drops input
    view = build_form(ct, node, data, errors, refs)    # what templates/entry_form.html renders
"""

from __future__ import annotations

from functools import lru_cache

from charter.admin.forms.schema import Node, compile_schema
from charter.admin.forms.values import MISSING, Edit, EditResult, apply_edit, read_entry
from charter.admin.forms.view import FormView, LocaleTab, Widget, build_form, control_id, plain_message
from charter.schemas.registry import ContentType

__all__ = [
    "MISSING",
    "Edit",
    "EditResult",
    "FormView",
    "LocaleTab",
    "Node",
    "Widget",
    "apply_edit",
    "build_form",
    "compile_schema",
    "control_id",
    "form_for",
    "plain_message",
    "read_entry",
]


@lru_cache(maxsize=256)
def _compiled(fingerprint: str, schema_json: str) -> Node:
    import json

    return compile_schema(json.loads(schema_json))


def form_for(ct: ContentType) -> Node:
    """The compiled form of a content type (cached by schema fingerprint; nodes are read-only)."""
    import json

    return _compiled(ct.fingerprint, json.dumps(ct.schema))
