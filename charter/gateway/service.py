"""The gateway: one per runtime (:func:`charter.gateway.get_gateway`).

It authenticates client keys, enforces rate limits and spend budgets, routes the call, and queues
one redacted audit record per call. The HTTP API, the prompt runner and other domains (retrieval
answers, evals) all call :meth:`Gateway.complete` / :meth:`Gateway.stream`.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from opentelemetry import trace

from charter import egress
from charter.exceptions import ConfigError
from charter.gateway.audit import AuditWriter, CallRecord
from charter.gateway.chat_params import check_params
from charter.gateway.config import (
    GatewayConfig,
    KeyConfig,
    ModelConfig,
    ProviderConfig,
    RouteConfig,
    key_hash,
    load_config,
)
from charter.gateway.embeddings import audit_inputs
from charter.gateway.errors import GatewayError as GatewayError
from charter.gateway.limits import Admission, LimitsUnavailable, Refused, make_limits
from charter.gateway.providers.base import Provider
from charter.gateway.providers.local import count_tokens, parse_sources
from charter.gateway.redaction import hash_user, pii_key, redact, redact_value, usable_secrets
from charter.gateway.resilience import KeyState
from charter.gateway.risk import RiskRules
from charter.gateway.routing import AllTargetsFailed, MidStreamError, Router
from charter.gateway.tables import gateway_calls
from charter.gateway.telemetry import metrics_for
from charter.gateway.tools.offer import ToolOffer, audit_calls, merge_deltas, offer_tools, refused_offer
from charter.gateway.tools.registry import RISKS as RISK_ORDER
from charter.gateway.tools.registry import ToolRegistry
from charter.gateway.types import Completion, Embeddings, ProviderResult, StreamDelta, new_id
from charter.plugins import collect

if TYPE_CHECKING:
    from charter.auth.roles import Actor
    from charter.gateway.prompts.registry import PromptRegistry
    from charter.runtime import Runtime


@dataclass
class _Call:
    """A call between :meth:`Gateway._open` and :meth:`Gateway._close`."""

    route: RouteConfig
    key: KeyState | None  # admitted: charged against its reservation
    payer: KeyState | None  # the key charged (``key`` or a follow-up call's ``charge``)
    admission: Admission | None
    started: float
    record: CallRecord


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
        self.router = Router(self.config, self.providers, self.risk, rt.telemetry)
        self.metrics = metrics_for(rt.telemetry)
        self.audit = AuditWriter(rt.engine)
        self.pii_key = pii_key(rt.settings.secret_key)
        self.secrets = usable_secrets(self.config.secrets())
        self.limits = make_limits(self.config.limits, rt.settings, self._spent_since)
        self._keys: dict[str, KeyState] = {}
        self._reachable: dict[str, list[ModelConfig]] = {}  # route name -> models it can reach
        self._modes: dict[str, str] = {}  # route name -> chat | embedding
        self._prompts: PromptRegistry | None = None
        self._prompts_checked = 0.0
        self._prompts_stamp: tuple[tuple[str, int, int], ...] = ()
        self._tools: ToolRegistry | None = None
        self._tools_checked = 0.0
        self._tools_stamp: tuple[tuple[str, int, int], ...] = ()
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

    def _mode(self, route: RouteConfig) -> str:
        mode = self._modes.get(route.name)
        if mode is None:
            mode = self._modes[route.name] = self.config.mode_of(route)
        return mode

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

    async def _open(
        self,
        route_or_model: str,
        messages: list[dict[str, Any]],
        params: dict[str, Any],
        key: KeyState | None,
        charge: KeyState | None,
        record: CallRecord,
        mode: str = "chat",
    ) -> _Call:
        """The first half of every call, streamed or not: resolve the route, check it serves this
        kind of call (``chat`` or ``embedding``), admit the key (route allowed, budget reserved,
        rate limit)."""
        route = self.resolve(route_or_model)
        if self._mode(route) != mode:
            record.route = route.name
            raise GatewayError(
                400,
                f"{route.name!r} is an {'embedding' if mode == 'chat' else 'chat'} model or route; "
                f"use {'/v1/embeddings' if mode == 'chat' else '/v1/chat/completions'}, or another model",
                type="invalid_request_error",
                param="model",
                code="model_not_supported",
            )
        admission = None
        if key is not None:
            admission = await self.admit(key, route, self.estimate(route, messages, params) if key.budgeted else 0.0)
        record.route = route.name
        payer = key or charge
        record.key_name = payer.config.name if payer else "internal"
        return _Call(route, key, payer, admission, time.perf_counter(), record)

    async def _close(self, call: _Call, *, audit: bool = True) -> str:
        """The second half: charge the real cost (nothing when no model answered) and queue the
        audit record; the record's id."""
        record = call.record
        record.latency_ms = (time.perf_counter() - call.started) * 1000
        record.cost = record.model.cost(record.usage) if (record.model and record.usage) else 0.0
        if call.key is not None and call.key.budgeted:
            await self.limits.settle(call.key, call.admission, record.cost)
        elif call.payer is not None and call.payer.budgeted:
            await self.limits.settle(call.payer, None, record.cost)
        return self._audit(record) if audit else record.call_id

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
        offer: ToolOffer | None = None,
    ) -> Completion:
        """Route one chat call and return its :class:`Completion`; raise :class:`GatewayError`
        (404 unknown route, 403/429 key limits, 502 every target failed or the model's tool calls
        stayed invalid after one repair, 503 none available).

        ``route_or_model`` may be empty for the default route. ``key`` is admitted (route
        allowed, budget, rate limit) and charged; ``charge`` is only charged (a follow-up call
        that belongs to an admitted one, like a repair). ``metadata`` may carry ``prompt``,
        ``prompt_version``, ``risk``, ``retrieval_sources``, ``validation`` and ``call_id``; all
        of them end up in the audit record. ``offer`` (:func:`charter.gateway.tools.offer.offer_tools`)
        has the model's tool calls validated against the registered argument schemas. With
        ``audit=False`` the caller writes the record itself with :meth:`record` (one record for a
        multi-call use case)."""
        metadata = metadata or {}
        params = params or {}
        record = CallRecord(endpoint=endpoint, route="", messages=messages, user=user, metadata=metadata, offer=offer)
        record.call_id = str(metadata.get("call_id") or new_id())
        call = await self._open(route_or_model, messages, params, key, charge, record)
        try:
            route_name, model, result = await self.router.complete(
                call.route, self._prepare(messages), params, metadata, record.chain
            )
            record.route, record.model = route_name, model
            record.text, record.usage, record.tool_calls = result.text, result.usage, result.tool_calls
            if offer is not None and offer.registered and result.tool_calls:
                result = await self._checked_tool_calls(call, messages, params, result)
        except AllTargetsFailed as exc:
            record.route, record.error = exc.route, str(exc)
            await self._close(call)
            raise self._failed(exc) from None
        except GatewayError as exc:
            record.error = record.error or exc.detail
            await self._close(call)
            raise
        except BaseException:
            if key is not None and key.budgeted:
                await self.limits.settle(key, call.admission, 0.0)
            raise
        audit_id = await self._close(call, audit=audit)
        return Completion(
            text=result.text,
            model=model.name,
            provider=model.provider,
            route=record.route,
            fallback_chain=record.chain,
            usage=record.usage,
            latency_ms=record.latency_ms,
            cost=record.cost,
            citations=result.citations,
            finish_reason=result.finish_reason,
            tool_calls=result.tool_calls,
            model_version=model.version or result.model,
            raw=result.raw,
            audit_id=audit_id if audit else str(metadata.get("call_id") or ""),
        )

    async def _checked_tool_calls(
        self, call: _Call, messages: list[dict[str, Any]], params: dict[str, Any], result: ProviderResult
    ) -> ProviderResult:
        """``result`` when its tool calls are sound; else one repair (each problem fed back as the
        result of the call that caused it) and its answer when that is sound; else a 502 naming
        the audit record (which keeps both attempts' tool calls)."""
        record = call.record
        assert record.offer is not None
        problems = record.offer.problems(result.tool_calls)
        if not problems:
            return result
        calls = [{**t, "id": t.get("id") or f"call_{i}"} for i, t in enumerate(result.tool_calls)]
        feedback = (
            "Your tool call was invalid: "
            + "; ".join(problems[:10])
            + ". Call the tool again with corrected arguments."
        )
        repair = [
            *messages,
            {"role": "assistant", "content": result.text or None, "tool_calls": calls},
            *({"role": "tool", "tool_call_id": t["id"], "content": feedback} for t in calls),
        ]
        _, model, second = await self.router.complete(
            call.route, self._prepare(repair), params, record.metadata, record.chain
        )
        record.model = model
        record.usage = {
            k: record.usage.get(k, 0) + second.usage.get(k, 0) for k in ("prompt_tokens", "completion_tokens")
        }
        record.text, record.tool_calls = second.text, [*result.tool_calls, *second.tool_calls]
        again = record.offer.problems(second.tool_calls)
        record.validation = {"tool_calls": "repaired" if not again else "invalid", "problems": problems[:10]}
        if again:
            record.error = "invalid tool call after one repair: " + "; ".join(again[:10])
            raise GatewayError(
                502,
                f"The model's tool calls stayed invalid after one repair attempt: {'; '.join(again[:5])}"
                f" (audit id {record.call_id})",
                type="api_error",
                code="invalid_tool_call",
            )
        return second

    async def stream(
        self,
        route_or_model: str,
        messages: list[dict[str, Any]],
        *,
        metadata: dict[str, Any] | None = None,
        user: str | None = None,
        params: dict[str, Any] | None = None,
        key: KeyState | None = None,
        offer: ToolOffer | None = None,
    ) -> AsyncGenerator[tuple[ModelConfig, StreamDelta], None]:
        """Stream a call. Routing errors before the first delta raise :class:`GatewayError`;
        a failure after it raises :class:`GatewayError` with code ``stream_interrupted``. One
        audit record is written when the stream ends, however it ends (the client may leave).

        With registered tools offered, tool-call fragments are held back and the complete calls
        come as one delta before the finish, once validated (a stream cannot be repaired: invalid
        calls end it with ``invalid_tool_call``)."""
        metadata = metadata or {}
        params = params or {}
        record = CallRecord(endpoint="stream", route="", messages=messages, user=user, metadata=metadata, offer=offer)
        record.call_id = str(metadata.get("call_id") or new_id())
        call = await self._open(route_or_model, messages, params, key, None, record)
        hold = offer is not None and offer.registered
        parts: list[str] = []
        calls: dict[int, dict[str, Any]] = {}
        usage: dict[str, int] | None = None
        try:
            async for routed, model, delta in self.router.stream(
                call.route, self._prepare(messages), params, metadata, record.chain
            ):
                record.route, record.model = routed, model
                parts.append(delta.text)
                if delta.usage:
                    usage = delta.usage
                if delta.tool_calls:
                    merge_deltas(calls, delta.tool_calls)
                    if hold:
                        if not delta.text and not delta.finish_reason and not delta.usage:
                            continue
                        delta = StreamDelta(delta.text, delta.finish_reason, delta.usage)
                if hold and delta.finish_reason and calls:
                    record.tool_calls = [calls[i] for i in sorted(calls)]
                    assert offer is not None
                    problems = offer.problems(record.tool_calls)
                    if problems:
                        record.error = "invalid tool call: " + "; ".join(problems[:10])
                        raise GatewayError(
                            502,
                            f"The model's tool calls are invalid: {'; '.join(problems[:5])}"
                            f" (audit id {record.call_id})",
                            type="api_error",
                            code="invalid_tool_call",
                        )
                    yield model, StreamDelta(tool_calls=[{"index": i, **calls[i]} for i in sorted(calls)])
                yield model, delta
        except AllTargetsFailed as exc:
            record.error = str(exc)
            raise self._failed(exc) from None
        except MidStreamError as exc:
            record.error = f"stream interrupted: {exc.error.message}"
            raise GatewayError(
                502, "The upstream stream was interrupted.", type="api_error", code="stream_interrupted"
            ) from None
        finally:
            record.text = "".join(parts)
            record.tool_calls = [calls[i] for i in sorted(calls)]
            if record.model is not None:
                record.usage = usage or {
                    "prompt_tokens": sum(count_tokens(str(m.get("content") or "")) for m in messages),
                    "completion_tokens": count_tokens(record.text),
                }
            await self._close(call)

    async def embed(
        self,
        route_or_model: str,
        inputs: list[str],
        *,
        params: dict[str, Any] | None = None,
        key: KeyState | None = None,
        user: str | None = None,
        endpoint: str = "embeddings",
    ) -> Embeddings:
        """Embed ``inputs`` (checked strings: :func:`charter.gateway.embeddings.parse_embeddings`)
        on an embedding route: admitted and charged like a chat call (prompt tokens at the model's
        input price), routed with the same fallback, one audit record (endpoint ``embeddings``,
        the inputs bounded like tool traffic, the response a summary, never the vectors). Raises
        :class:`GatewayError` as :meth:`complete` does, and 400 ``model_not_supported`` for a chat
        route."""
        params = params or {}
        messages = [{"role": "user", "content": t} for t in inputs]
        record = CallRecord(endpoint=endpoint, route=route_or_model[:200], messages=audit_inputs(inputs), user=user)
        record.call_id = new_id()
        if key is not None:
            record.key_name = key.config.name
        try:
            call = await self._open(route_or_model, messages, params, key, None, record, mode="embedding")
            self._check_dimensions(call.route, params.get("dimensions"))
        except GatewayError as exc:  # not this kind of route, not this key's, over its limits
            record.error = f"{exc.code or exc.error_type}: {exc.detail}"
            self._audit(record, status="refused")
            raise
        try:
            route_name, model, result = await self.router.embed(
                call.route, inputs, {**params, "user": None}, record.chain
            )
        except AllTargetsFailed as exc:
            record.route, record.error = exc.route, str(exc)
            await self._close(call)
            raise self._failed(exc) from None
        except BaseException:
            if key is not None and key.budgeted:
                await self.limits.settle(key, call.admission, 0.0)
            raise
        record.route, record.model = route_name, model
        tokens = result.prompt_tokens or sum(count_tokens(t) for t in inputs)
        record.usage = {"prompt_tokens": tokens, "completion_tokens": 0}
        dims = len(result.vectors[0]) if result.vectors else 0
        record.text = f"{len(result.vectors)} embeddings of {dims} dimensions"
        audit_id = await self._close(call)
        return Embeddings(
            vectors=result.vectors,
            model=model.name,
            provider=model.provider,
            route=route_name,
            prompt_tokens=tokens,
            cost=record.cost,
            audit_id=audit_id,
            fallback_chain=record.chain,
        )

    def _check_dimensions(self, route: RouteConfig, dimensions: int | None) -> None:
        """400 when ``dimensions`` is asked of a route whose every model has a fixed, other size
        (the local MiniLM model: 384), rather than a 502 after trying them all."""
        if dimensions is None:
            return
        models = [self.config.models[m] for m in self.config.models_of(route)]
        fixed = [m for m in models if self.config.providers[m.provider].kind == "local"]
        if models and len(fixed) == len(models) and all(m.dimensions != dimensions for m in fixed):
            sizes = sorted({m.dimensions for m in fixed if m.dimensions})
            raise GatewayError(
                400,
                f"{route.name!r} answers vectors of {', '.join(map(str, sizes)) or 'a fixed size'} dimensions;"
                f" it cannot shorten them to {dimensions}",
                type="invalid_request_error",
                param="dimensions",
                code="unsupported_dimensions",
            )

    def offer(self, data: dict[str, Any], key: KeyState, prompt: str | None = None) -> ToolOffer | None:
        """Check a parsed chat request's tool and format parameters and its tool traffic against
        the tool registry (:mod:`charter.gateway.tools.offer`); None when it has no tools."""
        names = check_params(data)
        if not names and not any(m.get("role") == "tool" or m.get("tool_calls") for m in data["messages"]):
            return None
        route = self.resolve(data["model"])
        return offer_tools(
            self.tools,
            data,
            key=key.config.name,
            route=route.name,
            allow_unregistered=route.unregistered_tools,
            prompt=prompt,
        )

    def refused(
        self,
        endpoint: str,
        key: KeyState | None,
        data: dict[str, Any],
        exc: GatewayError,
        messages: list[dict[str, Any]] | None = None,
    ) -> str:
        """Audit a request refused before it was routed (its tools, its tool traffic; for
        embeddings, ``messages`` holds its bounded inputs): status ``refused``, the error, no
        model; the record's id."""
        record = CallRecord(
            endpoint=endpoint,
            route=str(data.get("model") or "")[:200],
            messages=messages if messages is not None else data.get("messages") or [],
            key_name=key.config.name if key else "internal",
            user=data.get("user") if isinstance(data.get("user"), str) else None,
            error=f"{exc.code or exc.error_type}: {exc.detail}",
            call_id=new_id(),
            offer=refused_offer(data.get("tools")),
        )
        return self._audit(record, status="refused")

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
        return self._audit(
            CallRecord(
                endpoint=endpoint,
                route=completion.route,
                messages=messages,
                key_name=key.config.name if key else "internal",
                user=user,
                metadata=metadata,
                model=self.config.models.get(completion.model),
                chain=completion.fallback_chain,
                text=completion.text,
                latency_ms=completion.latency_ms,
                usage=completion.usage,
                cost=completion.cost,
                tool_calls=completion.tool_calls,
                error=error,
                call_id=str(metadata.get("call_id") or new_id()),
            )
        )

    def _audit(self, record: CallRecord, status: str | None = None) -> str:
        """Redact ``record`` (and bound its tool traffic) into a ``gateway_calls`` row; queue it."""
        metadata = record.metadata
        call_id = record.call_id or str(metadata.get("call_id") or new_id())
        messages = record.messages
        sources = list(metadata.get("retrieval_sources") or [s[1] for s in parse_sources(messages)])
        log_content = self.config.log_content
        model = record.model
        offer = record.offer
        tool_calls = audit_calls(record.tool_calls)
        if not log_content:
            tool_calls = [{"id": t["id"], "name": t["name"]} for t in tool_calls]
        risks = [r for r in (metadata.get("risk"), offer.risk if offer else None) if r]
        self.metrics.observe(
            record.route,
            model.name if model else "none",
            model.provider if model else "none",
            status or ("error" if record.error else "ok"),
            record.latency_ms / 1000,
            record.usage,
            record.cost,
        )
        current = trace.get_current_span().get_span_context()
        self.audit.record(
            {
                "id": call_id,
                "at": datetime.now(UTC),
                "endpoint": record.endpoint,
                "key_name": record.key_name,
                "user_hash": hash_user(record.user, self.pii_key) if record.user else None,
                "prompt": metadata.get("prompt"),
                "prompt_version": metadata.get("prompt_version"),
                "route": record.route,
                "model": model.name if model else None,
                "model_version": (model.version or model.model) if model else None,
                "provider": model.provider if model else None,
                "fallback_chain": record.chain,
                "retrieval_sources": sources,
                "tools": offer.audit() if offer and offer.offered else None,
                "tool_calls": redact_value(tool_calls, self.secrets),
                "tool_results": redact_value(offer.results, self.secrets)
                if (offer and offer.results and log_content)
                else None,
                "risk": max(risks, key=RISK_ORDER.index) if risks else None,
                "validation": record.validation or metadata.get("validation"),
                "status": status or ("error" if record.error else "ok"),
                "error": redact(record.error, self.secrets) if record.error else None,
                "latency_ms": round(record.latency_ms, 3),
                "prompt_tokens": int(record.usage.get("prompt_tokens", 0)),
                "completion_tokens": int(record.usage.get("completion_tokens", 0)),
                "cost": record.cost,
                "request": redact_value(messages, self.secrets) if log_content else None,
                "response": redact(record.text, self.secrets) if (log_content and record.text) else None,
                "trace_id": format(current.trace_id, "032x") if current.is_valid else None,
            }
        )
        return call_id

    # -- tools and prompts ---------------------------------------------------------------------
    @property
    def tools(self) -> ToolRegistry:
        """The project's tool registry (``tools/*.yaml``), re-read when a file changes (checked at
        most once a second); the keys and routes each tool names are checked against this gateway."""
        now = time.monotonic()
        if self._tools is None or now - self._tools_checked >= 1.0:
            self._tools_checked = now
            from charter.gateway.prompts.registry import directory_stamp

            directory = self.rt.settings.project_dir / "tools"
            stamp = directory_stamp(directory)
            if self._tools is None or stamp != self._tools_stamp:
                registry = ToolRegistry.load(directory)
                registry.check(self.config)
                self._tools, self._tools_stamp = registry, stamp
        assert self._tools is not None
        return self._tools

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
