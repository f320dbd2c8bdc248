"""Which addresses an outbound request may not reach, and how a URL host spells an address.

:func:`refusal` names why an address is internal (``None`` for a public one). IPv6 addresses that
carry an IPv4 address (IPv4-mapped ``::ffff:a.b.c.d``, IPv4-compatible ``::a.b.c.d``, NAT64
``64:ff9b::a.b.c.d`` and 6to4 ``2002:aabb:ccdd::``) are judged by the IPv4 address they carry, so
``[::ffff:169.254.169.254]`` is the metadata service like ``169.254.169.254`` itself.

:func:`host_address` reads a URL host the way a browser or ``inet_aton`` would (WHATWG URL
Standard §3.5, "IPv4 parser"): ``127.1``, ``2130706433``, ``0x7f000001``, ``0177.0.0.1`` and
``0x7f.1`` are all 127.0.0.1. A host that ends in a number but is no valid address (``1.2.3.999``)
is refused as ambiguous rather than guessed at.
"""

from __future__ import annotations

import ipaddress
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

Address = IPv4Address | IPv6Address

#: Checked in order; the first match names the reason. Anything else that is not globally
#: routable (``ipaddress``' ``is_global``) is refused as "reserved".
RANGES: tuple[tuple[IPv4Network | IPv6Network, str], ...] = tuple(
    (ipaddress.ip_network(net), why)
    for net, why in (
        ("169.254.169.254/32", "a cloud metadata service"),
        ("169.254.170.2/32", "a cloud metadata service"),
        ("fd00:ec2::254/128", "a cloud metadata service"),
        ("0.0.0.0/8", "unspecified ('this network')"),
        ("127.0.0.0/8", "loopback"),
        ("10.0.0.0/8", "private (RFC 1918)"),
        ("172.16.0.0/12", "private (RFC 1918)"),
        ("192.168.0.0/16", "private (RFC 1918)"),
        ("100.64.0.0/10", "shared address space (CGNAT, RFC 6598)"),
        ("169.254.0.0/16", "link-local"),
        ("192.0.0.0/24", "reserved (IETF protocol assignments)"),
        ("192.0.2.0/24", "reserved (documentation)"),
        ("198.51.100.0/24", "reserved (documentation)"),
        ("203.0.113.0/24", "reserved (documentation)"),
        ("198.18.0.0/15", "reserved (benchmarking)"),
        ("224.0.0.0/4", "multicast"),
        ("240.0.0.0/4", "reserved (including broadcast)"),
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        ("fc00::/7", "private (unique local)"),
        ("fe80::/10", "link-local"),
        ("fec0::/10", "site-local (deprecated)"),
        ("ff00::/8", "multicast"),
        ("64:ff9b:1::/48", "local-use NAT64"),
        ("2001:db8::/32", "reserved (documentation)"),
        ("100::/64", "reserved (discard-only)"),
    )
)

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_COMPATIBLE = ipaddress.ip_network("::/96")

#: Names that always mean this machine or a metadata service, refused before any lookup.
LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")
METADATA_NAMES = ("metadata.google.internal", "metadata", "instance-data", "instance-data.ec2.internal")


def embedded_ipv4(address: Address) -> IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, compatible, NAT64, 6to4), if any."""
    if isinstance(address, IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64 or (address in _COMPATIBLE and int(address) > 1):
        return IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def refusal(address: Address) -> str | None:
    """Why ``address`` is internal (the reason, in words), or ``None`` when it is public."""
    inner = embedded_ipv4(address)
    if inner is not None:
        why = refusal(inner)
        return f"{why} (IPv4 {inner} inside IPv6)" if why else None
    for net, why in RANGES:
        if address.version == net.version and address in net:
            return why
    if not address.is_global:
        return "reserved (not globally routable)"
    return None


class AmbiguousHost(ValueError):
    """A host that looks numeric but is no address (``1.2.3.999``, ``0x``)."""


def _ipv4_number(part: str) -> int:
    """One part of a WHATWG IPv4 host: decimal, ``0x`` hex or leading-zero octal."""
    text, base = part, 10
    if text[:2] in ("0x", "0X"):
        text, base = text[2:], 16
    elif len(text) > 1 and text.startswith("0"):
        text, base = text[1:], 8
    if text == "":
        return 0
    digits = "0123456789abcdef"[:base]
    if any(c not in digits for c in text.lower()):
        raise AmbiguousHost(part)
    return int(text, base)


def _ends_in_number(labels: list[str]) -> bool:
    last = labels[-1]
    if last and all(c in "0123456789" for c in last):
        return True
    try:
        _ipv4_number(last)
    except AmbiguousHost:
        return False
    return last[:2].lower() == "0x"


def host_address(host: str) -> Address | None:
    """The address a URL host spells, or ``None`` for a name. ``host`` is the host as in a URL
    (IPv6 with or without brackets). Raises :class:`AmbiguousHost` for a numeric-looking host that
    is no valid address."""
    h = host.strip().lower()
    if h.startswith("[") and h.endswith("]"):
        h = h[1:-1]
    if ":" in h:
        if "%" in h:
            raise AmbiguousHost(f"{host} (zone identifiers are not allowed)")
        try:
            return IPv6Address(h)
        except ValueError:
            raise AmbiguousHost(host) from None
    labels = h.split(".")
    if len(labels) > 1 and labels[-1] == "":
        labels = labels[:-1]  # one trailing dot is the root label
    if not labels or not labels[-1] or not _ends_in_number(labels):
        return None
    if len(labels) > 4 or "" in labels:
        raise AmbiguousHost(host)
    numbers = [_ipv4_number(p) for p in labels]
    *head, last = numbers
    if any(n > 255 for n in head) or last >= 256 ** (5 - len(numbers)):
        raise AmbiguousHost(host)
    value = last
    for i, n in enumerate(head):
        value += n * 256 ** (3 - i)
    return IPv4Address(value)


def name_refusal(name: str) -> str | None:
    """Why a host *name* is internal before any lookup (``localhost``, metadata names)."""
    n = name.rstrip(".").lower()
    if n in LOCAL_NAMES or n.endswith(".localhost"):
        return "loopback (a localhost name)"
    if n in METADATA_NAMES:
        return "a cloud metadata service"
    return None
