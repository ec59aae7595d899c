"""An existing cluster adopted by kubeconfig context (label kenv.io/context, default: the
environment's name). kenv reads it and verifies it, but never creates, stops or deletes it."""

from __future__ import annotations

import os
from pathlib import Path

from kenv.errors import InvalidInput
from kenv.inventory.model import Environment
from kenv.providers.base import ClusterState, CreateOptions, NodeState, write_private
from kenv.runtime.process import CommandResult, Runner

CONTEXT_LABEL = "kenv.io/context"


class External:
    name = "external"
    tool = "kubectl"

    def __init__(self, runner: Runner, data_dir: Path) -> None:
        self.runner = runner
        self.data_dir = data_dir

    def context_name(self, env: Environment) -> str:
        return env.labels.get(CONTEXT_LABEL, env.name)

    def _source_kubeconfig(self) -> str:
        """Where the user's contexts are, as shown in messages: KUBECONFIG may list several files."""
        return os.environ.get("KUBECONFIG") or str(Path.home() / ".kube" / "config")

    def _kubectl(self, *args: str, mutating: bool, check: bool = True) -> CommandResult:
        # kubectl itself reads KUBECONFIG (merging every file it lists) or ~/.kube/config;
        # `--kubeconfig` takes one path, so passing it a list would find no context at all.
        return self.runner.run(["kubectl", *args], timeout=30, mutating=mutating, check=check)

    def _contexts(self) -> list[str]:
        result = self._kubectl("config", "get-contexts", "-o", "name", mutating=False, check=False)
        return result.stdout.split() if result.ok else []

    def create(self, env: Environment, options: CreateOptions) -> None:
        """Adopting: the context must exist; its credentials are copied into the env's own file."""
        if self.context_name(env) not in self._contexts():
            raise InvalidInput(
                f"kubeconfig context {self.context_name(env)!r} not found in {self._source_kubeconfig()}",
                hint=f"set --label {CONTEXT_LABEL}=CONTEXT to the context of the cluster to adopt",
            )
        self.write_kubeconfig(env, options.kubeconfig)

    def delete(self, env: Environment) -> None:
        """kenv never deletes a cluster it did not create; forgetting it is the whole job."""

    def list_clusters(self) -> list[ClusterState]:
        return []

    def state(self, env: Environment) -> ClusterState | None:
        if self.context_name(env) not in self._contexts():
            return None
        return ClusterState(env.name, "external", (NodeState(self.context_name(env), "server", True),))

    def start(self, env: Environment) -> None:
        raise InvalidInput(f"{env.name!r} is an external cluster", hint="start it with the tool that runs it")

    def stop(self, env: Environment) -> None:
        raise InvalidInput(f"{env.name!r} is an external cluster", hint="stop it with the tool that runs it")

    def write_kubeconfig(self, env: Environment, path: Path) -> None:
        text = self._kubectl(
            "config", "view", "--minify", "--flatten", "--raw", "--context", self.context_name(env), mutating=True
        ).stdout
        if not self.runner.dry_run:
            write_private(path, text)

    def node_names(self, env: Environment) -> list[str]:
        return []

    def exec_in_node(self, env: Environment, node: str, argv: list[str]) -> CommandResult:
        raise InvalidInput(f"{env.name!r} is an external cluster", hint="kenv cannot reach into its nodes")

    def import_images(self, env: Environment, images: list[str]) -> None:
        raise InvalidInput(f"{env.name!r} is an external cluster", hint="push the images to a registry it pulls from")

    def import_archives(self, env: Environment, paths: list[Path]) -> None:
        raise InvalidInput(
            f"{env.name!r} is an external cluster: kenv cannot load archives into its nodes",
            hint="push the images to a registry it pulls from",
        )
