"""Consumer-driven contracts: the file format and its errors, static checks against the schemas,
and live verification against the demo served on a real loopback HTTP server."""

from __future__ import annotations

import copy
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from charter.app import create_app
from charter.config import DEMO_DIR, load_settings
from charter.contracts import ContractFileError, check_contracts, load_contract, load_contracts, verify_contracts
from charter.runtime import Runtime
from charter.schemas.registry import ContentType, Registry
from tests.services import free_port
from tests.templates import DemoTemplate

DEMO_CONTRACTS = DEMO_DIR / "contracts"


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry.load(DEMO_DIR / "content-types")


def contract(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    return path


def with_page(registry: Registry, change: Any) -> Registry:
    page = copy.deepcopy(registry.get("page").schema)
    change(page)
    types = dict(registry.types)
    types["page"] = ContentType("page", 1, page["version"], page)
    return Registry(types)


def test_demo_contracts_hold(registry: Registry) -> None:
    report = check_contracts(load_contracts(DEMO_CONTRACTS), registry)
    assert report.ok, [f.describe() for f in report.failures]
    assert report.checked == 3


def expect(tmp_path: Path, registry: Registry, body: str) -> list[tuple[str, str]]:
    path = contract(tmp_path, f"consumer: web\nprovider: content-api\nexpects:\n{body}")
    report = check_contracts([load_contract(path)], registry)
    return [(f.field, f.kind) for f in report.failures]


@pytest.mark.parametrize(
    ("body", "failures"),
    [
        ("  - {endpoint: '/v1/pages/{slug}', must_include: [title, hero.cta.href]}", []),
        ("  - {endpoint: '/v1/pages/{slug}', must_include: [description]}", [("description", "optional")]),
        ("  - {endpoint: '/v1/pages/{slug}', must_include: [hero.subtitle]}", [("hero.subtitle", "optional")]),
        ("  - {endpoint: '/v1/pages/{slug}', must_include: [stats.title]}", [("stats.title", "missing")]),
        ("  - {endpoint: '/v1/pages/{slug}', must_include: [hero.nope]}", [("hero.nope", "missing")]),
        ("  - {endpoint: '/v1/pages/{slug}', must_include: [sections.intent]}", []),
        ("  - {endpoint: '/v1/pages/{slug}', must_include: ['sections[faq].items.answer']}", []),
        ("  - {endpoint: '/v1/pages/{slug}', types: {hero.title: url}}", [("hero.title", "type")]),
        ("  - {endpoint: '/v1/pages/{slug}', types: {hero.cta.href: url, title: string}}", []),
        ("  - {endpoint: '/v1/pages/{slug}', types: {title: number}}", [("title", "type")]),
        ("  - {endpoint: '/v1/pages/{slug}', must_include: [title], version: 2.x}", [("", "version")]),
        ("  - {endpoint: '/v1/pages/{slug}', must_include: [title], version: '>=1.0.0 <1.1'}", []),
        ("  - {endpoint: '/v1/pages/{slug}', must_include: [title], locales: [fr]}", [("", "locale")]),
        (
            "  - {endpoint: /v1/entries/pricing-plan, must_include: [price], types: {price: integer}}",
            [("price", "type")],
        ),
        ("  - {endpoint: '/v1/entries/pricing-plan/{id}', types: {price: number, features: array}}", []),
    ],
)
def test_static_checks(tmp_path: Path, registry: Registry, body: str, failures: list[tuple[str, str]]) -> None:
    assert expect(tmp_path, registry, body) == failures


def test_static_check_sees_a_breaking_schema_change(tmp_path: Path, registry: Registry) -> None:
    def nullable_href(page: dict[str, Any]) -> None:
        page["$defs"]["link"]["properties"]["href"] = {"type": ["string", "null"], "format": "url"}

    def hero_removed(page: dict[str, Any]) -> None:
        page["properties"]["sections"]["items"]["oneOf"] = [
            b for b in page["properties"]["sections"]["items"]["oneOf"] if b["$ref"] != "#/$defs/hero"
        ]

    contracts = load_contracts(DEMO_CONTRACTS)
    baseline = {"page": registry.get("page").schema}
    report = check_contracts(contracts, with_page(registry, nullable_href), baseline=baseline)
    assert {(f.consumer, f.endpoint, f.field, f.kind) for f in report.failures} == {
        ("marketing-web", "/v1/pages/{slug}", "hero.cta.href", "type"),
        ("marketing-web", "/v1/pages/{slug}", "call-to-action.cta.href", "type"),
    }
    assert all(f.introduced for f in report.failures)
    report = check_contracts(contracts, with_page(registry, hero_removed))
    assert {f.field for f in report.failures} == {"hero.title", "hero.cta.label", "hero.cta.href"}
    assert "no field 'hero' and no section with intent 'hero'" in report.failures[0].message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("consumer: [", "malformed YAML"),
        ("- a\n- b", "expected a mapping"),
        (
            "consumer: web\nprovider: api\nexpects:\n  - endpoint: /v2/pages\n    must_include: [a]",
            "line 4: unknown endpoint",
        ),
        (
            "consumer: web\nprovider: api\nexpects:\n  - endpoint: /v1/pages/{slug}\n"
            "    must_include: [a]\n    version: '1.x.y'",
            "line 6: '1.x.y' is not an npm version range",
        ),
        (
            "consumer: web\nprovider: api\nexpects:\n  - endpoint: /v1/pages/{slug}\n    types: {a: money}",
            "unknown type 'money'",
        ),
        (
            "consumer: web\nprovider: api\nexpects:\n  - endpoint: /v1/pages/{slug}\n    must_include: ['a..b']",
            "is not a field name",
        ),
        ("consumer: web\nprovider: api\nexpects: []", "expects must be a non-empty list"),
        (
            "consumer: web\nprovider: api\nextra: 1\nexpects:\n  - {endpoint: '/v1/pages/{slug}', must_include: [a]}",
            "unknown key 'extra'",
        ),
    ],
)
def test_bad_contract_files(tmp_path: Path, text: str, expected: str) -> None:
    path = contract(tmp_path, text)
    with pytest.raises(ContractFileError) as info:
        load_contract(path)
    messages = " | ".join(e.message for e in info.value.errors)
    assert expected in messages and all(e.file == str(path) for e in info.value.errors)


def test_unknown_content_type_in_endpoint(tmp_path: Path, registry: Registry) -> None:
    path = contract(
        tmp_path, "consumer: web\nprovider: api\nexpects:\n  - {endpoint: /v1/entries/widget, must_include: [a]}"
    )
    with pytest.raises(ContractFileError) as info:
        check_contracts([load_contract(path)], registry)
    (error,) = info.value.errors
    assert error.pointer == "/expects/0/endpoint" and "'widget'" in error.message and error.file == str(path)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo on a real loopback HTTP server, one per module (the tests only read from it).

    The listening socket is bound before uvicorn starts, so requests queue in its backlog until
    the server accepts them: no polling for start-up."""
    workdir = tmp_path_factory.mktemp("served")
    with DemoTemplate.build("sqlite", workdir) as template, template.copy(workdir) as url:
        settings = load_settings(DEMO_DIR, database_url=url, trace_exporter="memory", log_json=True, worker=False)
        runtime = Runtime.open(settings, migrate=False)
        sock = socket.socket()
        sock.bind(("127.0.0.1", free_port()))
        sock.listen(128)
        config = uvicorn.Config(create_app(settings, runtime=runtime), log_level="warning", lifespan="on")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{sock.getsockname()[1]}"
        finally:
            server.should_exit = True
            thread.join(10)
            sock.close()
            runtime.close()


def test_verify_against_the_running_demo(served: str, registry: Registry, tmp_path: Path) -> None:
    report = verify_contracts(load_contracts(DEMO_CONTRACTS), served, registry=registry)
    assert report.ok, [f.describe() for f in report.failures]
    assert report.checked >= 3 * 3 + 3 * 3  # three pages and three plans, in three locales
    strict = contract(
        tmp_path,
        "consumer: strict-web\nprovider: content-api\nexpects:\n"
        "  - endpoint: /v1/pages/{slug}\n    must_include: [description, hero.subtitle]\n"
        "    types: {title: integer}\n    version: 2.x\n    locales: [en]\n",
    )
    report = verify_contracts([load_contract(strict)], served, registry=registry)
    found = {(f.consumer, f.entry, f.locale, f.field, f.kind) for f in report.failures}
    assert ("strict-web", "about", "en", "description", "missing") in found
    assert ("strict-web", "home", "en", "title", "type") in found
    assert ("strict-web", "home", "en", "", "version") in found
    assert not any(f.field == "hero.subtitle" for f in report.failures), "home's hero has a subtitle"


def test_verify_reports_an_unreachable_provider() -> None:
    report = verify_contracts(load_contracts(DEMO_CONTRACTS), f"http://127.0.0.1:{free_port()}")
    assert not report.ok and {f.kind for f in report.failures} == {"unreachable"}


def test_cli_verify_and_check(served: str) -> None:
    from typer.testing import CliRunner

    from charter.cli.commands.contracts import app

    runner = CliRunner()
    ok = runner.invoke(app, ["verify", "--demo", "--provider", served])
    assert ok.exit_code == 0, ok.output
    assert "contracts hold" in ok.output
    checked = runner.invoke(app, ["check", "--demo"])
    assert checked.exit_code == 0 and "contracts hold" in checked.output
    # A usage error exits 2 with a clear message on stderr.
    bad = runner.invoke(app, ["verify", "--demo", "--provider", "ftp://x"])
    assert bad.exit_code == 2 and "must be an http(s) URL" in bad.stderr, bad.output


def test_a_contract_pinning_an_old_major_is_checked_against_it(tmp_path: Path, registry: Registry) -> None:
    v1 = registry.get("page").schema
    v2 = copy.deepcopy(v1)
    v2.update({"$id": "page.v2", "version": "2.0.0"})
    v2["properties"]["summary"] = v2["properties"].pop("description")
    types = dict(registry.types)
    types["page"] = ContentType("page", 2, "2.0.0", v2)
    upgraded = Registry(types)
    body = "  - {endpoint: '/v1/pages/{slug}', types: {description: string}, version: 1.x"
    plain = load_contract(contract(tmp_path, f"consumer: web\nprovider: api\nexpects:\n{body}}}"))
    assert {(f.field, f.kind) for f in check_contracts([plain], upgraded).failures} == {
        ("", "version"),
        ("description", "missing"),
    }
    path = tmp_path / "pinned.yaml"
    path.write_text(f"consumer: web\nprovider: api\nexpects:\n{body}, headers: {{Charter-Schema: page.v1}}}}")
    pinned = load_contract(path)
    assert check_contracts([pinned], upgraded, pinned={"page.v1": v1}).ok
    (never,) = check_contracts([pinned], upgraded).failures
    assert never.kind == "version" and "pins page.v1, which was never released" in never.message
