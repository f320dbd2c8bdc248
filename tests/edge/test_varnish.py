"""Charter behind a real Varnish on loopback (the VCL ``charter edge varnish`` writes, vmod_xkey):
a publish, unpublish, rollback or release is served through Varnish by the first request after
the write returns; no purged page survives; previews, management and misses never enter the cache;
a purge without the secret or from outside the ACL is refused."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from charter.auth.roles import SYSTEM
from charter.auth.tokens import create_token
from charter.config import load_settings
from charter.edge.settings import KEYS_HEADER, SECRET_HEADER, purge_secret
from charter.edge.vcl import Backend, render
from charter.runtime import Runtime
from tests.faults import procs
from tests.services import free_port, require_varnish, varnishd

pytestmark = [pytest.mark.varnish, pytest.mark.slow]
CLI = [sys.executable, "-m", "charter", "edge", "varnish", "--demo"]

#: max-age 2 s so the grace case need not wait long; stale-while-revalidate 60 s.
TOML = """[charter]
cache = "memory"
cache_max_age = 2
cache_stale_while_revalidate = 60

[charter.workflow]
release_approvals = 0

[charter.edge]
varnish = ["{varnish}"]
repurge_after = 0.5
"""


@dataclass
class Stack:
    origin: str
    edge: str
    editor: str
    publisher: str
    secret: str
    latencies: list[float]

    def auth(self, token: str, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}", **extra}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    require_varnish()
    tmp = tmp_path_factory.mktemp("edge")
    edge_port, origin_port = free_port(), free_port()
    edge_url = f"http://127.0.0.1:{edge_port}"
    project = procs.project(tmp, TOML.format(varnish=edge_url))
    db = f"sqlite:///{tmp / 'charter.db'}"
    settings = load_settings(project, database_url=db, secret_key=procs.env(db)["CHARTER_SECRET_KEY"], edge={})
    with Runtime.open(settings) as rt:
        from charter.demo import load_demo_content

        load_demo_content(rt)
        editor = create_token(rt, SYSTEM, "edge-editor", "editor")[0]
        publisher = create_token(rt, SYSTEM, "edge-publisher", "publisher")[0]
    vcl = tmp / "charter.vcl"
    vcl.write_text(render([Backend("127.0.0.1", origin_port)], purge_secret(settings)))
    server = procs.server(project, db, origin_port, tmp / "server.log")
    try:
        with varnishd(vcl, edge_port, tmp / "varnish"):
            stack = Stack(f"http://127.0.0.1:{origin_port}", edge_url, editor, publisher, purge_secret(settings), [])
            yield stack
            if stack.latencies:
                lat = sorted(stack.latencies)
                print(
                    f"\nwrite returned -> new revision through Varnish: median {lat[len(lat) // 2]:.1f} ms, "
                    f"max {lat[-1]:.1f} ms over {len(lat)} writes"
                )
    finally:
        procs.stop(server)


def get(url: str, **headers: str) -> httpx.Response:
    return httpx.get(url, headers=headers, timeout=10)


def page(stack: Stack, slug: str = "home") -> httpx.Response:
    return get(f"{stack.edge}/v1/pages/{slug}")


def cached_now(stack: Stack, path: str) -> dict[str, Any]:
    """GET ``path`` through Varnish until it is a hit (fills the cache); the cached body."""
    for _ in range(3):
        r = get(stack.edge + path)
        assert r.status_code == 200, r.text
        if r.headers["x-cache"] == "HIT":
            return dict(r.json())
    raise AssertionError(f"{path} never became a hit: {r.headers}")


def manage(
    stack: Stack, method: str, path: str, token: str, *, headers: dict[str, str] | None = None, **kwargs: Any
) -> httpx.Response:
    """A management call through Varnish (passed to Charter)."""
    headers = {**stack.auth(token), **(headers or {})}
    r = httpx.request(method, f"{stack.edge}/v1/manage{path}", headers=headers, timeout=30, **kwargs)
    assert r.status_code < 300, r.text
    return r


def first_read(stack: Stack, path: str) -> httpx.Response:
    """The first read through Varnish once a write returned; how long it took is recorded (from
    the write's return to the new content, printed at the end, never asserted)."""
    started = time.perf_counter()
    r = get(stack.edge + path)
    stack.latencies.append((time.perf_counter() - started) * 1000)
    return r


def update(stack: Stack, entry_id: str, title: str) -> None:
    current = manage(stack, "GET", f"/entries/{entry_id}", stack.editor)
    data = current.json()["data"]
    data["en"]["title"] = title
    manage(
        stack,
        "PUT",
        f"/entries/{entry_id}",
        stack.editor,
        json={"data": data},
        headers={"If-Match": current.headers["etag"]},
    )


def test_every_publish_is_served_through_varnish_by_the_next_request(stack: Stack) -> None:
    home = cached_now(stack, "/v1/pages/home")
    entry_id = home["id"]
    revisions = [home["revision"]]
    for i in range(10):
        update(stack, entry_id, f"Home, take {i}")
        published = manage(stack, "POST", f"/entries/{entry_id}/publish", stack.publisher)
        r = first_read(stack, "/v1/pages/home")
        assert r.status_code == 200 and r.json()["revision"] == published.json()["published_revision"]
        assert r.json()["data"]["title"] == f"Home, take {i}"
        revisions.append(r.json()["revision"])
        assert cached_now(stack, "/v1/pages/home")["revision"] == revisions[-1]
    # A rollback is a new revision with old content, purged the same way.
    rolled = manage(stack, "POST", f"/entries/{entry_id}/rollback", stack.publisher, json={"revision": revisions[0]})
    r = first_read(stack, "/v1/pages/home")
    assert r.json()["revision"] == rolled.json()["published_revision"] and r.json()["revision"] > revisions[-1]
    assert r.json()["data"]["title"] == home["data"]["title"]


def test_unpublish_and_release_purge_pages_and_lists(stack: Stack) -> None:
    listing = cached_now(stack, "/v1/entries/page")
    about = next(item for item in listing["items"] if item["data"]["slug"] != "home")
    slug = about["data"]["slug"]
    cached_now(stack, f"/v1/pages/{slug}")
    manage(stack, "POST", f"/entries/{about['id']}/unpublish", stack.publisher)
    assert first_read(stack, f"/v1/pages/{slug}").status_code == 404
    assert about["id"] not in {i["id"] for i in get(f"{stack.edge}/v1/entries/page").json()["items"]}
    # A 404 is not kept: the release that brings the page back is seen at once.
    assert get(f"{stack.edge}/v1/pages/{slug}").headers["x-cache"] == "MISS"
    data = manage(stack, "GET", f"/entries/{about['id']}", stack.editor).json()["data"]
    data["en"]["title"] = "Back by release"
    release = manage(
        stack,
        "POST",
        "/releases",
        stack.editor,
        json={"name": "bring it back", "items": [{"action": "update", "entry_id": about["id"], "data": data}]},
    ).json()
    manage(stack, "POST", f"/releases/{release['id']}/submit", stack.editor)
    manage(stack, "POST", f"/releases/{release['id']}/publish", stack.publisher)
    r = first_read(stack, f"/v1/pages/{slug}")
    assert r.status_code == 200 and r.json()["data"]["title"] == "Back by release"
    assert about["id"] in {i["id"] for i in get(f"{stack.edge}/v1/entries/page").json()["items"]}


def test_previews_management_and_gateway_traffic_are_never_cached(stack: Stack) -> None:
    home = cached_now(stack, "/v1/pages/home")
    update(stack, home["id"], "A draft nobody may see")
    issued = manage(stack, "POST", "/previews", stack.editor, json={"entry_id": home["id"]}).json()
    for _ in range(3):
        by_query = get(f"{stack.edge}/v1/pages/home?preview={issued['token']}")
        by_header = get(f"{stack.edge}/v1/pages/home", **{"Charter-Preview": issued["token"]})
        for r in (by_query, by_header):
            assert r.status_code == 200 and r.json()["data"]["title"] == "A draft nobody may see"
            assert r.headers["x-cache"] == "MISS" and r.headers["cache-control"] == "private, no-store"
    # The draft never reached the cache: the public page is still the published one.
    public = get(f"{stack.edge}/v1/pages/home")
    assert public.headers["x-cache"] == "HIT" and public.json()["revision"] == home["revision"]
    assert public.json()["data"]["title"] != "A draft nobody may see"
    for path, headers in (
        ("/v1/manage/entries", stack.auth(stack.editor)),
        ("/v1/models", stack.auth(stack.editor)),
        ("/healthz", {}),
    ):
        for _ in range(2):
            r = get(stack.edge + path, **headers)
            assert r.headers["x-cache"] == "MISS", path
    for _ in range(2):  # a miss on the delivery API is not kept either
        assert get(f"{stack.edge}/v1/pages/no-such-page").headers["x-cache"] == "MISS"


def test_stale_while_revalidate_is_varnish_grace(stack: Stack) -> None:
    cached_now(stack, "/v1/entries/pricing-plan")
    time.sleep(2.5)  # past max-age=2, well inside stale-while-revalidate=60
    stale = get(f"{stack.edge}/v1/entries/pricing-plan")
    assert stale.status_code == 200 and stale.headers["x-cache"] == "HIT" and int(stale.headers["age"]) >= 2


def test_purges_come_only_from_charter(stack: Stack) -> None:
    home = cached_now(stack, "/v1/pages/home")

    def purge(headers: dict[str, str], local: str = "127.0.0.1") -> int:
        with httpx.Client(transport=httpx.HTTPTransport(local_address=local)) as c:
            return c.request("PURGE", stack.edge + "/", headers=headers, timeout=10).status_code

    keys = {KEYS_HEADER: f"entry:{home['id']}"}
    assert purge(keys) == 403  # no secret
    assert purge({**keys, SECRET_HEADER: "x" * 40}) == 403  # a wrong one
    assert purge({**keys, SECRET_HEADER: stack.secret}, local="127.0.0.2") == 403  # outside the ACL
    assert get(f"{stack.edge}/v1/pages/home").headers["x-cache"] == "HIT"  # nothing was purged
    assert purge({SECRET_HEADER: stack.secret}) == 400  # no keys
    assert purge({**keys, SECRET_HEADER: stack.secret}) == 200
    assert get(f"{stack.edge}/v1/pages/home").headers["x-cache"] == "MISS"
    # The secret never travels on to Charter (or to anything that logs requests).
    r = get(f"{stack.edge}/v1/pages/home", **{SECRET_HEADER: stack.secret})
    assert r.status_code == 200


def test_the_cli_writes_a_vcl_varnishd_accepts(tmp_path: Path) -> None:
    varnish = require_varnish()
    out = tmp_path / "charter.vcl"
    done = subprocess.run(
        [
            *CLI,
            "--backend",
            "10.0.0.5:8000",
            "--backend",
            "10.0.0.6:8000",
            "--purger",
            "10.0.0.0/24",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        env=procs.env(""),
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    assert text.count("backend charter") == 2 and '"10.0.0.0"/24;' in text and "127.0.0.1" not in text
    compiled = subprocess.run(
        [varnish, "-C", "-j", "none", "-n", str(tmp_path / "state"), "-f", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert compiled.returncode == 0, compiled.stderr[-2000:]
    bad = subprocess.run(
        [*CLI, "--backend", "nope"],
        capture_output=True,
        text=True,
        env=procs.env(""),
        timeout=60,
        check=False,
    )
    assert bad.returncode == 1 and "HOST:PORT" in bad.stderr
