"""What the real k3d, kind, minikube and kubectl do that kenv must live with (issue: providers true
to the real tools). Each test names the behaviour; tests/fakes/README.md cites the source file."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.e2e.lifecycle_support import Fleet


@pytest.fixture
def fleet(isolated: Path, tmp_path: Path) -> Iterator[Fleet]:
    world = Fleet(isolated, tmp_path)
    yield world
    world.kill_fakes()


def user_kubeconfig_with(fleet: Fleet, *contexts: str) -> str:
    """The user's own kubeconfig, holding contexts (and clusters, users) of these names."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": c, "cluster": {"server": f"https://10.0.0.1:6443/{c}"}} for c in contexts],
        "users": [{"name": c, "user": {"token": "mine"}} for c in contexts],
        "contexts": [{"name": c, "context": {"cluster": c, "user": c}} for c in contexts],
        "current-context": contexts[0],
        "preferences": {},
    }
    fleet.user_kubeconfig.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(config)
    fleet.user_kubeconfig.write_text(text)
    return text


def tool(fleet: Fleet, *argv: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), env={**fleet.env, **extra}, capture_output=True, text=True, check=False)


# --- minikube -----------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["v1.34.0", "v1.38.1"])
def test_minikube_healthy_status_is_running_whatever_the_version_calls_it(fleet: Fleet, version: str) -> None:
    """ "Running" before v1.35.0, "OK" since: a second create must not delete a healthy cluster,
    stop must not be skipped, sync must record running."""
    extra = {"KENV_FAKE_MINIKUBE_VERSION": version}
    fleet.ok("create", "mk", "--provider", "minikube", **extra)
    listed = json.loads(tool(fleet, "minikube", "profile", "list", "-o", "json", **extra).stdout)
    assert listed["valid"][0]["Status"] == ("Running" if version == "v1.34.0" else "OK")
    fleet.ok("create", "mk", **extra)
    starts = [c for c in fleet.calls() if c["argv"][:2] == ["minikube", "start"]]
    deletes = [c for c in fleet.calls() if c["argv"][:2] == ["minikube", "delete"]]
    assert len(starts) == 1 and not deletes, "a healthy cluster is left alone"
    sync = fleet.run("sync", "--dry-run", "-o", "json", **extra)
    assert sync.returncode == 0, sync.stdout
    fleet.ok("stop", "mk", **extra)
    assert any(c["argv"][:2] == ["minikube", "stop"] for c in fleet.calls()), "stop is not skipped"
    assert fleet.env_record("mk")["status"] == "stopped"  # type: ignore[index]


def test_minikube_records_no_api_port_and_its_kubeconfig_follows_the_random_one(fleet: Fleet) -> None:
    fleet.ok("create", "mk", "--provider", "minikube")
    record = fleet.env_record("mk")
    assert record is not None and record["api_port"] is None
    start = next(c for c in fleet.calls() if c["argv"][:2] == ["minikube", "start"])
    assert not any(str(a).startswith("--apiserver-port") for a in start["argv"])
    server = yaml.safe_load((fleet.home / "data" / "kubeconfig" / "mk.yaml").read_text())["clusters"][0]["cluster"]
    assert server["server"].startswith("https://127.0.0.1:")
    refused = fleet.run("create", "other", "--provider", "minikube", "--api-port", "18555")
    assert refused.returncode == 2 and "random host port" in refused.stderr
    assert fleet.env_record("other") is None


def test_minikube_multi_node_gets_no_host_ports_and_explicit_ones_are_refused(fleet: Fleet) -> None:
    refused = fleet.run("create", "mk", "--provider", "minikube", "--agents", "1", "--http-port", "18601")
    assert refused.returncode == 2, refused.stderr
    assert "port is already allocated" in refused.stderr and "minikube#12776" in refused.stderr
    assert fleet.env_record("mk") is None, "nothing recorded"
    fleet.ok("create", "mk", "--provider", "minikube", "--agents", "1")
    record = fleet.env_record("mk")
    assert record is not None and record["http_port"] is None and record["https_port"] is None
    assert record["status"] == "running" and record["agents"] == 1
    start = next(c for c in fleet.calls() if c["argv"][:2] == ["minikube", "start"])
    assert not any(str(a).startswith("--ports") for a in start["argv"])


def test_minikube_server_counts_are_what_minikube_can_make(fleet: Fleet) -> None:
    refused = fleet.run("create", "mk", "--provider", "minikube", "--servers", "2")
    assert refused.returncode == 2 and "exactly three with --ha" in refused.stderr
    fleet.ok("create", "ha", "--provider", "minikube", "--servers", "3", "--http-port", "none", "--https-port", "none")
    start = next(c for c in fleet.calls() if c["argv"][:2] == ["minikube", "start"])
    assert "--ha" in start["argv"] and "--nodes=3" in start["argv"]
    assert fleet.env_record("ha")["status"] == "running"  # type: ignore[index]


def test_minikube_never_edits_the_users_kubeconfig(fleet: Fleet) -> None:
    """start writes and switches context; stop and delete remove the context named like the profile,
    even one of the user's own: every minikube call must read the environment's own file."""
    before = user_kubeconfig_with(fleet, "mk", "work")
    fleet.ok("create", "mk", "--provider", "minikube")
    fleet.ok("stop", "mk")
    fleet.ok("start", "mk")
    fleet.ok("delete", "mk")
    assert fleet.user_kubeconfig.read_text() == before
    minikube_calls = [c for c in fleet.calls() if c["tool"] == "minikube" and c["argv"][1] != "version"]
    own = str(fleet.home / "data" / "kubeconfig" / "mk.yaml")
    assert all(c["kubeconfig_env"] == own for c in minikube_calls if "profile" not in c["argv"]), minikube_calls


def test_kubeconfig_of_a_stopped_minikube_environment_says_it_is_stopped(fleet: Fleet) -> None:
    fleet.ok("create", "mk", "--provider", "minikube")
    fleet.ok("stop", "mk")
    result = fleet.run("kubeconfig", "mk")
    assert result.returncode == 1
    assert "'mk' is stopped" in result.stderr and "kenv start mk" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_minikube_on_a_taken_subnet_is_refused_and_removed(fleet: Fleet) -> None:
    """minikube skips or crashes on a --subnet another network holds; the cluster must never be
    recorded somewhere it is not."""
    taken = tool(fleet, "minikube", "start", "-p", "theirs", "--driver=docker", "--subnet=10.210.0.0/24")
    assert taken.returncode == 0, taken.stderr
    result = fleet.run("create", "mk", "--provider", "minikube", "--subnet", "10.210.0.0/24")
    assert result.returncode == 1
    # minikube v1.38 panics in FreeSubnet on a taken CIDR (minikube#15516): said in words, not a trace
    assert "10.210.0.0/24 is taken" in result.stderr and "goroutine" not in result.stderr
    assert fleet.clusters()["minikube"] == ["theirs"], "the half-made profile is removed, theirs is kept"
    assert fleet.env_record("mk")["status"] == "failed"  # type: ignore[index]


# --- kind ---------------------------------------------------------------------------------------


def test_a_stopped_kind_cluster_is_seen_stopped_and_started_again(fleet: Fleet) -> None:
    """`kind get nodes` lists stopped node containers (docker ps -a): kenv reads Docker's state."""
    fleet.ok("create", "qa", "--provider", "kind", "--servers", "3", "--agents", "1")
    fleet.ok("stop", "qa")
    assert fleet.env_record("qa")["status"] == "stopped"  # type: ignore[index]
    drift = fleet.run("sync", "--dry-run", "-o", "json")
    assert drift.returncode == 0, drift.stdout
    fleet.ok("start", "qa")
    starts = [c["argv"] for c in fleet.calls() if c["argv"][:2] == ["docker", "start"]]
    assert starts and "qa-external-load-balancer" in starts[-1], "every node container, the balancer too"
    assert fleet.env_record("qa")["status"] == "running"  # type: ignore[index]
    fleet.ok("delete", "qa")
    assert fleet.clusters()["kind"] == []


# --- k3d ----------------------------------------------------------------------------------------


def test_k3d_delete_leaves_the_users_kubeconfig_alone(fleet: Fleet) -> None:
    """k3d cluster delete removes k3d-NAME from the default kubeconfig and writes the file back."""
    before = user_kubeconfig_with(fleet, "k3d-dev", "work")
    fleet.ok("create", "dev", "--subnet", "none")
    fleet.ok("stop", "dev")
    fleet.ok("start", "dev")
    fleet.ok("delete", "dev")
    assert fleet.user_kubeconfig.read_text() == before


# --- kubectl and kubeconfig ---------------------------------------------------------------------


def test_verify_after_a_killed_dns_check_still_works(fleet: Fleet) -> None:
    """`kubectl run --rm` deletes its pod client side: a killed kubectl leaves it, and a fixed
    pod name would then fail every later verify with AlreadyExists."""
    fleet.ok("create", "dev", "--subnet", "none")
    proc = fleet.start("verify", "dev", KENV_FAKE_HANG="kubectl:run")
    fleet.wait_for_call(" run kenv-dns-")
    proc.kill()
    proc.wait(timeout=10)
    fleet.kill_fakes()
    for _ in range(2):
        result = fleet.run("verify", "dev", "-o", "json")
        assert result.returncode == 0, result.stdout + result.stderr
        assert json.loads(result.stdout)[0]["healthy"] is True
    runs = [c["argv"] for c in fleet.calls() if c["tool"] == "kubectl" and "run" in c["argv"]]
    deletes = [c["argv"] for c in fleet.calls() if c["tool"] == "kubectl" and "delete" in c["argv"]]
    names = [argv[argv.index("run") + 1] for argv in runs]
    assert len(set(names)) == len(names) == 3, "a name of its own each time"
    assert len(deletes) >= 2 and all("--ignore-not-found" in argv for argv in deletes)


def test_external_adopts_a_context_from_a_kubeconfig_list(fleet: Fleet, tmp_path: Path) -> None:
    fleet.ok("create", "theirs", "--subnet", "none")
    source = fleet.home / "data" / "kubeconfig" / "theirs.yaml"
    other = tmp_path / "other.yaml"
    other.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "Config", "clusters": [], "contexts": []}))
    listing = f"{other}:{source}"
    fleet.ok("create", "ext", "--provider", "external", "--label", "kenv.io/context=k3d-theirs", KUBECONFIG=listing)
    assert fleet.env_record("ext")["status"] == "running"  # type: ignore[index]


def test_kubeconfig_merge_brings_a_recreated_clusters_new_credentials(fleet: Fleet, tmp_path: Path) -> None:
    user_kubeconfig_with(fleet, "work")
    fleet.ok("create", "dev", "--subnet", "none")
    fleet.ok("kubeconfig", "dev", "--merge")
    # The cluster is lost and made again (new certificates); the user's file still has the old entries.
    gone = tool(fleet, "k3d", "cluster", "delete", "dev", KUBECONFIG=str(tmp_path / "elsewhere.yaml"))
    assert gone.returncode == 0, gone.stderr
    fleet.ok("create", "dev", "--subnet", "none")
    fleet.ok("kubeconfig", "dev", "--merge")
    merged = yaml.safe_load(fleet.user_kubeconfig.read_text())
    own = yaml.safe_load((fleet.home / "data" / "kubeconfig" / "dev.yaml").read_text())
    user = next(u for u in merged["users"] if u["name"] == "admin@k3d-dev")
    assert user == own["users"][0], "the new certificates replace the old ones"
    assert merged["current-context"] == "work"
    assert {c["name"] for c in merged["contexts"]} == {"work", "k3d-dev"}


# --- per-node limits ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--provider", "kind", "--memory", "2g"], "kind cannot limit memory per node"),
        (["--provider", "k3d", "--cpus", "2"], "k3d cannot limit cpus per node"),
        (["--memory", "lots"], "--memory: 'lots' is not a memory size"),
        (["--cpus", "0"], "--cpus: '0' is not a CPU count"),
    ],
)
def test_a_node_limit_the_tool_cannot_set_is_refused_before_anything(fleet: Fleet, args: list[str], said: str) -> None:
    result = fleet.run("create", "dev", "--subnet", "none", *args)
    assert result.returncode == 2, result.stderr
    assert said in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert fleet.environments() == []
    assert not [c for c in fleet.calls() if c["tool"] != "docker" and "version" not in c["argv"]]


def test_a_node_limit_from_config_that_the_tool_cannot_set_is_said_not_dropped(fleet: Fleet) -> None:
    result = fleet.run("create", "dev", "--subnet", "none", KENV_NODE_CPUS="2", KENV_NODE_MEMORY="2g")
    assert result.returncode == 0, result.stderr
    assert "node_cpus = 2 from config is not applied: k3d cannot set it" in result.stderr
    argv = next(c["argv"] for c in fleet.calls() if c["argv"][1:3] == ["cluster", "create"])
    assert argv[argv.index("--servers-memory") + 1] == "2g"
