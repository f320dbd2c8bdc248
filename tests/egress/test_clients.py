"""Clients built by :mod:`charter.egress` against a real loopback server: refused unless allowed,
the connection goes to the checked address with the name kept in ``Host``, one lookup per pooled
connection, redirects are answers (never followed), environment proxies are ignored."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from charter import egress
from charter.egress import Policy
from tests.services import free_port


class Server:
    def __init__(self) -> None:
        self.port = free_port()
        self.hosts: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                server.hosts.append(self.headers.get("host", ""))
                if self.path == "/redirect":
                    self.send_response(302)
                    self.send_header("location", "http://169.254.169.254/latest/meta-data/")
                    self.send_header("content-length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[Server]:
    s = Server()
    yield s
    s.close()


def test_loopback_is_refused_unless_allowed(server: Server) -> None:
    with egress.client(Policy(), timeout=5) as http, pytest.raises(httpx.ConnectError) as info:
        http.get(f"http://127.0.0.1:{server.port}/")
    assert "loopback" in (egress.refused_reason(info.value) or "")
    assert server.hosts == []
    with egress.client(Policy.from_allow(["127.0.0.0/8"]), timeout=5) as http:
        assert http.get(f"http://127.0.0.1:{server.port}/").text == "ok"


def test_a_name_is_resolved_once_and_the_connection_goes_to_the_checked_address(server: Server) -> None:
    lookups: list[str] = []

    def resolver(host: str, port: int, **kwargs: Any) -> list[Any]:
        lookups.append(host)
        return [(0, 0, 0, "", ("127.0.0.1", port))]

    policy = Policy(Policy.from_allow(["127.0.0.1/32"]).networks, resolver=resolver)
    with egress.client(policy, timeout=5) as http:
        for _ in range(3):
            assert http.get(f"http://hooks.test:{server.port}/").status_code == 200
    assert lookups == ["hooks.test"]  # one lookup; the pooled connection served all three
    assert server.hosts == [f"hooks.test:{server.port}"] * 3

    rebound = Policy(resolver=resolver)  # the same name, now pointing inside, is refused
    with egress.client(rebound, timeout=5) as http, pytest.raises(httpx.ConnectError):
        http.get(f"http://hooks.test:{server.port}/")


def test_redirects_are_not_followed_and_proxies_are_ignored(server: Server, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("ALL_PROXY", "http://127.0.0.1:9")
    with egress.client(Policy.from_allow(["127.0.0.1"]), timeout=5) as http:
        r = http.get(f"http://127.0.0.1:{server.port}/redirect")
    assert r.status_code == 302 and len(server.hosts) == 1


def test_the_async_client_applies_the_same_policy(server: Server) -> None:
    async def go(policy: Policy) -> int:
        async with egress.async_client(policy, timeout=5) as http:
            return (await http.get(f"http://[::ffff:127.0.0.1]:{server.port}/")).status_code

    with pytest.raises(httpx.ConnectError):
        asyncio.run(go(Policy()))
    with pytest.raises(egress.Refused):
        egress.async_client(Policy(), base_url="http://2130706433/")
    assert server.hosts == []
