"""Fake ``kubectl apply -f FILE|- / -k DIR`` and ``kubectl rollout status`` (kubectl v0.31.6).

Applied objects live in the cluster's state record (``"applied"``) and are listed by ``kubectl get``
with the generated and seeded ones.  Sources: pkg/cmd/apply/apply.go (the printer's operation:
"created", "configured", "unchanged"; AddSourceToErr's ``error when creating "SOURCE": ...``),
pkg/cmd/util/helpers.go (the flags), pkg/polymorphichelpers/rollout_status.go
(StatefulSetStatusViewer's messages), pkg/cmd/rollout/rollout_status.go and client-go
tools/watch/until.go (``timed out waiting for the condition`` at --timeout), kustomize
api/krusty (a directory without kustomization.yaml) and api/resid/gvk.go (the legacy order
kustomize emits: Namespace first, then ConfigMap, Service, claims, workloads...).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import os
import sys
import time

from .cli import BOOL, DURATION, INT, SLICE, Command, Flag, Parsed
from .common import err, out
from .env import FakeEnv, FakeExit

# group of each kind kubectl prints (`statefulset.apps/NAME`); core kinds have none
GROUPS = {
    "StatefulSet": "apps",
    "Deployment": "apps",
    "DaemonSet": "apps",
    "ReplicaSet": "apps",
    "CronJob": "batch",
    "Job": "batch",
    "NetworkPolicy": "networking.k8s.io",
    "PodDisruptionBudget": "policy",
    "ClusterRole": "rbac.authorization.k8s.io",
    "ClusterRoleBinding": "rbac.authorization.k8s.io",
    "Role": "rbac.authorization.k8s.io",
    "RoleBinding": "rbac.authorization.k8s.io",
    "CustomResourceDefinition": "apiextensions.k8s.io",
    "Application": "argoproj.io",
    "ApplicationSet": "argoproj.io",
    "AppProject": "argoproj.io",
    "IngressClass": "networking.k8s.io",
    "ValidatingWebhookConfiguration": "admissionregistration.k8s.io",
}
CLUSTER_SCOPED = {
    "Namespace",
    "PersistentVolume",
    "StorageClass",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "IngressClass",
    "ValidatingWebhookConfiguration",
}
# Kinds the API server serves only once their CustomResourceDefinition is there (Argo CD's).
CUSTOM_KINDS = {"Application": "applications", "ApplicationSet": "applicationsets", "AppProject": "appprojects"}
# apimachinery's TotalAnnotationSizeLimitB: a client-side apply keeps the whole object in the
# kubectl.kubernetes.io/last-applied-configuration annotation, which Argo CD's largest CRD exceeds.
ANNOTATION_LIMIT = 256 * 1024
# kustomize api/resid/gvk.go orderFirst (v5.5.0), the kinds kenv renders
ORDER_FIRST = [
    "Namespace",
    "ResourceQuota",
    "StorageClass",
    "CustomResourceDefinition",
    "ServiceAccount",
    "PodSecurityPolicy",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "ConfigMap",
    "Secret",
    "Endpoints",
    "Service",
    "LimitRange",
    "PriorityClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "Deployment",
    "StatefulSet",
    "CronJob",
    "PodDisruptionBudget",
]


def apply_command(output: Flag) -> Command:
    """apply.go ApplyFlags.AddFlags: delete, record and print flags, validate, dry-run,
    server-side, field-manager, selector, pruning, overwrite, openapi-patch."""
    return Command(
        "apply",
        flags=[
            Flag("filename", SLICE, short="f"),
            Flag("kustomize", short="k"),
            Flag("recursive", BOOL, short="R"),
            Flag("selector", short="l"),
            Flag("validate", default="strict"),
            Flag("dry-run", default="none"),
            Flag("server-side", BOOL),
            Flag("force-conflicts", BOOL),
            Flag("field-manager", default="kubectl-client-side-apply"),
            Flag("prune", BOOL),
            Flag("all", BOOL),
            Flag("prune-allowlist", SLICE),
            Flag("overwrite", BOOL, default=True),
            Flag("openapi-patch", BOOL, default=True),
            Flag("force", BOOL),
            Flag("cascade", default="background"),
            Flag("grace-period", INT, default=-1),
            Flag("timeout", DURATION),
            Flag("wait", BOOL),
            Flag("record", BOOL),
            Flag("template"),
            Flag("show-managed-fields", BOOL),
            Flag("allow-missing-template-keys", BOOL, default=True),
            output,
        ],
    )


def rollout_command() -> Command:
    """`kubectl rollout status` (rollout_status.go NewCmdRolloutStatus)."""
    return Command(
        "status",
        flags=[
            Flag("filename", SLICE, short="f"),
            Flag("kustomize", short="k"),
            Flag("recursive", BOOL, short="R"),
            Flag("watch", BOOL, default=True, short="w"),
            Flag("revision", INT),
            Flag("timeout", DURATION),
            Flag("selector", short="l"),
        ],
    )


def _documents(text: str) -> list[dict]:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # Argo CD's install is 1.9 MB
    return [doc for doc in yaml.load_all(text, Loader=loader) if isinstance(doc, dict)]


def _kustomize(directory: str) -> list[dict]:
    """What `kustomize build DIR` gives for kenv's directories: the listed files, the namespace
    set on namespaced objects, in the legacy order. Anything more is not emulated."""
    import yaml

    path = os.path.join(directory, "kustomization.yaml")
    if not os.path.isfile(path):
        err(
            "error: unable to find one of 'kustomization.yaml', 'kustomization.yml' or 'Kustomization' in "
            f"directory '{os.path.abspath(directory)}'"
        )
        raise FakeExit(1)
    with open(path, encoding="utf-8") as handle:
        kustomization = yaml.safe_load(handle) or {}
    unknown = set(kustomization) - {"apiVersion", "kind", "namespace", "resources"}
    if unknown:
        from .kubectl_print import NotEmulated

        raise NotEmulated(f"kustomization fields {sorted(unknown)} are not implemented by the test fake")
    objects: list[dict] = []
    for name in kustomization.get("resources") or []:
        with open(os.path.join(directory, name), encoding="utf-8") as handle:
            objects += _documents(handle.read())
    namespace = kustomization.get("namespace")
    if namespace:
        for obj in objects:
            if obj.get("kind") not in CLUSTER_SCOPED:
                obj.setdefault("metadata", {})["namespace"] = namespace
    rank = {kind: i for i, kind in enumerate(ORDER_FIRST)}
    return sorted(objects, key=lambda o: rank.get(o.get("kind", ""), len(rank)))


def ref(obj: dict) -> str:
    kind = obj["kind"]
    group = GROUPS.get(kind)
    return f"{kind.lower()}{'.' + group if group else ''}/{obj['metadata']['name']}"


def applied_objects(cluster: dict, kind: str) -> list[dict]:
    return [copy.deepcopy(o) for o in cluster.get("applied") or [] if o.get("kind") == kind]


def applied_object(applied: list[dict], kind: str, name: str, namespace: str | None) -> dict | None:
    """The stored object (not a copy) of that kind, name and namespace (None: cluster-scoped)."""
    return next(
        (
            o
            for o in applied
            if o["kind"] == kind and o["metadata"]["name"] == name and o["metadata"].get("namespace") == namespace
        ),
        None,
    )


def _stored(obj: dict, previous: dict | None, cluster_uid: str) -> dict:
    """The object as the apiserver keeps it: identity, generation, the defaults and status the
    commands read back (a Secret's stringData folded into data; a StatefulSet whose one pod the
    fake's kubelet makes ready at once)."""
    stored = copy.deepcopy(obj)
    meta = stored.setdefault("metadata", {})
    key = f"{stored['kind']}/{meta.get('namespace', '')}/{meta['name']}"
    meta["uid"] = (previous or {}).get("metadata", {}).get("uid") or hashlib.sha1(
        (cluster_uid + key).encode()
    ).hexdigest()
    meta["creationTimestamp"] = (previous or {}).get("metadata", {}).get("creationTimestamp") or time.strftime(
        "%Y-%m-%dT%H:%M:%SZ", time.gmtime()
    )
    generation = int((previous or {}).get("metadata", {}).get("generation", 0)) + 1
    meta["generation"] = generation
    if stored["kind"] == "Secret" and "stringData" in stored:
        data = stored.setdefault("data", {})
        for k, v in stored.pop("stringData").items():
            data[k] = base64.b64encode(str(v).encode()).decode()
    if stored["kind"] == "Deployment":
        # the fake's kubelet makes every replica available at once (DeploymentStatus)
        replicas = stored.setdefault("spec", {}).setdefault("replicas", 1)
        template = repr(stored["spec"].get("template")).encode()
        replica_set = f"{meta['name']}-{hashlib.sha1(template).hexdigest()[:10]}"  # name-<pod-template-hash>
        stored["status"] = {
            "observedGeneration": generation,
            "replicas": replicas,
            "updatedReplicas": replicas,
            "readyReplicas": replicas,
            "availableReplicas": replicas,
            # the deployment controller's conditions once the new ReplicaSet is available
            # (kubernetes pkg/controller/deployment/util/deployment_util.go: MinimumReplicasAvailable,
            # NewReplicaSetAvailable)
            "conditions": [
                {
                    "type": "Available",
                    "status": "True",
                    "reason": "MinimumReplicasAvailable",
                    "message": "Deployment has minimum availability.",
                },
                {
                    "type": "Progressing",
                    "status": "True",
                    "reason": "NewReplicaSetAvailable",
                    "message": f'ReplicaSet "{replica_set}" has successfully progressed.',
                },
            ],
        }
    if stored["kind"] == "StatefulSet":
        spec = stored.setdefault("spec", {})
        strategy = spec.setdefault("updateStrategy", {"type": "RollingUpdate"})
        if strategy.get("type") == "RollingUpdate":
            strategy.setdefault("rollingUpdate", {"partition": 0})  # apps/v1 defaults.go
        replicas = spec.setdefault("replicas", 1)
        revision = f"{meta['name']}-{hashlib.sha1(repr(spec.get('template')).encode()).hexdigest()[:10]}"
        stored["status"] = {
            "observedGeneration": generation,
            "replicas": replicas,
            "readyReplicas": replicas,
            "currentReplicas": replicas,
            "updatedReplicas": replicas,
            "availableReplicas": replicas,
            "currentRevision": revision,
            "updateRevision": revision,
        }
    return stored


def _fill_token(stored: dict, applied: list[dict], cluster: dict) -> None:
    """The token controller (kube-controller-manager, serviceaccounts-token) fills a
    `kubernetes.io/service-account-token` Secret of an existing ServiceAccount with `token`,
    `ca.crt` and `namespace` (pkg/controller/serviceaccount/tokens_controller.go)."""
    if stored.get("type") != "kubernetes.io/service-account-token":
        return
    meta = stored["metadata"]
    account = (meta.get("annotations") or {}).get("kubernetes.io/service-account.name")
    if not any(
        o["kind"] == "ServiceAccount"
        and o["metadata"]["name"] == account
        and o["metadata"].get("namespace") == meta.get("namespace")
        for o in applied
    ):
        return  # no account: the controller leaves (and later deletes) the Secret
    seed = f"{cluster.get('uid', '')}/{meta.get('namespace')}/{account}/{meta['uid']}"
    token = "eyJhbGciOiJSUzI1NiJ9." + hashlib.sha256(seed.encode()).hexdigest()
    ca = f"-----BEGIN CERTIFICATE-----\nfake CA of {cluster.get('name', '')}\n-----END CERTIFICATE-----\n"
    stored["data"] = {
        "token": base64.b64encode(token.encode()).decode(),
        "ca.crt": base64.b64encode(ca.encode()).decode(),
        "namespace": base64.b64encode(str(meta.get("namespace")).encode()).decode(),
    }


def _argocd_server_started(stored: dict, applied: list[dict]) -> None:
    """What argocd-server does at its first start when `argocd-secret` holds no admin password:
    a random 16-character password in Secret `argocd-initial-admin-secret` (field `password`), its
    bcrypt hash and mtime in `argocd-secret` (argo-cd v3.5.1 util/settings/settings.go
    InitializeSettings). The fake's hash is a placeholder that matches no password."""
    meta = stored["metadata"]
    if stored["kind"] != "Deployment" or meta["name"] != "argocd-server":
        return
    namespace = meta.get("namespace")
    secret = next(
        (
            o
            for o in applied
            if o["kind"] == "Secret"
            and o["metadata"]["name"] == "argocd-secret"
            and o["metadata"].get("namespace") == namespace
        ),
        None,
    )
    if secret is None or (secret.get("data") or {}).get("admin.password"):
        return
    password = hashlib.sha256(meta["uid"].encode()).hexdigest()[:16]

    def b64(text: str) -> str:
        return base64.b64encode(text.encode()).decode()

    secret.setdefault("data", {}).update(
        {"admin.password": b64("$2a$10$" + "fake" * 13 + "ab"), "admin.passwordMtime": b64(meta["creationTimestamp"])}
    )
    initial = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "argocd-initial-admin-secret", "namespace": namespace},
        "type": "Opaque",
        "data": {"password": b64(password)},
    }
    applied.append(_stored(initial, None, meta["uid"]))


def _unmapped(obj: dict, cluster: dict, applied: list[dict], source: str) -> str | None:
    """cli-runtime pkg/resource/mapper.go infoForData: a kind the server has no mapping for."""
    kind = obj.get("kind", "")
    if kind not in CUSTOM_KINDS:
        return None
    crd = f"{CUSTOM_KINDS[kind]}.argoproj.io"
    if any(o["kind"] == "CustomResourceDefinition" and o["metadata"]["name"] == crd for o in applied):
        return None
    meta = obj.get("metadata") or {}
    return (
        f'error: resource mapping not found for name: "{meta.get("name", "")}" namespace: '
        f'"{meta.get("namespace", "")}" from "{source}": no matches for kind "{kind}" in version '
        f'"{obj.get("apiVersion", "")}"\nensure CRDs are installed first'
    )


def apply(env: FakeEnv, p: Parsed) -> int:
    from .tool_kubectl import _namespace_exists, _refused, _require_cluster

    if p.args:
        err(f"error: Unexpected args: {list(p.args)}\nSee 'kubectl apply -h' for help and examples")
        return 1
    server_side = bool(p["server-side"])
    if p["force-conflicts"] and not server_side:  # apply.go Validate
        err("error: --force-conflicts only works with --server-side")
        return 1
    for flag in ("prune", "selector", "recursive"):
        if p[flag]:
            from .kubectl_print import NotEmulated

            raise NotEmulated(f"'kubectl apply --{flag}' is not implemented by the test fake")
    if str(p["dry-run"]) != "none" or str(p["output"]):
        from .kubectl_print import NotEmulated

        raise NotEmulated("'kubectl apply --dry-run/-o' is not implemented by the test fake")
    files, kustomize = p.strings("filename"), str(p["kustomize"])
    if files and kustomize:
        err("error: only one of -f or -k can be specified")
        return 1
    if not files and not kustomize:
        err("error: must specify one of -f and -k")
        return 1
    conn, cluster = _require_cluster(env, p, "apply")
    sources: list[tuple[str, dict]] = []
    if kustomize:
        sources = [(kustomize, obj) for obj in _kustomize(kustomize)]
    for name in files:
        if name == "-":
            sources += [("STDIN", obj) for obj in _documents(sys.stdin.read())]
        else:
            if not os.path.exists(name):
                err(f'error: the path "{name}" does not exist')
                return 1
            with open(name, encoding="utf-8") as handle:
                sources += [(name, obj) for obj in _documents(handle.read())]
    if not sources:
        err("error: no objects passed to apply")
        return 1
    key = cluster["key"]
    jobs: list[dict] = []
    # one write of the state for the whole apply (Argo CD's install: 59 objects, 1.9 MB)
    with env.store.transaction() as state:
        for source, obj in sources:
            kind = obj.get("kind", "")
            meta = obj.setdefault("metadata", {})
            if kind not in CLUSTER_SCOPED:
                meta.setdefault("namespace", conn.namespace)
            record = state["clusters"].get(key)
            if record is None:
                raise _refused(conn, discovery=True)
            applied = record.setdefault("applied", [])
            namespace = meta.get("namespace")
            if namespace and not (
                _namespace_exists(record, namespace)
                or any(o["kind"] == "Namespace" and o["metadata"]["name"] == namespace for o in applied)
            ):
                err(f'Error from server (NotFound): error when creating "{source}": namespaces "{namespace}" not found')
                return 1
            previous = applied_object(applied, kind, meta["name"], namespace)
            unmapped = _unmapped(obj, record, applied, source)
            if unmapped is not None:
                err(unmapped)
                return 1
            if not server_side and len(json.dumps(obj, separators=(",", ":"))) > ANNOTATION_LIMIT:
                err(
                    f'The {kind} "{meta["name"]}" is invalid: metadata.annotations: Too long: '
                    f"may not be more than {ANNOTATION_LIMIT} bytes"
                )
                return 1
            wanted = obj
            if server_side and previous is not None:
                # fields other managers set (a patched Secret's data, a Service's nodePort) stay
                wanted = _merge(visible(previous), obj)
            if previous is not None and previous.get("lastApplied") == wanted:
                operation = "serverside-applied" if server_side else "unchanged"
            else:
                operation = "configured" if previous is not None else "created"
                if server_side:
                    operation = "serverside-applied"  # apply.go: one verb for server-side applies
                if previous is not None:
                    applied.remove(previous)
                stored = _stored(wanted, previous, str(cluster.get("uid", "")))
                _fill_token(stored, applied, cluster)
                stored["lastApplied"] = wanted
                applied.append(stored)
                if previous is None:
                    _argocd_server_started(stored, applied)
                if kind == "Job":
                    jobs.append(stored)
            out(f"{ref(obj)} {operation}")
        # the Jobs' pods start once the apply has returned (every object is there by then)
        for job in jobs:
            _run_certgen(job, state["clusters"][key].setdefault("applied", []))
    return 0


CERTGEN = "ingress-nginx/kube-webhook-certgen"


def _run_certgen(job: dict, applied: list[dict]) -> None:
    """What a kube-webhook-certgen Job does (kubernetes/ingress-nginx controller-v1.12.8,
    images/kube-webhook-certgen/rootfs): `create` stores a CA, cert and key in Secret
    `--secret-name` (`ca`, `cert`, `key`; kept when it has a `ca` already: cmd/create.go), `patch`
    copies that `ca` into every webhook of `--webhook-name` (pkg/k8s/k8s.go patchValidating). A
    Job that completes and has `ttlSecondsAfterFinished: 0` is deleted at once by the TTL
    controller (kubernetes pkg/controller/ttlafterfinished). A Job that cannot do its work (no
    Secret, no webhook configuration) stays, uncompleted (its pod retries). Other Jobs: untouched."""
    namespace = job["metadata"].get("namespace")
    containers = job["spec"]["template"]["spec"].get("containers") or []
    if len(containers) != 1 or CERTGEN not in str(containers[0].get("image", "")):
        return
    args = [str(a).replace("$(POD_NAMESPACE)", str(namespace)) for a in containers[0].get("args") or []]
    flags = dict(a[2:].split("=", 1) for a in args[1:] if a.startswith("--") and "=" in a)
    secret_name, target = flags.get("secret-name", ""), flags.get("namespace", namespace)

    secret = applied_object(applied, "Secret", secret_name, target)
    if args[:1] == ["create"]:
        if secret is None or not (secret.get("data") or {}).get("ca"):
            pem = f"-----BEGIN CERTIFICATE-----\nfake certgen CA {job['metadata']['uid']}\n-----END CERTIFICATE-----\n"
            key = "-----BEGIN EC PRIVATE KEY-----\nfake\n-----END EC PRIVATE KEY-----\n"
            data = {"ca": pem, "cert": pem, "key": key}
            new = {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": secret_name, "namespace": target},
                "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()},
            }
            if secret is not None:
                applied.remove(secret)
            applied.append(_stored(new, secret, job["metadata"]["uid"]))
    elif args[:1] == ["patch"]:
        webhook = applied_object(applied, "ValidatingWebhookConfiguration", flags.get("webhook-name", ""), None)
        if secret is None or webhook is None or not (secret.get("data") or {}).get("ca"):
            job["status"] = {"active": 1, "ready": 0, "terminating": 0}
            return
        for hook in webhook.get("webhooks") or []:
            hook.setdefault("clientConfig", {})["caBundle"] = secret["data"]["ca"]
    else:
        return
    if job["spec"].get("ttlSecondsAfterFinished") == 0:
        applied.remove(job)
        return
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    job["status"] = {
        "succeeded": 1,
        "startTime": now,
        "completionTime": now,
        "conditions": [
            {"type": "SuccessCriteriaMet", "status": "True", "lastTransitionTime": now},
            {"type": "Complete", "status": "True", "lastTransitionTime": now},
        ],
    }


def _merge(old: object, new: object) -> object:
    """What a server-side apply leaves: the applied fields over the object's other fields (maps
    merged; lists and scalars taken from the applied configuration)."""
    if isinstance(old, dict) and isinstance(new, dict):
        merged = dict(old)
        for key, value in new.items():
            merged[key] = _merge(old.get(key), value)
        for key in ("uid", "creationTimestamp", "generation"):
            merged.pop(key, None)
        return merged
    return copy.deepcopy(new)


def visible(obj: dict) -> dict:
    """The object as `kubectl get` shows it (without the fake's bookkeeping)."""
    shown = copy.deepcopy(obj)
    shown.pop("lastApplied", None)
    return shown


def rollout_status(env: FakeEnv, p: Parsed) -> int:
    from .tool_kubectl import _require_cluster

    if len(p.args) != 1 or "/" not in p.args[0]:
        from .kubectl_print import NotEmulated

        raise NotEmulated("'kubectl rollout status' other than TYPE/NAME is not implemented by the test fake")
    kind_token, _, name = p.args[0].partition("/")
    if kind_token.split(".")[0] in ("deployment", "deployments", "deploy"):
        return _deployment_status(env, p, name)
    if kind_token.split(".")[0] not in ("statefulset", "statefulsets", "sts"):
        from .kubectl_print import NotEmulated

        raise NotEmulated(f"'kubectl rollout status {kind_token}' is not implemented by the test fake")
    conn, cluster = _require_cluster(env, p, "rollout-status-lookup")
    sts = applied_object(cluster.get("applied") or [], "StatefulSet", name, conn.namespace)
    if sts is None:
        err(f'Error from server (NotFound): statefulsets.apps "{name}" not found')
        return 1
    spec, status = sts["spec"], sts["status"]
    if spec["updateStrategy"].get("type") != "RollingUpdate":
        err("error: rollout status is only available for RollingUpdate strategy type")
        return 1
    if env.inject("rollout-status", conn.names()):
        # the pod never becomes ready: the viewer's message, then the watch's timeout
        out(f"Waiting for {spec['replicas']} pods to be ready...")
        err("error: timed out waiting for the condition")
        return 1
    if "rollingUpdate" in spec["updateStrategy"]:
        out(f"partitioned roll out complete: {status['updatedReplicas']} new pods have been updated...")
    else:
        current, revision = status["currentReplicas"], status["currentRevision"]
        out(f"statefulset rolling update complete {current} pods at revision {revision}...")
    return 0


def _deployment_status(env: FakeEnv, p: Parsed, name: str) -> int:
    """DeploymentStatusViewer (pkg/polymorphichelpers/rollout_status.go): an applied Deployment
    whose replicas the fake's kubelet made available at once."""
    from .tool_kubectl import _require_cluster

    conn, cluster = _require_cluster(env, p, "rollout-status-lookup")
    deployment = applied_object(cluster.get("applied") or [], "Deployment", name, conn.namespace)
    if deployment is None:
        err(f'Error from server (NotFound): deployments.apps "{name}" not found')
        return 1
    if env.inject("rollout-status", conn.names()):
        replicas = deployment["spec"].get("replicas", 1)
        out(f'Waiting for deployment "{name}" rollout to finish: 0 of {replicas} updated replicas are available...')
        err("error: timed out waiting for the condition")
        return 1
    out(f'deployment "{name}" successfully rolled out')
    return 0
