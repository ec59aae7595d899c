"""Self-tests for the fake kubectl's ConfigMaps: `get configmaps -A -o json` prints kubectl's List
(kubectl get/get.go prints several objects as `{"apiVersion": "v1", "kind": "List", "items",
"metadata": {"resourceVersion": ""}}`), `kube-root-ca.crt` in every namespace, and the
local-path provisioner's config with its embedded helper pod as each distribution ships it
(k3s manifests/local-storage.yaml, kind pkg/build/nodeimage/const_storage.go)."""

from __future__ import annotations

import json

import yaml
from tests.fakes_selftest.conftest import Runner


def configmaps(run: Runner, *args: str) -> dict[str, object]:
    result = run("kubectl", "get", "configmaps", *args, "-o", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_k3d_configmaps_across_namespaces_in_the_list_format(run: Runner) -> None:
    assert run("k3d", "cluster", "create", "cm").returncode == 0
    listed = configmaps(run, "-A")
    assert listed["apiVersion"] == "v1" and listed["kind"] == "List"
    assert listed["metadata"] == {"resourceVersion": ""}
    items = listed["items"]
    names = {(i["metadata"]["namespace"], i["metadata"]["name"]) for i in items}  # type: ignore[union-attr]
    for namespace in ("default", "kube-system", "kube-public", "kube-node-lease"):
        assert (namespace, "kube-root-ca.crt") in names
    (config,) = [i for i in items if i["metadata"]["name"] == "local-path-config"]  # type: ignore[union-attr,index]
    assert config["kind"] == "ConfigMap" and config["metadata"]["namespace"] == "kube-system"
    helper = yaml.safe_load(config["data"]["helperPod.yaml"])
    # k3s stages its manifests with the registry template already replaced.
    assert helper["spec"]["containers"][0]["image"] == "rancher/mirrored-library-busybox:1.36.1"
    assert "%{" not in config["data"]["helperPod.yaml"]

    # Without -A: the kubeconfig's namespace only (default).
    only_default = configmaps(run)
    assert [i["metadata"]["name"] for i in only_default["items"]] == ["kube-root-ca.crt"]  # type: ignore[union-attr,index]
    table = run("kubectl", "get", "cm", "-n", "kube-system")
    assert table.returncode == 0, table.stderr
    assert table.stdout.split()[:3] == ["NAME", "DATA", "AGE"]
    assert "local-path-config" in table.stdout


def test_kind_ships_its_helper_in_local_path_storage(run: Runner) -> None:
    assert run("kind", "create", "cluster", "--name", "cm").returncode == 0
    items = configmaps(run, "-A")["items"]
    (config,) = [i for i in items if i["metadata"]["name"] == "local-path-config"]  # type: ignore[union-attr,index]
    assert config["metadata"]["namespace"] == "local-path-storage"
    helper = yaml.safe_load(config["data"]["helperPod.yaml"])
    assert helper["spec"]["containers"][0]["image"] == "docker.io/kindest/local-path-helper:v20241212-8ac705d0"
