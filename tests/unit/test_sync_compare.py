"""sync's comparison of one record with what its provider reports, without any tool."""

from __future__ import annotations

from typing import Any

import pytest

from kenv.inventory.model import Environment
from kenv.providers.base import ClusterState, NodeState
from kenv.workflows.sync import _compare
from tests.unit.scripted_runner import record


def cluster(*, running: bool = True, agents: int = 0, **changes: Any) -> ClusterState:
    nodes = [NodeState("k3d-dev-server-0", "server", running), NodeState("k3d-dev-serverlb", "loadbalancer", running)]
    nodes += [NodeState(f"k3d-dev-agent-{i}", "agent", running) for i in range(agents)]
    values: dict[str, Any] = {"api_port": 16400, "subnet": "10.200.0.0/24", "node_ip": "10.200.0.2", **changes}
    return ClusterState("dev", "k3d", tuple(nodes), **values)


def kinds(env: Environment, state: ClusterState | None) -> list[tuple[str, str]]:
    return [(d.kind, d.action) for d in _compare(env, state)]


def test_a_matching_cluster_is_no_drift() -> None:
    assert _compare(record(), cluster()) == []


def test_a_recorded_environment_without_a_cluster_is_missing() -> None:
    assert kinds(record(), None) == [("missing", "create")]


def test_an_environment_meant_to_be_absent_is_not_missing_and_its_cluster_is_unwanted() -> None:
    assert kinds(record(desired_state="absent", status="absent"), None) == []
    assert kinds(record(desired_state="absent"), cluster()) == [("unwanted", "delete")]


def test_a_stopped_cluster_recorded_running_is_a_status_drift() -> None:
    drift = _compare(record(), cluster(running=False))
    assert [(d.kind, d.action, d.status) for d in drift] == [("status", "record-status", "stopped")]
    assert drift[0].detail == "recorded running, actually stopped"


@pytest.mark.parametrize("status", ["stopped", "unknown", "failed"])
def test_a_running_cluster_recorded_otherwise_is_recorded_running(status: str) -> None:
    drift = _compare(record(status=status), cluster())
    assert [(d.kind, d.status) for d in drift] == [("status", "running")]


def test_a_status_kenv_is_working_on_is_left_alone() -> None:
    assert _compare(record(status="creating"), cluster(running=False)) == []


def test_a_cluster_missing_a_node_while_others_run_is_incomplete_and_only_reported() -> None:
    drift = _compare(record(agents=1), cluster())
    assert [(d.kind, d.action) for d in drift] == [("incomplete", "none")]
    assert drift[0].detail.startswith("2 of 3 node(s) exist")
    assert "kenv start dev" in drift[0].detail


def test_an_api_port_that_moved_is_reported() -> None:
    drift = _compare(record(), cluster(api_port=16999))
    assert [(d.kind, d.action, d.detail) for d in drift] == [("port", "none", "API on 16999, recorded 16400")]


def test_a_cluster_on_another_network_is_reported() -> None:
    drift = _compare(record(), cluster(subnet="10.201.0.0/24", node_ip="10.201.0.2"))
    assert [(d.kind, d.detail) for d in drift] == [("subnet", "network 10.201.0.0/24, recorded 10.200.0.0/24")]
    outside = _compare(record(), cluster(subnet=None, node_ip="10.9.0.2"))
    assert [(d.kind, d.detail) for d in outside] == [("subnet", "node address 10.9.0.2, recorded 10.200.0.0/24")]


def test_a_provider_without_a_host_api_port_or_subnet_is_not_checked_for_them() -> None:
    env = record(provider="kind", subnet=None)
    state = ClusterState(
        "dev", "kind", (NodeState("dev-control-plane", "server", True),), api_port=1, subnet="10.9.0.0/16"
    )
    assert [d.kind for d in _compare(env, state)] == ["port"], "kind publishes its API port on the host"
    mk = record(provider="minikube", ports={"http": 18000})
    assert (
        _compare(mk, ClusterState("dev", "minikube", (NodeState("dev", "server", True),), subnet="10.200.0.0/24")) == []
    )
