# ruff: noqa: E501  (a table of known failures reads best one per line)
"""The OpenAPI document tells the truth: schemathesis, with every check, over every operation,
as an admin and as a viewer (tests/api/conformance.py). Deterministic and bounded, so it runs in
``make test``; ``CHARTER_FUZZ_EXAMPLES`` raises the examples, and test_fuzz.py is the longer run.

``KNOWN`` lists failures with an owner, as "role METHOD path: check" -> why. It is strict: an entry
that passes fails the test, so the list only ever shrinks."""

from __future__ import annotations

import os

import pytest

from charter.auth.roles import SYSTEM
from charter.auth.tokens import create_token
from charter.runtime import Runtime
from tests.api import conformance

EXAMPLES = int(os.environ.get("CHARTER_FUZZ_EXAMPLES", "3"))

KNOWN: dict[str, str] = {
    "admin GET /v1/metrics/series: Schema-valid request rejected": "since/until are RFC 3339 and metric names an enum; the document declares plain strings",
    "admin GET /v1/metrics: Schema-valid request rejected": "window, service and metric values follow a grammar (24h, 2026-Q1, START..END; metric names) the document does not declare yet",
    "admin GET /v1/pages/{slug}: Schema-valid request rejected": "the slug pattern is checked by the handler (400) but not declared on the path parameter",
    "admin GET /v1/preview/events: Undocumented Content-Type": "the server-sent event stream (text/event-stream) is not declared in the document",
    "admin PATCH /v1/manage/webhooks/{webhook_id}: Schema-valid request rejected": "url: the egress guard refuses internal targets (by design, no pattern can say 'public address'); event_types are not declared as an enum",
    "admin POST /v1/chat/completions: Schema-valid request rejected": "the OpenAI-shaped request allows model: '' and any message shape; the gateway refuses them (400)",
    "admin POST /v1/events/incident: Schema-valid request rejected": "deploy_id must name a recorded deployment (a reference the schema cannot express; 422)",
    "admin POST /v1/manage/entries/{type_name}: Schema-valid request rejected": "the strict JSON gate refuses NUL in member names and integers beyond ±2^53 (RFC 7493); the free-form body does not declare it",
    "admin POST /v1/manage/releases/{release_id}/schedule: Schema-valid request rejected": "at is an ISO 8601 date-time in the future; declared as a plain string",
    "admin POST /v1/manage/releases: Schema-valid request rejected": "items are a union by action (create needs type and data, others entry_id and revision); declared as one loose object",
    "admin POST /v1/manage/webhooks: Schema-valid request rejected": "url: the egress guard refuses internal targets (by design, no pattern can say 'public address'); event_types are not declared as an enum",
    "admin PUT /v1/manage/entries/{entry_id}: Schema-valid request rejected": "the strict JSON gate refuses NUL in member names and integers beyond ±2^53 (RFC 7493); the free-form body does not declare it",
    "viewer GET /v1/metrics/series: Schema-valid request rejected": "since/until are RFC 3339 and metric names an enum; the document declares plain strings",
    "viewer GET /v1/metrics: Schema-valid request rejected": "window, service and metric values follow a grammar (24h, 2026-Q1, START..END; metric names) the document does not declare yet",
    "viewer GET /v1/pages/{slug}: Schema-valid request rejected": "the slug pattern is checked by the handler (400) but not declared on the path parameter",
    "viewer GET /v1/preview/events: Undocumented Content-Type": "the server-sent event stream (text/event-stream) is not declared in the document",
    "viewer POST /v1/chat/completions: Schema-valid request rejected": "the OpenAI-shaped request allows model: '' and any message shape; the gateway refuses them (400)",
    "viewer POST /v1/manage/entries/{type_name}: Schema-valid request rejected": "the strict JSON gate refuses NUL in member names and integers beyond ±2^53 (RFC 7493); the free-form body does not declare it",
    "viewer PUT /v1/manage/entries/{entry_id}: Schema-valid request rejected": "the strict JSON gate refuses NUL in member names and integers beyond ±2^53 (RFC 7493); the free-form body does not declare it",
}


def check(result: conformance.Result, known: dict[str, str]) -> None:
    print(f"\n{result.operations} operations, {result.calls} calls, failures by check: {dict(result.by_check())}")
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
