"""Self-tests for the fake k3d / kind / minikube / kubectl CLIs in tests/fakes/bin.

Every test runs the fakes as real subprocesses (through their shebang, the way
kenv's e2e tests will) against a private state directory and HOME.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
import yaml
from tests.fakes_selftest.conftest import BIN, Runner


def kubeconfig_doc(env: dict[str, str], path: str | None = None) -> dict:
    text = Path(path or os.path.join(env["HOME"], ".kube", "config")).read_text()
    return yaml.safe_load(text)  # type: ignore[return-value]


def contexts(doc: dict) -> list[str]:
    return [c["name"] for c in doc.get("contexts") or []]


def calls(env: dict[str, str]) -> list[dict]:
    path = Path(env["KENV_FAKE_STATE"]) / "calls.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


# ---------------------------------------------------------------------------- basics


def test_missing_state_env_fails_clearly(fake_env: dict[str, str]) -> None:
    env = {k: v for k, v in fake_env.items() if k != "KENV_FAKE_STATE"}
    for tool in ("k3d", "kind", "minikube", "kubectl"):
        proc = subprocess.run([str(BIN / tool), "version"], env=env, capture_output=True, text=True, check=False)
        assert proc.returncode == 1
        assert "KENV_FAKE_STATE is not set" in proc.stderr


def test_versions(run: Runner) -> None:
    assert run("k3d", "version").stdout == "k3d version v5.8.3\nk3s version v1.31.5-k3s1 (default)\n"
    assert run("kind", "version").stdout == "kind v0.27.0 go1.23.6 linux/amd64\n"
    mk = json.loads(run("minikube", "version", "-o", "json").stdout)
    assert mk == {"commit": mk["commit"], "minikubeVersion": "v1.38.1"}
    kc = json.loads(run("kubectl", "version", "--client", "-o", "json").stdout)
    assert kc["clientVersion"]["minor"] == "31"
    assert "serverVersion" not in kc


@pytest.mark.parametrize(
    ("tool", "args", "code", "needle"),
    [
        ("k3d", ["cluster", "create", "x", "--bogus"], 1, "unknown flag: --bogus"),
        ("k3d", ["cluster", "list", "-Z"], 1, "unknown shorthand flag: 'Z' in -Z"),
        ("k3d", ["bogus"], 1, 'unknown command "bogus" for "k3d"'),
        ("kind", ["create", "cluster", "--bogus"], 1, "ERROR: unknown flag: --bogus"),
        ("kind", ["bogus"], 1, 'ERROR: unknown command "bogus" for "kind"'),
        ("kind", ["get"], 1, "ERROR: Subcommand is required"),
        ("minikube", ["start", "--bogus"], 14, "Error: unknown flag: --bogus"),
        ("kubectl", ["get", "nodes", "--bogus"], 1, "Error: unknown flag: --bogus"),
        ("kubectl", ["get", "pods", "-n"], 1, "flag needs an argument: 'n' in -n"),
        ("kubectl", ["bogus"], 1, 'Error: unknown command "bogus" for "kubectl"'),
        ("k3d", ["cluster", "create", "x", "--servers", "two"], 1, 'invalid argument "two" for "-s, --servers"'),
        ("k3d", ["cluster", "create", "x", "--timeout", "5"], 1, 'time: missing unit in duration "5"'),
    ],
)
def test_grammar_is_enforced(run: Runner, tool: str, args: list[str], code: int, needle: str) -> None:
    proc = run(tool, *args)
    assert proc.returncode == code, proc.stderr
    assert needle in proc.stderr


def test_every_call_is_recorded(run: Runner, fake_env: dict[str, str], tmp_path: Path) -> None:
    run("k3d", "version")
    run("kind", "get", "clusters", "--bogus")
    recorded = calls(fake_env)
    assert [c["argv"] for c in recorded] == [["k3d", "version"], ["kind", "get", "clusters", "--bogus"]]
    assert all(c["cwd"] and c["time"] > 0 and c["pid"] for c in recorded)


# ---------------------------------------------------------------------------- k3d


def test_k3d_round_trip(run: Runner, fake_env: dict[str, str]) -> None:
    create = run(
        "k3d",
        "cluster",
        "create",
        "dev",
        "--api-port",
        "127.0.0.1:6550",
        "-p",
        "8080:80@loadbalancer",
        "--agents",
        "1",
        "--wait",
        "--timeout",
        "120s",
    )
    assert create.returncode == 0, create.stderr
    assert "Cluster 'dev' created successfully!" in create.stdout

    listed = json.loads(run("k3d", "cluster", "list", "-o", "json").stdout)
    assert [c["name"] for c in listed] == ["dev"]
    entry = listed[0]
    assert set(entry["network"]) >= {"name", "id", "ipam"}
    assert entry["network"]["name"] == "k3d-dev"
    assert (entry["serversCount"], entry["serversRunning"], entry["agentsCount"], entry["agentsRunning"]) == (
        1,
        1,
        1,
        1,
    )
    assert entry["hasLoadbalancer"] is True
    assert entry["imageVolume"] == "k3d-dev-images"
    nodes = {n["name"]: n for n in entry["nodes"]}
    assert set(nodes) == {"k3d-dev-server-0", "k3d-dev-agent-0", "k3d-dev-serverlb"}
    server = nodes["k3d-dev-server-0"]
    assert server["role"] == "server"
    assert server["runtimeLabels"]["k3d.server.api.port"] == "6550"
    assert server["runtimeLabels"]["k3d.cluster.network.iprange"].endswith("/16")
    assert server["serverOpts"]["kubeAPI"]["Binding"] == {"HostIp": "127.0.0.1", "HostPort": "6550"}
    assert server["State"] == {"Running": True, "Status": "running", "Started": ""}
    assert server["IP"]["IP"].startswith("172.")
    lb = nodes["k3d-dev-serverlb"]
    assert lb["portMappings"]["6443/tcp"] == [{"HostIp": "127.0.0.1", "HostPort": "6550"}]
    assert lb["portMappings"]["80/tcp"] == [{"HostIp": "", "HostPort": "8080"}]

    table = run("k3d", "cluster", "list").stdout.splitlines()
    assert table[0].split() == ["NAME", "SERVERS", "AGENTS", "LOADBALANCER"]
    assert table[1].split() == ["dev", "1/1", "1/1", "true"]

    doc = kubeconfig_doc(fake_env)
    assert doc["current-context"] == "k3d-dev"
    cluster_entry = next(c for c in doc["clusters"] if c["name"] == "k3d-dev")
    assert cluster_entry["cluster"]["server"] == "https://127.0.0.1:6550"

    got = run("k3d", "kubeconfig", "get", "dev").stdout
    assert got.startswith("---\n")
    assert "current-context: k3d-dev" in got
    target = Path(fake_env["HOME"]) / "dev.yaml"
    written = run("k3d", "kubeconfig", "write", "dev", "--output", str(target))
    assert written.returncode == 0
    assert written.stdout.strip() == str(target)
    assert contexts(kubeconfig_doc(fake_env, str(target))) == ["k3d-dev"]

    nodes_json = json.loads(run("kubectl", "get", "nodes", "-o", "json").stdout)
    assert [n["metadata"]["name"] for n in nodes_json["items"]] == ["k3d-dev-server-0", "k3d-dev-agent-0"]

    delete = run("k3d", "cluster", "delete", "dev")
    assert delete.returncode == 0
    assert "Successfully deleted cluster dev!" in delete.stdout
    assert json.loads(run("k3d", "cluster", "list", "-o", "json").stdout) == []
    assert "k3d-dev" not in contexts(kubeconfig_doc(fake_env))

    missing = run("k3d", "cluster", "delete", "dev")
    assert missing.returncode == 0
    assert "No nodes found for cluster 'dev', nothing to delete." in missing.stdout


def test_k3d_list_of_missing_name_is_fatal(run: Runner) -> None:
    proc = run("k3d", "cluster", "list", "nope", "-o", "json")
    assert proc.returncode == 1
    assert "No nodes found for given cluster" in proc.stderr
    assert proc.stdout == ""


def test_k3d_existing_name_fails(run: Runner) -> None:
    assert run("k3d", "cluster", "create", "dup").returncode == 0
    again = run("k3d", "cluster", "create", "dup")
    assert again.returncode == 1
    assert "because a cluster with that name already exists" in again.stderr


def test_k3d_kubeconfig_flags(run: Runner, fake_env: dict[str, str]) -> None:
    off = run("k3d", "cluster", "create", "quiet", "--kubeconfig-update-default=false")
    assert off.returncode == 0
    assert not (Path(fake_env["HOME"]) / ".kube" / "config").exists()
    assert "export KUBECONFIG=$(k3d kubeconfig write quiet)" in off.stdout

    run("k3d", "cluster", "create", "first")
    keep = run("k3d", "cluster", "create", "second", "--kubeconfig-switch-context=false")
    assert keep.returncode == 0
    assert "kubectl config use-context k3d-second" in keep.stdout
    doc = kubeconfig_doc(fake_env)
    assert sorted(contexts(doc)) == ["k3d-first", "k3d-second"]
    assert doc["current-context"] == "k3d-first"


def test_k3d_kubeconfig_env_first_path(run: Runner, fake_env: dict[str, str], tmp_path: Path) -> None:
    # pkg/client/kubeconfig.go KubeconfigGetDefaultPath: one KUBECONFIG entry is the default file ...
    only = tmp_path / "only.yaml"
    assert run("k3d", "cluster", "create", "envkc", extra={"KUBECONFIG": str(only)}).returncode == 0
    assert contexts(kubeconfig_doc(fake_env, str(only))) == ["k3d-envkc"]
    # ... several entries are refused: create only warns and writes nothing
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    proc = run("k3d", "cluster", "create", "envkc2", extra={"KUBECONFIG": f"{first}{os.pathsep}{second}"})
    assert proc.returncode == 0
    assert "multiple kubeconfigs specified via KUBECONFIG env var" in proc.stderr
    assert not first.exists()
    assert not second.exists()


def test_k3d_subnet_with_existing_network_is_rejected(run: Runner) -> None:
    assert run("k3d", "cluster", "create", "a").returncode == 0
    proc = run("k3d", "cluster", "create", "b", "--network", "k3d-a", "--subnet", "172.30.0.0/16")
    assert proc.returncode == 1
    assert "cannot specify subnet for exiting network" in proc.stderr
    assert "Cluster creation FAILED, all changes have been rolled back!" in proc.stderr
    assert [c["name"] for c in json.loads(run("k3d", "cluster", "list", "-o", "json").stdout)] == ["a"]


def test_k3d_subnet_auto_and_own_network(run: Runner) -> None:
    assert run("k3d", "cluster", "create", "s1", "--subnet", "172.28.0.0/16").returncode == 0
    entry = json.loads(run("k3d", "cluster", "list", "s1", "-o", "json").stdout)[0]
    assert entry["nodes"][0]["runtimeLabels"]["k3d.cluster.network.iprange"] == "172.28.0.0/16"
    clash = run("k3d", "cluster", "create", "s2", "--subnet", "172.28.0.0/16")
    assert clash.returncode == 1
    assert "Pool overlaps with other one on this address space" in clash.stderr
    assert run("k3d", "cluster", "create", "s3", "--network", "shared").returncode == 0
    assert run("k3d", "cluster", "create", "s4", "--network", "shared").returncode == 0
    listed = {c["name"]: c for c in json.loads(run("k3d", "cluster", "list", "-o", "json").stdout)}
    assert listed["s4"]["network"]["isExternal"] is True


def test_k3d_port_conflicts(run: Runner) -> None:
    assert run("k3d", "cluster", "create", "p1", "--api-port", "6551", "-p", "8088:80@loadbalancer").returncode == 0
    api = run("k3d", "cluster", "create", "p2", "--api-port", "0.0.0.0:6551")
    assert api.returncode == 1
    assert "Bind for 0.0.0.0:6551 failed: port is already allocated" in api.stderr
    assert "Failed to create cluster >>> Rolling Back" in api.stderr
    web = run("k3d", "cluster", "create", "p3", "-p", "8088:80@loadbalancer")
    assert web.returncode == 1
    assert "Bind for 0.0.0.0:8088 failed: port is already allocated" in web.stderr
    names = [c["name"] for c in json.loads(run("k3d", "cluster", "list", "-o", "json").stdout)]
    assert names == ["p1"]
    # a stopped cluster releases its ports (Docker semantics) ...
    assert run("k3d", "cluster", "stop", "p1").returncode == 0
    assert run("k3d", "cluster", "create", "p4", "--api-port", "6551").returncode == 0
    # ... and cannot start again while someone else holds them
    restart = run("k3d", "cluster", "start", "p1")
    assert restart.returncode == 1
    assert "port is already allocated" in restart.stderr


def test_k3d_k3s_arg_needs_node_filter(run: Runner) -> None:
    proc = run("k3d", "cluster", "create", "f", "--k3s-arg", "--disable=traefik")
    assert proc.returncode == 1
    assert "K3sExtraArg '--disable=traefik' lacks a node filter, but there's more than one node" in proc.stderr
    ok = run("k3d", "cluster", "create", "f", "--k3s-arg", "--disable=traefik@server:0")
    assert ok.returncode == 0
    pods = json.loads(run("kubectl", "get", "pods", "-A", "-o", "json").stdout)["items"]
    assert not any(p["metadata"]["name"].startswith("traefik") for p in pods)


def test_k3d_stop_start_and_kubectl(run: Runner) -> None:
    assert run("k3d", "cluster", "create", "ss", "--api-port", "6552").returncode == 0
    assert run("kubectl", "get", "nodes").returncode == 0
    assert run("k3d", "cluster", "stop", "ss").returncode == 0
    entry = json.loads(run("k3d", "cluster", "list", "-o", "json").stdout)[0]
    assert entry["serversRunning"] == 0
    assert entry["nodes"][0]["State"]["Running"] is False
    refused = run("kubectl", "get", "nodes")
    assert refused.returncode == 1
    assert refused.stderr.rstrip().endswith(
        "The connection to the server 0.0.0.0:6552 was refused - did you specify the right host or port?"
    )
    assert run("k3d", "cluster", "start", "ss").returncode == 0
    assert run("kubectl", "get", "nodes").returncode == 0


def test_k3d_image_import(run: Runner) -> None:
    assert run("k3d", "cluster", "create", "img").returncode == 0
    bad = run("k3d", "image", "import", "nginx:1.27", "-c", "img", "-m", "tools")
    assert bad.returncode == 1
    assert "Unknown image loading mode 'tools'" in bad.stderr
    missing = run("k3d", "image", "import", "nginx:1.27", "-c", "nope")
    assert missing.returncode == 1
    assert "failed to get cluster nope: No nodes found for given cluster" in missing.stderr
    ok = run("k3d", "image", "import", "nginx:1.27", "busybox", "-c", "img", "-m", "direct", "-k")
    assert ok.returncode == 0
    assert "Successfully imported 2 image(s) into 1 cluster(s)" in ok.stdout
    node = json.loads(run("kubectl", "get", "nodes", "-o", "json").stdout)["items"][0]
    images = [image["names"][0] for image in node["status"]["images"]]
    assert images == ["docker.io/library/nginx:1.27", "docker.io/library/busybox:latest"]


def test_k3d_config_file(run: Runner, tmp_path: Path) -> None:
    cfg = tmp_path / "k3d.yaml"
    cfg.write_text(
        "apiVersion: k3d.io/v1alpha5\nkind: Simple\nmetadata:\n  name: fromfile\nservers: 1\nagents: 2\n"
        'kubeAPI:\n  hostIP: 127.0.0.1\n  hostPort: "6553"\n'
    )
    assert run("k3d", "cluster", "create", "-c", str(cfg)).returncode == 0
    entry = json.loads(run("k3d", "cluster", "list", "fromfile", "-o", "json").stdout)[0]
    assert entry["agentsCount"] == 2
    assert entry["nodes"][0]["runtimeLabels"]["k3d.server.api.port"] == "6553"


# ---------------------------------------------------------------------------- kind

KIND_CONFIG = """\
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
networking:
  apiServerAddress: "127.0.0.1"
  apiServerPort: 6660
nodes:
- role: control-plane
  extraPortMappings:
  - containerPort: 80
    hostPort: 8090
    listenAddress: 127.0.0.1
    protocol: TCP
- role: worker
- role: worker
"""


def test_kind_round_trip(run: Runner, fake_env: dict[str, str], tmp_path: Path) -> None:
    empty = run("kind", "get", "clusters")
    assert empty.returncode == 0
    assert empty.stdout == ""
    assert "No kind clusters found." in empty.stderr
    cfg = tmp_path / "kind.yaml"
    cfg.write_text(KIND_CONFIG)
    create = run("kind", "create", "cluster", "--name", "dev", "--config", str(cfg), "--wait", "2m")
    assert create.returncode == 0, create.stderr
    assert 'Set kubectl context to "kind-dev"' in create.stderr
    assert run("kind", "get", "clusters").stdout == "dev\n"
    assert run("kind", "get", "nodes", "--name", "dev").stdout.split() == [
        "dev-control-plane",
        "dev-worker",
        "dev-worker2",
    ]
    doc = kubeconfig_doc(fake_env)
    assert doc["current-context"] == "kind-dev"
    assert doc["clusters"][0]["cluster"]["server"] == "https://127.0.0.1:6660"
    printed = yaml.safe_load(run("kind", "get", "kubeconfig", "--name", "dev").stdout)
    assert isinstance(printed, dict)
    assert contexts(printed) == ["kind-dev"]

    nodes = json.loads(run("kubectl", "get", "nodes", "-o", "json").stdout)["items"]
    labels = nodes[0]["metadata"]["labels"]
    assert labels["node-role.kubernetes.io/control-plane"] == ""
    pods = run("kubectl", "get", "pods", "-n", "kube-system", "-o", "name").stdout.split()
    assert "pod/etcd-dev-control-plane" in pods
    assert any(p.startswith("pod/kindnet-") for p in pods)

    load = run("kind", "load", "docker-image", "app:dev", "--name", "dev", "--nodes", "dev-worker")
    assert load.returncode == 0
    assert 'not yet present on node "dev-worker"' in load.stderr
    bad_node = run("kind", "load", "docker-image", "app:dev", "--name", "dev", "--nodes", "nope")
    assert bad_node.returncode == 1
    assert 'ERROR: unknown node: "nope"' in bad_node.stderr

    delete = run("kind", "delete", "cluster", "--name", "dev")
    assert delete.returncode == 0
    assert 'Deleted nodes: ["dev-control-plane" "dev-worker" "dev-worker2"]' in delete.stderr
    assert "kind-dev" not in contexts(kubeconfig_doc(fake_env))
    assert run("kind", "delete", "cluster", "--name", "dev").returncode == 0
    missing = run("kind", "get", "kubeconfig", "--name", "dev")
    assert missing.returncode == 1
    assert "could not locate any control plane nodes for cluster named 'dev'" in missing.stderr


def test_kind_explicit_kubeconfig_and_export(run: Runner, fake_env: dict[str, str], tmp_path: Path) -> None:
    own = tmp_path / "own.kubeconfig"
    assert run("kind", "create", "cluster", "--name", "k1", "--kubeconfig", str(own)).returncode == 0
    assert contexts(kubeconfig_doc(fake_env, str(own))) == ["kind-k1"]
    assert not (Path(fake_env["HOME"]) / ".kube" / "config").exists()
    exported = run("kind", "export", "kubeconfig", "--name", "k1")
    assert exported.returncode == 0
    assert 'Set kubectl context to "kind-k1"' in exported.stderr
    assert contexts(kubeconfig_doc(fake_env)) == ["kind-k1"]


def test_kind_name_length_limit(run: Runner) -> None:
    ok = run("kind", "create", "cluster", "--name", "a" * 50)
    assert ok.returncode == 0, ok.stderr
    long = run("kind", "create", "cluster", "--name", "b" * 51)
    assert long.returncode == 1
    assert f'cluster name "{"b" * 51}" is probably too long' in long.stderr
    assert "sethostname: invalid argument" in long.stderr
    assert run("kind", "get", "clusters").stdout.split() == ["a" * 50]


def test_kind_config_strict_decoding(run: Runner) -> None:
    bad = "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n  bogus: 1\nfoo: 2\n"
    proc = run("kind", "create", "cluster", "--name", "x", "--config", "-", stdin=bad)
    assert proc.returncode == 1
    assert proc.stderr.strip().endswith(
        "ERROR: failed to create cluster: unable to decode config: yaml: unmarshal errors:\n"
        "  line 5: field bogus not found in type v1alpha4.Node\n"
        "  line 6: field foo not found in type v1alpha4.Cluster"
    )
    role = run(
        "kind",
        "create",
        "cluster",
        "--name",
        "x",
        "--config",
        "-",
        stdin="kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: master\n",
    )
    assert role.returncode == 1
    assert 'invalid configuration for node 0: "master" is not a valid node role' in role.stderr
    version = run("kind", "create", "cluster", "--config", "-", stdin="kind: Cluster\napiVersion: v1\n")
    assert version.returncode == 1
    assert "unknown apiVersion: v1" in version.stderr


def test_kind_port_conflict_with_other_tool(run: Runner) -> None:
    assert run("k3d", "cluster", "create", "holder", "--api-port", "6661").returncode == 0
    proc = run(
        "kind",
        "create",
        "cluster",
        "--name",
        "late",
        "--config",
        "-",
        stdin="kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnetworking:\n  apiServerPort: 6661\n",
    )
    assert proc.returncode == 1
    assert "Bind for 127.0.0.1:6661 failed: port is already allocated." in proc.stderr
    assert run("kind", "get", "clusters").stdout == ""


# ---------------------------------------------------------------------------- minikube


def test_minikube_round_trip(run: Runner, fake_env: dict[str, str]) -> None:
    start = run(
        "minikube",
        "start",
        "-p",
        "mk",
        "--driver=docker",
        "--subnet",
        "192.168.60.0/24",
        "--ports",
        "80",
        "--apiserver-port",
        "8443",
        "--kubernetes-version",
        "v1.31.0",
        "--nodes",
        "2",
        "--cpus",
        "2",
        "--memory",
        "4g",
        "--wait-timeout",
        "6m",
        "--wait=all",
        "--insecure-registry",
        "10.0.0.0/24",
    )
    assert start.returncode == 0, start.stderr
    assert 'Done! kubectl is now configured to use "mk" cluster' in start.stdout
    data = json.loads(run("minikube", "profile", "list", "-o", "json").stdout)
    assert data["invalid"] == []
    profile = data["valid"][0]
    assert set(profile) == {"Name", "Status", "Config", "Active", "ActiveKubeContext"}
    assert (profile["Name"], profile["Status"], profile["ActiveKubeContext"]) == ("mk", "OK", True)
    config = profile["Config"]
    assert config["Driver"] == "docker"
    assert config["Network"] == ""  # the --network flag; minikube made the network "mk" from --subnet
    assert config["Subnet"] == "192.168.60.0/24"
    assert config["StaticIP"] == ""
    assert config["ExposedPorts"] == ["80"]
    assert config["APIServerPort"] == 8443
    assert config["Memory"] == 4096
    assert config["KubernetesConfig"]["KubernetesVersion"] == "v1.31.0"
    assert set(config["KubernetesConfig"]) >= {"ContainerRuntime", "ServiceCIDR", "PodCIDR", "ImageRepository"}
    assert [(n["Name"], n["IP"], n["ControlPlane"]) for n in config["Nodes"]] == [
        ("", "192.168.60.2", True),
        ("mk-m02", "192.168.60.3", False),
    ]
    assert kubeconfig_doc(fake_env)["current-context"] == "mk"
    assert run("kubectl", "get", "nodes", "-o", "name").stdout.split() == ["node/mk", "node/mk-m02"]

    light = json.loads(run("minikube", "profile", "list", "-o", "json", "-l").stdout)
    assert light["valid"][0]["Status"] == "Skipped"
    assert run("minikube", "image", "load", "app:1", "-p", "mk").returncode == 0
    assert "docker.io/library/app" in run("minikube", "ssh", "-p", "mk", "--", "sudo", "crictl", "images").stdout
    assert run("minikube", "ssh", "-p", "mk", "-n", "mk-m02", "--", "hostname").stdout.strip() == "mk-m02"

    assert run("minikube", "stop", "-p", "mk").returncode == 0
    assert json.loads(run("minikube", "profile", "list", "-o", "json").stdout)["valid"][0]["Status"] == "Stopped"
    assert run("kubectl", "get", "nodes").returncode == 1
    again = run("minikube", "start", "-p", "mk")
    assert again.returncode == 0
    assert "Restarting existing docker container" in again.stdout

    assert run("minikube", "delete", "-p", "mk").returncode == 0
    assert json.loads(run("minikube", "profile", "list", "-o", "json").stdout) == {"invalid": [], "valid": []}
    assert "mk" not in contexts(kubeconfig_doc(fake_env))
    gone = run("minikube", "stop", "-p", "mk")
    assert gone.returncode == 85
    assert 'Profile "mk" not found' in gone.stdout  # mustload.Partial: out.Styled -> stdout


def test_minikube_rejects_bad_values(run: Runner) -> None:
    assert run("minikube", "start", "--static-ip", "8.8.8.8").returncode == 14
    assert run("minikube", "start", "--wait").returncode == 14  # --wait is a string list: needs a value
    assert run("minikube", "profile", "list", "-o", "xml").returncode == 14


# ---------------------------------------------------------------------------- kubectl


def test_kubectl_contexts_and_errors(run: Runner, fake_env: dict[str, str], tmp_path: Path) -> None:
    no_config = run("kubectl", "get", "nodes")
    assert no_config.returncode == 1
    assert "The connection to the server localhost:8080 was refused" in no_config.stderr
    assert run("k3d", "cluster", "create", "one").returncode == 0
    assert run("kind", "create", "cluster", "--name", "two").returncode == 0
    assert run("kubectl", "config", "get-contexts", "-o", "name").stdout.split() == ["k3d-one", "kind-two"]
    assert run("kubectl", "config", "current-context").stdout == "kind-two\n"
    via_k3d = run("kubectl", "--context", "k3d-one", "get", "nodes", "-o", "name")
    assert via_k3d.stdout.split() == ["node/k3d-one-server-0"]
    unknown = run("kubectl", "--context", "nope", "get", "nodes")
    assert unknown.returncode == 1
    assert "context was not found for specified context: nope" in unknown.stderr
    missing_file = run("kubectl", "--kubeconfig", str(tmp_path / "none"), "get", "nodes")
    assert missing_file.returncode == 1
    assert "no such file or directory" in missing_file.stderr
    view = json.loads(run("kubectl", "config", "view", "--minify", "--raw", "-o", "json").stdout)
    assert view["current-context"] == "kind-two"
    assert view["clusters"][0]["cluster"]["server"].startswith("https://")
    assert run("kubectl", "get", "--raw", "/readyz").stdout == "ok"
    info = run("kubectl", "cluster-info")
    assert info.returncode == 0
    assert "Kubernetes control plane is running at https://127.0.0.1:" in info.stdout
    version = json.loads(run("kubectl", "version", "-o", "json").stdout)
    assert version["serverVersion"]["gitVersion"] == "v1.32.2"


def test_kubectl_nodes_and_pods_shape(run: Runner) -> None:
    assert run("k3d", "cluster", "create", "shape", "--agents", "1").returncode == 0
    nodes = json.loads(run("kubectl", "get", "nodes", "-o", "json").stdout)
    assert nodes["kind"] == "List"
    for node in nodes["items"]:
        ready = next(c for c in node["status"]["conditions"] if c["type"] == "Ready")
        assert ready["status"] == "True"
        assert any(a["type"] == "InternalIP" for a in node["status"]["addresses"])
        assert node["status"]["nodeInfo"]["kubeletVersion"] == "v1.31.5+k3s1"
        assert node["status"]["nodeInfo"]["containerRuntimeVersion"].startswith("containerd://")
    server = nodes["items"][0]
    assert server["metadata"]["labels"]["node-role.kubernetes.io/control-plane"] == "true"
    pods = json.loads(run("kubectl", "get", "pods", "-A", "-o", "json").stdout)["items"]
    names = [p["metadata"]["name"] for p in pods]
    for prefix in ("coredns-", "local-path-provisioner-", "metrics-server-"):
        assert any(n.startswith(prefix) for n in names), prefix
    coredns = next(p for p in pods if p["metadata"]["name"].startswith("coredns-"))
    assert coredns["status"]["phase"] == "Running"
    assert coredns["status"]["containerStatuses"][0]["ready"] is True
    assert "running" in coredns["status"]["containerStatuses"][0]["state"]
    default_ns = run("kubectl", "get", "pods")
    assert default_ns.returncode == 0
    assert "No resources found in default namespace." in default_ns.stderr
    namespaces = run("kubectl", "get", "namespaces", "-o", "name").stdout.split()
    assert namespaces == [f"namespace/{ns}" for ns in ("default", "kube-node-lease", "kube-public", "kube-system")]
    jsonpath = run("kubectl", "get", "namespaces", "-o", "jsonpath={.items[*].metadata.name}")
    assert jsonpath.returncode == 2  # kenv never asks for templates: the fake says so instead of guessing
    assert 'output format "jsonpath={.items[*].metadata.name}" is not implemented by the test fake' in jsonpath.stderr
    waited = run("kubectl", "wait", "--for=condition=Ready", "nodes", "--all", "--timeout=60s")
    assert waited.returncode == 0
    assert "node/k3d-shape-server-0 condition met" in waited.stdout


def test_kubectl_run_nslookup(run: Runner) -> None:
    assert run("k3d", "cluster", "create", "dns").returncode == 0
    args = [
        "run",
        "dnscheck",
        "--image",
        "busybox:1.36",
        "--restart=Never",
        "--rm",
        "-i",
        "--command",
        "--",
        "nslookup",
        "kubernetes.default.svc.cluster.local",
    ]
    ok = run("kubectl", *args)
    assert ok.returncode == 0
    assert "Name:\tkubernetes.default.svc.cluster.local\nAddress: 10.43.0.1" in ok.stdout
    assert 'pod "dnscheck" deleted' in ok.stdout
    broken = run("kubectl", *args, extra={"KENV_FAKE_UNHEALTHY": "dns:dns"})
    assert broken.returncode == 1
    assert ";; connection timed out; no servers could be reached" in broken.stdout


@pytest.mark.parametrize(
    ("what", "check"),
    [
        ("node-notready", "nodes"),
        ("coredns-crashloop", "pods"),
    ],
)
def test_unhealthy_injection(run: Runner, what: str, check: str) -> None:
    assert run("k3d", "cluster", "create", "sick").returncode == 0
    extra = {"KENV_FAKE_UNHEALTHY": f"sick:{what}"}
    if check == "nodes":
        table = run("kubectl", "get", "nodes", extra=extra).stdout
        assert "NotReady" in table
        waited = run("kubectl", "wait", "--for=condition=Ready", "nodes", "--all", extra=extra)
        assert waited.returncode == 1
        assert "timed out waiting for the condition on nodes/k3d-sick-server-0" in waited.stderr
    else:
        pods = json.loads(run("kubectl", "get", "pods", "-n", "kube-system", "-o", "json", extra=extra).stdout)
        coredns = next(p for p in pods["items"] if p["metadata"]["name"].startswith("coredns-"))
        status = coredns["status"]["containerStatuses"][0]
        assert status["ready"] is False
        assert status["state"]["waiting"]["reason"] == "CrashLoopBackOff"
        assert "CrashLoopBackOff" in run("kubectl", "get", "pods", "-A", extra=extra).stdout


# ---------------------------------------------------------------------------- injection


def test_fail_injection(run: Runner) -> None:
    fail = {"KENV_FAKE_FAIL": "k3d:cluster-create:boom,kind:create-cluster,minikube:start,kubectl:get-nodes:ok"}
    boom = run("k3d", "cluster", "create", "boom", extra=fail)
    assert boom.returncode == 1
    assert "Failed to create cluster >>> Rolling Back" in boom.stderr
    assert "Cluster creation FAILED, all changes have been rolled back!" in boom.stderr
    assert json.loads(run("k3d", "cluster", "list", "-o", "json").stdout) == []
    assert run("k3d", "cluster", "create", "ok", extra=fail).returncode == 0  # other cluster names unaffected
    nodes = run("kubectl", "get", "nodes", extra=fail)
    assert nodes.returncode == 1
    assert "Error from server (ServiceUnavailable)" in nodes.stderr
    kept = run("k3d", "cluster", "create", "kept", "--no-rollback", extra={"KENV_FAKE_FAIL": "k3d:cluster-create"})
    assert kept.returncode == 1
    assert "rollback deactivated" in kept.stderr
    assert "kept" in [c["name"] for c in json.loads(run("k3d", "cluster", "list", "-o", "json").stdout)]

    kind = run("kind", "create", "cluster", "--name", "kf", extra=fail)
    assert kind.returncode == 1
    assert "failed to init node with kubeadm" in kind.stderr
    assert run("kind", "get", "clusters").stdout == ""
    retained = run("kind", "create", "cluster", "--name", "kr", "--retain", extra=fail)
    assert retained.returncode == 1
    assert run("kind", "get", "clusters").stdout == "kr\n"

    mk = run("minikube", "start", "-p", "mf", extra=fail)
    assert mk.returncode == 80
    assert "Exiting due to GUEST_START" in mk.stderr


def test_hang_injection_and_kill(run: Runner, fake_env: dict[str, str]) -> None:
    env = dict(fake_env, KENV_FAKE_HANG="k3d:cluster-create")
    proc = subprocess.Popen(
        [str(BIN / "k3d"), "cluster", "create", "stuck"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        with pytest.raises(subprocess.TimeoutExpired):
            proc.wait(timeout=1.5)
        # the half-created cluster is visible, like real containers left behind by kill -9: k3d hangs
        # waiting for the first server, which runs; the serverlb exists but was never started
        entry = json.loads(run("k3d", "cluster", "list", "-o", "json").stdout)[0]
        assert entry["name"] == "stuck"
        assert (entry["serversRunning"], entry["serversCount"]) == (1, 1)
        assert [n["State"]["Status"] for n in entry["nodes"]] == ["running", "created"]
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    assert run("k3d", "cluster", "delete", "stuck").returncode == 0
    assert json.loads(run("k3d", "cluster", "list", "-o", "json").stdout) == []


def test_delay_injection(run: Runner) -> None:
    started = time.monotonic()
    proc = run("kind", "get", "clusters", extra={"KENV_FAKE_DELAY": "kind:get-clusters=1"})
    assert proc.returncode == 0
    assert time.monotonic() - started >= 1.0
    timeout = run(
        "k3d", "cluster", "create", "slow", "--timeout", "1s", extra={"KENV_FAKE_DELAY": "k3d:cluster-create=5"}
    )
    assert timeout.returncode == 1
    assert "context deadline exceeded" in timeout.stderr
    assert json.loads(run("k3d", "cluster", "list", "-o", "json").stdout) == []


def test_parallel_creates_overlap_and_are_all_recorded(run: Runner, fake_env: dict[str, str]) -> None:
    delay = {"KENV_FAKE_DELAY": "k3d:cluster-create=2,kind:create-cluster=2"}
    results: dict[str, subprocess.CompletedProcess[str]] = {}

    def create(tool: str, name: str) -> None:
        args = ["cluster", "create", name] if tool == "k3d" else ["create", "cluster", "--name", name]
        results[f"{tool}/{name}"] = run(tool, *args, extra=delay, timeout=60)

    threads = [threading.Thread(target=create, args=(tool, f"{tool}{i}")) for tool in ("k3d", "kind") for i in range(8)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    assert all(r.returncode == 0 for r in results.values()), {k: r.stderr for k, r in results.items()}
    assert elapsed < 2 * 8, f"16 creates with a 2 s delay each took {elapsed:.1f}s: they did not overlap"

    listed = json.loads(run("k3d", "cluster", "list", "-o", "json").stdout)
    assert sorted(c["name"] for c in listed) == [f"k3d{i}" for i in range(8)]
    api_ports = {c["nodes"][0]["runtimeLabels"]["k3d.server.api.port"] for c in listed}
    assert len(api_ports) == 8
    assert run("kind", "get", "clusters").stdout.split() == [f"kind{i}" for i in range(8)]
    assert len(contexts(kubeconfig_doc(fake_env))) == 16  # every merge survived the concurrency
    creates = [c for c in calls(fake_env) if c["argv"][1:3] in (["cluster", "create"], ["create", "cluster"])]
    assert len(creates) == 16


def test_startup_is_fast(run: Runner) -> None:
    durations = []
    for _ in range(5):
        started = time.monotonic()
        run("kubectl", "version", "--client")
        durations.append(time.monotonic() - started)
    # the budget is ~100 ms on a normal machine; the bound only catches pathological regressions
    assert sorted(durations)[2] < 0.5, durations


def test_minikube_status_ip_update_context(run: Runner, fake_env: dict[str, str], tmp_path: Path) -> None:
    own = str(tmp_path / "own.kubeconfig")
    assert run("minikube", "start", "-p", "uc", "--keep-context").returncode == 0
    status = json.loads(run("minikube", "status", "-p", "uc", "-o", "json").stdout)
    assert status["Host"] == "Running"
    assert status["APIServer"] == "Running"
    ip = run("minikube", "ip", "-p", "uc").stdout.strip()
    assert ip.startswith("192.168.49.")
    updated = run("minikube", "update-context", "-p", "uc", extra={"KUBECONFIG": own})
    assert updated.returncode == 0
    assert '"uc" context has been updated to point to 127.0.0.1:' in updated.stdout
    doc = kubeconfig_doc(fake_env, own)
    assert doc["current-context"] == "uc"
    same = run("minikube", "update-context", "-p", "uc", extra={"KUBECONFIG": own})
    assert 'No changes required for the "uc" context' in same.stdout
    assert run("minikube", "stop", "-p", "uc").returncode == 0
    assert run("minikube", "status", "-p", "uc").returncode == 7
    not_implemented = run("minikube", "addons", "list")
    assert not_implemented.returncode == 2
    assert "not implemented by the test fake" in not_implemented.stderr


def test_image_archives_and_yaml_list(run: Runner, tmp_path: Path) -> None:
    import io
    import tarfile

    archive = tmp_path / "img.tar"
    with tarfile.open(archive, "w") as tar:
        data = json.dumps([{"RepoTags": ["registry.local/app:2"]}]).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    assert run("kind", "create", "cluster", "--name", "arc").returncode == 0
    assert run("kind", "load", "image-archive", str(archive), "--name", "arc").returncode == 0
    node = json.loads(run("kubectl", "get", "nodes", "-o", "json").stdout)["items"][0]
    assert [image["names"][0] for image in node["status"]["images"]] == ["registry.local/app:2"]
    missing = run("kind", "load", "image-archive", str(tmp_path / "none.tar"), "--name", "arc")
    assert missing.returncode == 1
    assert "no such file or directory" in missing.stderr
    assert run("k3d", "cluster", "create", "yml").returncode == 0
    listed = yaml.safe_load(run("k3d", "cluster", "list", "-o", "yaml").stdout)
    assert listed[0]["name"] == "yml"
