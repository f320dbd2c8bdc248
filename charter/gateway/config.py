"""``configs/model.yaml``: providers, models, routes, client keys and privacy settings.

Read once when the gateway is built (never per request). Every mistake is a :class:`ConfigError`
naming the file and the offending key.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from charter.exceptions import ConfigError, ErrorDetail

POLICIES = ("fallback", "weighted", "cheapest", "latency", "risk")
RISK_LEVELS = ("low", "medium", "high")


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 2  # retries after the first try, per target
    backoff_base: float = 0.1  # seconds; doubled per retry, with jitter
    backoff_max: float = 2.0


@dataclass(frozen=True)
class BreakerPolicy:
    failures: int = 5  # consecutive failures that open the circuit
    reset_after: float = 30.0  # seconds before one trial request (half-open)


@dataclass(frozen=True)
class ProviderConfig:
    name: str
    kind: str
    base_url: str = ""
    api_key_env: str = ""
    timeout: float = 30.0
    connect_timeout: float = 5.0
    retry: RetryPolicy = RetryPolicy()
    breaker: BreakerPolicy = BreakerPolicy()
    headers: dict[str, str] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    #: The :class:`charter.egress.Policy` new upstream connections go through (set by the gateway
    #: from ``[charter.egress]`` after checking ``base_url``; ``None`` only for a bare provider).
    egress: Any = field(default=None, compare=False, repr=False)

    @property
    def api_key(self) -> str:
        """Read from the environment at call time; never stored in config, never logged."""
        return os.environ.get(self.api_key_env, "") if self.api_key_env else ""


@dataclass(frozen=True)
class ModelConfig:
    name: str  # the public name clients use
    provider: str
    model: str  # the upstream's name for it
    version: str = ""
    input_per_1m: float = 0.0  # USD per million prompt tokens
    output_per_1m: float = 0.0
    context_window: int | None = None
    params: dict[str, Any] = field(default_factory=dict)
    #: ``chat`` (``/v1/chat/completions``) or ``embedding`` (``/v1/embeddings``); a route's
    #: targets all share one mode.
    mode: str = "chat"
    dimensions: int | None = None  # an embedding model's vector size, when known

    def cost(self, usage: dict[str, int]) -> float:
        return (
            usage.get("prompt_tokens", 0) * self.input_per_1m + usage.get("completion_tokens", 0) * self.output_per_1m
        ) / 1_000_000


@dataclass(frozen=True)
class Target:
    model: str
    weight: float = 1.0


@dataclass(frozen=True)
class RouteConfig:
    name: str
    policy: str
    targets: tuple[Target, ...] = ()
    by_risk: dict[str, str] = field(default_factory=dict)  # risk level -> route name
    timeout: float | None = None  # overall deadline for the call, seconds
    unregistered_tools: bool = False  # True: tools absent from tools/ may be offered (not validated)


@dataclass(frozen=True)
class KeyConfig:
    """A client key (a LiteLLM-style virtual key). ``sha256`` of the bearer token identifies it."""

    name: str
    sha256: str
    rpm: int | None = None
    budget_usd: float | None = None
    budget_period: str = "month"  # day | month | total
    routes: tuple[str, ...] = ()  # empty = every route and model


LIMIT_BACKENDS = ("auto", "memory", "redis")


@dataclass(frozen=True)
class LimitsConfig:
    """Where the client keys' rate windows and spend are kept (``limits`` in model.yaml).

    ``memory``: in each process (one allowance per instance). ``redis``: shared by every instance
    on ``settings.redis_url``. ``auto``: ``redis`` when the response cache is (``cache = "redis"``)."""

    backend: str = "auto"
    prefix: str = "charter:limits:"  # Redis key prefix
    timeout: float = 0.5  # seconds for one Redis call, connecting included; slower counts as down
    lease: float = 600.0  # seconds a budget reservation is held at most (then it lapses)


@dataclass(frozen=True)
class GatewayConfig:
    path: Path | None
    providers: dict[str, ProviderConfig]
    models: dict[str, ModelConfig]
    routes: dict[str, RouteConfig]
    keys: dict[str, KeyConfig]  # by sha256
    default_route: str
    anonymous: KeyConfig | None  # limits for calls without a key; None = a key is required
    api_tokens: KeyConfig | None = None  # limits per Charter API token (prompt runs); None = none
    redact_before_provider: bool = False
    log_content: bool = True
    limits: LimitsConfig = LimitsConfig()

    def resolve(self, name: str) -> RouteConfig:
        """A route by name, or an implicit single-target route for a model name."""
        if name in self.routes:
            return self.routes[name]
        if name in self.models:
            return RouteConfig(name=name, policy="fallback", targets=(Target(name),))
        raise KeyError(name)

    def mode_of(self, route: RouteConfig) -> str:
        """``chat`` or ``embedding``: the mode of the models ``route`` reaches (one per route)."""
        reached = self.models_of(route)
        return self.models[reached[0]].mode if reached and reached[0] in self.models else "chat"

    def models_of(self, route: RouteConfig, depth: int = 0) -> list[str]:
        """Every model name ``route`` can reach (through risk routes too)."""
        if route.policy != "risk":
            return [t.model for t in route.targets]
        out: list[str] = []
        if depth < 6:
            for name in dict.fromkeys(route.by_risk.values()):
                out += [m for m in self.models_of(self.resolve(name), depth + 1) if m not in out]
        return out

    def secrets(self) -> list[str]:
        """Every provider key currently set, so redaction can scrub them from anything logged."""
        return [k for k in (p.api_key for p in self.providers.values()) if k]


def _check_one_mode(
    name: str, route: RouteConfig, routes: dict[str, RouteConfig], models: dict[str, ModelConfig], path: Path | None
) -> None:
    """A route reaches chat models only or embedding models only."""
    reached: list[str] = []
    todo, seen = [route], set()
    while todo:
        r = todo.pop()
        if r.name in seen:
            continue
        seen.add(r.name)
        reached += [t.model for t in r.targets]
        todo += [routes[t] for t in r.by_risk.values() if t in routes]
        reached += [t for t in r.by_risk.values() if t in models]
    modes = {models[m].mode for m in reached if m in models}
    if len(modes) > 1:
        raise _err(path, f"/routes/{name}", "a route reaches chat models or embedding models, not both")
    if "embedding" in modes and route.policy == "risk":
        raise _err(path, f"/routes/{name}/policy", "an embedding route cannot use the risk policy")


def key_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _err(path: Path | None, pointer: str, message: str) -> ConfigError:
    return ConfigError(
        detail=f"{path or 'model config'}: {message}",
        errors=[ErrorDetail(pointer, message, file=str(path) if path else None)],
    )


def default_config() -> dict[str, Any]:
    """Used when a project has no ``configs/model.yaml``: the offline ``local`` model only."""
    return {
        "providers": {"local": {"kind": "local"}},
        "models": {"local-extractive": {"provider": "local", "model": "extractive-v1", "version": "1"}},
        "routes": {"default": {"policy": "fallback", "targets": ["local-extractive"]}},
    }


def load_config(project_dir: Path) -> GatewayConfig:
    path = project_dir / "configs" / "model.yaml"
    if path.exists():
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise _err(path, "", f"not valid YAML: {exc}") from exc
        return parse_config(raw, path)
    return parse_config(default_config(), None)


TOP_KEYS = frozenset(
    {
        "defaults",
        "providers",
        "models",
        "routes",
        "default_route",
        "keys",
        "anonymous",
        "api_tokens",
        "limits",
        "privacy",
        "eval",
    }
)
PROVIDER_KEYS = frozenset(
    {"kind", "base_url", "api_key_env", "timeout", "connect_timeout", "retry", "breaker", "headers", "options"}
)
MODEL_KEYS = frozenset({"provider", "model", "version", "price", "context_window", "params", "mode", "dimensions"})
MODES = ("chat", "embedding")
ROUTE_KEYS = frozenset({"policy", "targets", "by_risk", "timeout", "unregistered_tools"})
KEY_KEYS = frozenset({"name", "sha256", "env", "rpm", "budget", "routes"})


def _known(value: dict[str, Any], allowed: frozenset[str], path: Path | None, ptr: str) -> None:
    unknown = sorted(str(k) for k in value if k not in allowed)
    if unknown:
        raise _err(path, f"{ptr}/{unknown[0]}", f"unknown key {unknown[0]!r} (known: {', '.join(sorted(allowed))})")


def _mapping(value: Any, path: Path | None, ptr: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _err(path, ptr, "must be a mapping")
    return value


def parse_config(raw: Any, path: Path | None = None) -> GatewayConfig:
    """Parse a model.yaml document. The ``eval`` section belongs to the eval harness and is left
    to it; any other unknown key is an error (a typo must not silently disable a limit)."""
    if not isinstance(raw, dict):
        raise _err(path, "", "must be a mapping")
    _known(raw, TOP_KEYS, path, "")
    defaults = _mapping(raw.get("defaults"), path, "/defaults")
    _known(defaults, frozenset({"timeout", "connect_timeout", "retry", "breaker"}), path, "/defaults")
    providers: dict[str, ProviderConfig] = {}
    for name, p in _mapping(raw.get("providers"), path, "/providers").items():
        ptr = f"/providers/{name}"
        if not isinstance(p, dict) or "kind" not in p:
            raise _err(path, ptr, "each provider needs a 'kind'")
        if "api_key" in p:
            raise _err(path, f"{ptr}/api_key", "never put a key in the file; use api_key_env")
        _known(p, PROVIDER_KEYS, path, ptr)
        merged = {**defaults, **p}
        retry = _mapping(merged.get("retry"), path, f"{ptr}/retry")
        breaker = _mapping(merged.get("breaker"), path, f"{ptr}/breaker")
        _known(retry, frozenset({"attempts", "backoff_base", "backoff_max"}), path, f"{ptr}/retry")
        _known(breaker, frozenset({"failures", "reset_after"}), path, f"{ptr}/breaker")
        try:
            pc = ProviderConfig(
                name=str(name),
                kind=str(p["kind"]),
                base_url=str(p.get("base_url", "")).rstrip("/"),
                api_key_env=str(p.get("api_key_env", "")),
                timeout=float(merged.get("timeout", 30.0)),
                connect_timeout=float(merged.get("connect_timeout", 5.0)),
                retry=RetryPolicy(
                    attempts=int(retry.get("attempts", 2)),
                    backoff_base=float(retry.get("backoff_base", 0.1)),
                    backoff_max=float(retry.get("backoff_max", 2.0)),
                ),
                breaker=BreakerPolicy(
                    failures=int(breaker.get("failures", 5)), reset_after=float(breaker.get("reset_after", 30.0))
                ),
                headers={str(k): str(v) for k, v in _mapping(p.get("headers"), path, f"{ptr}/headers").items()},
                options=dict(_mapping(p.get("options"), path, f"{ptr}/options")),
            )
        except (TypeError, ValueError) as exc:
            raise _err(path, ptr, str(exc)) from exc
        if pc.timeout <= 0 or pc.connect_timeout <= 0:
            raise _err(path, f"{ptr}/timeout", "timeouts are positive numbers of seconds")
        if pc.retry.attempts < 0 or pc.retry.backoff_base < 0 or pc.retry.backoff_max < 0:
            raise _err(path, f"{ptr}/retry", "retry attempts and backoff are zero or more")
        if pc.breaker.failures < 1 or pc.breaker.reset_after <= 0:
            raise _err(path, f"{ptr}/breaker", "breaker failures is at least 1 and reset_after positive")
        providers[str(name)] = pc
    models: dict[str, ModelConfig] = {}
    for name, m in _mapping(raw.get("models"), path, "/models").items():
        ptr = f"/models/{name}"
        if not isinstance(m, dict) or m.get("provider") not in providers:
            got = m.get("provider") if isinstance(m, dict) else None
            raise _err(path, f"{ptr}/provider", f"unknown provider {got!r}")
        _known(m, MODEL_KEYS, path, ptr)
        if m.get("mode", "chat") not in MODES:
            raise _err(path, f"{ptr}/mode", f"mode is one of {', '.join(MODES)}, not {m.get('mode')!r}")
        price = _mapping(m.get("price"), path, f"{ptr}/price")
        _known(price, frozenset({"input_per_1m", "output_per_1m"}), path, f"{ptr}/price")
        try:
            models[str(name)] = ModelConfig(
                name=str(name),
                provider=str(m["provider"]),
                model=str(m.get("model", name)),
                version=str(m.get("version", "")),
                input_per_1m=float(price.get("input_per_1m", 0.0)),
                output_per_1m=float(price.get("output_per_1m", 0.0)),
                context_window=int(m["context_window"]) if m.get("context_window") is not None else None,
                params=dict(_mapping(m.get("params"), path, f"{ptr}/params")),
                mode=str(m.get("mode", "chat")),
                dimensions=int(m["dimensions"]) if m.get("dimensions") is not None else None,
            )
        except (TypeError, ValueError) as exc:
            raise _err(path, ptr, str(exc)) from exc
    if not models:
        raise _err(path, "/models", "declare at least one model")
    routes: dict[str, RouteConfig] = {}
    for name, r in _mapping(raw.get("routes"), path, "/routes").items():
        if str(name) in models:
            raise _err(
                path, f"/routes/{name}", f"{name!r} is already a model name; routes and models share one namespace"
            )
        routes[str(name)] = _parse_route(str(name), r, models, path)
    for name, r in routes.items():
        for level, target in r.by_risk.items():
            if target not in routes and target not in models:
                raise _err(path, f"/routes/{name}/by_risk/{level}", f"unknown route or model {target!r}")
    for name in routes:
        _check_acyclic(name, routes, path)
    for name, r in routes.items():
        _check_one_mode(name, r, routes, models, path)
    default_route = str(raw.get("default_route", "default" if "default" in routes else next(iter(models))))
    if default_route not in routes and default_route not in models:
        raise _err(path, "/default_route", f"unknown route {default_route!r}")
    keys: dict[str, KeyConfig] = {}
    keys_raw = raw.get("keys") or []
    if not isinstance(keys_raw, list):
        raise _err(path, "/keys", "keys is a list")
    for i, k in enumerate(keys_raw):
        kc = _parse_key(k, f"/keys/{i}", path)
        if kc.sha256:
            keys[kc.sha256] = kc
    for kc in [*keys.values()]:
        for r in kc.routes:
            if r not in routes and r not in models:
                raise _err(path, "/keys", f"key {kc.name!r} names unknown route or model {r!r}")
    anon_raw = raw.get("anonymous", {})
    if anon_raw is not False and not isinstance(anon_raw, dict | None):
        raise _err(path, "/anonymous", "anonymous is a mapping ({rpm, budget, routes}) or false")
    anonymous = (
        None if anon_raw is False else _parse_key({"name": "anonymous", **(anon_raw or {})}, "/anonymous", path, False)
    )
    tokens_raw = raw.get("api_tokens")
    if tokens_raw is not None and not isinstance(tokens_raw, dict):
        raise _err(path, "/api_tokens", "api_tokens is a mapping ({rpm, budget, routes})")
    api_tokens = _parse_key({"name": "api-token", **tokens_raw}, "/api_tokens", path, False) if tokens_raw else None
    privacy = _mapping(raw.get("privacy"), path, "/privacy")
    _known(privacy, frozenset({"redact_before_provider", "log_content"}), path, "/privacy")
    return GatewayConfig(
        path=path,
        providers=providers,
        models=models,
        routes=routes,
        keys=keys,
        default_route=default_route,
        anonymous=anonymous,
        api_tokens=api_tokens,
        redact_before_provider=bool(privacy.get("redact_before_provider", False)),
        log_content=bool(privacy.get("log_content", True)),
        limits=_parse_limits(raw.get("limits"), path),
    )


def _parse_limits(raw: Any, path: Path | None) -> LimitsConfig:
    limits = _mapping(raw, path, "/limits")
    _known(limits, frozenset({"backend", "prefix", "timeout", "lease"}), path, "/limits")
    backend = str(limits.get("backend", "auto"))
    if backend not in LIMIT_BACKENDS:
        raise _err(path, "/limits/backend", f"backend is one of {', '.join(LIMIT_BACKENDS)}")
    prefix = limits.get("prefix", LimitsConfig.prefix)
    if not isinstance(prefix, str) or not prefix:
        raise _err(path, "/limits/prefix", "prefix is a non-empty string")
    try:
        timeout = float(limits.get("timeout", LimitsConfig.timeout))
        lease = float(limits.get("lease", LimitsConfig.lease))
    except (TypeError, ValueError):
        raise _err(path, "/limits", "timeout and lease are numbers of seconds") from None
    if timeout <= 0 or lease <= 0:
        raise _err(path, "/limits", "timeout and lease are positive numbers of seconds")
    return LimitsConfig(backend, prefix, timeout, lease)


def _check_acyclic(name: str, routes: dict[str, RouteConfig], path: Path | None, seen: tuple[str, ...] = ()) -> None:
    if name in seen:
        raise _err(path, f"/routes/{seen[0]}/by_risk", f"risk routes loop: {' -> '.join((*seen, name))}")
    route = routes.get(name)
    if route is None or route.policy != "risk":
        return
    for target in dict.fromkeys(route.by_risk.values()):
        _check_acyclic(target, routes, path, (*seen, name))


def _parse_route(name: str, r: Any, models: dict[str, ModelConfig], path: Path | None) -> RouteConfig:
    ptr = f"/routes/{name}"
    if not isinstance(r, dict):
        raise _err(path, ptr, "must be a mapping")
    _known(r, ROUTE_KEYS, path, ptr)
    policy = str(r.get("policy", "fallback"))
    if policy not in POLICIES:
        raise _err(path, f"{ptr}/policy", f"unknown policy {policy!r}; use one of {', '.join(POLICIES)}")
    targets: list[Target] = []
    targets_raw = r.get("targets") or []
    if not isinstance(targets_raw, list):
        raise _err(path, f"{ptr}/targets", "targets is a list of model names or {model, weight}")
    for i, t in enumerate(targets_raw):
        if isinstance(t, str):
            model, weight = t, 1.0
        elif isinstance(t, dict):
            try:
                model, weight = str(t.get("model")), float(t.get("weight", 1.0))
            except (TypeError, ValueError):
                raise _err(path, f"{ptr}/targets/{i}/weight", "weight is a number") from None
            if weight < 0:
                raise _err(path, f"{ptr}/targets/{i}/weight", "weight is zero or more")
        else:
            raise _err(path, f"{ptr}/targets/{i}", "a target is a model name or {model, weight}")
        if model not in models:
            raise _err(path, f"{ptr}/targets/{i}", f"unknown model {model!r}")
        targets.append(Target(str(model), weight))
    by_risk = {str(k): str(v) for k, v in _mapping(r.get("by_risk"), path, f"{ptr}/by_risk").items()}
    if policy == "risk":
        missing = [lvl for lvl in RISK_LEVELS if lvl not in by_risk]
        extra = [lvl for lvl in by_risk if lvl not in RISK_LEVELS]
        if missing or extra:
            raise _err(path, f"{ptr}/by_risk", f"a risk route maps exactly low, medium and high (missing {missing})")
    elif not targets:
        raise _err(path, f"{ptr}/targets", "a route needs at least one target")
    if policy == "weighted" and not any(t.weight > 0 for t in targets):
        raise _err(path, f"{ptr}/targets", "a weighted route needs a target with a positive weight")
    timeout = r.get("timeout")
    try:
        timeout_s = float(timeout) if timeout else None
    except (TypeError, ValueError):
        raise _err(path, f"{ptr}/timeout", "timeout is a number of seconds") from None
    unregistered = r.get("unregistered_tools", False)
    if not isinstance(unregistered, bool):
        raise _err(path, f"{ptr}/unregistered_tools", "unregistered_tools is true or false")
    return RouteConfig(name, policy, tuple(targets), by_risk, timeout_s, unregistered)


def _parse_key(k: Any, ptr: str, path: Path | None, identified: bool = True) -> KeyConfig:
    """A client key. ``identified``: it must say which bearer token it is (``sha256`` or ``env``);
    the ``anonymous`` and ``api_tokens`` limit sets are not tokens."""
    if not isinstance(k, dict) or not k.get("name"):
        raise _err(path, ptr, "a key needs a name")
    _known(k, KEY_KEYS, path, ptr)
    digest = ""
    if k.get("sha256"):
        digest = str(k["sha256"]).lower()
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise _err(path, f"{ptr}/sha256", "sha256 is the 64-hex-digit SHA-256 of the token")
    elif k.get("env"):
        token = os.environ.get(str(k["env"]), "")
        digest = key_hash(token) if token else ""
    elif identified:
        raise _err(path, ptr, "a key needs 'sha256' (of the token) or 'env' (a variable holding it)")
    budget = _mapping(k.get("budget"), path, f"{ptr}/budget")
    _known(budget, frozenset({"usd", "period"}), path, f"{ptr}/budget")
    period = str(budget.get("period", "month"))
    if period not in ("day", "month", "total"):
        raise _err(path, f"{ptr}/budget/period", "period is day, month or total")
    try:
        rpm = int(k["rpm"]) if k.get("rpm") is not None else None
        usd = float(budget["usd"]) if budget.get("usd") is not None else None
    except (TypeError, ValueError):
        raise _err(path, ptr, "rpm is a whole number and budget.usd a number") from None
    if (rpm is not None and rpm < 1) or (usd is not None and usd < 0):
        raise _err(path, ptr, "rpm is at least 1 and budget.usd zero or more")
    routes = k.get("routes") or []
    if not isinstance(routes, list):
        raise _err(path, f"{ptr}/routes", "routes is a list of route or model names")
    return KeyConfig(
        name=str(k["name"]),
        sha256=digest,
        rpm=rpm,
        budget_usd=usd,
        budget_period=period,
        routes=tuple(str(x) for x in routes),
    )
