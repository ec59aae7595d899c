"""Self-tests for the fake `kubectl apply` and `kubectl rollout status` (kubectl v0.31.6
pkg/cmd/apply/apply.go, pkg/polymorphichelpers/rollout_status.go; kustomize api/resid/gvk.go)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from tests.fakes_selftest.conftest import Runner

NAMESPACE = '{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "infra"}}'
OPAQUE_OBJECT = (
    '{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "infra"},'
    ' "stringData": {"password": "pw"}}'
)
STS = """\
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  replicas: 1
  serviceName: db
  updateStrategy: {type: RollingUpdate}
  selector: {matchLabels: {app: db}}
  template: {metadata: {labels: {app: db}}, spec: {containers: [{name: db, image: postgres:16.6-bookworm}]}}
"""


def test_apply_stdin_prints_created_unchanged_configured(run: Runner) -> None:
    assert run("k3d", "cluster", "create", "ap").returncode == 0
    missing = run("kubectl", "apply", "-f", "-", stdin=OPAQUE_OBJECT)
    assert missing.returncode == 1
    assert missing.stderr.strip() == (
        'Error from server (NotFound): error when creating "STDIN": namespaces "infra" not found'
    )
    first = run("kubectl", "apply", "-f", "-", stdin=NAMESPACE + "\n---\n" + OPAQUE_OBJECT)
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == ["namespace/infra created", "secret/s created"]
    again = run("kubectl", "apply", "-f", "-", stdin=OPAQUE_OBJECT)
    assert again.stdout.strip() == "secret/s unchanged"
    changed = run("kubectl", "apply", "-f", "-", stdin=OPAQUE_OBJECT.replace('"pw"', '"other"'))
    assert changed.stdout.strip() == "secret/s configured"
    shown = json.loads(run("kubectl", "get", "secret", "s", "-n", "infra", "-o", "json").stdout)
    assert "stringData" not in shown and base64.b64decode(shown["data"]["password"]) == b"other"
    gone = run("kubectl", "get", "secret", "nope", "-n", "infra", "--ignore-not-found", "-o", "json")
    assert gone.returncode == 0 and gone.stdout == ""


def test_apply_k_and_rollout_status(run: Runner, tmp_path: Path) -> None:
    assert run("k3d", "cluster", "create", "ro").returncode == 0
    directory = tmp_path / "k"
    directory.mkdir()
    none = run("kubectl", "apply", "-k", str(directory))
    assert none.returncode == 1 and "unable to find one of 'kustomization.yaml'" in none.stderr
    (directory / "sts.yaml").write_text(STS)
    (directory / "ns.yaml").write_text(NAMESPACE)
    (directory / "kustomization.yaml").write_text("namespace: infra\nresources: [sts.yaml, ns.yaml]\n")
    applied = run("kubectl", "apply", "-k", str(directory))
    assert applied.returncode == 0, applied.stderr
    # kustomize's legacy order puts the Namespace first, whatever the resources list says
    assert applied.stdout.splitlines() == ["namespace/infra created", "statefulset.apps/db created"]
    assert run("kubectl", "apply").stderr.strip() == "error: must specify one of -f and -k"
    status = run("kubectl", "rollout", "status", "statefulset/db", "-n", "infra", "--timeout=10s")
    assert status.returncode == 0, status.stderr
    assert status.stdout == "partitioned roll out complete: 1 new pods have been updated...\n"
    stuck = run(
        "kubectl",
        "rollout",
        "status",
        "statefulset/db",
        "-n",
        "infra",
        extra={"KENV_FAKE_FAIL": "kubectl:rollout-status"},
    )
    assert stuck.returncode == 1
    assert stuck.stdout == "Waiting for 1 pods to be ready...\n"
    assert stuck.stderr == "error: timed out waiting for the condition\n"
    unknown = run("kubectl", "rollout", "status", "statefulset/nope", "-n", "infra")
    assert unknown.returncode == 1
    assert unknown.stderr.strip() == 'Error from server (NotFound): statefulsets.apps "nope" not found'
