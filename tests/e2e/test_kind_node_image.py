"""kind's node image follows the kind release installed, end to end through the fake kind.

The fake impersonates the release KENV_FAKE_KIND_VERSION names (`kind version`, and the node image
`kind create cluster` uses without `--image`: kind `pkg/apis/config/defaults/image.go` at that
tag). kenv passes the default image of that release, with its digest; the images list of the
environment is the list of that image; `kind version` is asked at most once per process (the tool
check and the provider share the remembered answer); a release kenv does not know gets no
`--image` and a note saying kind chose.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.lifecycle_support import Fleet

V027 = "kindest/node:v1.32.2@sha256:f226345927d7e348497136874b6d207e0b32cc52154ad8323129352923a3142f"
V030 = "kindest/node:v1.34.0@sha256:7416a61b42b1662ca6ca89f02028ac133a309a2a30ba309614e8ec94d976dc5a"


@pytest.fixture
def fleet(isolated: Path, tmp_path: Path) -> Iterator[Fleet]:
    world = Fleet(isolated, tmp_path)
    yield world
    world.kill_fakes()


def kind_calls(fleet: Fleet, *head: str) -> list[list[str]]:
    found = [[str(a) for a in call["argv"]] for call in fleet.calls() if call.get("tool") == "kind"]  # type: ignore[attr-defined]
    return [argv for argv in found if argv[1 : 1 + len(head)] == list(head)]


def node_image(fleet: Fleet, cluster: str) -> str:
    state = json.loads((fleet.state / "state.json").read_text())
    (found,) = [c for c in state["clusters"].values() if c.get("tool") == "kind" and c.get("name") == cluster]
    return str(found["image"])


@pytest.mark.parametrize(
    ("release", "image", "tag", "etcd"),
    [("v0.27.0", V027, "v1.32.2", "3.5.16-0"), ("v0.30.0", V030, "v1.34.0", "3.6.4-0")],
)
def test_create_uses_the_default_image_of_the_installed_kind(
    fleet: Fleet, release: str, image: str, tag: str, etcd: str
) -> None:
    created = fleet.run("create", "dev", "--provider", "kind", "--subnet", "none", KENV_FAKE_KIND_VERSION=release)
    assert created.returncode == 0, created.stderr
    (create,) = kind_calls(fleet, "create", "cluster")
    assert create[create.index("--image") + 1] == image
    assert node_image(fleet, "dev") == image
    assert f"node image {image} (the default of kind {release})" in created.stderr
    assert len(kind_calls(fleet, "version")) == 1  # the tool check's answer, remembered for the provider

    report = json.loads(fleet.ok("images", "list", "dev", "-o", "json", KENV_FAKE_KIND_VERSION=release))
    assert report["k8s_version"] is None
    assert report["system_list"]["version"] == f"kindest/node {tag}" and report["system_list"]["known"]
    refs = {entry["ref"] for entry in report["images"]}
    assert {f"registry.k8s.io/kube-apiserver:{tag}", f"registry.k8s.io/etcd:{etcd}"} <= refs
    assert len(kind_calls(fleet, "version")) == 1  # warm cache: not asked again


def test_an_unknown_newer_kind_gets_no_image_and_says_so(fleet: Fleet) -> None:
    created = fleet.run("create", "dev", "--provider", "kind", "--subnet", "none", KENV_FAKE_KIND_VERSION="v0.99.0")
    # v0.99.0 is inside the tested range (<1.0): kenv creates, and kind picks its own image.
    assert created.returncode == 0, created.stderr
    (create,) = kind_calls(fleet, "create", "cluster")
    assert "--image" not in create
    assert "kind v0.99.0 is not in kenv's table of kind releases, so kind picks its own default node image" in (
        created.stderr
    )
    report = json.loads(fleet.ok("images", "list", "dev", "-o", "json", KENV_FAKE_KIND_VERSION="v0.99.0"))
    assert report["system_list"]["known"] is False


def test_an_explicit_version_keeps_its_image(fleet: Fleet) -> None:
    fleet.ok("create", "dev", "--provider", "kind", "--subnet", "none", "--k8s-version", "v1.31.12")
    (create,) = kind_calls(fleet, "create", "cluster")
    assert create[create.index("--image") + 1] == "kindest/node:v1.31.12"
    report = json.loads(fleet.ok("images", "list", "dev", "-o", "json"))
    assert report["system_list"]["version"] == "kindest/node v1.31.12" and report["system_list"]["known"]


def test_a_dry_run_prints_the_exact_image_and_asks_kind_once(fleet: Fleet) -> None:
    # A dry run remembers no tool version on disk: the tool check hands its answer to the
    # provider, and the system list of --component system is the one of that same image.
    args = ("create", "dev", "--provider", "kind", "--subnet", "none", "--component", "system", "--dry-run")
    planned = fleet.run(*args, KENV_FAKE_KIND_VERSION="v0.30.0")
    assert planned.returncode == 0, planned.stderr
    assert f"--image {V030}" in planned.stdout + planned.stderr
    assert "would sync 10 image(s) (--component system)" in planned.stdout + planned.stderr
    assert kind_calls(fleet, "create") == []
    assert len(kind_calls(fleet, "version")) == 1
