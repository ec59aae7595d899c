"""kenv images list against the fake k3d, kind and kubectl (issue 8 §3): the system list of the
version kenv creates, kenv's own components from its manifests, what the cluster names now (one
pods and one configmaps listing, the k3s local-path helper pod inside its ConfigMap included),
--discover manifests, and a stopped cluster that still gets its list."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from kenv.images.components import dns_check_image
from tests.e2e.lifecycle_support import Fleet

HELPER = "docker.io/rancher/mirrored-library-busybox:1.36.1"
DNS_CHECK = "docker.io/library/busybox:1.36"
TOP_KEYS = ["environment", "provider", "k8s_version", "component", "images", "system_list", "cluster", "warnings"]
IMAGE_KEYS = ["ref", "familiar", "components", "sources", "running", "nodes"]


@pytest.fixture
def fleet(isolated: Path, tmp_path: Path) -> Iterator[Fleet]:
    world = Fleet(isolated, tmp_path)
    yield world
    world.kill_fakes()


def kubectl_gets(fleet: Fleet) -> list[list[str]]:
    found = []
    for call in fleet.calls():
        argv = [str(a) for a in call["argv"]]  # type: ignore[attr-defined]
        if argv[0] == "kubectl" and "get" in argv:
            found.append(argv[argv.index("get") :])
    return found


def crictl_calls(fleet: Fleet) -> int:
    return sum(1 for c in fleet.calls() if "crictl" in c["argv"])  # type: ignore[operator]


def by_ref(report: dict[str, object]) -> dict[str, dict[str, object]]:
    return {image["ref"]: image for image in report["images"]}  # type: ignore[attr-defined,index]


def run_user_pod(fleet: Fleet, name: str, image: str) -> None:
    """A pod the user made, through the fake kubectl with the environment's own kubeconfig."""
    kubeconfig = fleet.home / "data" / "kubeconfig" / "dev.yaml"
    subprocess.run(
        ["kubectl", "--kubeconfig", str(kubeconfig), "run", name, "--image", image, "--restart=Never"],
        env=fleet.env,
        check=True,
        capture_output=True,
        text=True,
    )


def test_a_running_k3d_environment_lists_system_components_cluster_and_nodes(fleet: Fleet) -> None:
    fleet.ok("create", "dev", "--subnet", "none", "--agents", "1")
    run_user_pod(fleet, "web", "nginx:1.27")
    crictl_before, gets_before = crictl_calls(fleet), len(kubectl_gets(fleet))

    result = fleet.run("images", "list", "dev", "-o", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert list(report) == TOP_KEYS
    assert report["environment"] == "dev" and report["provider"] == "k3d" and report["component"] == "all"
    assert report["system_list"] == {
        "source": "k3s-io/k3s scripts/airgap/image-list.txt, tag v1.31.5+k3s1",
        "version": "k3s v1.31.5+k3s1",
        "known": True,
    }
    assert list(report["cluster"]) == ["reachable", "error", "nodes", "system_missing", "running_unlisted"]
    assert report["cluster"]["reachable"] is True and report["cluster"]["error"] is None
    assert [n["name"] for n in report["cluster"]["nodes"]] == ["k3d-dev-server-0", "k3d-dev-agent-0"]

    # One listing of pods, one of configmaps, one crictl per node.
    assert kubectl_gets(fleet)[gets_before:] == [
        ["get", "pods", "-A", "-o", "json"],
        ["get", "configmaps", "-A", "-o", "json"],
    ]
    assert crictl_calls(fleet) - crictl_before == 2

    images = by_ref(report)
    for image in images.values():
        assert list(image) == IMAGE_KEYS
        assert set(image["nodes"]) == {"k3d-dev-server-0", "k3d-dev-agent-0"}
    # The local-path helper is on the system list and named by a ConfigMap; no pod runs it.
    helper = images[HELPER]
    assert helper["components"] == ["system"]
    assert {"kind": "configmap", "where": "configmap kube-system/local-path-config data.helperPod.yaml"} in helper[
        "sources"
    ]
    assert helper["running"] is False
    # A system image a pod runs.
    coredns = images["docker.io/rancher/mirrored-coredns-coredns:1.12.0"]
    assert coredns["running"] is True
    assert [s["kind"] for s in coredns["sources"]][:2] == ["system-list", "pod"]
    # kenv's own DNS check image, from its manifest.
    assert images[DNS_CHECK]["components"] == ["verify"]
    assert images[DNS_CHECK]["sources"] == [
        {"kind": "manifest", "where": "manifests/verify/dns-check.yaml: spec.containers[0].image"}
    ]
    # The user's pod runs an image on no list: shown, and reported.
    nginx = images["docker.io/library/nginx:1.27"]
    assert nginx["components"] == [] and nginx["running"] is True
    assert nginx["sources"] == [{"kind": "pod", "where": "pod default/web"}]
    assert report["cluster"]["running_unlisted"] == ["docker.io/library/nginx:1.27"]
    missing = {m["ref"]: m["nodes"] for m in report["cluster"]["system_missing"]}
    assert all(images[ref]["components"] == ["system"] for ref in missing)
    for ref, nodes in missing.items():
        assert nodes == [n for n, held in images[ref]["nodes"].items() if not held]

    table = fleet.ok("images", "list", "dev")
    assert (
        table.splitlines()[0]
        == "system list: k3s v1.31.5+k3s1 (k3s-io/k3s scripts/airgap/image-list.txt, tag v1.31.5+k3s1)"
    )
    assert "cluster: reachable" in table
    header = next(line for line in table.splitlines() if line.startswith("IMAGE"))
    assert header.split() == ["IMAGE", "COMPONENT(S)", "WHERE", "ON", "NODES"]
    assert "running but on no list: nginx:1.27" in table


def test_a_stopped_environment_still_lists_from_the_data_and_says_why(fleet: Fleet) -> None:
    fleet.ok("create", "dev", "--subnet", "none")
    fleet.ok("stop", "dev")
    gets_before, crictl_before = len(kubectl_gets(fleet)), crictl_calls(fleet)
    result = fleet.run("images", "list", "dev", "-o", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["cluster"]["reachable"] is False
    assert report["cluster"]["error"] == "stopped: run `kenv start dev`"
    images = by_ref(report)
    assert HELPER in images and DNS_CHECK in images
    assert all(i["running"] is None and i["nodes"] is None for i in images.values())
    assert len(kubectl_gets(fleet)) == gets_before and crictl_calls(fleet) == crictl_before

    table = fleet.ok("images", "list", "dev")
    assert "cluster: not read: stopped: run `kenv start dev`" in table


def test_an_absent_cluster_is_not_an_error(fleet: Fleet) -> None:
    fleet.ok("create", "dev", "--subnet", "none")
    subprocess.run(["k3d", "cluster", "delete", "dev"], env=fleet.env, check=True, capture_output=True)
    report = json.loads(fleet.ok("images", "list", "dev", "-o", "json"))
    assert report["cluster"]["reachable"] is False
    assert "kenv create dev" in report["cluster"]["error"]
    assert report["system_list"]["known"] is True


def test_component_verify_lists_only_the_dns_check_image(fleet: Fleet) -> None:
    fleet.ok("create", "dev", "--subnet", "none")
    report = json.loads(fleet.ok("images", "list", "dev", "--component", "verify", "-o", "json"))
    assert report["component"] == "verify"
    assert [i["ref"] for i in report["images"]] == [DNS_CHECK]
    assert report["cluster"]["running_unlisted"] == []

    # kenv verify runs that same image.
    fleet.ok("verify", "dev")
    runs = [
        [str(a) for a in c["argv"]]  # type: ignore[attr-defined]
        for c in fleet.calls()
        if c["argv"][0] == "kubectl" and "run" in c["argv"]  # type: ignore[index,operator]
    ]
    assert runs
    assert runs[-1][runs[-1].index("--image") + 1] == dns_check_image() == "busybox:1.36"


def test_discover_adds_the_user_manifests(fleet: Fleet, tmp_path: Path) -> None:
    fleet.ok("create", "dev", "--subnet", "none")
    manifest = tmp_path / "deploy.yaml"
    manifest.write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app}\nspec:\n  template:\n    spec:\n"
        "      containers:\n      - name: app\n        image: ghcr.io/acme/app:2.1\n"
        "        env:\n        - name: SIDECAR_IMAGE\n          value: quay.io/acme/sidecar:1\n"
    )
    report = json.loads(fleet.ok("images", "list", "dev", "--discover", str(manifest), "-o", "json"))
    images = by_ref(report)
    app = images["ghcr.io/acme/app:2.1"]
    assert app["components"] == []
    assert app["sources"] == [{"kind": "discover", "where": f"{manifest}: spec.template.spec.containers[0].image"}]
    assert app["running"] is False
    sidecar = images["quay.io/acme/sidecar:1"]
    assert sidecar["sources"][0]["where"].endswith("(probable)")
    assert "ghcr.io/acme/app:2.1" not in report["cluster"]["running_unlisted"]


def test_a_kind_environment_finds_kinds_own_helper_configmap(fleet: Fleet) -> None:
    fleet.ok("create", "dev", "--provider", "kind", "--subnet", "none")
    report = json.loads(fleet.ok("images", "list", "dev", "-o", "json"))
    # The fake impersonates kind v0.27.0: the default node image of that release, and its list.
    assert report["system_list"]["version"] == "kindest/node v1.32.2"
    helper = by_ref(report)["docker.io/kindest/local-path-helper:v20241212-8ac705d0"]
    assert helper["components"] == ["system"]
    assert {"kind": "configmap", "where": "configmap local-path-storage/local-path-config data.helperPod.yaml"} in (
        helper["sources"]
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["images", "list", "dev", "--component", "nope"], "unknown component 'nope'; choose one of: all, system"),
        (["images", "list", "nosuch"], "environment 'nosuch' is not in the inventory"),
        (["images", "list", "dev", "--discover", "/no/such/dir"], "/no/such/dir: no such file or directory"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(fleet: Fleet, args: list[str], message: str) -> None:
    fleet.ok("create", "dev", "--subnet", "none")
    calls_before = len(fleet.calls())
    result = fleet.run(*args)
    assert result.returncode == 2, (result.stdout, result.stderr)
    errors = [line for line in result.stderr.splitlines() if line.startswith("kenv: error:")]
    assert len(errors) == 1 and message in errors[0]
    assert "Traceback" not in result.stderr
    assert len(fleet.calls()) == calls_before, "nothing asked of any tool"


def test_help_documents_the_json_contract(fleet: Fleet) -> None:
    text = fleet.ok("images", "list", "--help")
    for key in (*TOP_KEYS, *IMAGE_KEYS, "system_missing", "running_unlisted", "reachable"):
        assert f'"{key}"' in text


def test_a_cluster_that_does_not_answer_is_named_and_the_list_still_prints(fleet: Fleet) -> None:
    fleet.ok("create", "dev", "--subnet", "none")
    result = fleet.run("images", "list", "dev", "-o", "json", KENV_FAKE_FAIL="kubectl:get-configmaps")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["cluster"]["reachable"] is False
    assert "ServiceUnavailable" in report["cluster"]["error"]
    assert HELPER in by_ref(report)
    assert all(i["running"] is None and i["nodes"] is None for i in report["images"])
