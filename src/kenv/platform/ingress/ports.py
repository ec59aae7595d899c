"""Where every environment's ingress listens (pure): HTTP on the environment's `node_port`, HTTPS
on one fixed NodePort derived from it, the same rule for Traefik (k3d) and ingress-nginx (kind,
minikube).

NodePorts belong to one cluster, so one rule serves every environment: HTTPS is `node_port + 1`,
and `node_port - 1` for the one `node_port` at the top of Kubernetes' default range
(`--service-node-port-range` 30000-32767, which `settings.py` and validation enforce for
`node_port`). The default pair is 30080/30081. Nothing else kenv puts in a business cluster takes
a NodePort (Argo CD's 30800 is in the management environment, which gets no ingress step), and
`node_port` is not a host port: the allocator's host ports (`inventory/allocation.py`) never meet
it. HAProxy passes TLS through to the HTTPS one by SNI (`platform/haproxy/render.py`).
"""

from __future__ import annotations

# The rule itself sits in the inventory model, below the providers that publish host ports onto it.
from kenv.inventory.model import NODE_PORT_MAX, https_node_port

NODE_PORT_MIN = 30000

__all__ = ["NODE_PORT_MAX", "NODE_PORT_MIN", "https_node_port"]
