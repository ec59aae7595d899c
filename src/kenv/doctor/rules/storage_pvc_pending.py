"""storage.pvc-pending-provisioner: a claim stays Pending because its volume is never provisioned.

The local-path provisioner (k3s/k3d, kind) makes a volume by running a helper pod,
`helper-pod-create-pvc-<claim uid>` in its own namespace, with the image named in ConfigMap
`local-path-config` (helperPod.yaml). When that image cannot be pulled, the helper pod sits in
ImagePullBackOff until `create process timeout after 120 seconds`, is deleted, and the cycle starts
again; the claim stays Pending and the pod using it never schedules. The finding names the image
the ConfigMap gives (`rancher/mirrored-library-busybox:1.36.1` on k3s, not `busybox`), links the
helper pod's own image finding when the snapshot caught the pod, and holds the Pending pods.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from kenv.doctor.findings import Finding, Fix, object_ref
from kenv.doctor.index import Event, Index, dig, mapping, meta, text
from kenv.doctor.rules import Rule
from kenv.doctor.rules._common import claim_names, import_commands, kubectl, q

RULE_ID = "storage.pvc-pending-provisioner"
LOCAL_PATH = "rancher.io/local-path"
PROVISIONER_NAMESPACES = ("kube-system", "local-path-storage")
HELPER_IMAGE = re.compile(r"""^\s*-?\s*image:\s*["']?([^"'\s#]+)""", re.MULTILINE)
TIMEOUT = re.compile(r"create process timeout after \d+ seconds", re.IGNORECASE)


def helper_image(index: Index) -> tuple[str, str] | None:
    """(namespace of the ConfigMap, the helper image it names), the placeholder k3s fills removed."""
    for namespace in PROVISIONER_NAMESPACES:
        config = index.get("ConfigMap", namespace, "local-path-config")
        if config is None:
            continue
        match = HELPER_IMAGE.search(text(mapping(config.get("data")).get("helperPod.yaml")))
        if match:
            return namespace, match.group(1).replace("%{SYSTEM_DEFAULT_REGISTRY}%", "")
    return None


def _users(index: Index) -> dict[tuple[str, str], list[Mapping[str, Any]]]:
    users: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for pod in index.all("pods"):
        namespace, _, _ = meta(pod)
        for claim in claim_names(pod):
            users.setdefault((namespace, claim), []).append(pod)
    return users


def _local_path(
    index: Index, name: str, uid: str, failed: list[Event], evidence: list[str]
) -> tuple[str, Fix, list[str]]:
    """Summary, fix and suspects for a local-path claim; adds what it sees to `evidence`."""
    helper_name = f"helper-pod-create-pvc-{uid}"
    configured = helper_image(index)
    image = configured[1] if configured else None
    suspects = []
    for provisioner_namespace in PROVISIONER_NAMESPACES:
        if index.get("Pod", provisioner_namespace, helper_name) is not None:
            suspects.append(object_ref("Pod", provisioner_namespace, helper_name))
            evidence.append(f"helper pod {provisioner_namespace}/{helper_name} is there (its own finding says why)")
    if configured:
        evidence.append(f"ConfigMap {configured[0]}/local-path-config helperPod.yaml names image {image}")
    timed_out = any(TIMEOUT.search(e.message) for e in failed)
    home = configured[0] if configured else "kube-system"
    restart = f"{kubectl(index)} -n {q(home)} delete pod -l app=local-path-provisioner"
    logs = f"{kubectl(index)} -n {q(home)} logs -l app=local-path-provisioner --tail=50"
    if image and index.in_nodes(image) is False:
        evidence.append(f"no node holds {image}")
        summary = f"claim {name} stays Pending: the local-path helper pod cannot get its image {image}"
        if timed_out:
            summary += " (create process timeout)"
        fix = Fix(
            f"import {image} (the image local-path-config names, not plain busybox), then restart the provisioner",
            (*import_commands(index, [image]), restart),
            "low",
            False,  # kenv doctor --fix imports through the helper pod's own image finding
        )
        return summary, fix, suspects
    if timed_out:
        summary = f"claim {name} stays Pending: the local-path helper pod did not finish (create process timeout)"
        fix = Fix(
            f"make the helper image {image or '(see local-path-config)'} available to the nodes and read the "
            "provisioner's log",
            (*(import_commands(index, [image]) if image else ()), restart, logs),
            "low",
            False,
        )
        return summary, fix, suspects
    return (
        f"claim {name} stays Pending: its volume is not provisioned",
        Fix("read the provisioner's log", (logs,)),
        suspects,
    )


def check(index: Index) -> Iterator[Finding]:
    users = _users(index)
    for pvc in index.all("pvcs"):
        if text(dig(pvc, "status", "phase")) != "Pending":
            continue
        namespace, name, uid = meta(pvc)
        pods = users.get((namespace, name), [])
        events = index.events_for("PersistentVolumeClaim", namespace, name, uid)
        failed = [e for e in events if e.reason == "ProvisioningFailed"]
        class_name = text(dig(pvc, "spec", "storageClassName"))
        storage_class = index.get("StorageClass", "", class_name) if class_name else None
        provisioner = text(storage_class.get("provisioner")) if storage_class else ""
        mode = text(storage_class.get("volumeBindingMode")) if storage_class else ""
        if not pods and (mode == "WaitForFirstConsumer" or not failed):
            continue  # waiting for a consumer is the design, not a fault
        evidence = [f"PersistentVolumeClaim {namespace}/{name}: phase Pending"]
        if storage_class is not None:
            evidence.append(
                f"StorageClass {class_name}: provisioner {provisioner or '?'}, volumeBindingMode {mode or '?'}"
            )
        evidence += [e.line() for e in failed[-2:]]
        evidence += [e.line() for e in events if e.reason == "ExternalProvisioning"][-1:]
        suspects: list[str] = []
        if provisioner == LOCAL_PATH:
            summary, fix, suspects = _local_path(index, name, uid, failed, evidence)
        elif storage_class is None and class_name:
            summary = f"claim {name} stays Pending: StorageClass {class_name} does not exist"
            fix = Fix("use an existing StorageClass (kubectl get storageclass) or create this one")
        else:
            summary = f"claim {name} stays Pending: its volume is not provisioned"
            fix = Fix("read the claim's events and the provisioner's log")
        for pod in pods[:3]:
            pod_namespace, pod_name, pod_uid = meta(pod)
            scheduling = index.events_for("Pod", pod_namespace, pod_name, pod_uid)
            evidence += [e.line() for e in scheduling if e.reason == "FailedScheduling"][-1:]
        yield Finding(
            rule=RULE_ID,
            severity="error",
            object=object_ref("PersistentVolumeClaim", namespace, name),
            summary=summary,
            evidence=tuple(evidence),
            fix=fix,
            symptoms=tuple(object_ref("Pod", *meta(p)[:2]) for p in pods),
            suspects=tuple(suspects),
        )


RULE = Rule(
    id=RULE_ID,
    severity="error",
    summary="A PersistentVolumeClaim a pod uses stays Pending (local-path helper pod image, provisioning timeout).",
    doc=(
        "The claim is Pending, the pod using it is stuck in FailedScheduling (VolumeBinding: context deadline "
        'exceeded), and the provisioner says `failed to provision volume with StorageClass "local-path": '
        "create process timeout after 120 seconds`. On k3s/kind the usual cause is the helper pod's image, "
        "which local-path-config names (rancher/mirrored-library-busybox on k3s): importing plain busybox does "
        "not help."
    ),
    bad="k3d image import busybox:1.36.1 -c devops   # the helper pod wants rancher/mirrored-library-busybox:1.36.1",
    good="k3d image import rancher/mirrored-library-busybox:1.36.1 -c devops",
    check=check,
)
