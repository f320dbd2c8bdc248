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


@dataclass(frozen=True)
class KeyConfig:
    """A client key (a LiteLLM-style virtual key). ``sha256`` of the bearer token identifies it."""

    name: str
    sha256: str
    rpm: int | None = None
    budget_usd: float | None = None
    budget_period: str = "month"  # day | month | total
    routes: tuple[str, ...] = ()  # empty = every route and model


@dataclass(frozen=True)
class GatewayConfig:
    path: Path | None
    providers: dict[str, ProviderConfig]
    models: dict[str, ModelConfig]
    routes: dict[str, RouteConfig]
    keys: dict[str, KeyConfig]  # by sha256
    default_route: str
    anonymous: KeyConfig | None  # limits for calls without a key; None = a key is required
    redact_before_provider: bool = False
    log_content: bool = True

    def resolve(self, name: str) -> RouteConfig:
        """A route by name, or an implicit single-target route for a model name."""
        if name in self.routes:
            return self.routes[name]
        if name in self.models:
            return RouteConfig(name=name, policy="fallback", targets=(Target(name),))
        raise KeyError(name)

    def secrets(self) -> list[str]:
        """Every provider key currently set, so redaction can scrub them from anything logged."""
        return [k for k in (p.api_key for p in self.providers.values()) if k]


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


def parse_config(raw: Any, path: Path | None = None) -> GatewayConfig:
    if not isinstance(raw, dict):
        raise _err(path, "", "must be a mapping")
    defaults = raw.get("defaults") or {}
    providers: dict[str, ProviderConfig] = {}
    for name, p in (raw.get("providers") or {}).items():
        if not isinstance(p, dict) or "kind" not in p:
            raise _err(path, f"/providers/{name}", "each provider needs a 'kind'")
        merged = {**defaults, **p}
        retry = merged.get("retry") or {}
        breaker = merged.get("breaker") or {}
        try:
            providers[name] = ProviderConfig(
                name=name,
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
                headers={str(k): str(v) for k, v in (p.get("headers") or {}).items()},
                options=dict(p.get("options") or {}),
            )
        except (TypeError, ValueError) as exc:
            raise _err(path, f"/providers/{name}", str(exc)) from exc
        if "api_key" in p:
            raise _err(path, f"/providers/{name}/api_key", "never put a key in the file; use api_key_env")
    models: dict[str, ModelConfig] = {}
    for name, m in (raw.get("models") or {}).items():
        if not isinstance(m, dict) or m.get("provider") not in providers:
            raise _err(path, f"/models/{name}/provider", f"unknown provider {m.get('provider')!r}")
        price = m.get("price") or {}
        models[name] = ModelConfig(
            name=name,
            provider=str(m["provider"]),
            model=str(m.get("model", name)),
            version=str(m.get("version", "")),
            input_per_1m=float(price.get("input_per_1m", 0.0)),
            output_per_1m=float(price.get("output_per_1m", 0.0)),
            context_window=m.get("context_window"),
            params=dict(m.get("params") or {}),
        )
    if not models:
        raise _err(path, "/models", "declare at least one model")
    routes: dict[str, RouteConfig] = {}
    for name, r in (raw.get("routes") or {}).items():
        routes[name] = _parse_route(name, r, models, path)
    for name, r in routes.items():
        for level, target in r.by_risk.items():
            if target not in routes and target not in models:
                raise _err(path, f"/routes/{name}/by_risk/{level}", f"unknown route or model {target!r}")
    default_route = str(raw.get("default_route", "default" if "default" in routes else next(iter(models))))
    if default_route not in routes and default_route not in models:
        raise _err(path, "/default_route", f"unknown route {default_route!r}")
    keys: dict[str, KeyConfig] = {}
    for i, k in enumerate(raw.get("keys") or []):
        keys_ptr = f"/keys/{i}"
        kc = _parse_key(k, keys_ptr, path)
        if kc.sha256:
            keys[kc.sha256] = kc
    anon_raw = raw.get("anonymous", {"rpm": None})
    anonymous = None if anon_raw is False else _parse_key({"name": "anonymous", **(anon_raw or {})}, "/anonymous", path)
    privacy = raw.get("privacy") or {}
    return GatewayConfig(
        path=path,
        providers=providers,
        models=models,
        routes=routes,
        keys=keys,
        default_route=default_route,
        anonymous=anonymous,
        redact_before_provider=bool(privacy.get("redact_before_provider", False)),
        log_content=bool(privacy.get("log_content", True)),
    )


def _parse_route(name: str, r: Any, models: dict[str, ModelConfig], path: Path | None) -> RouteConfig:
    if not isinstance(r, dict):
        raise _err(path, f"/routes/{name}", "must be a mapping")
    policy = str(r.get("policy", "fallback"))
    if policy not in POLICIES:
        raise _err(path, f"/routes/{name}/policy", f"unknown policy {policy!r}; use one of {', '.join(POLICIES)}")
    targets: list[Target] = []
    for i, t in enumerate(r.get("targets") or []):
        model, weight = (t, 1.0) if isinstance(t, str) else (t.get("model"), float(t.get("weight", 1.0)))
        if model not in models:
            raise _err(path, f"/routes/{name}/targets/{i}", f"unknown model {model!r}")
        targets.append(Target(str(model), weight))
    by_risk = {str(k): str(v) for k, v in (r.get("by_risk") or {}).items()}
    if policy == "risk":
        missing = [lvl for lvl in RISK_LEVELS if lvl not in by_risk]
        if missing:
            raise _err(path, f"/routes/{name}/by_risk", f"a risk route needs low, medium and high (missing {missing})")
    elif not targets:
        raise _err(path, f"/routes/{name}/targets", "a route needs at least one target")
    timeout = r.get("timeout")
    return RouteConfig(name, policy, tuple(targets), by_risk, float(timeout) if timeout else None)


def _parse_key(k: Any, ptr: str, path: Path | None) -> KeyConfig:
    if not isinstance(k, dict) or not k.get("name"):
        raise _err(path, ptr, "a key needs a name")
    digest = ""
    if k.get("sha256"):
        digest = str(k["sha256"]).lower()
    elif k.get("env"):
        token = os.environ.get(str(k["env"]), "")
        digest = key_hash(token) if token else ""
    elif k["name"] != "anonymous":
        raise _err(path, ptr, "a key needs 'sha256' (of the token) or 'env' (a variable holding it)")
    budget = k.get("budget") or {}
    period = str(budget.get("period", "month"))
    if period not in ("day", "month", "total"):
        raise _err(path, f"{ptr}/budget/period", "period is day, month or total")
    return KeyConfig(
        name=str(k["name"]),
        sha256=digest,
        rpm=int(k["rpm"]) if k.get("rpm") else None,
        budget_usd=float(budget["usd"]) if budget.get("usd") is not None else None,
        budget_period=period,
        routes=tuple(str(x) for x in (k.get("routes") or [])),
    )
