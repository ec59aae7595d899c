"""minikube with the docker driver: a profile per environment on its own --subnet, the API on
--apiserver-port, ingress ports published with --ports. KUBECONFIG points minikube at the
environment's own kubeconfig file, so the user's default one is never touched."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kenv.inventory.model import Environment
from kenv.providers.base import ClusterState, CreateOptions
from kenv.runtime.process import CommandResult, Runner

QUERY_TIMEOUT = 60.0


class Minikube:
    name = "minikube"
    tool = "minikube"

    def __init__(self, runner: Runner, data_dir: Path) -> None:
        self.runner = runner
        self.data_dir = data_dir

    def context_name(self, env: Environment) -> str:
        return env.name

    def own_network(self, name: str) -> str | None:
        return None  # minikube makes its own network from --subnet

    def create_argv(self, env: Environment, options: CreateOptions) -> list[str]:
        argv = [
            "minikube", "start",
            "-p", env.name,
            "--driver=docker",
            f"--nodes={env.servers + env.agents}",
            f"--wait-timeout={int(options.timeout)}s",
        ]  # fmt: skip
        if env.subnet is not None:
            argv.append(f"--subnet={env.subnet}")
        if env.port("api"):
            argv.append(f"--apiserver-port={env.port('api')}")
        for purpose, container_port in (("http", 80), ("https", 443)):
            if env.port(purpose):
                argv.append(f"--ports=127.0.0.1:{env.port(purpose)}:{container_port}")
        if env.k8s_version:
            argv.append(f"--kubernetes-version={env.k8s_version}")
        if options.resources.cpus:
            argv.append(f"--cpus={options.resources.cpus}")
        if options.resources.memory:
            argv.append(f"--memory={options.resources.memory}")
        return argv

    def create(self, env: Environment, options: CreateOptions) -> None:
        self.runner.run(
            self.create_argv(env, options),
            timeout=options.timeout + 120,
            extra_env={"KUBECONFIG": str(options.kubeconfig)},
        )

    def delete(self, env: Environment) -> None:
        self.runner.run(["minikube", "delete", "-p", env.name], timeout=300)

    def _profiles(self) -> list[dict[str, Any]]:
        result = self.runner.run(
            ["minikube", "profile", "list", "-o", "json"], timeout=QUERY_TIMEOUT, mutating=False, check=False
        )
        try:
            data = json.loads(result.stdout or "{}")
        except json.JSONDecodeError:
            return []
        # With no profiles minikube prints an error object and exits non-zero: that is "none".
        return list(data.get("valid") or []) if isinstance(data, dict) else []

    def list_clusters(self) -> list[ClusterState]:
        states = []
        for profile in self._profiles():
            config = profile.get("Config") or {}
            nodes = config.get("Nodes") or []
            names = tuple(profile["Name"] if i == 0 else f"{profile['Name']}-m{i + 1:02d}" for i in range(len(nodes)))
            running = profile.get("Status") == "Running"
            servers = sum(1 for n in nodes if n.get("ControlPlane")) or 1
            states.append(
                ClusterState(
                    name=profile["Name"],
                    provider="minikube",
                    running=running,
                    nodes=names,
                    servers_running=servers if running else 0,
                    servers=servers,
                    api_port=config.get("APIServerPort"),
                    network=config.get("Network") or profile["Name"],
                    subnet=config.get("Subnet") or None,
                )
            )
        return states

    def state(self, env: Environment) -> ClusterState | None:
        return next((c for c in self.list_clusters() if c.name == env.name), None)

    def start(self, env: Environment) -> None:
        self.runner.run(["minikube", "start", "-p", env.name], timeout=600)

    def stop(self, env: Environment) -> None:
        self.runner.run(["minikube", "stop", "-p", env.name], timeout=300)

    def write_kubeconfig(self, env: Environment, path: Path) -> None:
        # minikube wrote the context into this file at start; update-context repairs a stale port.
        self.runner.run(
            ["minikube", "update-context", "-p", env.name],
            timeout=QUERY_TIMEOUT,
            extra_env={"KUBECONFIG": str(path)},
        )
        if path.exists():
            path.chmod(0o600)

    def node_names(self, env: Environment) -> list[str]:
        state = self.state(env)
        return list(state.nodes) if state else []

    def exec_in_node(self, env: Environment, node: str, argv: list[str]) -> CommandResult:
        return self.runner.run(
            ["minikube", "ssh", "-p", env.name, "-n", node, "--", *argv], timeout=120, mutating=False, check=False
        )

    def import_images(self, env: Environment, images: list[str]) -> None:
        for image in images:
            self.runner.run(["minikube", "image", "load", image, "-p", env.name], timeout=600)
