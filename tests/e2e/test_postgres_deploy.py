"""`kenv postgres deploy` through the fake k3d, kubectl and a real git: the Secret made once and
kept, the local 0600 copy, nothing secret in the GitOps history or on stdout, readiness, and the
doctor naming why a pod is not ready."""

from __future__ import annotations

import json
import stat
import subprocess
from pathlib import Path

import pytest

from tests.e2e import dev_fleet
from tests.e2e.kubeseed import seed_from_fixture
from tests.e2e.lifecycle_support import Fleet

fleet = dev_fleet.fleet  # the fixture: one k3d environment `dev` on the fakes


def secret_file(fleet: Fleet) -> Path:
    found = list(fleet.home.rglob("secrets/dev/postgres.env"))
    assert len(found) == 1, found
    return found[0]


def password(fleet: Fleet) -> str:
    key, _, value = secret_file(fleet).read_text().strip().partition("=")
    assert key == "POSTGRES_PASSWORD" and len(value) >= 40
    return value


def applied(fleet: Fleet, kind: str) -> list[dict]:
    state = json.loads((fleet.state / "state.json").read_text())
    return [o for cluster in state["clusters"].values() for o in cluster.get("applied") or [] if o["kind"] == kind]


def kubectl_argvs(fleet: Fleet) -> list[str]:
    return [" ".join(map(str, c["argv"])) for c in fleet.calls() if c["tool"] == "kubectl"]


def test_apply_creates_the_secret_once_and_keeps_it(fleet: Fleet) -> None:
    first = fleet.run("postgres", "deploy", "--env", "dev", "--via", "apply")
    assert first.returncode == 0, first.stderr
    secret = password(fleet)
    assert stat.S_IMODE(secret_file(fleet).stat().st_mode) == 0o600
    assert stat.S_IMODE(secret_file(fleet).parent.stat().st_mode) == 0o700
    assert "secret postgres-admin: created" in first.stdout
    assert "ready: partitioned roll out complete: 1 new pods have been updated..." in first.stdout
    assert secret not in first.stdout + first.stderr
    (stored,) = applied(fleet, "Secret")
    assert stored["metadata"]["namespace"] == "infra"
    assert stored["data"]["password"]  # base64 of the local copy, checked below through the second deploy
    (sts,) = applied(fleet, "StatefulSet")
    assert sts["spec"]["template"]["spec"]["containers"][0]["image"] == "postgres:16.6-bookworm"
    # the password was on kubectl's stdin, never on a command line
    assert all(secret not in argv for argv in kubectl_argvs(fleet))

    second = fleet.run("postgres", "deploy", "--env", "dev", "--show-secret")
    assert second.returncode == 0, second.stderr
    assert password(fleet) == secret
    assert "secret postgres-admin: kept" in second.stdout
    assert f"password: {secret}" in second.stdout
    assert "(10 unchanged)" in second.stdout  # the same render applies nothing new


def test_lost_local_copy_is_taken_back_from_the_cluster(fleet: Fleet) -> None:
    fleet.ok("postgres", "deploy", "--env", "dev")
    secret = password(fleet)
    secret_file(fleet).unlink()
    again = fleet.run("postgres", "deploy", "--env", "dev")
    assert again.returncode == 0, again.stderr
    assert "secret postgres-admin: copied" in again.stdout
    assert password(fleet) == secret


def test_diverging_local_copy_is_refused_and_nothing_changes(fleet: Fleet) -> None:
    fleet.ok("postgres", "deploy", "--env", "dev")
    path = secret_file(fleet)
    path.write_text("POSTGRES_PASSWORD=something-else\n")
    before = len(fleet.calls())
    result = fleet.run("postgres", "deploy", "--env", "dev", "--memory", "4Gi")
    assert result.returncode == 1
    assert "differs from Secret infra/postgres-admin" in result.stderr and "Traceback" not in result.stderr
    assert "something-else" not in result.stderr
    assert not any("apply" in " ".join(c["argv"]) for c in fleet.calls()[before:])
    assert path.read_text() == "POSTGRES_PASSWORD=something-else\n"


def test_config_change_is_configured_and_rolls_the_pod(fleet: Fleet) -> None:
    fleet.ok("postgres", "deploy", "--env", "dev")
    (before,) = applied(fleet, "StatefulSet")
    result = fleet.run("postgres", "deploy", "--env", "dev", "--max-connections", "100")
    assert result.returncode == 0, result.stderr
    (after,) = applied(fleet, "StatefulSet")
    annotation = "kenv.io/config-checksum"
    old = before["spec"]["template"]["metadata"]["annotations"][annotation]
    assert after["spec"]["template"]["metadata"]["annotations"][annotation] != old
    assert "configured" in result.stdout and "unchanged" in result.stdout


def test_gitops_commits_the_manifests_without_the_secret(fleet: Fleet) -> None:
    fleet.ok("postgres", "deploy", "--env", "dev", "--via", "apply")  # what Argo CD would do, later
    result = fleet.run("postgres", "deploy", "--env", "dev", "--via", "gitops", "--memory", "4Gi")
    assert result.returncode == 0, result.stderr
    assert "manifests: committed " in result.stdout
    secret = password(fleet)
    repo = next(fleet.home.rglob("gitops/.git")).parent
    history = subprocess.run(["git", "-C", str(repo), "log", "-p", "--all"], capture_output=True, text=True, check=True)
    assert "postgres/statefulset.yaml" in history.stdout and "shared_buffers = 1GB" in history.stdout
    assert secret not in history.stdout
    assert "kind: Secret" not in history.stdout
    files = subprocess.run(["git", "-C", str(repo), "ls-files"], capture_output=True, text=True, check=True)
    assert "postgres/kustomization.yaml" in files.stdout.split()
    again = fleet.run("postgres", "deploy", "--env", "dev", "--via", "gitops", "--memory", "4Gi")
    assert again.returncode == 0, again.stderr
    assert "manifests: unchanged in" in again.stdout
    log = subprocess.run(["git", "-C", str(repo), "log", "--oneline"], capture_output=True, text=True, check=True)
    assert len(log.stdout.splitlines()) == 1


def test_gitops_with_nothing_syncing_says_so(fleet: Fleet) -> None:
    result = fleet.run("postgres", "deploy", "--env", "dev", "--via", "gitops", "--timeout", "1s")
    assert result.returncode == 1
    assert "nothing has synced the GitOps repository" in result.stderr
    assert "Traceback" not in result.stderr


def test_not_ready_names_the_pods_problem_through_the_doctor(fleet: Fleet) -> None:
    """A claim Pending behind the local-path helper's image pull, in namespace paas."""
    seed_from_fixture(fleet.state, "k3d-pvc-pending-helper-image.json")
    result = fleet.run(
        "postgres", "deploy", "--env", "dev", "--namespace", "paas", KENV_FAKE_FAIL="kubectl:rollout-status"
    )
    assert result.returncode == 1, result.stdout + result.stderr
    (line,) = [text for text in result.stderr.splitlines() if text.startswith("kenv: error:")]
    assert "PostgreSQL in paas on dev is not ready within 300s" in line
    assert "[image.registry-unreachable]" in line or "[storage.pvc-pending-provisioner]" in line, line
    assert "Traceback" not in result.stderr


def test_dry_run_plans_and_changes_nothing(fleet: Fleet) -> None:
    result = fleet.run("postgres", "deploy", "--env", "dev", "--dry-run")
    assert result.returncode == 3, result.stderr
    assert "apply -f -" in result.stdout and "apply -k" in result.stdout
    assert not list(fleet.home.rglob("secrets/dev/postgres.env"))
    assert not applied(fleet, "Secret")


def test_gitops_dry_run_plans_the_commit(fleet: Fleet) -> None:
    result = fleet.run("postgres", "deploy", "--env", "dev", "--via", "gitops", "--dry-run")
    assert result.returncode == 3, result.stderr
    assert " init -q -b main " in result.stdout and " commit -q -m 'postgres: PostgreSQL 16 for dev" in result.stdout
    assert not list(fleet.home.rglob("gitops"))


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--memory", "2GB"], "--memory '2GB' is not a size"),
        (["--max-connections", "5"], "--max-connections 5 is out of range"),
        (["--version", "12"], "--version 12 is not supported"),
        (["--namespace", "Infra"], "is not a valid namespace"),
        (["--env", "nope"], "nope"),
        (["--timeout", "soon"], "is not a duration"),
    ],
)
def test_bad_input_exits_2_and_changes_nothing(fleet: Fleet, args: list[str], fragment: str) -> None:
    base = ["postgres", "deploy"] + ([] if "--env" in args else ["--env", "dev"])
    result = fleet.run(*base, *args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert fragment in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not applied(fleet, "Secret")
