"""``prompts/*.yaml``: one prompt per file, many versions, each a sandboxed Jinja2 template.

A version's content is fingerprinted (SHA-256 of its canonical JSON); once a version is released
(first promoted to a label) its fingerprint is stored and any later edit of that version on disk
is refused: released versions are immutable, a change is a new version.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema
import orjson
import yaml
from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from charter.exceptions import ConfigError, ErrorDetail, NotFound, ValidationFailed
from charter.gateway.risk import RiskRules

if TYPE_CHECKING:
    from charter.gateway.config import GatewayConfig
    from charter.schemas.registry import Registry

SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?$")
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")
ROLES = ("system", "user", "assistant", "developer")
REQUIRED = re.compile(r"^'(.+)' is a required property$")


def semver_key(version: str) -> tuple[int, int, int, int, str]:
    m = SEMVER.match(version)
    if not m:
        raise ValueError(version)
    # A pre-release sorts before its release (SemVer 2.0.0 §11).
    return int(m[1]), int(m[2]), int(m[3]), 0 if m[4] else 1, m[4] or ""


def _env() -> SandboxedEnvironment:
    return SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)


@dataclass(frozen=True)
class OutputSpec:
    schema_id: str  # a content type $id such as pricing-plan.v1
    locale: str | None = None
    save_draft: bool = True
    auto_publish: bool = False  # only ever for low-risk items


@dataclass
class PromptVersion:
    name: str
    version: str
    route: str
    messages: list[tuple[str, Any]]  # (role, compiled template)
    sources: list[dict[str, str]]  # the raw templates, for show/diff
    variables: dict[str, Any]
    output: OutputSpec | None
    changelog: str
    thresholds: dict[str, dict[str, float]]
    params: dict[str, Any]
    risk: RiskRules
    fingerprint: str
    raw: dict[str, Any] = field(repr=False, default_factory=dict)

    def render(self, variables: dict[str, Any]) -> list[dict[str, Any]]:
        """The chat messages for ``variables``; :class:`ValidationFailed` if they do not match the
        version's variables schema or the template needs one that is missing."""
        validator = jsonschema.Draft202012Validator(self.variables)
        errors = []
        for e in validator.iter_errors(variables):
            path = [str(p) for p in e.absolute_path]
            missing = REQUIRED.match(e.message) if e.validator == "required" else None
            if missing:  # point at the missing variable itself, not at its parent
                path.append(missing.group(1))
            pointer = "/variables" + "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in path)
            errors.append(ErrorDetail(pointer, e.message, str(e.validator)))
        if errors:
            raise ValidationFailed(detail=f"variables do not match prompt {self.name}@{self.version}", errors=errors)
        try:
            return [{"role": role, "content": t.render(**variables).strip()} for role, t in self.messages]
        except TemplateError as exc:
            raise ValidationFailed(
                detail=f"prompt {self.name}@{self.version} could not be rendered: {exc}",
                errors=[ErrorDetail("/variables", str(exc), "template")],
            ) from None


@dataclass
class Flag:
    """Serve ``serve`` (a label or a version) to requests matching every condition given."""

    name: str
    serve: str
    percentage: float | None = None
    locales: tuple[str, ...] = ()
    markets: tuple[str, ...] = ()
    users: frozenset[str] = frozenset()  # HMAC user hashes (a cohort)


@dataclass
class Prompt:
    name: str
    description: str
    path: Path
    versions: dict[str, PromptVersion]  # ascending semver
    flags: list[Flag]

    def get(self, version: str) -> PromptVersion:
        try:
            return self.versions[version]
        except KeyError:
            raise NotFound(
                f"prompt {self.name!r} has no version {version!r} (versions: {', '.join(self.versions)})"
            ) from None

    @property
    def latest(self) -> PromptVersion:
        return list(self.versions.values())[-1]


def _fingerprint(raw: dict[str, Any]) -> str:
    return hashlib.sha256(orjson.dumps(raw, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _fail(path: Path, pointer: str, message: str) -> ConfigError:
    return ConfigError(detail=f"{path}: {message}", errors=[ErrorDetail(pointer, message, file=str(path))])


def parse_prompt(path: Path) -> Prompt:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise _fail(path, "", f"not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise _fail(path, "", "a prompt file is a mapping")
    name = str(raw.get("name") or path.stem)
    if not NAME.match(name):
        raise _fail(path, "/name", f"bad prompt name {name!r} (lower-case letters, digits, - and _)")
    base_eval = (raw.get("eval") or {}).get("thresholds") or {}
    base_risk = (raw.get("risk") or {}).get("rules")
    versions_raw = raw.get("versions")
    if not isinstance(versions_raw, dict) or not versions_raw:
        raise _fail(path, "/versions", "declare at least one version, keyed by semver")
    env = _env()
    versions: dict[str, PromptVersion] = {}
    for version in sorted((str(v) for v in versions_raw), key=lambda v: semver_key(v) if SEMVER.match(v) else (0,)):
        ptr = f"/versions/{version}"
        if not SEMVER.match(version):
            raise _fail(path, ptr, f"version {version!r} is not semver (MAJOR.MINOR.PATCH)")
        v = versions_raw[version] if version in versions_raw else versions_raw[_orig_key(versions_raw, version)]
        if not isinstance(v, dict):
            raise _fail(path, ptr, "a version is a mapping")
        sources: list[dict[str, str]] = []
        if v.get("messages"):
            for i, m in enumerate(v["messages"]):
                if not isinstance(m, dict) or m.get("role") not in ROLES or not isinstance(m.get("content"), str):
                    raise _fail(
                        path,
                        f"{ptr}/messages/{i}",
                        f"each message needs a role ({', '.join(ROLES)}) and a content template",
                    )
                sources.append({"role": m["role"], "content": m["content"]})
        else:
            if v.get("system"):
                sources.append({"role": "system", "content": str(v["system"])})
            if not v.get("template"):
                raise _fail(path, f"{ptr}/template", "a version needs 'template' (the user message) or 'messages'")
            sources.append({"role": "user", "content": str(v["template"])})
        compiled = []
        for i, s in enumerate(sources):
            try:
                compiled.append((s["role"], env.from_string(s["content"])))
            except TemplateError as exc:
                raise _fail(path, f"{ptr}/messages/{i}", f"template error: {exc}") from exc
        variables = v.get("variables") or {"type": "object"}
        try:
            jsonschema.Draft202012Validator.check_schema(variables)
        except jsonschema.SchemaError as exc:
            raise _fail(path, f"{ptr}/variables", f"not a valid JSON Schema: {exc.message}") from exc
        output = None
        if v.get("output"):
            o = v["output"] if isinstance(v["output"], dict) else {"schema": v["output"]}
            if not o.get("schema"):
                raise _fail(path, f"{ptr}/output/schema", "name a content type $id, e.g. pricing-plan.v1")
            output = OutputSpec(
                str(o["schema"]), o.get("locale"), bool(o.get("save_draft", True)), bool(o.get("auto_publish", False))
            )
        thresholds = {**base_eval, **((v.get("eval") or {}).get("thresholds") or {})}
        for metric, bound in thresholds.items():
            if not isinstance(bound, dict) or not set(bound) <= {"min", "max"} or not bound:
                raise _fail(path, f"{ptr}/eval/thresholds/{metric}", "a threshold is {min: n} and/or {max: n}")
        if not v.get("route"):
            raise _fail(path, f"{ptr}/route", "a version needs a route (or model) name")
        risk_raw = (v.get("risk") or {}).get("rules", base_risk)
        try:
            risk = RiskRules.from_config(risk_raw, f"{path}#{ptr}/risk")
        except ConfigError as exc:
            raise _fail(path, f"{ptr}/risk", str(exc)) from exc
        versions[version] = PromptVersion(
            name=name,
            version=version,
            route=str(v["route"]),
            messages=compiled,
            sources=sources,
            variables=variables,
            output=output,
            changelog=str(v.get("changelog") or "").strip(),
            thresholds={k: {b: float(x) for b, x in bound.items()} for k, bound in thresholds.items()},
            params=dict(v.get("params") or {}),
            risk=risk,
            fingerprint=_fingerprint({**v, "_eval": base_eval, "_risk": base_risk}),
            raw=v,
        )
        if not versions[version].changelog:
            raise _fail(path, f"{ptr}/changelog", "every version needs a changelog entry")
    flags = []
    for i, f in enumerate(raw.get("flags") or []):
        if not isinstance(f, dict) or not f.get("name") or not f.get("serve"):
            raise _fail(path, f"/flags/{i}", "a flag needs a name and 'serve' (a label or a version)")
        pct = f.get("percentage")
        if pct is not None and not 0 <= float(pct) <= 100:
            raise _fail(path, f"/flags/{i}/percentage", "percentage is between 0 and 100")
        flags.append(
            Flag(
                str(f["name"]),
                str(f["serve"]),
                float(pct) if pct is not None else None,
                tuple(str(x) for x in f.get("locales") or ()),
                tuple(str(x) for x in f.get("markets") or ()),
                frozenset(str(x) for x in f.get("users") or ()),
            )
        )
    return Prompt(name, str(raw.get("description") or ""), path, versions, flags)


def _orig_key(mapping: dict[Any, Any], version: str) -> Any:
    return next(k for k in mapping if str(k) == version)


def directory_stamp(directory: Path) -> tuple[tuple[str, int, int], ...]:
    """Names, sizes and modification times of the prompt files: changes when any file does."""
    if not directory.is_dir():
        return ()
    out = []
    for path in sorted(directory.glob("*.y*ml")):
        try:
            st = path.stat()
        except OSError:
            continue
        out.append((path.name, st.st_size, st.st_mtime_ns))
    return tuple(out)


class PromptRegistry:
    """Every prompt of a project, by name."""

    def __init__(self, prompts: dict[str, Prompt], directory: Path) -> None:
        self.prompts = prompts
        self.directory = directory

    @classmethod
    def load(cls, directory: Path) -> PromptRegistry:
        prompts: dict[str, Prompt] = {}
        for path in sorted(directory.glob("*.y*ml")) if directory.is_dir() else []:
            prompt = parse_prompt(path)
            if prompt.name in prompts:
                raise _fail(path, "/name", f"prompt {prompt.name!r} is also defined in {prompts[prompt.name].path}")
            prompts[prompt.name] = prompt
        return cls(prompts, directory)

    def get(self, name: str) -> Prompt:
        try:
            return self.prompts[name]
        except KeyError:
            raise NotFound(f"no prompt named {name!r}") from None

    def check(self, gateway: GatewayConfig, types: Registry) -> None:
        """Every version's route must exist in model.yaml and its output schema in content-types/."""
        errors: list[ErrorDetail] = []
        for prompt in self.prompts.values():
            for pv in prompt.versions.values():
                ptr = f"/versions/{pv.version}"
                try:
                    gateway.resolve(pv.route)
                except KeyError:
                    errors.append(
                        ErrorDetail(
                            f"{ptr}/route",
                            f"unknown route or model {pv.route!r} (see configs/model.yaml)",
                            file=str(prompt.path),
                        )
                    )
                if pv.output is not None:
                    try:
                        types.get(pv.output.schema_id)
                    except NotFound:
                        errors.append(
                            ErrorDetail(
                                f"{ptr}/output/schema",
                                f"unknown content type {pv.output.schema_id!r}",
                                file=str(prompt.path),
                            )
                        )
        if errors:
            raise ConfigError(detail=f"{len(errors)} problem(s) in prompts/", errors=errors)
