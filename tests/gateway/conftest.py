"""Gateway fixtures: mock upstreams (real loopback HTTP servers), a project whose model.yaml points
at them, a runtime on SQLite, the app in-process, and the app served by a real uvicorn."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
import yaml
from fastapi.testclient import TestClient

from charter.app import create_app
from charter.config import DEMO_DIR, Settings, load_settings
from charter.gateway.mock_upstream import MockUpstream
from charter.runtime import Runtime
from tests.services import free_port

FAST = {
    "timeout": 2.0,
    "connect_timeout": 1.0,
    "retry": {"attempts": 1, "backoff_base": 0.01, "backoff_max": 0.05},
    "breaker": {"failures": 3, "reset_after": 0.3},
}


@pytest.fixture
def upstreams() -> Iterator[Callable[..., MockUpstream]]:
    """``make(mode="ok", ...)`` starts a mock upstream on a free loopback port."""
    started: list[MockUpstream] = []

    def make(mode: str = "ok", **kw: Any) -> MockUpstream:
        up = MockUpstream(free_port(), mode=mode, **kw).start_in_thread()
        started.append(up)
        return up

    yield make
    for up in started:
        up.stop()


def write_model_yaml(
    project: Path, providers: dict[str, Any], models: dict[str, Any], routes: dict[str, Any], **extra: Any
) -> None:
    doc = {
        "defaults": FAST,
        "providers": {"local": {"kind": "local"}, **providers},
        "models": {"local-extractive": {"provider": "local", "model": "extractive-v1", "version": "1"}, **models},
        # The demo prompts use the answer and drafts routes: keep them valid.
        "routes": {
            "default": {"policy": "fallback", "targets": ["local-extractive"]},
            "answer": {"policy": "fallback", "targets": ["local-extractive"]},
            "drafts": {"policy": "fallback", "targets": ["local-extractive"]},
            **routes,
        },
        **extra,
    }
    (project / "configs").mkdir(exist_ok=True)
    (project / "configs" / "model.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")


@pytest.fixture
def gw_project(tmp_path: Path) -> Path:
    """The demo project, its retrieval on BM25 (gateway tests do not need the embedding model, and
    /readyz would wait for it)."""
    dst = tmp_path / "project"
    shutil.copytree(DEMO_DIR, dst, ignore=shutil.ignore_patterns("__pycache__", "*.py", ".charter*"))
    contract = (dst / "retrieval.yaml").read_text(encoding="utf-8")
    contract = contract.replace("mode: hybrid ", "mode: bm25 ", 1).replace("dense: auto ", "dense: off ", 1)
    (dst / "retrieval.yaml").write_text(contract, encoding="utf-8")
    return dst


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite database holding the demo content, built once and copied per test
    (migrating from scratch costs seconds on a loaded machine; a copy costs milliseconds)."""
    from charter.demo import load_demo_content

    path = tmp_path_factory.mktemp("gw-template") / "template.db"
    settings = load_settings(DEMO_DIR, database_url=f"sqlite:///{path}", trace_exporter="memory", worker=False)
    rt = Runtime.open(settings)
    load_demo_content(rt)
    rt.close()
    return path


@pytest.fixture
def make_runtime(gw_project: Path, tmp_path: Path, template_db: Path) -> Iterator[Callable[..., Runtime]]:
    """Open a runtime on SQLite for ``gw_project`` (call after writing its model.yaml). Each
    call gets the same database file; pass ``database_url`` for another one (e.g. PostgreSQL)."""
    opened: list[Runtime] = []

    def make(database_url: str | None = None, **overrides: Any) -> Runtime:
        from charter.demo import load_demo_content

        if database_url is None:
            db = tmp_path / "gw.db"
            if not db.exists():
                shutil.copyfile(template_db, db)
            database_url = f"sqlite:///{db}"
        settings = load_settings(
            gw_project, database_url=database_url, trace_exporter="memory", worker=False, **overrides
        )
        rt = Runtime.open(settings)
        load_demo_content(rt)
        opened.append(rt)
        return rt

    yield make
    for rt in opened:
        rt.close()


@pytest.fixture
def gw_client(make_runtime: Callable[..., Runtime]) -> Iterator[Callable[..., TestClient]]:
    clients: list[TestClient] = []

    def make(rt: Runtime | None = None) -> TestClient:
        rt = rt or make_runtime()
        c = TestClient(create_app(rt.settings, runtime=rt), raise_server_exceptions=False)
        c.__enter__()
        clients.append(c)
        return c

    yield make
    for c in clients:
        c.__exit__(None, None, None)


class LiveServer:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.port = free_port()
        config = uvicorn.Config(
            create_app(rt.settings, runtime=rt), host="127.0.0.1", port=self.port, log_level="warning", lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not self.server.started:
            time.sleep(0.02)
        with socket.create_connection(("127.0.0.1", self.port), timeout=2):
            pass
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def live_server(make_runtime: Callable[..., Runtime]) -> Iterator[Callable[..., LiveServer]]:
    servers: list[LiveServer] = []

    def make(rt: Runtime | None = None) -> LiveServer:
        server = LiveServer(rt or make_runtime()).start()
        servers.append(server)
        return server

    yield make
    for s in servers:
        s.stop()


def provider(up: MockUpstream, kind: str = "openai", **kw: Any) -> dict[str, Any]:
    base = up.url + ("/v1" if kind == "openai" else "")
    return {"kind": kind, "base_url": base, **kw}


def flush(rt: Runtime) -> None:
    from charter.gateway import get_gateway

    get_gateway(rt).audit.flush()


__all__ = ["FAST", "LiveServer", "Settings", "flush", "provider", "write_model_yaml"]
