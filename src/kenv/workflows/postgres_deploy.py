"""`kenv postgres deploy`: the admin Secret, the manifests (GitOps repository or kubectl apply),
then readiness, with the doctor naming the pod's problem when it does not come.

The password. The server takes it once, when initdb makes the data directory; after that the
cluster Secret is what the pod and the backup job read, so the Secret in the cluster is the source
of truth and the local 0600 file (<data>/secrets/<env>/postgres.env) is a copy for people and for
re-creating the Secret in a new cluster:
- neither exists: a new one (secrets.token_urlsafe) goes to both;
- only the Secret: the local copy is written from it;
- only the local copy: the Secret is created from it (a re-created environment);
- both, different: refused, nothing changed — kenv cannot know which one the server was
  initialised with, and guessing wrong locks the platform out.
The password reaches kubectl on stdin only (never argv, where `ps` shows it), is never written to
the rendered directory or the GitOps repository, and is printed only with --show-secret.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

from kenv.errors import ExternalCommandError, KenvError, OperationFailed
from kenv.inventory.files import write_file
from kenv.platform.postgres.manifests import NAME, SECRET_KEY, SECRET_NAME
from kenv.platform.postgres.output import write_directory
from kenv.platform.postgres.params import Params
from kenv.platform.postgres.render import render_files
from kenv.runtime.git import Git
from kenv.runtime.kubectl import Kubectl
from kenv.workflows.context import WorkflowContext

VIAS = ("apply", "gitops")
GITOPS_PATH = "postgres"
ENV_KEY = "POSTGRES_PASSWORD"
KUBECTL_TIMEOUT = 60.0
APPEAR_POLL_SECONDS = 5.0
# The doctor's rules that explain a pod that does not become ready.
READINESS_RULES = (
    "image.not-in-cluster",
    "image.registry-unreachable",
    "image.digest-not-found",
    "image.never-pull",
    "pod.unschedulable",
    "storage.pvc-pending-provisioner",
    "pod.crash-loop",
    "pod.oom-killed",
    "pod.probe-failing",
    "security.run-as-non-root",
    "node.not-ready",
)


@dataclass(frozen=True)
class DeployRequest:
    environment: str
    params: Params
    via: str = "apply"
    timeout: float = 300.0


@dataclass
class DeployResult:
    environment: str
    namespace: str
    via: str
    admin_state: str = ""  # created | kept | restored | copied (what happened to the Secret)
    secret_file: str = ""
    manifests: str = ""  # what happened to the manifests, one line
    rollout: str = ""  # kubectl rollout status's last line
    dry_run: bool = False
    planned: list[list[str]] = field(default_factory=list)
    password: str = field(default="", repr=False)  # for --show-secret only

    def to_dict(self) -> dict[str, object]:
        return {
            "environment": self.environment,
            "namespace": self.namespace,
            "via": self.via,
            "secret": self.admin_state,
            "secret_file": self.secret_file,
            "manifests": self.manifests,
            "rollout": self.rollout,
            "dry_run": self.dry_run,
            "planned": self.planned,
        }


def secret_file(ctx: WorkflowContext, environment: str) -> Path:
    return ctx.settings.data_dir / "secrets" / environment / "postgres.env"


def rendered_dir(ctx: WorkflowContext, environment: str) -> Path:
    """Where `--via apply` keeps what it applied, for people to read."""
    return ctx.settings.data_dir / "platform" / environment / "postgres"


def gitops_repo(ctx: WorkflowContext) -> Path:
    """The work clone of the platform's GitOps repository (kenv.workflows.gitops)."""
    from kenv.workflows.gitops import work_dir

    return work_dir(ctx)


def _read_local(path: Path) -> str | None:
    if not path.exists():
        return None
    for line in path.read_text(encoding="utf-8").splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() == ENV_KEY and value.strip():
            return value.strip()
    raise KenvError(f"{path} holds no {ENV_KEY}=... line", hint="fix it, or delete it to take the cluster's Secret")


def _read_cluster(kubectl: Kubectl, namespace: str) -> str | None:
    text = kubectl.run(
        "get", "secret", SECRET_NAME, "-n", namespace, "--ignore-not-found", "-o", "json", mutating=False
    )
    if not text.strip():
        return None
    try:
        encoded = json.loads(text)["data"][SECRET_KEY]
        return base64.b64decode(encoded).decode("utf-8")
    except (ValueError, KeyError, TypeError) as exc:
        raise KenvError(
            f"Secret {namespace}/{SECRET_NAME} has no readable {SECRET_KEY!r} key",
            hint=f"delete it (`kubectl -n {namespace} delete secret {SECRET_NAME}`) if the server never started",
        ) from exc


def _secret_documents(namespace: str, password: str) -> str:
    """The Namespace (the Secret needs it before anything else is applied) and the Secret, as
    kubectl apply reads them on stdin."""
    from kenv.platform.postgres.manifests import LABELS

    documents = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace, "labels": dict(LABELS)}},
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": SECRET_NAME, "namespace": namespace, "labels": dict(LABELS)},
            "type": "Opaque",
            "data": {SECRET_KEY: base64.b64encode(password.encode()).decode()},
        },
    ]
    return "\n---\n".join(json.dumps(doc) for doc in documents) + "\n"


def ensure_secret(ctx: WorkflowContext, kubectl: Kubectl, request: DeployRequest, result: DeployResult) -> str:
    namespace = request.params.namespace
    path = secret_file(ctx, request.environment)
    result.secret_file = str(path)
    local = _read_local(path)
    in_cluster = _read_cluster(kubectl, namespace)
    if local is not None and in_cluster is not None and local != in_cluster:
        raise OperationFailed(
            f"the local password copy {path} differs from Secret {namespace}/{SECRET_NAME} in {request.environment}:"
            " kenv will not guess which one the server uses; nothing changed",
            hint=f"delete {path} to keep the cluster's (the one the pod reads)",
        )
    password = in_cluster or local or secrets.token_urlsafe(32)
    if in_cluster is None:
        result.admin_state = "restored" if local is not None else "created"
        ctx.progress.note(
            request.environment, f"{'restoring' if local else 'creating'} Secret {namespace}/{SECRET_NAME}"
        )
        kubectl_argv = kubectl.argv("apply", "-f", "-")
        ctx.runner.run(
            kubectl_argv, timeout=KUBECTL_TIMEOUT, mutating=True, input_text=_secret_documents(namespace, password)
        )
    else:
        result.admin_state = "kept"
    if local is None:
        if result.admin_state == "kept":
            result.admin_state = "copied"  # the cluster's, now also kept locally
        if not ctx.dry_run:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.parent.chmod(0o700)
            write_file(path, f"{ENV_KEY}={password}\n", mode=0o600)
    return password


def _apply(ctx: WorkflowContext, kubectl: Kubectl, request: DeployRequest, files: dict[str, str]) -> str:
    target = rendered_dir(ctx, request.environment)
    if ctx.dry_run:
        ctx.runner.run(kubectl.argv("apply", "-k", str(target)), timeout=KUBECTL_TIMEOUT)
        return f"would apply {len(files) - 1} objects from {target}"
    write_directory(files, target, force=True)
    ctx.progress.note(request.environment, f"applying {target}")
    output = kubectl.run("apply", "-k", str(target), mutating=True)
    counts: dict[str, int] = {}
    for line in output.splitlines():
        verb = line.rsplit(" ", 1)[-1]
        counts[verb] = counts.get(verb, 0) + 1
    summary = ", ".join(f"{n} {verb}" for verb, n in sorted(counts.items()))
    return f"applied {target} ({summary})"


def _commit(ctx: WorkflowContext, request: DeployRequest, files: dict[str, str]) -> str:
    from kenv.workflows.gitops import commit_changes

    repo = gitops_repo(ctx)
    params = request.params
    message = (
        f"postgres: PostgreSQL {params.version} for {request.environment} "
        f"({params.profile}, {params.memory}, {params.connections} connections) in {params.namespace}"
    )
    # The whole directory: a file the render no longer makes is deleted, not left behind.
    current = {str(p.relative_to(repo)) for p in (repo / GITOPS_PATH).glob("*") if p.is_file()}
    changes: dict[str, bytes | None] = dict.fromkeys(current - {f"{GITOPS_PATH}/{n}" for n in files})
    changes.update({f"{GITOPS_PATH}/{name}": text.encode() for name, text in files.items()})
    commit = commit_changes(ctx, changes, message)
    if ctx.dry_run:
        return f"would commit {len(files)} files to {repo} at {GITOPS_PATH}/"
    if commit is None:
        return f"unchanged in {repo} at {GITOPS_PATH}/ ({Git(ctx.runner, repo).head()[:12]})"
    return f"committed {commit[:12]} to {repo} at {GITOPS_PATH}/"


def _wait_for_statefulset(ctx: WorkflowContext, kubectl: Kubectl, request: DeployRequest, deadline: float) -> None:
    """With GitOps something else applies the manifests: wait for the StatefulSet to appear."""
    namespace = request.params.namespace
    while True:
        found = kubectl.run(
            "get", "statefulset", NAME, "-n", namespace, "--ignore-not-found", "-o", "name", mutating=False
        )
        if found.strip():
            return
        if time.monotonic() >= deadline:
            raise OperationFailed(
                f"no StatefulSet {namespace}/{NAME} in {request.environment} after {request.timeout:.0f}s: nothing has"
                f" synced the GitOps repository {gitops_repo(ctx)} to it yet",
                hint=f"deploy with --via apply, or point Argo CD at {gitops_repo(ctx)} (path {GITOPS_PATH}/)",
            )
        time.sleep(min(APPEAR_POLL_SECONDS, max(deadline - time.monotonic(), 0.1)))


def _explain_not_ready(ctx: WorkflowContext, request: DeployRequest, reason: str) -> OperationFailed:
    """The doctor's first finding about our namespace, as one line with its fix as the hint."""
    from kenv.workflows.doctor import diagnose_environment

    namespace = request.params.namespace
    prefix = f"PostgreSQL in {namespace} on {request.environment} is not ready within {request.timeout:.0f}s"
    try:
        report = diagnose_environment(ctx, request.environment, rule_ids=READINESS_RULES)
    except KenvError as exc:
        return OperationFailed(f"{prefix} ({reason}); the doctor could not look: {exc.message}")
    ours = [f for f in report.findings if f.object.split("/")[1:2] in ([namespace], [""])]
    causes = [f for f in ours if not f.caused_by] or ours
    if not causes:
        return OperationFailed(
            f"{prefix} ({reason}); the doctor found no cause",
            hint=f"look at `kubectl -n {namespace} describe pod {NAME}-0`",
        )
    first = causes[0]
    commands = "; ".join(first.fix.commands[:2])
    hint = first.fix.summary + (f": {commands}" if commands else "")
    return OperationFailed(f"{prefix}: {first.object}: {first.summary} [{first.rule}]", hint=hint)


def _platform_node_port(ctx: WorkflowContext, request: DeployRequest) -> Params:
    """The platform's PostgreSQL keeps the NodePort HAProxy's fe_postgres relays to (the inventory
    may live there), whoever deploys it again; elsewhere the render's Service stays ClusterIP."""
    import dataclasses

    from kenv.inventory.model import MANAGEMENT_NAME
    from kenv.platform.postgres.manifests import PLATFORM_NODE_PORT
    from kenv.workflows.registrations import bootstrapped

    if request.params.node_port is not None or request.environment != MANAGEMENT_NAME:
        return request.params
    if "postgres" not in bootstrapped(ctx):
        return request.params
    return dataclasses.replace(request.params, node_port=PLATFORM_NODE_PORT)


def wait_ready(ctx: WorkflowContext, kubectl: Kubectl, request: DeployRequest) -> str:
    namespace = request.params.namespace
    deadline = time.monotonic() + request.timeout
    if request.via == "gitops":
        _wait_for_statefulset(ctx, kubectl, request, deadline)
    remaining = max(int(deadline - time.monotonic()), 1)
    ctx.progress.note(request.environment, f"waiting up to {remaining}s for statefulset/{NAME} to be ready")
    argv = kubectl.argv("rollout", "status", f"statefulset/{NAME}", "-n", namespace, f"--timeout={remaining}s")
    result = ctx.runner.run(argv, timeout=remaining + KUBECTL_TIMEOUT, mutating=False, check=False)
    if result.returncode != 0:
        reason = (result.stderr.strip().splitlines() or ["kubectl rollout status failed"])[-1].removeprefix("error: ")
        raise _explain_not_ready(ctx, request, reason)
    return (result.stdout.strip().splitlines() or [""])[-1]


def deploy(ctx: WorkflowContext, request: DeployRequest) -> DeployResult:
    params = _platform_node_port(ctx, request).validate()
    env = ctx.inventory().get(request.environment)
    provider = ctx.provider(env.provider)
    kubeconfig = ctx.kubeconfig_path(env.name)
    if not kubeconfig.exists():
        raise KenvError(f"no kubeconfig for {env.name!r} at {kubeconfig}", hint=f"run `kenv create {env.name}`")
    kubectl = Kubectl(ctx.runner, kubeconfig, provider.context_name(env), timeout=KUBECTL_TIMEOUT)
    result = DeployResult(env.name, params.namespace, request.via, dry_run=ctx.dry_run)
    files = render_files(params)
    try:
        result.password = ensure_secret(ctx, kubectl, request, result)
        if request.via == "gitops":
            result.manifests = _commit(ctx, request, files)
        else:
            result.manifests = _apply(ctx, kubectl, request, files)
        if ctx.dry_run:
            result.rollout = f"would wait up to {request.timeout:.0f}s for statefulset/{NAME}"
        else:
            result.rollout = wait_ready(ctx, kubectl, request)
    except ExternalCommandError as exc:
        raise OperationFailed(f"deploying PostgreSQL to {env.name} failed: {exc.message}", hint=exc.hint) from exc
    result.planned = [list(args) for args in ctx.runner.planned]
    return result
