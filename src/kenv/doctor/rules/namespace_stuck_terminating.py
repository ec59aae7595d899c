"""namespace.stuck-terminating: a namespace being deleted that does not go away, and what holds it."""

from __future__ import annotations

from collections.abc import Iterator

from kenv.doctor.findings import Finding, Fix, object_ref
from kenv.doctor.index import PART_KINDS, Index, dicts, dig, meta, seq, text
from kenv.doctor.rules import Rule
from kenv.doctor.rules._common import kubectl, q

RULE_ID = "namespace.stuck-terminating"
# Condition types that mean trouble when True (k8s pkg/controller/namespace/deletion/status_condition_utils.go).
PROBLEM_CONDITIONS = (
    "NamespaceDeletionDiscoveryFailure",
    "NamespaceDeletionGroupVersionParsingFailure",
    "NamespaceDeletionContentFailure",
    "NamespaceContentRemaining",
    "NamespaceFinalizersRemaining",
)
MAX_LISTED = 10


def check(index: Index) -> Iterator[Finding]:
    failing_apis = [
        (meta(api)[1], condition)
        for api in index.all("apiservices")
        for condition in dicts(dig(api, "status", "conditions"))
        if text(condition.get("type")) == "Available" and text(condition.get("status")) == "False"
    ]
    for namespace in index.all("namespaces"):
        _, name, _ = meta(namespace)
        deleting = text(dig(namespace, "metadata", "deletionTimestamp"))
        if not deleting and text(dig(namespace, "status", "phase")) != "Terminating":
            continue
        evidence = [f"deletionTimestamp {deleting or '?'}, phase {text(dig(namespace, 'status', 'phase')) or '?'}"]
        finalizers = [f for f in seq(dig(namespace, "spec", "finalizers")) if isinstance(f, str)]
        if finalizers:
            evidence.append(f"spec.finalizers: {finalizers}")
        evidence += [
            f"condition {text(c.get('type'))} ({text(c.get('reason'))}): {text(c.get('message'))}"
            for c in dicts(dig(namespace, "status", "conditions"))
            if text(c.get("type")) in PROBLEM_CONDITIONS and text(c.get("status")) == "True"
        ]
        remaining = []
        for part, kind in PART_KINDS.items():
            for obj in index.all(part):
                obj_namespace, obj_name, _ = meta(obj)
                if obj_namespace != name or kind in ("Namespace", "Node"):
                    continue
                held = [f for f in seq(dig(obj, "metadata", "finalizers")) if isinstance(f, str)]
                remaining.append(f"{kind}/{name}/{obj_name}" + (f" (finalizers {held})" if held else ""))
        if remaining:
            evidence.append(f"{len(remaining)} object(s) remain: " + ", ".join(remaining[:MAX_LISTED]))
        for api_name, condition in failing_apis:
            evidence.append(
                f"APIService {api_name} is not Available ({text(condition.get('reason'))}): "
                f"{text(condition.get('message'))}"
            )
        k = kubectl(index)
        commands = [
            f"{k} api-resources --verbs=list --namespaced -o name | xargs -n 1 {k} get --show-kind "
            f"--ignore-not-found -n {q(name)}"
        ]
        commands += [
            f"{k} delete apiservice {q(api_name)}  # if its backing service is gone for good"
            for api_name, _ in failing_apis[:3]
        ]
        commands.append(
            f'{k} get namespace {q(name)} -o json | python3 -c "import json,sys; d=json.load(sys.stdin); '
            f"d['spec']['finalizers']=[]; json.dump(d,sys.stdout)\" | {k} replace --raw "
            f"/api/v1/namespaces/{q(name)}/finalize -f -"
        )
        yield Finding(
            rule=RULE_ID,
            severity="error",
            object=object_ref("Namespace", "", name),
            summary=f"namespace {name} is stuck Terminating"
            + (f": {len(remaining)} object(s) remain" if remaining else "")
            + (", an APIService is unavailable" if failing_apis else ""),
            evidence=tuple(evidence),
            fix=Fix(
                "remove what blocks it (objects with finalizers, an unavailable APIService); removing the namespace "
                "finalizer is the last resort: what remains is orphaned, not cleaned up",
                tuple(commands),
                "high",
                True,
            ),
            symptoms=tuple(r.split(" (")[0] for r in remaining[:MAX_LISTED]),
        )


RULE = Rule(
    id=RULE_ID,
    severity="error",
    summary="A namespace stays Terminating: remaining resources, their finalizers, failing API services.",
    doc=(
        "A namespace with a deletionTimestamp stays until everything in it is gone. Its conditions say why "
        "(NamespaceContentRemaining, NamespaceFinalizersRemaining, NamespaceDeletionDiscoveryFailure when an "
        "aggregated APIService is down). Fix what blocks it; stripping the `kubernetes` finalizer is high risk."
    ),
    bad="kubectl get ns saas-shortener  ->  Terminating for minutes",
    good="kubectl get ns saas-shortener  ->  NotFound",
    check=check,
)
