"""Settings: ``charter.toml`` in the project folder, overridden by ``CHARTER_*`` environment variables.

Precedence (highest first): explicit keyword overrides, environment, ``charter.toml``, defaults.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from charter.exceptions import ConfigError

DEMO_DIR = Path(__file__).parent / "demo"


class Settings(BaseModel):
    """Everything an app instance needs. Immutable once built."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    project_dir: Path = Path(".")
    database_url: str = ""
    #: ``memory`` (in process) or ``redis`` (shared, invalidated by pub/sub).
    cache: Literal["memory", "redis", "off"] = "memory"
    cache_max_entries: int = Field(default=10_000, ge=1)
    #: Seconds a cached response may live without a purge; 0 keeps it until purged.
    cache_ttl: int = Field(default=0, ge=0)
    redis_url: str = "redis://127.0.0.1:6379/0"
    #: Signs preview tokens and sessions; set CHARTER_SECRET_KEY in production.
    secret_key: str = "charter-dev-secret-change-me"
    log_level: str = "INFO"
    log_json: bool = True
    max_body_bytes: int = Field(default=1_048_576, ge=1)
    #: Fraction of requests traced (OpenTelemetry ParentBased(TraceIdRatio)).
    trace_sample_ratio: float = Field(default=1.0, ge=0.0, le=1.0)
    #: ``none`` keeps spans in process only; ``otlp`` sends them to a collector (``[charter.telemetry]``,
    #: docs/observability.md); ``console`` prints them; ``memory`` is for tests.
    trace_exporter: Literal["none", "otlp", "console", "memory"] = "none"
    #: OTLP export, sampling and batching (``[charter.telemetry]``; OTEL_* variables win, docs/observability.md).
    telemetry: dict[str, Any] = Field(default_factory=dict)
    #: Delivery cache headers (RFC 9111 / RFC 5861).
    cache_max_age: int = Field(default=60, ge=0)
    cache_stale_while_revalidate: int = Field(default=300, ge=0)
    #: The content source behind the delivery API: ``embedded`` or ``wagtail``.
    source: Literal["embedded", "wagtail"] = "embedded"
    wagtail_url: str = ""
    #: The Wagtail type mapping (``[charter.wagtail.types.<type>]``, docs/delivery-api.md).
    wagtail: dict[str, Any] = Field(default_factory=dict)
    #: Run the in-process worker (outbox fan-out, schedules) inside the server.
    worker: bool = True
    demo: bool = False
    #: Project intents beyond the built-in vocabulary (charter.schemas.intents.KNOWN_INTENTS).
    intents: tuple[str, ...] = ()
    extra: dict[str, Any] = Field(default_factory=dict)
    #: Approval policies (``[charter.workflow]``, docs/releases.md) and webhook tuning (``[charter.webhooks]``).
    workflow: dict[str, Any] = Field(default_factory=dict)
    webhooks: dict[str, Any] = Field(default_factory=dict)
    #: Outbound calls (``[charter.egress]``, docs/egress.md): internal networks and hosts they may reach.
    egress: dict[str, Any] = Field(default_factory=dict)
    #: The web admin (``[charter.admin]``, docs/admin.md): sessions, cookies, sign-in throttling.
    admin: dict[str, Any] = Field(default_factory=dict)
    #: Maintainability metrics and DORA (``[charter.metrics]``: targets, repo, windows; docs/metrics.md).
    metrics: dict[str, Any] = Field(default_factory=dict)

    @property
    def content_types_dir(self) -> Path:
        return self.project_dir / "content-types"

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        data_dir = self.project_dir / ".charter"
        return f"sqlite:///{(data_dir / 'charter.db').resolve()}"


_ENV_KEYS = {
    "database_url": "CHARTER_DATABASE_URL",
    "cache": "CHARTER_CACHE",
    "cache_ttl": "CHARTER_CACHE_TTL",
    "redis_url": "CHARTER_REDIS_URL",
    "secret_key": "CHARTER_SECRET_KEY",
    "log_level": "CHARTER_LOG_LEVEL",
    "log_json": "CHARTER_LOG_JSON",
    "trace_sample_ratio": "CHARTER_TRACE_SAMPLE_RATIO",
    "trace_exporter": "CHARTER_TRACE_EXPORTER",
    "source": "CHARTER_SOURCE",
    "wagtail_url": "CHARTER_WAGTAIL_URL",
    "worker": "CHARTER_WORKER",
    "max_body_bytes": "CHARTER_MAX_BODY_BYTES",
}


def load_settings(project_dir: str | Path | None = None, *, demo: bool = False, **overrides: Any) -> Settings:
    """Build settings for a project folder (the demo project when ``demo``)."""
    if demo:
        project = DEMO_DIR
        overrides.setdefault("demo", True)
    else:
        project = Path(project_dir or os.environ.get("CHARTER_PROJECT", ".")).resolve()
    values: dict[str, Any] = {}
    toml_path = project / "charter.toml"
    if toml_path.exists():
        try:
            data = tomllib.loads(toml_path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{toml_path}: {exc}") from exc
        values.update(data.get("charter", data))
    for key, env in _ENV_KEYS.items():
        if env in os.environ:
            values[key] = os.environ[env]
    values.update(overrides)
    if demo and "database_url" not in values:
        # The bundled demo folder may be read-only (site-packages): keep its data in the working folder.
        values["database_url"] = f"sqlite:///{(Path.cwd() / '.charter-demo' / 'charter.db').resolve()}"
    values["project_dir"] = project
    try:
        return Settings(**values)
    except ValidationError as exc:
        raise ConfigError(f"invalid settings in {toml_path}: {exc}") from exc
