"""Self-tests for what the fake kubectl does with Argo CD's objects: the install refused by a
client-side apply (annotation size) and taken by a server-side one, custom kinds refused before
their CRDs, the token controller filling a service-account-token Secret, Secrets patched with
stringData, deployments' rollout status, and deletes of applied objects (see tests/fakes/README.md)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from tests.fakes_selftest.conftest import Runner

INSTALL = Path(__file__).resolve().parents[2] / "src" / "kenv" / "platform" / "argocd" / "install.yaml"
NAMESPACE = '{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "argocd"}}'
APPLICATION = (
    '{"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "metadata": {"name": "pg", "namespace": "argocd"},'
    ' "spec": {"project": "default"}}'
)
ACCOUNT = """\
apiVersion: v1
kind: ServiceAccount
metadata: {name: bot, namespace: kube-system}
---
apiVersion: v1
kind: Secret
type: kubernetes.io/service-account-token
metadata:
  name: bot-token
  namespace: kube-system
  annotations: {kubernetes.io/service-account.name: bot}
"""


@pytest.fixture
def cluster(run: Runner) -> Runner:
    assert run("k3d", "cluster", "create", "argo").returncode == 0
    assert run("kubectl", "apply", "-f", "-", stdin=NAMESPACE).returncode == 0
    return run


def test_client_side_apply_of_the_install_is_refused_server_side_is_taken(cluster: Runner) -> None:
    refused = cluster("kubectl", "apply", "-n", "argocd", "-f", str(INSTALL))
    assert refused.returncode == 1
    assert (
        'The CustomResourceDefinition "applicationsets.argoproj.io" is invalid: metadata.annotations: Too long: '
        "may not be more than 262144 bytes" in refused.stderr
    )
    flag = cluster("kubectl", "apply", "--force-conflicts", "-n", "argocd", "-f", str(INSTALL))
    assert flag.returncode == 1 and "--force-conflicts only works with --server-side" in flag.stderr
    taken = cluster("kubectl", "apply", "--server-side", "--force-conflicts", "-n", "argocd", "-f", str(INSTALL))
    assert taken.returncode == 0, taken.stderr
    lines = taken.stdout.splitlines()
    assert len(lines) == 59 and all(line.endswith(" serverside-applied") for line in lines)
    assert "customresourcedefinition.apiextensions.k8s.io/applicationsets.argoproj.io serverside-applied" in lines
    # the server's first start: an initial password, its hash in argocd-secret
    initial = json.loads(
        cluster("kubectl", "get", "secret", "argocd-initial-admin-secret", "-n", "argocd", "-o", "json").stdout
    )
    assert len(base64.b64decode(initial["data"]["password"])) == 16
    secret = json.loads(cluster("kubectl", "get", "secret", "argocd-secret", "-n", "argocd", "-o", "json").stdout)
    assert base64.b64decode(secret["data"]["admin.password"]).startswith(b"$2a$10$")
    status = cluster("kubectl", "rollout", "status", "deployment/argocd-server", "-n", "argocd", "--timeout=30s")
    assert status.returncode == 0 and status.stdout.strip() == 'deployment "argocd-server" successfully rolled out'
    deployment = json.loads(
        cluster("kubectl", "get", "deployment", "argocd-server", "-n", "argocd", "-o", "json").stdout
    )
    assert deployment["status"]["availableReplicas"] == 1


def test_custom_kinds_need_their_crd(cluster: Runner) -> None:
    early = cluster("kubectl", "apply", "-f", "-", stdin=APPLICATION)
    assert early.returncode == 1
    assert early.stderr.strip() == (
        'error: resource mapping not found for name: "pg" namespace: "argocd" from "STDIN": no matches for kind '
        '"Application" in version "argoproj.io/v1alpha1"\nensure CRDs are installed first'
    )
    assert cluster("kubectl", "apply", "--server-side", "-n", "argocd", "-f", str(INSTALL)).returncode == 0
    later = cluster("kubectl", "apply", "-f", "-", stdin=APPLICATION)
    assert later.returncode == 0 and later.stdout.strip() == "application.argoproj.io/pg created"


def test_token_controller_fills_the_secret_and_delete_of_the_account_takes_it(cluster: Runner) -> None:
    made = cluster("kubectl", "apply", "-f", "-", stdin=ACCOUNT)
    assert made.stdout.splitlines() == ["serviceaccount/bot created", "secret/bot-token created"]
    secret = json.loads(cluster("kubectl", "get", "secret", "bot-token", "-n", "kube-system", "-o", "json").stdout)
    assert base64.b64decode(secret["data"]["token"]).startswith(b"eyJ")
    assert b"BEGIN CERTIFICATE" in base64.b64decode(secret["data"]["ca.crt"])
    assert base64.b64decode(secret["data"]["namespace"]) == b"kube-system"
    gone = cluster("kubectl", "delete", "serviceaccount", "bot", "-n", "kube-system")
    assert gone.returncode == 0 and gone.stdout.strip() == 'serviceaccount "bot" deleted'
    after = cluster("kubectl", "get", "secret", "bot-token", "-n", "kube-system", "--ignore-not-found", "-o", "json")
    assert after.stdout == ""
    missing = cluster("kubectl", "delete", "clusterrole", "nope")
    assert missing.returncode == 1
    assert (
        missing.stderr.strip()
        == 'Error from server (NotFound): clusterroles.rbac.authorization.k8s.io "nope" not found'
    )
    quiet = cluster("kubectl", "delete", "secret", "nope", "-n", "argocd", "--ignore-not-found")
    assert quiet.returncode == 0 and quiet.stdout == ""


def test_a_secret_patched_with_string_data_keeps_data_only(cluster: Runner) -> None:
    assert cluster("kubectl", "apply", "--server-side", "-n", "argocd", "-f", str(INSTALL)).returncode == 0
    patch = '{"stringData": {"admin.password": "$2b$10$abc", "admin.passwordMtime": "2026-01-01T00:00:00Z"}}'
    done = cluster("kubectl", "patch", "secret", "argocd-secret", "-n", "argocd", "--type", "merge", "-p", patch)
    assert done.returncode == 0 and done.stdout.strip() == "secret/argocd-secret patched"
    again = cluster("kubectl", "patch", "secret", "argocd-secret", "-n", "argocd", "--type", "merge", "-p", patch)
    assert again.stdout.strip() == "secret/argocd-secret patched (no change)"
    secret = json.loads(cluster("kubectl", "get", "secret", "argocd-secret", "-n", "argocd", "-o", "json").stdout)
    assert "stringData" not in secret
    assert base64.b64decode(secret["data"]["admin.password"]) == b"$2b$10$abc"
    # a new server-side apply of the install leaves the patched data alone (the manifest has none)
    assert cluster("kubectl", "apply", "--server-side", "-n", "argocd", "-f", str(INSTALL)).returncode == 0
    secret = json.loads(cluster("kubectl", "get", "secret", "argocd-secret", "-n", "argocd", "-o", "json").stdout)
    assert base64.b64decode(secret["data"]["admin.password"]) == b"$2b$10$abc"
