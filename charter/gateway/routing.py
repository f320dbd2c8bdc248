"""Routing: turn a route into an ordered list of targets, then try them with timeouts, retries
with backoff (429/5xx/timeouts/bad bodies), per-provider circuit breakers and fallback.

Policies: ``fallback`` (in order), ``weighted`` (weighted random order), ``cheapest`` (by price per
token), ``latency`` (lowest observed moving-average latency first; unmeasured targets first so
they get measured) and ``risk`` (delegate to the route named for the content's risk level).
Whatever the policy, every remaining target is a fallback, so one healthy target is enough.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import nullcontext
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from opentelemetry.trace import INVALID_SPAN, Span

from charter.gateway.config import GatewayConfig, ModelConfig, RouteConfig
from charter.gateway.providers.base import Provider, text_of
from charter.gateway.redaction import redact, redact_value
from charter.gateway.resilience import CircuitBreaker, LatencyStats
from charter.gateway.risk import LEVELS, RiskRules
from charter.gateway.telemetry import (
    end_stream_span,
    model_span,
    record_content,
    record_result,
    start_stream_span,
)
from charter.gateway.types import (
    ChatRequest,
    EmbeddingRequest,
    EmbeddingResult,
    ProviderError,
    ProviderResult,
    StreamDelta,
)

if TYPE_CHECKING:
    from charter.observability.telemetry import Telemetry

T = TypeVar("T")


class AllTargetsFailed(Exception):
    def __init__(self, route: str, chain: list[dict[str, Any]]) -> None:
        self.route = route
        self.chain = chain
        last = chain[-1] if chain else {}
        super().__init__(
            f"every target of route {route!r} failed"
            + (f"; last: {last.get('model')}: {last.get('error')}" if last else " (no target available)")
        )

    @property
    def rate_limited(self) -> bool:
        return bool(self.chain) and all(c.get("status") == 429 for c in self.chain)

    @property
    def unavailable(self) -> bool:
        return all(c.get("outcome") in ("skipped", "circuit_open") for c in self.chain)


class MidStreamError(Exception):
    """The stream failed after text was already sent; it cannot move to another target."""

    def __init__(self, error: ProviderError, chain: list[dict[str, Any]]) -> None:
        super().__init__(error.message)
        self.error = error
        self.chain = chain


class Router:
    def __init__(
        self, config: GatewayConfig, providers: dict[str, Provider], risk: RiskRules, telemetry: Telemetry | None = None
    ) -> None:
        self.config = config
        self.providers = providers
        self.risk = risk
        #: Spans of each provider attempt (charter.gateway.telemetry); none without it.
        self.telemetry = telemetry
        self.capture_content = bool(telemetry and telemetry.options.capture_content)
        self._secrets = config.secrets() if self.capture_content else []
        self.breakers = {name: CircuitBreaker(p.breaker) for name, p in config.providers.items()}
        self.latency = {name: LatencyStats() for name in config.models}
        self._rng = random.Random()

    def _stream_span(self, model: ModelConfig, route: str, attempt: int) -> Span | None:
        if self.telemetry is None:
            return None
        kind = self.config.providers[model.provider].kind
        return start_stream_span(self.telemetry, model, kind, route, attempt + 1)

    def _span(self, model: ModelConfig, route: str, attempt: int, operation: str = "chat") -> Any:
        if self.telemetry is None:
            return nullcontext(INVALID_SPAN)
        kind = self.config.providers[model.provider].kind
        return model_span(self.telemetry, model, kind, route, attempt + 1, operation)

    # -- planning ---------------------------------------------------------------------------
    def plan(
        self, route: RouteConfig, messages: list[dict[str, Any]], metadata: dict[str, Any], depth: int = 0
    ) -> tuple[str, list[ModelConfig]]:
        """The route finally used and its targets in the order they will be tried."""
        models = self.config.models
        if route.policy == "risk":
            if depth > 5:
                raise AllTargetsFailed(route.name, [])
            # A caller may raise the risk level (metadata["risk"]), never lower it below what the
            # rules find in the messages: a client cannot talk its way onto a cheaper route.
            assessed, _ = self.risk.assess(" ".join(text_of(m.get("content")) for m in messages))
            declared = metadata.get("risk")
            level = declared if declared in LEVELS and LEVELS[declared] > LEVELS[assessed] else assessed
            return self.plan(self.config.resolve(route.by_risk[level]), messages, metadata, depth + 1)
        targets = list(route.targets)
        if route.policy == "weighted":
            ordered = []
            pool = targets[:]
            while pool:
                pick = self._rng.choices(range(len(pool)), weights=[max(t.weight, 0.0) or 1e-9 for t in pool])[0]
                ordered.append(pool.pop(pick))
            targets = ordered
        elif route.policy == "cheapest":
            targets.sort(key=lambda t: models[t.model].input_per_1m + models[t.model].output_per_1m)
        elif route.policy == "latency":
            targets.sort(key=lambda t: self.latency[t.model].ewma_ms or 0.0)
        return route.name, [models[t.model] for t in targets]

    def _skip(self, model: ModelConfig, chain: list[dict[str, Any]]) -> bool:
        """Skip a target whose key is not configured or whose circuit is open (recorded in ``chain``)."""
        pc = self.config.providers[model.provider]
        if pc.api_key_env and not pc.api_key:
            chain.append(
                {
                    "model": model.name,
                    "provider": pc.name,
                    "outcome": "skipped",
                    "error": f"{pc.api_key_env} is not set",
                }
            )
            return True
        if not self.breakers[pc.name].allow():
            chain.append({"model": model.name, "provider": pc.name, "outcome": "circuit_open"})
            return True
        return False

    def _request(self, model: ModelConfig, messages: list[dict[str, Any]], params: dict[str, Any]) -> ChatRequest:
        return ChatRequest(model.model, messages, {**model.params, **params} if model.params else params)

    async def _backoff(self, provider: str, attempt: int, error: ProviderError, deadline: float | None) -> bool:
        """Sleep before the next attempt; False when the deadline leaves no room for it."""
        policy = self.config.providers[provider].retry
        delay = min(policy.backoff_max, policy.backoff_base * (2**attempt)) * (0.5 + self._rng.random() / 2)
        if error.retry_after is not None:
            delay = min(max(delay, error.retry_after), policy.backoff_max)
        if deadline is not None and time.monotonic() + delay >= deadline:
            return False
        await asyncio.sleep(delay)
        return True

    def _budget(self, provider: str, deadline: float | None) -> float:
        timeout = self.config.providers[provider].timeout
        if deadline is not None:
            timeout = min(timeout, deadline - time.monotonic())
        return timeout

    # -- calling ----------------------------------------------------------------------------
    def _failure(self, model: ModelConfig, exc: BaseException, attempt: int) -> tuple[ProviderError, dict[str, Any]]:
        error = (
            exc
            if isinstance(exc, ProviderError)
            else ProviderError("upstream timed out", retryable=True, kind="timeout")
            if isinstance(exc, TimeoutError)
            else ProviderError("upstream stream ended before any content", retryable=True, kind="empty_stream")
        )
        step = {
            "model": model.name,
            "provider": model.provider,
            "outcome": "error",
            "error": error.kind,
            "status": error.status,
            "attempt": attempt + 1,
        }
        return error, step

    async def _attempts(
        self,
        route_name: str,
        model: ModelConfig,
        deadline: float | None,
        chain: list[dict[str, Any]],
        call: Callable[[int, float], Awaitable[T]],
        *,
        refusals_count: bool = True,
    ) -> T | None:
        """One target's attempts (retries with back-off inside the route's deadline, its breaker,
        its latency), shared by :meth:`complete` and :meth:`embed`: ``call(attempt, budget)``
        answers or raises. None when the target failed and the next one should be tried.
        ``refusals_count=False``: a non-retryable refusal of this request does not count against
        the provider's health."""
        pname = model.provider
        breaker = self.breakers[pname]
        attempts = 1 + self.config.providers[pname].retry.attempts
        try:
            for attempt in range(attempts):
                budget = self._budget(pname, deadline)
                if budget <= 0:
                    chain.append({"model": model.name, "provider": pname, "outcome": "error", "error": "deadline"})
                    breaker.release()
                    raise AllTargetsFailed(route_name, chain)
                started = time.perf_counter()
                try:
                    result = await call(attempt, budget)
                except (ProviderError, TimeoutError) as exc:
                    error, step = self._failure(model, exc, attempt)
                    chain.append(step)
                    if (
                        error.retryable
                        and attempt + 1 < attempts
                        and await self._backoff(pname, attempt, error, deadline)
                    ):
                        continue
                    if error.retryable or refusals_count:
                        breaker.failure()
                    else:
                        breaker.release()  # a refusal of this request says nothing of the provider's health
                    return None
                breaker.success()
                self.latency[model.name].observe((time.perf_counter() - started) * 1000)
                chain.append({"model": model.name, "provider": pname, "outcome": "ok", "attempt": attempt + 1})
                return result
        except asyncio.CancelledError:
            breaker.release()  # the caller went away: the half-open trial proved nothing
            raise
        return None

    async def _complete_once(
        self,
        route_name: str,
        model: ModelConfig,
        provider: Provider,
        request: ChatRequest,
        messages: list[dict[str, Any]],
        attempt: int,
        budget: float,
    ) -> ProviderResult:
        with self._span(model, route_name, attempt) as span:
            async with asyncio.timeout(budget):
                result = await provider.complete(request, budget)
            record_result(span, result)
            if self.capture_content:
                record_content(span, redact_value(messages, self._secrets), redact(result.text, self._secrets))
        return result

    async def _embed_once(
        self, route_name: str, model: ModelConfig, provider: Any, request: EmbeddingRequest, attempt: int, budget: float
    ) -> EmbeddingResult:
        with self._span(model, route_name, attempt, "embeddings"):
            async with asyncio.timeout(budget):
                result: EmbeddingResult = await provider.embed(request, budget)
        return result

    async def complete(
        self,
        route: RouteConfig,
        messages: list[dict[str, Any]],
        params: dict[str, Any],
        metadata: dict[str, Any],
        chain: list[dict[str, Any]],
    ) -> tuple[str, ModelConfig, ProviderResult]:
        """Try targets until one answers. ``chain`` is filled in as targets are tried."""
        route_name, targets = self.plan(route, messages, metadata)
        deadline = time.monotonic() + route.timeout if route.timeout else None
        for model in targets:
            if self._skip(model, chain):
                continue
            request = self._request(model, messages, params)
            provider = self.providers[model.provider]

            call = partial(self._complete_once, route_name, model, provider, request, messages)
            answer = await self._attempts(route_name, model, deadline, chain, call)
            if answer is not None:
                return route_name, model, answer
        raise AllTargetsFailed(route_name, chain)

    async def stream(
        self,
        route: RouteConfig,
        messages: list[dict[str, Any]],
        params: dict[str, Any],
        metadata: dict[str, Any],
        chain: list[dict[str, Any]],
    ) -> AsyncIterator[tuple[str, ModelConfig, StreamDelta]]:
        """Yield ``(route, model, delta)``. Until the first delta with content (text, a tool call
        or a finish reason) arrives, a failure moves on to the next target (with retries): empty
        deltas such as OpenAI's leading role chunk do not commit to a target. After it, a failure
        raises :class:`MidStreamError`. Every wait is bounded: by the provider timeout per delta
        and by the route's deadline overall."""
        route_name, targets = self.plan(route, messages, metadata)
        deadline = time.monotonic() + route.timeout if route.timeout else None
        for model in targets:
            pname = model.provider
            breaker = self.breakers[pname]
            if self._skip(model, chain):
                continue
            request = self._request(model, messages, params)
            attempts = 1 + self.config.providers[pname].retry.attempts
            try:
                for attempt in range(attempts):
                    budget = self._budget(pname, deadline)
                    if budget <= 0:
                        chain.append({"model": model.name, "provider": pname, "outcome": "error", "error": "deadline"})
                        breaker.release()
                        raise AllTargetsFailed(route_name, chain)
                    started = time.perf_counter()
                    agen = self.providers[pname].stream(request, budget)
                    usage: dict[str, int] | None = None
                    # Not made current: a generator may be resumed in another context.
                    attempt_span = self._stream_span(model, route_name, attempt)
                    try:
                        async with asyncio.timeout(budget):
                            first = await anext(agen)
                            while not _has_content(first):
                                usage = first.usage or usage
                                first = await anext(agen)
                    except (ProviderError, TimeoutError, StopAsyncIteration) as exc:
                        end_stream_span(attempt_span, None, exc)
                        await agen.aclose()
                        error, step = self._failure(model, exc, attempt)
                        chain.append(step)
                        if (
                            error.retryable
                            and attempt + 1 < attempts
                            and await self._backoff(pname, attempt, error, deadline)
                        ):
                            continue
                        breaker.failure()
                        break
                    if usage and not first.usage:
                        first.usage = usage
                    chain.append({"model": model.name, "provider": pname, "outcome": "ok", "attempt": attempt + 1})
                    finish, last_usage = first.finish_reason, first.usage or usage
                    failure: BaseException | None = None
                    yield route_name, model, first
                    try:
                        while True:
                            idle = self._budget(pname, deadline)
                            try:
                                async with asyncio.timeout(max(idle, 0.0)):
                                    delta = await anext(agen)
                            except StopAsyncIteration:
                                break
                            except TimeoutError:
                                raise ProviderError("upstream stream stalled", retryable=True, kind="timeout") from None
                            finish, last_usage = delta.finish_reason or finish, delta.usage or last_usage
                            yield route_name, model, delta
                    except ProviderError as exc:
                        failure = exc
                        breaker.failure()
                        chain[-1] = {**chain[-1], "outcome": "error", "error": exc.kind, "mid_stream": True}
                        raise MidStreamError(exc, chain) from None
                    finally:
                        end_stream_span(attempt_span, last_usage, failure, finish)
                        await agen.aclose()
                    breaker.success()
                    self.latency[model.name].observe((time.perf_counter() - started) * 1000)
                    return
            except (asyncio.CancelledError, GeneratorExit):
                breaker.release()  # the caller went away: a half-open trial proved nothing
                raise
        raise AllTargetsFailed(route_name, chain)

    async def embed(
        self, route: RouteConfig, inputs: list[str], params: dict[str, Any], chain: list[dict[str, Any]]
    ) -> tuple[str, ModelConfig, EmbeddingResult]:
        """Embed ``inputs`` with the first target that answers (same retries, breakers, deadline
        and fallback as chat). A provider that cannot embed right now (the local one without the
        ``embeddings`` extra) is skipped like a provider whose key is unset."""
        route_name, targets = self.plan(route, [], {})
        deadline = time.monotonic() + route.timeout if route.timeout else None
        for model in targets:
            pname = model.provider
            provider: Any = self.providers[pname]
            reason = provider.embeddings_unavailable() if hasattr(provider, "embed") else "no embeddings support"
            if reason:
                chain.append({"model": model.name, "provider": pname, "outcome": "skipped", "error": reason})
                continue
            if self._skip(model, chain):
                continue
            request = EmbeddingRequest(model.model, inputs, params.get("dimensions"), params.get("user"))

            call = partial(self._embed_once, route_name, model, provider, request)
            answer = await self._attempts(route_name, model, deadline, chain, call, refusals_count=False)
            if answer is not None:
                return route_name, model, answer
        raise AllTargetsFailed(route_name, chain)


def _has_content(delta: StreamDelta) -> bool:
    return bool(delta.text or delta.tool_calls or delta.finish_reason)
