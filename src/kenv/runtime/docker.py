"""Docker engine facts through the docker CLI.

The CLI rather than the Docker SDK for Python: it honours the user's contexts, DOCKER_HOST and
credential helpers exactly as their own shell does, adds no import cost, and keeps one process
runner as the only way kenv touches the outside world (so dry-runs can print every call).
"""

from __future__ import annotations

import ipaddress
import json
import logging
from dataclasses import dataclass

from kenv.errors import ExternalCommandError
from kenv.runtime.process import Runner

log = logging.getLogger("kenv.runtime.docker")

QUERY_TIMEOUT = 15.0


@dataclass(frozen=True)
class DockerNetwork:
    name: str
    subnets: tuple[ipaddress.IPv4Network, ...]


def list_networks(runner: Runner) -> list[DockerNetwork] | None:
    """Every Docker network with its IPv4 subnets, or None when no engine answers."""
    try:
        ids = runner.run(
            ["docker", "network", "ls", "--quiet", "--no-trunc"], timeout=QUERY_TIMEOUT, mutating=False
        ).stdout.split()
        if not ids:
            return []
        raw = runner.run(["docker", "network", "inspect", *ids], timeout=QUERY_TIMEOUT, mutating=False).stdout
    except ExternalCommandError as exc:
        log.debug("Docker engine not reachable, subnet checks against Docker skipped: %s", exc)
        return None
    networks = []
    for item in json.loads(raw or "[]"):
        subnets = []
        for config in (item.get("IPAM") or {}).get("Config") or []:
            try:
                net = ipaddress.ip_network(config.get("Subnet", ""), strict=False)
            except ValueError:
                continue
            if isinstance(net, ipaddress.IPv4Network):
                subnets.append(net)
        networks.append(DockerNetwork(name=item.get("Name", ""), subnets=tuple(subnets)))
    return networks
