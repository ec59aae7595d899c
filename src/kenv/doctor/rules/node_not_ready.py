"""node.not-ready: a node's Ready condition is False or Unknown."""

from __future__ import annotations

from collections.abc import Iterator

from kenv.doctor.findings import Finding, Fix, object_ref
from kenv.doctor.index import Index, dicts, dig, meta, text
from kenv.doctor.rules import Rule
from kenv.doctor.rules._common import kubectl, q
from kenv.doctor.rules._nodes import start_command

RULE_ID = "node.not-ready"
NOT_READY_TAINTS = ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable")


def check(index: Index) -> Iterator[Finding]:
    for node in index.all("nodes"):
        _, name, _ = meta(node)
        ready = next((c for c in dicts(dig(node, "status", "conditions")) if text(c.get("type")) == "Ready"), None)
        if ready is None or text(ready.get("status")) == "True":
            continue
        status = text(ready.get("status")) or "?"
        why = text(ready.get("reason")) or "not ready"
        evidence = [
            f"condition Ready {status} ({text(ready.get('reason')) or '?'}): {text(ready.get('message'))}",
            f"last heartbeat {text(ready.get('lastHeartbeatTime')) or '?'}, since "
            f"{text(ready.get('lastTransitionTime')) or '?'}",
        ]
        taints = [
            text(t.get("key")) for t in dicts(dig(node, "spec", "taints")) if text(t.get("key")) in NOT_READY_TAINTS
        ]
        if taints:
            evidence.append(f"taints: {', '.join(taints)}")
        yield Finding(
            rule=RULE_ID,
            severity="critical",
            object=object_ref("Node", "", name),
            summary=(f"node {name} is not Ready ({'the kubelet stopped reporting' if status == 'Unknown' else why})"),
            evidence=tuple(evidence),
            fix=Fix(
                "start the node's container (a stopped local cluster) or read why its kubelet is not ready",
                (start_command(index, name), f"{kubectl(index)} describe node {q(name)}"),
                "low",
                False,
            ),
        )


RULE = Rule(
    id=RULE_ID,
    severity="critical",
    summary="A node is NotReady (KubeletNotReady) or Unknown (`Kubelet stopped posting node status.`).",
    doc=(
        "Ready False means the kubelet reports a problem; Unknown means it stopped reporting (a stopped node "
        "container, a full disk, a crashed kubelet). Its pods are evicted after the taint's toleration ends."
    ),
    bad="Ready Unknown  NodeStatusUnknown  Kubelet stopped posting node status.",
    good="Ready True  KubeletReady  kubelet is posting ready status",
    check=check,
)
