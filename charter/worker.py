"""The in-process worker: follows the event log so that every instance converges.

On the embedded default it runs inside the server. It tails the ``events`` table and purges the
local response cache for publishes made by *other* instances (its own were purged at commit);
further duties (webhook deliveries, schedules, re-indexing) are registered by their domains' plugins
on the ``register_worker_duties`` hook.

It ticks every ``interval`` (0.25 s) while there is work, and every ``idle_interval`` (twice that)
once :data:`IDLE_TICKS` ticks in a row found none, so an idle server polls half as often. Work is
new events in the log tail, or a duty asking to run again sooner than ``interval``; an idle wait
never passes the time a duty asked to run again at (a release falling due, a webhook retry). A
commit in this process that records an event (a publish, a schedule, a webhook to deliver) cuts the
idle part of the wait short, so for what this process does the worker is never later than at
``interval`` (as before it idled); what another process does is seen within ``idle_interval``.
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
#: Ticks in a row without work before the worker polls at ``idle_interval``.
IDLE_TICKS = 4


def default_duties(rt: Runtime) -> list[Duty]:
    """Every duty registered on ``rt``'s plugins (``register_worker_duties``), in registration order."""
    from charter.plugins import collect

    return list(collect(rt.plugins, "register_worker_duties").values())


class Worker:
    def __init__(
        self,
        rt: Runtime,
        interval: float = 0.25,
        duties: list[Duty] | None = None,
        idle_interval: float | None = None,
    ) -> None:
        self.rt = rt
        self.interval = interval
        self.idle_interval = idle_interval if idle_interval is not None else 2 * interval
        self.duties = list(duties) if duties is not None else default_duties(rt)
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._last_event = 0
        #: Set from any thread by a commit in this process (:meth:`_committed`); cleared at each tick.
        self._dirty = False
        self._sleeping = False
        #: Whether the last tick found work (new events, or a duty wanting to run sooner than ``interval``).
        self.busy = False
        self.idle_ticks = 0
        #: The shortest wait a duty asked for in the last tick (inf: none asked).
        self.soonest = float("inf")

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._last_event = await run_in_threadpool(self._max_event_id)
        self.rt.bus.subscribe(self._committed)
        self._task = asyncio.create_task(self._run(), name="charter-worker")

    async def stop(self) -> None:
        self.rt.bus.unsubscribe(self._committed)
        self._stopping = True
        if self._wake is not None:
            self._wake.set()
        if self._task:
            await self._task

    def _committed(self, _event: ev.Event) -> None:
        """Bus subscriber (any thread, right after a commit in this process): tick again now."""
        self._dirty = True
        if self._sleeping and self._loop is not None and self._wake is not None:
            self._sleeping = False
            try:
                self._loop.call_soon_threadsafe(self._wake.set)
            except RuntimeError:  # the loop is closed: the worker has stopped
                pass

    def _max_event_id(self) -> int:
        with self.rt.read() as conn:
            return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(events_table.c.id), 0))).scalar_one())

    def tick(self) -> float:
        """One pass: follow events, then run every duty. Returns the wait before the next pass
        (at most ``interval``; :attr:`busy` says whether it found work)."""
        with self.rt.read() as conn:
            new = ev.since(conn, self._last_event, PURGING_EVENTS)
            if new:
                self._last_event = new[-1].id or self._last_event
        keys = [k for e in new for k in surrogate_keys_for(e)]
        if keys:
            self.rt.cache.purge(keys)
        soonest = float("inf")
        for duty in self.duties:
            try:
                result = duty(self.rt)
            except Exception:  # a failing duty must not stop the others; it is retried next tick
                log.exception("worker_duty_failed", duty=getattr(duty, "__name__", repr(duty)))
                continue
            if result is not None:
                soonest = min(soonest, result)
        self.soonest = soonest
        wait = min(self.interval, soonest)
        self.busy = bool(new) or wait < self.interval
        return wait

    async def _run(self) -> None:
        while not self._stopping:
            self._dirty = False
            try:
                wait = await run_in_threadpool(self.tick)
            except Exception:
                log.exception("worker_tick_failed")
                wait, self.busy = 1.0, False
            self.idle_ticks = 0 if self.busy else self.idle_ticks + 1
            # The wait as it always was; when idle, the rest of ``idle_interval`` after it, which a
            # commit in this process (or a stop) cuts short: never later than before, never sooner.
            await self._sleep(max(wait, 0.01), wakeable=False)
            if self.idle_ticks >= IDLE_TICKS and wait >= self.interval:
                # Not past what a duty asked for (a release falling due, a retry): it stays on time.
                await self._sleep(min(self.idle_interval, self.soonest) - wait, wakeable=True)

    async def _sleep(self, seconds: float, wakeable: bool) -> None:
        """Sleep ``seconds``; a stop ends it, and a commit too when ``wakeable``."""
        wake = self._wake
        assert wake is not None
        if self._stopping or seconds <= 0:
            return
        wake.clear()
        if wakeable:
            self._sleeping = True
            if self._dirty:  # committed since the tick began (or while the first part slept)
                self._sleeping = False
                return
        try:
            await asyncio.wait_for(wake.wait(), timeout=seconds)
        except TimeoutError:
            pass
        finally:
            self._sleeping = False
