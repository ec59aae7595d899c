"""The inventory on real SQLite and real PostgreSQL: the same behaviour on both."""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from kenv.errors import Conflict, InvalidInput, KenvError, NotFound
from kenv.inventory import schema
from kenv.inventory.database import ConstraintViolation
from kenv.inventory.repository import AllocationPolicy, Inventory, NoHostChecks, ensure_ports_spec, open_inventory
from kenv.inventory.validation import AUTO, EnvironmentSpec
from kenv.settings import PortRange

POLICY = AllocationPolicy(
    port_ranges={
        "http": PortRange(18000, 18099),
        "https": PortRange(18500, 18599),
        "pf": PortRange(19000, 19099),
        "api": PortRange(16400, 16499),
    },
    subnet_pool=ipaddress.IPv4Network("10.200.0.0/16"),
    subnet_prefix=24,
)


class FakeDocker:
    def __init__(self, *subnets: str) -> None:
        self.name = "bridge-test"
        self.subnets = tuple(ipaddress.IPv4Network(s) for s in subnets)


class Probe(NoHostChecks):
    """A host where some ports are bound by other processes and Docker has some networks."""

    def __init__(self, busy: set[int] | None = None, docker: list[FakeDocker] | None = None) -> None:
        self.busy = busy or set()
        self.docker = docker or []

    def port_is_free(self, port: int) -> bool:
        return port not in self.busy

    def docker_networks(self) -> list[FakeDocker]:  # type: ignore[override]
        return self.docker


def spec(name: str, provider: str = "k3d", **kwargs: object) -> EnvironmentSpec:
    ports = kwargs.pop("ports", {})
    assert isinstance(ports, dict)
    kwargs.setdefault("subnet", AUTO if provider in ("k3d", "minikube") else None)
    return EnvironmentSpec(name=name, provider=provider, ports=ensure_ports_spec(ports, provider), **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def inventory(db_url: str) -> Iterator[Inventory]:
    with open_inventory(db_url) as inv:
        yield inv


def test_register_allocates_lowest_free_values(inventory: Inventory) -> None:
    dev = inventory.register(spec("dev"), POLICY, Probe())
    assert dev.ports == {"http": 18000, "https": 18500, "pf": 19000, "api": 16400}
    assert dev.subnet == ipaddress.IPv4Network("10.200.0.0/24")
    qa = inventory.register(spec("qa", "kind"), POLICY, Probe())
    assert qa.ports == {"http": 18001, "https": 18501, "pf": 19001, "api": 16401}
    assert qa.subnet is None
    assert [e.name for e in inventory.environments()] == ["dev", "qa"]


def test_freed_gaps_are_reused(inventory: Inventory) -> None:
    for name in ("a", "b", "c"):
        inventory.register(spec(name), POLICY, Probe())
    inventory.unregister("b")
    again = inventory.register(spec("d"), POLICY, Probe())
    assert again.ports["http"] == 18001
    assert again.subnet == ipaddress.IPv4Network("10.200.1.0/24")


def test_ports_held_by_other_processes_and_docker_networks_are_skipped(inventory: Inventory) -> None:
    probe = Probe(busy={18000, 18500, 18501}, docker=[FakeDocker("10.200.0.0/23")])
    env = inventory.register(spec("dev"), POLICY, probe)
    assert env.ports["http"] == 18001
    assert env.ports["https"] == 18502
    assert env.subnet == ipaddress.IPv4Network("10.200.2.0/24")


def test_a_real_bound_port_is_skipped(inventory: Inventory) -> None:
    from kenv.runtime.host import LiveHostProbe

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        busy = holder.getsockname()[1]
        policy = AllocationPolicy(
            port_ranges={**POLICY.port_ranges, "http": PortRange(busy, busy + 63)},
            subnet_pool=POLICY.subnet_pool,
            subnet_prefix=24,
        )
        env = inventory.register(spec("dev", subnet=None), policy, LiveHostProbe())
        assert env.ports["http"] != busy
        with pytest.raises(Conflict, match="in use by another process"):
            inventory.register(spec("qa", subnet=None, ports={"http": busy}), policy, LiveHostProbe())


def test_explicit_values_are_refused_with_the_holder_named(inventory: Inventory) -> None:
    inventory.register(spec("dev", ports={"http": 18010}, subnet=ipaddress.IPv4Network("10.200.5.0/24")), POLICY)
    with pytest.raises(Conflict, match="port 18010 is already used by environment 'dev' \\(http_port\\)"):
        inventory.register(spec("qa", ports={"api": 18010}), POLICY)
    with pytest.raises(Conflict, match=re.escape("overlaps 10.200.5.0/24 of environment 'dev'")):
        inventory.register(spec("qa", subnet=ipaddress.IPv4Network("10.200.0.0/16")), POLICY)
    with pytest.raises(Conflict, match="Docker network"):
        inventory.register(
            spec("qa", subnet=ipaddress.IPv4Network("10.210.0.0/24")),
            POLICY,
            Probe(docker=[FakeDocker("10.210.0.0/16")]),
        )
    with pytest.raises(Conflict, match="already exists"):
        inventory.register(spec("dev"), POLICY)
    assert [e.name for e in inventory.environments()] == ["dev"]


def test_dry_run_register_writes_nothing(inventory: Inventory) -> None:
    planned = inventory.register(spec("dev"), POLICY, dry_run=True)
    assert planned.ports["http"] == 18000
    assert inventory.environments() == []
    assert inventory.operations() == []


def test_exhaustion_is_reported(inventory: Inventory) -> None:
    tiny = AllocationPolicy(
        port_ranges={**POLICY.port_ranges, "http": PortRange(18000, 18000)},
        subnet_pool=POLICY.subnet_pool,
        subnet_prefix=24,
    )
    inventory.register(spec("a"), tiny)
    with pytest.raises(InvalidInput, match="no free http port left"):
        inventory.register(spec("b"), tiny)


def test_unregister_frees_everything_and_unknown_names_are_reported(inventory: Inventory) -> None:
    inventory.register(spec("dev"), POLICY)
    removed = inventory.unregister("dev")
    assert removed.name == "dev"
    assert inventory.port_holders() == {}
    assert inventory.subnet_holders() == []
    with pytest.raises(NotFound):
        inventory.unregister("dev")


def test_operations_are_recorded(inventory: Inventory) -> None:
    inventory.register(spec("dev"), POLICY)
    inventory.unregister("dev")
    ops = inventory.operations()
    assert [(o["environment"], o["operation"], o["status"]) for o in ops] == [
        ("dev", "unregister", "succeeded"),
        ("dev", "register", "succeeded"),
    ]
    assert "@" in ops[0]["actor"]


def test_labels_filter_and_provider_filter(inventory: Inventory) -> None:
    inventory.register(spec("a", labels=(("team", "x"),)), POLICY)
    inventory.register(spec("b", "kind", labels=(("team", "y"),)), POLICY)
    assert [e.name for e in inventory.environments(labels={"team": "y"})] == ["b"]
    assert [e.name for e in inventory.environments(provider="k3d")] == ["a"]


# -- the database itself enforces the invariants, whatever code writes to it ------------------------


def _raw_insert(inventory: Inventory, name: str, subnet: str | None) -> None:
    now = datetime.now(UTC)
    inventory.insert_record(
        name=name,
        provider="k3d",
        role="business",
        subnet=ipaddress.IPv4Network(subnet) if subnet else None,
        ports={},
        node_port=30080,
        created_at=now,
        updated_at=now,
    )


def _violates(inventory: Inventory, action: object, kind: str) -> None:
    # Whatever the backend, the database layer raises one typed error saying which invariant broke.
    with pytest.raises(ConstraintViolation) as caught, inventory.db.write():
        action()  # type: ignore[operator]
    assert caught.value.kind == kind, caught.value
    assert isinstance(caught.value, KenvError)
    assert caught.value.exit_code == 2


def test_database_refuses_a_duplicate_name(inventory: Inventory) -> None:
    with inventory.db.write():
        _raw_insert(inventory, "a", None)
    _violates(inventory, lambda: _raw_insert(inventory, "a", None), "name")


def test_a_serialization_failure_is_typed(db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite serialises writers with BEGIN IMMEDIATE: no serialization failure to report")
    first, second = open_inventory(db_url), open_inventory(db_url)
    try:
        started = datetime.now(UTC)
        for inv in (first, second):
            inv.db.execute("BEGIN ISOLATION LEVEL SERIALIZABLE")
            inv.db.query("SELECT count(*) FROM operations")
        for inv in (first, second):
            inv.record_operation(None, "test", "succeeded", started_at=started)
        first.db.execute("COMMIT")
        with pytest.raises(ConstraintViolation) as caught:
            second.db.execute("COMMIT")
        assert caught.value.kind == "serialization"
        assert caught.value.exit_code == 1
    finally:
        first.close()
        second.close()


def test_database_refuses_overlapping_subnets(inventory: Inventory) -> None:
    with inventory.db.write():
        _raw_insert(inventory, "a", "10.200.0.0/24")
    _violates(inventory, lambda: _raw_insert(inventory, "b", "10.200.0.128/25"), "subnet")
    _violates(inventory, lambda: _raw_insert(inventory, "c", "10.0.0.0/8"), "subnet")
    with inventory.db.write():
        _raw_insert(inventory, "d", "10.200.1.0/24")
    assert len(inventory.environments()) == 2


def test_database_refuses_duplicate_ports_across_purposes(inventory: Inventory) -> None:
    with inventory.db.write():
        _raw_insert(inventory, "a", None)
        _raw_insert(inventory, "b", None)
    a, b = inventory.get("a"), inventory.get("b")

    def reuse() -> None:
        inventory.db.execute(
            "INSERT INTO host_ports (port, environment_id, purpose) VALUES (20000, :id, 'http')", {"id": a.id}
        )
        inventory.db.execute(
            "INSERT INTO host_ports (port, environment_id, purpose) VALUES (20000, :id, 'api')", {"id": b.id}
        )

    _violates(inventory, reuse, "port")
    assert inventory.port_holders() == {}


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE environments SET provider = 'docker'",
        "UPDATE environments SET status = 'happy'",
        "UPDATE environments SET name = 'Bad Name'",
        "UPDATE environments SET name = 'devops'",
        "UPDATE environments SET node_port = 70000",
        "UPDATE environments SET provider = 'kind'",
    ],
)
def test_database_check_constraints(inventory: Inventory, statement: str) -> None:
    with inventory.db.write():
        _raw_insert(inventory, "a", "10.200.0.0/24")
    _violates(inventory, lambda: inventory.db.execute(statement), "check")


def test_port_check_constraint(inventory: Inventory) -> None:
    with inventory.db.write():
        _raw_insert(inventory, "a", None)
    env_id = inventory.get("a").id
    _violates(
        inventory,
        lambda: inventory.db.execute(
            "INSERT INTO host_ports (port, environment_id, purpose) VALUES (70000, :id, 'http')", {"id": env_id}
        ),
        "check",
    )


def test_schema_is_versioned_and_upgrade_is_idempotent(inventory: Inventory) -> None:
    assert schema.status(inventory.db).up_to_date
    assert schema.upgrade(inventory.db) == []


def test_a_newer_schema_is_refused(inventory: Inventory, db_url: str) -> None:
    with inventory.db.write():
        inventory.db.execute("UPDATE kenv_schema SET version = 99")
    with pytest.raises(InvalidInput, match="newer than this kenv"):
        open_inventory(db_url)


def test_status_updates_keep_allocations(inventory: Inventory) -> None:
    before = inventory.register(spec("dev"), POLICY)
    after = inventory.set_status("dev", "failed", last_error="boom", last_step="cluster")
    assert (after.status, after.last_error, after.last_step) == ("failed", "boom", "cluster")
    assert after.ports == before.ports
    assert after.subnet == before.subnet
    assert after.updated_at >= before.updated_at


def test_auto_subnet_is_the_default_for_k3d(inventory: Inventory) -> None:
    env = inventory.register(EnvironmentSpec(name="dev", provider="k3d", subnet=AUTO), POLICY)
    assert env.subnet is not None


def test_schema_v2_gives_back_the_api_ports_v1_held_for_minikube(db_url: str) -> None:
    from kenv.inventory.database import connect

    db = connect(db_url)
    try:
        with db.write():
            db.execute("CREATE TABLE kenv_schema (version INTEGER NOT NULL)")
            db.execute("INSERT INTO kenv_schema (version) VALUES (1)")
            db.executescript(schema.MIGRATIONS[1][db.dialect])
            for env_id, name, provider in ((1, "mk", "minikube"), (2, "dev", "k3d")):
                db.execute(
                    "INSERT INTO environments (id, name, provider, created_at, updated_at) "
                    "VALUES (:id, :name, :provider, :now, :now)",
                    {"id": env_id, "name": name, "provider": provider, "now": datetime.now(UTC).isoformat()},
                )
                db.execute(
                    "INSERT INTO host_ports (port, environment_id, purpose) VALUES (:port, :id, 'api')",
                    {"port": 16400 + env_id, "id": env_id},
                )
                db.execute(
                    "INSERT INTO host_ports (port, environment_id, purpose) VALUES (:port, :id, 'http')",
                    {"port": 18000 + env_id, "id": env_id},
                )
        assert schema.upgrade(db) == [2]
        rows = sorted(tuple(r) for r in db.query("SELECT port, purpose FROM host_ports"))
        assert rows == [(16402, "api"), (18001, "http"), (18002, "http")], "only minikube's API port is freed"
    finally:
        db.close()


def test_a_race_lost_to_a_writer_that_skipped_the_lock_is_retried(
    inventory: Inventory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first attempt sees a stale view (as if another writer committed without the lock):
    # the database refuses the port with a typed violation and the second attempt chooses afresh.
    inventory.register(spec("a", "kind"), POLICY)
    real = inventory.port_holders
    calls: list[int] = []

    def stale() -> dict[int, tuple[str, str]]:
        calls.append(1)
        return {} if len(calls) == 1 else real()

    monkeypatch.setattr(inventory, "port_holders", stale)
    b = inventory.register(spec("b", "kind"), POLICY)
    assert len(calls) == 2
    assert b.ports == {"http": 18001, "https": 18501, "pf": 19001, "api": 16401}
    assert [op["environment"] for op in inventory.operations()] == ["b", "a"]
