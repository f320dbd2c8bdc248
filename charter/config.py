"""Settings: ``charter.toml`` in the project folder, overridden by ``CHARTER_*`` environment variables.

Precedence (highest first): explicit keyword overrides, environment, ``charter.toml``, defaults.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from charter.exceptions import ConfigError

DEMO_DIR = Path(__file__).parent / "demo"
#: The public development key: fine for the demo and tests, refused by `charter serve`/`worker` elsewhere.
DEV_SECRET_KEY = "charter-dev-secret-change-me"
#: Per-checkout secrets beside charter.toml, git-ignored (`charter init` writes a random secret_key).
SECRET_FILE = "charter.secret.toml"
NO_PROJECT = (
    "no Charter project here: no charter.toml in {cwd} or any folder above it. "
    "Run `charter init NAME` to make one, pass --project DIR, set CHARTER_PROJECT, or use --demo"
)


class Settings(BaseModel):
    """Everything an app instance needs. Immutable once built."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    project_dir: Path = Path(".")
    #: The project's name (``charter init`` sets it to the folder's name).
    name: str = ""
    database_url: str = ""
    #: ``memory`` (in process) or ``redis`` (shared, invalidated by pub/sub).
    cache: Literal["memory", "redis", "off"] = "memory"
    cache_max_entries: int = Field(default=10_000, ge=1)
    #: Seconds a cached response may live without a purge; 0 keeps it until purged.
    cache_ttl: int = Field(default=0, ge=0)
    redis_url: str = "redis://127.0.0.1:6379/0"
    #: Signs preview tokens and sessions; set CHARTER_SECRET_KEY in production.
    secret_key: str = DEV_SECRET_KEY
    log_level: str = "INFO"
    log_json: bool = True
    max_body_bytes: int = Field(default=1_048_576, ge=1)
    #: Addresses (or networks, CIDR) of the reverse proxies whose ``X-Forwarded-For`` /
    #: ``X-Forwarded-Proto`` headers are honoured; default none: the peer address is the client
    #: (``charter serve`` passes this to uvicorn instead of its loopback default). ``"*"`` trusts all.
    forwarded_allow_ips: tuple[str, ...] = ()
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
    #: The content source behind the delivery API: a name registered on ``register_content_sources``
    #: (built in: ``embedded``, ``wagtail``, ``directus``, ``strapi``); a runtime does not open with an unknown one.
    source: str = Field(default="embedded", pattern=r"^[a-z][a-z0-9_.-]{0,63}$")
    wagtail_url: str = ""
    #: The Wagtail type mapping (``[charter.wagtail.types.<type>]``, docs/delivery-api.md).
    wagtail: dict[str, Any] = Field(default_factory=dict)
    #: Options of the other content sources, one table per source name (``[charter.sources.directus]``,
    #: ``[charter.sources.strapi]``, or a plugin source's own): docs/sources.md.
    sources: dict[str, dict[str, Any]] = Field(default_factory=dict)
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
    #: Cross-origin reads of the delivery API from browsers (``[charter.cors]``, docs/frontend.md).
    cors: dict[str, Any] = Field(default_factory=dict)
    #: The front end beside the admin's entry editor (``[charter.frontend]``, docs/frontend.md).
    frontend: dict[str, Any] = Field(default_factory=dict)
    #: Caches in front of Charter that it purges by surrogate key (``[charter.edge]``, docs/edge.md).
    edge: dict[str, Any] = Field(default_factory=dict)
    #: Maintainability metrics and DORA (``[charter.metrics]``: targets, repo, windows; docs/metrics.md).
    metrics: dict[str, Any] = Field(default_factory=dict)
    #: Media assets (``[charter.assets]``, docs/assets.md): upload limits, storage, image sizes.
    assets: dict[str, Any] = Field(default_factory=dict)

    @field_validator("forwarded_allow_ips", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        # The environment gives one string: "10.0.0.1, 10.0.0.2".
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _addresses(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        import ipaddress

        for item in value:
            if item == "*" or item.startswith("unix:"):
                continue
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"forwarded_allow_ips: {item!r} is not an IP address or network") from None
        return value

    @property
    def content_types_dir(self) -> Path:
        return self.project_dir / "content-types"

    @property
    def has_dev_secret(self) -> bool:
        return self.secret_key == DEV_SECRET_KEY

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
    "forwarded_allow_ips": "CHARTER_FORWARDED_ALLOW_IPS",
}


def require_secret(settings: Settings) -> None:
    """A long-running Charter outside the demo signs sessions and preview tokens with a key of its own."""
    if settings.has_dev_secret and not settings.demo:
        raise ConfigError(
            "secret_key is the public development key, which signs sessions and preview tokens anyone could "
            f"forge. Set CHARTER_SECRET_KEY, or secret_key in {settings.project_dir / SECRET_FILE} "
            "(git-ignored; `charter init` writes one), e.g. "
            "secret_key = \"<the output of: python -c 'import secrets; print(secrets.token_urlsafe(32))'>\""
        )


def find_project(start: Path | None = None) -> Path | None:
    """The nearest folder holding a ``charter.toml``: ``start`` (default: the working folder) or a parent."""
    here = (start or Path.cwd()).resolve()
    return next((folder for folder in (here, *here.parents) if (folder / "charter.toml").is_file()), None)


def demo_data_dir() -> Path:
    """Where the demo keeps its data, the same from every working folder: ``$CHARTER_DEMO_DATA``, else
    ``.charter-demo/`` in the checkout Charter runs from (``make run``), else the user's data folder
    (``$XDG_DATA_HOME/charter/demo``) when Charter is installed read-only in site-packages."""
    if env := os.environ.get("CHARTER_DEMO_DATA"):
        return Path(env).resolve()
    checkout = DEMO_DIR.parent.parent
    if (checkout / "pyproject.toml").is_file() and os.access(checkout, os.W_OK):
        return checkout / ".charter-demo"
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "charter" / "demo"


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    return dict(data.get("charter", data))


def load_settings(project_dir: str | Path | None = None, *, demo: bool = False, **overrides: Any) -> Settings:
    """Build settings for a project folder (the demo project when ``demo``).

    Without ``project_dir`` the project is ``$CHARTER_PROJECT``, else the nearest folder from the
    working folder up that holds a ``charter.toml``; none is a :class:`ConfigError` saying so.
    ``charter.secret.toml`` beside ``charter.toml`` (git-ignored) is read after it.
    """
    if demo:
        project = DEMO_DIR
        overrides.setdefault("demo", True)
    elif project_dir or os.environ.get("CHARTER_PROJECT"):
        project = Path(project_dir or os.environ["CHARTER_PROJECT"]).resolve()
    else:
        found = find_project()
        if found is None:
            raise ConfigError(NO_PROJECT.format(cwd=Path.cwd()))
        project = found
    values: dict[str, Any] = {}
    toml_path = project / "charter.toml"
    for path in (toml_path, project / SECRET_FILE):
        if path.exists():
            values.update(_read_toml(path))
    for key, env in _ENV_KEYS.items():
        if env in os.environ:
            values[key] = os.environ[env]
    values.update(overrides)
    if demo and "database_url" not in values:
        # The bundled demo folder may be read-only (site-packages): its data lives in a fixed place, so
        # `charter tokens create --demo` from any folder reaches the database `make run` serves.
        values["database_url"] = f"sqlite:///{demo_data_dir() / 'charter.db'}"
    values["project_dir"] = project
    try:
        return Settings(**values)
    except ValidationError as exc:
        raise ConfigError(f"invalid settings in {toml_path}: {exc}") from exc
