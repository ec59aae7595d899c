"""Facts about this machine that allocation must respect."""

from __future__ import annotations

import errno
import socket

from kenv.runtime.docker import DockerNetwork, list_networks
from kenv.runtime.process import Runner


def port_is_bindable(port: int) -> bool:
    """True when no other process holds `port` on this machine (TCP, any address).

    Binding the wildcard address fails when any local address has the port bound, which is
    what a cluster publishing the port would hit. SO_REUSEADDR is left off on purpose: a port
    in TIME_WAIT is reported busy, the conservative answer.
    """
    for family, address in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET, "127.0.0.1")):  # noqa: S104
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.bind((address, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
        finally:
            sock.close()
    return True


class LiveHostProbe:
    """Answers allocation's questions about this machine; Docker is asked once per process."""

    def __init__(self, runner: Runner | None = None) -> None:
        self._runner = runner or Runner()
        self._networks: list[DockerNetwork] | None = None
        self._asked = False

    def port_is_free(self, port: int) -> bool:
        return port_is_bindable(port)

    def docker_networks(self) -> list[DockerNetwork] | None:
        if not self._asked:
            self._networks = list_networks(self._runner)
            self._asked = True
        return self._networks
