"""kenv create: record the intent, then network, cluster, kubeconfig and readiness, then record
the outcome. Rerunning after a failure or a kill resumes: every step sees what is already there."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path

from kenv.catalogue import CATALOGUE, facts_for
from kenv.errors import ExternalCommandError, InvalidInput, KenvError
from kenv.inventory.model import PORT_PURPOSES, Environment
from kenv.inventory.validation import Auto, EnvironmentSpec, check_spec
from kenv.providers.base import ClusterState, CreateOptions, NodeResources, Provider
from kenv.runtime.host import LiveHostProbe
from kenv.runtime.kubectl import Kubectl
from kenv.workflows.context import WorkflowContext
from kenv.workflows.engine import Step, WorkflowResult, execute
from kenv.workflows.images import SyncRequest
from kenv.workflows.images_mirrors import check_supply
from kenv.workflows.registrations import create_steps

READY_POLL_SECONDS = 2.0


@dataclass(frozen=True)
class CreateRequest:
    spec: EnvironmentSpec
    explicit: frozenset[str] = field(default_factory=frozenset)  # values the user gave on purpose
    timeout: float = 300.0
    keep_on_failure: bool = False
    resources: NodeResources = field(default_factory=NodeResources)
    # The record was made by the caller's plan in this same rolled-back transaction (apply
    # --dry-run allocates every entry at once), so the dry run says "would record", not "would mark".
    planned_record: bool = False
    # --images-from / --component: synced into the nodes once the cluster is up (create_images).
    images: SyncRequest | None = None


def labels_text(labels: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items())) or "(none)"


def update_labels(ctx: WorkflowContext, env: Environment, labels: dict[str, str]) -> Environment:
    """Labels are kenv's own metadata: they change in place, no cluster is touched."""
    before = labels_text(env.labels)
    if ctx.dry_run:
        ctx.progress.note(env.name, f"would change labels {before} -> {labels_text(labels)}")
        return dataclasses.replace(env, labels=dict(labels))
    updated = ctx.inventory().update_labels(env.name, labels)
    ctx.progress.note(env.name, f"changed labels {before} -> {labels_text(labels)}")
    return updated


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
            hint=f"drop those flags to use the record; to start over, `kenv delete {env.name}` "
            f"(or `kenv unregister {env.name}` to forget a record whose cluster is gone)",
        )


# A record in one of these states whose last completed step came before "cluster" was left by a
# create that was killed or failed while the tool was making the cluster: whatever cluster exists
# under that name is half-made (kind's nodes may all run before kubeadm has finished), however
# complete it looks.
_UNFINISHED_STATUSES = ("creating", "failed")
_STEPS_BEFORE_CLUSTER = (None, "record", "network")


def _left_half_made(existing: Environment | None) -> bool:
    return (
        existing is not None and existing.status in _UNFINISHED_STATUSES and existing.last_step in _STEPS_BEFORE_CLUSTER
    )


def _check_node_limits(ctx: WorkflowContext, provider: str, request: CreateRequest) -> None:
    """A limit the provider cannot set is refused when asked for on the command line, and said
    (not silently dropped) when it comes from config, which applies to every provider."""
    facts = facts_for(provider)
    asked = {"memory": request.resources.memory, "cpus": request.resources.cpus}
    for limit, value in asked.items():
        if value is None or limit in facts.node_limits:
            continue
        if limit in request.explicit:
            raise InvalidInput(
                f"{provider} cannot limit {limit} per node (--{limit} {value})",
                hint=f"drop --{limit}; {', '.join(n for n, f in CATALOGUE.items() if limit in f.node_limits)} can",
            )
        ctx.progress.note(
            request.spec.name, f"node_{limit} = {value} from config is not applied: {provider} cannot set it"
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
        if "labels" in request.explicit and dict(spec.labels) != existing.labels:
            existing = update_labels(ctx, existing, dict(spec.labels))
    else:
        check_spec(spec)  # bad input is refused (exit 2) before any tool is asked or anything written
    provider_name = existing.provider if existing else spec.provider
    _check_node_limits(ctx, provider_name, request)
    # Before anything is recorded: a missing or untested tool leaves nothing to clean up.
    ctx.ensure_tools(provider_name)
    if existing is not None and existing.status == "running" and not ctx.dry_run:
        state = ctx.provider(existing.provider).state(existing)
        if state is not None and state.complete(existing.servers, existing.agents):
            result = WorkflowResult("create", spec.name, ctx.dry_run)
            ctx.progress.note(spec.name, "already running")
            if request.images is not None:
                _images_outcome(result, request.images, _sync_images(ctx, existing, request.images))
            return result
    provider: Provider = ctx.provider(provider_name)
    holder: dict[str, Environment] = {}
    if existing is not None:
        holder["env"] = existing
    kubeconfig = ctx.kubeconfig_path(spec.name)
    options = CreateOptions(
        kubeconfig=kubeconfig,
        timeout=request.timeout,
        resources=request.resources,
        images=ctx.settings.images,
        # devops: HAProxy reaches its services by fixed hosts, no default ingress there.
        disable_default_ingress=(existing.role if existing else spec.role) == "management",
    )

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
        if request.planned_record:
            return "would record " + _describe(env())
        return "would mark as creating: " + _describe(env())

    steps = [Step("record", record, plan=plan_record)]

    seen: dict[str, ClusterState | None] = {}
    half_made = _left_half_made(existing)

    def cluster_done() -> bool:
        seen["state"] = state = provider.state(env())
        return state is not None and not half_made and state.complete(env().servers, env().agents)

    def cluster() -> str:
        # The done-check just looked; asking the tool again would only cost time.
        state = seen["state"] if "state" in seen else provider.state(env())
        if state is not None:
            why = "an earlier create did not finish" if half_made else state.shortfall(env().servers, env().agents)
            ctx.progress.note(spec.name, f"removing the half-made cluster {spec.name} ({why}) and making it again")
            provider.delete(env())
        # Mirrors and proxies from [images]: what the provider gets, and which do not answer.
        check_supply(ctx, env())
        # kind picks its node image by its own release: say which (or that kind chooses).
        image_note = getattr(provider, "image_note", None)
        if callable(image_note):
            ctx.progress.note(spec.name, image_note(env()))
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
    # HAProxy, Portainer, Argo CD, GitOps: only for the components bootstrap made (none: no step).
    registrations = create_steps(ctx, env, spec.name)
    steps += registrations

    images_error: list[str] = []
    if request.images is not None:
        sync_request = request.images

        def images() -> str:
            error = _sync_images(ctx, env(), sync_request)
            if error:
                images_error.append(error)
            return _images_summary(sync_request, error)

        steps.append(Step("images", images, plan=lambda: _images_plan(env(), ctx.node_version(env()), sync_request)))

    def failed(error: str, last_step: str | None) -> None:
        if inventory.find(spec.name) is not None:
            inventory.set_status(spec.name, "failed", last_error=error, last_step=last_step)

    def progressed(step_name: str) -> None:
        # "images" and the registrations come after "running": the environment stays running.
        if step_name not in ("record", "running", "images", *(s.name for s in registrations)):
            inventory.set_status(spec.name, "creating", last_step=step_name)

    result = execute(
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
    if request.images is not None and result.ok and images_error:
        _images_outcome(result, request.images, images_error[0])
    return result


# -- --images-from / --component: the same sync as `kenv images sync`, once the cluster is up ---------


def _sync_images(ctx: WorkflowContext, env: Environment, request: SyncRequest) -> str | None:
    """Run `kenv images sync` (the create already holds the environment's lock). None when every
    image is in every node, else why not, in one line. Never raises: the environment is created
    and recorded whatever happens to its images."""
    from kenv.workflows.images import run_sync

    try:
        result = run_sync(ctx, env.name, request)
    except KenvError as exc:
        return exc.one_line()
    if result.ok:
        return None
    failed = result.with_state("failed", "unknown")
    shown = "; ".join(f"{image} on {cell.node}: {cell.reason}" for image, cell in failed[:3])
    more = f" (+{len(failed) - 3} more)" if len(failed) > 3 else ""
    return (result.import_error or shown) + more


def _images_summary(request: SyncRequest, error: str | None) -> str:
    result = request.result
    if result is None:
        return f"images not synced: {error}"
    imported = len({image for image, _ in result.with_state("imported")})
    present = len(result.images) - len({image for image, _ in result.with_state("imported", "failed", "missing")})
    failed = len({image for image, _ in result.with_state("failed", "unknown")})
    return f"{len(result.images)} image(s): {imported} imported, {present} already present, {failed} failed"


def _images_plan(env: Environment, node_version: str | None, request: SyncRequest) -> str:
    count = len(request.refs)
    if request.components:
        from kenv.images.components import component_images

        for component in request.components:
            count += len(component_images(component, env.provider, node_version))
    named = f" ({request.origin})" if request.origin else ""
    return (
        f"would sync {count} image(s){named} into every node once it is ready: pull what the host lacks, "
        "ONE import call for what the nodes lack, pin, verify"
    )


def _images_outcome(result: WorkflowResult, request: SyncRequest, error: str | None) -> None:
    """A failed sync fails the create (exit 1) and leaves the environment created and recorded."""
    if error is None:
        return
    rerun = f"kenv images sync {result.environment}" + (f" {request.origin}" if request.origin else "")
    result.fail(
        f"the environment is created and running, but its images are not all in: {error}; fix that, then run `{rerun}`",
        exit_code=1,
    )


def _describe(env: Environment) -> str:
    ports = ", ".join(f"{p} {v}" for p, v in sorted(env.ports.items()))
    return f"{env.name} ({env.provider}; {ports or 'no host ports'}; subnet {env.subnet or 'none'})"


def _wait_ready(ctx: WorkflowContext, env: Environment, provider: Provider, kubeconfig: Path, timeout: float) -> str:
    kubectl = Kubectl(ctx.runner, kubeconfig, provider.context_name(env), timeout=30)
    expected = env.servers + env.agents if facts_for(env.provider).managed else 1
    deadline = time.monotonic() + timeout
    last_problem = "no answer yet"
    while True:
        try:
            nodes = kubectl.nodes()
            ready = [n for n in nodes if n.ready]
            if len(ready) >= expected:
                return f"{len(ready)} node(s) Ready"
            last_problem = f"{len(ready)} of {expected} node(s) Ready"
        except ExternalCommandError as exc:
            # kubectl's own verdict, not the command line and client-go's repeated log lines.
            last_problem = (exc.stderr_tail.split(" | ")[-1] if exc.stderr_tail else "") or exc.one_line()
        except KenvError as exc:
            last_problem = exc.one_line()
        if time.monotonic() >= deadline:
            raise KenvError(
                f"{env.name} did not become ready within {timeout:g}s: {last_problem}",
                hint=f"inspect it with `kenv verify {env.name}`, or raise --timeout",
            )
        time.sleep(READY_POLL_SECONDS)
