"""The in-process worker: follows the event log so that every instance converges.

On the embedded default it runs inside the server. It tails the ``events`` table and purges the
local response cache for publishes made by *other* instances (its own were purged at commit);
further duties (webhook deliveries, schedules, re-indexing) are registered by their domains' plugins
on the ``register_worker_duties`` hook.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import sqlalchemy as sa
import structlog
from starlette.concurrency import run_in_threadpool

from charter import events as ev
from charter.db.tables import events as events_table
from charter.delivery.purge import PURGING_EVENTS, surrogate_keys_for
from charter.runtime import Runtime

log = structlog.get_logger("charter.worker")

#: A duty runs once per tick in a worker thread and returns how long to wait before the next tick.
Duty = Callable[[Runtime], float | None]


def default_duties(rt: Runtime) -> list[Duty]:
    """Every duty registered on ``rt``'s plugins (``register_worker_duties``), in registration order."""
    from charter.plugins import collect

    return list(collect(rt.plugins, "register_worker_duties").values())


class Worker:
    def __init__(self, rt: Runtime, interval: float = 0.25, duties: list[Duty] | None = None) -> None:
        self.rt = rt
        self.interval = interval
        self.duties = list(duties) if duties is not None else default_duties(rt)
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        self._last_event = 0

    async def start(self) -> None:
        self._last_event = await run_in_threadpool(self._max_event_id)
        self._task = asyncio.create_task(self._run(), name="charter-worker")

    async def stop(self) -> None:
        self._stop.set()
        if self._task:
            await self._task

    def _max_event_id(self) -> int:
        with self.rt.read() as conn:
            return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(events_table.c.id), 0))).scalar_one())

    def tick(self) -> float:
        """One pass: follow events, then run every duty. Returns the wait before the next pass."""
        with self.rt.read() as conn:
            new = ev.since(conn, self._last_event, PURGING_EVENTS)
            if new:
                self._last_event = new[-1].id or self._last_event
        keys = [k for e in new for k in surrogate_keys_for(e)]
        if keys:
            self.rt.cache.purge(keys)
        wait = self.interval
        for duty in self.duties:
            try:
                result = duty(self.rt)
            except Exception:  # a failing duty must not stop the others; it is retried next tick
                log.exception("worker_duty_failed", duty=getattr(duty, "__name__", repr(duty)))
                continue
            if result is not None:
                wait = min(wait, result)
        return wait

    async def _run(self) -> None:
        while not self._stop.is_set():
            try:
                wait = await run_in_threadpool(self.tick)
            except Exception:
                log.exception("worker_tick_failed")
                wait = 1.0
            try:
                await asyncio.wait_for(self._stop.wait(), timeout=max(wait, 0.01))
            except TimeoutError:
                pass
