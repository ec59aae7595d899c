"""The fake node's `ctr images label` (containerd cmd/ctr/commands/images/images.go labelCommand,
v1.7.24) and the `pinned` field it drives in `crictl images -o json` (pkg/cri/store/image)."""

from __future__ import annotations

import json

from tests.fakes_selftest.conftest import Runner

PAUSE = "docker.io/rancher/mirrored-pause:3.6"
PIN = "io.cri-containerd.pinned=pinned"


def _pinned(run: Runner, node: str) -> dict[str, bool]:
    listed = run("docker", "exec", node, "crictl", "images", "-o", "json")
    assert listed.returncode == 0, listed.stderr
    return {tag: image["pinned"] for image in json.loads(listed.stdout)["images"] for tag in image["repoTags"]}


def test_label_pins_one_image_in_one_node_and_crictl_shows_it(run: Runner) -> None:
    assert run("k3d", "cluster", "create", "c1", "--agents", "1").returncode == 0
    assert _pinned(run, "k3d-c1-server-0")[PAUSE] is False
    labelled = run("docker", "exec", "k3d-c1-server-0", "ctr", "-n", "k8s.io", "images", "label", PAUSE, PIN)
    assert labelled.returncode == 0, labelled.stderr
    assert labelled.stdout.strip() == PIN
    assert _pinned(run, "k3d-c1-server-0")[PAUSE] is True
    assert _pinned(run, "k3d-c1-agent-0")[PAUSE] is False, "labels are per node"
    # k3s's ctr defaults to the CRI namespace; the `image`/`i` aliases are ctr's too.
    assert run("docker", "exec", "k3d-c1-agent-0", "ctr", "i", "label", PAUSE, PIN).returncode == 0
    assert _pinned(run, "k3d-c1-agent-0")[PAUSE] is True


def test_unknown_images_namespaces_and_flags_fail_like_ctr(run: Runner) -> None:
    assert run("kind", "create", "cluster", "--name", "k1").returncode == 0
    node = "k1-control-plane"
    missing = run("docker", "exec", node, "ctr", "-n", "k8s.io", "images", "label", "docker.io/library/x:1", PIN)
    assert missing.returncode == 1 and missing.stderr.strip() == 'ctr: image "docker.io/library/x:1": not found'
    # kind's ctr is plain containerd's: the default namespace is "default", not the CRI's.
    default_ns = run("docker", "exec", node, "ctr", "images", "label", "registry.k8s.io/pause:3.10", PIN)
    assert default_ns.returncode == 1 and "not found" in default_ns.stderr
    bad_flag = run("docker", "exec", node, "ctr", "-n", "k8s.io", "images", "label", "--all", "x", PIN)
    assert bad_flag.returncode == 1 and "ctr: flag provided but not defined: -all" in bad_flag.stderr
    nothing = run("docker", "exec", node, "ctr", "-n", "k8s.io", "images", "label")
    assert nothing.returncode == 1 and "please specify an image" in nothing.stderr
