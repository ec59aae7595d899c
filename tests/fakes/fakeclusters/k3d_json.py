"""`k3d cluster list -o json|yaml` entries, field by field like k3d's Go types.

Sources: pkg/types/types.go (json tags and omitempty), cmd/cluster/clusterList.go
(jsonOutput wrapper), pkg/runtimes/docker/translate.go (what is read back from
Docker: only ``k3d*`` labels, serverOpts.kubeAPI from labels, IP of the cluster
network) and pkg/client/cluster.go (populateClusterFieldsFromLabels fills only
network name/isExternal -- so ``network.id`` and ``network.ipam.ipPrefix`` are
empty in real output; read ``runtimeLabels["k3d.cluster.network.id"]`` /
``["k3d.cluster.network.iprange"]`` instead).
"""

from __future__ import annotations

import hashlib

from . import model
from .common import go_time, human_size, ram_in_bytes


def _image_id(ref: str) -> str:
    return "sha256:" + hashlib.sha256(ref.encode()).hexdigest()


def container_labels(cluster: dict, node: dict, net: dict | None) -> dict[str, str]:
    """Docker labels of a k3d node container (pkg/client/cluster.go ClusterCreate/ClusterPrepNetwork
    GlobalLabels + pkg/types/defaults.go DefaultRuntimeLabels{,Var}).  `cluster list` shows only the
    ``k3d*`` ones as runtimeLabels (pkg/runtimes/docker/translate.go)."""
    name, role = cluster["name"], node["role"]
    labels = {
        "app": "k3d",
        "k3d.cluster": name,
        "k3d.cluster.imageVolume": cluster["opts"].get("image_volume", ""),
        "k3d.cluster.network": cluster["network"],
        "k3d.cluster.network.external": "true" if cluster["opts"].get("network_external") else "false",
        "k3d.cluster.network.id": net["id"] if net else "",
        "k3d.cluster.network.iprange": net["subnet"] if net else "",
        "k3d.cluster.token": cluster["token"],
        "k3d.cluster.url": f"https://k3d-{name}-server-0:6443",
        "k3d.role": role,
        "k3d.server.loadbalancer": ""
        if not any(n["role"] == "loadbalancer" for n in cluster["nodes"])
        else f"k3d-{name}-serverlb",
        "k3d.version": model.K3D_VERSION,
    }
    if role == "server":
        api = cluster["api"]
        labels.update(
            {
                "k3d.server.api.host": api["host"],
                "k3d.server.api.hostIP": api["host_ip"],
                "k3d.server.api.port": str(api["port"]),
                "k3d.server.init": "false",
            }
        )
        if node.get("static_ip"):
            labels["k3d.node.staticIP"] = node["ip"]
    return labels


def _node_json(cluster: dict, node: dict, net: dict | None) -> dict:
    name, role = cluster["name"], node["role"]
    state = model.node_state(node)
    running = state == "running"
    labels = {k: v for k, v in container_labels(cluster, node, net).items() if k.startswith("k3d")}
    api = cluster["api"]
    kube_api = {"Port": "", "Binding": {"HostIp": "", "HostPort": ""}}
    if role == "server":
        kube_api = {
            "Port": "",
            "Binding": {"HostIp": api["host_ip"], "HostPort": str(api["port"])},
            "host": api["host"],
        }
    ports: dict[str, list[dict]] = {}
    has_lb = any(n["role"] == "loadbalancer" for n in cluster["nodes"])
    if (role == "loadbalancer") or (role == "server" and not has_lb and node["name"].endswith("-0")):
        ports["6443/tcp"] = [{"HostIp": api["host_ip"], "HostPort": str(api["port"])}]
    for mapping in cluster["ports"]:
        if mapping["node"] == node["name"]:
            key = f"{mapping['container_port']}/{mapping['protocol']}"
            ports.setdefault(key, []).append({"HostIp": mapping["host_ip"], "HostPort": str(mapping["host_port"])})
    result: dict = {
        "name": node["name"],
        "role": role,
        "image": _image_id(cluster["image"] if role != "loadbalancer" else model.K3D_PROXY_IMAGE),
    }
    if role != "loadbalancer" and cluster["opts"].get("image_volume"):
        result["volumes"] = [f"{cluster['opts']['image_volume']}:/k3d/images"]
    env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
    if role in ("server", "agent"):
        env = [
            f"K3S_TOKEN={cluster['token']}",
            "K3S_KUBECONFIG_OUTPUT=/output/kubeconfig.yaml",
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/bin/aux",
            "CRI_CONFIG_FILE=/var/lib/rancher/k3s/agent/etc/crictl.yaml",
            *list(cluster["opts"].get("env", [])),
        ]
        if role == "agent":
            env.insert(1, f"K3S_URL=https://k3d-{name}-server-0:6443")
    result["env"] = env
    if role == "server":
        result["Cmd"] = [
            "server",
            "--tls-san",
            "0.0.0.0",
            "--tls-san",
            f"k3d-{name}-serverlb",
            *list(cluster["opts"].get("k3s_args", [])),
        ]
    elif role == "agent":
        result["Cmd"] = ["agent"]
    else:
        result["Cmd"] = None
    if ports:
        result["portMappings"] = ports
    result["restart"] = True
    result["created"] = go_time(cluster["created"])
    result["runtimeLabels"] = labels
    result["Networks"] = [cluster["network"]]
    result["ExtraHosts"] = None
    result["serverOpts"] = {"kubeAPI": kube_api}
    result["agentOpts"] = {}
    result["GPURequest"] = ""
    result["Memory"] = human_size(ram_in_bytes(node["memory"])) if node.get("memory") else ""
    # translate.go: State straight from `docker inspect`; a container that is not running has no
    # address on the network, and IP.Static is only set together with a valid IP.
    result["State"] = {"Running": running, "Status": state, "Started": ""}
    result["IP"] = {"IP": node.get("ip", "") if running else "", "Static": bool(running and node.get("static_ip"))}
    result["K3dEntrypoint"] = False
    return result


def cluster_json(state: dict, cluster: dict, show_token: bool, detailed: bool) -> dict:
    """One entry of `k3d cluster list -o json` (Go field order and omitempty)."""
    net = state["networks"].get(cluster["network"])
    network: dict = {"name": cluster["network"], "id": "", "ipam": {"ipPrefix": "", "Managed": False}, "Members": None}
    if cluster["opts"].get("network_external"):
        network = {
            "name": cluster["network"],
            "id": "",
            "isExternal": True,
            "ipam": {"ipPrefix": "", "Managed": False},
            "Members": None,
        }
    nodes = [_node_json(cluster, n, net) for n in cluster["nodes"]]
    entry: dict = {"name": cluster["name"], "network": network}
    if show_token:
        entry["clusterToken"] = cluster["token"]
    entry["nodes"] = nodes
    entry["InitNode"] = None
    lb = next((n for n in nodes if n["role"] == "loadbalancer"), None)
    if detailed and lb is not None:
        servers = [n["name"] for n in cluster["nodes"] if n["role"] == "server"]
        entry["serverLoadBalancer"] = dict(
            lb, config={"ports": {"6443.tcp": servers}, "settings": {"workerConnections": 1024}}
        )
    if cluster["opts"].get("image_volume"):
        entry["imageVolume"] = cluster["opts"]["image_volume"]
        if detailed:
            entry["volumes"] = [cluster["opts"]["image_volume"]]
    servers = [n for n in cluster["nodes"] if n["role"] == "server"]
    agents = [n for n in cluster["nodes"] if n["role"] == "agent"]
    entry["serversRunning"] = sum(1 for n in servers if n.get("running"))
    entry["serversCount"] = len(servers)
    entry["agentsRunning"] = sum(1 for n in agents if n.get("running"))
    entry["agentsCount"] = len(agents)
    if lb is not None:
        entry["hasLoadbalancer"] = True
    return entry
