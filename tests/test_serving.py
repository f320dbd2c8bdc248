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
