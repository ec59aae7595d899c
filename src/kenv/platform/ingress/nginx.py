"""kind and minikube: ingress-nginx, pinned, its controller Service on the environment's
`node_port` (pure: the manifest to apply, and what the objects read back must say).

The manifest is upstream's own, shipped verbatim as `kenv/manifests/ingress/ingress-nginx.yaml`
(kubernetes/ingress-nginx, tag controller-v1.12.8, deploy/static/provider/baremetal/deploy.yaml):
the `ingress` image component reads the same file, so what `kenv images list --component
ingress` shows is exactly what is applied, and synced into the nodes first.

Why not the kind provider's deploy.yaml of the same tag: it puts hostPort 80/443 on the
controller and a nodeSelector `ingress-ready=true` (a label kind nodes get only from a cluster
config's kubeadm patch), and adds control-plane tolerations. HAProxy routes
`*.<env>.<base_domain>` to the node address and `node_port` on the environment's own network,
so a NodePort Service is all that is needed: no node label to arrange, no pod pinned to one
node, and no claim on ports 80/443 of a node, which any other hostPort or host-network pod
there would collide with (the predecessor's lesson: every k3d Traefik wanting :80 broke all but
the first cluster). The baremetal variant's Service is
already a NodePort (externalTrafficPolicy Cluster: any node answers, so HAProxy's first server
node does even when the controller runs on a worker); the only change is fixing its `nodePort`s
to `node_port` (http) and `https_node_port(node_port)` (https, ports.py), as k3d's Traefik gets
(traefik.py). kind removes the control-plane taint of a one-node cluster (kind
pkg/cluster/internal/create/actions/kubeadminit/init.go) and schedules on its workers otherwise,
so no toleration is missing.

Why not minikube's own `minikube addons enable ingress`: its manifest
(deploy/addons/ingress/ingress-deploy.yaml.tmpl) takes its images from the minikube release
(pkg/minikube/assets/addons.go: minikube v1.38.1 pins controller v1.14.3), so the version and
the images to sync would change with the minikube on each machine and come from minikube rather
than from a file kenv ships; its Service leaves `nodePort` to the apiserver (a random port
HAProxy cannot know), and it binds hostPort 80/443 on the primary node. One manifest for both
providers keeps one version, one image list and one check.

The admission webhook: the Job `ingress-nginx-admission-create` (kube-webhook-certgen `create`)
writes the Secret the controller mounts, so the controller's rollout waits for it; the Job
`ingress-nginx-admission-patch` (`patch`) puts the CA into the ValidatingWebhookConfiguration
(images/kube-webhook-certgen/rootfs/pkg/k8s/k8s.go patchValidating). Until then every Ingress is
refused (failurePolicy Fail). Both Jobs have `ttlSecondsAfterFinished: 0`: the TTL controller
deletes them the moment they complete, so waiting on the Jobs themselves (`kubectl wait
--for=condition=complete job/...`) fails NotFound after a success; kenv waits for what they
leave instead, the caBundle.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Any

from kenv.platform.ingress.ports import https_node_port

VERSION = "controller-v1.12.8"
NAMESPACE = "ingress-nginx"
DEPLOYMENT = "ingress-nginx-controller"
SERVICE = "ingress-nginx-controller"
CONTAINER = "controller"
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


def _documents(text: str) -> list[dict[str, Any]]:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return [d for d in yaml.load_all(text, Loader=loader) if isinstance(d, dict)]


@cache
def _shipped_facts() -> tuple[str, str | None]:
    return controller_image(upstream_manifest()), admission_webhook(upstream_manifest())


def controller_image(manifest: str) -> str:
    """The image of the controller container of the controller Deployment."""
    for doc in _documents(manifest):
        if doc.get("kind") == "Deployment" and (doc.get("metadata") or {}).get("name") == DEPLOYMENT:
            for container in doc["spec"]["template"]["spec"].get("containers") or []:
                if container.get("name") == CONTAINER:
                    return str(container["image"])
    raise ManifestChanged(f"the ingress-nginx manifest has no {DEPLOYMENT} Deployment with a {CONTAINER} container")


def admission_webhook(manifest: str) -> str | None:
    """The ValidatingWebhookConfiguration a kube-webhook-certgen `patch` Job fills with its CA, or
    None when the manifest has no such webhook (nothing to wait for)."""
    docs = _documents(manifest)
    kind = "ValidatingWebhookConfiguration"
    webhooks = {str(d["metadata"]["name"]) for d in docs if d.get("kind") == kind and d.get("metadata")}
    for doc in docs:
        if doc.get("kind") != "Job":
            continue
        for container in doc["spec"]["template"]["spec"].get("containers") or []:
            args = [str(a) for a in container.get("args") or []]
            if args[:1] != ["patch"]:
                continue
            named = [a.split("=", 1)[1] for a in args if a.startswith("--webhook-name=")]
            if named and named[0] in webhooks:
                return named[0]
    return None


def shipped_controller_image() -> str:
    return _shipped_facts()[0]


def shipped_admission_webhook() -> str | None:
    return _shipped_facts()[1]


def deployment_problem(deployment: dict[str, Any], image: str) -> str | None:
    """What keeps the controller Deployment from counting as installed (None: it is): the image
    of this kenv's manifest, the spec's generation observed, and the Available condition True."""
    containers = ((deployment.get("spec") or {}).get("template") or {}).get("spec", {}).get("containers") or []
    running = next((str(c.get("image")) for c in containers if c.get("name") == CONTAINER), None)
    if running != image:
        return f"its controller image is {running or 'missing'}, not {image}"
    status = deployment.get("status") or {}
    generation = int((deployment.get("metadata") or {}).get("generation") or 0)
    if int(status.get("observedGeneration") or 0) < generation:
        return "its latest spec is not observed yet"
    conditions = {c.get("type"): c for c in status.get("conditions") or []}
    available = conditions.get("Available") or {}
    if available.get("status") != "True":
        reason = available.get("message") or available.get("reason") or "no Available condition"
        return f"it is not available ({reason})"
    return None


def service_problem(service: dict[str, Any], node_port: int) -> str | None:
    """What is wrong with the controller Service (None: a NodePort on the environment's ports)."""
    spec = service.get("spec") or {}
    if spec.get("type") != "NodePort":
        return f"its Service is of type {spec.get('type')}, not NodePort"
    ports = {p.get("name"): p.get("nodePort") for p in spec.get("ports") or []}
    wanted = {"http": node_port, "https": https_node_port(node_port)}
    if ports.get("http") != wanted["http"] or ports.get("https") != wanted["https"]:
        shown = ", ".join(f"{k} {ports.get(k)}" for k in wanted)
        return f"its Service's NodePorts are {shown}, not http {wanted['http']}, https {wanted['https']}"
    return None


def webhook_ready(webhook: dict[str, Any]) -> bool:
    """The certgen `patch` Job has put a CA into every webhook of the configuration."""
    hooks = webhook.get("webhooks") or []
    return bool(hooks) and all((h.get("clientConfig") or {}).get("caBundle") for h in hooks)
