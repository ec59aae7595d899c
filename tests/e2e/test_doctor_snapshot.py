"""`kenv doctor snapshot ENV -o FILE` against the fake k3d and kubectl (issue 9 §1): one kubectl
call per resource type, logs of unhealthy containers only, types the cluster lacks or forbids
left out with a warning, and the output file's safety.

The broken cluster is seeded through the fake kubectl's seed file (tests/fakes/README.md,
"Seeding objects and logs"), built from the fixture snapshots' objects.
"""

from __future__ import annotations

import json
import stat
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kenv.doctor.snapshot import OBJECT_PARTS, PARTS, read_snapshot_file
from tests.doctor_cases import DOCTOR_FIXTURES
from tests.e2e import dev_fleet
from tests.e2e.lifecycle_support import Fleet, needs_docker
from tests.local_images import import_file_image, remove_image

fleet = dev_fleet.fleet  # the fixture: one k3d environment `dev` on the fakes

APP_LOG = "2026/11/30 22:41:19 dial tcp: lookup postgres-service on 10.96.0.10:53: i/o timeout\n"


def _objects(fixture: str, namespaces: set[str], parts: tuple[str, ...] = tuple(OBJECT_PARTS)) -> list[dict[str, Any]]:
    document = json.loads((DOCTOR_FIXTURES / fixture).read_text())
    found = []
    for part in parts:
        for item in document["objects"].get(part, []):
            meta = item["metadata"]
            if meta.get("namespace") in namespaces or (part == "events" and meta.get("namespace") in namespaces):
                found.append(item)
    return found


def seed(fleet: Fleet, **extra: Any) -> dict[str, Any]:
    """A broken `dev`: an image only on the host (shop), a claim Pending behind the local-path
    helper's pull (paas + the helper in kube-system), apps crash-looping on DNS (saas-shortener)."""
    objects = _objects("k3d-image-only-on-host.json", {"shop"})
    objects += _objects("k3d-pvc-pending-helper-image.json", {"paas"})
    objects += [
        o
        for o in _objects("k3d-pvc-pending-helper-image.json", {"kube-system"}, ("pods", "events"))
        if "helper-pod-create-pvc" in json.dumps(o)
    ]
    objects += _objects("minikube-coredns-bind-denied.json", {"saas-shortener"})
    crashing = [o for o in objects if o["kind"] == "Pod" and o["metadata"]["namespace"] == "saas-shortener"]
    logs = [
        {
            "namespace": "saas-shortener",
            "pod": p["metadata"]["name"],
            "container": "saas-shortener",
            "previous": APP_LOG,
        }
        for p in crashing
        if p["metadata"]["name"].startswith("saas-shortener-")
    ]
    document = {"objects": objects, "logs": logs, **extra}
    directory = fleet.state / "kubeseed"
    directory.mkdir(exist_ok=True)
    (directory / "dev.json").write_text(json.dumps(document))
    return document


def kubectl_calls(fleet: Fleet) -> list[list[str]]:
    """The kubectl calls, without the kubeconfig/timeout/context flags kenv puts first."""
    found = []
    for call in fleet.calls():
        if call["tool"] != "kubectl":
            continue
        argv = [str(a) for a in call["argv"]]  # type: ignore[attr-defined]
        if "--request-timeout=10s" in argv:
            argv = argv[argv.index("--request-timeout=10s") + 1 :]
            if argv[:1] == ["--context"]:
                argv = argv[2:]
        found.append(argv)
    return found


def test_one_kubectl_call_per_type_logs_of_unhealthy_containers_only(fleet: Fleet, tmp_path: Path) -> None:
    seeded = seed(fleet)
    out = tmp_path / "dev.json"
    before = len(kubectl_calls(fleet))  # create's own
    result = fleet.run("doctor", "snapshot", "dev", "-o", str(out), KENV_FAKE_UNHEALTHY="dev:coredns-crashloop")
    assert result.returncode == 0, result.stderr
    # host_images needs a Docker engine: without one it is left out with a warning
    parts = 19 if "warning: host_images: not collected" in result.stderr else 20
    assert f"{parts} part(s) collected" in result.stdout
    assert stat.S_IMODE(out.stat().st_mode) == 0o600

    calls = kubectl_calls(fleet)[before:]
    gets = [c for c in calls if c and c[0] == "get"]
    assert sorted(c[1] for c in gets) == sorted(resource for _, resource, _ in OBJECT_PARTS.values())
    assert all(c[2:] == ["-A", "-o", "json"] for c in gets), gets
    assert not any("secret" in " ".join(c) for c in calls)

    logs = sorted(tuple(c) for c in calls if c and c[0] == "logs")
    crashing = sorted(log["pod"] for log in seeded["logs"])
    assert len(crashing) == 2
    coredns = next(
        p["metadata"]["name"]
        for p in read_snapshot_file(out).items("pods")
        if p["metadata"]["name"].startswith("coredns-")
    )
    expected = [
        ("logs", "-n", "saas-shortener", pod, "-c", "saas-shortener", "--tail=200", "--previous") for pod in crashing
    ]
    expected.append(("logs", "-n", "kube-system", coredns, "-c", "coredns", "--tail=200", "--previous"))
    assert logs == sorted(expected)  # not the image pulls that never ran, not the healthy pods

    snapshot = read_snapshot_file(out)
    assert snapshot.collected == frozenset(PARTS) - ({"host_images"} if parts == 19 else set())
    assert snapshot.environment == "dev" and snapshot.provider == "k3d" and snapshot.nodes == ("k3d-dev-server-0",)
    assert snapshot.find("pvcs", "paas", "data-postgresql-0") is not None
    assert snapshot.find("deployments", "shop", "web") is not None
    assert {e["reason"] for e in snapshot.items("events")} >= {"ProvisioningFailed", "Failed", "BackOff"}
    assert snapshot.logs[("saas-shortener", crashing[0], "saas-shortener")].previous == APP_LOG
    dns = snapshot.logs[("kube-system", coredns, "coredns")]
    assert dns.previous == "Listen: listen tcp :53: bind: permission denied\n" and dns.current is None
    assert snapshot.node_images is not None
    assert "docker.io/rancher/mirrored-coredns-coredns:1.12.0" in snapshot.node_images["k3d-dev-server-0"]
    endpoints = snapshot.find("endpoints", "kube-system", "kube-dns")
    assert endpoints is not None and "notReadyAddresses" in endpoints["subsets"][0]


def test_a_type_the_cluster_lacks_or_forbids_is_left_out_with_a_warning(fleet: Fleet, tmp_path: Path) -> None:
    seed(fleet, unknown=["apiservices"], forbidden=["events"])
    out = tmp_path / "dev.json"
    result = fleet.run("doctor", "snapshot", "dev", "-o", str(out), "--no-images")
    assert result.returncode == 0, result.stderr
    assert "warning: apiservices: not collected (the cluster does not serve this resource type)" in result.stderr
    assert "warning: events: not collected (listing it is forbidden for this user (RBAC))" in result.stderr
    snapshot = read_snapshot_file(out)
    assert not snapshot.has("apiservices") and not snapshot.has("events") and snapshot.has("pods")
    assert not snapshot.has("node_images") and not snapshot.has("host_images")
    assert any("apiservices" in w for w in snapshot.warnings)


def test_the_fake_refuses_logs_kubelet_would_not_give(fleet: Fleet) -> None:
    seeded = seed(fleet)
    pulling = next(o for o in seeded["objects"] if o["kind"] == "Pod" and o["metadata"]["namespace"] == "shop")
    name = pulling["metadata"]["name"]
    kubeconfig = str(next(fleet.home.rglob("kubeconfig/dev.yaml")))
    base = ["kubectl", "--kubeconfig", kubeconfig, "logs", "-n", "shop", name, "-c", "web"]
    current = subprocess.run(base, env=fleet.env, capture_output=True, text=True, check=False)
    previous = subprocess.run([*base, "--previous"], env=fleet.env, capture_output=True, text=True, check=False)
    assert current.returncode == 1 and previous.returncode == 1
    state = pulling["status"]["containerStatuses"][0]["state"]["waiting"]["reason"]
    why = "image can't be pulled" if state == "ErrImagePull" else "trying and failing to pull image"
    assert (
        current.stderr.strip()
        == f'Error from server (BadRequest): container "web" in pod "{name}" is waiting to start: {why}'
    )
    assert previous.stderr.strip() == (
        f'Error from server (BadRequest): previous terminated container "web" in pod "{name}" not found'
    )
    missing = subprocess.run(
        ["kubectl", "--kubeconfig", kubeconfig, "logs", "-n", "shop", "nope"],
        env=fleet.env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert missing.stderr.strip() == 'error: error from server (NotFound): pods "nope" not found in namespace "shop"'


def test_the_output_file_is_never_overwritten_without_force(fleet: Fleet, tmp_path: Path) -> None:
    out = tmp_path / "dev.json"
    out.write_text("keep me")
    result = fleet.run("doctor", "snapshot", "dev", "-o", str(out))
    assert result.returncode == 2 and out.read_text() == "keep me"
    assert result.stderr.strip().splitlines()[-1].startswith("kenv: error: cannot write")
    assert "it already exists; use --force" in result.stderr and "Traceback" not in result.stderr
    before = len(kubectl_calls(fleet))
    directory = fleet.run("doctor", "snapshot", "dev", "-o", str(tmp_path))
    assert directory.returncode == 2 and "it is a directory" in directory.stderr
    nowhere = fleet.run("doctor", "snapshot", "dev", "-o", str(tmp_path / "no" / "such" / "dir.json"))
    assert nowhere.returncode == 2 and "does not exist" in nowhere.stderr
    assert len(kubectl_calls(fleet)) == before  # refused before the cluster was asked anything
    fleet.ok("doctor", "snapshot", "dev", "-o", str(out), "--force", "--no-images", "--no-logs")
    assert read_snapshot_file(out).environment == "dev" and not list(tmp_path.glob(".dev.json.*"))
    unknown = fleet.run("doctor", "snapshot", "nope", "-o", str(tmp_path / "x.json"))
    assert unknown.returncode == 2 and "'nope' is not in the inventory" in unknown.stderr
    assert not (tmp_path / "x.json").exists()


def test_a_cluster_that_does_not_answer_fails_in_one_line_and_writes_nothing(fleet: Fleet, tmp_path: Path) -> None:
    out = tmp_path / "dev.json"
    result = fleet.run("doctor", "snapshot", "dev", "-o", str(out), KENV_FAKE_FAIL="kubectl:version")
    assert result.returncode == 1, result.stderr
    assert "ServiceUnavailable" in result.stderr and "Traceback" not in result.stderr
    assert not out.exists()


def test_a_stopped_environment_is_named_as_such(fleet: Fleet, tmp_path: Path) -> None:
    fleet.ok("stop", "dev")
    result = fleet.run("doctor", "snapshot", "dev", "-o", str(tmp_path / "dev.json"))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "kenv: error: environment 'dev' is stopped; run `kenv start dev` first"
    )
    assert not (tmp_path / "dev.json").exists()


def test_anonymize_masks_the_names_in_the_file(fleet: Fleet, tmp_path: Path) -> None:
    seed(fleet)
    out = tmp_path / "anon.json"
    fleet.ok("doctor", "snapshot", "dev", "-o", str(out), "--anonymize", "--no-images")
    text = out.read_text()
    for name in ('"dev"', "k3d-dev-server-0", "postgres-service", '"paas"', "data-postgresql-0"):
        assert name not in text, name
    for kept in ("shop/web:1.4.2", "rancher/mirrored-library-busybox:1.36.1", "ProvisioningFailed", "kube-system"):
        assert kept in text, kept
    snapshot = read_snapshot_file(out)
    assert snapshot.anonymized and snapshot.nodes[0].startswith("k3d-x") and snapshot.nodes[0].endswith("-server-0")


@pytest.fixture
def host_image() -> Iterator[str]:
    ref = import_file_image(f"kenv-test-{uuid.uuid4().hex[:8]}/only-on-host:1.0", "kenv doctor snapshot test\n")
    yield ref
    remove_image(ref)


@needs_docker
def test_the_host_images_come_from_the_docker_engine(fleet: Fleet, tmp_path: Path, host_image: str) -> None:
    out = tmp_path / "dev.json"
    fleet.ok("doctor", "snapshot", "dev", "-o", str(out), "--no-logs")
    snapshot = read_snapshot_file(out)
    assert snapshot.host_images is not None and f"docker.io/{host_image}" in snapshot.host_images
    assert (
        snapshot.node_images is not None and f"docker.io/{host_image}" not in snapshot.node_images["k3d-dev-server-0"]
    )
