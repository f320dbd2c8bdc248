"""The release action registry: one table of verbs that the API, the admin and the CLI read."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from charter.auth.roles import Actor, Permission, Role
from charter.content.actions.release_verbs import EDIT, VERBS, may, run, verb
from charter.content.releases import STATUSES, Release
from charter.content.workflow import ALLOWED_FROM
from charter.exceptions import NotFound
from tests.conftest import auth

NOW = datetime(2026, 1, 1, tzinfo=UTC)
DRAFT = Release("r1", "launch", None, "draft", 1, "ana", NOW, NOW, *([None] * 8))
ROLES = {role: Actor(role.value, role) for role in Role}


@pytest.mark.parametrize("name", [*VERBS, EDIT])
@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("role", list(Role))
def test_may_is_permission_and_status(name: str, status: str, role: Role) -> None:
    actor = ROLES[role]
    needed = Permission.WRITE if name == EDIT else VERBS[name].permission
    expected = actor.can(needed) and status in ALLOWED_FROM[name]
    assert may(actor, replace(DRAFT, status=status), name) is expected


def test_every_verb_has_its_statuses_and_nobody_signed_out_may() -> None:
    assert set(ALLOWED_FROM) == {*VERBS, EDIT}
    assert all(set(ALLOWED_FROM[v]) <= set(STATUSES) for v in ALLOWED_FROM)
    assert not may(None, DRAFT, "submit")
    with pytest.raises(NotFound, match="no release action 'launch'"):
        verb("launch")


def test_a_door_passing_an_option_the_verb_does_not_take_is_refused() -> None:
    with pytest.raises(TypeError, match="takes no option"):
        run(None, ROLES[Role.ADMIN], "r1", "submit", comment="x")  # type: ignore[arg-type]


BODIES = {"reject": {"comment": "no"}, "schedule": {"at": "2999-01-01T09:00", "timezone": "UTC"}}
BELOW = {Permission.WRITE: Role.VIEWER, Permission.PUBLISH: Role.EDITOR}
AT = {Permission.WRITE: Role.EDITOR, Permission.PUBLISH: Role.PUBLISHER}


def test_the_api_doors_require_each_verbs_permission(client: TestClient, tokens: dict[str, str]) -> None:
    """For every verb, the role just below its permission is refused at the door (403); the least
    role with it gets through to the action, which finds no such release (404) or refuses the
    input first (422: a schedule in the far future)."""

    def call(name: str, role: Role) -> Response:
        url = "/v1/manage/releases/no-such-release" + ("" if name == "delete" else f"/{name}")
        headers = auth(tokens[role.value])
        if name == "delete":
            return client.delete(url, headers=headers)
        return client.post(url, headers=headers, json=BODIES.get(name))

    for name, spec in VERBS.items():
        refused = call(name, BELOW[spec.permission])
        assert refused.status_code == 403 and spec.permission.value in refused.json()["detail"], (name, refused.text)
        let_in = call(name, AT[spec.permission])  # the action answers: no such release, or bad input
        assert let_in.status_code in (404, 422), (name, let_in.text)
