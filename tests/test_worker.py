"""The in-process worker's cadence: every ``interval`` while there is work, every ``idle_interval``
once idle, and a commit in this process cuts an idle wait short (charter.worker)."""

from __future__ import annotations

import asyncio
import time

from charter import events as ev
from charter.runtime import Runtime
from charter.worker import IDLE_TICKS, Worker


class Ticks:
    """A duty that notes when it ran (and asks for nothing)."""

    def __init__(self) -> None:
        self.at: list[float] = []

    def __call__(self, rt: Runtime) -> float | None:
        self.at.append(time.monotonic())
        return None


def _commit_event(rt: Runtime) -> None:
    with rt.write() as (conn, pending):
        pending.append(ev.record(conn, ev.Event("test.worker_wake", {}, "test")))


def test_an_idle_worker_polls_at_its_idle_interval_and_a_commit_wakes_it(runtime: Runtime) -> None:
    ticks = Ticks()
    worker = Worker(runtime, interval=0.05, duties=[ticks], idle_interval=2.0)

    async def scenario() -> tuple[float, float]:
        await worker.start()
        try:
            started = time.monotonic()
            while worker.idle_ticks < IDLE_TICKS:  # no work: idle after a few ticks
                assert time.monotonic() - started < 10, "the worker never went idle"
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.2)  # now in the long sleep
            quiet_from = len(ticks.at)
            await asyncio.sleep(0.5)
            assert len(ticks.at) == quiet_from, "an idle worker ticked before its idle interval"
            committed = time.monotonic()
            await asyncio.to_thread(_commit_event, runtime)  # as a request thread commits
            while len(ticks.at) == quiet_from:
                await asyncio.sleep(0.005)
            woke = ticks.at[quiet_from] - committed
            stopping = time.monotonic()
        finally:
            await worker.stop()
        return woke, time.monotonic() - stopping

    woke, stopped = asyncio.run(scenario())
    assert woke < 1.0, f"the commit woke the worker after {woke:.3f} s (idle interval 2 s)"
    assert stopped < 1.0, "stopping waited for the idle sleep"
    _commit_event(runtime)  # after stop: the worker no longer listens (nothing to wake, no error)


def test_a_busy_worker_keeps_its_interval(runtime: Runtime) -> None:
    """A duty that asks to run again sooner than ``interval`` keeps the worker busy: it never idles."""
    ticks = Ticks()

    def wants_more(rt: Runtime) -> float | None:
        return 0.01

    worker = Worker(runtime, interval=0.05, duties=[ticks, wants_more], idle_interval=2.0)

    async def scenario() -> None:
        await worker.start()
        try:
            await asyncio.sleep(0.6)
        finally:
            await worker.stop()

    asyncio.run(scenario())
    assert worker.idle_ticks == 0 and worker.busy
    assert len(ticks.at) >= 5, ticks.at  # far more than one idle poll in 0.6 s


def test_an_idle_wait_never_passes_what_a_duty_asked_for(runtime: Runtime) -> None:
    """A duty asking to run again in 0.3 s (a release falling due) is called on time by an idle worker."""
    ticks = Ticks()

    def release_due_soon(rt: Runtime) -> float | None:
        ticks(rt)
        return 0.3

    worker = Worker(runtime, interval=0.05, duties=[release_due_soon], idle_interval=5.0)

    async def scenario() -> None:
        await worker.start()
        try:
            await asyncio.sleep(2.5)
        finally:
            await worker.stop()

    asyncio.run(scenario())
    assert worker.idle_ticks >= IDLE_TICKS  # 0.3 s is no work: the worker is idle
    gaps = [b - a for a, b in zip(ticks.at, ticks.at[1:], strict=False)]
    assert len(ticks.at) >= 5 and max(gaps) < 1.0, gaps  # every 0.3 s, not every 5 s
