"""Portainer: a pinned portainer-ce container with a generated admin password, each environment
registered as an edge environment through its REST API (agent deployed with the key in a Secret),
removed on delete.

The container runs on the platform network (edge agents reach it there by its name, which also
names the tunnel server in the edge key) and is published on a loopback port kenv picks once and
keeps in <data>/platform/portainer.json. Its data volume is labelled as kenv's, so teardown removes
it and nothing else. The admin password is set through POST /api/users/admin/init, never on the
command line (where `ps` and `docker inspect` show it), and kept 0600 in
<data>/secrets/portainer-admin; it is written before the init call, so a kill between the two
leaves a password that matches or an uninitialised Portainer, never a lost password.

The edge key is a credential: it goes from Portainer's answer into a Kubernetes Secret on
kubectl's stdin and is never printed, logged or stored by kenv; outputs show the Id only.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kenv.errors import ExternalCommandError, KenvError
from kenv.inventory.files import write_file
from kenv.inventory.model import Environment
from kenv.platform.portainer import api
from kenv.platform.portainer.agent import render_agent
from kenv.runtime.http import HttpUnavailable, free_loopback_port, request_json
from kenv.runtime.kubectl import Kubectl
from kenv.workflows.context import WorkflowContext

log = logging.getLogger("kenv.workflows.portainer")

CONTAINER = "kenv-portainer"
VOLUME = "kenv-portainer-data"
LABELS = ("kenv.managed=true", "kenv.component=portainer")
FIX = "start it with `kenv bootstrap --only portainer`"
DOCKER_TIMEOUT = 120.0
START_TIMEOUT = 120.0
KUBECTL_TIMEOUT = 60.0
DELETE_ATTEMPTS = 4
RETRY_PAUSE = 1.0
# Placeholder in a dry run's plan: the real key exists only once Portainer made the environment.
PLANNED_KEY = "<edge key from Portainer>"


@dataclass(frozen=True)
class PortainerInfo:
    """Where Portainer answers and where its admin password is kept (never the password)."""

    url: str
    password_file: Path
    container: str
    image: str
    agent_url: str  # where edge agents reach it, on the platform network

    def to_dict(self) -> dict[str, object]:
        return {
            "url": self.url,
            "password_file": str(self.password_file),
            "container": self.container,
            "image": self.image,
            "agent_url": self.agent_url,
        }


def password_file(ctx: WorkflowContext) -> Path:
    return ctx.settings.data_dir / "secrets" / "portainer-admin"


def state_file(ctx: WorkflowContext) -> Path:
    return ctx.settings.data_dir / "platform" / "portainer.json"


def agent_url() -> str:
    return f"http://{CONTAINER}:{api.HTTP_PORT}"


def _port(ctx: WorkflowContext) -> int | None:
    try:
        data = json.loads(state_file(ctx).read_text())
    except (OSError, ValueError):
        return None
    port = data.get("port") if isinstance(data, dict) else None
    return port if isinstance(port, int) and 0 < port < 65536 else None


def _url(port: int) -> str:
    return f"http://127.0.0.1:{port}"


def _info(ctx: WorkflowContext, port: int) -> PortainerInfo:
    return PortainerInfo(_url(port), password_file(ctx), CONTAINER, api.IMAGE, agent_url())


def portainer_bootstrapped(ctx: WorkflowContext) -> bool:
    """Whether Portainer is up as bootstrap left it: its port and password kept, and answering.
    One loopback request (refused at once when down); False means `ensure_portainer` has work."""
    port = _port(ctx)
    return port is not None and password_file(ctx).is_file() and _answers(_url(port))


# -- HTTP ------------------------------------------------------------------------------------------


def _call(ctx: WorkflowContext, method: str, url: str, *, mutating: bool, **kwargs: Any) -> tuple[int, Any]:
    """One API call; in a dry run a call that changes something is planned, not sent."""
    if ctx.dry_run and mutating:
        ctx.runner.planned.append((method, url.split("?", 1)[0]))
        return 0, None
    try:
        return request_json(method, url, **kwargs)
    except HttpUnavailable as exc:
        raise KenvError(f"Portainer is not answering ({exc.message})", hint=FIX) from exc


def _unexpected(what: str, status: int, body: Any) -> KenvError:
    return KenvError(f"Portainer refused {what}: HTTP {status} {api.error_text(body)}".strip())


def _answers(url: str) -> bool:
    try:
        status, _ = request_json("GET", f"{url}/api/system/status", timeout=3.0)
    except HttpUnavailable:
        return False
    return status == 200


def _wait_answering(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not _answers(url):
        if time.monotonic() > deadline:
            raise KenvError(
                f"Portainer did not answer at {url} within {timeout:.0f}s",
                hint=f"see `docker logs {CONTAINER}`, then run `kenv bootstrap --only portainer` again",
            )
        time.sleep(0.5)


def _login(ctx: WorkflowContext, url: str) -> str:
    path = password_file(ctx)
    try:
        password = path.read_text().strip()
    except OSError as exc:
        raise KenvError(
            f"Portainer's admin password file {path} cannot be read ({exc.strerror})",
            hint="restore it, or reset Portainer: `kenv teardown --all` then `kenv bootstrap`",
        ) from exc
    status, body = _call(ctx, "POST", f"{url}/api/auth", mutating=False, json=api.auth_body(password))
    if status == 422:
        raise KenvError(
            f"Portainer at {url} refuses the admin password stored in {path}",
            hint="put the right password in that file, or reset Portainer: `kenv teardown --all` then `kenv bootstrap`",
        )
    if status != 200:
        raise _unexpected("the login", status, body)
    try:
        return api.parse_jwt(body)
    except api.ApiAnswerError as exc:
        raise KenvError(f"Portainer at {url}: {exc}") from exc


# -- the container ---------------------------------------------------------------------------------


def _start_container(ctx: WorkflowContext, port: int) -> None:
    labels = [arg for label in LABELS for arg in ("--label", label)]
    ctx.runner.run(["docker", "volume", "create", *labels, VOLUME], timeout=DOCKER_TIMEOUT)
    # A stopped or half-made container of ours is replaced; the volume keeps Portainer's data.
    ctx.runner.run(["docker", "rm", "-f", CONTAINER], timeout=DOCKER_TIMEOUT, check=False)
    ctx.runner.run(
        [
            "docker",
            "run",
            "-d",
            "--name",
            CONTAINER,
            "--restart",
            "unless-stopped",
            *labels,
            "--network",
            ctx.settings.platform_network,
            "-p",
            f"127.0.0.1:{port}:{api.HTTP_PORT}",
            "-v",
            f"{VOLUME}:/data",
            api.IMAGE,
        ],
        timeout=DOCKER_TIMEOUT,
    )


def _initialise(ctx: WorkflowContext, url: str) -> None:
    """Set the admin password once; an initialised Portainer must accept the stored one."""
    path = password_file(ctx)
    status, body = _call(ctx, "GET", f"{url}/api/users/admin/check", mutating=False)
    if status == 204:
        if not path.is_file():
            raise KenvError(
                f"Portainer at {url} already has an administrator but its password file {path} is missing",
                hint=f"restore the file, or reset Portainer: `docker rm -f {CONTAINER} && docker volume rm {VOLUME}`, "
                "then `kenv bootstrap --only portainer`",
            )
        _login(ctx, url)
        return
    if status != 404:
        raise _unexpected("the administrator check", status, body)
    if ctx.dry_run:
        ctx.runner.planned.append(("POST", f"{url}/api/users/admin/init"))
        return
    if path.is_file():  # written by an earlier run that stopped before the init call
        password = path.read_text().strip()
        if len(password) < api.MIN_PASSWORD_LENGTH:
            raise KenvError(
                f"the Portainer admin password in {path} is shorter than {api.MIN_PASSWORD_LENGTH} characters, "
                "which Portainer refuses",
                hint="remove the file (kenv generates one) or put a longer password in it",
            )
    else:
        password = secrets.token_urlsafe(24)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_file(path, password + "\n")
    status, body = _call(ctx, "POST", f"{url}/api/users/admin/init", mutating=True, json=api.admin_init_body(password))
    if status == 409:  # another kenv initialised it meanwhile, with the same stored file
        _login(ctx, url)
    elif status != 200:
        raise _unexpected("the administrator initialisation", status, body)


def ensure_portainer(ctx: WorkflowContext) -> PortainerInfo:
    """Portainer running, answering and initialised with the stored password; idempotent."""
    port = _port(ctx)
    if port is None:
        port = free_loopback_port()
        if not ctx.dry_run:
            state_file(ctx).parent.mkdir(parents=True, exist_ok=True)
            write_file(state_file(ctx), json.dumps({"port": port}) + "\n", force=True, mode=0o644)
    url = _url(port)
    if not _answers(url):
        ctx.progress.note("portainer", f"starting Portainer {api.VERSION} on {url}")
        try:
            _start_container(ctx, port)
        except ExternalCommandError as exc:
            if "port is already allocated" not in exc.stderr_tail:
                raise
            # Another program took the port since kenv picked it: pick again, once.
            port = free_loopback_port()
            write_file(state_file(ctx), json.dumps({"port": port}) + "\n", force=True, mode=0o644)
            url = _url(port)
            ctx.progress.note("portainer", f"port taken; starting Portainer on {url}")
            _start_container(ctx, port)
        if ctx.dry_run:
            ctx.runner.planned.append(("POST", f"{url}/api/users/admin/init"))
            return _info(ctx, port)
        _wait_answering(url, START_TIMEOUT)
    _initialise(ctx, url)
    return _info(ctx, port)


def remove_portainer(ctx: WorkflowContext) -> None:
    """The container, its volume, the password and the port kenv kept: what kenv made, only."""
    ctx.runner.run(["docker", "rm", "-f", CONTAINER], timeout=DOCKER_TIMEOUT, check=False)
    ctx.runner.run(["docker", "volume", "rm", VOLUME], timeout=DOCKER_TIMEOUT, check=False)
    if not ctx.dry_run:
        for path in (password_file(ctx), state_file(ctx)):
            path.unlink(missing_ok=True)


# -- environments ----------------------------------------------------------------------------------


def _running_url(ctx: WorkflowContext) -> str:
    port = _port(ctx)
    if port is None or not password_file(ctx).is_file():
        raise KenvError("Portainer is not part of this platform", hint=FIX)
    url = _url(port)
    if not _answers(url):
        raise KenvError(f"Portainer is not answering at {url}", hint=FIX)
    return url


def find_environment(ctx: WorkflowContext, url: str, jwt: str, name: str) -> api.Endpoint | None:
    status, body = _call(
        ctx, "GET", f"{url}/api/endpoints?name={_quote(name)}", mutating=False, headers=api.bearer(jwt)
    )
    if status != 200:
        raise _unexpected("the environment list", status, body)
    try:
        return api.find_by_name(body, name)
    except api.ApiAnswerError as exc:
        raise KenvError(f"Portainer at {url}: {exc}") from exc


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")


def _create(ctx: WorkflowContext, url: str, jwt: str, name: str) -> api.Endpoint | None:
    form = api.edge_endpoint_form(name, agent_url())
    status, body = _call(ctx, "POST", f"{url}/api/endpoints", mutating=True, form=form, headers=api.bearer(jwt))
    if ctx.dry_run:
        return None
    if status == 409:  # made by another kenv between our lookup and our create
        return find_environment(ctx, url, jwt, name)
    if status != 200:
        raise _unexpected(f"the edge environment {name!r}", status, body)
    try:
        return api.parse_endpoint(body)
    except api.ApiAnswerError as exc:
        raise KenvError(f"Portainer at {url}: {exc}") from exc


def register_environment(ctx: WorkflowContext, env: Environment) -> api.Endpoint | None:
    """The environment as an edge environment (looked up by name before one is made) and the
    edge agent in its cluster. Returns what Portainer holds (None in a dry run)."""
    url = _running_url(ctx)
    jwt = _login(ctx, url)
    endpoint = find_environment(ctx, url, jwt, env.name) or _create(ctx, url, jwt, env.name)
    if endpoint is not None and not endpoint.edge_key:
        raise KenvError(
            f"Portainer's environment {env.name!r} (Id {endpoint.id}) has no edge key: it is not an edge environment",
            hint=f"remove it in Portainer (or `kenv delete {env.name}`) and create the environment again",
        )
    key = endpoint.edge_key if endpoint is not None else PLANNED_KEY
    ctx.progress.note(env.name, "deploying the Portainer edge agent")
    kubectl = Kubectl(ctx.runner, ctx.kubeconfig_path(env.name), timeout=KUBECTL_TIMEOUT)
    ctx.runner.run(
        kubectl.argv("apply", "-f", "-"), timeout=KUBECTL_TIMEOUT, mutating=True, input_text=render_agent(env.name, key)
    )
    return endpoint


def unregister_environment(ctx: WorkflowContext, name: str) -> None:
    """The edge environment removed (bounded retries); an unknown name is nothing to do."""
    url = _running_url(ctx)
    for attempt in range(1, DELETE_ATTEMPTS + 1):
        try:
            jwt = _login(ctx, url)
            endpoint = find_environment(ctx, url, jwt, name)
            if endpoint is None:
                return
            status, body = _call(
                ctx, "DELETE", f"{url}/api/endpoints/{endpoint.id}", mutating=True, headers=api.bearer(jwt)
            )
        except KenvError as exc:
            if attempt == DELETE_ATTEMPTS or "not answering" not in exc.message:
                raise
            log.info("portainer: removing %s: %s (attempt %d of %d)", name, exc.message, attempt, DELETE_ATTEMPTS)
        else:
            if status in (0, 204, 404):  # 0: planned in a dry run; 404: removed meanwhile
                return
            if status < 500 or attempt == DELETE_ATTEMPTS:
                raise _unexpected(f"removing the environment {name!r}", status, body)
            log.info("portainer: removing %s: HTTP %d (attempt %d of %d)", name, status, attempt, DELETE_ATTEMPTS)
        time.sleep(RETRY_PAUSE * attempt)
