"""What an environment record is, and the stable shape it has for programs (`-o json`)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kenv.settings import PROVIDERS

ROLES = ("management", "business")
DESIRED_STATES = ("present", "absent")
STATUSES = ("unknown", "creating", "running", "stopped", "failed", "deleting", "absent")
PORT_PURPOSES = ("http", "https", "pf", "api")
MANAGEMENT_NAME = "devops"

__all__ = ["DESIRED_STATES", "JSON_KEYS", "PORT_PURPOSES", "PROVIDERS", "ROLES", "STATUSES", "Environment"]

# The contract for `-o json|yaml`: flat, stable, in this order. New keys are only ever appended.
JSON_KEYS = (
    "name",
    "provider",
    "role",
    "status",
    "desired_state",
    "subnet",
    "http_port",
    "https_port",
    "pf_port",
    "api_port",
    "node_port",
    "servers",
    "agents",
    "labels",
    "last_error",
    "created_at",
    "updated_at",
    "k8s_version",
    "register_portainer",
    "haproxy_route",
    "last_step",
)


NODE_PORT_MAX = 32767  # the top of Kubernetes' default --service-node-port-range (30000-32767)


def https_node_port(node_port: int) -> int:
    """Where an environment's ingress takes HTTPS, next to `node_port` (HTTP): `node_port + 1`, or
    `node_port - 1` for the one `node_port` at the top of the range. It lives here, below the
    providers, because kind and minikube publish the environment's host ports onto these NodePorts
    (`providers/kind.py`, `providers/minikube.py`) and the ingress renders them
    (`platform/ingress/ports.py` says why one rule serves every environment)."""
    return node_port + 1 if node_port < NODE_PORT_MAX else node_port - 1


@dataclass(frozen=True)
class Environment:
    name: str
    provider: str
    role: str
    subnet: ipaddress.IPv4Network | None
    ports: dict[str, int]
    node_port: int
    servers: int
    agents: int
    k8s_version: str | None
    labels: dict[str, str]
    register_portainer: bool
    haproxy_route: bool
    desired_state: str
    status: str
    last_error: str | None
    last_step: str | None
    created_at: datetime
    updated_at: datetime
    id: int = field(default=0, compare=False)

    def port(self, purpose: str) -> int | None:
        return self.ports.get(purpose)

    @property
    def https_node_port(self) -> int:
        """The ingress's HTTPS NodePort (`https_node_port`)."""
        return https_node_port(self.node_port)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "provider": self.provider,
            "role": self.role,
            "status": self.status,
            "desired_state": self.desired_state,
            "subnet": str(self.subnet) if self.subnet else None,
            "http_port": self.ports.get("http"),
            "https_port": self.ports.get("https"),
            "pf_port": self.ports.get("pf"),
            "api_port": self.ports.get("api"),
            "node_port": self.node_port,
            "servers": self.servers,
            "agents": self.agents,
            "labels": dict(sorted(self.labels.items())),
            "last_error": self.last_error,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "k8s_version": self.k8s_version,
            "register_portainer": self.register_portainer,
            "haproxy_route": self.haproxy_route,
            "last_step": self.last_step,
        }
