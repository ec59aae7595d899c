"""kenv images check / sync against the fake k3d and kind (issue 8 §5): one node listing per node,
exit 3 naming what is missing, ONE import call per cluster, verified afterwards, and no import at
all when nothing is missing.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.lifecycle_support import Fleet

BUSYBOX = "busybox:1.36.1"
HELPER = "rancher/mirrored-library-busybox:1.36.1"


@pytest.fixture
def fleet(isolated: Path, tmp_path: Path) -> Iterator[Fleet]:
    world = Fleet(isolated, tmp_path)
    yield world
    world.kill_fakes()


def crictl_calls(fleet: Fleet) -> list[list[str]]:
    return [
        [str(a) for a in c["argv"]]  # type: ignore[attr-defined]
        for c in fleet.calls()
        if "crictl" in c["argv"]  # type: ignore[operator]
    ]


def import_calls(fleet: Fleet) -> list[list[str]]:
    prefixes = (["k3d", "image", "import"], ["kind", "load", "docker-image"], ["minikube", "image", "load"])
    return [
        [str(a) for a in c["argv"]]  # type: ignore[attr-defined]
        for c in fleet.calls()
        if [str(a) for a in c["argv"]][:3] in prefixes  # type: ignore[attr-defined]
    ]


def states(report: dict[str, object]) -> dict[tuple[str, str], str]:
    return {
        (image["familiar"], cell["node"]): cell["state"]
        for image in report["images"]  # type: ignore[attr-defined]
        for cell in image["nodes"]
    }


@pytest.mark.parametrize(
    ("provider", "extra", "nodes", "imports"),
    [
        (
            "k3d",
            ["--agents", "1"],
            ["k3d-dev-server-0", "k3d-dev-agent-0"],
            [["k3d", "image", "import", "docker.io/library/busybox:1.36.1",
              "docker.io/rancher/mirrored-library-busybox:1.36.1", "-c", "dev"]],
        ),
        (
            "kind",
            [],
            ["dev-control-plane"],
            [["kind", "load", "docker-image", "docker.io/library/busybox:1.36.1",
              "docker.io/rancher/mirrored-library-busybox:1.36.1", "--name", "dev"]],
        ),
        (
            # The minikube provider loads one image per call (providers/minikube.py import_images).
            "minikube",
            [],
            ["dev"],
            [["minikube", "image", "load", "docker.io/library/busybox:1.36.1", "-p", "dev"],
             ["minikube", "image", "load", "docker.io/rancher/mirrored-library-busybox:1.36.1", "-p", "dev"]],
        ),
    ],
)  # fmt: skip
def test_check_sync_check_and_a_second_sync_that_imports_nothing(
    fleet: Fleet, provider: str, extra: list[str], nodes: list[str], imports: list[list[str]]
) -> None:
    fleet.ok("create", "dev", "--provider", provider, "--subnet", "none", *extra)
    before = len(fleet.calls())

    check = fleet.run("images", "check", "dev", BUSYBOX, HELPER, "-o", "json")
    assert check.returncode == 3, (check.stdout, check.stderr)
    for node in nodes:
        assert f"{BUSYBOX} on {node}" in check.stderr.replace("docker.io/library/", "")
    report = json.loads(check.stdout)
    assert set(states(report).values()) == {"missing"}
    assert len(crictl_calls(fleet)) == len(nodes), "one listing per node"
    assert not import_calls(fleet), "check is read-only"

    # A system image the cluster already holds is present, in any spelling.
    system = {"k3d": "rancher/mirrored-pause:3.6"}.get(provider, "registry.k8s.io/pause:3.10")
    fleet.ok("images", "check", "dev", system)

    dry = fleet.run("images", "sync", "dev", BUSYBOX, HELPER, "--dry-run")
    assert dry.returncode == 3, (dry.stdout, dry.stderr)
    for argv in imports:
        assert f"would run: {' '.join(argv)}" in dry.stdout
    assert not import_calls(fleet), "a dry run imports nothing"

    crictl_before = len(crictl_calls(fleet))
    synced = fleet.run("images", "sync", "dev", BUSYBOX, HELPER, "-o", "json")
    assert synced.returncode == 0, (synced.stdout, synced.stderr)
    assert import_calls(fleet) == imports, "ONE import call for the cluster, missing images only"
    assert len(crictl_calls(fleet)) - crictl_before == 2 * len(nodes), "listed before and verified after"
    report = json.loads(synced.stdout)
    assert states(report) == {(i, n): "imported" for i in (BUSYBOX, HELPER) for n in nodes}
    assert report["ok"] is True

    assert "present" in fleet.ok("images", "check", "dev", BUSYBOX, HELPER)

    again = fleet.run("images", "sync", "dev", BUSYBOX, HELPER, system, "-o", "json")
    assert again.returncode == 0, (again.stdout, again.stderr)
    assert len(import_calls(fleet)) == len(imports), "nothing missing: no import call"
    assert set(states(json.loads(again.stdout)).values()) == {"present"}
    assert len(fleet.calls()) > before

    history = fleet.ok("history", "dev")
    assert "images-sync" in history


def test_a_partial_sync_imports_only_what_is_missing_and_discover_adds_manifest_images(
    fleet: Fleet, tmp_path: Path
) -> None:
    fleet.ok("create", "dev", "--subnet", "none")
    fleet.ok("images", "sync", "dev", BUSYBOX)
    manifest = tmp_path / "deploy.yaml"
    manifest.write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
        f"  - name: a\n    image: {BUSYBOX}\n  - name: b\n    image: {HELPER}\n"
    )
    fleet.ok("images", "sync", "dev", "--discover", str(manifest))
    imports = import_calls(fleet)
    assert imports[-1] == ["k3d", "image", "import", "docker.io/rancher/mirrored-library-busybox:1.36.1", "-c", "dev"]
    assert len(imports) == 2


def test_a_failed_import_is_reported_in_one_line_and_exits_1(fleet: Fleet) -> None:
    fleet.ok("create", "dev", "--subnet", "none")
    result = fleet.run("images", "sync", "dev", BUSYBOX, "-o", "json", KENV_FAKE_FAIL="k3d:image-import")
    assert result.returncode == 1, (result.stdout, result.stderr)
    error = [line for line in result.stderr.splitlines() if line.startswith("kenv: error:")]
    assert len(error) == 1 and "ctr: failed to import images" in error[0], result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is False and "ctr: failed to import images" in report["import"]["error"]
    cell = report["images"][0]["nodes"][0]
    assert cell["state"] == "failed" and "ctr: failed to import images" in cell["reason"]
    assert "failed" in fleet.ok("history", "dev")


def test_nodes_that_cannot_be_listed_are_reported_with_the_reason(fleet: Fleet) -> None:
    fleet.ok("create", "dev", "--subnet", "none")
    fleet.ok("stop", "dev")
    check = fleet.run("images", "check", "dev", BUSYBOX)
    assert check.returncode == 1, (check.stdout, check.stderr)
    assert "unknown" in check.stdout and "is not running" in check.stdout
    assert "could not list the images of any node of dev" in check.stderr
    synced = fleet.run("images", "sync", "dev", BUSYBOX)
    assert synced.returncode == 1 and "is not running" in synced.stdout
    assert not import_calls(fleet), "nothing is imported into nodes that could not be listed"


def test_json_keys_are_the_documented_contract(fleet: Fleet) -> None:
    from kenv.workflows.images import JSON_KEYS

    fleet.ok("create", "dev", "--subnet", "none")
    report = json.loads(fleet.run("images", "check", "dev", BUSYBOX, "-o", "json").stdout)
    assert tuple(report) == JSON_KEYS["top"]
    assert tuple(report["nodes"][0]) == JSON_KEYS["node"]
    assert tuple(report["images"][0]) == JSON_KEYS["image"]
    assert tuple(report["images"][0]["nodes"][0]) == JSON_KEYS["cell"]
    assert tuple(report["import"]) == JSON_KEYS["import"]
    assert report["operation"] == "check" and report["provider"] == "k3d" and report["ok"] is False
    for command in ("check", "sync"):
        help_text = fleet.ok("images", command, "--help")
        for keys in JSON_KEYS.values():
            for key in keys:
                assert f'"{key}"' in help_text, (command, key)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["dev", "busybox:UPPER!"], "invalid reference format"),
        (["dev"], "no images named"),
        (["nosuch", BUSYBOX], "not in the inventory"),
    ],
)
def test_bad_input_exits_2_and_changes_nothing(fleet: Fleet, args: list[str], fragment: str) -> None:
    fleet.ok("create", "dev", "--subnet", "none")
    for command in ("check", "sync"):
        result = fleet.run("images", command, *args)
        assert result.returncode == 2, (command, result.stdout, result.stderr)
        assert fragment in result.stderr
    assert not import_calls(fleet)


def test_one_node_that_cannot_be_listed_does_not_hide_the_others(fleet: Fleet) -> None:
    fleet.ok("create", "dev", "--subnet", "none", "--agents", "1")
    fleet.ok("images", "sync", "dev", BUSYBOX)
    stopped = subprocess.run(
        ["docker", "stop", "k3d-dev-agent-0"], env=fleet.env, capture_output=True, text=True, check=False
    )
    assert stopped.returncode == 0, stopped.stderr
    check = fleet.run("images", "check", "dev", BUSYBOX, "-o", "json")
    assert check.returncode == 1, (check.stdout, check.stderr)
    report = json.loads(check.stdout)
    assert states(report) == {(BUSYBOX, "k3d-dev-server-0"): "present", (BUSYBOX, "k3d-dev-agent-0"): "unknown"}
    errors = {n["name"]: n["error"] for n in report["nodes"]}
    assert errors["k3d-dev-server-0"] is None and "is not running" in errors["k3d-dev-agent-0"]
    assert "k3d-dev-agent-0" in check.stderr
