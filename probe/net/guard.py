"""SSRF guard: the crawler follows URLs written by others, so it must not be aimed inward.

A portal (or a registry typo, or a redirect) could point the probe at the machine it runs
on, the office network or the cloud metadata service. Every address is therefore parsed
the way the resolver would parse it (decimal, octal, hex and short IPv4 forms, IPv4
inside IPv6, trailing dots, `user@host` tricks), resolved once, and each resulting
address classified. The connect-time backend in `client.py` connects to exactly the
address checked here, so DNS rebinding and redirects cannot slip past.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

ALLOWED_SCHEMES = frozenset({"http", "https"})

# Refused unless --allow-private: the operator's own machines (tests, demo, intranet).
_PRIVATE_V4 = tuple(
    (ipaddress.IPv4Network(n), kind)
    for n, kind in (
        ("0.0.0.0/8", "this_network"),
        ("127.0.0.0/8", "loopback"),
        ("10.0.0.0/8", "private"),
        ("172.16.0.0/12", "private"),
        ("192.168.0.0/16", "private"),
        ("100.64.0.0/10", "cgnat"),
    )
)
# Refused always: nothing a public portal can legitimately live on.
_NEVER_V4 = tuple(
    (ipaddress.IPv4Network(n), kind)
    for n, kind in (
        ("169.254.0.0/16", "link_local"),
        ("224.0.0.0/4", "multicast"),
        ("255.255.255.255/32", "broadcast"),
        ("240.0.0.0/4", "reserved"),
    )
)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class RefusedAddress(Exception):
    """A URL or address the policy will not let the probe connect to."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(f"{code}: {message}")


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    """What may be connected to; `allow_private` is the `--allow-private` switch."""

    allow_private: bool = False

    def check_ip(self, ip: IPAddress, *, host: str = "") -> None:
        """Raise `RefusedAddress` unless `ip` may be connected to."""
        kind, always = classify(ip)
        if kind is None or (not always and self.allow_private):
            return
        shown = f"{host} → {ip}" if host and host != str(ip) else str(ip)
        if always:
            raise RefusedAddress("address_refused", f"{shown} is a {kind} address, never allowed")
        raise RefusedAddress(
            "address_refused",
            f"{shown} is a {kind} address (use --allow-private to permit it)",
        )

    def check_url(self, url: str) -> None:
        """Refuse bad schemes and literal addresses before any request is built.

        Names are not resolved here (that happens once, at connect time); this catches
        what needs no DNS so a refused redirect target is reported without a lookup.
        """
        try:
            parts = urlsplit(url)
            host = parts.hostname
            _ = parts.port
        except ValueError as exc:
            raise RefusedAddress("invalid_url", f"{url!r}: {exc}") from None
        scheme = parts.scheme.lower()
        if scheme not in ALLOWED_SCHEMES:
            raise RefusedAddress("scheme_refused", f"{url!r}: scheme {scheme!r} is not http(s)")
        if not host:
            raise RefusedAddress("invalid_url", f"{url!r}: no host")
        ip = parse_ip(host)
        if ip is not None:
            self.check_ip(ip, host=host)


def classify(ip: IPAddress) -> tuple[str | None, bool]:
    """(kind, refused_always); kind None means a public address."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_v4(ip)
        if embedded is not None:
            return classify(embedded)
        if ip.is_unspecified:
            return "unspecified", True
        if ip.is_loopback:
            return "loopback", False
        if ip in _ULA:
            return "unique_local", False
        if ip.is_link_local:
            return "link_local", True
        if ip.is_multicast:
            return "multicast", True
        if ip.is_site_local or not ip.is_global:
            return "reserved", True
        return None, False
    for net, kind in _PRIVATE_V4:
        if ip in net:
            return kind, False
    for net, kind in _NEVER_V4:
        if ip in net:
            return kind, True
    if not ip.is_global:  # documentation, benchmarking, IETF protocol ranges
        return "reserved", True
    return None, False


_ULA = ipaddress.IPv6Network("fc00::/7")


def _embedded_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address hidden in a mapped, compatible, 6to4 or NAT64 IPv6 address."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    value = int(ip)
    if value >> 32 == 0 and value > 1:  # deprecated IPv4-compatible ::a.b.c.d
        return ipaddress.IPv4Address(value)
    return None


def parse_ip(host: str) -> IPAddress | None:
    """The address a host string denotes literally, as a resolver would read it, or None.

    `inet_aton` accepts `2130706433`, `0177.0.0.1`, `0x7f.1` and `127.1`; browsers and
    libc do too, so a guard that only understands dotted decimal is blind to them.
    """
    host = host.strip().rstrip(".").lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError:
            return None
    parts = host.split(".")
    if not parts or len(parts) > 4:
        return None
    values: list[int] = []
    for part in parts:
        value = _ipv4_part(part)
        if value is None:
            return None
        values.append(value)
    *head, last = values
    if any(v > 255 for v in head) or last >= 256 ** (5 - len(values)):
        return None
    number = last
    for i, v in enumerate(head):
        number |= v << (8 * (3 - i))
    return ipaddress.IPv4Address(number)


def _ipv4_part(part: str) -> int | None:
    if not part or not part.isascii():
        return None
    try:
        if part[:2] in ("0x", "0X"):
            return int(part[2:], 16) if len(part) > 2 else 0
        if len(part) > 1 and part[0] == "0":
            return int(part[1:], 8)
        return int(part, 10) if part.isdigit() else None
    except ValueError:
        return None


async def resolve(host: str, port: int) -> list[IPAddress]:
    """All addresses `host` resolves to (literal forms without DNS)."""
    literal = parse_ip(host)
    if literal is not None:
        return [literal]
    import anyio  # local: keeps this module importable without an event loop library

    name = host.rstrip(".")
    try:
        infos = await anyio.getaddrinfo(name, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise LookupError(f"name resolution failed for {host!r}: {exc}") from None
    found: list[IPAddress] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        ip = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if ip not in found:
            found.append(ip)
    if not found:
        raise LookupError(f"name resolution failed for {host!r}: no addresses")
    return found


async def resolve_checked(policy: AddressPolicy, host: str, port: int) -> IPAddress:
    """Resolve once, refuse if ANY address is refused, return the one to connect to.

    Refusing on any bad address (not just the first) stops a name that returns one
    public and one private address from winning on a retry or on the OS's ordering.
    """
    addresses = await resolve(host, port)
    for ip in addresses:
        policy.check_ip(ip, host=host)
    return addresses[0]
