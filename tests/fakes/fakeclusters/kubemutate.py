"""What the fake kubectl changes in a seeded cluster: ``patch`` (JSON and merge patches),
``rollout restart``, ``replace -f -`` (plain, ``--force``, ``--raw .../finalize``) and the
deletion of seeded pods, with the controllers that make pods again.

Changes are written to the cluster's seed file (``kubeseed/<name>.json``): a changed generated
object (e.g. the fresh cluster's coredns Deployment) is copied into the seed, where it replaces
the generated one, as any seeded object does. ``get`` then serves the changed state.

The controllers are modelled, not simulated: when a workload's pods are made again (a rollout
restart, a template change, a deleted pod of a ReplicaSet/Job/StatefulSet/DaemonSet, a Job
created) each new pod is healthy only when the cause of its predecessor's failure is gone:

* an image pull failure (ErrImagePull, ImagePullBackOff, ErrImageNeverPull): the image is now
  in a node (system images and what ``k3d image import``/``kind load``/``minikube image load``
  put there) or in the seed's ``registry`` list (the references a registry the nodes reach
  serves; there is no other registry model, so any other image still fails);
* CoreDNS's ``bind: permission denied`` in the previous log: the container now has
  NET_BIND_SERVICE added (or runs as user 0);
* a crash that the shell's CRLF messages explain (``$'\\r': command not found``, exit 127): no
  ConfigMap the pod mounts holds ``\\r\\n`` any more;
* any other failure: the fake does not know its cause, so the new pod fails the same way.

A pod that still fails keeps its predecessor's status, log and events (re-pointed at the new
pod), as kubelet would report them again. Sources: kubectl v0.31.6 pkg/cmd/patch/patch.go,
pkg/cmd/rollout/rollout_restart.go, pkg/polymorphichelpers/objectrestarter.go,
pkg/cmd/replace/replace.go, pkg/rawhttp/raw.go (see tests/fakes/README.md).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import os
import re
import sys
import time

from . import kubeobjects
from .common import err, out
from .env import FakeEnv, FakeExit
from .kubectl_print import NotEmulated

RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
_GROUPS = {
    "Deployment": "apps",
    "ReplicaSet": "apps",
    "StatefulSet": "apps",
    "DaemonSet": "apps",
    "Job": "batch",
    "CronJob": "batch",
    "StorageClass": "storage.k8s.io",
    "APIService": "apiregistration.k8s.io",
}
_ROLLING = ("Deployment", "StatefulSet", "DaemonSet")
_PULL_REASONS = ("ErrImagePull", "ImagePullBackOff", "ErrImageNeverPull")
_BIND_DENIED = re.compile(r"listen (?:tcp|udp) [^ ]*:53: bind: permission denied")
_CRLF_SAID = re.compile(r"\$'\\r': command not found|bad interpreter|\r$", re.MULTILINE)
_ALNUM = "bcdfghjklmnpqrstvwxz2456789"


def qualified(kind: str, plural: str) -> str:
    """What kubectl prints before /NAME: the resource and its group (``deployment.apps``)."""
    group = _GROUPS.get(kind)
    return f"{kind.lower()}.{group}" if group else kind.lower()


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _suffix(seed: str, length: int = 5) -> str:
    digest = hashlib.sha256(f"{seed}{time.time_ns()}".encode()).digest()
    return "".join(_ALNUM[b % len(_ALNUM)] for b in digest[:length])


def _uid(seed: str) -> str:
    h = hashlib.sha256(f"{seed}{time.time_ns()}".encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


# -- the seed file ------------------------------------------------------------------------------


def seed_path(state_dir: str, names: list[str]) -> str:
    """The seed file kubectl reads for this cluster (the first of `names` that has one), else a
    new one under the first name."""
    for name in names:
        path = os.path.join(state_dir, kubeobjects.SEED_DIR, f"{name}.json")
        if os.path.exists(path):
            return path
    return os.path.join(state_dir, kubeobjects.SEED_DIR, f"{names[0]}.json")


class Seed:
    """The seed file opened for a change; `save` writes it whole (tmp file + rename)."""

    def __init__(self, env: FakeEnv, names: list[str]) -> None:
        self.path = seed_path(env.state_dir, names)
        self.data = kubeobjects.load_seed(env.state_dir, names) or {}
        self.data.setdefault("objects", [])
        self.data.setdefault("logs", [])

    def find(self, kind: str, namespace: str, name: str) -> dict | None:
        for obj in self.data["objects"]:
            meta = obj.get("metadata") or {}
            if obj.get("kind") == kind and (meta.get("namespace") or "") == namespace and meta.get("name") == name:
                return obj
        return None

    def put(self, obj: dict) -> None:
        meta = obj["metadata"]
        old = self.find(obj["kind"], meta.get("namespace") or "", meta["name"])
        if old is not None:
            self.data["objects"][self.data["objects"].index(old)] = obj
        else:
            self.data["objects"].append(obj)

    def drop(self, obj: dict) -> None:
        self.data["objects"] = [o for o in self.data["objects"] if o is not obj]

    def save(self) -> None:
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        tmp = f"{self.path}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(self.data, handle)
        os.replace(tmp, self.path)


def _bump(obj: dict) -> None:
    meta = obj.setdefault("metadata", {})
    try:
        meta["resourceVersion"] = str(int(meta.get("resourceVersion") or 1000) + 1)
    except ValueError:
        meta["resourceVersion"] = "1001"
    if meta.get("generation") is not None or obj.get("kind") in _ROLLING:
        meta["generation"] = int(meta.get("generation") or 1) + 1


# -- JSON patch (RFC 6902) and merge patch (RFC 7386) ----------------------------------------


class PatchError(Exception):
    pass


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f"JSON pointer {path!r} does not start with /")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _parent(doc: object, parts: list[str]) -> tuple[object, str]:
    current = doc
    for part in parts[:-1]:
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            raise PatchError(f"doc is missing path: {'/' + '/'.join(parts)}")
    return current, parts[-1]


def json_patch(doc: dict, ops: list) -> dict:
    """RFC 6902 add/remove/replace/test (what kenv sends), on a copy."""
    doc = copy.deepcopy(doc)
    for op in ops:
        kind, parts = op.get("op"), _pointer(op.get("path", ""))
        if not parts:
            raise PatchError("patching the whole document is not supported by the fake")
        parent, key = _parent(doc, parts)
        if kind == "test":
            current = parent.get(key) if isinstance(parent, dict) else None
            if isinstance(parent, list) and key.isdigit() and int(key) < len(parent):
                current = parent[int(key)]
            if current != op.get("value"):
                raise PatchError(f"testing value {op['path']} failed: test failed")
        elif kind in ("add", "replace"):
            if isinstance(parent, dict):
                if kind == "replace" and key not in parent:
                    raise PatchError(f"replace operation does not apply: doc is missing key: {op['path']}")
                parent[key] = copy.deepcopy(op.get("value"))
            elif isinstance(parent, list):
                if key == "-" and kind == "add":
                    parent.append(copy.deepcopy(op.get("value")))
                elif key.isdigit() and int(key) <= len(parent) - (kind == "replace"):
                    if kind == "add":
                        parent.insert(int(key), copy.deepcopy(op.get("value")))
                    else:
                        parent[int(key)] = copy.deepcopy(op.get("value"))
                else:
                    raise PatchError(f"{kind} operation does not apply: doc is missing path: {op['path']}")
            else:
                raise PatchError(f"{kind} operation does not apply: doc is missing path: {op['path']}")
        elif kind == "remove":
            if isinstance(parent, dict) and key in parent:
                del parent[key]
            elif isinstance(parent, list) and key.isdigit() and int(key) < len(parent):
                del parent[int(key)]
            else:
                raise PatchError(f"remove operation does not apply: doc is missing path: {op['path']}")
        else:
            raise PatchError(f"Unexpected kind: {kind}")
    return doc


def merge_patch(doc: object, patch: object) -> object:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(doc) if isinstance(doc, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


# -- node images ----------------------------------------------------------------------------------


def _familiar(image: str) -> str:
    name = image
    for prefix in ("docker.io/library/", "docker.io/", "index.docker.io/library/"):
        if name.startswith(prefix):
            name = name[len(prefix) :]
            break
    if "@" not in name and ":" not in name.rsplit("/", 1)[-1]:
        name += ":latest"
    return name


def node_images(cluster: dict) -> set[str]:
    from .tool_docker import _SYSTEM_IMAGES

    held = list(_SYSTEM_IMAGES.get(cluster.get("tool", ""), []))
    for node in cluster.get("nodes") or []:
        held += node.get("images") or []
    return {_familiar(i) for i in held}


# -- the controllers ------------------------------------------------------------------------------


def _controller(pod: dict) -> tuple[str, str] | None:
    for ref in (pod.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return ref.get("kind", ""), ref.get("name", "")
    return None


def pods_of(seed: Seed, kind: str, namespace: str, name: str) -> list[dict]:
    """The seeded pods the workload owns: directly, or through a ReplicaSet it owns (seeded, or
    named like its ReplicaSets are, NAME-<hash>)."""
    owners = {(kind, name)}
    if kind == "Deployment":
        for obj in seed.data["objects"]:
            meta = obj.get("metadata") or {}
            if (
                obj.get("kind") == "ReplicaSet"
                and meta.get("namespace") == namespace
                and _controller(obj) == (kind, name)
            ):
                owners.add(("ReplicaSet", meta["name"]))
    found = []
    for obj in seed.data["objects"]:
        meta = obj.get("metadata") or {}
        if obj.get("kind") != "Pod" or meta.get("namespace") != namespace:
            continue
        owner = _controller(obj)
        if owner in owners or (
            kind == "Deployment" and owner and owner[0] == "ReplicaSet" and owner[1].rsplit("-", 1)[0] == name
        ):
            found.append(obj)
    return found


def _template_spec(workload: dict | None) -> dict | None:
    if workload is None:
        return None
    spec = workload.get("spec") or {}
    if workload.get("kind") == "CronJob":
        spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    template = (spec.get("template") or {}).get("spec")
    return template if isinstance(template, dict) and template.get("containers") else None


def _log_of(seed: Seed, namespace: str, pod: str, container: str) -> dict | None:
    for entry in seed.data["logs"]:
        if (entry.get("namespace"), entry.get("pod"), entry.get("container")) == (namespace, pod, container):
            return entry
    return None


def _mounted_crlf(seed: Seed, namespace: str, pod: dict) -> bool:
    names = [(v.get("configMap") or {}).get("name") for v in (pod.get("spec") or {}).get("volumes") or []]
    for name in filter(None, names):
        config = seed.find("ConfigMap", namespace, name)
        scripts = [
            v
            for k, v in (config or {}).get("data", {}).items()
            if isinstance(v, str) and (k.endswith((".sh", ".bash")) or v.lstrip("\ufeff").startswith("#!"))
        ]
        if any("\r\n" in v for v in scripts):  # what the pod runs; a CRLF README harms nothing
            return True
    return False


def _cured(seed: Seed, cluster: dict, old: dict, new: dict, spec: dict, status: dict) -> bool:
    """Whether this container of the new pod would run: its predecessor's failure has a cause
    the fake knows, and that cause is gone."""
    namespace = old["metadata"]["namespace"]
    waiting = (status.get("state") or {}).get("waiting") or {}
    if waiting.get("reason") in _PULL_REASONS:
        # in a node, or served by a registry the seed says the nodes reach ("registry": [refs])
        pullable = node_images(cluster) | {_familiar(str(i)) for i in seed.data.get("registry") or []}
        return _familiar(spec.get("image", "")) in pullable
    crashed = waiting.get("reason") == "CrashLoopBackOff" or (status.get("lastState") or {}).get("terminated")
    if not crashed:
        return bool((status.get("state") or {}).get("running"))
    log = _log_of(seed, namespace, old["metadata"]["name"], status.get("name", ""))
    said = ((log or {}).get("previous") or "") + ((log or {}).get("current") or "")
    if _BIND_DENIED.search(said):
        security = spec.get("securityContext") or {}
        added = [c.upper() for c in (security.get("capabilities") or {}).get("add") or []]
        return "NET_BIND_SERVICE" in added or "CAP_NET_BIND_SERVICE" in added or security.get("runAsUser") == 0
    exit_code = ((status.get("lastState") or {}).get("terminated") or {}).get("exitCode")
    if _CRLF_SAID.search(said) or exit_code == 127:  # the shell choking on \r (or not finding /bin/sh\r)
        return not _mounted_crlf(seed, namespace, new)
    return False


def recreate(seed: Seed, cluster: dict, old: dict, template: dict | None, name: str | None = None) -> dict:
    """The pod a controller makes in place of `old` (deleted), from `template` when it has one."""
    new = copy.deepcopy(old)
    meta = new["metadata"]
    namespace, old_name = meta["namespace"], meta["name"]
    owner = _controller(old)
    if name is None:
        if owner and owner[0] == "StatefulSet":
            name = old_name  # a StatefulSet's pods keep their ordinal names
        else:
            base = owner[1] if owner else old_name.rsplit("-", 1)[0]
            name = f"{base}-{_suffix(old_name)}"
    meta.update(name=name, uid=_uid(name), creationTimestamp=_now(), resourceVersion="1")
    for key in ("deletionTimestamp", "deletionGracePeriodSeconds", "finalizers"):
        meta.pop(key, None)
    if template is not None:
        node = (new.get("spec") or {}).get("nodeName")
        new["spec"] = copy.deepcopy(template)
        if node:
            new["spec"]["nodeName"] = node
    old_status = old.get("status") or {}
    statuses = []
    healthy = True
    for key, status_key in (("initContainers", "initContainerStatuses"), ("containers", "containerStatuses")):
        by_name = {s.get("name"): s for s in old_status.get(status_key) or []}
        for spec in new["spec"].get(key) or []:
            previous = by_name.get(spec.get("name"), {})
            if _cured(seed, cluster, old, new, spec, previous) or not previous:
                status = {
                    "name": spec.get("name"),
                    "image": spec.get("image"),
                    "imageID": "",
                    "ready": True,
                    "restartCount": 0,
                    "started": True,
                    "state": {"running": {"startedAt": _now()}},
                    "lastState": {},
                }
            else:
                healthy = False
                status = copy.deepcopy(previous)
                status["image"] = spec.get("image")
                waiting = (status.get("state") or {}).get("waiting") or {}
                if waiting.get("reason") in ("ImagePullBackOff", "ErrImagePull"):
                    waiting["message"] = f'Back-off pulling image "{spec.get("image")}"'
                log = _log_of(seed, namespace, old_name, spec.get("name", ""))
                if log is not None:  # kubelet reports the same failure again: same log
                    seed.data["logs"].append({**log, "pod": name})
            statuses.append((status_key, status))
    new["status"] = {
        "phase": "Running" if healthy else old_status.get("phase", "Pending"),
        "conditions": [{"type": "Ready", "status": "True" if healthy else "False", "lastTransitionTime": _now()}],
        "initContainerStatuses": [s for k, s in statuses if k == "initContainerStatuses"],
        "containerStatuses": [s for k, s in statuses if k == "containerStatuses"],
    }
    if not new["status"]["initContainerStatuses"]:
        del new["status"]["initContainerStatuses"]
    if not healthy:  # kubelet's events about the new pod: the old ones, re-pointed
        for event in [o for o in seed.data["objects"] if o.get("kind") == "Event"]:
            involved = event.get("involvedObject") or {}
            if (
                involved.get("kind") == "Pod"
                and involved.get("name") == old_name
                and involved.get("namespace") == namespace
            ):
                again = copy.deepcopy(event)
                again["metadata"]["name"] = f"{name}.{_suffix(name, 8)}"
                again["involvedObject"].update(name=name, uid=meta["uid"])
                seed.data["objects"].append(again)
    return new


def replace_pods(seed: Seed, cluster: dict, kind: str, namespace: str, name: str, workload: dict | None) -> list[str]:
    """A rollout (or a Job made again): every seeded pod of the workload replaced by a new one."""
    template = _template_spec(workload)
    made = []
    for old in pods_of(seed, kind, namespace, name):
        new = recreate(seed, cluster, old, template)
        seed.drop(old)
        seed.put(new)
        made.append(new["metadata"]["name"])
    return made


# -- the commands ----------------------------------------------------------------------------------


def read_stdin_document(filenames: list[str]) -> dict:
    if filenames != ["-"]:
        raise NotEmulated("only '-f -' (stdin) is implemented by the test fake")
    text = sys.stdin.read()
    try:
        doc = json.loads(text)
    except json.JSONDecodeError:
        import yaml

        doc = yaml.safe_load(text)
    if not isinstance(doc, dict) or "kind" not in doc:
        err('error: error validating "STDIN": error validating data: kind not set')
        raise FakeExit(1)
    return doc


def not_found(plural: str, name: str) -> FakeExit:
    err(f'Error from server (NotFound): {plural} "{name}" not found')
    return FakeExit(1)


def _target(env: FakeEnv, p, op: str) -> tuple:
    """(tool_kubectl, conn, cluster, kind, names) for ``kubectl OP TYPE NAME...``."""
    from . import tool_kubectl as k

    kind_token, names = k._resource_args(list(p.args))
    conn, cluster = k._require_cluster(env, p, op)
    kind = k._RESOURCES.get(kind_token.split(".")[0])
    if kind is None:
        err(f'error: the server doesn\'t have a resource type "{kind_token}"')
        raise FakeExit(1)
    if not names:
        err("error: resource(s) were provided, but no name was specified")
        raise FakeExit(1)
    return k, conn, cluster, kind, names


def _current(k, env: FakeEnv, conn, kind: str, name: str) -> dict:
    namespace = conn.namespace if kind in k._NAMESPACED else ""
    for obj in k._objects(env, conn, kind):
        meta = obj.get("metadata") or {}
        if meta.get("name") == name and (meta.get("namespace") or "") == namespace:
            return copy.deepcopy(obj)
    group = _GROUPS.get(kind)
    raise not_found(k._PLURAL[kind] + (f".{group}" if group else ""), name)


def patch(env: FakeEnv, p) -> int:
    """``kubectl patch TYPE NAME --type json|merge -p PATCH`` (pkg/cmd/patch/patch.go)."""
    for flag in ("local", "filename", "kustomize", "subresource"):
        if p[flag]:
            raise NotEmulated(f"'kubectl patch --{flag}' is not implemented by the test fake")
    if str(p["dry-run"]) != "none":
        raise NotEmulated("'kubectl patch --dry-run' is not implemented by the test fake")
    if p["patch"] and p["patch-file"]:
        err("error: cannot specify --patch and --patch-file together")
        return 1
    if not p["patch"] and not p["patch-file"]:
        err("error: must specify --patch or --patch-file containing the contents of the patch")
        return 1
    patch_type = str(p["type"])
    if patch_type not in ("json", "merge", "strategic"):
        err(f'error: --type must be one of [json merge strategic], not "{patch_type}"')
        return 1
    if patch_type == "strategic":
        raise NotEmulated("strategic merge patches are not implemented by the test fake: use --type json or merge")
    if p["patch"]:
        text = str(p["patch"])
    else:
        with open(str(p["patch-file"]), encoding="utf-8") as handle:
            text = handle.read()
    try:
        body = json.loads(text)
    except json.JSONDecodeError as exc:
        err(f'error: unable to parse "{text}": {exc.msg}')
        return 1
    k, conn, cluster, kind, names = _target(env, p, "patch")
    seed = Seed(env, conn.names())
    for name in names:
        current = _current(k, env, conn, kind, name)
        try:
            changed = json_patch(current, body) if patch_type == "json" else merge_patch(current, body)
        except PatchError as exc:
            # the apiserver's answer to a patch it cannot apply (422, the json-patch library's text)
            err(f"The request is invalid: {exc}")
            return 1
        if kind == "Secret" and isinstance(changed.get("stringData"), dict):
            # the apiserver folds a Secret's stringData into data on every write (core/v1 conversion)
            for key, value in changed.pop("stringData").items():
                changed.setdefault("data", {})[key] = base64.b64encode(str(value).encode()).decode()
        did = changed != current
        if did:
            _bump(changed)
            seed.put(changed)
            if kind in (*_ROLLING, "ReplicaSet") and _template_spec(changed) != _template_spec(current):
                replace_pods(seed, cluster, kind, conn.namespace, name, changed)
        out(f"{qualified(kind, k._PLURAL[kind])}/{name} {'patched' if did else 'patched (no change)'}")
    seed.save()
    return 0


def rollout_restart(env: FakeEnv, p) -> int:
    """``kubectl rollout restart TYPE/NAME`` (pkg/cmd/rollout/rollout_restart.go): sets
    spec.template.metadata.annotations["kubectl.kubernetes.io/restartedAt"] to now, RFC 3339
    (pkg/polymorphichelpers/objectrestarter.go); the controller then replaces the pods."""
    k, conn, cluster, kind, names = _target(env, p, "rollout-restart")
    seed = Seed(env, conn.names())
    for name in names:
        current = _current(k, env, conn, kind, name)
        if kind not in _ROLLING:
            err("error: restarting is not supported")
            return 1
        if (current.get("spec") or {}).get("paused"):
            err("error: can't restart paused deployment (run rollout resume first)")
            return 1
        template = current.setdefault("spec", {}).setdefault("template", {})
        template.setdefault("metadata", {}).setdefault("annotations", {})[RESTARTED_AT] = time.strftime(
            "%Y-%m-%dT%H:%M:%SZ", time.gmtime()
        )
        _bump(current)
        seed.put(current)
        replace_pods(seed, cluster, kind, conn.namespace, name, current)
        out(f"{qualified(kind, k._PLURAL[kind])}/{name} restarted")
    seed.save()
    return 0


def delete_seeded_pod(env: FakeEnv, conn, cluster: dict, namespace: str, name: str) -> bool:
    """A seeded pod deleted; its controller (if it has one) makes a new one. False: not seeded."""
    seed = Seed(env, conn.names())
    old = seed.find("Pod", namespace, name)
    if old is None:
        return False
    seed.drop(old)
    if _controller(old) is not None:
        seed.put(recreate(seed, cluster, old, None))
    seed.save()
    return True


def replace(env: FakeEnv, p) -> int:
    """``kubectl replace -f -``, ``--force`` (delete, then create) and ``--raw URI -f -`` (a PUT
    of the document to URI, the response body printed: pkg/cmd/replace/replace.go, pkg/rawhttp)."""
    from . import tool_kubectl as k

    filenames = [str(f) for f in p["filename"] or []]
    if p["raw"]:
        if len(filenames) != 1:
            err("error: --raw can only use a single local file or stdin")
            return 1
        if p["output"]:
            err("error: --raw and --output are mutually exclusive")
            return 1
        return _raw_put(env, p, str(p["raw"]), filenames)
    if not filenames:
        err("error: must specify --filename to replace")
        return 1
    for flag in ("kustomize", "subresource"):
        if p[flag]:
            raise NotEmulated(f"'kubectl replace --{flag}' is not implemented by the test fake")
    doc = read_stdin_document(filenames)
    conn, cluster = k._require_cluster(env, p, "replace")
    kind = doc["kind"]
    if kind not in k._PLURAL:
        raise NotEmulated(f"replacing a {kind} is not implemented by the test fake")
    meta = doc.setdefault("metadata", {})
    namespaced = kind in k._NAMESPACED
    namespace = (meta.get("namespace") or conn.namespace) if namespaced else ""
    if namespaced:
        meta["namespace"] = namespace
    name = meta.get("name", "")
    plural, shown = k._PLURAL[kind], qualified(kind, k._PLURAL[kind])
    existing = next(
        (
            o
            for o in k._objects(env, conn, kind)
            if o["metadata"].get("name") == name and (o["metadata"].get("namespace") or "") == namespace
        ),
        None,
    )
    seed = Seed(env, conn.names())
    if p["force"]:
        return _force_replace(seed, cluster, doc, existing, kind, namespace, name, plural, shown)
    if existing is None:
        err(f'Error from server (NotFound): error when replacing "STDIN": {plural} "{name}" not found')
        return 1
    sent, stored = meta.get("resourceVersion"), existing["metadata"].get("resourceVersion")
    if sent and stored and sent != stored:
        err(
            f'Error from server (Conflict): error when replacing "STDIN": Operation cannot be fulfilled on {plural} '
            f'"{name}": the object has been modified; please apply your changes to the latest version and try again'
        )
        return 1
    for key in ("uid", "creationTimestamp"):
        if key in existing["metadata"]:
            meta[key] = existing["metadata"][key]
    if "status" in existing and kind != "ConfigMap":
        doc["status"] = existing["status"]
    if kind == "Namespace":  # only the finalize subresource changes them (namespace strategy PrepareForUpdate)
        doc.setdefault("spec", {})["finalizers"] = (existing.get("spec") or {}).get("finalizers") or []
    meta["resourceVersion"] = stored or "1000"
    _bump(doc)
    seed.put(doc)
    seed.save()
    out(f"{shown}/{name} replaced")
    return 0


def _force_replace(
    seed: Seed, cluster: dict, doc: dict, existing: dict | None, kind, namespace, name, plural, shown
) -> int:
    if existing is None:
        err(f'Error from server (NotFound): error when deleting "STDIN": {plural} "{name}" not found')
        return 1
    stored = seed.find(kind, namespace, name)
    if stored is None:
        raise NotEmulated(f"deleting the generated {kind} {name!r} is not implemented by the test fake")
    predecessors = pods_of(seed, kind, namespace, name)
    seed.drop(stored)
    for pod in predecessors:  # --cascade=background: the garbage collector removes its pods
        seed.drop(pod)
    out(f'{shown} "{name}" deleted')
    meta = doc["metadata"]
    if meta.get("resourceVersion"):
        err(
            'Error from server (BadRequest): error when creating "STDIN": '
            "resourceVersion should not be set on objects to be created"
        )
        seed.save()
        return 1
    uid = _uid(name)
    meta.update(uid=uid, creationTimestamp=_now(), resourceVersion="1")
    if kind == "Job" and not (doc.get("spec") or {}).get("manualSelector"):
        problem = _job_selector_problem(doc, uid)
        if problem:
            err(f'The Job "{name}" is invalid: {problem}')
            seed.save()
            return 1
        spec = doc.setdefault("spec", {})
        labels = spec.setdefault("template", {}).setdefault("metadata", {}).setdefault("labels", {})
        labels.update(
            {
                "batch.kubernetes.io/controller-uid": uid,
                "controller-uid": uid,
                "batch.kubernetes.io/job-name": name,
                "job-name": name,
            }
        )
        spec["selector"] = {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
    doc.pop("status", None)
    if kind == "Pod":  # a pod created again: kubelet runs it as the old one ran, unless the cause is gone
        new = recreate(seed, cluster, stored, doc.get("spec") or {}, name=name)
        new["metadata"].update({k: v for k, v in meta.items() if k not in ("uid", "creationTimestamp")}, uid=uid)
        seed.put(new)
        seed.save()
        out(f"{shown}/{name} replaced")
        return 0
    seed.put(doc)
    template = _template_spec(doc)
    for old in predecessors:
        new = recreate(seed, cluster, old, template, name=f"{name}-{_suffix(name)}")
        for ref in new["metadata"].get("ownerReferences") or []:
            if ref.get("controller"):
                ref["uid"] = uid
        seed.put(new)
    seed.save()
    out(f"{shown}/{name} replaced")
    return 0


def _job_selector_problem(doc: dict, uid: str) -> str:
    """The apiserver's refusal of a Job that carries its predecessor's generated selector or
    controller-uid labels (pkg/apis/batch/validation ValidateGeneratedSelector)."""
    spec = doc.get("spec") or {}
    if spec.get("selector") is not None:
        return f"spec.selector: Invalid value: {json.dumps(spec['selector'])}: `selector` not auto-generated"
    labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    for key in ("batch.kubernetes.io/controller-uid", "controller-uid"):
        if key in labels and labels[key] != uid:
            return f"spec.template.metadata.labels[{key}]: Invalid value: \"{labels[key]}\": must be '{uid}'"
    return ""


_FINALIZE = re.compile(r"^/api/v1/namespaces/([^/]+)/finalize$")


def _raw_put(env: FakeEnv, p, raw: str, filenames: list[str]) -> int:
    from . import tool_kubectl as k
    from .common import go_json

    if not raw.startswith("/"):
        err(f'error: --raw must be a valid URL path: parse "{raw}": invalid URI for request')
        return 1
    match = _FINALIZE.match(raw.split("?", 1)[0])
    if match is None:
        raise NotEmulated(f"'kubectl replace --raw {raw}' is not implemented by the test fake")
    body = read_stdin_document(filenames)
    conn, _ = k._require_cluster(env, p, "replace-raw", discovery=False)
    name = match.group(1)
    if (body.get("metadata") or {}).get("name") != name:
        err(
            f"Error from server (BadRequest): the name of the object ({(body.get('metadata') or {}).get('name')}) "
            f"does not match the name on the URL ({name})"
        )
        return 1
    seed = Seed(env, conn.names())
    current = seed.find("Namespace", "", name)
    if current is None:
        if any(o["metadata"]["name"] == name for o in k._objects(env, conn, "Namespace")):
            raise NotEmulated("finalizing a generated namespace is not implemented by the test fake")
        err(f'Error from server (NotFound): namespaces "{name}" not found')
        return 1
    # the finalize subresource updates spec.finalizers only (pkg/registry/core/namespace/storage)
    current.setdefault("spec", {})["finalizers"] = list((body.get("spec") or {}).get("finalizers") or [])
    _bump(current)
    if current["metadata"].get("deletionTimestamp") and not current["spec"]["finalizers"]:
        seed.drop(current)  # nothing holds it any more: the namespace is gone (its content is orphaned)
    else:
        seed.put(current)
    seed.save()
    out(go_json(current))
    return 0


def commands(output):
    """The grammar of the commands above (flags from kubectl v0.31.6's NewCmdPatch,
    NewCmdRolloutRestart and NewCmdReplace with their DeleteFlags, PrintFlags and dry-run flag)."""
    from .cli import BOOL, DURATION, INT, SLICE, Command, Flag

    printing = [
        output,
        Flag("template"),
        Flag("show-managed-fields", BOOL),
        Flag("allow-missing-template-keys", BOOL, default=True),
    ]
    return [
        Command(
            "patch",
            flags=[
                *printing,
                Flag("patch", short="p"),
                Flag("patch-file"),
                Flag("type", default="strategic"),
                Flag("filename", SLICE, short="f"),
                Flag("kustomize", short="k"),
                Flag("recursive", BOOL, short="R"),
                Flag("local", BOOL),
                Flag("dry-run", default="none"),
                Flag("field-manager", default="kubectl-patch"),
                Flag("subresource"),
                Flag("record", BOOL),
            ],
        ),
        Command(
            "replace",
            flags=[
                *printing,
                Flag("filename", SLICE, short="f"),
                Flag("kustomize", short="k"),
                Flag("recursive", BOOL, short="R"),
                Flag("force", BOOL),
                Flag("cascade", default="background"),
                Flag("grace-period", INT, default=-1),
                Flag("timeout", DURATION),
                Flag("wait", BOOL),
                Flag("raw"),
                Flag("subresource"),
                Flag("save-config", BOOL),
                Flag("validate", default="strict"),
                Flag("dry-run", default="none"),
                Flag("field-manager", default="kubectl-replace"),
            ],
        ),
    ]


def rollout_restart_command():
    """``kubectl rollout restart``'s grammar (NewCmdRolloutRestart, kubectl v0.31.6)."""
    from .cli import BOOL, SLICE, Command, Flag

    return Command(
        "restart",
        flags=[
            Flag("output", short="o"),
            Flag("template"),
            Flag("show-managed-fields", BOOL),
            Flag("allow-missing-template-keys", BOOL, default=True),
            Flag("filename", SLICE, short="f"),
            Flag("kustomize", short="k"),
            Flag("recursive", BOOL, short="R"),
            Flag("selector", short="l"),
            Flag("field-manager", default="kubectl-rollout"),
        ],
    )
