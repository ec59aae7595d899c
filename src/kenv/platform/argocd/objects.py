"""The Kubernetes objects kenv gives Argo CD, as plain dicts (Argo CD v3.5.1 conventions,
docs/operator-manual/declarative-setup.md and applicationset/Generators-Cluster.md).

Registered clusters get a ServiceAccount `kenv-argocd` in `kube-system` whose ClusterRole reads
everything (Argo CD's cluster cache lists and watches every type to compute diffs and health)
but writes only namespaced application kinds: no write on cluster-scoped objects (CRDs,
ClusterRoles, nodes, webhooks), no RBAC objects (whoever may write RoleBindings may grant
themselves anything), no pods/exec, impersonate, escalate or bind. What an environment's
directory in the GitOps repository deploys is applications, not cluster administration.
`argocd_cluster_admin = true` binds cluster-admin instead, for repositories that do install CRDs.

The token is a `kubernetes.io/service-account-token` Secret rather than `kubectl create token`:
Argo CD keeps the bearer token it is given and never renews it, while a requested token expires
(the API server caps `--duration` with --service-account-max-token-expiration). The Secret's
token lives as long as the Secret: deleting it (unregister) revokes it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from importlib import resources
from typing import Any

VERSION = "v3.5.1"
NAMESPACE = "argocd"
SERVER = "argocd-server"
ADMIN_SECRET = "argocd-secret"  # noqa: S105 - a name, not a secret
INITIAL_SECRET = "argocd-initial-admin-secret"  # noqa: S105 - a name, not a secret
CMD_PARAMS = "argocd-cmd-params-cm"
PARAMS_ANNOTATION = "kenv.io/server-params"
# The NodePort HAProxy's argocd.devops.<domain> route reaches (the predecessor's, kept).
NODE_PORT = 30800
SECRET_TYPE_LABEL = "argocd.argoproj.io/secret-type"  # noqa: S105 - a name, not a secret
REPOSITORY_SECRET = "kenv-gitops"  # noqa: S105 - a name, not a secret
APPLICATIONSET = "kenv-environments"
IN_CLUSTER = "https://kubernetes.default.svc"
# In the registered environment's cluster.
ACCESS_NAMESPACE = "kube-system"
ACCESS_NAME = "kenv-argocd"
TOKEN_SECRET = "kenv-argocd-token"  # noqa: S105 - a name, not a secret
# Labels on cluster Secrets (the ApplicationSet selects on them) and on everything kenv adds.
ENV_LABEL, PROVIDER_LABEL, TYPE_LABEL = "kenv.io/env", "kenv.io/provider", "kenv.io/type"
MANAGED = {"app.kubernetes.io/managed-by": "kenv"}
# The API server's port inside the node container, per provider (k3s and kubeadm 6443,
# minikube 8443): what another cluster on the same Docker network dials.
IN_NODE_API_PORT = {"k3d": 6443, "kind": 6443, "minikube": 8443}
# A name every API server certificate carries (k3s and kubeadm both add kubernetes.default),
# checked against the cluster's CA instead of skipping verification for a bare node address.
TLS_SERVER_NAME = "kubernetes.default"

# Namespaced kinds the ClusterRole lets Argo CD write, by API group.
WRITABLE: dict[str, tuple[str, ...]] = {
    "": (
        "configmaps",
        "secrets",
        "services",
        "serviceaccounts",
        "persistentvolumeclaims",
        "endpoints",
    ),
    "apps": ("deployments", "statefulsets", "daemonsets", "replicasets"),
    "batch": ("jobs", "cronjobs"),
    "networking.k8s.io": ("ingresses", "networkpolicies"),
    "policy": ("poddisruptionbudgets",),
    "autoscaling": ("horizontalpodautoscalers",),
}
WRITE_VERBS = ("create", "update", "patch", "delete")
READ_VERBS = ("get", "list", "watch")


def install_manifest() -> str:
    """Argo CD's manifests/install.yaml at VERSION, unmodified (namespace-less: applied with -n)."""
    return resources.files(__package__).joinpath("install.yaml").read_text(encoding="utf-8")


def admin_password_patch(password_hash: str, now: datetime | None = None) -> dict[str, Any]:
    """The patch docs/faq.md gives: the bcrypt hash and its mtime (the server invalidates
    sessions issued before it)."""
    stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"stringData": {"admin.password": password_hash, "admin.passwordMtime": stamp}}


def server_params_patch() -> dict[str, Any]:
    """HAProxy speaks plain HTTP to the NodePort: argocd-server must not redirect to TLS."""
    return {"data": {"server.insecure": "true"}}


def server_rollout_patch() -> dict[str, Any]:
    """argocd-server's pod template marked with the parameters it must start with."""
    return {"spec": {"template": {"metadata": {"annotations": {PARAMS_ANNOTATION: "server.insecure=true"}}}}}


def server_service_patch(node_port: int = NODE_PORT) -> list[dict[str, Any]]:
    """argocd-server's Service as a NodePort, its http port (the manifest's first, 80 -> 8080) on
    `node_port`: a JSON patch, which changes only these two fields (a merge patch would replace
    the whole ports list, and the next install would put the https port back)."""
    return [
        {"op": "add", "path": "/spec/type", "value": "NodePort"},
        {"op": "add", "path": "/spec/ports/0/nodePort", "value": node_port},
    ]


def repository_secret(url: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": REPOSITORY_SECRET,
            "namespace": NAMESPACE,
            "labels": {SECRET_TYPE_LABEL: "repository", **MANAGED},
        },
        "type": "Opaque",
        "stringData": {"type": "git", "url": url, "name": "kenv-gitops"},
    }


def _sync_policy() -> dict[str, Any]:
    # The namespace comes from the manifests (or from kenv), never made up by Argo CD.
    return {"automated": {"prune": True, "selfHeal": True}, "syncOptions": ["CreateNamespace=false"]}


def application(name: str, repo_url: str, path: str, namespace: str, revision: str = "HEAD") -> dict[str, Any]:
    """An Application deploying `path` of the repository into `namespace` of the devops cluster."""
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": name, "namespace": NAMESPACE, "labels": dict(MANAGED)},
        "spec": {
            "project": "default",
            "source": {"repoURL": repo_url, "path": path.strip("/") or ".", "targetRevision": revision},
            "destination": {"server": IN_CLUSTER, "namespace": namespace},
            "syncPolicy": _sync_policy(),
        },
    }


def applicationset(repo_url: str, revision: str = "HEAD") -> dict[str, Any]:
    """One Application per registered business environment, from `environments/<name>/`: the
    cluster generator over Secrets kenv labelled (Generators-Cluster.md, goTemplate)."""
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "ApplicationSet",
        "metadata": {"name": APPLICATIONSET, "namespace": NAMESPACE, "labels": dict(MANAGED)},
        "spec": {
            "goTemplate": True,
            "goTemplateOptions": ["missingkey=error"],
            "generators": [
                {
                    "clusters": {
                        "selector": {
                            "matchLabels": {TYPE_LABEL: "business"},
                            "matchExpressions": [
                                {"key": ENV_LABEL, "operator": "Exists"},
                                {"key": PROVIDER_LABEL, "operator": "Exists"},
                            ],
                        }
                    }
                }
            ],
            "template": {
                "metadata": {"name": "env-{{.name}}", "labels": dict(MANAGED)},
                "spec": {
                    "project": "default",
                    "source": {"repoURL": repo_url, "path": "environments/{{.name}}", "targetRevision": revision},
                    "destination": {"server": "{{.server}}", "namespace": "default"},
                    "syncPolicy": _sync_policy(),
                },
            },
        },
    }


def cluster_secret_name(environment: str) -> str:
    return f"cluster-{environment}"


def cluster_labels(environment: str, provider: str, role: str) -> dict[str, str]:
    kind = "management" if role == "management" else "business"
    return {SECRET_TYPE_LABEL: "cluster", ENV_LABEL: environment, PROVIDER_LABEL: provider, TYPE_LABEL: kind, **MANAGED}


def cluster_server(provider: str, address: str) -> str:
    return f"https://{address}:{IN_NODE_API_PORT[provider]}"


def cluster_secret(environment: str, provider: str, role: str, server: str, token: str, ca_data: str) -> dict[str, Any]:
    """The cluster Secret (declarative-setup.md "Clusters"): bearer token, the cluster's CA
    (base64 PEM, as the token Secret's ca.crt holds it) and the name the certificate carries."""
    config = {"bearerToken": token, "tlsClientConfig": {"caData": ca_data, "serverName": TLS_SERVER_NAME}}
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": cluster_secret_name(environment),
            "namespace": NAMESPACE,
            "labels": cluster_labels(environment, provider, role),
        },
        "type": "Opaque",
        "stringData": {"name": environment, "server": server, "config": json.dumps(config, sort_keys=True)},
    }


def cluster_role(cluster_admin: bool = False) -> dict[str, Any] | None:
    """The ClusterRole of the registered cluster's account (see the module's docstring); None
    when cluster-admin is bound instead."""
    if cluster_admin:
        return None
    rules: list[dict[str, Any]] = [{"apiGroups": ["*"], "resources": ["*"], "verbs": list(READ_VERBS)}]
    rules += [
        {"apiGroups": [group], "resources": list(kinds), "verbs": list(WRITE_VERBS)}
        for group, kinds in WRITABLE.items()
    ]
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": ACCESS_NAME, "labels": dict(MANAGED)},
        "rules": rules,
    }


def access_objects(cluster_admin: bool = False) -> list[dict[str, Any]]:
    """ServiceAccount, its long-lived token Secret, the ClusterRole and its binding."""
    role = cluster_role(cluster_admin)
    objects: list[dict[str, Any]] = [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": ACCESS_NAME, "namespace": ACCESS_NAMESPACE, "labels": dict(MANAGED)},
        },
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {
                "name": TOKEN_SECRET,
                "namespace": ACCESS_NAMESPACE,
                "labels": dict(MANAGED),
                "annotations": {"kubernetes.io/service-account.name": ACCESS_NAME},
            },
            "type": "kubernetes.io/service-account-token",
        },
    ]
    if role is not None:
        objects.append(role)
    objects.append(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": ACCESS_NAME, "labels": dict(MANAGED)},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "cluster-admin" if cluster_admin else ACCESS_NAME,
            },
            "subjects": [{"kind": "ServiceAccount", "name": ACCESS_NAME, "namespace": ACCESS_NAMESPACE}],
        }
    )
    return objects


def documents(objects: list[dict[str, Any]]) -> str:
    """Objects as `kubectl apply -f -` reads them (JSON is YAML)."""
    return "\n---\n".join(json.dumps(obj, sort_keys=True) for obj in objects) + "\n"
