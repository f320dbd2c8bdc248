"""The production layout on one machine: 3 ``charter serve`` instances (each with its in-process
worker, the default) and 2 ``charter worker`` processes on one PostgreSQL database and one Redis,
Varnish in front (docs/deploy.md).

It shows: a write on any instance is read on all of them and through Varnish; caches (each
instance's own, Redis, Varnish) are purged everywhere; the same question to ``/v1/ask`` gets the
same cited answer from every instance, also after a publish made on one of them; a scheduled
release publishes exactly once; every event is delivered to a webhook, once per claim; gateway rate
limits are shared; and a ``kill -9`` of one instance and one worker mid-run loses no acknowledged
write and no delivery."""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import sqlalchemy as sa

from charter.auth.roles import SYSTEM
from charter.auth.tokens import create_token
from charter.config import load_settings
from charter.db.tables import events
from charter.edge.settings import purge_secret
from charter.edge.vcl import Backend, render
from charter.gateway.mock_upstream import MockUpstream
from charter.runtime import Runtime
from charter.webhooks.subscriptions import create_subscription
from charter.webhooks.tables import webhook_deliveries
from tests.content.releasing import plan
from tests.faults import procs
from tests.gateway.conftest import provider, write_model_yaml
from tests.services import free_port, require_redis, require_varnish, temporary_postgres_database, varnishd

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis, pytest.mark.varnish]

KEY = "sk-multi-instance-0123456789"
TOML = """[charter]
cache = "redis"
redis_url = "{redis}"

[charter.extra]
redis_prefix = "{prefix}"

[charter.workflow]
release_approvals = 0

[charter.webhooks]
max_attempts = 50
backoff_base = 0.05
backoff_max = 0.5
timeout = 2

[charter.egress]
allow = ["127.0.0.0/8"]

[charter.edge]
varnish = ["{varnish}"]
repurge_after = 0.5
"""


class Cluster:
    def __init__(self, tmp: Path, pg: str, project: Path, edge: str, token: str) -> None:
        self.tmp, self.pg, self.project, self.edge, self.token = tmp, pg, project, edge, token
        self.ports = [free_port() for _ in range(3)]
        self.servers: list[Any] = [None, None, None]
        self.workers: list[Any] = [None, None]

    def url(self, i: int) -> str:
        return f"http://127.0.0.1:{self.ports[i]}"

    def start_server(self, i: int) -> None:
        self.servers[i] = procs.server(self.project, self.pg, self.ports[i], self.tmp / f"server{i}.log")

    def start_worker(self, i: int) -> None:
        self.workers[i] = procs.worker(self.project, self.pg, self.tmp / f"worker{i}.log", interval=0.05)

    def live(self) -> list[int]:
        return [i for i, p in enumerate(self.servers) if p is not None and p.poll() is None]

    def call(self, method: str, path: str, *, via: int, **kwargs: Any) -> httpx.Response:
        """A management call on instance ``via``, or on the next live one when it is down (what a
        load balancer does); a request that reached no instance is retried, never one that was answered."""
        order = [via, *[i for i in range(3) if i != via]]
        for i in order:
            try:
                return httpx.request(
                    method, self.url(i) + path, headers={"Authorization": f"Bearer {self.token}"}, timeout=30, **kwargs
                )
            except httpx.ConnectError:
                continue
        raise AssertionError("no instance answered")

    def stop(self) -> None:
        for p in [*self.servers, *self.workers]:
            if p is not None:
                procs.stop(p)


def eventually(check: Callable[[], bool], what: str, timeout: float = 30.0) -> float:
    """Seconds until ``check()`` holds (AssertionError naming ``what`` after ``timeout``)."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(0.02)
    return time.monotonic() - started


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    url = require_redis()
    value = f"charter:test:multi:{uuid.uuid4().hex[:10]}:"
    yield value
    client = redis.Redis.from_url(url)
    for key in client.scan_iter(value + "*"):
        client.delete(key)
    client.close()


@pytest.mark.timeout(900)  # 3 instances loading the embedding model, 2 workers: minutes on a loaded machine
def test_three_instances_two_workers_postgres_redis_and_varnish(
    tmp_path: Path, redis_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from charter.demo import load_demo_content

    require_varnish()
    redis_url = require_redis()
    edge_port = free_port()
    edge = f"http://127.0.0.1:{edge_port}"
    up = MockUpstream(free_port(), mode="ok").start_in_thread()
    monkeypatch.setenv("TEST_MULTI_KEY", KEY)
    with temporary_postgres_database("charter_multi") as pg:
        project = procs.project(tmp_path, TOML.format(redis=redis_url, prefix=redis_prefix, varnish=edge))
        write_model_yaml(
            project,
            providers={"up": provider(up)},
            models={"paid": {"provider": "up", "model": "m"}},
            routes={},
            keys=[{"name": "site", "env": "TEST_MULTI_KEY", "rpm": 6}],
            limits={"backend": "redis", "prefix": redis_prefix + "limits:"},
        )
        settings = load_settings(project, database_url=pg, secret_key=procs.env(pg)["CHARTER_SECRET_KEY"], edge={})
        rt = Runtime.open(settings)
        load_demo_content(rt)
        token = create_token(rt, SYSTEM, "multi-publisher", "admin")[0]
        hook_port = free_port()
        sub = create_subscription(rt, SYSTEM, f"http://127.0.0.1:{hook_port}/hook", ["entry.*", "release.*"])
        with rt.read() as conn:
            first_event = int(conn.execute(sa.select(sa.func.max(events.c.id))).scalar_one())
        received = tmp_path / "received.jsonl"
        receiver = procs.receiver(hook_port, sub.secret, 0.0, received, seed=1)
        cluster = Cluster(tmp_path, pg, project, edge, token)
        vcl = tmp_path / "charter.vcl"
        vcl.write_text(render([Backend("127.0.0.1", p) for p in cluster.ports], purge_secret(settings)))
        try:
            for i in range(3):
                cluster.start_server(i)
            for i in range(2):
                cluster.start_worker(i)
            with varnishd(vcl, edge_port, tmp_path / "varnish"):
                eventually(lambda: httpx.get(edge + "/healthz").status_code == 200, "Varnish sees a healthy backend")
                _run(cluster, rt, up)
            # Settled while the workers run: a delivery the killed worker held is claimed again only
            # once its lease (timeout + 30 s) has run out.
            eventually(lambda: _outstanding(rt) == 0, "every delivery settled", 120)
        finally:
            cluster.stop()
            procs.kill(receiver)
            up.stop()
        _check_deliveries(rt, received, first_event)
        rt.close()


def _read(url: str, path: str) -> dict[str, Any] | None:
    r = httpx.get(url + path, timeout=30)
    return r.json() if r.status_code == 200 else None


def _run(cluster: Cluster, rt: Runtime, up: MockUpstream) -> None:
    # 1. A write on any instance is read on every instance and through Varnish, caches filled first.
    lags: list[float] = []
    created = []
    for n in range(6):
        via = n % 3
        r = cluster.call("POST", "/v1/manage/entries/pricing-plan", via=via, json={"data": plan(f"multi-{n}", n)})
        assert r.status_code == 201, r.text
        entry = r.json()["id"]
        path = f"/v1/entries/pricing-plan/{entry}"
        for url in [cluster.url(i) for i in range(3)] + [cluster.edge]:
            assert httpx.get(url + path, timeout=30).status_code == 404  # a draft is nowhere
        assert cluster.call("POST", f"/v1/manage/entries/{entry}/publish", via=via).status_code == 200
        for url in [cluster.url(i) for i in range(3)] + [cluster.edge]:
            lags.append(eventually(lambda url=url, path=path: _read(url, path) is not None, f"{path} on {url}"))
        for url in [cluster.url(i) for i in range(3)] + [cluster.edge]:
            _read(url, path)  # every cache now holds revision 1
        # 2. An update published on another instance replaces it in every cache.
        other = (via + 1) % 3
        current = cluster.call("GET", f"/v1/manage/entries/{entry}", via=other)
        data = plan(f"multi-{n}", n + 1000)
        changed = httpx.put(
            cluster.url(other) + f"/v1/manage/entries/{entry}",
            json={"data": data},
            headers={"Authorization": f"Bearer {cluster.token}", "If-Match": current.headers["etag"]},
            timeout=30,
        )
        assert changed.status_code == 200, changed.text
        assert cluster.call("POST", f"/v1/manage/entries/{entry}/publish", via=other).status_code == 200
        for url in [cluster.url(i) for i in range(3)] + [cluster.edge]:
            lags.append(
                eventually(
                    lambda url=url, path=path: (_read(url, path) or {}).get("revision") == 2, f"revision 2 on {url}"
                )
            )
        created.append(entry)
    time.sleep(0.6)  # past repurge_after: no instance or cache may hold revision 1 any more
    for entry in created:
        for url in [cluster.url(i) for i in range(3)] + [cluster.edge]:
            for _ in range(3):  # Varnish round-robins over the instances
                assert (_read(url, f"/v1/entries/pricing-plan/{entry}") or {}).get("revision") == 2, url
    lags.sort()
    print(
        f"\nwrite -> read on every instance and Varnish: median {lags[len(lags) // 2] * 1000:.0f} ms, "
        f"max {lags[-1] * 1000:.0f} ms over {len(lags)} reads"
    )

    # 3. Retrieval answers agree across instances, before and after a publish made on one of them.
    _answers_agree(cluster)

    # 4. A scheduled release publishes exactly once, whichever worker takes it.
    r = cluster.call(
        "POST",
        "/v1/manage/releases",
        via=1,
        json={"name": "scheduled", "items": [{"action": "create", "type": "pricing-plan", "data": plan("sched", 7)}]},
    )
    assert r.status_code == 201, r.text
    release = r.json()
    assert cluster.call("POST", f"/v1/manage/releases/{release['id']}/submit", via=1).status_code == 200
    at = (datetime.now(UTC) + timedelta(seconds=3)).isoformat()
    r = cluster.call("POST", f"/v1/manage/releases/{release['id']}/schedule", via=2, json={"at": at})
    assert r.status_code == 200, r.text
    new_id = release["items"][0]["entry_id"]
    eventually(lambda: _read(cluster.edge, f"/v1/entries/pricing-plan/{new_id}") is not None, "the release", 30)

    # 5. Gateway limits are shared: 6 requests a minute for the key, across all three instances.
    codes = []
    for n in range(9):
        r = httpx.post(
            cluster.url(n % 3) + "/v1/chat/completions",
            json={"model": "paid", "messages": [{"role": "user", "content": "hi"}]},
            headers={"Authorization": f"Bearer {KEY}"},
            timeout=30,
        )
        codes.append(r.status_code)
    assert codes.count(200) == 6 and codes.count(429) == 3, codes
    assert len(up.requests) == 6

    # 6. kill -9 one instance and one worker in the middle of a stream of writes.
    acknowledged: dict[str, int] = {}
    for n in range(30):
        if n == 10:
            procs.kill(cluster.servers[2])
            procs.kill(cluster.workers[1])
        r = cluster.call("POST", "/v1/manage/entries/pricing-plan", via=n % 3, json={"data": plan(f"chaos-{n}", n)})
        assert r.status_code == 201, r.text
        entry = r.json()["id"]
        p = cluster.call("POST", f"/v1/manage/entries/{entry}/publish", via=(n + 1) % 3)
        assert p.status_code == 200, p.text
        acknowledged[entry] = p.json()["published_revision"]
    for entry, revision in acknowledged.items():
        for i in cluster.live():
            got = _read(cluster.url(i), f"/v1/entries/pricing-plan/{entry}")
            assert got is not None and got["revision"] == revision
        assert (_read(cluster.edge, f"/v1/entries/pricing-plan/{entry}") or {}).get("revision") == revision
    with rt.read() as conn:
        published = Counter(
            p["id"]
            for p in conn.execute(sa.select(events.c.payload).where(events.c.type == "release.published")).scalars()
        )
    assert published[release["id"]] == 1


#: What an answer says, without its timing: what must be the same on every instance.
ANSWER_FIELDS = (
    "answer",
    "refused",
    "refusal_reason",
    "citations",
    "intent",
    "route_method",
    "indexes",
    "mode",
    "evidence",
    "model",
    "dropped_sentences",
    "degraded",
    "answer_locale",
    "fallback",
    "prompt",
)
QUESTION = "How much does the Zephyrine plan cost?"


def _ask(url: str) -> dict[str, Any]:
    r = httpx.post(url + "/v1/ask", json={"question": QUESTION, "locale": "en"}, timeout=60)
    assert r.status_code == 200, r.text
    body = r.json()
    answer = {field: body[field] for field in ANSWER_FIELDS}
    # The cosine half of the evidence comes from vectors each instance computed itself.
    answer["evidence"] = round(answer["evidence"], 4)
    return answer


def _cites(answer: dict[str, Any], entry: str) -> int | None:
    """The revision of ``entry`` the answer cites (None: it cites no revision of it)."""
    return next((c["revision"] for c in answer["citations"] if c["entry_id"] == entry), None)


def _answers_agree(cluster: Cluster) -> None:
    """The same question gets the same cited answer from every instance: once every instance can
    answer as the contract says (dense vectors loaded), before a publish, after a publish made on
    instance 0 and after an update published on instance 2. An instance follows another's change
    by its event poll and merges its index segments when idle, so agreement is awaited (bounded),
    then must hold: asked again, every instance gives that same answer."""
    urls = [cluster.url(i) for i in range(3)]

    def ready(url: str) -> bool:
        r = httpx.get(url + "/readyz", timeout=30)
        return r.status_code == 200 and r.json()["checks"].get("retrieval") == "ok"

    def agreed(what: str, check: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        seen: list[list[dict[str, Any]]] = []

        def same() -> bool:
            seen.append([_ask(url) for url in urls])
            return all(a == seen[-1][0] for a in seen[-1]) and check(seen[-1][0])

        try:
            lag = eventually(same, what, 30)
        except AssertionError as exc:
            raise AssertionError(f"{exc}; the last answers: {json.dumps(seen[-1], indent=1)}") from None
        for url in urls:  # and it holds
            assert _ask(url) == seen[-1][0], url
        print(f"{what}: every instance gives the same answer after {lag * 1000:.0f} ms")
        return seen[-1][0]

    for url in urls:
        eventually(lambda url=url: ready(url), f"retrieval ready on {url}", 180)
    r = cluster.call(
        "POST", "/v1/manage/entries/pricing-plan", via=0, json={"data": plan("zephyrine", 77, "Zephyrine")}
    )
    assert r.status_code == 201, r.text
    entry = r.json()["id"]
    agreed("before the publish", lambda a: _cites(a, entry) is None)
    for revision, price, via in ((1, 77, 0), (2, 88, 2)):
        if revision == 2:
            current = cluster.call("GET", f"/v1/manage/entries/{entry}", via=via)
            changed = httpx.put(
                cluster.url(via) + f"/v1/manage/entries/{entry}",
                json={"data": plan("zephyrine", price, "Zephyrine")},
                headers={"Authorization": f"Bearer {cluster.token}", "If-Match": current.headers["etag"]},
                timeout=30,
            )
            assert changed.status_code == 200, changed.text
        assert cluster.call("POST", f"/v1/manage/entries/{entry}/publish", via=via).status_code == 200
        answer = agreed(
            f"revision {revision} published on instance {via}",
            lambda a, revision=revision: _cites(a, entry) == revision and not a["degraded"],
        )
        assert not answer["refused"] and f"{price} EUR" in answer["answer"], answer


def _outstanding(rt: Runtime) -> int:
    """Webhook deliveries not yet succeeded."""
    with rt.read() as conn:
        pending = conn.execute(
            sa.select(sa.func.count()).select_from(webhook_deliveries).where(webhook_deliveries.c.status != "succeeded")
        ).scalar_one()
    return int(pending)


def _check_deliveries(rt: Runtime, received: Path, first_event: int) -> None:
    """Every entry and release event after the subscription was delivered; a delivery reached the
    receiver twice only when it was claimed again after the killed worker's lease ran out."""
    assert _outstanding(rt) == 0
    with rt.read() as conn:
        deliveries = conn.execute(
            sa.select(webhook_deliveries.c.id, webhook_deliveries.c.event_id, webhook_deliveries.c.attempts)
        ).all()
        wanted = set(
            conn.execute(
                sa.select(events.c.id).where(
                    events.c.id > first_event, events.c.type.like("entry.%") | events.c.type.like("release.%")
                )
            ).scalars()
        )
    per_event = Counter(d.event_id for d in deliveries)
    assert set(per_event) == wanted and set(per_event.values()) == {1}  # one delivery per event, none missing
    requests = [json.loads(line) for line in received.read_text().splitlines()]
    assert all(r["valid"] for r in requests)
    ok = Counter(r["id"] for r in requests if r["status"] < 300)
    assert set(ok) == {d.id for d in deliveries}
    attempts = {d.id: d.attempts for d in deliveries}
    twice = [i for i, n in ok.items() if n > 1]
    assert all(attempts[i] > 1 for i in twice), "a delivery was sent twice on one claim"
    print(f"{len(wanted)} events delivered; {len(twice)} sent again after the worker was killed")
