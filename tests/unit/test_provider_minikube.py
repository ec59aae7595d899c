"""minikube provider: the commands it builds and what it reads from `minikube profile list -o json`.

Formats are minikube's own (v1.34.0 and v1.38.1 read side by side):
- `cmd/minikube/cmd/config/profile_list.go` printProfilesJSON: `{"invalid":[...],"valid":[...]}`
  written with os.Stdout.Write (one line, no newline), exit 0 even with no profiles; a listing
  error prints `{"error":{...}}` and exits 80 (reason.ExGuestError);
- `pkg/minikube/config/types.go`: Profile{Name, Status, Config, Active, ActiveKubeContext},
  ClusterConfig fields in declaration order, Node{Name, IP, Port, KubernetesVersion,
  ContainerRuntime, ControlPlane, Worker}; the primary node's Name is "", the others "m02", ...;
- Status: v1.34 "Running" when healthy (profile_list.go profileStatus); since v1.35.0
  (`pkg/minikube/cluster/status.go`) "OK", HA "HAppy"/"Degraded", "Stopped", "Starting" (a start
  that never logged Done), "Unknown" (status error, e.g. Docker down), "" (codeNames gap);
- minikube#15516: `--subnet CIDR` whose first candidate is taken panics in network.FreeSubnet, exit 2.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest

from kenv.errors import ExternalCommandError, KenvError
from kenv.providers.base import CreateOptions, NodeResources
from kenv.providers.minikube import Minikube
from kenv.runtime.process import ENGINE_DOWN_HINT
from tests.unit.scripted_runner import ScriptedRunner, environment

LIST = ["minikube", "profile", "list", "-o", "json"]
VERSIONS = {
    "v1.34.0": (
        "gcr.io/k8s-minikube/kicbase:v0.0.45@sha256:81df288595202a317b1a4dc2506ca2e4ed5f22373c19a441b88cfbf4b9867c85",
        "v1.31.0",
    ),
    "v1.38.1": (
        "gcr.io/k8s-minikube/kicbase:v0.0.50@sha256:7d6d1e1e4c0ae7e0cf18dc7a2c3e0a2e3e2f0c9f1c1b6e5b6d1c0f8e7a6b5c4d",
        "v1.35.1",
    ),
}


def node(name: str, ip: str, *, control_plane: bool, version: str = "v1.38.1") -> dict[str, Any]:
    return {
        "Name": name,
        "IP": ip,
        "Port": 8443,
        "KubernetesVersion": VERSIONS[version][1],
        "ContainerRuntime": "docker",
        "ControlPlane": control_plane,
        "Worker": True,
    }


def profile(
    name: str,
    status: str,
    nodes: list[dict[str, Any]],
    *,
    subnet: str = "",
    ports: list[str] | None = None,
    version: str = "v1.38.1",
) -> dict[str, Any]:
    """One entry of `valid`, ClusterConfig in Go's field order."""
    kicbase, k8s = VERSIONS[version]
    config: dict[str, Any] = {
        "Name": name, "KeepContext": False, "EmbedCerts": False, "MinikubeISO": "", "KicBaseImage": kicbase,
        "Memory": 3072, "CPUs": 2, "DiskSize": 20000, "Driver": "docker", "HyperkitVpnKitSock": "",
        "HyperkitVSockPorts": [], "DockerEnv": None, "ContainerVolumeMounts": None, "InsecureRegistry": None,
        "RegistryMirror": [], "HostOnlyCIDR": "192.168.59.1/24", "HypervVirtualSwitch": "",
        "HypervUseExternalSwitch": False, "HypervExternalAdapter": "", "KVMNetwork": "default",
        "KVMQemuURI": "qemu:///system", "KVMGPU": False, "KVMHidden": False, "KVMNUMACount": 1,
        "APIServerPort": 8443, "DockerOpt": None, "DisableDriverMounts": False, "NFSShare": [],
        "NFSSharesRoot": "/nfsshares", "UUID": "", "NoVTXCheck": False, "DNSProxy": False, "HostDNSResolver": True,
        "HostOnlyNicType": "virtio", "NatNicType": "virtio", "SSHIPAddress": "", "SSHUser": "root", "SSHKey": "",
        "SSHPort": 22,
        "KubernetesConfig": {
            "KubernetesVersion": k8s, "ClusterName": name, "Namespace": "default", "APIServerHAVIP": "",
            "APIServerName": "minikubeCA", "APIServerNames": None, "APIServerIPs": None, "DNSDomain": "cluster.local",
            "ContainerRuntime": "docker", "CRISocket": "", "NetworkPlugin": "cni", "FeatureGates": "",
            "ServiceCIDR": "10.96.0.0/12", "ImageRepository": "", "LoadBalancerStartIP": "",
            "LoadBalancerEndIP": "", "CustomIngressCert": "", "RegistryAliases": "", "ExtraOptions": None,
            "ShouldLoadCachedImages": True, "EnableDefaultCNI": False, "CNI": "",
        },
        "Nodes": nodes,
        "Addons": {"default-storageclass": True, "storage-provisioner": True},
        "CustomAddonImages": None, "CustomAddonRegistries": None,
        "VerifyComponents": {"apiserver": True, "apps_running": True, "default_sa": True, "extra": True,
                             "kubelet": True, "node_ready": True, "system_pods": True},
        "StartHostTimeout": 360000000000, "ScheduledStop": None, "ExposedPorts": ports or [],
        "ListenAddress": "", "Network": "", "Subnet": subnet, "MultiNodeRequested": len(nodes) > 1,
        "ExtraDisks": 0, "CertExpiration": 94608000000000000, "MountString": "", "Mount9PVersion": "9p2000.L",
        "MountGID": "docker", "MountIP": "", "MountMSize": 262144, "MountOptions": [], "MountPort": 0,
        "MountType": "9p", "MountUID": "docker", "BinaryMirror": "", "DisableOptimizations": False,
        "DisableMetrics": False,
    }  # fmt: skip
    if version == "v1.38.1":
        config["DisableCoreDNSLog"] = False
    config |= {
        "CustomQemuFirmwarePath": "", "SocketVMnetClientPath": "", "SocketVMnetPath": "", "StaticIP": "",
        "SSHAuthSock": "", "SSHAgentPID": 0, "GPUs": "", "AutoPauseInterval": 60000000000,
    }  # fmt: skip
    if version == "v1.38.1":
        config["Rosetta"] = False
    return {"Name": name, "Status": status, "Config": config, "Active": False, "ActiveKubeContext": True}


def profile_list(*profiles: dict[str, Any]) -> str:
    """Go's json.Marshal of map[string]interface{} (keys sorted), no trailing newline."""
    return json.dumps({"invalid": [], "valid": list(profiles)}, separators=(",", ":"))


def single(status: str, *, ip: str = "10.200.4.2", subnet: str = "10.200.4.0/24", version: str = "v1.38.1") -> str:
    return profile_list(profile("dev", status, [node("", ip, control_plane=True, version=version)], subnet=subnet))


def ha(status: str, workers: int = 0) -> str:
    nodes = [
        node("", "10.200.4.2", control_plane=True),
        node("m02", "10.200.4.3", control_plane=True),
        node("m03", "10.200.4.4", control_plane=True),
    ]
    nodes += [node(f"m{i:02d}", f"10.200.4.{i + 1}", control_plane=False) for i in range(4, 4 + workers)]
    return profile_list(profile("dev", status, nodes, subnet="10.200.4.0/24"))


FREE_SUBNET_PANIC = (
    "panic: runtime error: index out of range [1] with length 0\n"
    "\n"
    "goroutine 1 [running]:\n"
    "k8s.io/minikube/pkg/network.FreeSubnet({0xc000a1c2e0, 0xd}, 0x9, 0x14)\n"
    "\t/app/pkg/network/network.go:218 +0x4e5\n"
    "k8s.io/minikube/pkg/drivers/kic/oci.CreateNetwork("
    "{0x3c0e4a8, 0x6}, {0xc0005b4a50, 0x3}, {0xc000a1c2e0, 0xd}, {0x0, 0x0})\n"
    "\t/app/pkg/drivers/kic/oci/network_create.go:102 +0x2a5\n"
    "k8s.io/minikube/pkg/drivers/kic.(*Driver).Create(0xc000a2e480)\n"
    "\t/app/pkg/drivers/kic/kic.go:101 +0x1c5\n"
    "k8s.io/minikube/pkg/minikube/machine.(*LocalClient).Create(0xc000a3c140, 0xc000b1a000)\n"
    "\t/app/pkg/minikube/machine/client.go:233 +0x26b\n"
)
START_STDOUT = (
    "😄  [dev] minikube v1.38.1 on Debian 12.9\n"
    "✨  Using the docker driver based on user configuration\n"
    "📌  Using Docker driver with root privileges\n"
    '👍  Starting "dev" primary control-plane node in "dev" cluster\n'
    "🚜  Pulling base image v0.0.50 ...\n"
    "🔥  Creating docker container (CPUs=2, Memory=3072MB) ...\n"
)


@pytest.fixture
def runner() -> ScriptedRunner:
    return ScriptedRunner()


@pytest.fixture
def minikube(runner: ScriptedRunner, tmp_path: Path) -> Minikube:
    return Minikube(runner, tmp_path)


def own(tmp_path: Path) -> dict[str, str]:
    return {"KUBECONFIG": str(tmp_path / "kubeconfig" / "dev.yaml")}


def options(tmp_path: Path, **resources: str) -> CreateOptions:
    return CreateOptions(kubeconfig=tmp_path / "kubeconfig" / "dev.yaml", resources=NodeResources(**resources))


START = ["minikube", "start", "-p", "dev", "--driver=docker"]


# -- argv builders ---------------------------------------------------------------------------------


def test_provider_minikube_create_argv_typical(minikube: Minikube, tmp_path: Path) -> None:
    env = environment(
        provider="minikube", subnet="10.200.4.0/24", ports={"http": 18080, "https": 18443}, k8s_version="v1.33.1"
    )
    assert minikube.create_argv(env, options(tmp_path, cpus="2", memory="4g")) == [
        *START, "--nodes=1", "--wait-timeout=300s", "--subnet=10.200.4.0/24",
        "--ports=127.0.0.1:18080:30080", "--ports=127.0.0.1:18443:30081",
        "--kubernetes-version=v1.33.1", "--cpus=2", "--memory=4g",
    ]  # fmt: skip


def test_provider_minikube_create_argv_minimal(minikube: Minikube, tmp_path: Path) -> None:
    argv = minikube.create_argv(environment(provider="minikube"), CreateOptions(kubeconfig=tmp_path, timeout=600))
    assert argv == [*START, "--nodes=1", "--wait-timeout=600s"]


def test_provider_minikube_three_servers_are_ha_with_every_node_counted(minikube: Minikube, tmp_path: Path) -> None:
    # --ha makes exactly three control planes; --nodes counts them and the workers (start_flags.go).
    argv = minikube.create_argv(environment(provider="minikube", servers=3, agents=2), options(tmp_path))
    assert "--ha" in argv and "--nodes=5" in argv
    argv = minikube.create_argv(environment(provider="minikube", servers=1, agents=2), options(tmp_path))
    assert "--ha" not in argv and "--nodes=3" in argv


def test_provider_minikube_never_passes_apiserver_port(minikube: Minikube, tmp_path: Path) -> None:
    # It is the port inside the node container; Docker publishes it on a random host port
    # (pkg/drivers/kic/oci/oci.go). A record from before may still hold an api port.
    env = environment(provider="minikube", ports={"api": 16443, "http": 18080})
    argv = minikube.create_argv(env, options(tmp_path))
    assert not any("apiserver-port" in a for a in argv)
    assert not any("16443" in a for a in argv)


def test_provider_minikube_create_without_subnet_only_starts(
    minikube: Minikube, runner: ScriptedRunner, tmp_path: Path
) -> None:
    env = environment(provider="minikube")
    runner.expect(
        minikube.create_argv(env, options(tmp_path)),
        stdout=START_STDOUT
        + '🏄  Done! kubectl is now configured to use "dev" cluster and "default" namespace by default\n',
    )
    minikube.create(env, options(tmp_path))
    runner.assert_done()
    assert runner.calls[0].extra_env == own(tmp_path)
    assert runner.calls[0].timeout > 300


def test_provider_minikube_create_checks_the_node_is_in_its_subnet(
    minikube: Minikube, runner: ScriptedRunner, tmp_path: Path
) -> None:
    env = environment(provider="minikube", subnet="10.200.4.0/24")
    runner.expect(minikube.create_argv(env, options(tmp_path)), stdout=START_STDOUT)
    runner.expect(LIST, stdout=single("OK"))
    minikube.create(env, options(tmp_path))
    runner.assert_done()


def test_provider_minikube_create_outside_its_subnet_deletes_the_profile(
    minikube: Minikube, runner: ScriptedRunner, tmp_path: Path
) -> None:
    # Every dedicated-network attempt failed: minikube warns and runs the node on Docker's bridge.
    env = environment(provider="minikube", subnet="10.200.4.0/24")
    warning = (
        "❗  Unable to create dedicated network, this might result in cluster IP change after restart: "
        "failed to create docker network dev: subnet is taken\n"
    )
    runner.expect(minikube.create_argv(env, options(tmp_path)), stdout=START_STDOUT, stderr=warning)
    runner.expect(LIST, stdout=single("OK", ip="172.17.0.2"))
    runner.expect(["minikube", "delete", "-p", "dev"], stdout='🔥  Deleting "dev" in docker ...\n')
    with pytest.raises(KenvError, match=r"172\.17\.0\.2.*outside its subnet 10\.200\.4\.0/24.*deleted") as caught:
        minikube.create(env, options(tmp_path))
    assert not isinstance(caught.value, ExternalCommandError)
    runner.assert_done()
    assert runner.calls[-1].extra_env == own(tmp_path)


def test_provider_minikube_create_whose_profile_vanished_is_not_taken_as_inside(
    minikube: Minikube, runner: ScriptedRunner, tmp_path: Path
) -> None:
    env = environment(provider="minikube", subnet="10.200.4.0/24")
    runner.expect(minikube.create_argv(env, options(tmp_path)))
    runner.expect(LIST, stdout=profile_list())
    runner.expect(["minikube", "delete", "-p", "dev"])
    with pytest.raises(KenvError, match="unknown address"):
        minikube.create(env, options(tmp_path))
    runner.assert_done()


def test_provider_minikube_free_subnet_panic_is_a_clear_error(
    minikube: Minikube, runner: ScriptedRunner, tmp_path: Path
) -> None:
    env = environment(provider="minikube", subnet="10.200.4.0/24")
    runner.expect(
        minikube.create_argv(env, options(tmp_path)), returncode=2, stdout=START_STDOUT, stderr=FREE_SUBNET_PANIC
    )
    with pytest.raises(KenvError, match="crashed looking for a free subnet") as caught:
        minikube.create(env, options(tmp_path))
    assert "10.200.4.0/24" in caught.value.message and "minikube#15516" in caught.value.message
    assert "goroutine" not in caught.value.one_line()
    assert not isinstance(caught.value, ExternalCommandError)
    runner.assert_done()


def test_provider_minikube_other_start_failures_keep_minikube_s_words(
    minikube: Minikube, runner: ScriptedRunner, tmp_path: Path
) -> None:
    env = environment(provider="minikube", agents=1)
    stderr = (
        "🤦  StartHost failed, but will try again: creating host: create: creating: create kic node: ...\n"
        "❌  Exiting due to GUEST_START: failed to start node: adding node: Failed to start host: ... "
        "Bind for 127.0.0.1:18080 failed: port is already allocated.\n"
    )
    runner.expect(minikube.create_argv(env, options(tmp_path)), returncode=80, stderr=stderr)
    with pytest.raises(ExternalCommandError, match="port is already allocated") as caught:
        minikube.create(env, options(tmp_path))
    assert caught.value.returncode == 80 and caught.value.hint is None


def test_provider_minikube_start_with_the_engine_down_says_so(
    minikube: Minikube, runner: ScriptedRunner, tmp_path: Path
) -> None:
    env = environment(provider="minikube", subnet="10.200.4.0/24")
    stderr = (
        '💣  Exiting due to PROVIDER_DOCKER_NOT_RUNNING: "docker version --format '
        '{{.Server.Os}}-{{.Server.Version}}:{{.Server.Platform.Name}}" exit status 1: Cannot connect to the Docker '
        "daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n"
        "💡  Suggestion: Start the Docker service\n"
        "📘  Documentation: https://minikube.sigs.k8s.io/docs/drivers/docker/\n"
    )
    runner.expect(minikube.create_argv(env, options(tmp_path)), returncode=63, stderr=stderr)
    with pytest.raises(ExternalCommandError) as caught:
        minikube.create(env, options(tmp_path))
    assert caught.value.hint == ENGINE_DOWN_HINT


def test_provider_minikube_create_in_a_dry_run_plans_only_the_start(tmp_path: Path) -> None:
    runner = ScriptedRunner(dry_run=True)
    minikube = Minikube(runner, tmp_path)
    env = environment(provider="minikube", subnet="10.200.4.0/24")
    minikube.create(env, options(tmp_path))
    assert runner.planned == [tuple(minikube.create_argv(env, options(tmp_path)))]
    assert len(runner.calls) == 1


@pytest.mark.parametrize(
    ("method", "argv"),
    [
        ("start", ["minikube", "start", "-p", "dev"]),
        ("stop", ["minikube", "stop", "-p", "dev"]),
        ("delete", ["minikube", "delete", "-p", "dev"]),
    ],
)
def test_provider_minikube_lifecycle_argv_with_the_own_kubeconfig(
    minikube: Minikube, runner: ScriptedRunner, tmp_path: Path, method: str, argv: list[str]
) -> None:
    runner.expect(argv)
    getattr(minikube, method)(environment(provider="minikube"))
    runner.assert_done()
    # stop and delete remove the context named like the profile from whatever KUBECONFIG names.
    assert runner.calls[0].extra_env == own(tmp_path)
    assert runner.calls[0].mutating


def test_provider_minikube_update_context_writes_the_given_file(
    minikube: Minikube, runner: ScriptedRunner, tmp_path: Path
) -> None:
    target = tmp_path / "kubeconfig" / "dev.yaml"
    target.parent.mkdir()
    target.write_text("apiVersion: v1\n")
    target.chmod(0o644)
    runner.expect(
        ["minikube", "update-context", "-p", "dev"],
        stdout='🎉  "dev" context has been updated to point to 127.0.0.1:32771\n💗  Current context is "dev"\n',
    )
    minikube.write_kubeconfig(environment(provider="minikube"), target)
    assert runner.calls[0].extra_env == {"KUBECONFIG": str(target)}
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_provider_minikube_update_context_of_a_stopped_profile_fails_with_minikube_s_words(
    minikube: Minikube, runner: ScriptedRunner, tmp_path: Path
) -> None:
    # mustload.running: both lines on stdout, exit 83 (reason.ExGuestNotRunning).
    runner.expect(
        ["minikube", "update-context", "-p", "dev"],
        returncode=83,
        stdout="🤷  The control-plane node dev host is not running: state=Stopped\n"
        '👉  To start a cluster, run: "minikube start -p dev"\n',
    )
    with pytest.raises(ExternalCommandError, match="host is not running") as caught:
        minikube.write_kubeconfig(environment(provider="minikube"), tmp_path / "kubeconfig" / "dev.yaml")
    assert caught.value.returncode == 83


def test_provider_minikube_image_load_and_ssh(minikube: Minikube, runner: ScriptedRunner, tmp_path: Path) -> None:
    runner.expect(["minikube", "image", "load", "app:1", "-p", "dev"])
    runner.expect(["minikube", "image", "load", "redis:7", "-p", "dev"])
    runner.expect(["minikube", "ssh", "-p", "dev", "-n", "dev-m02", "--", "crictl", "images"], stdout="IMAGE\n")
    env = environment(provider="minikube")
    minikube.import_images(env, ["app:1", "redis:7"])
    assert minikube.exec_in_node(env, "dev-m02", ["crictl", "images"]).ok
    runner.assert_done()
    assert all(call.extra_env == own(tmp_path) for call in runner.calls)
    assert not runner.calls[-1].mutating and not runner.calls[-1].check


def test_provider_minikube_every_call_for_an_environment_reads_its_own_kubeconfig(
    minikube: Minikube, runner: ScriptedRunner, tmp_path: Path
) -> None:
    runner.answer(LIST, stdout=single("OK"))
    runner.answer(["minikube"], prefix=True)
    env = environment(provider="minikube", subnet="10.200.4.0/24")
    minikube.create(env, options(tmp_path))
    minikube.stop(env)
    minikube.start(env)
    minikube.write_kubeconfig(env, tmp_path / "kubeconfig" / "dev.yaml")
    minikube.import_images(env, ["app:1"])
    minikube.exec_in_node(env, "dev", ["true"])
    minikube.node_names(env)
    minikube.delete(env)
    # The profile list after create and for node_names is about this environment too: an HA
    # profile's status depends on the kubeconfig minikube reads (pkg/minikube/cluster/status.go).
    calls = runner.calls_to("minikube")
    assert [c.argv[1] for c in calls] == [
        "start",
        "profile",
        "stop",
        "start",
        "update-context",
        "image",
        "ssh",
        "profile",
        "delete",
    ]
    assert all(c.extra_env == own(tmp_path) for c in calls), [c.argv for c in calls if c.extra_env != own(tmp_path)]


# -- profile list parser ---------------------------------------------------------------------------


KUBECONFIG_MISCONFIGURED = (
    "E1201 13:03:08.123456   4242 status.go:457] kubeconfig endpoint: get endpoint: "
    '"dev" does not appear in /home/u/.kube/config\n'
)


def test_provider_minikube_list_rereads_an_ha_profile_with_its_own_kubeconfig(
    minikube: Minikube, runner: ScriptedRunner, tmp_path: Path
) -> None:
    # status.go counts a control plane as healthy only when the kubeconfig minikube reads holds
    # the profile's context: read with the user's file, a healthy HA profile is "Stopped".
    other = profile("other", "Stopped", [node("", "192.168.49.2", control_plane=True)])
    general = json.loads(ha("Stopped"))
    general["valid"].append(other)
    runner.expect(LIST, stdout=json.dumps(general, separators=(",", ":")), stderr=KUBECONFIG_MISCONFIGURED)
    runner.expect(LIST, stdout=ha("HAppy"))
    clusters = minikube.list_clusters()
    runner.assert_done()  # the stopped single-node profile is not read again
    assert [(c.name, c.running) for c in clusters] == [("dev", True), ("other", False)]
    assert clusters[0].complete(3, 0)
    # the general listing reads a kubeconfig kenv never writes, not the user's (an undecodable one fails it)
    listing = {"KUBECONFIG": str(tmp_path / "kubeconfig" / ".profile-list.yaml")}
    assert [c.extra_env for c in runner.calls] == [listing, own(tmp_path)]


def test_provider_minikube_list_keeps_a_stopped_ha_profile_stopped(minikube: Minikube, runner: ScriptedRunner) -> None:
    runner.expect(LIST, stdout=ha("Stopped"))
    runner.expect(LIST, stdout=ha("Stopped"))
    (cluster,) = minikube.list_clusters()
    runner.assert_done()
    assert not cluster.running


def test_provider_minikube_state_reads_the_list_with_its_own_kubeconfig(
    minikube: Minikube, runner: ScriptedRunner, tmp_path: Path
) -> None:
    runner.expect(LIST, stdout=ha("HAppy"))
    state = minikube.state(environment(provider="minikube", servers=3))
    assert state is not None and state.complete(3, 0)
    assert runner.calls[0].extra_env == own(tmp_path)
    assert not runner.calls[0].mutating


@pytest.mark.parametrize(
    ("version", "status", "running"),
    [
        ("v1.34.0", "Running", True),
        ("v1.34.0", "Stopped", False),
        ("v1.34.0", "Unknown", False),
        ("v1.34.0", "", False),
        ("v1.38.1", "OK", True),
        ("v1.38.1", "Running", True),  # a profile without events.json: the raw apiserver state
        ("v1.38.1", "Stopped", False),
        ("v1.38.1", "Starting", False),
        ("v1.38.1", "Unknown", False),
        ("v1.38.1", "Paused", False),
        ("v1.38.1", "Error", False),
        ("v1.38.1", "", False),
    ],
)
def test_provider_minikube_reads_the_status_of_each_version(
    minikube: Minikube, runner: ScriptedRunner, version: str, status: str, running: bool
) -> None:
    runner.expect(LIST, stdout=single(status, version=version))
    state = minikube.state(environment(provider="minikube"))
    assert state is not None
    assert [(n.name, n.role, n.running) for n in state.nodes] == [("dev", "server", running)]
    assert state.running is running
    assert state.complete(1, 0) is running
    if not running:
        assert state.shortfall(1, 0) == "not running: dev"
    assert state.node_ip == "10.200.4.2"
    assert state.subnet == "10.200.4.0/24"
    assert state.network == "dev"  # Config.Network is "" unless --network: the network is the profile's
    assert state.api_port is None and state.host_ports == {}
    assert not runner.calls[0].mutating


def test_provider_minikube_ha_happy_is_complete(minikube: Minikube, runner: ScriptedRunner) -> None:
    runner.expect(LIST, stdout=ha("HAppy", workers=2))
    state = minikube.state(environment(provider="minikube", servers=3, agents=2))
    assert state is not None
    assert [(n.name, n.role, n.running) for n in state.nodes] == [
        ("dev", "server", True),
        ("dev-m02", "server", True),
        ("dev-m03", "server", True),
        ("dev-m04", "agent", True),
        ("dev-m05", "agent", True),
    ]
    # minikube has no load balancer node: the HA VIP lives inside the control planes.
    assert state.complete(3, 2)
    assert state.shortfall(3, 3) == "5 of 6 node(s) exist"


def test_provider_minikube_ha_degraded_runs_but_is_incomplete(minikube: Minikube, runner: ScriptedRunner) -> None:
    runner.expect(LIST, stdout=ha("Degraded"))
    state = minikube.state(environment(provider="minikube", servers=3))
    assert state is not None
    assert state.running
    assert state.nodes[0].running
    assert not state.complete(3, 0)


@pytest.mark.parametrize("status", ["Stopped", "Starting", "Unknown", ""])
def test_provider_minikube_ha_not_up(minikube: Minikube, runner: ScriptedRunner, status: str) -> None:
    runner.expect(LIST, stdout=ha(status))
    state = minikube.state(environment(provider="minikube", servers=3))
    assert state is not None and not state.running
    assert state.shortfall(3, 0) == "not running: dev, dev-m02, dev-m03"


def test_provider_minikube_a_failed_second_node_is_listed_without_an_ip(
    minikube: Minikube, runner: ScriptedRunner
) -> None:
    # node.Add saves the node before it starts it (minikube#12776 chain): m02 has IP "".
    nodes = [node("", "10.200.4.2", control_plane=True), node("m02", "", control_plane=False)]
    runner.expect(LIST, stdout=profile_list(profile("dev", "Starting", nodes, subnet="10.200.4.0/24")))
    state = minikube.state(environment(provider="minikube", agents=1))
    assert state is not None
    assert state.node_names == ("dev", "dev-m02")
    assert state.node_ip == "10.200.4.2"
    assert not state.complete(1, 1)


def test_provider_minikube_lists_profiles_and_ignores_invalid_ones(minikube: Minikube, runner: ScriptedRunner) -> None:
    invalid = {"Name": "broken", "Status": "", "Config": None, "Active": False, "ActiveKubeContext": False}
    text = json.dumps(
        {
            "invalid": [invalid],
            "valid": [
                profile("dev", "OK", [node("", "10.200.4.2", control_plane=True)], subnet="10.200.4.0/24"),
                profile("other", "Stopped", [node("", "192.168.49.2", control_plane=True)]),
            ],
        },
        separators=(",", ":"),
    )
    runner.answer(LIST, stdout=text)
    clusters = minikube.list_clusters()
    assert [(c.name, c.running, c.subnet, c.node_ip) for c in clusters] == [
        ("dev", True, "10.200.4.0/24", "10.200.4.2"),
        ("other", False, None, "192.168.49.2"),
    ]
    assert minikube.node_names(environment("other", provider="minikube")) == ["other"]
    assert minikube.state(environment("broken", provider="minikube")) is None


def test_provider_minikube_no_profiles_is_an_empty_list(minikube: Minikube, runner: ScriptedRunner) -> None:
    # No ~/.minikube/profiles: config.ErrNotExist, which printProfilesJSON treats as "none", exit 0.
    runner.expect(LIST, stdout='{"invalid":[],"valid":[]}')
    assert minikube.list_clusters() == []


def test_provider_minikube_profile_list_with_the_engine_down_is_unknown_not_an_error(
    minikube: Minikube, runner: ScriptedRunner
) -> None:
    runner.expect(
        LIST,
        stdout=single("Unknown"),
        stderr='E1201 13:03:08.123456   4242 status.go:459] error getting statuses: state: unknown state "dev": '
        "docker container inspect dev --format={{.State.Status}}: exit status 1\n",
    )
    state = minikube.state(environment(provider="minikube"))
    assert state is not None and not state.running


def test_provider_minikube_profile_list_error_object_is_a_failure(minikube: Minikube, runner: ScriptedRunner) -> None:
    runner.expect(LIST, returncode=80, stdout='{"error":{"Op":"open","Path":"/home/u/.minikube/profiles","Err":13}}')
    with pytest.raises(ExternalCommandError):
        minikube.list_clusters()


def test_provider_minikube_profile_list_that_prints_no_json_fails(minikube: Minikube, runner: ScriptedRunner) -> None:
    runner.expect(LIST, returncode=1, stdout="minikube: line 1: syntax error near unexpected token\n")
    with pytest.raises(ExternalCommandError, match="syntax error"):
        minikube.list_clusters()


def test_provider_minikube_profile_list_that_crashes_fails(minikube: Minikube, runner: ScriptedRunner) -> None:
    runner.expect(
        LIST, returncode=2, stderr="panic: runtime error: invalid memory address or nil pointer dereference\n"
    )
    with pytest.raises(ExternalCommandError, match="panic"):
        minikube.list_clusters()
