"""Provider base URLs go through the egress guard: checked when the gateway is built (a refused
URL stops it with a ConfigError), and each new upstream connection resolves the host once and
connects to a permitted address, while pooled connections are reused without a new check."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from charter.egress import Policy
from charter.exceptions import ConfigError
from charter.gateway.providers.transport import PooledTransport
from charter.gateway.types import ProviderError
from charter.runtime import Runtime
from tests.gateway.conftest import write_model_yaml


def test_a_refused_base_url_stops_the_gateway(gw_project, make_runtime: Callable[..., Runtime]) -> None:  # type: ignore[no-untyped-def]
    from charter.gateway.service import Gateway

    write_model_yaml(
        gw_project,
        {"meta": {"kind": "openai", "base_url": "http://[::ffff:169.254.169.254]/v1"}},
        {"m": {"provider": "meta", "model": "x"}},
        {},
    )
    with pytest.raises(ConfigError, match="metadata"):
        Gateway(make_runtime())


def test_pooled_transport_connects_to_the_checked_address_only(upstreams) -> None:  # type: ignore[no-untyped-def]
    up = upstreams("ok")
    lookups: list[str] = []

    def resolver(host: str, port: int, **kwargs: Any) -> list[Any]:
        lookups.append(host)
        return [(0, 0, 0, "", ("127.0.0.1", port))]

    allowed = Policy(Policy.from_allow(["127.0.0.1/32"]).networks, resolver=resolver)
    transport = PooledTransport(f"http://upstream.test:{up.port}/v1", {}, connect_timeout=1.0, egress=allowed)

    async def go() -> list[int]:
        statuses = [(await transport.post("/chat/completions", b"{}", {}, 2.0)).status for _ in range(5)]
        await transport.aclose()
        return statuses

    assert asyncio.run(go()) == [200] * 5
    assert lookups == ["upstream.test"]  # one lookup, one pooled connection for five calls
    assert up.headers_seen[0]["host"] == f"upstream.test:{up.port}"  # the name, not the address

    refused = PooledTransport(up.url + "/v1", {}, connect_timeout=1.0, egress=Policy())

    async def blocked() -> None:
        await refused.post("/chat/completions", b"{}", {}, 2.0)

    seen = len(up.headers_seen)
    with pytest.raises(ProviderError) as info:
        asyncio.run(blocked())
    assert info.value.kind == "egress_refused" and "loopback" in info.value.message
    assert len(up.headers_seen) == seen  # nothing reached the upstream
