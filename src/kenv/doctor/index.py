"""Indexes built once per run so that every rule looks objects and events up in O(1).

A snapshot of 10,000 pods and 50,000 events must be judged in seconds: no rule may scan the
events for each pod. `Index` keys every object by (kind, namespace, name) and by uid, groups the
events by the object they are about (core v1 `involvedObject` or events.k8s.io `regarding`), and
answers the questions several rules ask: the workload a pod belongs to (ownerReferences walked
Pod→ReplicaSet→Deployment, Pod→Job→CronJob), which cluster this is and with which tool it was
made, whether an image is inside the nodes or on the host.

Snapshots come from a file a user hands in: every accessor here tolerates missing fields and
wrong types (a string where a list should be) and answers "nothing" instead of raising.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

# The snapshot's parts (kubectl resource plurals) and the kind their objects have.
PART_KINDS: dict[str, str] = {
    "pods": "Pod",
    "pvcs": "PersistentVolumeClaim",
    "pvs": "PersistentVolume",
    "storageclasses": "StorageClass",
    "configmaps": "ConfigMap",
    "namespaces": "Namespace",
    "nodes": "Node",
    "deployments": "Deployment",
    "replicasets": "ReplicaSet",
    "statefulsets": "StatefulSet",
    "daemonsets": "DaemonSet",
    "jobs": "Job",
    "cronjobs": "CronJob",
    "services": "Service",
    "endpoints": "Endpoints",
    "apiservices": "APIService",
}
CLUSTER_SCOPED = frozenset({"Namespace", "Node", "PersistentVolume", "StorageClass", "APIService"})
# A pod's owner worth naming: the workload a user applied, not the ReplicaSet a Deployment made.
WORKLOAD_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "ReplicaSet"})
# kubelet reports at most this many images in node.status.images (nodeStatusMaxImages): a shorter
# list is complete, a list this long may not name an image the node holds.
NODE_STATUS_MAX_IMAGES = 50
MAX_REFERENCE_CHARS = 1024
K3D_NODE = re.compile(r"^k3d-(?P<cluster>.+)-(?:server|agent)-\d+$")
KIND_PROVIDER_ID = re.compile(r"^kind://[^/]+/(?P<cluster>[^/]+)/")


class LogLike(Protocol):
    @property
    def current(self) -> str | None: ...
    @property
    def previous(self) -> str | None: ...


class SnapshotLike(Protocol):
    """What the rules read of `kenv.doctor.snapshot.Snapshot`."""

    @property
    def environment(self) -> str | None: ...
    @property
    def provider(self) -> str | None: ...
    @property
    def logs(self) -> Mapping[tuple[str, str, str], LogLike]: ...
    @property
    def node_images(self) -> Mapping[str, frozenset[str]] | None: ...
    @property
    def host_images(self) -> frozenset[str] | None: ...
    def has(self, part: str) -> bool: ...
    def items(self, part: str) -> tuple[dict[str, Any], ...]: ...


# -- tolerant accessors ----------------------------------------------------------------------


def text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def seq(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def dicts(value: Any) -> list[Mapping[str, Any]]:
    return [item for item in seq(value) if isinstance(item, dict)]


def dig(obj: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def number(value: Any, default: int = 0) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def meta(obj: Mapping[str, Any]) -> tuple[str, str, str]:
    """(namespace, name, uid), empty strings for what is missing."""
    m = mapping(obj.get("metadata"))
    return text(m.get("namespace")), text(m.get("name")), text(m.get("uid"))


def labels(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return mapping(dig(obj, "metadata", "labels"))


# -- events ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    """One event in either API's shape: core v1 (`involvedObject`, `message`, `count`,
    `firstTimestamp`/`lastTimestamp`) or events.k8s.io/v1 (`regarding`, `note`,
    `deprecatedCount`/`deprecated*Timestamp`, `eventTime`); `series` counts repeats in both."""

    kind: str
    namespace: str
    name: str
    uid: str
    reason: str
    type: str
    message: str
    count: int
    first: str
    last: str

    def line(self) -> str:
        times = f"x{self.count}" + (f", last {self.last}" if self.last else "")
        return f"event {self.type or '?'} {self.reason} ({times}): {self.message}"


def parse_event(raw: Mapping[str, Any]) -> Event | None:
    about = raw.get("involvedObject")
    if not isinstance(about, dict):
        about = raw.get("regarding")
    if not isinstance(about, dict):
        return None
    series = mapping(raw.get("series"))
    count = max(number(raw.get("count")), number(raw.get("deprecatedCount")), number(series.get("count")), 1)
    first = text(raw.get("firstTimestamp")) or text(raw.get("deprecatedFirstTimestamp")) or text(raw.get("eventTime"))
    last = (
        text(series.get("lastObservedTime"))
        or text(raw.get("lastTimestamp"))
        or text(raw.get("deprecatedLastTimestamp"))
        or text(raw.get("eventTime"))
        or first
    )
    return Event(
        kind=text(about.get("kind")),
        namespace=text(about.get("namespace")) or text(dig(raw, "metadata", "namespace")),
        name=text(about.get("name")),
        uid=text(about.get("uid")),
        reason=text(raw.get("reason")),
        type=text(raw.get("type")),
        message=text(raw.get("message")) or text(raw.get("note")),
        count=count,
        first=first,
        last=last,
    )


# -- the cluster -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Cluster:
    """Which tool made the cluster and its name there: what the fix commands need."""

    provider: str | None  # k3d, kind, minikube, external, or None when nothing says
    name: str | None  # the tool's cluster (k3d, kind) or profile (minikube) name
    environment: str | None  # the kenv environment, when the snapshot came from kenv


def identify_cluster(nodes: Iterable[Mapping[str, Any]], provider: str | None, environment: str | None) -> Cluster:
    """From the nodes' own evidence (kind's providerID, k3d's node names, minikube's label),
    else from what the snapshot says."""
    for node in nodes:
        _, name, _ = meta(node)
        provider_id = text(dig(node, "spec", "providerID"))
        match = KIND_PROVIDER_ID.match(provider_id)
        if match:
            return Cluster("kind", match["cluster"], environment)
        profile = text(labels(node).get("minikube.k8s.io/name"))
        if profile:
            return Cluster("minikube", profile, environment)
        match = K3D_NODE.match(name)
        if match and (provider_id.startswith("k3s://") or not provider_id):
            return Cluster("k3d", match["cluster"], environment)
    if provider in ("k3d", "kind", "minikube") and environment:
        # kenv names the tool's cluster after the environment.
        return Cluster(provider, environment, environment)
    return Cluster(provider, None, environment)


# -- the index -------------------------------------------------------------------------------

Key = tuple[str, str, str]


class Index:
    def __init__(self, snapshot: SnapshotLike) -> None:
        self.snapshot = snapshot
        self.by_key: dict[Key, Mapping[str, Any]] = {}
        self.by_uid: dict[str, tuple[str, Mapping[str, Any]]] = {}
        self.objects: dict[str, list[Mapping[str, Any]]] = {}
        for part, kind in PART_KINDS.items():
            found: list[Mapping[str, Any]] = []
            for obj in snapshot.items(part) if snapshot.has(part) else ():
                if not isinstance(obj, dict):
                    continue
                namespace, name, uid = meta(obj)
                if not name:
                    continue
                namespace = "" if kind in CLUSTER_SCOPED else namespace
                found.append(obj)
                self.by_key[(kind, namespace, name)] = obj
                if uid:
                    self.by_uid[uid] = (kind, obj)
            self.objects[part] = found
        self._events: dict[Key, list[Event]] = {}
        for raw in snapshot.items("events") if snapshot.has("events") else ():
            if not isinstance(raw, dict):
                continue
            event = parse_event(raw)
            if event is None or not event.name:
                continue
            namespace = "" if event.kind in CLUSTER_SCOPED else event.namespace
            self._events.setdefault((event.kind, namespace, event.name), []).append(event)
        self.cluster = identify_cluster(self.objects["nodes"], snapshot.provider, snapshot.environment)
        self._presence_cache: dict[str, str | None] = {}
        # Derived views several rules share (containers, claims in use), computed on first use.
        self.memo: dict[str, Any] = {}
        self._node_status_images: tuple[frozenset[str], bool] | None = None

    # objects -----------------------------------------------------------------------------

    def has(self, part: str) -> bool:
        return self.snapshot.has(part)

    def all(self, part: str) -> list[Mapping[str, Any]]:
        return self.objects.get(part, [])

    def get(self, kind: str, namespace: str, name: str) -> Mapping[str, Any] | None:
        return self.by_key.get((kind, "" if kind in CLUSTER_SCOPED else namespace, name))

    def events_for(self, kind: str, namespace: str, name: str, uid: str = "") -> list[Event]:
        """Every event about this object over its whole history, oldest first. An event naming
        another uid was about an earlier object of the same name and is left out."""
        found = self._events.get((kind, "" if kind in CLUSTER_SCOPED else namespace, name), [])
        if uid:
            found = [event for event in found if not event.uid or event.uid == uid]
        return sorted(found, key=lambda event: (event.last, event.first))

    def owner(self, obj: Mapping[str, Any]) -> tuple[str, str] | None:
        """The controlling owner's (kind, name) as the ownerReference names it."""
        refs = dicts(dig(obj, "metadata", "ownerReferences"))
        chosen = next((ref for ref in refs if ref.get("controller") is True), refs[0] if refs else None)
        if chosen is None or not text(chosen.get("kind")) or not text(chosen.get("name")):
            return None
        return text(chosen.get("kind")), text(chosen.get("name"))

    def workload(self, obj: Mapping[str, Any], kind: str = "Pod") -> tuple[str, str, str]:
        """The top of the ownership chain as (kind, namespace, name): a Deployment for a pod of a
        ReplicaSet it owns, a CronJob for a pod of its Job, the object itself when nothing owns it."""
        namespace, name, _ = meta(obj)
        current_kind, current_name, current = kind, name, obj
        for _ in range(4):  # Pod → ReplicaSet → Deployment, Pod → Job → CronJob: never deeper
            owner = self.owner(current) if current is not None else None
            if owner is None or owner[0] not in WORKLOAD_KINDS:
                break
            current_kind, current_name = owner
            found = self.get(current_kind, namespace, current_name)
            if found is None:
                break
            current = found
        return current_kind, namespace, current_name

    # logs and images ---------------------------------------------------------------------

    def log(self, namespace: str, pod: str, container: str) -> LogLike | None:
        logs = self.snapshot.logs if self.snapshot.has("logs") else {}
        return logs.get((namespace, pod, container))

    def presence_key(self, image: str) -> str | None:
        if len(image) > MAX_REFERENCE_CHARS:
            return None  # no registry serves such a name; parsing it would only cost time
        if image not in self._presence_cache:
            from kenv.images.nodes import presence_key
            from kenv.images.reference import InvalidReference, parse_reference

            try:
                self._presence_cache[image] = presence_key(parse_reference(image))
            except InvalidReference:
                self._presence_cache[image] = None
        return self._presence_cache[image]

    def in_nodes(self, image: str) -> bool | None:
        """True when every node holds the image, False when one lacks it, None when unknown.

        From the nodes' own listings when the snapshot has them, else from node.status.images,
        which proves absence only when it is shorter than kubelet's cap."""
        key = self.presence_key(image)
        if key is None:
            return None
        node_images = self.snapshot.node_images if self.snapshot.has("node_images") else None
        if node_images:
            return all(key in held for held in node_images.values())
        status = self._status_images()
        if status is None:
            return None
        names, complete = status
        if key in names:
            return True
        return False if complete else None

    def _status_images(self) -> tuple[frozenset[str], bool] | None:
        if self._node_status_images is None:
            nodes = self.all("nodes")
            if not nodes:
                return None
            names: set[str] = set()
            complete = True
            # The intersection would be exact; a union is what one Pending pod needs: "no node has it".
            for node in nodes:
                images = dicts(dig(node, "status", "images"))
                if len(images) >= NODE_STATUS_MAX_IMAGES:
                    complete = False
                for image in images:
                    for held in seq(image.get("names")):
                        if isinstance(held, str):
                            key = self.presence_key(held)
                            if key:
                                names.add(key)
            self._node_status_images = (frozenset(names), complete)
        return self._node_status_images

    def on_host(self, image: str) -> bool | None:
        host = self.snapshot.host_images if self.snapshot.has("host_images") else None
        if host is None:
            return None
        key = self.presence_key(image)
        return None if key is None else key in host
