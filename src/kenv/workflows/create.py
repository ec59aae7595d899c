"""kenv create: record the intent, then network, cluster, kubeconfig and readiness, then record
the outcome. Rerunning after a failure or a kill resumes: every step sees what is already there."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from kenv.errors import InvalidInput, KenvError
from kenv.inventory.model import PORT_PURPOSES, Environment
from kenv.inventory.validation import Auto, EnvironmentSpec
from kenv.providers.base import ClusterState, CreateOptions, NodeResources, Provider
from kenv.runtime import docker
from kenv.runtime.host import LiveHostProbe
from kenv.runtime.kubectl import Kubectl
from kenv.workflows.context import WorkflowContext
from kenv.workflows.engine import Step, WorkflowResult, execute

READY_POLL_SECONDS = 2.0


@dataclass(frozen=True)
class CreateRequest:
    spec: EnvironmentSpec
    explicit: frozenset[str] = field(default_factory=frozenset)  # values the user gave on purpose
    timeout: float = 300.0
    keep_on_failure: bool = False
    resources: NodeResources = field(default_factory=NodeResources)


def _check_record_agrees(env: Environment, request: CreateRequest) -> None:
    """A record exists (registered earlier, or a failed create): what the user asked for on purpose
    must match it; everything left unsaid comes from the record."""
    spec = request.spec
    asked: dict[str, object] = {
        "provider": spec.provider,
        "subnet": spec.subnet,
        "servers": spec.servers,
        "agents": spec.agents,
        "node_port": spec.node_port,
        "k8s_version": spec.k8s_version,
        **{f"{purpose}_port": choice for purpose, choice in spec.ports},
    }
    recorded: dict[str, object] = {
        "provider": env.provider,
        "subnet": env.subnet,
        "servers": env.servers,
        "agents": env.agents,
        "node_port": env.node_port,
        "k8s_version": env.k8s_version,
        **{f"{purpose}_port": env.port(purpose) for purpose in PORT_PURPOSES},
    }
    differing = [
        key
        for key in sorted(request.explicit)
        if key in asked and not isinstance(asked[key], Auto) and asked[key] != recorded[key]
    ]
    if differing:
        shown = ", ".join(f"{k} {recorded[k]} (asked {asked[k]})" for k in differing)
        raise InvalidInput(
            f"environment {env.name!r} is already recorded with {shown}",
            hint=f"drop those flags to use the record, or `kenv delete {env.name}` first",
        )


def create_environment(ctx: WorkflowContext, request: CreateRequest) -> WorkflowResult:
    name = request.spec.name
    with ctx.environment_lock(name):
        return _create(ctx, request)


def _create(ctx: WorkflowContext, request: CreateRequest) -> WorkflowResult:  # noqa: PLR0915 - steps read in order
    spec = request.spec
    inventory = ctx.inventory()
    existing = inventory.find(spec.name)
    if existing is not None:
        _check_record_agrees(existing, request)
        if existing.status == "running" and not ctx.dry_run:
            state = ctx.provider(existing.provider).state(existing)
            if state is not None and state.complete:
                result = WorkflowResult("create", spec.name, ctx.dry_run)
                ctx.progress.note(spec.name, "already running")
                return result
    provider: Provider = ctx.provider(existing.provider if existing else spec.provider)
    holder: dict[str, Environment] = {}
    if existing is not None:
        holder["env"] = existing
    kubeconfig = ctx.kubeconfig_path(spec.name)
    options = CreateOptions(kubeconfig=kubeconfig, timeout=request.timeout, resources=request.resources)

    def env() -> Environment:
        return holder["env"]

    def record() -> str:
        if existing is None:
            holder["env"] = inventory.register(spec, ctx.policy(), LiveHostProbe(ctx.runner))
        holder["env"] = inventory.set_status(spec.name, "creating", desired_state="present", last_step="record")
        return _describe(env())

    def plan_record() -> str:
        if existing is None:
            holder["env"] = inventory.register(spec, ctx.policy(), LiveHostProbe(ctx.runner), dry_run=True)
            return "would record " + _describe(env())
        return "would mark as creating: " + _describe(env())

    steps = [Step("record", record, plan=plan_record)]

    network = provider.own_network(spec.name)
    subnet_intended = (existing.subnet if existing is not None else spec.subnet) is not None
    if network is not None and subnet_intended:
        steps.append(_network_step(ctx, env, network))

    seen: dict[str, ClusterState | None] = {}

    def cluster_done() -> bool:
        seen["state"] = state = provider.state(env())
        return state is not None and state.complete

    def cluster() -> str:
        # The done-check just looked; asking the tool again would only cost time.
        ctx.ensure_tools(provider.name)
        state = seen["state"] if "state" in seen else provider.state(env())
        if state is not None and not state.complete:
            # Left half-made by an earlier run that was killed: start again from nothing.
            ctx.progress.note(spec.name, f"removing incomplete cluster {spec.name} left by an earlier run")
            provider.delete(env())
        provider.create(env(), options)
        return f"{provider.name} cluster {spec.name}"

    steps.append(Step("cluster", cluster, done=cluster_done, undo=lambda: provider.delete(env())))

    def write_kubeconfig() -> str:
        provider.write_kubeconfig(env(), kubeconfig)
        return str(kubeconfig)

    steps.append(Step("kubeconfig", write_kubeconfig, undo=lambda: kubeconfig.unlink(missing_ok=True)))

    def ready() -> str:
        return _wait_ready(ctx, env(), provider, kubeconfig, request.timeout)

    steps.append(Step("ready", ready, plan=lambda: f"would wait up to {request.timeout:g}s for every node to be Ready"))

    def finish() -> str:
        inventory.set_status(spec.name, "running", last_step="ready")
        return "running"

    steps.append(Step("running", finish, plan=lambda: "would mark as running"))

    def failed(error: str, last_step: str | None) -> None:
        if inventory.find(spec.name) is not None:
            inventory.set_status(spec.name, "failed", last_error=error, last_step=last_step)

    def progressed(step_name: str) -> None:
        if step_name not in ("record", "running"):
            inventory.set_status(spec.name, "creating", last_step=step_name)

    return execute(
        "create",
        spec.name,
        steps,
        runner=ctx.runner,
        progress=ctx.progress,
        dry_run=ctx.dry_run,
        keep_on_failure=request.keep_on_failure,
        on_step_done=progressed,
        on_failure=failed,
    )


def _describe(env: Environment) -> str:
    ports = ", ".join(f"{p} {v}" for p, v in sorted(env.ports.items()))
    return f"{env.name} ({env.provider}; {ports or 'no host ports'}; subnet {env.subnet or 'none'})"


def _network_step(ctx: WorkflowContext, get_env: Callable[[], Environment], network: str) -> Step:
    def done() -> bool:
        details = docker.inspect_network(ctx.runner, network)
        if details is None:
            return False
        wanted = get_env().subnet
        if wanted is not None and wanted not in details.subnets:
            raise InvalidInput(
                f"Docker network {network} exists with subnet {', '.join(map(str, details.subnets)) or 'none'}, "
                f"not {wanted}",
                hint=f"remove it (`docker network rm {network}`) or unregister and register the environment again",
            )
        return True

    def run() -> str:
        subnet = get_env().subnet
        assert subnet is not None
        docker.create_network(ctx.runner, network, subnet, get_env().name)
        return f"{network} {subnet}"

    def undo() -> None:
        if docker.inspect_network(ctx.runner, network) is not None:
            docker.remove_network(ctx.runner, network)

    return Step("network", run, done=done, undo=undo)


def _wait_ready(ctx: WorkflowContext, env: Environment, provider: Provider, kubeconfig: Path, timeout: float) -> str:
    kubectl = Kubectl(ctx.runner, kubeconfig, provider.context_name(env), timeout=30)
    expected = env.servers + env.agents if provider.name != "external" else 1
    deadline = time.monotonic() + timeout
    last_problem = "no answer yet"
    while True:
        try:
            nodes = kubectl.nodes()
            ready = [n for n in nodes if n.ready]
            if len(ready) >= expected:
                return f"{len(ready)} node(s) Ready"
            last_problem = f"{len(ready)} of {expected} node(s) Ready"
        except KenvError as exc:
            last_problem = exc.one_line()
        if time.monotonic() >= deadline:
            raise KenvError(
                f"{env.name} did not become ready within {timeout:g}s: {last_problem}",
                hint=f"inspect it with `kenv verify {env.name}`, or raise --timeout",
            )
        time.sleep(READY_POLL_SECONDS)
