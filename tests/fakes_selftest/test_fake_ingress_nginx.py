"""Self-tests for what the fake kubectl does with ingress-nginx's manifest (kubernetes/ingress-nginx
controller-v1.12.8 deploy/static/provider/baremetal/deploy.yaml): the apply's lines for every
kind, the kube-webhook-certgen Jobs' effects and their TTL, the Deployment's conditions, and the
rollout status texts (kubectl pkg/polymorphichelpers/rollout_status.go)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from tests.fakes_selftest.conftest import Runner

# the manifest kenv ships, upstream's verbatim
MANIFEST = (Path(__file__).resolve().parents[2] / "src/kenv/manifests/ingress/ingress-nginx.yaml").read_text()
DEPLOYMENT = "ingress-nginx-controller"


def test_the_manifest_applies_and_the_certgen_jobs_leave_their_secret_and_ca(run: Runner) -> None:
    assert run("kind", "create", "cluster", "--name", "in").returncode == 0
    applied = run("kubectl", "apply", "-f", "-", stdin=MANIFEST)
    assert applied.returncode == 0, applied.stderr
    lines = applied.stdout.splitlines()
    assert lines[0] == "namespace/ingress-nginx created"
    assert "service/ingress-nginx-controller created" in lines
    assert "deployment.apps/ingress-nginx-controller created" in lines
    assert "job.batch/ingress-nginx-admission-create created" in lines
    assert "ingressclass.networking.k8s.io/nginx created" in lines
    assert lines[-1] == "validatingwebhookconfiguration.admissionregistration.k8s.io/ingress-nginx-admission created"

    jobs = json.loads(run("kubectl", "get", "jobs", "-n", "ingress-nginx", "-o", "json").stdout)
    assert jobs["items"] == []  # ttlSecondsAfterFinished: 0, deleted as they completed
    secret = json.loads(
        run("kubectl", "get", "secret", "ingress-nginx-admission", "-n", "ingress-nginx", "-o", "json").stdout
    )
    assert set(secret["data"]) == {"ca", "cert", "key"}
    webhook = json.loads(
        run("kubectl", "get", "validatingwebhookconfiguration", "ingress-nginx-admission", "-o", "json").stdout
    )
    assert "namespace" not in webhook["metadata"]  # cluster-scoped
    assert [h["clientConfig"]["caBundle"] for h in webhook["webhooks"]] == [secret["data"]["ca"]]
    assert base64.b64decode(secret["data"]["ca"]).startswith(b"-----BEGIN CERTIFICATE-----")

    deployment = json.loads(
        run("kubectl", "get", "deployment", DEPLOYMENT, "-n", "ingress-nginx", "-o", "json").stdout
    )
    conditions = {c["type"]: c for c in deployment["status"]["conditions"]}
    assert conditions["Available"]["reason"] == "MinimumReplicasAvailable"
    assert conditions["Progressing"]["message"].startswith('ReplicaSet "ingress-nginx-controller-')
    assert deployment["status"]["availableReplicas"] == 1 and conditions["Available"]["status"] == "True"

    # A second apply of the same text runs the (deleted) Jobs again; everything else is unchanged.
    again = run("kubectl", "apply", "-f", "-", stdin=MANIFEST).stdout.splitlines()
    assert "job.batch/ingress-nginx-admission-patch created" in again
    assert "deployment.apps/ingress-nginx-controller unchanged" in again


def test_a_patch_job_without_its_webhook_configuration_stays_active(run: Runner) -> None:
    assert run("kind", "create", "cluster", "--name", "in").returncode == 0
    without = "---\n".join(d for d in MANIFEST.split("---\n") if "kind: ValidatingWebhookConfiguration" not in d)
    assert run("kubectl", "apply", "-f", "-", stdin=without).returncode == 0
    jobs = json.loads(run("kubectl", "get", "jobs", "-n", "ingress-nginx", "-o", "json").stdout)["items"]
    assert [(j["metadata"]["name"], j["status"]["active"]) for j in jobs] == [("ingress-nginx-admission-patch", 1)]


def test_rollout_status_of_the_controller(run: Runner) -> None:
    assert run("kind", "create", "cluster", "--name", "in").returncode == 0
    argv = ("kubectl", "rollout", "status", f"deployment/{DEPLOYMENT}", "-n", "ingress-nginx", "--timeout=5s")
    missing = run(*argv)
    assert missing.returncode == 1
    assert missing.stderr.strip() == (
        'Error from server (NotFound): deployments.apps "ingress-nginx-controller" not found'
    )
    assert run("kubectl", "apply", "-f", "-", stdin=MANIFEST).returncode == 0
    done = run(*argv)
    assert (done.returncode, done.stdout) == (0, 'deployment "ingress-nginx-controller" successfully rolled out\n')
    stuck = run(*argv, extra={"KENV_FAKE_FAIL": "kubectl:rollout-status"})
    assert stuck.returncode == 1
    assert stuck.stdout.strip().splitlines()[-1] == (
        'Waiting for deployment "ingress-nginx-controller" rollout to finish: 0 of 1 updated replicas are available...'
    )
    assert stuck.stderr.strip() == "error: timed out waiting for the condition"
