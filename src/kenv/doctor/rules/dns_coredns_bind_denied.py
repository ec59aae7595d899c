"""dns.coredns-bind-denied: CoreDNS crash-loops on `listen tcp :53: bind: permission denied`."""

from __future__ import annotations

import json
from collections.abc import Iterator

from kenv.doctor.findings import Finding, Fix, object_ref
from kenv.doctor.fixes.coredns import bind_patch
from kenv.doctor.index import Index, text
from kenv.doctor.rules import Rule
from kenv.doctor.rules._common import containers, fold, kubectl, pod_refs, q
from kenv.doctor.rules._dns import bind_denied_lines, capabilities, is_coredns, kube_dns_ready, not_ready_addresses

RULE_ID = "dns.coredns-bind-denied"


def check(index: Index) -> Iterator[Finding]:
    denied = [(c, lines) for c in containers(index) if is_coredns(c.pod) and (lines := bind_denied_lines(index, c))]
    for workload, members in fold(index, denied, lambda item: item[0].pod):
        first, lines = members[0]
        drop, add = capabilities(first.spec)
        evidence = [
            f"pod {first.namespace}/{first.pod_name} container {first.name}: "
            f"{first.waiting_reason or 'restarting'}, restarts {first.restarts}, last exit "
            f"{first.last_terminated.get('exitCode', '?')} ({text(first.last_terminated.get('reason')) or '?'})",
            f"log: {lines[-1]}",
            f"securityContext.capabilities: drop {drop or '[]'}, add {add or '[]'}",
        ]
        if kube_dns_ready(index) is False:
            evidence.append(
                f"Endpoints kube-system/kube-dns has no ready address ({not_ready_addresses(index)} not ready): "
                "no pod of the cluster can resolve a name"
            )
        kind, namespace, name = workload
        base = f"/spec/template/spec/containers/{first.index}/securityContext"
        # The same patch `kenv doctor --fix` applies (kenv.doctor.fixes.coredns has why).
        patch, _ = bind_patch(first.spec, base)
        if patch[0]["path"].endswith("/drop"):
            summary_fix = (
                "NET_BIND_SERVICE is already added: run CoreDNS as root with no capability dropped, and restart it"
            )
        else:
            summary_fix = "give CoreDNS the NET_BIND_SERVICE capability (as k3s's own coredns.yaml does) and restart it"
        commands = (
            f"{kubectl(index)} -n {q(namespace)} patch {kind.lower()} {q(name)} --type=json -p {q(json.dumps(patch))}",
            f"{kubectl(index)} -n {q(namespace)} rollout restart {kind.lower()}/{q(name)}",
        )
        yield Finding(
            rule=RULE_ID,
            severity="critical",
            object=object_ref(kind, namespace, name),
            summary=(
                "CoreDNS cannot bind port 53 (bind: permission denied) and crash-loops: DNS is down for the "
                "whole cluster"
            ),
            evidence=tuple(evidence),
            fix=Fix(summary_fix, commands, "medium", True),
            symptoms=tuple(r for r in pod_refs(c for c, _ in members) if r != object_ref(kind, namespace, name)),
        )


RULE = Rule(
    id=RULE_ID,
    severity="critical",
    summary="CoreDNS crash-loops on `listen tcp :53: bind: permission denied`; every app's DNS fails with it.",
    doc=(
        "CoreDNS images from 1.11 run as non-root; with capabilities drop ALL and no NET_BIND_SERVICE (or an "
        "unprivileged-port setting that does not allow 53) it cannot bind :53, exits 1 and crash-loops. Every "
        "pod's lookups then fail, and apps crash-loop on `lookup <svc> on 10.96.0.10:53 ...`: those findings "
        "hang under this one."
    ),
    bad="securityContext: {capabilities: {drop: [ALL]}, runAsNonRoot: true}",
    good="securityContext: {capabilities: {add: [NET_BIND_SERVICE], drop: [ALL]}}",
    check=check,
    needs=("logs",),
)
