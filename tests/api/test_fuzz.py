"""Schemathesis against the OpenAPI document: generated requests never get a 5xx, and responses
conform to the documented schemas, status codes and content types. Runs with an admin token so
authenticated routes are reached, on SQLite and on PostgreSQL.

Each operation gets its own Hypothesis run (schemathesis' pytest plugin does not support pytest 9
yet, so the strategies are driven directly). Shrinking is off: a failure is reported with the
schemathesis reproduction (a curl command) straight away; shrinking a server error can take
minutes. ``CHARTER_FUZZ_EXAMPLES`` raises the number of examples per operation (default 25)."""

from __future__ import annotations

import os
import time

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.python.asgi import shutdown_lifespans

from charter.auth.roles import SYSTEM
from charter.auth.tokens import create_token
from charter.runtime import Runtime

CHECKS = [not_a_server_error, content_type_conformance, status_code_conformance, response_schema_conformance]
#: Routes whose body is not described by a JSON schema (Prometheus text, server-sent events).
SKIP = ("/metrics",)
EXAMPLES = int(os.environ.get("CHARTER_FUZZ_EXAMPLES", "25"))
#: Operations with a known, reported failure, as "METHOD path" -> the issue that owns the fix.
#: Strict: an operation listed here that passes fails the test, so the list only ever shrinks.
KNOWN: dict[str, str] = {}


@pytest.mark.slow
def test_no_server_errors(app, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    token = create_token(runtime, SYSTEM, "fuzz", "admin")[0]
    headers = {"Authorization": f"Bearer {token}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 10
    failures: list[str] = []
    known: list[str] = []
    timings: list[tuple[float, str]] = []
    try:
        for operation in operations:
            if operation.path not in SKIP:
                name = f"{operation.method.upper()} {operation.path}"
                started = time.perf_counter()
                error = _fuzz(operation, headers)
                timings.append((time.perf_counter() - started, name))
                if name in KNOWN:
                    (known if error else failures).append(
                        f"{name}: {KNOWN[name]}" if error else f"{name} passes now: remove it from KNOWN"
                    )
                elif error:
                    failures.append(f"{name}: {error}")
    finally:
        # Schemathesis keeps every app's lifespan (and so Charter's worker) running until exit.
        shutdown_lifespans()
    print("\n".join([f"{seconds:6.2f}s {name}" for seconds, name in timings] + [f"known: {k}" for k in known]))
    slowest = ", ".join(f"{name} {seconds:.1f}s" for seconds, name in sorted(timings, reverse=True)[:3])
    assert not failures, f"slowest: {slowest}\n\n" + "\n\n".join(failures)


def _fuzz(operation, headers: dict[str, str]) -> BaseException | None:  # type: ignore[no-untyped-def]
    """Run one operation's strategy; the first failure schemathesis found, or None."""

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        phases=[Phase.explicit, Phase.generate],
    )
    def run(case) -> None:  # type: ignore[no-untyped-def]
        case.call_and_validate(headers=headers, checks=CHECKS)

    try:
        run()
    except (Exception, BaseExceptionGroup) as exc:  # schemathesis' FailureGroup is a BaseExceptionGroup
        return exc
    return None
