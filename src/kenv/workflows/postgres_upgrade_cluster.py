"""A major upgrade of the platform's PostgreSQL on a cluster, the same steps as on this machine
with a pod for each instance: a new StatefulSet `postgres-<major>` beside the old one, the old
pod's pg_dumpall streamed into the new pod's psql (`kubectl exec old -- pg_dumpall | kubectl exec
-i new -- psql`, never on this machine's disk), every table's exact count and every sequence
compared through both pods (the local path's code), and the client Service's selector moved to
the new pod only when all match. The old StatefulSet and its claim stay until `--cleanup`.

The dump is taken by the old server's own pg_dumpall, over its socket (pg_hba's peer line): the
new image's programs would have to reach the old pod over the network with the password.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from kenv.errors import InvalidInput, KenvError, OperationFailed
from kenv.platform.postgres import upgrade as rules
from kenv.platform.postgres import upgrade_cluster as plan
from kenv.platform.postgres.executor import Executor, Target, executor_for
from kenv.runtime.kubectl import Kubectl
from kenv.runtime.pipe import pipe
from kenv.workflows.context import WorkflowContext
from kenv.workflows.postgres_upgrade import (
    DUMP_TIMEOUT,
    UpgradeMismatch,
    UpgradeResult,
    count_rows,
    read_cluster,
)

CONTAINER = "postgres"
SUPERUSER = "postgres"  # the image's superuser; peer on the pod's socket


def _kubectl(ctx: WorkflowContext, environment: str) -> Kubectl:
    env = ctx.inventory().get(environment)
    kubeconfig = ctx.kubeconfig_path(env.name)
    if not kubeconfig.exists():
        raise KenvError(f"no kubeconfig for {env.name!r} at {kubeconfig}", hint=f"run `kenv create {env.name}`")
    return Kubectl(ctx.runner, kubeconfig, ctx.provider(env.provider).context_name(env), timeout=60.0)


def _pod(ctx: WorkflowContext, kubectl: Kubectl, environment: str, namespace: str, statefulset: str) -> Executor:
    target = Target(
        kind="pod",
        env=environment,
        namespace=namespace,
        pod=f"{statefulset}-0",
        container=CONTAINER,
        kubeconfig=kubectl.kubeconfig,
    )
    return executor_for(target, ctx.runner)


def _answering(executor: Executor, deadline: float) -> tuple[int, int]:
    """The server's version once it answers (the image's first start runs initdb first)."""
    last = "no answer"
    while True:
        try:
            return executor.version()
        except KenvError as exc:
            last = exc.message
        if time.monotonic() > deadline:
            raise OperationFailed(f"{executor.target.describe()} did not answer in time: {last}")
        time.sleep(1)


def upgrade_major_cluster(
    ctx: WorkflowContext,
    environment: str,
    files: dict[str, str],
    *,
    current_image: str,
    new_image: str,
    major: int,
    result: UpgradeResult,
    timeout: float,
) -> UpgradeResult:
    import yaml

    from kenv.platform.postgres.manifests import NAME
    from kenv.platform.postgres.yaml_text import dump

    started = time.monotonic()
    deadline = started + timeout
    namespace = rules.namespace_of(files)
    deployed = {name: yaml.safe_load(text) for name, text in files.items() if name.endswith(".yaml")}
    if plan.STATEFULSET_FILE not in deployed:
        raise InvalidInput(f"the deployed manifests hold no {plan.STATEFULSET_FILE}", hint="deploy first")
    old = str(deployed[plan.STATEFULSET_FILE]["metadata"]["name"])
    name, objects = plan.new_instance(deployed, major=major, current_image=current_image, new_image=new_image)
    kubectl = _kubectl(ctx, environment)
    runner = ctx.runner
    found = kubectl.run("get", "statefulset", name, "-n", namespace, "--ignore-not-found", "-o", "name")
    if found.strip():
        raise InvalidInput(
            f"statefulset {name} already exists in {namespace}: an earlier upgrade to {major} is there",
            hint=f"switch back or remove it first (kubectl delete statefulset {name} -n {namespace})",
        )
    old_exec = _pod(ctx, kubectl, environment, namespace, old)
    new_exec = _pod(ctx, kubectl, environment, namespace, name)
    old_version = old_exec.version()
    settings, databases = read_cluster(old_exec)
    result.old_url = f"pod {namespace}/{old}-0"
    result.new_url = f"pod {namespace}/{name}-0"
    result.from_version = f"{old_version[0]}.{old_version[1]}"
    result.method = "dump"
    result.databases = list(databases)

    ctx.progress.note(environment, f"applying statefulset {name} ({new_image})")
    documents = "---\n".join(str(dump(o)) for o in objects)
    runner.run(kubectl.argv("apply", "-f", "-"), input_text=documents, timeout=120, mutating=True)
    ctx.progress.note(environment, f"waiting for statefulset/{name}")
    rolled = runner.run(
        kubectl.argv("rollout", "status", f"statefulset/{name}", "-n", namespace, f"--timeout={int(timeout)}s"),
        timeout=timeout + 30,
        check=False,
        mutating=False,
    )
    if not rolled.ok:
        reason = (rolled.stderr.strip().splitlines() or ["kubectl rollout status failed"])[-1]
        raise OperationFailed(
            f"statefulset {name} did not roll out: {reason.removeprefix('error: ')}; nothing switched",
            hint=f"kenv doctor {environment}; the old instance {old} is untouched",
        )
    new_version = _answering(new_exec, deadline)
    if new_version[0] != major:
        raise OperationFailed(f"pod {name}-0 runs PostgreSQL {new_version[0]}, not {major}; nothing switched")
    result.to_version = f"{new_version[0]}.{new_version[1]}"

    ctx.progress.note(environment, f"pg_dumpall in {old}-0 | psql in {name}-0")
    _transfer(ctx, old_exec, new_exec, settings.user)
    ctx.progress.note(environment, "comparing row counts in both pods")
    _compare(old_exec, new_exec, databases, result)
    if result.mismatches:
        raise UpgradeMismatch(
            rules.mismatch_message(result.mismatches) + "; nothing switched",
            result.mismatches,
            hint=f"service {NAME} still selects {old}; statefulset {name} is kept for inspection",
        )
    ctx.progress.note(environment, f"switching service {NAME} to {name}")
    kubectl.run(
        "patch", "service", NAME, "-n", namespace, "--type", "merge", "-p", plan.switch_patch(name), mutating=True
    )
    result.switched = True
    result.seconds = time.monotonic() - started
    result.detail = (
        f"{result.tables} tables, {result.rows} rows and {result.sequences} sequences match; service {NAME} now "
        f"selects {name} (archiving off there until it has an archive of its own); {old} kept until --cleanup"
    )
    return result


def _transfer(ctx: WorkflowContext, old_exec: Executor, new_exec: Executor, superuser: str) -> None:
    old, new = old_exec.target.pod, new_exec.target.pod
    dumped, replayed = pipe(
        ctx.runner,
        old_exec.argv("pg_dumpall", ["-U", SUPERUSER]),
        # No ON_ERROR_STOP: the script's CREATE ROLE of the superuser the image made fails by
        # design; restore_errors() judges every other error.
        new_exec.argv("psql", ["-X", "-q", "-U", SUPERUSER, "-d", "postgres"]),
        timeout=DUMP_TIMEOUT,
    )
    if not dumped.ok:
        tail = (dumped.stderr.strip().splitlines() or ["no output"])[-1]
        raise OperationFailed(f"pg_dumpall in {old} failed: {tail}; nothing switched")
    errors = rules.restore_errors(replayed.stderr, superuser)
    if not replayed.ok or errors:
        first = errors[0] if errors else (replayed.stderr.strip().splitlines() or ["psql failed"])[-1]
        raise OperationFailed(
            f"replaying the dump into {new} failed: {first}; nothing switched",
            hint="the new StatefulSet is kept for inspection; remove it before trying again",
        )


def _compare(old_exec: Executor, new_exec: Executor, databases: list[str], result: UpgradeResult) -> None:
    """Exact counts of every table and the position of every sequence, through both pods."""
    old_tables, old_sequences = count_rows(old_exec, databases)
    new_tables, new_sequences = count_rows(new_exec, databases)
    result.mismatches = rules.compare_counts(old_tables, new_tables) + rules.compare_counts(
        old_sequences, new_sequences, what="sequence"
    )
    result.tables = len(old_tables)
    result.rows = rules.count_total(old_tables.values())
    result.sequences = len(old_sequences)


@dataclass
class ClusterCleanup:
    namespace: str
    current: str
    removed: str | None
    volumes_removed: list[str] = field(default_factory=list)
    dry_run: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "namespace": self.namespace,
            "current": self.current,
            "removed": self.removed,
            "volumes_removed": self.volumes_removed,
            "dry_run": self.dry_run,
        }


def cleanup_cluster(
    ctx: WorkflowContext, environment: str, namespace: str, *, delete_volumes: bool = False
) -> ClusterCleanup:
    """Delete the StatefulSet an upgrade replaced: the one the client Service's current instance
    names in its kenv.io/upgraded-from annotation, never the current one; its claim only with
    `delete_volumes`."""
    from kenv.platform.postgres.manifests import NAME

    kubectl = _kubectl(ctx, environment)
    service = kubectl.get_json("service", NAME, "-n", namespace)
    current = str((service.get("spec") or {}).get("selector", {}).get(plan.INSTANCE_LABEL) or "")
    if not current:
        raise InvalidInput(f"service {NAME} in {namespace} selects no instance", hint="deploy first")
    sts = kubectl.get_json("statefulset", current, "-n", namespace)
    old = str(((sts.get("metadata") or {}).get("annotations") or {}).get(plan.UPGRADED_FROM) or "")
    if not old or old == current:
        raise InvalidInput(
            f"{current} in {namespace} is not the result of an upgrade: nothing to clean up",
            hint="--cleanup removes the old StatefulSet after `kenv postgres upgrade --to MAJOR --env ENV`",
        )
    report = ClusterCleanup(namespace, current, old, dry_run=ctx.dry_run)
    ctx.progress.note(environment, f"deleting statefulset {old} ({current} is current)")
    kubectl.run("delete", "statefulset", old, "-n", namespace, "--ignore-not-found", mutating=True)
    if delete_volumes:
        claim = f"data-{old}-0"
        kubectl.run("delete", "pvc", claim, "-n", namespace, "--ignore-not-found", mutating=True)
        report.volumes_removed.append(claim)
    return report
