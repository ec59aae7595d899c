"""Import the missing image (image.not-in-cluster, image.never-pull) and restart its pods.

The import is `kenv images sync ENV IMAGE`, run through the images workflow itself: it pulls what
the host lacks (through the `[images]` mirrors), imports with the provider's tool and checks every
node. Then the workload restarts: a rolling restart where there is one, else its failing pods are
deleted and their controller makes new ones, which find the image in the node."""

from __future__ import annotations

from kenv.doctor.findings import Finding
from kenv.doctor.fixes import PlannedFix, Step
from kenv.doctor.fixes._shared import failures_of, parse_object, restart_steps
from kenv.doctor.index import Index


def plan(finding: Finding, index: Index) -> PlannedFix | None:
    failures = failures_of(index, finding)
    if not failures:
        return None
    images = tuple(dict.fromkeys(f.container.image for f in failures))
    kind, namespace, name = parse_object(finding.object)
    pods = [f.container.pod_name for f in failures]
    environment = index.cluster.environment or "ENV"
    diff = [
        f"images in the nodes of {environment}: + {image} (from the host; pulled there first if it lacks it)"
        for image in images
    ]
    restarts = restart_steps(index, kind, namespace, name, pods)
    diff += [step.describe for step in restarts]
    steps = (Step(f"import {', '.join(images)} into every node", images=images), *restarts)
    return PlannedFix(
        finding=finding.id,
        rule=finding.rule,
        object=finding.object,
        kind="import-image",
        summary=f"import {', '.join(images)} and restart {kind} {namespace}/{name}",
        risk="low",
        automatic=True,
        diff=tuple(diff),
        steps=steps,
    )
