"""``[charter.edge]`` in charter.toml: the caches in front of Charter that it purges.

::

    [charter.edge]
    varnish = ["http://127.0.0.1:6081"]   # every Varnish in front (each gets every purge)
    # purge_secret = "..."                # default: derived from secret_key (charter edge varnish writes it)
    # repurge_after = 1.0                 # seconds; a second purge once every instance dropped its copy
    # timeout = 2.0                       # seconds per purge request
"""

from __future__ import annotations

import hashlib
import hmac
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from charter.exceptions import ConfigError

if TYPE_CHECKING:
    from charter.config import Settings

#: The request header that carries the shared secret on a purge (never forwarded to Charter).
SECRET_HEADER = "Charter-Purge-Secret"
#: The request header that names the surrogate keys to purge (vmod_xkey's convention).
KEYS_HEADER = "xkey-purge"


class EdgeSettings(BaseModel):
    """``[charter.edge]``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    varnish: tuple[str, ...] = Field(
        default=(), description="Base URLs of the Varnish servers in front of Charter; each receives every purge."
    )
    purge_secret: str = Field(
        default="",
        description="The shared secret a purge carries (Charter-Purge-Secret); empty: derived from secret_key.",
    )
    repurge_after: float = Field(
        default=1.0,
        ge=0,
        le=60,
        description="Seconds after a purge to purge the same keys again (0: never): by then every instance has "
        "dropped its own copy, so a fill from an instance that had not yet caught up is removed too.",
    )
    timeout: float = Field(default=2.0, gt=0, le=30, description="Seconds a purge request may take.")

    @field_validator("varnish")
    @classmethod
    def _urls(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for url in value:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"varnish: {url!r} is not an http(s) URL such as http://127.0.0.1:6081")
        return tuple(url.rstrip("/") for url in value)


def edge_settings(settings: Settings) -> EdgeSettings:
    """``[charter.edge]`` of a project; a bad value is a :class:`ConfigError` naming it."""
    try:
        return EdgeSettings(**settings.edge)
    except ValidationError as exc:
        raise ConfigError(f"invalid [charter.edge]: {exc}") from exc


def purge_secret(settings: Settings) -> str:
    """The secret a purge carries: ``purge_secret``, else an HMAC of the project's ``secret_key``
    (so Charter and the VCL written by ``charter edge varnish`` agree without another setting)."""
    configured = edge_settings(settings).purge_secret
    if configured:
        return configured
    return hmac.new(settings.secret_key.encode(), b"charter.edge.purge", hashlib.sha256).hexdigest()[:40]
