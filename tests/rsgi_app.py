"""A small ASGI app for tests/test_rsgi.py, served by granian over RSGI through
:class:`charter.http.rsgi.RSGIApp` (``granian --interface rsgi --factory tests.rsgi_app:make``).

Its lifespan and what it saw of a client's disconnect are written to the file named by
``RSGI_TEST_LOG``, one line each."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from typing import Any

from charter.http.rsgi import RSGIApp


def note(line: str) -> None:
    with open(os.environ["RSGI_TEST_LOG"], "a", encoding="utf-8") as f:
        f.write(line + "\n")


async def respond(send: Any, status: int, body: bytes, content_type: bytes = b"application/json") -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                note("started")
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                note("stopped")
                await send({"type": "lifespan.shutdown.complete"})
                return
    path = scope["path"]
    if path == "/scope":
        seen = {k: scope[k] for k in ("http_version", "method", "scheme", "path", "root_path")}
        seen["query_string"] = scope["query_string"].decode()
        seen["headers"] = [[k.decode(), v.decode()] for k, v in scope["headers"]]
        seen["client"], seen["server"] = list(scope["client"]), list(scope["server"])
        first = await receive()
        seen["body"] = [first["type"], first["body"].decode(), first["more_body"]]
        await respond(send, 200, json.dumps(seen).encode())
    elif path == "/upload":
        digest, size, more = hashlib.sha256(), 0, True
        while more:
            message = await receive()
            digest.update(message["body"])
            size += len(message["body"])
            more = message["more_body"]
        await respond(send, 201, json.dumps({"size": size, "sha256": digest.hexdigest()}).encode())
    elif path == "/stream":
        start = {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]}
        await send(start)
        await send({"type": "http.response.body", "body": b"first\n", "more_body": True})
        await asyncio.sleep(1.0)
        await send({"type": "http.response.body", "body": b"second\n", "more_body": True})
        await send({"type": "http.response.body", "body": b""})
    elif path == "/watch":  # a stream that ends when the client goes, as Starlette's do
        start = {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/event-stream")]}
        await send(start)
        await send({"type": "http.response.body", "body": b"data: hello\n\n", "more_body": True})
        while (await receive())["type"] != "http.disconnect":
            pass
        note("disconnected")
    elif path == "/boom":
        raise RuntimeError("the app failed before answering")
    elif path == "/silent":
        return
    else:
        await respond(send, 404, b'{"detail": "not found"}')


def make() -> RSGIApp:
    return RSGIApp(app)
