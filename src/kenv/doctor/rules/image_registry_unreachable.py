"""image.registry-unreachable: the nodes cannot reach the registry (timeouts, resets, proxy errors)."""

from __future__ import annotations

from collections.abc import Iterator

from kenv.doctor.findings import Finding, Fix
from kenv.doctor.index import Index
from kenv.doctor.rules import Rule
from kenv.doctor.rules._common import REGISTRY_UNREACHABLE, PullFailure, import_commands, q
from kenv.doctor.rules._images import image_findings, restart

# Where each tool takes its nodes' registry mirrors and proxy (the file or flag a user edits).
MIRROR_SETTINGS = {
    "k3d": "a registries.yaml mirror for {host} (k3d cluster create --registry-config registries.yaml; "
    "k3s reads /etc/rancher/k3s/registries.yaml), or HTTP_PROXY/HTTPS_PROXY/NO_PROXY for the nodes "
    "(k3d cluster create -e HTTPS_PROXY=...@server:*)",
    "kind": "a containerdConfigPatches mirror for {host} in the kind config, or HTTP_PROXY/HTTPS_PROXY/"
    "NO_PROXY set when running kind create cluster (kind passes them to the nodes)",
    "minikube": "minikube start --registry-mirror=https://<mirror> or "
    "--docker-env=HTTPS_PROXY=http://<proxy>:<port> --docker-env=NO_PROXY=10.96.0.0/12,192.168.0.0/16",
}


def explain(index: Index, members: list[PullFailure]) -> tuple[str, list[str], Fix]:
    image = members[0].container.image
    host = members[0].registry_host
    provider = index.cluster.provider or ""
    where = MIRROR_SETTINGS.get(provider, "a registry mirror for {host} or a proxy for the nodes' container runtime")
    if index.cluster.environment:
        # kenv renders its config's [images] table into each tool's form when it creates the cluster.
        where = "a mirror for {host} or an https_proxy in the [images] table of kenv's config, then recreate it"
    summary = f"the nodes cannot reach {host} to pull {image} (timeout, reset or proxy error)"
    evidence = [f"registry host: {host}"]
    commands = list(import_commands(index, [image]))
    if index.cluster.environment:
        commands.append(f"kenv images mirrors show {q(index.cluster.environment)}  # what the nodes were given")
    commands.append(restart(index, members))
    fix = Fix(
        f"pre-import {image} from the host (which may reach {host} through its own mirror or proxy), "
        f"or give the nodes {where.format(host=host)}",
        tuple(commands),
        "low",
        False,  # a config change and a recreate: kenv doctor --fix shows it, the user decides
    )
    return summary, evidence, fix


def check(index: Index) -> Iterator[Finding]:
    yield from image_findings(index, REGISTRY_UNREACHABLE, "error", explain)


RULE = Rule(
    id=REGISTRY_UNREACHABLE,
    severity="error",
    summary="The nodes cannot reach the registry: i/o timeout, TLS handshake timeout, connection reset, proxy errors.",
    doc=(
        "containerd's `failed to resolve reference` ends in a network error: the registry host is behind "
        "a firewall or needs a proxy. Pulling again does not help; the nodes need a mirror or a proxy, "
        "or the image imported from a host that can reach the registry."
    ),
    bad='Failed to pull image "postgres:16-alpine": ... dial tcp 31.13.91.33:443: i/o timeout',
    good="kenv images sync dev postgres:16-alpine   # the host pulls through its mirror, the nodes get it imported",
    check=check,
)
