"""Self-tests: the fake k3d and kind behave like the real tools' sources say
(k3d v5.8.3, kind v0.27.0; see the "Facts checked" table in tests/fakes/README.md).

Run as subprocesses, PATH = the fakes + python3 only (no real docker), own
state dir and HOME per test.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from tests.fakes_selftest.conftest import BIN, ENGINE_DOWN, Runner, fake_environment

DOWN = ENGINE_DOWN


@contextmanager
def hung(fake_env: dict[str, str], hang: str, *argv: str) -> Iterator[subprocess.Popen[str]]:
    """Start a create that hangs (KENV_FAKE_HANG), yield while it hangs, then kill -9 it."""
    env = dict(fake_env, KENV_FAKE_HANG=hang)
    proc = subprocess.Popen(
        [str(BIN / argv[0]), *argv[1:]],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        with pytest.raises(subprocess.TimeoutExpired):
            proc.wait(timeout=1.5)
        yield proc
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()


def state(fake_env: dict[str, str]) -> dict:
    return json.loads((Path(fake_env["KENV_FAKE_STATE"]) / "state.json").read_text())


def k3d_list(run: Runner, *names: str) -> list[dict]:
    proc = run("k3d", "cluster", "list", *names, "-o", "json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def kubeconfig(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


# ---------------------------------------------------------------------------- k3d: network / IPAM


def test_k3d_subnet_makes_a_managed_network_with_pinned_server_ips(run: Runner, fake_env: dict[str, str]) -> None:
    create = run("k3d", "cluster", "create", "ha", "--servers", "3", "--agents", "1", "--subnet", "172.30.0.0/16")
    assert create.returncode == 0, create.stderr
    assert "Created network 'k3d-ha'" in create.stdout
    net = state(fake_env)["networks"]["k3d-ha"]
    assert (net["subnet"], net["gateway"], net["labels"], net["managed"]) == (
        "172.30.0.0/16",
        "172.30.0.1",
        {"app": "k3d"},
        True,
    )
    entry = k3d_list(run)[0]
    nodes = {n["name"]: n for n in entry["nodes"]}
    # ClusterPrepNetwork reserves .2 (tools node), servers get .3, .4, .5 as static IPs
    for i, ip in enumerate(("172.30.0.3", "172.30.0.4", "172.30.0.5")):
        server = nodes[f"k3d-ha-server-{i}"]
        assert server["IP"] == {"IP": ip, "Static": True}
        assert server["runtimeLabels"]["k3d.node.staticIP"] == ip
        assert server["runtimeLabels"]["k3d.cluster.network.external"] == "false"
        assert server["runtimeLabels"]["k3d.cluster.network.iprange"] == "172.30.0.0/16"
    for other in ("k3d-ha-agent-0", "k3d-ha-serverlb"):  # only servers are pinned
        assert nodes[other]["IP"]["Static"] is False
        assert "k3d.node.staticIP" not in nodes[other]["runtimeLabels"]
    # stop/start keeps the pinned addresses
    assert run("k3d", "cluster", "stop", "ha").returncode == 0
    stopped = {n["name"]: n for n in k3d_list(run)[0]["nodes"]}
    assert stopped["k3d-ha-server-1"]["IP"] == {"IP": "", "Static": False}  # not running: no address
    assert run("k3d", "cluster", "start", "ha").returncode == 0
    again = {n["name"]: n for n in k3d_list(run)[0]["nodes"]}
    assert again["k3d-ha-server-1"]["IP"] == {"IP": "172.30.0.4", "Static": True}
    # delete removes the network k3d made
    delete = run("k3d", "cluster", "delete", "ha")
    assert "Deleting cluster network 'k3d-ha'" in delete.stdout
    assert "k3d-ha" not in state(fake_env)["networks"]


def test_k3d_without_subnet_network_is_not_managed(run: Runner, fake_env: dict[str, str]) -> None:
    assert run("k3d", "cluster", "create", "plain", "--servers", "2").returncode == 0
    nodes = k3d_list(run)[0]["nodes"]
    assert all(n["IP"]["Static"] is False for n in nodes)
    assert all("k3d.node.staticIP" not in n["runtimeLabels"] for n in nodes)
    assert run("k3d", "cluster", "delete", "plain").returncode == 0
    assert "k3d-plain" not in state(fake_env)["networks"]


def test_k3d_existing_network_is_reused_and_subnet_ignored(run: Runner, fake_env: dict[str, str]) -> None:
    # a network called k3d-dev exists (here: made for another cluster with --network)
    assert run("k3d", "cluster", "create", "other", "--network", "k3d-dev").returncode == 0
    existing = state(fake_env)["networks"]["k3d-dev"]["subnet"]
    create = run("k3d", "cluster", "create", "dev", "--servers", "3", "--subnet", "172.31.0.0/16")
    assert create.returncode == 0, create.stderr
    assert "Re-using existing network 'k3d-dev'" in create.stdout
    entry = k3d_list(run, "dev")[0]
    server = entry["nodes"][0]
    assert server["runtimeLabels"]["k3d.cluster.network.iprange"] == existing != "172.31.0.0/16"
    assert server["runtimeLabels"]["k3d.cluster.network.external"] == "true"
    assert entry["network"]["isExternal"] is True
    assert all(n["IP"]["Static"] is False for n in entry["nodes"])
    delete = run("k3d", "cluster", "delete", "dev")
    assert "Deleting cluster network" not in delete.stdout
    assert "k3d-dev" in state(fake_env)["networks"]


def test_k3d_network_flag_with_subnet_is_refused(run: Runner) -> None:
    proc = run("k3d", "cluster", "create", "n", "--network", "mynet", "--subnet", "172.29.0.0/16")
    assert proc.returncode == 1
    assert "cannot specify subnet for exiting network" in proc.stderr


# ---------------------------------------------------------------------------- k3d: killed create


def test_k3d_create_killed_after_first_server(run: Runner, fake_env: dict[str, str]) -> None:
    argv = ("k3d", "cluster", "create", "half", "--servers", "3", "--agents", "2", "--subnet", "172.27.0.0/16")
    with hung(fake_env, "k3d:cluster-create", *argv):
        entry = k3d_list(run)[0]
        counts = (entry["serversRunning"], entry["serversCount"], entry["agentsRunning"], entry["agentsCount"])
        assert counts == (1, 3, 0, 2)
        assert entry["hasLoadbalancer"] is True  # the serverlb container exists ...
        nodes = {n["name"]: n for n in entry["nodes"]}
        lb = nodes["k3d-half-serverlb"]
        assert lb["State"] == {"Running": False, "Status": "created", "Started": ""}  # ... but never started
        assert nodes["k3d-half-server-0"]["State"]["Running"] is True
        assert nodes["k3d-half-server-1"]["State"]["Status"] == "created"
        assert nodes["k3d-half-agent-1"]["IP"] == {"IP": "", "Static": False}
        # the API (served by the serverlb) does not answer; no kubeconfig was written
        assert not (Path(fake_env["HOME"]) / ".kube" / "config").exists()
        table = run("k3d", "cluster", "list").stdout.splitlines()[1].split()
        assert table == ["half", "1/3", "0/2", "true"]
    # what a killed create left stays; `k3d cluster start` starts exactly the rest
    start = run("k3d", "cluster", "start", "half")
    assert start.returncode == 0
    assert "Starting node 'k3d-half-server-0'" not in start.stdout
    assert "Starting node 'k3d-half-serverlb'" in start.stdout
    entry = k3d_list(run)[0]
    assert (entry["serversRunning"], entry["agentsRunning"]) == (3, 2)
    assert run("k3d", "cluster", "create", "half").returncode == 1  # the name is taken


# ---------------------------------------------------------------------------- k3d: default kubeconfig


def test_k3d_delete_rewrites_the_default_kubeconfig(run: Runner, fake_env: dict[str, str], tmp_path: Path) -> None:
    kc = tmp_path / "user.yaml"
    user = {"KUBECONFIG": str(kc)}
    assert run("k3d", "cluster", "create", "a", extra=user).returncode == 0
    assert run("k3d", "cluster", "create", "b", extra=user).returncode == 0
    assert kubeconfig(kc)["current-context"] == "k3d-b"
    delete = run("k3d", "cluster", "delete", "b", extra=user)
    assert "Removing cluster details from default kubeconfig..." in delete.stdout
    doc = kubeconfig(kc)
    assert [c["name"] for c in doc["contexts"]] == ["k3d-a"]
    assert doc["current-context"] == "k3d-a"  # moved to another context, not cleared
    # ~/.kube/config was never touched
    assert not (Path(fake_env["HOME"]) / ".kube" / "config").exists()


def test_k3d_delete_with_missing_or_several_kubeconfigs_only_warns(
    run: Runner, fake_env: dict[str, str], tmp_path: Path
) -> None:
    assert run("k3d", "cluster", "create", "w", "--kubeconfig-update-default=false").returncode == 0
    missing = tmp_path / "missing.yaml"
    proc = run("k3d", "cluster", "delete", "w", extra={"KUBECONFIG": str(missing)})
    assert proc.returncode == 0
    assert "Failed to remove cluster details from default kubeconfig" in proc.stderr
    assert f"failed to get default kubeconfig file: open {missing}: no such file or directory" in proc.stderr
    assert not missing.exists()
    assert run("k3d", "cluster", "create", "w2", "--kubeconfig-update-default=false").returncode == 0
    several = {"KUBECONFIG": f"{tmp_path / 'x.yaml'}{os.pathsep}{tmp_path / 'y.yaml'}"}
    proc = run("k3d", "cluster", "delete", "w2", extra=several)
    assert proc.returncode == 0
    assert "multiple kubeconfigs specified via KUBECONFIG env var" in proc.stderr
    assert run("k3d", "cluster", "create", "w3", "--kubeconfig-update-default=false").returncode == 0
    merge = run("k3d", "kubeconfig", "merge", "w3", "-d", extra=several)
    assert merge.returncode == 1
    assert "failed to get default kubeconfig path: multiple kubeconfigs specified" in merge.stderr


# ---------------------------------------------------------------------------- k3d: engine down


def test_k3d_with_the_engine_down(run: Runner) -> None:
    assert run("k3d", "cluster", "create", "up").returncode == 0
    down = {"KENV_FAKE_DOCKER_DOWN": "1"}
    listed = run("k3d", "cluster", "list", "-o", "json", extra=down)
    assert listed.returncode == 1
    assert listed.stderr.strip().endswith(
        "runtime failed to list nodes: docker failed to get containers with labels 'map[app:k3d]': "
        f"failed to list containers: {DOWN}"
    )
    # ClusterGet only logs the error: delete believes there is nothing to delete and exits 0
    delete = run("k3d", "cluster", "delete", "up", extra=down)
    assert delete.returncode == 0
    assert "Failed to get nodes for cluster 'up'" in delete.stderr
    assert "No nodes found for cluster 'up', nothing to delete." in delete.stdout
    assert [c["name"] for c in k3d_list(run)] == ["up"]  # still there
    create = run("k3d", "cluster", "create", "new", extra=down)
    assert create.returncode == 1
    assert "failed to check for duplicate docker networks: docker failed to list networks: " + DOWN in create.stderr
    assert "Cluster creation FAILED, also FAILED to rollback changes!" in create.stderr
    start = run("k3d", "cluster", "start", "up", extra=down)
    assert start.returncode == 1
    assert "No nodes found for given cluster" in start.stderr
    assert run("k3d", "version", extra=down).returncode == 0


# ---------------------------------------------------------------------------- kind


def test_kind_docker_stop_keeps_nodes_listed(run: Runner) -> None:
    assert run("kind", "create", "cluster", "--name", "ks").returncode == 0
    assert run("docker", "stop", "ks-control-plane").returncode == 0
    assert run("kind", "get", "nodes", "--name", "ks").stdout == "ks-control-plane\n"
    rows = [json.loads(line) for line in run("docker", "ps", "-a", "--format", "{{json .}}").stdout.splitlines()]
    assert [(r["Names"], r["State"]) for r in rows] == [("ks-control-plane", "exited")]
    kc = run("kind", "get", "kubeconfig", "--name", "ks")
    assert kc.returncode == 1
    assert "docker exec --privileged ks-control-plane cat /etc/kubernetes/admin.conf" in kc.stderr
    load = run("kind", "load", "docker-image", "app:v1", "--name", "ks")
    assert load.returncode == 1
    assert "is not running" in load.stderr
    assert run("docker", "start", "ks-control-plane").returncode == 0
    assert run("kind", "get", "kubeconfig", "--name", "ks").returncode == 0
    assert run("kubectl", "get", "nodes").returncode == 0


def test_kind_create_killed_before_kubeadm_init(run: Runner, fake_env: dict[str, str]) -> None:
    with hung(fake_env, "kind:create-cluster", "kind", "create", "cluster", "--name", "kh"):
        rows = [json.loads(x) for x in run("docker", "ps", "--format", "{{json .}}").stdout.splitlines()]
        assert [(r["Names"], r["State"]) for r in rows] == [("kh-control-plane", "running")]
    # no signal handling in kind: the running node stays, kubeadm never wrote admin.conf
    assert run("kind", "get", "clusters").stdout == "kh\n"
    kc = run("kind", "get", "kubeconfig", "--name", "kh")
    assert kc.returncode == 1
    assert kc.stderr.splitlines()[-1] == "Command Output: cat: /etc/kubernetes/admin.conf: No such file or directory"
    assert not (Path(fake_env["HOME"]) / ".kube" / "config").exists()
    assert run("kubectl", "--context", "kind-kh", "get", "nodes").returncode == 1
    again = run("kind", "create", "cluster", "--name", "kh")
    assert again.returncode == 1
    assert 'node(s) already exist for a cluster with the name "kh"' in again.stderr
    assert run("kind", "delete", "cluster", "--name", "kh").returncode == 0
    assert run("docker", "ps", "-aq").stdout == ""


def test_kind_with_the_engine_down(run: Runner) -> None:
    down = {"KENV_FAKE_DOCKER_DOWN": "1"}
    clusters = run("kind", "get", "clusters", extra=down)
    assert clusters.returncode == 1
    assert clusters.stderr == (
        'ERROR: failed to list clusters: command "docker ps -a --filter label=io.x-k8s.kind.cluster '
        '--format \'{{.Label "io.x-k8s.kind.cluster"}}\'" failed with error: exit status 1\n'
        f"\nCommand Output: {DOWN}\n"
    )
    create = run("kind", "create", "cluster", "--name", "x", extra=down)
    assert create.returncode == 1
    assert create.stderr.startswith(
        'ERROR: failed to create cluster: failed to get docker info: command "docker info --format '
        "'{{json .}}'\" failed with error: exit status 1\n"
    )
    delete = run("kind", "delete", "cluster", "--name", "x", extra=down)
    assert delete.returncode == 1
    assert 'failed to delete cluster "x": error listing nodes: failed to list nodes: command "docker ps -a ' in (
        delete.stderr
    )
    assert run("kind", "version", extra=down).returncode == 0


@pytest.fixture
def fake_env(tmp_path: Path) -> dict[str, str]:
    """No real docker on PATH: these tests must not depend on the host's engine."""
    return fake_environment(tmp_path, host_path=False)
