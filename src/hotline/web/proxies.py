"""The client's address, behind reverse proxies the deployment trusts.

Behind a reverse proxy (nginx, a load balancer) every request comes from the proxy's
address; the proxy names the client in ``X-Forwarded-For``, appending the address it was
connected from to whatever the header already said. Anyone can send that header, so it is
believed only from the proxies the deployment lists (``--trusted-proxy``,
``HOTLINE_TRUSTED_PROXIES``): read from the right, each hop a trusted proxy added is
believed, and the first address not a trusted proxy is the client. Sign-in throttling per
address, the sessions' and the audit log's addresses all use this one answer.

uvicorn's own proxy-header handling is off (``hotline.web.serving``), so that this setting,
not uvicorn's default of trusting every local process, decides.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from fastapi import Request

from hotline.core.settings import ProxyNetwork, proxy_networks

FORWARDED_FOR = "x-forwarded-for"


@lru_cache(maxsize=16)
def _networks(values: tuple[str, ...]) -> tuple[ProxyNetwork, ...]:
    return proxy_networks(values)


def _trusted(address: str, networks: tuple[ProxyNetwork, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def forwarded_client(peer: str, forwarded_for: list[str], trusted: tuple[str, ...]) -> str:
    """The client's address: ``peer``, or, when ``peer`` is a trusted proxy, the address its
    ``X-Forwarded-For`` values (``forwarded_for``, in header order) name.

    >>> forwarded_client("10.0.0.5", ["203.0.113.9"], ("10.0.0.0/24",))
    '203.0.113.9'
    >>> forwarded_client("198.51.100.7", ["203.0.113.9"], ("10.0.0.0/24",))
    '198.51.100.7'
    >>> forwarded_client("10.0.0.5", ["1.2.3.4, 203.0.113.9, 10.0.0.6"], ("10.0.0.0/24",))
    '203.0.113.9'
    """
    networks = _networks(trusted)
    if not networks or not _trusted(peer, networks):
        return peer
    hops = [hop.strip() for value in forwarded_for for hop in value.split(",")]
    client = peer
    for entry in reversed(hops):
        try:
            hop = str(ipaddress.ip_address(entry))
        except ValueError:
            # Garbage (or a port, a name) where an address belongs: the proxy that passed
            # it on is the last hop known for sure.
            return client
        client = hop
        if not _trusted(hop, networks):
            return client
    return client


def client_address(request: Request) -> str:
    """The address a request came from, through the deployment's trusted proxies."""
    peer = request.client.host if request.client else "unknown"
    trusted: tuple[str, ...] = request.app.state.settings.trusted_proxies
    return forwarded_client(peer, request.headers.getlist(FORWARDED_FOR), trusted)
