"""bootstrap's postgres step on the provider fakes: kenv makes the Secret, commits the manifests to
the GitOps repository and creates the Argo CD Application; the fake's application controller
syncs that Application from the repository (as Argo CD's would), and the step waits for the
StatefulSet's rollout."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.lifecycle_support import needs_docker
from tests.e2e.test_bootstrap import Platform, helper_image

__all__ = ["helper_image"]  # the module-scoped fixture, shared

COMPONENTS = "network,haproxy,devops,storage,argocd,gitops,postgres"


@pytest.fixture
def platform(isolated: Path, tmp_path: Path) -> Iterator[Platform]:
    """A configured GitOps remote: a local bare repository the fake controller reads by file://."""
    world = Platform(isolated, tmp_path)
    world.with_gitops_remote()
    yield world
    world.cleanup()


def devops_objects(platform: Platform, kind: str) -> list[dict]:
    state = json.loads((platform.state / "state.json").read_text())
    found = []
    for cluster in state["clusters"].values():
        if cluster.get("name") == "devops":
            found += [o for o in cluster.get("applied") or [] if o.get("kind") == kind]
    return found


@needs_docker
def test_bootstrap_with_postgres_completes_through_the_argocd_application(
    platform: Platform, helper_image: str
) -> None:
    result = platform.run("bootstrap", "--only", COMPONENTS, "--timeout", "60s", "-o", "json", timeout=300)
    assert result.returncode == 0, result.stderr
    steps = {s["name"]: s for s in json.loads(result.stdout)["steps"]}
    assert steps["postgres"]["result"] == "done", steps["postgres"]
    assert "Argo CD Application postgres" in steps["postgres"]["detail"]

    # The Secret is kenv's (never in the repository); the StatefulSet came from the repository.
    secrets = [s for s in devops_objects(platform, "Secret") if s["metadata"].get("namespace") == "infra"]
    assert secrets, "kenv made no Secret for PostgreSQL"
    statefulsets = [s for s in devops_objects(platform, "StatefulSet") if s["metadata"].get("namespace") == "infra"]
    assert [s["metadata"]["name"] for s in statefulsets] == ["postgres"]
    assert statefulsets[0]["status"]["readyReplicas"] == 1
    [app] = [a for a in devops_objects(platform, "Application") if a["metadata"]["name"] == "postgres"]
    assert app["status"]["sync"]["status"] == "Synced" and app["status"]["health"]["status"] == "Healthy"
    remote = Path(platform.env["KENV_GITOPS_URL"].removeprefix("file://"))
    head = subprocess.run(
        ["git", "--git-dir", str(remote), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert app["status"]["sync"]["revision"] == head
    tree = subprocess.run(
        ["git", "--git-dir", str(remote), "ls-tree", "-r", "--name-only", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "postgres/statefulset.yaml" in tree or "postgres/kustomization.yaml" in tree, tree
    assert "password" not in tree.lower()

    again = json.loads(platform.ok("bootstrap", "--only", COMPONENTS, "-o", "json"))
    assert {s["result"] for s in again["steps"]} == {"skipped"}

    # An Application whose path is not in the repository: the controller says why, applies nothing.
    kubeconfig = platform.ok("kubeconfig", "devops").strip()
    broken = {
        **app,
        "metadata": {"name": "nosuch", "namespace": "argocd"},
        "spec": {**app["spec"], "source": {**app["spec"]["source"], "path": "nosuch"}},
    }
    broken.pop("status")
    broken.pop("lastApplied", None)
    kubectl = ["kubectl", "--kubeconfig", kubeconfig]
    subprocess.run([*kubectl, "apply", "-f", "-"], input=json.dumps(broken), env=platform.env, text=True, check=True)
    shown = subprocess.run(
        [*kubectl, "get", "application", "nosuch", "-n", "argocd", "-o", "json"],
        env=platform.env,
        capture_output=True,
        text=True,
        check=True,
    )
    status = json.loads(shown.stdout)["status"]
    assert status["sync"]["status"] == "OutOfSync" and status["health"]["status"] == "Missing"
    assert status["conditions"][0]["type"] == "ComparisonError" and "nosuch" in status["conditions"][0]["message"]
