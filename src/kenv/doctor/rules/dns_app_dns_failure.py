"""dns.app-dns-failure: apps fail on name lookups; under the CoreDNS finding when that is the cause."""

from __future__ import annotations

from collections.abc import Iterator

from kenv.doctor.findings import Finding, Fix, object_ref
from kenv.doctor.index import Index
from kenv.doctor.rules import Rule
from kenv.doctor.rules._common import (
    Container,
    containers,
    fold,
    kubectl,
    log_text,
    matching_lines,
    pod_refs,
    restart_command,
)
from kenv.doctor.rules._dns import APP_DNS_FAILURE, is_coredns, kube_dns_ready, not_ready_addresses

RULE_ID = "dns.app-dns-failure"


def dns_failure_lines(index: Index, container: Container) -> list[str]:
    unhealthy = container.restarts > 0 or container.waiting_reason == "CrashLoopBackOff" or not container.ready
    if not unhealthy or is_coredns(container.pod):
        return []
    return matching_lines(log_text(index, container), APP_DNS_FAILURE, 2)


def check(index: Index) -> Iterator[Finding]:
    failing = [(c, lines) for c in containers(index) if (lines := dns_failure_lines(index, c))]
    if not failing:
        return
    coredns = [object_ref("Pod", c.namespace, c.pod_name) for c in containers(index) if is_coredns(c.pod)]
    dns_ready = kube_dns_ready(index)
    for workload, members in fold(index, failing, lambda item: item[0].pod):
        first, lines = members[0]
        evidence = [
            f"pod {first.namespace}/{first.pod_name} container {first.name}: "
            f"{first.waiting_reason or 'not ready'}, restarts {first.restarts}",
            *(f"log: {line}" for line in lines),
        ]
        if dns_ready is False:
            evidence.append(
                f"Endpoints kube-system/kube-dns has no ready address ({not_ready_addresses(index)} not ready)"
            )
            summary = "name lookups fail because the cluster DNS (CoreDNS) is down"
            fix = Fix(
                "fix CoreDNS first (see the finding this hangs under), then restart these pods",
                (restart_command(index, *workload),),
                "low",
                False,  # fixed with its cause: kenv doctor --fix repairs CoreDNS, not these pods
            )
        else:
            summary = "name lookups fail in this workload's pods"
            fix = Fix(
                "check the name it looks up exists (kubectl get svc -A) and that CoreDNS answers",
                (f"{kubectl(index)} -n kube-system logs -l k8s-app=kube-dns --tail=50",),
                "low",
                False,
            )
        yield Finding(
            rule=RULE_ID,
            severity="error",
            object=object_ref(*workload),
            summary=summary,
            evidence=tuple(evidence),
            fix=fix,
            symptoms=tuple(r for r in pod_refs(c for c, _ in members) if r != object_ref(*workload)),
            suspects=tuple(coredns) + (("Endpoints/kube-system/kube-dns",) if dns_ready is False else ()),
        )


RULE = Rule(
    id=RULE_ID,
    severity="error",
    summary=(
        "Apps crash or fail on DNS lookups (no such host, i/o timeout, EAI_AGAIN), linked to CoreDNS when it is down."
    ),
    doc=(
        "An app's log says `lookup postgres-service on 10.96.0.10:53: ... connection refused` or `Temporary "
        "failure in name resolution`. When CoreDNS is down (kube-dns has only notReadyAddresses) the app is a "
        "symptom: the finding hangs under CoreDNS's, and restarting the app before fixing DNS changes nothing."
    ),
    bad="hostname resolving error (lookup postgres-service on 10.96.0.10:53: read udp ...: connection refused)",
    good="CoreDNS Running and Ready; the app's lookups answer",
    check=check,
    needs=("logs",),
)
