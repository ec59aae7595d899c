"""Loopback ports for tests that start real servers."""

from __future__ import annotations

import socket


def free_port(low: int = 0) -> int:
    """A free loopback port; with `low`, the first free one from `low` up (NodePorts must be in range)."""
    for port in range(low, 32768) if low else [0]:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise RuntimeError("no free port")
