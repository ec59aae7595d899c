"""pod.unschedulable: a pod stays Pending because no node can take it."""

from __future__ import annotations

from collections.abc import Iterator

from kenv.doctor.findings import Finding, Fix, object_ref
from kenv.doctor.index import Index, dicts, dig, meta, text
from kenv.doctor.rules import Rule
from kenv.doctor.rules._common import claim_names, fold, kubectl, pod_events, q

RULE_ID = "pod.unschedulable"


def check(index: Index) -> Iterator[Finding]:
    stuck = []
    for pod in index.all("pods"):
        if text(dig(pod, "status", "phase")) != "Pending":
            continue
        condition = next(
            (c for c in dicts(dig(pod, "status", "conditions")) if text(c.get("type")) == "PodScheduled"), None
        )
        if condition is not None and text(condition.get("status")) == "True":
            continue  # scheduled: what FailedScheduling said earlier is history
        scheduled_false = condition is not None and text(condition.get("status")) == "False"
        events = [e for e in pod_events(index, pod) if e.reason == "FailedScheduling"]
        if not scheduled_false and not events:
            continue
        stuck.append((pod, condition or {}, events))
    for workload, members in fold(index, stuck, lambda item: item[0]):
        pod, condition, events = members[0]
        namespace, name, _ = meta(pod)
        message = text(condition.get("message")) or (events[-1].message if events else "")
        evidence = [
            f"pod {namespace}/{name}: Pending, PodScheduled False ({text(condition.get('reason')) or '?'}): {message}"
        ]
        evidence += [e.line() for e in events[-2:]]
        claims = claim_names(pod)
        pending = [
            c
            for c in claims
            if text(dig(index.get("PersistentVolumeClaim", namespace, c), "status", "phase")) == "Pending"
        ]
        suspects = tuple(object_ref("PersistentVolumeClaim", namespace, c) for c in pending)
        if pending:
            evidence.append(f"claim(s) Pending: {', '.join(pending)}")
            summary = f"pod {name} cannot be scheduled: its volume claim is not bound"
        else:
            summary = f"pod {name} cannot be scheduled: {message or 'no node fits'}"
        yield Finding(
            rule=RULE_ID,
            severity="error",
            object=object_ref(*workload),
            summary=summary,
            evidence=tuple(evidence),
            fix=Fix(
                "fix what the scheduler names: resources requested, node selectors/affinity, taints, or the claim",
                (f"{kubectl(index)} -n {q(namespace)} describe pod {q(name)}",),
                "low",
                False,
            ),
            symptoms=tuple(
                r
                for r in dict.fromkeys(object_ref("Pod", *meta(p)[:2]) for p, _, _ in members)
                if r != object_ref(*workload)
            ),
            suspects=suspects,
        )


RULE = Rule(
    id=RULE_ID,
    severity="error",
    summary="A pod stays Pending: PodScheduled=False (Unschedulable), FailedScheduling `0/N nodes are available`.",
    doc=(
        "The scheduler found no node: not enough CPU or memory, a selector or taint, or a volume that cannot "
        'bind (`running PreBind plugin "VolumeBinding": binding volumes: context deadline exceeded`), in which '
        "case the finding hangs under its claim's."
    ),
    bad="0/1 nodes are available: 1 Insufficient memory.",
    good="PodScheduled True",
    check=check,
)
