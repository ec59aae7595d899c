"""minikube with the docker driver: a profile per environment on its own --subnet, the http/https
host ports published with --ports onto the ingress's NodePorts.

What the real minikube does that shapes this module (sources in tests/fakes/README.md):
- every command that touches a kubeconfig (start, stop, delete, update-context) edits the file
  KUBECONFIG names, else ~/.kube/config, and stop/delete remove the context named like the
  profile, so every call runs with KUBECONFIG pointed at the environment's own file;
- the API server's port is the port inside the node container; Docker publishes it on a random
  host port that changes at every start, so kenv records no API port for minikube and the
  kubeconfig (refreshed by `update-context`) is the way to the API;
- `--subnet` is only where minikube starts looking: a taken subnet is skipped silently, so the
  node's real address is checked after create;
- a healthy profile's status is "OK" since v1.35.0, "Running" before;
- `--ports` goes to every node container (minikube#12776): validation refuses host ports on a
  multi-node profile; `--ha` makes exactly three control planes.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from kenv.errors import KenvError
from kenv.inventory.model import Environment
from kenv.providers.base import ClusterState, CreateOptions, NodeState, own_kubeconfig
from kenv.providers.image_supply import plan_supply
from kenv.runtime.process import CommandResult, Runner, failure

QUERY_TIMEOUT = 60.0
HA_SERVERS = 3
# `minikube profile list` statuses (pkg/minikube/cluster/status.go since v1.35.0, profile_list.go
# before): a healthy profile is "OK" since v1.35.0 and "Running" before; a healthy HA profile is
# "HAppy"; an HA profile with two of its three control planes is "Degraded". Everything else
# (Stopped, Starting, Paused, Error, Unknown, "" ...) is a profile that does not run.
HEALTHY = frozenset({"OK", "Running", "HAppy"})
PARTLY_RUNNING = frozenset({"Degraded", "Warning"})


class Minikube:
    name = "minikube"
    tool = "minikube"

    def __init__(self, runner: Runner, data_dir: Path) -> None:
        self.runner = runner
        self.data_dir = data_dir

    def context_name(self, env: Environment) -> str:
        return env.name

    def _run(
        self,
        env_name: str,
        argv: list[str],
        *,
        timeout: float,
        mutating: bool = True,
        check: bool = True,
        kubeconfig: Path | None = None,
        extra_env: Mapping[str, str] | None = None,
    ) -> CommandResult:
        path = kubeconfig or own_kubeconfig(self.data_dir, env_name)
        return self.runner.run(
            argv,
            timeout=timeout,
            mutating=mutating,
            check=check,
            extra_env={**(extra_env or {}), "KUBECONFIG": str(path)},
        )

    def create_argv(self, env: Environment, options: CreateOptions) -> list[str]:
        argv = [
            "minikube", "start",
            "-p", env.name,
            "--driver=docker",
            f"--nodes={env.servers + env.agents}",
            f"--wait-timeout={int(options.timeout)}s",
        ]  # fmt: skip
        if env.servers == HA_SERVERS:
            argv.append("--ha")
        if env.subnet is not None:
            argv.append(f"--subnet={env.subnet}")
        # Onto the ingress's NodePorts, as kind does (providers/kind.py says why).
        for purpose, container_port in (("http", env.node_port), ("https", env.https_node_port)):
            if env.port(purpose):
                argv.append(f"--ports=127.0.0.1:{env.port(purpose)}:{container_port}")
        if env.k8s_version:
            argv.append(f"--kubernetes-version={env.k8s_version}")
        if options.resources.cpus:
            argv.append(f"--cpus={options.resources.cpus}")
        if options.resources.memory:
            argv.append(f"--memory={options.resources.memory}")
        # --registry-mirror (Docker Hub only), --insecure-registry, --docker-env for the proxies.
        argv += plan_supply(options.images, env, self.data_dir).args
        return argv

    def create(self, env: Environment, options: CreateOptions) -> None:
        result = self._run(
            env.name,
            self.create_argv(env, options),
            timeout=options.timeout + 120,
            kubeconfig=options.kubeconfig,
            check=False,
            # minikube copies the proxy variables of its own environment into the docker env:
            # the same values as the --docker-env flags, so the shell's own cannot contradict them.
            extra_env=plan_supply(options.images, env, self.data_dir).tool_env,
        )
        if not result.ok:
            if "FreeSubnet" in result.stderr:
                # minikube#15516: a --subnet CIDR that another network holds makes minikube panic
                # in network.FreeSubnet (exit 2), a goroutine trace instead of a message.
                raise KenvError(
                    f"minikube crashed looking for a free subnet: {env.subnet} is taken by another network "
                    "or host interface (minikube#15516)",
                    hint=f"find what holds it (`docker network ls`, `ip route`), or `kenv unregister {env.name}` "
                    "and create the environment again with another --subnet",
                )
            raise failure(result)
        if env.subnet is None or self.runner.dry_run:
            return
        state = self.state(env)
        address = state.node_ip if state else None
        if address and ipaddress.ip_address(address) in env.subnet:
            return
        # minikube moved on to another subnet (or Docker's default bridge) without failing: the
        # cluster is not where the inventory says, so it is removed rather than recorded wrongly.
        self.delete(env)
        raise KenvError(
            f"minikube put {env.name} at {address or 'an unknown address'} "
            f"on network {(state.network if state else None) or '?'}, outside its subnet {env.subnet} "
            "(minikube skips a subnet another Docker network holds); the profile was deleted",
            hint=f"find the network that holds {env.subnet} with `docker network ls`, "
            f"or give the environment another one (`kenv unregister {env.name}` and create it with --subnet)",
        )

    def delete(self, env: Environment) -> None:
        self._run(env.name, ["minikube", "delete", "-p", env.name], timeout=300)

    def _profiles(self, name: str | None = None) -> list[dict[str, Any]]:
        """`minikube profile list -o json`, read with KUBECONFIG at `name`'s own file: an HA
        profile counts as healthy only when the kubeconfig minikube reads holds its context
        (pkg/minikube/cluster/status.go), and each environment's context is in its own file."""
        argv = ["minikube", "profile", "list", "-o", "json"]
        # Listing reads the first KUBECONFIG entry and fails on one it cannot decode: with no
        # environment named, a file kenv never writes keeps the user's own file out of it.
        kubeconfig = None if name else self.data_dir / "kubeconfig" / ".profile-list.yaml"
        result = self._run(name or "", argv, timeout=QUERY_TIMEOUT, mutating=False, check=False, kubeconfig=kubeconfig)
        # No profiles is `{"invalid":[],"valid":[]}` and exit 0 (v1.34 and v1.38); an error
        # object, a crash or no output at all is minikube failing to list.
        if not result.ok:
            raise failure(result)
        try:
            data = json.loads(result.stdout)
        except json.JSONDecodeError:
            data = None
        if not isinstance(data, dict) or "error" in data:
            raise failure(replace(result, returncode=result.returncode or 1))
        return list(data.get("valid") or [])

    @staticmethod
    def _state(profile: dict[str, Any]) -> ClusterState:
        config = profile.get("Config") or {}
        status = str(profile.get("Status", ""))
        name = str(profile.get("Name", ""))
        nodes = []
        for index, node in enumerate(config.get("Nodes") or []):
            # The primary node's Name is "" in the profile; its container is named after the profile.
            node_name = name if index == 0 else f"{name}-{node.get('Name') or f'm{index + 1:02d}'}"
            role = "server" if node.get("ControlPlane") else "agent"
            running = status in HEALTHY or (status in PARTLY_RUNNING and index == 0)
            nodes.append(NodeState(node_name, role, running))
        first = (config.get("Nodes") or [{}])[0]
        return ClusterState(
            name=name,
            provider="minikube",
            nodes=tuple(nodes),
            network=config.get("Network") or name,
            subnet=config.get("Subnet") or None,
            node_ip=first.get("IP") or None,
        )

    def list_clusters(self) -> list[ClusterState]:
        states = []
        for profile in self._profiles():
            name = str(profile.get("Name") or "")
            if not name:
                continue
            state = self._state(profile)
            if self._is_ha(profile) and not state.running:
                # Read again with its own kubeconfig: with another file it looks "Stopped".
                state = next((self._state(p) for p in self._profiles(name) if p.get("Name") == name), state)
            states.append(state)
        return states

    def state(self, env: Environment) -> ClusterState | None:
        return next((self._state(p) for p in self._profiles(env.name) if p.get("Name") == env.name), None)

    @staticmethod
    def _is_ha(profile: dict[str, Any]) -> bool:
        nodes = (profile.get("Config") or {}).get("Nodes") or []
        return sum(1 for n in nodes if n.get("ControlPlane")) > 1

    def start(self, env: Environment) -> None:
        self._run(env.name, ["minikube", "start", "-p", env.name], timeout=600)

    def stop(self, env: Environment) -> None:
        self._run(env.name, ["minikube", "stop", "-p", env.name], timeout=300)

    def write_kubeconfig(self, env: Environment, path: Path) -> None:
        # minikube wrote the context into this file at start; update-context follows the API's
        # host port, which Docker chooses anew at every start.
        self._run(env.name, ["minikube", "update-context", "-p", env.name], timeout=QUERY_TIMEOUT, kubeconfig=path)
        if path.exists():
            path.chmod(0o600)

    def node_names(self, env: Environment) -> list[str]:
        state = self.state(env)
        return list(state.node_names) if state else []

    def exec_in_node(self, env: Environment, node: str, argv: list[str]) -> CommandResult:
        return self._run(
            env.name,
            ["minikube", "ssh", "-p", env.name, "-n", node, "--", *argv],
            timeout=120,
            mutating=False,
            check=False,
        )

    def import_images(self, env: Environment, images: list[str]) -> None:
        for image in images:
            self._run(env.name, ["minikube", "image", "load", image, "-p", env.name], timeout=600)

    def import_archives(self, env: Environment, paths: list[Path]) -> None:
        # minikube v1.38.1 cmd/minikube/cmd/image.go: an argument starting with "/" is a local
        # file, and all of them go to machine.DoLoadImages in one call. A file that fails to load
        # is only logged (exit 0), hence absolute paths and a verification afterwards.
        files = [str(p.resolve()) for p in paths]
        self._run(env.name, ["minikube", "image", "load", *files, "-p", env.name], timeout=1800)
