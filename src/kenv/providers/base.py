"""What every provider offers. All process calls go through the runtime Runner, so a dry run
records each command instead of running it, and tests put faithful fake CLIs on PATH."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from kenv.inventory.model import Environment
from kenv.runtime.process import CommandResult, Runner


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


@dataclass(frozen=True)
class ClusterState:
    """What actually runs, as the provider's own tool reports it."""

    name: str
    provider: str
    running: bool
    nodes: tuple[str, ...]
    servers_running: int = 0
    servers: int = 0
    api_port: int | None = None
    host_ports: dict[int, int] = field(default_factory=dict)  # host port -> container port
    network: str | None = None
    subnet: str | None = None

    @property
    def complete(self) -> bool:
        """Every server node is up: a cluster left half-made by a killed create is not complete."""
        return self.running and self.servers_running >= max(self.servers, 1)


class Provider(Protocol):
    name: str
    tool: str

    def context_name(self, env: Environment) -> str: ...

    def own_network(self, name: str) -> str | None:
        """The Docker network kenv creates, with the environment's subnet, before the cluster
        (k3d refuses --subnet for a named network); None when the tool makes its own."""
        ...

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


def write_private(path: Path, text: str) -> None:
    """Kubeconfigs hold credentials: written 0600, atomically, directory 0700."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temp = path.with_name(f".{path.name}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(temp, path)


def provider_for(name: str, runner: Runner, data_dir: Path) -> Provider:
    from kenv.errors import InvalidInput

    if name == "k3d":
        from kenv.providers.k3d import K3d

        return K3d(runner, data_dir)
    if name == "kind":
        from kenv.providers.kind import Kind

        return Kind(runner, data_dir)
    if name == "minikube":
        from kenv.providers.minikube import Minikube

        return Minikube(runner, data_dir)
    if name == "external":
        from kenv.providers.external import External

        return External(runner, data_dir)
    raise InvalidInput(f"unknown provider {name!r}", hint="use k3d, kind, minikube or external")
