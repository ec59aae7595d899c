"""`kenv images discover` as users run it: a subprocess, files, stdin, bad input, exit codes."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

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


FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "images"
FAKE_BIN = Path(__file__).resolve().parent.parent / "fakes" / "bin"


def _with_fake_helm() -> dict[str, str]:
    return {"PATH": os.pathsep.join([str(FAKE_BIN), str(Path(sys.executable).parent), os.environ["PATH"]])}


def test_helm_chart_with_values_and_why() -> None:
    chart = str(FIXTURES / "charts" / "webapp")
    result = run_kenv(
        "images", "discover", "--helm", chart, "--set", "image.tag=3.0.0", "-o", "json", env=_with_fake_helm()
    )
    assert result.returncode == 0, result.stderr
    refs = [i["ref"] for i in json.loads(result.stdout)["images"]]
    assert refs == [
        "quay.io/prometheus/statsd-exporter:v0.28.0",
        "registry.example.com/team/webapp-migrate:3.0.0",
        "registry.example.com/team/webapp:3.0.0",
        "registry.example.com/team/widget-runner:1.0.0",
        "registry.example.com/team/webapp-backup:2.4.1",  # probable: Chart.yaml's helm.sh/images
    ]
    why = run_kenv("images", "discover", "--helm", chart, "--why", "quay.io/prometheus/statsd-exporter:v0.28.0",
                   "-o", "json", env=_with_fake_helm())  # fmt: skip
    assert why.returncode == 0, why.stderr
    rendered, declared = json.loads(why.stdout)["images"][0]["sources"]
    assert rendered["file"] == f"{chart}: webapp/templates/deployment.yaml"
    assert rendered["path"] == "spec.template.spec.containers[1].image"
    assert (declared["file"], declared["kind"]) == (f"{chart}: Chart.yaml", "Chart")


def test_helm_failure_is_one_line_exit_1(tmp_path: Path) -> None:
    result = run_kenv("images", "discover", "--helm", "bitnami/postgresql", env=_with_fake_helm())
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "repo bitnami not found" in lines[0], result.stderr
    missing = run_kenv("images", "discover", "--helm", str(tmp_path / "nochart"))
    assert missing.returncode == 2
    assert "no such chart directory or archive" in missing.stderr
    no_helm = run_kenv("images", "discover", "--helm", str(FIXTURES / "charts" / "webapp"), env={"PATH": str(tmp_path)})
    assert no_helm.returncode == 1
    assert no_helm.stderr.startswith("kenv: error: helm is not installed"), no_helm.stderr


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_pgo_kustomize_component_names_real_images() -> None:
    """PGO's manager.yaml names placeholders only; the images-by-tag component makes them real."""
    crunchy = "registry.developers.crunchydata.com/crunchydata"
    result = run_kenv("images", "discover", "--kustomize", str(FIXTURES / "pgo" / "default"), "-o", "json")
    assert result.returncode == 0, result.stderr
    assert {i["ref"]: i["tier"] for i in json.loads(result.stdout)["images"]} == {
        f"{crunchy}/postgres-operator:ubi9-6.0.1-0": "definite",
        f"{crunchy}/crunchy-postgres:ubi9-16.13-2610": "probable",
        f"{crunchy}/crunchy-postgres:ubi9-17.9-2610": "probable",
        f"{crunchy}/crunchy-pgbackrest:ubi9-2.58.0-2610": "probable",
        f"{crunchy}/crunchy-pgbouncer:ubi9-1.25-2610": "probable",
    }


def test_huge_file_and_symlink_loop_warn_and_finish(tmp_path: Path) -> None:
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "loop").symlink_to(tmp_path / "deploy")
    with (tmp_path / "deploy" / "dump.yaml").open("wb") as handle:
        handle.truncate(500 * 1024 * 1024)
    (tmp_path / "deploy" / "app.yaml").write_text("kind: Pod\nspec: {containers: [{image: 'a/app:1'}]}\n")
    result = run_kenv("images", "discover", str(tmp_path / "deploy"), "-o", "json", timeout=20)
    assert result.returncode == 0, result.stderr
    assert [i["ref"] for i in json.loads(result.stdout)["images"]] == ["docker.io/a/app:1"]
    assert result.stderr == f"kenv: warning: {tmp_path / 'deploy' / 'dump.yaml'}: 500 MB, larger than 50 MB; skipped\n"
