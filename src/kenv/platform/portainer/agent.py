"""The Portainer edge agent in an environment's cluster, as JSON documents for `kubectl apply -f -`.

The objects are those of portainer/k8s deploy/manifests/agent/portainer-agent-edge-k8s.yaml (tag
portainer-2.39.0) and of its setup script (deploy/manifests/agent/ee/portainer-edge-agent-setup.sh:
ConfigMap portainer-agent-edge-id with edge.id, Secret portainer-agent-edge-key with edge.key),
rendered in one apply so that a re-registration converges instead of failing on "already
exists". The agent manages the whole cluster from Portainer (deployments, namespaces, RBAC), which
is what cluster-admin is for; Portainer's own manifest binds it, and a narrower role would break
the UI's features silently. EDGE_INSECURE_POLL=1: kenv's Portainer answers plain HTTP on the
platform network (portainer/portainer app/react/edge/components/EdgeScriptForm/scripts.ts, 2.21.4).
"""

from __future__ import annotations

import json
from typing import Any

from kenv.platform.portainer.api import AGENT_IMAGE

NAMESPACE = "portainer"
SERVICE_ACCOUNT = "portainer-sa-clusteradmin"
SECRET_NAME = "portainer-agent-edge-key"  # noqa: S105 - a name, not a secret
SECRET_KEY = "edge.key"  # noqa: S105 - a key name
CONFIGMAP_NAME = "portainer-agent-edge-id"
DEPLOYMENT = "portainer-agent"
LABELS = {"app.kubernetes.io/managed-by": "kenv"}


def edge_id(environment: str) -> str:
    """The agent's EDGE_ID: stable per environment, so a redeployed agent is the same agent."""
    return f"kenv-{environment}"


def agent_objects(environment: str, edge_key: str, *, image: str = AGENT_IMAGE) -> list[dict[str, Any]]:
    meta = {"namespace": NAMESPACE, "labels": dict(LABELS)}
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE, "labels": dict(LABELS)}},
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": SERVICE_ACCOUNT, **meta}},
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": "portainer-crb-clusteradmin", "labels": dict(LABELS)},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
            "subjects": [{"kind": "ServiceAccount", "name": SERVICE_ACCOUNT, "namespace": NAMESPACE}],
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": CONFIGMAP_NAME, **meta},
            "data": {"edge.id": edge_id(environment)},
        },
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": SECRET_NAME, **meta},
            "type": "Opaque",
            "stringData": {SECRET_KEY: edge_key},
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": DEPLOYMENT, **meta},
            "spec": {"clusterIP": "None", "selector": {"app": DEPLOYMENT}},
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": DEPLOYMENT, **meta},
            "spec": {
                "selector": {"matchLabels": {"app": DEPLOYMENT}},
                "template": {
                    "metadata": {"labels": {"app": DEPLOYMENT}},
                    "spec": {
                        "serviceAccountName": SERVICE_ACCOUNT,
                        "containers": [
                            {
                                "name": DEPLOYMENT,
                                "image": image,
                                "imagePullPolicy": "IfNotPresent",
                                "env": [
                                    {"name": "LOG_LEVEL", "value": "INFO"},
                                    {
                                        "name": "KUBERNETES_POD_IP",
                                        "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}},
                                    },
                                    {"name": "EDGE", "value": "1"},
                                    {"name": "EDGE_INSECURE_POLL", "value": "1"},
                                    {"name": "AGENT_CLUSTER_ADDR", "value": DEPLOYMENT},
                                    {
                                        "name": "EDGE_ID",
                                        "valueFrom": {"configMapKeyRef": {"name": CONFIGMAP_NAME, "key": "edge.id"}},
                                    },
                                    {
                                        "name": "EDGE_KEY",
                                        "valueFrom": {"secretKeyRef": {"name": SECRET_NAME, "key": SECRET_KEY}},
                                    },
                                ],
                                "ports": [
                                    {"containerPort": 9001, "protocol": "TCP"},
                                    {"containerPort": 80, "protocol": "TCP"},
                                ],
                            }
                        ],
                    },
                },
            },
        },
    ]


def render_agent(environment: str, edge_key: str, *, image: str = AGENT_IMAGE) -> str:
    """The objects as a multi-document stream (JSON documents are YAML documents)."""
    return "---\n".join(
        json.dumps(obj, sort_keys=True) + "\n" for obj in agent_objects(environment, edge_key, image=image)
    )
