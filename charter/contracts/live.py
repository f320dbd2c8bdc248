"""``charter contracts verify --provider URL``: contracts checked against a running provider.

For each expectation the verifier lists the published entries of the endpoint's content type
(``/v1/entries/<type>``, following ``next_cursor``), fetches each one in each locale (the
expectation's ``locales``, else the type's locales from the local project, else the default) and
checks the envelope's ``schema.version`` against the range, every ``must_include`` path (present
and not null) and every ``types`` path. Every failure names consumer, endpoint, entry, locale and
field. Network failures are reported as failures, never raised.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from charter import egress
from charter.contracts.llm import LiveChecker
from charter.contracts.model import Contract, Expectation
from charter.contracts.report import ContractFailure, ContractReport
from charter.contracts.resolve import find, value_has_type
from charter.exceptions import BadRequest
from charter.observability.propagation import inject
from charter.schemas.compat.semver import SemverError, Version
from charter.schemas.intents import KNOWN_INTENTS
from charter.schemas.registry import Registry

PAGE_LIMIT = 100


class _Verifier:
    def __init__(
        self, client: httpx.Client, report: ContractReport, max_entries: int | None, intents: frozenset[str]
    ) -> None:
        self.intents = intents
        self.client = client
        self.report = report
        self.max_entries = max_entries

    def fail(
        self,
        contract: Contract,
        exp: Expectation,
        field: str,
        kind: str,
        message: str,
        entry: str | None = None,
        locale: str | None = None,
    ) -> None:
        self.report.failures.append(
            ContractFailure(
                contract.consumer,
                contract.provider,
                contract.file,
                exp.endpoint.template,
                field,
                message,
                kind,
                entry,
                locale,
            )
        )

    def get(
        self,
        contract: Contract,
        exp: Expectation,
        url: str,
        params: dict[str, Any],
        entry: str | None,
        locale: str | None,
    ) -> Any | None:
        try:
            # The admin's check runs inside its request's span: the provider's spans join that trace.
            response = self.client.get(url, params=params, headers=inject(dict(exp.headers)))
        except httpx.HTTPError as exc:
            self.fail(contract, exp, "", "unreachable", f"GET {url} failed: {exc}", entry, locale)
            return None
        if response.status_code != 200:
            detail = ""
            if response.headers.get("content-type", "").startswith("application/problem+json"):
                detail = ": " + str(response.json().get("detail", ""))
            self.fail(contract, exp, "", "http", f"GET {url} answered {response.status_code}{detail}", entry, locale)
            return None
        try:
            return response.json()
        except ValueError:
            self.fail(contract, exp, "", "http", f"GET {url} did not return JSON", entry, locale)
            return None

    def listing(self, contract: Contract, exp: Expectation, locale: str | None) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"limit": PAGE_LIMIT}
            if cursor:
                params["cursor"] = cursor
            if locale:
                params["locale"] = locale
            body = self.get(contract, exp, f"/v1/entries/{exp.endpoint.content_type}", params, None, locale)
            if not isinstance(body, dict):
                return items
            items.extend(i for i in body.get("items", []) if isinstance(i, dict))
            cursor = body.get("next_cursor")
            if not cursor or (self.max_entries and len(items) >= self.max_entries):
                return items[: self.max_entries] if self.max_entries else items

    def check_envelope(self, contract: Contract, exp: Expectation, body: Any, entry: str, locale: str | None) -> None:
        self.report.checked += 1
        if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
            self.fail(contract, exp, "", "http", "the response is not a delivery envelope with data", entry, locale)
            return
        version = (body.get("schema") or {}).get("version")
        if exp.version is not None:
            try:
                ok = exp.version.satisfied_by(Version.parse(version))
            except SemverError:
                ok = False
            if not ok:
                self.fail(
                    contract, exp, "", "version", f"schema version {version!r} is outside {exp.version}", entry, locale
                )
        data = body["data"]
        for path in exp.must_include:
            for found in find(data, path, self.intents):
                if not found.present:
                    self.fail(contract, exp, path.text, "missing", f"missing at {found.pointer or '/'}", entry, locale)
                    break
        for path, wanted in exp.types:
            for found in find(data, path, self.intents):
                if found.present and not value_has_type(found.value, wanted):
                    self.fail(
                        contract,
                        exp,
                        path.text,
                        "type",
                        f"{found.value!r} at {found.pointer} is not a {wanted}",
                        entry,
                        locale,
                    )
                    break

    def run(self, contract: Contract, exp: Expectation, locales: list[str | None]) -> None:
        kind = exp.endpoint.kind
        for locale in locales:
            items = self.listing(contract, exp, locale)
            if kind == "list":
                for item in items:
                    self.check_envelope(contract, exp, item, str(item.get("id")), locale)
                continue
            for item in items:
                data = item.get("data") or {}
                if kind == "page":
                    slug = data.get("slug")
                    if not isinstance(slug, str):
                        self.fail(contract, exp, "slug", "missing", "page has no slug", str(item.get("id")), locale)
                        continue
                    url, label = f"/v1/pages/{quote(slug)}", slug
                else:
                    label = str(item.get("id"))
                    url = f"/v1/entries/{exp.endpoint.content_type}/{quote(label)}"
                body = self.get(contract, exp, url, {"locale": locale} if locale else {}, label, locale)
                if body is not None:
                    self.check_envelope(contract, exp, body, label, locale)


def verify_contracts(
    contracts: list[Contract],
    provider: str,
    *,
    registry: Registry | None = None,
    client: httpx.Client | None = None,
    max_entries: int | None = None,
    timeout: float = 10.0,
    intents: tuple[str, ...] = (),
    policy: egress.Policy | None = None,
) -> ContractReport:
    """Verify ``contracts`` against the provider at base URL ``provider`` (or a given ``client``).
    ``intents``: the project's intents beyond the built-in vocabulary (for intent shorthands).
    ``policy``: the egress policy the calls go through (default: nothing internal but the host of
    ``provider`` itself, which the caller names); a refused ``provider`` is a :class:`BadRequest`."""
    report = ContractReport("live", [c.file for c in contracts])
    own = client is None
    if client is None:
        try:
            client = egress.client(
                policy or egress.Policy().trusting(provider), base_url=provider.rstrip("/"), timeout=timeout
            )
        except egress.Refused as exc:
            raise BadRequest(f"provider {provider[:200]!r} is refused: {exc}") from None
    http = client
    try:
        verifier = _Verifier(http, report, max_entries, KNOWN_INTENTS | frozenset(intents))
        project = registry.directory.parent if registry is not None and registry.directory is not None else None
        llm = LiveChecker(http, report, project)
        for contract in contracts:
            for exp in contract.expects:
                if exp.endpoint.kind in ("ask", "tool"):
                    llm.run(contract, exp)
                    continue
                locales: list[str | None]
                if exp.locales:
                    locales = list(exp.locales)
                elif registry is not None and exp.endpoint.content_type in registry:
                    locales = list(registry.get(exp.endpoint.content_type).locales.supported)
                else:
                    locales = [None]
                verifier.run(contract, exp, locales)
    finally:
        if own:
            http.close()
    return report
