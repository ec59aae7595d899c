"""image.pull-always-sideloaded: an imported image with pull policy Always (or `:latest`)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from kenv.doctor.findings import Finding, Fix, object_ref
from kenv.doctor.index import Index
from kenv.doctor.rules import Rule
from kenv.doctor.rules._common import ALWAYS_SIDELOADED, PullFailure, containers, fold, kubectl, pod_refs, q
from kenv.doctor.rules._images import image_findings


def explain(index: Index, members: list[PullFailure]) -> tuple[str, list[str], Fix]:
    c = members[0].container
    summary = (
        f"{c.image} is inside the nodes, but pull policy Always makes kubelet ask the registry for it, which fails"
    )
    return summary, _evidence(index, c.pull_policy, c.image), _fix(index, c.pod, c.name)


def _evidence(index: Index, policy: str, image: str) -> list[str]:
    said = f"imagePullPolicy: {policy}" if policy else f"no imagePullPolicy and {image} has the latest tag: Always"
    held = f"every node already holds {image}"
    if index.on_host(image) is True:
        held += " and so does the host's Docker: it was imported, not pulled"
    return [said, held]


def _fix(index: Index, pod: Mapping[str, Any], container: str) -> Fix:
    kind, namespace, name = index.workload(pod)
    command = (
        f"{kubectl(index)} -n {q(namespace)} patch {kind.lower()} {q(name)} --type=strategic "
        f'-p \'{{"spec":{{"template":{{"spec":{{"containers":[{{"name":"{container}",'
        f'"imagePullPolicy":"IfNotPresent"}}]}}}}}}}}\''
        if kind in ("Deployment", "StatefulSet", "DaemonSet")
        else f"set imagePullPolicy: IfNotPresent on container {container} in {kind} {namespace}/{name}"
    )
    return Fix(
        "use imagePullPolicy: IfNotPresent (and a tag other than latest) for images you import",
        (command,),
        "low",
        False,
    )


def check(index: Index) -> Iterator[Finding]:
    yield from image_findings(index, ALWAYS_SIDELOADED, "error", explain)
    # Running pods that will break at their next restart or reschedule: a warning before the outage.
    failing = {f.container.uid for f in _failures(index)}
    at_risk = [
        c
        for c in containers(index)
        if c.uid not in failing
        and c.effective_pull_policy() == "Always"
        and index.on_host(c.image) is True
        and index.in_nodes(c.image) is True
    ]
    for workload, members in fold(index, at_risk, lambda c: c.pod, lambda c: c.image):
        first = members[0]
        yield Finding(
            rule=ALWAYS_SIDELOADED,
            severity="warning",
            object=object_ref(*workload),
            summary=(
                f"{first.image} was imported from the host but is pulled Always: the next restart fails "
                "without the registry"
            ),
            evidence=tuple(_evidence(index, first.pull_policy, first.image)),
            fix=_fix(index, first.pod, first.name),
            symptoms=tuple(r for r in pod_refs(members) if r != object_ref(*workload)),
        )


def _failures(index: Index) -> list[PullFailure]:
    from kenv.doctor.rules._common import pull_failures

    return pull_failures(index)


RULE = Rule(
    id=ALWAYS_SIDELOADED,
    severity="warning",
    summary=(
        "An imported (side-loaded) image runs with pull policy Always or the latest tag: it breaks without the "
        "registry."
    ),
    doc=(
        "kind load and k3d image import put an image into the nodes; pull policy Always (the default for "
        "`:latest` or no tag) makes kubelet go to the registry anyway. Some linters recommend Always: "
        "for side-loaded images it is wrong. An error when pulls already fail, a warning while the pods run."
    ),
    bad="image: myapp:latest   # imported with k3d image import; no imagePullPolicy",
    good="image: myapp:1.0\nimagePullPolicy: IfNotPresent",
    check=check,
)
