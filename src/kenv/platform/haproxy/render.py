"""The whole HAProxy configuration, rendered from routes (pure: no process, no file).

Grammar: HAProxy 2.6, the version Debian 12 ships (`haproxy -v`: 2.6.12), doc/configuration.txt
of that branch: `http-request return status 404 content-type text/plain string ...` (4.2,
"http-request return"), `set-var`, `req.hdr(host)`, `field`, `lower`, `req.ssl_sni` and the
`-m str`/`-m end` matches (7.1-7.3), `tcp-request inspect-delay` + `tcp-request content accept
if { req.ssl_hello_type 1 }` for TLS passthrough (4.2, 7.3.5), `stats socket` (3.1) with the bind
option `expose-fd listeners` (5.1) so a reloaded worker takes the listening sockets over and no
connection is refused during a reload (doc/management.txt 4 "Stopping and restarting HAProxy"
and 9.4 "Master CLI"); `mode tcp` with `default_backend` for fe_postgres (4.2). Every
configuration the tests render passes `haproxy -c` of 2.6.12.

Routing (as the predecessor settled on, docs in predecessor.md section 6 and its lessons 5, 8,
9, 21): `<env>.<base_domain>` and `*.<env>.<base_domain>` go to the environment's first server
node at its `node_port` on the environment's own network (no hostPort: every k3d Traefik
wanting :80 broke all but the first cluster); the management hosts
`portainer|argocd|kenv.devops.<base_domain>` go to their components when they exist (a backend is
absent until then), and devops itself never gets a dynamic route (a wildcard for it hijacked
the management names). Anything else gets a 404 naming kenv.

HTTPS is passed through, not terminated: a TCP frontend reads the TLS SNI and forwards the
stream to the environment's ingress on its HTTPS NodePort on the same node
(`platform/ingress/ports.py`: `node_port + 1`), so certificates stay with the environment's
ingress and kenv keeps no key. The predecessor
terminated TLS with a committed self-signed key, which every browser rejected anyway.

PostgreSQL (once bootstrap deployed the platform's): a TCP frontend `fe_postgres` on its own port
forwards the stream to the PostgreSQL Service's NodePort on the devops server node, so the
inventory kept there is reachable by every kenv run on this host at one fixed address. HAProxy
only relays bytes (mode tcp): authentication and TLS stay PostgreSQL's.

Server lines carry `init-addr last,libc,none` so a name that does not resolve at start (a
container not created yet) does not stop HAProxy (predecessor lesson 21).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

MANAGEMENT_ENVIRONMENT = "devops"
MANAGEMENT_HOSTS = ("portainer", "argocd", "kenv")
_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")
_NAME = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?")


@dataclass(frozen=True, order=True)
class Route:
    """One environment's entry: HTTP to `address:port`, HTTPS (SNI) to `address:https_port`."""

    environment: str
    address: str
    port: int
    https_port: int | None = None

    def hosts(self, base_domain: str) -> tuple[str, str]:
        """The exact host and the wildcard suffix (`.<env>.<base>`) this route answers."""
        exact = f"{self.environment}.{base_domain}"
        return exact, "." + exact


@dataclass(frozen=True, order=True)
class Backend:
    """A management component (`portainer`, `argocd`, `kenv`) at `address:port`."""

    name: str
    address: str
    port: int


@dataclass(frozen=True)
class TcpTarget:
    """A TCP service HAProxy relays to as it is (the platform's PostgreSQL): `address:port`."""

    address: str
    port: int


@dataclass(frozen=True)
class Listen:
    bind: str = "127.0.0.1"
    http_port: int = 80
    https_port: int = 443
    postgres_port: int = 15432


@dataclass(frozen=True)
class ConfigInput:
    base_domain: str
    routes: Sequence[Route] = ()
    management: Sequence[Backend] = ()
    listen: Listen = field(default_factory=Listen)
    # The master-worker stats socket new workers take the listeners from (None: none written).
    stats_socket: str | None = None
    pidfile: str | None = None
    postgres: TcpTarget | None = None  # None: no fe_postgres (the platform has no PostgreSQL yet)


NOT_FOUND_BODY = "kenv: no environment answers this host; `kenv routes show` lists the routes\\n"


def _check(config: ConfigInput) -> None:
    if not _HOST.fullmatch(config.base_domain):
        raise ValueError(f"base domain {config.base_domain!r} is not a host name")
    for route in config.routes:
        if not _NAME.fullmatch(route.environment):
            raise ValueError(f"environment name {route.environment!r} cannot be a host label")
        _check_address(route.address, route.environment)
    for backend in config.management:
        if backend.name not in MANAGEMENT_HOSTS:
            raise ValueError(f"unknown management backend {backend.name!r}")
        _check_address(backend.address, backend.name)
    if config.postgres is not None:
        _check_address(config.postgres.address, "postgres")
        if not 1 <= config.postgres.port <= 65535:
            raise ValueError(f"postgres: {config.postgres.port} is not a port")


def _check_address(address: str, owner: str) -> None:
    # One address, never two glued together (predecessor lesson 8: "10.101.0.4172.18.0.6").
    if not _HOST.fullmatch(address):
        raise ValueError(f"{owner}: {address!r} is not an address")
    if address.replace(".", "").isdigit():
        parts = address.split(".")
        if len(parts) != 4 or any(not p or int(p) > 255 for p in parts):
            raise ValueError(f"{owner}: {address!r} is not one IPv4 address")


def render(config: ConfigInput) -> str:
    """The configuration text; the same input always gives the same bytes (routes sorted)."""
    _check(config)
    routes = sorted(r for r in config.routes if r.environment != MANAGEMENT_ENVIRONMENT)
    management = sorted(config.management)
    base = config.base_domain
    bind = config.listen.bind
    out: list[str] = [
        "# Rendered whole by kenv from its inventory (`kenv routes sync`); edits are overwritten.",
        "global",
    ]
    if config.stats_socket:
        out.append(f"    stats socket {config.stats_socket} mode 600 level admin expose-fd listeners")
    if config.pidfile:
        out.append(f"    pidfile {config.pidfile}")
    out += [
        "",
        "defaults",
        "    timeout connect 5s",
        "    timeout client 60s",
        "    timeout server 60s",
        "    timeout http-request 10s",
        "    timeout tunnel 1h",
        "",
        "frontend fe_http",
        "    mode http",
        f"    bind {bind}:{config.listen.http_port}",
        "    http-request set-var(txn.host) req.hdr(host),field(1,:),lower",
    ]
    for backend in management:
        host = f"{backend.name}.{MANAGEMENT_ENVIRONMENT}.{base}"
        out.append(f"    use_backend be_mgmt_{backend.name} if {{ var(txn.host) -m str {host} }}")
    for route in routes:
        exact, suffix = route.hosts(base)
        out.append(
            f"    use_backend be_env_{route.environment} if {{ var(txn.host) -m str {exact} }} "
            f"|| {{ var(txn.host) -m end {suffix} }}"
        )
    out += ["    default_backend be_not_found", ""]
    passthrough = [r for r in routes if r.https_port is not None]
    out += [
        "frontend fe_https",
        "    mode tcp",
        f"    bind {bind}:{config.listen.https_port}",
        "    tcp-request inspect-delay 5s",
        # The SNI is read before the accept: an accept ends the evaluation of the content rules
        # (doc 4.2 "tcp-request content"), so a set-var after it never ran and every name fell
        # to be_tls_reject. The hello-type condition waits for the whole ClientHello.
        "    tcp-request content set-var(txn.sni) req.ssl_sni,lower if { req.ssl_hello_type 1 }",
        "    tcp-request content accept if { req.ssl_hello_type 1 }",
    ]
    for route in passthrough:
        exact, suffix = route.hosts(base)
        out.append(
            f"    use_backend be_tls_{route.environment} if {{ var(txn.sni) -m str {exact} }} "
            f"|| {{ var(txn.sni) -m end {suffix} }}"
        )
    out += ["    default_backend be_tls_reject", ""]
    if config.postgres is not None:
        out += [
            "frontend fe_postgres",
            "    mode tcp",
            f"    bind {bind}:{config.listen.postgres_port}",
            "    default_backend be_postgres",
            "",
        ]
    out += [
        "backend be_not_found",
        "    mode http",
        f'    http-request return status 404 content-type text/plain string "{NOT_FOUND_BODY}"',
        "",
        "backend be_tls_reject",
        "    mode tcp",
        "    tcp-request content reject",
        "",
    ]
    for backend in management:
        out += [
            f"backend be_mgmt_{backend.name}",
            "    mode http",
            f"    server {backend.name} {backend.address}:{backend.port} init-addr last,libc,none",
            "",
        ]
    if config.postgres is not None:
        out += [
            "backend be_postgres",
            "    mode tcp",
            f"    server postgres {config.postgres.address}:{config.postgres.port} init-addr last,libc,none",
            "",
        ]
    for route in routes:
        out += _env_backends(route)
    return "\n".join(out)


def _env_backends(route: Route) -> Iterable[str]:
    yield f"backend be_env_{route.environment}"
    yield "    mode http"
    yield f"    server node {route.address}:{route.port} init-addr last,libc,none"
    yield ""
    if route.https_port is not None:
        yield f"backend be_tls_{route.environment}"
        yield "    mode tcp"
        yield f"    server node {route.address}:{route.https_port} init-addr last,libc,none"
        yield ""
