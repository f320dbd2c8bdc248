"""Form fields back to entry data, and the structural edits (add, remove, reorder, override).

Every control is named by the RFC 6901 JSON pointer of the value it edits, rooted at the locale
(``/en/sections/0/title``), so a validation error's pointer names its control directly. Containers
render a marker field ``<pointer>@`` so that "rendered but empty" and "not on the form" differ;
a union array's "add" choice is ``<pointer>@add``.

Reading never validates and never loses input: a number that does not parse stays the string the
editor typed, so the content action reports it at its pointer and the form shows it again.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from charter import strictjson
from charter.admin.forms.schema import Node
from charter.schemas.registry import ContentType
from charter.strictjson import MAX_SAFE_INTEGER


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


def escape(key: object) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")


def unescape(part: str) -> str:
    return part.replace("~1", "/").replace("~0", "~")


def join(pointer: str, key: object) -> str:
    return f"{pointer}/{escape(key)}"


def split(pointer: str) -> list[str]:
    return [unescape(p) for p in pointer.split("/")[1:]] if pointer else []


class FormReader:
    """Read access to submitted fields, with the array indexes present under each pointer."""

    def __init__(self, fields: Iterable[tuple[str, str]]) -> None:
        self.values: dict[str, str] = {}
        self.indexes: dict[str, set[int]] = {}
        for name, value in fields:
            if not name.startswith("/"):
                continue
            self.values[name] = value
            base = name[:-4] if name.endswith("@add") else name[:-1] if name.endswith("@") else name
            parts = base.split("/")
            for i in range(2, len(parts)):
                if parts[i].isdigit():
                    self.indexes.setdefault("/".join(parts[:i]), set()).add(int(parts[i]))

    def get(self, name: str) -> str | None:
        return self.values.get(name)

    def has(self, name: str) -> bool:
        return name in self.values

    def items_under(self, pointer: str) -> list[int]:
        return sorted(self.indexes.get(pointer, ()))


def _number(raw: str, integer: bool) -> Any:
    text = raw.strip()
    try:
        whole = int(text)
    except ValueError:
        pass
    else:
        return whole if abs(whole) <= MAX_SAFE_INTEGER else raw
    try:
        value = float(text)
    except ValueError:
        return raw
    if value != value or value in (float("inf"), float("-inf")):
        return raw
    return int(value) if integer and value.is_integer() else value


def datetime_to_input(value: Any) -> str:
    """A stored RFC 3339 timestamp as a ``datetime-local`` value in UTC ("" when absent)."""
    if not isinstance(value, str) or not value:
        return ""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M" if parsed.second == 0 else "%Y-%m-%dT%H:%M:%S")


def _datetime_from_input(raw: str) -> str:
    text = raw.strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return raw
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _blank(value: Any) -> bool:
    """Nothing typed: an optional object whose fields are all blank is left out entirely."""
    if value is MISSING or value is None or value == "" or value is False:
        return True
    if isinstance(value, dict):
        return all(_blank(v) for v in value.values())
    if isinstance(value, list):
        return not value
    return False


def read_value(node: Node, name: str, form: FormReader, *, required: bool | None = None) -> Any:
    """The value of ``node`` as submitted under ``name``, or MISSING."""
    required = node.required if required is None else required
    kind = node.kind
    if kind == "const":
        return node.const
    if kind == "object":
        if not form.has(name + "@"):
            return MISSING
        out: dict[str, Any] = {}
        for child in node.children:
            value = read_value(child, join(name, child.key), form)
            if value is not MISSING:
                out[child.key] = value
        if not required and all(c.kind == "const" or _blank(out.get(c.key, MISSING)) for c in node.children):
            return MISSING
        return out
    if kind == "union":
        if not form.has(name + "@"):
            return MISSING
        intent = form.get(join(name, "intent")) or ""
        branch = node.branches.get(intent)
        if branch is None:
            return {"intent": intent}
        out = read_value(branch, name, form, required=True)
        out["intent"] = intent
        return out
    if kind == "array":
        if not form.has(name + "@"):
            return MISSING
        assert node.item is not None
        items = []
        for index in form.items_under(name):
            value = read_value(node.item, join(name, index), form, required=True)
            if value is not MISSING:
                items.append(value)
        if not items and not required:
            return MISSING
        return items
    if kind == "boolean":
        if not form.has(name + "@"):
            return MISSING
        return form.get(name) == "true"
    raw = form.get(name)
    if raw is None:
        return MISSING
    if kind == "textarea":
        raw = raw.replace("\r\n", "\n")
    if raw == "" or (kind in ("number", "integer", "select", "ref", "datetime", "date") and not raw.strip()):
        if required and kind in ("text", "textarea", "email", "url"):
            return ""
        return MISSING
    if kind in ("number", "integer"):
        return _number(raw, kind == "integer")
    if kind == "select":
        return next((o for o in node.options if str(o) == raw), raw)
    if kind == "datetime":
        return _datetime_from_input(raw)
    if kind == "json":
        try:
            return strictjson.loads(raw, what="the field")
        except strictjson.InvalidJSON:
            return raw
    return raw


def read_entry(ct: ContentType, root: Node, fields: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Entry data ``{locale: document}`` from submitted form fields. Other locales hold only the
    localised fields an editor set; an empty one inherits (it is left out)."""
    form = FormReader(fields)
    default = ct.locales.default
    doc: dict[str, Any] = {}
    for child in root.children:
        value = read_value(child, join(f"/{escape(default)}", child.key), form)
        if value is not MISSING:
            doc[child.key] = value
    data: dict[str, Any] = {default: doc}
    for loc in ct.locales.supported:
        if loc == default:
            continue
        own: dict[str, Any] = {}
        for child in root.children:
            if child.key not in ct.localized:
                continue
            name = join(f"/{escape(loc)}", child.key)
            if child.kind == "boolean":  # a three-way choice here: inherit, yes, no
                raw = form.get(name)
                value = MISSING if raw not in ("true", "false") else raw == "true"
            else:
                value = read_value(child, name, form, required=child.kind not in _SCALAR_INHERIT)
            if value is not MISSING:
                own[child.key] = value
        if own:
            data[loc] = own
    return data


_SCALAR_INHERIT = frozenset(
    {"text", "textarea", "number", "integer", "select", "ref", "datetime", "date", "email", "url"}
)


# --- locating values and nodes by pointer ---------------------------------------------------


def get_at(data: Any, parts: list[str]) -> Any:
    node = data
    for part in parts:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return MISSING
    return node


def node_at(root: Node, data: dict[str, Any], pointer: str) -> Node | None:
    """The form node that edits the value at ``pointer`` (``/<locale>/...``)."""
    parts = split(pointer)
    if not parts:
        return None
    node: Node | None = root
    for i, part in enumerate(parts[1:], start=1):
        if node is None:
            return None
        if node.kind == "union":
            value = get_at(data, parts[:i])
            intent = value.get("intent") if isinstance(value, dict) else None
            node = node.branches.get(str(intent))
            if node is None:
                return None
        if node.kind == "object":
            node = node.child(part)
        elif node.kind == "array" and part.isdigit():
            node = node.item
        else:
            return None
    if node is not None and node.kind == "union" and len(parts) > 1:
        return node
    return node


# --- structural edits -------------------------------------------------------------------------


@dataclass(frozen=True)
class Edit:
    """A structural change asked for by a form button (``_op``): no save, the form comes back."""

    verb: str  # add | remove | up | down | override | inherit
    pointer: str

    VERBS = ("add", "remove", "up", "down", "override", "inherit")

    @classmethod
    def parse(cls, raw: str | None) -> Edit | None:
        if not raw or ":" not in raw:
            return None
        verb, _, pointer = raw.partition(":")
        if verb not in cls.VERBS or not pointer.startswith("/") or len(pointer) > 1000:
            return None
        return cls(verb, pointer)


@dataclass(frozen=True)
class EditResult:
    focus: str | None  # a control id hint: "<pointer>" or "<pointer>#up" / "#down"
    message: str


def apply_edit(ct: ContentType, root: Node, data: dict[str, Any], edit: Edit, form: Mapping[str, str]) -> EditResult:
    """Apply ``edit`` to ``data`` in place. Unknown pointers change nothing (a stale page)."""
    parts = split(edit.pointer)
    if edit.verb in ("override", "inherit"):
        return _locale_edit(ct, data, parts, edit.verb)
    if edit.verb == "add":
        node = node_at(root, data, edit.pointer)
        if node is None or node.kind != "array" or node.item is None:
            return EditResult(None, "Nothing was added: the form was out of date.")
        target = get_at(data, parts)
        if target is MISSING or not isinstance(target, list):
            target = []
            _set_at(data, parts, target)
        item = node.item
        if item.kind == "union":
            intent = form.get(edit.pointer + "@add") or next(iter(item.branches), "")
            branch = item.branches.get(intent)
            if branch is None:
                return EditResult(None, f"Unknown section type {intent!r}.")
            new = branch.default()
            new["intent"] = intent
            label = f"{branch.label} {node.item_label.lower()}"
        else:
            new = item.default()
            label = node.item_label.lower()
        target.append(new)
        return EditResult(join(edit.pointer, len(target) - 1), f"Added {label} {len(target)}.")
    parent, index = parts[:-1], parts[-1]
    items = get_at(data, parent)
    if not isinstance(items, list) or not index.isdigit() or int(index) >= len(items):
        return EditResult(None, "Nothing changed: the form was out of date.")
    i = int(index)
    owner = node_at(root, data, "/" + "/".join(escape(p) for p in parent))
    noun = owner.item_label.lower() if owner else "item"
    parent_ptr = "/" + "/".join(escape(p) for p in parent)
    if edit.verb == "remove":
        items.pop(i)
        focus = join(parent_ptr, min(i, len(items) - 1)) if items else parent_ptr + "@add"
        return EditResult(focus, f"Removed {noun} {i + 1}.")
    j = i - 1 if edit.verb == "up" else i + 1
    if j < 0 or j >= len(items):
        return EditResult(
            join(parent_ptr, i) + "#" + edit.verb, f"The {noun} is already {'first' if j < 0 else 'last'}."
        )
    items[i], items[j] = items[j], items[i]
    return EditResult(join(parent_ptr, j) + "#" + edit.verb, f"Moved {noun} {i + 1} to position {j + 1}.")


def _set_at(data: Any, parts: list[str], value: Any) -> None:
    node = data
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
    if isinstance(node, list):
        node[int(parts[-1])] = value
    else:
        node[parts[-1]] = value


def inherited(ct: ContentType, data: dict[str, Any], locale: str, key: str) -> tuple[Any, str | None]:
    """The value ``locale`` inherits for ``key`` when it has none of its own, and where from."""
    for loc in ct.locales.chain(locale)[1:]:
        doc = data.get(loc)
        if isinstance(doc, dict) and key in doc:
            return doc[key], loc
    return MISSING, None


def _locale_edit(ct: ContentType, data: dict[str, Any], parts: list[str], verb: str) -> EditResult:
    if len(parts) != 2 or parts[0] == ct.locales.default or parts[1] not in ct.localized:
        return EditResult(None, "Nothing changed: only localised fields of other locales can be overridden.")
    loc, key = parts
    pointer = f"/{escape(loc)}/{escape(key)}"
    if verb == "override":
        value, source = inherited(ct, data, loc, key)
        data.setdefault(loc, {})[key] = copy.deepcopy(value) if value is not MISSING else []
        return EditResult(pointer, f"{key} now has its own {loc} value, starting from {source or 'empty'}.")
    own = data.get(loc)
    if isinstance(own, dict):
        own.pop(key, None)
        if not own:
            data.pop(loc)
    return EditResult(pointer, f"{key} in {loc} inherits again.")
