"""Rate limits and budgets shared by several gateway instances through the real Redis: two app
instances (own runtime, own gateway, own Redis client, each served by a real uvicorn on loopback)
share one client key, driven by the official ``openai`` client against the mock upstream."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
import redis
import sqlalchemy as sa

from charter.exceptions import ConfigError
from charter.gateway import get_gateway
from charter.gateway.limits import MemoryLimits, RedisLimits
from charter.gateway.mock_upstream import MockUpstream
from charter.gateway.tables import gateway_calls
from charter.runtime import Runtime
from tests.gateway.conftest import LiveServer, flush, provider, write_model_yaml
from tests.services import free_port, require_redis, temporary_postgres_database

pytestmark = pytest.mark.redis

TOKEN = "sk-shared-key-0123456789"
FREE = "sk-unlimited-key-0123456789"
MESSAGES = [{"role": "user", "content": "hello there"}]  # 11 characters: estimated at 3 prompt tokens
#: USD per million tokens. The mock reports 10 prompt tokens and 5 completion tokens: 0.02 USD a call.
PRICE = {"input_per_1m": 1000.0, "output_per_1m": 2000.0}


@pytest.fixture
def prefix() -> Iterator[str]:
    """A Redis key prefix of this test's own, deleted afterwards."""
    url = require_redis()
    value = f"charter:test:limits:{uuid.uuid4().hex[:10]}:"
    yield value
    client = redis.Redis.from_url(url)
    for key in client.scan_iter(value + "*"):
        client.delete(key)
    client.close()


def _setup(
    gw_project: Path, up: MockUpstream, key: dict[str, Any], prefix: str, monkeypatch: pytest.MonkeyPatch, **limits: Any
) -> None:
    monkeypatch.setenv("TEST_SHARED_KEY", TOKEN)
    monkeypatch.setenv("TEST_FREE_KEY", FREE)
    write_model_yaml(
        gw_project,
        providers={"up": provider(up)},
        models={"paid": {"provider": "up", "model": "m", "price": PRICE}},
        routes={},
        keys=[{"name": "site", "env": "TEST_SHARED_KEY", **key}, {"name": "free", "env": "TEST_FREE_KEY"}],
        limits={"backend": "redis", "prefix": prefix, **limits},
    )


def _client(server: LiveServer, token: str = TOKEN) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key=token, max_retries=0, timeout=10)


def _call(client: openai.OpenAI, **kw: Any) -> str:
    """``ok`` or the error code of one chat completion."""
    try:
        client.chat.completions.create(model="paid", messages=MESSAGES, **kw)  # type: ignore[arg-type]
    except openai.APIStatusError as exc:
        return f"{exc.status_code} {exc.code}"
    return "ok"


def _two_servers(make_runtime: Callable[..., Runtime], live_server: Callable[..., LiveServer], **kw: Any) -> Any:
    """Two instances on one database and one Redis, each a real server, warmed up by one call of
    the key without limits: FastAPI builds its routes on their first match, under a
    ``warnings.catch_warnings()`` that is not thread-safe, and two servers in one test process
    doing that at once would turn a silenced pydantic warning into pytest's error."""
    servers = live_server(make_runtime(**kw)), live_server(make_runtime(**kw))
    for server in servers:
        assert _call(_client(server, FREE)) == "ok"
    return servers


def _spent(*instances: LiveServer) -> float:
    """The shared key's spend in the audit records, every instance's queue flushed first."""
    for server in instances:
        flush(server.rt)
    total = sa.select(sa.func.coalesce(sa.func.sum(gateway_calls.c.cost), 0.0))
    with instances[0].rt.read() as conn:
        return float(conn.execute(total.where(gateway_calls.c.key_name == "site")).scalar_one())


def _today(fmt: str = "%Y-%m-%d") -> str:
    return datetime.now(UTC).strftime(fmt)


def test_rpm_allows_exactly_n_calls_across_both_instances(  # type: ignore[no-untyped-def]
    gw_project, upstreams, make_runtime, live_server, prefix, monkeypatch
) -> None:
    up = upstreams("ok")
    _setup(gw_project, up, {"rpm": 4}, prefix, monkeypatch)
    a, b = _two_servers(make_runtime, live_server)
    ca, cb = _client(a), _client(b)
    assert isinstance(get_gateway(a.rt).limits, RedisLimits)
    codes = [_call(c) for c in (ca, cb, ca, cb, ca, cb)]
    assert codes == ["ok"] * 4 + ["429 rate_limit_exceeded"] * 2
    with pytest.raises(openai.RateLimitError) as refused:
        cb.chat.completions.create(model="paid", messages=MESSAGES)  # type: ignore[arg-type]
    assert 1 <= int(refused.value.response.headers["retry-after"]) <= 60
    assert len(up.requests) == 2 + 4  # the warm-ups, then the admitted calls: refused ones never get there


def test_concurrent_calls_on_both_instances_cannot_exceed_the_rate(  # type: ignore[no-untyped-def]
    gw_project, upstreams, make_runtime, live_server, prefix, monkeypatch
) -> None:
    up = upstreams("ok", delay=0.2)
    _setup(gw_project, up, {"rpm": 5}, prefix, monkeypatch)
    a, b = _two_servers(make_runtime, live_server)
    clients = [_client(a), _client(b)] * 8
    with ThreadPoolExecutor(16) as pool:
        codes = list(pool.map(_call, clients))
    assert codes.count("ok") == 5 and codes.count("429 rate_limit_exceeded") == 11
    assert len(up.requests) == 2 + 5


def test_budget_spent_on_one_instance_blocks_the_other(  # type: ignore[no-untyped-def]
    gw_project, upstreams, make_runtime, live_server, prefix, monkeypatch
) -> None:
    up = upstreams("ok")
    # 0.05 USD: admitted at 0, 0.02 and 0.04 spent (an estimate of 0.003 still fits), then spent.
    _setup(gw_project, up, {"budget": {"usd": 0.05, "period": "day"}}, prefix, monkeypatch)
    a, b = _two_servers(make_runtime, live_server)
    ca, cb = _client(a), _client(b)
    assert [_call(ca), _call(ca)] == ["ok", "ok"]
    # A stream on the other instance is charged to the same counter.
    chunks = list(cb.chat.completions.create(model="paid", messages=MESSAGES, stream=True))  # type: ignore[call-overload]
    assert chunks
    assert _call(ca) == "429 budget_exceeded"
    assert _call(cb) == "429 budget_exceeded"
    assert len(up.requests) == 2 + 3
    assert _call(_client(b, FREE)) == "ok"  # a key without limits is not held back
    stored = redis.Redis.from_url(require_redis()).hgetall(f"{prefix}site:spend:{_today()}")
    assert float(stored[b"held"]) == 0.0  # every reservation was settled
    assert float(stored[b"spent"]) == pytest.approx(_spent(a, b)) and _spent(a, b) > 0.05


def test_concurrent_calls_on_both_instances_cannot_overspend(  # type: ignore[no-untyped-def]
    gw_project, upstreams, make_runtime, live_server, prefix, monkeypatch
) -> None:
    up = upstreams("ok", delay=0.5)
    # With max_tokens 10 a call is reserved at 3 * 0.001 + 10 * 0.002 = 0.023 USD (it costs 0.02), so
    # at most four calls fit in 0.1 USD at once; unshared, each instance would admit four.
    _setup(gw_project, up, {"budget": {"usd": 0.1, "period": "month"}}, prefix, monkeypatch)
    a, b = _two_servers(make_runtime, live_server)
    clients = [_client(a), _client(b)] * 6
    with ThreadPoolExecutor(12) as pool:
        codes = list(pool.map(lambda c: _call(c, max_tokens=10), clients))
    assert codes.count("ok") == 4 and codes.count("429 budget_exceeded") == 8
    assert len(up.requests) == 2 + 4
    assert _spent(a, b) == pytest.approx(0.08)
    assert _call(_client(b), max_tokens=10) == "429 budget_exceeded"  # 0.02 left, less than the estimate


@pytest.mark.postgres
def test_spend_is_seeded_from_the_audit_records_when_redis_forgot_it(  # type: ignore[no-untyped-def]
    gw_project, upstreams, make_runtime, prefix, monkeypatch
) -> None:
    """Two instances on PostgreSQL: the spend counter lives in Redis across restarts of the
    instances, and when Redis has lost it, the next admission rebuilds it from the audit records."""
    up = upstreams("ok")
    _setup(gw_project, up, {"budget": {"usd": 0.03, "period": "month"}}, prefix, monkeypatch)
    body = {"model": "paid", "messages": MESSAGES}
    auth = {"Authorization": f"Bearer {TOKEN}"}
    from fastapi.testclient import TestClient

    from charter.app import create_app

    def post(rt: Runtime) -> int:
        """One call through an instance that starts and stops (its shutdown writes its audit records)."""
        with TestClient(create_app(rt.settings, runtime=rt)) as client:
            return client.post("/v1/chat/completions", json=body, headers=auth).status_code

    with temporary_postgres_database("charter_limits") as url:
        assert post(make_runtime(database_url=url)) == 200  # 0.02 of 0.03 spent
        # Restarted instances count on in Redis.
        assert post(make_runtime(database_url=url)) == 200  # 0.01 left, the estimate fits: now 0.04
        assert post(make_runtime(database_url=url)) == 429
        client = redis.Redis.from_url(require_redis())
        for key in client.scan_iter(prefix + "*"):
            client.delete(key)  # Redis restarted empty
        assert post(make_runtime(database_url=url)) == 429  # seeded from PostgreSQL: 0.04 spent
        seeded = client.hget(f"{prefix}site:spend:{_today('%Y-%m')}", "spent")
        assert seeded is not None and float(seeded) == pytest.approx(0.04)
        assert client.pttl(f"{prefix}site:spend:{_today('%Y-%m')}") > 31 * 86_400_000
        client.close()
    assert len(up.requests) == 2


def test_a_crashed_instances_reservation_lapses_after_the_lease(  # type: ignore[no-untyped-def]
    gw_project, upstreams, make_runtime, prefix, monkeypatch
) -> None:
    _setup(gw_project, upstreams("ok"), {"budget": {"usd": 0.05, "period": "total"}}, prefix, monkeypatch, lease=1.0)
    crashed, other = get_gateway(make_runtime()), get_gateway(make_runtime())
    route = crashed.resolve("paid")

    async def go() -> list[str]:
        await crashed.admit(crashed.authenticate(TOKEN), route, 0.05)  # never settled: the instance died
        key = other.authenticate(TOKEN)
        out = []
        for _ in range(2):
            try:
                admission = await other.admit(key, route, 0.01)
                await other.settle(key, admission, 0.0)
                out.append("ok")
            except Exception as exc:
                out.append(getattr(exc, "code", None) or repr(exc))
            await asyncio.sleep(1.2)
        return out

    assert asyncio.run(go()) == ["budget_exceeded", "ok"]


class Relay:
    """A TCP relay on loopback to Redis that can be cut and restored, to take "Redis" down for one
    instance without touching the real server other tests use."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self._sockets: list[socket.socket] = []
        self._listener: socket.socket | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> Relay:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                inbound, _ = listener.accept()
            except OSError:
                return
            outbound = socket.create_connection(self.target)
            self._sockets += [inbound, outbound]
            for src, dst in ((inbound, outbound), (outbound, inbound)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def stop(self) -> None:
        if self._listener is not None:
            try:
                self._listener.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
            except OSError:
                pass
            self._listener.close()
            self._listener = None
        for s in self._sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
        self._sockets.clear()


@pytest.fixture
def relay() -> Iterator[Relay]:
    from urllib.parse import urlparse

    parsed = urlparse(require_redis())
    r = Relay((parsed.hostname or "127.0.0.1", parsed.port or 6379)).start()
    yield r
    r.stop()


def test_redis_down_fails_closed_and_recovers(  # type: ignore[no-untyped-def]
    gw_project, upstreams, make_runtime, live_server, prefix, relay, monkeypatch
) -> None:
    up = upstreams("ok")
    _setup(gw_project, up, {"rpm": 100, "budget": {"usd": 10}}, prefix, monkeypatch, timeout=0.3)
    server = live_server(make_runtime(redis_url=relay.url))
    limited, free = _client(server), _client(server, FREE)
    assert _call(limited) == "ok"
    relay.stop()
    started = time.monotonic()
    with pytest.raises(openai.InternalServerError) as refused:  # not admitted unmetered
        limited.chat.completions.create(model="paid", messages=MESSAGES)  # type: ignore[arg-type]
    assert refused.value.status_code == 503 and refused.value.code == "limits_unavailable"
    assert refused.value.response.headers["retry-after"] == "1"
    assert time.monotonic() - started < 5.0  # bounded by limits.timeout (0.3 s), not hanging (loose: CI load)
    assert _call(free) == "ok"  # keys without limits never ask Redis
    assert len(up.requests) == 2
    relay.start()  # Redis is back: so is the key
    assert _call(limited) == "ok"


def test_readiness_follows_the_limits_store(  # type: ignore[no-untyped-def]
    gw_project, upstreams, make_runtime, live_server, prefix, relay, monkeypatch
) -> None:
    _setup(gw_project, upstreams("ok"), {"rpm": 100}, prefix, monkeypatch, timeout=0.3)
    server = live_server(make_runtime(redis_url=relay.url))
    ready = httpx.get(server.url + "/readyz", timeout=5)
    assert ready.status_code == 200 and ready.json()["checks"] == {
        "database": "ok",
        "cache": "ok",
        "limits": "ok",
        "retrieval": "ok",
    }
    relay.stop()
    down = httpx.get(server.url + "/readyz", timeout=5)
    assert down.status_code == 503 and down.json()["checks"]["limits"] == "error: RedisUnavailable"
    assert down.json()["checks"]["database"] == "ok"
    relay.start()
    assert httpx.get(server.url + "/readyz", timeout=5).status_code == 200


def test_redis_down_on_charters_own_routes_is_a_problem_json_503(  # type: ignore[no-untyped-def]
    gw_project, upstreams, make_runtime, gw_client, prefix, monkeypatch
) -> None:
    _setup(gw_project, upstreams("ok"), {"rpm": 10}, prefix, monkeypatch)
    client = gw_client(make_runtime(redis_url=f"redis://127.0.0.1:{free_port()}/0"))  # nothing listens
    r = client.post("/v1/ask", json={"question": "How long do refunds take?"}, headers={"x-api-key": TOKEN})
    assert r.status_code == 503 and r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "limits_unavailable" and r.headers["retry-after"] == "1"


def test_redis_lost_during_a_call_still_answers_it(  # type: ignore[no-untyped-def]
    gw_project, upstreams, make_runtime, live_server, prefix, relay, monkeypatch, capfd
) -> None:
    """The settlement after the upstream answered fails: the client still gets its answer, the
    failure is logged, and the reservation lapses with its lease."""
    cut = threading.Event()
    up = upstreams("ok", hold=cut)  # answers once Redis is cut off, however long that takes
    _setup(gw_project, up, {"budget": {"usd": 10}}, prefix, monkeypatch, timeout=0.3)
    server = live_server(make_runtime(redis_url=relay.url))

    def cut_once_upstream_called() -> None:
        deadline = time.monotonic() + 10
        while not up.requests and time.monotonic() < deadline:
            time.sleep(0.01)
        relay.stop()
        cut.set()

    threading.Thread(target=cut_once_upstream_called, daemon=True).start()
    assert _call(_client(server)) == "ok"
    assert '"event": "gateway_limits_settle_failed"' in capfd.readouterr().err


def test_auto_backend_follows_the_cache_setting(gw_project, upstreams, make_runtime, prefix, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _setup(gw_project, upstreams("ok"), {"rpm": 1}, prefix, monkeypatch, backend="auto")
    assert isinstance(get_gateway(make_runtime()).limits, MemoryLimits)  # the embedded default
    shared = make_runtime(cache="redis", redis_url=require_redis(), extra={"redis_prefix": prefix + "cache:"})
    assert isinstance(get_gateway(shared).limits, RedisLimits)


def test_a_redis_url_the_limits_cannot_use_stops_the_gateway(  # type: ignore[no-untyped-def]
    gw_project, upstreams, make_runtime, prefix, monkeypatch
) -> None:
    _setup(gw_project, upstreams("ok"), {"rpm": 1}, prefix, monkeypatch)
    with pytest.raises(ConfigError, match=r"CHARTER_REDIS_URL.*redis:// or rediss://"):
        get_gateway(make_runtime(redis_url="unix:///run/redis.sock"))


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        ({"backend": "shared"}, "backend is one of auto, memory, redis"),
        ({"timeout": 0}, "positive"),
        ({"lease": "long"}, "numbers of seconds"),
        ({"prefix": ""}, "non-empty"),
        ({"url": "redis://x"}, "unknown key 'url'"),
    ],
)
def test_limits_config_mistakes_are_named(gw_project, make_runtime, limits, message) -> None:  # type: ignore[no-untyped-def]
    write_model_yaml(gw_project, providers={}, models={}, routes={}, limits=limits)
    with pytest.raises(ConfigError, match=message):
        get_gateway(make_runtime())
