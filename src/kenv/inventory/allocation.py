"""Choosing free ports and subnets. Pure: the caller supplies what is taken and a probe.

Lowest free value first, so freed gaps are reused and numbers stay predictable.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable

from kenv.settings import PortRange


def lowest_free_port(
    port_range: PortRange, taken: Iterable[int], usable: Callable[[int], bool] = lambda _port: True
) -> int | None:
    held = set(taken)
    for port in range(port_range.low, port_range.high + 1):
        if port not in held and usable(port):
            return port
    return None


def lowest_free_subnet(
    pool: ipaddress.IPv4Network, prefix: int, taken: Iterable[ipaddress.IPv4Network]
) -> ipaddress.IPv4Network | None:
    """The first /prefix block of pool that overlaps none of `taken`.

    Walks the pool in address order but jumps over each taken range, so the cost is bounded by
    the number of taken networks rather than the size of the pool.
    """
    size = 2 ** (32 - prefix)
    blocked = sorted((int(net.network_address), int(net.broadcast_address)) for net in taken if net.overlaps(pool))
    candidate = int(pool.network_address)
    end = int(pool.broadcast_address)
    for start, stop in blocked:
        if candidate + size - 1 < start:
            break
        if stop >= candidate:
            # Jump to the first aligned block after this taken range.
            candidate = max(candidate, ((stop + 1 + size - 1) // size) * size)
    if candidate + size - 1 > end:
        return None
    return ipaddress.IPv4Network((candidate, prefix))
