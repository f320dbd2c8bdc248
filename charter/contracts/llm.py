"""Contracts on the LLM surface: ``/v1/ask`` answers and registered tools.

Statically (``charter contracts check``):

- ``/v1/ask``: every ``must_include`` path is guaranteed by the answer's response schema (the
  OpenAPI model of ``POST /v1/ask``) and every ``types`` path has that type; a ``refusal.text`` must
  be the refusal the project's retrieval.yaml answers with (``answering.refusal``).
- a tool (``tool: lookup_plan``): a registered version satisfies ``version`` (the newest that does is
  checked; no range: the newest version), and its ``arguments`` and ``result`` JSON Schemas guarantee
  the paths and types each part names (a ``result`` part on a version with no result schema fails).

Live (``charter contracts verify --provider URL``):

- ``/v1/ask``: each of ``questions`` is asked (with the expectation's ``headers``, e.g. a gateway
  key) and the answer checked path by path; ``refusal.question`` must come back refused, with no
  citations and, when given, exactly ``refusal.text``.
- a tool: offered on the expectation's ``route`` (default ``default``) with ``tool_choice`` naming
  it, as its registered definition from the local project; the arguments of the tool call the
  provider answers with are checked against ``arguments``. Results come from the consumer, not the
  provider, so ``result`` is checked statically only.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import orjson

from charter.contracts.model import Contract, Expectation, Part
from charter.contracts.resolve import find, value_has_type

if TYPE_CHECKING:
    from charter.contracts.report import ContractReport

Failure = tuple[str, str, str]  # (field, kind, message)


@cache
def ask_schema() -> dict[str, Any]:
    """The JSON Schema of a ``POST /v1/ask`` answer (its OpenAPI response model)."""
    from charter.retrieval.api import AskResponse

    return AskResponse.model_json_schema(ref_template="#/$defs/{model}")


def _as_expectation(exp: Expectation, part: Part) -> Expectation:
    return Expectation(exp.endpoint, part.must_include, part.types, None, None, (), exp.pointer)


def static_failures(contract: Contract, exp: Expectation, project: Path | None) -> list[Failure]:
    """What the project does not guarantee of an ``/v1/ask`` or tool expectation."""
    from charter.contracts.guarantees import expectation_failures

    if exp.endpoint.kind == "ask":
        out = [(f, k, m) for f, k, m in expectation_failures(contract, exp, ask_schema(), None) if k != "locale"]
        if exp.refusal is not None and exp.refusal[1] is not None and project is not None:
            from charter.retrieval.contract import load_contract

            path = project / "retrieval.yaml"
            refusal = load_contract(path).answering.refusal if path.exists() else None
            if refusal is not None and refusal != exp.refusal[1]:
                out.append(("refusal", "refusal", f"expects the refusal {exp.refusal[1]!r} but it is {refusal!r}"))
        return out
    if project is None:
        return [("", "missing", "tools are checked against a project's tools/ folder; none is known here")]
    from charter.gateway.tools import ToolRegistry

    name = exp.endpoint.content_type
    tools = ToolRegistry.load(project / "tools").tools
    if name not in tools:
        return [("", "missing", f"no registered tool {name!r} (tools: {', '.join(sorted(tools)) or 'none'})")]
    versions = tools[name].versions
    from charter.gateway.prompts.registry import semver_key
    from charter.schemas.compat.semver import Version

    fitting = [v for v in versions if exp.version is None or exp.version.satisfied_by(Version.parse(v))]
    if not fitting:
        return [
            (
                "",
                "version",
                f"expects {name} {exp.version} but its versions are {', '.join(versions)}; "
                "update the contract or keep a version in the range",
            )
        ]
    tv = versions[max(fitting, key=semver_key)]
    out = []
    for part in exp.parts:
        schema = tv.arguments if part.name == "arguments" else tv.result
        if schema is None:
            out.append((part.name, "missing", f"{name}@{tv.version} declares no result schema"))
            continue
        for field, kind, message in expectation_failures(contract, _as_expectation(exp, part), schema, None):
            out.append((f"{part.name}.{field}" if field else part.name, kind, f"{name}@{tv.version}: {message}"))
    return out


class LiveChecker:
    """Checks one provider's ``/v1/ask`` answers and tool calls; failures go to ``report``."""

    def __init__(self, client: httpx.Client, report: ContractReport, project: Path | None) -> None:
        self.client = client
        self.report = report
        self.project = project

    def fail(self, contract: Contract, exp: Expectation, field: str, kind: str, message: str, entry: str) -> None:
        from charter.contracts.report import ContractFailure

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
                None,
            )
        )

    def post(self, contract: Contract, exp: Expectation, url: str, body: dict[str, Any], entry: str) -> Any | None:
        from charter.observability.propagation import inject

        try:
            response = self.client.post(url, json=body, headers=inject(dict(exp.headers)))
        except httpx.HTTPError as exc:
            self.fail(contract, exp, "", "unreachable", f"POST {url} failed: {exc}", entry)
            return None
        if response.status_code != 200:
            self.fail(contract, exp, "", "http", f"POST {url} answered {response.status_code}", entry)
            return None
        try:
            return response.json()
        except ValueError:
            self.fail(contract, exp, "", "http", f"POST {url} did not return JSON", entry)
            return None

    def check_paths(self, contract: Contract, exp: Expectation, doc: Any, entry: str, prefix: str = "") -> None:
        self.report.checked += 1
        for path in exp.must_include:
            for found in find(doc, path):
                if not found.present:
                    self.fail(contract, exp, prefix + path.text, "missing", f"missing at {found.pointer or '/'}", entry)
                    break
        for path, wanted in exp.types:
            for found in find(doc, path):
                if found.present and not value_has_type(found.value, wanted):
                    message = f"{found.value!r} at {found.pointer} is not a {wanted}"
                    self.fail(contract, exp, prefix + path.text, "type", message, entry)
                    break

    def run(self, contract: Contract, exp: Expectation) -> None:
        if exp.endpoint.kind == "ask":
            for question, locale in exp.questions:
                body = self.post(contract, exp, "/v1/ask", {"question": question, "locale": locale}, question)
                if body is not None:
                    self.check_paths(contract, exp, body, question)
            if exp.refusal is not None:
                question, text = exp.refusal
                body = self.post(contract, exp, "/v1/ask", {"question": question}, question)
                if body is None:
                    return
                self.report.checked += 1
                if body.get("refused") is not True or body.get("citations"):
                    self.fail(contract, exp, "refused", "refusal", "the answer was not a refusal", question)
                elif text is not None and body.get("answer") != text:
                    self.fail(contract, exp, "answer", "refusal", f"refused with {body.get('answer')!r}", question)
            return
        self.run_tool(contract, exp)

    def run_tool(self, contract: Contract, exp: Expectation) -> None:
        arguments = next((p for p in exp.parts if p.name == "arguments"), None)
        if arguments is None:
            return  # results come from the consumer: static only
        name = exp.endpoint.content_type
        if self.project is None:
            self.fail(contract, exp, "", "missing", "the live tool check needs the project's tools/ folder", name)
            return
        from charter.gateway.prompts.registry import semver_key
        from charter.gateway.tools import ToolRegistry
        from charter.schemas.compat.semver import Version

        tool = ToolRegistry.load(self.project / "tools").tools.get(name)
        fitting = [
            v
            for v in (tool.versions if tool else {})
            if exp.version is None or exp.version.satisfied_by(Version.parse(v))
        ]
        if tool is None or not fitting:
            self.fail(contract, exp, "", "missing", f"no registered version of tool {name!r} fits the contract", name)
            return
        definition = tool.versions[max(fitting, key=semver_key)].definition()
        body = {
            "model": exp.route,
            "messages": [{"role": "user", "content": f"Call {name}."}],
            "tools": [definition],
            "tool_choice": {"type": "function", "function": {"name": name}},
        }
        answer = self.post(contract, exp, "/v1/chat/completions", body, name)
        if answer is None:
            return
        try:
            call = answer["choices"][0]["message"]["tool_calls"][0]
            args = orjson.loads(call["function"]["arguments"])
        except (KeyError, IndexError, TypeError, orjson.JSONDecodeError):
            self.report.checked += 1
            self.fail(contract, exp, "arguments", "missing", "the provider answered without a tool call", name)
            return
        self.check_paths(contract, _as_expectation(exp, arguments), args, name, "arguments.")
