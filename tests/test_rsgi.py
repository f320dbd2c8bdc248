"""Charter over granian's RSGI interface (charter.http.rsgi): the ASGI-over-RSGI bridge against a
real granian server (scope, request bodies in chunks, streamed responses, the client's disconnect,
a failing app, the lifespan), and ``charter serve``'s cached hits answered over RSGI with the
headers and telemetry of the ASGI door."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.services import free_port

ROOT = Path(__file__).resolve().parents[1]
PAGE = "/v1/pages/{slug:path}"


def wait_up(proc: subprocess.Popen[bytes], url: str, log: Path, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while True:
        assert proc.poll() is None, log.read_text()[-3000:]
        assert time.monotonic() < deadline, f"{url} did not answer"
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.2)


class Bridge:
    def __init__(self, url: str, notes: Path, log: Path) -> None:
        self.url, self.notes, self.log = url, notes, log

    def lines(self) -> list[str]:
        return self.notes.read_text().splitlines() if self.notes.exists() else []


@pytest.fixture(scope="module")
def bridge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bridge]:
    tmp = tmp_path_factory.mktemp("rsgi")
    port = free_port()
    notes, log = tmp / "notes.txt", tmp / "granian.log"
    cmd = [sys.executable, "-m", "granian", "--interface", "rsgi", "--factory", "--no-ws", "--http", "1"]
    cmd += ["--port", str(port), "--log-level", "warning", "tests.rsgi_app:make"]
    env = {**os.environ, "RSGI_TEST_LOG": str(notes), "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_up(proc, url + "/", log)
        b = Bridge(url, notes, log)
        yield b
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    # The lifespan ran once, around every request, and ended when the server stopped.
    assert b.lines()[0] == "started" and b.lines()[-1] == "stopped", b.lines()
    assert b.lines().count("started") == 1 == b.lines().count("stopped")


def test_the_scope_is_what_an_asgi_server_gives(bridge: Bridge) -> None:
    r = httpx.get(bridge.url + "/scope?a=1&b=%20x", headers={"X-Thing": "one", "Accept": "a/b"})
    seen = r.json()
    assert r.status_code == 200
    assert seen["method"] == "GET" and seen["path"] == "/scope" and seen["query_string"] == "a=1&b=%20x"
    assert seen["http_version"] == "1.1" and seen["scheme"] == "http" and seen["root_path"] == ""
    assert ["x-thing", "one"] in seen["headers"] and ["accept", "a/b"] in seen["headers"]
    assert seen["client"][0] == "127.0.0.1" and isinstance(seen["client"][1], int)
    assert seen["server"][1] == int(bridge.url.rsplit(":", 1)[1])
    assert seen["body"] == ["http.request", "", False]  # no body: one empty message, at once


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_request_body_arrives_whole(bridge: Bridge, chunked: bool) -> None:
    data = os.urandom(300_000)

    def pieces() -> Iterator[bytes]:
        for i in range(0, len(data), 65536):
            yield data[i : i + 65536]

    r = httpx.post(bridge.url + "/upload", content=pieces() if chunked else data, timeout=30)
    assert r.status_code == 201
    assert r.json() == {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def test_a_streamed_body_leaves_before_the_response_ends(bridge: Bridge) -> None:
    started = time.monotonic()
    with httpx.stream("GET", bridge.url + "/stream", timeout=30) as r:
        lines = r.iter_lines()
        assert next(lines) == "first" and time.monotonic() - started < 0.9  # the second comes after 1 s
        assert next(lines) == "second"
        assert list(lines) == []


def test_a_stream_learns_that_the_client_went(bridge: Bridge) -> None:
    with httpx.stream("GET", bridge.url + "/watch", timeout=30) as r:
        assert next(r.iter_lines()) == "data: hello"
    deadline = time.monotonic() + 10
    while "disconnected" not in bridge.lines():
        assert time.monotonic() < deadline, bridge.lines()
        time.sleep(0.05)


@pytest.mark.parametrize("path", ["/boom", "/silent"])
def test_an_app_that_fails_to_answer_gets_a_500(bridge: Bridge, path: str) -> None:
    r = httpx.get(bridge.url + path)
    assert r.status_code == 500 and r.text == "Internal Server Error"
    assert httpx.get(bridge.url + "/nothing").status_code == 404  # the server goes on
    if path == "/boom":
        assert "the app failed before answering" in bridge.log.read_text()


def test_head_and_keep_alive(bridge: Bridge) -> None:
    with httpx.Client(base_url=bridge.url) as client:
        for _ in range(3):
            r = client.get("/nothing")
            assert r.status_code == 404 and r.json() == {"detail": "not found"}
        head = client.head("/nothing")
        assert head.status_code == 404 and head.content == b"" and head.headers["content-length"] == "23"


def _metric(text: str, name: str, **labels: str) -> float:
    """The sum of the samples of ``name`` whose labels include ``labels`` (Prometheus text format)."""
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        body, value = line.rsplit(" ", 1)
        found = dict(part.split("=", 1) for part in body[len(name) + 1 : -1].split('",') if "=" in part)
        found = {k: v.strip('"') for k, v in found.items()}
        if all(found.get(k) == v for k, v in labels.items()):
            total += float(value)
    return total


@contextmanager
def _servers(tmp_path: Path, toml: str = "") -> Iterator[dict[str, str]]:
    """``charter serve`` on RSGI and on ``--interface asgi`` over one database with the demo
    content: ``{"rsgi": url, "asgi": url}``."""
    from charter.config import load_settings
    from charter.demo import load_demo_content
    from charter.runtime import Runtime
    from tests.faults import procs

    project = procs.project(tmp_path, toml)
    db = f"sqlite:///{tmp_path / 'charter.db'}"
    settings = load_settings(project, database_url=db, secret_key=procs.env(db)["CHARTER_SECRET_KEY"])
    with Runtime.open(settings) as rt:
        load_demo_content(rt)
    urls, servers = {}, []
    try:
        for interface in ("rsgi", "asgi"):
            port = free_port()
            os.environ["CHARTER_INTERFACE"] = interface
            try:
                servers.append(procs.server(project, db, port, tmp_path / f"{interface}.log"))
            finally:
                del os.environ["CHARTER_INTERFACE"]
            urls[interface] = f"http://127.0.0.1:{port}"
        yield urls
    finally:
        for proc in servers:
            procs.stop(proc)


@pytest.mark.slow
def test_cached_hits_over_rsgi_answer_and_count_like_the_asgi_door(tmp_path: Path) -> None:
    """``charter serve`` on RSGI (the default) and on ``--interface asgi``, one database: a hit
    answered by the RSGI door carries the same bytes and headers as the ASGI door's, honours
    If-None-Match, HEAD and X-Request-ID, leaves previews to the app, and is counted alike."""
    seen = {}
    with _servers(tmp_path) as urls:  # no [charter.cors]: the fast path is the front door
        for interface, url in urls.items():
            with httpx.Client(base_url=url, timeout=30) as client:
                first = client.get("/v1/pages/home")
                hit = client.get("/v1/pages/home", headers={"X-Request-ID": "a", "x-request-id": "given-1"})
                assert first.status_code == hit.status_code == 200 and hit.content == first.content
                assert hit.headers["x-request-id"] == "given-1"  # the last one, as the middleware reads it
                fresh = client.get("/v1/pages/home", headers={"If-None-Match": hit.headers["etag"]})
                head = client.head("/v1/pages/home")
                assert fresh.status_code == 304 and fresh.content == b""
                assert head.status_code == 200 and head.content == b""
                assert head.headers["content-length"] == str(len(hit.content))
                preview = client.get("/v1/pages/home", headers={"Charter-Preview": "not-a-token"})
                assert preview.status_code == 401  # never a hit: the app checks the token
                metrics = client.get("/metrics").text
            drop = {"date", "x-request-id", "server"}
            seen[interface] = {
                "hit": {k: v for k, v in hit.headers.items() if k not in drop},
                "304": {k: v for k, v in fresh.headers.items() if k not in drop},
                "body": hit.content,
                "hits": _metric(metrics, "charter_delivery_cache_requests_total", result="hit"),
                "ok": _metric(metrics, "charter_http_requests_total", method="GET", route=PAGE, status="200"),
                "not_modified": _metric(metrics, "charter_http_requests_total", route=PAGE, status="304"),
                "head": _metric(metrics, "charter_http_requests_total", method="HEAD", route=PAGE),
            }
    assert seen["rsgi"] == seen["asgi"]
    counts = {k: v for k, v in seen["rsgi"].items() if isinstance(v, float)}
    assert seen["rsgi"]["hits"] == 3 and seen["rsgi"]["not_modified"] == 1 and seen["rsgi"]["head"] == 1, (
        counts,
        [line for line in metrics.splitlines() if "pages" in line and "_total" in line],
    )
    assert seen["rsgi"]["ok"] == 2, seen


ALLOWED = "https://www.example.com"


@pytest.mark.slow
def test_cached_hits_over_rsgi_carry_cors_headers_like_the_asgi_door(tmp_path: Path) -> None:
    """With ``[charter.cors]`` the CORS layer is in front of the fast path, and the RSGI door still
    answers cached hits itself, with the CORS layer's headers: for an allowed origin, another
    origin, and no origin, the same headers (``Vary: Origin`` merged) as the ASGI door's."""
    toml = f'[charter]\ncache = "memory"\n\n[charter.cors]\nallow_origins = ["{ALLOWED}"]\n'
    asked = {"allowed": {"Origin": ALLOWED}, "other": {"Origin": "https://evil.example"}, "none": {}}
    seen: dict[str, dict[str, dict[str, str]]] = {}
    with _servers(tmp_path, toml) as urls:
        for interface, url in urls.items():
            with httpx.Client(base_url=url, timeout=30) as client:
                client.get("/v1/pages/home")  # fills the cache; the rest are hits
                answers = {name: client.get("/v1/pages/home", headers=h) for name, h in asked.items()}
                answers["304"] = client.get(
                    "/v1/pages/home", headers={"Origin": ALLOWED, "If-None-Match": answers["allowed"].headers["etag"]}
                )
                metrics = client.get("/metrics").text
            assert _metric(metrics, "charter_delivery_cache_requests_total", result="hit") == 4
            drop = {"date", "x-request-id", "server"}
            seen[interface] = {n: {k: v for k, v in r.headers.items() if k not in drop} for n, r in answers.items()}
    assert seen["rsgi"] == seen["asgi"]
    allowed = seen["rsgi"]["allowed"]
    assert (
        allowed["access-control-allow-origin"] == ALLOWED and "X-Request-ID" in allowed["access-control-expose-headers"]
    )
    assert seen["rsgi"]["304"]["access-control-allow-origin"] == ALLOWED
    for name in ("other", "none"):
        assert "access-control-allow-origin" not in seen["rsgi"][name]
    for answer in seen["rsgi"].values():
        assert "origin" in [v.strip().lower() for v in answer["vary"].split(",")], answer


def test_the_rsgi_door_finds_the_fast_path_behind_the_cors_layer(tmp_path: Path) -> None:
    """``charter serve``'s RSGI app answers hits itself with or without ``[charter.cors]``."""
    from charter.app import create_app
    from charter.cli.commands.serve import rsgi_doors
    from charter.config import load_settings
    from charter.delivery.fastpath import DeliveryFastPath
    from charter.http.cors import CorsLayer
    from tests.faults import procs

    for toml, cors in (("", False), (f'[charter.cors]\nallow_origins = ["{ALLOWED}"]\n', True)):
        project = procs.project(tmp_path / str(cors), toml)
        app = create_app(load_settings(project, database_url=f"sqlite:///{tmp_path / f'{cors}.db'}", worker=False))
        try:
            fast, layer = rsgi_doors(app)
            assert isinstance(fast, DeliveryFastPath)
            assert isinstance(layer, CorsLayer) is cors
        finally:
            app.state.runtime.close()
