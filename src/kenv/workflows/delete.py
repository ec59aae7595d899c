"""kenv delete: mark the intent, remove the cluster, its network and kubeconfig, then the record.
Deleting what is already gone succeeds; a rerun after a kill finishes the job."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

from kenv.catalogue import facts_for
from kenv.errors import KenvError
from kenv.inventory.model import Environment
from kenv.runtime import docker
from kenv.workflows.context import WorkflowContext
from kenv.workflows.engine import Progress, Step, StepOutcome, WorkflowResult, execute
from kenv.workflows.registrations import delete_route_steps, delete_steps

SKIPPED_DETAIL = "already gone"


@dataclass(frozen=True)
class DeleteRequest:
    name: str
    keep_record: bool = False
    provider: str | None = None  # for a cluster with no record


def delete_environment(ctx: WorkflowContext, request: DeleteRequest) -> WorkflowResult:
    with ctx.environment_lock(request.name):
        result = _delete(ctx, request)
        if (result.ok and not ctx.dry_run) or ctx.inventory().find(request.name) is None:
            # Nothing left to guard. Unlinked while still held, so no other kenv holds it meanwhile;
            # the next one to lock the name creates a fresh file.
            with contextlib.suppress(FileNotFoundError):
                lock_path(ctx, request.name).unlink()
        return result


def lock_path(ctx: WorkflowContext, name: str) -> Path:
    return ctx.settings.data_dir / "locks" / f"{name}.lock"


class _GoneProgress:
    """A deleted thing that is not there is "already gone", not "already there"."""

    def __init__(self, inner: Progress) -> None:
        self.inner = inner

    def step_started(self, environment: str, index: int, total: int, step: str) -> None:
        self.inner.step_started(environment, index, total, step)

    def step_finished(self, environment: str, index: int, total: int, outcome: StepOutcome) -> None:
        if outcome.result == "skipped":
            outcome.detail = SKIPPED_DETAIL  # the result's steps say the same as the progress
        self.inner.step_finished(environment, index, total, outcome)

    def note(self, environment: str, text: str) -> None:
        self.inner.note(environment, text)


def _delete(ctx: WorkflowContext, request: DeleteRequest) -> WorkflowResult:
    name = request.name
    inventory = ctx.inventory()
    env = inventory.find(name)
    if env is None:
        ctx.progress.note(name, "not in the inventory")
        if request.provider is None:
            return WorkflowResult("delete", name, ctx.dry_run)
    provider_name = env.provider if env else request.provider
    assert provider_name is not None
    # Before the record is touched: with no engine, the tools report a cluster as gone.
    ctx.ensure_tools(provider_name)
    provider = ctx.provider(provider_name)
    target = env or _placeholder(name, provider_name)
    kubeconfig = ctx.kubeconfig_path(name)

    def mark() -> str:
        if env is None:
            return "no record"
        inventory.set_status(name, "deleting", desired_state="absent", last_step="mark")
        return "deleting"

    steps = [Step("mark", mark, plan=lambda: "would mark as deleting" if env else "no record")]
    # GitOps, Argo CD, Portainer: only for the components bootstrap made (none: no step).
    steps += delete_steps(ctx, name)

    def cluster_gone() -> bool:
        return provider.state(target) is None

    def remove_cluster() -> str:
        provider.delete(target)
        # Checked, not assumed: k3d answers "nothing to delete" and exit 0 when it cannot reach
        # the Docker engine, and the record must not go while the cluster stays.
        if facts_for(provider_name).managed and not ctx.dry_run and provider.state(target) is not None:
            raise KenvError(
                f"{provider_name} cluster {name} is still there after `delete`",
                hint=f"check it with `{facts_for(provider_name).tool or 'kubectl'}` and run `kenv delete {name}` again",
            )
        return f"{provider_name} cluster {name}"

    steps.append(Step("cluster", remove_cluster, done=cluster_gone))

    network = facts_for(provider_name).network_name(name)
    if network and target.subnet is not None:
        # Earlier kenv versions made the k3d network themselves (labelled with the environment);
        # k3d leaves a network it did not make, so kenv removes its own. Environments without a
        # subnet never had one, and need no Docker engine here.
        steps.append(_legacy_network_step(ctx, network, name))

    def remove_kubeconfig() -> str:
        kubeconfig.unlink(missing_ok=True)
        return str(kubeconfig)

    steps.append(
        Step(
            "kubeconfig",
            remove_kubeconfig,
            done=lambda: not kubeconfig.exists(),
            plan=lambda: f"would remove {kubeconfig}",
        )
    )

    # kind is given a config file at create; it means nothing once the cluster is gone.
    kind_config = ctx.settings.data_dir / "kind" / f"{name}.yaml"

    def remove_kind_config() -> str:
        kind_config.unlink(missing_ok=True)
        return str(kind_config)

    if provider_name == "kind" or kind_config.exists():
        steps.append(
            Step(
                "kind-config",
                remove_kind_config,
                done=lambda: not kind_config.exists(),
                plan=lambda: f"would remove {kind_config}",
            )
        )

    def forget() -> str:
        if env is None:
            return "no record"
        if request.keep_record:
            inventory.set_status(name, "absent", last_step="forget")
            return "record kept (status absent)"
        inventory.unregister(name)
        return "record removed"

    steps.append(
        Step(
            "record",
            forget,
            plan=lambda: (
                "would keep the record as absent"
                if request.keep_record
                else "would remove the record and free its ports and subnet"
            ),
        )
    )

    # HAProxy's routes are rendered from the inventory: once the record is gone.
    steps += delete_route_steps(ctx, name)

    def failed(error: str, last_step: str | None) -> None:
        if inventory.find(name) is not None:
            inventory.set_status(name, "failed", last_error=error, last_step=last_step)

    def progressed(step_name: str) -> None:
        if env is not None and step_name in ("cluster", "network", "kubeconfig"):
            inventory.set_status(name, "deleting", last_step=step_name)

    # Deleting never rolls back: half-deleted is resumed by running delete again.
    return execute(
        "delete",
        name,
        steps,
        runner=ctx.runner,
        progress=_GoneProgress(ctx.progress),
        dry_run=ctx.dry_run,
        keep_on_failure=True,
        on_step_done=progressed,
        on_failure=failed,
    )


def _legacy_network_step(ctx: WorkflowContext, network: str, name: str) -> Step:
    def gone() -> bool:
        details = docker.inspect_network(ctx.runner, network)
        # Only a network kenv made; one the tool made goes with the cluster.
        return details is None or details.labels.get(docker.KENV_LABEL) != name

    def remove() -> str:
        docker.remove_network(ctx.runner, network)
        return network

    return Step("network", remove, done=gone)


def _placeholder(name: str, provider: str) -> Environment:
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    return Environment(
        name=name,
        provider=provider,
        role="business",
        subnet=None,
        ports={},
        node_port=30080,
        servers=1,
        agents=0,
        k8s_version=None,
        labels={},
        register_portainer=False,
        haproxy_route=False,
        desired_state="absent",
        status="unknown",
        last_error=None,
        last_step=None,
        created_at=now,
        updated_at=now,
    )
