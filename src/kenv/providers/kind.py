"""kind. A generated config (name, apiServerAddress 127.0.0.1, apiServerPort, extraPortMappings
for 80/443, nodes) and the environment's own kubeconfig file: concurrent kind creates fail on a
shared one (kind#1425). kind clusters share Docker's 'kind' network, so they have no subnet.

The nodes and whether they run are read from Docker by kind's own labels
(`pkg/cluster/internal/providers/docker/constants.go`): `kind get nodes` lists stopped node
containers too (it runs `docker ps -a`), and kind has no start or stop of its own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kenv.inventory.model import Environment
from kenv.providers.base import ClusterState, CreateOptions, NodeState, own_kubeconfig, write_private
from kenv.runtime import docker
from kenv.runtime.process import CommandResult, Runner

DEFAULT_IMAGE = "kindest/node:v1.31.12"
QUERY_TIMEOUT = 30.0
CLUSTER_LABEL = "io.x-k8s.kind.cluster"
ROLE_LABEL = "io.x-k8s.kind.role"
# kind's node roles in kenv's words.
_ROLES = {"control-plane": "server", "worker": "agent", "external-load-balancer": "loadbalancer"}


def render_config(env: Environment) -> dict[str, Any]:
    control_plane: dict[str, Any] = {"role": "control-plane"}
    mappings = []
    for purpose, container_port in (("http", 80), ("https", 443)):
        port = env.port(purpose)
        if port:
            mappings.append(
                {"containerPort": container_port, "hostPort": port, "listenAddress": "127.0.0.1", "protocol": "TCP"}
            )
    if mappings:
        control_plane["extraPortMappings"] = mappings
    nodes = [control_plane] + [{"role": "control-plane"}] * (env.servers - 1) + [{"role": "worker"}] * env.agents
    networking: dict[str, Any] = {"apiServerAddress": "127.0.0.1"}
    if env.port("api"):
        networking["apiServerPort"] = env.port("api")
    return {
        "kind": "Cluster",
        "apiVersion": "kind.x-k8s.io/v1alpha4",
        "name": env.name,
        "networking": networking,
        "nodes": nodes,
    }


class Kind:
    name = "kind"
    tool = "kind"

    def __init__(self, runner: Runner, data_dir: Path) -> None:
        self.runner = runner
        self.data_dir = data_dir

    def context_name(self, env: Environment) -> str:
        return f"kind-{env.name}"

    def image(self, env: Environment) -> str:
        version = env.k8s_version
        if not version:
            return DEFAULT_IMAGE
        return version if ("/" in version or ":" in version) else f"kindest/node:{version}"

    def create(self, env: Environment, options: CreateOptions) -> None:
        import yaml

        # The config is written where the user can read it; a dry run plans the same path.
        config_path = self.data_dir / "kind" / f"{env.name}.yaml"
        if not self.runner.dry_run:
            write_private(config_path, yaml.safe_dump(render_config(env), sort_keys=False))
        argv = ["kind", "create", "cluster", "--name", env.name, "--config", str(config_path)]
        argv += ["--image", self.image(env), "--kubeconfig", str(options.kubeconfig)]
        argv += ["--wait", f"{int(options.timeout)}s"]
        self.runner.run(argv, timeout=options.timeout + 120)

    def delete(self, env: Environment) -> None:
        # With its own kubeconfig, so kind never edits the user's default one.
        kubeconfig = own_kubeconfig(self.data_dir, env.name)
        self.runner.run(["kind", "delete", "cluster", "--name", env.name, "--kubeconfig", str(kubeconfig)], timeout=300)

    def list_clusters(self) -> list[ClusterState]:
        nodes: dict[str, list[NodeState]] = {}
        for container in docker.list_containers(self.runner, CLUSTER_LABEL):
            role = container.labels.get(ROLE_LABEL, "")
            node = NodeState(container.name, _ROLES.get(role, role), container.running)
            nodes.setdefault(container.labels.get(CLUSTER_LABEL, ""), []).append(node)
        return [
            ClusterState(name, "kind", tuple(members), network="kind")
            for name, members in sorted(nodes.items())
            if name
        ]

    def state(self, env: Environment) -> ClusterState | None:
        return next((c for c in self.list_clusters() if c.name == env.name), None)

    def node_names(self, env: Environment) -> list[str]:
        state = self.state(env)
        return [n.name for n in (state.nodes if state else ()) if n.role != "loadbalancer"]

    def _containers(self, env: Environment) -> list[str]:
        state = self.state(env)
        return list(state.node_names) if state else []

    def start(self, env: Environment) -> None:
        # Every node container, the load balancer in front of several control planes included.
        docker.container_action(self.runner, "start", self._containers(env))

    def stop(self, env: Environment) -> None:
        docker.container_action(self.runner, "stop", self._containers(env))

    def write_kubeconfig(self, env: Environment, path: Path) -> None:
        # Counted as a change: it produces the kubeconfig file, so a dry run lists it in the plan.
        text = self.runner.run(["kind", "get", "kubeconfig", "--name", env.name], timeout=QUERY_TIMEOUT).stdout
        if not self.runner.dry_run:
            write_private(path, text)

    def exec_in_node(self, env: Environment, node: str, argv: list[str]) -> CommandResult:
        return self.runner.run(["docker", "exec", node, *argv], timeout=120, mutating=False, check=False)

    def import_images(self, env: Environment, images: list[str]) -> None:
        self.runner.run(["kind", "load", "docker-image", *images, "--name", env.name], timeout=600)
