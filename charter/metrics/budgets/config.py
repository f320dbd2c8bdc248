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
class AssetBudget:
    """The media library's images as delivered (``/v1/assets/{id}/{name}``), each against ``max_bytes``:
    at ``width`` (a size from ``[charter.assets] sizes``) in ``format``, or the original when both
    are left out; ``media_types`` limits which assets count (charter.metrics.budgets.assets)."""

    name: str
    max_bytes: int
    width: int | None = None
    format: str | None = None
    media_types: tuple[str, ...] = ()
    kind: str = "asset"


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


#: Network and CPU throttling presets for page budgets (applied by Chromium through the DevTools
#: protocol: Network.emulateNetworkConditions, Emulation.setCPUThrottlingRate). ``mobile`` takes
#: Lighthouse's mobile figures (Slow 4G: 150 ms RTT, 1.6 Mbit/s down, 750 kbit/s up, CPU 4x slower).
THROTTLING: dict[str, dict[str, float]] = {
    "mobile": {"latency_ms": 150, "download_kbps": 1638.4, "upload_kbps": 750, "cpu_slowdown": 4},
    "desktop": {"latency_ms": 40, "download_kbps": 10240, "upload_kbps": 10240, "cpu_slowdown": 1},
    "none": {"latency_ms": 0, "download_kbps": 0, "upload_kbps": 0, "cpu_slowdown": 1},
}
#: Viewports per preset: Lighthouse's mobile (Moto G Power) and desktop screens.
VIEWPORTS: dict[str, dict[str, float]] = {
    "mobile": {"width": 412, "height": 823, "device_scale_factor": 1.75},
    "desktop": {"width": 1350, "height": 940, "device_scale_factor": 1},
    "none": {"width": 1350, "height": 940, "device_scale_factor": 1},
}
#: Resource types of transferred-bytes budgets (Chromium's, lower case) plus ``total``.
RESOURCE_TYPES = ("document", "script", "stylesheet", "image", "font", "fetch", "media", "other", "total")


@dataclass(frozen=True)
class PageBudget:
    """Core Web Vitals and weight of one page, measured in headless Chromium (charter.metrics.budgets.pages)."""

    name: str
    url: str  # absolute, or a path joined to --url
    lcp_ms: float | None = None
    cls: float | None = None
    tbt_ms: float | None = None
    inp_ms: float | None = None
    bytes: dict[str, int] = field(default_factory=dict)
    max_image_oversize: float | None = None
    throttling: str = "mobile"
    network: dict[str, float] = field(default_factory=dict)
    viewport: dict[str, float] = field(default_factory=dict)
    runs: int = 3
    timeout_seconds: float = 30.0


@dataclass
class Budgets:
    source: str
    bundles: list[FileBudget] = field(default_factory=list)
    images: list[FileBudget] = field(default_factory=list)
    api: list[LatencyBudget] = field(default_factory=list)
    llm: list[LatencyBudget] = field(default_factory=list)
    pages: list[PageBudget] = field(default_factory=list)
    assets: list[AssetBudget] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.bundles) + len(self.images) + len(self.api) + len(self.llm) + len(self.pages) + len(self.assets)


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
    known = {"version", "defaults", "bundles", "images", "api", "llm", "pages", "assets"}
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
    for i, item in enumerate(_list(data.get("pages"), "/pages", err)):
        page = _page_budget(item, f"/pages/{i}", err)
        if page:
            budgets.pages.append(page)
    for i, item in enumerate(_list(data.get("assets"), "/assets", err)):
        asset_budget = _asset_budget(item, f"/assets/{i}", err)
        if asset_budget:
            budgets.assets.append(asset_budget)
    everything: list[FileBudget | LatencyBudget | AssetBudget] = [
        *budgets.bundles,
        *budgets.images,
        *budgets.api,
        *budgets.llm,
        *budgets.assets,
    ]
    names = [b.kind + ":" + b.name for b in everything] + ["page:" + p.name for p in budgets.pages]
    for dup in sorted({n for n in names if names.count(n) > 1}):
        err("", f"two budgets are named {dup.split(':', 1)[1]!r} ({dup.split(':')[0]}); names must be unique")
    if not errors and budgets.count == 0:
        err("", "the file declares no budgets (bundles, images, api, llm, pages or assets)")
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


def _asset_budget(item: Any, pointer: str, err: Any) -> AssetBudget | None:
    data = _mapping(item, pointer, {"name", "max_bytes", "width", "format", "media_types"}, err)
    if data is None:
        return None
    max_bytes = _size(data, "max_bytes", pointer, err)
    width = data.get("width")
    if width is not None and (isinstance(width, bool) or not isinstance(width, int) or not 1 <= width <= 8192):
        err(f"{pointer}/width", "width is a number of pixels (one of [charter.assets] sizes)")
        width = None
    fmt = data.get("format")
    if fmt is not None and fmt not in ("webp", "avif", "jpeg", "png"):
        err(f"{pointer}/format", "format is webp, avif, jpeg or png")
        fmt = None
    types = data.get("media_types", [])
    if not isinstance(types, list) or not all(isinstance(t, str) and "/" in t for t in types):
        err(f"{pointer}/media_types", "media_types is a list of media types such as image/jpeg")
        types = []
    name = data.get("name", "assets")
    if not isinstance(name, str) or not name:
        err(f"{pointer}/name", "name must be a non-empty string")
        return None
    if max_bytes is None:
        return None
    return AssetBudget(name, max_bytes, width, fmt, tuple(types))


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


def _number(data: dict[str, Any], key: str, pointer: str, err: Any, low: float, high: float) -> float | None:
    if key not in data:
        return None
    v = data[key]
    if isinstance(v, bool) or not isinstance(v, int | float) or not low <= v <= high:
        err(f"{pointer}/{key}", f"{key} is a number from {low:g} to {high:g}")
        return None
    return float(v)


def _page_budget(item: Any, pointer: str, err: Any) -> PageBudget | None:
    allowed = {
        "name", "url", "lcp_ms", "cls", "tbt_ms", "inp_ms", "bytes", "max_image_oversize",
        "throttling", "viewport", "runs", "timeout_seconds",
    }  # fmt: skip
    data = _mapping(item, pointer, allowed, err)
    if data is None:
        return None
    url = data.get("url")
    ok_url = isinstance(url, str) and (
        re.fullmatch(r"https?://[^\s/?#]+(?:[/?#]\S*)?", url) is not None or re.fullmatch(r"/\S*", url) is not None
    )
    if not ok_url:
        err(f"{pointer}/url", "url is an absolute http(s) URL or a path starting with / (joined to --url)")
    name = data.get("name", url)
    if not isinstance(name, str) or not name:
        err(f"{pointer}/name", "name must be a non-empty string")
    metrics = {
        "lcp_ms": _number(data, "lcp_ms", pointer, err, 1, 600_000),
        "cls": _number(data, "cls", pointer, err, 0, 100),
        "tbt_ms": _number(data, "tbt_ms", pointer, err, 0, 600_000),
        "inp_ms": _number(data, "inp_ms", pointer, err, 1, 600_000),
        "max_image_oversize": _number(data, "max_image_oversize", pointer, err, 1, 1000),
    }
    sizes: dict[str, int] = {}
    raw_bytes = data.get("bytes", {})
    if not isinstance(raw_bytes, dict):
        err(f"{pointer}/bytes", f"bytes maps a resource type ({', '.join(RESOURCE_TYPES)}) to a size")
    else:
        for kind in raw_bytes:
            if kind not in RESOURCE_TYPES:
                err(f"{pointer}/bytes/{kind}", f"unknown resource type {kind!r}; known: {', '.join(RESOURCE_TYPES)}")
            else:
                size = _size(raw_bytes, kind, f"{pointer}/bytes", err)
                if size is not None:
                    sizes[kind] = size
    if all(v is None for v in metrics.values()) and not sizes and "bytes" not in data:
        err(pointer, "a page budget sets at least one of lcp_ms, cls, tbt_ms, inp_ms, bytes, max_image_oversize")
    throttling = data.get("throttling", "mobile")
    network: dict[str, float] = {}
    if isinstance(throttling, dict):
        known = set(THROTTLING["mobile"])
        for key, value in throttling.items():
            if key not in known:
                err(f"{pointer}/throttling/{key}", f"unknown key {key!r}; known: {', '.join(sorted(known))}")
            elif isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                err(f"{pointer}/throttling/{key}", f"{key} is a number from 0")
            else:
                network[key] = float(value)
        preset = "custom"
        network = {**THROTTLING["none"], **network}
    elif throttling in THROTTLING:
        preset = str(throttling)
        network = dict(THROTTLING[preset])
    else:
        err(
            f"{pointer}/throttling",
            f"throttling is {', '.join(THROTTLING)} or a mapping of {', '.join(THROTTLING['mobile'])}",
        )
        preset = "mobile"
    viewport = dict(VIEWPORTS.get(preset, VIEWPORTS["mobile"]))
    raw_viewport = data.get("viewport", {})
    if not isinstance(raw_viewport, dict):
        err(f"{pointer}/viewport", "viewport is a mapping of width, height, device_scale_factor")
    else:
        for key, value in raw_viewport.items():
            if key not in viewport:
                err(f"{pointer}/viewport/{key}", "viewport has width, height and device_scale_factor")
            elif isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 10000:
                err(f"{pointer}/viewport/{key}", f"{key} is a positive number")
            else:
                viewport[key] = float(value)
    runs = data.get("runs", 3)
    if isinstance(runs, bool) or not isinstance(runs, int) or not 1 <= runs <= 20:
        err(f"{pointer}/runs", "runs is an integer from 1 to 20 (the median is compared)")
        runs = 3
    timeout = _number(data, "timeout_seconds", pointer, err, 1, 300)
    if not ok_url or not isinstance(name, str) or not name:
        return None
    assert isinstance(url, str)
    return PageBudget(
        name=name,
        url=url,
        lcp_ms=metrics["lcp_ms"],
        cls=metrics["cls"],
        tbt_ms=metrics["tbt_ms"],
        inp_ms=metrics["inp_ms"],
        bytes=sizes,
        max_image_oversize=metrics["max_image_oversize"],
        throttling=preset,
        network=network,
        viewport=viewport,
        runs=runs,
        timeout_seconds=timeout or 30.0,
    )
