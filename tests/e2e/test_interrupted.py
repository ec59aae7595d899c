"""Interrupted and degraded paths: a create killed half-way, a kenv killed while its tool runs, a
Docker engine that is down, a record that blocks a create."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.lifecycle_support import Fleet


@pytest.fixture
def fleet(isolated: Path, tmp_path: Path) -> Iterator[Fleet]:
    world = Fleet(isolated, tmp_path)
    yield world
    world.kill_fakes()


def kill_during(fleet: Fleet, args: list[str], hang: str, call: str) -> None:
    proc = fleet.start(*args, KENV_FAKE_HANG=hang)
    fleet.wait_for_call(call)
    time.sleep(0.3)  # the tool is working
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)


def test_the_tool_does_not_outlive_the_kenv_that_started_it(fleet: Fleet) -> None:
    kill_during(fleet, ["create", "dev", "--subnet", "none"], "k3d:cluster-create", "cluster create")
    deadline = time.monotonic() + 5
    while fleet.fake_processes("k3d") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert fleet.fake_processes("k3d") == [], "k3d cluster create went on after kenv was killed"


def test_a_k3d_create_killed_after_its_first_server_is_made_again(fleet: Fleet) -> None:
    """k3d creates every node container, then starts the servers one by one, then agents and the
    load balancer: killed in between, servers run and the rest exist but do not."""
    kill_during(fleet, ["create", "dev", "--subnet", "none", "--agents", "2"], "k3d:cluster-create", "cluster create")
    result = fleet.run("create", "dev")
    assert result.returncode == 0, result.stderr
    assert "removing the half-made cluster dev" in result.stderr
    assert fleet.env_record("dev")["status"] == "running"  # type: ignore[index]
    verify = fleet.run("verify", "dev")
    assert verify.returncode == 0, verify.stdout


def test_a_kind_create_interrupted_is_made_again_not_waited_for(fleet: Fleet) -> None:
    """kind starts every node container at once and has no signal handling: after Ctrl-C the nodes
    run but kubeadm never finished. The rerun must not take that for a cluster."""
    proc = fleet.start("create", "qa", "--provider", "kind", KENV_FAKE_HANG="kind:create-cluster")
    fleet.wait_for_call("create cluster")
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=20)
    assert proc.returncode == 130
    started = time.monotonic()
    result = fleet.run("create", "qa", "--timeout", "60s")
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 30, "no wait for a cluster that never finished"
    assert "removing the half-made cluster qa" in result.stderr
    assert fleet.env_record("qa")["status"] == "running"  # type: ignore[index]


def test_a_cluster_that_never_gets_ready_fails_with_one_readable_line(fleet: Fleet) -> None:
    result = fleet.run("create", "dev", "--subnet", "none", "--timeout", "3s", KENV_FAKE_FAIL="kubectl:get-nodes")
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert "did not become ready within 3s" in last
    assert last.count("unable to handle the request") == 1, last
    assert len(last) < 400, last


def test_delete_with_the_docker_engine_down_says_so_and_keeps_the_record(fleet: Fleet) -> None:
    fleet.ok("create", "dev", "--subnet", "none")
    down = fleet.run("delete", "dev", KENV_FAKE_DOCKER_DOWN="1")
    assert down.returncode == 1
    assert "Docker engine is not running" in down.stderr and "systemctl start docker" in down.stderr
    assert len(down.stderr.strip().splitlines()) == 1
    record = fleet.env_record("dev")
    assert record is not None and record["status"] == "running", "nothing was touched"
    assert fleet.clusters()["k3d"] == ["dev"]
    fleet.ok("delete", "dev")
    assert fleet.environments() == [] and fleet.clusters()["k3d"] == []


@pytest.mark.parametrize("provider", ["k3d", "kind", "minikube"])
def test_create_with_the_docker_engine_down_records_nothing(fleet: Fleet, provider: str) -> None:
    result = fleet.run("create", "dev", "--provider", provider, KENV_FAKE_DOCKER_DOWN="1")
    assert result.returncode == 1
    assert "Docker engine is not running" in result.stderr
    assert fleet.environments() == []


def test_a_record_that_blocks_a_create_names_the_way_out(fleet: Fleet) -> None:
    fleet.ok("register", "dev", "--subnet", "10.230.0.0/24")
    result = fleet.run("create", "dev", "--subnet", "none")
    assert result.returncode == 2
    assert "kenv unregister dev" in result.stderr
    assert fleet.env_record("dev")["subnet"] == "10.230.0.0/24"  # type: ignore[index]
