"""Host ports, Docker networks and IPs as the fakes see them.

Port ownership mimics Docker: only *running* (or currently starting)
containers hold their published host ports, so a stopped cluster's ports are
free for others and starting it again can fail with "port is already
allocated".  A binding on 0.0.0.0 conflicts with every address; two specific
addresses only conflict when equal.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket

# Docker's default address pools for user-defined bridge networks
# (172.17.0.0/16 is the default bridge itself).
_DOCKER_POOLS = [f"172.{n}.0.0/16" for n in range(18, 32)] + [f"192.168.{n}.0/20" for n in range(0, 256, 16)]
# minikube's KIC driver searches from 192.168.49.0/24 in steps of 9.
_MINIKUBE_POOLS = [f"192.168.{n}.0/24" for n in range(49, 256, 9)]

HOLDING_STATES = ("running", "creating")
_ANY = ("", "0.0.0.0", "::", "[::]")


def _bindings(cluster: dict) -> list[tuple[str, int, str]]:
    result = []
    api = cluster.get("api") or {}
    if api.get("port"):
        result.append((api.get("host_ip", ""), int(api["port"]), "tcp"))
    for port in cluster.get("ports", []):
        if port.get("host_port"):
            result.append((port.get("host_ip", ""), int(port["host_port"]), port.get("protocol", "tcp")))
    return result


def _overlap(ip_a: str, ip_b: str) -> bool:
    return ip_a in _ANY or ip_b in _ANY or ip_a == ip_b


def port_owner(state: dict, host_ip: str, port: int, protocol: str = "tcp", exclude: str = "") -> dict | None:
    """The cluster currently holding host_ip:port/protocol, if any."""
    for key, cluster in state["clusters"].items():
        if key == exclude or cluster.get("status") not in HOLDING_STATES:
            continue
        for ip, p, proto in _bindings(cluster):
            if p == port and proto.lower() == protocol.lower() and _overlap(ip, host_ip):
                return cluster
    return None


def first_conflict(state: dict, cluster: dict, exclude: str) -> tuple[str, int] | None:
    """First (ip, port) of ``cluster`` already held by another cluster."""
    for ip, port, proto in _bindings(cluster):
        if port_owner(state, ip, port, proto, exclude) is not None:
            return (ip or "0.0.0.0", port)
    return None


def _held_ports(state: dict) -> set[int]:
    held: set[int] = set()
    for cluster in state["clusters"].values():
        held.update(p for _, p, _ in _bindings(cluster))
    return held


def random_port(state: dict) -> int:
    """A free port, picked like k3d/kind do (bind 127.0.0.1:0, then close)."""
    held = _held_ports(state)
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port not in held:
            return port
    raise RuntimeError("could not find a free port")


# -- networks ------------------------------------------------------------------


def network_id(name: str) -> str:
    return hashlib.sha256(f"network:{name}".encode()).hexdigest()


def container_id(name: str) -> str:
    return hashlib.sha256(f"container:{name}".encode()).hexdigest()


def overlaps(cidr_a: str, cidr_b: str) -> bool:
    import ipaddress  # imported lazily: only needed when allocating networks

    return ipaddress.ip_network(cidr_a, strict=False).overlaps(ipaddress.ip_network(cidr_b, strict=False))


def subnet_in_use(state: dict, cidr: str) -> dict | None:
    for net in state["networks"].values():
        if net.get("subnet") and overlaps(net["subnet"], cidr):
            return net
    return None


def pick_subnet(state: dict, minikube: bool = False) -> str:
    for cidr in _MINIKUBE_POOLS if minikube else _DOCKER_POOLS:
        if subnet_in_use(state, cidr) is None:
            return cidr
    raise RuntimeError("could not find an available, non-overlapping IPv4 address pool among the defaults")


def add_network(state: dict, name: str, subnet: str, owner: str, external: bool = False) -> dict:
    import ipaddress

    net = ipaddress.ip_network(subnet, strict=False)
    record = {
        "name": name,
        "id": network_id(name),
        "subnet": str(net),
        "gateway": str(net.network_address + 1),
        "owner": owner,  # "k3d/dev" etc.; "" for networks the fake did not create
        "external": external,
        "members": {},
    }
    state["networks"][name] = record
    return record


def allocate_ip(network: dict, member: str, preferred: str = "") -> str:
    """Give ``member`` the next free address (.2 upwards) in the network."""
    import ipaddress

    net = ipaddress.ip_network(network["subnet"], strict=False)
    used = set(network["members"].values())
    if preferred and preferred not in used:
        ip = preferred
    else:
        ip = ""
        for offset in range(2, min(net.num_addresses - 1, 4096)):
            cand = str(net.network_address + offset)
            if cand not in used:
                ip = cand
                break
    network["members"][member] = ip
    return ip


def release_members(state: dict, prefix_owner: str) -> None:
    """Remove a cluster's containers from every network they joined."""
    for net in state["networks"].values():
        for member in [m for m, _ in net["members"].items() if _owner_of(m) == prefix_owner]:
            del net["members"][member]


def _owner_of(member: str) -> str:
    return member.split("#", 1)[0]


def member_key(cluster_key: str, node_name: str) -> str:
    return f"{cluster_key}#{node_name}"


def docker_network_subnet(name: str, fakes_bin: str) -> str | None:
    """Ask a real Docker daemon (if one is reachable) about an existing network.

    Returns the network's first IPv4 subnet ("" if it has none), or None when
    the network does not exist.  Any failure (no docker CLI, daemon down,
    timeout) counts as "does not exist".  The fakes' own bin directory is
    skipped so we never call ourselves.
    """
    path_entries = [
        p
        for p in os.environ.get("PATH", "").split(os.pathsep)
        if p and os.path.realpath(p) != os.path.realpath(fakes_bin)
    ]
    docker = shutil.which("docker", path=os.pathsep.join(path_entries))
    if not docker:
        return None
    import subprocess

    template = "{{range .IPAM.Config}}{{.Subnet}} {{end}}"
    try:
        proc = subprocess.run(
            [docker, "network", "inspect", name, "--format", template],
            capture_output=True,
            text=True,
            timeout=3,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if proc.returncode != 0:
        return None
    return next((s for s in proc.stdout.split() if "." in s), "")
