"""``budgets.yaml``: parsed and validated whole before anything is measured.

Sizes are integers (bytes) or strings with a unit: ``"170 KB"`` (1000), ``"170 KiB"`` (1024),
``"1.5 MB"``, ``"2 MiB"``. Latencies are milliseconds. Every problem is reported at once, each
with a JSON pointer into the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from charter.exceptions import ErrorDetail, ValidationFailed

UNITS = {"": 1, "b": 1, "kb": 1000, "kib": 1024, "mb": 1000**2, "mib": 1024**2, "gb": 1000**3, "gib": 1024**3}
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
IMAGE_GLOBS = ("**/*.png", "**/*.jpg", "**/*.jpeg", "**/*.gif", "**/*.webp", "**/*.avif", "**/*.svg")
MAX_REQUESTS = 1000
MAX_CONCURRENCY = 32


class BudgetError(ValidationFailed):
    type_slug = "invalid-budgets"
    title = "Invalid budgets file"


@dataclass(frozen=True)
class Load:
    requests: int = 30
    concurrency: int = 4
    timeout_seconds: float = 10.0
    warmup: int = 2


@dataclass(frozen=True)
class FileBudget:
    kind: str  # bundle | image
    name: str
    files: tuple[str, ...]
    max_bytes: int
    compression: str = "gzip"  # gzip | none
    max_total_bytes: int | None = None


@dataclass(frozen=True)
class LatencyBudget:
    kind: str  # api | llm
    name: str
    method: str
    path: str
    p95_ms: float
    load: Load
    body: Any = None
    auth: bool = False
    route: str | None = None


@dataclass
class Budgets:
    source: str
    bundles: list[FileBudget] = field(default_factory=list)
    images: list[FileBudget] = field(default_factory=list)
    api: list[LatencyBudget] = field(default_factory=list)
    llm: list[LatencyBudget] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.bundles) + len(self.images) + len(self.api) + len(self.llm)


def parse_size(value: object) -> int:
    if isinstance(value, bool):
        raise ValueError("expected a size")
    if isinstance(value, int):
        if value <= 0:
            raise ValueError("a size must be positive")
        return value
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmg]i?b|b)?\s*", str(value), re.IGNORECASE)
    if not m:
        raise ValueError(f"{value!r} is not a size (e.g. 170000, '170 KB', '170 KiB')")
    size = int(float(m.group(1)) * UNITS[(m.group(2) or "").lower()])
    if size <= 0:
        raise ValueError("a size must be positive")
    return size


def load_budgets(path: Path) -> Budgets:
    """Read and validate ``path``; raises :class:`BudgetError` listing every problem."""
    if not path.is_file():
        raise BudgetError(f"{path}: no such budgets file", errors=[ErrorDetail("", "file not found", file=str(path))])
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise BudgetError(
            f"{path}: not valid YAML: {exc}", errors=[ErrorDetail("", str(exc), file=str(path))]
        ) from None
    return parse_budgets(data, str(path))


def parse_budgets(data: Any, source: str = "budgets.yaml") -> Budgets:
    errors: list[ErrorDetail] = []

    def err(pointer: str, message: str) -> None:
        errors.append(ErrorDetail(pointer, message, file=source))

    if not isinstance(data, dict):
        raise BudgetError(f"{source}: expected a mapping at the top", errors=[ErrorDetail("", "expected a mapping")])
    known = {"version", "defaults", "bundles", "images", "api", "llm"}
    for key in data:
        if key not in known:
            err(f"/{key}", f"unknown key {key!r}; known: {', '.join(sorted(known))}")
    if data.get("version", 1) != 1:
        err("/version", "only version 1 is supported")
    defaults = _load(data.get("defaults") or {}, Load(), "/defaults", err)
    budgets = Budgets(source=source)
    for kind, target in (("bundle", budgets.bundles), ("image", budgets.images)):
        section = "bundles" if kind == "bundle" else "images"
        for i, item in enumerate(_list(data.get(section), f"/{section}", err)):
            file_budget = _file_budget(kind, item, f"/{section}/{i}", err)
            if file_budget:
                target.append(file_budget)
    for i, item in enumerate(_list(data.get("api"), "/api", err)):
        parsed = _api_budget(item, f"/api/{i}", defaults, err)
        if parsed:
            budgets.api.append(parsed)
    llm_defaults = Load(
        requests=min(defaults.requests, 5), concurrency=1, timeout_seconds=max(defaults.timeout_seconds, 60), warmup=0
    )
    for i, item in enumerate(_list(data.get("llm"), "/llm", err)):
        parsed = _llm_budget(item, f"/llm/{i}", llm_defaults, err)
        if parsed:
            budgets.llm.append(parsed)
    everything: list[FileBudget | LatencyBudget] = [*budgets.bundles, *budgets.images, *budgets.api, *budgets.llm]
    names = [b.kind + ":" + b.name for b in everything]
    for dup in sorted({n for n in names if names.count(n) > 1}):
        err("", f"two budgets are named {dup.split(':', 1)[1]!r} ({dup.split(':')[0]}); names must be unique")
    if not errors and budgets.count == 0:
        err("", "the file declares no budgets (bundles, images, api or llm)")
    if errors:
        raise BudgetError(f"{source}: {len(errors)} problem(s)", errors=errors)
    return budgets


def _list(value: Any, pointer: str, err: Any) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        err(pointer, "expected a list")
        return []
    return value


def _mapping(item: Any, pointer: str, allowed: set[str], err: Any) -> dict[str, Any] | None:
    if not isinstance(item, dict):
        err(pointer, "expected a mapping")
        return None
    for key in item:
        if key not in allowed:
            err(f"{pointer}/{key}", f"unknown key {key!r}; known: {', '.join(sorted(allowed))}")
    return item


def _load(item: Any, base: Load, pointer: str, err: Any) -> Load:
    data = _mapping(item, pointer, {"requests", "concurrency", "timeout_seconds", "warmup"}, err)
    if data is None:
        return base
    values = {}
    for key, low, high in (
        ("requests", 1, MAX_REQUESTS),
        ("concurrency", 1, MAX_CONCURRENCY),
        ("timeout_seconds", 0.1, 300),
        ("warmup", 0, 100),
    ):
        if key in data:
            v = data[key]
            if isinstance(v, bool) or not isinstance(v, int | float) or not low <= v <= high:
                err(f"{pointer}/{key}", f"expected a number from {low} to {high}")
                continue
            values[key] = float(v) if key == "timeout_seconds" else int(v)
    return Load(**{**base.__dict__, **values})


def _size(item: dict[str, Any], key: str, pointer: str, err: Any, required: bool = True) -> int | None:
    if key not in item:
        if required:
            err(f"{pointer}/{key}", f"{key} is required")
        return None
    try:
        return parse_size(item[key])
    except ValueError as exc:
        err(f"{pointer}/{key}", str(exc))
        return None


def _file_budget(kind: str, item: Any, pointer: str, err: Any) -> FileBudget | None:
    data = _mapping(item, pointer, {"name", "files", "max_bytes", "max_total_bytes", "compression"}, err)
    if data is None:
        return None
    files = data.get("files", list(IMAGE_GLOBS) if kind == "image" else None)
    if isinstance(files, str):
        files = [files]
    if not isinstance(files, list) or not files or not all(isinstance(f, str) and f for f in files):
        err(f"{pointer}/files", "files is a glob or a list of globs (relative to --dist)")
        files = None
    elif any(Path(f).is_absolute() or ".." in Path(f).parts for f in files):
        err(f"{pointer}/files", "globs are relative to --dist and may not leave it")
        files = None
    compression = data.get("compression", "gzip" if kind == "bundle" else "none")
    if compression not in ("gzip", "none"):
        err(f"{pointer}/compression", "compression is gzip or none")
    max_bytes = _size(data, "max_bytes", pointer, err)
    total = _size(data, "max_total_bytes", pointer, err, required=False)
    name = data.get("name", files[0] if files else "")
    if "name" in data and (not isinstance(name, str) or not name):
        err(f"{pointer}/name", "name must be a non-empty string")
    if files is None or max_bytes is None or not isinstance(name, str):
        return None
    return FileBudget(kind, name, tuple(files), max_bytes, str(compression), total)


def _latency(data: dict[str, Any], pointer: str, err: Any) -> float | None:
    v = data.get("p95_ms")
    if isinstance(v, bool) or not isinstance(v, int | float) or v <= 0:
        err(f"{pointer}/p95_ms", "p95_ms is required: a positive number of milliseconds")
        return None
    return float(v)


def _api_budget(item: Any, pointer: str, defaults: Load, err: Any) -> LatencyBudget | None:
    allowed = {"name", "endpoint", "p95_ms", "body", "auth", "requests", "concurrency", "timeout_seconds", "warmup"}
    data = _mapping(item, pointer, allowed, err)
    if data is None:
        return None
    endpoint = data.get("endpoint")
    m = re.fullmatch(r"\s*([A-Za-z]+)\s+(/\S*)\s*", endpoint) if isinstance(endpoint, str) else None
    if m is None or m.group(1).upper() not in METHODS:
        err(f"{pointer}/endpoint", "endpoint is 'METHOD /path' (e.g. 'GET /v1/pages/about')")
    p95 = _latency(data, pointer, err)
    load = _load({k: v for k, v in data.items() if k in Load.__dataclass_fields__}, defaults, pointer, err)
    if m is None or p95 is None:
        return None
    method, path = m.group(1).upper(), m.group(2)
    return LatencyBudget(
        "api",
        str(data.get("name", f"{method} {path}")),
        method,
        path,
        p95,
        load,
        data.get("body"),
        bool(data.get("auth")),
    )


def _llm_budget(item: Any, pointer: str, defaults: Load, err: Any) -> LatencyBudget | None:
    allowed = {
        "name",
        "route",
        "p95_ms",
        "prompt",
        "max_tokens",
        "requests",
        "concurrency",
        "timeout_seconds",
        "warmup",
    }
    data = _mapping(item, pointer, allowed, err)
    if data is None:
        return None
    route = data.get("route")
    if not isinstance(route, str) or not route:
        err(f"{pointer}/route", "route is required: a gateway route name (the `model` of a chat completion)")
    prompt = data.get("prompt", "Reply with the single word: ok")
    if not isinstance(prompt, str) or not prompt:
        err(f"{pointer}/prompt", "prompt must be a non-empty string")
    max_tokens = data.get("max_tokens", 16)
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or not 1 <= max_tokens <= 4096:
        err(f"{pointer}/max_tokens", "max_tokens is an integer from 1 to 4096")
    p95 = _latency(data, pointer, err)
    load = _load({k: v for k, v in data.items() if k in Load.__dataclass_fields__}, defaults, pointer, err)
    if not isinstance(route, str) or not route or p95 is None:
        return None
    body = {"model": route, "messages": [{"role": "user", "content": prompt}], "max_tokens": max_tokens}
    return LatencyBudget(
        "llm", str(data.get("name", route)), "POST", "/v1/chat/completions", p95, load, body, True, route
    )
