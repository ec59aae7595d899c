"""The "ingress" step of `kenv create` when the platform's HAProxy runs: each environment's
ingress on its `node_port` (HTTP) and `https_node_port(node_port)` (HTTPS), where HAProxy routes
`*.<env>.<base_domain>`.

k3d: k3s' own Traefik, made a NodePort by a HelmChartConfig (platform/ingress/traefik.py).
kind and minikube: ingress-nginx from the manifest kenv ships (platform/ingress/nginx.py says
why that one and not kind's variant or minikube's addon): its images synced into every node by
the images sync code path (component `ingress`), the manifest applied, then the controller's
rollout and the admission webhook's CA waited for. Nothing is undone on failure: the create
rolls the cluster back, or a rerun resumes (the step is skipped when the controller is there).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from kenv.errors import ExternalCommandError, KenvError, OperationFailed
from kenv.inventory.model import Environment
from kenv.platform.ingress import nginx
from kenv.platform.ingress.ports import https_node_port
from kenv.runtime.kubectl import Kubectl
from kenv.workflows.context import WorkflowContext
from kenv.workflows.engine import Step

COMPONENT = "ingress"  # kenv/manifests/ingress/: the image component the sync reads
NGINX_PROVIDERS = frozenset({"kind", "minikube"})
APPLY_TIMEOUT = 120.0
KUBECTL_TIMEOUT = 30.0
ROLLOUT_TIMEOUT = 300  # seconds kubectl waits for the controller (its images are in the nodes already)
WEBHOOK_TIMEOUT = 120.0  # the certgen patch Job, after the rollout
WEBHOOK_INTERVAL = 2.0


def _kubectl(ctx: WorkflowContext, env: Environment) -> Kubectl:
    return Kubectl(
        ctx.runner,
        ctx.kubeconfig_path(env.name),
        ctx.provider(env.provider).context_name(env),
        timeout=KUBECTL_TIMEOUT,
    )


def ingress_step(ctx: WorkflowContext, env: Callable[[], Environment]) -> Step:
    """The step; which ingress is decided when it runs (the record gives the provider)."""

    def done() -> bool:
        return env().provider in NGINX_PROVIDERS and nginx_installed(ctx, env())

    def run() -> str:
        current = env()
        if current.provider == "k3d":
            return install_traefik(ctx, current)
        if current.provider in NGINX_PROVIDERS:
            return install_nginx(ctx, current)
        return f"{current.provider}: kenv installs no ingress controller there; HAProxy routes to {current.node_port}"

    return Step("ingress", run, done=done, plan=lambda: plan(ctx, env()))


def plan(ctx: WorkflowContext, env: Environment) -> str:
    ports = f"NodePorts {env.node_port} (http) and {https_node_port(env.node_port)} (https)"
    if env.provider == "k3d":
        return f"would put {env.name}'s Traefik on {ports} (HelmChartConfig kube-system/traefik)"
    if env.provider not in NGINX_PROVIDERS:
        return f"{env.provider}: kenv installs no ingress controller there"
    from kenv.images.components import component_images

    images = component_images(COMPONENT, env.provider, ctx.node_version(env))
    webhook = nginx.shipped_admission_webhook()
    return (
        f"would sync the {COMPONENT} component's {len(images)} image(s) into every node of {env.name} "
        f"(`kenv images sync {env.name} --component {COMPONENT}`), apply ingress-nginx {nginx.VERSION} on {ports}, "
        f"wait up to {ROLLOUT_TIMEOUT}s for `kubectl rollout status deployment/{nginx.DEPLOYMENT} -n {nginx.NAMESPACE}`"
        + (f" and for the CA in ValidatingWebhookConfiguration {webhook}" if webhook else "")
    )


# -- k3d ----------------------------------------------------------------------------------------------


def install_traefik(ctx: WorkflowContext, env: Environment) -> str:
    """k3s' Traefik made a NodePort on node_port (a HelmChartConfig, applied on stdin)."""
    from kenv.platform.ingress.traefik import helm_chart_config

    kubectl = _kubectl(ctx, env)
    ctx.runner.run(
        kubectl.argv("apply", "-f", "-"),
        timeout=APPLY_TIMEOUT,
        mutating=True,
        input_text=helm_chart_config(env.node_port),
    )
    return (
        f"Traefik on NodePorts {env.node_port} (http) and {https_node_port(env.node_port)} (https) "
        "(HelmChartConfig kube-system/traefik)"
    )


# -- kind and minikube: ingress-nginx -----------------------------------------------------------------


def nginx_installed(ctx: WorkflowContext, env: Environment) -> bool:
    """The controller of this kenv's version is available, its Service on the environment's
    NodePorts, and the admission webhook has its CA. No kubeconfig yet (a create's dry run):
    not installed, without asking kubectl."""
    if not ctx.kubeconfig_path(env.name).exists():
        return False
    return not _problems(_kubectl(ctx, env), env)


def _problems(kubectl: Kubectl, env: Environment) -> list[str]:
    deployment = kubectl.get_json("deployment", nginx.DEPLOYMENT, "-n", nginx.NAMESPACE)
    service = kubectl.get_json("service", nginx.SERVICE, "-n", nginx.NAMESPACE)
    problems = [
        p
        for p in (
            nginx.deployment_problem(deployment, nginx.shipped_controller_image()),
            nginx.service_problem(service, env.node_port),
        )
        if p
    ]
    webhook = nginx.shipped_admission_webhook()
    if webhook and not nginx.webhook_ready(kubectl.get_json("validatingwebhookconfiguration", webhook)):
        problems.append(f"ValidatingWebhookConfiguration {webhook} has no CA yet")
    return problems


def _rerun(env: Environment) -> str:
    return f"then rerun `kenv create {env.name}` (it resumes)"


def install_nginx(ctx: WorkflowContext, env: Environment) -> str:
    kubectl = _kubectl(ctx, env)
    synced = _sync_images(ctx, env)
    ctx.progress.note(env.name, f"applying ingress-nginx {nginx.VERSION}")
    try:
        manifest = nginx.render(env.node_port)
        ctx.runner.run(kubectl.argv("apply", "-f", "-"), timeout=APPLY_TIMEOUT, mutating=True, input_text=manifest)
    except ExternalCommandError as exc:
        raise OperationFailed(
            f"applying ingress-nginx {nginx.VERSION} to {env.name} failed: {exc.message}",
            hint=f"check the cluster (`kenv verify {env.name}`), {_rerun(env)}",
        ) from exc
    ports = f"NodePorts {env.node_port} (http) and {https_node_port(env.node_port)} (https)"
    if ctx.dry_run:
        return f"ingress-nginx {nginx.VERSION} on {ports}"
    _wait_rollout(ctx, kubectl, env)
    _wait_webhook(ctx, kubectl, env)
    problems = _problems(kubectl, env)
    if problems:
        raise OperationFailed(
            f"ingress-nginx in {env.name} is not as applied: {'; '.join(problems)}",
            hint=f"see `kubectl -n {nginx.NAMESPACE} get deployment,service` in {env.name}, {_rerun(env)}",
        )
    return f"ingress-nginx {nginx.VERSION} on {ports}, available ({synced})"


def _sync_images(ctx: WorkflowContext, env: Environment) -> str:
    """The controller's images into every node first (kubelet then never pulls them): the same
    code path as `kenv images sync NAME --component ingress`, under the lock create holds."""
    from kenv.workflows.images import SyncRequest, run_sync

    request = SyncRequest(components=(COMPONENT,), origin=f"--component {COMPONENT}")
    rerun = f"`kenv images sync {env.name} --component {COMPONENT}`"
    try:
        result = run_sync(ctx, env.name, request)
    except KenvError as exc:
        raise OperationFailed(
            f"the ingress-nginx images could not be synced into {env.name}: {exc.message}",
            hint=f"fix that (see {rerun}), {_rerun(env)}",
        ) from exc
    if not result.ok and not ctx.dry_run:
        failed = result.with_state("failed", "unknown")
        shown = "; ".join(f"{image} on {cell.node}: {cell.reason}" for image, cell in failed[:2])
        raise OperationFailed(
            f"the ingress-nginx images are not in every node of {env.name}: {result.import_error or shown}",
            hint=f"fix that (mirrors in [images], or see {rerun}), {_rerun(env)}",
        )
    imported = len({image for image, _ in result.with_state("imported")})
    return f"{len(result.images)} image(s) in every node, {imported} imported"


def _wait_rollout(ctx: WorkflowContext, kubectl: Kubectl, env: Environment) -> None:
    """kubectl's own wait (pkg/cmd/rollout/rollout_status.go): exit 0 once the
    DeploymentStatusViewer says `successfully rolled out`, 1 with `error: timed out waiting for
    the condition` at --timeout or `deployment "…" exceeded its progress deadline`."""
    target = f"deployment/{nginx.DEPLOYMENT}"
    ctx.progress.note(env.name, f"waiting up to {ROLLOUT_TIMEOUT}s for {target}")
    argv = kubectl.argv("rollout", "status", target, "-n", nginx.NAMESPACE, f"--timeout={ROLLOUT_TIMEOUT}s")
    result = ctx.runner.run(argv, timeout=ROLLOUT_TIMEOUT + KUBECTL_TIMEOUT, mutating=False, check=False)
    if result.returncode != 0:
        reason = (result.stderr.strip().splitlines() or ["kubectl rollout status failed"])[-1]
        waiting = (result.stdout.strip().splitlines() or [""])[-1]
        raise OperationFailed(
            f"ingress-nginx's controller in {env.name} did not become ready: {reason.removeprefix('error: ')}"
            + (f" ({waiting.rstrip('.')})" if waiting else ""),
            hint=f"see why with `kenv doctor {env.name}` (its pods in namespace {nginx.NAMESPACE}), {_rerun(env)}",
        )


def _wait_webhook(ctx: WorkflowContext, kubectl: Kubectl, env: Environment) -> None:
    """The admission Jobs' result: the CA in the ValidatingWebhookConfiguration (the Jobs
    themselves are deleted as they complete, `ttlSecondsAfterFinished: 0`)."""
    webhook = nginx.shipped_admission_webhook()
    if webhook is None:
        return
    ctx.progress.note(env.name, f"waiting up to {WEBHOOK_TIMEOUT:.0f}s for the CA of the admission webhook {webhook}")
    deadline = time.monotonic() + WEBHOOK_TIMEOUT
    why = "it has no CA yet"
    while True:
        try:
            if nginx.webhook_ready(kubectl.get_json("validatingwebhookconfiguration", webhook)):
                return
        except ExternalCommandError as exc:
            why = exc.message
        if time.monotonic() >= deadline:
            break
        time.sleep(WEBHOOK_INTERVAL)
    raise OperationFailed(
        f"ingress-nginx's admission webhook {webhook} in {env.name} did not get its CA within "
        f"{WEBHOOK_TIMEOUT:.0f}s ({why}): the {webhook}-patch Job did not finish, and every Ingress is "
        "refused until it does",
        hint=f"see its pods (`kubectl -n {nginx.NAMESPACE} get jobs,pods`), {_rerun(env)}",
    )
