"""What the platform knows about each environment: the steps create adds after "running" and
delete adds before the cluster goes, and the record of which platform components bootstrap made.

Which components are part of the platform is read from `<data>/platform.json` (written by
`kenv bootstrap`, atomically, after each of its steps): a file read, no process, so an
environment created with no platform runs exactly the steps it always did. A component recorded
there but down fails its step with its name and the fix; it is never skipped silently.

The components' own modules (routes, portainer, argocd, gitops) are imported when a step runs,
by name: one that this kenv does not have yet is reported as "not available yet".
"""

from __future__ import annotations

import importlib
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from kenv.errors import KenvError
from kenv.inventory.files import write_file
from kenv.inventory.model import MANAGEMENT_NAME, Environment
from kenv.workflows.context import WorkflowContext
from kenv.workflows.engine import Step
from kenv.workflows.ingress import ingress_step

log = logging.getLogger("kenv.workflows")

STATE_FILE = "platform.json"
STATE_VERSION = 1
# providers whose ingress the "ingress" step puts on node_port (workflows/ingress.py)
INGRESS_BY_KENV = frozenset({"k3d", "kind", "minikube"})
SMOKE_TIMEOUT = 20.0  # the whole smoke check, retries included
SMOKE_REQUEST_TIMEOUT = 5.0
SMOKE_INTERVAL = 1.0

# component -> the workflow module that implements it
MODULES = {
    "haproxy": "kenv.workflows.routes",
    "portainer": "kenv.workflows.portainer",
    "argocd": "kenv.workflows.argocd",
    "gitops": "kenv.workflows.gitops",
}


# -- the platform's state file ---------------------------------------------------------------------


def state_path(ctx: WorkflowContext) -> Path:
    return ctx.settings.data_dir / STATE_FILE


def read_state(ctx: WorkflowContext) -> dict[str, Any]:
    """{"version": 1, "components": {name: {"at": ISO time, "detail": text}}}; empty when none."""
    path = state_path(ctx)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"version": STATE_VERSION, "components": {}}
    except (OSError, ValueError) as exc:
        raise KenvError(
            f"cannot read the platform state {path}: {exc}",
            hint="fix or remove the file, then run `kenv bootstrap` again (every step checks what is there)",
        ) from exc
    if not isinstance(data, dict) or not isinstance(data.get("components"), dict):
        raise KenvError(f"{path} is not a kenv platform state", hint="remove it and run `kenv bootstrap` again")
    return data


def bootstrapped(ctx: WorkflowContext) -> set[str]:
    """The components bootstrap finished (the file alone: no process, no network)."""
    if not state_path(ctx).exists():
        return set()
    return set(read_state(ctx)["components"])


def _write_state(ctx: WorkflowContext, data: dict[str, Any]) -> None:
    path = state_path(ctx)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_file(path, json.dumps(data, indent=2, sort_keys=True) + "\n", force=True, mode=0o600)


def mark_done(ctx: WorkflowContext, component: str, detail: str = "", **extra: str) -> None:
    """Record a finished component; `extra` keeps what people need later (url, credential: the
    path of the 0600 file holding a secret, never the secret)."""
    if ctx.dry_run:
        return
    data = read_state(ctx)
    data["components"][component] = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "detail": detail,
        **extra,
    }
    _write_state(ctx, data)


def forget(ctx: WorkflowContext, component: str) -> None:
    if ctx.dry_run or not state_path(ctx).exists():
        return
    data = read_state(ctx)
    if data["components"].pop(component, None) is not None:
        _write_state(ctx, data)


# -- the components' modules ---------------------------------------------------------------------


class NotAvailable(KenvError):
    """A platform component this kenv does not implement yet."""


def component_module(component: str) -> ModuleType:
    name = MODULES[component]
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        raise NotAvailable(
            f"the platform component {component!r} is not available yet in this kenv",
            hint=f"leave it out (`--skip {component}`)",
        ) from exc


def call(component: str, function: str, *args: Any, **kwargs: Any) -> Any:
    """component_module(component).function(*args); a function that is not implemented yet is
    reported as the component not being available, with the way around it."""
    module = component_module(component)
    target = getattr(module, function, None)
    if not callable(target):
        raise NotAvailable(
            f"the platform component {component!r} has no {function} yet in this kenv",
            hint=f"leave it out (`--skip {component}`)",
        )
    try:
        return target(*args, **kwargs)
    except NotImplementedError as exc:
        raise NotAvailable(
            f"the platform component {component!r} is not available yet in this kenv ({function})",
            hint=f"leave it out (`--skip {component}`)",
        ) from exc


def gitops_in_platform(ctx: WorkflowContext, members: set[str]) -> bool:
    return "gitops" in members or bool(getattr(ctx.settings, "gitops_url", None))


def routes_summary(result: Any) -> str:
    """sync_routes' result in a few words: how many routes, whether HAProxy was reloaded."""
    entries = getattr(result, "entries", None) or []
    state = (
        "reloaded"
        if getattr(result, "reloaded", False)
        else "changed"
        if getattr(result, "changed", False)
        else "unchanged"
    )
    return f"{len(entries)} environment route(s), {state}"


# -- create and delete steps -----------------------------------------------------------------------

_FIX = {
    "haproxy": "start it with `kenv bootstrap --only haproxy`",
    "portainer": "start it with `kenv bootstrap --only portainer`",
    "argocd": "reinstall it with `kenv bootstrap --only argocd` (the devops environment must run)",
}
_UP_CHECK = {"haproxy": "haproxy_running", "portainer": "portainer_bootstrapped", "argocd": "argocd_bootstrapped"}


def _require(ctx: WorkflowContext, component: str, name: str) -> None:
    """The component is part of the platform: it must answer, or the step fails saying so."""
    if ctx.dry_run:
        return
    if not call(component, _UP_CHECK[component], ctx):
        raise KenvError(
            f"{component} is part of the platform but is not running, so {name} cannot be registered in it",
            hint=f"{_FIX[component]}, then rerun the same kenv command (it resumes)",
        )


def _step(name: str, run: Callable[[], str], plan: str) -> Step:
    return Step(name, run, plan=lambda: plan)


def create_steps(ctx: WorkflowContext, env: Callable[[], Environment], name: str) -> list[Step]:
    """The registration steps of `kenv create NAME`, after "running": none when no platform, and
    none for the management environment (the platform's own, routed by its fixed hosts)."""
    if name == MANAGEMENT_NAME:
        return []
    members = bootstrapped(ctx)
    steps: list[Step] = []
    if "haproxy" in members:
        # HAProxy routes to the environment's node_port: the ingress must answer there
        # (k3d: Traefik; kind, minikube: ingress-nginx, images synced first).
        steps.append(ingress_step(ctx, env))

        synced: dict[str, Any] = {}

        def routes() -> str:
            _require(ctx, "haproxy", name)
            result = call("haproxy", "sync_routes", ctx, prune=False)
            synced["result"] = result
            return f"HAProxy routes *.{name}.{ctx.settings.base_domain} ({routes_summary(result)})"

        steps.append(_step("routes", routes, f"would route *.{name}.{ctx.settings.base_domain} in HAProxy"))
        steps.append(
            _step(
                "smoke",
                lambda: _smoke(ctx, env(), synced.get("result")),
                f"would request http://{_smoke_host(ctx, name)}/ through HAProxy",
            )
        )
    if "portainer" in members:

        def portainer() -> str:
            _require(ctx, "portainer", name)
            call("portainer", "register_environment", ctx, env())
            return f"{name} registered in Portainer"

        steps.append(_step("portainer", portainer, f"would register {name} in Portainer (edge agent)"))
    if "argocd" in members:

        def argocd() -> str:
            _require(ctx, "argocd", name)
            call("argocd", "register_cluster", ctx, env())
            return f"{name} registered in Argo CD"

        steps.append(_step("argocd", argocd, f"would register {name} as an Argo CD cluster"))
    if gitops_in_platform(ctx, members):

        def gitops() -> str:
            call("gitops", "add_environment", ctx, env())
            return f"environments/{name}/ in the GitOps repository"

        steps.append(_step("gitops", gitops, f"would add environments/{name}/ to the GitOps repository"))
    return steps


def _smoke_host(ctx: WorkflowContext, name: str) -> str:
    from kenv.platform.ingress.smoke import probe_host

    return probe_host(name, ctx.settings.base_domain)


def _backend_of(ctx: WorkflowContext, name: str, result: Any) -> str:
    """The node address:port HAProxy routes the environment to (a resumed run lists it again)."""
    if result is None:
        result = call("haproxy", "routes", ctx)
    for entry in getattr(result, "entries", None) or []:
        if entry.environment == name:
            return str(entry.backend or f"no backend ({entry.reason})")
    return "no backend"


def _smoke(ctx: WorkflowContext, env: Environment, result: Any) -> str:
    """One request through HAProxy for a host under the environment's route, retried for a short
    while (a NodePort Service or a fresh ingress takes a moment to answer); an answer from the
    ingress, a 404 from its default backend included, ends it.

    Only where kenv put the ingress (k3d's Traefik, ingress-nginx on kind and minikube):
    elsewhere nothing of kenv's answers on the node_port, and failing there would roll back a
    cluster that is fine."""
    import time

    from kenv.platform.ingress.smoke import local_address, reached_ingress
    from kenv.runtime.http import HttpUnavailable, probe

    name = env.name
    if env.provider not in INGRESS_BY_KENV:
        return f"not checked: kenv installs no ingress controller on {env.provider}"
    s = ctx.settings
    host = _smoke_host(ctx, name)
    url = f"http://{local_address(s.haproxy_bind)}:{s.haproxy_http_port}/"
    ctx.progress.note(name, f"smoke check: {url} with Host {host}")
    deadline = time.monotonic() + SMOKE_TIMEOUT
    while True:
        try:
            status, body = probe(url, host, timeout=SMOKE_REQUEST_TIMEOUT)
            reached, why = reached_ingress(status, body)
        except HttpUnavailable as exc:
            reached, why = False, f"HAProxy did not answer ({exc.message})"
        if reached:
            return f"http://{host}/ reaches {name}'s ingress through HAProxy ({why})"
        if time.monotonic() >= deadline:
            break
        time.sleep(SMOKE_INTERVAL)
    backend = _backend_of(ctx, name, result)
    raise KenvError(
        f"smoke check failed: a request to HAProxy at {url} for {host} did not reach {name}'s ingress "
        f"at {backend} within {SMOKE_TIMEOUT:.0f}s: {why}",
        hint=f"check that {name}'s ingress listens on NodePort {backend.rsplit(':', 1)[-1]} "
        f"(`kenv get {name}`, `kenv routes show`), then rerun the same kenv command (it resumes)",
    )


def delete_steps(ctx: WorkflowContext, name: str) -> list[Step]:
    """The removal steps of `kenv delete NAME`, before the cluster goes: none when no platform.
    The reverse of create_steps (GitOps archive first, routes last)."""
    if name == MANAGEMENT_NAME:
        return []
    members = bootstrapped(ctx)
    steps: list[Step] = []
    if gitops_in_platform(ctx, members):

        def gitops() -> str:
            call("gitops", "archive_environment", ctx, name)
            return f"environments/{name}/ archived"

        steps.append(_step("gitops", gitops, f"would move environments/{name}/ under archive/"))
    if "argocd" in members:

        def argocd() -> str:
            _require(ctx, "argocd", name)
            call("argocd", "unregister_cluster", ctx, name)
            return f"{name} removed from Argo CD"

        steps.append(_step("argocd", argocd, f"would remove {name}'s Argo CD cluster Secret"))
    if "portainer" in members:

        def portainer() -> str:
            _require(ctx, "portainer", name)
            call("portainer", "unregister_environment", ctx, name)
            return f"{name} removed from Portainer"

        steps.append(_step("portainer", portainer, f"would remove {name} from Portainer"))
    return steps


def delete_route_steps(ctx: WorkflowContext, name: str) -> list[Step]:
    """After the record is gone, the routes are rendered without it (run last by delete)."""
    if name == MANAGEMENT_NAME or "haproxy" not in bootstrapped(ctx):
        return []

    def routes() -> str:
        _require(ctx, "haproxy", name)
        call("haproxy", "sync_routes", ctx, prune=True)
        return f"HAProxy no longer routes *.{name}.{ctx.settings.base_domain}"

    return [_step("routes", routes, f"would drop the HAProxy routes of {name}")]
