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

from charter.contracts.guarantees import expectation_failures
from charter.contracts.model import Contract, ContractFileError, Expectation
from charter.contracts.report import ContractFailure, ContractReport
from charter.exceptions import ErrorDetail
from charter.schemas.registry import ContentType, Registry


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
    project = registry.directory.parent if registry.directory is not None else None
    for contract in contracts:
        for exp in contract.expects:
            if exp.endpoint.kind in ("ask", "tool"):
                from charter.contracts.llm import static_failures

                report.checked += 1
                for field, kind, message in static_failures(contract, exp, project):
                    report.failures.append(
                        ContractFailure(
                            contract.consumer,
                            contract.provider,
                            contract.file,
                            exp.endpoint.template,
                            field,
                            message,
                            kind,
                        )
                    )
                continue
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
                before = {(f, k) for f, k, _ in expectation_failures(contract, exp, old, str(old.get("version", "")))}
            for field, kind, message in expectation_failures(contract, exp, schema, version):
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
