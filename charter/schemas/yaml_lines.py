"""Read a YAML file and remember the line of every value, so errors can say ``file:line``.

:func:`load_yaml` returns the plain data and a function that maps an RFC 6901 pointer into it to
a 1-based line number (the nearest enclosing value's line when the exact one is unknown).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from charter.exceptions import ErrorDetail


class YamlError(ValueError):
    def __init__(self, detail: ErrorDetail) -> None:
        super().__init__(detail.message)
        self.detail = detail


def _lines(node: yaml.Node, ptr: str, out: dict[str, int]) -> None:
    out[ptr] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            name = str(key.value).replace("~", "~0").replace("/", "~1")
            _lines(value, f"{ptr}/{name}", out)
    elif isinstance(node, yaml.SequenceNode):
        for i, value in enumerate(node.value):
            _lines(value, f"{ptr}/{i}", out)


def load_yaml(path: Path) -> tuple[Any, Callable[[str], int | None]]:
    """``(data, line_of)``; raises YamlError (with file and line) for unreadable or bad YAML."""
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise YamlError(ErrorDetail("", f"cannot read the file: {exc}", "file", file))
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1} column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise YamlError(ErrorDetail("", f"{where}malformed YAML: {problem}", "yaml", file))
    lines: dict[str, int] = {}
    if node is not None:
        _lines(node, "", lines)

    def line_of(pointer: str) -> int | None:
        ptr = pointer
        while True:
            if ptr in lines:
                return lines[ptr]
            if not ptr:
                return None
            ptr = ptr.rsplit("/", 1)[0]

    return data, line_of


def located(file: str, line_of: Callable[[str], int | None], pointer: str, message: str, keyword: str) -> ErrorDetail:
    """An ErrorDetail whose message starts with ``line N:`` when the line is known."""
    line = line_of(pointer)
    return ErrorDetail(pointer, f"line {line}: {message}" if line else message, keyword, file)
