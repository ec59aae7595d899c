"""Node commands per tool: how to start a stopped node, how to free its image store."""

from __future__ import annotations

from kenv.doctor.index import Index
from kenv.doctor.rules._common import q


def start_command(index: Index, node: str) -> str:
    cluster = index.cluster
    if cluster.environment and cluster.provider in ("k3d", "kind", "minikube"):
        return f"kenv start {q(cluster.environment)}"
    if cluster.provider == "k3d":
        return f"k3d node start {q(node)}"
    if cluster.provider == "kind":
        return f"docker start {q(node)}"
    if cluster.provider == "minikube" and cluster.name:
        return f"minikube -p {q(cluster.name)} start"
    return f"check the kubelet on {node} (journalctl -u kubelet)"


def prune_command(index: Index, node: str) -> str:
    """Unused images removed inside the node: what fills a local cluster's disk first."""
    cluster = index.cluster
    if cluster.provider in ("k3d", "kind"):
        return f"docker exec {q(node)} crictl rmi --prune"
    if cluster.provider == "minikube" and cluster.name:
        return f"minikube -p {q(cluster.name)} ssh -- sudo crictl rmi --prune"
    return f"crictl rmi --prune  # on {node}"
