"""Golden datasets: one JSON object per line.

    {"id": "refund-annual", "query": "Can I get a refund on an annual plan?", "locale": "en",
     "intent": "legal",
     "context": ["optional: sources to use instead of retrieval", {"id": "doc-1", "text": "..."}],
     "expected": {"must_cite": true, "must_refuse": false,
                  "facts": ["refunded pro rata within 30 days"],
                  "relevant": ["<entry or document id>", ...] | {"<id>": grade, ...}}}

``prompt`` is accepted for ``query``. Blank lines and lines starting with ``#`` are skipped. A
malformed line is reported with its number and left out; every other line still runs.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from charter.exceptions import ConfigError

_CASE_KEYS = {"id", "query", "prompt", "locale", "intent", "context", "expected", "tags", "metadata"}
_EXPECTED_KEYS = {"must_cite", "must_refuse", "facts", "relevant"}


@dataclass(frozen=True)
class ContextSource:
    id: str
    text: str


@dataclass(frozen=True)
class GoldenCase:
    id: str
    line: int
    query: str
    locale: str = "en"
    intent: str | None = None
    context: tuple[ContextSource, ...] | None = None
    must_cite: bool | None = None
    must_refuse: bool | None = None
    facts: tuple[str, ...] = ()
    relevant: dict[str, float] = field(default_factory=dict)
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class LineError:
    line: int
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line, "message": self.message}


@dataclass
class Dataset:
    path: Path
    sha256: str
    cases: list[GoldenCase]
    errors: list[LineError]


def _parse(raw: Any, line: int, seen: set[str]) -> GoldenCase:
    if not isinstance(raw, dict):
        raise ValueError(f"expected a JSON object, got {type(raw).__name__}")
    unknown = set(raw) - _CASE_KEYS
    if unknown:
        raise ValueError(f"unknown field(s): {', '.join(sorted(unknown))}")
    query = raw.get("query", raw.get("prompt"))
    if not isinstance(query, str) or not query.strip():
        raise ValueError("'query' (or 'prompt') must be a non-empty string")
    case_id = str(raw.get("id", f"line-{line}"))
    if case_id in seen:
        raise ValueError(f"duplicate id {case_id!r}")
    locale = raw.get("locale", "en")
    if not isinstance(locale, str) or not locale:
        raise ValueError("'locale' must be a string")
    intent = raw.get("intent")
    if intent is not None and not isinstance(intent, str):
        raise ValueError("'intent' must be a string")
    context = None
    if "context" in raw:
        items = raw["context"]
        if isinstance(items, str):
            items = [items]
        if not isinstance(items, list):
            raise ValueError("'context' must be a string or a list")
        parsed = []
        for i, item in enumerate(items):
            if isinstance(item, str):
                parsed.append(ContextSource(f"context-{i}", item))
            elif isinstance(item, dict) and isinstance(item.get("text"), str):
                parsed.append(ContextSource(str(item.get("id", f"context-{i}")), item["text"]))
            else:
                raise ValueError(f"context[{i}] must be a string or {{'id', 'text'}}")
        context = tuple(parsed)
    expected = raw.get("expected", {})
    if not isinstance(expected, dict):
        raise ValueError("'expected' must be an object")
    unknown = set(expected) - _EXPECTED_KEYS
    if unknown:
        raise ValueError(f"unknown expected field(s): {', '.join(sorted(unknown))}")
    for key in ("must_cite", "must_refuse"):
        if key in expected and not isinstance(expected[key], bool):
            raise ValueError(f"'expected.{key}' must be true or false")
    facts = expected.get("facts", [])
    if not isinstance(facts, list) or not all(isinstance(f, str) for f in facts):
        raise ValueError("'expected.facts' must be a list of strings")
    rel = expected.get("relevant", [])
    if isinstance(rel, list) and all(isinstance(r, str | int) for r in rel):
        relevant = {str(r): 1.0 for r in rel}
    elif isinstance(rel, dict) and all(isinstance(v, int | float) for v in rel.values()):
        relevant = {str(k): float(v) for k, v in rel.items() if v > 0}
    else:
        raise ValueError("'expected.relevant' must be a list of ids or an {id: grade} object")
    tags = raw.get("tags", [])
    if not isinstance(tags, list):
        raise ValueError("'tags' must be a list")
    seen.add(case_id)
    return GoldenCase(
        id=case_id,
        line=line,
        query=query.strip(),
        locale=locale,
        intent=intent,
        context=context,
        must_cite=expected.get("must_cite"),
        must_refuse=expected.get("must_refuse"),
        facts=tuple(facts),
        relevant=relevant,
        tags=tuple(str(t) for t in tags),
    )


def load_dataset(path: str | Path) -> Dataset:
    """Read a golden JSONL file. Raises :class:`ConfigError` only when the file is unreadable."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read dataset {path}: {exc.strerror or exc}") from exc
    cases: list[GoldenCase] = []
    errors: list[LineError] = []
    seen: set[str] = set()
    for n, raw_line in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
        line = raw_line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            cases.append(_parse(json.loads(line), n, seen))
        except json.JSONDecodeError as exc:
            errors.append(LineError(n, f"not valid JSON: {exc.msg} (column {exc.colno})"))
        except ValueError as exc:
            errors.append(LineError(n, str(exc)))
    return Dataset(path, hashlib.sha256(data).hexdigest(), cases, errors)
