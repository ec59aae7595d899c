"""Argo CD's objects as kenv renders them: the pinned manifest, the least-privilege role, the
cluster and repository Secrets, the ApplicationSet's selector against the labels kenv sets, and
the admin password's hash as Argo CD checks it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import bcrypt
import yaml

from kenv.platform.argocd import objects as argo

CLUSTER_SCOPED_WRITES = {"namespaces", "nodes", "customresourcedefinitions", "clusterroles", "clusterrolebindings"}


def manifest() -> list[dict]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return [d for d in yaml.load_all(argo.install_manifest(), Loader=loader) if d]


def test_the_shipped_manifest_is_upstreams_unmodified() -> None:
    """The fixture is argo-cd's manifests/install.yaml at v3.5.1 (tests/fixtures/images/README.md)."""
    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "images" / f"argocd-{argo.VERSION}-install.yaml"
    assert argo.install_manifest() == fixture.read_text(encoding="utf-8")


def test_the_pinned_manifest_is_the_one_the_patches_expect() -> None:
    docs = manifest()
    by_kind_name = {(d["kind"], d["metadata"]["name"]): d for d in docs}
    assert all("namespace" not in d["metadata"] for d in docs)  # applied with -n argocd
    images = {
        c["image"]
        for d in docs
        if d["kind"] in ("Deployment", "StatefulSet")
        for c in d["spec"]["template"]["spec"]["containers"]
    }
    assert f"quay.io/argoproj/argocd:{argo.VERSION}" in images
    service = by_kind_name[("Service", argo.SERVER)]
    # the JSON patch sets ports/0/nodePort: port 0 must be the plain HTTP one
    assert service["spec"]["ports"][0] == {"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080}
    assert "data" not in by_kind_name[("Secret", argo.ADMIN_SECRET)]  # a server-side apply keeps our hash
    assert ("ConfigMap", argo.CMD_PARAMS) in by_kind_name
    assert ("Secret", argo.INITIAL_SECRET) not in by_kind_name  # made by the server at first start


def test_the_role_reads_everything_and_writes_only_namespaced_application_kinds() -> None:
    role = argo.cluster_role()
    assert role is not None
    reads, *writes = role["rules"]
    assert reads == {"apiGroups": ["*"], "resources": ["*"], "verbs": ["get", "list", "watch"]}
    for rule in writes:
        assert "*" not in rule["apiGroups"] and "*" not in rule["resources"]
        assert not set(rule["resources"]) & CLUSTER_SCOPED_WRITES
        assert rule["apiGroups"] != ["rbac.authorization.k8s.io"]
        assert set(rule["verbs"]) <= {"create", "update", "patch", "delete"}
    written = {r for rule in writes for r in rule["resources"]}
    assert {"deployments", "services", "configmaps", "secrets", "ingresses"} <= written
    assert not {"pods/exec", "serviceaccounts/token"} & written


def test_access_objects_bind_the_role_or_cluster_admin_when_asked() -> None:
    kinds = [o["kind"] for o in argo.access_objects()]
    assert kinds == ["ServiceAccount", "Secret", "ClusterRole", "ClusterRoleBinding"]  # account before its token
    token = argo.access_objects()[1]
    assert token["type"] == "kubernetes.io/service-account-token"
    assert token["metadata"]["annotations"] == {"kubernetes.io/service-account.name": argo.ACCESS_NAME}
    assert argo.access_objects()[-1]["roleRef"]["name"] == argo.ACCESS_NAME
    admin = argo.access_objects(cluster_admin=True)
    assert [o["kind"] for o in admin] == ["ServiceAccount", "Secret", "ClusterRoleBinding"]
    assert admin[-1]["roleRef"]["name"] == "cluster-admin"


def test_cluster_secret_follows_the_declarative_setup() -> None:
    secret = argo.cluster_secret("dev", "kind", "business", "https://10.200.0.2:6443", "tok", "Q0E=")
    assert secret["metadata"]["name"] == "cluster-dev" and secret["metadata"]["namespace"] == "argocd"
    assert secret["metadata"]["labels"]["argocd.argoproj.io/secret-type"] == "cluster"
    data = secret["stringData"]
    assert data["name"] == "dev" and data["server"] == "https://10.200.0.2:6443"
    config = json.loads(data["config"])
    assert config == {"bearerToken": "tok", "tlsClientConfig": {"caData": "Q0E=", "serverName": "kubernetes.default"}}
    assert "insecure" not in config["tlsClientConfig"]
    assert argo.cluster_server("minikube", "10.0.0.5") == "https://10.0.0.5:8443"
    assert argo.cluster_server("k3d", "10.0.0.5") == "https://10.0.0.5:6443"


def selected(selector: dict, labels: dict[str, str]) -> bool:
    """metav1.LabelSelector semantics for matchLabels and the Exists operator."""
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    return all(e["operator"] == "Exists" and e["key"] in labels for e in selector.get("matchExpressions", []))


def test_the_applicationset_selects_business_clusters_only() -> None:
    appset = argo.applicationset("http://git/gitops.git")
    (generator,) = appset["spec"]["generators"]
    selector = generator["clusters"]["selector"]
    assert selected(selector, argo.cluster_labels("dev", "k3d", "business"))
    assert not selected(selector, argo.cluster_labels("devops", "k3d", "management"))
    assert not selected(selector, {"argocd.argoproj.io/secret-type": "cluster"})  # not one of kenv's
    template = appset["spec"]["template"]
    assert appset["spec"]["goTemplate"] is True
    assert template["spec"]["source"]["path"] == "environments/{{.name}}"
    assert template["spec"]["destination"]["server"] == "{{.server}}"
    assert template["spec"]["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}


def test_application_and_repository_secret() -> None:
    app = argo.application("postgres", "http://git/gitops.git", "/postgres/", "infra")
    assert app["spec"]["source"] == {"repoURL": "http://git/gitops.git", "path": "postgres", "targetRevision": "HEAD"}
    assert app["spec"]["destination"] == {"server": "https://kubernetes.default.svc", "namespace": "infra"}
    assert "CreateNamespace=false" in app["spec"]["syncPolicy"]["syncOptions"]
    repo = argo.repository_secret("http://git/gitops.git")
    assert repo["metadata"]["labels"]["argocd.argoproj.io/secret-type"] == "repository"
    assert repo["stringData"]["type"] == "git" and repo["stringData"]["url"] == "http://git/gitops.git"


def test_admin_password_patch_is_a_bcrypt_hash_argo_cd_accepts() -> None:
    hashed = bcrypt.hashpw(b"s3cret", bcrypt.gensalt(rounds=10)).decode()
    patch = argo.admin_password_patch(hashed, datetime(2026, 12, 1, 16, 0, tzinfo=UTC))
    assert patch == {"stringData": {"admin.password": hashed, "admin.passwordMtime": "2026-12-01T16:00:00Z"}}
    # golang.org/x/crypto/bcrypt reads $2a$ and $2b$ alike; cost 10 is Argo CD's own (argocd account bcrypt)
    assert hashed.startswith("$2b$10$") and bcrypt.checkpw(b"s3cret", hashed.encode())
    assert argo.server_service_patch() == [
        {"op": "add", "path": "/spec/type", "value": "NodePort"},
        {"op": "add", "path": "/spec/ports/0/nodePort", "value": argo.NODE_PORT},
    ]


def test_a_dry_run_install_before_devops_exists_plans_the_exact_commands(tmp_path: Path) -> None:
    """A bootstrap's plan comes before the devops cluster is made: the install reads nothing and
    records each change, against the kubeconfig devops will have."""
    import dataclasses

    from kenv.settings import load_settings
    from kenv.workflows import argocd
    from kenv.workflows.context import WorkflowContext
    from tests.unit.scripted_runner import ScriptedRunner, record

    runner = ScriptedRunner(dry_run=True)
    ctx = WorkflowContext(load_settings(), runner=runner, dry_run=True)
    devops = dataclasses.replace(record(name="devops"), role="management")
    info = argocd.install_argocd(ctx, devops)
    kubeconfig = str(ctx.kubeconfig_path("devops"))
    base = ("kubectl", "--kubeconfig", kubeconfig, "--request-timeout=10s", "--context", "k3d-devops")
    planned = [args[len(base) :] for args in runner.planned]
    assert all(args[: len(base)] == base for args in runner.planned)
    assert [args[:4] for args in planned] == [
        ("apply", "-f", "-"),
        ("apply", "--server-side", "--force-conflicts", "-n"),
        ("patch", "configmap", "argocd-cmd-params-cm", "-n"),
        ("patch", "service", "argocd-server", "-n"),
        ("patch", "deployment", "argocd-server", "-n"),
        ("patch", "secret", "argocd-secret", "-n"),
        ("delete", "secret", "argocd-initial-admin-secret", "-n"),
    ]
    assert not [c for c in runner.calls if c.executed]  # nothing read, nothing run
    assert not info.password_file.exists()  # no password is kept for a plan
