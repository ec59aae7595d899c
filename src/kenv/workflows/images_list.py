"""kenv images list: every image an environment needs, where each comes from, and whether the
running cluster has it (issue 8 §3).

Four sources, merged by canonical reference:
- the components kenv knows (`images.components`): `system` (the upstream list of the exact
  version kenv creates) and what kenv installs (its shipped manifests, through discovery);
- what the cluster names now: one `kubectl get pods -A -o json` and one `kubectl get configmaps
  -A -o json` with the environment's own kubeconfig (`images.cluster`: embedded helper pods too);
- the user's manifests (`--discover`).

When the cluster answers, every node is listed once (`crictl images -o json`, the same
`read_nodes` as `images check`) and each image says which nodes hold it. A stopped or absent
cluster is not an error: the list still comes from the data, with the reason the cluster was not
read. Read-only: nothing is started, pulled or imported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from kenv.catalogue import facts_for
from kenv.errors import KenvError
from kenv.images.components import ALL, SYSTEM, check_component, component_entries
from kenv.images.nodes import presence_key
from kenv.images.reference import Reference
from kenv.images.system_lists import SystemList, system_list
from kenv.inventory.model import Environment
from kenv.runtime.kubectl import Kubectl
from kenv.workflows.context import WorkflowContext
from kenv.workflows.images import Listing, read_nodes

__all__ = ["JSON_KEYS", "ImagesList", "ListedImage", "list_images"]

# Source kinds, as the JSON names them.
SYSTEM_LIST = "system-list"
MANIFEST = "manifest"
POD = "pod"
CONFIGMAP = "configmap"
DISCOVER = "discover"

# The -o json contract (pinned by a test, shown in the command's help).
JSON_KEYS = ("environment", "provider", "k8s_version", "component", "images", "system_list", "cluster", "warnings")
IMAGE_KEYS = ("ref", "familiar", "components", "sources", "running", "nodes")


@dataclass
class ListedImage:
    reference: Reference
    components: list[str] = field(default_factory=list)
    sources: list[tuple[str, str]] = field(default_factory=list)  # (kind, where)
    running: bool | None = None
    nodes: dict[str, bool] | None = None

    def add(self, component: str | None, kind: str, where: str) -> None:
        if component is not None and component not in self.components:
            self.components.append(component)
        if (kind, where) not in self.sources:
            self.sources.append((kind, where))

    @property
    def unlisted(self) -> bool:
        """Running (or named by the cluster) but on no list kenv knows nor in --discover."""
        return not self.components and all(kind in (POD, CONFIGMAP) for kind, _ in self.sources)

    def to_json(self) -> dict[str, Any]:
        return {
            "ref": self.reference.canonical,
            "familiar": self.reference.familiar,
            "components": list(self.components),
            "sources": [{"kind": kind, "where": where} for kind, where in self.sources],
            "running": self.running,
            "nodes": None if self.nodes is None else dict(self.nodes),
        }


@dataclass
class ImagesList:
    environment: str
    provider: str
    k8s_version: str | None
    component: str
    system: SystemList
    images: dict[str, ListedImage] = field(default_factory=dict)
    reachable: bool = False
    cluster_error: str | None = None
    node_errors: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def entry(self, reference: Reference) -> ListedImage:
        return self.images.setdefault(reference.canonical, ListedImage(reference))

    @property
    def system_missing(self) -> list[tuple[ListedImage, list[str]]]:
        """System-list images some listed node does not hold, with those nodes."""
        found = []
        for image in self.images.values():
            if SYSTEM in image.components and image.nodes:
                lacking = [node for node, held in image.nodes.items() if not held]
                if lacking:
                    found.append((image, lacking))
        return found

    @property
    def running_unlisted(self) -> list[ListedImage]:
        return [i for i in self.images.values() if i.running and i.unlisted]

    def to_json(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "provider": self.provider,
            "k8s_version": self.k8s_version,
            "component": self.component,
            "images": [i.to_json() for i in self.images.values()],
            "system_list": {
                "source": self.system.source,
                "version": self.system.version,
                "known": self.system.known,
            },
            "cluster": {
                "reachable": self.reachable,
                "error": self.cluster_error,
                "nodes": [{"name": n, "error": self.node_errors.get(n)} for n in self._node_names()],
                "system_missing": [
                    {"ref": image.reference.canonical, "nodes": nodes} for image, nodes in self.system_missing
                ],
                "running_unlisted": [image.reference.canonical for image in self.running_unlisted],
            },
            "warnings": list(self.warnings),
        }

    def _node_names(self) -> list[str]:
        names: list[str] = list(self.node_errors)
        for image in self.images.values():
            for node in image.nodes or {}:
                if node not in names:
                    names.append(node)
        return names


def list_images(
    ctx: WorkflowContext,
    name: str,
    *,
    component: str = ALL,
    discover_paths: Sequence[str] = (),
    stdin: Any = None,
) -> ImagesList:
    """What environment `name` needs (see the module doc). Bad input (unknown environment or
    component, a --discover path that does not exist) raises before anything is read."""
    check_component(component)
    env = ctx.inventory().get(name)
    # kind's system list is the one of the node image its create picks (by the kind release).
    version = ctx.node_version(env)
    listing = ImagesList(env.name, env.provider, env.k8s_version, component, system_list(env.provider, version))
    if discover_paths:
        from kenv.images.discovery import expand_paths

        expand_paths(discover_paths)  # a missing path is refused before the cluster is asked
    for entry in component_entries(component, env.provider, version):
        kind = SYSTEM_LIST if entry.component == SYSTEM else MANIFEST
        listing.entry(entry.reference).add(entry.component, kind, entry.where)
    if discover_paths:
        _add_discovered(listing, discover_paths, stdin)
    _read_cluster(ctx, env, listing)
    return listing


def _add_discovered(listing: ImagesList, paths: Sequence[str], stdin: Any) -> None:
    from kenv.images.discovery import DEFINITE, read_inputs
    from kenv.images.reference import parse_reference

    discovery = read_inputs(paths, stdin=stdin)
    listing.warnings += [w.one_line() for w in discovery.warnings]
    for image in discovery.images.values():
        entry = listing.entry(parse_reference(image.ref))
        marker = "" if image.tier == DEFINITE else f" ({image.tier})"
        for source in image.sources:
            entry.add(None, DISCOVER, f"{source.file}: {source.path}{marker}")


def _read_cluster(ctx: WorkflowContext, env: Environment, listing: ImagesList) -> None:
    """Fill `running` and `nodes` from the cluster, or say why it was not read."""
    provider = ctx.provider(env.provider)
    managed = facts_for(env.provider).managed
    if managed:
        ctx.progress.note(env.name, "asking the cluster's state")
        try:
            state = provider.state(env)
        except KenvError as exc:
            listing.cluster_error = exc.one_line()
            return
        if state is None:
            listing.cluster_error = f"no cluster: run `kenv create {env.name}`"
            return
        if not state.running:
            listing.cluster_error = f"stopped: run `kenv start {env.name}`"
            return
    kubeconfig = ctx.kubeconfig_path(env.name)
    if not kubeconfig.exists():
        listing.cluster_error = f"no kubeconfig at {kubeconfig}; run `kenv create {env.name}`"
        return
    kubectl = Kubectl(ctx.runner, kubeconfig, provider.context_name(env), timeout=30)
    ctx.progress.note(env.name, "reading pods and configmaps")
    try:
        pods = kubectl.list_all_namespaces("pods")
        configmaps = kubectl.list_all_namespaces("configmaps")
    except KenvError as exc:
        listing.cluster_error = exc.one_line()
        return
    listing.reachable = True
    _add_cluster(listing, pods, configmaps)
    if managed:
        nodes = provider.node_names(env)
        ctx.progress.note(env.name, f"listing images in {len(nodes)} node(s)")
        _add_nodes(listing, read_nodes(provider, env, nodes), nodes)


def _add_cluster(listing: ImagesList, pods: dict[str, Any], configmaps: dict[str, Any]) -> None:
    from kenv.images.cluster import cluster_images

    found = cluster_images(pods, configmaps)
    only_known = listing.component != ALL
    for ref, image in found.items():
        if only_known and ref not in listing.images:
            continue  # --component C: what the cluster says about C's images, nothing else
        entry = listing.entry(image.reference)
        for where in image.where:
            entry.add(None, POD if where.startswith("pod ") else CONFIGMAP, where)
    for ref, entry in listing.images.items():
        entry.running = ref in found and found[ref].in_pod


def _add_nodes(listing: ImagesList, nodes_listing: Listing, nodes: Sequence[str]) -> None:
    listing.node_errors = dict(nodes_listing.errors)
    readable = [n for n in nodes if nodes_listing.held.get(n) is not None]
    if not readable:
        return
    for entry in listing.images.values():
        key = presence_key(entry.reference)
        entry.nodes = {node: key in (nodes_listing.held[node] or frozenset()) for node in readable}
