"""What an environment needs (issue 8 §3): the shipped system lists, the component registry built
from kenv's own manifests, and the images a running cluster names (pods and ConfigMaps)."""

from __future__ import annotations

from importlib.resources import files

import pytest

from kenv.errors import InvalidInput
from kenv.images import system_lists
from kenv.images.cluster import cluster_images
from kenv.images.components import (
    COMPONENTS,
    check_component,
    component_entries,
    component_images,
    dns_check_image,
    manifest_images,
)
from kenv.images.reference import parse_reference
from kenv.images.system_lists import MINIKUBE_DEFAULT_KUBERNETES, system_list
from kenv.providers import k3d, kind

DATA = files("kenv.images") / "data"
MANIFESTS = files("kenv") / "manifests"


def canonical(refs: list[str]) -> list[str]:
    return [parse_reference(r).canonical for r in refs]


# -- the data files -------------------------------------------------------------------------------


def data_files() -> list[str]:
    return sorted(p.name for p in DATA.iterdir() if p.name.endswith(".txt"))


@pytest.mark.parametrize("name", data_files())
def test_every_data_file_names_its_source_and_date_and_holds_only_valid_references(name: str) -> None:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    header = [line for line in lines if line.startswith("#")]
    body = [line for line in lines if line.strip() and not line.startswith("#")]
    assert lines[0].startswith("#"), "the source comes first"
    assert any(line.startswith("# source: ") for line in header)
    assert any(line.startswith("# read: 20") for line in header)
    assert body, "a list with no image"
    refs = canonical(body)  # raises on a line that is not a reference
    assert len(set(refs)) == len(refs), "an image listed twice"
    source, loaded = system_lists.load(name)
    assert source.startswith(("k3s-io/k3s ", "kubernetes-sigs/kind ", "kubernetes/minikube "))
    assert [r.canonical for r in loaded] == refs


@pytest.mark.parametrize(
    ("provider", "version", "expected_version", "present"),
    [
        ("k3d", None, "k3s v1.31.5+k3s1", "docker.io/rancher/mirrored-pause:3.6"),
        ("k3d", "v1.31.5-k3s1", "k3s v1.31.5+k3s1", "docker.io/rancher/mirrored-library-busybox:1.36.1"),
        ("k3d", "rancher/k3s:v1.31.5-k3s1", "k3s v1.31.5+k3s1", "docker.io/rancher/klipper-lb:v0.4.9"),
        ("kind", "v1.31.12", "kindest/node v1.31.12", "registry.k8s.io/kube-apiserver:v1.31.12"),
        (
            "kind",
            "kindest/node:v1.34.0@sha256:7416a61b42b1662ca6ca89f02028ac133a309a2a30ba309614e8ec94d976dc5a",
            "kindest/node v1.34.0",
            "registry.k8s.io/etcd:3.6.4-0",
        ),
        ("kind", "v1.31.6", "kindest/node v1.31.6", "docker.io/kindest/kindnetd:v20250214-acbabc1a"),
        (
            "kind",
            "kindest/node:v1.31.6@sha256:28b7cbb993dfe093c76641a0c95807637213c9109b761f1d422c2400e22b8e87",
            "kindest/node v1.31.6",
            "registry.k8s.io/kube-proxy:v1.31.6",
        ),
        ("minikube", None, "minikube v1.38.1 Kubernetes v1.35.1", "gcr.io/k8s-minikube/storage-provisioner:v5"),
        ("minikube", "1.35.1", "minikube v1.38.1 Kubernetes v1.35.1", "registry.k8s.io/etcd:3.6.6-0"),
    ],
)
def test_the_system_list_follows_the_image_kenv_creates(
    provider: str, version: str | None, expected_version: str, present: str
) -> None:
    listing = system_list(provider, version)
    assert listing.known, listing.source
    assert listing.version == expected_version
    assert present in [r.canonical for r in listing.references]


def test_each_provider_default_has_a_list() -> None:
    """Bumping a provider's default node image without shipping its list fails here."""
    assert system_list("k3d", k3d.DEFAULT_IMAGE).known
    # kind's default follows the installed kind release: one list per release kenv knows from v0.27.
    assert all(system_list("kind", image).known for release, image in kind.RELEASE_IMAGES.items() if release >= "v0.27")
    assert not system_list("kind", None).known  # a release kenv does not know: kind picks the image
    assert system_list("minikube", MINIKUBE_DEFAULT_KUBERNETES).known


@pytest.mark.parametrize(
    ("provider", "version", "says"),
    [
        ("k3d", "v1.29.0-k3s1", "unknown for version k3s v1.29.0+k3s1"),
        ("k3d", "ghcr.io/me/k3s:custom", "unknown for version image ghcr.io/me/k3s:custom"),
        ("kind", "v1.30.0", "unknown for version kindest/node v1.30.0"),
        ("minikube", "v1.28.0", "unknown for version minikube v1.38.1 Kubernetes v1.28.0"),
        ("external", None, "kenv does not create external clusters"),
    ],
)
def test_a_version_with_no_list_is_unknown_not_an_error(provider: str, version: str | None, says: str) -> None:
    listing = system_list(provider, version)
    assert not listing.known
    assert listing.references == ()
    assert says in listing.source
    assert component_images("system", provider, version) == []


# -- the component registry -----------------------------------------------------------------------


def test_components_are_system_and_one_per_manifest_directory() -> None:
    directories = sorted(p.name for p in MANIFESTS.iterdir() if p.is_dir() and not p.name.startswith(("_", ".")))
    assert ("system", *directories) == COMPONENTS
    assert "verify" in COMPONENTS


@pytest.mark.parametrize("component", [c for c in COMPONENTS if c != "system"])
def test_every_shipped_manifest_directory_names_at_least_one_image(component: str) -> None:
    found = manifest_images(component)
    assert found
    assert all(entry.where.startswith(f"manifests/{component}/") for entry in found)


def test_verify_images_come_from_its_manifest_by_discovery() -> None:
    assert [r.canonical for r in component_images("verify", "k3d", None)] == ["docker.io/library/busybox:1.36"]
    (entry,) = component_entries("verify", "kind", None)
    assert entry.where == "manifests/verify/dns-check.yaml: spec.containers[0].image"
    # kenv verify runs the image the manifest names, spelled as written there.
    assert parse_reference(dns_check_image()) == entry.reference


def test_all_is_every_component_each_image_once() -> None:
    everything = component_images("all", "k3d", None)
    keys = [r.canonical for r in everything]
    assert len(keys) == len(set(keys))
    for component in COMPONENTS:
        assert {r.canonical for r in component_images(component, "k3d", None)} <= set(keys)
    assert "docker.io/library/busybox:1.36" in keys
    assert "docker.io/rancher/mirrored-pause:3.6" in keys


@pytest.mark.parametrize("name", ["nope", "", "System", "argocd-typo"])
def test_an_unknown_component_is_refused_naming_the_known_ones(name: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        component_images(name, "k3d", None)
    line = caught.value.one_line()
    assert repr(name) in line
    for known in ("all", *COMPONENTS):
        assert known in line
    assert check_component("all") == "all"


# -- what a running cluster names -----------------------------------------------------------------

HELPER_POD = (
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: helper-pod\nspec:\n  containers:\n  - name: helper-pod\n"
    '    image: "%{SYSTEM_DEFAULT_REGISTRY}%rancher/mirrored-library-busybox:1.36.1"\n'
)


def pod(namespace: str, name: str, *images: str, status_image: str | None = None) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": {"image": "not-an-image:1"}},
        "spec": {"containers": [{"name": f"c{i}", "image": image} for i, image in enumerate(images)]},
        "status": {"containerStatuses": [{"name": "c0", "image": status_image or images[0]}]},
    }


def as_list(*items: dict[str, object]) -> dict[str, object]:
    return {"apiVersion": "v1", "kind": "List", "items": list(items), "metadata": {"resourceVersion": ""}}


def test_pods_and_configmap_embedded_helper_pods_are_found() -> None:
    pods = as_list(
        pod("kube-system", "coredns-1", "rancher/mirrored-coredns-coredns:1.12.0"),
        pod("default", "web", "nginx:1.27", "docker.io/library/nginx:1.27", status_image="sha256:" + "a" * 64),
    )
    configmaps = as_list(
        {
            "kind": "ConfigMap",
            "metadata": {"name": "local-path-config", "namespace": "kube-system"},
            "data": {"helperPod.yaml": HELPER_POD, "setup": "#!/bin/sh\nmkdir -p x\n"},
        },
        {
            "kind": "ConfigMap",
            "metadata": {"name": "operator", "namespace": "ops"},
            "data": {"RELATED_IMAGE_DB": "quay.io/x/db:1", "note": "image: true"},
        },
    )
    found = cluster_images(pods, configmaps)
    assert list(found) == [
        "docker.io/rancher/mirrored-coredns-coredns:1.12.0",
        "docker.io/library/nginx:1.27",
        "docker.io/rancher/mirrored-library-busybox:1.36.1",
    ]
    nginx = found["docker.io/library/nginx:1.27"]
    assert nginx.in_pod and nginx.where == ("pod default/web",), "two spellings, one entry, one source"
    helper = found["docker.io/rancher/mirrored-library-busybox:1.36.1"]
    assert not helper.in_pod
    assert helper.where == ("configmap kube-system/local-path-config data.helperPod.yaml",)
    assert not any("sha256" in ref for ref in found), "a runtime's image ID is not a reference"


def test_a_listing_not_read_adds_nothing() -> None:
    assert cluster_images(None, None) == {}
    only_pods = cluster_images(as_list(pod("a", "b", "busybox:1.36")), None)
    assert list(only_pods) == ["docker.io/library/busybox:1.36"]
