"""A generated snapshot of N pods and 5N events for the doctor's benchmarks (issue 9 §4).

The mix is a busy shared cluster's: Deployments of 3 replicas in namespaces of about 100 pods,
a Service and Endpoints per Deployment, 3 k3d nodes; about 90 % of the pods are healthy and the
rest fail the ways the rules know (image only on the host, registry timeout, digest not found,
CrashLoopBackOff on DNS, OOMKilled, unschedulable, readiness failing), each with the kubelet's or
the scheduler's real messages and, for crash loops, a log tail. Every pod has 5 events on
average (Scheduled, Pulling/Pulled, Created, Started, plus the failure's own). Deterministic: the
same N gives the same document.

    from doctor_corpus import write_corpus
    path = write_corpus(Path("/tmp/corpus-10k.json"), pods=10_000)

Usage: .venv/bin/python bench/doctor_corpus.py 10000 /tmp/corpus-10k.json
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kenv.doctor.snapshot import OBJECT_PARTS, SCHEMA

CLUSTER = "bench"
NODES = tuple(f"k3d-{CLUSTER}-{role}" for role in ("server-0", "agent-0", "agent-1"))
T0, T1 = "2026-11-30T22:12:04Z", "2026-11-30T22:53:10Z"
REPLICAS = 3
PODS_PER_NAMESPACE = 99
# (share of workloads in 1000, failure); the rest is healthy.
FAILURES = (
    (25, "image-only-on-host"),
    (15, "registry-timeout"),
    (5, "digest-not-found"),
    (20, "dns-crash-loop"),
    (10, "oom-killed"),
    (15, "unschedulable"),
    (10, "readiness"),
)
UNSCHEDULABLE = (
    "0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes are available: "
    "3 No preemption victims found for incoming pod."
)
DNS_LOG = "2026/11/30 22:41:07 starting\n2026/11/30 22:41:19 dial tcp: lookup postgres on 10.43.0.10:53: i/o timeout\n"


def _uid(seed: str) -> str:
    h = hashlib.sha256(seed.encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def _suffix(seed: str, n: int) -> str:
    alphabet = "bcdfghjklmnpqrstvwxz2456789"
    return "".join(alphabet[b % len(alphabet)] for b in hashlib.sha256(seed.encode()).digest()[:n])


def _failure(index: int) -> str | None:
    slot = int(hashlib.sha256(f"w{index}".encode()).hexdigest()[:6], 16) % 1000
    for share, name in FAILURES:
        if slot < share:
            return name
        slot -= share
    return None


def _event(obj: dict[str, Any], reason: str, message: str, kind: str = "Normal", count: int = 1) -> dict[str, Any]:
    meta = obj["metadata"]
    name = f"{meta['name']}.{_suffix(meta['name'] + reason + message, 16)}"
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": name, "namespace": meta["namespace"], "uid": _uid(name), "creationTimestamp": T0},
        "involvedObject": {
            "apiVersion": "v1",
            "kind": obj["kind"],
            "name": meta["name"],
            "namespace": meta["namespace"],
            "uid": meta["uid"],
        },
        "reason": reason,
        "message": message,
        "type": kind,
        "count": count,
        "firstTimestamp": T0,
        "lastTimestamp": T1,
        "source": {"component": "kubelet" if reason != "Scheduled" else "default-scheduler"},
    }


def _workload(index: int) -> Iterator[tuple[str, Any]]:
    """Yields (part, object) for one Deployment, its ReplicaSet, pods, events, Service, Endpoints, logs."""
    namespace = f"team-{index * REPLICAS // PODS_PER_NAMESPACE:03d}"
    name = f"svc-{index:05d}"
    failure = _failure(index)
    image = f"registry.example.com/apps/{name}:1.{index % 7}.0"
    if failure == "image-only-on-host":
        image = f"apps/{name}:dev"
    elif failure == "digest-not-found":
        image = f"registry.example.com/apps/{name}:1.0@sha256:{hashlib.sha256(name.encode()).hexdigest()}"
    labels = {"app": name}
    rs_hash = _suffix(name + "rs", 10)
    rs_name = f"{name}-{rs_hash}"
    container = {"name": "app", "image": image, "imagePullPolicy": "IfNotPresent", "resources": {}}
    if failure == "oom-killed":
        container["resources"] = {"limits": {"memory": "64Mi"}}
    if failure == "readiness":
        container["readinessProbe"] = {"httpGet": {"path": "/ready", "port": 8080}, "periodSeconds": 10}
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "uid": _uid(namespace + name), "labels": labels},
        "spec": {
            "replicas": REPLICAS,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}},
        },
        "status": {"replicas": REPLICAS, "readyReplicas": REPLICAS if failure is None else 0},
    }
    yield "deployments", deployment
    owner = {"apiVersion": "apps/v1", "kind": "Deployment", "name": name, "uid": deployment["metadata"]["uid"]}
    replicaset = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": rs_name,
            "namespace": namespace,
            "uid": _uid(namespace + rs_name),
            "labels": {**labels, "pod-template-hash": rs_hash},
            "ownerReferences": [{**owner, "controller": True}],
        },
        "spec": {"replicas": REPLICAS, "selector": {"matchLabels": labels}},
        "status": {"replicas": REPLICAS, "readyReplicas": REPLICAS if failure is None else 0},
    }
    yield "replicasets", replicaset
    rs_owner = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs_name, "uid": replicaset["metadata"]["uid"]}
    ready_pods = []
    for replica in range(REPLICAS):
        pod_name = f"{rs_name}-{_suffix(rs_name + str(replica), 5)}"
        node = NODES[(index + replica) % len(NODES)]
        pod, events, log = _pod(pod_name, namespace, node, labels, rs_hash, rs_owner, container, failure)
        yield "pods", pod
        for event in events:
            yield "events", event
        if log is not None:
            yield "logs", log
        if pod["status"].get("podIP") and failure is None:
            ready_pods.append(pod)
    yield (
        "services",
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name, "namespace": namespace, "uid": _uid("svc" + namespace + name)},
            "spec": {
                "selector": labels,
                "ports": [{"port": 8080, "protocol": "TCP"}],
                "clusterIP": f"10.43.{index % 250}.{index % 200 + 2}",
            },
        },
    )
    addresses = [
        {
            "ip": p["status"]["podIP"],
            "targetRef": {"kind": "Pod", "name": p["metadata"]["name"], "namespace": namespace},
        }
        for p in ready_pods
    ]
    yield (
        "endpoints",
        {
            "apiVersion": "v1",
            "kind": "Endpoints",
            "metadata": {"name": name, "namespace": namespace, "uid": _uid("ep" + namespace + name)},
            "subsets": [{"addresses": addresses, "ports": [{"port": 8080, "protocol": "TCP"}]}] if addresses else [],
        },
    )


def _pod(
    name: str,
    namespace: str,
    node: str,
    labels: dict[str, str],
    rs_hash: str,
    owner: dict[str, Any],
    container: dict[str, Any],
    failure: str | None,
) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any] | None]:
    image = container["image"]
    pod: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": _uid(namespace + name),
            "labels": {**labels, "pod-template-hash": rs_hash},
            "ownerReferences": [{**owner, "controller": True}],
            "creationTimestamp": T0,
        },
        "spec": {"containers": [container], "nodeName": node, "restartPolicy": "Always"},
        "status": {
            "phase": "Running",
            "hostIP": "172.18.0.2",
            "podIP": f"10.42.{len(name) % 3}.{int(_uid(name)[:2], 16)}",
        },
    }
    status: dict[str, Any] = {
        "name": "app",
        "image": image,
        "ready": True,
        "restartCount": 0,
        "state": {"running": {"startedAt": T0}},
    }
    pull = [
        ("Scheduled", f"Successfully assigned {namespace}/{name} to {node}", "Normal"),
        ("Pulling", f'Pulling image "{image}"', "Normal"),
    ]
    events: list[tuple[str, str, str]] = []
    log = None
    if failure in ("image-only-on-host", "registry-timeout", "digest-not-found"):
        ref = image if "/" in image.split(":")[0] and "." in image.split("/")[0] else f"docker.io/{image}"
        cause = {
            "image-only-on-host": "pull access denied, repository does not exist or may require authorization: "
            "server message: insufficient_scope: authorization failed",
            "registry-timeout": 'failed to do request: Head "https://registry.example.com/v2/apps/x/manifests/1.0": '
            "dial tcp 203.0.113.7:443: i/o timeout",
            "digest-not-found": f"{ref}: not found",
        }[failure]
        cri = f'failed to pull and unpack image "{ref}": failed to resolve reference "{ref}": {cause}'
        status.update(
            ready=False,
            state={"waiting": {"reason": "ImagePullBackOff", "message": f'Back-off pulling image "{image}"'}},
        )
        pod["status"]["phase"] = "Pending"
        pod["status"].pop("podIP")
        events = [
            *pull,
            ("Failed", f'Failed to pull image "{image}": {cri}', "Warning"),
            ("Failed", "Error: ErrImagePull", "Warning"),
            ("BackOff", f'Back-off pulling image "{image}"', "Normal"),
        ]
    elif failure in ("dns-crash-loop", "oom-killed"):
        uid = pod["metadata"]["uid"]
        reason, code = ("Error", 1) if failure == "dns-crash-loop" else ("OOMKilled", 137)
        status.update(
            ready=False,
            restartCount=6,
            state={
                "waiting": {
                    "reason": "CrashLoopBackOff",
                    "message": f"back-off 5m0s restarting failed container=app pod={name}_{namespace}({uid})",
                }
            },
            lastState={
                "terminated": {
                    "exitCode": code,
                    "reason": reason,
                    "startedAt": T0,
                    "finishedAt": T1,
                    "containerID": "containerd://" + _uid(name + "c"),
                }
            },
        )
        events = [
            *pull[:1],
            ("Pulled", f'Container image "{image}" already present on machine', "Normal"),
            ("Created", "Created container: app", "Normal"),
            (
                "BackOff",
                f"Back-off restarting failed container app in pod {name}_{namespace}({pod['metadata']['uid']})",
                "Warning",
            ),
        ]
        if failure == "dns-crash-loop":
            log = {
                "namespace": namespace,
                "pod": name,
                "container": "app",
                "current": None,
                "previous": DNS_LOG,
                "note": "CrashLoopBackOff",
            }
    elif failure == "unschedulable":
        pod["status"] = {
            "phase": "Pending",
            "conditions": [
                {
                    "type": "PodScheduled",
                    "status": "False",
                    "reason": "Unschedulable",
                    "message": UNSCHEDULABLE,
                }
            ],
        }
        pod["spec"].pop("nodeName")
        return pod, [_event(pod, "FailedScheduling", UNSCHEDULABLE, "Warning", 12)], None
    elif failure == "readiness":
        status["ready"] = False
        events = [
            *pull,
            (
                "Pulled",
                f'Successfully pulled image "{image}" in 1.2s (1.2s including waiting). Image size: 12345678 bytes.',
                "Normal",
            ),
            ("Started", "Started container app", "Normal"),
            ("Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503", "Warning"),
        ]
    else:
        events = [
            *pull,
            (
                "Pulled",
                f'Successfully pulled image "{image}" in 1.2s (1.2s including waiting). Image size: 12345678 bytes.',
                "Normal",
            ),
            ("Created", "Created container: app", "Normal"),
            ("Started", "Started container app", "Normal"),
        ]
    pod["status"]["containerStatuses"] = [status]
    return pod, [_event(pod, r, m, k) for r, m, k in events], log


def corpus_document(pods: int) -> dict[str, Any]:
    """The snapshot document (docs/snapshot-format.md) of `pods` pods (rounded up to whole workloads)."""
    objects: dict[str, list[Any]] = {part: [] for part in OBJECT_PARTS}
    logs: list[Any] = []
    workloads = -(-pods // REPLICAS)
    for index in range(workloads):
        for part, obj in _workload(index):
            (logs if part == "logs" else objects[part]).append(obj)
    namespaces = sorted({p["metadata"]["namespace"] for p in objects["pods"]} | {"default", "kube-system"})
    objects["namespaces"] = [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": n, "uid": _uid("ns" + n)},
            "status": {"phase": "Active"},
        }
        for n in namespaces
    ]
    objects["nodes"] = [
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": n, "uid": _uid(n), "labels": {"kubernetes.io/hostname": n}},
            "spec": {"providerID": f"k3s://{n}"},
            "status": {"conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}]},
        }
        for n in NODES
    ]
    host = sorted({f"docker.io/apps/svc-{i:05d}:dev" for i in range(workloads) if _failure(i) == "image-only-on-host"})
    return {
        "schema": SCHEMA,
        "source": "kenv",
        "captured_at": T1,
        "environment": CLUSTER,
        "provider": "k3d",
        "anonymized": False,
        "nodes": list(NODES),
        "objects": objects,
        "logs": logs,
        "node_images": {n: ["docker.io/rancher/mirrored-pause:3.6"] for n in NODES},
        "host_images": host,
        "warnings": [],
    }


def write_corpus(path: Path, pods: int) -> Path:
    """Write the document of `pods` pods and about 5 events each to `path` (compact JSON)."""
    path.write_text(json.dumps(corpus_document(pods), separators=(",", ":")))
    return path


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    target = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(f"doctor-corpus-{count}.json")
    written = write_corpus(target, count)
    document = json.loads(written.read_text())
    sizes = {k: len(v) for k, v in document["objects"].items() if v}
    print(f"{written}: {written.stat().st_size / 1e6:.1f} MB, {sizes}, logs {len(document['logs'])}")
