"""kenv verify: is each environment healthy? API reachable, nodes Ready, kube-system pods
running, in-cluster DNS resolving. Each check has its own result."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kenv.catalogue import facts_for
from kenv.errors import KenvError
from kenv.inventory.model import Environment
from kenv.runtime.kubectl import Kubectl
from kenv.workflows.context import WorkflowContext

HEALTHY_PHASES = ("Running", "Succeeded")


@dataclass
class Check:
    name: str
    ok: bool
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"check": self.name, "ok": self.ok, "detail": self.detail}


@dataclass
class EnvironmentHealth:
    environment: str
    checks: list[Check] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return all(c.ok for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "healthy": self.healthy,
            "checks": [c.to_dict() for c in self.checks],
        }


def verify_environment(ctx: WorkflowContext, env: Environment, *, dns_image: str | None = None) -> EnvironmentHealth:
    """`dns_image` defaults to the image of the shipped DNS check manifest (manifests/verify), the
    same one `kenv images list --component verify` names, so the two never differ."""
    health = EnvironmentHealth(env.name)
    provider = ctx.provider(env.provider)
    kubeconfig = ctx.kubeconfig_path(env.name)
    if facts_for(env.provider).managed:
        try:
            state = provider.state(env)
        except KenvError:
            state = None  # the tool could not say: the API check below reports what is wrong
        if state is not None and not state.running:
            # Said in kenv's terms: kubectl would only report a refused connection.
            health.checks.append(Check("api", False, f"stopped: run `kenv start {env.name}`"))
            return health
    if not kubeconfig.exists():
        health.checks.append(Check("api", False, f"no kubeconfig at {kubeconfig}; run `kenv create {env.name}`"))
        return health
    kubectl = Kubectl(ctx.runner, kubeconfig, provider.context_name(env), timeout=30)
    try:
        version = kubectl.server_version()
        health.checks.append(Check("api", True, f"Kubernetes {version} answers"))
    except KenvError as exc:
        health.checks.append(Check("api", False, exc.one_line()))
        return health  # nothing else can be asked of a cluster whose API does not answer
    try:
        nodes = kubectl.nodes()
        not_ready = [n.name for n in nodes if not n.ready]
        ok = bool(nodes) and not not_ready
        detail = f"{len(nodes)} node(s) Ready" if ok else f"not Ready: {', '.join(not_ready) or 'no nodes'}"
        health.checks.append(Check("nodes", ok, detail))
    except KenvError as exc:
        health.checks.append(Check("nodes", False, exc.one_line()))
    try:
        pods = kubectl.pods("kube-system")
        bad = [
            f"{p.name} ({p.reason or p.phase})"
            for p in pods
            if p.phase not in HEALTHY_PHASES or (p.phase == "Running" and not p.ready)
        ]
        health.checks.append(
            Check("kube-system", not bad, f"{len(pods)} pod(s) running" if not bad else "unhealthy: " + ", ".join(bad))
        )
    except KenvError as exc:
        health.checks.append(Check("kube-system", False, exc.one_line()))
    try:
        if dns_image is None:
            from kenv.images.components import dns_check_image

            dns_image = dns_check_image()
        answer = kubectl.dns_lookup(image=dns_image)
        resolved = "Address" in answer and "kubernetes.default" in answer
        health.checks.append(
            Check("dns", resolved, "kubernetes.default resolves" if resolved else f"no answer: {answer.strip()[:200]}")
        )
    except KenvError as exc:
        health.checks.append(Check("dns", False, exc.one_line()))
    return health
