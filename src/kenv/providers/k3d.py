"""k3d v5. k3d makes the environment's network `k3d-<name>` itself from `--subnet` (a network
k3d makes is "managed": it pins every node's IP, so a multi-server cluster keeps its etcd peers
across stop/start, which it does not on a network made beforehand, `pkg/client/cluster.go`),
the API binds 127.0.0.1:api_port, the load balancer publishes http_port->80 and
https_port->443. Every k3d call reads KUBECONFIG pointed at the environment's own file: `k3d
cluster delete` rewrites the default kubeconfig otherwise (`cmd/cluster/clusterDelete.go`)."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

from kenv.errors import InvalidInput
from kenv.inventory.model import Environment
from kenv.providers.base import ClusterState, CreateOptions, NodeState, own_kubeconfig, write_private
from kenv.providers.image_supply import plan_supply
from kenv.runtime import docker
from kenv.runtime.process import CommandResult, Runner, parse_json

DEFAULT_IMAGE = "rancher/k3s:v1.31.5-k3s1"
# k3d's node roles (pkg/types/types.go) in kenv's words; "noRole" and "registry" are not cluster nodes.
_ROLES = {"server": "server", "agent": "agent", "loadbalancer": "loadbalancer"}
QUERY_TIMEOUT = 30.0


class K3d:
    name = "k3d"
    tool = "k3d"

    def __init__(self, runner: Runner, data_dir: Path) -> None:
        self.runner = runner
        self.data_dir = data_dir

    def context_name(self, env: Environment) -> str:
        return f"k3d-{env.name}"

    def _run(self, env: Environment, argv: list[str], *, timeout: float, mutating: bool = True) -> CommandResult:
        kubeconfig = own_kubeconfig(self.data_dir, env.name)
        return self.runner.run(argv, timeout=timeout, mutating=mutating, extra_env={"KUBECONFIG": str(kubeconfig)})

    def image(self, env: Environment) -> str:
        version = env.k8s_version
        if not version:
            return DEFAULT_IMAGE
        return version if ("/" in version or ":" in version) else f"rancher/k3s:{version}"

    def create_argv(self, env: Environment, options: CreateOptions) -> list[str]:
        argv = [
            "k3d", "cluster", "create", env.name,
            "--image", self.image(env),
            "--servers", str(env.servers),
            "--agents", str(env.agents),
            "--wait",
            "--timeout", f"{int(options.timeout)}s",
            "--kubeconfig-update-default=false",
            "--kubeconfig-switch-context=false",
        ]  # fmt: skip
        if env.subnet is not None:
            argv += ["--subnet", str(env.subnet)]
        if env.port("api"):
            argv += ["--api-port", f"127.0.0.1:{env.port('api')}"]
        if env.port("http"):
            argv += ["--port", f"127.0.0.1:{env.port('http')}:80@loadbalancer"]
        if env.port("https"):
            argv += ["--port", f"127.0.0.1:{env.port('https')}:443@loadbalancer"]
        if options.resources.memory:
            argv += ["--servers-memory", options.resources.memory, "--agents-memory", options.resources.memory]
        if options.disable_default_ingress:
            # k3s' --disable on every server (k3d v5.8.3 cmd/cluster/clusterCreate.go: ARG@NODEFILTER;
            # a filter is required once the cluster has more than one node).
            argv += ["--k3s-arg", "--disable=traefik@server:*"]
        # Mirrors, insecure registries, proxies: --registry-config FILE and -e KEY=VALUE@filter.
        argv += plan_supply(options.images, env, self.data_dir).args
        return argv

    def create(self, env: Environment, options: CreateOptions) -> None:
        if env.subnet is not None:
            self._check_network_free(env, env.subnet)
        if not self.runner.dry_run:
            # k3d reads the registries file while it creates, and copies it into every node.
            for path, text in plan_supply(options.images, env, self.data_dir).files.items():
                write_private(Path(path), text)
        # k3d's own --timeout bounds the wait; ours adds a margin for image import and rollback.
        self._run(env, self.create_argv(env, options), timeout=options.timeout + 120)

    def _check_network_free(self, env: Environment, subnet: ipaddress.IPv4Network) -> None:
        """k3d reuses a network that already has the name `k3d-<name>`, whatever its subnet: the
        cluster would then not be where the inventory says, so such a network stops the create."""
        network = f"k3d-{env.name}"
        details = docker.inspect_network(self.runner, network)
        if details is not None and subnet not in details.subnets:
            raise InvalidInput(
                f"Docker network {network} exists with subnet "
                f"{', '.join(map(str, details.subnets)) or 'none'}, not {subnet}",
                hint=f"remove it (`docker network rm {network}`) if nothing uses it, "
                f"or `kenv unregister {env.name}` and register the environment again with another --subnet",
            )

    def delete(self, env: Environment) -> None:
        self._run(env, ["k3d", "cluster", "delete", env.name], timeout=300)

    def _list(self) -> list[dict[str, Any]]:
        argv = ["k3d", "cluster", "list", "-o", "json"]
        data = parse_json(argv, self.runner.run(argv, timeout=QUERY_TIMEOUT, mutating=False).stdout, empty=[])
        return data if isinstance(data, list) else []

    @staticmethod
    def _state(item: dict[str, Any]) -> ClusterState:
        nodes = item.get("nodes") or []
        api_port = None
        subnet = None
        host_ports: dict[int, int] = {}
        for node in nodes:
            # k3d fills these from the containers' labels; the top-level kubeAPI and the network's
            # ipam.ipPrefix are left empty when a cluster is read back from Docker.
            labels = node.get("runtimeLabels") or {}
            if labels.get("k3d.server.api.port") and api_port is None:
                api_port = int(labels["k3d.server.api.port"])
            if labels.get("k3d.cluster.network.iprange") and subnet is None:
                subnet = labels["k3d.cluster.network.iprange"]
            if node.get("role") == "loadbalancer":
                for container_port, bindings in (node.get("portMappings") or {}).items():
                    for binding in bindings or []:
                        if binding.get("HostPort"):
                            host_ports[int(binding["HostPort"])] = int(container_port.split("/")[0])
        network = item.get("network") or {}
        return ClusterState(
            name=item.get("name", ""),
            provider="k3d",
            nodes=tuple(
                NodeState(
                    name=n.get("name", ""),
                    role=_ROLES.get(n.get("role", ""), n.get("role", "")),
                    running=bool((n.get("State") or {}).get("Running")),
                )
                for n in nodes
            ),
            api_port=api_port,
            host_ports=host_ports,
            network=network.get("name"),
            subnet=subnet or (network.get("ipam") or {}).get("ipPrefix") or None,
        )

    def list_clusters(self) -> list[ClusterState]:
        return [self._state(item) for item in self._list()]

    def state(self, env: Environment) -> ClusterState | None:
        return next((c for c in self.list_clusters() if c.name == env.name), None)

    def start(self, env: Environment) -> None:
        self._run(env, ["k3d", "cluster", "start", env.name, "--wait"], timeout=300)

    def stop(self, env: Environment) -> None:
        self._run(env, ["k3d", "cluster", "stop", env.name], timeout=300)

    def write_kubeconfig(self, env: Environment, path: Path) -> None:
        # Counted as a change: it produces the kubeconfig file, so a dry run lists it in the plan.
        text = self._run(env, ["k3d", "kubeconfig", "get", env.name], timeout=QUERY_TIMEOUT).stdout
        if not self.runner.dry_run:
            write_private(path, text)

    def node_names(self, env: Environment) -> list[str]:
        state = self.state(env)
        return [n.name for n in (state.nodes if state else ()) if n.role != "loadbalancer"]

    def exec_in_node(self, env: Environment, node: str, argv: list[str]) -> CommandResult:
        return self.runner.run(["docker", "exec", node, *argv], timeout=120, mutating=False, check=False)

    def import_images(self, env: Environment, images: list[str]) -> None:
        self._run(env, ["k3d", "image", "import", *images, "-c", env.name], timeout=600)

    def import_archives(self, env: Environment, paths: list[Path]) -> None:
        # k3d v5.8.3 pkg/client/tools.go findImages: an argument that is a file is a tarball,
        # imported with `ctr image import --all-platforms` in every server and agent node. A path
        # that is not a file is only a warning; the call fails only when nothing was valid.
        files = [str(p.resolve()) for p in paths]
        self._run(env, ["k3d", "image", "import", *files, "-c", env.name], timeout=1800)
