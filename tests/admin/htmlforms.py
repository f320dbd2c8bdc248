"""What a browser would submit for a form in an HTML page (HTML's "constructing the entry list"),
so tests can round-trip the admin's forms without a browser."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

_VOID_INPUTS = {"text", "hidden", "email", "number", "search", "password", "datetime-local", "date", "url", "tel"}


class _FormParser(HTMLParser):
    def __init__(self, form_id: str | None) -> None:
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.depth = 0  # >0 while inside the wanted form
        self.fields: list[tuple[str, str]] = []
        self.select: dict[str, Any] | None = None
        self.option: dict[str, Any] | None = None
        self.textarea: dict[str, Any] | None = None
        self.ids: list[str] = []
        self.buttons: list[dict[str, str]] = []

    def handle_starttag(self, tag: str, attrs_list: list[tuple[str, str | None]]) -> None:
        attrs = {k: v if v is not None else "" for k, v in attrs_list}
        if "id" in attrs:
            self.ids.append(attrs["id"])
        if tag == "form":
            if self.depth:
                self.depth += 1
            elif self.form_id is None or attrs.get("id") == self.form_id:
                self.depth = 1
            return
        if not self.depth:
            return
        disabled = "disabled" in attrs
        name = attrs.get("name")
        if tag == "input" and name and not disabled:
            kind = attrs.get("type", "text").lower()
            if kind in _VOID_INPUTS:
                self.fields.append((name, attrs.get("value", "")))
            elif kind in ("checkbox", "radio") and "checked" in attrs:
                self.fields.append((name, attrs.get("value", "on")))
        elif tag == "button" and name:
            self.buttons.append({"name": name, "value": attrs.get("value", ""), **attrs})
        elif tag == "select" and name and not disabled:
            self.select = {"name": name, "options": [], "selected": None}
        elif tag == "option" and self.select is not None:
            self.option = {"value": attrs.get("value"), "text": "", "selected": "selected" in attrs}
        elif tag == "textarea" and name and not disabled:
            self.textarea = {"name": name, "text": ""}

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self.depth:
            self.depth -= 1
        elif tag == "option" and self.select is not None and self.option is not None:
            self.select["options"].append(self.option)
            self.option = None
        elif tag == "select" and self.select is not None:
            opts = self.select["options"]
            chosen = next((o for o in opts if o["selected"]), opts[0] if opts else None)
            if chosen is not None:
                value = chosen["value"] if chosen["value"] is not None else chosen["text"]
                self.fields.append((self.select["name"], value))
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            text = self.textarea["text"]
            if text.startswith("\n"):  # HTML drops one newline right after <textarea>
                text = text[1:]
            self.fields.append((self.textarea["name"], text))
            self.textarea = None

    def handle_data(self, data: str) -> None:
        if self.option is not None:
            self.option["text"] += data
        if self.textarea is not None:
            self.textarea["text"] += data


def form_fields(html: str, form_id: str | None = None) -> list[tuple[str, str]]:
    """The (name, value) pairs a browser submits for the form ``form_id`` (first form if None)."""
    p = _FormParser(form_id)
    p.feed(html)
    return p.fields


def all_ids(html: str) -> list[str]:
    p = _FormParser("__none__")
    p.feed(html)
    return p.ids


def set_field(fields: list[tuple[str, str]], name: str, value: str) -> list[tuple[str, str]]:
    """Replace (or add) one field's value."""
    out = [(k, v) for k, v in fields if k != name]
    out.append((name, value))
    return out


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "no CSRF token on the page"
    return m.group(1)


def as_data(fields: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Fields as the ``data=`` mapping httpx wants (repeated names keep their order)."""
    out: dict[str, list[str]] = {}
    for k, v in fields:
        out.setdefault(k, []).append(v)
    return out
