"""The authorisation matrix: every authenticated route × every role × no token."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from charter.auth.deps import current_actor
from charter.auth.roles import GRANTS, Permission, Role
from tests.api.routes import api_routes
from tests.conftest import auth

#: operation_id -> permission it needs. Every route that authenticates must be listed here.
REQUIRED: dict[str, Permission] = {
    "manageListEntries": Permission.READ,
    "manageListEntriesOfType": Permission.READ,
    "createEntry": Permission.WRITE,
    "getDraftEntry": Permission.READ,
    "updateEntry": Permission.WRITE,
    "deleteEntry": Permission.WRITE,
    "publishEntry": Permission.PUBLISH,
    "unpublishEntry": Permission.PUBLISH,
    "listRevisions": Permission.READ,
    "getRevision": Permission.READ,
    "listContentTypes": Permission.READ,
    "listTokens": Permission.ADMIN,
    "createToken": Permission.ADMIN,
    "revokeToken": Permission.ADMIN,
    "recordDeploy": Permission.PUBLISH,
    "recordIncident": Permission.PUBLISH,
    "getMetricsReport": Permission.READ,
    "getMetricsSeries": Permission.READ,
    # Releases, reviews, schedules, rollback, previews, audit (charter.content.release_api, .preview_api).
    "listReleases": Permission.READ,
    "createRelease": Permission.WRITE,
    "getRelease": Permission.READ,
    "updateRelease": Permission.WRITE,
    "deleteRelease": Permission.WRITE,
    "addReleaseItem": Permission.WRITE,
    "updateReleaseItem": Permission.WRITE,
    "removeReleaseItem": Permission.WRITE,
    "submitRelease": Permission.WRITE,
    "withdrawRelease": Permission.WRITE,
    "approveRelease": Permission.PUBLISH,
    "rejectRelease": Permission.PUBLISH,
    "scheduleRelease": Permission.PUBLISH,
    "unscheduleRelease": Permission.PUBLISH,
    "publishRelease": Permission.PUBLISH,
    "rollbackRelease": Permission.PUBLISH,
    "rollbackEntry": Permission.PUBLISH,
    "createPreviewToken": Permission.WRITE,
    "listPreviewTokens": Permission.READ,
    "getPreviewToken": Permission.READ,
    "revokePreviewToken": Permission.WRITE,
    "listAudit": Permission.READ,
    # Webhooks (charter.webhooks.api).
    "listWebhooks": Permission.ADMIN,
    "createWebhook": Permission.ADMIN,
    "getWebhook": Permission.ADMIN,
    "updateWebhook": Permission.ADMIN,
    "deleteWebhook": Permission.ADMIN,
    "rotateWebhookSecret": Permission.ADMIN,
    "listWebhookDeliveries": Permission.ADMIN,
    "replayWebhookDeliveries": Permission.ADMIN,
    "getWebhookDelivery": Permission.ADMIN,
    "replayWebhookDelivery": Permission.ADMIN,
    "listSchemaReleases": Permission.READ,
    "checkSchemas": Permission.READ,
    "listMigrations": Permission.READ,
    "getMigrationRun": Permission.READ,
    "runMigration": Permission.PUBLISH,
    "rollbackMigration": Permission.PUBLISH,
    "listPrompts": Permission.READ,
    "getPrompt": Permission.READ,
    "runPrompt": Permission.READ,
    "promotePrompt": Permission.PUBLISH,
    "rollbackPrompt": Permission.PUBLISH,
    # The gateway audit (charter.gateway.calls_api).
    "listLLMCalls": Permission.ADMIN,
    "getLLMCall": Permission.ADMIN,
    # The review queue (charter.review.api): viewers read it, editors and above review.
    "listReviewItems": Permission.READ,
    "getReviewItem": Permission.READ,
    "claimReviewItem": Permission.WRITE,
    "unclaimReviewItem": Permission.WRITE,
    "labelReviewItem": Permission.WRITE,
    # Media assets (charter.assets.api): viewers browse, editors upload, edit and delete.
    "listAssets": Permission.READ,
    "getAsset": Permission.READ,
    "uploadAsset": Permission.WRITE,
    "updateAsset": Permission.WRITE,
    "deleteAsset": Permission.WRITE,
}


def _uses_actor(dependant) -> bool:  # type: ignore[no-untyped-def]
    return any(d.call is current_actor or _uses_actor(d) for d in dependant.dependencies)


def _authenticated_routes(app) -> list[tuple[str, APIRoute]]:  # type: ignore[no-untyped-def]
    return [(path, r) for path, r in api_routes(app) if _uses_actor(r.dependant)]


def test_the_route_walk_sees_the_routes(app) -> None:  # type: ignore[no-untyped-def]
    """A guard for the guards: the matrix is not vacuous."""
    ops = {r.operation_id for _path, r in api_routes(app)}
    assert {"getPage", "createEntry", "createToken", "healthz"} <= ops
    assert {"createEntry", "publishEntry", "createToken"} <= {r.operation_id for _p, r in _authenticated_routes(app)}


def test_public_routes_need_no_token(client: TestClient) -> None:
    """Routes that do not authenticate answer an anonymous caller without 401/403 (delivery, health)."""
    for path in ("/", "/healthz", "/readyz", "/metrics", "/v1/pages/home", "/v1/entries/pricing-plan"):
        r = client.get(path)
        assert r.status_code == 200, (path, r.status_code)


def test_every_authenticated_route_is_in_the_matrix(app) -> None:  # type: ignore[no-untyped-def]
    ops = {r.operation_id for _path, r in _authenticated_routes(app)}
    assert ops <= set(REQUIRED), f"add these routes to REQUIRED: {sorted(ops - set(REQUIRED))}"


@pytest.mark.parametrize("role", [None, *Role])
def test_matrix(client: TestClient, tokens: dict[str, str], role: Role | None) -> None:
    entry_id = client.get("/v1/pages/about").json()["id"]
    for full_path, route in _authenticated_routes(client.app):
        if route.operation_id not in REQUIRED:
            continue
        path = re.sub(r"\{entry_id\}", entry_id, full_path)
        path = re.sub(r"\{number\}", "1", path)
        path = re.sub(r"\{type_name\}", "page", path)
        path = re.sub(r"\{token_id\}", "00000000-0000-0000-0000-000000000000", path)
        path = re.sub(r"\{run_id\}", "1", path)
        path = re.sub(r"\{asset_id\}", "00000000-0000-4000-8000-000000000000", path)
        method = sorted(route.methods)[0]
        headers = auth(tokens[role.value]) if role else {}
        r = client.request(method, path, headers={**headers, "Content-Type": "application/json"}, content=b"{}")
        allowed = role is not None and REQUIRED[route.operation_id] in GRANTS[role]
        if role is None:
            assert r.status_code == 401, (route.operation_id, r.status_code)
        elif not allowed:
            assert r.status_code == 403, (route.operation_id, role, r.status_code, r.text)
        else:
            assert r.status_code not in (401, 403), (route.operation_id, role, r.status_code, r.text)
        assert r.status_code < 500, (route.operation_id, role, r.text)
