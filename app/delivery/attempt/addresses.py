"""Outbound address policy: which resolved addresses a webhook may connect to."""

import functools
import ipaddress
import socket
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import lazy_gettext as _l

from app.errors import BlockedAddress, InvalidInput

#: Cloud metadata services, refused even if a range containing them is allowed.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200")
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class AddressPolicy:
    """Refuse private, loopback, link-local, multicast, reserved and metadata addresses.

    allowed_networks (CIDR strings) opens chosen ranges, e.g. 10.0.0.0/8 for an internal receiver.
    """

    def __init__(self, allowed_networks=()):
        try:
            self.allowed = tuple(ipaddress.ip_network(n, strict=False) for n in allowed_networks)
        except ValueError as exc:
            raise ValueError(f"WEBHOOK_ALLOWED_NETWORKS: {exc}") from None

    def __eq__(self, other):
        return isinstance(other, AddressPolicy) and self.allowed == other.allowed

    def __hash__(self):
        return hash(self.allowed)

    def is_allowed(self, address):
        """Say whether a webhook may connect to this IP address."""
        ip = ipaddress.ip_address(address.split("%", 1)[0] if isinstance(address, str) else address)
        for candidate in _embedded_ipv4(ip):
            if candidate in METADATA_ADDRESSES:
                return False
            if any(candidate in net for net in self.allowed):
                continue
            if not _is_public(candidate):
                return False
        return True

    def resolve(self, host, port):
        """Resolve host and return the addresses allowed, in resolver order.

        Raises BlockedAddress when every address is refused, OSError when the name does not resolve.
        """
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        allowed = [info for info in infos if self.is_allowed(info[4][0])]
        if not allowed:
            refused = ", ".join(sorted({info[4][0] for info in infos}))
            raise BlockedAddress(_l(
                "%(host)s resolves only to addresses outbound webhooks may not reach (%(refused)s); allow the range in "
                "WEBHOOK_ALLOWED_NETWORKS if this is intended", host=host, refused=refused))
        return allowed


def _embedded_ipv4(ip):
    """Yield the address and any IPv4 address it carries (mapped, 6to4, NAT64)."""
    yield ip
    if ip.version == 6:
        if ip.ipv4_mapped:
            yield ip.ipv4_mapped
        if ip.sixtofour:
            yield ip.sixtofour
        if ip in _NAT64:
            yield ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)


def _is_public(ip):
    return ip.is_global and not ip.is_multicast and not ip.is_reserved and not ip.is_unspecified


def check_url(url, policy, *, resolve=True):
    """Validate an endpoint URL: http(s), a host, and (when resolve) no address the policy refuses.

    Raises InvalidInput or BlockedAddress with a message meant for the person who typed the URL.
    """
    try:
        parts = urlsplit(url or "")
        hostname = parts.hostname
    except ValueError:  # e.g. an unbalanced "[" of an IPv6 address
        raise InvalidInput(_l("url is not a valid URL"), field="url") from None
    if parts.scheme not in ("http", "https"):
        raise InvalidInput(_l("url must start with http:// or https://"), field="url")
    if not hostname:
        raise InvalidInput(_l("url must name a host"), field="url")
    try:
        hostname.encode("idna")  # what the resolver will be asked; labels of 1-63 characters
    except UnicodeError:
        raise InvalidInput(_l("url must name a valid host (labels of 1 to 63 characters)"), field="url") from None
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise InvalidInput(_l("url has an invalid port"), field="url") from None
    if parts.username or parts.password:
        raise InvalidInput(_l("url must not carry a user name or password; use a custom header"), field="url")
    if resolve:
        try:
            policy.resolve(hostname, port)
        except OSError:
            pass  # a name that does not resolve yet is not refused: DNS changes; the attempt will say


@functools.lru_cache(maxsize=32)
def policy_for(allowed_networks):
    """Return the (cached) policy for a tuple of allowed CIDRs."""
    return AddressPolicy(allowed_networks)


def outbound_policy():
    """Return the address policy configured for this app."""
    return policy_for(tuple(current_app.config["WEBHOOK_ALLOWED_NETWORKS"]))
