"""`kenv doctor ENV --fix` through the fakes: the kubectl fake applies the patches to its seeded
state and its controllers make the pods again, healthy only when the cause is gone; the rerun
(a new snapshot) then says what is fixed. The import case needs the real Docker engine (the host
side of `kenv images sync`), the others do not."""

from __future__ import annotations

import copy
import json
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_kenv
from tests.doctor_cases import load_rule_cases
from tests.e2e import dev_fleet
from tests.e2e.lifecycle_support import Fleet, needs_docker
from tests.local_images import import_file_image, remove_image

fleet = dev_fleet.fleet  # the fixture: one k3d environment `dev` on the fakes

cases: Any = load_rule_cases("doctor_fix_cases")

RUN = uuid.uuid4().hex[:8]
IMAGE = f"kenv-test-{RUN}/myapp:1.0"
TAG = cases.DIGEST_REF.split("@")[0]


@pytest.fixture(scope="module")
def host_image() -> Iterator[str]:
    """IMAGE on the real engine (no registry is reachable from the tests)."""
    yield import_file_image(IMAGE, "kenv doctor fix test\n")
    remove_image(IMAGE)


def with_templates(document: dict[str, Any]) -> dict[str, Any]:
    """The fixtures' workloads get the pod template their pods were made from (the API has one)."""
    document = copy.deepcopy(document)
    objects = document["objects"]
    pods = objects.get("pods", [])
    owners = {}
    for part in ("replicasets", "jobs", "statefulsets", "daemonsets"):
        for workload in objects.get(part, []):
            name = workload["metadata"]["name"]
            mine = [p for p in pods if any(r["name"] == name for r in p["metadata"].get("ownerReferences", []))]
            if mine:
                owners[(workload["kind"], name)] = mine[0]
    for part in ("deployments", "replicasets", "jobs", "statefulsets", "daemonsets"):
        for workload in objects.get(part, []):
            name = workload["metadata"]["name"]
            pod = owners.get((workload["kind"], name))
            if pod is None and workload["kind"] == "Deployment":
                pod = next((p for (k, n), p in owners.items() if k == "ReplicaSet" and n.startswith(name + "-")), None)
            if pod is not None and not workload["spec"].get("template"):
                workload["spec"]["template"] = {
                    "metadata": {"labels": dict(pod["metadata"].get("labels") or {})},
                    "spec": copy.deepcopy(pod["spec"]),
                }
                workload["spec"]["template"]["spec"].pop("nodeName", None)
    return document


def seed(fleet: Fleet, document: dict[str, Any], **extra: Any) -> None:
    objects = [item for part, items in document["objects"].items() if part != "nodes" for item in items]
    for pod in document["objects"].get("pods", []):
        for status in pod["status"].get("containerStatuses", []):
            last = status.get("lastState", {}).get("terminated")
            if last is not None:  # kubelet names the container it ran (and serves its log by it)
                last.setdefault("containerID", "containerd://" + cases.uid(pod["metadata"]["name"]).replace("-", ""))
    directory = fleet.state / "kubeseed"
    directory.mkdir(exist_ok=True)
    (directory / "dev.json").write_text(json.dumps({"objects": objects, "logs": document.get("logs", []), **extra}))


def seeded(fleet: Fleet) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((fleet.state / "kubeseed" / "dev.json").read_text())
    return data


def find(fleet: Fleet, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
    for obj in seeded(fleet)["objects"]:
        meta = obj["metadata"]
        if obj["kind"] == kind and meta.get("namespace", "") == namespace and meta["name"] == name:
            return obj  # type: ignore[no-any-return]
    return None


def kubectl_calls(fleet: Fleet, *words: str) -> list[list[str]]:
    calls = [[str(a) for a in c["argv"]] for c in fleet.calls()]  # type: ignore[attr-defined]
    return [argv for argv in calls if argv[0] == "kubectl" and all(w in argv for w in words)]


def fix(fleet: Fleet, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return fleet.run("doctor", "dev", "--fix", "--wait", "0", *args, **extra)


def rule_findings(fleet: Fleet, rule: str) -> list[dict[str, Any]]:
    result = fleet.run("doctor", "dev", "--rule", rule, "-o", "json")
    return [f for f in json.loads(result.stdout)["findings"] if f["rule"] == rule]


def image_case() -> dict[str, Any]:
    text = json.dumps(cases.image_not_in_cluster(True))
    text = text.replace("docker.io/library/myapp:1.0", f"docker.io/{IMAGE}").replace("myapp:1.0", IMAGE)
    return with_templates(json.loads(text))


@needs_docker
def test_image_not_in_cluster_is_imported_and_its_pods_restarted(fleet: Fleet, host_image: str) -> None:
    seed(fleet, image_case())
    assert rule_findings(fleet, "image.not-in-cluster")
    result = fix(fleet, "--yes")
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert "fix 1/1 [image.not-in-cluster] Deployment/shop/web (low risk, kenv applies it)" in result.stdout
    assert f"$ kenv images sync dev {host_image}" in result.stdout
    assert f"k3d image import docker.io/{host_image} -c dev" in result.stdout  # the sync's own plan
    assert "fixed     [image.not-in-cluster] Deployment/shop/web" in result.stdout
    imports = [c for c in fleet.calls() if c["argv"][:3] == ["k3d", "image", "import"]]  # type: ignore[index]
    assert len(imports) == 1
    assert kubectl_calls(fleet, "rollout", "restart", "deployment/web")
    pods = [o for o in seeded(fleet)["objects"] if o["kind"] == "Pod" and o["metadata"]["namespace"] == "shop"]
    assert len(pods) == 2 and all(p["status"]["containerStatuses"][0]["ready"] for p in pods)
    deployment = find(fleet, "Deployment", "shop", "web")
    assert deployment is not None
    assert "kubectl.kubernetes.io/restartedAt" in deployment["spec"]["template"]["metadata"]["annotations"]
    assert rule_findings(fleet, "image.not-in-cluster") == []


def test_a_failed_import_is_reported_as_failed_and_exits_1(fleet: Fleet) -> None:
    seed(fleet, image_case())
    result = fix(fleet, "--yes", KENV_FAKE_FAIL="k3d:image-import")
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "FAILED" in result.stdout
    assert "fix(es) failed" in result.stderr and "Traceback" not in result.stderr
    assert not kubectl_calls(fleet, "rollout", "restart"), "no restart after a failed import"
    assert rule_findings(fleet, "image.not-in-cluster")


def test_coredns_gets_net_bind_service_and_restarts_healthy(fleet: Fleet) -> None:
    document = with_templates(cases.dns(True, app_broken=False))
    document["objects"]["endpoints"] = []  # the fresh cluster's own kube-dns Endpoints stay
    seed(fleet, document)
    result = fix(fleet, "--yes", "--rule", "dns.coredns-bind-denied")
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert "securityContext.capabilities.add: [] -> ['NET_BIND_SERVICE']" in result.stdout
    assert "fixed     [dns.coredns-bind-denied] Deployment/kube-system/coredns" in result.stdout
    coredns = find(fleet, "Deployment", "kube-system", "coredns")
    assert coredns is not None
    container = coredns["spec"]["template"]["spec"]["containers"][0]
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}
    (patch,) = kubectl_calls(fleet, "patch", "deployment", "coredns")
    assert patch[patch.index("--type=json")] and "-p" in patch


def test_a_restart_alone_does_not_cure_coredns_in_the_fake(fleet: Fleet) -> None:
    """The fake's controller is honest: new pods of an unpatched CoreDNS fail as before."""
    document = with_templates(cases.dns(True, app_broken=False))
    document["objects"]["endpoints"] = []
    seed(fleet, document)
    kubeconfig = fleet.ok("kubeconfig", "dev").strip()
    restart = subprocess.run(
        ["kubectl", "--kubeconfig", kubeconfig, "-n", "kube-system", "rollout", "restart", "deployment/coredns"],
        capture_output=True,
        text=True,
        env=fleet.env,
        check=False,
    )
    assert restart.stdout.strip() == "deployment.apps/coredns restarted", restart.stderr
    (finding,) = rule_findings(fleet, "dns.coredns-bind-denied")
    assert all(not s.endswith("-00000") for s in finding["symptoms"])  # new pods, still failing


def test_crlf_is_converted_and_the_job_pod_made_again(fleet: Fleet) -> None:
    seed(fleet, with_templates(cases.crlf(True)))
    result = fix(fleet, "--yes", "-o", "json")
    assert result.returncode == 0, (result.stdout, result.stderr)
    data = json.loads(result.stdout)
    assert data["schema"] == "kenv.doctor/v1" and data["findings"] == []
    (done,) = data["fixes"]
    assert (done["kind"], done["outcome"], done["risk"]) == ("convert-crlf", "fixed", "low")
    config = find(fleet, "ConfigMap", "saas-shortener", "install-scripts")
    assert config is not None
    assert config["data"]["install.sh"] == "#!/bin/sh\nset -e\necho installing\n"
    assert config["data"]["README"] == "notes\r\nmore\r\n"
    assert find(fleet, "Pod", "saas-shortener", "installer-abcde") is None
    assert kubectl_calls(fleet, "delete", "pod", "installer-abcde")


def test_without_yes_a_fix_is_asked_for_and_no_answer_applies_nothing(fleet: Fleet) -> None:
    seed(fleet, with_templates(cases.crlf(True)))
    result = fix(fleet)
    assert result.returncode == 3, (result.stdout, result.stderr)
    assert "Apply fix to ConfigMap/saas-shortener/install-scripts? [y/N]" in result.stderr
    assert "declined  [script.crlf] ConfigMap/saas-shortener/install-scripts: not applied" in result.stdout
    assert '"install.sh": "#!/bin/sh\\nset -e\\necho installing\\n"' in result.stdout  # the document sent
    assert not kubectl_calls(fleet, "replace")


def test_namespace_finalizers_need_force(fleet: Fleet) -> None:
    seed(fleet, cases.namespace_stuck(True))
    refused = fix(fleet, "--yes")
    assert refused.returncode == 3, (refused.stdout, refused.stderr)
    assert "(high risk, kenv applies it)" in refused.stdout
    assert "what blocks it" in refused.stdout and "example.com/cleanup" in refused.stdout
    assert (
        "refused   [namespace.stuck-terminating] Namespace//saas-shortener: high risk: rerun with --force to apply it"
        in refused.stdout
    )
    assert not kubectl_calls(fleet, "replace")
    done = fix(fleet, "--yes", "--force")
    assert done.returncode == 0, (done.stdout, done.stderr)
    (call,) = kubectl_calls(fleet, "replace", "--raw")
    assert "/api/v1/namespaces/saas-shortener/finalize" in call
    assert find(fleet, "Namespace", "", "saas-shortener") is None
    assert "fixed     [namespace.stuck-terminating] Namespace//saas-shortener" in done.stdout


def digest_deployment() -> dict[str, Any]:
    document = cases.image_digest_not_found(True)
    pod = document["objects"]["pods"][0]
    pod["metadata"]["ownerReferences"][0].update(kind="ReplicaSet", name="certgen-5d9")
    document["objects"]["jobs"] = []
    document["objects"]["replicasets"] = [
        cases.owned("ReplicaSet", "certgen-5d9", "ingress-nginx", ("Deployment", "certgen"))
    ]
    document["objects"]["deployments"] = [cases.owned("Deployment", "certgen", "ingress-nginx")]
    return with_templates(document)


def test_digest_on_a_deployment_is_patched_to_the_tag(fleet: Fleet) -> None:
    seed(fleet, digest_deployment(), registry=[TAG])
    result = fix(fleet, "--yes")
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert f"-> {TAG}" in result.stdout and "(medium risk, kenv applies it)" in result.stdout
    deployment = find(fleet, "Deployment", "ingress-nginx", "certgen")
    assert deployment is not None
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == TAG
    pods = [o for o in seeded(fleet)["objects"] if o["kind"] == "Pod"]
    assert [p["spec"]["containers"][0]["image"] for p in pods] == [TAG]
    assert pods[0]["status"]["containerStatuses"][0]["ready"] is True


def test_digest_on_a_job_recreates_it_without_controller_uid(fleet: Fleet) -> None:
    document = with_templates(cases.image_digest_not_found(True))
    job = document["objects"]["jobs"][0]
    old_uid = job["metadata"]["uid"]
    generated = {"batch.kubernetes.io/controller-uid": old_uid, "controller-uid": old_uid, "job-name": "x"}
    job["metadata"]["resourceVersion"] = "77"
    job["spec"]["selector"] = {"matchLabels": {"batch.kubernetes.io/controller-uid": old_uid}}
    job["spec"]["template"]["metadata"]["labels"] = dict(generated)
    seed(fleet, document, registry=[TAG])
    result = fix(fleet, "--yes")
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert "recreated (delete, then create) without metadata.uid" in result.stdout
    (call,) = kubectl_calls(fleet, "replace", "--force")
    assert call[-2:] == ["-f", "-"]
    rebuilt = find(fleet, "Job", "ingress-nginx", "ingress-nginx-admission-create")
    assert rebuilt is not None
    new_uid = rebuilt["metadata"]["uid"]
    assert new_uid != old_uid
    assert rebuilt["spec"]["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": new_uid}}
    assert rebuilt["spec"]["template"]["metadata"]["labels"]["controller-uid"] == new_uid
    assert rebuilt["spec"]["template"]["spec"]["containers"][0]["image"] == TAG


def test_fix_with_a_snapshot_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "snap.json"
    path.write_text(json.dumps(cases.crlf(True)))
    result = run_kenv("doctor", "dev", "--snapshot", str(path), "--fix")
    assert result.returncode == 2
    assert result.stderr.startswith("kenv: error: --fix needs the live cluster, not a snapshot file")
    assert len(result.stderr.strip().splitlines()) <= 2 and "Traceback" not in result.stderr
    alone = run_kenv("doctor", "dev", "--snapshot", str(path), "--yes")
    assert alone.returncode == 2 and "--yes and --force go with --fix" in alone.stderr
