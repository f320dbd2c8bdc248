"""How a process gets its one retrieval service and keeps it in step with the content.

* :func:`install` (a runtime installer) subscribes every runtime to entry and release events;
  while the runtime has no service loaded the events are left to the next load (which reconciles).
* :func:`service_for` builds the runtime's one service on first use (the app's start-up hook calls
  it): it loads persisted chunks (files beside SQLite, or the shared ``retrieval_chunks`` table on
  PostgreSQL) and reconciles them with the published entries. From then on each change this
  instance commits is indexed and recorded at once (:meth:`RetrievalService.on_event`).
* :func:`worker_duty` (a worker duty, so it runs in every instance's worker) follows the events
  table: entry changes made elsewhere, and ``index.updated`` events of other instances, whose
  chunks it reads from the shared table (PostgreSQL) or re-derives from the content (SQLite).
  It also merges BM25 delta segments and saves the on-disk snapshot.
* :func:`startup` (an app start-up hook) loads the service, switches it to server behaviour (a
  search never waits for the embedding model), starts loading the embedding model and embedding
  the chunks that have no persisted vector in the background, and, when the app runs without the
  in-process worker, runs the worker duty itself.
* :func:`readiness` (a ``/readyz`` check) says ``ok`` only once the indexes the contract needs
  are loaded: with a dense or hybrid contract and the embeddings extra, once the model is loaded
  and every chunk has a vector; until then ``degraded: ...`` (not ready, 503), while the instance
  answers by BM25 and says so in each answer's ``degraded``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from charter import events as ev
from charter.retrieval.contract import contract_path, load_contract
from charter.retrieval.following import INDEXING_EVENTS
from charter.retrieval.service import RetrievalService
from charter.retrieval.store import ChunkStore, store_for

if TYPE_CHECKING:
    from charter.runtime import Runtime


def load_service(rt: Runtime, *, record: bool = True, store: ChunkStore | None = None) -> RetrievalService:
    """A service for ``rt``'s project (``retrieval.yaml``), loaded and reconciled, not subscribed."""
    contract = load_contract(contract_path(rt), rt.registry)
    service = RetrievalService(rt, contract, store if store is not None else store_for(rt), record=record)
    service.load()
    return service


def loaded_service(rt: Runtime) -> RetrievalService | None:
    """The runtime's service if it has been loaded, else None (never loads)."""
    return rt.retrieval


def service_for(rt: Runtime) -> RetrievalService:
    """The runtime's one service: built and loaded on first use; from then on the bus subscriber
    installed by :func:`install` keeps it in step with this instance's commits."""
    service = loaded_service(rt)
    if service is None:
        with rt.service_lock:
            service = loaded_service(rt)
            if service is None:
                service = load_service(rt)
                rt.retrieval = service
    return service


def install(rt: Runtime) -> None:
    """Runtime installer: route committed entry and release events to the loaded service."""

    def on_event(event: ev.Event) -> None:
        service = loaded_service(rt)
        if service is not None:
            service.on_event(event)

    rt.bus.subscribe(on_event, types=INDEXING_EVENTS)


def worker_duty(rt: Runtime) -> float | None:
    """Worker duty: follow other instances' changes, merge delta segments, save the snapshot."""
    service = loaded_service(rt)
    if service is None:
        return None
    service.sync()
    service.maintain()
    return None


async def readiness(rt: Runtime) -> str | None:
    """``/readyz`` check: None without a loaded service (no ``retrieval.yaml``), ``ok`` when every
    index the contract needs can answer, ``degraded: <why>`` while dense search waits for the
    embedding model or for vectors (the instance then answers by BM25)."""
    service = loaded_service(rt)
    if service is None:
        return None
    return service.readiness()


async def startup(app: Any, rt: Runtime) -> Callable[[], Any] | None:
    """App start-up hook: load the indexes (a new instance reads the shared table on PostgreSQL).
    Without the in-process worker (``worker = false``) it follows events itself, once a second."""
    import asyncio

    if not contract_path(rt).is_file():
        return None
    service = await asyncio.to_thread(service_for, rt)
    service.dense.serve()  # requests never wait for the embedding model
    service.dense.warm(list(service.indexes.values()))  # ... which loads now, not on the first question
    app.state.retrieval = service
    task = None
    if not rt.settings.worker:

        async def poll() -> None:
            while True:
                await asyncio.sleep(1.0)
                try:
                    await asyncio.to_thread(worker_duty, rt)
                except Exception:  # a failed poll is retried on the next tick
                    import structlog

                    structlog.get_logger("charter.retrieval").exception("retrieval_sync_failed")

        task = asyncio.get_running_loop().create_task(poll())

    async def cleanup() -> None:
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
        await asyncio.to_thread(service.dense.stop)
        await asyncio.to_thread(service.maintain, force=True)

    return cleanup
