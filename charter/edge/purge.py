"""Purging the caches in front of Charter by surrogate key when content changes.

The process that commits a change purges: on every purging event (publish, unpublish, delete,
rollback, a release published or rolled back; :data:`charter.delivery.purge.PURGING_EVENTS`) and
on every schema migration and its rollback (which change what a pinned old major serves), the
keys the change invalidates (:func:`edge_keys`) go to every configured edge purger, synchronously
in the committing thread, *after* Charter's own response cache was purged (the delivery plugin
subscribes first), so a refill from this instance is fresh and a request made once the write
returned is served the new revision.

Other instances drop their own copies a moment later (Redis pub/sub, or the worker's tail of the
event log); a refill the edge took from one of them in that moment would be stale. So every
instance's worker, once its tail of the event log has dropped its own copies, purges the same keys
at the edge again (:class:`EdgeTail`, a worker duty): the last purge the edge receives comes after
the last instance let go of the old page. For instances without a worker, the committing process
also purges the keys again ``repurge_after`` seconds later (default 1 s). A failed purge is logged
(``edge_purge_failed``) and does not undo the commit; the edge then serves the old page until the
next purge of those keys or its ``max-age``.

An edge purger is registered on :func:`charter.hookspecs.register_edge_purgers`; the built-in one
is Varnish (:class:`VarnishPurger`, ``[charter.edge] varnish``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Protocol

import httpx
import structlog

from charter import events as ev
from charter.delivery.purge import PURGING_EVENTS, surrogate_keys_for
from charter.edge.settings import KEYS_HEADER, SECRET_HEADER, edge_settings, purge_secret
from charter.runtime import Runtime

log = structlog.get_logger("charter.edge")

#: Schema changes that change what a pinned old major serves (charter.delivery.pinning).
SCHEMA_EVENTS = (ev.SCHEMA_MIGRATED, ev.SCHEMA_MIGRATION_ROLLED_BACK)
EDGE_EVENTS = (*PURGING_EVENTS, *SCHEMA_EVENTS)
#: Keys per purge request: Varnish refuses a request header over 8 KB (http_req_hdr_len).
MAX_KEYS_CHARS = 6000


class EdgePurger(Protocol):
    """A cache in front of Charter. ``purge`` removes every object tagged with any of ``keys`` and
    raises when the cache refused or could not be reached; ``name`` says which cache in logs."""

    name: str

    def purge(self, keys: Sequence[str]) -> None: ...

    def close(self) -> None: ...


def edge_keys(event: ev.Event) -> list[str]:
    """The surrogate keys ``event`` invalidates at the edge (the same as Charter's own cache, plus
    the type and entries a schema migration touched)."""
    keys = surrogate_keys_for(event)
    if event.type in SCHEMA_EVENTS:
        payload = event.payload
        keys = [*keys, f"type:{payload['content_type']}", *(f"entry:{i}" for i in payload.get("entries", []))]
    return list(dict.fromkeys(keys))


def batches(keys: Sequence[str], limit: int = MAX_KEYS_CHARS) -> list[str]:
    """``keys`` as space-separated header values of at most ``limit`` characters each."""
    out: list[str] = []
    current: list[str] = []
    size = 0
    for key in keys:
        if current and size + len(key) + 1 > limit:
            out.append(" ".join(current))
            current, size = [], 0
        current.append(key)
        size += len(key) + 1
    if current:
        out.append(" ".join(current))
    return out


class VarnishPurger:
    """``PURGE /`` with ``xkey-purge: <keys>`` and the shared secret, to each Varnish in turn,
    through :mod:`charter.egress` (the configured URLs are trusted: the operator named them)."""

    name = "varnish"

    def __init__(self, urls: Sequence[str], secret: str, client: httpx.Client) -> None:
        self.urls = list(urls)
        self._secret = secret
        self._client = client

    def purge(self, keys: Sequence[str]) -> None:
        failures: list[str] = []
        for value in batches(keys):
            for url in self.urls:
                try:
                    response = self._client.request(
                        "PURGE", url + "/", headers={KEYS_HEADER: value, SECRET_HEADER: self._secret}
                    )
                except httpx.HTTPError as exc:
                    failures.append(f"{url}: {type(exc).__name__}: {exc}")
                    continue
                if response.status_code != 200:
                    failures.append(f"{url}: {response.status_code} {response.text[:200]!r}")
        if failures:
            raise PurgeFailed("; ".join(failures))

    def close(self) -> None:
        self._client.close()


class PurgeFailed(RuntimeError):
    """A cache refused a purge or could not be reached."""


def varnish_purger(rt: Runtime) -> VarnishPurger | None:
    """The built-in Varnish purger, when ``[charter.edge] varnish`` names any server."""
    from charter.egress import client, policy_for

    edge = edge_settings(rt.settings)
    if not edge.varnish:
        return None
    policy = policy_for(rt.settings)
    for url in edge.varnish:
        policy = policy.trusting(url)
    http = client(policy, timeout=edge.timeout)
    return VarnishPurger(edge.varnish, purge_secret(rt.settings), http)


class EdgePurge:
    """Sends the keys of committed events to every purger, now and once more ``repurge_after``
    seconds later (see the module docstring)."""

    def __init__(self, purgers: Sequence[EdgePurger], repurge_after: float) -> None:
        self.purgers = list(purgers)
        self.repurge_after = repurge_after
        self._due: dict[str, float] = {}
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._closed = False
        self._thread: threading.Thread | None = None

    def on_event(self, event: ev.Event) -> None:
        keys = edge_keys(event)
        if keys:
            self.send(keys, cause=event.type)
            self._schedule(keys)

    def send(self, keys: Sequence[str], cause: str) -> None:
        for purger in self.purgers:
            started = time.perf_counter()
            try:
                purger.purge(keys)
            except Exception as exc:  # a cache that is down must not undo or fail the commit
                log.error("edge_purge_failed", cache=purger.name, cause=cause, keys=len(keys), error=str(exc))
            else:
                ms = round((time.perf_counter() - started) * 1000, 2)
                log.info("edge_purge", cache=purger.name, cause=cause, keys=len(keys), ms=ms)

    def _schedule(self, keys: Sequence[str]) -> None:
        if not self.repurge_after:
            return
        with self._lock:
            if self._closed:
                return
            due = time.monotonic() + self.repurge_after
            for key in keys:
                self._due[key] = due
            if self._thread is None:
                self._thread = threading.Thread(target=self._repurge_loop, name="charter-edge-repurge", daemon=True)
                self._thread.start()
            self._wake.notify()

    def _repurge_loop(self) -> None:
        while True:
            with self._lock:
                while not self._closed:
                    now = time.monotonic()
                    ready = [k for k, due in self._due.items() if due <= now]
                    if ready:
                        break
                    wait = min(self._due.values(), default=now + 60) - now
                    self._wake.wait(timeout=wait)
                if self._closed:
                    return
                for key in ready:
                    del self._due[key]
            self.send(ready, cause="repurge")

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._wake.notify()
        if self._thread is not None:
            self._thread.join(timeout=5)
        for purger in self.purgers:
            purger.close()


def edge_purgers(rt: Runtime) -> list[EdgePurger]:
    """Every configured edge purger of ``rt``'s plugins."""
    from charter.plugins import collect

    return [p for factory in collect(rt.plugins, "register_edge_purgers").values() if (p := factory(rt))]


class EdgeTail:
    """A worker duty: purge the edge for the events of the log this worker's tail has just
    followed (after it dropped its own cached copies: the worker purges before running duties).
    One per worker; it starts at the end of the log and builds its purgers on first use."""

    def __init__(self) -> None:
        self._last: int | None = None
        self._edge: EdgePurge | None = None

    def __call__(self, rt: Runtime) -> float | None:
        import sqlalchemy as sa

        from charter.db.tables import events as events_table

        with rt.read() as conn:
            if self._last is None:
                self._last = int(
                    conn.execute(sa.select(sa.func.coalesce(sa.func.max(events_table.c.id), 0))).scalar_one()
                )
                purgers = edge_purgers(rt)
                if purgers:
                    self._edge = EdgePurge(purgers, repurge_after=0)
                    rt._closers.append(self._edge)
                return None
            if self._edge is None:
                return None
            new = ev.since(conn, self._last, EDGE_EVENTS)
        if new:
            self._last = new[-1].id or self._last
            keys = list(dict.fromkeys(k for e in new for k in edge_keys(e)))
            if keys:
                self._edge.send(keys, cause="tail")
        return None


def install(rt: Runtime) -> None:
    """Subscribe the edge purge to ``rt``'s bus when any edge purger is configured."""
    purgers = edge_purgers(rt)
    if not purgers:
        return
    edge = EdgePurge(purgers, edge_settings(rt.settings).repurge_after)
    rt.bus.subscribe(edge.on_event, EDGE_EVENTS)
    rt._closers.append(edge)
