"""One content type: its schema, its locale rules and how entry data resolves per locale
(the file format is described in :mod:`charter.schemas.registry`)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from charter.exceptions import ErrorDetail
from charter.schemas.validation import iter_errors, make_validator


@dataclass(frozen=True)
class LocaleRules:
    default: str = "en"
    required: tuple[str, ...] = ("en",)
    fallbacks: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, raw: dict[str, Any] | None) -> LocaleRules:
        raw = raw or {}
        default = raw.get("default", "en")
        return cls(
            default=default,
            required=tuple(raw.get("required", [default])),
            fallbacks={k: tuple(v) for k, v in (raw.get("fallbacks") or {}).items()},
        )

    @cached_property
    def supported(self) -> tuple[str, ...]:
        seen: dict[str, None] = {self.default: None}
        for loc in self.required:
            seen[loc] = None
        for loc, chain in self.fallbacks.items():
            seen[loc] = None
            for c in chain:
                seen[c] = None
        return tuple(seen)

    def chain(self, locale: str) -> tuple[str, ...]:
        """The locales to look in, in order, for ``locale``: itself, its fallbacks, the default."""
        out: dict[str, None] = {locale: None}
        for c in self.fallbacks.get(locale, ()):
            out[c] = None
        out[self.default] = None
        return tuple(out)


@dataclass
class ContentType:
    name: str
    major: int
    version: str
    schema: dict[str, Any]
    path: Path | None = None

    @property
    def schema_id(self) -> str:
        return f"{self.name}.v{self.major}"

    @cached_property
    def options(self) -> dict[str, Any]:
        opts = self.schema.get("x-charter") or {}
        return opts if isinstance(opts, dict) else {}

    @cached_property
    def locales(self) -> LocaleRules:
        return LocaleRules.from_dict(self.options.get("locales"))

    @cached_property
    def localized(self) -> frozenset[str]:
        return frozenset(self.options.get("localized", []))

    @property
    def slug_field(self) -> str | None:
        return self.options.get("slug")

    @property
    def domain(self) -> str:
        return str(self.options.get("domain", self.name))

    @property
    def policy(self) -> str:
        from charter.schemas.compat.model import DEFAULT_POLICY

        return str(self.options.get("policy", DEFAULT_POLICY))

    @cached_property
    def fingerprint(self) -> str:
        return hashlib.sha256(json.dumps(self.schema, sort_keys=True).encode()).hexdigest()

    @cached_property
    def _validator(self) -> Any:
        return make_validator(self.schema)

    @cached_property
    def references(self) -> dict[str, str]:
        """Top-level fields holding entry references (``x-charter-ref``), field -> target type.
        Arrays of references are included (the ``items`` carry the keyword)."""
        refs: dict[str, str] = {}
        for name, prop in (self.schema.get("properties") or {}).items():
            if not isinstance(prop, dict):
                continue
            target = prop.get("x-charter-ref") or (prop.get("items") or {}).get("x-charter-ref")
            if target:
                refs[name] = str(target)
        return refs

    def validate_document(self, doc: Any, prefix: tuple[Any, ...] = ()) -> list[ErrorDetail]:
        """Errors of one full document against the schema (empty when valid)."""
        return iter_errors(self._validator, doc, prefix)

    def validate(self, data: Any) -> list[ErrorDetail]:
        """Errors of per-locale entry data ``{locale: document}``, every pointer rooted at the locale."""
        if not isinstance(data, dict):
            return [ErrorDetail("", "entry data must be an object keyed by locale", "type")]
        rules = self.locales
        errors: list[ErrorDetail] = []
        for loc in data:
            if loc not in rules.supported:
                errors.append(
                    ErrorDetail(f"/{loc}", f"unknown locale {loc!r}; {self.name} supports {', '.join(rules.supported)}")
                )
        if rules.default not in data:
            errors.append(
                ErrorDetail(f"/{rules.default}", f"the default locale {rules.default!r} is required", "required")
            )
            return errors
        default_doc = data[rules.default]
        errors.extend(self.validate_document(default_doc, (rules.default,)))
        for loc, doc in data.items():
            if loc == rules.default or loc not in rules.supported:
                continue
            if not isinstance(doc, dict):
                errors.append(ErrorDetail(f"/{loc}", "locale values must be an object", "type"))
                continue
            for key in doc:
                if key not in self.localized:
                    errors.append(ErrorDetail(f"/{loc}/{key}", f"field {key!r} is not localised in {self.name}"))
            resolved, _ = self.resolve(data, loc)
            own = set(doc)
            for err in self.validate_document(resolved):
                first = err.pointer.split("/")[1] if err.pointer.count("/") >= 1 else ""
                if first in own:
                    errors.append(ErrorDetail(f"/{loc}{err.pointer}", err.message, err.keyword))
        required_fields = [f for f in self.schema.get("required", []) if f in self.localized]
        for loc in rules.required:
            if loc == rules.default:
                continue
            doc = data.get(loc)
            if not isinstance(doc, dict):
                errors.append(ErrorDetail(f"/{loc}", f"locale {loc!r} is required for {self.name}", "required"))
                continue
            for f in required_fields:
                if f not in doc:
                    errors.append(
                        ErrorDetail(f"/{loc}/{f}", f"{f!r} is required in the required locale {loc!r}", "required")
                    )
        return errors

    def resolve(self, data: dict[str, Any], locale: str | None = None) -> tuple[dict[str, Any], str]:
        """The document for ``locale`` with fallbacks applied field by field, and the locale that
        supplied it (the first locale in the chain that has any value of its own)."""
        rules = self.locales
        locale = locale or rules.default
        base = data.get(rules.default) or {}
        chain = rules.chain(locale)
        if locale == rules.default or not self.localized:
            return dict(base), rules.default
        doc = dict(base)
        resolved_locale = rules.default
        for loc in reversed(chain):
            values = data.get(loc)
            if not values:
                continue
            for key in self.localized:
                if key in values:
                    doc[key] = values[key]
        for loc in chain:
            if data.get(loc):
                resolved_locale = loc
                break
        return doc, resolved_locale
