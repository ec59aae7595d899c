"""The fleet the ingress end-to-end tests start from: the provider fakes with the platform's HAProxy
on the `binary` runtime (the host's haproxy) listening on free loopback ports, stopped afterwards.

A test module takes it as `fleet = haproxy_fleet.fleet` (a plain import would shadow the parameter name)."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.lifecycle_support import Fleet
from tests.netutil import free_port


def stop_haproxy(home: Path) -> None:
    pidfile = home / "data" / "haproxy" / "haproxy.pid"
    with contextlib.suppress(OSError, ValueError):
        os.kill(int(pidfile.read_text().split()[0]), signal.SIGTERM)


@pytest.fixture
def fleet(isolated: Path, tmp_path: Path) -> Iterator[Fleet]:
    fleet = Fleet(isolated, tmp_path)
    fleet.env.update(
        KENV_HAPROXY_RUNTIME="binary",
        KENV_HAPROXY_HTTP_PORT=str(free_port()),
        KENV_HAPROXY_HTTPS_PORT=str(free_port()),
    )
    yield fleet
    stop_haproxy(isolated)
    fleet.kill_fakes()
