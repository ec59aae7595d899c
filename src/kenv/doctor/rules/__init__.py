"""The cluster rules: one module each, pure functions over the snapshot's index.

A rule has a stable id (`area.what-is-wrong`), the severity of what it finds, a one-line
summary, a doc with a bad and a good example, the snapshot parts it cannot work without, and
`check(index)` yielding findings. `RULES` lists them in the order they run and are listed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

from kenv.doctor.findings import Finding, Severity
from kenv.doctor.index import Index

# What a rule judges: the cluster rules an `Index` over a cluster snapshot, the host rules
# (kenv.doctor.host_rules) a `HostSnapshot` of this machine. The engine runs both the same way.
Subject = TypeVar("Subject")
Scope = Literal["cluster", "host"]


@dataclass(frozen=True)
class Rule(Generic[Subject]):
    id: str
    severity: Severity
    summary: str
    doc: str
    bad: str
    good: str
    check: Callable[[Subject], Iterable[Finding]]
    # Parts without which the rule would have to guess: it is skipped, and the report says so.
    needs: tuple[str, ...] = ()
    scope: Scope = "cluster"

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "scope": self.scope,
            "severity": self.severity,
            "summary": self.summary,
            "doc": self.doc,
            "bad": self.bad,
            "good": self.good,
            "needs": list(self.needs),
        }


MODULES = (
    "image_not_in_cluster",
    "image_registry_unreachable",
    "image_digest_not_found",
    "image_never_pull",
    "image_pull_always_sideloaded",
    "storage_pvc_pending",
    "dns_coredns_bind_denied",
    "dns_app_dns_failure",
    "namespace_stuck_terminating",
    "security_run_as_non_root",
    "script_crlf",
    "pod_oom_killed",
    "pod_crash_loop",
    "pod_unschedulable",
    "pod_probe_failing",
    "service_no_endpoints",
    "node_not_ready",
    "node_pressure_evictions",
)


ClusterRule = Rule[Index]


def load_rules() -> tuple[ClusterRule, ...]:
    import importlib

    rules = []
    for name in MODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        rule = module.RULE
        assert isinstance(rule, Rule)
        rules.append(rule)
    return tuple(rules)
