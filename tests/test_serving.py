"""``charter serve``'s uvicorn protocol (charter.serving): one write per response, streamed
responses still leave chunk by chunk, keep-alive and pipelined requests still work."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn

from charter.serving import HttpProtocol, uvicorn_options
from tests.services import free_port

released = threading.Event()


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    if scope["path"] == "/stream":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"first\n", "more_body": True})
        while not released.is_set():  # the second chunk waits until the client has read the first
            await asyncio.sleep(0.01)
        await send({"type": "http.response.body", "body": b"second\n", "more_body": False})
        return
    body = scope["path"].encode()
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-length", str(len(body)).encode())]}
    )
    await send({"type": "http.response.body", "body": body})


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    port = free_port()
    options = {k: v for k, v in uvicorn_options().items() if k != "lifespan"}
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", **options)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_serve_uses_the_corked_protocol() -> None:
    assert uvicorn_options()["http"] is HttpProtocol


def test_keep_alive_requests_each_get_their_response(base_url: str) -> None:
    with httpx.Client(base_url=base_url) as client:
        for i in range(20):
            r = client.get(f"/n{i}")
            assert r.status_code == 200 and r.text == f"/n{i}"


def test_pipelined_requests_arrive_whole_and_in_order(base_url: str) -> None:
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"".join(f"GET /p{i} HTTP/1.1\r\nHost: x\r\n\r\n".encode() for i in range(3)))
        data = b""
        while data.count(b"HTTP/1.1 200") < 3 or not data.endswith(b"/p2"):
            chunk = sock.recv(65536)
            assert chunk, data
            data += chunk
    bodies = [part.split(b"\r\n\r\n", 1)[1][:3] for part in data.split(b"HTTP/1.1 200 OK")[1:]]
    assert bodies == [b"/p0", b"/p1", b"/p2"]


def test_a_streamed_body_leaves_before_the_response_ends(base_url: str) -> None:
    released.clear()
    with httpx.Client(base_url=base_url, timeout=10) as client, client.stream("GET", "/stream") as r:
        lines = r.iter_lines()
        assert next(lines) == "first"  # would time out if the first chunk were held back
        released.set()
        assert next(lines) == "second"


def test_granian_is_the_default_and_the_cli_agrees() -> None:
    import inspect

    from charter.cli.commands.serve import serve
    from charter.serving import DEFAULT_INTERFACE, DEFAULT_SERVER, INTERFACES, SERVERS

    assert DEFAULT_SERVER == "granian" and set(SERVERS) == {"granian", "uvicorn"}
    assert inspect.signature(serve).parameters["server"].default == DEFAULT_SERVER
    # granian runs RSGI unless told otherwise (bench/delivery: less CPU per cached hit than its ASGI).
    assert DEFAULT_INTERFACE == "rsgi" and set(INTERFACES) == {"rsgi", "asgi"}
    assert inspect.signature(serve).parameters["interface"].default is None  # rsgi on granian, asgi on uvicorn


@pytest.mark.slow
@pytest.mark.parametrize("server", ["granian", "uvicorn"])
def test_charter_serve_runs_on_either_server(server: str, tmp_path: Any) -> None:
    """The demo through ``charter serve --server``: a cached page, the fast path's headers, a
    problem, and a clean stop on SIGTERM (what a process manager sends)."""
    import os
    import subprocess
    import sys

    port = free_port()
    cmd = [sys.executable, "-m", "charter", "serve", "--demo", "--port", str(port), "--server", server]
    log = tmp_path / "serve.log"
    env = {**os.environ, "CHARTER_DEMO_DATA": str(tmp_path / "demo")}
    proc = subprocess.Popen(cmd, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180
        while True:
            assert proc.poll() is None, log.read_text()[-2000:]
            assert time.monotonic() < deadline, "charter serve did not start"
            try:
                first = httpx.get(f"http://127.0.0.1:{port}/v1/pages/home", timeout=2)
                break
            except httpx.HTTPError:
                time.sleep(0.25)
        again = httpx.get(f"http://127.0.0.1:{port}/v1/pages/home", headers={"If-None-Match": first.headers["etag"]})
        assert first.status_code == 200 and again.status_code == 304
        assert first.headers["surrogate-key"] and first.headers["x-request-id"]
        missing = httpx.get(f"http://127.0.0.1:{port}/v1/pages/no-such-page")
        assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
    finally:
        proc.terminate()
        # uvicorn re-raises the SIGTERM once it has shut down cleanly; granian exits 0.
        assert proc.wait(timeout=30) in (0, -15), log.read_text()[-2000:]


def test_forwarded_headers_under_granian_follow_the_same_trust_list() -> None:
    from charter.config import Settings
    from charter.serving import with_forwarded_headers

    seen: list[Any] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.append(scope["client"])

    scope = {"type": "http", "client": ("127.0.0.1", 5000), "headers": [(b"x-forwarded-for", b"203.0.113.7")]}
    untrusted = with_forwarded_headers(app, Settings())
    assert untrusted is app  # nothing trusted: the peer is the client
    trusted = with_forwarded_headers(app, Settings(forwarded_allow_ips=("127.0.0.1",)))
    asyncio.run(trusted(dict(scope), None, None))
    assert seen[-1][0] == "203.0.113.7"
