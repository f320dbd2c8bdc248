"""Cross-origin reads of the delivery API from browsers (the Fetch standard's CORS protocol).

A front end served from another origin (``https://www.example.com`` reading
``https://content.example.com``) may read the delivery API only when the server says so on every
response: ``Access-Control-Allow-Origin``. ``[charter.cors]`` in ``charter.toml`` names the origins
allowed; without it no CORS header is ever sent and browsers keep other origins out.

What this layer does, in front of everything (the delivery fast path included), for paths under
:data:`DELIVERY_PATHS` and the extra ``paths`` configured (the management API, ``/v1/manage/``, only
when named there):

- a preflight (``OPTIONS`` with ``Origin`` and ``Access-Control-Request-Method``) from an allowed
  origin for an allowed method is answered ``204`` with the allowed methods, the requested headers
  that are allowed and ``Access-Control-Max-Age``; a preflight from an origin not allowed goes on
  to the app (``204`` with ``Allow`` but no CORS header: the browser refuses the request);
- any other request from an allowed origin gets ``Access-Control-Allow-Origin`` (the origin itself,
  or ``*`` when every origin is allowed) and ``Access-Control-Expose-Headers``;
- with a list of origins the answer depends on ``Origin``, so every response on those paths carries
  ``Vary: Origin`` (RFC 9110 §12.5.5): a shared cache never hands one origin's answer to another.
  With ``*`` the answer is the same for everybody and no ``Vary`` is added.

Credentials (cookies) are never allowed: the delivery API is read with bearer or preview tokens,
sent as headers the preflight allows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from charter.exceptions import ConfigError

#: The delivery API: what a browser front end reads (pages, entries, assets, answers, the live preview stream).
DELIVERY_PATHS = ("/v1/pages/", "/v1/entries/", "/v1/assets/", "/v1/ask", "/v1/preview/events")
#: Request headers a front end sends: the client's bearer and preview tokens, the schema pin, ETag
#: revalidation, JSON bodies of /v1/ask, trace context.
DEFAULT_ALLOW_HEADERS = (
    "Authorization",
    "Charter-Preview",
    "Charter-Schema",
    "Content-Type",
    "If-None-Match",
    "Last-Event-ID",
    "traceparent",
    "tracestate",
)
#: Response headers a script may read besides the CORS-safelisted ones.
DEFAULT_EXPOSE_HEADERS = ("ETag", "Retry-After", "X-Request-ID", "Deprecation", "Sunset", "Link")
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(?::[0-9]{1,5})?$|^https?://\[[0-9A-Fa-f:.]+\](?::[0-9]{1,5})?$")
TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # an RFC 9110 token: a header or method name
KNOWN_KEYS = {"allow_origins", "allow_methods", "allow_headers", "expose_headers", "max_age", "paths"}


@dataclass(frozen=True)
class CorsPolicy:
    """The validated ``[charter.cors]`` table."""

    origins: frozenset[str]
    any_origin: bool
    methods: tuple[str, ...]
    headers: tuple[str, ...]
    expose: tuple[str, ...]
    max_age: int
    paths: tuple[str, ...]

    def applies(self, path: str) -> bool:
        return path.startswith(self.paths)

    def allows(self, origin: str) -> bool:
        return self.any_origin or origin in self.origins


def _strings(table: dict[str, Any], key: str, default: tuple[str, ...]) -> tuple[str, ...]:
    value = table.get(key, list(default))
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"[charter.cors] {key}: expected a list of non-empty strings")
    return tuple(value)


def cors_policy(table: dict[str, Any]) -> CorsPolicy | None:
    """``[charter.cors]`` validated; ``None`` when no origin is allowed (CORS off). Raises
    :class:`ConfigError` naming the key for anything else than what the docs describe."""
    unknown = set(table) - KNOWN_KEYS
    if unknown:
        raise ConfigError(
            f"[charter.cors]: unknown key(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(KNOWN_KEYS))}"
        )
    origins = _strings(table, "allow_origins", ())
    if not origins:
        return None
    for origin in origins:
        if origin != "*" and not ORIGIN.match(origin):
            raise ConfigError(
                f"[charter.cors] allow_origins: {origin!r} is not an origin: scheme://host[:port], no path or "
                "trailing slash (e.g. 'https://www.example.com'), or '*'"
            )
    methods = tuple(m.upper() for m in _strings(table, "allow_methods", ("GET", "HEAD", "POST")))
    if bad := [m for m in methods if m not in METHODS]:
        raise ConfigError(f"[charter.cors] allow_methods: {', '.join(bad)} not one of {', '.join(METHODS)}")
    headers = _strings(table, "allow_headers", DEFAULT_ALLOW_HEADERS)
    expose = _strings(table, "expose_headers", DEFAULT_EXPOSE_HEADERS)
    for key, names in (("allow_headers", headers), ("expose_headers", expose)):
        if bad := [h for h in names if not TOKEN.match(h)]:
            raise ConfigError(f"[charter.cors] {key}: {', '.join(map(repr, bad))} not header name(s)")
    max_age = table.get("max_age", 600)
    if isinstance(max_age, bool) or not isinstance(max_age, int) or not 0 <= max_age <= 86400:
        raise ConfigError("[charter.cors] max_age: expected whole seconds from 0 to 86400")
    extra = _strings(table, "paths", ())
    if bad := [p for p in extra if not p.startswith("/")]:
        raise ConfigError(f"[charter.cors] paths: {', '.join(map(repr, bad))} must start with /")
    return CorsPolicy(
        origins=frozenset(o for o in origins if o != "*"),
        any_origin="*" in origins,
        methods=methods,
        headers=headers,
        expose=expose,
        max_age=max_age,
        paths=DELIVERY_PATHS + extra,
    )


def _vary(headers: list[tuple[bytes, bytes]], extra: bytes) -> list[tuple[bytes, bytes]]:
    """``headers`` with ``extra`` added to ``Vary`` (one field, merged; RFC 9110 §12.5.5)."""
    out, done = [], False
    for name, value in headers:
        if name.lower() == b"vary" and not done:
            listed = {v.strip().lower() for v in value.split(b",")}
            if extra.lower() not in listed and b"*" not in listed:
                value = value + b", " + extra
            done = True
        out.append((name, value))
    if not done:
        out.append((b"vary", extra))
    return out


class CorsLayer:
    """``await layer(scope, receive, send)``: CORS on the configured paths, then ``app``."""

    def __init__(self, app: ASGIApp, policy: CorsPolicy) -> None:
        self.app = app
        self.policy = policy
        self._methods = ", ".join(policy.methods).encode()
        self._expose = ", ".join(policy.expose).encode()
        self._allowed_headers = {h.lower(): h for h in policy.headers}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.policy.applies(scope["path"]):
            await self.app(scope, receive, send)
            return
        origin = requested_method = requested_headers = None
        for name, value in scope["headers"]:
            if name == b"origin":
                origin = value.decode("latin-1")
            elif name == b"access-control-request-method":
                requested_method = value.decode("latin-1")
            elif name == b"access-control-request-headers":
                requested_headers = value.decode("latin-1")
        if (
            scope["method"] == "OPTIONS"
            and requested_method is not None
            and origin is not None
            and self.policy.allows(origin)
        ):
            await self._preflight(send, origin, requested_method, requested_headers)
            return
        change = self.simple(origin)
        if change is None:
            await self.app(scope, receive, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": self.decorate(list(message.get("headers", [])), change)}
            await send(message)

        await self.app(scope, receive, send_with_cors)

    def simple(self, origin: str | None) -> tuple[bool, list[tuple[bytes, bytes]]] | None:
        """What the response to a request that is not a preflight gets, on a path the policy
        covers, given its ``Origin``: whether ``Vary: Origin`` is added, and the headers added
        (``Access-Control-Allow-Origin`` and ``-Expose-Headers`` for an allowed origin); None when
        the response is left as it is. The one rule, for this layer and for the RSGI door's
        cached hits (:class:`charter.http.rsgi.RSGIApp`)."""
        allowed = origin is not None and self.policy.allows(origin)
        vary = not self.policy.any_origin
        if not allowed and not vary:
            return None
        if not allowed:
            return vary, []
        assert origin is not None
        return vary, [
            (b"access-control-allow-origin", b"*" if self.policy.any_origin else origin.encode("latin-1")),
            (b"access-control-expose-headers", self._expose),
        ]

    @staticmethod
    def decorate(
        headers: list[tuple[bytes, bytes]], change: tuple[bool, list[tuple[bytes, bytes]]]
    ) -> list[tuple[bytes, bytes]]:
        """``headers`` as :meth:`simple`'s ``change`` says."""
        vary, extra = change
        return (_vary(headers, b"Origin") if vary else headers) + extra

    async def _preflight(self, send: Send, origin: str, method: str, requested: str | None) -> None:
        headers = [(b"vary", b"Origin, Access-Control-Request-Method, Access-Control-Request-Headers")]
        if method.upper() in self.policy.methods:
            asked = [h.strip() for h in (requested or "").split(",") if h.strip()]
            granted = [self._allowed_headers[h.lower()] for h in asked if h.lower() in self._allowed_headers]
            headers += [
                (b"access-control-allow-origin", b"*" if self.policy.any_origin else origin.encode("latin-1")),
                (b"access-control-allow-methods", self._methods),
                (b"access-control-max-age", str(self.policy.max_age).encode()),
            ]
            if granted:
                headers.append((b"access-control-allow-headers", ", ".join(granted).encode("latin-1")))
        # A method not allowed gets no CORS header: the browser refuses the request it was asking about.
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b""})


def install(app: Any, table: dict[str, Any]) -> None:
    """Put :class:`CorsLayer` in front of a :class:`charter.app.CharterApp`'s front door when
    ``[charter.cors]`` allows an origin; raises :class:`ConfigError` for a bad table."""
    policy = cors_policy(table)
    if policy is not None:
        app.front = CorsLayer(app.front or app.call_stack, policy)
