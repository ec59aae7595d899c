"""The listening socket of `kenv serve`, bound before the server starts so that a port in use is
one clear line, not a server log."""

from __future__ import annotations

import errno
import ipaddress
import socket

from kenv.errors import InvalidInput, KenvError


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def listen(host: str, port: int) -> socket.socket:
    """A TCP socket listening on host:port (port 0: one the kernel picks)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise InvalidInput(
            f"cannot listen on {host!r}: {exc.strerror}", hint="give an address such as 127.0.0.1"
        ) from exc
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        # A restart right after a stop must not wait for TIME_WAIT connections to expire.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise KenvError(
                f"cannot listen on {host}:{port}: the port is in use", hint="choose another --port"
            ) from exc
        raise KenvError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    return sock
