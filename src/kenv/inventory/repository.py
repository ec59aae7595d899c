"""The inventory: one interface over SQLite and PostgreSQL, composed of the environment records
(records.py), allocation (allocator.py) and the operations log (operations.py).

Allocation runs inside one write transaction (BEGIN IMMEDIATE / advisory lock): read what is
held, choose the lowest free values, insert, commit. The database constraints are the backstop:
if some writer skipped the lock, the typed `ConstraintViolation` is retried with fresh choices
(bounded, with jitter) or reported as a conflict naming the holder.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Mapping
from typing import Any

from kenv.errors import Conflict, InvalidInput
from kenv.inventory import schema
from kenv.inventory.allocator import (
    AllocationPolicy,
    DockerNetworkLike,
    HostProbe,
    NoHostChecks,
    check_port_free,
    check_subnet_free,
    choose_ports,
    choose_subnet,
    ensure_ports_spec,
)
from kenv.inventory.database import (
    CHECK_FAILED,
    NAME_TAKEN,
    ConstraintViolation,
    connect,
)
from kenv.inventory.model import STATUSES, Environment
from kenv.inventory.operations import OPERATION_KEYS, OperationsLog, actor
from kenv.inventory.records import Records, as_utc, utcnow
from kenv.inventory.validation import EnvironmentSpec, check_spec

# Names other modules import from here; they stay importable from this module.
__all__ = [
    "MAX_ATTEMPTS",
    "OPERATION_KEYS",
    "AllocationPolicy",
    "DockerNetworkLike",
    "HostProbe",
    "Inventory",
    "NoHostChecks",
    "actor",
    "as_utc",
    "check_port_free",
    "check_subnet_free",
    "ensure_ports_spec",
    "open_inventory",
    "utcnow",
]

log = logging.getLogger("kenv.inventory")

MAX_ATTEMPTS = 6


class Inventory(Records, OperationsLog):
    def __enter__(self) -> Inventory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

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
                    env = self.insert_new(spec, policy, host, docker)
                    self.record_operation(env.name, "register", "succeeded", started_at=started)
                return env
            except ConstraintViolation as violation:
                if violation.kind == NAME_TAKEN:
                    raise Conflict(
                        f"environment {spec.name!r} already exists", hint="choose another name"
                    ) from violation
                if violation.kind == CHECK_FAILED:
                    raise InvalidInput(f"the database rejected {spec.name!r}: {violation.detail}") from violation
                if attempt == MAX_ATTEMPTS:
                    raise Conflict(
                        f"could not allocate for {spec.name!r} after {MAX_ATTEMPTS} attempts: {violation.detail}",
                        hint="another writer keeps taking the same values; retry",
                    ) from violation
                log.info("allocation race (%s), retrying (attempt %d)", violation.kind, attempt)
                time.sleep(random.uniform(0.005, 0.05) * attempt)  # noqa: S311 - jitter, not crypto
        raise AssertionError("unreachable")

    def update_labels(self, name: str, labels: Mapping[str, str]) -> Environment:
        """Replace an environment's labels (kenv's own metadata: no cluster changes)."""
        with self.db.write():
            return self.replace_record(self.get(name), labels=dict(labels))

    def insert_new(
        self,
        spec: EnvironmentSpec,
        policy: AllocationPolicy,
        host: HostProbe,
        docker: list[DockerNetworkLike],
    ) -> Environment:
        """Allocate and insert one new record inside the caller's write transaction (register's
        core; apply allocates a whole file this way in one transaction it rolls back to plan)."""
        if self.db.query("SELECT 1 FROM environments WHERE name = :name", {"name": spec.name}):
            raise Conflict(f"environment {spec.name!r} already exists", hint="choose another name")
        ports = choose_ports(spec, policy, self.port_holders(), host)
        subnet = choose_subnet(spec, policy, self.subnet_holders() if spec.subnet is not None else [], docker)
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


def open_inventory(url: str, *, migrate: bool = True, create: bool = True) -> Inventory:
    """Connect and bring the schema up to date (unless migrate=False, for `kenv db status`).

    create=False is for commands that only read: a SQLite file that does not exist is an error
    (InvalidInput) instead of a new empty inventory."""
    db = connect(url, create=create)
    try:
        if migrate:
            schema.upgrade(db)
    except BaseException:
        db.close()
        raise
    return Inventory(db)
