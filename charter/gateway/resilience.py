"""Per-provider health: a circuit breaker and an observed-latency average, plus the in-process state
of client-key limits (requests per minute and spend budgets), which :mod:`charter.gateway.limits`
uses as its ``memory`` backend (the ``redis`` backend shares them between instances instead)."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime

from charter.gateway.config import BreakerPolicy, KeyConfig


@dataclass
class CircuitBreaker:
    """Closed -> open after ``failures`` consecutive failures; after ``reset_after`` seconds one
    trial call is let through (half-open); its success closes the circuit, its failure re-opens it."""

    policy: BreakerPolicy
    failures: int = 0
    opened_at: float | None = None
    trial_in_flight: bool = False

    @property
    def state(self) -> str:
        if self.opened_at is None:
            return "closed"
        return "half_open" if time.monotonic() - self.opened_at >= self.policy.reset_after else "open"

    def allow(self) -> bool:
        state = self.state
        if state == "closed":
            return True
        if state == "half_open" and not self.trial_in_flight:
            self.trial_in_flight = True
            return True
        return False

    def release(self) -> None:
        """The call let through ended without a verdict (cancelled): let another trial through."""
        self.trial_in_flight = False

    def success(self) -> None:
        self.failures = 0
        self.opened_at = None
        self.trial_in_flight = False

    def failure(self) -> None:
        self.failures += 1
        self.trial_in_flight = False
        if self.opened_at is not None or self.failures >= self.policy.failures:
            self.opened_at = time.monotonic()


@dataclass
class LatencyStats:
    """Exponentially weighted moving average of successful call latency, in milliseconds."""

    alpha: float = 0.2
    ewma_ms: float | None = None
    samples: int = 0

    def observe(self, ms: float) -> None:
        self.samples += 1
        self.ewma_ms = ms if self.ewma_ms is None else self.alpha * ms + (1 - self.alpha) * self.ewma_ms


def period_start(period: str, now: datetime | None = None) -> datetime:
    now = now or datetime.now(UTC)
    if period == "day":
        return now.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "month":
        return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class KeyState:
    """Live limits for one client key: a sliding one-minute window and the spend in the period.

    Budgets are enforced, not advisory: a call is admitted only if the spend so far, plus what
    calls in flight have reserved, plus this call's own estimate stays within the budget. The
    estimate is the prompt's cost (and ``max_tokens`` of output when the caller set it) at the
    dearest model the route may use; after the call the reservation is replaced by the real cost.
    """

    config: KeyConfig
    window: deque[float] = field(default_factory=deque)
    spent: float = 0.0
    reserved: float = 0.0
    period_started: datetime = field(default_factory=lambda: datetime.now(UTC))
    #: Whether the key has a budget; and a budget or a rate limit (keys with neither skip the limiter).
    budgeted: bool = field(init=False)
    limited: bool = field(init=False)

    def __post_init__(self) -> None:
        self.budgeted = self.config.budget_usd is not None
        self.limited = self.budgeted or bool(self.config.rpm)

    def check_rate(self) -> float | None:
        """Record a request; return seconds to wait if it exceeds ``rpm`` (and do not record it)."""
        if not self.config.rpm:
            return None
        now = time.monotonic()
        while self.window and now - self.window[0] >= 60.0:
            self.window.popleft()
        if len(self.window) >= self.config.rpm:
            return max(0.0, 60.0 - (now - self.window[0]))
        self.window.append(now)
        return None

    def budget_left(self) -> float | None:
        """USD left in the current period after spend and reservations; None without a budget."""
        if self.config.budget_usd is None:
            return None
        start = period_start(self.config.budget_period)
        if start > self.period_started:
            self.spent, self.period_started = 0.0, start
        return self.config.budget_usd - self.spent - self.reserved

    def reserve(self, amount: float) -> float:
        self.reserved += amount
        return amount

    def settle(self, reserved: float, cost: float) -> None:
        """Replace a reservation by the real cost of the call (0 for a call that failed)."""
        self.reserved = max(0.0, self.reserved - reserved)
        self.spent += cost
