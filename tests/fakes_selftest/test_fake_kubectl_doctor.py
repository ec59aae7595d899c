"""Self-tests for what the fake kubectl serves `kenv doctor snapshot`: every resource type as
kubectl's List, the seed file (objects, logs, types the cluster lacks or forbids), the controllers
behind the system pods, and `kubectl logs` with kubelet's refusals (kubectl v0.31.6
pkg/cmd/logs/logs.go; kubernetes pkg/kubelet/kubelet_pods.go validateContainerLogStatus)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.fakes_selftest.conftest import Runner

TYPES = (
    "events",
    "persistentvolumeclaims",
    "persistentvolumes",
    "storageclasses",
    "deployments",
    "replicasets",
    "statefulsets",
    "daemonsets",
    "jobs",
    "cronjobs",
    "services",
    "endpoints",
    "apiservices",
)


def listed(run: Runner, resource: str, *args: str) -> dict[str, Any]:
    result = run("kubectl", "get", resource, "-A", "-o", "json", *args)
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def write_seed(fake_env: dict[str, str], cluster: str, seed: dict[str, Any]) -> None:
    directory = Path(fake_env["KENV_FAKE_STATE"]) / "kubeseed"
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{cluster}.json").write_text(json.dumps(seed))


def crash_pod(name: str) -> dict[str, Any]:
    last = {"terminated": {"exitCode": 1, "reason": "Error", "containerID": "containerd://abc"}}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "app", "uid": "u-" + name},
        "spec": {"containers": [{"name": "main", "image": "app:1"}, {"name": "side", "image": "side:1"}]},
        "status": {
            "phase": "Running",
            "containerStatuses": [
                {
                    "name": "main",
                    "ready": False,
                    "restartCount": 3,
                    "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                }
                | {"lastState": last},
                {"name": "side", "ready": True, "restartCount": 0, "state": {"running": {}}, "lastState": {}},
            ],
        },
    }


def test_every_type_is_a_list_and_a_fresh_k3d_cluster_has_its_usual_objects(run: Runner) -> None:
    assert run("k3d", "cluster", "create", "dx").returncode == 0
    for resource in TYPES:
        data = listed(run, resource)
        assert data["apiVersion"] == "v1" and data["kind"] == "List" and data["metadata"] == {"resourceVersion": ""}
    services = {(s["metadata"]["namespace"], s["metadata"]["name"]) for s in listed(run, "svc")["items"]}
    assert services == {("default", "kubernetes"), ("kube-system", "kube-dns")}
    (storage,) = listed(run, "sc")["items"]
    assert (storage["metadata"]["name"], storage["provisioner"]) == ("local-path", "rancher.io/local-path")
    deployments = {d["metadata"]["name"] for d in listed(run, "deploy")["items"]}
    assert {"coredns", "local-path-provisioner", "metrics-server", "traefik"} <= deployments
    pods = listed(run, "pods")["items"]
    coredns = next(p for p in pods if p["metadata"]["name"].startswith("coredns-"))
    (owner,) = coredns["metadata"]["ownerReferences"]
    replicasets = {r["metadata"]["name"]: r for r in listed(run, "rs")["items"]}
    assert owner["kind"] == "ReplicaSet" and owner["name"] in replicasets
    assert replicasets[owner["name"]]["metadata"]["ownerReferences"][0]["name"] == "coredns"
    capabilities = coredns["spec"]["containers"][0]["securityContext"]["capabilities"]
    assert capabilities == {"drop": ["all"], "add": ["NET_BIND_SERVICE"]}
    assert listed(run, "events")["items"] == [] and listed(run, "apiservices")["items"] == []


def test_tables_of_the_new_types_are_not_emulated(run: Runner) -> None:
    assert run("k3d", "cluster", "create", "dx").returncode == 0
    table = run("kubectl", "get", "deployments", "-A")
    assert table.returncode == 2 and "not implemented by the test fake" in table.stderr


def test_the_seed_adds_objects_and_takes_types_away(run: Runner, fake_env: dict[str, str]) -> None:
    assert run("k3d", "cluster", "create", "dx").returncode == 0
    claim = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "data", "namespace": "app"},
        "status": {"phase": "Pending"},
    }
    write_seed(fake_env, "dx", {"objects": [claim], "unknown": ["apiservices"], "forbidden": ["events"]})
    assert listed(run, "pvc")["items"] == [claim]
    missing = run("kubectl", "get", "apiservices", "-A", "-o", "json")
    assert missing.returncode == 1
    assert missing.stderr.strip() == 'error: the server doesn\'t have a resource type "apiservices"'
    forbidden = run("kubectl", "get", "events", "-A", "-o", "json")
    assert forbidden.returncode == 1
    assert forbidden.stderr.strip() == (
        'Error from server (Forbidden): events is forbidden: User "system:serviceaccount:default:viewer" '
        'cannot list resource "events" in API group "" at the cluster scope'
    )


def test_logs_follow_kubelet(run: Runner, fake_env: dict[str, str]) -> None:
    assert run("k3d", "cluster", "create", "dx").returncode == 0
    logs = [{"namespace": "app", "pod": "p", "container": "main", "previous": "one\ntwo\nthree\n"}]
    write_seed(fake_env, "dx", {"objects": [crash_pod("p")], "logs": logs})
    previous = run("kubectl", "logs", "-n", "app", "p", "-c", "main", "--previous", "--tail=2")
    assert previous.returncode == 0 and previous.stdout == "two\nthree\n"
    # a waiting container that ran before: kubelet serves its last instance as the current log
    current = run("kubectl", "logs", "-n", "app", "p", "main")
    assert current.returncode == 0 and current.stdout == "one\ntwo\nthree\n"
    side = run("kubectl", "logs", "-n", "app", "p", "-c", "side", "-p")
    assert side.returncode == 1
    assert side.stderr.strip() == (
        'Error from server (BadRequest): previous terminated container "side" in pod "p" not found'
    )
    defaulted = run("kubectl", "logs", "-n", "app", "p")
    assert defaulted.returncode == 0 and 'Defaulted container "main" out of: main, side' in defaulted.stderr
    wrong = run("kubectl", "logs", "-n", "app", "p", "-c", "nope")
    assert wrong.returncode == 1 and wrong.stderr.strip() == "error: container nope is not valid for pod p"
    both = run("kubectl", "logs", "-n", "app", "p", "main", "-c", "main")
    assert both.stderr.strip() == "error: only one of -c or an inline [CONTAINER] arg is allowed"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "expected 'logs [-f] [-p] (POD | TYPE/NAME) [-c CONTAINER]'."),
        (("p", "--tail=-2"), "error: --tail must be greater than or equal to -1"),
        (("p", "--bogus"), "Error: unknown flag: --bogus"),
    ],
)
def test_logs_grammar(run: Runner, args: tuple[str, ...], message: str) -> None:
    assert run("k3d", "cluster", "create", "dx").returncode == 0
    result = run("kubectl", "logs", *args)
    assert result.returncode == 1 and message in result.stderr
