"""What every provider offers. All process calls go through the runtime Runner, so a dry run
records each command instead of running it, and tests put faithful fake CLIs on PATH."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from kenv.catalogue import facts_for
from kenv.inventory.model import Environment
from kenv.runtime.process import CommandResult
from kenv.settings import ImageSupply


@dataclass(frozen=True)
class NodeResources:
    """Optional per-node limits from config (k3d --servers-memory/--agents-memory, minikube --cpus/--memory)."""

    cpus: str | None = None
    memory: str | None = None


@dataclass(frozen=True)
class CreateOptions:
    kubeconfig: Path
    timeout: float = 300.0
    resources: NodeResources = field(default_factory=NodeResources)
    # The [images] table: mirrors, insecure registries and proxies, rendered by each provider in
    # its own form (providers/image_supply.py); empty: the command line is unchanged.
    images: ImageSupply = field(default_factory=ImageSupply)
    # The management environment runs its own ingress routing (HAProxy names its hosts): the
    # distribution's default ingress (k3s' Traefik) is not started there at all.
    disable_default_ingress: bool = False


@dataclass(frozen=True)
class NodeState:
    """One node container as the tool (or Docker) reports it."""

    name: str
    role: str  # server | agent | loadbalancer
    running: bool


@dataclass(frozen=True)
class ClusterState:
    """What actually runs, as the provider's own tool reports it."""

    name: str
    provider: str
    nodes: tuple[NodeState, ...] = ()
    api_port: int | None = None
    host_ports: dict[int, int] = field(default_factory=dict)  # host port -> container port
    network: str | None = None
    subnet: str | None = None
    node_ip: str | None = None  # the first node's address on its Docker network

    @property
    def running(self) -> bool:
        """A server node runs: the cluster is (at least partly) up."""
        return any(n.running for n in self.nodes if n.role == "server")

    @property
    def node_names(self) -> tuple[str, ...]:
        return tuple(n.name for n in self.nodes)

    def shortfall(self, servers: int, agents: int) -> str | None:
        """Why the cluster is not the complete, running one the record describes (None: it is).

        Every node counts: servers, agents and the load balancer the tool puts in front. A create
        killed half-way leaves some of them (k3d starts the servers first, then agents and the
        load balancer), and a cluster missing its load balancer answers nothing on the API port
        its kubeconfig names."""
        facts = facts_for(self.provider)
        if not facts.managed:
            return None if self.running else "not reachable"
        expected = facts.expected_nodes(servers, agents)
        stopped = [n.name for n in self.nodes if not n.running]
        if len(self.nodes) < expected:
            return f"{len(self.nodes)} of {expected} node(s) exist"
        if stopped:
            return f"not running: {', '.join(stopped)}"
        return None

    def complete(self, servers: int, agents: int) -> bool:
        return self.shortfall(servers, agents) is None


class Provider(Protocol):
    name: str
    tool: str

    def context_name(self, env: Environment) -> str: ...

    def create(self, env: Environment, options: CreateOptions) -> None: ...

    def delete(self, env: Environment) -> None: ...

    def state(self, env: Environment) -> ClusterState | None: ...

    def list_clusters(self) -> list[ClusterState]: ...

    def start(self, env: Environment) -> None: ...

    def stop(self, env: Environment) -> None: ...

    def write_kubeconfig(self, env: Environment, path: Path) -> None: ...

    def node_names(self, env: Environment) -> list[str]: ...

    def exec_in_node(self, env: Environment, node: str, argv: list[str]) -> CommandResult: ...

    def import_images(self, env: Environment, images: list[str]) -> None: ...

    def import_archives(self, env: Environment, paths: list[Path]) -> None:
        """Import image archives (docker-archive or oci-archive files) into every node, in as few
        tool calls as the tool allows. The tools report some failures only in their logs: verify
        the nodes afterwards."""
        ...


def own_kubeconfig(data_dir: Path, name: str) -> Path:
    """The environment's own kubeconfig file. Every tool that reads KUBECONFIG is pointed at it,
    so no tool ever edits the user's default kubeconfig (k3d delete and minikube start/stop/delete
    rewrite whatever file KUBECONFIG names, or ~/.kube/config)."""
    return data_dir / "kubeconfig" / f"{name}.yaml"


def write_private(path: Path, text: str) -> None:
    """Kubeconfigs hold credentials: written 0600, atomically (no stray temporary file whatever
    fails), directory 0700; a directory or an unwritable place at `path` is one clear error."""
    from kenv.inventory.files import write_file

    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_file(path, text, force=True, mode=0o600)
