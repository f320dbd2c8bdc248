"""The gateway: one per runtime (:func:`charter.gateway.get_gateway`).

It authenticates client keys, enforces rate limits and spend budgets, routes the call, and queues
one redacted audit record per call. The HTTP API, the prompt runner and other domains (retrieval
answers, evals) all call :meth:`Gateway.complete` / :meth:`Gateway.stream`.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from charter import egress
from charter.exceptions import CharterError, ConfigError
from charter.gateway.audit import AuditWriter
from charter.gateway.config import (
    GatewayConfig,
    KeyConfig,
    ModelConfig,
    ProviderConfig,
    RouteConfig,
    key_hash,
    load_config,
)
from charter.gateway.limits import Admission, LimitsUnavailable, Refused, make_limits
from charter.gateway.providers.base import Provider
from charter.gateway.providers.local import count_tokens, parse_sources
from charter.gateway.redaction import hash_user, pii_key, redact, redact_value
from charter.gateway.resilience import KeyState
from charter.gateway.risk import RiskRules
from charter.gateway.routing import AllTargetsFailed, MidStreamError, Router
from charter.gateway.tables import gateway_calls
from charter.gateway.types import Completion, StreamDelta, new_id
from charter.plugins import collect

if TYPE_CHECKING:
    from charter.auth.roles import Actor
    from charter.gateway.prompts.registry import PromptRegistry
    from charter.runtime import Runtime


class GatewayError(CharterError):
    """A gateway failure with an OpenAI error ``type`` and ``code`` as well as an HTTP status.
    On the OpenAI-compatible endpoints it renders as ``{"error": {...}}``; elsewhere as problem+json."""

    type_slug = "gateway"
    title = "Gateway error"

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "api_error",
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail=message, extra={"code": code} if code else {})
        self.status = status
        self.error_type = type
        self.code = code
        self.param = param
        self.headers = headers or {}

    def to_openai(self) -> dict[str, Any]:
        return {"error": {"message": self.detail, "type": self.error_type, "param": self.param, "code": self.code}}


def guarded_provider(pc: ProviderConfig, policy: egress.Policy) -> ProviderConfig:
    """``pc`` with the egress policy its connections go through, once its base URL is checked
    (at load, not per request: a refused URL stops the gateway from starting)."""
    if pc.base_url:
        try:
            egress.check_url(pc.base_url, policy)
        except egress.Refused as exc:
            raise ConfigError(f"provider {pc.name!r}: base_url {pc.base_url!r} is refused: {exc}") from None
    return replace(pc, egress=policy)


class Gateway:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.config: GatewayConfig = load_config(rt.settings.project_dir)
        factories = collect(rt.plugins, "register_providers")
        self.providers: dict[str, Provider] = {}
        policy = egress.policy_for(rt.settings)
        for name, pc in self.config.providers.items():
            pc = guarded_provider(pc, policy)
            if pc.kind not in factories:
                raise ConfigError(
                    f"provider {name!r}: no provider plugin for kind {pc.kind!r} "
                    f"(known: {', '.join(sorted(factories))})"
                )
            self.providers[name] = factories[pc.kind](pc)
        self.risk = RiskRules()
        self.router = Router(self.config, self.providers, self.risk)
        self.audit = AuditWriter(rt.engine)
        self.pii_key = pii_key(rt.settings.secret_key)
        self.secrets = self.config.secrets()
        self.limits = make_limits(self.config.limits, rt.settings, self._spent_since)
        self._keys: dict[str, KeyState] = {}
        self._reachable: dict[str, list[ModelConfig]] = {}  # route name -> models it can reach
        self._prompts: PromptRegistry | None = None
        self._prompts_checked = 0.0
        self._prompts_stamp: tuple[tuple[str, int, int], ...] = ()
        rt._closers.append(self)

    # -- keys, limits, budgets -----------------------------------------------------------------
    def authenticate(self, token: str | None) -> KeyState:
        """The key state for a bearer token; anonymous when none is given and anonymous calls are
        allowed. Unknown tokens are rejected (never silently treated as anonymous)."""
        config: KeyConfig | None
        if token:
            config = self.config.keys.get(key_hash(token))
            if config is None:
                if not self.config.keys and self.config.anonymous is not None:
                    config = self.config.anonymous  # no keys configured: any token is anonymous
                else:
                    raise GatewayError(
                        401, "Incorrect API key provided.", type="invalid_request_error", code="invalid_api_key"
                    )
        else:
            config = self.config.anonymous
            if config is None:
                raise GatewayError(
                    401, "You didn't provide an API key.", type="invalid_request_error", code="missing_api_key"
                )
        return self._state(config)

    def token_key(self, actor: Actor) -> KeyState:
        """The key state for calls made with a Charter API token (prompt runs): the ``api_tokens``
        limits of model.yaml, counted per token; no limits when that section is absent."""
        limits = self.config.api_tokens
        name = f"{actor.kind}:{actor.name}"
        return self._state(
            KeyConfig(
                name=name,
                sha256="",
                rpm=limits.rpm if limits else None,
                budget_usd=limits.budget_usd if limits else None,
                budget_period=limits.budget_period if limits else "month",
                routes=limits.routes if limits else (),
            )
        )

    def _state(self, config: KeyConfig) -> KeyState:
        state = self._keys.get(config.name)
        if state is None:
            state = self._keys[config.name] = self.limits.key(config)
        return state

    def _spent_since(self, key_name: str, start: datetime) -> float:
        with self.rt.read() as conn:
            value = conn.execute(
                sa.select(sa.func.coalesce(sa.func.sum(gateway_calls.c.cost), 0.0)).where(
                    gateway_calls.c.key_name == key_name, gateway_calls.c.at >= start
                )
            ).scalar_one()
        return float(value)

    async def admit(self, key: KeyState, route: RouteConfig, estimate: float = 0.0) -> Admission | None:
        """Check the key may call ``route`` now; reserve ``estimate`` USD of its budget and return
        the admission (hand it to :meth:`settle` when the call ends; None for a key without
        limits). Raises 403 for a route the key may not use, 429 for a spent budget or the rate
        limit, 503 when the shared limits store (Redis) cannot be reached."""
        config = key.config
        if config.routes and route.name not in config.routes:
            raise GatewayError(
                403,
                f"this key may not use {route.name!r}",
                type="invalid_request_error",
                code="model_not_allowed",
                param="model",
            )
        if not key.limited:
            return None
        try:
            return await self.limits.admit(key, estimate)
        except Refused as exc:
            if exc.kind == "rate":
                raise GatewayError(
                    429,
                    f"rate limit of {config.rpm} requests per minute reached",
                    type="rate_limit_error",
                    code="rate_limit_exceeded",
                    headers={"retry-after": str(max(1, round(exc.wait)))},
                ) from None
            left = exc.left
            raise GatewayError(
                429,
                f"budget of {config.budget_usd} USD per {config.budget_period} is spent"
                + (f" (this call may cost up to {estimate:.6f} USD, {max(left, 0):.6f} USD left)" if left > 0 else ""),
                type="insufficient_quota",
                code="budget_exceeded",
            ) from None
        except LimitsUnavailable:
            # Fail closed: a budget is enforced, so no store to enforce it with means no call.
            raise GatewayError(
                503,
                "The gateway cannot check this key's limits right now; try again shortly.",
                type="api_error",
                code="limits_unavailable",
                headers={"retry-after": "1"},
            ) from None

    async def settle(self, key: KeyState, admission: Admission | None, cost: float) -> None:
        """Replace an admission's reservation by the call's real ``cost`` (0 for a failed call);
        ``admission`` None charges ``cost`` alone (a follow-up call of an admitted one)."""
        if key.budgeted:
            await self.limits.settle(key, admission, cost)

    def estimate(self, route: RouteConfig, messages: list[dict[str, Any]], params: dict[str, Any]) -> float:
        """The most a call may cost before it is made: its prompt (about four characters a token)
        and its ``max_tokens`` of output, at the dearest model the route can reach."""
        models = self._reachable.get(route.name)
        if models is None:
            models = self._reachable[route.name] = [self.config.models[m] for m in self.config.models_of(route)]
        if not models:
            return 0.0
        chars = sum(len(str(m.get("content") or "")) for m in messages)
        usage = {
            "prompt_tokens": chars // 4 + 1,
            "completion_tokens": int(params.get("max_tokens") or params.get("max_completion_tokens") or 0),
        }
        return max(m.cost(usage) for m in models)

    def resolve(self, name: str | None) -> RouteConfig:
        try:
            return self.config.resolve(name or self.config.default_route)
        except KeyError:
            raise GatewayError(
                404,
                f"The model or route {name!r} does not exist.",
                type="invalid_request_error",
                code="model_not_found",
                param="model",
            ) from None

    def models(self) -> list[dict[str, Any]]:
        """What ``GET /v1/models`` lists: routes first, then models."""
        out = [
            {"id": name, "object": "model", "created": 0, "owned_by": "charter", "kind": "route", "policy": r.policy}
            for name, r in self.config.routes.items()
        ]
        out += [
            {"id": name, "object": "model", "created": 0, "owned_by": m.provider, "kind": "model"}
            for name, m in self.config.models.items()
        ]
        return out

    # -- calls ---------------------------------------------------------------------------------
    def _prepare(self, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if self.config.redact_before_provider:
            return [{**m, "content": redact_value(m.get("content"), self.secrets)} for m in messages]
        return messages

    async def complete(
        self,
        route_or_model: str,
        messages: list[dict[str, Any]],
        *,
        metadata: dict[str, Any] | None = None,
        user: str | None = None,
        params: dict[str, Any] | None = None,
        key: KeyState | None = None,
        endpoint: str = "sdk",
        audit: bool = True,
        charge: KeyState | None = None,
    ) -> Completion:
        """Route one chat call and return its :class:`Completion`; raise :class:`GatewayError`
        (404 unknown route, 403/429 key limits, 502 every target failed, 503 none available).

        ``route_or_model`` may be empty for the default route. ``key`` is admitted (route
        allowed, budget, rate limit) and charged; ``charge`` is only charged (a follow-up call
        that belongs to an admitted one, like a repair). ``metadata`` may carry ``prompt``,
        ``prompt_version``, ``risk``, ``retrieval_sources``, ``validation`` and ``call_id``; all
        of them end up in the audit record. With ``audit=False`` the caller writes the record
        itself with :meth:`record` (one record for a multi-call use case)."""
        metadata = metadata or {}
        params = params or {}
        route = self.resolve(route_or_model)
        admission = None
        if key is not None:
            admission = await self.admit(key, route, self.estimate(route, messages, params) if key.budgeted else 0.0)
        payer = key or charge
        chain: list[dict[str, Any]] = []
        started = time.perf_counter()
        try:
            route_name, model, result = await self.router.complete(
                route, self._prepare(messages), params, metadata, chain
            )
        except AllTargetsFailed as exc:
            if key is not None and key.budgeted:
                await self.limits.settle(key, admission, 0.0)
            latency = (time.perf_counter() - started) * 1000
            self._audit(
                endpoint,
                key or charge,
                user,
                exc.route,
                None,
                chain,
                messages,
                None,
                latency,
                {},
                0.0,
                metadata,
                [],
                error=str(exc),
            )
            raise self._failed(exc) from None
        except BaseException:
            if key is not None and key.budgeted:
                await self.limits.settle(key, admission, 0.0)
            raise
        latency = (time.perf_counter() - started) * 1000
        cost = model.cost(result.usage)
        if payer is not None and payer.budgeted:
            await self.limits.settle(payer, admission, cost)
        completion = Completion(
            text=result.text,
            model=model.name,
            provider=model.provider,
            route=route_name,
            fallback_chain=chain,
            usage=result.usage,
            latency_ms=latency,
            cost=cost,
            citations=result.citations,
            finish_reason=result.finish_reason,
            tool_calls=result.tool_calls,
            model_version=model.version or result.model,
            raw=result.raw,
        )
        if audit:
            completion.audit_id = self._audit(
                endpoint,
                payer,
                user,
                route_name,
                model,
                chain,
                messages,
                result.text,
                latency,
                result.usage,
                cost,
                metadata,
                result.tool_calls,
            )
        else:
            completion.audit_id = str(metadata.get("call_id") or "")
        return completion

    async def stream(
        self,
        route_or_model: str,
        messages: list[dict[str, Any]],
        *,
        metadata: dict[str, Any] | None = None,
        user: str | None = None,
        params: dict[str, Any] | None = None,
        key: KeyState | None = None,
    ) -> AsyncGenerator[tuple[ModelConfig, StreamDelta], None]:
        """Stream a call. Routing errors before the first delta raise :class:`GatewayError`;
        a failure after it raises :class:`GatewayError` with code ``stream_interrupted``. One
        audit record is written when the stream ends, however it ends (the client may leave)."""
        metadata = metadata or {}
        params = params or {}
        route = self.resolve(route_or_model)
        admission = None
        if key is not None:
            admission = await self.admit(key, route, self.estimate(route, messages, params) if key.budgeted else 0.0)
        chain: list[dict[str, Any]] = []
        started = time.perf_counter()
        parts: list[str] = []
        tool_calls: list[dict[str, Any]] = []
        usage: dict[str, int] | None = None
        model: ModelConfig | None = None
        route_name = route.name
        error: str | None = None
        try:
            async for routed, model, delta in self.router.stream(
                route, self._prepare(messages), params, metadata, chain
            ):
                route_name = routed
                parts.append(delta.text)
                if delta.usage:
                    usage = delta.usage
                if delta.tool_calls:
                    tool_calls.extend(t for t in delta.tool_calls if t.get("id"))
                yield model, delta
        except AllTargetsFailed as exc:
            error = str(exc)
            raise self._failed(exc) from None
        except MidStreamError as exc:
            error = f"stream interrupted: {exc.error.message}"
            raise GatewayError(
                502, "The upstream stream was interrupted.", type="api_error", code="stream_interrupted"
            ) from None
        finally:
            text = "".join(parts)
            if model is not None:
                usage = usage or {
                    "prompt_tokens": sum(count_tokens(str(m.get("content") or "")) for m in messages),
                    "completion_tokens": count_tokens(text),
                }
            cost = model.cost(usage) if (model and usage) else 0.0
            if key is not None and key.budgeted:
                await self.limits.settle(key, admission, cost)
            self._audit(
                "stream",
                key,
                user,
                route_name,
                model,
                chain,
                messages,
                text,
                (time.perf_counter() - started) * 1000,
                usage or {},
                cost,
                metadata,
                tool_calls,
                error=error,
            )

    def _failed(self, exc: AllTargetsFailed) -> GatewayError:
        detail = redact(str(exc), self.secrets)
        if exc.rate_limited:
            return GatewayError(
                429, detail, type="rate_limit_error", code="upstream_rate_limited", headers={"retry-after": "1"}
            )
        if exc.unavailable:
            # Nothing was even tried: every circuit is open or no target has its key set.
            return GatewayError(503, detail, type="api_error", code="no_target_available", headers={"retry-after": "1"})
        return GatewayError(502, detail, type="api_error", code="all_targets_failed")

    # -- audit ---------------------------------------------------------------------------------
    def record(
        self,
        completion: Completion,
        *,
        endpoint: str,
        key: KeyState | None,
        user: str | None,
        messages: list[dict[str, Any]],
        metadata: dict[str, Any],
        error: str | None = None,
    ) -> str:
        """Queue the audit record of a call made with ``audit=False`` (e.g. a prompt run that
        validated the output first, so the one record carries the validation result)."""
        model = self.config.models.get(completion.model)
        return self._audit(
            endpoint,
            key,
            user,
            completion.route,
            model,
            completion.fallback_chain,
            messages,
            completion.text,
            completion.latency_ms,
            completion.usage,
            completion.cost,
            metadata,
            completion.tool_calls,
            error=error,
        )

    def _audit(
        self,
        endpoint: str,
        key: KeyState | None,
        user: str | None,
        route: str,
        model: ModelConfig | None,
        chain: list[dict[str, Any]],
        messages: list[dict[str, Any]],
        text: str | None,
        latency: float,
        usage: dict[str, int],
        cost: float,
        metadata: dict[str, Any],
        tool_calls: list[dict[str, Any]],
        error: str | None = None,
    ) -> str:
        call_id = metadata.get("call_id") or new_id()
        sources = list(metadata.get("retrieval_sources") or [s[1] for s in parse_sources(messages)])
        log_content = self.config.log_content
        self.audit.record(
            {
                "id": call_id,
                "at": datetime.now(UTC),
                "endpoint": endpoint,
                "key_name": key.config.name if key else "internal",
                "user_hash": hash_user(user, self.pii_key) if user else None,
                "prompt": metadata.get("prompt"),
                "prompt_version": metadata.get("prompt_version"),
                "route": route,
                "model": model.name if model else None,
                "model_version": (model.version or model.model) if model else None,
                "provider": model.provider if model else None,
                "fallback_chain": chain,
                "retrieval_sources": sources,
                "tool_calls": [{"id": t.get("id"), "name": (t.get("function") or {}).get("name")} for t in tool_calls],
                "validation": metadata.get("validation"),
                "status": "error" if error else "ok",
                "error": redact(error, self.secrets) if error else None,
                "latency_ms": round(latency, 3),
                "prompt_tokens": int(usage.get("prompt_tokens", 0)),
                "completion_tokens": int(usage.get("completion_tokens", 0)),
                "cost": cost,
                "request": redact_value(messages, self.secrets) if log_content else None,
                "response": redact(text, self.secrets) if (log_content and text) else None,
            }
        )
        return str(call_id)

    # -- prompts -------------------------------------------------------------------------------
    @property
    def prompts(self) -> PromptRegistry:
        """The project's prompt registry, re-read when a file in ``prompts/`` changes (checked at
        most once a second), so a flag ramp or a new version needs no restart. Every version's
        route and output content type is checked against this gateway and the schema registry."""
        now = time.monotonic()
        if self._prompts is None or now - self._prompts_checked >= 1.0:
            self._prompts_checked = now
            from charter.gateway.prompts.registry import PromptRegistry, directory_stamp

            directory = self.rt.settings.project_dir / "prompts"
            stamp = directory_stamp(directory)
            if self._prompts is None or stamp != self._prompts_stamp:
                registry = PromptRegistry.load(directory)
                registry.check(self.config, self.rt.registry)
                self._prompts, self._prompts_stamp = registry, stamp
        assert self._prompts is not None
        return self._prompts

    async def aclose(self) -> None:
        """Close the providers' connection pools and the limits store's, and flush the audit queue
        (server shutdown)."""
        for provider in self.providers.values():
            await provider.aclose()
        await self.limits.aclose()
        self.audit.flush()

    def close(self) -> None:
        self.audit.close()
