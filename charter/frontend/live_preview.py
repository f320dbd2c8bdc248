"""The front end beside the admin's entry editor (``[charter.frontend]``, docs/frontend.md).

The editor shows the project's own front end in a frame next to the form, rendering the entry's
draft through a preview token scoped to that entry. Which front ends may be framed is an allow-list
in ``charter.toml``: the admin hands out preview tokens in the frame's URL, so a URL nobody
configured (``?frontend=https://evil.example/``) is refused, never framed.

``[charter.frontend]`` keys:

- ``allow``: URL prefixes front ends may be framed from, ``scheme://host[:port][/path]``; a URL is
  allowed when it has the same scheme, host and port and its path starts with the prefix's path.
- ``preview_url``: the URL template framed for every content type, with ``{type}``, ``{id}``,
  ``{slug}`` and ``{locale}`` (each URL-encoded); ``types.<type>.preview_url`` overrides it per type.
- ``ttl``: seconds the frame's preview token lives (default 3600; the admin reuses a live one).

The frame's URL gets two query parameters: ``preview`` (the token) and ``charter`` (the origin of
the Charter server, for the client's ``baseUrl`` and ``onPreviewChange``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from charter.exceptions import BadRequest, ConfigError

KNOWN_KEYS = {"allow", "preview_url", "types", "ttl"}
PLACEHOLDER = re.compile(r"\{([a-z_]*)\}")
PLACEHOLDERS = {"type", "id", "slug", "locale"}


class FrontendUrlRefused(BadRequest):
    type_slug = "frontend-url-refused"
    title = "Front-end URL not allowed"


@dataclass(frozen=True)
class Prefix:
    scheme: str
    netloc: str
    path: str

    def covers(self, url: str) -> bool:
        parts = urlsplit(url)
        if parts.scheme != self.scheme or parts.netloc.lower() != self.netloc:
            return False
        path, base = parts.path or "/", self.path.rstrip("/")
        return not base or path == base or path.startswith(base + "/")

    @property
    def origin(self) -> str:
        return f"{self.scheme}://{self.netloc}"


@dataclass(frozen=True)
class FrontendConfig:
    """The validated ``[charter.frontend]`` table; ``enabled`` when some type has a preview URL."""

    allow: tuple[Prefix, ...] = ()
    preview_url: str | None = None
    types: dict[str, str] = field(default_factory=dict)
    ttl: int = 3600

    def template_for(self, type_name: str) -> str | None:
        return self.types.get(type_name, self.preview_url)

    def allowed(self, url: str) -> bool:
        return _plain(url) and any(p.covers(url) for p in self.allow)

    def check(self, url: str) -> str:
        """``url`` when the allow-list covers it; :class:`FrontendUrlRefused` naming it otherwise."""
        if not self.allowed(url):
            allowed = ", ".join(f"{p.origin}{p.path}" for p in self.allow) or "none configured"
            raise FrontendUrlRefused(
                f"front-end URL {url[:200]!r} is not allowed by [charter.frontend] allow ({allowed})"
            )
        return url

    @property
    def origins(self) -> tuple[str, ...]:
        """The origins of the allow-list, for the editor page's ``frame-src``."""
        return tuple(dict.fromkeys(p.origin for p in self.allow))


def _plain(url: str) -> bool:
    """An absolute http(s) URL without credentials, fragments or characters that need escaping."""
    if not isinstance(url, str) or len(url) > 2000 or any(c.isspace() or ord(c) < 32 for c in url):
        return False
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname) and "@" not in parts.netloc


def _prefix(value: Any) -> Prefix:
    if not isinstance(value, str) or not _plain(value) or urlsplit(value).query or urlsplit(value).fragment:
        raise ConfigError(
            f"[charter.frontend] allow: {value!r} is not a URL prefix scheme://host[:port][/path] "
            "(http or https, no query, no credentials)"
        )
    parts = urlsplit(value)
    return Prefix(parts.scheme, parts.netloc.lower(), parts.path or "/")


def _template(value: Any, key: str, allow: tuple[Prefix, ...]) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"[charter.frontend] {key}: expected a URL template")
    unknown = set(PLACEHOLDER.findall(value)) - PLACEHOLDERS
    if unknown:
        raise ConfigError(
            f"[charter.frontend] {key}: unknown placeholder(s) {', '.join('{' + u + '}' for u in sorted(unknown))}; "
            f"known: {', '.join('{' + p + '}' for p in sorted(PLACEHOLDERS))}"
        )
    sample = PLACEHOLDER.sub("x", value)
    if not any(p.covers(sample) for p in allow) or not _plain(sample):
        raise ConfigError(f"[charter.frontend] {key}: {value!r} is not covered by [charter.frontend] allow")
    return value


def frontend_config(table: dict[str, Any]) -> FrontendConfig:
    """``[charter.frontend]`` validated; raises :class:`ConfigError` naming the key."""
    unknown = set(table) - KNOWN_KEYS
    if unknown:
        raise ConfigError(
            f"[charter.frontend]: unknown key(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(KNOWN_KEYS))}"
        )
    raw_allow = table.get("allow", [])
    if isinstance(raw_allow, str):
        raw_allow = [raw_allow]
    if not isinstance(raw_allow, list):
        raise ConfigError("[charter.frontend] allow: expected a list of URL prefixes")
    allow = tuple(_prefix(v) for v in raw_allow)
    preview_url = _template(table["preview_url"], "preview_url", allow) if "preview_url" in table else None
    types: dict[str, str] = {}
    raw_types = table.get("types", {})
    if not isinstance(raw_types, dict):
        raise ConfigError("[charter.frontend] types: expected a table per content type")
    for name, entry in raw_types.items():
        if not isinstance(entry, dict) or set(entry) - {"preview_url"}:
            raise ConfigError(f"[charter.frontend] types.{name}: only preview_url may be set")
        if "preview_url" in entry:
            types[name] = _template(entry["preview_url"], f"types.{name}.preview_url", allow)
    ttl = table.get("ttl", 3600)
    if isinstance(ttl, bool) or not isinstance(ttl, int) or not 60 <= ttl <= 86400:
        raise ConfigError("[charter.frontend] ttl: expected whole seconds from 60 to 86400")
    return FrontendConfig(allow, preview_url, types, ttl)


def frame_url(template: str, *, type_name: str, entry_id: str, slug: str | None, locale: str) -> str:
    """``template`` with its placeholders filled (URL-encoded)."""
    values = {"type": type_name, "id": entry_id, "slug": slug or "", "locale": locale}
    return PLACEHOLDER.sub(lambda m: quote(values[m.group(1)], safe="/"), template)


def with_preview(url: str, token: str, charter_origin: str) -> str:
    """``url`` with ``preview=<token>`` and ``charter=<origin>`` added to its query."""
    parts = urlsplit(url)
    extra = urlencode({"preview": token, "charter": charter_origin})
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))
