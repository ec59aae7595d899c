"""kenv sync: compare the inventory with what the providers report, and converge.

Drift kinds:
- missing:      recorded as present, no cluster          -> create (resumes the create workflow)
- unwanted:     recorded as absent, cluster exists        -> delete
- status:       cluster running/stopped, record says else -> record the real status
- orphan:       a cluster kenv created (its kubeconfig is in kenv's data dir) with no record
                -> deleted only with --prune
- port/subnet:  the cluster's API port or network differs from the record -> reported; recreating
                is the user's call (`kenv delete NAME && kenv create NAME`)
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass
from typing import Any

from kenv.catalogue import MANAGED_PROVIDERS, facts_for
from kenv.errors import KenvError
from kenv.inventory.model import Environment
from kenv.providers.base import ClusterState
from kenv.workflows.context import WorkflowContext

log = logging.getLogger("kenv.workflows.sync")


@dataclass(frozen=True)
class Drift:
    environment: str
    provider: str
    kind: str
    detail: str
    action: str  # create | delete | record-status | prune | none
    status: str | None = None  # for record-status: the status the cluster actually has

    def to_dict(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "provider": self.provider,
            "kind": self.kind,
            "detail": self.detail,
            "action": self.action,
        }


def _clusters(ctx: WorkflowContext, providers: set[str]) -> tuple[dict[tuple[str, str], ClusterState], list[str]]:
    found: dict[tuple[str, str], ClusterState] = {}
    unreachable = []
    for name in sorted(providers):
        try:
            ctx.ensure_tools(name)
            for state in ctx.provider(name).list_clusters():
                found[(name, state.name)] = state
        except KenvError as exc:
            unreachable.append(f"{name}: {exc.one_line()}")
    return found, unreachable


def detect_drift(ctx: WorkflowContext) -> tuple[list[Drift], list[str]]:
    """(drift, providers that could not be asked). Read-only."""
    records = ctx.inventory().environments()
    used = {e.provider for e in records if e.provider in MANAGED_PROVIDERS}
    kubeconfigs = (
        {p.stem for p in ctx.settings.kubeconfig_dir.glob("*.yaml")} if ctx.settings.kubeconfig_dir.exists() else set()
    )
    used |= {ctx.settings.default_provider} if ctx.settings.default_provider in MANAGED_PROVIDERS else set()
    clusters, unreachable = _clusters(ctx, used)
    drift: list[Drift] = []
    recorded = set()
    for env in records:
        if env.provider not in MANAGED_PROVIDERS:
            continue
        if any(text.startswith(f"{env.provider}:") for text in unreachable):
            continue
        recorded.add((env.provider, env.name))
        drift.extend(_compare(env, clusters.get((env.provider, env.name))))
    for provider, name in sorted(clusters):
        if (provider, name) not in recorded and name in kubeconfigs:
            drift.append(Drift(name, provider, "orphan", f"{provider} cluster {name} has no record", "prune"))
    return drift, unreachable


def _compare(env: Environment, state: ClusterState | None) -> list[Drift]:
    found: list[Drift] = []
    if state is None:
        if env.desired_state == "present" and env.status not in ("absent",):
            found.append(Drift(env.name, env.provider, "missing", "recorded, but no cluster runs", "create"))
        return found
    if env.desired_state == "absent":
        return [Drift(env.name, env.provider, "unwanted", "recorded as absent, but the cluster exists", "delete")]
    shortfall = state.shortfall(env.servers, env.agents)
    if shortfall is not None and any(n.running for n in state.nodes):
        found.append(
            Drift(
                env.name,
                env.provider,
                "incomplete",
                f"{shortfall}; `kenv start {env.name}` starts stopped nodes, "
                f"`kenv delete {env.name} && kenv create {env.name}` makes missing ones",
                "none",
            )
        )
        return found
    actual = "running" if shortfall is None else "stopped"
    if env.status in ("running", "stopped", "unknown", "failed") and env.status != actual:
        found.append(
            Drift(
                env.name, env.provider, "status", f"recorded {env.status}, actually {actual}", "record-status", actual
            )
        )
    facts = facts_for(env.provider)
    api = env.port("api")
    if facts.api_port_on_host and state.api_port is not None and api is not None and state.api_port != api:
        found.append(Drift(env.name, env.provider, "port", f"API on {state.api_port}, recorded {api}", "none"))
    if facts.has_subnet and env.subnet is not None:
        where = _outside_subnet(state, env.subnet)
        if where is not None:
            found.append(Drift(env.name, env.provider, "subnet", f"{where}, recorded {env.subnet}", "none"))
    return found


def _outside_subnet(state: ClusterState, subnet: ipaddress.IPv4Network) -> str | None:
    """Where the cluster really is, when that is not the recorded subnet (None: it is)."""
    if state.subnet and state.subnet != str(subnet):
        return f"network {state.subnet}"
    if state.node_ip and ipaddress.ip_address(state.node_ip) not in subnet:
        return f"node address {state.node_ip}"
    return None


def converge(ctx: WorkflowContext, drift: list[Drift], *, prune: bool) -> list[dict[str, Any]]:
    """Act on drift; returns what was done per item (ok or the error)."""
    from kenv.inventory.validation import EnvironmentSpec
    from kenv.workflows.create import CreateRequest, create_environment
    from kenv.workflows.delete import DeleteRequest, delete_environment

    outcomes = []
    for item in drift:
        outcome = {**item.to_dict(), "done": False, "error": None}
        try:
            if item.action == "create":
                env = ctx.inventory().get(item.environment)
                spec = EnvironmentSpec(name=env.name, provider=env.provider, role=env.role, subnet=env.subnet)
                with ctx.recorded("create", item.environment) as logged:
                    logged.detail = f"sync: {item.detail}"
                    result = create_environment(ctx, CreateRequest(spec=spec))
                    logged.of(result)
                outcome["done"], outcome["error"] = result.ok, result.error
            elif item.action == "delete":
                with ctx.recorded("delete", item.environment) as logged:
                    logged.detail = f"sync: {item.detail}"
                    result = delete_environment(ctx, DeleteRequest(item.environment))
                    logged.of(result)
                outcome["done"], outcome["error"] = result.ok, result.error
            elif item.action == "record-status":
                assert item.status is not None
                ctx.inventory().set_status(item.environment, item.status, last_step="sync")
                outcome["done"] = True
            elif item.action == "prune" and prune:
                with ctx.recorded("delete", item.environment) as logged:
                    logged.detail = f"sync --prune: {item.detail}"
                    result = delete_environment(ctx, DeleteRequest(item.environment, provider=item.provider))
                    logged.of(result)
                outcome["done"], outcome["error"] = result.ok, result.error
        except KenvError as exc:
            outcome["error"] = exc.one_line()
        outcomes.append(outcome)
    return outcomes
