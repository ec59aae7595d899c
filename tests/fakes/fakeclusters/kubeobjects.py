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
