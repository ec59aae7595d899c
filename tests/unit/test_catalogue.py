"""The provider catalogue is the one place provider facts live: every other place that knows about
providers (the registry, the inventory schema, the tool checks, validation) must agree with it.

Adding a provider is one catalogue entry and its module; these tests say what else is missing."""

from __future__ import annotations

import inspect
import re
import sqlite3
from pathlib import Path

import pytest

from kenv.catalogue import CATALOGUE, MANAGED_PROVIDERS, PROVIDERS, SUBNET_PROVIDERS, facts_for
from kenv.errors import InvalidInput
from kenv.inventory import schema
from kenv.inventory.repository import ensure_ports_spec
from kenv.inventory.validation import AUTO, EnvironmentSpec, check_spec, parse_subnet_choice
from kenv.providers.base import ClusterState, NodeState, Provider
from kenv.providers.registry import provider_for
from kenv.runtime import tools
from kenv.runtime.process import INSTALL_HINTS
from tests.unit.scripted_runner import ScriptedRunner, environment

MIGRATION_NEEDED = (
    "the inventory schema does not match the provider catalogue: a provider added to (or removed from) "
    "kenv.catalogue.CATALOGUE needs a schema migration in kenv/inventory/schema.py that changes the "
    "CHECK constraints on environments.provider and environments.subnet"
)


def _sql_tuple(text: str) -> set[str]:
    return set(re.findall(r"'([^']*)'", text))


# -- the registry ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", PROVIDERS)
def test_catalogue_every_provider_has_an_importable_implementation(name: str, tmp_path: Path) -> None:
    runner = ScriptedRunner()
    provider = provider_for(name, runner, tmp_path)
    facts = facts_for(name)
    assert provider.name == name
    assert provider.tool == (facts.tool or "kubectl")
    for method, _ in inspect.getmembers(Provider, predicate=inspect.isfunction):
        if not method.startswith("_"):
            assert callable(getattr(provider, method, None)), f"{facts.implementation} has no {method}()"
    # The context the catalogue names is the one the provider writes.
    assert provider.context_name(environment("dev", name)) == facts.context_name("dev")
    assert runner.calls == []  # building a provider runs nothing


def test_catalogue_unknown_provider_is_refused_by_the_registry(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="unknown provider 'nomad'") as caught:
        provider_for("nomad", ScriptedRunner(), tmp_path)
    assert all(name in (caught.value.hint or "") for name in PROVIDERS)


def test_catalogue_names_are_its_keys_and_managed_providers_have_a_tool() -> None:
    for name, facts in CATALOGUE.items():
        assert facts.name == name
        if facts.managed:
            assert facts.tool is not None and facts.tested_versions is not None and facts.install_hint
        assert facts.context_name("dev")
        facts.in_cluster()  # parses
    assert set(MANAGED_PROVIDERS) <= set(PROVIDERS) and set(SUBNET_PROVIDERS) <= set(PROVIDERS)


# -- the inventory schema --------------------------------------------------------------------------


def test_catalogue_schema_provider_enum_matches_the_catalogue() -> None:
    assert _sql_tuple(schema._ENUMS["provider"]) == set(PROVIDERS), MIGRATION_NEEDED


def test_catalogue_schema_subnet_check_matches_the_subnet_providers() -> None:
    match = re.search(r"CHECK \(provider IN (\([^)]*\)) OR subnet IS NULL\)", schema._COMMON_CHECKS)
    assert match is not None, "the 'subnet only for ...' CHECK is gone from _COMMON_CHECKS; " + MIGRATION_NEEDED
    assert _sql_tuple(match.group(1)) == set(SUBNET_PROVIDERS), MIGRATION_NEEDED


def _migrated_sqlite(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path)
    for version in sorted(schema.MIGRATIONS):
        for statement in schema.MIGRATIONS[version]["sqlite"]:
            conn.execute(statement)
    return conn


def _insert(conn: sqlite3.Connection, name: str, provider: str, subnet: tuple[str, int, int] | None) -> None:
    cidr, start, end = subnet or (None, None, None)
    conn.execute(
        "INSERT INTO environments (name, provider, subnet, net_start, net_end, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, '2026-01-01', '2026-01-01')",
        (name, provider, cidr, start, end),
    )


def test_catalogue_the_migrated_inventory_accepts_exactly_the_catalogue(tmp_path: Path) -> None:
    """The database as every migration leaves it (SQLite): each catalogue provider is accepted, a
    subnet exactly for the subnet providers. Passes again once a migration follows the catalogue."""
    conn = _migrated_sqlite(tmp_path / "inventory.db")
    base = 0x0AC80000  # 10.200.0.0
    for index, name in enumerate(PROVIDERS):
        try:
            _insert(conn, f"plain-{index}", name, None)
        except sqlite3.IntegrityError as exc:
            pytest.fail(f"{name}: {exc}; {MIGRATION_NEEDED}")
        start = base + index * 256
        subnet = (f"10.200.{index}.0/24", start, start + 255)
        if name in SUBNET_PROVIDERS:
            try:
                _insert(conn, f"net-{index}", name, subnet)
            except sqlite3.IntegrityError as exc:
                pytest.fail(
                    f"{name} is a subnet provider but the inventory refuses its subnet: {exc}; {MIGRATION_NEEDED}"
                )
        else:
            with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
                _insert(conn, f"net-{index}", name, subnet)
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        _insert(conn, "nomad", "nomad", None)


# -- the tools -------------------------------------------------------------------------------------


def _tools() -> list[str]:
    return sorted({facts.tool or "kubectl" for facts in CATALOGUE.values()} | {"docker"})


@pytest.mark.parametrize("tool", _tools())
def test_catalogue_every_provider_tool_has_a_tested_range_and_an_install_hint(tool: str) -> None:
    assert tool in tools.TESTED_RANGES, f"runtime/tools.TESTED_RANGES has no range for {tool}"
    assert tool in INSTALL_HINTS, f"runtime/process.INSTALL_HINTS has no hint for {tool}"
    assert tool in tools.TOOLS, f"runtime/tools.TOOLS (what doctor checks) leaves out {tool}"


@pytest.mark.parametrize(
    ("tool", "stdout", "version"),
    [
        ("k3d", "k3d version v5.8.3\nk3s version v1.31.5-k3s1 (default)\n", "v5.8.3"),
        ("k3d", "k3d version v5.9.0\nk3s version v1.33.4-k3s1 (default)\n", "v5.9.0"),
        ("kind", "kind v0.27.0 go1.23.6 linux/amd64\n", "v0.27.0"),
        ("minikube", "v1.34.0\n", "v1.34.0"),
        ("minikube", "v1.38.1\n", "v1.38.1"),
    ],
)
def test_catalogue_version_probe_reads_the_supported_versions(tool: str, stdout: str, version: str) -> None:
    facts = facts_for(tool)
    runner = ScriptedRunner().expect(facts.version_command, stdout=stdout)
    found = tools.detect(runner, tool)
    runner.assert_done()
    assert (found.found, found.version, found.supported) == (True, version, True), found.detail


def test_catalogue_version_probe_flags_an_untested_major() -> None:
    runner = ScriptedRunner().expect(facts_for("k3d").version_command, stdout="k3d version v4.4.8\nk3s version v1.21\n")
    found = tools.detect(runner, "k3d")
    assert found.found and found.version == "v4.4.8" and not found.supported


# -- node counting ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("provider", "servers", "agents", "nodes"),
    [
        ("k3d", 1, 0, 2),  # the serverlb, always
        ("k3d", 3, 2, 6),
        ("kind", 1, 2, 3),  # no external-load-balancer with one control plane
        ("kind", 3, 1, 5),
        ("minikube", 1, 2, 3),  # never a load balancer node
        ("minikube", 3, 0, 3),
    ],
)
def test_catalogue_expected_nodes(provider: str, servers: int, agents: int, nodes: int) -> None:
    assert facts_for(provider).expected_nodes(servers, agents) == nodes


def test_catalogue_an_adopted_cluster_is_never_counted() -> None:
    up = ClusterState("prod", "external", (NodeState("prod", "server", True),))
    down = ClusterState("prod", "external", (NodeState("prod", "server", False),))
    assert up.shortfall(3, 5) is None
    assert down.shortfall(1, 0) == "not reachable"


# -- validation reads the catalogue ----------------------------------------------------------------


def _spec(provider: str, *, servers: int = 1, agents: int = 0, **ports: int | None) -> EnvironmentSpec:
    nodes = servers + agents
    return EnvironmentSpec(
        name="dev",
        provider=provider,
        subnet=AUTO if provider in SUBNET_PROVIDERS else None,
        servers=servers,
        agents=agents,
        ports=ensure_ports_spec(ports, provider, nodes),
    )


def test_catalogue_minikube_refuses_two_servers() -> None:
    with pytest.raises(InvalidInput, match="minikube cannot make 2 server") as caught:
        check_spec(_spec("minikube", servers=2))
    assert "--ha" in caught.value.message
    check_spec(_spec("minikube", servers=3))
    check_spec(_spec("minikube", servers=1))


def test_catalogue_minikube_refuses_host_ports_on_a_multi_node_profile() -> None:
    with pytest.raises(InvalidInput, match="minikube#12776") as caught:
        check_spec(_spec("minikube", agents=1, http=18080))
    assert "--http-port none" in (caught.value.hint or "")
    # Left to the defaults, a multi-node profile publishes nothing and is accepted.
    check_spec(_spec("minikube", agents=1))
    assert dict(ensure_ports_spec({}, "minikube", 2))["http"] is None
    # One node publishes ingress ports; k3d and kind do with agents too.
    check_spec(_spec("minikube", http=18080))
    check_spec(_spec("k3d", agents=2, http=18080))
    check_spec(_spec("kind", agents=2, http=18080))


def test_catalogue_minikube_refuses_an_explicit_api_port() -> None:
    with pytest.raises(InvalidInput, match="random host port"):
        check_spec(_spec("minikube", api=16443))
    assert dict(ensure_ports_spec({}, "minikube"))["api"] is None
    assert dict(ensure_ports_spec({}, "k3d"))["api"] is AUTO
    check_spec(_spec("k3d", api=16443))
    check_spec(_spec("kind", api=16443))


def test_catalogue_kind_refuses_a_subnet() -> None:
    with pytest.raises(InvalidInput, match="kind environments cannot have a subnet"):
        parse_subnet_choice("10.200.5.0/24", "kind")
    with pytest.raises(InvalidInput, match="no subnet of their own"):
        parse_subnet_choice("auto", "kind")
    with pytest.raises(InvalidInput, match="no subnet of their own"):
        check_spec(EnvironmentSpec(name="dev", provider="kind", subnet=AUTO))
    assert parse_subnet_choice(None, "kind") is None
    assert parse_subnet_choice("none", "kind") is None
    assert parse_subnet_choice(None, "k3d") is AUTO
    assert str(parse_subnet_choice("10.200.5.0/24", "minikube")) == "10.200.5.0/24"
