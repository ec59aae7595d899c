"""Kubernetes API objects (Nodes, Pods, Namespaces) served by the fake kubectl.

Objects are derived deterministically from the cluster record, so repeated
``kubectl get`` calls return the same names/UIDs.  Pods made by ``kubectl run``
are the exception: they are stored in the cluster record under ``"pods"`` (see
:func:`new_run_pod`) and rendered by :func:`run_pod_object`.  ``KENV_FAKE_UNHEALTHY``
problems are applied here:

* ``node-notready[=NODE]`` -- Ready=False (KubeletNotReady) on NODE or all nodes
* ``coredns-crashloop``    -- coredns containers in CrashLoopBackOff (DNS fails too)
* ``dns``                  -- pods look fine but in-cluster DNS lookups time out
"""

from __future__ import annotations

import hashlib
import os

_ALNUM = "bcdfghjklmnpqrstvwxz2456789"  # the alphabet k8s uses for name suffixes


def _suffix(seed: str, length: int) -> str:
    digest = hashlib.sha256(seed.encode()).digest()
    return "".join(_ALNUM[b % len(_ALNUM)] for b in digest[:length])


def _uid(seed: str) -> str:
    h = hashlib.sha256(("uid:" + seed).encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def _node_labels(cluster: dict, node: dict) -> dict:
    name = node["name"]
    labels = {
        "beta.kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
    }
    tool, role = cluster["tool"], node["role"]
    if tool == "k3d":
        labels["beta.kubernetes.io/instance-type"] = "k3s"
        labels["node.kubernetes.io/instance-type"] = "k3s"
        if role == "server":
            labels["node-role.kubernetes.io/control-plane"] = "true"
            labels["node-role.kubernetes.io/master"] = "true"
    elif tool == "kind":
        if role == "control-plane":
            labels["node-role.kubernetes.io/control-plane"] = ""
            labels["node.kubernetes.io/exclude-from-external-load-balancers"] = ""
    else:  # minikube
        labels.update(
            {
                "minikube.k8s.io/name": cluster["name"],
                "minikube.k8s.io/primary": "true" if role == "control-plane" else "false",
                "minikube.k8s.io/version": "v1.35.0",
                "minikube.k8s.io/commit": "dd5d320e41b5451cdf3c01891bc4e13d189586ed",
            }
        )
        if role == "control-plane":
            labels["node-role.kubernetes.io/control-plane"] = ""
            labels["node.kubernetes.io/exclude-from-external-load-balancers"] = ""
    labels.update(node.get("labels") or {})
    return labels


def _ready_condition(ready: bool, ts: str) -> dict:
    if ready:
        return {
            "type": "Ready",
            "status": "True",
            "reason": "KubeletReady",
            "message": "kubelet is posting ready status",
            "lastHeartbeatTime": ts,
            "lastTransitionTime": ts,
        }
    return {
        "type": "Ready",
        "status": "False",
        "reason": "KubeletNotReady",
        "message": "container runtime network not ready: NetworkReady=false "
        "reason:NetworkPluginNotReady message:Network plugin returns error: "
        "cni plugin not initialized",
        "lastHeartbeatTime": ts,
        "lastTransitionTime": ts,
    }


def _provider_id(cluster: dict, node: dict) -> str:
    if cluster["tool"] == "k3d":
        return f"k3s://{node['name']}"
    if cluster["tool"] == "kind":
        return f"kind://docker/{cluster['name']}/{node['name']}"
    return ""


def nodes(cluster: dict, unhealthy: dict[str, str]) -> list[dict]:
    ts = cluster.get("started") or cluster["created"]
    not_ready = unhealthy.get("node-notready")
    result = []
    for index, node in enumerate(n for n in cluster["nodes"] if n.get("kube")):
        ready = not_ready is None or (not_ready not in ("", node["name"]))
        seed = f"{cluster['uid']}/{node['name']}"
        obj: dict = {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": node["name"],
                "uid": _uid(seed),
                "resourceVersion": str(1000 + index),
                "creationTimestamp": cluster["created"],
                "labels": _node_labels(cluster, node),
                "annotations": {
                    "node.alpha.kubernetes.io/ttl": "0",
                    "volumes.kubernetes.io/controller-managed-attach-detach": "true",
                },
            },
            "spec": {
                "podCIDR": _pod_cidr(cluster, index),
                "podCIDRs": [_pod_cidr(cluster, index)],
            },
            "status": {
                "addresses": [
                    {"address": node.get("ip", ""), "type": "InternalIP"},
                    {"address": node["name"], "type": "Hostname"},
                ],
                "allocatable": {
                    "cpu": "8",
                    "ephemeral-storage": "95001160Ki",
                    "hugepages-2Mi": "0",
                    "memory": "16284640Ki",
                    "pods": "110",
                },
                "capacity": {
                    "cpu": "8",
                    "ephemeral-storage": "97653708Ki",
                    "hugepages-2Mi": "0",
                    "memory": "16284640Ki",
                    "pods": "110",
                },
                "conditions": [
                    {
                        "type": "MemoryPressure",
                        "status": "False",
                        "reason": "KubeletHasSufficientMemory",
                        "message": "kubelet has sufficient memory available",
                        "lastHeartbeatTime": ts,
                        "lastTransitionTime": ts,
                    },
                    {
                        "type": "DiskPressure",
                        "status": "False",
                        "reason": "KubeletHasNoDiskPressure",
                        "message": "kubelet has no disk pressure",
                        "lastHeartbeatTime": ts,
                        "lastTransitionTime": ts,
                    },
                    {
                        "type": "PIDPressure",
                        "status": "False",
                        "reason": "KubeletHasSufficientPID",
                        "message": "kubelet has sufficient PID available",
                        "lastHeartbeatTime": ts,
                        "lastTransitionTime": ts,
                    },
                    _ready_condition(ready, ts),
                ],
                "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                "images": [
                    {"names": [img], "sizeBytes": 10_000_000 + len(img) * 1000} for img in node.get("images", [])
                ],
                "nodeInfo": {
                    "architecture": "amd64",
                    "bootID": _uid(seed + "boot"),
                    "containerRuntimeVersion": cluster["container_runtime"],
                    "kernelVersion": os.uname().release,
                    "kubeProxyVersion": cluster["k8s_version"],
                    "kubeletVersion": cluster["k8s_version"],
                    "machineID": hashlib.md5(seed.encode()).hexdigest(),
                    "operatingSystem": "linux",
                    "osImage": cluster["os_image"],
                    "systemUUID": _uid(seed + "system"),
                },
            },
        }
        provider = _provider_id(cluster, node)
        if provider:
            obj["spec"]["providerID"] = provider
        if not ready:
            obj["spec"]["taints"] = [{"effect": "NoSchedule", "key": "node.kubernetes.io/not-ready", "timeAdded": ts}]
        result.append(obj)
    return result


def _pod_cidr(cluster: dict, index: int) -> str:
    base = cluster.get("pod_cidr", "10.244.0.0/16").split("/")[0].split(".")
    return f"{base[0]}.{base[1]}.{index}.0/24"


def _pod_ip(cluster: dict, index: int, n: int) -> str:
    base = cluster.get("pod_cidr", "10.244.0.0/16").split("/")[0].split(".")
    return f"{base[0]}.{base[1]}.{index}.{n + 2}"


class _PodSpec:
    """What a system pod looks like before rendering."""

    __slots__ = ("app", "completed", "containers", "host_network", "image", "labels", "name", "namespace", "node")

    def __init__(
        self,
        name: str,
        namespace: str,
        image: str,
        app: str,
        node: dict,
        host_network: bool = False,
        completed: bool = False,
        containers: tuple[str, ...] = (),
    ) -> None:
        self.name, self.namespace, self.image, self.app = name, namespace, image, app
        self.node, self.host_network, self.completed = node, host_network, completed
        self.containers = containers or (app,)
        self.labels: dict[str, str] = {}


def _system_pods(cluster: dict) -> list[_PodSpec]:
    kube = [n for n in cluster["nodes"] if n.get("kube")]
    if not kube:
        return []
    cp = kube[0]
    seed = cluster["uid"]
    disabled = set(cluster.get("opts", {}).get("disabled_components", []))
    pods: list[_PodSpec] = []
    tool = cluster["tool"]

    def rs(app: str) -> str:
        return f"{app}-{_suffix(seed + app + 'rs', 9 if app == 'coredns' else 10)}-{_suffix(seed + app, 5)}"

    if tool == "k3d":
        if "coredns" not in disabled:
            p = _PodSpec(rs("coredns"), "kube-system", "rancher/mirrored-coredns-coredns:1.12.0", "coredns", cp)
            p.labels = {"k8s-app": "kube-dns", "pod-template-hash": p.name.split("-")[1]}
            pods.append(p)
        if "local-storage" not in disabled:
            p = _PodSpec(
                rs("local-path-provisioner"),
                "kube-system",
                "rancher/local-path-provisioner:v0.0.30",
                "local-path-provisioner",
                cp,
            )
            p.labels = {"app": "local-path-provisioner"}
            pods.append(p)
        if "metrics-server" not in disabled:
            p = _PodSpec(
                rs("metrics-server"), "kube-system", "rancher/mirrored-metrics-server:v0.7.2", "metrics-server", cp
            )
            p.labels = {"k8s-app": "metrics-server"}
            pods.append(p)
        if "traefik" not in disabled:
            for job in ("helm-install-traefik-crd", "helm-install-traefik"):
                p = _PodSpec(
                    f"{job}-{_suffix(seed + job, 5)}",
                    "kube-system",
                    "rancher/klipper-helm:v0.9.3-build20241008",
                    "helm",
                    cp,
                    completed=True,
                )
                p.labels = {"job-name": job, "helmcharts.helm.cattle.io/chart": job[13:]}
                pods.append(p)
            p = _PodSpec(rs("traefik"), "kube-system", "rancher/mirrored-library-traefik:2.11.18", "traefik", cp)
            p.labels = {"app.kubernetes.io/name": "traefik", "app.kubernetes.io/instance": "traefik-kube-system"}
            pods.append(p)
            for n in kube:
                p = _PodSpec(
                    f"svclb-traefik-{_suffix(seed + 'svclb', 8)}-{_suffix(seed + n['name'] + 'svclb', 5)}",
                    "kube-system",
                    "rancher/klipper-lb:v0.4.9",
                    "lb-tcp-80",
                    n,
                    containers=("lb-tcp-80", "lb-tcp-443"),
                )
                p.labels = {
                    "app": "svclb-traefik-" + _suffix(seed + "svclb", 8),
                    "svccontroller.k3s.cattle.io/svcname": "traefik",
                }
                pods.append(p)
        return pods

    version = cluster["k8s_version"].split("+")[0]
    registry = "registry.k8s.io"
    for i in range(2 if tool == "kind" else 1):
        name = f"coredns-{_suffix(seed + 'coredns-rs', 10)}-{_suffix(seed + f'coredns{i}', 5)}"
        p = _PodSpec(name, "kube-system", f"{registry}/coredns/coredns:v1.11.3", "coredns", cp)
        p.labels = {"k8s-app": "kube-dns"}
        pods.append(p)
    for comp in ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"):
        image = f"{registry}/etcd:3.5.16-0" if comp == "etcd" else f"{registry}/{comp}:{version}"
        p = _PodSpec(f"{comp}-{cp['name']}", "kube-system", image, comp, cp, host_network=True)
        p.labels = {"component": comp, "tier": "control-plane"}
        pods.append(p)
    for n in kube:
        p = _PodSpec(
            f"kube-proxy-{_suffix(seed + n['name'] + 'proxy', 5)}",
            "kube-system",
            f"{registry}/kube-proxy:{version}",
            "kube-proxy",
            n,
            host_network=True,
        )
        p.labels = {"k8s-app": "kube-proxy"}
        pods.append(p)
        if tool == "kind":
            p = _PodSpec(
                f"kindnet-{_suffix(seed + n['name'] + 'kindnet', 5)}",
                "kube-system",
                "docker.io/kindest/kindnetd:v20250214-acbabc1a",
                "kindnet-cni",
                n,
                host_network=True,
            )
            p.labels = {"app": "kindnet", "k8s-app": "kindnet", "tier": "node"}
            pods.append(p)
    if tool == "kind":
        p = _PodSpec(
            f"local-path-provisioner-{_suffix(seed + 'lpp-rs', 10)}-{_suffix(seed + 'lpp', 5)}",
            "local-path-storage",
            "docker.io/kindest/local-path-provisioner:v20250214-acbabc1a",
            "local-path-provisioner",
            cp,
        )
        p.labels = {"app": "local-path-provisioner"}
        pods.append(p)
    else:
        p = _PodSpec(
            "storage-provisioner",
            "kube-system",
            "gcr.io/k8s-minikube/storage-provisioner:v5",
            "storage-provisioner",
            cp,
            host_network=True,
        )
        p.labels = {"integration-test": "storage-provisioner"}
        pods.append(p)
    return pods


def pods(cluster: dict, unhealthy: dict[str, str]) -> list[dict]:
    ts = cluster.get("started") or cluster["created"]
    crashloop = "coredns-crashloop" in unhealthy
    kube = [n for n in cluster["nodes"] if n.get("kube")]
    index_of = {n["name"]: i for i, n in enumerate(kube)}
    result = []
    for n, spec in enumerate(_system_pods(cluster)):
        node_index = index_of.get(spec.node["name"], 0)
        pod_ip = spec.node.get("ip", "") if spec.host_network else _pod_ip(cluster, node_index, n)
        broken = crashloop and spec.app == "coredns"
        statuses = []
        for cname in spec.containers:
            cid = "containerd://" + hashlib.sha256(f"{cluster['uid']}{spec.name}{cname}".encode()).hexdigest()
            if spec.completed:
                state = {
                    "terminated": {
                        "exitCode": 0,
                        "reason": "Completed",
                        "startedAt": ts,
                        "finishedAt": ts,
                        "containerID": cid,
                    }
                }
                ready, started = False, False
            elif broken:
                state = {
                    "waiting": {
                        "reason": "CrashLoopBackOff",
                        "message": f"back-off 5m0s restarting failed container={cname} "
                        f"pod={spec.name}_{spec.namespace}({_uid(spec.name)})",
                    }
                }
                ready, started = False, False
            else:
                state = {"running": {"startedAt": ts}}
                ready, started = True, True
            status = {
                "name": cname,
                "image": spec.image,
                "imageID": spec.image + "@sha256:" + hashlib.sha256(spec.image.encode()).hexdigest(),
                "containerID": cid,
                "ready": ready,
                "started": started,
                "restartCount": 7 if broken else 0,
                "state": state,
                "lastState": {},
            }
            if broken:
                status["lastState"] = {
                    "terminated": {
                        "exitCode": 1,
                        "reason": "Error",
                        "startedAt": ts,
                        "finishedAt": ts,
                        "containerID": cid,
                    }
                }
            statuses.append(status)
        all_ready = all(s["ready"] for s in statuses)
        ready_cond = "True" if all_ready else "False"
        conditions = [
            {
                "type": "PodReadyToStartContainers",
                "status": "False" if spec.completed else "True",
                "lastTransitionTime": ts,
                "lastProbeTime": None,
            },
            {"type": "Initialized", "status": "True", "lastTransitionTime": ts, "lastProbeTime": None},
            {"type": "Ready", "status": ready_cond, "lastTransitionTime": ts, "lastProbeTime": None},
            {"type": "ContainersReady", "status": ready_cond, "lastTransitionTime": ts, "lastProbeTime": None},
            {"type": "PodScheduled", "status": "True", "lastTransitionTime": ts, "lastProbeTime": None},
        ]
        if not all_ready:
            reason = "PodCompleted" if spec.completed else "ContainersNotReady"
            for cond in conditions[2:4]:
                cond["reason"] = reason
                if not spec.completed:
                    cond["message"] = f"containers with unready status: [{' '.join(spec.containers)}]"
        result.append(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": spec.name,
                    "namespace": spec.namespace,
                    "uid": _uid(cluster["uid"] + spec.name),
                    "creationTimestamp": cluster["created"],
                    "labels": dict(spec.labels),
                    "resourceVersion": str(2000 + n),
                },
                "spec": {
                    "containers": [
                        {"name": c, "image": spec.image, "imagePullPolicy": "IfNotPresent"} for c in spec.containers
                    ],
                    "nodeName": spec.node["name"],
                    "hostNetwork": spec.host_network,
                    "restartPolicy": "Never" if spec.completed else "Always",
                    "priorityClassName": "system-cluster-critical" if spec.namespace == "kube-system" else "",
                },
                "status": {
                    "phase": "Succeeded" if spec.completed else "Running",
                    "conditions": conditions,
                    "containerStatuses": statuses,
                    "hostIP": spec.node.get("ip", ""),
                    "hostIPs": [{"ip": spec.node.get("ip", "")}],
                    "podIP": pod_ip,
                    "podIPs": [{"ip": pod_ip}],
                    "qosClass": "Burstable",
                    "startTime": ts,
                },
            }
        )
    for obj in result:
        _owned_and_secured(cluster, obj, crashloop)
    return result + [run_pod_object(cluster, record) for record in cluster.get("pods") or []]


# -- pods made by `kubectl run` ------------------------------------------------------------------


def new_run_pod(cluster: dict, name: str, namespace: str, spec: dict, now: str) -> dict:
    """The stored record of a pod `kubectl run` creates (phase Pending: image being pulled).

    ``spec``: image, command (list), use_command (--command: the list is the container's
    command, else its args), restart, stdin, stdin_once, tty, labels, image_pull_policy."""
    kube = [n for n in cluster["nodes"] if n.get("kube")]
    # kind taints its control plane when there are workers; k3s and minikube schedule on it
    workers = [n for n in kube if n["role"] in ("worker", "agent")] if cluster["tool"] == "kind" else []
    node = (workers or kube or [{"name": ""}])[0]
    index = next((i for i, n in enumerate(kube) if n["name"] == node["name"]), 0)
    serial = sum(1 for _ in cluster.get("pods") or []) + int(hashlib.sha256(name.encode()).hexdigest()[:4], 16)
    return {
        "name": name,
        "namespace": namespace,
        "uid": _uid(f"{cluster['uid']}/run/{namespace}/{name}/{now}"),
        "created": now,
        "node": node["name"],
        "host_ip": node.get("ip", ""),
        "pod_ip": _pod_ip(cluster, index, 100 + serial % 150),
        "phase": "Pending",
        "exit_code": None,
        **spec,
    }


def run_pod_object(cluster: dict, record: dict) -> dict:
    """The API object of a `kubectl run` pod (what kubectl's generator creates, as the server reports it)."""
    ts, phase = record["created"], record["phase"]
    container: dict = {
        "name": record["name"],
        "image": record["image"],
        "imagePullPolicy": record["image_pull_policy"],
        "resources": {},
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
    }
    if record["command"]:
        container["command" if record["use_command"] else "args"] = list(record["command"])
    if record["stdin"]:
        container["stdin"] = True
    if record["stdin_once"]:
        container["stdinOnce"] = True
    if record["tty"]:
        container["tty"] = True
    cid = "containerd://" + hashlib.sha256(f"{record['uid']}".encode()).hexdigest()
    image_id = record["image"] + "@sha256:" + hashlib.sha256(record["image"].encode()).hexdigest()
    if phase == "Pending":
        state: dict = {"waiting": {"reason": "ContainerCreating"}}
        extra: dict = {}
    elif phase == "Running":
        state = {"running": {"startedAt": ts}}
        extra = {"containerID": cid, "imageID": image_id}
    else:
        code = int(record["exit_code"] or 0)
        state = {
            "terminated": {
                "containerID": cid,
                "exitCode": code,
                "finishedAt": ts,
                "reason": "Completed" if code == 0 else "Error",
                "startedAt": ts,
            }
        }
        extra = {"containerID": cid, "imageID": image_id}
    running = phase == "Running"
    status = {
        "name": record["name"],
        "image": record["image"],
        "imageID": "",
        "ready": running,
        "started": running,
        "restartCount": 0,
        "state": state,
        "lastState": {},
        **extra,
    }
    ready = "True" if running else "False"
    conditions = [
        {"type": "PodReadyToStartContainers", "status": "False" if phase == "Pending" else "True"},
        {"type": "Initialized", "status": "True"},
        {"type": "Ready", "status": ready},
        {"type": "ContainersReady", "status": ready},
        {"type": "PodScheduled", "status": "True"},
    ]
    for cond in conditions:
        cond.update({"lastProbeTime": None, "lastTransitionTime": ts})
    if not running:
        reason = "PodCompleted" if phase in ("Succeeded", "Failed") else "ContainersNotReady"
        for cond in conditions[2:4]:
            cond["reason"] = reason
            if reason == "ContainersNotReady":
                cond["message"] = f"containers with unready status: [{record['name']}]"
    pod_status: dict = {
        "phase": phase,
        "conditions": conditions,
        "containerStatuses": [status],
        "hostIP": record["host_ip"],
        "hostIPs": [{"ip": record["host_ip"]}],
        "qosClass": "BestEffort",
        "startTime": ts,
    }
    if phase != "Pending":
        pod_status["podIP"] = record["pod_ip"]
        pod_status["podIPs"] = [{"ip": record["pod_ip"]}]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": record["name"],
            "namespace": record["namespace"],
            "uid": record["uid"],
            "creationTimestamp": ts,
            "labels": dict(record["labels"]),
            "resourceVersion": str(5000 + int(record["uid"][:4], 16) % 1000),
        },
        "spec": {
            "containers": [container],
            "dnsPolicy": "ClusterFirst",
            "enableServiceLinks": True,
            "nodeName": record["node"],
            "preemptionPolicy": "PreemptLowerPriority",
            "priority": 0,
            "restartPolicy": record["restart"],
            "schedulerName": "default-scheduler",
            "securityContext": {},
            "serviceAccount": "default",
            "serviceAccountName": "default",
            "terminationGracePeriodSeconds": 30,
        },
        "status": pod_status,
    }


def namespaces(cluster: dict) -> list[dict]:
    names = ["default", "kube-node-lease", "kube-public", "kube-system"]
    if cluster["tool"] == "kind":
        names.append("local-path-storage")
    return [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": ns,
                "uid": _uid(cluster["uid"] + "ns" + ns),
                "creationTimestamp": cluster["created"],
                "resourceVersion": str(10 + i),
                "labels": {"kubernetes.io/metadata.name": ns},
            },
            "spec": {"finalizers": ["kubernetes"]},
            "status": {"phase": "Active"},
        }
        for i, ns in enumerate(names)
    ]


def dns_healthy(unhealthy: dict[str, str]) -> bool:
    return "dns" not in unhealthy and "coredns-crashloop" not in unhealthy


# -- configmaps ------------------------------------------------------------------------------------

# k3s manifests/local-storage.yaml (v1.31.x) as the cluster holds it: k3s replaces the
# %{SYSTEM_DEFAULT_REGISTRY}% and %{DEFAULT_LOCAL_STORAGE_PATH}% templates when it stages the
# manifest (pkg/server/server.go stageFiles), so the live helperPod.yaml names the bare image.
_K3S_LOCAL_PATH_CONFIG = {
    "config.json": '{\n  "nodePathMap":[\n  {\n    "node":"DEFAULT_PATH_FOR_NON_LISTED_NODES",\n'
    '    "paths":["/var/lib/rancher/k3s/storage"]\n  }\n  ]\n}',
    "setup": '#!/bin/sh\nset -eu\nmkdir -m 0777 -p "${VOL_DIR}"\nchmod 700 "${VOL_DIR}/.."',
    "teardown": '#!/bin/sh\nset -eu\nrm -rf "${VOL_DIR}"',
    "helperPod.yaml": "apiVersion: v1\nkind: Pod\nmetadata:\n  name: helper-pod\nspec:\n  containers:\n"
    '  - name: helper-pod\n    image: "rancher/mirrored-library-busybox:1.36.1"\n'
    "    imagePullPolicy: IfNotPresent",
}
# kind pkg/build/nodeimage/const_storage.go (v0.27.0): the local-path-config kind bakes in.
_KIND_LOCAL_PATH_CONFIG = {
    "config.json": '{\n        "nodePathMap":[\n        {\n'
    '                "node":"DEFAULT_PATH_FOR_NON_LISTED_NODES",\n'
    '                "paths":["/var/local-path-provisioner"]\n        }\n        ]\n}',
    "setup": '#!/bin/sh\nset -eu\nmkdir -m 0777 -p "$VOL_DIR"',
    "teardown": '#!/bin/sh\nset -eu\nrm -rf "$VOL_DIR"',
    "helperPod.yaml": "apiVersion: v1\nkind: Pod\nmetadata:\n  name: helper-pod\nspec:\n"
    "  priorityClassName: system-node-critical\n  tolerations:\n    - key: node.kubernetes.io/disk-pressure\n"
    "      operator: Exists\n      effect: NoSchedule\n  containers:\n  - name: helper-pod\n"
    "    image: docker.io/kindest/local-path-helper:v20241212-8ac705d0\n    imagePullPolicy: IfNotPresent",
}
_FAKE_CA = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n"


def configmaps(cluster: dict) -> list[dict]:
    """`kube-root-ca.crt` in every namespace (kube-controller-manager's root-ca-cert-publisher),
    the local-path provisioner's config with its embedded helper pod, and any `configmaps` records
    a test stored (each {"namespace", "name", "data"})."""
    found: list[tuple[str, str, dict]] = [
        (ns["metadata"]["name"], "kube-root-ca.crt", {"ca.crt": _FAKE_CA}) for ns in namespaces(cluster)
    ]
    disabled = set(cluster.get("opts", {}).get("disabled_components", []))
    if cluster["tool"] == "k3d" and "local-storage" not in disabled:
        found.append(("kube-system", "local-path-config", _K3S_LOCAL_PATH_CONFIG))
    elif cluster["tool"] == "kind":
        found.append(("local-path-storage", "local-path-config", _KIND_LOCAL_PATH_CONFIG))
    found += [(r["namespace"], r["name"], r.get("data") or {}) for r in cluster.get("configmaps") or []]
    return [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": name,
                "namespace": ns,
                "uid": _uid(cluster["uid"] + "cm" + ns + name),
                "creationTimestamp": cluster["created"],
                "resourceVersion": str(300 + i),
            },
            "data": dict(data),
        }
        for i, (ns, name, data) in enumerate(found)
    ]


# -- more resource types, and what a test seeds ---------------------------------------------------
#
# A test describes a broken cluster in ``$KENV_FAKE_STATE/kubeseed/<cluster>.json`` (cluster or
# context name; see README "Seeding objects and logs"): API objects of any kind served beside the
# generated ones (a seeded object with the generated one's kind, namespace and name replaces it),
# container logs, and resource types the cluster lacks or forbids.

SEED_DIR = "kubeseed"
# kubectl resource plural -> (kind, namespaced): the types `kenv doctor snapshot` lists.
EXTRA_TYPES = {
    "events": ("Event", True),
    "persistentvolumeclaims": ("PersistentVolumeClaim", True),
    "persistentvolumes": ("PersistentVolume", False),
    "storageclasses": ("StorageClass", False),
    "deployments": ("Deployment", True),
    "replicasets": ("ReplicaSet", True),
    "statefulsets": ("StatefulSet", True),
    "daemonsets": ("DaemonSet", True),
    "jobs": ("Job", True),
    "cronjobs": ("CronJob", True),
    "services": ("Service", True),
    "endpoints": ("Endpoints", True),
    "apiservices": ("APIService", False),
}
# kubectl's short names and singulars (`kubectl api-resources`, v1.31)
EXTRA_ALIASES = {
    "event": "events",
    "ev": "events",
    "persistentvolumeclaim": "persistentvolumeclaims",
    "pvc": "persistentvolumeclaims",
    "persistentvolume": "persistentvolumes",
    "pv": "persistentvolumes",
    "storageclass": "storageclasses",
    "sc": "storageclasses",
    "deployment": "deployments",
    "deploy": "deployments",
    "replicaset": "replicasets",
    "rs": "replicasets",
    "statefulset": "statefulsets",
    "sts": "statefulsets",
    "daemonset": "daemonsets",
    "ds": "daemonsets",
    "job": "jobs",
    "cronjob": "cronjobs",
    "cj": "cronjobs",
    "service": "services",
    "svc": "services",
    "ep": "endpoints",
    "apiservice": "apiservices",
}


def load_seed(state_dir: str, names: list[str]) -> dict:
    """The seed of the first of `names` (cluster name, context) that has one; {} when none."""
    import json

    for name in names:
        path = os.path.join(state_dir, SEED_DIR, f"{name}.json")
        try:
            with open(path, encoding="utf-8") as handle:
                seed = json.load(handle)
        except FileNotFoundError:
            continue
        if not isinstance(seed, dict):
            raise ValueError(f"{path}: a seed is a JSON object")  # noqa: TRY004 - reported as NotEmulated
        return seed
    return {}


def seeded_objects(seed: dict, kind: str) -> list[dict]:
    return [o for o in seed.get("objects") or [] if isinstance(o, dict) and o.get("kind") == kind]


def merge_seeded(generated: list[dict], seeded: list[dict]) -> list[dict]:
    """Generated objects with the seeded ones of the same namespace/name replaced, then the rest."""

    def key(obj: dict) -> tuple[str, str]:
        meta = obj.get("metadata") or {}
        return (meta.get("namespace") or "", meta.get("name") or "")

    by_key = {key(o): o for o in seeded}
    result = [by_key.pop(key(o), o) for o in generated]
    return result + [o for o in seeded if key(o) in by_key]


def extra_objects(cluster: dict, resource: str, unhealthy: dict[str, str]) -> list[dict]:
    """What a fresh cluster of this tool holds of the types beyond nodes/pods/namespaces/configmaps:
    the `kubernetes` and `kube-dns` Services with their Endpoints, and the default StorageClass."""
    created = cluster["created"]
    svc_base = cluster.get("service_cidr", "10.96.0.0/12").split("/")[0].rsplit(".", 1)[0]
    dns_ip = cluster.get("dns_ip", f"{svc_base}.10")

    def meta(name: str, namespace: str | None, labels: dict | None = None) -> dict:
        body: dict = {
            "name": name,
            "uid": _uid(cluster["uid"] + resource + (namespace or "") + name),
            "resourceVersion": "200",
            "creationTimestamp": created,
        }
        if namespace is not None:
            body["namespace"] = namespace
        if labels:
            body["labels"] = labels
        return body

    if resource == "services":
        return [
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": meta("kubernetes", "default", {"component": "apiserver", "provider": "kubernetes"}),
                "spec": {
                    "clusterIP": f"{svc_base}.1",
                    "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}],
                    "type": "ClusterIP",
                },
                "status": {"loadBalancer": {}},
            },
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": meta("kube-dns", "kube-system", {"k8s-app": "kube-dns"}),
                "spec": {
                    "clusterIP": dns_ip,
                    "ports": [
                        {"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
                        {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53},
                    ],
                    "selector": {"k8s-app": "kube-dns"},
                    "type": "ClusterIP",
                },
                "status": {"loadBalancer": {}},
            },
        ]
    if resource == "endpoints":
        coredns = [
            p for p in pods(cluster, unhealthy) if (p["metadata"].get("labels") or {}).get("k8s-app") == "kube-dns"
        ]
        addresses = [
            {
                "ip": p["status"].get("podIP", ""),
                "nodeName": p["spec"]["nodeName"],
                "targetRef": {
                    "kind": "Pod",
                    "name": p["metadata"]["name"],
                    "namespace": "kube-system",
                    "uid": p["metadata"]["uid"],
                },
            }
            for p in coredns
        ]
        ready = "coredns-crashloop" not in unhealthy
        subset: dict = {
            "ports": [
                {"name": "dns", "port": 53, "protocol": "UDP"},
                {"name": "dns-tcp", "port": 53, "protocol": "TCP"},
            ]
        }
        subset["addresses" if ready else "notReadyAddresses"] = addresses
        api_ip = next((n.get("ip", "") for n in cluster["nodes"] if n.get("kube")), "")
        return [
            {
                "apiVersion": "v1",
                "kind": "Endpoints",
                "metadata": meta("kubernetes", "default", {"endpointslice.kubernetes.io/skip-mirror": "true"}),
                "subsets": [
                    {"addresses": [{"ip": api_ip}], "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}]}
                ],
            },
            {
                "apiVersion": "v1",
                "kind": "Endpoints",
                "metadata": meta("kube-dns", "kube-system", {"k8s-app": "kube-dns"}),
                "subsets": [subset] if addresses else [],
            },
        ]
    if resource in ("deployments", "replicasets", "daemonsets", "jobs"):
        return _controllers(cluster, unhealthy, resource)
    if resource == "storageclasses":
        disabled = set(cluster.get("opts", {}).get("disabled_components", []))
        if cluster["tool"] == "k3d" and "local-storage" in disabled:
            return []
        name, provisioner = (
            ("standard", "k8s.io/minikube-hostpath")
            if cluster["tool"] == "minikube"
            else ("standard" if cluster["tool"] == "kind" else "local-path", "rancher.io/local-path")
        )
        return [
            {
                "apiVersion": "storage.k8s.io/v1",
                "kind": "StorageClass",
                "metadata": {
                    **meta(name, None),
                    "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
                },
                "provisioner": provisioner,
                "reclaimPolicy": "Delete",
                "volumeBindingMode": "Immediate" if cluster["tool"] == "minikube" else "WaitForFirstConsumer",
            }
        ]
    return []


def container_log(seed: dict, pod: dict, container: str, previous: bool) -> tuple[str | None, str]:
    """kubelet's answer to a log request (pkg/kubelet/kubelet_pods.go validateContainerLogStatus):
    (None, error) when it refuses, else (None, text) with the seeded text or ""."""
    name = pod["metadata"]["name"]
    status = pod.get("status") or {}
    statuses = (status.get("containerStatuses") or []) + (status.get("initContainerStatuses") or [])
    found = next((s for s in statuses if s.get("name") == container), None)
    if found is None:
        return f'container "{container}" in pod "{name}" is not available', ""
    last = (found.get("lastState") or {}).get("terminated")
    state = found.get("state") or {}
    if previous:
        if not last or not last.get("containerID"):
            return f'previous terminated container "{container}" in pod "{name}" not found', ""
    elif "running" not in state and "terminated" not in state and not last:
        reason = (state.get("waiting") or {}).get("reason", "")
        if reason == "ErrImagePull":
            why = "image can't be pulled"
        elif reason == "ImagePullBackOff":
            why = "trying and failing to pull image"
        else:
            why = reason
        return f'container "{container}" in pod "{name}" is waiting to start: {why}', ""
    namespace = pod["metadata"].get("namespace", "")
    for entry in seed.get("logs") or []:
        if (entry.get("namespace"), entry.get("pod"), entry.get("container")) == (namespace, name, container):
            # kubelet serves the last terminated instance as the current log of a waiting container
            use_previous = previous or ("running" not in state and "terminated" not in state)
            return None, str(entry.get("previous" if use_previous else "current") or "")
    if previous and namespace == "kube-system" and container == "coredns" and status.get("phase") == "Running":
        # KENV_FAKE_UNHEALTHY coredns-crashloop: what CoreDNS >= 1.11 prints as non-root without
        # NET_BIND_SERVICE (coredns#6249)
        return None, "Listen: listen tcp :53: bind: permission denied\n"
    return None, ""


# -- the controllers behind the system pods ------------------------------------------------------

_REPLICASET_APPS = ("coredns", "local-path-provisioner", "metrics-server", "traefik")
_DAEMONSET_PREFIXES = {"kube-proxy-": "kube-proxy", "kindnet-": "kindnet"}


def _owner_of(cluster: dict, pod: dict) -> tuple[str, str] | None:
    """(kind, name) of the controller that made a system pod, as the real clusters have them."""
    name = pod["metadata"]["name"]
    labels = pod["metadata"].get("labels") or {}
    app = next((a for a in _REPLICASET_APPS if name.startswith(a + "-")), None)
    if app is not None and name.count("-") >= app.count("-") + 2:
        return "ReplicaSet", name.rsplit("-", 1)[0]
    if "job-name" in labels:
        return "Job", labels["job-name"]
    for prefix, daemonset in _DAEMONSET_PREFIXES.items():
        if name.startswith(prefix):
            return "DaemonSet", daemonset
    if name.startswith("svclb-traefik-"):
        return "DaemonSet", name.rsplit("-", 1)[0]
    if labels.get("tier") == "control-plane":  # static pods: the mirror pod's owner is its Node
        return "Node", pod["spec"]["nodeName"]
    return None


def _owned_and_secured(cluster: dict, pod: dict, crashloop: bool) -> None:
    owner = _owner_of(cluster, pod)
    if owner is not None:
        kind, name = owner
        api = {"ReplicaSet": "apps/v1", "DaemonSet": "apps/v1", "Job": "batch/v1", "Node": "v1"}[kind]
        namespace = "" if kind == "Node" else pod["metadata"]["namespace"]
        pod["metadata"]["ownerReferences"] = [
            {
                "apiVersion": api,
                "kind": kind,
                "name": name,
                "uid": _uid(cluster["uid"] + kind + namespace + name),
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]
    if (pod["metadata"].get("labels") or {}).get("k8s-app") == "kube-dns":
        # k3s manifests/coredns.yaml and kubeadm's CoreDNS Deployment: NET_BIND_SERVICE added, ALL dropped;
        # coredns-crashloop stands for the broken variant (dropped, not added back: bind: permission denied)
        capabilities: dict = {"drop": ["all"]}
        if not crashloop:
            capabilities["add"] = ["NET_BIND_SERVICE"]
        for container in pod["spec"]["containers"]:
            container["securityContext"] = {
                "allowPrivilegeEscalation": False,
                "capabilities": capabilities,
                "readOnlyRootFilesystem": True,
            }


def _controllers(cluster: dict, unhealthy: dict[str, str], resource: str) -> list[dict]:
    """The ReplicaSets (and their Deployments), DaemonSets and Jobs the system pods name as owners."""
    kinds = {"deployments": "Deployment", "replicasets": "ReplicaSet", "daemonsets": "DaemonSet", "jobs": "Job"}
    wanted = kinds[resource]
    found: dict[tuple[str, str], dict] = {}
    for pod in pods(cluster, unhealthy):
        for ref in pod["metadata"].get("ownerReferences") or []:
            kind, name, namespace = ref["kind"], ref["name"], pod["metadata"]["namespace"]
            if kind == "Node":
                continue
            entry = found.setdefault(
                (kind, name),
                {
                    "kind": kind,
                    "name": name,
                    "namespace": namespace,
                    "uid": ref["uid"],
                    "pods": [],
                    "spec": pod["spec"],
                },
            )
            entry["pods"].append(pod)
    result = []
    for (kind, name), entry in sorted(found.items()):
        ready = sum(1 for p in entry["pods"] if all(s.get("ready") for s in p["status"]["containerStatuses"]))
        template = {
            "metadata": {"labels": dict(entry["pods"][0]["metadata"].get("labels") or {})},
            "spec": entry["spec"],
        }
        meta = {
            "name": name,
            "namespace": entry["namespace"],
            "uid": entry["uid"],
            "creationTimestamp": cluster["created"],
        }
        if kind == "ReplicaSet" and wanted in ("ReplicaSet", "Deployment"):
            deployment = name.rsplit("-", 1)[0]
            deployment_uid = _uid(cluster["uid"] + "Deployment" + entry["namespace"] + deployment)
            if wanted == "Deployment":
                result.append(
                    {
                        "apiVersion": "apps/v1",
                        "kind": "Deployment",
                        "metadata": {**meta, "name": deployment, "uid": deployment_uid},
                        "spec": {"replicas": len(entry["pods"]), "template": template},
                        "status": {"replicas": len(entry["pods"]), "readyReplicas": ready, "availableReplicas": ready},
                    }
                )
                continue
            meta["ownerReferences"] = [
                {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "name": deployment,
                    "uid": deployment_uid,
                    "controller": True,
                }
            ]
        if kind != wanted:
            continue
        status = (
            {"succeeded": len(entry["pods"])}
            if kind == "Job"
            else {"replicas": len(entry["pods"]), "readyReplicas": ready}
            if kind == "ReplicaSet"
            else {"desiredNumberScheduled": len(entry["pods"]), "numberReady": ready}
        )
        api = "batch/v1" if kind == "Job" else "apps/v1"
        result.append(
            {"apiVersion": api, "kind": kind, "metadata": meta, "spec": {"template": template}, "status": status}
        )
    return result
