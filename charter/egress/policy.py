"""The egress policy: which URLs Charter may call and which addresses it may connect to.

``[charter.egress]`` in charter.toml::

    [charter.egress]
    allow = ["127.0.0.1/32", "::1", "10.20.0.0/16", "cms.internal.example", "*.svc.example"]

An ``allow`` entry is a network (an address is a one-address network) or a host name (``*.``
allows every name below a domain). Everything else that is internal (:mod:`.addresses`) is refused.

Two checks, one rule: :func:`check_url` refuses a bad URL when it is *saved* (a webhook
subscription, a provider or content-source URL): not http(s), control characters or whitespace
(CR/LF header injection), backslashes, userinfo (``user@host``), ports outside 1-65535, and hosts
that spell an internal address. :meth:`Policy.permitted` decides, at *connect* time, which of the
addresses a name resolved to may be used; the connection goes to one of those (no second lookup,
so no DNS rebinding).
"""

from __future__ import annotations

import ipaddress
import socket
import unicodedata
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import SplitResult, urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from charter.egress.addresses import Address, AmbiguousHost, embedded_ipv4, host_address, name_refusal, refusal
from charter.exceptions import ConfigError

MAX_URL = 2000


class Refused(ValueError):
    """An outbound URL or address the policy refuses; ``str()`` says why and how to allow it."""


class EgressSettings(BaseModel):
    """``[charter.egress]`` in charter.toml."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    allow: tuple[str, ...] = Field(
        default=(),
        description="Networks (CIDR or single addresses) and host names (``*.example`` for a domain) "
        "that outbound calls may reach although they are internal.",
    )

    @field_validator("allow")
    @classmethod
    def _entries(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for entry in value:
            _parse_entry(entry)
        return value


def _parse_entry(entry: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | str:
    text = entry.strip().lower()
    if not text:
        raise ValueError("an empty allow entry")
    try:
        return ipaddress.ip_network(text.strip("[]"), strict=False)
    except ValueError:
        pass
    name = text[2:] if text.startswith("*.") else text
    if not name or any(not (c.isalnum() or c in "-.") for c in name) or ".." in name:
        raise ValueError(f"{entry!r} is neither a network (10.0.0.0/8, ::1) nor a host name (*.example.com)")
    return text.rstrip(".")


@dataclass(frozen=True)
class Policy:
    """What outbound calls may reach. Build it with :func:`policy_for` (from settings) or
    :meth:`from_allow`; immutable, shared by every client built from it."""

    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    names: tuple[str, ...] = ()
    #: Names resolved by the system resolver (``socket.getaddrinfo``); tests may pass their own.
    resolver: Any = field(default=None, compare=False, repr=False)

    @classmethod
    def from_allow(cls, allow: tuple[str, ...] | list[str] = ()) -> Policy:
        networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        names: list[str] = []
        for entry in allow:
            parsed = _parse_entry(entry)
            if isinstance(parsed, str):
                names.append(parsed)
            else:
                networks.append(parsed)
        return cls(tuple(networks), tuple(names))

    def trusting(self, url: str) -> Policy:
        """This policy plus the host of ``url``: for a target the operator names on the command line
        (``charter contracts verify --provider``), which they could reach with curl anyway."""
        host = (urlsplit(url).hostname or "").lower()
        if not host:
            return self
        address = _address_or_none(host)
        if address is not None:
            return Policy((*self.networks, ipaddress.ip_network(address)), self.names, self.resolver)
        return Policy(self.networks, (*self.names, host.rstrip(".")), self.resolver)

    def allows_name(self, host: str) -> bool:
        h = host.rstrip(".").lower()
        return any(h == n or (n.startswith("*.") and h.endswith(n[1:])) for n in self.names)

    def allows_address(self, address: Address) -> bool:
        inner = embedded_ipv4(address)
        return any(a.version == n.version and a in n for n in self.networks for a in (address, inner) if a)

    def address_refusal(self, address: Address) -> str | None:
        """Why the policy refuses a connection to ``address`` (``None``: allowed)."""
        if self.allows_address(address):
            return None
        why = refusal(address)
        if why is None:
            return None
        return f"{address} is {why}; add it to [charter.egress] allow in charter.toml to call it"

    def permitted(self, host: str, addresses: list[Address]) -> list[Address]:
        """The addresses ``host`` resolved to that a connection may use; raises :class:`Refused`
        when there is none. An allowed host name permits whatever it resolves to."""
        if self.allows_name(host):
            return addresses
        ok = [a for a in addresses if self.address_refusal(a) is None]
        if not ok:
            reasons = "; ".join(dict.fromkeys(str(self.address_refusal(a)) for a in addresses)) or "no address"
            raise Refused(f"refused to connect to {host}: {reasons}")
        return ok

    def host_addresses(self, host: str, port: int) -> list[Address]:
        """Resolve ``host`` once and return the addresses a connection may use (literal addresses
        in any spelling are read, not looked up). Raises :class:`Refused` or :class:`OSError`."""
        address = _host_address_checked(host)
        if address is not None:
            return self.permitted(host, [address])
        why = name_refusal(host)
        if why and not self.allows_name(host):
            raise Refused(f"refused to connect to {host}: it is {why}")
        resolve = self.resolver or socket.getaddrinfo
        infos = resolve(host, port, type=socket.SOCK_STREAM)
        return self.permitted(host, _unique(infos))


def _unique(infos: list[Any]) -> list[Address]:
    out: dict[str, Address] = {}
    for info in infos:
        text = str(info[4][0]).split("%")[0]
        out.setdefault(text, ipaddress.ip_address(text))
    return list(out.values())


def _address_or_none(host: str) -> Address | None:
    try:
        return host_address(host)
    except AmbiguousHost:
        return None


def _host_address_checked(host: str) -> Address | None:
    try:
        return host_address(host)
    except AmbiguousHost as exc:
        raise Refused(f"the host {exc} looks like an address but is none; refused as ambiguous") from None


def policy_for(settings: Any) -> Policy:
    """The policy of a project's settings (``[charter.egress]``)."""
    try:
        cfg = EgressSettings.model_validate(getattr(settings, "egress", None) or {})
    except ValidationError as exc:
        raise ConfigError(f"invalid [charter.egress] settings: {exc}") from exc
    return Policy.from_allow(cfg.allow)


def _normal_host(parts: SplitResult, url: str) -> str:
    host = parts.hostname or ""
    if not host.isascii():
        try:
            host = unicodedata.normalize("NFKC", host).encode("idna").decode("ascii")
        except UnicodeError:
            raise Refused(f"{url[:200]!r}: the host is not a valid international domain name") from None
    return host.lower()


def check_url(url: str, policy: Policy) -> str:
    """``url`` if an outbound call may be configured to go there, else :class:`Refused` saying why.
    Names are not looked up here (that happens at connect time, once); literal addresses in any
    spelling and localhost/metadata names are judged now."""
    if not isinstance(url, str) or not url:
        raise Refused("a URL is required")
    if len(url) > MAX_URL:
        raise Refused(f"the URL is longer than {MAX_URL} characters")
    bad = next((c for c in url if ord(c) < 0x21 or ord(c) == 0x7F or c.isspace()), None)
    if bad is not None:
        raise Refused(f"the URL contains the control or space character {bad!r} (U+{ord(bad):04X})")
    if "\\" in url:
        raise Refused("the URL contains a backslash (read as '/' by some clients and as data by others)")
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # an unbalanced '[' or ']' in the host
        raise Refused(f"{url[:200]!r} is not a valid URL: {exc}") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise Refused(f"{url[:200]!r} is not an http:// or https:// URL")
    if "@" in parts.netloc:
        raise Refused("the URL carries userinfo (user@host); put credentials in headers, not the URL")
    if not parts.hostname:
        raise Refused(f"{url[:200]!r} has no host")
    try:
        port = parts.port
    except ValueError:
        raise Refused(f"{url[:200]!r} has an invalid port (use 1-65535)") from None
    if port == 0:
        raise Refused(f"{url[:200]!r} has port 0 (use 1-65535)")
    host = _normal_host(parts, url)
    if "%" in host:
        raise Refused(f"the host {host!r} contains percent-encoding")
    address = _host_address_checked(host)
    if address is not None:
        why = policy.address_refusal(address)
        if why:
            raise Refused(why)
    else:
        why = name_refusal(host)
        if why and not policy.allows_name(host):
            raise Refused(f"{host} is {why}; add it to [charter.egress] allow in charter.toml to call it")
    return url
