"""The pure parts of capturing a cluster snapshot: which containers' logs to read, the kubectl and
docker command lines, and turning their outputs into snapshot parts. The workflow
(`kenv.workflows.doctor_snapshot`) runs the commands.

Which logs. Only containers that look unhealthy are read, each tail at most LOG_TAIL_LINES lines:
waiting, terminated with a non-zero exit code, restarted at least once, or running but not ready.
Which instance follows kubelet's own choice (pkg/kubelet/kubelet_pods.go
`validateContainerLogStatus`): the previous instance exists only when
`lastState.terminated` is set; a waiting container with a previous instance (CrashLoopBackOff)
serves that instance as its "current" log too, so only `--previous` is read; a waiting container
that never ran (ImagePullBackOff) has no log at all and is not asked.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from kenv.doctor.snapshot import OBJECT_PARTS
from kenv.images.reference import InvalidReference, parse_reference

LOG_TAIL_LINES = 200
MAX_LOG_CONTAINERS = 100
# `docker image ls --digests --format '{{json .}}'`: one JSON object a line with Repository, Tag
# and Digest (docker/cli cli/command/formatter/image.go, v28: a row per tag x digest, `<none>`
# where there is none).
DOCKER_IMAGES = ("docker", "image", "ls", "--digests", "--format", "{{json .}}")


@dataclass(frozen=True)
class LogRequest:
    namespace: str
    pod: str
    container: str
    current: bool
    previous: bool
    why: str  # what makes the container unhealthy, for the progress line and the notes


def get_argv(part: str) -> tuple[str, ...]:
    """The kubectl arguments that list one part across every namespace (`-A` is accepted and
    ignored for cluster-scoped types: kubectl's get.go only sets the namespace when the mapping
    is namespaced)."""
    return ("get", OBJECT_PARTS[part][1], "-A", "-o", "json")


def log_argv(request: LogRequest, *, previous: bool, tail: int = LOG_TAIL_LINES) -> tuple[str, ...]:
    argv = ("logs", "-n", request.namespace, request.pod, "-c", request.container, f"--tail={tail}")
    return (*argv, "--previous") if previous else argv


def _dicts(value: object) -> Iterator[dict[str, Any]]:
    if isinstance(value, list):
        yield from (v for v in value if isinstance(v, dict))


def _mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def unhealthy_containers(pods: Iterable[dict[str, Any]]) -> tuple[list[LogRequest], int]:
    """The log reads for every unhealthy container, at most MAX_LOG_CONTAINERS (the number left
    out is returned beside them)."""
    requests: list[LogRequest] = []
    skipped = 0
    for pod in pods:
        meta = _mapping(pod.get("metadata"))
        namespace, name = meta.get("namespace"), meta.get("name")
        if not isinstance(namespace, str) or not isinstance(name, str):
            continue
        status = _mapping(pod.get("status"))
        running_pod = status.get("phase") == "Running"
        for field, init in (("initContainerStatuses", True), ("containerStatuses", False)):
            for container in _dicts(status.get(field)):
                request = _request(namespace, name, container, init=init, running_pod=running_pod)
                if request is None:
                    continue
                if len(requests) < MAX_LOG_CONTAINERS:
                    requests.append(request)
                else:
                    skipped += 1
    return requests, skipped


def _request(
    namespace: str, pod: str, container: dict[str, Any], *, init: bool, running_pod: bool
) -> LogRequest | None:
    cname = container.get("name")
    if not isinstance(cname, str) or not cname:
        return None
    state = _mapping(container.get("state"))
    last = _mapping(_mapping(container.get("lastState")).get("terminated"))
    has_previous = bool(last)
    restarts = container.get("restartCount")
    restarted = isinstance(restarts, int) and restarts > 0
    waiting = _mapping(state.get("waiting")) if "waiting" in state else None
    terminated = _mapping(state.get("terminated")) if "terminated" in state else None
    if waiting is not None:
        if not has_previous:
            return None  # never ran: kubelet has no log to give ("is waiting to start")
        return LogRequest(namespace, pod, cname, False, True, str(waiting.get("reason") or "waiting"))
    if terminated is not None:
        code = terminated.get("exitCode")
        if code in (0, None) and not restarted:
            return None
        why = f"terminated with exit code {code}" if code else f"restarted {restarts} times"
        return LogRequest(namespace, pod, cname, True, has_previous, why)
    if restarted:
        return LogRequest(namespace, pod, cname, True, has_previous, f"restarted {restarts} times")
    if "running" in state and running_pod and container.get("ready") is False and not init:
        return LogRequest(namespace, pod, cname, True, has_previous, "running but not ready")
    return None


def host_image_keys(text: str) -> tuple[frozenset[str], int]:
    """Presence keys (`kenv.images.nodes.presence_key` form) of what `DOCKER_IMAGES` printed, and
    how many lines could not be read."""
    keys: set[str] = set()
    bad = 0
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError:
            bad += 1
            continue
        if not isinstance(row, dict):
            bad += 1
            continue
        repo, tag, digest = (str(row.get(k) or "<none>") for k in ("Repository", "Tag", "Digest"))
        if repo == "<none>":
            continue
        candidates = []
        if tag != "<none>":
            candidates.append(f"{repo}:{tag}")
        if digest not in ("<none>", ""):
            candidates.append(f"{repo}@{digest}")
        for text_ref in candidates:
            try:
                ref = parse_reference(text_ref)
            except InvalidReference:
                bad += 1
                continue
            keys.add(f"{ref.name}@{ref.digest}" if ref.digest else ref.canonical)
    return frozenset(keys), bad


def list_items(document: object) -> list[Any] | None:
    """The items of a List kubectl printed, None when it is no List."""
    if not isinstance(document, dict):
        return None
    items = document.get("items")
    if items is None:
        return []
    return items if isinstance(items, list) else None


def missing_part_reason(stderr: str) -> str | None:
    """Why a `kubectl get` failed, when that failure only means this part cannot be had: the
    cluster does not serve the type, or RBAC forbids listing it. None: a real failure."""
    if "doesn't have a resource type" in stderr:
        return "the cluster does not serve this resource type"
    if "(Forbidden)" in stderr or " is forbidden: " in stderr:
        return "listing it is forbidden for this user (RBAC)"
    if "(NotFound)" in stderr and "the server could not find the requested resource" in stderr:
        return "the cluster does not serve this resource type"
    return None
