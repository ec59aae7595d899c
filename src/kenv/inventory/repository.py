"""The inventory repository: one interface over SQLite and PostgreSQL.

Allocation runs inside one write transaction (BEGIN IMMEDIATE / advisory lock): read what is
held, choose the lowest free values, insert, commit. The database constraints are the backstop:
if some writer skipped the lock, a unique or exclusion violation is retried with fresh choices
(bounded, with jitter) or reported as a conflict naming the holder.
"""

from __future__ import annotations

import getpass
import ipaddress
import json
import logging
import os
import random
import socket
import sqlite3
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from kenv.catalogue import facts_for
from kenv.errors import Conflict, InvalidInput, KenvError, NotFound
from kenv.inventory import schema
from kenv.inventory.allocation import lowest_free_port, lowest_free_subnet
from kenv.inventory.database import Database, Row, connect
from kenv.inventory.model import PORT_PURPOSES, STATUSES, Environment
from kenv.inventory.validation import AUTO, Auto, EnvironmentSpec, PortChoice, check_spec
from kenv.settings import PortRange, Settings

log = logging.getLogger("kenv.inventory")

MAX_ATTEMPTS = 6


class DockerNetworkLike(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def subnets(self) -> tuple[ipaddress.IPv4Network, ...]: ...


class HostProbe(Protocol):
    """What allocation needs to know about the machine (implemented in kenv.runtime)."""

    def port_is_free(self, port: int) -> bool: ...

    def docker_networks(self) -> Iterable[DockerNetworkLike] | None: ...


class NoHostChecks:
    """For records of clusters that already exist: their own ports are bound, by them."""

    def port_is_free(self, port: int) -> bool:
        del port
        return True

    def docker_networks(self) -> None:
        return None


@dataclass(frozen=True)
class AllocationPolicy:
    port_ranges: Mapping[str, PortRange]
    subnet_pool: ipaddress.IPv4Network
    subnet_prefix: int

    @classmethod
    def from_settings(cls, settings: Settings) -> AllocationPolicy:
        return cls(
            port_ranges={p: settings.port_range(p) for p in PORT_PURPOSES},
            subnet_pool=settings.subnet_pool,
            subnet_prefix=settings.subnet_prefix,
        )


def utcnow() -> datetime:
    return datetime.now(UTC)


def actor() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = f"uid{os.getuid()}"
    return f"{user}@{socket.gethostname()}"


OPERATION_KEYS = ("id", "environment", "operation", "status", "actor", "detail", "error", "started_at", "finished_at")

_ENV_COLUMNS = (
    "id, name, provider, role, subnet, node_port, servers, agents, k8s_version, labels, "
    "register_portainer, haproxy_route, desired_state, status, last_error, last_step, created_at, updated_at"
)


def as_utc(value: Any) -> datetime:
    """A stored time as an aware UTC datetime, whatever the backend or session time zone."""
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _as_network(value: Any) -> ipaddress.IPv4Network | None:
    if value is None:
        return None
    network = ipaddress.ip_network(str(value), strict=False)
    assert isinstance(network, ipaddress.IPv4Network)
    return network


def _row_to_environment(row: Row, ports: dict[str, int]) -> Environment:
    return Environment(
        id=int(row[0]),
        name=row[1],
        provider=row[2],
        role=row[3],
        subnet=_as_network(row[4]),
        ports=ports,
        node_port=int(row[5]),
        servers=int(row[6]),
        agents=int(row[7]),
        k8s_version=row[8],
        labels=json.loads(row[9]) if row[9] else {},
        register_portainer=bool(row[10]),
        haproxy_route=bool(row[11]),
        desired_state=row[12],
        status=row[13],
        last_error=row[14],
        last_step=row[15],
        created_at=as_utc(row[16]),
        updated_at=as_utc(row[17]),
    )


@dataclass(frozen=True)
class Violation:
    """Which invariant a failed write broke."""

    kind: str  # "name" | "port" | "subnet" | "check" | "retry"
    detail: str


class Inventory:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- plumbing ---------------------------------------------------------------------------

    @property
    def dialect(self) -> str:
        return self.db.dialect

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Inventory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _timestamp(self, moment: datetime) -> Any:
        # SQLite stores ISO-8601 text (sorts and round-trips exactly); PostgreSQL timestamptz.
        return moment.isoformat() if self.dialect == "sqlite" else moment

    def _subnet_params(self, subnet: ipaddress.IPv4Network | None) -> dict[str, Any]:
        params: dict[str, Any] = {"subnet": str(subnet) if subnet else None}
        if self.dialect == "sqlite":
            params["net_start"] = int(subnet.network_address) if subnet else None
            params["net_end"] = int(subnet.broadcast_address) if subnet else None
        return params

    def _subnet_columns(self) -> str:
        return "subnet, net_start, net_end" if self.dialect == "sqlite" else "subnet"

    def _subnet_values(self) -> str:
        return ":subnet, :net_start, :net_end" if self.dialect == "sqlite" else ":subnet"

    def classify(self, exc: Exception) -> Violation | None:
        """Map a driver error to the invariant it broke; None if it is not an invariant error."""
        text = str(exc)
        if isinstance(exc, sqlite3.IntegrityError):
            if "environments.name" in text:
                return Violation("name", text)
            if "host_ports.port" in text or "host_ports.environment_id, host_ports.purpose" in text:
                return Violation("port", text)
            if "subnet overlaps" in text:
                return Violation("subnet", text)
            return Violation("check", text)
        sqlstate = getattr(exc, "sqlstate", None)
        if sqlstate in ("40001", "40P01"):
            return Violation("retry", text)
        if sqlstate == "23505":
            constraint = getattr(getattr(exc, "diag", None), "constraint_name", "") or ""
            return Violation("name" if "name" in constraint else "port", text)
        if sqlstate == "23P01":
            return Violation("subnet", text)
        if sqlstate in ("23514", "23502", "23503"):
            return Violation("check", text)
        return None

    def _is_driver_error(self, exc: Exception) -> bool:
        if isinstance(exc, sqlite3.Error):
            return True
        return type(exc).__module__.startswith("psycopg")

    # -- reads ------------------------------------------------------------------------------

    def _ports_by_environment(self, env_id: int | None = None) -> dict[int, dict[str, int]]:
        sql = "SELECT environment_id, purpose, port FROM host_ports"
        rows = self.db.query(sql + (" WHERE environment_id = :id" if env_id else ""), {"id": env_id})
        ports: dict[int, dict[str, int]] = {}
        for environment_id, purpose, port in rows:
            ports.setdefault(int(environment_id), {})[purpose] = int(port)
        return ports

    def find(self, name: str) -> Environment | None:
        rows = self.db.query(f"SELECT {_ENV_COLUMNS} FROM environments WHERE name = :name", {"name": name})
        if not rows:
            return None
        env_id = int(rows[0][0])
        return _row_to_environment(rows[0], self._ports_by_environment(env_id).get(env_id, {}))

    def get(self, name: str) -> Environment:
        env = self.find(name)
        if env is None:
            raise NotFound(f"environment {name!r} is not in the inventory", hint="see `kenv list`")
        return env

    def environments(
        self, *, provider: str | None = None, labels: Mapping[str, str] | None = None
    ) -> list[Environment]:
        sql = f"SELECT {_ENV_COLUMNS} FROM environments"
        params: dict[str, Any] = {}
        if provider:
            sql += " WHERE provider = :provider"
            params["provider"] = provider
        rows = self.db.query(sql + " ORDER BY name", params)
        ports = self._ports_by_environment()
        envs = [_row_to_environment(row, ports.get(int(row[0]), {})) for row in rows]
        if labels:
            envs = [e for e in envs if all(e.labels.get(k) == v for k, v in labels.items())]
        return envs

    def count(self) -> int:
        return int(self.db.query("SELECT count(*) FROM environments")[0][0])

    def port_holders(self) -> dict[int, tuple[str, str]]:
        rows = self.db.query(
            "SELECT p.port, e.name, p.purpose FROM host_ports p JOIN environments e ON e.id = p.environment_id"
        )
        return {int(port): (name, purpose) for port, name, purpose in rows}

    def subnet_holders(self) -> list[tuple[str, ipaddress.IPv4Network]]:
        rows = self.db.query("SELECT name, subnet FROM environments WHERE subnet IS NOT NULL")
        result = []
        for name, subnet in rows:
            network = _as_network(subnet)
            assert network is not None
            result.append((str(name), network))
        return result

    # -- writes -----------------------------------------------------------------------------

    def register(
        self,
        spec: EnvironmentSpec,
        policy: AllocationPolicy,
        probe: HostProbe | None = None,
        *,
        dry_run: bool = False,
    ) -> Environment:
        """Record a new environment, choosing every AUTO value. Safe to call from many processes.

        With dry_run the whole allocation runs and is then rolled back, so the record shown is
        exactly what would have been written at that moment."""
        check_spec(spec)
        host = probe if (probe is not None and spec.check_host) else NoHostChecks()
        # Docker is asked before taking the write lock: the answer does not depend on the
        # inventory, and a slow engine must not stall every other kenv process.
        docker = list(host.docker_networks() or []) if spec.subnet is not None else []
        started = utcnow()
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                with self.db.write(commit=not dry_run):
                    env = self._insert_new(spec, policy, host, docker)
                    self.record_operation(env.name, "register", "succeeded", started_at=started)
                return env
            except KenvError:
                raise
            except Exception as exc:
                violation = self.classify(exc) if self._is_driver_error(exc) else None
                if violation is None:
                    raise
                if violation.kind == "name":
                    raise Conflict(f"environment {spec.name!r} already exists", hint="choose another name") from exc
                if violation.kind == "check":
                    raise InvalidInput(f"the database rejected {spec.name!r}: {violation.detail}") from exc
                if attempt == MAX_ATTEMPTS:
                    raise Conflict(
                        f"could not allocate for {spec.name!r} after {MAX_ATTEMPTS} attempts: {violation.detail}",
                        hint="another writer keeps taking the same values; retry",
                    ) from exc
                log.info("allocation race (%s), retrying (attempt %d)", violation.kind, attempt)
                time.sleep(random.uniform(0.005, 0.05) * attempt)  # noqa: S311 - jitter, not crypto
        raise AssertionError("unreachable")

    def _insert_new(
        self,
        spec: EnvironmentSpec,
        policy: AllocationPolicy,
        host: HostProbe,
        docker: list[DockerNetworkLike],
    ) -> Environment:
        if self.db.query("SELECT 1 FROM environments WHERE name = :name", {"name": spec.name}):
            raise Conflict(f"environment {spec.name!r} already exists", hint="choose another name")
        ports = self._choose_ports(spec, policy, host)
        subnet = self._choose_subnet(spec, policy, docker)
        now = utcnow()
        return self.insert_record(
            name=spec.name,
            provider=spec.provider,
            role=spec.role,
            subnet=subnet,
            ports=ports,
            node_port=spec.node_port,
            servers=spec.servers,
            agents=spec.agents,
            k8s_version=spec.k8s_version,
            labels=dict(spec.labels),
            register_portainer=spec.register_portainer,
            haproxy_route=spec.haproxy_route,
            created_at=now,
            updated_at=now,
        )

    def _choose_ports(self, spec: EnvironmentSpec, policy: AllocationPolicy, host: HostProbe) -> dict[str, int]:
        holders = self.port_holders()
        choices: dict[str, PortChoice] = spec.port_choices()
        chosen: dict[str, int] = {}
        for purpose, choice in choices.items():
            if isinstance(choice, int):
                check_port_free(choice, purpose, holders, host)
                chosen[purpose] = choice
        for purpose, choice in choices.items():
            if isinstance(choice, Auto):
                port_range = policy.port_ranges[purpose]
                taken = set(holders) | set(chosen.values())
                port = lowest_free_port(port_range, taken, host.port_is_free)
                if port is None:
                    raise InvalidInput(
                        f"no free {purpose} port left in {purpose}_port_range {port_range}",
                        hint=f"widen {purpose}_port_range or unregister environments you no longer use",
                    )
                chosen[purpose] = port
        return chosen

    def _choose_subnet(
        self, spec: EnvironmentSpec, policy: AllocationPolicy, docker: list[DockerNetworkLike]
    ) -> ipaddress.IPv4Network | None:
        if spec.subnet is None:
            return None
        held = self.subnet_holders()
        if isinstance(spec.subnet, ipaddress.IPv4Network):
            check_subnet_free(spec.subnet, held, docker)
            return spec.subnet
        taken = [net for _, net in held] + [net for d in docker for net in d.subnets]
        subnet = lowest_free_subnet(policy.subnet_pool, policy.subnet_prefix, taken)
        if subnet is None:
            raise InvalidInput(
                f"no free /{policy.subnet_prefix} subnet left in subnet_pool {policy.subnet_pool}",
                hint="widen subnet_pool or unregister environments you no longer use",
            )
        return subnet

    def insert_record(
        self,
        *,
        name: str,
        provider: str,
        role: str,
        subnet: ipaddress.IPv4Network | None,
        ports: Mapping[str, int],
        node_port: int,
        servers: int = 1,
        agents: int = 0,
        k8s_version: str | None = None,
        labels: Mapping[str, str] | None = None,
        register_portainer: bool = True,
        haproxy_route: bool = True,
        desired_state: str = "present",
        status: str = "unknown",
        last_error: str | None = None,
        last_step: str | None = None,
        created_at: datetime,
        updated_at: datetime,
    ) -> Environment:
        """Insert one row with fully decided values (the caller holds the write lock)."""
        params = {
            "name": name,
            "provider": provider,
            "role": role,
            "node_port": node_port,
            "servers": servers,
            "agents": agents,
            "k8s_version": k8s_version,
            "labels": json.dumps(dict(sorted((labels or {}).items()))),
            "register_portainer": register_portainer,
            "haproxy_route": haproxy_route,
            "desired_state": desired_state,
            "status": status,
            "last_error": last_error,
            "last_step": last_step,
            "created_at": self._timestamp(created_at),
            "updated_at": self._timestamp(updated_at),
            **self._subnet_params(subnet),
        }
        env_id = self.db.execute(
            f"""INSERT INTO environments (name, provider, role, {self._subnet_columns()}, node_port, servers,
                agents, k8s_version, labels, register_portainer, haproxy_route, desired_state, status,
                last_error, last_step, created_at, updated_at)
            VALUES (:name, :provider, :role, {self._subnet_values()}, :node_port, :servers, :agents,
                :k8s_version, :labels, :register_portainer, :haproxy_route, :desired_state, :status,
                :last_error, :last_step, :created_at, :updated_at)
            RETURNING id""",
            params,
        )
        assert env_id is not None
        self._insert_ports(env_id, ports)
        return self.get(name)

    def _insert_ports(self, env_id: int, ports: Mapping[str, int]) -> None:
        for purpose, port in sorted(ports.items()):
            self.db.execute(
                "INSERT INTO host_ports (port, environment_id, purpose) VALUES (:port, :id, :purpose)",
                {"port": port, "id": env_id, "purpose": purpose},
            )

    def replace_record(self, env: Environment, **changes: Any) -> Environment:
        """Update an existing row (the caller holds the write lock): subnet, ports and plain columns."""
        subnet = changes.pop("subnet", env.subnet)
        ports = changes.pop("ports", None)
        changes.setdefault("updated_at", utcnow())
        assignments = {**changes, **self._subnet_params(subnet)}
        for key in ("created_at", "updated_at"):
            if key in assignments:
                assignments[key] = self._timestamp(assignments[key])
        if "labels" in assignments:
            assignments["labels"] = json.dumps(dict(sorted(assignments["labels"].items())))
        sets = ", ".join(f"{column} = :{column}" for column in assignments)
        self.db.execute(f"UPDATE environments SET {sets} WHERE id = :id", {**assignments, "id": env.id})
        if ports is not None:
            self.db.execute("DELETE FROM host_ports WHERE environment_id = :id", {"id": env.id})
            self._insert_ports(env.id, ports)
        return self.get(env.name)

    def unregister(self, name: str) -> Environment:
        started = utcnow()
        with self.db.write():
            env = self.get(name)
            self.db.execute("DELETE FROM environments WHERE id = :id", {"id": env.id})
            self.record_operation(name, "unregister", "succeeded", started_at=started)
        return env

    def set_status(
        self,
        name: str,
        status: str,
        *,
        last_error: str | None = None,
        last_step: str | None = None,
        desired_state: str | None = None,
    ) -> Environment:
        if status not in STATUSES:
            raise InvalidInput(f"unknown status {status!r}")
        with self.db.write():
            env = self.get(name)
            changes: dict[str, Any] = {"status": status, "last_error": last_error}
            if last_step is not None:
                changes["last_step"] = last_step
            if desired_state is not None:
                changes["desired_state"] = desired_state
            return self.replace_record(env, **changes)

    # -- operations log ---------------------------------------------------------------------

    def record_operation(
        self,
        environment: str | None,
        operation: str,
        status: str,
        *,
        started_at: datetime,
        detail: str | None = None,
        error: str | None = None,
    ) -> None:
        self.db.execute(
            """INSERT INTO operations (environment, operation, status, actor, detail, error, started_at,
                finished_at) VALUES (:environment, :operation, :status, :actor, :detail, :error, :started_at,
                :finished_at)""",
            {
                "environment": environment,
                "operation": operation,
                "status": status,
                "actor": actor(),
                "detail": detail,
                "error": error,
                "started_at": self._timestamp(started_at),
                "finished_at": self._timestamp(utcnow()) if status != "running" else None,
            },
        )

    def record_failure(self, environment: str | None, operation: str, started_at: datetime, error: str) -> None:
        """Best effort: a failure is logged in its own transaction; if even that fails, say so in the log."""
        try:
            with self.db.write():
                self.record_operation(environment, operation, "failed", started_at=started_at, error=error)
        except Exception as exc:  # noqa: BLE001 - the original failure matters more than its log entry
            log.warning("could not record the failed %s of %s: %s", operation, environment, exc)

    def operations(
        self, environment: str | None = None, limit: int | None = 50, *, oldest_first: bool = False
    ) -> list[dict[str, Any]]:
        """The operations log, newest first by default; limit=None for all of it (backups)."""
        sql = f"SELECT {', '.join(OPERATION_KEYS)} FROM operations"
        params: dict[str, Any] = {}
        if environment:
            sql += " WHERE environment = :environment"
            params["environment"] = environment
        sql += " ORDER BY id" + ("" if oldest_first else " DESC")
        if limit is not None:
            sql += " LIMIT :limit"
            params["limit"] = limit
        result = []
        for row in self.db.query(sql, params):
            item = dict(zip(OPERATION_KEYS, row, strict=True))
            for key in ("started_at", "finished_at"):
                if item[key] is not None:
                    item[key] = as_utc(item[key]).isoformat()
            result.append(item)
        return result


def check_port_free(port: int, purpose: str, holders: Mapping[int, tuple[str, str]], host: HostProbe) -> None:
    if port in holders:
        holder, held_as = holders[port]
        raise Conflict(
            f"port {port} is already used by environment {holder!r} ({held_as}_port)",
            hint=f"choose another {purpose} port or use auto",
        )
    if not host.port_is_free(port):
        raise Conflict(
            f"port {port} is in use by another process on this machine",
            hint=f"stop that process, choose another {purpose} port, or use auto",
        )


def check_subnet_free(
    subnet: ipaddress.IPv4Network,
    held: list[tuple[str, ipaddress.IPv4Network]],
    docker: list[DockerNetworkLike],
    *,
    ignore: str | None = None,
) -> None:
    for holder, network in held:
        if holder != ignore and network.overlaps(subnet):
            raise Conflict(
                f"subnet {subnet} overlaps {network} of environment {holder!r}",
                hint="choose another subnet or use auto",
            )
    for net in docker:
        for existing in net.subnets:
            if existing.overlaps(subnet):
                raise Conflict(
                    f"subnet {subnet} overlaps Docker network {net.name!r} ({existing})",
                    hint="choose another subnet, use auto, or remove that Docker network",
                )


def open_inventory(url: str, *, migrate: bool = True) -> Inventory:
    """Connect and bring the schema up to date (unless migrate=False, for `kenv db status`)."""
    db = connect(url)
    try:
        if migrate:
            schema.upgrade(db)
    except BaseException:
        db.close()
        raise
    return Inventory(db)


def ensure_ports_spec(
    spec_ports: Mapping[str, PortChoice], provider: str, nodes: int = 1
) -> tuple[tuple[str, PortChoice], ...]:
    """Fill purposes the caller left out with what the provider can publish (catalogue): AUTO
    where kenv chooses a host port, none where the tool cannot publish one (an adopted cluster,
    minikube's API, minikube's ingress on a multi-node profile)."""
    facts = facts_for(provider)

    def default(purpose: str) -> PortChoice:
        if not facts.managed:
            return None
        if purpose == "api":
            return AUTO if facts.api_port_on_host else None
        if purpose in ("http", "https"):
            publishable = facts.publishes_ingress_ports and (nodes <= 1 or facts.host_ports_with_agents)
            return AUTO if publishable else None
        return AUTO

    return tuple((p, spec_ports[p] if p in spec_ports else default(p)) for p in PORT_PURPOSES)
