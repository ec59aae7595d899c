"""Environment records: how a row maps to an `Environment`, reading them, and writing rows whose
values are already decided (allocation is in allocator.py, the operations log in operations.py).

Writes here expect the caller to hold the write transaction (`db.write()`).
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from kenv.errors import NotFound
from kenv.inventory.database import Database, Row
from kenv.inventory.model import Environment

ENV_COLUMNS = (
    "id, name, provider, role, subnet, node_port, servers, agents, k8s_version, labels, "
    "register_portainer, haproxy_route, desired_state, status, last_error, last_step, created_at, updated_at"
)


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: Any) -> datetime:
    """A stored time as an aware UTC datetime, whatever the backend or session time zone."""
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def as_network(value: Any) -> ipaddress.IPv4Network | None:
    if value is None:
        return None
    network = ipaddress.ip_network(str(value), strict=False)
    assert isinstance(network, ipaddress.IPv4Network)
    return network


def row_to_environment(row: Row, ports: dict[str, int]) -> Environment:
    return Environment(
        id=int(row[0]),
        name=row[1],
        provider=row[2],
        role=row[3],
        subnet=as_network(row[4]),
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


class Store:
    """One open database connection and the dialect differences every table shares."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @property
    def dialect(self) -> str:
        return self.db.dialect

    def close(self) -> None:
        self.db.close()

    def _timestamp(self, moment: datetime) -> Any:
        # SQLite stores ISO-8601 text (sorts and round-trips exactly); PostgreSQL timestamptz.
        return moment.isoformat() if self.dialect == "sqlite" else moment


class Records(Store):
    """Reading and writing environment rows and their host ports."""

    # -- reads ------------------------------------------------------------------------------

    def _ports_by_environment(self, env_id: int | None = None) -> dict[int, dict[str, int]]:
        sql = "SELECT environment_id, purpose, port FROM host_ports"
        rows = self.db.query(sql + (" WHERE environment_id = :id" if env_id else ""), {"id": env_id})
        ports: dict[int, dict[str, int]] = {}
        for environment_id, purpose, port in rows:
            ports.setdefault(int(environment_id), {})[purpose] = int(port)
        return ports

    def find(self, name: str) -> Environment | None:
        rows = self.db.query(f"SELECT {ENV_COLUMNS} FROM environments WHERE name = :name", {"name": name})
        if not rows:
            return None
        env_id = int(rows[0][0])
        return row_to_environment(rows[0], self._ports_by_environment(env_id).get(env_id, {}))

    def get(self, name: str) -> Environment:
        env = self.find(name)
        if env is None:
            raise NotFound(f"environment {name!r} is not in the inventory", hint="see `kenv list`")
        return env

    def environments(
        self, *, provider: str | None = None, labels: Mapping[str, str] | None = None
    ) -> list[Environment]:
        sql = f"SELECT {ENV_COLUMNS} FROM environments"
        params: dict[str, Any] = {}
        if provider:
            sql += " WHERE provider = :provider"
            params["provider"] = provider
        rows = self.db.query(sql + " ORDER BY name", params)
        ports = self._ports_by_environment()
        envs = [row_to_environment(row, ports.get(int(row[0]), {})) for row in rows]
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
            network = as_network(subnet)
            assert network is not None
            result.append((str(name), network))
        return result

    # -- writes of decided values -----------------------------------------------------------

    def _subnet_params(self, subnet: ipaddress.IPv4Network | None) -> dict[str, Any]:
        params: dict[str, Any] = {"subnet": str(subnet) if subnet else None}
        if self.dialect == "sqlite":
            # SQLite has no network type: the overlap trigger compares integer ranges.
            params["net_start"] = int(subnet.network_address) if subnet else None
            params["net_end"] = int(subnet.broadcast_address) if subnet else None
        return params

    def _subnet_columns(self) -> str:
        return "subnet, net_start, net_end" if self.dialect == "sqlite" else "subnet"

    def _subnet_values(self) -> str:
        return ":subnet, :net_start, :net_end" if self.dialect == "sqlite" else ":subnet"

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
