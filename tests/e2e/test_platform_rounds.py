"""The regression ritual: a full default `kenv bootstrap` (every component, as `kenv up` runs it)
-> create x3 (k3d, kind, minikube) -> delete -> teardown --all, three rounds in a row on the
provider fakes. Each environment is registered in every platform component on create (ingress and
smoke through HAProxy, routes, a Portainer edge environment and its agent, an Argo CD cluster
Secret, a GitOps directory) and removed from each on delete; teardown leaves nothing kenv made.

The fakes give every component: the fake docker runs a fake Portainer API for the Portainer
container, the fake kubectl's Argo CD controller syncs the postgres Application from the local
bare repository (file://), and ingress-nginx's images are seeded in the kind and minikube nodes."""

from __future__ import annotations

import base64
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kenv.images.components import component_images
from kenv.images.nodes import presence_key
from kenv.platform.argocd import objects as argo
from kenv.platform.portainer.agent import SECRET_NAME as AGENT_SECRET
from kenv.workflows.bootstrap import COMPONENTS, PLATFORM_LABEL
from tests.e2e.haproxy_fleet import move_nodes_to_loopback, stop_haproxy
from tests.e2e.lifecycle_support import Fleet, needs_docker
from tests.e2e.test_bootstrap import Platform, docker_network_exists, helper_image
from tests.e2e.test_ingress_smoke import DefaultBackend
from tests.e2e.test_portainer import endpoints
from tests.fakes.fakeclusters.portainer_server import containers
from tests.netutil import free_port

__all__ = ["helper_image"]  # the module-scoped fixture, shared

ENVIRONMENTS = (("dev", "k3d"), ("qa", "kind"), ("perf", "minikube"))


@pytest.fixture
def platform(isolated: Path, tmp_path: Path) -> Iterator[Platform]:
    """A configured GitOps remote (a local bare repository: nothing to serve to the fake cluster)."""
    world = Platform(isolated, tmp_path)
    world.with_gitops_remote()
    # The ingress every route leads to: a loopback server on the environments' NodePort, with the
    # fake nodes' address on loopback, so the smoke check through HAProxy reaches it for real.
    node_port = free_port(30000)
    ingress = DefaultBackend(node_port)
    world.env["KENV_NODE_PORT"] = str(node_port)
    world.env["KENV_FAKE_NODE_ADDRESS"] = "127.0.0.1"
    # ingress-nginx's images (by digest, not pullable here) already in the kind and minikube nodes
    world.env["KENV_FAKE_NODE_IMAGES"] = ",".join(
        presence_key(ref) for ref in component_images("ingress", "kind", None)
    )
    world.ingress = ingress  # type: ignore[attr-defined]
    try:
        yield world
    finally:
        ingress.close()
        world.cleanup()


def repository_paths(platform: Platform) -> list[str]:
    bare = platform.remote
    assert bare is not None
    out = subprocess.run(
        ["git", "--git-dir", str(bare), "ls-tree", "-r", "--name-only", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return out.split()


def create_minikube_on_loopback(platform: Platform, name: str) -> subprocess.CompletedProcess[str]:
    """minikube reports its node's address itself (not through `docker inspect`, where
    KENV_FAKE_NODE_ADDRESS applies) and kenv checks it is inside the environment's subnet, so the
    fake node is moved to loopback between two runs of one create: the first stops at the routes
    (HAProxy down fails its step, after the ingress step), the second resumes."""
    stop_haproxy(platform.home)
    first = platform.run("create", name, "--provider", "minikube", "--keep-on-failure")
    assert first.returncode == 1 and "haproxy is part of the platform but is not running" in first.stderr, first.stderr
    move_nodes_to_loopback(platform.state, name)
    platform.ok("bootstrap", "--only", "haproxy")
    return platform.run("create", name, "-o", "json")


def haproxy_config(platform: Platform) -> str:
    return (platform.home / "data" / "haproxy" / "haproxy.cfg").read_text()


def cluster_objects(platform: Platform, cluster: str, kind: str) -> list[dict[str, Any]]:
    """Objects of `kind` the fake cluster named `cluster` holds."""
    state = json.loads((platform.state / "state.json").read_text())
    return [
        o
        for c in state["clusters"].values()
        if c["name"] == cluster
        for o in c.get("applied") or []
        if o["kind"] == kind
    ]


def argocd_clusters(platform: Platform) -> list[str]:
    """Environments Argo CD in devops knows: its cluster Secrets, by their environment label."""
    return sorted(
        s["metadata"]["labels"][argo.ENV_LABEL]
        for s in cluster_objects(platform, "devops", "Secret")
        if (s["metadata"].get("labels") or {}).get(argo.SECRET_TYPE_LABEL) == "cluster"
    )


def labelled(platform: Platform, kind: str) -> list[str]:
    """The host engine's networks or volumes carrying this test's platform label."""
    out = subprocess.run(
        ["docker", kind, "ls", "-q", "--filter", f"label={PLATFORM_LABEL}={platform.network}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return out.split()


def check_registered(platform: Platform, names: list[str]) -> None:
    """Each environment in every component: Portainer, its agent's key, Argo CD, GitOps, HAProxy."""
    registered = {e["Name"]: e for e in endpoints(platform)}
    assert sorted(registered) == sorted(names), registered
    for name in names:
        assert registered[name]["Type"] == 4  # an edge agent environment
        (key,) = [s for s in cluster_objects(platform, name, "Secret") if s["metadata"]["name"] == AGENT_SECRET]
        assert base64.b64decode(key["data"]["edge.key"]).decode() == registered[name]["EdgeKey"]
    assert argocd_clusters(platform) == sorted(names)
    directories = {"/".join(p.split("/")[:2]) for p in repository_paths(platform)}
    assert {f"environments/{name}" for name in names} <= directories, directories
    config = haproxy_config(platform)
    assert all(f".{name}.localtest.me" in config for name in names), config


@pytest.mark.slow
@needs_docker
def test_three_rounds_of_bootstrap_create_delete_teardown(platform: Platform, helper_image: str) -> None:
    for round_number in range(1, 4):
        boot = platform.run("bootstrap", "-o", "json", timeout=300)
        assert boot.returncode == 0, (round_number, boot.stderr)
        report = json.loads(boot.stdout)
        # every component made again: the teardown before left none of them
        assert [(s["name"], s["result"]) for s in report["steps"]] == [(c, "done") for c in COMPONENTS], report
        assert report["unavailable"] == []
        assert platform.components() == sorted(c for c in COMPONENTS if c != "inventory")
        applications = cluster_objects(platform, "devops", "Application")
        [postgres] = [a for a in applications if a["metadata"]["name"] == "postgres"]
        assert postgres["status"]["health"]["status"] == "Healthy", postgres["status"]
        assert endpoints(platform) == [] and argocd_clusters(platform) == []

        for name, provider in ENVIRONMENTS:
            if provider == "minikube":
                created = create_minikube_on_loopback(platform, name)
            else:
                created = platform.run("create", name, "--provider", provider, "-o", "json")
            assert created.returncode == 0, (round_number, name, created.stderr)
            steps = {s["name"]: s["detail"] for s in json.loads(created.stdout)["steps"]}
            assert list(steps)[-6:] == ["ingress", "routes", "smoke", "portainer", "argocd", "gitops"], steps
            assert "through HAProxy" in steps["smoke"], steps["smoke"]
            assert steps["portainer"] == f"{name} registered in Portainer"
            assert steps["argocd"] == f"{name} registered in Argo CD"
            assert f"probe.{name}.localtest.me" in platform.ingress.hosts  # type: ignore[attr-defined]
            if provider == "k3d":
                assert f"Traefik on NodePorts {platform.env['KENV_NODE_PORT']} (http)" in steps["ingress"]
            elif provider == "kind":
                assert f"ingress-nginx controller-v1.12.8 on NodePorts {platform.env['KENV_NODE_PORT']}" in (
                    steps["ingress"]
                )
        check_registered(platform, ["dev", "qa", "perf"])

        deleted = platform.run("delete", "qa", "-o", "json")
        assert deleted.returncode == 0, (round_number, deleted.stderr)
        steps = [s["name"] for s in json.loads(deleted.stdout)["steps"]]
        assert steps[:4] == ["mark", "gitops", "argocd", "portainer"] and steps[-1] == "routes", steps
        check_registered(platform, ["dev", "perf"])
        assert ".qa.localtest.me" not in haproxy_config(platform)
        paths = repository_paths(platform)
        assert not any(p.startswith("environments/qa/") for p in paths)
        assert any(p.startswith("archive/") and "qa" in p for p in paths), paths  # never lost

        down = platform.run("teardown", "--all", "-o", "json")
        assert down.returncode == 0, (round_number, down.stderr)
        assert sorted(r["environment"] for r in json.loads(down.stdout)["environments"]) == ["dev", "perf"]
        assert platform.environments() == []
        assert platform.clusters() == {"k3d": [], "kind": [], "minikube": []}
        assert not docker_network_exists(platform.network)
        assert labelled(platform, "network") == [] and labelled(platform, "volume") == []
        assert platform.components() == []
        assert not (platform.home / "data" / "platform.json").exists()
        # the fake Portainer: no container, no process, no volume (its environments went with it)
        assert containers(str(platform.state)) == {}
        volumes = platform.state / "portainer" / "volumes"
        assert not volumes.exists() or list(volumes.iterdir()) == []
        assert not platform.fake_processes()


def test_an_environment_created_with_no_platform_runs_exactly_the_old_steps(isolated: Path, tmp_path: Path) -> None:
    platform = Fleet(isolated, tmp_path)
    created = json.loads(platform.ok("create", "dev", "--subnet", "none", "-o", "json"))
    assert [s["name"] for s in created["steps"]] == ["record", "cluster", "kubeconfig", "ready", "running"]
    deleted = json.loads(platform.ok("delete", "dev", "-o", "json"))
    assert [s["name"] for s in deleted["steps"]] == ["mark", "cluster", "kubeconfig", "record"]
