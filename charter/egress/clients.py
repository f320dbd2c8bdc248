"""The only place Charter builds outbound HTTP clients: :func:`client` and :func:`async_client`.

Every client built here

- connects only to addresses the :class:`~charter.egress.policy.Policy` permits: the host name is
  resolved once per new connection, the addresses are checked, and the socket is opened to a
  checked address (no second lookup, so a name cannot be re-pointed between check and connect).
  The ``Host`` header and TLS SNI keep the name; connections are pooled as usual;
- never follows redirects (a 3xx is an answer, not an instruction to call somewhere else);
- ignores ``HTTP(S)_PROXY`` from the environment (a proxy would make the connection, unchecked).

A refused connection raises :class:`httpx.ConnectError` whose ``__cause__`` is a
:class:`RefusedConnection` naming the address and the reason; see :func:`refused_reason`.
Anything common to all outbound calls (trace context propagation, a user agent) belongs here.
"""

from __future__ import annotations

import asyncio
import typing
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

from charter.egress.policy import Policy, Refused, check_url
from charter.observability.propagation import async_httpx_hooks, httpx_hooks

DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=30)


class RefusedConnection(httpcore.ConnectError):
    """The egress policy refused every address of the host (surfaces as ``httpx.ConnectError``)."""


def refused_reason(exc: BaseException) -> str | None:
    """The policy's reason when ``exc`` (an httpx error) is a refused connection, else ``None``."""
    cause = exc.__cause__ if isinstance(exc, httpx.ConnectError) else exc
    return str(cause) if isinstance(cause, RefusedConnection) else None


class _GuardedBackend(httpcore.NetworkBackend):
    def __init__(self, policy: Policy, inner: httpcore.NetworkBackend) -> None:
        self.policy = policy
        self.inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            addresses = self.policy.host_addresses(host, port)
        except Refused as exc:
            raise RefusedConnection(str(exc)) from None
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from None
        error: Exception | None = None
        for address in addresses:
            try:
                return self.inner.connect_tcp(str(address), port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        assert error is not None
        raise error

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        raise RefusedConnection("outbound calls go over TCP only")

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)


class _AsyncGuardedBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, policy: Policy, inner: httpcore.AsyncNetworkBackend) -> None:
        self.policy = policy
        self.inner = inner

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            addresses = await asyncio.to_thread(self.policy.host_addresses, host, port)
        except Refused as exc:
            raise RefusedConnection(str(exc)) from None
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from None
        error: Exception | None = None
        for address in addresses:
            try:
                return await self.inner.connect_tcp(str(address), port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        assert error is not None
        raise error

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise RefusedConnection("outbound calls go over TCP only")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class GuardedTransport(httpx.HTTPTransport):
    """``httpx.HTTPTransport`` whose connections go through the policy (pooling unchanged)."""

    def __init__(self, policy: Policy, *, limits: httpx.Limits = DEFAULT_LIMITS, **kwargs: Any) -> None:
        super().__init__(limits=limits, trust_env=False, **kwargs)
        pool = typing.cast(Any, self._pool)
        pool._network_backend = _GuardedBackend(policy, pool._network_backend)


class AsyncGuardedTransport(httpx.AsyncHTTPTransport):
    """``httpx.AsyncHTTPTransport`` whose connections go through the policy (pooling unchanged)."""

    def __init__(self, policy: Policy, *, limits: httpx.Limits = DEFAULT_LIMITS, **kwargs: Any) -> None:
        super().__init__(limits=limits, trust_env=False, **kwargs)
        pool = typing.cast(Any, self._pool)
        pool._network_backend = _AsyncGuardedBackend(policy, pool._network_backend)


def _checked_base(base_url: str, policy: Policy) -> str:
    return check_url(base_url, policy) if base_url else ""


def client(policy: Policy, *, base_url: str = "", limits: httpx.Limits = DEFAULT_LIMITS, **kwargs: Any) -> httpx.Client:
    """A synchronous outbound client under ``policy``. ``base_url`` (optional) is checked now
    (:class:`~charter.egress.policy.Refused`); other keyword arguments go to :class:`httpx.Client`
    (``timeout``, ``headers``); ``follow_redirects``, ``trust_env`` and ``transport`` are fixed."""
    return httpx.Client(
        base_url=_checked_base(base_url, policy),
        transport=GuardedTransport(policy, limits=limits),
        follow_redirects=False,
        trust_env=False,
        event_hooks=_with_trace_context(kwargs.pop("event_hooks", None), httpx_hooks()),
        **kwargs,
    )


def async_client(
    policy: Policy,
    *,
    base_url: str = "",
    limits: httpx.Limits = DEFAULT_LIMITS,
    proxy: str | None = None,
    **kwargs: Any,
) -> httpx.AsyncClient:
    """The asynchronous twin of :func:`client`. With ``proxy`` (an operator-configured forward
    proxy) the proxy makes the connection: ``base_url`` is still checked, literally, but the
    address the proxy resolves is not (docs/egress.md says so)."""
    transport: httpx.AsyncBaseTransport = (
        httpx.AsyncHTTPTransport(proxy=proxy, limits=limits, trust_env=False)
        if proxy
        else AsyncGuardedTransport(policy, limits=limits)
    )
    return httpx.AsyncClient(
        base_url=_checked_base(base_url, policy),
        transport=transport,
        follow_redirects=False,
        trust_env=False,
        event_hooks=_with_trace_context(kwargs.pop("event_hooks", None), async_httpx_hooks()),
        **kwargs,
    )


def _with_trace_context(given: dict[str, list[Any]] | None, ours: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """The caller's event hooks plus ours: every request leaves with the current W3C trace
    context and baggage (charter.observability.propagation; docs/observability.md)."""
    hooks = {name: list(fns) for name, fns in (given or {}).items()}
    for name, fns in ours.items():
        hooks.setdefault(name, []).extend(fns)
    return hooks
