"""Where client-key limits live: requests per minute and spend budgets, with reservations.

Two backends behind one small interface, :class:`Limits` (``limits.backend`` in model.yaml):

* ``memory`` (the embedded default): each process keeps its own window and spend in
  :class:`~charter.gateway.resilience.KeyState`; with several instances each gets the full allowance.
* ``redis``: every instance shares one window and one spend counter per key in Redis. Each admission
  is one Lua script, one round trip (atomic: check the budget, check and record the rate, reserve),
  so concurrent calls on any number of instances cannot overspend or exceed the rate; a call of a
  key with a budget is settled by a second script when it ends. The spend counter of a period is
  seeded from the audit records (:data:`SpentSince`) when Redis does not hold it yet (first use, a
  new period, Redis restarted empty), so a restart forgets nothing. Time is Redis's clock.

Fail closed: when Redis cannot be reached within ``timeout`` an admission raises
:class:`LimitsUnavailable` (the gateway answers 503 ``limits_unavailable``) instead of letting calls
through unmetered; keys without limits never touch Redis and keep working. A settlement that fails
is logged and dropped: its reservation lapses after ``lease`` seconds, and the spend is in the audit
record, from which a reseeded counter is rebuilt.
"""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

import structlog

from charter.exceptions import ConfigError
from charter.gateway.config import KeyConfig, LimitsConfig
from charter.gateway.resilience import KeyState, period_start
from charter.gateway.resp import RedisClient, RedisUnavailable, Script

if TYPE_CHECKING:
    from charter.config import Settings

log = structlog.get_logger("charter.gateway.limits")

#: ``spent_since(key_name, start)``: USD the key spent since ``start``, from the audit records.
SpentSince = Callable[[str, datetime], float]


class Refused(Exception):
    """A limit refused the call: ``kind`` is ``budget`` (``left`` USD remain, may be negative) or
    ``rate`` (retry after ``wait`` seconds)."""

    def __init__(self, kind: str, *, left: float = 0.0, wait: float = 0.0) -> None:
        super().__init__(kind)
        self.kind, self.left, self.wait = kind, left, wait


class LimitsUnavailable(Exception):
    """The shared limits store could not be asked; the call is refused, not let through unmetered."""


@dataclass(slots=True)
class Admission:
    """What an admission reserved, handed back to :meth:`Limits.settle` when the call ends."""

    reserved: float = 0.0
    #: The backend's handle on the reservation (redis: the reservation's member and period keys).
    handle: tuple[str, str, str] | None = None


class Limits(Protocol):
    """A limits backend. The gateway calls it only for keys with an ``rpm`` or a budget."""

    def key(self, config: KeyConfig) -> KeyState:
        """The state for a key, built once per key name and process."""
        ...

    async def admit(self, key: KeyState, estimate: float) -> Admission:
        """Check the budget (spend + reservations + ``estimate`` within it), then the rate (and
        record this request), then reserve ``estimate``; all or nothing. Raises :class:`Refused`
        or :class:`LimitsUnavailable`."""
        ...

    async def settle(self, key: KeyState, admission: Admission | None, cost: float) -> None:
        """Release ``admission`` (None: nothing was reserved) and add ``cost`` to the spend. Never
        raises; called only for keys with a budget."""
        ...

    async def ready(self) -> str | None:
        """For ``/readyz``: None when there is nothing outside the process to check, else ``ok``
        or ``error: …``. Never raises."""
        ...

    async def aclose(self) -> None: ...


class MemoryLimits:
    """Limits kept in this process (:class:`KeyState`); the spend is loaded once per key."""

    def __init__(self, spent_since: SpentSince) -> None:
        self.spent_since = spent_since

    def key(self, config: KeyConfig) -> KeyState:
        state = KeyState(config)
        if config.budget_usd is not None:
            state.spent = self.spent_since(config.name, period_start(config.budget_period))
        return state

    async def admit(self, key: KeyState, estimate: float) -> Admission:
        left = key.budget_left()
        if left is not None and (left <= 0 or estimate > left):
            raise Refused("budget", left=left)
        wait = key.check_rate()
        if wait is not None:
            raise Refused("rate", wait=wait)
        return Admission(key.reserve(estimate) if left is not None else 0.0)

    async def settle(self, key: KeyState, admission: Admission | None, cost: float) -> None:
        key.settle(admission.reserved if admission else 0.0, cost)

    async def ready(self) -> str | None:
        return None

    async def aclose(self) -> None:
        pass


# KEYS: 1 the rate window (sorted set: request id by ms), 2 the period's spend (hash: spent, held),
# 3 the period's reservations (sorted set: "id|usd" by the ms its lease ends).
# ARGV: rpm (0: none), budget USD (negative: none), estimate USD, request id, lease ms.
# Time is Redis's own clock, so the instances' clocks do not matter.
_ADMIT = Script("""
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local rpm, budget, estimate = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
if budget >= 0 then
  local spent = redis.call('HGET', KEYS[2], 'spent')
  if not spent then return {'seed'} end
  local lapsed = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now)
  for _, m in ipairs(lapsed) do
    redis.call('HINCRBYFLOAT', KEYS[2], 'held', -tonumber(string.match(m, '|([^|]*)$')))
  end
  if #lapsed > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now) end
  local held = 0
  if redis.call('ZCARD', KEYS[3]) == 0 then
    redis.call('HSET', KEYS[2], 'held', 0)  -- nothing in flight: no rounding drift either
  else
    held = tonumber(redis.call('HGET', KEYS[2], 'held') or '0')
  end
  local left = budget - tonumber(spent) - held
  if left <= 0 or estimate > left then return {'budget', tostring(left)} end
end
if rpm > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 60000)
  if redis.call('ZCARD', KEYS[1]) >= rpm then
    local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
    return {'rate', tostring(tonumber(oldest[2]) + 60000 - now)}
  end
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], 60000)
end
if budget >= 0 and estimate > 0 then
  redis.call('ZADD', KEYS[3], now + tonumber(ARGV[5]), ARGV[4] .. '|' .. ARGV[3])
  redis.call('PEXPIRE', KEYS[3], tonumber(ARGV[5]))
  redis.call('HINCRBYFLOAT', KEYS[2], 'held', ARGV[3])
end
return {'ok'}
""")

# KEYS: 1 the spend of the period the reservation was made in, 2 its reservations, 3 the spend of
# the current period. ARGV: the reservation's member ("" for none), its USD, the call's cost USD.
# A counter that is gone (expired, Redis restarted) is not recreated without its seed.
_SETTLE = Script("""
if ARGV[1] ~= '' and redis.call('ZREM', KEYS[2], ARGV[1]) == 1 then
  redis.call('HINCRBYFLOAT', KEYS[1], 'held', -tonumber(ARGV[2]))
end
if tonumber(ARGV[3]) > 0 and redis.call('HEXISTS', KEYS[3], 'spent') == 1 then
  redis.call('HINCRBYFLOAT', KEYS[3], 'spent', ARGV[3])
end
return 1
""")

# KEYS: 1 the period's spend. ARGV: the spend from the audit records, ms to keep it (0: for ever).
# The first instance to seed wins; the others' seeds are ignored.
_SEED = Script("""
if redis.call('HSETNX', KEYS[1], 'spent', ARGV[1]) == 1 and tonumber(ARGV[2]) > 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 1
""")

#: How long a period's spend counter is kept after it is seeded: past the period's end.
_KEEP_MS = {"day": 2 * 86_400_000, "month": 33 * 86_400_000, "total": 0}


def period_id(period: str, now: datetime | None = None) -> str:
    if period == "total":
        return "total"
    now = now or datetime.now(UTC)
    return now.strftime("%Y-%m-%d" if period == "day" else "%Y-%m")


class RedisLimits:
    """Limits shared through Redis by every instance that names the same ``prefix``.

    Keys per client key: ``<prefix><name>:rpm`` (the window), ``<prefix><name>:spend:<period>``
    (hash: ``spent``, ``held``) and ``<prefix><name>:held:<period>`` (the reservations).
    """

    def __init__(self, url: str, config: LimitsConfig, spent_since: SpentSince) -> None:
        self.redis = RedisClient(url, config.timeout)
        self.prefix = config.prefix
        self.lease_ms = int(config.lease * 1000)
        self.spent_since = spent_since
        self._ids = itertools.count()
        self._instance = os.urandom(6).hex()

    def key(self, config: KeyConfig) -> KeyState:
        return KeyState(config)

    def _keys(self, config: KeyConfig, period: str) -> tuple[str, str, str]:
        base = self.prefix + config.name
        return base + ":rpm", f"{base}:spend:{period}", f"{base}:held:{period}"

    async def admit(self, key: KeyState, estimate: float) -> Admission:
        config = key.config
        budget = config.budget_usd
        keys = self._keys(config, period_id(config.budget_period))
        request = f"{self._instance}:{next(self._ids)}"
        amount = repr(estimate) if budget is not None else "0"
        args = (config.rpm or 0, repr(budget) if budget is not None else -1, amount, request, self.lease_ms)
        try:
            verdict = await self.redis.run(_ADMIT, keys, args)
            if verdict[0] == b"seed":
                spent = await asyncio.to_thread(self.spent_since, config.name, period_start(config.budget_period))
                await self.redis.run(_SEED, keys[1:2], (repr(spent), _KEEP_MS[config.budget_period]))
                verdict = await self.redis.run(_ADMIT, keys, args)
        except RedisUnavailable as exc:
            log.error("gateway_limits_unavailable", key=config.name, error=str(exc))
            raise LimitsUnavailable(str(exc)) from None
        if verdict[0] == b"budget":
            raise Refused("budget", left=float(verdict[1]))
        if verdict[0] == b"rate":
            raise Refused("rate", wait=float(verdict[1]) / 1000)
        if budget is None or estimate <= 0:
            return Admission()
        return Admission(estimate, (f"{request}|{amount}", keys[1], keys[2]))

    async def settle(self, key: KeyState, admission: Admission | None, cost: float) -> None:
        handle = admission.handle if admission else None
        if handle is None and cost <= 0:
            return
        config = key.config
        current = self._keys(config, period_id(config.budget_period))[1]
        if admission is not None and handle is not None:
            member, spend, held = handle
            keys, args = (spend, held, current), (member, repr(admission.reserved), repr(cost))
        else:
            keys, args = (current, current, current), ("", "0", repr(cost))
        try:
            await self.redis.run(_SETTLE, keys, args)
        except RedisUnavailable as exc:
            log.warning("gateway_limits_settle_failed", key=config.name, cost=cost, error=str(exc))

    async def ready(self) -> str | None:
        try:
            await self.redis.call("PING")
        except RedisUnavailable as exc:
            return f"error: {type(exc).__name__}"
        return "ok"

    async def aclose(self) -> None:
        await self.redis.aclose()


def make_limits(config: LimitsConfig, settings: Settings, spent_since: SpentSince) -> Limits:
    """The backend ``config`` names; ``auto`` is ``redis`` when the response cache is."""
    backend = config.backend
    if backend == "auto":
        backend = "redis" if settings.cache == "redis" else "memory"
    if backend == "redis":
        try:
            return RedisLimits(settings.redis_url, config, spent_since)
        except ValueError as exc:
            raise ConfigError(f"redis_url (CHARTER_REDIS_URL), used by the gateway's limits: {exc}") from None
    return MemoryLimits(spent_since)
