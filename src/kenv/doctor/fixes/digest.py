"""Replace a digest reference the registry lacks (image.digest-not-found) by its tag.

Deployments, StatefulSets and DaemonSets are patched in place with a JSON patch on the
container's image path, guarded by a `test` of the old value (the patch fails rather than
overwrite a change made meanwhile); the changed template rolls the pods. CronJobs get the same
patch on their job template. A Job's pod template is immutable: the Job is recreated (`kubectl
replace --force`, a delete then a create) without what the API generated for the old one (uid,
status, `spec.selector` and the `controller-uid` labels, which would not match the new uid), as
seed 004 does by hand. Medium risk: the workload's pods restart; a recreated Job runs again."""

from __future__ import annotations

import json
from typing import Any

from kenv.doctor.findings import Finding
from kenv.doctor.fixes import PlannedFix, Step
from kenv.doctor.fixes._shared import ROLLING, document, failures_of, manifest, parse_object
from kenv.doctor.index import Index, dicts, dig, mapping

TEMPLATE_PATHS = {
    "Deployment": "/spec/template/spec",
    "StatefulSet": "/spec/template/spec",
    "DaemonSet": "/spec/template/spec",
    "CronJob": "/spec/jobTemplate/spec/template/spec",
}


def without_digest(image: str) -> str:
    return image.split("@", 1)[0]


def plan(finding: Finding, index: Index) -> PlannedFix | None:
    failures = failures_of(index, finding)
    if not failures:
        return None
    kind, namespace, name = parse_object(finding.object)
    changes = {}
    for failure in failures:
        c = failure.container
        changes[(c.init, c.index)] = (c.name, c.image, without_digest(c.image))
    lines = [
        f"{kind} {namespace}/{name} {'initContainers' if init else 'containers'}[{position}] ({cname}).image: "
        f"{old} -> {new}"
        for (init, position), (cname, old, new) in sorted(changes.items())
    ]
    if kind in TEMPLATE_PATHS:
        base = TEMPLATE_PATHS[kind]
        patch: list[dict[str, Any]] = []
        for (init, position), (_, old, new) in sorted(changes.items()):
            path = f"{base}/{'initContainers' if init else 'containers'}/{position}/image"
            patch += [{"op": "test", "path": path, "value": old}, {"op": "replace", "path": path, "value": new}]
        rolls = " (the changed template rolls its pods)" if kind in ROLLING else " (its next Jobs use it)"
        step = Step(
            f"patch {kind} {namespace}/{name}{rolls}",
            ("-n", namespace, "patch", kind.lower(), name, "--type=json", "-p", json.dumps(patch)),
        )
        return _planned(finding, kind, namespace, name, tuple(lines), (step,))
    if kind == "Job":
        job = index.get("Job", namespace, name)
        if job is None:
            return _planned(
                finding, kind, namespace, name, (*lines, "the Job is not in the snapshot: it cannot be rebuilt"), ()
            )
        rebuilt = rebuild_job(job, {cname: new for (cname, _, new) in changes.values()})
        removed = removed_generated(job)
        lines += [f"Job {namespace}/{name}: recreated (delete, then create) without {', '.join(removed)}"]
        step = Step(
            f"recreate Job {namespace}/{name} (kubectl replace --force: delete, then create)",
            ("-n", namespace, "replace", "--force", "-f", "-"),
            stdin=document(rebuilt),
        )
        return _planned(finding, kind, namespace, name, tuple(lines), (step,))
    return None  # a bare pod's image cannot change: that is by hand


def _planned(
    finding: Finding, kind: str, namespace: str, name: str, diff: tuple[str, ...], steps: tuple[Step, ...]
) -> PlannedFix:
    return PlannedFix(
        finding=finding.id,
        rule=finding.rule,
        object=finding.object,
        kind="replace-digest",
        summary=f"refer to the tag instead of the digest in {kind} {namespace}/{name}",
        risk="medium",
        automatic=bool(steps),
        diff=diff,
        steps=steps,
    )


def _generated_label(key: str) -> bool:
    return "controller-uid" in key  # controller-uid and batch.kubernetes.io/controller-uid


def removed_generated(job: Any) -> list[str]:
    removed = [f"metadata.{key}" for key in ("uid", "resourceVersion", "creationTimestamp") if key in job["metadata"]]
    if "status" in job:
        removed.append("status")
    if dig(job, "spec", "selector") is not None:
        removed.append("spec.selector")
    labels = [*mapping(dig(job, "metadata", "labels")), *mapping(dig(job, "spec", "template", "metadata", "labels"))]
    removed += sorted({f"label {key}" for key in labels if _generated_label(key)})
    return removed


def rebuild_job(job: Any, images: dict[str, str]) -> dict[str, Any]:
    """The Job as a new one: the images replaced by container name, nothing the API generated."""
    rebuilt = manifest(job, keep_version=False)
    spec = rebuilt.get("spec")
    if not isinstance(spec, dict):  # a snapshot's object may carry anything (`spec: null` included)
        spec = rebuilt["spec"] = {}
    spec.pop("selector", None)
    for holder in (rebuilt.get("metadata"), dig(spec, "template", "metadata")):
        if isinstance(holder, dict) and isinstance(holder.get("labels"), dict):
            holder["labels"] = {k: v for k, v in holder["labels"].items() if not _generated_label(k)}
    template_spec = dig(spec, "template", "spec")
    for key in ("initContainers", "containers"):
        for container in dicts(dig(template_spec, key)):
            if container.get("name") in images and isinstance(container, dict):
                container["image"] = images[str(container["name"])]
    return rebuilt
