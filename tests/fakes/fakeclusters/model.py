"""The tool-independent record of one fake cluster stored in state.json.

A cluster record looks like this (``state["clusters"]["k3d/dev"]``)::

    {
      "key": "k3d/dev", "tool": "k3d", "name": "dev", "uid": "<hex>",
      "status": "creating" | "running" | "stopped",
      "created": "<RFC3339>", "started": "<RFC3339>",
      "k8s_version": "v1.31.5+k3s1", "image": "docker.io/rancher/k3s:v1.31.5-k3s1",
      "container_runtime": "containerd://1.7.23-k3s2", "os_image": "K3s v1.31.5+k3s1",
      "api": {"host": "0.0.0.0", "host_ip": "0.0.0.0", "port": 6550,
              "server_host": "0.0.0.0", "container_port": 6443},
      "network": "k3d-dev",
      "nodes": [{"name": "k3d-dev-server-0", "role": "server", "kube": true,
                 "ip": "172.18.0.3", "images": ["docker.io/library/nginx:1.27"],
                 "running": true}, ...],
      "ports": [{"host_ip": "", "host_port": 8080, "container_port": 80,
                 "protocol": "tcp", "node": "k3d-dev-serverlb"}],
      "service_cidr": "10.43.0.0/16", "pod_cidr": "10.42.0.0/16", "dns_ip": "10.43.0.10",
      "kubeconfigs": ["/home/u/.kube/config"],   # files the fake wrote entries into
      "opts": {...}                              # tool specific settings/flags
    }
"""

from __future__ import annotations

import os
import re
import time
import uuid

# Versions the fakes pretend to be (see README.md for sources).
K3D_VERSION = "v5.8.3"
K3S_VERSION = "v1.31.5-k3s1"
K3D_DEFAULT_IMAGE = f"docker.io/rancher/k3s:{K3S_VERSION}"
K3D_PROXY_IMAGE = f"ghcr.io/k3d-io/k3d-proxy:{K3D_VERSION[1:]}"
KIND_VERSION = "v0.27.0"
KIND_GO = "go1.23.6"
KIND_DEFAULT_IMAGE = "kindest/node:v1.32.2@sha256:f226345927d7e348497136874b6d207e0b32cc52154ad8323129352923a3142f"
MINIKUBE_VERSION = "v1.35.0"
MINIKUBE_COMMIT = "dd5d320e41b5451cdf3c01891bc4e13d189586ed"
MINIKUBE_DEFAULT_K8S = "v1.32.0"
MINIKUBE_KIC_IMAGE = "gcr.io/k8s-minikube/kicbase:v0.0.46"
KUBECTL_VERSION = "v1.31.6"


def now_rfc3339() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def new_uid() -> str:
    return str(uuid.uuid4())


def k8s_version_from_k3s_image(image: str) -> str:
    """docker.io/rancher/k3s:v1.30.4-k3s1 -> v1.30.4+k3s1"""
    tag = image.rsplit(":", 1)[-1] if ":" in image.rsplit("/", 1)[-1] else "latest"
    match = re.match(r"(v\d+\.\d+\.\d+)-(k3s\d+)", tag)
    return f"{match.group(1)}+{match.group(2)}" if match else "v1.31.5+k3s1"


def k8s_version_from_kind_image(image: str) -> str:
    """kindest/node:v1.31.4@sha256:... -> v1.31.4"""
    ref = image.split("@", 1)[0]
    tag = ref.rsplit(":", 1)[-1] if ":" in ref.rsplit("/", 1)[-1] else ""
    match = re.match(r"v\d+\.\d+\.\d+", tag)
    return match.group(0) if match else "v1.32.2"


def normalize_image(ref: str) -> str:
    """Image reference as containerd lists it (docker.io/library/x:latest)."""
    name = ref
    digest = ""
    if "@" in name:
        name, digest = name.split("@", 1)
    last = name.rsplit("/", 1)[-1]
    if ":" not in last and not digest:
        name += ":latest"
    first = name.split("/", 1)[0]
    if "/" not in name:
        name = "docker.io/library/" + name
    elif "." not in first and ":" not in first and first != "localhost":
        name = "docker.io/" + name
    return name + ("@" + digest if digest else "")


def new_cluster(tool: str, name: str) -> dict:
    return {
        "key": f"{tool}/{name}",
        "tool": tool,
        "name": name,
        "uid": new_uid(),
        "status": "creating",
        "created": now_rfc3339(),
        "started": now_rfc3339(),
        "nodes": [],
        "ports": [],
        "kubeconfigs": [],
        "opts": {},
    }


def kube_nodes(cluster: dict) -> list[dict]:
    """Nodes that are Kubernetes nodes (not load balancers/registries)."""
    return [n for n in cluster["nodes"] if n.get("kube")]


def set_running(cluster: dict, running: bool) -> None:
    cluster["status"] = "running" if running else "stopped"
    for node in cluster["nodes"]:
        set_node_running(node, running)
    if running:
        cluster["started"] = now_rfc3339()
        cluster["setup_done"] = True


# -- node containers as the (fake) Docker engine sees them -----------------------------
#
# Every node is a container.  ``node["running"]`` stays the authoritative flag the
# tools read; ``node["state"]`` adds Docker's finer state ("created" = made by
# ``docker create`` but never started, "running", "exited") and ``started_at`` /
# ``finished_at`` (epoch seconds) / ``exit_code`` feed ``docker ps``/``inspect``.
# Records written before these keys existed are read with the defaults below.

# Exit code Docker records when a node container is stopped (`docker stop`): k3s
# exits cleanly on SIGTERM; kind/minikube nodes run systemd (STOPSIGNAL SIGRTMIN+3).
# Not verified against a real engine -- informational only.
STOP_EXIT_CODE = {"k3d": 0, "kind": 130, "minikube": 130}


def node_state(node: dict) -> str:
    """Docker state of a node container: created | running | exited."""
    if node.get("running"):
        return "running"
    state = node.get("state")
    return state if state in ("created", "exited") else "exited"


def set_node_running(node: dict, running: bool, exit_code: int = 0) -> None:
    """Start or stop one node container (Docker semantics: stopping a created one keeps it created)."""
    now = time.time()
    if running:
        if not node.get("running"):
            node["started_at"] = now
        node["running"] = True
        node["state"] = "running"
        return
    if node.get("running"):
        node["finished_at"] = now
        node["exit_code"] = exit_code
        node["state"] = "exited"
    elif node.get("state") != "created":
        node["state"] = "exited"
    node["running"] = False


def set_node_created(node: dict) -> None:
    """A container that exists (``docker create``) but was never started."""
    node["running"] = False
    node["state"] = "created"


def api_nodes(cluster: dict) -> list[dict]:
    """The containers that must run for the API to answer: the load balancer if
    the cluster has one (k3d serverlb, kind external-load-balancer), else the
    control-plane/server nodes."""
    lbs = [n for n in cluster["nodes"] if n.get("role") in ("loadbalancer", "external-load-balancer")]
    if lbs:
        return lbs + [n for n in cluster["nodes"] if n.get("role") in ("server", "control-plane")][:1]
    return [n for n in cluster["nodes"] if n.get("role") in ("server", "control-plane")] or cluster["nodes"][:1]


def refresh_status(cluster: dict) -> None:
    """Derive the cluster status from its containers after `docker start/stop`.

    No container running -> "stopped".  Set-up never finished (a create that
    was killed) -> "creating" while any container runs.  Otherwise "running"
    when every API container runs, else "stopped" (the API does not answer).
    """
    nodes = cluster["nodes"]
    if not any(n.get("running") for n in nodes):
        cluster["status"] = "stopped"
    elif not cluster.get("setup_done", True):
        cluster["status"] = "creating"
    elif all(n.get("running") for n in api_nodes(cluster)):
        if cluster.get("status") != "running":
            cluster["started"] = now_rfc3339()
        cluster["status"] = "running"
    else:
        cluster["status"] = "stopped"


def find(state: dict, tool: str, name: str) -> dict | None:
    return state["clusters"].get(f"{tool}/{name}")


def by_api_port(state: dict, port: int) -> dict | None:
    for cluster in state["clusters"].values():
        if int(cluster.get("api", {}).get("port") or 0) == port:
            return cluster
    return None


def remember_kubeconfig(cluster: dict, path: str) -> None:
    path = os.path.abspath(path)
    if path not in cluster["kubeconfigs"]:
        cluster["kubeconfigs"].append(path)
