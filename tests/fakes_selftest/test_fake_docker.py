"""Self-tests for the fake `docker` (tests/fakes/bin/docker).

The fake answers ps/start/stop/inspect/exec for the fake clusters' node
containers and hands everything else to the real docker CLI.  So that these
tests do not depend on the host, PATH holds only the fakes and a directory with
a `python3` link (no real docker) -- or, for the passthrough tests, a stub
`docker` that records its argv.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from pathlib import Path

import pytest
from tests.fakes_selftest.conftest import ENGINE_DOWN, Runner, fake_environment

DOWN = ENGINE_DOWN


def ps_json(run: Runner, *extra: str) -> list[dict]:
    proc = run("docker", "ps", "-a", "--no-trunc", *extra, "--format", "{{json .}}")
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines()]


def make_kind(run: Runner, name: str = "kd", workers: int = 1, tmp: Path | None = None) -> None:
    args = ["create", "cluster", "--name", name]
    if workers and tmp is not None:
        cfg = tmp / f"{name}.yaml"
        nodes = "\n".join(["- role: control-plane", *(["- role: worker"] * workers)])
        cfg.write_text(f"kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n{nodes}\n")
        args += ["--config", str(cfg)]
    proc = run("kind", *args)
    assert proc.returncode == 0, proc.stderr


# ---------------------------------------------------------------------------- ps


def test_ps_json_lists_kind_nodes_with_real_keys_and_labels(run: Runner, tmp_path: Path) -> None:
    make_kind(run, "kd", workers=1, tmp=tmp_path)
    rows = ps_json(run, "--filter", "label=io.x-k8s.kind.cluster")
    assert [r["Names"] for r in rows] == ["kd-worker", "kd-control-plane"]  # newest first
    row = next(r for r in rows if r["Names"] == "kd-control-plane")
    # docker/cli v28.2 cli/command/formatter/container.go: every method, keys sorted
    assert list(row) == sorted(row)
    assert set(row) == {
        "Command",
        "CreatedAt",
        "ID",
        "Image",
        "Labels",
        "LocalVolumes",
        "Mounts",
        "Names",
        "Networks",
        "Platform",
        "Ports",
        "RunningFor",
        "Size",
        "State",
        "Status",
    }
    assert row["Labels"] == "io.x-k8s.kind.cluster=kd,io.x-k8s.kind.role=control-plane"
    assert row["State"] == "running"
    assert row["Status"].startswith("Up ")
    assert len(row["ID"]) == 64
    assert row["Platform"] is None
    assert row["Networks"] == "kind"
    assert row["Ports"].endswith("->6443/tcp")
    assert row["Command"] == '"/usr/local/bin/entrypoint /sbin/init"'
    truncated = json.loads(run("docker", "ps", "--format", "{{json .}}").stdout.splitlines()[-1])
    assert len(truncated["ID"]) == 12
    assert truncated["Image"] == "kindest/node:v1.32.2"
    assert truncated["Command"] == '"/usr/local/bin/entr…"'


def test_ps_filters_templates_and_table(run: Runner, tmp_path: Path) -> None:
    make_kind(run, "ka", workers=1, tmp=tmp_path)
    make_kind(run, "kb", workers=0)
    assert run("k3d", "cluster", "create", "kc").returncode == 0
    # label filters AND, name filters OR (regex on "/name"), status filter
    both = ps_json(run, "--filter", "label=io.x-k8s.kind.cluster=ka", "--filter", "label=io.x-k8s.kind.role=worker")
    assert [r["Names"] for r in both] == ["ka-worker"]
    names = ps_json(run, "--filter", "name=^/kb-", "--filter", "name=serverlb$")
    assert sorted(r["Names"] for r in names) == ["k3d-kc-serverlb", "kb-control-plane"]
    k3d = ps_json(run, "--filter", "label=app=k3d")
    assert {r["Names"] for r in k3d} == {"k3d-kc-server-0", "k3d-kc-serverlb"}
    server = next(r for r in k3d if r["Names"] == "k3d-kc-server-0")
    assert "k3d.role=server" in server["Labels"].split(",")
    assert "k3d.cluster=kc" in server["Labels"].split(",")

    template = '{{.Names}}\\t{{.State}}\\t{{.Label "io.x-k8s.kind.role"}}'  # a literal backslash-t, as from a shell
    custom = run("docker", "ps", "-a", "--filter", "label=io.x-k8s.kind.cluster=ka", "--format", template)
    assert custom.stdout.splitlines() == ["ka-worker\trunning\tworker", "ka-control-plane\trunning\tcontrol-plane"]
    table = run("docker", "ps", "--filter", "name=kb", "--format", "table {{.Names}}\t{{.State}}").stdout
    assert table.splitlines() == ["NAMES              STATE", "kb-control-plane   running"]
    default = run("docker", "ps").stdout.splitlines()
    assert default[0].split()[:3] == ["CONTAINER", "ID", "IMAGE"]
    assert len(default) == 1 + 5
    quiet = run("docker", "ps", "-q", "--no-trunc", "--filter", "name=kb-control-plane").stdout.split()
    assert len(quiet) == 1
    assert len(quiet[0]) == 64

    bad = run("docker", "ps", "--filter", "bogus=1")
    assert (bad.returncode, bad.stderr) == (1, "Error response from daemon: Invalid filter 'bogus'\n")
    usage = run("docker", "ps", "--nope")
    assert usage.returncode == 125
    assert usage.stderr.startswith("unknown flag: --nope\n\nUsage:  docker ps [OPTIONS]\n")
    noeq = run("docker", "ps", "--filter", "nokey")
    assert "bad format of filter (expected name=value)" in noeq.stderr


# ---------------------------------------------------------------------------- start / stop


def test_stop_start_kind_nodes_flip_the_cluster(run: Runner, tmp_path: Path) -> None:
    make_kind(run, "ks", workers=1, tmp=tmp_path)
    assert run("kubectl", "get", "nodes").returncode == 0
    stop = run("docker", "stop", "ks-control-plane", "ks-worker")
    assert (stop.returncode, stop.stdout) == (0, "ks-control-plane\nks-worker\n")
    rows = {r["Names"]: r for r in ps_json(run)}
    assert {n: r["State"] for n, r in rows.items()} == {"ks-control-plane": "exited", "ks-worker": "exited"}
    assert rows["ks-worker"]["Status"].startswith("Exited (")
    assert rows["ks-worker"]["Ports"] == ""
    assert run("docker", "ps", "-q").stdout == ""  # without -a: running only
    # kind lists stopped nodes (provider.go ListNodes uses `docker ps -a`) ...
    assert run("kind", "get", "nodes", "--name", "ks").stdout.split() == ["ks-control-plane", "ks-worker"]
    assert run("kind", "get", "clusters").stdout == "ks\n"
    # ... but the API is gone and `kind get kubeconfig` cannot exec into the node
    assert run("kubectl", "get", "nodes").returncode == 1
    kc = run("kind", "get", "kubeconfig", "--name", "ks")
    assert kc.returncode == 1
    assert "is not running" in kc.stderr
    start = run("docker", "start", "ks-control-plane", "ks-worker")
    assert (start.returncode, start.stdout) == (0, "ks-control-plane\nks-worker\n")
    assert {r["State"] for r in ps_json(run)} == {"running"}
    assert run("kubectl", "get", "nodes").returncode == 0
    assert run("kind", "get", "kubeconfig", "--name", "ks").returncode == 0


def test_partial_stop_and_cluster_status(run: Runner, fake_env: dict[str, str], tmp_path: Path) -> None:
    make_kind(run, "kp", workers=1, tmp=tmp_path)

    def status() -> str:
        doc = json.loads((Path(fake_env["KENV_FAKE_STATE"]) / "state.json").read_text())
        return doc["clusters"]["kind/kp"]["status"]

    assert run("docker", "stop", "kp-worker").returncode == 0
    assert status() == "running"  # the control plane still answers
    assert run("docker", "stop", "kp-control-plane").returncode == 0
    assert status() == "stopped"
    assert run("docker", "start", "kp-control-plane").returncode == 0
    assert status() == "running"
    # by ID prefix, and idempotent like Docker
    cid = run("docker", "ps", "-aq", "--filter", "name=kp-worker").stdout.strip()
    assert run("docker", "start", cid[:6]).stdout == cid[:6] + "\n"
    assert run("docker", "start", cid[:6]).returncode == 0


def test_start_and_stop_of_unknown_containers(run: Runner) -> None:
    missing = run("docker", "start", "nope", "nada")
    assert missing.returncode == 1
    assert missing.stderr.splitlines() == [
        "Error response from daemon: No such container: nope",
        "Error response from daemon: No such container: nada",
        "Error: failed to start containers: nope, nada",
    ]
    stop = run("docker", "stop", "nope")
    assert (stop.returncode, stop.stderr) == (1, "Error response from daemon: No such container: nope\n")
    usage = run("docker", "start")
    assert usage.returncode == 1
    assert usage.stderr.startswith("docker: 'docker start' requires at least 1 argument\n")


def test_start_fails_when_a_port_is_taken(run: Runner) -> None:
    assert run("k3d", "cluster", "create", "p1", "--api-port", "127.0.0.1:6571").returncode == 0
    assert run("docker", "stop", "k3d-p1-serverlb").returncode == 0
    assert run("k3d", "cluster", "create", "p2", "--api-port", "127.0.0.1:6571").returncode == 0
    proc = run("docker", "start", "k3d-p1-serverlb")
    assert proc.returncode == 1
    assert "Bind for 127.0.0.1:6571 failed: port is already allocated" in proc.stderr
    assert proc.stderr.rstrip().endswith("Error: failed to start containers: k3d-p1-serverlb")


def test_k3d_nodes_stopped_by_docker_show_in_k3d_list(run: Runner) -> None:
    assert run("k3d", "cluster", "create", "kd3", "--agents", "1").returncode == 0
    assert run("docker", "stop", "k3d-kd3-agent-0").returncode == 0
    entry = json.loads(run("k3d", "cluster", "list", "-o", "json").stdout)[0]
    assert (entry["agentsRunning"], entry["agentsCount"], entry["serversRunning"]) == (0, 1, 1)
    assert run("docker", "start", "k3d-kd3-agent-0").returncode == 0
    assert json.loads(run("k3d", "cluster", "list", "-o", "json").stdout)[0]["agentsRunning"] == 1


# ---------------------------------------------------------------------------- inspect / exec


def test_inspect_and_exec(run: Runner, tmp_path: Path) -> None:
    make_kind(run, "ki", workers=1, tmp=tmp_path)
    docs = json.loads(run("docker", "container", "inspect", "ki-control-plane").stdout)
    assert len(docs) == 1
    doc = docs[0]
    assert doc["Name"] == "/ki-control-plane"
    assert doc["State"]["Running"] is True
    assert doc["State"]["Status"] == "running"
    assert doc["Config"]["Labels"] == {"io.x-k8s.kind.cluster": "ki", "io.x-k8s.kind.role": "control-plane"}
    assert doc["NetworkSettings"]["Networks"]["kind"]["IPAddress"].startswith("172.")
    template = '{{.State.Status}} {{index .Config.Labels "io.x-k8s.kind.role"}}'
    fmt = run("docker", "inspect", "-f", template, "ki-control-plane", "ki-worker")
    assert fmt.stdout == "running control-plane\nrunning worker\n"
    ranged = run(
        "docker",
        "inspect",
        "--format",
        "{{range $k, $v := .NetworkSettings.Networks}}{{$k}}={{$v.IPAddress}}{{end}}",
        "ki-worker",
    )
    assert ranged.stdout.startswith("kind=172.")
    missing = run("docker", "inspect", "ki-worker", "nope")
    assert missing.returncode == 1
    assert json.loads(missing.stdout)[0]["Name"] == "/ki-worker"
    assert missing.stderr == "Error: No such object: nope\n"
    cmissing = run("docker", "container", "inspect", "nope")
    assert (cmissing.stdout, cmissing.stderr) == ("[]\n", "Error response from daemon: No such container: nope\n")

    assert run("kind", "load", "docker-image", "app:v1", "--name", "ki").returncode == 0
    images = run("docker", "exec", "ki-worker", "crictl", "images").stdout
    assert "docker.io/library/app" in images
    assert run("docker", "exec", "-i", "ki-worker", "hostname").stdout == "ki-worker\n"
    admin = run("docker", "exec", "--privileged", "ki-control-plane", "cat", "/etc/kubernetes/admin.conf")
    assert "server: https://ki-control-plane:6443" in admin.stdout
    assert run("docker", "stop", "ki-worker").returncode == 0
    stopped = run("docker", "exec", "ki-worker", "crictl", "images")
    assert stopped.returncode == 1
    assert stopped.stderr.startswith("Error response from daemon: Container ")
    assert stopped.stderr.rstrip().endswith(" is not running")
    inspect = json.loads(run("docker", "inspect", "ki-worker").stdout)[0]
    assert inspect["State"]["Status"] == "exited"
    assert inspect["NetworkSettings"]["Networks"]["kind"]["IPAddress"] == ""


# ---------------------------------------------------------------------------- passthrough / no engine


@pytest.fixture
def stub_docker(tmp_path: Path, fake_env: dict[str, str]) -> Path:
    """A stand-in for the real docker CLI that records its argv."""
    stub_dir = tmp_path / "realbin"
    stub_dir.mkdir()
    log = tmp_path / "real-docker.log"
    stub = stub_dir / "docker"
    stub.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" >> {log}\necho real-docker-out\nexit 3\n')
    stub.chmod(0o755)
    fake_env["PATH"] = f"{fake_env['PATH']}{os.pathsep}{stub_dir}"
    return log


def test_other_commands_pass_through_with_the_same_argv(run: Runner, stub_docker: Path, fake_env: dict) -> None:
    proc = run("docker", "network", "create", "--subnet", "10.9.0.0/24", "my net")
    assert (proc.returncode, proc.stdout) == (3, "real-docker-out\n")
    assert stub_docker.read_text().splitlines() == ["network", "create", "--subnet", "10.9.0.0/24", "my net"]
    # global options and remote engines go to the real CLI untouched
    stub_docker.unlink()
    run("docker", "-H", "tcp://remote:2375", "ps")
    assert stub_docker.read_text().splitlines() == ["-H", "tcp://remote:2375", "ps"]
    # names the fake engine does not know are asked of the real engine
    stub_docker.unlink()
    run("docker", "inspect", "some-real-container")
    assert stub_docker.read_text().splitlines() == ["inspect", "some-real-container"]
    calls = [json.loads(line) for line in (Path(fake_env["KENV_FAKE_STATE"]) / "calls.jsonl").read_text().splitlines()]
    assert next(c["argv"][:3] for c in calls if c["tool"] == "docker") == ["docker", "network", "create"]


def test_without_real_docker_passthrough_fails_like_no_engine(run: Runner) -> None:
    proc = run("docker", "network", "ls")
    assert (proc.returncode, proc.stdout, proc.stderr) == (1, "", DOWN + "\n")
    assert run("docker", "-v").stdout == "Docker version 28.2.2, build e6534b4\n"


def test_engine_down_every_call_fails(run: Runner, tmp_path: Path) -> None:
    make_kind(run, "kx", workers=0)
    down = {"KENV_FAKE_DOCKER_DOWN": "1"}
    for args in (["ps", "-a"], ["stop", "kx-control-plane"], ["exec", "kx-control-plane", "ls"], ["network", "ls"]):
        proc = run("docker", *args, extra=down)
        assert (proc.returncode, proc.stdout, proc.stderr) == (1, "", DOWN + "\n"), args
    start = run("docker", "start", "a", "b", extra=down)
    assert start.stderr.splitlines() == [DOWN, DOWN, "Error: failed to start containers: a, b"]
    inspect = run("docker", "inspect", "kx-control-plane", extra=down)
    assert (inspect.returncode, inspect.stdout, inspect.stderr) == (1, "[]\n", DOWN + "\n")
    rm = run("docker", "network", "rm", "k3d-x", extra=down)
    assert rm.stderr.splitlines() == [DOWN, "exit status 1"]
    version = run("docker", "version", extra=down)
    assert version.returncode == 1
    assert version.stdout.startswith("Client:\n Version:           28.2.2\n")
    assert version.stderr == DOWN + "\n"
    assert run("docker", "--version", extra=down).returncode == 0
    other_host = run("docker", "ps", extra=dict(down, DOCKER_HOST="unix:///run/user/1000/docker.sock"))
    assert "Cannot connect to the Docker daemon at unix:///run/user/1000/docker.sock." in other_host.stderr
    # the fake's state is untouched
    assert {r["State"] for r in ps_json(run)} == {"running"}


def test_fail_injection_for_docker(run: Runner, tmp_path: Path) -> None:
    make_kind(run, "kf", workers=0)
    proc = run("docker", "ps", extra={"KENV_FAKE_FAIL": "docker:ps"})
    assert (proc.returncode, proc.stderr) == (1, DOWN + "\n")
    assert run("docker", "stop", "kf-control-plane", extra={"KENV_FAKE_FAIL": "docker:ps"}).returncode == 0


def test_docker_startup_is_fast(run: Runner, tmp_path: Path) -> None:
    make_kind(run, "kq", workers=0)
    durations = []
    for _ in range(5):
        started = time.monotonic()
        assert run("docker", "ps", "-a", "--format", "{{json .}}").returncode == 0
        durations.append(time.monotonic() - started)
    assert statistics.median(durations) < 0.5, durations


# ------------------------------------------------------------ the fake as the engine


def test_with_no_real_engine_the_fake_answers_version_as_the_engine(run: Runner) -> None:
    proc = run("docker", "version", "--format", "{{json .}}")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["Server"]["Version"] == data["Client"]["Version"] == "28.2.2"
    down = run("docker", "version", "--format", "{{json .}}", extra={"KENV_FAKE_DOCKER_DOWN": "1"})
    assert down.returncode == 1 and down.stderr == DOWN + "\n"


def test_network_inspect_answers_the_fake_clusters_networks(run: Runner) -> None:
    made = run("k3d", "cluster", "create", "nk", "--subnet", "10.251.0.0/24")
    assert made.returncode == 0, made.stderr
    proc = run("docker", "network", "inspect", "k3d-nk")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("[\n    {\n")  # the CLI's 4-space indent
    (network,) = json.loads(proc.stdout)
    assert network["Name"] == "k3d-nk" and network["IPAM"]["Config"][0]["Subnet"] == "10.251.0.0/24"
    assert network["Labels"] == {"app": "k3d"}
    missing = run("docker", "network", "inspect", "nope")
    assert (missing.returncode, missing.stdout, missing.stderr) == (
        1,
        "[]\n",
        "Error response from daemon: network nope not found\n",
    )
    assert run("k3d", "cluster", "delete", "nk").returncode == 0
    assert run("docker", "network", "inspect", "k3d-nk").returncode == 1, "k3d removes the network it made"


def test_network_connect_and_disconnect_a_fake_node(run: Runner) -> None:
    for name in ("nc", "nc2"):
        made = run("k3d", "cluster", "create", name)
        assert made.returncode == 0, made.stderr
    node = "k3d-nc-server-0"

    def networks() -> set[str]:
        proc = run("docker", "inspect", node)
        assert proc.returncode == 0, proc.stderr
        return set(json.loads(proc.stdout)[0]["NetworkSettings"]["Networks"])

    assert run("docker", "network", "connect", "k3d-nc2", node).returncode == 0
    assert networks() == {"k3d-nc", "k3d-nc2"}
    again = run("docker", "network", "connect", "k3d-nc2", node)
    assert (again.returncode, again.stderr) == (
        1,
        f"Error response from daemon: endpoint with name {node} already exists in network k3d-nc2\n",
    )
    assert run("docker", "network", "disconnect", "-f", "k3d-nc2", node).returncode == 0
    assert networks() == {"k3d-nc"}
    off = run("docker", "network", "disconnect", "k3d-nc2", node)
    assert off.returncode == 1 and off.stderr.endswith(" is not connected to network k3d-nc2\n")
    # wrong argument counts: docker/cli's usage error, exit 1, not a crash of the fake
    for args, want in (
        (["network", "disconnect", "k3d-nc2"], "'docker network disconnect' requires 2 arguments"),
        (["network", "inspect"], "'docker network inspect' requires at least 1 argument"),
    ):
        proc = run("docker", *args)
        assert proc.returncode == 1 and proc.stderr.startswith(f"docker: {want}\n"), proc.stderr
        assert "Usage:  docker " + " ".join(args[:2]) + " [OPTIONS] NETWORK" in proc.stderr


@pytest.fixture
def fake_env(tmp_path: Path) -> dict[str, str]:
    """No real docker on PATH: these tests must not depend on the host's engine."""
    return fake_environment(tmp_path, host_path=False)


def test_crictl_images_json_in_a_node_is_cri_tools_document(run: Runner, tmp_path: Path) -> None:
    make_kind(run, "kc", workers=0)
    proc = run("docker", "exec", "kc-control-plane", "crictl", "images", "-o", "json")
    assert proc.returncode == 0, proc.stderr
    images = json.loads(proc.stdout)["images"]
    assert images and all(
        set(i) == {"id", "repoTags", "repoDigests", "size", "uid", "username", "spec", "pinned"} for i in images
    )
    assert all(isinstance(i["size"], str) and i["id"].startswith("sha256:") for i in images)
    table = run("docker", "exec", "kc-control-plane", "crictl", "images")
    assert table.stdout.startswith("IMAGE")
