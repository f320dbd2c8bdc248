"""The Redis response cache shared by two app instances: a publish on one purges both (Redis
pub/sub for the local copies, the tagged keys deleted in Redis), and a fill on one is a hit on the
other."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from charter.app import create_app
from charter.config import Settings
from charter.delivery.cache import RedisCache
from charter.runtime import Runtime
from tests.conftest import auth
from tests.services import require_redis

pytestmark = pytest.mark.redis


@pytest.fixture
def redis_settings(settings: Settings) -> Settings:
    url = require_redis()
    prefix = f"charter:test:{uuid.uuid4().hex[:8]}:"
    # workflow={}: publish the demo's pricing plans directly (no approval policy; tests/content covers it).
    yield settings.model_copy(
        update={"cache": "redis", "redis_url": url, "extra": {"redis_prefix": prefix}, "workflow": {}}
    )
    client = redis.Redis.from_url(url)
    for key in client.scan_iter(prefix + "*"):
        client.delete(key)
    client.close()


@pytest.fixture
def two_instances(redis_settings: Settings) -> Iterator[tuple[TestClient, TestClient, Runtime, Runtime]]:
    """Two app instances (own runtime, own local cache) on one database and one Redis."""
    from charter.demo import load_demo_content

    first, second = Runtime.open(redis_settings), Runtime.open(redis_settings)
    load_demo_content(first)
    try:
        with (
            TestClient(create_app(redis_settings, runtime=first)) as a,
            TestClient(create_app(redis_settings, runtime=second)) as b,
        ):
            yield a, b, first, second
    finally:
        first.close()
        second.close()


def renders(rt: Runtime) -> float:
    return sum(s.value for m in rt.telemetry.renders.collect() for s in m.samples if s.name.endswith("_total"))


def fastpath(client: TestClient) -> Any:
    """The app's delivery fast path, under whatever layers sit in front of it (CORS)."""
    front = client.app.front  # type: ignore[attr-defined]
    while not hasattr(front, "hits"):
        front = front.app
    return front


def wait_for(check: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_fill_on_one_instance_is_a_hit_on_the_other(two_instances: Any) -> None:
    a, b, first, second = two_instances
    body = a.get("/v1/pages/pricing").content
    assert renders(first) == 1
    assert b.get("/v1/pages/pricing").content == body
    assert renders(second) == 0  # served from Redis, not rendered again
    assert isinstance(second.cache, RedisCache)


def test_a_publish_on_one_instance_purges_both(two_instances: Any, tokens_for: Any) -> None:
    a, b, first, _second = two_instances
    token = tokens_for(first, "publisher")
    page = a.get("/v1/pages/pricing").json()
    b.get("/v1/pages/pricing")  # both instances now hold it locally
    team = next(e for e in page["included"] if e["data"]["id"] == "team")
    draft = a.get(f"/v1/manage/entries/{team['id']}", headers=auth(token))
    data = draft.json()["data"]
    data["en"]["price"] = 59
    r = a.put(
        f"/v1/manage/entries/{team['id']}",
        json={"data": data},
        headers=auth(token, **{"If-Match": draft.headers["etag"]}),
    )
    assert r.status_code == 200
    assert a.post(f"/v1/manage/entries/{team['id']}/publish", headers=auth(token)).status_code == 200

    def price(client: TestClient) -> Any:
        body = client.get("/v1/pages/pricing").json()
        return next(e for e in body["included"] if e["id"] == team["id"])["data"]["price"]

    assert price(a) == 59  # purged at commit on the publishing instance
    wait_for(lambda: price(b) == 59)  # and on the other through pub/sub


def test_the_fast_path_serves_redis_fills_and_drops_purged_pages(two_instances: Any, tokens_for: Any) -> None:
    """Instance b answers a's fill through its route once (from Redis), then from its fast path;
    a publish on a is seen by b's fast path as soon as the broadcast drops b's local copy."""
    a, b, first, second = two_instances
    token = tokens_for(first, "publisher")
    page = a.get("/v1/pages/about")
    assert b.get("/v1/pages/about").content == page.content  # b's route, from Redis
    assert b.get("/v1/pages/about").content == page.content and fastpath(b).hits == 1
    assert renders(second) == 0
    entry = page.json()["id"]
    assert a.post(f"/v1/manage/entries/{entry}/unpublish", headers=auth(token)).status_code == 200
    # Until the broadcast arrives b may still serve its fast-path copy (a hit); after it, only misses.
    wait_for(lambda: b.get("/v1/pages/about").status_code == 404)
    hits = fastpath(b).hits
    assert b.get("/v1/pages/about").status_code == 404 and fastpath(b).hits == hits
    assert a.post(f"/v1/manage/entries/{entry}/publish", headers=auth(token)).status_code == 200
    assert b.get("/v1/pages/about").status_code == 200
    # The publish's own broadcast may land after b's refill; then the next read refills once more.
    wait_for(lambda: b.get("/v1/pages/about").status_code == 200 and fastpath(b).hits > hits)


def test_pubsub_alone_purges_the_other_instances_local_copy(redis_settings: Settings) -> None:
    """Without the event log (the worker is off), the broadcast alone must do it."""
    from charter.delivery.cache import CachedResponse

    one = RedisCache(redis_settings.redis_url, prefix=redis_settings.extra["redis_prefix"])
    two = RedisCache(redis_settings.redis_url, prefix=redis_settings.extra["redis_prefix"])
    try:
        one.set("page|home|", CachedResponse(b"{}", '"a"', ("entry:home",)), one.generation())
        assert two.get("page|home|") is not None  # now in two's local LRU as well
        one.purge(["entry:home"])
        wait_for(lambda: two.local.get("page|home|") is None)
        assert two.get("page|home|") is None  # and gone from Redis
    finally:
        one.close()
        two.close()


@pytest.fixture
def tokens_for() -> Any:
    from charter.auth.roles import SYSTEM
    from charter.auth.tokens import create_token

    return lambda rt, role: create_token(rt, SYSTEM, f"test-{role}", role)[0]
