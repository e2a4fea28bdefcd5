"""Which network addresses a webhook may be sent to: the pure half of the SSRF guard.

The resolving half (DNS at send time, then connecting to the address checked) lives with the
sender in the webhook_delivery Lambda; endpoint creation uses `endpoint_url_problem` to refuse
literal addresses up front. Stdlib-only: the Lambda imports this module too.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from enum import StrEnum
from urllib.parse import SplitResult, urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_URL_LENGTH = 2048


class AddressCategory(StrEnum):
    PUBLIC = "public"
    CLOUD_METADATA = "cloud metadata"
    LOOPBACK = "loopback"
    PRIVATE = "private"
    LINK_LOCAL = "link-local"
    MULTICAST = "multicast"
    UNSPECIFIED = "unspecified"
    RESERVED = "reserved"
    NOT_GLOBAL = "non-global"


# Instance-metadata services (AWS IMDS and ECS/EKS credentials, Alibaba, Oracle): refused even
# where private targets are allowed, because they hand out the host's credentials.
CLOUD_METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",
        "169.254.170.2",
        "169.254.170.23",
        "fd00:ec2::254",
        "fd00:ec2::23",
        "100.100.100.200",
        "192.0.0.192",
    )
)

# What `webhook_allow_private_targets` opens up: a receiver on this machine or the LAN.
CATEGORIES_ALLOWED_WHEN_PRIVATE_TARGETS_ARE = frozenset(
    {AddressCategory.LOOPBACK, AddressCategory.PRIVATE}
)

_NAT64_NETWORKS = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_LEGACY_IPV4_LITERAL = re.compile(r"^[0-9a-fA-FxX.]+$")


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for (mapped, compatible, NAT64, 6to4), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if any(address in network for network in _NAT64_NETWORKS):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    # IPv4-compatible (::a.b.c.d, deprecated) but not :: or ::1.
    if 1 < int(address) < 2**32:
        return ipaddress.IPv4Address(int(address))
    return None


def categorise(address: IPAddress) -> AddressCategory:
    if address in CLOUD_METADATA_ADDRESSES:
        return AddressCategory.CLOUD_METADATA
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id is not None:
            address = ipaddress.IPv6Address(address.compressed.split("%")[0])
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return categorise(embedded)
    if address.is_loopback:
        return AddressCategory.LOOPBACK
    if address.is_link_local:
        return AddressCategory.LINK_LOCAL
    if address.is_multicast:
        return AddressCategory.MULTICAST
    if address.is_unspecified:
        return AddressCategory.UNSPECIFIED
    if isinstance(address, ipaddress.IPv6Address) and address.is_site_local:
        return AddressCategory.PRIVATE
    if address.is_private:
        return AddressCategory.PRIVATE
    if address.is_reserved:
        return AddressCategory.RESERVED
    if not address.is_global:
        return AddressCategory.NOT_GLOBAL
    return AddressCategory.PUBLIC


def refusal_reason(
    address: IPAddress, *, allow_private_targets: bool, name: str | None = None
) -> str | None:
    """Why a webhook may not go to `address` (which `name` resolved to), or None when it may."""
    category = categorise(address)
    if category is AddressCategory.PUBLIC:
        return None
    if allow_private_targets and category in CATEGORIES_ALLOWED_WHEN_PRIVATE_TARGETS_ARE:
        return None
    article = "an" if category.value[0] in "aeiou" else "a"
    if name is not None and name != str(address):
        return f"{name} resolves to {address}, {article} {category.value} address"
    return f"{address} is {article} {category.value} address"


def parse_ip_literal(host: str) -> IPAddress | None:
    """The address `host` spells, including the legacy IPv4 forms resolvers still accept
    (`127.1`, `0x7f.0.0.1`, `2130706433`); None for a name."""
    candidate = host.strip("[]")
    try:
        return ipaddress.ip_address(candidate)
    except ValueError:
        pass
    if _LEGACY_IPV4_LITERAL.match(candidate):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(candidate))
        except OSError:
            return None
    return None


def is_localhost_name(host: str) -> bool:
    # RFC 6761: `localhost` and every name under it are loopback, whatever DNS says.
    name = host.rstrip(".").lower()
    return name == "localhost" or name.endswith(".localhost")


def _split(url: str) -> SplitResult | str:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number in range
    except ValueError as exc:
        return f"the URL is malformed ({exc})"
    return parts


def endpoint_url_problem(
    url: str, *, allow_private_targets: bool, require_https: bool
) -> str | None:
    """What is wrong with `url` as a webhook target, checked without DNS; None if nothing."""
    if len(url) > MAX_URL_LENGTH:
        return f"the URL is longer than {MAX_URL_LENGTH} characters"
    if any(c.isspace() or not c.isprintable() for c in url):
        return "the URL may not contain whitespace or control characters"
    parts = _split(url)
    if isinstance(parts, str):
        return parts
    allowed_schemes = ("https",) if require_https else ("http", "https")
    if parts.scheme not in allowed_schemes:
        return "the URL must use " + " or ".join(allowed_schemes)
    if not parts.hostname:
        return "the URL has no host"
    if parts.username is not None or parts.password is not None:
        return "the URL may not carry credentials; verify the webhook signature instead"
    if parts.fragment:
        return "the URL may not have a #fragment (it is never sent)"
    if not allow_private_targets and is_localhost_name(parts.hostname):
        return f"{parts.hostname} is a loopback name"
    literal = parse_ip_literal(parts.hostname)
    if literal is not None:
        return refusal_reason(literal, allow_private_targets=allow_private_targets)
    return None
