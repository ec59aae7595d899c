"""HAProxy, the single host entry: routes from the inventory, the whole file rendered, validated,
swapped in and reloaded gracefully (`kenv routes show|sync`; create and delete call `sync_routes`
when `haproxy_running`).

Once bootstrap has deployed the platform's PostgreSQL, a TCP entry (`haproxy_postgres_port`)
relays to its Service's NodePort on the devops server node's address on the platform network: the
inventory moved there (`kenv bootstrap --move-inventory`) is reached through it. It is listed
among the management entries as `postgres`.

Each environment (not `devops`, not `haproxy_route = false`) is routed to its first server node at
its `node_port` (HTTP) and its ingress's HTTPS NodePort (TLS passed through by SNI,
`platform/ingress/ports.py`), the address taken on the environment's own Docker network
(minikube reports it itself; k3d and kind through one `docker inspect` of their server nodes). An environment whose
cluster is not found or has no single address is listed as skipped with the reason, and its
route is left out (`--no-prune` keeps the route the live file already has for it).
"""

from __future__ import annotations

import contextlib
import difflib
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from kenv.catalogue import facts_for
from kenv.errors import ExternalCommandError, OperationFailed
from kenv.inventory.model import Environment
from kenv.platform.haproxy.addresses import address_on_network
from kenv.platform.haproxy.render import (
    MANAGEMENT_ENVIRONMENT,
    Backend,
    ConfigInput,
    Listen,
    Route,
    TcpTarget,
    render,
)
from kenv.platform.ingress.ports import https_node_port
from kenv.providers.base import ClusterState
from kenv.runtime import haproxy as hx
from kenv.workflows.context import WorkflowContext

PORTAINER_CONTAINER = "kenv-portainer"  # kenv.workflows.portainer.CONTAINER, on the platform network
DEVOPS_SERVER = f"k3d-{MANAGEMENT_ENVIRONMENT}-server-0"  # k3d's node naming: k3d-<cluster>-server-<n>
POSTGRES_ENTRY = "postgres"
_BACKEND_LINE = re.compile(r"^backend be_env_([a-z0-9-]+)\n    mode http\n    server node (\S+):(\d+)", re.M)
_TLS_BACKEND_LINE = re.compile(r"^backend be_tls_([a-z0-9-]+)\n    mode tcp\n    server node (\S+):(\d+)", re.M)


@dataclass(frozen=True)
class RouteEntry:
    environment: str
    hosts: tuple[str, ...]
    backend: str | None  # address:port, None when skipped
    state: str  # routed | kept (not found now, kept by --no-prune) | skipped
    reason: str
    # address:port HAProxy passes TLS to by SNI (the ingress's HTTPS NodePort); None when skipped
    https_backend: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "environment": self.environment,
            "hosts": list(self.hosts),
            "backend": self.backend,
            "https_backend": self.https_backend,
            "state": self.state,
            "reason": self.reason,
        }


@dataclass
class RoutesResult:
    runtime: str
    config: str
    entries: list[RouteEntry] = field(default_factory=list)
    management: list[RouteEntry] = field(default_factory=list)
    changed: bool = False
    reloaded: bool = False
    running: bool = False
    diff: str = ""
    dry_run: bool = False

    def to_dict(self) -> dict[str, object]:
        return {
            "runtime": self.runtime,
            "config": self.config,
            "running": self.running,
            "changed": self.changed,
            "reloaded": self.reloaded,
            "dry_run": self.dry_run,
            "routes": [e.to_dict() for e in self.entries],
            "management": [e.to_dict() for e in self.management],
        }


def paths(ctx: WorkflowContext) -> hx.Paths:
    return hx.Paths(ctx.settings.data_dir / "haproxy")


def haproxy_running(ctx: WorkflowContext) -> bool:
    """HAProxy is part of the platform and runs (the binary's master, or kenv's container)."""
    if ctx.settings.haproxy_runtime == "binary":
        return hx.master_pid(paths(ctx)) is not None
    try:
        info = hx.container_info(ctx.runner)
    except ExternalCommandError:
        return False  # no engine answers: no container of kenv's runs (create/delete then skip the sync)
    return info is not None and info.running


def ensure_haproxy(ctx: WorkflowContext) -> None:
    """Start HAProxy if it does not run, on the current routes (idempotent)."""
    if haproxy_running(ctx):
        return
    where = paths(ctx)
    if not where.config.exists() and not ctx.dry_run:
        _install(ctx, _render_current(ctx, routes(ctx)))
    ctx.progress.note("haproxy", "starting HAProxy")
    if ctx.settings.haproxy_runtime == "binary":
        hx.start_binary(ctx.runner, where)
    else:
        s = ctx.settings
        hx.start_docker(
            ctx.runner,
            where.directory,
            network=s.platform_network,
            bind=s.haproxy_bind,
            http_port=s.haproxy_http_port,
            https_port=s.haproxy_https_port,
            # Published only once there is a PostgreSQL to relay to: until then the port stays free.
            postgres_port=s.haproxy_postgres_port if _postgres_bootstrapped(ctx) else None,
            image=s.haproxy_image,
        )


def _postgres_bootstrapped(ctx: WorkflowContext) -> bool:
    from kenv.workflows.registrations import bootstrapped

    return "postgres" in bootstrapped(ctx)


def ensure_postgres_entry(ctx: WorkflowContext) -> RouteEntry:
    """fe_postgres in the live configuration and, with the docker runtime, its port published: a
    container made before the platform had PostgreSQL is made again (publishing a port needs a new
    container). Returns the entry; one that is not routed raises, naming why."""
    result = sync_routes(ctx, prune=False)
    entry = next((e for e in result.management if e.environment == POSTGRES_ENTRY), None)
    if entry is None or entry.backend is None:
        raise OperationFailed(
            f"HAProxy has no target for PostgreSQL: {entry.reason if entry else 'the platform has no PostgreSQL'}",
            hint="run `kenv bootstrap` (its devops and postgres steps), then `kenv routes show`",
        )
    if ctx.settings.haproxy_runtime == "docker" and not ctx.dry_run:
        info = hx.container_info(ctx.runner)
        if info is not None and f"{hx.CONTAINER_POSTGRES_PORT}/tcp" not in info.published:
            ctx.progress.note("haproxy", f"making the HAProxy container again to publish {entry.hosts[0]}")
            hx.stop_docker(ctx.runner)
            ensure_haproxy(ctx)  # on the file the sync installed: no reload
            networks = sorted({n for n in (_network_of(ctx, e) for e in _routed_envs(ctx, result)) if n})
            hx.connect_networks(ctx.runner, networks)
    return entry


def stop_haproxy(ctx: WorkflowContext) -> None:
    """Stop HAProxy (gracefully) and remove kenv's container; the rendered file stays."""
    if ctx.settings.haproxy_runtime == "binary":
        if ctx.dry_run:
            ctx.runner.planned.append(("kill", "-USR1", str(hx.master_pid(paths(ctx)) or "")))
            return
        hx.stop_binary(paths(ctx))
    else:
        hx.stop_docker(ctx.runner)


def show_routes(ctx: WorkflowContext) -> RoutesResult:
    """What a sync would route now, and whether the live file already says so (read-only)."""
    result = routes(ctx)
    live = _live_text(ctx)
    result.changed = live != _render_current(ctx, result)
    result.running = haproxy_running(ctx)
    return result


def sync_routes(ctx: WorkflowContext, *, prune: bool = True) -> RoutesResult:
    """Render the whole configuration from the inventory, `haproxy -c` it, rename it over the live
    one and reload gracefully; nothing is written or reloaded when the text is unchanged.

    `prune=False` keeps the routes the live file has for environments not routable now (a cluster
    stopped for a while keeps its entry); environments no longer in the inventory always go.

    Parallel creates each sync the routes: one at a time, each rendering from the inventory as it
    is once it holds the lock (they share the staged file and the reload)."""
    if ctx.dry_run:
        return _sync_routes(ctx, prune=prune)
    with ctx.platform_lock("haproxy"):
        return _sync_routes(ctx, prune=prune)


def _sync_routes(ctx: WorkflowContext, *, prune: bool) -> RoutesResult:
    result = routes(ctx)
    live = _live_text(ctx)
    if not prune:
        _keep_live_routes(ctx, result, live)
    text = _render_current(ctx, result)
    result.changed = text != live
    result.dry_run = ctx.dry_run
    result.diff = "".join(
        difflib.unified_diff(
            live.splitlines(keepends=True), text.splitlines(keepends=True), fromfile="live", tofile="rendered"
        )
    )
    result.running = haproxy_running(ctx)
    if ctx.dry_run:
        return result
    docker = ctx.settings.haproxy_runtime == "docker"
    networks = sorted({n for n in (_network_of(ctx, e) for e in _routed_envs(ctx, result)) if n}) if docker else []
    if docker and result.running:
        # Even when the file is unchanged: the container `ensure_haproxy` started (bootstrap) was
        # given these routes but joined only the platform network.
        hx.connect_networks(ctx.runner, networks)
    if not result.changed and result.running:
        return result
    if result.changed:
        ctx.progress.note("haproxy", "validating and installing the HAProxy configuration")
        _install(ctx, text)
    if not result.running:
        # Started on the file just installed, so no reload; a route is reachable once its network
        # is joined, whether before or after the master started.
        ensure_haproxy(ctx)
        if docker:
            hx.connect_networks(ctx.runner, networks)
        result.running = True
        return result
    ctx.progress.note("haproxy", "reloading HAProxy")
    if ctx.settings.haproxy_runtime == "binary":
        hx.reload_binary(paths(ctx))
    else:
        hx.reload_docker(ctx.runner)
    result.reloaded = True
    return result


# -- routes from the inventory --------------------------------------------------------------------


def routes(ctx: WorkflowContext) -> RoutesResult:
    """Every environment's route (or why it has none) and the management backends present."""
    s = ctx.settings
    result = RoutesResult(runtime=s.haproxy_runtime, config=str(paths(ctx).config))
    envs = ctx.inventory().environments()
    candidates: list[Environment] = []
    for env in envs:
        hosts = (f"{env.name}.{s.base_domain}", f"*.{env.name}.{s.base_domain}")
        if env.name == MANAGEMENT_ENVIRONMENT:
            continue  # never a dynamic route: its wildcard took portainer./argocd.devops (lesson 9)
        if not env.haproxy_route:
            result.entries.append(RouteEntry(env.name, hosts, None, "skipped", "haproxy_route is false"))
        elif not facts_for(env.provider).managed:
            result.entries.append(RouteEntry(env.name, hosts, None, "skipped", "external: kenv knows no node of it"))
        else:
            candidates.append(env)
    addresses = node_addresses(ctx, candidates + [e for e in envs if e.name == MANAGEMENT_ENVIRONMENT])
    for env in candidates:
        hosts = (f"{env.name}.{s.base_domain}", f"*.{env.name}.{s.base_domain}")
        address, why = addresses.get(env.name, (None, "no cluster found"))
        if address is None:
            result.entries.append(RouteEntry(env.name, hosts, None, "skipped", why))
        else:
            https = f"{address}:{https_node_port(env.node_port)}"
            result.entries.append(RouteEntry(env.name, hosts, f"{address}:{env.node_port}", "routed", why, https))
    result.management = management_backends(ctx, addresses)
    return result


def node_addresses(ctx: WorkflowContext, envs: Iterable[Environment]) -> dict[str, tuple[str | None, str]]:
    """(address, why) of each environment's first server node on its own network: one cluster
    listing per provider and one `docker inspect` for all the nodes."""
    wanted = list(envs)
    clusters: dict[tuple[str, str], ClusterState] = {}
    for provider in sorted({e.provider for e in wanted}):
        for listed in ctx.provider(provider).list_clusters():
            clusters[(provider, listed.name)] = listed
    found: dict[str, tuple[str | None, str]] = {}
    to_inspect: dict[str, tuple[Environment, str, str | None]] = {}
    for env in wanted:
        state = clusters.get((env.provider, env.name))
        if state is None:
            found[env.name] = (None, f"no {env.provider} cluster {env.name} runs")
            continue
        server = next((n for n in state.nodes if n.role == "server"), None)
        if server is None or not server.running:
            found[env.name] = (None, "its first server node is not running")
        elif state.node_ip:
            found[env.name] = (state.node_ip, f"the node address {env.provider} reports")
        else:
            network = state.network or facts_for(env.provider).network_name(env.name)
            to_inspect[server.name] = (env, server.name, network)
    docs = hx.inspect_nodes(ctx.runner, sorted(to_inspect))
    for node, (env, _, network) in to_inspect.items():
        doc = docs.get(node)
        found[env.name] = address_on_network(doc, network) if doc else (None, f"docker does not know node {node}")
    return found


def management_backends(ctx: WorkflowContext, addresses: dict[str, tuple[str | None, str]]) -> list[RouteEntry]:
    """Portainer and Argo CD when they exist; `kenv.devops` stays absent until kenv serves HTTP."""
    base = f"{MANAGEMENT_ENVIRONMENT}.{ctx.settings.base_domain}"
    entries: list[RouteEntry] = []
    from kenv.platform.argocd.objects import NODE_PORT as ARGOCD_NODE_PORT
    from kenv.platform.portainer.api import HTTP_PORT as PORTAINER_PORT

    portainer = hx.inspect_nodes(ctx.runner, [PORTAINER_CONTAINER]).get(PORTAINER_CONTAINER)
    if portainer is not None:
        address, why = address_on_network(portainer, ctx.settings.platform_network)
        if address:
            backend = f"{address}:{PORTAINER_PORT}"
            entries.append(RouteEntry("portainer", (f"portainer.{base}",), backend, "routed", why))
    devops_address, why = addresses.get(MANAGEMENT_ENVIRONMENT, (None, ""))
    if devops_address and _argocd_present(ctx):
        backend = f"{devops_address}:{ARGOCD_NODE_PORT}"
        entries.append(RouteEntry("argocd", (f"argocd.{base}",), backend, "routed", why))
    postgres = postgres_entry(ctx)
    if postgres is not None:
        entries.append(postgres)
    return entries


def postgres_listen_address(ctx: WorkflowContext) -> tuple[str, int]:
    """Where a client on this host reaches fe_postgres (every interface's listener answers on loopback)."""
    bind = ctx.settings.haproxy_bind
    return ("127.0.0.1" if bind == "0.0.0.0" else bind), ctx.settings.haproxy_postgres_port  # noqa: S104


def postgres_entry(ctx: WorkflowContext) -> RouteEntry | None:
    """fe_postgres's target once bootstrap has deployed PostgreSQL: the Service's NodePort on the
    devops server node's address on the platform network (HAProxy's container is on it too)."""
    from kenv.platform.postgres.manifests import PLATFORM_NODE_PORT
    from kenv.workflows.registrations import bootstrapped

    if "postgres" not in bootstrapped(ctx):
        return None
    host, port = postgres_listen_address(ctx)
    listen = (f"{host}:{port}",)
    doc = hx.inspect_nodes(ctx.runner, [DEVOPS_SERVER]).get(DEVOPS_SERVER)
    if doc is None:
        return RouteEntry(POSTGRES_ENTRY, listen, None, "skipped", f"docker does not know node {DEVOPS_SERVER}")
    address, why = address_on_network(doc, ctx.settings.platform_network)
    if address is None:
        return RouteEntry(POSTGRES_ENTRY, listen, None, "skipped", why)
    return RouteEntry(POSTGRES_ENTRY, listen, f"{address}:{PLATFORM_NODE_PORT}", "routed", why)


def _argocd_present(ctx: WorkflowContext) -> bool:
    from kenv.workflows.argocd import argocd_bootstrapped

    return argocd_bootstrapped(ctx)


def _routed_envs(ctx: WorkflowContext, result: RoutesResult) -> Iterable[Environment]:
    """The environments HAProxy forwards to: the routed ones, and devops when Argo CD is routed."""
    names = {e.environment for e in result.entries if e.backend}
    if any(m.environment == "argocd" for m in result.management):
        names.add(MANAGEMENT_ENVIRONMENT)
    return [e for e in ctx.inventory().environments() if e.name in names]


def _network_of(ctx: WorkflowContext, env: Environment) -> str | None:
    return facts_for(env.provider).network_name(env.name)


def _keep_live_routes(ctx: WorkflowContext, result: RoutesResult, live: str) -> None:
    known = {e.name for e in ctx.inventory().environments()}
    kept = {name: f"{addr}:{port}" for name, addr, port in _BACKEND_LINE.findall(live)}
    kept_tls = {name: f"{addr}:{port}" for name, addr, port in _TLS_BACKEND_LINE.findall(live)}
    for i, entry in enumerate(result.entries):
        if entry.backend is None and entry.environment in kept and entry.environment in known:
            backend, https = kept[entry.environment], kept_tls.get(entry.environment)
            result.entries[i] = RouteEntry(entry.environment, entry.hosts, backend, "kept", entry.reason, https)


# -- the file -------------------------------------------------------------------------------------


def config_input(ctx: WorkflowContext, result: RoutesResult) -> ConfigInput:
    s = ctx.settings
    routes_ = [_route(e) for e in result.entries if e.backend]
    management = [
        Backend(e.environment, *_split(e.backend))
        for e in result.management
        if e.backend and e.environment != POSTGRES_ENTRY
    ]
    postgres = next(
        (TcpTarget(*_split(e.backend)) for e in result.management if e.backend and e.environment == POSTGRES_ENTRY),
        None,
    )
    if s.haproxy_runtime == "binary":
        listen = Listen(s.haproxy_bind, s.haproxy_http_port, s.haproxy_https_port, s.haproxy_postgres_port)
        stats = str(paths(ctx).stats_socket)
    else:
        # In the container; Docker publishes them on haproxy_bind at the configured ports.
        listen = Listen("0.0.0.0", hx.CONTAINER_HTTP_PORT, hx.CONTAINER_HTTPS_PORT, hx.CONTAINER_POSTGRES_PORT)  # noqa: S104
        stats = hx.CONTAINER_STATS_SOCKET
    return ConfigInput(s.base_domain, routes_, management, listen, stats_socket=stats, postgres=postgres)


def _route(entry: RouteEntry) -> Route:
    address, port = _split(entry.backend)
    https_port = _split(entry.https_backend)[1] if entry.https_backend else None
    return Route(entry.environment, address, port, https_port)


def _split(backend: str | None) -> tuple[str, int]:
    assert backend is not None
    address, _, port = backend.rpartition(":")
    return address, int(port)


def _render_current(ctx: WorkflowContext, result: RoutesResult) -> str:
    try:
        return render(config_input(ctx, result))
    except ValueError as exc:
        raise OperationFailed(f"cannot render the HAProxy configuration: {exc}") from exc


def _live_text(ctx: WorkflowContext) -> str:
    try:
        return paths(ctx).config.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""


def _install(ctx: WorkflowContext, text: str) -> None:
    """Write beside the live file, validate, rename over it: a refused file never goes live."""
    where = paths(ctx)
    where.directory.mkdir(parents=True, exist_ok=True)
    if ctx.settings.haproxy_runtime == "docker":
        # Mounted as the container's /usr/local/etc/haproxy: the image's user (uid 99) must enter
        # it whatever umask made it. It holds only the rendered file (the binary's sockets are 0600).
        where.directory.chmod(0o755)
    new = where.directory / f".{hx.CONFIG_NAME}.new"
    new.write_text(text, encoding="utf-8")
    new.chmod(0o644)  # the image's haproxy user reads it through the mount
    check: Callable[[], None]
    if ctx.settings.haproxy_runtime == "binary":

        def check() -> None:
            hx.check_config_binary(ctx.runner, new)
    else:

        def check() -> None:
            hx.check_config_docker(ctx.runner, where.directory, new.name, ctx.settings.haproxy_image)

    try:
        check()
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            new.unlink()
        raise
    os.replace(new, where.config)


__all__ = [
    "RouteEntry",
    "RoutesResult",
    "ensure_haproxy",
    "haproxy_running",
    "show_routes",
    "stop_haproxy",
    "sync_routes",
]
