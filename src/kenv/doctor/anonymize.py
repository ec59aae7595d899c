"""`--anonymize`: mask the names in a snapshot consistently, keep what the rules read (pure).

What is masked: the names and namespaces of the objects outside the system namespaces (pods,
workloads, services, ConfigMaps, claims, namespaces of their own), the names of their containers,
the environment's name (also where it appears inside node names, e.g. `k3d-<env>-server-0`, and
provider IDs), and every occurrence of those names in any string value: event messages,
involvedObject, ownerReferences, label and annotation values, selectors, ConfigMap values and
log lines. A name is masked piece by piece (pieces split on `-` and `.`; pieces of digits kept),
each piece by an HMAC with a key drawn for this run, so one name gets one mask everywhere
(`web` -> `x1f3a9c0`, `web-0` -> `x1f3a9c0-0`), the masks are valid Kubernetes names, and they
cannot be reversed by hashing guessed names.

What is kept: field names and map keys (labels' keys, ConfigMap keys such as `setup` or
`entrypoint.sh`), kinds, reasons, types, uids, timestamps, image references (every image the
snapshot names, in every form the tools print: as written, canonical, familiar, repository
name), the objects of the system namespaces (kube-system, kube-public, kube-node-lease,
local-path-storage, ingress-nginx) whose component names rules match, and well-known names
(`default`, `kubernetes`, `kube-root-ca.crt`). ConfigMap values are masked for names only: the
CRLF rule reads their content, so a secret put in a ConfigMap stays there (Secrets themselves are
never collected). A word in a log line that happens to equal a masked name is masked too.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from kenv.doctor.snapshot import ContainerLog, Snapshot
from kenv.images.reference import InvalidReference, parse_reference

SYSTEM_NAMESPACES = frozenset({"kube-system", "kube-public", "kube-node-lease", "local-path-storage", "ingress-nginx"})
WELL_KNOWN = frozenset({"default", "kubernetes", "kube-root-ca.crt", "kube-dns"})
# Pieces of generated names that say how a local cluster is built, not whose it is.
STRUCTURAL = frozenset(
    {"k3d", "k3s", "kind", "minikube", "server", "agent", "control", "plane", "worker", "serverlb", "tools", "m02"}
)
# Values of these keys are never names (or are references rules need verbatim).
KEPT_KEYS = frozenset(
    {"image", "imageID", "containerID", "uid", "resourceVersion", "kind", "apiVersion", "reason", "type", "names"}
)
_CANDIDATE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/:@+-]*")
_RUN = re.compile(r"[A-Za-z0-9]+(?:-+[A-Za-z0-9]+)*")


class _Masker:
    def __init__(self, key: bytes) -> None:
        self._key = key
        self.pieces: dict[str, str] = {}
        self.names: dict[str, str] = {}
        self.images: set[str] = set()
        self.kept: set[str] = set()  # names of system objects: never masked, even if a user reuses one
        self._environment: re.Pattern[str] | None = None
        self._environment_mask = ""

    def environment(self, name: str) -> None:
        """Mask `name` also inside longer names: node names, contexts, provider IDs."""
        self.add_name(name)
        self._environment = re.compile(rf"(?<![A-Za-z0-9]){re.escape(name)}(?![A-Za-z0-9])")
        self._environment_mask = self.names.get(name, name)

    def piece(self, text: str) -> str:
        if text.isdigit() or text in STRUCTURAL:
            return text
        found = self.pieces.get(text)
        if found is None:
            found = "x" + hmac.new(self._key, text.encode(), hashlib.sha256).hexdigest()[:7]
            self.pieces[text] = found
        return found

    def add_name(self, name: str) -> None:
        if not name or name in WELL_KNOWN or name in self.names or name in self.kept:
            return
        for dotted in name.split("."):
            masked = "-".join(self.piece(p) if p else p for p in dotted.split("-"))
            if dotted not in self.kept:
                self.names[dotted] = masked
        self.names[name] = ".".join(self.names.get(d, d) for d in name.split("."))

    def add_image(self, text: str) -> None:
        self.images.add(text)
        try:
            ref = parse_reference(text)
        except InvalidReference:
            return
        self.images.update({ref.canonical, ref.familiar, ref.name, ref.path})

    def text(self, value: str) -> str:
        return _CANDIDATE.sub(self._candidate, value)

    def _candidate(self, match: re.Match[str]) -> str:
        token = match.group(0)
        if token.rstrip(".:,;\"')") in self.images:
            return token
        return _RUN.sub(self._run, token)

    def _run(self, match: re.Match[str]) -> str:
        run = match.group(0)
        found = self.names.get(run)
        if found is not None:
            return found
        if self._environment is not None:
            return self._environment.sub(self._environment_mask, run)
        return run

    def value(self, value: Any, key: str = "") -> Any:
        if isinstance(value, str):
            return value if key in KEPT_KEYS else self.text(value)
        if isinstance(value, dict):
            return {k: self.value(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v, key) for v in value]
        return value


def _system(item: dict[str, Any]) -> bool:
    meta = item["metadata"]
    namespace = meta.get("namespace") or ""
    if namespace:
        return namespace in SYSTEM_NAMESPACES
    return str(meta["name"]) in SYSTEM_NAMESPACES


def _collect(masker: _Masker, snapshot: Snapshot) -> None:
    for part, items in snapshot.objects.items():
        for item in items:
            if part in ("storageclasses", "apiservices") or _system(item):
                masker.kept.add(str(item["metadata"]["name"]))
                masker.kept.update(_containers(item) if part == "pods" else ())
    for part, items in snapshot.objects.items():
        for item in items:
            _images_of(masker, item)
            if part in ("storageclasses", "apiservices"):
                continue  # provisioner and API group names: rules match them
            if part == "pvs" and str(item["metadata"]["name"]).startswith("pvc-"):
                continue  # pvc-<uid>: nothing but an id
            if part == "nodes":
                continue  # masked through the environment's name below
            if _system(item):
                continue
            meta = item["metadata"]
            masker.add_name(str(meta["name"]))
            namespace = meta.get("namespace")
            if isinstance(namespace, str) and namespace not in SYSTEM_NAMESPACES:
                masker.add_name(namespace)
            if part == "pods":
                for container in _containers(item):
                    masker.add_name(container)
    for key in snapshot.host_images or ():
        masker.add_image(key)
    for keys in (snapshot.node_images or {}).values():
        for key in keys:
            masker.add_image(key)


def _images_of(masker: _Masker, item: dict[str, Any]) -> None:
    spec = item.get("spec")
    template = spec.get("template") if isinstance(spec, dict) else None
    pod_specs = [spec, template.get("spec") if isinstance(template, dict) else None]
    job_template = spec.get("jobTemplate") if isinstance(spec, dict) else None
    if isinstance(job_template, dict):
        inner = job_template.get("spec")
        tmpl = inner.get("template") if isinstance(inner, dict) else None
        pod_specs.append(tmpl.get("spec") if isinstance(tmpl, dict) else None)
    for pod_spec in pod_specs:
        if not isinstance(pod_spec, dict):
            continue
        for field in ("initContainers", "containers", "ephemeralContainers"):
            for container in pod_spec.get(field) or []:
                if isinstance(container, dict) and isinstance(container.get("image"), str):
                    masker.add_image(container["image"])
    status = item.get("status")
    if not isinstance(status, dict):
        return
    for field in ("initContainerStatuses", "containerStatuses"):
        for container in status.get(field) or []:
            if isinstance(container, dict) and isinstance(container.get("image"), str):
                masker.add_image(container["image"])
    for image in status.get("images") or []:  # a node's image list
        for name in (image.get("names") if isinstance(image, dict) else None) or []:
            if isinstance(name, str):
                masker.add_image(name)


def _containers(pod: dict[str, Any]) -> Iterable[str]:
    spec = pod.get("spec")
    if not isinstance(spec, dict):
        return
    for field in ("initContainers", "containers"):
        for container in spec.get(field) or []:
            if isinstance(container, dict) and isinstance(container.get("name"), str):
                yield container["name"]


def anonymize(snapshot: Snapshot, *, key: bytes | None = None) -> Snapshot:
    """The snapshot with names masked (see the module doc); `key` fixes the masks (tests)."""
    masker = _Masker(key if key is not None else os.urandom(32))
    _collect(masker, snapshot)
    if snapshot.environment:
        masker.environment(snapshot.environment)

    def node(name: str) -> str:
        return masker.text(name)

    objects = {part: tuple(masker.value(item) for item in items) for part, items in snapshot.objects.items()}
    logs = {}
    for (namespace, pod, container), log in snapshot.logs.items():
        masked = ContainerLog(
            masker.text(namespace),
            masker.text(pod),
            masker.text(container),
            masker.text(log.current) if log.current is not None else None,
            masker.text(log.previous) if log.previous is not None else None,
            masker.text(log.note) if log.note is not None else None,
        )
        logs[(masked.namespace, masked.pod, masked.container)] = masked
    node_images = (
        {node(name): keys for name, keys in snapshot.node_images.items()} if snapshot.node_images is not None else None
    )
    return replace(
        snapshot,
        environment=masker.text(snapshot.environment) if snapshot.environment else snapshot.environment,
        nodes=tuple(node(n) for n in snapshot.nodes),
        objects=objects,
        logs=logs,
        node_images=node_images,
        warnings=tuple(masker.text(w) for w in snapshot.warnings),
        anonymized=True,
    )
