"""Reading and writing real kubeconfig files.

Each fake tool picks the file to update the same way the real tool does:

* k3d    -- client-go ``GetDefaultFilename``: first *existing* file of
            $KUBECONFIG, else its first entry, else ~/.kube/config
* kind   -- explicit ``--kubeconfig``, else first existing file of
            $KUBECONFIG, else its *last* entry, else ~/.kube/config
            (kind pkg/cluster/internal/kubeconfig/internal/kubeconfig/paths.go)
* minikube -- first non-empty entry of $KUBECONFIG, else ~/.kube/config

Writes are serialised across all fakes with an flock on
``$KENV_FAKE_STATE/kubeconfig.lock`` and are atomic (temp file + rename).
kind additionally takes client-go's ``<file>.lock`` O_EXCL lock like the real
tool, so a stale lock file makes the fake fail the same way kind does.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import json
import os
import time
from collections.abc import Iterator


class KubeconfigError(Exception):
    pass


def _fake_pem(label: str, seed: str) -> str:
    digest = hashlib.sha256(f"{label}:{seed}".encode()).digest()
    body = base64.b64encode(digest * 12).decode()
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    pem = f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n"
    return base64.b64encode(pem.encode()).decode()


def names_for(cluster: dict) -> tuple[str, str, str]:
    """(cluster entry name, context name, user name) the real tool uses."""
    tool, name = cluster["tool"], cluster["name"]
    if tool == "k3d":
        return f"k3d-{name}", f"k3d-{name}", f"admin@k3d-{name}"
    if tool == "kind":
        return f"kind-{name}", f"kind-{name}", f"kind-{name}"
    return name, name, name  # minikube: everything is named after the profile


def server_url(cluster: dict) -> str:
    api = cluster["api"]
    return f"https://{api['server_host']}:{api['port']}"


def entries(cluster: dict) -> tuple[dict, dict, dict]:
    cname, ctx, user = names_for(cluster)
    seed = cluster.get("uid", cluster["name"])
    cluster_entry = {
        "name": cname,
        "cluster": {
            "certificate-authority-data": _fake_pem("CERTIFICATE", seed + "ca"),
            "server": server_url(cluster),
        },
    }
    context_entry: dict = {"name": ctx, "context": {"cluster": cname, "user": user}}
    if cluster["tool"] == "minikube":
        context_entry["context"]["namespace"] = "default"
    user_entry = {
        "name": user,
        "user": {
            "client-certificate-data": _fake_pem("CERTIFICATE", seed + "client"),
            "client-key-data": _fake_pem("RSA PRIVATE KEY", seed + "key"),
        },
    }
    return cluster_entry, context_entry, user_entry


def standalone(cluster: dict, current: bool = True) -> dict:
    """A kubeconfig document containing only this cluster."""
    c, x, u = entries(cluster)
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [c],
        "contexts": [x],
        "users": [u],
        "current-context": x["name"] if current else "",
    }


def render(doc: dict) -> str:
    """The file text client-go's clientcmd.Write produces (sigs.k8s.io/yaml: sorted keys)."""
    return to_yaml(doc)


# -- YAML, memoised -----------------------------------------------------------------
#
# Nearly every fake kubectl call parses a kubeconfig, and importing PyYAML costs more
# than the rest of the call.  Parse and dump results are therefore kept in
# $KENV_FAKE_STATE/yaml-cache, keyed by a hash of the exact input (the file's bytes,
# or the document), so a cached answer is always the answer PyYAML would give.


def _cache_file(key: str) -> str | None:
    state = os.environ.get("KENV_FAKE_STATE")
    return os.path.join(state, "yaml-cache", key + ".json") if state else None


def _cached(key: str) -> tuple[bool, object]:
    path = _cache_file(key)
    if path:
        try:
            with open(path, encoding="utf-8") as fh:
                return True, json.load(fh)["value"]
        except (OSError, ValueError, KeyError):
            pass
    return False, None


def _remember(key: str, value: object) -> None:
    path = _cache_file(key)
    if not path:
        return
    try:
        text = json.dumps({"value": value})
        if json.loads(text)["value"] != value:  # only what JSON keeps exactly
            return
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except (OSError, TypeError, ValueError):
        pass


def parse_yaml(text: str) -> object:
    """yamlio.load(text), memoised (raises yamlio.YAMLError)."""
    key = "load-" + hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()
    hit, value = _cached(key)
    if hit:
        return value
    from . import yamlio  # PyYAML only when this text was never parsed before

    value = yamlio.load(text)
    _remember(key, value)
    return value


def to_yaml(doc: object) -> str:
    """yamlio.dump(doc) (sorted keys), memoised."""
    try:
        key = "dump-" + hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()
    except (TypeError, ValueError):
        key = ""
    hit, value = _cached(key) if key else (False, None)
    if hit and isinstance(value, str):
        return value
    from . import yamlio

    text = yamlio.dump(doc)
    if key:
        _remember(key, text)
    return text


# -- path selection --------------------------------------------------------------


def path_k3d(env_paths: list[str], default: str) -> str:
    for p in env_paths:
        if os.path.isfile(p):
            return p
    return env_paths[0] if env_paths else default


def path_kind(explicit: str, env_paths: list[str], default: str) -> str:
    if explicit:
        return explicit
    if len(env_paths) == 1:
        return env_paths[0]
    for p in env_paths:
        if os.path.isfile(p):
            return p
    return env_paths[-1] if env_paths else default


def path_minikube(env_paths: list[str], default: str) -> str:
    return env_paths[0] if env_paths else default


# -- file access ---------------------------------------------------------------


def load(path: str) -> dict:
    """Load a kubeconfig (missing or empty file -> empty Config).

    Errors are KubeconfigError with client-go's text (loader.go: 'error loading
    config file "PATH": ...'; os.ReadFile's "read PATH: is a directory" and
    "open PATH: permission denied"; go-yaml's "yaml: line N: ...")."""
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except FileNotFoundError:
        text = ""
    except IsADirectoryError:
        raise KubeconfigError(f'error loading config file "{path}": read {path}: is a directory') from None
    except PermissionError:
        raise KubeconfigError(f'error loading config file "{path}": open {path}: permission denied') from None
    try:
        doc = parse_yaml(text) if text.strip() else None
    except Exception as exc:  # a yamlio.YAMLError; yamlio (PyYAML) is imported only on a cache miss
        from . import yamlio

        if not isinstance(exc, yamlio.YAMLError):
            raise
        raise KubeconfigError(f'error loading config file "{path}": {yamlio.go_error(exc)}') from None
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise KubeconfigError(f'error loading config file "{path}": couldn\'t get version/kind; json parse error')
    for key in ("clusters", "contexts", "users"):
        if doc.get(key) is None:
            doc[key] = []
    doc.setdefault("apiVersion", "v1")
    doc.setdefault("kind", "Config")
    doc.setdefault("preferences", {})
    doc.setdefault("current-context", "")
    return doc


def write_atomic(path: str, text: str) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


@contextlib.contextmanager
def _serialised(state_dir: str) -> Iterator[None]:
    fd = os.open(os.path.join(state_dir, "kubeconfig.lock"), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


@contextlib.contextmanager
def _client_go_lock(path: str) -> Iterator[None]:
    """client-go/kind style ``<path>.lock`` (O_EXCL; fails if it exists)."""
    lock = path + ".lock"
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    error: OSError | None = None
    # kind retries the whole export with this backoff (create.go)
    for backoff in (0, 0.001, 0.05, 0.1):
        time.sleep(backoff)
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError as exc:
            error = exc
            continue
        os.close(fd)
        try:
            yield
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(lock)
        return
    raise KubeconfigError(f"failed to lock config file: open {lock}: file exists") from error


def _upsert(items: list, entry: dict) -> None:
    for i, item in enumerate(items):
        if isinstance(item, dict) and item.get("name") == entry["name"]:
            items[i] = entry
            return
    items.append(entry)


def merge(state_dir: str, path: str, cluster: dict, switch_context: bool, client_go_lock: bool = False) -> None:
    """Add/replace this cluster's entries in ``path``."""
    lock = _client_go_lock(path) if client_go_lock else contextlib.nullcontext()
    with _serialised(state_dir), lock:
        doc = load(path)
        c, x, u = entries(cluster)
        _upsert(doc["clusters"], c)
        _upsert(doc["contexts"], x)
        _upsert(doc["users"], u)
        if switch_context:
            doc["current-context"] = x["name"]
        write_atomic(path, render(doc))


def remove(state_dir: str, path: str, cluster: dict, client_go_lock: bool = False) -> None:
    """Drop this cluster's entries from ``path`` (no-op if absent)."""
    if not os.path.isfile(path):
        return
    cname, ctx, user = names_for(cluster)
    lock = _client_go_lock(path) if client_go_lock else contextlib.nullcontext()
    with _serialised(state_dir), lock:
        doc = load(path)
        before = (len(doc["clusters"]), len(doc["contexts"]), len(doc["users"]))
        doc["clusters"] = [e for e in doc["clusters"] if e.get("name") != cname]
        doc["contexts"] = [e for e in doc["contexts"] if e.get("name") != ctx]
        doc["users"] = [e for e in doc["users"] if e.get("name") != user]
        after = (len(doc["clusters"]), len(doc["contexts"]), len(doc["users"]))
        if doc.get("current-context") == ctx:
            doc["current-context"] = ""
        elif before == after:
            return
        write_atomic(path, render(doc))


def write_standalone(state_dir: str, path: str, cluster: dict) -> None:
    with _serialised(state_dir):
        write_atomic(path, render(standalone(cluster)))


# -- reading like kubectl ----------------------------------------------------------


def load_merged(paths: list[str]) -> dict:
    """Merge kubeconfig files like kubectl (client-go loader.go Load): missing files are
    skipped, the first definition of a name wins, so does the first current-context."""
    merged: dict = {"clusters": {}, "contexts": {}, "users": {}, "current-context": ""}
    for path in paths:
        if not os.path.exists(path):
            continue
        doc = load(path)
        if not merged["current-context"] and doc.get("current-context"):
            merged["current-context"] = doc["current-context"]
        for key in ("clusters", "contexts", "users"):
            for item in doc.get(key) or []:
                if isinstance(item, dict) and item.get("name") and item["name"] not in merged[key]:
                    merged[key][item["name"]] = item
    return merged
