"""The OpenAPI document tells the truth: schemathesis, with every check, over every operation,
as an admin and as a viewer (tests/api/conformance.py). Deterministic and bounded, so it runs in
``make test``; ``CHARTER_FUZZ_EXAMPLES`` raises the examples, and test_fuzz.py is the longer run.

Every check fails the test: server errors, undocumented statuses and content types, response
schema and header mismatches, schema-valid requests rejected and schema-violating ones accepted.
The document declares the strict JSON gate on every request body (charter.http.openapi), every
error as problem+json, and what JSON Schema cannot state as each operation's ``x-charter-rules``
(a timestamp not in the future, a release item whose content validates against its content type,
a webhook URL the egress guard allows...): a schema-valid request answered with one of those
rules' problems is counted and printed, not failed. ``KNOWN`` lists failures with an owner, as
"role METHOD path: check" -> why; it is strict: an entry that passes fails the test, so the list
only ever shrinks (it is empty)."""

from __future__ import annotations

import os

import pytest

from charter.auth.roles import SYSTEM
from charter.auth.tokens import create_token
from charter.runtime import Runtime
from tests.api import conformance

EXAMPLES = int(os.environ.get("CHARTER_FUZZ_EXAMPLES", "3"))

KNOWN: dict[str, str] = {}


def check(result: conformance.Result, known: dict[str, str]) -> None:
    print(f"\n{result.operations} operations, {result.calls} calls, failures by check: {dict(result.by_check())}")
    print("\n".join(f"declared rule: {k} x{n}" for k, n in sorted(result.rules.items())))
    new = {k: v for k, v in result.failures.items() if k not in known}
    fixed = [k for k in known if k not in result.failures]
    report = [f"{k}\n  {v}" for k, v in sorted(new.items())] + [f"{k}: passes now, remove it from KNOWN" for k in fixed]
    assert not new and not fixed, "\n\n".join(report)


@pytest.mark.timeout(900)  # about 30 s of CPU; far longer in wall time on a loaded machine
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("role", ["admin", "viewer"])
def test_every_operation_conforms(app, runtime: Runtime, role: str) -> None:  # type: ignore[no-untyped-def]
    token = create_token(runtime, SYSTEM, f"conformance-{role}", role)[0]
    check(conformance.run(app, {role: token}, EXAMPLES), {k: v for k, v in KNOWN.items() if k.startswith(f"{role} ")})
