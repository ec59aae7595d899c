"""service.no-endpoints: a Service with a selector has no ready endpoint."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from kenv.doctor.findings import Finding, Fix, object_ref
from kenv.doctor.index import Index, dicts, dig, mapping, meta, text
from kenv.doctor.rules import Rule
from kenv.doctor.rules._common import kubectl, label_selector, q, selects

RULE_ID = "service.no-endpoints"
MAX_SUSPECTS = 20


def _pods_by_namespace(index: Index) -> dict[str, list[Mapping[str, Any]]]:
    pods: dict[str, list[Mapping[str, Any]]] = {}
    for pod in index.all("pods"):
        pods.setdefault(meta(pod)[0], []).append(pod)
    return pods


def check(index: Index) -> Iterator[Finding]:
    pods: dict[str, list[Mapping[str, Any]]] | None = None
    for service in index.all("services"):
        namespace, name, _ = meta(service)
        selector = mapping(dig(service, "spec", "selector"))
        if not selector or text(dig(service, "spec", "type")) == "ExternalName":
            continue
        endpoints = index.get("Endpoints", namespace, name)
        subsets = dicts(endpoints.get("subsets")) if endpoints is not None else []
        if any(dicts(subset.get("addresses")) for subset in subsets):
            continue
        not_ready = sum(len(dicts(subset.get("notReadyAddresses"))) for subset in subsets)
        if pods is None:
            pods = _pods_by_namespace(index)
        selected = [p for p in pods.get(namespace, []) if selects(selector, p)]
        shown = label_selector(selector)
        evidence = [f"selector {shown}: {len(selected)} pod(s) match"]
        evidence.append(
            f"Endpoints {namespace}/{name}: " + (f"{not_ready} address(es), none ready" if not_ready else "no address")
            if endpoints is not None
            else f"no Endpoints {namespace}/{name}"
        )
        if selected:
            summary = f"Service {name} has no ready endpoint: its {len(selected)} pod(s) are not ready"
            fix_summary = "make the selected pods ready (their own findings say why)"
        else:
            summary = f"Service {name} has no endpoint: no pod matches its selector {shown}"
            fix_summary = "fix the selector or the pods' labels so that they match"
        yield Finding(
            rule=RULE_ID,
            severity="warning",
            object=object_ref("Service", namespace, name),
            summary=summary,
            evidence=tuple(evidence),
            fix=Fix(fix_summary, (f"{kubectl(index)} -n {q(namespace)} get pods -l {q(shown)} -o wide",), "low", False),
            suspects=tuple(object_ref("Pod", *meta(p)[:2]) for p in selected[:MAX_SUSPECTS]),
        )


RULE = Rule(
    id=RULE_ID,
    severity="warning",
    summary="A Service with a selector has no ready endpoint (no pod matches, or none is ready).",
    doc=(
        "Endpoints subsets are empty or hold only notReadyAddresses: the Service answers nothing. When the "
        "selected pods have their own finding, this one hangs under it."
    ),
    bad="selector: {app: web}   # the pods are labelled app.kubernetes.io/name=web",
    good="selector: {app.kubernetes.io/name: web}",
    check=check,
    needs=("endpoints",),
)
