"""Docker engine facts through the docker CLI.

The CLI rather than the Docker SDK for Python: it honours the user's contexts, DOCKER_HOST and
credential helpers exactly as their own shell does, adds no import cost, and keeps one process
runner as the only way kenv touches the outside world (so dry-runs can print every call).
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass

from kenv.errors import ExternalCommandError
from kenv.runtime.process import ENGINE_DOWN_HINT, Runner, engine_down, parse_json

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
        argv = ["docker", "network", "inspect", *ids]
        raw = runner.run(argv, timeout=QUERY_TIMEOUT, mutating=False).stdout
    except ExternalCommandError as exc:
        log.debug("Docker engine not reachable, subnet checks against Docker skipped: %s", exc)
        return None
    networks = []
    for item in parse_json(argv, raw, empty=[]):
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


MUTATE_TIMEOUT = 60.0
KENV_LABEL = "io.kenv.environment"


@dataclass(frozen=True)
class NetworkDetails:
    name: str
    subnets: tuple[ipaddress.IPv4Network, ...]
    labels: dict[str, str]
    containers: tuple[str, ...]


def inspect_network(runner: Runner, name: str) -> NetworkDetails | None:
    """The named network, or None when it does not exist. Raises when no engine answers."""
    result = runner.run(["docker", "network", "inspect", name], timeout=QUERY_TIMEOUT, mutating=False, check=False)
    if not result.ok:
        if "No such network" in result.stderr or "not found" in result.stderr:
            return None
        raise ExternalCommandError(
            f"cannot inspect Docker network {name}: {result.stderr.strip() or 'no output'}",
            argv=list(result.argv),
            returncode=result.returncode,
            stderr_tail=result.stderr.strip()[-500:],
            hint=ENGINE_DOWN_HINT if engine_down(result.stderr) else "is the Docker engine running? (`docker info`)",
        )
    item = parse_json(result.argv, result.stdout)[0]
    subnets = []
    for config in (item.get("IPAM") or {}).get("Config") or []:
        net = ipaddress.ip_network(config.get("Subnet", "0.0.0.0/32"), strict=False)
        if isinstance(net, ipaddress.IPv4Network):
            subnets.append(net)
    containers = tuple(c.get("Name", "") for c in (item.get("Containers") or {}).values())
    return NetworkDetails(item.get("Name", name), tuple(subnets), dict(item.get("Labels") or {}), containers)


def remove_network(runner: Runner, name: str) -> None:
    runner.run(["docker", "network", "rm", name], timeout=MUTATE_TIMEOUT)


def container_action(runner: Runner, action: str, containers: list[str], timeout: float = 120.0) -> None:
    """docker start|stop CONTAINER... (kind has no start/stop of its own)."""
    runner.run(["docker", action, *containers], timeout=timeout)


@dataclass(frozen=True)
class Container:
    name: str
    state: str  # created | running | paused | restarting | removing | exited | dead
    labels: dict[str, str]

    @property
    def running(self) -> bool:
        return self.state == "running"


def _labels(text: str) -> dict[str, str]:
    """`docker ps`'s Labels column: "k=v,k=v" (docker/cli formatter/container.go joins them with ',')."""
    labels = {}
    for pair in text.split(","):
        key, sep, value = pair.partition("=")
        if sep and key:
            labels[key] = value
    return labels


def list_containers(runner: Runner, label: str) -> list[Container]:
    """Every container carrying `label` (any value), stopped ones included, with its real state.

    One `docker ps -a` call: `kind get nodes` answers from the same command but drops the state,
    so a stopped kind cluster would look like a running one."""
    argv = ["docker", "ps", "-a", "--no-trunc", "--filter", f"label={label}", "--format", "{{json .}}"]
    out = runner.run(argv, timeout=QUERY_TIMEOUT, mutating=False).stdout
    containers = []
    for line in out.splitlines():
        if not line.strip():
            continue
        item = parse_json(argv, line)
        name = str(item.get("Names", "")).split(",")[0]
        containers.append(Container(name, str(item.get("State", "")), _labels(str(item.get("Labels", "")))))
    return sorted(containers, key=lambda c: c.name)
