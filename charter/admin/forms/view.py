"""The form as the templates see it: one tab per locale, a tree of widgets with their values,
their validation errors (in plain words, at the field), and the values a locale inherits."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from charter.admin.forms.schema import Node
from charter.admin.forms.values import MISSING, datetime_to_input, escape, inherited, join, split
from charter.exceptions import ErrorDetail
from charter.schemas.registry import ContentType

INPUT_TYPES = {"text": "text", "email": "email", "url": "text", "number": "number", "integer": "number"}


def control_id(pointer: str) -> str:
    """A unique HTML id for the control of ``pointer``: '/' becomes '-', anything else non-alphanumeric
    is hex-escaped, so two pointers never share an id."""
    return "f-" + re.sub(r"[^A-Za-z0-9]", lambda m: "-" if m.group() == "/" else f"_{ord(m.group()):x}", pointer[1:])


@dataclass
class Inheritance:
    source: str | None  # the locale the value comes from (None: nothing to inherit)
    display: str  # the inherited value, for a placeholder or a summary
    overridden: bool  # this locale has its own value


@dataclass
class Widget:
    kind: str
    name: str
    id: str
    label: str
    required: bool = False
    description: str | None = None
    hints: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    value: Any = ""
    input_type: str = "text"
    options: list[tuple[str, str]] = field(default_factory=list)
    children: list[Widget] = field(default_factory=list)
    item_label: str = ""
    add_choices: list[tuple[str, str]] = field(default_factory=list)
    can_add: bool = True
    index: int | None = None
    first: bool = False
    last: bool = False
    inherit: Inheritance | None = None
    focus: str | None = None  # "input" | "up" | "down" | "add"
    step: str | None = None
    min: Any = None
    max: Any = None


@dataclass
class LocaleTab:
    locale: str
    default: bool
    required: bool
    fallbacks: tuple[str, ...]
    widgets: list[Widget]
    error_count: int = 0
    own_count: int = 0

    @property
    def panel_id(self) -> str:
        return "locale-" + re.sub(r"[^A-Za-z0-9-]", "_", self.locale)


@dataclass
class FormView:
    tabs: list[LocaleTab]
    summary: list[tuple[str, str]]  # (message, href)
    status: str = ""

    @property
    def error_count(self) -> int:
        return len(self.summary)

    def tab_with_errors(self) -> str | None:
        return next((t.locale for t in self.tabs if t.error_count), None)


def _error_map(errors: Iterable[ErrorDetail]) -> dict[str, list[ErrorDetail]]:
    """Errors by pointer; a ``required`` error on an object moves to the missing property."""
    out: dict[str, list[ErrorDetail]] = {}
    for e in errors:
        ptr = e.pointer
        if e.keyword == "required":
            m = re.match(r"^'(.+)' is required$", e.message)
            if m:
                ptr = join(e.pointer, m.group(1))
                e = ErrorDetail(ptr, "This field is required.", "required")
        out.setdefault(ptr, []).append(e)
    return out


def plain_message(node: Node | None, error: ErrorDetail) -> str:
    """An error message an editor understands, from the schema keyword and the node's limits."""
    s = node.schema if node else {}
    kw = error.keyword
    if kw == "required":
        return "This field is required."
    if kw == "minLength":
        lo = s.get("minLength", 1)
        return "Enter a value." if lo <= 1 else f"Use at least {lo} characters."
    if kw == "maxLength":
        return f"Use at most {s.get('maxLength')} characters."
    if kw == "pattern":
        hint = s.get("x-charter-hint")
        if hint:
            return f"Doesn't match the expected format: {hint}."
        pattern = str(s.get("pattern", ""))
        if pattern.startswith("^[a-z0-9]+(?:-[a-z0-9]+)*"):
            return "Use only lowercase letters, digits and hyphens (for example: spring-launch)."
        return f"Doesn't match the expected format ({pattern})."
    if kw == "type":
        want = s.get("type")
        if want in ("number", "integer"):
            return "Enter a whole number." if want == "integer" else "Enter a number."
        return f"Expected a {want} here." if want else error.message
    if kw == "format":
        fmt = s.get("format")
        words = {
            "email": "an e-mail address such as name@example.com",
            "date-time": "a date and time",
            "url": "a URL (https://… or a path starting with /)",
            "uri": "a URL",
            "date": "a date",
        }
        return f"Enter {words.get(str(fmt), 'a valid ' + str(fmt))}."
    if kw == "enum":
        return "Choose one of the listed options."
    if kw in ("minimum", "exclusiveMinimum"):
        return f"Must be {'at least' if kw == 'minimum' else 'more than'} {s.get(kw)}."
    if kw in ("maximum", "exclusiveMaximum"):
        return f"Must be {'at most' if kw == 'maximum' else 'less than'} {s.get(kw)}."
    if kw == "minItems":
        n = s.get("minItems", 1)
        return f"Add at least {n} {node.item_label.lower() if node else 'item'}{'s' if n != 1 else ''}."
    if kw == "maxItems":
        return f"Use at most {s.get('maxItems')} {(node.item_label.lower() + 's') if node else 'items'}."
    if kw == "const":
        return f"Must be {s.get('const')!r}."
    return error.message[:1].upper() + error.message[1:]


class _Builder:
    def __init__(
        self, ct: ContentType, data: dict[str, Any], errors: list[ErrorDetail], refs: dict[str, list[tuple[str, str]]]
    ) -> None:
        self.ct = ct
        self.data = data
        self.errors = _error_map(errors)
        self.refs = refs
        self.summary: list[tuple[str, str]] = []
        self.focus: str | None = None

    def take(self, pointer: str, node: Node | None, wid: str) -> list[str]:
        found = [plain_message(node, e) for e in self.errors.pop(pointer, [])]
        self.summary.extend((m, "#" + wid) for m in found)
        return found

    def widget(self, node: Node, name: str, value: Any, *, label: str | None = None) -> Widget:
        wid = control_id(name)
        w = Widget(
            kind=node.kind,
            name=name,
            id=wid,
            label=label or node.label,
            required=node.required,
            description=node.description,
            hints=node.hints,
        )
        w.errors = self.take(name, node, wid)
        kind = node.kind
        if kind == "object":
            doc = value if isinstance(value, dict) else {}
            w.children = [self.widget(c, join(name, c.key), doc.get(c.key, MISSING)) for c in node.children]
        elif kind == "union":
            doc = value if isinstance(value, dict) else {}
            intent = str(doc.get("intent", ""))
            branch = node.branches.get(intent)
            w.value = intent
            w.errors += self.take(join(name, "intent"), node, wid)
            if branch is None:
                w.errors.append(f"Unknown section type {intent!r}; remove it and add a known one.")
            else:
                w.label = branch.label
                w.children = [
                    self.widget(c, join(name, c.key), doc.get(c.key, MISSING))
                    for c in branch.children
                    if c.key != "intent"
                ]
        elif kind == "array":
            assert node.item is not None
            items = value if isinstance(value, list) else []
            w.item_label = node.item_label
            hi = node.schema.get("maxItems")
            w.can_add = hi is None or len(items) < hi
            if node.item.kind == "union":
                w.add_choices = [(intent, b.label) for intent, b in node.item.branches.items()]
            for i, item in enumerate(items):
                child_name = join(name, i)
                child = self.widget(node.item, child_name, item, label=f"{node.item_label} {i + 1}")
                if node.item.kind == "union" and child.value:
                    child.label = f"{node.item_label} {i + 1}: {child.label}"
                child.index, child.first, child.last = i, i == 0, i == len(items) - 1
                w.children.append(child)
            if self.focus == name + "@add":
                w.focus = "add"
        elif kind == "boolean":
            w.value = value is True
        elif kind == "select":
            w.options = [(str(o), str(o)) for o in node.options]
            w.value = "" if value is MISSING or value is None else str(value)
        elif kind == "ref":
            w.options = list(self.refs.get(node.ref_type or "", []))
            w.value = "" if value is MISSING or value is None else str(value)
            if w.value and w.value not in {v for v, _ in w.options}:
                w.options.append((w.value, f"{w.value} (not found)"))
        elif kind == "datetime":
            shown = datetime_to_input(value)
            w.value = shown
            w.input_type = (
                "datetime-local" if re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?", shown or "x") else "text"
            )
            if not shown:
                w.input_type = "datetime-local"
        elif kind == "date":
            w.value = "" if value is MISSING or value is None else str(value)
            w.input_type = "date"
        elif kind == "json":
            w.value = (
                ""
                if value is MISSING
                else value
                if isinstance(value, str)
                else json.dumps(value, indent=2, ensure_ascii=False)
            )
        elif kind == "const":
            w.value = "" if node.const is None else str(node.const)
        else:
            w.input_type = INPUT_TYPES.get(kind, "text")
            if kind in ("number", "integer"):
                w.step = "1" if kind == "integer" else "any"
                w.min, w.max = node.schema.get("minimum"), node.schema.get("maximum")
                if isinstance(value, str):
                    w.input_type = "text"  # keep what was typed, even if it is not a number
                value = "" if value is MISSING or value is None else value
                w.value = value if isinstance(value, str) else json.dumps(value)
            else:
                w.value = "" if value is MISSING or value is None else str(value)
        if self.focus and self.focus.split("#")[0] == name:
            w.focus = self.focus.split("#")[1] if "#" in self.focus else "input"
            if w.focus == "input" and kind in ("object", "union"):
                # A new section or item: focus its first field (or its tools when it has none).
                target = _first_control(w.children)
                if target is not None:
                    target.focus, w.focus = "input", None
                else:
                    w.focus = "tools"
        return w

    def locale_widget(self, node: Node, loc: str) -> Widget:
        name = join(f"/{escape(loc)}", node.key)
        own = self.data.get(loc) if isinstance(self.data.get(loc), dict) else {}
        assert isinstance(own, dict)
        value, source = inherited(self.ct, self.data, loc, node.key)
        overridden = node.key in own
        if node.kind in ("object", "array", "union", "json"):
            if overridden:
                w = self.widget(node, name, own[node.key])
            else:
                w = Widget(kind="inherited", name=name, id=control_id(name), label=node.label, hints=node.hints)
                w.description = node.description
                w.errors = self.take(name, node, w.id)
                if self.focus == name:
                    w.focus = "input"
            w.inherit = Inheritance(source, summarise(node, value), overridden)
            return w
        if node.kind == "boolean":
            w = Widget(kind="select", name=name, id=control_id(name), label=node.label, description=node.description)
            w.options = [("true", "Yes"), ("false", "No")]
            w.value = "" if not overridden else "true" if own[node.key] else "false"
            w.errors = self.take(name, node, w.id)
        else:
            w = self.widget(node, name, own.get(node.key, MISSING))
            w.required = False
        if w.kind == "datetime":
            w.input_type = "datetime-local" if not w.value or "T" in str(w.value) else "text"
        w.inherit = Inheritance(source, summarise(node, value), overridden)
        return w


def _first_control(widgets: list[Widget]) -> Widget | None:
    for w in widgets:
        if w.kind in ("object", "union", "array"):
            found = _first_control(w.children)
            if found is not None:
                return found
        elif w.kind not in ("const", "inherited"):
            return w
    return None


def summarise(node: Node, value: Any) -> str:
    """A short, readable rendering of an inherited value."""
    if value is MISSING or value is None:
        return ""
    if node.kind == "array" and isinstance(value, list):
        noun = node.item_label.lower()
        if node.item is not None and node.item.kind == "union":
            kinds = ", ".join(str(v.get("intent", "?")) for v in value if isinstance(v, dict))
            return f"{len(value)} {noun}{'s' if len(value) != 1 else ''}" + (f": {kinds}" if kinds else "")
        if value and all(isinstance(v, str | int | float) for v in value):
            return "; ".join(str(v) for v in value)[:300]
        return f"{len(value)} {noun}{'s' if len(value) != 1 else ''}"
    if node.kind == "boolean":
        return "Yes" if value else "No"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)[:300]
    text = str(value)
    return text if len(text) <= 300 else text[:299] + "…"


def build_form(
    ct: ContentType,
    root: Node,
    data: dict[str, Any],
    errors: list[ErrorDetail] | None = None,
    refs: dict[str, list[tuple[str, str]]] | None = None,
    focus: str | None = None,
    status: str = "",
) -> FormView:
    """Everything the entry form template needs, for ``data`` and the errors it was rejected with."""
    b = _Builder(ct, data, list(errors or []), refs or {})
    b.focus = focus
    rules = ct.locales
    tabs: list[LocaleTab] = []
    for loc in rules.supported:
        start = len(b.summary)
        if loc == rules.default:
            doc = data.get(loc) if isinstance(data.get(loc), dict) else {}
            assert isinstance(doc, dict)
            widgets = [b.widget(c, join(f"/{escape(loc)}", c.key), doc.get(c.key, MISSING)) for c in root.children]
            own = len(doc)
        else:
            widgets = [b.locale_widget(c, loc) for c in root.children if c.key in ct.localized]
            own = len(data.get(loc) or {})
        tab = LocaleTab(loc, loc == rules.default, loc in rules.required, rules.fallbacks.get(loc, ()), widgets)
        tab.own_count = own
        # Errors about the locale as a whole ("de-DE is required") belong to its tab.
        for ptr in [p for p in b.errors if split(p)[:1] == [loc]]:
            for e in b.errors.pop(ptr):
                b.summary.append((plain_message(None, e), "#" + tab.panel_id))
        tab.error_count = len(b.summary) - start
        tabs.append(tab)
    for ptr, errs in b.errors.items():
        for e in errs:
            b.summary.append((f"{ptr or '/'}: {plain_message(None, e)}", "#entry-form"))
    return FormView(tabs, b.summary, status)
