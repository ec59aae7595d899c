"""Capture a snapshot of one environment (issue 9 §1): what `kenv doctor snapshot` writes and what
`kenv doctor ENV` judges.

Read-only, in this order, with a progress note for each:

1. the API answers (`kubectl version`): if not, nothing else can be asked and the capture fails;
2. ONE `kubectl get <type> -A -o json` per resource type (`doctor.snapshot.OBJECT_PARTS`, never
   Secrets). A type the cluster does not serve or RBAC forbids is left out of the snapshot with a
   warning (a rule needing it says so), any other failure of one type too: the rest goes on;
3. the log tails of unhealthy containers only (`doctor.capture.unhealthy_containers`);
4. the images inside each node (`crictl images -o json` through the provider, one call a node)
   and on the host (`docker image ls --digests`): a node or an engine that cannot be read is left
   out with a warning.

Every call is made with the environment's own kubeconfig and context, like `kenv verify`.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from kenv.catalogue import facts_for
from kenv.doctor import capture
from kenv.doctor.snapshot import OBJECT_PARTS, ContainerLog, Snapshot, build_snapshot, tail
from kenv.errors import ExternalCommandError, KenvError
from kenv.images.nodes import CRICTL_IMAGES, parse_crictl_images
from kenv.inventory.model import Environment
from kenv.providers.base import Provider
from kenv.runtime.kubectl import Kubectl
from kenv.runtime.process import failure, parse_json, stderr_tail
from kenv.workflows.context import WorkflowContext

KUBECTL_TIMEOUT = 120.0
DOCKER_TIMEOUT = 60.0

__all__ = ["capture_environment", "capture_snapshot"]


def capture_snapshot(ctx: WorkflowContext, name: str, *, logs: bool = True, images: bool = True) -> Snapshot:
    """The snapshot of the environment `name` (NotFound when the inventory has no such one)."""
    env = ctx.inventory().get(name)
    return capture_environment(ctx, env, logs=logs, images=images)


def capture_environment(ctx: WorkflowContext, env: Environment, *, logs: bool = True, images: bool = True) -> Snapshot:
    provider = ctx.provider(env.provider)
    kubeconfig = ctx.kubeconfig_path(env.name)
    if not kubeconfig.exists():
        raise KenvError(f"no kubeconfig for {env.name!r} at {kubeconfig}", hint=f"run `kenv create {env.name}`")
    kubectl = Kubectl(ctx.runner, kubeconfig, provider.context_name(env), timeout=KUBECTL_TIMEOUT)
    started = time.monotonic()
    captured_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    note = ctx.progress.note
    try:
        version = kubectl.server_version()
    except KenvError as exc:  # a cluster that does not answer has nothing to capture
        raise _stopped(provider, env) or exc from exc
    note(env.name, f"Kubernetes {version or '(unknown version)'} answers; listing {len(OBJECT_PARTS)} resource types")
    warnings: list[str] = []
    objects: dict[str, list[Any]] = {}
    for part in OBJECT_PARTS:
        items = _list_part(kubectl, part, warnings)
        if items is not None:
            objects[part] = items
            note(env.name, f"{OBJECT_PARTS[part][1]}: {len(items)}")
    container_logs = _read_logs(ctx, env, kubectl, objects.get("pods", []), warnings) if logs else None
    node_names = tuple(_node_names(objects, provider, env))
    node_images = _node_images(ctx, provider, env, node_names, warnings) if images else None
    host_images = _host_images(ctx, env, warnings) if images and facts_for(env.provider).managed else None
    note(env.name, f"snapshot captured in {time.monotonic() - started:.1f}s")
    return build_snapshot(
        objects=objects,
        environment=env.name,
        provider=env.provider,
        nodes=node_names,
        logs=container_logs,
        node_images=node_images,
        host_images=host_images,
        warnings=warnings,
        captured_at=captured_at,
    )


def _stopped(provider: Provider, env: Environment) -> KenvError | None:
    """Said in kenv's terms when the cluster is stopped (kubectl would only say "refused")."""
    if not facts_for(env.provider).managed:
        return None
    try:
        state = provider.state(env)
    except KenvError:
        return None
    if state is not None and not state.running:
        return KenvError(f"environment {env.name!r} is stopped", hint=f"run `kenv start {env.name}` first")
    return None


def _list_part(kubectl: Kubectl, part: str, warnings: list[str]) -> list[Any] | None:
    resource = OBJECT_PARTS[part][1]
    argv = capture.get_argv(part)
    try:
        result = kubectl.runner.run(kubectl.argv(*argv), timeout=kubectl.timeout, mutating=False, check=False)
    except ExternalCommandError as exc:  # a timeout: this type is lost, the others may still answer
        warnings.append(f"{resource}: not collected ({exc.one_line()})")
        return None
    if not result.ok:
        reason = capture.missing_part_reason(result.stderr) or stderr_tail(result.stderr) or "no output"
        warnings.append(f"{resource}: not collected ({reason})")
        return None
    try:
        items = capture.list_items(parse_json(result.argv, result.stdout))
    except ExternalCommandError as exc:
        warnings.append(f"{resource}: not collected ({exc.one_line()})")
        return None
    if items is None:
        warnings.append(f"{resource}: not collected (kubectl printed no List)")
    return items


def _read_logs(
    ctx: WorkflowContext, env: Environment, kubectl: Kubectl, pods: list[Any], warnings: list[str]
) -> list[ContainerLog]:
    requests, skipped = capture.unhealthy_containers(pods)
    if skipped:
        warnings.append(f"logs: {skipped} more unhealthy containers not read (at most {capture.MAX_LOG_CONTAINERS})")
    if requests:
        ctx.progress.note(env.name, f"reading the logs of {len(requests)} unhealthy container(s)")
    found = []
    for request in requests:
        current, current_note = _log(kubectl, request, previous=False) if request.current else (None, None)
        previous, previous_note = _log(kubectl, request, previous=True) if request.previous else (None, None)
        notes = [n for n in (current_note, previous_note) if n]
        found.append(
            ContainerLog(
                request.namespace,
                request.pod,
                request.container,
                current,
                previous,
                "; ".join([request.why, *notes]),
            )
        )
    return found


def _log(kubectl: Kubectl, request: capture.LogRequest, *, previous: bool) -> tuple[str | None, str | None]:
    argv = kubectl.argv(*capture.log_argv(request, previous=previous))
    which = "previous" if previous else "current"
    try:
        result = kubectl.runner.run(argv, timeout=kubectl.timeout, mutating=False, check=False)
    except ExternalCommandError as exc:
        return None, f"{which} log not read: {exc.one_line()}"
    if not result.ok:
        return None, f"{which} log not read: {stderr_tail(result.stderr) or 'no output'}"
    return tail(result.stdout), None


def _node_names(objects: dict[str, list[Any]], provider: Provider, env: Environment) -> list[str]:
    names = [
        item["metadata"]["name"]
        for item in objects.get("nodes", [])
        if isinstance(item, dict) and isinstance(item.get("metadata"), dict) and item["metadata"].get("name")
    ]
    if names or not facts_for(env.provider).managed:
        return names
    try:
        return list(provider.node_names(env))
    except KenvError:
        return []


def _node_images(
    ctx: WorkflowContext, provider: Provider, env: Environment, nodes: tuple[str, ...], warnings: list[str]
) -> dict[str, frozenset[str]] | None:
    if not facts_for(env.provider).managed:
        warnings.append("node_images: not collected (kenv cannot reach into an external cluster's nodes)")
        return None
    if not nodes:
        warnings.append("node_images: not collected (no node names)")
        return None
    ctx.progress.note(env.name, f"listing the images inside {len(nodes)} node(s)")
    held: dict[str, frozenset[str]] = {}
    for node in nodes:
        try:
            result = provider.exec_in_node(env, node, list(CRICTL_IMAGES))
            if not result.ok:
                raise failure(result)
            held[node] = parse_crictl_images(result.stdout, result.argv)
        except KenvError as exc:
            warnings.append(f"node_images.{node}: not collected ({exc.one_line()})")
    return held


def _host_images(ctx: WorkflowContext, env: Environment, warnings: list[str]) -> frozenset[str] | None:
    try:
        result = ctx.runner.run(list(capture.DOCKER_IMAGES), timeout=DOCKER_TIMEOUT, mutating=False, check=False)
    except ExternalCommandError as exc:
        warnings.append(f"host_images: not collected ({exc.one_line()})")
        return None
    if not result.ok:
        warnings.append(f"host_images: not collected ({stderr_tail(result.stderr) or 'docker failed'})")
        return None
    keys, bad = capture.host_image_keys(result.stdout)
    if bad:
        warnings.append(f"host_images: {bad} line(s) of `docker image ls` not understood")
    ctx.progress.note(env.name, f"host: {len(keys)} image reference(s)")
    return keys
