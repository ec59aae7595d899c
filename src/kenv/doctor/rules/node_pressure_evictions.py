"""node.pressure-evictions: a node under disk, memory or PID pressure, and the pods it evicted."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from kenv.doctor.findings import Finding, Fix, object_ref
from kenv.doctor.index import Index, dicts, dig, meta, text
from kenv.doctor.rules import Rule
from kenv.doctor.rules._common import kubectl
from kenv.doctor.rules._nodes import prune_command

RULE_ID = "node.pressure-evictions"
PRESSURES = ("DiskPressure", "MemoryPressure", "PIDPressure")


def check(index: Index) -> Iterator[Finding]:
    evicted: dict[str, list[Mapping[str, Any]]] = {}
    for pod in index.all("pods"):
        if text(dig(pod, "status", "phase")) == "Failed" and text(dig(pod, "status", "reason")) == "Evicted":
            evicted.setdefault(text(dig(pod, "spec", "nodeName")), []).append(pod)
    nodes = {meta(node)[1]: node for node in index.all("nodes")}
    for name in sorted(set(nodes) | set(evicted)):
        node = nodes.get(name, {})
        pressures = [
            c
            for c in dicts(dig(node, "status", "conditions"))
            if text(c.get("type")) in PRESSURES and text(c.get("status")) == "True"
        ]
        pods = evicted.get(name, [])
        if not pressures and not pods:
            continue
        evidence = [
            f"condition {text(c.get('type'))} True ({text(c.get('reason'))}): {text(c.get('message'))}"
            for c in pressures
        ]
        for pod in pods[:3]:
            namespace, pod_name, _ = meta(pod)
            evidence.append(f"pod {namespace}/{pod_name}: Evicted: {text(dig(pod, 'status', 'message'))}")
        kinds = [text(c.get("type")) for c in pressures]
        label = name or "an unknown node"
        summary = (
            f"node {label} is under {', '.join(kinds)}" + (f" and evicted {len(pods)} pod(s)" if pods else "")
            if pressures
            else f"{len(pods)} pod(s) were evicted from node {label} (the pressure has passed)"
        )
        commands = [f"{kubectl(index)} delete pods -A --field-selector=status.phase=Failed  # evicted pods stay listed"]
        if "DiskPressure" in kinds or any("ephemeral-storage" in text(dig(p, "status", "message")) for p in pods):
            commands.insert(0, prune_command(index, name))
            commands.insert(
                1, "docker system df  # the host's disk is the node's disk for k3d/kind/minikube (docker driver)"
            )
        yield Finding(
            rule=RULE_ID,
            severity="error" if pressures else "warning",
            object=object_ref("Node", "", name) if name else "Node//",
            summary=summary,
            evidence=tuple(evidence),
            fix=Fix(
                "free what runs out (unused images, logs, volumes) or give the node more",
                tuple(commands),
                "medium",
                False,
            ),
            symptoms=tuple(object_ref("Pod", *meta(p)[:2]) for p in pods),
        )


RULE = Rule(
    id=RULE_ID,
    severity="warning",
    summary=(
        "A node has DiskPressure/MemoryPressure/PIDPressure, or pods were Evicted (`The node was low on "
        "resource: ...`)."
    ),
    doc=(
        "kubelet evicts pods when a resource runs low: `phase: Failed, reason: Evicted, message: The node was low "
        "on resource: ephemeral-storage.` A local cluster's nodes share the host's disk: unused images fill it."
    ),
    bad="DiskPressure True  KubeletHasDiskPressure  kubelet has disk pressure",
    good="DiskPressure False  KubeletHasNoDiskPressure",
    check=check,
)
