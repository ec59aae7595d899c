"""The fleet the ingress end-to-end tests start from: the provider fakes with the platform's HAProxy
on the `binary` runtime (the host's haproxy) listening on free loopback ports, stopped afterwards.

A test module takes it as `fleet = haproxy_fleet.fleet` (a plain import would shadow the parameter name)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from tests.e2e.lifecycle_support import Fleet
from tests.netutil import free_port


def stop_haproxy(home: Path) -> None:
    pidfile = home / "data" / "haproxy" / "haproxy.pid"
    with contextlib.suppress(OSError, ValueError):
        os.kill(int(pidfile.read_text().split()[0]), signal.SIGTERM)


def move_nodes_to_loopback(state: Path, name: str, images: Iterable[str] = ()) -> None:
    """Put cluster `name`'s fake nodes on 127.0.0.1, where the tests' stand-in ingresses listen (and
    give them `images`, as a sync would leave them), in the fakes' state file under `state`."""
    path = state / "state.json"
    document = json.loads(path.read_text())
    for cluster in document["clusters"].values():
        if cluster["name"] == name:
            for node in cluster["nodes"]:
                node["ip"] = "127.0.0.1"
                if images:
                    node["images"] = sorted(set(node.get("images") or []) | set(images))
    path.write_text(json.dumps(document))


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
