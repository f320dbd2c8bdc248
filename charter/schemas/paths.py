"""Dotted field paths, shared by content migrations and consumer contracts.

Grammar (a path addresses values inside one entry document)::

    path     := segment ("." segment)*
    segment  := name ("[]" | "[" key "=" value "]" | "[" value "]")?

* ``title``: the field ``title``; ``cta.href``: a field of a nested object.
* ``features[].title``: ``title`` of every item of the array ``features``.
* ``sections[intent=hero].title`` (or short ``sections[hero].title``): only the items whose
  ``intent`` is ``hero`` (the intent discriminator; any other key works with ``key=value``).

Names may contain letters, digits, ``_`` and ``-``. :func:`parse_path` raises ValueError with a
message that says what is wrong; callers add the file and location.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

_SEGMENT = re.compile(r"^(?P<name>[A-Za-z_$@][A-Za-z0-9_$@-]*)(?:\[(?P<filter>[^\[\]]*)\])?$")


@dataclass(frozen=True)
class Segment:
    name: str
    #: None: a plain field. "": every item of an array. Otherwise (key, value): matching items.
    each: tuple[str, str] | str | None = None

    def __str__(self) -> str:
        if self.each is None:
            return self.name
        if self.each == "":
            return f"{self.name}[]"
        assert isinstance(self.each, tuple)
        key, value = self.each
        return f"{self.name}[{key}={value}]" if key != "intent" else f"{self.name}[{value}]"


@dataclass(frozen=True)
class FieldPath:
    text: str
    segments: tuple[Segment, ...]

    def __str__(self) -> str:
        return self.text

    @property
    def last(self) -> Segment:
        return self.segments[-1]

    @property
    def parent(self) -> FieldPath:
        return FieldPath(".".join(str(s) for s in self.segments[:-1]), self.segments[:-1])


def parse_path(text: Any) -> FieldPath:
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"a field path must be a non-empty string such as 'cta.href', not {text!r}")
    segments = []
    for raw in text.strip().split("."):
        m = _SEGMENT.match(raw)
        if not m:
            raise ValueError(
                f"{text!r}: segment {raw!r} is not a field name (letters, digits, '_' or '-'), "
                "optionally followed by [] or [intent=value]"
            )
        flt = m.group("filter")
        each: tuple[str, str] | str | None
        if flt is None:
            each = None
        elif flt == "":
            each = ""
        elif "=" in flt:
            key, _, value = flt.partition("=")
            if not key or not value:
                raise ValueError(f"{text!r}: filter [{flt}] must be [key=value]")
            each = (key.strip(), value.strip())
        else:
            each = ("intent", flt.strip())
        segments.append(Segment(m.group("name"), each))
    return FieldPath(text.strip(), tuple(segments))


def _items(value: Any, seg: Segment) -> Iterator[Any]:
    if seg.each is None:
        yield value
        return
    if not isinstance(value, list):
        return
    for item in value:
        if seg.each == "":
            yield item
        elif isinstance(item, dict) and isinstance(seg.each, tuple):
            key, wanted = seg.each
            if str(item.get(key)) == wanted:
                yield item


def containers(doc: Any, path: FieldPath) -> Iterator[dict[str, Any]]:
    """Every object that would hold the last segment's field (creating nothing)."""
    current: list[Any] = [doc]
    for seg in path.segments[:-1]:
        nxt: list[Any] = []
        for node in current:
            if isinstance(node, dict) and seg.name in node:
                nxt.extend(_items(node[seg.name], seg))
        current = nxt
    for node in current:
        if isinstance(node, dict):
            yield node


def values(doc: Any, path: FieldPath) -> Iterator[tuple[str, Any]]:
    """``(json_pointer, value)`` for every value the path reaches in ``doc``."""
    current: list[tuple[str, Any]] = [("", doc)]
    for seg in path.segments:
        nxt: list[tuple[str, Any]] = []
        for ptr, node in current:
            if not isinstance(node, dict) or seg.name not in node:
                continue
            here = f"{ptr}/{_escape(seg.name)}"
            child = node[seg.name]
            if seg.each is None:
                nxt.append((here, child))
            elif isinstance(child, list):
                for i, item in enumerate(child):
                    if item in list(_items([item], seg)):
                        nxt.append((f"{here}/{i}", item))
        current = nxt
    return iter(current)


def missing(doc: Any, path: FieldPath) -> Iterator[str]:
    """JSON pointers (of the deepest object reached) where the path is absent or null. Arrays
    traversed with ``[]`` must hold the field in every item; an empty array holds it vacuously."""
    current: list[tuple[str, Any]] = [("", doc)]
    for seg in path.segments:
        nxt: list[tuple[str, Any]] = []
        for ptr, node in current:
            if not isinstance(node, dict) or node.get(seg.name) is None:
                yield f"{ptr}/{_escape(seg.name)}"
                continue
            here = f"{ptr}/{_escape(seg.name)}"
            child = node[seg.name]
            if seg.each is None:
                nxt.append((here, child))
            elif not isinstance(child, list):
                yield here
            else:
                for i, item in enumerate(child):
                    if item in list(_items([item], seg)):
                        nxt.append((f"{here}/{i}", item))
        current = nxt


def _escape(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")
