"""security.run-as-non-root: runAsNonRoot with an image that runs as root (CreateContainerConfigError)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from kenv.doctor.findings import Finding, Fix, object_ref
from kenv.doctor.index import Index
from kenv.doctor.rules import Rule
from kenv.doctor.rules._common import containers, fold, pod_events, pod_refs

RULE_ID = "security.run-as-non-root"
# kubelet's messages (k8s pkg/kubelet/kuberuntime/security_context_others.go).
NON_ROOT = re.compile(
    r"runAsNonRoot and image will run as root|image has non-numeric user \(.*\), cannot verify user is non-root"
    r"|runAsUser breaks non-root policy|runAsNonRoot and image has .*invalid user id"
)


def check(index: Index) -> Iterator[Finding]:
    hits = []
    for c in containers(index):
        if c.waiting_reason != "CreateContainerConfigError":
            continue
        lines = [c.waiting_message] if NON_ROOT.search(c.waiting_message) else []
        lines += [e.line() for e in pod_events(index, c.pod) if e.reason == "Failed" and NON_ROOT.search(e.message)][
            -1:
        ]
        if lines:
            hits.append((c, lines))
    for workload, members in fold(index, hits, lambda item: item[0].pod, lambda item: item[0].name):
        first, lines = members[0]
        yield Finding(
            rule=RULE_ID,
            severity="error",
            object=object_ref(*workload),
            summary=f"container {first.name} requires a non-root user but image {first.image} runs as root",
            evidence=(f"pod {first.namespace}/{first.pod_name}: waiting CreateContainerConfigError", *lines),
            fix=Fix(
                "set a numeric non-root runAsUser (e.g. securityContext.runAsUser: 1000) the image supports, or use an "
                "image built with a numeric non-root USER; dropping runAsNonRoot gives up the protection",
                (),
                "medium",
                False,
            ),
            symptoms=tuple(r for r in pod_refs(c for c, _ in members) if r != object_ref(*workload)),
        )


RULE = Rule(
    id=RULE_ID,
    severity="error",
    summary="runAsNonRoot is set but the image runs as root (or a non-numeric user): the container never starts.",
    doc=(
        "kubelet refuses to start the container: `container has runAsNonRoot and image will run as root (pod: ..., "
        "container: ...)`; the pod stays Pending with CreateContainerConfigError and restartCount 0."
    ),
    bad="securityContext: {runAsNonRoot: true}   # image postgres:16-alpine starts as root",
    good="securityContext: {runAsNonRoot: true, runAsUser: 70}   # postgres's numeric user in alpine",
    check=check,
)
