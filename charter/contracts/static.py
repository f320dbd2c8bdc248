"""``charter contracts check``: contracts verified against the content types, with no server.

For every expectation: the endpoint's content type exists; its version satisfies the range; each
``must_include`` path is guaranteed (the field and every field above it required, in every
branch of a oneOf/anyOf, the intent present); each ``types`` path has that type wherever it can
occur. Locale fallback applies field by field from the default locale, which always holds the
whole document, so a guarantee in the schema holds in every locale; a contract naming a locale
the type does not serve fails.
"""

from __future__ import annotations

from typing import Any

from charter.contracts.model import Contract, ContractFileError, Expectation
from charter.contracts.report import ContractFailure, ContractReport
from charter.contracts.resolve import SchemaWalker, schema_type_problem
from charter.exceptions import ErrorDetail
from charter.schemas.registry import ContentType, LocaleRules, Registry


def _expectation_failures(
    contract: Contract, exp: Expectation, schema: dict[str, Any], version: str | None
) -> list[tuple[str, str, str]]:
    """(field, kind, message) for everything the schema does not guarantee."""
    out: list[tuple[str, str, str]] = []
    if exp.version is not None and version is not None and not exp.version.satisfied_by(version):
        out.append(
            (
                "",
                "version",
                f"expects {exp.endpoint.content_type} {exp.version} but it is {version}; the consumer must "
                f"update its contract or pin the old major (Charter-Schema header)",
            )
        )
    walker = SchemaWalker(schema)
    rules = LocaleRules.from_dict((schema.get("x-charter") or {}).get("locales"))
    for loc in exp.locales or ():
        if loc not in rules.supported:
            out.append(("", "locale", f"locale {loc!r} is not served by {exp.endpoint.content_type}"))
    for path in exp.must_include:
        for leaf in walker.leaves(schema, path):
            if not leaf.guaranteed:
                kind = "missing" if leaf.schema is None else "optional"
                out.append((path.text, kind, f"not guaranteed: {leaf.reason}"))
                break
    for path, wanted in exp.types:
        for leaf in walker.leaves(schema, path):
            if leaf.schema is None:
                if path not in exp.must_include:
                    out.append((path.text, "missing", f"cannot be typed: {leaf.reason}"))
                break
            types, formats = walker.types_of(leaf.schema)
            problem = schema_type_problem(types, formats, wanted)
            if problem:
                out.append((path.text, "type", f"{leaf.trail} {problem}"))
                break
    return out


def _pin(exp: Expectation, name: str) -> str | None:
    """The schema id an expectation pins with a ``Charter-Schema`` header, for type ``name``."""
    for key, value in exp.headers:
        if key.lower() == "charter-schema":
            for part in value.split(","):
                if part.strip().rsplit(".v", 1)[0] == name:
                    return part.strip()
    return None


def check_contracts(
    contracts: list[Contract],
    registry: Registry,
    *,
    baseline: dict[str, dict[str, Any]] | None = None,
    pinned: dict[str, dict[str, Any]] | None = None,
) -> ContractReport:
    """Static verification of ``contracts`` against ``registry``. With ``baseline`` (name ->
    schema of the last release) each failure says whether this change ``introduced`` it.

    An expectation that pins an older major (``headers: {Charter-Schema: page.v1}``) is checked
    against that major's last released schema from ``pinned`` (schema id -> schema), which is
    what the delivery API serves it until the sunset; when that major was never released it fails.

    Raises ContractFileError (with file and pointer) for an endpoint naming an unknown type."""
    report = ContractReport("static", [c.file for c in contracts])
    errors: list[ErrorDetail] = []
    for contract in contracts:
        for exp in contract.expects:
            name = exp.endpoint.content_type
            if name not in registry:
                errors.append(
                    ErrorDetail(
                        f"{exp.pointer}/endpoint",
                        f"{exp.endpoint.template} names content type {name!r}, which this project does not have "
                        f"(types: {', '.join(sorted(t.name for t in registry))})",
                        "endpoint",
                        contract.file,
                    )
                )
                continue
            ct: ContentType = registry.get(name)
            report.checked += 1
            schema, version = ct.schema, ct.version
            pin = _pin(exp, name)
            if pin is not None and pin != ct.schema_id:
                old_major = (pinned or {}).get(pin)
                if old_major is None:
                    report.failures.append(
                        ContractFailure(
                            contract.consumer,
                            contract.provider,
                            contract.file,
                            exp.endpoint.template,
                            "",
                            f"pins {pin}, which was never released ({name} is {ct.schema_id})",
                            "version",
                        )
                    )
                    continue
                schema, version = old_major, str(old_major.get("version", ""))
            before: set[tuple[str, str]] | None = None
            if baseline is not None and name in baseline and (pin is None or pin == ct.schema_id):
                old = baseline[name]
                before = {(f, k) for f, k, _ in _expectation_failures(contract, exp, old, str(old.get("version", "")))}
            for field, kind, message in _expectation_failures(contract, exp, schema, version):
                report.failures.append(
                    ContractFailure(
                        consumer=contract.consumer,
                        provider=contract.provider,
                        file=contract.file,
                        endpoint=exp.endpoint.template,
                        field=field,
                        message=message,
                        kind=kind,
                        introduced=None if before is None else (field, kind) not in before,
                    )
                )
    if errors:
        raise ContractFileError(detail=f"{len(errors)} unknown endpoint(s) in contracts", errors=errors)
    return report
