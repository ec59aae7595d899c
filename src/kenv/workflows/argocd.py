"""Argo CD in the management environment: a pinned install, a generated admin password, the
GitOps repository, Applications, an ApplicationSet by label, and environments registered as
clusters with a least-privilege token (removed on delete).

Every step reads what is there first, so running one again changes nothing, and one killed half
way resumes: the install is a server-side apply (Argo CD's CRDs are too large for the
last-applied annotation of a client-side apply; installation.md applies them with
`--server-side --force-conflicts`), which also leaves the password kenv patched into
`argocd-secret` alone, since the manifest has no data there. The admin password is written to
its 0600 file BEFORE its hash reaches the cluster, so no kill can lose it; a hash already there
that matches the file is left as it is.

The address a registered cluster is reached on, from the devops cluster: its first server node's
address on its own Docker network (the one HAProxy routes to, `routes.node_addresses`) and the
API server's port inside the node (6443; minikube 8443). Registering joins the devops server node
to that network (`docker network connect`) and unregistering takes it off again, so deleting the
environment can remove its network; the host ports kenv publishes are bound to 127.0.0.1 and
out of a container's reach. The certificate is verified against the cluster's CA (the token
Secret's ca.crt) with the name every API server certificate carries (`kubernetes.default`),
never skipped.
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kenv.errors import ExternalCommandError, KenvError, NotFound, OperationFailed
from kenv.inventory.files import write_file
from kenv.inventory.model import MANAGEMENT_NAME, Environment
from kenv.platform.argocd import objects as argo
from kenv.runtime.kubectl import Kubectl
from kenv.workflows.context import WorkflowContext

NAMESPACE = argo.NAMESPACE
KUBECTL_TIMEOUT = 60.0
# The install applies ~60 objects, two CRDs of 0.4 and 1.4 MB among them.
APPLY_TIMEOUT = 300.0
ROLLOUT_TIMEOUT = 300
TOKEN_WAIT_SECONDS = 30.0
TOKEN_POLL_SECONDS = 0.5
PASSWORD_FILE = "argocd-admin"  # noqa: S105 - a file name
log = logging.getLogger("kenv.workflows.argocd")


@dataclass(frozen=True)
class ArgoInfo:
    """Where Argo CD answers and where its admin password is kept (never the password)."""

    version: str
    namespace: str
    node_port: int
    password_file: Path
    url: str
    admin_state: str = ""  # set | kept (what happened to the admin password)

    def to_dict(self) -> dict[str, object]:
        return {
            "version": self.version,
            "namespace": self.namespace,
            "node_port": self.node_port,
            "password_file": str(self.password_file),
            "url": self.url,
            "admin": self.admin_state,
        }


def password_file(ctx: WorkflowContext) -> Path:
    return ctx.settings.data_dir / "secrets" / PASSWORD_FILE


def server_url(ctx: WorkflowContext) -> str:
    """The UI and API through HAProxy's management route."""
    return f"http://argocd.{MANAGEMENT_NAME}.{ctx.settings.base_domain}"


# -- kubectl against one environment ---------------------------------------------------------------


def _kubectl(ctx: WorkflowContext, env: Environment) -> Kubectl:
    kubeconfig = ctx.kubeconfig_path(env.name)
    # A dry run plans against the file the environment will have (a bootstrap's plan comes
    # before devops exists); its mutating calls are only recorded.
    if not kubeconfig.exists() and not ctx.dry_run:
        raise KenvError(
            f"no kubeconfig for {env.name!r} at {kubeconfig}",
            hint=f"run `kenv create {env.name}` (it resumes), then the same command again",
        )
    return Kubectl(ctx.runner, kubeconfig, ctx.provider(env.provider).context_name(env), timeout=KUBECTL_TIMEOUT)


def _devops(ctx: WorkflowContext) -> Environment:
    env = ctx.inventory().find(MANAGEMENT_NAME)
    if env is None:
        raise KenvError(
            f"Argo CD runs in the management environment {MANAGEMENT_NAME!r}, which is not in the inventory",
            hint="run `kenv bootstrap` first",
        )
    return env


def _apply(ctx: WorkflowContext, kubectl: Kubectl, docs: list[dict[str, Any]], *extra: str) -> str:
    """`kubectl apply -f -` with the objects on stdin (tokens never on argv)."""
    result = ctx.runner.run(
        kubectl.argv("apply", *extra, "-f", "-"),
        timeout=KUBECTL_TIMEOUT,
        mutating=True,
        input_text=argo.documents(docs),
    )
    return result.stdout


def _argo_down(exc: ExternalCommandError, doing: str) -> OperationFailed:
    return OperationFailed(
        f"Argo CD in {MANAGEMENT_NAME} did not answer while {doing}: {exc.message}",
        hint=f"start it (`kenv start {MANAGEMENT_NAME}`) or reinstall it (`kenv bootstrap --only argocd`), "
        "then rerun the same command (it resumes)",
    )


def _get_json(kubectl: Kubectl, kind: str, name: str, namespace: str) -> dict[str, Any] | None:
    text = kubectl.run("get", kind, name, "-n", namespace, "--ignore-not-found", "-o", "json")
    if not text.strip():
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise KenvError(f"`kubectl get {kind} {name}` printed something that is not JSON ({exc.msg})") from exc
    return data if isinstance(data, dict) else None


def _secret_value(secret: dict[str, Any] | None, key: str) -> str | None:
    encoded = ((secret or {}).get("data") or {}).get(key)
    if not encoded:
        return None
    try:
        return base64.b64decode(encoded).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None


# -- is it there ---------------------------------------------------------------------------------


def argocd_bootstrapped(ctx: WorkflowContext) -> bool:
    """Argo CD answers in devops: its server Deployment has an available replica (read only)."""
    env = ctx.inventory().find(MANAGEMENT_NAME)
    if env is None or not ctx.kubeconfig_path(env.name).exists():
        return False
    kubectl = _kubectl(ctx, env)
    result = ctx.runner.run(
        kubectl.argv("get", "deployment", argo.SERVER, "-n", NAMESPACE, "--ignore-not-found", "-o", "json"),
        timeout=KUBECTL_TIMEOUT,
        mutating=False,
        check=False,
    )
    if not result.ok or not result.stdout.strip():
        return False
    try:
        status = json.loads(result.stdout).get("status") or {}
    except (json.JSONDecodeError, AttributeError):
        return False
    return int(status.get("availableReplicas") or 0) > 0


# -- install -------------------------------------------------------------------------------------


def _read_password(path: Path) -> str | None:
    if not path.exists():
        return None
    text = path.read_text(encoding="utf-8").strip()
    if not text:
        raise KenvError(f"{path} is empty", hint="delete it: the next install sets a new admin password")
    return text


def _ensure_password_file(ctx: WorkflowContext) -> str:
    path = password_file(ctx)
    password = _read_password(path)
    if password is None:
        password = secrets.token_urlsafe(24)
        if not ctx.dry_run:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            path.parent.chmod(0o700)
            write_file(path, password + "\n", mode=0o600)
    return password


def _hash_matches(password: str, stored_hash: str | None) -> bool:
    import bcrypt

    if not stored_hash:
        return False
    try:
        return bcrypt.checkpw(password.encode(), stored_hash.encode())
    except ValueError:  # not a bcrypt hash
        return False


def _set_admin_password(ctx: WorkflowContext, kubectl: Kubectl) -> str:
    """The generated password as argocd-secret's bcrypt `admin.password` (docs/faq.md), then
    the initial secret deleted; returns "set" or "kept"."""
    import bcrypt

    password = _ensure_password_file(ctx)
    current = None if ctx.dry_run else _get_json(kubectl, "secret", argo.ADMIN_SECRET, NAMESPACE)
    state = "kept"
    if not _hash_matches(password, _secret_value(current, "admin.password")):
        ctx.progress.note(MANAGEMENT_NAME, "setting the Argo CD admin password")
        hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=10)).decode()
        # The hash on stdin would need a file; a bcrypt hash is not the password, argv is fine.
        patch = json.dumps(argo.admin_password_patch(hashed))
        kubectl.run(
            "patch", "secret", argo.ADMIN_SECRET, "-n", NAMESPACE, "--type", "merge", "-p", patch, mutating=True
        )
        state = "set"
    kubectl.run("delete", "secret", argo.INITIAL_SECRET, "-n", NAMESPACE, "--ignore-not-found", mutating=True)
    return state


def _wait_rollout(ctx: WorkflowContext, kubectl: Kubectl) -> None:
    ctx.progress.note(MANAGEMENT_NAME, f"waiting up to {ROLLOUT_TIMEOUT}s for deployment/{argo.SERVER}")
    argv = kubectl.argv(
        "rollout", "status", f"deployment/{argo.SERVER}", "-n", NAMESPACE, f"--timeout={ROLLOUT_TIMEOUT}s"
    )
    result = ctx.runner.run(argv, timeout=ROLLOUT_TIMEOUT + KUBECTL_TIMEOUT, mutating=False, check=False)
    if result.returncode != 0:
        reason = (result.stderr.strip().splitlines() or ["kubectl rollout status failed"])[-1]
        raise OperationFailed(
            f"Argo CD's {argo.SERVER} in {MANAGEMENT_NAME} did not become ready: {reason.removeprefix('error: ')}",
            hint=f"see `kenv doctor {MANAGEMENT_NAME}`, then rerun `kenv bootstrap --only argocd` (it resumes)",
        )


def install_argocd(ctx: WorkflowContext, devops: Environment) -> ArgoInfo:
    """Argo CD VERSION in namespace `argocd` of `devops`: the manifest, plain HTTP behind
    HAProxy, argocd-server on its NodePort, ready, with kenv's admin password. Idempotent."""
    kubectl = _kubectl(ctx, devops)
    try:
        ctx.progress.note(devops.name, f"installing Argo CD {argo.VERSION}")
        namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}
        _apply(ctx, kubectl, [namespace])
        ctx.runner.run(
            kubectl.argv("apply", "--server-side", "--force-conflicts", "-n", NAMESPACE, "-f", "-"),
            timeout=APPLY_TIMEOUT,
            mutating=True,
            input_text=argo.install_manifest(),
        )
        kubectl.run(
            "patch",
            "configmap",
            argo.CMD_PARAMS,
            "-n",
            NAMESPACE,
            "--type",
            "merge",
            "-p",
            json.dumps(argo.server_params_patch()),
            mutating=True,
        )
        kubectl.run(
            "patch",
            "service",
            argo.SERVER,
            "-n",
            NAMESPACE,
            "--type",
            "json",
            "-p",
            json.dumps(argo.server_service_patch()),
            mutating=True,
        )
        # The server reads server.insecure from its environment, at start only: a pod template
        # annotation naming the setting rolls it out once, and again after a kill at any point
        # (a restart decided from the ConfigMap patch's "(no change)" would be lost).
        kubectl.run(
            "patch",
            "deployment",
            argo.SERVER,
            "-n",
            NAMESPACE,
            "--type",
            "merge",
            "-p",
            json.dumps(argo.server_rollout_patch()),
            mutating=True,
        )
        if not ctx.dry_run:
            _wait_rollout(ctx, kubectl)
        state = _set_admin_password(ctx, kubectl)
    except ExternalCommandError as exc:
        raise OperationFailed(
            f"installing Argo CD in {devops.name} failed: {exc.message}",
            hint=exc.hint or "check the devops environment (`kenv verify devops`), then rerun (it resumes)",
        ) from exc
    return ArgoInfo(argo.VERSION, NAMESPACE, argo.NODE_PORT, password_file(ctx), server_url(ctx), state)


# -- repository, Applications, ApplicationSet --------------------------------------------------------


def register_repository(ctx: WorkflowContext, url: str) -> None:
    """The GitOps repository as a `repository` Secret (declarative-setup.md "Repositories")."""
    if not url.strip() or any(c.isspace() for c in url.strip()):
        raise KenvError(f"{url!r} is not a repository URL", hint="set gitops_url to a git URL")
    kubectl = _kubectl(ctx, _devops(ctx))
    try:
        _apply(ctx, kubectl, [argo.repository_secret(url.strip())])
    except ExternalCommandError as exc:
        raise _argo_down(exc, "registering the GitOps repository") from exc


def _repository_url(ctx: WorkflowContext, kubectl: Kubectl) -> str:
    if ctx.dry_run and not argocd_bootstrapped(ctx):
        return "<the GitOps repository>"
    url = _secret_value(_get_json(kubectl, "secret", argo.REPOSITORY_SECRET, NAMESPACE), "url")
    if url is None:
        raise KenvError(
            f"Argo CD in {MANAGEMENT_NAME} has no GitOps repository registered (Secret {argo.REPOSITORY_SECRET})",
            hint="run `kenv bootstrap --only gitops,argocd` (it registers the repository)",
        )
    return url


def ensure_application(ctx: WorkflowContext, name: str, path: str, namespace: str) -> None:
    """An Application syncing `path` of the registered repository into `namespace` of devops."""
    kubectl = _kubectl(ctx, _devops(ctx))
    try:
        url = _repository_url(ctx, kubectl)
        _apply(ctx, kubectl, [argo.application(name, url, path, namespace)])
    except ExternalCommandError as exc:
        raise _argo_down(exc, f"creating the Application {name}") from exc


def ensure_applicationset(ctx: WorkflowContext) -> None:
    """The ApplicationSet deploying `environments/<name>/` to each registered business cluster."""
    kubectl = _kubectl(ctx, _devops(ctx))
    try:
        url = _repository_url(ctx, kubectl)
        _apply(ctx, kubectl, [argo.applicationset(url)])
    except ExternalCommandError as exc:
        raise _argo_down(exc, f"creating the ApplicationSet {argo.APPLICATIONSET}") from exc


# -- clusters ------------------------------------------------------------------------------------


def _wait_token(ctx: WorkflowContext, kubectl: Kubectl, env: Environment) -> tuple[str, str]:
    """The token controller fills the Secret's token and ca.crt shortly after it is made."""
    deadline = time.monotonic() + TOKEN_WAIT_SECONDS
    while True:
        secret = _get_json(kubectl, "secret", argo.TOKEN_SECRET, argo.ACCESS_NAMESPACE)
        data = (secret or {}).get("data") or {}
        token, ca = _secret_value(secret, "token"), data.get("ca.crt")
        if token and ca:
            return token, str(ca)
        if time.monotonic() >= deadline:
            raise OperationFailed(
                f"no token in Secret {argo.ACCESS_NAMESPACE}/{argo.TOKEN_SECRET} of {env.name} after "
                f"{TOKEN_WAIT_SECONDS:.0f}s: the cluster's token controller did not fill it",
                hint=f"check kube-controller-manager in {env.name} (`kenv doctor {env.name}`), then rerun",
            )
        time.sleep(TOKEN_POLL_SECONDS)


def _server(ctx: WorkflowContext, env: Environment) -> str:
    if env.provider not in argo.IN_NODE_API_PORT:
        raise KenvError(
            f"{env.name} is a {env.provider} environment: kenv cannot say where the devops cluster reaches its API",
            hint="register it in Argo CD by hand (`argocd cluster add`)",
        )
    from kenv.workflows.routes import node_addresses  # the address HAProxy routes to, found the same way

    address, why = node_addresses(ctx, [env]).get(env.name, (None, "no cluster found"))
    if address is None and ctx.dry_run:
        address = "<node address>"
    if address is None:
        raise OperationFailed(
            f"{env.name} has no node address on its Docker network: {why}",
            hint=f"start it (`kenv start {env.name}`), then rerun",
        )
    return argo.cluster_server(env.provider, address)


def _joined_network(ctx: WorkflowContext, env: Environment, devops: Environment) -> tuple[str, str, bool] | None:
    """(the environment's Docker network, the devops server node, whether the node joined that
    network); None when there is nothing to join or leave: no network or node known, or the
    environment on devops's own network."""
    from kenv.catalogue import facts_for
    from kenv.runtime.haproxy import inspect_nodes

    state = ctx.provider(env.provider).state(env)
    network = (state.network if state else None) or facts_for(env.provider).network_name(env.name)
    devops_state = ctx.provider(devops.provider).state(devops)
    own = (devops_state.network if devops_state else None) or facts_for(devops.provider).network_name(devops.name)
    node = next((n.name for n in (devops_state.nodes if devops_state else ()) if n.role == "server"), None)
    if network is None or node is None or network == own:
        return None
    doc = inspect_nodes(ctx.runner, [node]).get(node) or {}
    settings = doc.get("NetworkSettings")
    joined = (settings.get("Networks") if isinstance(settings, dict) else None) or {}
    return network, node, network in joined


def _join(ctx: WorkflowContext, env: Environment, devops: Environment) -> None:
    """The devops server node on the environment's network, where Argo CD reaches its API (the
    API's host port is bound to 127.0.0.1, out of a container's reach). Once: a node already on
    it is left alone."""
    found = _joined_network(ctx, env, devops)
    if found is not None and not found[2]:
        network, node, _ = found
        ctx.progress.note(env.name, f"connecting {node} to network {network}")
        ctx.runner.run(["docker", "network", "connect", network, node], timeout=KUBECTL_TIMEOUT)


def _leave(ctx: WorkflowContext, env: Environment, devops: Environment) -> None:
    """The devops node off the environment's network (else `docker network rm` of it fails:
    the network would still have an active endpoint)."""
    found = _joined_network(ctx, env, devops)
    if found is not None and found[2]:
        network, node, _ = found
        ctx.runner.run(["docker", "network", "disconnect", network, node], timeout=KUBECTL_TIMEOUT)


def register_cluster(ctx: WorkflowContext, env: Environment) -> None:
    """In `env`: the kenv-argocd account, its role and its token; in devops: the cluster Secret
    labelled with the environment's name, provider and type. Idempotent."""
    devops = _devops(ctx)
    devops_kubectl = _kubectl(ctx, devops)
    kubectl = _kubectl(ctx, env)
    try:
        server = _server(ctx, env)
        _join(ctx, env, devops)
        ctx.progress.note(env.name, "creating Argo CD's account")
        _apply(ctx, kubectl, argo.access_objects(ctx.settings.argocd_cluster_admin))
        if ctx.dry_run:
            token, ca = "<token>", "<ca>"
        else:
            token, ca = _wait_token(ctx, kubectl, env)
    except ExternalCommandError as exc:
        raise OperationFailed(
            f"creating Argo CD's account in {env.name} failed: {exc.message}",
            hint=exc.hint or f"check {env.name} (`kenv verify {env.name}`), then rerun",
        ) from exc
    try:
        _apply(ctx, devops_kubectl, [argo.cluster_secret(env.name, env.provider, env.role, server, token, ca)])
    except ExternalCommandError as exc:
        raise _argo_down(exc, f"registering {env.name}") from exc


def unregister_cluster(ctx: WorkflowContext, name: str) -> None:
    """The cluster Secret deleted in devops (Argo CD forgets the cluster), then, best effort, the
    account in the environment (gone already when the cluster is)."""
    devops = _devops(ctx)
    devops_kubectl = _kubectl(ctx, devops)
    try:
        devops_kubectl.run(
            "delete", "secret", argo.cluster_secret_name(name), "-n", NAMESPACE, "--ignore-not-found", mutating=True
        )
    except ExternalCommandError as exc:
        raise _argo_down(exc, f"unregistering {name}") from exc
    try:
        env = ctx.inventory().get(name)
    except NotFound:
        return
    try:
        _leave(ctx, env, devops)
    except ExternalCommandError as exc:
        raise OperationFailed(
            f"disconnecting {devops.name} from {name}'s Docker network failed: {exc.message}",
            hint=exc.hint or "rerun the same command (it resumes)",
        ) from exc
    if not ctx.kubeconfig_path(name).exists():
        return
    kubectl = _kubectl(ctx, env)
    for kind, namespaced in (
        ("clusterrolebinding", False),
        ("clusterrole", False),
        ("secret", True),
        ("serviceaccount", True),
    ):
        where = ("-n", argo.ACCESS_NAMESPACE) if namespaced else ()
        try:
            kubectl.run(
                "delete",
                kind,
                argo.ACCESS_NAME if kind != "secret" else argo.TOKEN_SECRET,
                *where,
                "--ignore-not-found",
                mutating=True,
            )
        except ExternalCommandError as exc:  # the cluster is down or gone: nothing left to revoke there
            log.info("could not delete %s %s in %s: %s", kind, argo.ACCESS_NAME, name, exc.message)
            return
