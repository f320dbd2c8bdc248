"""The VCL ``charter edge varnish`` writes: Varnish in front of Charter, caching what Charter says
it may (Varnish 6.0+ with ``vmod_xkey`` from varnish-modules; Debian: ``varnish varnish-modules``).

What the VCL does, and why:

- **Caches only the delivery API** (``GET``/``HEAD`` under ``/v1/pages/`` and ``/v1/entries/``), and
  only a response whose ``Cache-Control`` says ``public``: a 404 or a problem carries none and is
  not kept, so a page published after a miss is seen at once. ``max-age`` is the TTL (RFC 9111
  §5.2.2.1) and ``stale-while-revalidate`` the grace (RFC 5861 §3): a stale object is served while
  one background fetch refreshes it.
- **Never caches a preview**: a request with a preview token (``Charter-Preview`` header or the
  ``preview`` query parameter) or ``Authorization`` is passed, and Charter answers it
  ``private, no-store``, which the VCL refuses to keep as well. Management (``/v1/manage``),
  the admin, the gateway (``/v1/chat/completions``, ``/v1/ask``, ...) and every other route are
  passed: Varnish adds nothing there but a hop.
- **Varies by what Charter varies by**: the URL (locale, cursor and filters are query parameters)
  and ``Vary: Charter-Schema`` (a pinned old major is another representation). Cookies are
  dropped on cached routes (the delivery API never reads one).
- **Survives a dead instance**: each backend is probed on ``/healthz``, and a read whose
  instance refuses the connection before its probe has caught up is retried on the next one.
- **Purges by surrogate key**: Charter's ``Surrogate-Key`` header becomes the object's ``xkey``;
  a ``PURGE`` with ``xkey-purge: entry:42 type:page`` removes every object tagged with any of those
  keys (``xkey.purge``: gone, not stale). A ``PURGE`` is accepted only from the ``charter_purgers``
  ACL *and* with the shared secret in ``Charter-Purge-Secret``; the secret header is removed
  from every other request, so it never reaches a backend or a log downstream.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from charter.edge.settings import KEYS_HEADER, SECRET_HEADER

#: Delivery routes a shared cache may keep (the rest is passed).
CACHED_PATHS = r"^/v1/(pages|entries)/"
_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")


@dataclass(frozen=True)
class Backend:
    host: str
    port: int

    @classmethod
    def parse(cls, text: str) -> Backend:
        """``HOST:PORT`` (``[::1]:8000`` for IPv6); ValueError says what is wrong."""
        host, sep, port = text.strip().rpartition(":")
        host = host.strip("[]")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"backend {text!r} is not HOST:PORT, e.g. 127.0.0.1:8000")
        if not _is_address(host) and not _HOST.match(host):
            raise ValueError(f"backend {text!r}: {host!r} is not a host name or address")
        return cls(host, int(port))


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _acl_entry(text: str) -> str:
    """One ACL line: an address, a network (``10.0.0.0/8``) or a host name."""
    value = text.strip()
    try:
        net = ipaddress.ip_network(value, strict=False)
    except ValueError:
        if not _HOST.match(value):
            raise ValueError(f"purger {text!r} is not an address, a network or a host name") from None
        return f'    "{value}";'
    if net.num_addresses == 1:
        return f'    "{net.network_address}";'
    return f'    "{net.network_address}"/{net.prefixlen};'


def _vcl_string(value: str) -> str:
    # A VCL long string {"..."} may hold anything but the closing "} pair.
    if '"}' in value or "\n" in value:
        raise ValueError("the purge secret may not contain '\"}' or a line break")
    return '{"' + value + '"}'


def render(backends: list[Backend], purge_secret: str, purgers: list[str] | None = None) -> str:
    """The VCL for ``backends`` (round-robin over healthy ones when there are several), accepting
    purges from ``purgers`` (addresses, networks, names; default: loopback and every backend host)
    that carry ``purge_secret``."""
    if not backends:
        raise ValueError("at least one backend is needed")
    if len(purge_secret) < 16:
        raise ValueError("the purge secret must be at least 16 characters")
    allowed = purgers if purgers else ["127.0.0.1", "::1", *dict.fromkeys(b.host for b in backends)]
    acl = "\n".join(dict.fromkeys(_acl_entry(p) for p in allowed))
    backend_blocks = "\n\n".join(
        f"""backend charter{i} {{
    .host = "{b.host}";
    .port = "{b.port}";
    .connect_timeout = 1s;
    .first_byte_timeout = 30s;
    .between_bytes_timeout = 30s;
    .probe = {{
        .url = "/healthz";
        .interval = 2s;
        .timeout = 1s;
        .window = 3;
        .threshold = 2;
        .initial = 2;  # healthy from the start: no 503 before the first probe (a dead one is retried)
    }}
}}"""
        for i, b in enumerate(backends, 1)
    )
    add_backends = "\n".join(f"    charter.add_backend(charter{i});" for i in range(1, len(backends) + 1))
    return f"""vcl 4.1;
# Written by `charter edge varnish` (docs/edge.md). Varnish 6.0+ with vmod_xkey (varnish-modules).

import std;
import xkey;
import directors;

{backend_blocks}

# Who may purge: Charter's instances. A purge must also carry the shared secret.
acl charter_purgers {{
{acl}
}}

sub vcl_init {{
    new charter = directors.round_robin();
{add_backends}
}}

sub vcl_recv {{
    set req.backend_hint = charter.backend();
    if (req.method == "PURGE") {{
        if (!(client.ip ~ charter_purgers) || req.http.{SECRET_HEADER} != {_vcl_string(purge_secret)}) {{
            return (synth(403, "Forbidden"));
        }}
        if (!req.http.{KEYS_HEADER}) {{
            return (synth(400, "{KEYS_HEADER} names no surrogate key"));
        }}
        set req.http.x-purged = xkey.purge(req.http.{KEYS_HEADER});
        return (synth(200, "Purged " + req.http.x-purged));
    }}
    unset req.http.{SECRET_HEADER};
    if (req.method != "GET" && req.method != "HEAD") {{
        return (pass);
    }}
    if (req.url !~ "{CACHED_PATHS}") {{
        return (pass);  # management, admin, gateway, health, metrics, docs
    }}
    if (req.http.Charter-Preview || req.url ~ "[?&]preview=" || req.http.Authorization) {{
        return (pass);  # a preview is rendered fresh and never kept
    }}
    unset req.http.Cookie;
    return (hash);
}}

sub vcl_backend_fetch {{
    if (bereq.retries > 0) {{
        set bereq.backend = charter.backend();  # the next instance in the rotation
    }}
}}

sub vcl_backend_error {{
    # An instance that died since the last probe refuses the connection: a read goes to another
    # instance instead of becoming a 503 (writes are never retried).
    if (bereq.retries < 2 && (bereq.method == "GET" || bereq.method == "HEAD")) {{
        return (retry);
    }}
}}

sub vcl_backend_response {{
    if (bereq.uncacheable) {{
        return (deliver);
    }}
    if (beresp.http.Cache-Control !~ "(?i)(^|[ ,])public([ ,]|$)"
        || beresp.http.Cache-Control ~ "(?i)(private|no-store|no-cache)"
        || beresp.http.Set-Cookie) {{
        set beresp.ttl = 0s;
        set beresp.uncacheable = true;
        return (deliver);
    }}
    if (beresp.http.Cache-Control ~ "(?i)stale-while-revalidate=[0-9]+") {{
        set beresp.grace = std.duration(
            regsub(beresp.http.Cache-Control, "(?i)^.*stale-while-revalidate=([0-9]+).*$", "\\1s"), 0s);
    }} else {{
        set beresp.grace = 0s;
    }}
    if (beresp.http.Surrogate-Key) {{
        set beresp.http.xkey = beresp.http.Surrogate-Key;
    }}
    return (deliver);
}}

sub vcl_deliver {{
    unset resp.http.xkey;
    if (obj.hits > 0) {{
        set resp.http.X-Cache = "HIT";
    }} else {{
        set resp.http.X-Cache = "MISS";
    }}
}}
"""
