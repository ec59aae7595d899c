"""kenv bootstrap: the platform, as ordered steps that each check what is already there.

network -> haproxy -> portainer -> devops -> storage -> argocd -> gitops -> postgres -> inventory.

- network: one Docker network (`platform_network`, default `kenv`, its subnet chosen by Docker
  outside kenv's pool, which the allocator already avoids) labelled `io.kenv.platform=<name>`
  (the platform's name: teardown removes what carries it, and only that).
  HAProxy and Portainer containers run on it; the devops cluster keeps the network k3d makes for
  it and its server node is connected to the shared one afterwards (`docker network connect`), so
  each node has one address per network and routes pick the environment's own. A network with
  that name that kenv did not make is refused, never adopted or removed.
- devops: the management environment, created by the create workflow like any other (its ports
  and subnet allocated in the inventory, role `management`).
- storage: k3s ships the local-path provisioner; its helper image is synced into the nodes (the
  `kenv images sync` engine), so volumes bind with no registry.
- postgres: the manifests committed to the GitOps repository by `kenv postgres deploy --via
  gitops` (its Secret made by that workflow, never committed), then an Argo CD Application. Its
  Service is also a NodePort, which HAProxy's fe_postgres relays to.
- inventory: with `--move-inventory`, the inventory copied into that PostgreSQL and `db_url`
  pointed there (kenv.workflows.inventory_move); without it, the command is printed, nothing done.

Each finished step is recorded in `<data>/platform.json` (atomically): a rerun after a failure or
a kill skips what is done, and create/delete read it to know which registrations to run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from kenv.errors import InvalidInput, KenvError
from kenv.inventory.model import MANAGEMENT_NAME, Environment
from kenv.runtime import docker
from kenv.runtime.process import parse_json
from kenv.workflows.context import WorkflowContext
from kenv.workflows.engine import Step, WorkflowResult, execute
from kenv.workflows.registrations import NotAvailable, bootstrapped, call, mark_done, read_state, routes_summary

COMPONENTS = ("network", "haproxy", "portainer", "devops", "storage", "argocd", "gitops", "postgres", "inventory")
PLATFORM_LABEL = "io.kenv.platform"
# k3s' local-path provisioner runs this image for each volume it makes or removes (k3s
# manifests/local-storage.yaml, helperPod).
LOCAL_PATH_HELPER = "rancher/mirrored-library-busybox:1.36.1"
POSTGRES_APP = ("postgres", "postgres", "infra")  # Application name, repository path, namespace
NETWORK_TIMEOUT = 60.0
# Steps that say something every time and leave nothing to record.
NEVER_DONE = frozenset({"inventory"})


def select(only: Iterable[str] = (), skip: Iterable[str] = ()) -> tuple[str, ...]:
    """The components to run, in their order; unknown names are refused (exit 2)."""
    only, skip = tuple(only), tuple(skip)
    unknown = sorted({c for c in (*only, *skip) if c not in COMPONENTS})
    if unknown:
        raise InvalidInput(
            f"unknown platform component(s): {', '.join(unknown)}", hint=f"use some of {', '.join(COMPONENTS)}"
        )
    if only and skip and set(only) & set(skip):
        raise InvalidInput(
            f"{', '.join(sorted(set(only) & set(skip)))} both in --only and --skip", hint="name each once"
        )
    chosen = tuple(c for c in COMPONENTS if (not only or c in only) and c not in skip)
    if not chosen:
        raise InvalidInput("no platform component left to bootstrap", hint="loosen --only/--skip")
    return chosen


def split_names(text: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (text or "").split(",") if part.strip())


@dataclass(frozen=True)
class BootstrapRequest:
    components: tuple[str, ...] = COMPONENTS
    explicit: bool = False  # --only: an unavailable component fails instead of being left out
    timeout: float = 300.0
    move_inventory: bool = False  # the inventory step moves the inventory instead of printing how


@dataclass
class BootstrapReport:
    """The workflow's steps, and what people need afterwards (never a secret)."""

    result: WorkflowResult
    unavailable: list[str] = field(default_factory=list)
    urls: dict[str, str] = field(default_factory=dict)
    credentials: dict[str, str] = field(default_factory=dict)  # component -> the 0600 file keeping it
    advice: list[str] = field(default_factory=list)

    @property
    def would_change(self) -> bool:
        return any(s.result == "planned" for s in self.result.steps)

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.result.to_dict(),
            "unavailable": self.unavailable,
            "urls": self.urls,
            "credentials": self.credentials,
            "advice": self.advice,
        }


def run_bootstrap(ctx: WorkflowContext, request: BootstrapRequest) -> BootstrapReport:
    report = BootstrapReport(WorkflowResult("bootstrap", "platform", ctx.dry_run))
    builders: dict[str, Callable[[], Step]] = {
        "network": lambda: _network_step(ctx),
        "haproxy": lambda: _haproxy_step(ctx),
        "portainer": lambda: _portainer_step(ctx, report),
        "devops": lambda: _devops_step(ctx, request),
        "storage": lambda: _storage_step(ctx),
        "argocd": lambda: _argocd_step(ctx, report),
        "gitops": lambda: _gitops_step(ctx, report),
        "postgres": lambda: _postgres_step(ctx, report, request),
        "inventory": lambda: _inventory_step(ctx, report, request),
    }
    steps = [_recorded(ctx, name, builders[name](), request.explicit, report) for name in request.components]
    with ctx.platform_lock("bootstrap"):
        report.result = execute(
            "bootstrap", "platform", steps, runner=ctx.runner, progress=ctx.progress, dry_run=ctx.dry_run,
            keep_on_failure=True,  # a platform half-made is resumed by the next bootstrap, never torn down
        )  # fmt: skip
    for outcome in report.result.steps:
        if outcome.name in report.unavailable:
            outcome.result = "unavailable"
    # URLs and credential files of what earlier runs made, too (recorded, never the secrets).
    for component, entry in read_state(ctx)["components"].items():
        if entry.get("url"):
            report.urls.setdefault(component, str(entry["url"]))
        if entry.get("credential"):
            report.credentials.setdefault(component, str(entry["credential"]))
    return report


def _recorded(ctx: WorkflowContext, component: str, step: Step, explicit: bool, report: BootstrapReport) -> Step:
    """The step, recorded in platform.json once done; a component this kenv does not have yet
    is left out of a default run (said), and fails one that named it with --only."""
    inner_run, inner_done = step.run, step.done

    def record(detail: str) -> None:
        if component not in NEVER_DONE:
            extra = {"url": report.urls.get(component), "credential": report.credentials.get(component)}
            mark_done(ctx, component, detail, **{k: v for k, v in extra.items() if v})

    def run() -> str | None:
        try:
            detail = inner_run()
        except _NotYet:
            return f"would set up {component} once {MANAGEMENT_NAME} is created"
        except NotAvailable as exc:
            if explicit:
                raise
            report.unavailable.append(component)
            return f"not available yet: {exc.message}"
        record(detail or "")
        return detail

    def done() -> bool:
        if component in NEVER_DONE:
            return bool(inner_done and inner_done())
        if inner_done is None:
            return component in bootstrapped(ctx)
        try:
            there = inner_done()
        except (NotAvailable, _NotYet):
            return False
        if there and not ctx.dry_run and component not in bootstrapped(ctx):
            record("found in place")  # made by a run killed before it could record it
        return there

    return Step(step.name, run, done=done, undo=None, plan=step.plan)


# -- the steps --------------------------------------------------------------------------------------


def _network_step(ctx: WorkflowContext) -> Step:
    name = ctx.settings.platform_network

    def there() -> bool:
        details = docker.inspect_network(ctx.runner, name)
        if details is None:
            return False
        if details.labels.get(PLATFORM_LABEL) != name:
            raise InvalidInput(
                f"a Docker network named {name!r} exists that kenv did not make",
                hint="set another name with `platform_network` in the config (or KENV_PLATFORM_NETWORK)",
            )
        return True

    def create() -> str:
        ctx.runner.run(
            ["docker", "network", "create", "--label", f"{PLATFORM_LABEL}={name}", name], timeout=NETWORK_TIMEOUT
        )
        return f"Docker network {name}"

    return Step("network", create, done=there)


def _haproxy_step(ctx: WorkflowContext) -> Step:
    def run() -> str:
        call("haproxy", "ensure_haproxy", ctx)
        result = call("haproxy", "sync_routes", ctx, prune=True)
        return f"HAProxy running ({routes_summary(result)})"

    return Step(
        "haproxy", run, done=lambda: bool(call("haproxy", "haproxy_running", ctx)) and _recorded_ok(ctx, "haproxy")
    )


def _recorded_ok(ctx: WorkflowContext, component: str) -> bool:
    return component in bootstrapped(ctx)


def _portainer_step(ctx: WorkflowContext, report: BootstrapReport) -> Step:
    def run() -> str:
        info = call("portainer", "ensure_portainer", ctx)
        report.urls["portainer"] = str(info.url)
        report.credentials["portainer"] = str(info.password_file)
        return f"Portainer at {info.url}"

    return Step("portainer", run, done=lambda: bool(call("portainer", "portainer_bootstrapped", ctx)))


class _NotYet(Exception):
    """In a dry run, devops is only planned: what runs in it can only be described."""


def _devops(ctx: WorkflowContext) -> Environment:
    env = ctx.inventory().find(MANAGEMENT_NAME)
    if env is None and ctx.dry_run:
        raise _NotYet
    if env is None:
        raise KenvError(
            f"the management environment {MANAGEMENT_NAME!r} does not exist",
            hint="run `kenv bootstrap --only devops` first",
        )
    return env


def _devops_step(ctx: WorkflowContext, request: BootstrapRequest) -> Step:
    from kenv.inventory.validation import EnvironmentSpec
    from kenv.workflows.create import CreateRequest, create_environment

    spec = EnvironmentSpec(name=MANAGEMENT_NAME, provider="k3d", role="management", node_port=ctx.settings.node_port)
    network = ctx.settings.platform_network
    shared = "network" in request.components or "network" in bootstrapped(ctx)

    def running() -> bool:
        env = ctx.inventory().find(MANAGEMENT_NAME)
        return env is not None and env.status == "running" and (not shared or _connected(ctx, network))

    def run() -> str:
        result = create_environment(ctx, CreateRequest(spec, timeout=request.timeout))
        if not result.ok:
            raise KenvError(
                f"creating the management environment failed: {result.error}",
                hint="fix that, then run `kenv bootstrap` again (it resumes)",
            )
        if shared and (ctx.dry_run or not _connected(ctx, network)):
            ctx.runner.run(["docker", "network", "connect", network, _server_node()], timeout=NETWORK_TIMEOUT)
        return f"k3d environment {MANAGEMENT_NAME} running" + (f", its server on {network}" if shared else "")

    return Step("devops", run, done=running)


def _server_node() -> str:
    return f"k3d-{MANAGEMENT_NAME}-server-0"  # k3d's node naming: k3d-<cluster>-server-<n>


def _connected(ctx: WorkflowContext, network: str) -> bool:
    """Whether the devops server node is on `network`, asked of the node (its own view)."""
    argv = ["docker", "inspect", "--type", "container", _server_node()]
    result = ctx.runner.run(argv, timeout=NETWORK_TIMEOUT, mutating=False, check=False)
    if result.returncode != 0:
        return False
    items = parse_json(argv, result.stdout, empty=[])
    return bool(items) and network in ((items[0].get("NetworkSettings") or {}).get("Networks") or {})


def _storage_step(ctx: WorkflowContext) -> Step:
    from kenv.images.reference import parse_reference
    from kenv.workflows.images import SyncRequest, check_images, sync_images

    ref = parse_reference(LOCAL_PATH_HELPER)

    def present() -> bool:
        _devops(ctx)
        return check_images(ctx, MANAGEMENT_NAME, [ref]).ok

    def run() -> str:
        _devops(ctx)
        result = sync_images(ctx, MANAGEMENT_NAME, SyncRequest(refs=(ref,), origin=LOCAL_PATH_HELPER))
        if not result.ok and not ctx.dry_run:
            raise KenvError(
                f"the local-path helper image {LOCAL_PATH_HELPER} is not in every devops node",
                hint=f"run `kenv images sync {MANAGEMENT_NAME} {LOCAL_PATH_HELPER}` to see why",
            )
        return f"local-path storage: {LOCAL_PATH_HELPER} in every node"

    return Step("storage", run, done=present)


def _argocd_step(ctx: WorkflowContext, report: BootstrapReport) -> Step:
    def run() -> str:
        info = call("argocd", "install_argocd", ctx, _devops(ctx))
        report.urls["argocd"] = str(info.url)
        report.credentials["argocd"] = str(info.password_file)
        return f"Argo CD {info.version} at {info.url}"

    return Step(
        "argocd",
        run,
        done=lambda: bool(call("argocd", "argocd_bootstrapped", ctx)) and _recorded_ok(ctx, "argocd"),
    )


def _argocd_ready(ctx: WorkflowContext, report: BootstrapReport, what: str) -> None:
    if "argocd" in report.unavailable:
        raise NotAvailable(f"{what} goes through Argo CD, which is not available yet in this kenv")
    if "argocd" not in bootstrapped(ctx) and not ctx.dry_run:
        raise KenvError(f"{what} needs Argo CD, which is not bootstrapped", hint="run `kenv bootstrap --only argocd`")


def _gitops_step(ctx: WorkflowContext, report: BootstrapReport) -> Step:
    def run() -> str:
        repo = getattr(call("gitops", "gitops_repository", ctx), "url", "")
        url = str(call("gitops", "repository_url_for_cluster", ctx))
        if ctx.dry_run and "argocd" not in bootstrapped(ctx):
            # Argo CD and the address it reaches the repository on come with this very run.
            return f"would make the GitOps repository {repo} and register it in Argo CD as {url}"
        if "argocd" in bootstrapped(ctx):
            call("argocd", "register_repository", ctx, url)
            # The ApplicationSet reads environments/<name>/ from the repository just registered.
            call("argocd", "ensure_applicationset", ctx)
            return f"GitOps repository {repo} registered in Argo CD as {url}, ApplicationSet by label"
        return f"GitOps repository {repo} (Argo CD not bootstrapped: not registered)"

    return Step("gitops", run)


def _postgres_step(ctx: WorkflowContext, report: BootstrapReport, request: BootstrapRequest) -> Step:
    from kenv.platform.postgres.manifests import PLATFORM_NODE_PORT
    from kenv.platform.postgres.params import Params
    from kenv.workflows.postgres_deploy import DeployRequest, deploy, secret_file

    name, path, namespace = POSTGRES_APP

    def run() -> str:
        _devops(ctx)
        _argocd_ready(ctx, report, "PostgreSQL")
        if "gitops" in report.unavailable:
            raise NotAvailable("PostgreSQL is committed to the GitOps repository, which is not available yet")
        # The Application first: what the deploy commits is what it syncs, and the deploy waits
        # for the StatefulSet that sync makes.
        call("argocd", "ensure_application", ctx, name, path, namespace)
        params = Params(namespace=namespace, node_port=PLATFORM_NODE_PORT)
        result = deploy(ctx, DeployRequest(MANAGEMENT_NAME, params, via="gitops", timeout=request.timeout))
        report.credentials["postgres"] = str(secret_file(ctx, MANAGEMENT_NAME))
        return f"PostgreSQL through the Argo CD Application {name} ({result.manifests})"

    return Step("postgres", run)


def _inventory_step(ctx: WorkflowContext, report: BootstrapReport, request: BootstrapRequest) -> Step:
    """Moving the inventory stays the user's decision: without --move-inventory the command is
    printed, never run."""
    from kenv.workflows import inventory_move

    def advise() -> str:
        state = read_state(ctx)["components"]
        if "postgres" not in state and not ctx.dry_run:
            return "the inventory stays where it is (no platform PostgreSQL)"
        advice = "to keep the inventory in the platform's PostgreSQL: `kenv bootstrap --move-inventory`"
        report.advice.append(advice)
        return "inventory kept; " + advice

    if not request.move_inventory:
        return Step("inventory", advise, plan=lambda: "would print how to move the inventory (--move-inventory)")

    target = inventory_move.move_target(ctx)

    def moved() -> bool:
        if not inventory_move.moved(ctx):
            return False
        report.credentials["inventory"] = str(target.passfile)
        return True

    def move() -> str:
        if "postgres" not in bootstrapped(ctx):
            raise KenvError(
                "cannot move the inventory: the platform has no PostgreSQL",
                hint="run `kenv bootstrap` first (its postgres step), then `kenv bootstrap --move-inventory`",
            )
        result = inventory_move.move_inventory(ctx, request.timeout)
        report.credentials["inventory"] = result.passfile
        if result.advice:
            report.advice.append(result.advice)
        copied = "copied" if result.copied else "already there (same environments)"
        return (
            f"inventory {copied}: {result.environments} environment(s), {result.operations} operation(s) "
            f"at {result.target}; db_url set in {result.config} (was {result.source})"
        )

    return Step("inventory", move, done=moved, plan=lambda: inventory_move.plan(ctx))
