"""`kenv images discover` as users run it: a subprocess, files, stdin, bad input, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import run_kenv

HELPER_CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: local-path-config
  namespace: kube-system
data:
  helperPod.yaml: |-
    apiVersion: v1
    kind: Pod
    metadata:
      name: helper-pod
    spec:
      containers:
      - name: helper-pod
        image: "%{SYSTEM_DEFAULT_REGISTRY}%rancher/mirrored-library-busybox:1.36.1"
"""


def test_discover_json_from_a_directory(tmp_path: Path) -> None:
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "storage.yaml").write_text(HELPER_CONFIGMAP)
    (tmp_path / "deploy" / "db.yml").write_text(
        "kind: StatefulSet\nmetadata: {name: postgresql, namespace: paas}\n"
        "spec: {template: {spec: {containers: [{name: pg, image: 'postgres:16-alpine'}]}}}\n"
    )
    result = run_kenv("images", "discover", str(tmp_path / "deploy"), "-o", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [i["ref"] for i in data["images"]] == [
        "docker.io/library/postgres:16-alpine",
        "docker.io/rancher/mirrored-library-busybox:1.36.1",
    ]
    busybox = data["images"][1]
    assert busybox["familiar"] == "rancher/mirrored-library-busybox:1.36.1"
    assert busybox["tier"] == "definite"
    assert busybox["sources"] == [
        {
            "file": str(tmp_path / "deploy" / "storage.yaml"),
            "document": 1,
            "kind": "ConfigMap",
            "namespace": "kube-system",
            "name": "local-path-config",
            "path": "data.helperPod.yaml>spec.containers[0].image",
            "as_written": "%{SYSTEM_DEFAULT_REGISTRY}%rancher/mirrored-library-busybox:1.36.1",
        }
    ]


def test_discover_stdin_why() -> None:
    result = run_kenv(
        "images", "discover", "-", "--why", "rancher/mirrored-library-busybox:1.36.1", input_text=HELPER_CONFIGMAP
    )
    assert result.returncode == 0, result.stderr
    assert "local-path-config" in result.stdout
    assert "helperPod.yaml" in result.stdout


def test_bad_documents_warn_and_the_rest_is_read(tmp_path: Path) -> None:
    (tmp_path / "mixed.yaml").write_text("image: a/one:1\n---\nimage: [broken\n---\nimage: a/three:3\n")
    (tmp_path / "blob.yaml").write_bytes(b"\x00\x01\x02image")
    result = run_kenv("images", "discover", str(tmp_path), "-o", "json")
    assert result.returncode == 0, result.stderr
    assert [i["ref"] for i in json.loads(result.stdout)["images"]] == ["docker.io/a/one:1", "docker.io/a/three:3"]
    warnings = result.stderr.strip().splitlines()
    assert len(warnings) == 2, result.stderr
    assert any("mixed.yaml: document 2: not valid YAML" in w for w in warnings)
    assert any("blob.yaml: a binary file" in w for w in warnings)
    assert all(w.startswith("kenv: warning: ") for w in warnings)


def test_missing_path_is_one_line_exit_2(tmp_path: Path) -> None:
    result = run_kenv("images", "discover", str(tmp_path / "nope.yaml"))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kenv: error: ")
    assert "nope.yaml: no such file or directory" in lines[0]
    assert "Traceback" not in result.stderr


def test_kustomize_without_kubectl_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "kustomization.yaml").write_text("resources: []\n")
    result = run_kenv("images", "discover", "--kustomize", str(tmp_path / "app"), env={"PATH": str(tmp_path)})
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kenv: error: kubectl is not installed"), result.stderr
