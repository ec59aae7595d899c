"""The images a running cluster names now, from what kubectl printed (pure).

Two Lists are read: every pod (`kubectl get pods -A -o json`) and every ConfigMap (`kubectl get
configmaps -A -o json`). Both go through kenv's own discovery, so a ConfigMap that embeds a pod
(k3s's `local-path-config` with its `helperPod.yaml`, `%{...}%` placeholders or not) yields the
helper image that no pod runs until a volume is provisioned: exactly the image that is missing
when a cluster has no registry. Only `definite` finds count for pods; a ConfigMap's env-like
`probable` finds are kept and marked, since operators name their images that way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kenv.images.discovery import DEFINITE, Discovery, Source, discover_documents
from kenv.images.reference import Reference, parse_reference

PODS = "pods"
CONFIGMAPS = "configmaps"
_ITEM = re.compile(r"^items\[\d+\]\.")


@dataclass(frozen=True)
class ClusterImage:
    """One image the cluster names: `in_pod` when some pod names it (any phase), `where` says by
    what (`pod kube-system/coredns-…`, `configmap kube-system/local-path-config data.helperPod.yaml`)."""

    reference: Reference
    in_pod: bool
    where: tuple[str, ...]


def _where(source: Source, resource: str, tier: str) -> str:
    identity = "/".join(p for p in (source.namespace, source.name) if p) or "?"
    if resource == PODS:
        return f"pod {identity}"
    inside = _ITEM.sub("", source.path.split(">", 1)[0])
    marker = "" if tier == DEFINITE else f" ({tier})"
    return f"configmap {identity} {inside}{marker}"


def _without_status(listing: Mapping[str, Any]) -> dict[str, Any]:
    """The List with each item's `status` left out: a pod's spec names what it runs, while
    `containerStatuses[].image` may be what the runtime resolved (an image ID like `sha256:…`
    under Docker), which is not a reference."""
    items = listing.get("items")
    if not isinstance(items, list):
        return dict(listing)
    kept = [{k: v for k, v in item.items() if k != "status"} if isinstance(item, Mapping) else item for item in items]
    return {**listing, "items": kept}


def cluster_images(pods: Mapping[str, Any] | None, configmaps: Mapping[str, Any] | None) -> dict[str, ClusterImage]:
    """Images named by the pod List and the ConfigMap List (either may be None: not read), keyed
    by canonical reference, in the order first seen (pods first)."""
    found: dict[str, tuple[Reference, bool, list[str]]] = {}
    for resource, listing in ((PODS, pods), (CONFIGMAPS, configmaps)):
        if listing is None:
            continue
        discovery = discover_documents([_without_status(listing)], resource, Discovery())
        for image in discovery.images.values():
            if resource == PODS and image.tier != DEFINITE:
                continue
            reference, in_pod, where = found.setdefault(image.ref, (parse_reference(image.ref), False, []))
            for source in image.sources:
                text = _where(source, resource, image.tier)
                if text not in where:
                    where.append(text)
            found[image.ref] = (reference, in_pod or resource == PODS, where)
    return {ref: ClusterImage(reference, in_pod, tuple(where)) for ref, (reference, in_pod, where) in found.items()}
