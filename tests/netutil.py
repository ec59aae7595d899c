"""Loopback ports for tests that start real servers."""

from __future__ import annotations

import os
import socket

NODE_PORT_LOW, NODE_PORT_END = 30000, 32768  # Kubernetes' default NodePort range, end excluded


def _worker_band() -> range:
    """The part of the NodePort range this pytest-xdist worker scans. Tests scan for "the first free
    port from N up", and a port a test keeps silent on purpose (an ingress that does not answer) is
    free to every other worker: without disjoint bands two workers pick the same NodePort."""
    name = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    count = max(1, int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")))
    index = int(name[2:]) if name[2:].isdigit() else 0
    size = (NODE_PORT_END - NODE_PORT_LOW) // count
    start = NODE_PORT_LOW + (index % count) * size
    return range(start, start + size)


def free_port(low: int = 0) -> int:
    """A free loopback port; with `low` (a NodePort), the first free one from `low` up, kept inside
    this worker's band of the NodePort range (see _worker_band) and wrapping around within it."""
    if not low:
        candidates: list[int] = [0]
    else:
        band = _worker_band()
        first = band.start + (low - NODE_PORT_LOW) % len(band)
        candidates = [*range(first, band.stop), *range(band.start, first)]
    for port in candidates:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise RuntimeError("no free port")
