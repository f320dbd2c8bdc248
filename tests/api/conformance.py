"""Run schemathesis over every operation of the OpenAPI document, in process, with every check.

Each operation is fuzzed with schema-valid (positive) and schema-violating (negative) requests,
for each role given, and every response goes through all of schemathesis' response checks: no
5xx, documented status codes, content types, headers and bodies, valid data accepted (not a
400/422, unless the answer is a rule the operation declares in ``x-charter-rules``: what JSON Schema
cannot state, counted in ``Result.rules``), invalid data rejected, required headers required.
Generation is deterministic (``derandomize``) and bounded (``examples`` per operation, mode and
role); shrinking is off so a failure is reported straight away with its reproduction.

schemathesis' pytest plugin does not support pytest 9 yet, so the strategies are driven directly.
"""

from __future__ import annotations

import warnings
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import HypothesisDeprecationWarning, Unsatisfiable
from schemathesis import GenerationMode
from schemathesis import checks as sc
from schemathesis.core.parameters import ParameterLocation
from schemathesis.python.asgi import shutdown_lifespans

from charter.http.openapi import breaks_declared_rule

#: Every response check schemathesis has (max_response_time needs a limit: timing belongs in bench/).
CHECKS = [
    sc.not_a_server_error,
    sc.status_code_conformance,
    sc.content_type_conformance,
    sc.response_headers_conformance,
    sc.response_schema_conformance,
    sc.negative_data_rejection,
    sc.positive_data_acceptance,
    sc.missing_required_header,
    sc.unsupported_method,
    sc.use_after_free,
    sc.ensure_resource_availability,
    sc.ignored_auth,
]
#: Marks a failure where the strict JSON gate (integers beyond ±2^53, NUL in member names, RFC 7493)
#: refused a body the document allows: one rule the document does not declare yet, not per route.
STRICT_JSON = " (strict JSON gate)"
#: The check a rejected schema-valid request fails.
POSITIVE = "Schema-valid request rejected"
#: Routes whose body is not described by a JSON schema (Prometheus text).
SKIP = ("/metrics",)


@dataclass
class Result:
    operations: int = 0
    calls: int = 0
    #: "role METHOD path: check title" -> the first reproduction seen
    failures: dict[str, str] = field(default_factory=dict)
    #: "METHOD path: rule" -> how many schema-valid requests broke a rule the operation declares
    #: (``x-charter-rules``: what JSON Schema cannot state), answered as the rule says
    rules: Counter[str] = field(default_factory=Counter)

    def by_check(self) -> Counter[str]:
        return Counter(key.rsplit(": ", 1)[1] for key in self.failures)


def run(app: Any, tokens: dict[str, str], examples: int) -> Result:
    """Fuzz every operation of ``app`` once per role in ``tokens`` (role -> bearer token)."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [r.ok() for r in schema.get_all_operations() if r.ok().path not in SKIP]
    result = Result(operations=len(operations))
    try:
        for role, token in tokens.items():
            headers = {"Authorization": f"Bearer {token}"}
            for operation in operations:
                for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                    _fuzz(operation, mode, role, headers, examples, result)
    finally:
        # Schemathesis keeps every app's lifespan (and so Charter's worker) running until exit.
        shutdown_lifespans()
    return result


def _fuzz(operation: Any, mode: GenerationMode, role: str, headers: dict[str, str], n: int, result: Result) -> None:
    name = f"{role} {operation.method.upper()} {operation.path}"

    @given(case=operation.as_strategy(mode))
    @settings(
        max_examples=n,
        deadline=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        database=None,
        phases=[Phase.explicit, Phase.generate],
    )
    def test(case: Any) -> None:
        result.calls += 1
        sent = headers
        header_mode = getattr((case.meta.components if case.meta else {}).get(ParameterLocation.HEADER), "mode", None)
        if header_mode is GenerationMode.NEGATIVE:
            sent = {}  # schema-violating headers (a bad or missing Authorization) are the case's point: no token
        response = case.call(headers=sent)
        try:
            case.validate_response(response, checks=CHECKS, headers=sent)
        except (Exception, BaseExceptionGroup) as exc:  # schemathesis' FailureGroup is a BaseExceptionGroup
            for failure in exc.exceptions if isinstance(exc, BaseExceptionGroup) else [exc]:
                title = getattr(failure, "title", type(failure).__name__)
                rule = _declared_rule(operation, response) if title == POSITIVE else None
                if rule is not None:
                    result.rules[f"{operation.method.upper()} {operation.path}: {rule}"] += 1
                    continue
                key = f"{name}: {title}"
                if response.status_code == 400 and "/problems/invalid-json" in response.text[:200]:
                    key += STRICT_JSON
                result.failures.setdefault(key, _reproduction(case, response, failure))

    try:
        with warnings.catch_warnings():
            # Some of schemathesis' own strategies draw from `random`, which Hypothesis flags with a
            # deprecation warning (an error under this suite's filters) the first time only, so the
            # example then fails as "flaky". It says nothing about Charter's document or answers.
            warnings.simplefilter("ignore", HypothesisDeprecationWarning)
            test()
    except Unsatisfiable:
        pass  # no schema-violating request exists (an operation without parameters)


def _declared_rule(operation: Any, response: Any) -> str | None:
    """The rule of ``operation`` (its ``x-charter-rules``) that ``response`` says was broken, if any."""
    try:
        problem = response.json()
    except ValueError:
        return None
    if not breaks_declared_rule(operation.definition.raw, response.status_code, problem):
        return None
    return str(problem.get("type", "")).rsplit("/", 1)[-1] or ",".join(
        sorted({e["keyword"] for e in problem["errors"]})
    )


def _reproduction(case: Any, response: Any, failure: BaseException) -> str:
    sent = {
        "path": case.path_parameters,
        "query": case.query,
        "headers": {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"},
        "body": case.body if type(case.body).__name__ != "NotSet" else None,
    }
    return f"{response.status_code} {response.text[:300]!r}\n  sent {sent!r:.600}\n  {str(failure)[:300]}"
