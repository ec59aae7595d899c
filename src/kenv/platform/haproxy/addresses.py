"""Which address of a node container HAProxy forwards to (pure: reads `docker inspect` output).

A node on several Docker networks has one address on each; the predecessor read them with a Go
template that printed every one without a separator, and HAProxy refused `10.101.0.4172.18.0.6`
(its lesson 8). Here the environment's own network decides; a container on exactly one network
gives that one; several networks and none of them the expected one gives nothing (the route is
reported as skipped with the reason instead of guessing).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def address_on_network(doc: Mapping[str, Any], network: str | None) -> tuple[str | None, str]:
    """(address, why) of one `docker inspect` document; address None when there is no single one."""
    networks = ((doc.get("NetworkSettings") or {}).get("Networks")) or {}
    with_address = {name: (ep or {}).get("IPAddress") or "" for name, ep in networks.items()}
    with_address = {name: ip for name, ip in with_address.items() if ip}
    if network and with_address.get(network):
        return with_address[network], f"address on network {network}"
    if len(with_address) == 1:
        ((name, ip),) = with_address.items()
        return ip, f"address on its only network {name}"
    if not with_address:
        return None, "the node has no address (is it running?)"
    names = ", ".join(sorted(with_address))
    return None, f"the node is on several networks ({names}) and none is {network or 'known'}"
