"""``tools/*.yaml``: one tool per file, many versions, each with the JSON Schema of its arguments
and of its result.

A file::

    name: lookup_plan
    description: Look up a pricing plan by its slug.
    risk: low                       # low | medium | high (recorded with every call that offers it)
    offer:                          # who may offer it; an absent list means anyone
      keys: [website]               # gateway client key names (configs/model.yaml)
      routes: [default, answer]     # the route or model a request names
      prompts: [support-answer]     # registry prompts
    versions:
      1.0.0:
        changelog: First version.
        arguments: {type: object, ...}
        result: {type: object, ...}  # optional: tool results are then validated too

A request offers a registered tool by sending exactly the ``arguments`` schema of one of its
versions as the function's ``parameters`` (``charter tools show NAME --openai`` prints it); any
other definition under that name has drifted and is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema_rs
import orjson
import yaml
from jsonschema import Draft202012Validator, SchemaError

from charter.exceptions import ConfigError, ErrorDetail, NotFound
from charter.schemas.compat.semver import SemverError, Version
from charter.schemas.validation import FORMAT_CHECKER, make_validator

if TYPE_CHECKING:
    from charter.gateway.config import GatewayConfig

#: OpenAI's rule for function names.
NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
RISKS = ("low", "medium", "high")
TOOL_KEYS = frozenset({"name", "description", "risk", "offer", "versions", "max_argument_bytes"})
VERSION_KEYS = frozenset({"changelog", "arguments", "result", "description"})
#: Arguments larger than this (bytes of JSON) are refused, whoever sent them.
MAX_ARGUMENT_BYTES = 16_384


def canonical(schema: Any) -> bytes:
    """The JSON of ``schema`` with sorted keys: two definitions are the same when these are equal."""
    return orjson.dumps(schema, option=orjson.OPT_SORT_KEYS)


@dataclass(frozen=True)
class ToolVersion:
    """One released shape of a tool."""

    name: str
    version: str
    changelog: str
    description: str
    arguments: dict[str, Any]
    result: dict[str, Any] | None
    fingerprint: bytes = field(repr=False)
    arguments_validator: Draft202012Validator = field(repr=False, compare=False)
    result_validator: Draft202012Validator | None = field(repr=False, compare=False)
    #: Compiled twins of the validators: the hot path asks them first (microseconds) and asks
    #: ``jsonschema`` only for the located error messages of a document they refuse.
    arguments_fast: Any = field(repr=False, compare=False, default=None)
    result_fast: Any = field(repr=False, compare=False, default=None)

    def definition(self) -> dict[str, Any]:
        """The OpenAI ``tools`` item that offers this version."""
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": self.arguments},
        }


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    risk: str
    keys: tuple[str, ...]
    routes: tuple[str, ...]
    prompts: tuple[str, ...]
    versions: dict[str, ToolVersion]  # oldest first
    path: Path | None = None
    max_argument_bytes: int = MAX_ARGUMENT_BYTES

    @property
    def latest(self) -> ToolVersion:
        return next(reversed(self.versions.values()))

    def match(self, parameters: Any) -> ToolVersion | None:
        """The version whose arguments schema is exactly ``parameters``; None when it drifted."""
        fingerprint = canonical(parameters)
        return next((v for v in reversed(self.versions.values()) if v.fingerprint == fingerprint), None)

    def refusal(self, key: str, route: str, prompt: str | None) -> str | None:
        """Why this tool may not be offered by ``key`` on ``route`` (for ``prompt``); None when it may."""
        if self.keys and key not in self.keys:
            return f"the key {key!r} may not offer the tool {self.name!r}"
        if self.routes and route not in self.routes:
            return f"the tool {self.name!r} may not be offered on {route!r} (allowed: {', '.join(self.routes)})"
        if self.prompts and prompt is not None and prompt not in self.prompts:
            return f"the prompt {prompt!r} may not offer the tool {self.name!r}"
        return None


def compiled(schema: dict[str, Any]) -> Any:
    """A ``jsonschema_rs`` validator asserting the same formats as :data:`FORMAT_CHECKER`."""
    url = FORMAT_CHECKER.checkers["url"][0]
    return jsonschema_rs.validator_for(schema, validate_formats=True, formats={"url": url})


def _problem(path: Path, pointer: str, message: str) -> ErrorDetail:
    return ErrorDetail(pointer, message, file=str(path))


def _names(raw: Any, path: Path, pointer: str, errors: list[ErrorDetail]) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(x, str) and x for x in raw):
        errors.append(_problem(path, pointer, "a list of names"))
        return ()
    return tuple(raw)


def _schema(raw: Any, path: Path, pointer: str, errors: list[ErrorDetail]) -> Draft202012Validator | None:
    if not isinstance(raw, dict):
        errors.append(_problem(path, pointer, "a JSON Schema (a mapping)"))
        return None
    try:
        Draft202012Validator.check_schema(raw)
    except SchemaError as exc:
        errors.append(_problem(path, pointer, f"not a valid JSON Schema: {exc.message}"))
        return None
    return make_validator(raw)


def parse_tool(raw: Any, path: Path) -> tuple[Tool | None, list[ErrorDetail]]:
    """The tool in one file's YAML document, or the problems found (file and pointer each)."""
    errors: list[ErrorDetail] = []
    if not isinstance(raw, dict):
        return None, [_problem(path, "", "a tool file is a mapping (name, description, versions, ...)")]
    for k in raw:
        if k not in TOOL_KEYS:
            errors.append(_problem(path, f"/{k}", f"unknown key (allowed: {', '.join(sorted(TOOL_KEYS))})"))
    name = raw.get("name")
    if not isinstance(name, str) or not NAME.match(name):
        errors.append(_problem(path, "/name", "a name of letters, digits, _ and - (at most 64)"))
        name = path.stem
    elif name != path.stem:
        errors.append(_problem(path, "/name", f"the file of tool {name!r} is tools/{name}.yaml"))
    description = raw.get("description")
    if not isinstance(description, str) or not description.strip():
        errors.append(_problem(path, "/description", "say what the tool does (the model reads it)"))
        description = ""
    risk = raw.get("risk", "low")
    if risk not in RISKS:
        errors.append(_problem(path, "/risk", f"risk is one of {', '.join(RISKS)}"))
    offer = raw.get("offer") or {}
    if not isinstance(offer, dict) or any(k not in ("keys", "routes", "prompts") for k in offer):
        errors.append(_problem(path, "/offer", "offer is a mapping of keys, routes and prompts lists"))
        offer = {}
    max_bytes = raw.get("max_argument_bytes", MAX_ARGUMENT_BYTES)
    if not isinstance(max_bytes, int) or isinstance(max_bytes, bool) or not 2 <= max_bytes <= 1_048_576:
        errors.append(_problem(path, "/max_argument_bytes", "a whole number of bytes from 2 to 1048576"))
        max_bytes = MAX_ARGUMENT_BYTES
    versions_raw = raw.get("versions")
    versions: dict[str, ToolVersion] = {}
    if not isinstance(versions_raw, dict) or not versions_raw:
        errors.append(_problem(path, "/versions", "at least one version (1.0.0: {changelog, arguments, result})"))
        versions_raw = {}
    parsed: list[tuple[Version, ToolVersion]] = []
    for number, v in versions_raw.items():
        ptr = f"/versions/{number}"
        try:
            semver = Version.parse(str(number))
        except SemverError as exc:
            errors.append(_problem(path, ptr, exc.detail))
            continue
        if not isinstance(v, dict):
            errors.append(_problem(path, ptr, "a version is a mapping (changelog, arguments, result)"))
            continue
        for k in v:
            if k not in VERSION_KEYS:
                errors.append(_problem(path, f"{ptr}/{k}", f"unknown key (allowed: {', '.join(sorted(VERSION_KEYS))})"))
        changelog = v.get("changelog")
        if not isinstance(changelog, str) or not changelog.strip():
            errors.append(_problem(path, f"{ptr}/changelog", "say what changed in this version"))
        arguments = v.get("arguments")
        arguments_validator = _schema(arguments, path, f"{ptr}/arguments", errors)
        if isinstance(arguments, dict) and arguments.get("type") != "object":
            errors.append(_problem(path, f"{ptr}/arguments/type", "tool arguments are an object (type: object)"))
        result = v.get("result")
        result_validator = _schema(result, path, f"{ptr}/result", errors) if result is not None else None
        if arguments_validator is None or not isinstance(arguments, dict):
            continue
        parsed.append(
            (
                semver,
                ToolVersion(
                    name=str(name),
                    version=str(semver),
                    changelog=str(changelog or ""),
                    description=str(v.get("description") or description),
                    arguments=arguments,
                    result=result if isinstance(result, dict) else None,
                    fingerprint=canonical(arguments),
                    arguments_validator=arguments_validator,
                    result_validator=result_validator,
                    arguments_fast=compiled(arguments),
                    result_fast=compiled(result) if isinstance(result, dict) and result_validator else None,
                ),
            )
        )
    for _, tv in sorted(parsed, key=lambda p: p[0]):
        versions[tv.version] = tv
    if errors:
        return None, errors
    return (
        Tool(
            name=str(name),
            description=str(description),
            risk=str(risk),
            keys=_names(offer.get("keys"), path, "/offer/keys", errors),
            routes=_names(offer.get("routes"), path, "/offer/routes", errors),
            prompts=_names(offer.get("prompts"), path, "/offer/prompts", errors),
            versions=versions,
            path=path,
            max_argument_bytes=max_bytes,
        ),
        errors,
    )


@dataclass
class ToolRegistry:
    """Every tool of a project, by name."""

    tools: dict[str, Tool] = field(default_factory=dict)
    directory: Path | None = None

    @classmethod
    def load(cls, directory: Path) -> ToolRegistry:
        """Read ``directory/*.yaml`` (none is an empty registry); :class:`ConfigError` listing
        every problem of every file."""
        registry = cls(directory=directory)
        if not directory.is_dir():
            return registry
        errors: list[ErrorDetail] = []
        for path in sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")]):
            try:
                raw = yaml.safe_load(path.read_text(encoding="utf-8"))
            except (yaml.YAMLError, UnicodeDecodeError) as exc:
                errors.append(_problem(path, "", f"not valid YAML: {exc}"))
                continue
            tool, problems = parse_tool(raw, path)
            errors += problems
            if tool is not None:
                if tool.name in registry.tools:
                    errors.append(_problem(path, "/name", f"tool {tool.name!r} is declared twice"))
                registry.tools[tool.name] = tool
        if errors:
            raise ConfigError(detail=f"{len(errors)} problem(s) in tools/", errors=errors)
        return registry

    def check(self, config: GatewayConfig) -> None:
        """Every key and route a tool names exists in the gateway's configuration."""
        key_names = {k.name for k in config.keys.values()} | {"anonymous", "api-token"}
        errors: list[ErrorDetail] = []
        for tool in self.tools.values():
            path = tool.path or Path(f"tools/{tool.name}.yaml")
            errors += [
                _problem(path, "/offer/keys", f"unknown key {k!r} (keys in configs/model.yaml)")
                for k in tool.keys
                if k not in key_names
            ]
            errors += [
                _problem(path, "/offer/routes", f"unknown route or model {r!r}")
                for r in tool.routes
                if r not in config.routes and r not in config.models
            ]
        if errors:
            raise ConfigError(detail=f"{len(errors)} problem(s) in tools/", errors=errors)

    def get(self, name: str) -> Tool:
        tool = self.tools.get(name)
        if tool is None:
            raise NotFound(f"no tool {name!r} (tools/{name}.yaml)")
        return tool

    def version(self, name: str, version: str | None) -> ToolVersion:
        tool = self.get(name)
        if version is None:
            return tool.latest
        found = tool.versions.get(version)
        if found is None:
            raise NotFound(f"tool {name!r} has no version {version!r} (versions: {', '.join(tool.versions)})")
        return found
