"""The fake minikube against facts read in kubernetes/minikube's source (v1.34.0 … v1.38.1).

Each test names the file (and tag) that decides the behaviour; see the
"Facts checked against the real tools' sources" table in tests/fakes/README.md.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml
from tests.fakes_selftest.conftest import ENGINE_DOWN, Runner


def profiles(run: Runner, extra: dict[str, str] | None = None) -> dict[str, dict]:
    proc = run("minikube", "profile", "list", "-o", "json", extra=extra)
    assert proc.returncode == 0, proc.stderr
    return {p["Name"]: p for p in json.loads(proc.stdout)["valid"]}


def kubeconfig(path: str | Path) -> dict:
    return yaml.safe_load(Path(path).read_text()) or {}


def names(doc: dict, key: str) -> list[str]:
    return [e["name"] for e in doc.get(key) or []]


def server(doc: dict, name: str) -> str:
    return next(c["cluster"]["server"] for c in doc["clusters"] if c["name"] == name)


def seed_networks(fake_env: dict[str, str], networks: dict[str, str]) -> None:
    """Docker networks that exist before the test (name -> subnet), not made by any fake."""
    state = Path(fake_env["KENV_FAKE_STATE"])
    state.mkdir(parents=True, exist_ok=True)
    doc = {"version": 1, "clusters": {}, "networks": {}}
    for name, subnet in networks.items():
        base = subnet.split("/")[0].rsplit(".", 1)[0]
        doc["networks"][name] = {
            "name": name,
            "id": name * 4,
            "subnet": subnet,
            "gateway": f"{base}.1",
            "owner": "",
            "external": True,
            "members": {},
        }
    (state / "state.json").write_text(json.dumps(doc))


def age_event_log(fake_env: dict[str, str], profile: str, seconds: float) -> None:
    path = Path(fake_env["KENV_FAKE_STATE"]) / "state.json"
    doc = json.loads(path.read_text())
    doc["clusters"][f"minikube/{profile}"]["opts"]["events"]["mtime"] -= seconds
    path.write_text(json.dumps(doc))


# ---------------------------------------------------------------------------- versions and status names


def test_default_version_is_v1_38_1_and_switchable(run: Runner) -> None:
    # cmd/minikube/cmd/version.go; commit = the tag's commit (git rev-list -n1 v1.38.1)
    assert run("minikube", "version", "--short").stdout == "v1.38.1\n"
    assert run("minikube", "version").stdout == (
        "minikube version: v1.38.1\ncommit: c93a4cb9311efc66b90d33ea03f75f2c4120e9b0\n"
    )
    old = {"KENV_FAKE_MINIKUBE_VERSION": "v1.34.0"}
    assert run("minikube", "version", "--short", extra=old).stdout == "v1.34.0\n"
    assert json.loads(run("minikube", "version", "-o", "json", extra=old).stdout) == {
        "commit": "210b148df93a80eb872ecbeb7e35281b3c582c61",
        "minikubeVersion": "v1.34.0",
    }
    any_version = {"KENV_FAKE_MINIKUBE_VERSION": "v1.36.2"}
    assert run("minikube", "version", "--short", extra=any_version).stdout == "v1.36.2\n"
    bad = run("minikube", "version", extra={"KENV_FAKE_MINIKUBE_VERSION": "latest"})
    assert bad.returncode == 2
    assert "KENV_FAKE_MINIKUBE_VERSION" in bad.stderr


@pytest.mark.parametrize(
    ("version", "healthy", "k8s"),
    [("v1.34.0", "Running", "v1.31.0"), ("v1.35.0", "OK", "v1.32.0"), ("v1.38.1", "OK", "v1.35.1")],
)
def test_healthy_status_name_depends_on_version(run: Runner, version: str, healthy: str, k8s: str) -> None:
    # v1.35.0 (commit c38897dc95, #18998): profile_list.go uses cluster.GetState -> codeNames[200] = "OK"
    extra = {"KENV_FAKE_MINIKUBE_VERSION": version}
    start = run("minikube", "start", "-p", "v", "--driver=docker", extra=extra)
    assert start.returncode == 0, start.stderr
    assert f"minikube {version} on" in start.stdout
    profile = profiles(run, extra)["v"]
    assert profile["Status"] == healthy
    assert profile["Config"]["KubernetesConfig"]["KubernetesVersion"] == k8s
    assert run("minikube", "stop", "-p", "v", extra=extra).returncode == 0
    assert profiles(run, extra)["v"]["Status"] == "Stopped"
    assert profiles(run, dict(extra, KENV_FAKE_DOCKER_DOWN="1"))["v"]["Status"] == "Unknown"


def test_failed_start_reads_starting_for_ten_minutes(run: Runner, fake_env: dict[str, str]) -> None:
    # cluster/status.go GetState: the event log's last step is "Initial Minikube Setup" (no "Done");
    # text mode records the error without an exit code, so the transient stays 100 "Starting"
    fail = {"KENV_FAKE_FAIL": "minikube:start"}
    assert run("minikube", "start", "-p", "f", extra=fail).returncode == 80
    assert profiles(run)["f"]["Status"] == "Starting"
    assert profiles(run, {"KENV_FAKE_MINIKUBE_VERSION": "v1.34.0"})["f"]["Status"] == "Stopped"
    age_event_log(fake_env, "f", 601)  # "event stream is too old"
    assert profiles(run)["f"]["Status"] == "Stopped"
    # -o json records the exit code: codeNames[80] does not exist -> ""
    assert run("minikube", "start", "-p", "j", "-o", "json", extra=fail).returncode == 80
    assert profiles(run)["j"]["Status"] == ""


def test_detailed_flag_only_since_v1_37(run: Runner) -> None:
    assert run("minikube", "start", "-p", "t").returncode == 0
    table = run("minikube", "profile", "list", "-d")
    assert table.returncode == 0
    assert "| Port " in table.stdout
    assert "| Port " not in run("minikube", "profile", "list").stdout
    old = run("minikube", "profile", "list", "-d", extra={"KENV_FAKE_MINIKUBE_VERSION": "v1.36.0"})
    assert old.returncode == 14
    assert "unknown shorthand flag: 'd' in -d" in old.stderr


# ---------------------------------------------------------------------------- --apiserver-port


def test_apiserver_port_is_the_container_port(run: Runner, fake_env: dict[str, str]) -> None:
    # kic.go: PortMappings {127.0.0.1, ContainerPort: APIServerPort}; oci.go: --publish=127.0.0.1::PORT
    start = run("minikube", "start", "-p", "ap", "--apiserver-port", "9443")
    assert start.returncode == 0, start.stderr
    config = profiles(run)["ap"]["Config"]
    assert config["APIServerPort"] == 9443
    assert [n["Port"] for n in config["Nodes"]] == [9443]
    url = server(kubeconfig(Path(fake_env["HOME"]) / ".kube" / "config"), "ap")
    host, port = url.removeprefix("https://").split(":")
    assert host == "127.0.0.1"
    assert int(port) != 9443
    assert run("kubectl", "--context", "ap", "get", "nodes", "-o", "name").stdout == "node/ap\n"


def test_native_linux_endpoint_is_node_ip_and_container_port(run: Runner, fake_env: dict[str, str]) -> None:
    # driver.go NeedsPortForward is false for rootful Docker on Linux -> endpoint.go: cp.IP, cp.Port
    native = {"KENV_FAKE_MINIKUBE_ENDPOINT": "native"}
    assert run("minikube", "start", "-p", "nat", extra=native).returncode == 0
    doc = kubeconfig(Path(fake_env["HOME"]) / ".kube" / "config")
    assert server(doc, "nat") == "https://192.168.49.2:8443"
    assert run("kubectl", "get", "nodes", "-o", "name").stdout == "node/nat\n"


# ---------------------------------------------------------------------------- multi-node and --ports


def test_ports_with_workers_fail_on_the_second_node(run: Runner) -> None:
    # registry/drvs/docker/docker.go configure(): every node gets every --ports (minikube#12776)
    start = run(
        "minikube", "start", "-p", "mn", "--driver=docker", "--nodes=3",
        "--ports=127.0.0.1:18080:80", "--ports=127.0.0.1:18443:443",
    )  # fmt: skip
    assert start.returncode == 80
    assert '👍  Starting "mn-m02" worker node in "mn" cluster' in start.stdout
    assert (
        "🤦  StartHost failed, but will try again: creating host: create: creating: create kic node: " in start.stderr
    )
    assert '😿  Failed to start docker container. Running "minikube delete -p mn" may fix it:' in start.stderr
    assert (
        "❌  Exiting due to GUEST_START: failed to start node: adding node: Failed to start host: creating host: "
        "create: creating: create kic node: create container: docker run -d -t --privileged"
    ) in start.stderr
    assert "--label name.minikube.sigs.k8s.io=mn-m02 --label role.minikube.sigs.k8s.io= " in start.stderr
    assert "-p 127.0.0.1:18080:80 -p 127.0.0.1:18443:443 --publish=127.0.0.1::8443" in start.stderr
    assert "Bind for 127.0.0.1:18080 failed: port is already allocated." in start.stderr
    # node.Add saved the node before its container failed; the third node was never added
    profile = profiles(run)["mn"]
    assert [(n["Name"], n["IP"], n["ControlPlane"]) for n in profile["Config"]["Nodes"]] == [
        ("", "192.168.49.2", True),
        ("mn-m02", "", False),
    ]
    assert profile["Status"] == "Unknown"  # the "created" container has no state ContainerStatus knows
    assert profiles(run, {"KENV_FAKE_MINIKUBE_VERSION": "v1.34.0"})["mn"]["Status"] == "Running"
    assert run("kubectl", "--context", "mn", "get", "nodes", "-o", "name").stdout == "node/mn\n"
    stop = run("minikube", "stop", "-p", "mn")  # reverse order: mn-m02 first
    assert stop.returncode == 82
    assert 'Exiting due to GUEST_STOP_TIMEOUT: Unable to stop VM: ssh power off: unknown state "mn-m02"' in stop.stderr
    assert run("minikube", "delete", "-p", "mn").returncode == 0
    assert profiles(run) == {}


def test_nodes_gives_one_control_plane_and_random_ports_are_fine(run: Runner) -> None:
    # start.go startWithDriver: numCPNodes = 1 unless --ha; "--ports 80" lets Docker pick the host port
    start = run("minikube", "start", "-p", "w", "--nodes", "3", "--ports", "80")
    assert start.returncode == 0, start.stderr
    nodes = profiles(run)["w"]["Config"]["Nodes"]
    assert [(n["Name"], n["IP"], n["ControlPlane"], n["Worker"]) for n in nodes] == [
        ("", "192.168.49.2", True, True),
        ("w-m02", "192.168.49.3", False, True),
        ("w-m03", "192.168.49.4", False, True),
    ]
    assert profiles(run)["w"]["Config"]["MultiNodeRequested"] is True


def test_ha_grammar_and_roles(run: Runner, fake_env: dict[str, str], tmp_path: Path) -> None:
    # start_flags.go validateHANodeCount; start.go numCPNodes = 3; status.go HAppy / Degraded / Stopped
    two = run("minikube", "start", "-p", "h2", "--ha", "--nodes", "2")
    assert two.returncode == 14
    assert "Exiting due to MK_USAGE: HA (multi-control plane) clusters require 3 or more control-plane nodes" in (
        two.stderr
    )
    assert run("minikube", "start", "-p", "h3", "--ha").returncode == 0
    assert [n["ControlPlane"] for n in profiles(run)["h3"]["Config"]["Nodes"]] == [True, True, True]
    five = run("minikube", "start", "-p", "h5", "--ha", "--nodes=5")
    assert five.returncode == 0, five.stderr
    profile = profiles(run)["h5"]
    assert [(n["Name"], n["ControlPlane"], n["Worker"]) for n in profile["Config"]["Nodes"]] == [
        ("", True, True),
        ("h5-m02", True, True),
        ("h5-m03", True, True),
        ("h5-m04", False, True),
        ("h5-m05", False, True),
    ]
    assert profile["Status"] == "HAppy"
    net = profile["Config"]["Nodes"][0]["IP"].rsplit(".", 1)[0]
    assert profile["Config"]["KubernetesConfig"]["APIServerHAVIP"] == f"{net}.254"
    # healthy control planes need kubeconfig "Configured" in $KUBECONFIG (status.go NodeStatus VerifyEndpoint)
    elsewhere = {"KUBECONFIG": str(tmp_path / "other.yaml")}
    assert profiles(run, elsewhere)["h5"]["Status"] == "Stopped"
    assert profiles(run, {"KENV_FAKE_MINIKUBE_VERSION": "v1.34.0"})["h5"]["Status"] == "HAppy"


def test_static_ip_with_workers_fails_fast(run: Runner) -> None:
    # kic.go Create: params.IP = StaticIP for every node -> oci.ErrIPinUse (FailFastError, no retry)
    start = run("minikube", "start", "-p", "st", "--static-ip", "192.168.200.200", "--nodes", "2")
    assert start.returncode == 80
    assert "StartHost failed" not in start.stderr
    assert start.stderr.strip().endswith(
        "Exiting due to GUEST_START: failed to start node: adding node: Failed to start host: creating host: "
        "create: creating: create kic node: create container: can't create with that IP, address already in use"
    )


# ---------------------------------------------------------------------------- KUBECONFIG


def test_kubeconfig_first_entry_and_name_based_removal(run: Runner, tmp_path: Path) -> None:
    # kubeconfig.go PathFromEnv: first non-empty entry; context.go DeleteContext by name (stop and delete)
    first, second = tmp_path / "first.yaml", tmp_path / "second.yaml"
    env = {"KUBECONFIG": f"{os.pathsep}{first}{os.pathsep}{second}"}
    assert run("minikube", "start", "-p", "kc", extra=env).returncode == 0
    assert kubeconfig(first)["current-context"] == "kc"
    assert not second.exists()
    # a context of the user's that happens to be called like the profile
    user_file = tmp_path / "user.yaml"
    user_file.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "kc", "cluster": {"server": "https://prod.example:6443"}}],
                "contexts": [
                    {"name": "kc", "context": {"cluster": "kc", "user": "kc"}},
                    {"name": "mine", "context": {"cluster": "kc", "user": "kc"}},
                ],
                "users": [{"name": "kc", "user": {"token": "t"}}],
                "current-context": "kc",
            }
        )
    )
    stop = run("minikube", "stop", "-p", "kc", extra={"KUBECONFIG": str(user_file)})
    assert stop.returncode == 0
    assert stop.stdout.endswith("🛑  1 node stopped.\n")
    doc = kubeconfig(user_file)
    assert (names(doc, "clusters"), names(doc, "contexts"), names(doc, "users")) == ([], ["mine"], [])
    assert doc["current-context"] == ""
    assert "kc" in names(kubeconfig(first), "contexts")  # stop only touched the file it was pointed at

    assert run("minikube", "start", "-p", "kc", extra=env).returncode == 0
    kept = run("minikube", "stop", "-p", "kc", "--keep-context-active", extra=env)
    assert kept.returncode == 0
    assert "kc" in names(kubeconfig(first), "contexts")
    assert run("minikube", "delete", "-p", "kc", extra=env).returncode == 0
    assert names(kubeconfig(first), "contexts") == []


def test_update_context_on_stopped_and_missing_profiles(run: Runner, tmp_path: Path) -> None:
    # mustload.go running(): out.Styled (stdout) + exitTip("start", …, ExGuestNotRunning = 83)
    own = {"KUBECONFIG": str(tmp_path / "own.yaml")}
    assert run("minikube", "start", "-p", "uc", extra=own).returncode == 0
    assert run("minikube", "stop", "-p", "uc", extra=own).returncode == 0
    stopped = run("minikube", "update-context", "-p", "uc", extra=own)
    assert stopped.returncode == 83
    assert stopped.stdout == (
        "🤷  The control-plane node uc host is not running: state=Stopped\n"
        '👉  To start a cluster, run: "minikube start -p uc"\n'
    )
    assert stopped.stderr == ""
    missing = run("minikube", "update-context", "-p", "nope")
    assert missing.returncode == 85
    assert missing.stdout == (
        '🤷  Profile "nope" not found. Run "minikube profile list" to view all profiles.\n'
        '👉  To start a cluster, run: "minikube start -p nope"\n'
    )
    assert run("minikube", "start", "-p", "uc", extra=own).returncode == 0
    fresh = run("minikube", "update-context", "-p", "uc", extra={"KUBECONFIG": str(tmp_path / "new.yaml")})
    assert fresh.returncode == 0
    assert fresh.stdout.startswith('🎉  "uc" context has been updated to point to 127.0.0.1:')
    assert fresh.stdout.endswith('💗  Current context is "uc"\n')


def test_delete_of_a_missing_profile(run: Runner) -> None:
    # delete.go: LoadProfile fails -> "trying anyways", deleteInvalidProfile; exit 0
    proc = run("minikube", "delete", "-p", "ghost")
    assert proc.returncode == 0
    assert proc.stderr == '🙄  "ghost" profile does not exist, trying anyways.\n'
    assert proc.stdout == "🔥  Trying to delete invalid profile ghost\n"


# ---------------------------------------------------------------------------- --subnet


def test_bare_subnet_moves_on_silently(run: Runner, fake_env: dict[str, str]) -> None:
    # network.go FreeSubnet: taken (a host interface holds it) -> +9 on the third octet
    seed_networks(fake_env, {"theirs": "192.168.60.0/24"})
    start = run("minikube", "start", "-p", "sb", "--subnet", "192.168.60.0")
    assert start.returncode == 0, start.stderr
    assert start.stderr == ""
    config = profiles(run)["sb"]["Config"]
    assert (config["Subnet"], config["Network"]) == ("192.168.60.0", "")
    assert config["Nodes"][0]["IP"] == "192.168.69.2"


def test_cidr_subnet_that_is_taken_panics(run: Runner, fake_env: dict[str, str]) -> None:
    # network.go: nextSubnet := net.ParseIP("192.168.60.0/24").To4() is nil (minikube#15516)
    seed_networks(fake_env, {"theirs": "192.168.60.0/24", "ten": "10.30.0.0/24"})
    start = run("minikube", "start", "-p", "sc", "--subnet=192.168.60.0/24")
    assert start.returncode == 2
    assert start.stderr.startswith("panic: runtime error: index out of range [2] with length 0\n\ngoroutine ")
    assert "k8s.io/minikube/pkg/network.FreeSubnet(" in start.stderr
    assert "🔥  Creating docker container" in start.stdout
    profile = profiles(run)["sc"]  # config and machine were saved before the container
    assert profile["Status"] == "Unknown"
    assert profile["Config"]["Nodes"][0]["IP"] == ""
    assert run("minikube", "delete", "-p", "sc").returncode == 0
    ten = run("minikube", "start", "-p", "st", "--subnet=10.30.0.0/24")
    assert ten.returncode == 2
    assert ten.stderr.startswith("panic: runtime error: index out of range [1] with length 0")


def test_free_cidr_subnet_is_used(run: Runner) -> None:
    start = run("minikube", "start", "-p", "ok", "--subnet=10.77.0.0/24")
    assert start.returncode == 0, start.stderr
    config = profiles(run)["ok"]["Config"]
    assert (config["Subnet"], config["Nodes"][0]["IP"]) == ("10.77.0.0/24", "10.77.0.2")


def test_no_free_subnet_falls_back_to_the_default_bridge(run: Runner, fake_env: dict[str, str]) -> None:
    # network_create.go: FreeSubnet error -> "un-retryable"; kic.go: warning, container on "bridge"
    seed_networks(fake_env, {"lan": "192.168.0.0/16"})
    start = run("minikube", "start", "-p", "br")
    assert start.returncode == 0, start.stderr
    assert start.stderr == (
        "❗  Unable to create dedicated network, this might result in cluster IP change after restart: "
        'un-retryable: no free private network subnets found with given parameters (start: "192.168.49.0", '
        "step: 9, tries: 20)\n"
    )
    config = profiles(run)["br"]["Config"]
    assert (config["Network"], config["Subnet"]) == ("", "")
    assert config["Nodes"][0]["IP"].startswith("172.17.0.")
    static = run("minikube", "start", "-p", "sip", "--static-ip", "192.168.50.5")
    assert static.returncode == 70
    assert "Exiting due to IF_DEDICATED_NETWORK: Unable to create dedicated network" in static.stderr


# ---------------------------------------------------------------------------- Docker engine down


def test_docker_down(run: Runner, fake_env: dict[str, str]) -> None:
    assert run("minikube", "start", "-p", "up").returncode == 0
    down = {"KENV_FAKE_DOCKER_DOWN": "1"}
    # start.go validateDriver + docker.go dockerVersionOrState/suggestFix
    start = run("minikube", "start", "-p", "new", extra=down)
    assert start.returncode == 63
    assert start.stderr == (
        "💣  Exiting due to PROVIDER_DOCKER_NOT_RUNNING: "
        '"docker version --format {{.Server.Os}}-{{.Server.Version}}:{{.Server.Platform.Name}}" exit status 1: '
        f"{ENGINE_DOWN}\n💡  Suggestion: Start the Docker service\n"
        "📘  Documentation: https://minikube.sigs.k8s.io/docs/drivers/docker/\n"
    )
    assert start.stdout.endswith("✨  Using the docker driver based on user configuration\n\n\n")
    assert run("minikube", "start", "-p", "up", extra=down).returncode == 63
    assert "new" not in profiles(run)
    listed = run("minikube", "profile", "list", "-o", "json", extra=down)
    assert listed.returncode == 0
    assert json.loads(listed.stdout)["valid"][0]["Status"] == "Unknown"
    ctx = run("minikube", "update-context", "-p", "up", extra=down)
    assert ctx.returncode == 80
    assert (
        "Exiting due to GUEST_STATUS: Unable to get control-plane node up host status: state: unknown state"
        in ctx.stderr
    )
    assert ENGINE_DOWN in ctx.stderr
    assert run("minikube", "ssh", "-p", "up", "--", "hostname", extra=down).returncode == 80
    stop = run("minikube", "stop", "-p", "up", extra=down)
    assert stop.returncode == 82
    assert "Exiting due to GUEST_STOP_TIMEOUT: Unable to stop VM: ssh power off:" in stop.stderr
    # delete "succeeds": the status error is taken as "already deleted"; containers stay in Docker
    delete = run("minikube", "delete", "-p", "up", extra=down)
    assert delete.returncode == 0
    assert delete.stdout.endswith('💀  Removed all traces of the "up" cluster.\n')
    assert 'Deleting container "up"' not in delete.stdout
    assert profiles(run) == {}
    state = json.loads((Path(fake_env["KENV_FAKE_STATE"]) / "state.json").read_text())
    assert "minikube-leftover/up" in state["clusters"]
    # with the engine back, delete of the (now unknown) profile removes the leftovers by label
    again = run("minikube", "delete", "-p", "up")
    assert again.returncode == 0
    assert '🔥  Deleting container "up" ...' in again.stdout
    state = json.loads((Path(fake_env["KENV_FAKE_STATE"]) / "state.json").read_text())
    assert state["clusters"] == {}
    assert "up" not in state["networks"]


def test_unknown_flags_still_fail_like_cobra(run: Runner) -> None:
    proc = run("minikube", "start", "--apiserver-portt", "1")
    assert proc.returncode == 14
    assert proc.stderr.startswith("Error: unknown flag: --apiserver-portt\n")
