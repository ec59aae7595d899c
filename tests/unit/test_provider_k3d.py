"""k3d provider: the commands it builds and what it reads from `k3d cluster list -o json`.

The list output is k3d v5.8.3/v5.9.0's own (`cmd/cluster/clusterList.go` PrintClusters:
`json.Marshal` of the clusters plus serversRunning/serversCount/agentsRunning/agentsCount/
hasLoadbalancer, one line; `pkg/types/types.go` field names and omitempty;
`pkg/runtimes/docker/translate.go`: only `k3d*` labels as runtimeLabels, State straight from
`docker inspect`, portMappings = the container's HostConfig.PortBindings, no IP when not running;
`pkg/client/cluster.go` populateClusterFieldsFromLabels: network.id and ipam.ipPrefix stay empty).
"""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest

from kenv.errors import ExternalCommandError, InvalidInput
from kenv.providers.base import CreateOptions, NodeResources
from kenv.providers.k3d import DEFAULT_IMAGE, K3d
from kenv.runtime.process import ENGINE_DOWN_HINT
from tests.unit.scripted_runner import ScriptedRunner, environment

NETWORK_ID = "3f9d6cbd5b1e0d4b8e7e64b1d2b8a1a9e0c3f3c86b7a7f0c2b1a9e8d7c6b5a4f"
TOKEN = "HqCvUgtAJUzSYRnPtYyF"  # noqa: S105 - a fixture, as k3d generates them
LIST = ["k3d", "cluster", "list", "-o", "json"]


# -- k3d cluster list -o json, field by field ------------------------------------------------------


def k3d_node(
    cluster: str,
    name: str,
    role: str,
    *,
    running: bool,
    status: str | None = None,
    api_port: int = 16443,
    iprange: str = "10.200.3.0/24",
    ip: str = "",
    ports: dict[str, list[dict[str, str]]] | None = None,
) -> dict[str, Any]:
    labels = {
        "k3d.cluster": cluster,
        "k3d.cluster.imageVolume": f"k3d-{cluster}-images",
        "k3d.cluster.network": f"k3d-{cluster}",
        "k3d.cluster.network.external": "false",
        "k3d.cluster.network.id": NETWORK_ID,
        "k3d.cluster.network.iprange": iprange,
        "k3d.cluster.token": TOKEN,
        "k3d.cluster.url": f"https://k3d-{cluster}-server-0:6443",
        "k3d.role": role,
        "k3d.server.loadbalancer": f"k3d-{cluster}-serverlb",
        "k3d.version": "v5.8.3",
    }
    kube_api: dict[str, Any] = {"Port": "", "Binding": {"HostIp": "", "HostPort": ""}}
    if role == "server":
        labels |= {
            "k3d.node.staticIP": ip,
            "k3d.server.api.host": "127.0.0.1",
            "k3d.server.api.hostIP": "127.0.0.1",
            "k3d.server.api.port": str(api_port),
            "k3d.server.init": "false",
        }
        kube_api = {"Port": "", "Binding": {"HostIp": "127.0.0.1", "HostPort": str(api_port)}, "host": "127.0.0.1"}
    node: dict[str, Any] = {
        "name": name,
        "role": role,
        "image": "sha256:7d8b3a6c1e2f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b",
    }
    if role != "loadbalancer":
        node["volumes"] = [f"k3d-{cluster}-images:/k3d/images"]
        node["env"] = [f"K3S_TOKEN={TOKEN}", "K3S_KUBECONFIG_OUTPUT=/output/kubeconfig.yaml"]
        node["Cmd"] = ["server", "--tls-san", "0.0.0.0", "--tls-san", f"k3d-{cluster}-serverlb"]  # noqa: S104
        if role == "agent":
            node["Cmd"] = ["agent"]
    else:
        node["env"] = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
        node["Cmd"] = None
    if ports:
        node["portMappings"] = ports
    node |= {
        "restart": True,
        "created": "2026-12-01T13:03:08.123456789Z",
        "runtimeLabels": dict(sorted(labels.items())),
        "Networks": [f"k3d-{cluster}"],
        "ExtraHosts": None,
        "serverOpts": {"kubeAPI": kube_api},
        "agentOpts": {},
        "GPURequest": "",
        "Memory": "",
        "State": {"Running": running, "Status": status or ("running" if running else "exited"), "Started": ""},
        "IP": {"IP": ip if running else "", "Static": bool(running and role == "server")},
        "K3dEntrypoint": False,
    }
    return node


def k3d_cluster(name: str, nodes: list[dict[str, Any]]) -> dict[str, Any]:
    servers = [n for n in nodes if n["role"] == "server"]
    agents = [n for n in nodes if n["role"] == "agent"]
    entry: dict[str, Any] = {
        "name": name,
        "network": {"name": f"k3d-{name}", "id": "", "ipam": {"ipPrefix": "", "Managed": False}, "Members": None},
        "nodes": nodes,
        "InitNode": None,
        "imageVolume": f"k3d-{name}-images",
        "serversRunning": sum(n["State"]["Running"] for n in servers),
        "serversCount": len(servers),
        "agentsRunning": sum(n["State"]["Running"] for n in agents),
        "agentsCount": len(agents),
    }
    if any(n["role"] == "loadbalancer" for n in nodes):
        entry["hasLoadbalancer"] = True
    return entry


def k3d_list(*clusters: dict[str, Any]) -> str:
    """What `k3d cluster list -o json` prints: one compact JSON line (Go's json.Marshal + Println)."""
    return json.dumps(list(clusters), separators=(",", ":")) + "\n"


LB_PORTS = {
    "443/tcp": [{"HostIp": "127.0.0.1", "HostPort": "18443"}],
    "6443/tcp": [{"HostIp": "127.0.0.1", "HostPort": "16443"}],
    "80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "18080"}],
}


def complete_dev(running: bool = True) -> dict[str, Any]:
    """`k3d cluster create dev --servers 1 --agents 1 --subnet 10.200.3.0/24 --api-port 127.0.0.1:16443
    --port 127.0.0.1:18080:80@loadbalancer --port 127.0.0.1:18443:443@loadbalancer`, all up (or all stopped)."""
    return k3d_cluster(
        "dev",
        [
            k3d_node("dev", "k3d-dev-server-0", "server", running=running, ip="10.200.3.3"),
            k3d_node("dev", "k3d-dev-agent-0", "agent", running=running, ip="10.200.3.4"),
            k3d_node("dev", "k3d-dev-serverlb", "loadbalancer", running=running, ip="10.200.3.5", ports=LB_PORTS),
        ],
    )


def killed_create_dev() -> dict[str, Any]:
    """A `k3d cluster create dev --servers 3 --agents 2` killed right after server-0 started: every
    node container exists (ClusterCreate made them all), only server-0 was started."""
    return k3d_cluster(
        "dev",
        [
            k3d_node("dev", "k3d-dev-server-0", "server", running=True, ip="10.200.3.3"),
            k3d_node("dev", "k3d-dev-server-1", "server", running=False, status="created"),
            k3d_node("dev", "k3d-dev-server-2", "server", running=False, status="created"),
            k3d_node("dev", "k3d-dev-agent-0", "agent", running=False, status="created"),
            k3d_node("dev", "k3d-dev-agent-1", "agent", running=False, status="created"),
            k3d_node("dev", "k3d-dev-serverlb", "loadbalancer", running=False, status="created", ports=LB_PORTS),
        ],
    )


NETWORK_INSPECT = """[
    {
        "Name": "k3d-dev",
        "Id": "%s",
        "Created": "2026-12-01T13:03:07.52139401Z",
        "Scope": "local",
        "Driver": "bridge",
        "EnableIPv4": true,
        "EnableIPv6": false,
        "IPAM": {
            "Driver": "default",
            "Options": null,
            "Config": [
                {
                    "Subnet": "%s",
                    "Gateway": "%s"
                }
            ]
        },
        "Internal": false,
        "Attachable": false,
        "Ingress": false,
        "ConfigFrom": {
            "Network": ""
        },
        "ConfigOnly": false,
        "Containers": {},
        "Options": {
            "com.docker.network.bridge.enable_ip_masquerade": "true"
        },
        "Labels": {
            "app": "k3d"
        }
    }
]
"""
NO_SUCH_NETWORK = "Error response from daemon: network k3d-dev not found\n"
DOCKER_DOWN = "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n"


# -- fixtures --------------------------------------------------------------------------------------


@pytest.fixture
def runner() -> ScriptedRunner:
    return ScriptedRunner()


@pytest.fixture
def k3d(runner: ScriptedRunner, tmp_path: Path) -> K3d:
    return K3d(runner, tmp_path)


def own(tmp_path: Path, name: str = "dev") -> dict[str, str]:
    return {"KUBECONFIG": str(tmp_path / "kubeconfig" / f"{name}.yaml")}


def options(tmp_path: Path, **resources: str) -> CreateOptions:
    return CreateOptions(kubeconfig=tmp_path / "kubeconfig" / "dev.yaml", resources=NodeResources(**resources))


BASE = [
    "--wait",
    "--timeout",
    "300s",
    "--kubeconfig-update-default=false",
    "--kubeconfig-switch-context=false",
]


# -- argv builders ---------------------------------------------------------------------------------


def test_provider_k3d_create_argv_typical(k3d: K3d, tmp_path: Path) -> None:
    env = environment(
        subnet="10.200.3.0/24", ports={"http": 18080, "https": 18443, "api": 16443, "pf": 19000}, agents=1
    )
    assert k3d.create_argv(env, options(tmp_path)) == [
        "k3d", "cluster", "create", "dev",
        "--image", DEFAULT_IMAGE,
        "--servers", "1", "--agents", "1",
        *BASE,
        "--subnet", "10.200.3.0/24",
        "--api-port", "127.0.0.1:16443",
        "--port", "127.0.0.1:18080:80@loadbalancer",
        "--port", "127.0.0.1:18443:443@loadbalancer",
    ]  # fmt: skip


def test_provider_k3d_create_argv_without_subnet_or_ports(k3d: K3d, tmp_path: Path) -> None:
    env = environment(servers=3, agents=2)
    argv = k3d.create_argv(env, CreateOptions(kubeconfig=tmp_path / "k.yaml", timeout=600))
    assert argv == [
        "k3d", "cluster", "create", "dev", "--image", DEFAULT_IMAGE, "--servers", "3", "--agents", "2",
        "--wait", "--timeout", "600s", "--kubeconfig-update-default=false", "--kubeconfig-switch-context=false",
    ]  # fmt: skip


def test_provider_k3d_never_passes_network_only_subnet(k3d: K3d, tmp_path: Path) -> None:
    # k3d pins server IPs only in a network it makes itself from --subnet (pkg/client/cluster.go);
    # --network names an external one, and --network with --subnet CIDR is refused.
    argv = k3d.create_argv(environment(subnet="10.200.7.0/24", servers=3), options(tmp_path))
    assert not any(a == "--network" or a.startswith("--network=") for a in argv)
    assert argv[argv.index("--subnet") + 1] == "10.200.7.0/24"


@pytest.mark.parametrize(
    ("version", "image"),
    [
        (None, DEFAULT_IMAGE),
        ("v1.30.8-k3s1", "rancher/k3s:v1.30.8-k3s1"),
        ("rancher/k3s:v1.29.12-k3s1", "rancher/k3s:v1.29.12-k3s1"),
        ("registry.example.com:5000/mirror/k3s:v1.31.5-k3s1", "registry.example.com:5000/mirror/k3s:v1.31.5-k3s1"),
    ],
)
def test_provider_k3d_image_from_a_tag_or_a_full_image(
    k3d: K3d, tmp_path: Path, version: str | None, image: str
) -> None:
    argv = k3d.create_argv(environment(k8s_version=version), options(tmp_path))
    assert argv[argv.index("--image") + 1] == image


def test_provider_k3d_memory_goes_to_servers_and_agents_and_cpus_is_not_a_k3d_flag(k3d: K3d, tmp_path: Path) -> None:
    argv = k3d.create_argv(environment(agents=2), options(tmp_path, memory="2g", cpus="2"))
    assert argv[-4:] == ["--servers-memory", "2g", "--agents-memory", "2g"]
    assert not any("cpu" in a for a in argv)


def test_provider_k3d_create_checks_that_no_foreign_network_holds_the_name(
    k3d: K3d, runner: ScriptedRunner, tmp_path: Path
) -> None:
    env = environment(subnet="10.200.3.0/24", ports={"api": 16443})
    runner.expect(["docker", "network", "inspect", "k3d-dev"], returncode=1, stdout="[]\n", stderr=NO_SUCH_NETWORK)
    runner.expect(k3d.create_argv(env, options(tmp_path)), stderr="INFO[0021] Cluster 'dev' created successfully!\n")
    k3d.create(env, options(tmp_path))
    runner.assert_done()
    inspect, create = runner.calls
    assert not inspect.mutating and not inspect.check
    assert create.extra_env == own(tmp_path)
    assert create.timeout > 300  # k3d's own --timeout bounds the wait, kenv's is longer


def test_provider_k3d_create_accepts_a_leftover_network_with_the_same_subnet(
    k3d: K3d, runner: ScriptedRunner, tmp_path: Path
) -> None:
    env = environment(subnet="10.200.3.0/24")
    runner.expect(
        ["docker", "network", "inspect", "k3d-dev"],
        stdout=NETWORK_INSPECT % (NETWORK_ID, "10.200.3.0/24", "10.200.3.1"),
    )
    runner.expect(["k3d", "cluster", "create", "dev"], prefix=True)
    k3d.create(env, options(tmp_path))
    runner.assert_done()


def test_provider_k3d_create_refuses_a_network_of_that_name_on_another_subnet(
    k3d: K3d, runner: ScriptedRunner, tmp_path: Path
) -> None:
    # k3d would silently reuse it and ignore --subnet (pkg/runtimes/docker/network.go).
    env = environment(subnet="10.200.3.0/24")
    runner.expect(
        ["docker", "network", "inspect", "k3d-dev"],
        stdout=NETWORK_INSPECT % (NETWORK_ID, "172.19.0.0/16", "172.19.0.1"),
    )
    with pytest.raises(InvalidInput, match=r"k3d-dev exists with subnet 172\.19\.0\.0/16, not 10\.200\.3\.0/24"):
        k3d.create(env, options(tmp_path))
    assert runner.calls_to("k3d") == []


def test_provider_k3d_create_without_subnet_does_not_look_at_networks(
    k3d: K3d, runner: ScriptedRunner, tmp_path: Path
) -> None:
    env = environment()
    runner.expect(k3d.create_argv(env, options(tmp_path)))
    k3d.create(env, options(tmp_path))
    runner.assert_done()


def test_provider_k3d_create_failure_with_the_engine_down_says_so(
    k3d: K3d, runner: ScriptedRunner, tmp_path: Path
) -> None:
    env = environment()
    stderr = (
        "ERRO[0000] Failed to get nodes for cluster 'dev': docker failed to get containers with labels "
        f"'map[k3d.cluster:dev]': failed to list containers: {DOCKER_DOWN}"
        "INFO[0000] Prep: Network\n"
        "ERRO[0000] Failed Cluster Preparation: Failed Network Preparation: failed to create cluster network: "
        f"failed to check for duplicate docker networks: docker failed to list networks: {DOCKER_DOWN}"
        "ERRO[0000] Failed to create cluster >>> Rolling Back\n"
        "INFO[0000] Deleting cluster 'dev'\n"
        "ERRO[0000] failed to get cluster: No nodes found for given cluster\n"
        "FATA[0000] Cluster creation FAILED, also FAILED to rollback changes!\n"
    )
    runner.expect(k3d.create_argv(env, options(tmp_path)), returncode=1, stderr=stderr)
    with pytest.raises(ExternalCommandError) as caught:
        k3d.create(env, options(tmp_path))
    assert caught.value.returncode == 1
    assert "FAILED to rollback" in caught.value.stderr_tail
    assert caught.value.hint == ENGINE_DOWN_HINT


def test_provider_k3d_create_in_a_dry_run_plans_the_create(tmp_path: Path) -> None:
    runner = ScriptedRunner(dry_run=True)
    k3d = K3d(runner, tmp_path)
    env = environment(subnet="10.200.3.0/24")
    # The network check is a read: it still runs in a dry run.
    runner.expect(["docker", "network", "inspect", "k3d-dev"], returncode=1, stdout="[]\n", stderr=NO_SUCH_NETWORK)
    k3d.create(env, options(tmp_path))
    assert runner.planned == [tuple(k3d.create_argv(env, options(tmp_path)))]
    runner.assert_done()


@pytest.mark.parametrize(
    ("method", "argv"),
    [
        ("delete", ["k3d", "cluster", "delete", "dev"]),
        ("start", ["k3d", "cluster", "start", "dev", "--wait"]),
        ("stop", ["k3d", "cluster", "stop", "dev"]),
    ],
)
def test_provider_k3d_lifecycle_argv_with_the_own_kubeconfig(
    k3d: K3d, runner: ScriptedRunner, tmp_path: Path, method: str, argv: list[str]
) -> None:
    runner.expect(argv, stderr="INFO[0000] done\n")
    getattr(k3d, method)(environment())
    runner.assert_done()
    (call,) = runner.calls
    # k3d cluster delete rewrites the kubeconfig KUBECONFIG names (cmd/cluster/clusterDelete.go).
    assert call.extra_env == own(tmp_path)
    assert call.mutating and call.check


def test_provider_k3d_kubeconfig_is_written_private(k3d: K3d, runner: ScriptedRunner, tmp_path: Path) -> None:
    text = "apiVersion: v1\nclusters:\n- cluster:\n    server: https://127.0.0.1:16443\n  name: k3d-dev\n"
    runner.expect(["k3d", "kubeconfig", "get", "dev"], stdout=text)
    target = tmp_path / "kubeconfig" / "dev.yaml"
    k3d.write_kubeconfig(environment(), target)
    assert target.read_text() == text
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert runner.calls[0].extra_env == own(tmp_path)


def test_provider_k3d_kubeconfig_in_a_dry_run_writes_nothing(tmp_path: Path) -> None:
    runner = ScriptedRunner(dry_run=True)
    target = tmp_path / "kubeconfig" / "dev.yaml"
    K3d(runner, tmp_path).write_kubeconfig(environment(), target)
    assert runner.planned == [("k3d", "kubeconfig", "get", "dev")]
    assert not target.exists()


def test_provider_k3d_import_images(k3d: K3d, runner: ScriptedRunner, tmp_path: Path) -> None:
    runner.expect(["k3d", "image", "import", "app:1", "redis:7", "-c", "dev"])
    k3d.import_images(environment(), ["app:1", "redis:7"])
    runner.assert_done()
    assert runner.calls[0].extra_env == own(tmp_path)


def test_provider_k3d_every_k3d_call_for_an_environment_reads_its_own_kubeconfig(
    k3d: K3d, runner: ScriptedRunner, tmp_path: Path
) -> None:
    runner.answer(["k3d"], prefix=True, stdout="apiVersion: v1\n")
    runner.answer(["docker", "network", "inspect", "k3d-dev"], returncode=1, stdout="[]\n", stderr=NO_SUCH_NETWORK)
    env = environment(subnet="10.200.3.0/24", ports={"http": 18080}, agents=1)
    k3d.create(env, options(tmp_path))
    k3d.stop(env)
    k3d.start(env)
    k3d.write_kubeconfig(env, tmp_path / "kubeconfig" / "dev.yaml")
    k3d.import_images(env, ["app:1"])
    k3d.delete(env)
    calls = runner.calls_to("k3d")
    assert len(calls) == 6
    assert all(call.extra_env == own(tmp_path) for call in calls), [
        c.argv for c in calls if c.extra_env != own(tmp_path)
    ]


# -- cluster list parser ---------------------------------------------------------------------------


def test_provider_k3d_reads_a_complete_cluster(k3d: K3d, runner: ScriptedRunner) -> None:
    runner.expect(LIST, stdout=k3d_list(complete_dev()))
    state = k3d.state(environment(agents=1))
    assert state is not None
    assert [(n.name, n.role, n.running) for n in state.nodes] == [
        ("k3d-dev-server-0", "server", True),
        ("k3d-dev-agent-0", "agent", True),
        ("k3d-dev-serverlb", "loadbalancer", True),
    ]
    assert state.running
    assert state.api_port == 16443
    assert state.subnet == "10.200.3.0/24"
    assert state.network == "k3d-dev"
    assert state.host_ports == {16443: 6443, 18080: 80, 18443: 443}
    assert state.node_ip is None
    assert state.shortfall(1, 1) is None and state.complete(1, 1)
    assert not runner.calls[0].mutating


def test_provider_k3d_counts_the_load_balancer(k3d: K3d, runner: ScriptedRunner) -> None:
    # A cluster without its serverlb answers nothing on the API port its kubeconfig names.
    cluster = complete_dev()
    cluster["nodes"] = [n for n in cluster["nodes"] if n["role"] != "loadbalancer"]
    del cluster["hasLoadbalancer"]
    runner.expect(LIST, stdout=k3d_list(cluster))
    state = k3d.state(environment(agents=1))
    assert state is not None and state.running
    assert state.shortfall(1, 1) == "2 of 3 node(s) exist"
    assert not state.complete(1, 1)


def test_provider_k3d_a_killed_create_is_incomplete_not_running_nodes_named(k3d: K3d, runner: ScriptedRunner) -> None:
    runner.expect(LIST, stdout=k3d_list(killed_create_dev()))
    state = k3d.state(environment(servers=3, agents=2))
    assert state is not None
    assert [n.running for n in state.nodes] == [True, False, False, False, False, False]
    assert state.running  # server-0 answers: the cluster is partly up
    assert state.shortfall(3, 2) == (
        "not running: k3d-dev-server-1, k3d-dev-server-2, k3d-dev-agent-0, k3d-dev-agent-1, k3d-dev-serverlb"
    )
    assert not state.complete(3, 2)


def test_provider_k3d_a_killed_create_before_all_nodes_exist(k3d: K3d, runner: ScriptedRunner) -> None:
    # Killed during ClusterCreate: only the first node container was made, none started.
    cluster = k3d_cluster("dev", [k3d_node("dev", "k3d-dev-server-0", "server", running=False, status="created")])
    runner.expect(LIST, stdout=k3d_list(cluster))
    state = k3d.state(environment(agents=1))
    assert state is not None and not state.running
    assert state.shortfall(1, 1) == "1 of 3 node(s) exist"


def test_provider_k3d_a_stopped_cluster(k3d: K3d, runner: ScriptedRunner) -> None:
    runner.expect(LIST, stdout=k3d_list(complete_dev(running=False)))
    state = k3d.state(environment(agents=1))
    assert state is not None
    assert not state.running
    assert state.shortfall(1, 1) == "not running: k3d-dev-server-0, k3d-dev-agent-0, k3d-dev-serverlb"
    # Ports and subnet come from the labels, which a stopped container keeps.
    assert state.api_port == 16443 and state.subnet == "10.200.3.0/24"


def test_provider_k3d_lists_several_clusters_and_finds_one(k3d: K3d, runner: ScriptedRunner) -> None:
    other = k3d_cluster(
        "other",
        [
            k3d_node("other", "k3d-other-server-0", "server", running=True, api_port=16444, iprange="172.19.0.0/16"),
            k3d_node("other", "k3d-other-serverlb", "loadbalancer", running=True),
        ],
    )
    runner.answer(LIST, stdout=k3d_list(complete_dev(), other))
    clusters = k3d.list_clusters()
    assert [c.name for c in clusters] == ["dev", "other"]
    assert clusters[1].api_port == 16444 and clusters[1].subnet == "172.19.0.0/16" and clusters[1].host_ports == {}
    found = k3d.state(environment("other"))
    assert found is not None and found.name == "other"
    assert k3d.state(environment("missing")) is None


def test_provider_k3d_no_clusters(k3d: K3d, runner: ScriptedRunner) -> None:
    runner.expect(LIST, stdout="[]\n")
    assert k3d.list_clusters() == []


def test_provider_k3d_list_with_the_engine_down_fails_with_the_hint(k3d: K3d, runner: ScriptedRunner) -> None:
    stderr = (
        "FATA[0000] runtime failed to list nodes: docker failed to get containers with labels 'map[app:k3d]': "
        f"failed to list containers: {DOCKER_DOWN}"
    )
    runner.expect(LIST, returncode=1, stderr=stderr)
    with pytest.raises(ExternalCommandError) as caught:
        k3d.list_clusters()
    assert caught.value.hint == ENGINE_DOWN_HINT


def test_provider_k3d_node_names_leave_out_the_load_balancer(k3d: K3d, runner: ScriptedRunner) -> None:
    runner.expect(LIST, stdout=k3d_list(complete_dev()))
    assert k3d.node_names(environment(agents=1)) == ["k3d-dev-server-0", "k3d-dev-agent-0"]


def test_provider_k3d_exec_in_node_is_a_docker_exec(k3d: K3d, runner: ScriptedRunner) -> None:
    runner.expect(["docker", "exec", "k3d-dev-server-0", "crictl", "images"], stdout="IMAGE TAG ID SIZE\n")
    result = k3d.exec_in_node(environment(), "k3d-dev-server-0", ["crictl", "images"])
    assert result.ok
    assert not runner.calls[0].mutating and not runner.calls[0].check
