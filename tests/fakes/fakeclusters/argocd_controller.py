"""Argo CD's application controller, as little of it as kenv's platform needs: an Application
(argoproj.io/v1alpha1) with `spec.syncPolicy.automated`, in a fake cluster, whose source is a
git repository this machine can read (file://, a local path, or a git daemon's git:// URL) and
whose destination is the cluster itself (`https://kubernetes.default.svc`), is synced: the
`source.path` directory at `targetRevision` rendered like `kustomize build` and its objects
applied, then `status.sync` / `status.health` / `status.operationState` set as Argo CD reports
them (argo-cd v3.5.1 pkg/apis/application/v1alpha1/types.go: SyncStatus, HealthStatus,
OperationState; docs/user-guide/auto_sync.md).

Deviation from the real controller: it polls repositories every 3 minutes (`timeout.reconciliation`)
or on a webhook; the fake reconciles at the start of every kubectl call that reaches the cluster,
so a commit is picked up by the next kubectl call. Only same-cluster destinations and repositories
reachable without DNS are synced; other Applications are left untouched (no status)."""

from __future__ import annotations

import copy
import os
import subprocess
import tempfile
import time

from .env import FakeEnv, FakeExit

IN_CLUSTER = "https://kubernetes.default.svc"


def _readable(url: str) -> bool:
    """A repository this machine reaches without a name server: a local path, file://, or a
    git daemon on an IP literal or localhost. Anything else is left alone (no status), as an
    Argo CD without network would leave it."""
    import ipaddress
    from urllib.parse import urlsplit

    if url.startswith(("/", "file://")):
        return True
    parts = urlsplit(url)
    if parts.scheme != "git" or not parts.hostname:
        return False
    if parts.hostname == "localhost":
        return True
    try:
        ipaddress.ip_address(parts.hostname)
    except ValueError:
        return False
    return True


def _automated(obj: dict) -> bool:
    spec = obj.get("spec") or {}
    return (
        obj.get("kind") == "Application"
        and str(obj.get("apiVersion", "")).startswith("argoproj.io/")
        and (spec.get("syncPolicy") or {}).get("automated") is not None
        # `automated.enabled: false` turns automated sync off; null/absent means on (auto_sync.md)
        and ((spec.get("syncPolicy") or {}).get("automated") or {}).get("enabled") is not False
        and (spec.get("destination") or {}).get("server") == IN_CLUSTER
        and _readable(str((spec.get("source") or {}).get("repoURL", "")))
    )


def wants_reconcile(cluster: dict) -> bool:
    return any(_automated(o) for o in cluster.get("applied") or [])


def _git(*args: str, cwd: str | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    environ["GIT_TERMINAL_PROMPT"] = "0"
    return subprocess.run(["git", *args], cwd=cwd, env=environ, capture_output=True, text=True, timeout=30, check=False)


def _resolve(url: str, revision: str) -> tuple[str | None, str]:
    """The commit `revision` names in the repository, or None and git's reason."""
    ref = "HEAD" if revision in ("", "HEAD") else revision
    listed = _git("ls-remote", url, ref)
    if listed.returncode != 0:
        return None, (listed.stderr.strip().splitlines() or ["git ls-remote failed"])[-1]
    line = next((ln for ln in listed.stdout.splitlines() if ln.strip()), "")
    if not line:
        return None, f"unable to resolve '{revision}' to a commit SHA"  # argo-cd reposerver wording
    return line.split()[0], ""


def _render(url: str, commit: str, path: str) -> tuple[list[dict] | None, str]:
    from .kubectl_apply import _documents, _kustomize
    from .kubectl_print import NotEmulated

    with tempfile.TemporaryDirectory(prefix="fake-argocd-") as tmp:
        work = os.path.join(tmp, "repo")
        cloned = _git("clone", "-q", "--no-checkout", url, work)
        if cloned.returncode != 0:
            return None, (cloned.stderr.strip().splitlines() or ["git clone failed"])[-1]
        checked = _git("checkout", "-q", commit, cwd=work)
        if checked.returncode != 0:
            return None, (checked.stderr.strip().splitlines() or ["git checkout failed"])[-1]
        directory = os.path.join(work, path)
        if not os.path.isdir(directory):
            # a ComparisonError naming the path (the repo server's exact wording is not copied)
            return None, f"{path}: app path does not exist"
        if not os.path.isfile(os.path.join(directory, "kustomization.yaml")):
            # a directory app: every manifest in it (argo-cd's Directory source type)
            objects: list[dict] = []
            for name in sorted(os.listdir(directory)):
                if name.endswith((".yaml", ".yml", ".json")):
                    with open(os.path.join(directory, name), encoding="utf-8") as handle:
                        objects += _documents(handle.read())
            return objects, ""
        try:
            return _kustomize(directory), ""
        except (NotEmulated, FakeExit) as exc:
            return None, f"rendering {path} failed: {exc}"


def _apply_into(record: dict, objects: list[dict], namespace: str, cluster: dict) -> str:
    """The objects applied (created or replaced), or why the sync failed."""
    from .kubectl_apply import _fill_token, _stored, applied_object
    from .tool_kubectl import _namespace_exists

    applied = record.setdefault("applied", [])
    for obj in objects:
        meta = obj.setdefault("metadata", {})
        if obj.get("kind") != "Namespace":
            meta.setdefault("namespace", namespace)
        ns = meta.get("namespace")
        if (
            obj.get("kind") != "Namespace"
            and ns
            and not (
                _namespace_exists(record, ns)
                or any(o["kind"] == "Namespace" and o["metadata"]["name"] == ns for o in applied)
            )
        ):
            # CreateNamespace=false: the sync fails on the missing namespace (gitops-engine sync)
            return f'namespaces "{ns}" not found'
    for obj in objects:
        meta = obj["metadata"]
        previous = applied_object(applied, obj["kind"], meta["name"], meta.get("namespace"))
        if previous is not None and previous.get("lastApplied") == obj:
            continue
        if previous is not None:
            applied.remove(previous)
        stored = _stored(obj, previous, str(cluster.get("uid", "")))
        _fill_token(stored, applied, cluster)
        stored["lastApplied"] = obj
        applied.append(stored)
    return ""


def _health(record: dict, objects: list[dict]) -> str:
    """Healthy when every StatefulSet/Deployment it made has all its replicas ready (argo-cd's
    health checks for apps/v1 workloads), else Progressing."""
    from .kubectl_apply import applied_object

    for obj in objects:
        if obj.get("kind") not in ("StatefulSet", "Deployment"):
            continue
        meta = obj["metadata"]
        live = applied_object(record.get("applied") or [], obj["kind"], meta["name"], meta.get("namespace"))
        status = (live or {}).get("status") or {}
        if not live or status.get("readyReplicas", 0) < (live.get("spec") or {}).get("replicas", 1):
            return "Progressing"
    return "Healthy"


def reconcile(env: FakeEnv, key: str) -> None:
    """One pass of the controller over the automated Applications of the cluster `key`."""
    state = env.store.read()
    record = state["clusters"].get(key) or {}
    apps = [copy.deepcopy(o) for o in record.get("applied") or [] if _automated(o)]
    if not apps:
        return
    outcomes: dict[tuple[str, str], dict] = {}
    for app in apps:
        source = app["spec"].get("source") or {}
        url, path = str(source.get("repoURL", "")), str(source.get("path", ".")).strip("/") or "."
        revision = str(source.get("targetRevision", "HEAD"))
        commit, why = _resolve(url, revision)
        status = app.get("status") or {}
        sync = status.get("sync") or {}
        if commit is not None and sync.get("revision") == commit and sync.get("status") == "Synced":
            continue  # nothing new in git: selfHeal aside, nothing to do
        objects: list[dict] | None = None
        if commit is not None:
            objects, why = _render(url, commit, path)
        outcomes[(app["metadata"]["name"], app["metadata"].get("namespace", ""))] = {
            "commit": commit,
            "objects": objects,
            "why": why,
            "namespace": str((app["spec"].get("destination") or {}).get("namespace", "default")),
            "source": source,
            "destination": app["spec"].get("destination"),
        }
    if not outcomes:
        return
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    with env.store.transaction() as state:
        record = state["clusters"].get(key)
        if record is None:
            return
        cluster = record
        for (name, namespace), outcome in outcomes.items():
            app = next(
                (
                    o
                    for o in record.get("applied") or []
                    if _automated(o)
                    and o["metadata"]["name"] == name
                    and o["metadata"].get("namespace", "") == namespace
                ),
                None,
            )
            if app is None:
                continue
            why = outcome["why"]
            if not why and outcome["objects"] is not None:
                why = _apply_into(record, copy.deepcopy(outcome["objects"]), outcome["namespace"], cluster)
            compared = {"source": outcome["source"], "destination": outcome["destination"]}
            if why:
                app["status"] = {
                    "sync": {"status": "OutOfSync" if outcome["commit"] else "Unknown", "comparedTo": compared},
                    "health": {"status": "Missing"},
                    "conditions": [{"type": "ComparisonError", "message": why, "lastTransitionTime": now}],
                    "reconciledAt": now,
                }
                if outcome["commit"]:
                    app["status"]["sync"]["revision"] = outcome["commit"]
                continue
            app["status"] = {
                "sync": {"status": "Synced", "revision": outcome["commit"], "comparedTo": compared},
                "health": {"status": _health(record, outcome["objects"])},
                "operationState": {
                    "phase": "Succeeded",
                    "message": "successfully synced (all tasks run)",
                    "syncResult": {"revision": outcome["commit"], "source": outcome["source"]},
                    "startedAt": now,
                    "finishedAt": now,
                },
                "reconciledAt": now,
            }
