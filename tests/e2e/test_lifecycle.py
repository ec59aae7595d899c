"""Environment lifecycle through the CLI, against faithful fakes of k3d, kind, minikube and kubectl
(and a real Docker engine for the networks, when one answers)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.lifecycle_support import Fleet, needs_docker


@pytest.fixture
def fleet(isolated: Path, tmp_path: Path) -> Iterator[Fleet]:
    world = Fleet(isolated, tmp_path)
    yield world
    world.kill_fakes()
    if (isolated / "data").exists():
        # Real Docker networks this test made must not outlive it.
        for env in world.environments():
            world.run("delete", str(env["name"]))


def unique(prefix: str) -> str:
    """Docker networks are machine-wide: names differ per test run."""
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def test_k3d_create_and_delete_without_subnet(fleet: Fleet) -> None:
    out = json.loads(fleet.ok("create", "dev", "--subnet", "none", "-o", "json"))
    assert out["ok"] is True
    assert [s["result"] for s in out["steps"]] == ["done", "done", "done", "done", "done"]
    record = fleet.env_record("dev")
    assert record is not None and record["status"] == "running"
    assert fleet.clusters()["k3d"] == ["dev"]
    kubeconfig = fleet.home / "data" / "kubeconfig" / "dev.yaml"
    assert kubeconfig.stat().st_mode & 0o777 == 0o600
    assert "k3d-dev" in kubeconfig.read_text()
    assert not fleet.user_kubeconfig.exists(), "the user's default kubeconfig must stay untouched"
    create_call = next(c for c in fleet.calls() if c["argv"][1:3] == ["cluster", "create"])
    argv = create_call["argv"]
    assert "--kubeconfig-update-default=false" in argv and "--kubeconfig-switch-context=false" in argv
    assert f"127.0.0.1:{record['api_port']}" in argv
    assert f"127.0.0.1:{record['http_port']}:80@loadbalancer" in argv
    fleet.ok("delete", "dev")
    assert fleet.clusters()["k3d"] == []
    assert fleet.environments() == []
    assert not kubeconfig.exists()
    again = fleet.run("delete", "dev")  # deleting what is gone succeeds
    assert again.returncode == 0 and "not in the inventory" in again.stderr, again.stderr


def test_k3d_makes_its_own_network_from_the_allocated_subnet(fleet: Fleet) -> None:
    """k3d pins server IPs only in a network it makes from --subnet (pkg/client/cluster.go), so
    kenv passes --subnet and no --network, and the cluster reports the allocated range."""
    name = unique("net")
    fleet.ok("create", name, "--servers", "3")
    record = fleet.env_record(name)
    assert record is not None and record["subnet"]
    argv = next(c["argv"] for c in fleet.calls() if c["argv"][1:3] == ["cluster", "create"])
    assert "--network" not in argv
    assert argv[argv.index("--subnet") + 1] == record["subnet"]
    listed = json.loads(
        subprocess.run(
            ["k3d", "cluster", "list", name, "-o", "json"], env=fleet.env, capture_output=True, text=True, check=True
        ).stdout
    )[0]
    labels = listed["nodes"][0]["runtimeLabels"]
    assert labels["k3d.cluster.network.iprange"] == record["subnet"]
    servers = [n for n in listed["nodes"] if n["role"] == "server"]
    pinned = [n["runtimeLabels"].get("k3d.node.staticIP") for n in servers]
    assert len(servers) == 3 and all(pinned), "etcd peers keep their addresses across stop/start"
    sync = fleet.run("sync", "--dry-run", "-o", "json")
    assert sync.returncode == 0, sync.stdout
    fleet.ok("stop", name)
    fleet.ok("start", name)
    assert json.loads(fleet.ok("verify", name, "-o", "json"))[0]["healthy"] is True


def test_kind_create_writes_its_config_and_own_kubeconfig(fleet: Fleet) -> None:
    fleet.ok("create", "qa", "--provider", "kind", "--agents", "1")
    record = fleet.env_record("qa")
    assert record is not None and record["status"] == "running" and record["subnet"] is None
    config = (fleet.home / "data" / "kind" / "qa.yaml").read_text()
    assert "apiServerAddress: 127.0.0.1" in config and f"hostPort: {record['http_port']}" in config
    argv = next(c["argv"] for c in fleet.calls() if c["argv"][1:3] == ["create", "cluster"])
    assert "--kubeconfig" in argv
    assert not fleet.user_kubeconfig.exists()
    assert fleet.clusters()["kind"] == ["qa"]
    fleet.ok("delete", "qa")
    assert fleet.clusters()["kind"] == []


def test_minikube_create_and_delete(fleet: Fleet) -> None:
    fleet.ok("create", "mk", "--provider", "minikube")
    record = fleet.env_record("mk")
    assert record is not None and record["status"] == "running"
    argv = next(c["argv"] for c in fleet.calls() if c["argv"][1:2] == ["start"])
    assert f"--subnet={record['subnet']}" in argv and "--driver=docker" in argv
    assert not fleet.user_kubeconfig.exists()
    fleet.ok("stop", "mk")
    assert fleet.env_record("mk")["status"] == "stopped"  # type: ignore[index]
    fleet.ok("start", "mk")
    fleet.ok("delete", "mk")
    assert fleet.clusters()["minikube"] == []


def test_stop_and_start_k3d(fleet: Fleet) -> None:
    fleet.ok("create", "dev", "--subnet", "none")
    fleet.ok("stop", "dev")
    assert fleet.env_record("dev")["status"] == "stopped"  # type: ignore[index]
    fleet.ok("start", "dev")
    assert fleet.env_record("dev")["status"] == "running"  # type: ignore[index]


def test_dry_run_prints_every_command_and_changes_nothing(fleet: Fleet) -> None:
    result = fleet.run("create", "dev", "--subnet", "none", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "$ k3d cluster create dev" in result.stderr
    assert "$ k3d kubeconfig get dev" in result.stderr
    assert fleet.environments() == []
    assert fleet.clusters()["k3d"] == []
    assert not any(c["argv"][1:3] == ["cluster", "create"] for c in fleet.calls())


def test_a_failed_create_is_marked_rolled_back_and_resumed(fleet: Fleet) -> None:
    failed = fleet.run("create", "dev", "--subnet", "none", "--timeout", "5s", KENV_FAKE_FAIL="kubectl:*:k3d-dev")
    assert failed.returncode == 1
    assert "rolled back" in failed.stderr and failed.stderr.count("Traceback") == 0
    record = fleet.env_record("dev")
    assert record is not None and record["status"] == "failed" and "ready" in str(record["last_error"])
    assert fleet.clusters()["k3d"] == [], "what this run created is rolled back"
    fleet.ok("create", "dev")
    again = fleet.env_record("dev")
    assert again is not None and again["status"] == "running"
    assert again["http_port"] == record["http_port"], "the resumed run keeps the allocation"


def test_keep_on_failure_leaves_the_cluster(fleet: Fleet) -> None:
    result = fleet.run(
        "create", "dev", "--subnet", "none", "--keep-on-failure", "--timeout", "5s", KENV_FAKE_FAIL="kubectl:*:k3d-dev"
    )
    assert result.returncode == 1
    assert fleet.clusters()["k3d"] == ["dev"]
    fleet.ok("create", "dev")
    assert fleet.env_record("dev")["status"] == "running"  # type: ignore[index]


@pytest.mark.parametrize("hang", ["k3d:cluster-list", "k3d:cluster-create", "k3d:kubeconfig-get", "kubectl:get-nodes"])
def test_kill_9_during_create_then_rerun_ends_running(fleet: Fleet, hang: str) -> None:
    proc = fleet.start("create", "dev", "--subnet", "none", KENV_FAKE_HANG=hang)
    fleet.wait_for_call(
        {
            "k3d:cluster-list": "cluster list",
            "k3d:cluster-create": "cluster create",
            "k3d:kubeconfig-get": "kubeconfig get",
            # the first kubectl call is the tool check, made before anything is recorded
            "kubectl:get-nodes": "get nodes",
        }[hang]
    )
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    fleet.kill_fakes()
    record = fleet.env_record("dev")
    assert record is not None and record["status"] == "creating", "intent was recorded before acting"
    fleet.ok("create", "dev")
    record = fleet.env_record("dev")
    assert record is not None and record["status"] == "running"
    assert fleet.clusters()["k3d"] == ["dev"]
    assert len(fleet.environments()) == 1


def test_kill_9_during_delete_then_rerun_removes_everything(fleet: Fleet) -> None:
    fleet.ok("create", "dev", "--subnet", "none")
    proc = fleet.start("delete", "dev", KENV_FAKE_HANG="k3d:cluster-delete")
    fleet.wait_for_call("cluster delete")
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    fleet.kill_fakes()
    assert fleet.env_record("dev")["status"] == "deleting"  # type: ignore[index]
    fleet.ok("delete", "dev")
    assert fleet.environments() == []
    assert fleet.clusters()["k3d"] == []


def test_apply_parallel_8(fleet: Fleet, tmp_path: Path) -> None:
    names = [f"p{i}" for i in range(8)]
    spec = tmp_path / "fleet.yaml"
    spec.write_text(
        "".join(
            f"- name: {n}\n  provider: {'kind' if i % 2 else 'k3d'}\n" + ("  subnet: none\n" if i % 2 == 0 else "")
            for i, n in enumerate(names)
        )
    )
    report = json.loads(fleet.ok("apply", "-f", str(spec), "--parallel", "8", "-o", "json"))
    assert report["ok"] is True and len(report["created"]) == 8
    envs = fleet.environments()
    assert sorted(e["name"] for e in envs) == names
    assert all(e["status"] == "running" for e in envs)
    ports = [e[k] for e in envs for k in ("http_port", "https_port", "pf_port", "api_port")]
    assert len(set(ports)) == 32
    kubeconfigs = {(fleet.home / "data" / "kubeconfig" / f"{n}.yaml").read_text() for n in names}
    assert len(kubeconfigs) == 8, "every environment has its own kubeconfig"
    again = json.loads(fleet.ok("apply", "-f", str(spec), "-o", "json"))
    assert again["created"] == [] and sorted(again["unchanged"]) == names
    spec.write_text("- name: p0\n  subnet: none\n")
    pruned = json.loads(fleet.ok("apply", "-f", str(spec), "--prune", "-o", "json"))
    assert sorted(pruned["not_listed"]) == names[1:]
    assert [e["name"] for e in fleet.environments()] == ["p0"]


def test_apply_refuses_a_bad_file_whole(fleet: Fleet, tmp_path: Path) -> None:
    spec = tmp_path / "fleet.yaml"
    spec.write_text("- name: ok1\n- name: Bad_Name\n")
    result = fleet.run("apply", "-f", str(spec))
    assert result.returncode == 2 and "environments[1]" in result.stderr
    spec.write_text("- name: a\n  colour: blue\n")
    assert "unknown field(s) colour" in fleet.run("apply", "-f", str(spec)).stderr
    spec.write_text("- name: [unclosed\n")
    assert "not valid YAML" in fleet.run("apply", "-f", str(spec)).stderr
    assert fleet.environments() == []


def test_sync_detects_and_repairs_drift(fleet: Fleet) -> None:
    fleet.ok("create", "dev", "--subnet", "none")
    fleet.ok("create", "gone", "--subnet", "none")
    subprocess.run(["k3d", "cluster", "delete", "gone"], env=fleet.env, capture_output=True, check=True)
    subprocess.run(["k3d", "cluster", "stop", "dev"], env=fleet.env, capture_output=True, check=True)
    check = fleet.run("sync", "--dry-run", "-o", "json")
    assert check.returncode == 3
    drift = {(d["environment"], d["kind"]) for d in json.loads(check.stdout)["drift"]}
    assert drift == {("gone", "missing"), ("dev", "status")}
    fleet.ok("sync")
    assert fleet.clusters()["k3d"] == ["dev", "gone"]
    assert fleet.env_record("dev")["status"] == "stopped"  # type: ignore[index]
    assert fleet.run("sync", "--dry-run").returncode == 0


def test_sync_finds_orphans_and_prunes_them(fleet: Fleet) -> None:
    fleet.ok("create", "lost", "--subnet", "none")
    fleet.ok("unregister", "lost")
    check = fleet.run("sync", "--dry-run", "-o", "json")
    assert check.returncode == 3
    assert json.loads(check.stdout)["drift"][0]["kind"] == "orphan"
    assert fleet.run("sync").returncode == 3, "orphans stay without --prune"
    fleet.ok("sync", "--prune")
    assert fleet.clusters()["k3d"] == []


def test_sync_dry_run_shows_prune_only_with_prune(fleet: Fleet) -> None:
    fleet.ok("create", "lost", "--subnet", "none")
    fleet.ok("unregister", "lost")
    plain = fleet.run("sync", "--dry-run", "-o", "json")
    assert plain.returncode == 3
    assert json.loads(plain.stdout)["drift"][0]["action"] == "none (use --prune)"
    assert "kenv: error: 1 drift item(s) found" in plain.stderr, "exit 3 says why, in one line"
    pruning = fleet.run("sync", "--dry-run", "--prune", "-o", "json")
    assert pruning.returncode == 3
    assert json.loads(pruning.stdout)["drift"][0]["action"] == "prune"
    assert fleet.clusters()["k3d"] == ["lost"]


def test_verify_reports_each_check_and_exit_3_when_unhealthy(fleet: Fleet) -> None:
    fleet.ok("create", "dev", "--subnet", "none")
    healthy = json.loads(fleet.ok("verify", "dev", "-o", "json"))
    assert [c["check"] for c in healthy[0]["checks"]] == ["api", "nodes", "kube-system", "dns"]
    assert healthy[0]["healthy"] is True
    sick = fleet.run("verify", "dev", "-o", "json", KENV_FAKE_UNHEALTHY="dev:coredns-crashloop")
    assert sick.returncode == 3
    checks = {c["check"]: c for c in json.loads(sick.stdout)[0]["checks"]}
    assert not checks["kube-system"]["ok"] and "coredns" in checks["kube-system"]["detail"]
    subprocess.run(["k3d", "cluster", "stop", "dev"], env=fleet.env, capture_output=True, check=True)
    down = fleet.run("verify", "dev", "-o", "json")
    assert down.returncode == 3
    assert json.loads(down.stdout)[0]["checks"][0]["ok"] is False


def test_a_missing_tool_is_one_line_with_how_to_install(fleet: Fleet, tmp_path: Path) -> None:
    bare = tmp_path / "bin"
    bare.mkdir()
    (bare / "kubectl").symlink_to(Path(fleet.env["PATH"].split(os.pathsep)[0]) / "kubectl")
    result = fleet.run("create", "dev", "--subnet", "none", PATH=f"{bare}:/usr/bin:/bin")
    assert result.returncode == 1
    assert "k3d is not installed" in result.stderr and "k3d.io" in result.stderr
    assert "Traceback" not in result.stderr
    assert fleet.environments() == [], "found before anything is recorded"
    assert "roll" not in result.stderr, "so there is nothing to roll back"


def test_kubeconfig_merge_keeps_the_current_context(fleet: Fleet) -> None:
    fleet.ok("create", "dev", "--subnet", "none")
    fleet.ok("create", "qa", "--provider", "kind")
    path = fleet.ok("kubeconfig", "dev").strip()
    assert path.endswith("dev.yaml")
    fleet.ok("kubeconfig", "dev", "--merge")
    fleet.ok("kubeconfig", "qa", "--merge")
    merged = fleet.user_kubeconfig.read_text()
    assert "k3d-dev" in merged and "kind-qa" in merged
    # The file did not exist: merging made it, but which context is current stays the user's choice.
    assert "current-context" not in merged


def test_up_preflights_then_creates_the_configured_environments(fleet: Fleet) -> None:
    # The platform (bootstrap first, the default) has its own tests: test_up_platform.py.
    envs = {"KENV_ENVIRONMENTS": "dev,qa", "KENV_DEFAULT_PROVIDER": "kind"}
    out = fleet.run("up", "--skip-preflight", "--no-platform", "-o", "json", **envs)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["names"] == ["dev", "qa"] and report["backend"] == "sqlite"
    assert all(e["status"] == "running" for e in fleet.environments())
    again = json.loads(fleet.ok("up", "--skip-preflight", "--no-platform", "-o", "json", KENV_ENVIRONMENTS="dev,qa"))
    assert again["created"] == [] and again["unchanged"] == ["dev", "qa"]


def test_up_stops_on_host_errors_before_changing_anything(fleet: Fleet, tmp_path: Path) -> None:
    bare = tmp_path / "bin"
    bare.mkdir()
    result = fleet.run("up", PATH=f"{bare}:/usr/bin:/bin")
    assert result.returncode == 3
    assert "host.tool-missing" in result.stdout and "--skip-preflight" in result.stderr
    assert fleet.environments() == []


def test_an_untested_tool_version_is_refused_unless_allowed(fleet: Fleet, tmp_path: Path) -> None:
    shim = tmp_path / "shim"
    shim.mkdir()
    real = Path(fleet.env["PATH"].split(os.pathsep)[0]) / "k3d"
    (shim / "k3d").write_text(
        f'#!/bin/sh\nif [ "$1" = version ]; then echo "k3d version v4.4.8"; exit 0; fi\nexec {real} "$@"\n'
    )
    (shim / "k3d").chmod(0o755)
    path = f"{shim}{os.pathsep}{fleet.env['PATH']}"
    refused = fleet.run("create", "dev", "--subnet", "none", PATH=path)
    assert refused.returncode == 1
    assert "not tested with this k3d" in refused.stderr and "KENV_ALLOW_UNTESTED_TOOLS" in refused.stderr
    assert fleet.clusters()["k3d"] == []
    assert fleet.environments() == [], "refused before anything is recorded"
    fleet.ok("create", "dev", "--subnet", "none", PATH=path, KENV_ALLOW_UNTESTED_TOOLS="1")


def test_node_memory_from_config_reaches_k3d(fleet: Fleet) -> None:
    fleet.ok("create", "dev", "--subnet", "none", KENV_NODE_MEMORY="2g")
    argv = next(c["argv"] for c in fleet.calls() if c["argv"][1:3] == ["cluster", "create"])
    assert "--servers-memory" in argv and argv[argv.index("--servers-memory") + 1] == "2g"
    bad = fleet.run("create", "qa", "--subnet", "none", KENV_NODE_MEMORY="lots")
    assert bad.returncode == 2 and "not a memory size" in bad.stderr


def test_an_external_cluster_is_adopted_verified_and_never_deleted(fleet: Fleet) -> None:
    # A cluster someone else made, known only by a context in the user's kubeconfig.
    subprocess.run(["k3d", "cluster", "create", "theirs"], env=fleet.env, capture_output=True, check=True)
    missing = fleet.run("create", "ext", "--provider", "external", "--label", "kenv.io/context=nope")
    assert missing.returncode == 1 and "context 'nope' not found" in missing.stderr
    fleet.ok("unregister", "ext")
    fleet.ok("create", "ext", "--provider", "external", "--label", "kenv.io/context=k3d-theirs")
    record = fleet.env_record("ext")
    assert record is not None and record["status"] == "running" and record["http_port"] is None
    assert json.loads(fleet.ok("verify", "ext", "-o", "json"))[0]["healthy"] is True
    fleet.ok("delete", "ext")
    assert fleet.environments() == []
    assert fleet.clusters()["k3d"] == ["theirs"], "kenv forgets an external cluster, it never deletes it"


@needs_docker
def test_a_foreign_network_with_another_subnet_fails_the_create_and_is_left_alone(fleet: Fleet) -> None:
    name = unique("clash")
    fleet.ok("register", name, "--subnet", "10.231.0.0/24")
    subprocess.run(
        ["docker", "network", "create", "--subnet", "10.232.0.0/24", f"k3d-{name}"], check=True, capture_output=True
    )
    try:
        result = fleet.run("create", name)
        assert result.returncode == 1
        assert f"Docker network k3d-{name} exists with subnet 10.232.0.0/24, not 10.231.0.0/24" in result.stderr
        assert f"k3d-{name}" in fleet.docker_networks(), "a network kenv did not make is never removed"
        assert fleet.clusters()["k3d"] == []
        assert fleet.env_record(name)["status"] == "failed"  # type: ignore[index]
    finally:
        subprocess.run(["docker", "network", "rm", f"k3d-{name}"], check=False, capture_output=True)


def test_starting_an_environment_without_a_cluster_says_so(fleet: Fleet) -> None:
    fleet.ok("register", "dev", "--subnet", "none")
    result = fleet.run("start", "dev")
    assert result.returncode == 2, "invalid input, nothing changed"
    assert "'dev' has no k3d cluster" in result.stderr and "kenv create dev" in result.stderr
    assert "Traceback" not in result.stderr
    assert fleet.env_record("dev")["status"] == "unknown", "a refused start changes nothing"  # type: ignore[index]
    debug = fleet.run("--debug", "start", "dev")
    assert debug.returncode == 2
    # The failed step's own traceback, down to where it raised (not only where the CLI noticed).
    assert "Traceback" in debug.stderr and "in done" in debug.stderr and "InvalidInput" in debug.stderr


def test_kubeconfig_of_an_environment_without_a_cluster_says_how_to_get_one(fleet: Fleet) -> None:
    fleet.ok("register", "dev", "--subnet", "none")
    result = fleet.run("kubeconfig", "dev")
    assert result.returncode == 1
    assert "'dev' has no kubeconfig yet" in result.stderr and "kenv create dev" in result.stderr
