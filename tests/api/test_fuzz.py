"""Schemathesis against the OpenAPI document: generated requests never get a 5xx, and responses
conform to the documented schemas. Runs with an admin token so authenticated routes are reached.

Each operation gets its own Hypothesis run (schemathesis' pytest plugin does not support pytest 9
yet, so the strategies are driven directly)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from charter.auth.roles import SYSTEM
from charter.auth.tokens import create_token
from charter.runtime import Runtime

CHECKS = [not_a_server_error, content_type_conformance, status_code_conformance, response_schema_conformance]
#: Routes whose body is not described by a JSON schema (Prometheus text, server-sent events).
SKIP = ("/metrics",)


@pytest.mark.slow
def test_no_server_errors(app, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    token = create_token(runtime, SYSTEM, "fuzz", "admin")[0]
    headers = {"Authorization": f"Bearer {token}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 10
    failures: list[str] = []
    for operation in operations:
        if operation.path in SKIP:
            continue

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case) -> None:  # type: ignore[no-untyped-def]
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            run()
        except Exception as exc:
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert not failures, "\n\n".join(failures)
