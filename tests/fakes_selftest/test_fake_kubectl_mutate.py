"""Self-tests for the fake kubectl's changes to seeded objects (kubemutate.py): patch, rollout
restart, replace (plain, --force, --raw .../finalize), deleting a seeded pod, and the controllers
that make pods again, healthy only when the cause of the failure is gone."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tests.fakes_selftest.conftest import Runner
from tests.fakes_selftest.test_fake_kubectl_doctor import write_seed

PULL = {"waiting": {"reason": "ImagePullBackOff", "message": 'Back-off pulling image "app:2"'}}


def deployment(image: str = "app:2") -> dict[str, Any]:
    template = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "main", "image": image}]}}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "app", "uid": "d-1", "resourceVersion": "5", "generation": 1},
        "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": template},
    }


def pod(name: str, image: str = "app:2", state: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": "app",
            "uid": "u-" + name,
            "ownerReferences": [{"kind": "ReplicaSet", "name": "web-5d9", "controller": True, "uid": "r"}],
        },
        "spec": {"containers": [{"name": "main", "image": image}], "nodeName": "k3d-dx-server-0"},
        "status": {
            "phase": "Pending",
            "containerStatuses": [
                {"name": "main", "image": image, "ready": False, "restartCount": 0, "state": state or PULL}
            ],
        },
    }


def seed(fake_env: dict[str, str], *objects: dict[str, Any], **extra: Any) -> None:
    write_seed(fake_env, "dx", {"objects": list(objects), "logs": [], **extra})


def get(run: Runner, *args: str) -> dict[str, Any]:
    result = run("kubectl", "get", *args, "-o", "json")
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


@pytest.fixture
def cluster(run: Runner) -> None:
    assert run("k3d", "cluster", "create", "dx").returncode == 0


def test_json_patch_is_applied_guarded_by_test_and_rolls_the_pods(
    run: Runner, fake_env: dict[str, str], cluster: None
) -> None:
    seed(
        fake_env,
        deployment("app:2@sha256:" + "a" * 64),
        pod("web-5d9-aaaaa", "app:2@sha256:" + "a" * 64),
        registry=["app:2"],
    )
    path = "/spec/template/spec/containers/0/image"
    wrong = json.dumps([{"op": "test", "path": path, "value": "other"}, {"op": "replace", "path": path, "value": "x"}])
    refused = run("kubectl", "-n", "app", "patch", "deployment", "web", "--type=json", "-p", wrong)
    assert refused.returncode == 1 and "test failed" in refused.stderr
    good = json.dumps(
        [
            {"op": "test", "path": path, "value": "app:2@sha256:" + "a" * 64},
            {"op": "replace", "path": path, "value": "app:2"},
        ]
    )
    patched = run("kubectl", "-n", "app", "patch", "deployment", "web", "--type=json", "-p", good)
    assert patched.returncode == 0 and patched.stdout == "deployment.apps/web patched\n"
    again = run("kubectl", "-n", "app", "patch", "deployment", "web", "--type=merge", "-p", "{}")
    assert again.stdout == "deployment.apps/web patched (no change)\n"
    assert get(run, "deploy", "web", "-n", "app")["metadata"]["resourceVersion"] == "6"
    (new,) = [p for p in get(run, "pods", "-n", "app")["items"] if p["metadata"]["namespace"] == "app"]
    assert new["metadata"]["name"] != "web-5d9-aaaaa" and new["spec"]["containers"][0]["image"] == "app:2"
    assert new["status"]["containerStatuses"][0]["ready"] is True  # app:2 is in the seed's registry
    strategic = run("kubectl", "-n", "app", "patch", "deployment", "web", "-p", "{}")
    assert strategic.returncode == 2 and "not implemented by the test fake" in strategic.stderr


def test_rollout_restart_sets_restarted_at_and_a_pod_whose_cause_stays_fails_again(
    run: Runner, fake_env: dict[str, str], cluster: None
) -> None:
    seed(fake_env, deployment(), pod("web-5d9-aaaaa"))
    result = run("kubectl", "-n", "app", "rollout", "restart", "deployment/web")
    assert result.returncode == 0 and result.stdout == "deployment.apps/web restarted\n"
    annotations = get(run, "deploy", "web", "-n", "app")["spec"]["template"]["metadata"]["annotations"]
    assert annotations["kubectl.kubernetes.io/restartedAt"].endswith("Z")
    (new,) = [p for p in get(run, "pods", "-n", "app")["items"] if p["metadata"]["namespace"] == "app"]
    assert new["status"]["containerStatuses"][0]["state"]["waiting"]["reason"] == "ImagePullBackOff"
    missing = run("kubectl", "-n", "app", "rollout", "restart", "deployment/nope")
    assert (
        missing.returncode == 1
        and missing.stderr.strip() == 'Error from server (NotFound): deployments.apps "nope" not found'
    )


def test_deleting_a_seeded_pod_lets_its_controller_make_another(
    run: Runner, fake_env: dict[str, str], cluster: None
) -> None:
    seed(fake_env, pod("web-5d9-aaaaa", "docker.io/rancher/mirrored-pause:3.6"))  # a system image: in the node
    result = run("kubectl", "-n", "app", "delete", "pod", "web-5d9-aaaaa")
    assert result.returncode == 0 and result.stdout == 'pod "web-5d9-aaaaa" deleted\n'
    (new,) = [p for p in get(run, "pods", "-n", "app")["items"] if p["metadata"]["namespace"] == "app"]
    assert new["metadata"]["name"].startswith("web-5d9-") and new["status"]["phase"] == "Running"


def test_replace_checks_the_resource_version(run: Runner, fake_env: dict[str, str], cluster: None) -> None:
    config = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "s", "namespace": "app", "resourceVersion": "9"},
        "data": {"a": "1"},
    }
    seed(fake_env, config)
    stale = dict(config, metadata={**config["metadata"], "resourceVersion": "8"}, data={"a": "2"})
    conflict = run("kubectl", "replace", "-f", "-", stdin=json.dumps(stale))
    assert conflict.returncode == 1 and 'Operation cannot be fulfilled on configmaps "s"' in conflict.stderr
    fresh = dict(config, data={"a": "2"})
    done = run("kubectl", "replace", "-f", "-", stdin=json.dumps(fresh))
    assert done.returncode == 0 and done.stdout == "configmap/s replaced\n"
    assert get(run, "cm", "s", "-n", "app")["data"] == {"a": "2"}


def test_replace_force_of_a_job_refuses_the_old_selector(run: Runner, fake_env: dict[str, str], cluster: None) -> None:
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "j", "namespace": "app", "uid": "old"},
        "spec": {
            "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "old"}},
            "template": {
                "metadata": {"labels": {"controller-uid": "old"}},
                "spec": {"containers": [{"name": "c", "image": "x"}]},
            },
        },
    }
    seed(fake_env, job)
    refused = run("kubectl", "-n", "app", "replace", "--force", "-f", "-", stdin=json.dumps(job))
    assert refused.returncode == 1
    assert refused.stdout == 'job.batch "j" deleted\n'
    assert refused.stderr.startswith('The Job "j" is invalid: spec.selector: Invalid value: ')


def test_replace_raw_finalize_lets_a_terminating_namespace_go(
    run: Runner, fake_env: dict[str, str], cluster: None
) -> None:
    namespace = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "stuck", "deletionTimestamp": "2026-01-01T00:00:00Z"},
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Terminating"},
    }
    seed(fake_env, namespace)
    body = dict(namespace, spec={"finalizers": []})
    result = run("kubectl", "replace", "--raw", "/api/v1/namespaces/stuck/finalize", "-f", "-", stdin=json.dumps(body))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["spec"] == {"finalizers": []}
    names = [n["metadata"]["name"] for n in get(run, "namespaces")["items"]]
    assert "stuck" not in names
    both = run("kubectl", "replace", "--raw", "/x", "-o", "json", "-f", "-", stdin="{}")
    assert both.returncode == 1 and both.stderr.strip() == "error: --raw and --output are mutually exclusive"


def test_replace_force_of_a_bare_pod_makes_it_again_failing_as_before(
    run: Runner, fake_env: dict[str, str], cluster: None
) -> None:
    bare = pod("tool")
    del bare["metadata"]["ownerReferences"]
    seed(fake_env, bare)
    sent = {k: v for k, v in bare.items() if k != "status"}
    result = run("kubectl", "-n", "app", "replace", "--force", "-f", "-", stdin=json.dumps(sent))
    assert result.returncode == 0, result.stderr
    (new,) = [p for p in get(run, "pods", "-n", "app")["items"] if p["metadata"]["namespace"] == "app"]
    assert new["metadata"]["name"] == "tool" and new["metadata"]["uid"] != "u-tool"
    assert result.stdout == 'pod "tool" deleted\npod/tool replaced\n'
    assert new["status"]["containerStatuses"][0]["state"]["waiting"]["reason"] == "ImagePullBackOff"
