"""pod.crash-loop: a container keeps crashing for a reason no more specific rule explains."""

from __future__ import annotations

from collections.abc import Iterator

from kenv.doctor.findings import Finding, Fix, object_ref
from kenv.doctor.index import Index, text
from kenv.doctor.rules import Rule
from kenv.doctor.rules._common import (
    Container,
    containers,
    fold,
    kubectl,
    log_text,
    pod_events,
    pod_refs,
    q,
    tail_lines,
)
from kenv.doctor.rules._dns import bind_denied_lines
from kenv.doctor.rules.dns_app_dns_failure import dns_failure_lines
from kenv.doctor.rules.pod_oom_killed import oom_killed
from kenv.doctor.rules.script_crlf import CRLF_SYMPTOM, claimed

RULE_ID = "pod.crash-loop"


def explained_elsewhere(index: Index, c: Container) -> bool:
    """A crash a specific rule owns: OOMKilled, CoreDNS's bind, DNS lookups, a CRLF script mounted."""
    return bool(oom_killed(c) or bind_denied_lines(index, c) or dns_failure_lines(index, c) or claimed(index, c))


def check(index: Index) -> Iterator[Finding]:
    looping = [
        c for c in containers(index) if c.waiting_reason == "CrashLoopBackOff" and not explained_elsewhere(index, c)
    ]
    for workload, members in fold(index, looping, lambda c: c.pod, lambda c: c.name):
        first = members[0]
        last = first.last_terminated
        exit_code = last.get("exitCode", "?")
        evidence = [
            f"pod {first.namespace}/{first.pod_name} container {first.name}: CrashLoopBackOff, restarts "
            f"{first.restarts}",
            f"last termination: {text(last.get('reason')) or '?'}, exit {exit_code}, finished "
            f"{text(last.get('finishedAt')) or '?'}",
        ]
        if text(last.get("message")):
            evidence.append(f"termination message: {text(last.get('message'))}")
        evidence += [e.line() for e in pod_events(index, first.pod) if e.reason == "BackOff"][-1:]
        body = log_text(index, first)
        evidence += [f"log: {line}" for line in tail_lines(body)]
        hint = ""
        if exit_code == 127 or (body and CRLF_SYMPTOM.search(body)):
            hint = " (exit 127 or a `\\r` in the log: a script with CRLF line ends or a missing command)"
        _kind, namespace, _name = workload
        yield Finding(
            rule=RULE_ID,
            severity="error",
            object=object_ref(*workload),
            summary=f"container {first.name} crash-loops (last exit {exit_code}){hint}",
            evidence=tuple(evidence),
            fix=Fix(
                "read why it exits: its previous log and the last termination",
                (
                    f"{kubectl(index)} -n {q(namespace)} logs {q(first.pod_name)} -c {q(first.name)} --previous "
                    "--tail=50",
                    f"{kubectl(index)} -n {q(namespace)} describe pod {q(first.pod_name)}",
                ),
                "low",
                False,
            ),
            symptoms=tuple(r for r in pod_refs(members) if r != object_ref(*workload)),
        )


RULE = Rule(
    id=RULE_ID,
    severity="error",
    summary="A container crash-loops; the finding gives its last termination and log tail.",
    doc=(
        "CrashLoopBackOff (`back-off <d> restarting failed container=<c> pod=<p>`) with the last termination "
        "reason and exit code and the previous log's tail. Crashes a specific rule explains (OOMKilled, CoreDNS "
        "bind, DNS failures, CRLF scripts) are reported by that rule instead."
    ),
    bad="state: {waiting: {reason: CrashLoopBackOff}}, lastState: {terminated: {exitCode: 1}}",
    good="state: {running: {}}, ready: true",
    check=check,
)
