"""The root app fixtures start the in-process worker and the app's start-up steps only for the
tests that ask (``@pytest.mark.services``, tests/conftest.py); ``create_app(startup=...)`` runs
only the named ``register_startup`` steps."""

from __future__ import annotations

import asyncio

import pytest
from fastapi.testclient import TestClient

from charter.app import create_app
from charter.runtime import Runtime


def task_names(client: TestClient) -> set[str]:
    """The names of the tasks running on the app's event loop."""
    assert client.portal is not None
    return client.portal.call(lambda: {task.get_name() for task in asyncio.all_tasks()})  # type: ignore[arg-type]


def test_by_default_the_app_starts_no_worker_and_no_start_up_step(client: TestClient, runtime: Runtime) -> None:
    assert client.get("/healthz").status_code == 200  # the lifespan has run
    assert runtime.settings.worker is False
    assert "charter-worker" not in task_names(client)
    assert runtime.gateway is None and runtime.retrieval is None  # neither start-up step ran
    # ... and both are still built on first use.
    assert client.get("/readyz").json()["checks"].get("retrieval") is None  # not loaded yet: not reported
    assert client.get("/v1/retrieval/status").status_code == 200
    assert runtime.retrieval is not None


@pytest.mark.services("worker", "retrieval", "gateway")
def test_a_test_that_asks_gets_the_worker_and_the_start_up_steps(client: TestClient, runtime: Runtime) -> None:
    assert runtime.settings.worker is True
    assert "charter-worker" in task_names(client)
    assert runtime.gateway is not None and runtime.retrieval is not None
    assert client.get("/readyz").json()["checks"]["retrieval"] == "ok"


def test_create_app_runs_only_the_named_start_up_steps(runtime: Runtime) -> None:
    with TestClient(create_app(runtime.settings, runtime=runtime, startup=["gateway"])):
        assert runtime.gateway is not None and runtime.retrieval is None
    with pytest.raises(ValueError, match="no start-up step named nope"):
        create_app(runtime.settings, runtime=runtime, startup=["gateway", "nope"])
