"""Readable differences between two versions of entry data (for history, conflicts and reviews),
and between two versions of a prompt.

The operations come from :func:`charter.audit.diff` (the same diff the audit log stores), a
prompt's unified diff from :func:`charter.gateway.prompts.catalog.diff_versions` (the same as
``charter prompts diff``); this module only turns them into rows with labels, line numbers and
word-level highlights for changed text.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from typing import Any

from charter.admin.forms.values import split
from charter.audit import diff

HUNK = re.compile(r"^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@")
LINE_KINDS = {" ": "same", "-": "remove", "+": "add"}


@dataclass(frozen=True)
class DiffLine:
    kind: str  # hunk | same | remove | add
    old: int | None  # its line number in the older text (None: not there)
    new: int | None  # its line number in the newer text
    text: str


def unified_lines(text: str) -> list[DiffLine]:
    """The lines of a unified diff as :mod:`difflib` writes it, numbered in both texts; the two
    file header lines are dropped, each hunk starts with a ``hunk`` line holding its header."""
    lines = text.splitlines()
    if len(lines) >= 2 and lines[0].startswith("--- ") and lines[1].startswith("+++ "):
        lines = lines[2:]
    out: list[DiffLine] = []
    old = new = 0
    for line in lines:
        hunk = HUNK.match(line)
        if hunk:
            old, new = int(hunk[1]), int(hunk[2])
            out.append(DiffLine("hunk", None, None, line))
            continue
        kind = LINE_KINDS.get(line[:1], "same")
        out.append(DiffLine(kind, old if kind != "add" else None, new if kind != "remove" else None, line[1:]))
        old += kind != "add"
        new += kind != "remove"
    return out


@dataclass(frozen=True)
class DiffRow:
    op: str  # add | remove | replace
    path: str
    label: str
    old: str
    new: str
    segments: list[tuple[str, str]] | None  # word-level: (equal|delete|insert, text)


def label_of(path: str) -> str:
    """``/en/sections/2/title`` -> "en › sections #3 › title"."""
    out: list[str] = []
    for part in split(path):
        if part.isdigit() and out:
            out[-1] += f" #{int(part) + 1}"
        else:
            out.append(part)
    return " › ".join(out) or "(whole entry)"


def show(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, ensure_ascii=False)


def word_segments(old: str, new: str) -> list[tuple[str, str]]:
    a, b = re.split(r"(\s+)", old), re.split(r"(\s+)", new)
    out: list[tuple[str, str]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            out.append(("equal", "".join(a[i1:i2])))
        else:
            if i2 > i1:
                out.append(("delete", "".join(a[i1:i2])))
            if j2 > j1:
                out.append(("insert", "".join(b[j1:j2])))
    return _merge(out)


def _merge(segments: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Fold whitespace between two changes into them, so "a b" -> "c d" reads as one change."""
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(segments):
        kind, text = segments[i]
        gap = kind == "equal" and not text.strip() and 0 < i < len(segments) - 1
        if gap and segments[i - 1][0] != "equal" and segments[i + 1][0] != "equal":
            for k in ("delete", "insert"):
                idx = next((j for j in range(len(out) - 1, -1, -1) if out[j][0] == k), None)
                if idx is not None and all(o[0] != "equal" for o in out[idx:]):
                    out[idx] = (k, out[idx][1] + text)
            i += 1
            continue
        if out and out[-1][0] == kind:
            out[-1] = (kind, out[-1][1] + text)
        elif kind != "equal" and len(out) >= 2 and out[-2][0] == kind and out[-1][0] != "equal":
            out[-2] = (kind, out[-2][1] + text)
        else:
            out.append((kind, text))
        i += 1
    return out


def diff_rows(old: Any, new: Any) -> list[DiffRow]:
    rows = []
    for op in diff(old, new):
        before = op.get("old")
        after = op.get("value")
        segments = None
        if op["op"] == "replace" and isinstance(before, str) and isinstance(after, str):
            segments = word_segments(before, after)
        rows.append(DiffRow(op["op"], op["path"], label_of(op["path"]), show(before), show(after), segments))
    return rows


def field_paths(rows: list[DiffRow], depth: int = 2) -> set[str]:
    """The fields rows touch, cut to ``depth`` pointer segments (``/en/title``)."""
    return {"/" + "/".join(split(r.path)[:depth]) for r in rows}
