"""k3d: k3s' own Traefik, its Service made a NodePort on the environment's `node_port` (pure).

k3s deploys Traefik as a packaged HelmChart (`kube-system/traefik`) and merges the values of a
HelmChartConfig of the same name and namespace over its own (docs.k3s.io "Customizing Packaged
Components with HelmChartConfig"); its helm-controller upgrades the release when the config
changes. The Traefik chart k3s v1.31 packages (27.x) takes `service.type` and a fixed
`ports.<name>.nodePort` (values.yaml: `# nodePort: 32080` under `ports.web`). HTTPS (the
`websecure` entry point, TLS by Traefik) goes to `https_node_port(node_port)` (ports.py). A
NodePort Service keeps working behind k3d's loadbalancer too (the host ports kenv publishes stay
where they were).
"""

from __future__ import annotations

from kenv.platform.ingress.ports import https_node_port

NAME = "traefik"
NAMESPACE = "kube-system"


def helm_chart_config(node_port: int) -> str:
    """The HelmChartConfig that puts Traefik's web entry point on `node_port`."""
    return (
        "apiVersion: helm.cattle.io/v1\n"
        "kind: HelmChartConfig\n"
        "metadata:\n"
        f"  name: {NAME}\n"
        f"  namespace: {NAMESPACE}\n"
        "  labels:\n"
        "    app.kubernetes.io/managed-by: kenv\n"
        "spec:\n"
        "  valuesContent: |-\n"
        "    service:\n"
        "      type: NodePort\n"
        "    ports:\n"
        "      web:\n"
        f"        nodePort: {node_port}\n"
        "      websecure:\n"
        f"        nodePort: {https_node_port(node_port)}\n"
    )
