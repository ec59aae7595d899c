"""pod.probe-failing: a running container fails its readiness, liveness or startup probe."""

from __future__ import annotations

from collections.abc import Iterator

from kenv.doctor.findings import Finding, Fix, object_ref
from kenv.doctor.index import Index
from kenv.doctor.rules import Rule
from kenv.doctor.rules._common import containers, fold, kubectl, pod_events, pod_refs, q

RULE_ID = "pod.probe-failing"
PROBE_FAILED = ("Readiness probe failed", "Liveness probe failed", "Startup probe failed")


def check(index: Index) -> Iterator[Finding]:
    failing = []
    for c in containers(index):
        if c.init or not c.running or c.ready:
            continue
        unhealthy = [
            e for e in pod_events(index, c.pod) if e.reason == "Unhealthy" and e.message.startswith(PROBE_FAILED)
        ]
        if unhealthy:
            failing.append((c, unhealthy))
    for workload, members in fold(index, failing, lambda item: item[0].pod, lambda item: item[0].name):
        first, events = members[0]
        _kind, namespace, _name = workload
        yield Finding(
            rule=RULE_ID,
            severity="warning",
            object=object_ref(*workload),
            summary=f"container {first.name} is running but fails its probe, so it gets no traffic",
            evidence=(
                f"pod {first.namespace}/{first.pod_name} container {first.name}: running, ready false",
                *(e.line() for e in events[-2:]),
            ),
            fix=Fix(
                "check the probe's path, port and timing against what the app serves",
                (f"{kubectl(index)} -n {q(namespace)} describe pod {q(first.pod_name)}",),
                "low",
                False,
            ),
            symptoms=tuple(r for r in pod_refs(c for c, _ in members) if r != object_ref(*workload)),
        )


RULE = Rule(
    id=RULE_ID,
    severity="warning",
    summary="A running container is not ready: its probe fails (event Unhealthy `Readiness probe failed: ...`).",
    doc="Running but `ready: false`, with Unhealthy events over the pod's history; its Service gets no endpoint.",
    bad="readinessProbe: {httpGet: {path: /healthz, port: 8080}}   # the app serves /health on 8000",
    good="readinessProbe: {httpGet: {path: /health, port: 8000}}",
    check=check,
    needs=("events",),
)
