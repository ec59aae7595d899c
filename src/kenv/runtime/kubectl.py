"""kubectl against one environment's own kubeconfig file, with JSON output parsed into typed results."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kenv.errors import ExternalCommandError
from kenv.runtime.process import Runner

REQUEST_TIMEOUT = "10s"
log = logging.getLogger("kenv.runtime.kubectl")


@dataclass(frozen=True)
class NodeStatus:
    name: str
    ready: bool
    roles: tuple[str, ...]
    kubelet_version: str


@dataclass(frozen=True)
class PodStatus:
    namespace: str
    name: str
    phase: str
    ready: bool
    reason: str  # waiting reason (CrashLoopBackOff, ImagePullBackOff, ...) or ""


@dataclass(frozen=True)
class Kubectl:
    runner: Runner
    kubeconfig: Path
    context: str | None = None
    timeout: float = 30.0

    def argv(self, *args: str) -> list[str]:
        base = ["kubectl", "--kubeconfig", str(self.kubeconfig), f"--request-timeout={REQUEST_TIMEOUT}"]
        if self.context:
            base += ["--context", self.context]
        return [*base, *args]

    def run(self, *args: str, mutating: bool = False, check: bool = True) -> str:
        return self.runner.run(self.argv(*args), timeout=self.timeout, mutating=mutating, check=check).stdout

    def _json(self, *args: str) -> dict[str, Any]:
        """Run kubectl with `args` and parse its stdout as a JSON object; anything else (a proxy's
        HTML page, a truncated answer, a plugin's banner) is an error naming the command."""
        argv = self.argv(*args)
        text = self.run(*args)
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ExternalCommandError(
                f"`kubectl {' '.join(args)}` printed something that is not JSON ({exc.msg} at line {exc.lineno})",
                argv=argv,
                returncode=0,
                stderr_tail=text[:200],
            ) from exc
        if not isinstance(data, dict):
            raise ExternalCommandError(
                f"`kubectl {' '.join(args)}` printed JSON that is not an object ({type(data).__name__})",
                argv=argv,
                returncode=0,
                stderr_tail=text[:200],
            )
        return data

    def get_json(self, *args: str) -> dict[str, Any]:
        return self._json("get", *args, "-o", "json")

    def list_all_namespaces(self, resource: str) -> dict[str, Any]:
        """`kubectl get RESOURCE -A -o json`: one call, the List of every namespace's objects
        (kubectl prints several objects as a `List` with `items`)."""
        return self.get_json(resource, "-A")

    def server_version(self) -> str:
        data = self._json("version", "-o", "json")
        return str((data.get("serverVersion") or {}).get("gitVersion", ""))

    def nodes(self) -> list[NodeStatus]:
        items = self.get_json("nodes").get("items", [])
        result = []
        for item in items:
            conditions = {c.get("type"): c.get("status") for c in item.get("status", {}).get("conditions", [])}
            labels = item.get("metadata", {}).get("labels", {})
            roles = tuple(sorted(k.split("/", 1)[1] for k in labels if k.startswith("node-role.kubernetes.io/")))
            result.append(
                NodeStatus(
                    name=item["metadata"]["name"],
                    ready=conditions.get("Ready") == "True",
                    roles=roles,
                    kubelet_version=item.get("status", {}).get("nodeInfo", {}).get("kubeletVersion", ""),
                )
            )
        return result

    def pods(self, namespace: str | None = None) -> list[PodStatus]:
        scope = ["-n", namespace] if namespace else ["-A"]
        items = self.get_json("pods", *scope).get("items", [])
        result = []
        for item in items:
            status = item.get("status", {})
            containers = status.get("containerStatuses") or []
            reason = ""
            for container in containers:
                waiting = (container.get("state") or {}).get("waiting")
                if waiting:
                    reason = waiting.get("reason", "")
            result.append(
                PodStatus(
                    namespace=item["metadata"].get("namespace", ""),
                    name=item["metadata"]["name"],
                    phase=status.get("phase", ""),
                    ready=bool(containers) and all(c.get("ready") for c in containers),
                    reason=reason,
                )
            )
        return result

    def dns_lookup(self, *, image: str, name: str = "kubernetes.default.svc.cluster.local") -> str:
        """Resolve `name` from inside the cluster with a throwaway pod of `image` (the caller's: the
        workflow reads it from the shipped manifest); returns nslookup's output.

        `kubectl run --rm` deletes the pod from the client after the attach ends, so a kubectl
        that is killed (a slow image pull outlasting the timeout) leaves it behind: each run gets
        a name of its own and deletes its pod itself, bounded, whatever happened."""
        pod = f"kenv-dns-{os.urandom(4).hex()}"
        try:
            return self.run(
                "run",
                pod,
                "--image",
                image,
                "--restart=Never",
                "--rm",
                "-i",
                "--quiet",
                "--command",
                "--",
                "nslookup",
                name,
                mutating=True,
            )
        finally:
            self.delete_pod(pod)

    def delete_pod(self, pod: str) -> None:
        """Best effort, never waiting for the pod to terminate: a failure here must not hide the
        check's own result."""
        try:
            self.run("delete", "pod", pod, "--ignore-not-found", "--wait=false", mutating=True, check=False)
        except ExternalCommandError as exc:
            log.debug("could not delete pod %s: %s", pod, exc)
