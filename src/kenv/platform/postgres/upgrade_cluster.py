"""A major upgrade on a cluster: the new instance's objects, made from the DEPLOYED manifests (not
a fresh render: that would revert the memory, profile or connections the deployment was made
with), and the client Service's selector patch that switches to it. Pure.

The new StatefulSet `postgres-<major>` runs the new pinned image with its own data claim
(data-postgres-<major>-0), the same ConfigMap, Secret and WAL-archive volume, and its own
instance label, so the client Service keeps reaching the old pod until the switch. The
NetworkPolicies are copied for that label (the deployed ones select the old instance only).
Archiving is off on the new instance's command line: a new cluster's WAL files start again at
timeline 1 and their names would collide with the old cluster's in the shared archive.
"""

from __future__ import annotations

import copy
import json
from typing import Any

INSTANCE_LABEL = "app.kubernetes.io/instance"
UPGRADED_FROM = "kenv.io/upgraded-from"  # on the new StatefulSet: the one --cleanup may remove
STATEFULSET_FILE = "statefulset.yaml"
POLICY_FILES = ("networkpolicy-deny.yaml", "networkpolicy-allow.yaml")


def new_name(old: str, major: int) -> str:
    return f"{old}-{major}"


def _relabel(labels: dict[str, Any] | None, name: str) -> None:
    if labels is not None and INSTANCE_LABEL in labels:
        labels[INSTANCE_LABEL] = name


def new_instance(
    deployed: dict[str, dict[str, Any]], *, major: int, current_image: str, new_image: str
) -> tuple[str, list[dict[str, Any]]]:
    """(the new StatefulSet's name, the objects to apply) from the deployed objects by file name."""
    old_sts = deployed[STATEFULSET_FILE]
    old = str(old_sts["metadata"]["name"])
    name = new_name(old, major)
    sts = copy.deepcopy(old_sts)
    meta = sts["metadata"]
    meta["name"] = name
    meta.setdefault("annotations", {})[UPGRADED_FROM] = old
    spec = sts["spec"]
    for labels in (meta.get("labels"), spec["selector"]["matchLabels"], spec["template"]["metadata"].get("labels")):
        _relabel(labels, name)
    pod = spec["template"]["spec"]
    for container in [*pod.get("initContainers", []), *pod["containers"]]:
        if container.get("image") == current_image:
            container["image"] = new_image
    server = pod["containers"][0]
    server["args"] = [*server.get("args", []), "-c", "archive_mode=off"]
    objects = [sts]
    for file in POLICY_FILES:
        if file not in deployed:
            continue
        policy = copy.deepcopy(deployed[file])
        policy["metadata"]["name"] = f"{policy['metadata']['name']}-{major}"
        _relabel(policy["metadata"].get("labels"), name)
        _relabel(policy["spec"]["podSelector"].get("matchLabels"), name)
        objects.append(policy)
    return name, objects


def switch_patch(name: str) -> str:
    """The merge patch that points the client Service at the new instance's pod."""
    return json.dumps({"spec": {"selector": {INSTANCE_LABEL: name}}}, separators=(",", ":"))
