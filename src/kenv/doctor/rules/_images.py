"""The findings of the image rules: one per workload and image, its pods as symptoms."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from kenv.doctor.findings import Finding, Fix, Severity, object_ref
from kenv.doctor.index import Index
from kenv.doctor.rules._common import PullFailure, fold, pod_refs, pull_failures, restart_command

HELPER_POD_PREFIX = "helper-pod-create-pvc-"


def image_findings(
    index: Index,
    rule: str,
    severity: Severity,
    explain: Callable[[Index, list[PullFailure]], tuple[str, list[str], Fix]],
) -> Iterator[Finding]:
    """One finding per (workload, image) whose pulls this rule explains."""
    failures = [f for f in pull_failures(index) if f.rule == rule]
    for workload, members in fold(index, failures, lambda f: f.container.pod, lambda f: f.container.image):
        first = members[0].container
        summary, evidence, fix = explain(index, members)
        evidence = [*_state_lines(members), *evidence]
        for failure in members:
            evidence += [line for line in failure.messages if line not in evidence][:2]
        kind, namespace, name = workload
        if first.pod_name.startswith(HELPER_POD_PREFIX):
            evidence.append(
                f"{first.pod_name} is the local-path provisioner's helper pod: its image comes from "
                f"ConfigMap {namespace}/local-path-config (helperPod.yaml), not from your manifests"
            )
        yield Finding(
            rule=rule,
            severity=severity,
            object=object_ref(kind, namespace, name),
            summary=summary,
            evidence=tuple(evidence),
            fix=fix,
            symptoms=tuple(ref for ref in pod_refs(f.container for f in members) if ref != object_ref(*workload)),
        )


def _state_lines(members: list[PullFailure]) -> list[str]:
    lines = []
    for failure in members[:3]:
        c = failure.container
        lines.append(f"pod {c.namespace}/{c.pod_name} container {c.name}: waiting {c.waiting_reason} (image {c.image})")
    if len(members) > 3:
        lines.append(f"... and {len(members) - 3} more pods of the same workload")
    return lines


def restart(index: Index, members: list[PullFailure]) -> str:
    c = members[0].container
    kind, namespace, name = index.workload(c.pod)
    if c.pod_name.startswith(HELPER_POD_PREFIX):
        return f"{restart_command(index, 'Pod', namespace, name)}  # the provisioner makes it again"
    return restart_command(index, kind, namespace, name)
