"""Who a request comes from: the identity the model queue and the text workers share out by.

A client is the request's peer address (``request.client.host``), with an IPv6 address grouped
by its /64 network. That address is what uvicorn reports: it takes it from ``X-Forwarded-For``
only when the connecting peer is one of ``FORWARDED_ALLOW_IPS`` (uvicorn's default: 127.0.0.1
and ::1), so behind a reverse proxy on the same host each client keeps its own identity; behind
a proxy elsewhere that is not listed there, every request carries the proxy's address and all
clients share one identity (and one share of each queue).
"""

from __future__ import annotations

import ipaddress

from fastapi import Request

# a subscriber line or a cloud host is given a whole /64: its 2^64 addresses are one client,
# not 2^64 clients that could each take a share of the queues
IPV6_CLIENT_PREFIX = 64


def client_identity(host: str | None) -> str:
    """The client an address belongs to: an IPv4 address itself, an IPv6 address's /64 network.

    An IPv4 address written as IPv6 (``::ffff:203.0.113.7``) is that IPv4 address; a name that
    is no address (a Unix socket, the test client's ``testclient``) is itself; no address at
    all is ``"unknown"``.

    Example:
        >>> client_identity("2001:db8:1:2:aaaa::1")
        '2001:db8:1:2::/64'
    """
    if not host:
        return "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        network = ipaddress.IPv6Network((int(address), IPV6_CLIENT_PREFIX), strict=False)
        return str(network)
    return str(address)


async def request_client(request: Request) -> str:
    """The identity of the client that sent ``request`` (see :func:`client_identity`)."""
    return client_identity(request.client.host if request.client else None)
