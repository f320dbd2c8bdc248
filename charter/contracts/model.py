"""The consumer contract file format (``contracts/*.yaml``), in the seed's form::

    consumer: marketing-web
    provider: content-api
    expects:
      - endpoint: /v1/pages/{slug}
        must_include: [hero.title, hero.cta.href]
        types: {hero.cta.href: url}
        version: 1.x

``endpoint`` is one of ``/v1/pages/{slug}``, ``/v1/entries/<type>/{id}`` or ``/v1/entries/<type>``
(a list), or ``/v1/ask`` (paths into the answer: ``answer``, ``citations[].url`` ...; optional
``questions`` asked by the live check and ``refusal``: ``{question, text}``). Instead of an
endpoint an expectation may name a registered ``tool`` with ``arguments`` and ``result``, each
``{must_include, types}`` over the tool's argument and result schemas (:mod:`charter.contracts.llm`).
``must_include`` and ``types`` use dotted paths into the entry's ``data``
(:mod:`charter.contracts.resolve`). ``types`` values: url, string, number, integer, boolean,
array, object, date-time, email. ``version`` is an npm range matched against the content type's
version. Optional: ``locales`` (default: every locale of the type) and ``headers`` (sent by
``charter contracts verify``, e.g. ``Charter-Schema: page.v1`` for a consumer pinning a major).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from charter.exceptions import ConfigError, ErrorDetail
from charter.schemas.compat.semver import Range, SemverError
from charter.schemas.paths import FieldPath, parse_path
from charter.schemas.yaml_lines import YamlError, load_yaml, located

TYPES = ("url", "string", "number", "integer", "boolean", "array", "object", "date-time", "email")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
PAGE = re.compile(r"^/v1/pages/\{[a-z_]+\}$")
ENTRY = re.compile(r"^/v1/entries/(?P<type>[a-z][a-z0-9]*(?:-[a-z0-9]+)*)/\{[a-z_]+\}$")
LIST = re.compile(r"^/v1/entries/(?P<type>[a-z][a-z0-9]*(?:-[a-z0-9]+)*)$")
KNOWN_ENDPOINTS = "/v1/pages/{slug}, /v1/entries/<type>/{id}, /v1/entries/<type>"
CONTRACT_KEYS = {"consumer", "provider", "expects", "description", "owner"}
EXPECT_KEYS = {
    "endpoint",
    "must_include",
    "types",
    "version",
    "locales",
    "headers",
    "description",
    "tool",
    "arguments",
    "result",
    "route",
    "questions",
    "refusal",
}
ASK = "/v1/ask"
TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


class ContractFileError(ConfigError):
    """A contract file that cannot be used; ``errors`` name the file, pointer and line."""

    type_slug = "contract-file"
    title = "Invalid contract file"


@dataclass(frozen=True)
class Endpoint:
    template: str
    #: page | entry | list
    kind: str
    content_type: str


def parse_endpoint(text: Any) -> Endpoint:
    if not isinstance(text, str):
        raise ValueError(f"endpoint must be a string such as /v1/pages/{{slug}}, not {text!r}")
    path = text.strip().split("?", 1)[0]
    if path == ASK:
        return Endpoint(ASK, "ask", "")
    if PAGE.match(path):
        return Endpoint(path, "page", "page")
    m = ENTRY.match(path)
    if m:
        return Endpoint(path, "entry", m.group("type"))
    m = LIST.match(path)
    if m:
        return Endpoint(path, "list", m.group("type"))
    raise ValueError(f"unknown endpoint {text!r}; contracts can name {KNOWN_ENDPOINTS}, {ASK}, or a tool")


@dataclass(frozen=True)
class Part:
    """What a tool expectation relies on in the tool's ``arguments`` or its ``result``."""

    name: str  # arguments | result
    must_include: tuple[FieldPath, ...]
    types: tuple[tuple[FieldPath, str], ...]


@dataclass(frozen=True)
class Expectation:
    endpoint: Endpoint
    must_include: tuple[FieldPath, ...]
    types: tuple[tuple[FieldPath, str], ...]
    version: Range | None
    locales: tuple[str, ...] | None = None
    headers: tuple[tuple[str, str], ...] = ()
    #: JSON pointer of this expectation in its file, for messages.
    pointer: str = ""
    #: A tool expectation's argument and result parts.
    parts: tuple[Part, ...] = ()
    #: /v1/ask: (question, locale) pairs the live check asks; the refusal (question, text or None).
    questions: tuple[tuple[str, str], ...] = ()
    refusal: tuple[str, str | None] | None = None
    #: A tool expectation: the gateway route the live check offers the tool on.
    route: str = "default"

    @property
    def paths(self) -> list[FieldPath]:
        """Every path the expectation names, must_include first, without repeats."""
        seen: dict[str, FieldPath] = {}
        for p in (*self.must_include, *(p for p, _ in self.types)):
            seen.setdefault(p.text, p)
        return list(seen.values())


@dataclass(frozen=True)
class Contract:
    file: str
    consumer: str
    provider: str
    expects: tuple[Expectation, ...] = field(default=())

    @property
    def name(self) -> str:
        return f"{self.consumer} ({Path(self.file).name})"


def load_contract(path: Path) -> Contract:
    """Parse one contract file; ContractFileError lists every problem with its pointer and line."""
    file = str(path)
    try:
        data, line_of = load_yaml(path)
    except YamlError as exc:
        raise ContractFileError(detail=f"{file}: {exc}", errors=[exc.detail])
    errors: list[ErrorDetail] = []

    def err(ptr: str, message: str, keyword: str) -> None:
        errors.append(located(file, line_of, ptr, message, keyword))

    if not isinstance(data, dict):
        raise ContractFileError(
            detail=f"{file}: a contract is a mapping with consumer, provider and expects",
            errors=[located(file, line_of, "", "expected a mapping with consumer, provider, expects", "type")],
        )
    for key in sorted(set(data) - CONTRACT_KEYS):
        err(f"/{key}", f"unknown key {key!r}; expected {', '.join(sorted(CONTRACT_KEYS))}", "key")
    for key in ("consumer", "provider"):
        value = data.get(key)
        if not isinstance(value, str) or not NAME.match(value):
            err(f"/{key}", f"{key} must be a name such as 'marketing-web', not {value!r}", key)
    expects_raw = data.get("expects")
    if not isinstance(expects_raw, list) or not expects_raw:
        err("/expects", "expects must be a non-empty list of {endpoint, must_include, types, version}", "expects")
        expects_raw = []
    expects: list[Expectation] = []
    for i, raw in enumerate(expects_raw):
        base = f"/expects/{i}"
        if not isinstance(raw, dict):
            err(base, "each expectation is a mapping with endpoint, must_include, types, version", "type")
            continue
        for key in sorted(set(raw) - EXPECT_KEYS):
            err(f"{base}/{key}", f"unknown key {key!r}; expected {', '.join(sorted(EXPECT_KEYS))}", "key")
        endpoint = None
        if "tool" not in raw:
            try:
                endpoint = parse_endpoint(raw.get("endpoint"))
            except ValueError as exc:
                err(f"{base}/endpoint", str(exc), "endpoint")
        else:
            tool = raw.get("tool")
            if not isinstance(tool, str) or not TOOL_NAME.match(tool):
                err(f"{base}/tool", f"tool must be a registered tool's name, not {tool!r}", "tool")
            else:
                endpoint = Endpoint(f"tool:{tool}", "tool", tool)
            if "endpoint" in raw:
                err(f"{base}/endpoint", "an expectation names an endpoint or a tool, not both", "endpoint")
        must, types = _paths(raw, base, err)
        parts: list[Part] = []
        for name in ("arguments", "result"):
            if name not in raw:
                continue
            if endpoint is None or endpoint.kind != "tool":
                err(f"{base}/{name}", f"{name} belongs to a tool expectation (tool: <name>)", name)
                continue
            part = raw[name]
            if not isinstance(part, dict) or set(part) - {"must_include", "types"}:
                err(f"{base}/{name}", f"{name} is a mapping with must_include and types", name)
                continue
            part_must, part_types = _paths(part, f"{base}/{name}", err)
            parts.append(Part(name, tuple(part_must), tuple(part_types)))
        if endpoint is not None and endpoint.kind == "tool" and (must or types):
            err(base, "a tool expectation puts must_include and types under arguments or result", "expects")
        questions, refusal = _ask_settings(raw, base, endpoint, err)
        route = raw.get("route", "default")
        if not isinstance(route, str) or not route:
            err(f"{base}/route", "route is a gateway route or model name", "route")
            route = "default"
        if not must and not types and not any(p.must_include or p.types for p in parts) and refusal is None:
            err(base, "an expectation needs must_include or types (what does the consumer rely on?)", "expects")
        version = None
        if "version" in raw:
            raw_version = raw["version"]
            try:
                version = Range.parse(str(raw_version) if isinstance(raw_version, int | float) else raw_version)
            except SemverError as exc:
                err(f"{base}/version", exc.detail, "version")
        locales = raw.get("locales")
        if locales is not None and (not isinstance(locales, list) or not all(isinstance(x, str) for x in locales)):
            err(f"{base}/locales", "locales must be a list of locale codes such as [en, de-DE]", "locales")
            locales = None
        headers = raw.get("headers", {})
        if not isinstance(headers, dict) or not all(isinstance(v, str | int) for v in headers.values()):
            err(f"{base}/headers", "headers must map header names to strings", "headers")
            headers = {}
        if endpoint is not None:
            expects.append(
                Expectation(
                    endpoint,
                    tuple(must),
                    tuple(types),
                    version,
                    tuple(locales) if locales else None,
                    tuple((str(k), str(v)) for k, v in headers.items()),
                    base,
                    tuple(parts),
                    questions,
                    refusal,
                    route,
                )
            )
    if errors:
        raise ContractFileError(detail=f"{len(errors)} problem(s) in {file}", errors=errors)
    return Contract(file, str(data["consumer"]), str(data["provider"]), tuple(expects))


def load_contracts(directory: Path) -> list[Contract]:
    """Every ``*.yaml``/``*.yml`` contract in ``directory`` (a missing folder has none). All files
    are read before raising, so one error lists the problems of every file."""
    if not directory.is_dir():
        return []
    contracts: list[Contract] = []
    errors: list[ErrorDetail] = []
    for path in sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")]):
        try:
            contracts.append(load_contract(path))
        except ContractFileError as exc:
            errors.extend(exc.errors)
    if errors:
        files = sorted({e.file or "" for e in errors})
        raise ContractFileError(detail=f"{len(errors)} problem(s) in contract files: {', '.join(files)}", errors=errors)
    return contracts


def _paths(raw: dict[str, Any], base: str, err: Any) -> tuple[list[FieldPath], list[tuple[FieldPath, str]]]:
    """The ``must_include`` and ``types`` of ``raw`` (an expectation, or a tool's part)."""
    must: list[FieldPath] = []
    must_raw = raw.get("must_include", [])
    if not isinstance(must_raw, list):
        err(f"{base}/must_include", "must_include must be a list of dotted paths", "must_include")
        must_raw = []
    for j, p in enumerate(must_raw):
        try:
            must.append(parse_path(p))
        except ValueError as exc:
            err(f"{base}/must_include/{j}", str(exc), "path")
    types: list[tuple[FieldPath, str]] = []
    types_raw = raw.get("types", {})
    if not isinstance(types_raw, dict):
        err(f"{base}/types", "types must map dotted paths to a type (url, string, ...)", "types")
        types_raw = {}
    for p, t in types_raw.items():
        ptr = f"{base}/types/{str(p).replace('~', '~0').replace('/', '~1')}"
        try:
            fp = parse_path(p)
        except ValueError as exc:
            err(ptr, str(exc), "path")
            continue
        if t not in TYPES:
            err(ptr, f"unknown type {t!r} for {p}; use one of {', '.join(TYPES)}", "types")
            continue
        types.append((fp, str(t)))
    return must, types


def _ask_settings(
    raw: dict[str, Any], base: str, endpoint: Endpoint | None, err: Any
) -> tuple[tuple[tuple[str, str], ...], tuple[str, str | None] | None]:
    """A /v1/ask expectation's ``questions`` (live check) and ``refusal`` ({question, text})."""
    is_ask = endpoint is not None and endpoint.kind == "ask"
    for key in ("questions", "refusal"):
        if key in raw and not is_ask:
            err(f"{base}/{key}", f"{key} belongs to an expectation on {ASK}", key)
    if not is_ask:
        return (), None
    questions: list[tuple[str, str]] = []
    for i, q in enumerate(raw.get("questions") or []):
        q = {"question": q} if isinstance(q, str) else q
        if not isinstance(q, dict) or not isinstance(q.get("question"), str) or not q["question"].strip():
            err(f"{base}/questions/{i}", "a question is a string or {question, locale}", "questions")
            continue
        questions.append((q["question"], str(q.get("locale") or "en")))
    refusal = None
    if "refusal" in raw:
        r = raw["refusal"]
        if not isinstance(r, dict) or not isinstance(r.get("question"), str) or set(r) - {"question", "text"}:
            err(f"{base}/refusal", "refusal is {question, text}: a question the answer must refuse", "refusal")
        elif "text" in r and not isinstance(r["text"], str):
            err(f"{base}/refusal/text", "text is the refusal the consumer expects, a string", "refusal")
        else:
            refusal = (r["question"], r.get("text"))
    return tuple(questions), refusal
