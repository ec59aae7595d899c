"""pod.oom-killed: a container was killed for using more memory than its limit."""

from __future__ import annotations

import re
from collections.abc import Iterator

from kenv.doctor.findings import Finding, Fix, object_ref
from kenv.doctor.index import Index, dig, text
from kenv.doctor.rules import Rule
from kenv.doctor.rules._common import Container, containers, fold, kubectl, pod_refs, q

RULE_ID = "pod.oom-killed"
QUANTITY = re.compile(r"^(\d+)(Ki|Mi|Gi|Ti|k|M|G|T)?$")


def oom_killed(c: Container) -> bool:
    return text(c.last_terminated.get("reason")) == "OOMKilled" or text(c.terminated.get("reason")) == "OOMKilled"


def doubled(quantity: str) -> str | None:
    match = QUANTITY.match(quantity)
    return f"{int(match.group(1)) * 2}{match.group(2) or ''}" if match else None


def check(index: Index) -> Iterator[Finding]:
    killed = [c for c in containers(index) if oom_killed(c)]
    for workload, members in fold(index, killed, lambda c: c.pod, lambda c: c.name):
        first = members[0]
        limit = text(dig(first.spec, "resources", "limits", "memory"))
        last = first.last_terminated or first.terminated
        evidence = [
            f"pod {first.namespace}/{first.pod_name} container {first.name}: terminated OOMKilled "
            f"(exit {last.get('exitCode', 137)}, finished {text(last.get('finishedAt')) or '?'}), restarts "
            f"{first.restarts}",
            f"resources.limits.memory: {limit or 'none (the node ran out of memory)'}",
        ]
        kind, namespace, name = workload
        larger = doubled(limit) if limit else None
        commands: tuple[str, ...] = ()
        if larger and kind in ("Deployment", "StatefulSet", "DaemonSet"):
            commands = (
                f"{kubectl(index)} -n {q(namespace)} set resources {kind.lower()}/{q(name)} -c {q(first.name)} "
                f"--limits=memory={larger}",
            )
        yield Finding(
            rule=RULE_ID,
            severity="error",
            object=object_ref(*workload),
            summary=f"container {first.name} was OOMKilled" + (f" at its {limit} memory limit" if limit else ""),
            evidence=tuple(evidence),
            fix=Fix(
                f"raise the memory limit{f' (e.g. to {larger})' if larger else ''} or make the program use less",
                commands,
                "low",
                False,
            ),
            symptoms=tuple(r for r in pod_refs(members) if r != object_ref(*workload)),
        )


RULE = Rule(
    id=RULE_ID,
    severity="error",
    summary="A container was OOMKilled (exit 137): its memory limit is too low for it.",
    doc="`lastState.terminated.reason: OOMKilled`, exit 137: the kernel killed it at its cgroup memory limit.",
    bad="resources: {limits: {memory: 64Mi}}   # the JVM needs 300Mi",
    good="resources: {limits: {memory: 512Mi}}",
    check=check,
)
