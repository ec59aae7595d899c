"""kind and minikube: ingress-nginx, pinned, its controller Service on the environment's
`node_port` (pure).

The manifest is upstream's own, shipped verbatim as `kenv/manifests/ingress/ingress-nginx.yaml`
(kubernetes/ingress-nginx, tag controller-v1.12.8, deploy/static/provider/baremetal/deploy.yaml):
the `ingress` image component reads the same file, so what `kenv images list --component
ingress` shows is exactly what is applied. The baremetal variant is chosen over the kind one
because it needs no `ingress-ready` node label nor hostPorts 80/443 (two environments on one
host would collide on them, the predecessor's lesson): its Service is already a NodePort, and
the only change is fixing `nodePort` to `node_port` (http) and `node_port + 1` (https), as the
k3d Traefik HelmChartConfig does (traefik.py).
"""

from __future__ import annotations

from importlib.resources import files

from kenv.platform.ingress.traefik import https_node_port

VERSION = "controller-v1.12.8"
NAMESPACE = "ingress-nginx"
DEPLOYMENT = "ingress-nginx-controller"
SERVICE = "ingress-nginx-controller"
MANIFEST = ("manifests", "ingress", "ingress-nginx.yaml")

# The controller Service's two ports, as upstream writes them (the admission webhook Service has
# its own `https-webhook` port, left alone).
_HTTP = "  - appProtocol: http\n    name: http\n    port: 80\n    protocol: TCP\n    targetPort: http\n"
_HTTPS = "  - appProtocol: https\n    name: https\n    port: 443\n    protocol: TCP\n    targetPort: https\n"


class ManifestChanged(ValueError):
    """The shipped manifest no longer has the text this render edits (a new upstream version)."""


def upstream_manifest() -> str:
    resource = files("kenv")
    for part in MANIFEST:
        resource = resource / part
    return resource.read_text(encoding="utf-8")


def render(node_port: int, manifest: str | None = None) -> str:
    """The manifest with the controller's NodePorts fixed; everything else byte for byte."""
    text = upstream_manifest() if manifest is None else manifest
    for name, block, port in (("http", _HTTP, node_port), ("https", _HTTPS, https_node_port(node_port))):
        if text.count(block) != 1:
            raise ManifestChanged(
                f"the ingress-nginx manifest has {text.count(block)} controller {name} port(s) "
                "written as upstream does, not 1"
            )
        text = text.replace(block, block + f"    nodePort: {port}\n")
    return text
