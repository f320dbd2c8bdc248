"""Routing policies, retries, timeouts and circuit breakers, through the gateway library against
real loopback upstreams (the outer seam) and their fault modes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from charter.gateway import get_gateway
from charter.gateway.mock_upstream import MockUpstream
from charter.gateway.service import Gateway, GatewayError
from charter.runtime import Runtime
from tests.gateway.conftest import FAST, provider, write_model_yaml

Q = [{"role": "user", "content": "q"}]


def gateway(
    gw_project: Path,
    make_runtime: Callable[..., Runtime],
    ups: dict[str, MockUpstream],
    routes: dict[str, Any],
    prices: dict[str, float] | None = None,
    **extra: Any,
) -> Gateway:
    """One provider and one model (named like the upstream) per upstream."""
    models = {
        name: {"provider": name, "model": f"m-{name}", "price": {"input_per_1m": (prices or {}).get(name, 0.0)}}
        for name in ups
    }
    write_model_yaml(gw_project, {n: provider(u) for n, u in ups.items()}, models, routes, **extra)
    return get_gateway(make_runtime())


def answers(gw: Gateway, route: str, n: int, messages: list[dict[str, Any]] = Q, **kw: Any) -> list[str]:
    async def go() -> list[str]:
        out = []
        for _ in range(n):
            c = await gw.complete(route, messages, **kw)
            out.append(c.model)
        return out

    return asyncio.run(go())


def test_fallback_tries_targets_in_order(gw_project, make_runtime, upstreams) -> None:  # type: ignore[no-untyped-def]
    a, b = upstreams("status:503"), upstreams("ok")
    gw = gateway(gw_project, make_runtime, {"a": a, "b": b}, {"r": {"policy": "fallback", "targets": ["a", "b"]}})
    c = asyncio.run(gw.complete("r", Q))
    assert c.model == "b"
    # 503 is retried once (FAST: attempts 1), then the next target serves.
    assert [(s["model"], s["outcome"]) for s in c.fallback_chain] == [("a", "error"), ("a", "error"), ("b", "ok")]
    assert len(a.requests) == 2 and len(b.requests) == 1


def test_weighted_spreads_by_weight(gw_project, make_runtime, upstreams) -> None:  # type: ignore[no-untyped-def]
    a, b = upstreams("ok"), upstreams("ok")
    route = {"policy": "weighted", "targets": [{"model": "a", "weight": 3}, {"model": "b", "weight": 1}]}
    gw = gateway(gw_project, make_runtime, {"a": a, "b": b}, {"r": route})
    picks = answers(gw, "r", 400)
    share = picks.count("a") / len(picks)
    assert 0.65 < share < 0.85, share  # 0.75 expected; 5 standard deviations either side


def test_zero_weight_target_is_only_a_fallback(gw_project, make_runtime, upstreams) -> None:  # type: ignore[no-untyped-def]
    a, b = upstreams("ok"), upstreams("ok")
    route = {"policy": "weighted", "targets": [{"model": "a", "weight": 1}, {"model": "b", "weight": 0}]}
    gw = gateway(gw_project, make_runtime, {"a": a, "b": b}, {"r": route})
    assert set(answers(gw, "r", 30)) == {"a"}
    a.mode = "status:500"
    assert answers(gw, "r", 1) == ["b"]


def test_cheapest_prefers_the_lowest_price(gw_project, make_runtime, upstreams) -> None:  # type: ignore[no-untyped-def]
    ups = {"dear": upstreams("ok"), "cheap": upstreams("ok")}
    gw = gateway(
        gw_project,
        make_runtime,
        ups,
        {"r": {"policy": "cheapest", "targets": ["dear", "cheap"]}},
        prices={"dear": 5.0, "cheap": 0.5},
    )
    assert answers(gw, "r", 3) == ["cheap"] * 3
    ups["cheap"].mode = "status:500"
    assert answers(gw, "r", 1) == ["dear"]


def test_lowest_latency_learns_the_faster_target(gw_project, make_runtime, upstreams) -> None:  # type: ignore[no-untyped-def]
    slow, fast = upstreams("ok", delay=0.08), upstreams("ok")
    gw = gateway(
        gw_project,
        make_runtime,
        {"slow": slow, "fast": fast},
        {"r": {"policy": "latency", "targets": ["slow", "fast"]}},
    )
    # Unmeasured targets go first so that each gets measured; then the fastest leads.
    first_two = answers(gw, "r", 2)
    assert first_two == ["slow", "fast"]
    assert answers(gw, "r", 5) == ["fast"] * 5


def test_by_risk_routes_on_the_content_and_never_lower(gw_project, make_runtime, upstreams) -> None:  # type: ignore[no-untyped-def]
    ups = {"lo": upstreams("ok"), "mid": upstreams("ok"), "hi": upstreams("ok")}
    routes = {
        "r": {"policy": "risk", "by_risk": {"low": "lo", "medium": "mid", "high": "hi"}},
    }
    gw = gateway(gw_project, make_runtime, ups, routes)
    say = lambda text: [{"role": "user", "content": text}]  # noqa: E731
    assert answers(gw, "r", 1, say("Summarise our onboarding guide")) == ["lo"]
    assert answers(gw, "r", 1, say("Write that we are the fastest tool")) == ["mid"]  # claims
    assert answers(gw, "r", 1, say("Draft the warranty and liability clause")) == ["hi"]  # legal
    # A caller may raise the level, but never lower it below what the rules find.
    assert answers(gw, "r", 1, say("Summarise the guide"), metadata={"risk": "high"}) == ["hi"]
    assert answers(gw, "r", 1, say("Our warranty terms"), metadata={"risk": "low"}) == ["hi"]


def test_429_retry_after_is_honoured_within_the_backoff_cap(gw_project, make_runtime, upstreams) -> None:  # type: ignore[no-untyped-def]
    a = upstreams("status:429", fail_first=2)
    gw = gateway(
        gw_project,
        make_runtime,
        {"a": a},
        {"r": {"policy": "fallback", "targets": ["a"]}},
        defaults={**FAST, "retry": {"attempts": 2, "backoff_base": 0.01, "backoff_max": 0.05}},
    )
    c = asyncio.run(gw.complete("r", Q))
    assert c.model == "a" and len(a.requests) == 3
    assert [s.get("status") for s in c.fallback_chain] == [429, 429, None]


def test_non_retryable_4xx_moves_on_without_retry(gw_project, make_runtime, upstreams) -> None:  # type: ignore[no-untyped-def]
    a, b = upstreams("status:400"), upstreams("ok")
    gw = gateway(gw_project, make_runtime, {"a": a, "b": b}, {"r": {"policy": "fallback", "targets": ["a", "b"]}})
    assert asyncio.run(gw.complete("r", Q)).model == "b"
    assert len(a.requests) == 1


def test_upstream_429_everywhere_is_a_429(gw_project, make_runtime, upstreams) -> None:  # type: ignore[no-untyped-def]
    gw = gateway(
        gw_project, make_runtime, {"a": upstreams("status:429")}, {"r": {"policy": "fallback", "targets": ["a"]}}
    )
    with pytest.raises(GatewayError) as info:
        asyncio.run(gw.complete("r", Q))
    assert info.value.status == 429 and info.value.code == "upstream_rate_limited"


def test_route_deadline_bounds_the_whole_call(gw_project, make_runtime, upstreams) -> None:  # type: ignore[no-untyped-def]
    a, b = upstreams("hang"), upstreams("hang")
    gw = gateway(
        gw_project, make_runtime, {"a": a, "b": b}, {"r": {"policy": "fallback", "targets": ["a", "b"], "timeout": 0.4}}
    )
    started = time.monotonic()
    with pytest.raises(GatewayError) as info:
        asyncio.run(gw.complete("r", Q))
    assert time.monotonic() - started < 4.0  # 0.4 s deadline, not 2 targets x 2 attempts x 2 s (loose: CI load)
    assert info.value.status == 502


def test_circuit_opens_skips_then_half_opens_and_closes(gw_project, make_runtime, upstreams) -> None:  # type: ignore[no-untyped-def]
    a, b = upstreams("status:500"), upstreams("ok")
    gw = gateway(
        gw_project,
        make_runtime,
        {"a": a, "b": b},
        {"r": {"policy": "fallback", "targets": ["a", "b"]}},
        defaults={**FAST, "retry": {"attempts": 0}, "breaker": {"failures": 2, "reset_after": 1.0}},
    )
    breaker = gw.router.breakers["a"]
    assert answers(gw, "r", 2) == ["b", "b"]
    assert breaker.opened_at is not None and len(a.requests) == 2
    c = asyncio.run(gw.complete("r", Q))
    assert c.fallback_chain[0] == {"model": "a", "provider": "a", "outcome": "circuit_open"}
    assert len(a.requests) == 2  # skipped while open
    time.sleep(max(0.0, breaker.opened_at + 1.05 - time.monotonic()))
    assert breaker.state == "half_open"
    a.mode = "ok"
    assert answers(gw, "r", 1) == ["a"]  # the trial call succeeds...
    assert breaker.state == "closed"  # ...and closes the circuit


def test_half_open_trial_failure_reopens(gw_project, make_runtime, upstreams) -> None:  # type: ignore[no-untyped-def]
    a, b = upstreams("status:500"), upstreams("ok")
    gw = gateway(
        gw_project,
        make_runtime,
        {"a": a, "b": b},
        {"r": {"policy": "fallback", "targets": ["a", "b"]}},
        defaults={**FAST, "retry": {"attempts": 0}, "breaker": {"failures": 1, "reset_after": 0.2}},
    )
    breaker = gw.router.breakers["a"]
    answers(gw, "r", 1)
    opened = breaker.opened_at
    assert opened is not None
    time.sleep(0.25)
    answers(gw, "r", 1)  # the trial fails...
    assert len(a.requests) == 2
    assert breaker.opened_at is not None and breaker.opened_at > opened  # ...and re-opens the circuit


def test_all_circuits_open_is_a_503(gw_project, make_runtime, upstreams) -> None:  # type: ignore[no-untyped-def]
    gw = gateway(
        gw_project,
        make_runtime,
        {"a": upstreams("status:500")},
        {"r": {"policy": "fallback", "targets": ["a"]}},
        defaults={**FAST, "retry": {"attempts": 0}, "breaker": {"failures": 1, "reset_after": 30}},
    )
    with pytest.raises(GatewayError) as first:
        asyncio.run(gw.complete("r", Q))
    assert first.value.status == 502
    with pytest.raises(GatewayError) as second:
        asyncio.run(gw.complete("r", Q))
    assert second.value.status == 503 and second.value.code == "no_target_available"
    assert second.value.headers["retry-after"] == "1"


def test_concurrent_calls_with_primary_down_all_succeed(gw_project, make_runtime, upstreams) -> None:  # type: ignore[no-untyped-def]
    a, b = upstreams("drop"), upstreams("ok", answer="fine")
    gw = gateway(gw_project, make_runtime, {"a": a, "b": b}, {"r": {"policy": "fallback", "targets": ["a", "b"]}})

    async def go() -> list[str]:
        results = await asyncio.gather(*(gw.complete("r", Q) for _ in range(40)))
        return [c.text for c in results]

    assert asyncio.run(go()) == ["fine"] * 40
