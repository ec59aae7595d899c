"""What several fix planners share: the finding's object, its failing containers, restarts."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from kenv.doctor.findings import Finding, object_ref
from kenv.doctor.fixes import Step
from kenv.doctor.index import Index
from kenv.doctor.rules._common import PullFailure, pull_failures
from kenv.doctor.rules._images import HELPER_POD_PREFIX

ROLLING = ("Deployment", "StatefulSet", "DaemonSet")
# Server-set fields a manifest sent back to the API must not carry (or must carry only to lock).
SERVER_FIELDS = ("uid", "creationTimestamp", "managedFields", "generation", "selfLink")


def parse_object(ref: str) -> tuple[str, str, str]:
    """`Kind/namespace/name` back into its parts (names hold no `/`)."""
    kind, namespace, name = ([*ref.split("/", 2), "", ""])[:3]
    return kind, namespace, name


def failures_of(index: Index, finding: Finding) -> list[PullFailure]:
    """The pull failures this finding is about: its rule, its workload, the image it names."""
    mine = [
        f
        for f in pull_failures(index)
        if f.rule == finding.rule and object_ref(*index.workload(f.container.pod)) == finding.object
    ]
    named = [f for f in mine if f.container.image in finding.summary]
    return named or mine


def restart_steps(index: Index, kind: str, namespace: str, name: str, pods: Iterable[str]) -> tuple[Step, ...]:
    """A rolling restart for what has one; a pod nothing owns recreated from its own manifest
    (deleting it would lose it); otherwise the failing pods deleted so that their controller
    (ReplicaSet, Job, the local-path provisioner for its helper pods) makes them again."""
    if kind in ROLLING:
        return (
            Step(
                f"restart {kind} {namespace}/{name} (kubectl sets the restartedAt annotation: new pods)",
                ("-n", namespace, "rollout", "restart", f"{kind.lower()}/{name}"),
            ),
        )
    if kind == "Pod" and not name.startswith(HELPER_POD_PREFIX):
        pod = index.get("Pod", namespace, name)
        if pod is None:
            return ()
        return (
            Step(
                f"recreate Pod {namespace}/{name} (nothing owns it: kubectl replace --force, a delete then a create)",
                ("-n", namespace, "replace", "--force", "-f", "-"),
                stdin=document(manifest(pod, keep_version=False)),
            ),
        )
    names = sorted(set(pods))
    if not names:
        return ()
    return (
        Step(
            f"delete the failing pod(s) of {kind} {namespace}/{name}: its controller makes new ones",
            ("-n", namespace, "delete", "pod", *names),
        ),
    )


def manifest(obj: Mapping[str, Any], *, keep_version: bool) -> dict[str, Any]:
    """A deep copy of an object as sent back to the API: no status, no server-set metadata;
    `resourceVersion` kept only to make the write fail if someone changed it meanwhile."""
    copied: dict[str, Any] = json.loads(json.dumps(obj))
    copied.pop("status", None)
    metadata = copied.setdefault("metadata", {})
    for key in SERVER_FIELDS:
        metadata.pop(key, None)
    if not keep_version:
        metadata.pop("resourceVersion", None)
    return copied


def document(obj: Mapping[str, Any]) -> str:
    return json.dumps(obj, indent=2, sort_keys=True) + "\n"
