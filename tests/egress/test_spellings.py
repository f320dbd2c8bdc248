"""The egress guard refuses internal addresses in every spelling: Hypothesis draws an internal
address and a way to write it in a URL host, and the guard must refuse it both when the URL is
saved (:func:`check_url`) and when a connection is made (:meth:`Policy.host_addresses`), without
any name lookup. Public addresses in the same spellings pass, and an allow-list entry lets the
internal ones through."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from charter.egress import Policy, Refused, check_url
from charter.egress.addresses import RANGES, embedded_ipv4, host_address, refusal

V4_INTERNAL = [n for n, _ in RANGES if n.version == 4]
V6_INTERNAL = [n for n, _ in RANGES if n.version == 6]


def no_lookup(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError(f"the guard looked up {args[0]!r}: a literal address must be read, not resolved")


STRICT = Policy(resolver=no_lookup)


@st.composite
def address_in(draw: st.DrawFn, networks: list[Any]) -> Any:
    net = draw(st.sampled_from(networks))
    return net[draw(st.integers(0, net.num_addresses - 1))]


def _part(draw: st.DrawFn, value: int) -> str:
    """One IPv4 part as decimal, hex (either case, leading zeros) or octal."""
    style = draw(st.sampled_from(["dec", "hex", "HEX", "oct"]))
    if style == "dec":
        return str(value)
    if style == "oct":
        return "0" + format(value, "o")
    digits = format(value, "x" if style == "hex" else "X")
    return draw(st.sampled_from(["0x", "0X"])) + "0" * draw(st.integers(0, 2)) + digits


@st.composite
def ipv4_spelling(draw: st.DrawFn, address: ipaddress.IPv4Address) -> str:
    n = int(address)
    b = address.packed
    form = draw(st.sampled_from(["dotted", "one", "two", "three", "mapped", "mapped-hex", "compat", "nat64", "6to4"]))
    if form == "dotted":
        host = ".".join(_part(draw, x) for x in b)
    elif form == "one":
        host = _part(draw, n)
    elif form == "two":
        host = f"{_part(draw, b[0])}.{_part(draw, n & 0xFFFFFF)}"
    elif form == "three":
        host = f"{_part(draw, b[0])}.{_part(draw, b[1])}.{_part(draw, n & 0xFFFF)}"
    elif form == "mapped":
        host = f"[::ffff:{address}]"
    elif form == "mapped-hex":
        host = f"[::ffff:{n >> 16:x}:{n & 0xFFFF:x}]"
    elif form == "compat":
        host = f"[::ffff:{address}]" if n <= 1 else f"[::{address}]"
    elif form == "nat64":
        host = f"[64:ff9b::{address}]"
    else:
        host = f"[2002:{n >> 16:x}:{n & 0xFFFF:x}::{draw(st.integers(0, 0xFFFF)):x}]"
    if not host.startswith("[") and draw(st.booleans()):
        host += "."  # the root label
    return host


@st.composite
def ipv6_spelling(draw: st.DrawFn, address: ipaddress.IPv6Address) -> str:
    text = draw(st.sampled_from([address.compressed, address.exploded]))
    return f"[{text.upper() if draw(st.booleans()) else text}]"


@st.composite
def internal_host(draw: st.DrawFn) -> tuple[str, Any]:
    if draw(st.booleans()):
        address = draw(address_in(V4_INTERNAL))
        return draw(ipv4_spelling(address)), address
    address = draw(address_in(V6_INTERNAL))
    return draw(ipv6_spelling(address)), address


def url(host: str, port: int | None) -> str:
    return f"http://{host}{f':{port}' if port else ''}/hook?x=1"


@settings(max_examples=400, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(internal_host(), st.one_of(st.none(), st.integers(1, 65535)))
def test_internal_addresses_are_refused_in_every_spelling(drawn: tuple[str, Any], port: int | None) -> None:
    host, address = drawn
    with pytest.raises(Refused):
        check_url(url(host, port), STRICT)
    with pytest.raises(Refused):
        STRICT.host_addresses(host.strip("[]"), port or 80)
    # The spelling is read as the address it spells ...
    spelled = host_address(host)
    assert spelled is not None and refusal(spelled) is not None
    # ... and an explicit allow-list entry for the address lets it through.
    allowed = Policy.from_allow([str(address)])
    assert check_url(url(host, port), allowed)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.integers(0, 2**32 - 1).map(ipaddress.IPv4Address).flatmap(lambda a: st.tuples(st.just(a), ipv4_spelling(a))))
def test_every_spelling_reads_as_the_address_it_spells(drawn: tuple[Any, str]) -> None:
    address, host = drawn
    spelled = host_address(host)
    assert spelled is not None
    if host.startswith("["):
        assert embedded_ipv4(spelled) == address or (int(address) <= 1 and spelled.ipv4_mapped == address)
    else:
        assert spelled == address
        # glibc's inet_aton (what getaddrinfo does with a numeric name) agrees, root label aside
        assert socket.inet_aton(host.rstrip(".")) == address.packed
    # an IPv6 spelling of an address is judged by the IPv4 address it carries
    assert (refusal(spelled) is None) == (refusal(address) is None)


PUBLIC = ["http://8.8.8.8/", "http://134744072/", "http://0x08080808/", "http://[2606:4700:4700::1111]/"]
PUBLIC += ["https://example.com:8443/hooks", "http://[::ffff:8.8.8.8]/", "http://[2002:808:808::1]/"]


@pytest.mark.parametrize("target", PUBLIC)
def test_public_addresses_pass(target: str) -> None:
    assert check_url(target, STRICT) == target


#: The reproducers of issue 13 and their relatives: each must be refused when saved.
REFUSED = [
    "http://169.254.169.254/latest/meta-data/",
    "http://[fd00:ec2::254]/",
    "http://10.0.0.1/",
    "http://[::1]/",
    "http://127.1/",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://0177.0.0.1/",
    "http://[::ffff:169.254.169.254]/",
    "http://[::ffff:a9fe:a9fe]/",
    "http://example.com:99999/",
    "http://example.com:0/",
    "http://example.com:-1/",
    "http://example.com/a\r\nX-Injected: 1",
    "http://example.com/\n",
    "http://exa mple.com/",
    "http://example.com\\@127.0.0.1/",
    "http://user:pw@example.com/",
    "http://example.com@127.0.0.1/",
    "ftp://example.com/",
    "file:///etc/passwd",
    "gopher://127.0.0.1:6379/_",
    "http://localhost:8000/",
    "http://LOCALHOST./",
    "http://api.localhost/",
    "http://metadata.google.internal/",
    "http://100.64.0.1/",
    "http://0.0.0.0/",
    "http://0/",
    "http://[::]/",
    "http://224.0.0.251/",
    "http://[ff02::1]/",
    "http://[fe80::1%25eth0]/",
    "http://1.2.3.256/",
    "http://0x100000000/",
    "http://１２７.０.０.１/",
    "http://127.0.0.1%2e/",
    "http:///nohost",
    "http://[/",  # an unbalanced bracket: urlsplit raises, which once made a 500 (found by schemathesis)
    "http://]x/",
]


@pytest.mark.parametrize("target", REFUSED)
def test_issue_13_targets_are_refused(target: str) -> None:
    with pytest.raises(Refused):
        check_url(target, STRICT)


def test_allow_list_entries_are_networks_or_names() -> None:
    policy = Policy.from_allow(["127.0.0.1/32", "10.20.0.0/16", "cms.internal.example", "*.svc.example"])
    assert check_url("http://127.0.0.1:8000/x", policy)
    assert check_url("http://10.20.3.4/x", policy)
    with pytest.raises(Refused):
        check_url("http://10.21.0.1/x", policy)
    with pytest.raises(Refused):
        check_url("http://127.0.0.2/x", policy)
    assert policy.allows_name("cms.internal.example") and policy.allows_name("a.b.svc.example")
    assert not policy.allows_name("svc.example.evil") and not policy.allows_name("evilsvc.example")
    with pytest.raises(ValueError):
        Policy.from_allow(["not a host!"])


def test_names_are_resolved_once_and_only_permitted_addresses_are_used() -> None:
    calls: list[str] = []

    def resolver(host: str, port: int, **kwargs: Any) -> list[Any]:
        calls.append(host)
        return [(0, 0, 0, "", ("10.0.0.7", port)), (0, 0, 0, "", ("93.184.215.14", port))]

    policy = Policy(resolver=resolver)
    assert [str(a) for a in policy.host_addresses("mixed.example", 443)] == ["93.184.215.14"]
    assert calls == ["mixed.example"]
    internal_only = Policy(resolver=lambda h, p, **k: [(0, 0, 0, "", ("169.254.169.254", p))])
    with pytest.raises(Refused, match="metadata"):
        internal_only.host_addresses("rebound.example", 80)
    trusted = Policy.from_allow(["rebound.example"])
    trusted = Policy(trusted.networks, trusted.names, resolver=internal_only.resolver)
    assert [str(a) for a in trusted.host_addresses("rebound.example", 80)] == ["169.254.169.254"]
