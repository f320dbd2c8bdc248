"""Compile a content type's JSON Schema into a tree of form nodes.

Each node says which control edits that part of the document. The mapping, in order:

===========================================  =========================================
schema                                       control (``Node.kind``)
===========================================  =========================================
``const``                                    ``const`` (fixed, shown read-only)
``enum``                                     ``select``
``oneOf``/``anyOf`` of objects with a        ``union``: sections chosen by intent, with
``const`` ``intent``                         add, remove and reorder
string ``format: date-time`` / ``date``      ``datetime`` / ``date``
string ``format: email`` / ``url``/``uri``   ``email`` / ``url``
string with ``x-charter-ref``                ``ref``: a choice of entries of that type
string with ``x-charter-asset``              ``ref`` of :data:`ASSET_REF`: a choice of assets
string, long (``maxLength`` > 250, a body-   ``textarea``
like name, or ``x-charter-widget``)
other string                                 ``text``
``number`` / ``integer`` / ``boolean``       ``number`` / ``integer`` / ``boolean``
object with ``properties``                   ``object`` (a fieldset of its properties)
array with ``items``                         ``array`` (items with add, remove, reorder)
anything else                                ``json`` (a JSON text area, still validated)
===========================================  =========================================

Local ``$ref``\\ s are followed; a ``x-charter-widget`` on any property overrides the choice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from charter.schemas.validation import resolve_local_ref

SCALARS = frozenset({"text", "textarea", "number", "integer", "boolean", "select", "datetime", "date", "email", "url"})
SCALARS_WITH_REF = SCALARS | {"ref", "json", "const"}
LONG_TEXT_NAMES = frozenset({"body", "answer", "quote", "evidence", "content", "text", "summary", "description"})
WIDGETS = frozenset({"text", "textarea", "json"})
MAX_DEPTH = 12
#: The ``ref_type`` of an asset reference (``x-charter-asset``): the media library's assets.
ASSET_REF = "@asset"
ACRONYMS = {"faq": "FAQ", "cta": "CTA", "url": "URL", "id": "ID", "seo": "SEO", "api": "API", "sso": "SSO"}


@dataclass
class Node:
    """One part of a document and the control that edits it. ``children`` (object) keep the
    schema's property order; ``item`` is an array's item node; ``branches`` map intent -> object."""

    kind: str
    key: str
    label: str
    schema: dict[str, Any]
    description: str | None = None
    required: bool = False
    children: list[Node] = field(default_factory=list)
    item: Node | None = None
    branches: dict[str, Node] = field(default_factory=dict)
    options: list[Any] = field(default_factory=list)
    const: Any = None
    ref_type: str | None = None

    @property
    def is_scalar(self) -> bool:
        return self.kind in SCALARS_WITH_REF

    def child(self, key: str) -> Node | None:
        return next((c for c in self.children if c.key == key), None)

    @property
    def hints(self) -> list[str]:
        """Constraints worth telling an editor before they type."""
        s = self.schema
        out: list[str] = []
        if self.kind in ("text", "textarea"):
            lo, hi = s.get("minLength"), s.get("maxLength")
            if hi is not None and lo and lo > 1:
                out.append(f"{lo} to {hi} characters")
            elif hi is not None:
                out.append(f"up to {hi} characters")
            elif lo and lo > 1:
                out.append(f"at least {lo} characters")
            if s.get("pattern") and not s.get("x-charter-hint"):
                out.append(_pattern_hint(self.key, s["pattern"]))
        if self.kind in ("number", "integer"):
            if "minimum" in s:
                out.append(f"at least {s['minimum']}")
            if "maximum" in s:
                out.append(f"at most {s['maximum']}")
        if self.kind == "array":
            lo, hi = s.get("minItems"), s.get("maxItems")
            if lo and hi:
                out.append(f"{lo} to {hi} {_plural(self.item_label.lower())}")
            elif hi:
                out.append(f"up to {hi} {_plural(self.item_label.lower())}")
            elif lo:
                out.append(f"at least {lo} {_plural(self.item_label.lower(), lo)}")
        if self.kind == "datetime":
            out.append("date and time in UTC")
        if s.get("x-charter-hint"):
            out.append(str(s["x-charter-hint"]))
        return out

    @property
    def item_label(self) -> str:
        """What one item of an array is called ("Section" for ``sections``)."""
        explicit = self.schema.get("x-charter-item-label")
        if explicit:
            return str(explicit)
        word = self.label
        if word.endswith("ies"):
            return word[:-3] + "y"
        if word.endswith("s") and not word.endswith("ss"):
            return word[:-1]
        return "Item"

    def default(self) -> Any:
        """A new, empty value for this node (what "Add" inserts)."""
        if self.kind == "const":
            return self.const
        if self.kind == "object":
            out: dict[str, Any] = {}
            for c in self.children:
                if c.kind == "const" or (c.required and c.kind in ("object", "union")):
                    out[c.key] = c.default()
            return out
        if self.kind == "array":
            return []
        if self.kind == "boolean":
            return False
        if self.kind in ("number", "integer", "select", "ref", "datetime", "date"):
            return None
        return ""


def _plural(word: str, n: int = 2) -> str:
    if n == 1:
        return word
    return word[:-1] + "ies" if word.endswith("y") else word + "s"


def _pattern_hint(key: str, pattern: str) -> str:
    if pattern.startswith("^[a-z0-9]+(?:-[a-z0-9]+)*"):
        return "lowercase letters, digits and hyphens" + (", with / between parts" if "/" in pattern else "")
    return f"must match {pattern}"


def humanise(key: str) -> str:
    """``effectiveDate`` -> "Effective date", ``approved_by`` -> "Approved by"."""
    words = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", key).replace("_", " ").replace("-", " ").strip().lower()
    if not words:
        return key
    parts = [ACRONYMS.get(w, w) for w in words.split()]
    return " ".join([parts[0][:1].upper() + parts[0][1:], *parts[1:]])


def _resolve(root: dict[str, Any], schema: Any, depth: int = 0) -> dict[str, Any]:
    if not isinstance(schema, dict):
        return {}
    if "$ref" in schema and depth < MAX_DEPTH:
        target = resolve_local_ref(root, str(schema["$ref"]))
        if isinstance(target, dict):
            merged = {**_resolve(root, target, depth + 1), **{k: v for k, v in schema.items() if k != "$ref"}}
            return merged
    return schema


def _type(schema: dict[str, Any]) -> str | None:
    t = schema.get("type")
    if isinstance(t, list):
        t = next((x for x in t if x != "null"), None)
    return t if isinstance(t, str) else None


def _intent_of(branch: dict[str, Any]) -> str | None:
    intent = (branch.get("properties") or {}).get("intent")
    if isinstance(intent, dict):
        if "const" in intent:
            return str(intent["const"])
        enum = intent.get("enum")
        if isinstance(enum, list) and len(enum) == 1:
            return str(enum[0])
    return None


def compile_node(root: dict[str, Any], raw: Any, key: str = "", required: bool = False, depth: int = 0) -> Node:
    """The form node for ``raw`` (a schema, maybe a ``$ref``) at property ``key``."""
    schema = _resolve(root, raw)
    label = str(schema.get("title") or humanise(key) or "Value")
    description = schema.get("description")
    base: dict[str, Any] = {"key": key, "label": label, "schema": schema, "description": description}
    base["required"] = required
    widget = schema.get("x-charter-widget")
    if depth > MAX_DEPTH:
        return Node("json", **base)
    if "const" in schema:
        return Node("const", const=schema["const"], **base)
    if isinstance(schema.get("enum"), list):
        return Node("select", options=list(schema["enum"]), **base)
    for combinator in ("oneOf", "anyOf"):
        branches_raw = schema.get(combinator)
        if isinstance(branches_raw, list) and branches_raw:
            branches: dict[str, Node] = {}
            for b in branches_raw:
                resolved = _resolve(root, b)
                intent = _intent_of(resolved)
                if intent is None or _type(resolved) not in (None, "object"):
                    return Node("json", **base)
                node = compile_node(root, resolved, key, True, depth + 1)
                node.label = str(resolved.get("title") or humanise(intent))
                branches[intent] = node
            return Node("union", branches=branches, **base)
    kind = _type(schema)
    if kind == "string":
        if widget in WIDGETS:
            return Node(str(widget), **base)
        if schema.get("x-charter-ref"):
            return Node("ref", ref_type=str(schema["x-charter-ref"]), **base)
        if schema.get("x-charter-asset") not in (None, False):
            return Node("ref", ref_type=ASSET_REF, **base)
        fmt = schema.get("format")
        if fmt == "date-time":
            return Node("datetime", **base)
        if fmt == "date":
            return Node("date", **base)
        if fmt == "email":
            return Node("email", **base)
        if fmt in ("url", "uri", "uri-reference"):
            return Node("url", **base)
        long_text = (schema.get("maxLength") or 0) > 250 or (key in LONG_TEXT_NAMES and "pattern" not in schema)
        return Node("textarea" if long_text else "text", **base)
    if kind in ("number", "integer", "boolean"):
        return Node(kind, **base)
    if kind == "object" or (kind is None and "properties" in schema):
        props = schema.get("properties")
        if not isinstance(props, dict) or not props or widget == "json":
            return Node("json", **base)
        needed = set(schema.get("required") or [])
        children = [compile_node(root, p, name, name in needed, depth + 1) for name, p in props.items()]
        return Node("object", children=children, **base)
    if kind == "array" and isinstance(schema.get("items"), dict) and widget != "json":
        item = compile_node(root, schema["items"], "", True, depth + 1)
        return Node("array", item=item, **base)
    return Node("json", **base)


def compile_schema(schema: dict[str, Any]) -> Node:
    """The root node of a content type: an object whose children are the document's fields."""
    root = compile_node(schema, schema, "", True)
    if root.kind != "object":
        raise ValueError("a content type's schema must describe an object with properties")
    return root
