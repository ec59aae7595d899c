"""Argo CD through the fake k3d/kind and kubectl: `kenv create` makes devops and dev, then the
workflow installs Argo CD into devops, registers the repository, an Application, the
ApplicationSet and dev as a cluster, and unregisters it. What the fakes hold afterwards is what
a real API server would."""

from __future__ import annotations

import base64
import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from kenv.errors import KenvError
from kenv.platform.argocd import objects as argo
from kenv.runtime.process import Runner
from kenv.settings import load_settings
from kenv.workflows import argocd
from kenv.workflows.context import WorkflowContext
from tests.e2e.lifecycle_support import Fleet


@pytest.fixture
def fleet(isolated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Fleet]:
    world = Fleet(isolated, tmp_path)
    world.ok("create", "devops", "--role", "management", "--subnet", "none")
    world.ok("create", "dev", "--provider", "kind", "--subnet", "none")
    for key, value in world.env.items():
        monkeypatch.setenv(key, value)
    yield world
    world.kill_fakes()


def context(dry_run: bool = False, **overrides: object) -> WorkflowContext:
    return WorkflowContext(load_settings(overrides=overrides), runner=Runner(dry_run=dry_run), dry_run=dry_run)


def applied(fleet: Fleet, cluster: str, kind: str) -> list[dict]:
    """Objects of `kind` in the fake cluster named `cluster`, patches (the seed) included."""
    state = json.loads((fleet.state / "state.json").read_text())
    (record,) = [c for c in state["clusters"].values() if c["name"] == cluster]
    found = {
        (o["metadata"].get("namespace"), o["metadata"]["name"]): o
        for o in record.get("applied") or []
        if o["kind"] == kind
    }
    for seed in (fleet.state / "kubeseed").glob("*.json") if (fleet.state / "kubeseed").exists() else []:
        if cluster in seed.stem:
            for obj in json.loads(seed.read_text()).get("objects") or []:
                if obj.get("kind") == kind:
                    found[(obj["metadata"].get("namespace"), obj["metadata"]["name"])] = obj
    return list(found.values())


def devops_networks(fleet: Fleet) -> list[str]:
    """The networks `docker network connect` joined the devops server node to."""
    state = json.loads((fleet.state / "state.json").read_text())
    (record,) = [c for c in state["clusters"].values() if c["name"] == "devops"]
    (server,) = [n for n in record["nodes"] if n["name"] == "k3d-devops-server-0"]
    return list(server.get("extra_networks") or [])


def named(objects: list[dict], name: str) -> dict:
    (obj,) = [o for o in objects if o["metadata"]["name"] == name]
    return obj


def decoded(secret: dict, key: str) -> str:
    return base64.b64decode(secret["data"][key]).decode()


def kubectl_argvs(fleet: Fleet) -> list[str]:
    return [" ".join(map(str, c["argv"])) for c in fleet.calls() if c["tool"] == "kubectl"]


def install(ctx: WorkflowContext) -> argocd.ArgoInfo:
    return argocd.install_argocd(ctx, ctx.inventory().get("devops"))


def test_install_sets_a_stored_password_and_is_idempotent(fleet: Fleet) -> None:
    ctx = context()
    assert not argocd.argocd_bootstrapped(ctx)
    info = install(ctx)
    assert info.admin_state == "set"
    assert info.node_port == argo.NODE_PORT and info.version == argo.VERSION
    password = info.password_file.read_text().strip()
    assert len(password) >= 32
    assert stat.S_IMODE(info.password_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(info.password_file.parent.stat().st_mode) == 0o700
    assert password not in json.dumps(info.to_dict())
    assert all(password not in argv for argv in kubectl_argvs(fleet))
    secret = named(applied(fleet, "devops", "Secret"), argo.ADMIN_SECRET)
    import bcrypt

    assert bcrypt.checkpw(password.encode(), decoded(secret, "admin.password").encode())
    assert decoded(secret, "admin.passwordMtime").endswith("Z")
    # the server made it at its first start (the fake does as argocd-server does); kenv deleted it
    assert any(argo.INITIAL_SECRET in argv and " delete secret " in argv for argv in kubectl_argvs(fleet))
    assert not [s for s in applied(fleet, "devops", "Secret") if s["metadata"]["name"] == argo.INITIAL_SECRET]
    service = named(applied(fleet, "devops", "Service"), argo.SERVER)
    assert service["spec"]["type"] == "NodePort"
    assert service["spec"]["ports"][0] == {
        "name": "http",
        "port": 80,
        "protocol": "TCP",
        "targetPort": 8080,
        "nodePort": argo.NODE_PORT,
    }
    assert service["spec"]["ports"][1]["port"] == 443  # the https port stays
    params = named(applied(fleet, "devops", "ConfigMap"), argo.CMD_PARAMS)
    assert params["data"]["server.insecure"] == "true"
    server = named(applied(fleet, "devops", "Deployment"), argo.SERVER)
    annotations = server["spec"]["template"]["metadata"]["annotations"]
    assert annotations[argo.PARAMS_ANNOTATION] == "server.insecure=true"  # rolled out with the parameter
    crds = {o["metadata"]["name"] for o in applied(fleet, "devops", "CustomResourceDefinition")}
    assert {"applications.argoproj.io", "applicationsets.argoproj.io"} <= crds
    assert argocd.argocd_bootstrapped(ctx)

    calls_before = len(kubectl_argvs(fleet))
    again = install(context())
    assert (
        named(applied(fleet, "devops", "Deployment"), argo.SERVER)["metadata"]["generation"]
        == server["metadata"]["generation"]
    )  # nothing rolled out again
    assert again.admin_state == "kept"
    assert info.password_file.read_text().strip() == password
    new_calls = kubectl_argvs(fleet)[calls_before:]
    assert not any(" patch secret " in argv for argv in new_calls)  # the hash matches: not set again
    secret = named(applied(fleet, "devops", "Secret"), argo.ADMIN_SECRET)
    assert bcrypt.checkpw(password.encode(), decoded(secret, "admin.password").encode())


def test_install_uses_server_side_apply(fleet: Fleet) -> None:
    """The client-side apply of Argo CD's CRDs fails on the last-applied annotation's size."""
    install(context())
    (call,) = [a for a in kubectl_argvs(fleet) if "--server-side" in a]
    assert "--force-conflicts" in call and "-n argocd" in call


def test_dry_run_plans_and_changes_nothing(fleet: Fleet) -> None:
    ctx = context(dry_run=True)
    install(ctx)
    planned = [" ".join(args) for args in ctx.runner.planned]
    assert any("apply --server-side --force-conflicts -n argocd -f -" in p for p in planned)
    assert not argocd.password_file(ctx).exists()
    assert not applied(fleet, "devops", "CustomResourceDefinition")


def test_repository_application_and_applicationset(fleet: Fleet) -> None:
    ctx = context()
    install(ctx)
    with pytest.raises(KenvError, match="no GitOps repository registered"):
        argocd.ensure_application(ctx, "postgres", "postgres/", "infra")
    argocd.register_repository(ctx, "http://git.kenv.internal/gitops.git")
    repo = named(applied(fleet, "devops", "Secret"), argo.REPOSITORY_SECRET)
    assert repo["metadata"]["labels"][argo.SECRET_TYPE_LABEL] == "repository"
    assert decoded(repo, "type") == "git" and decoded(repo, "url") == "http://git.kenv.internal/gitops.git"

    argocd.ensure_application(ctx, "postgres", "postgres/", "infra")
    argocd.ensure_application(ctx, "postgres", "postgres/", "infra")  # idempotent
    app = named(applied(fleet, "devops", "Application"), "postgres")
    assert app["metadata"]["namespace"] == "argocd"
    assert app["spec"]["source"] == {
        "repoURL": "http://git.kenv.internal/gitops.git",
        "path": "postgres",
        "targetRevision": "HEAD",
    }
    assert app["spec"]["destination"] == {"server": "https://kubernetes.default.svc", "namespace": "infra"}
    assert app["spec"]["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}

    argocd.ensure_applicationset(ctx)
    appset = named(applied(fleet, "devops", "ApplicationSet"), argo.APPLICATIONSET)
    (generator,) = appset["spec"]["generators"]
    assert generator["clusters"]["selector"]["matchLabels"] == {argo.TYPE_LABEL: "business"}
    assert appset["spec"]["template"]["spec"]["source"]["path"] == "environments/{{.name}}"


def test_cluster_registered_with_labels_and_a_token_that_is_not_cluster_admin(fleet: Fleet) -> None:
    ctx = context()
    install(ctx)
    dev = ctx.inventory().get("dev")
    argocd.register_cluster(ctx, dev)
    assert devops_networks(fleet) == ["kind"]  # Argo CD reaches dev's API on dev's network
    argocd.register_cluster(ctx, dev)  # idempotent
    assert devops_networks(fleet) == ["kind"]
    secret = named(applied(fleet, "devops", "Secret"), "cluster-dev")
    assert secret["metadata"]["labels"] == {
        argo.SECRET_TYPE_LABEL: "cluster",
        argo.ENV_LABEL: "dev",
        argo.PROVIDER_LABEL: "kind",
        argo.TYPE_LABEL: "business",
        "app.kubernetes.io/managed-by": "kenv",
    }
    assert decoded(secret, "name") == "dev"
    assert decoded(secret, "server").startswith("https://") and decoded(secret, "server").endswith(":6443")
    config = json.loads(decoded(secret, "config"))
    token_secret = named(applied(fleet, "dev", "Secret"), argo.TOKEN_SECRET)
    assert config["bearerToken"] == decoded(token_secret, "token")
    assert config["tlsClientConfig"] == {"caData": token_secret["data"]["ca.crt"], "serverName": "kubernetes.default"}
    assert all(config["bearerToken"] not in argv for argv in kubectl_argvs(fleet))
    (binding,) = applied(fleet, "dev", "ClusterRoleBinding")
    assert binding["roleRef"]["name"] == argo.ACCESS_NAME != "cluster-admin"
    (role,) = applied(fleet, "dev", "ClusterRole")
    writes = [r for r in role["rules"] if "create" in r["verbs"]]
    assert writes and all("*" not in r["resources"] and "*" not in r["apiGroups"] for r in writes)

    argocd.unregister_cluster(ctx, "dev")
    assert not [s for s in applied(fleet, "devops", "Secret") if s["metadata"]["name"] == "cluster-dev"]
    assert devops_networks(fleet) == []  # else removing dev's network would fail
    assert not applied(fleet, "dev", "ServiceAccount")
    assert not applied(fleet, "dev", "ClusterRoleBinding")
    assert not [s for s in applied(fleet, "dev", "Secret") if s["metadata"]["name"] == argo.TOKEN_SECRET]
    argocd.unregister_cluster(ctx, "dev")  # nothing left: still fine


def test_cluster_admin_only_when_asked(fleet: Fleet) -> None:
    ctx = context(argocd_cluster_admin=True)
    install(ctx)
    argocd.register_cluster(ctx, ctx.inventory().get("dev"))
    (binding,) = applied(fleet, "dev", "ClusterRoleBinding")
    assert binding["roleRef"]["name"] == "cluster-admin"
    assert not applied(fleet, "dev", "ClusterRole")


def test_argocd_down_fails_naming_it_and_the_fix(fleet: Fleet) -> None:
    ctx = context()
    install(ctx)
    fleet.ok("stop", "devops")
    assert not argocd.argocd_bootstrapped(ctx)
    with pytest.raises(KenvError) as caught:
        argocd.register_cluster(ctx, ctx.inventory().get("dev"))
    text = caught.value.one_line()
    assert "Argo CD in devops did not answer" in text and "kenv start devops" in text


def test_a_password_file_written_before_a_kill_is_the_one_set(fleet: Fleet) -> None:
    """The file is written before the hash reaches the cluster: a run killed in between resumes
    with the same password, never a new one nobody knows."""
    ctx = context()
    path = argocd.password_file(ctx)
    path.parent.mkdir(parents=True, mode=0o700)
    path.write_text("kept-from-the-killed-run\n")
    path.chmod(0o600)
    assert install(ctx).admin_state == "set"
    assert path.read_text() == "kept-from-the-killed-run\n"
    import bcrypt

    secret = named(applied(fleet, "devops", "Secret"), argo.ADMIN_SECRET)
    assert bcrypt.checkpw(b"kept-from-the-killed-run", decoded(secret, "admin.password").encode())


def test_a_server_that_never_becomes_ready_fails_naming_it(fleet: Fleet, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KENV_FAKE_FAIL", "kubectl:rollout-status")
    with pytest.raises(KenvError) as caught:
        install(context())
    text = caught.value.one_line()
    assert "Argo CD's argocd-server in devops did not become ready: timed out waiting for the condition" in text
    assert "kenv bootstrap --only argocd" in text


def test_unregister_after_the_environment_is_gone(fleet: Fleet) -> None:
    ctx = context()
    install(ctx)
    argocd.register_cluster(ctx, ctx.inventory().get("dev"))
    fleet.ok("delete", "dev")
    argocd.unregister_cluster(context(), "dev")
    assert not [s for s in applied(fleet, "devops", "Secret") if s["metadata"]["name"] == "cluster-dev"]
