"""What several rules share: the containers of every pod, pull failures told apart by their
message, the fix commands for this cluster, and the folding of a workload's pods into one finding."""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from kenv.doctor.findings import object_ref
from kenv.doctor.index import Index, dicts, dig, labels, mapping, meta, number, text

PULL_WAITING = frozenset({"ErrImagePull", "ImagePullBackOff", "RegistryUnavailable"})
# containerd's causes behind `failed to resolve reference` (../shared/reference/doctor.md §2).
NETWORK_CAUSE = re.compile(
    r"i/o timeout|TLS handshake timeout|connection reset by peer|proxyconnect tcp|connection refused"
    r"|no route to host|network is unreachable|Timeout exceeded|Client\.Timeout"
    r"|dial tcp: lookup [^ :]+(?: on [^ ]+)?: (?:no such host|server misbehaving)"
)
MISSING_CAUSE = re.compile(
    r": not found|manifest unknown|pull access denied|insufficient_scope|repository does not exist"
    r"|may require authorization|404 Not Found|\bnot found\b"
)
REGISTRY_HOST = re.compile(r'(?:Head|Get) "https?://([^/"]+)/v2/')
DIAL_HOST = re.compile(r"dial tcp(?: ([0-9a-fA-F.:\[\]]+))?")
DEFAULT_REGISTRY_HOST = "registry-1.docker.io"


@dataclass(frozen=True)
class Container:
    """One container of one pod: its spec and its status side by side."""

    pod: Mapping[str, Any]
    namespace: str
    pod_name: str
    uid: str
    name: str
    index: int  # its position in spec.containers (or initContainers): JSON patches need it
    init: bool
    image: str
    pull_policy: str  # as written; "" when the spec leaves it to the default
    spec: Mapping[str, Any]
    status: Mapping[str, Any]

    @property
    def ref(self) -> str:
        return object_ref("Pod", self.namespace, self.pod_name)

    @property
    def waiting_reason(self) -> str:
        return text(dig(self.status, "state", "waiting", "reason"))

    @property
    def waiting_message(self) -> str:
        return text(dig(self.status, "state", "waiting", "message"))

    @property
    def last_terminated(self) -> Mapping[str, Any]:
        return mapping(dig(self.status, "lastState", "terminated"))

    @property
    def terminated(self) -> Mapping[str, Any]:
        return mapping(dig(self.status, "state", "terminated"))

    @property
    def restarts(self) -> int:
        return number(self.status.get("restartCount"))

    @property
    def running(self) -> bool:
        return isinstance(dig(self.status, "state", "running"), dict)

    @property
    def ready(self) -> bool:
        return self.status.get("ready") is True

    def effective_pull_policy(self) -> str:
        """Always when the spec says so, or says nothing and the tag is `latest` or missing."""
        if self.pull_policy:
            return self.pull_policy
        if "@" in self.image:
            return "IfNotPresent"
        last = self.image.rsplit("/", 1)[-1]
        return "Always" if ":" not in last or last.endswith(":latest") else "IfNotPresent"


def containers(index: Index) -> list[Container]:
    """Every container of every pod (init containers first), computed once per run."""
    if "containers" in index.memo:
        found: list[Container] = index.memo["containers"]
        return found
    result: list[Container] = []
    for pod in index.all("pods"):
        namespace, pod_name, uid = meta(pod)
        spec, status = mapping(pod.get("spec")), mapping(pod.get("status"))
        for init, spec_key, status_key in (
            (True, "initContainers", "initContainerStatuses"),
            (False, "containers", "containerStatuses"),
        ):
            statuses = {text(s.get("name")): s for s in dicts(status.get(status_key))}
            for position, item in enumerate(dicts(spec.get(spec_key))):
                name = text(item.get("name"))
                state = statuses.get(name, {})
                image = text(item.get("image")) or text(state.get("image"))
                result.append(
                    Container(
                        pod,
                        namespace,
                        pod_name,
                        uid,
                        name,
                        position,
                        init,
                        image,
                        text(item.get("imagePullPolicy")),
                        item,
                        state,
                    )
                )
    index.memo["containers"] = result
    return result


def pod_events(index: Index, pod: Mapping[str, Any]) -> list[Any]:
    namespace, name, uid = meta(pod)
    return index.events_for("Pod", namespace, name, uid)


def log_text(index: Index, container: Container) -> str:
    """The previous run's log and the current one's (the previous holds why it died)."""
    log = index.log(container.namespace, container.pod_name, container.name)
    if log is None:
        return ""
    return "\n".join(part for part in (log.previous, log.current) if part)


def matching_lines(body: str, pattern: re.Pattern[str], limit: int = 3) -> list[str]:
    return [line.strip() for line in body.splitlines() if pattern.search(line)][-limit:]


def tail_lines(body: str, count: int = 5) -> list[str]:
    return [line for line in body.splitlines() if line.strip()][-count:]


# -- image pulls -----------------------------------------------------------------------------

NOT_IN_CLUSTER = "image.not-in-cluster"
REGISTRY_UNREACHABLE = "image.registry-unreachable"
DIGEST_NOT_FOUND = "image.digest-not-found"
NEVER_PULL = "image.never-pull"
ALWAYS_SIDELOADED = "image.pull-always-sideloaded"


@dataclass(frozen=True)
class PullFailure:
    container: Container
    rule: str
    messages: tuple[str, ...]  # the waiting message and the pod's Failed events for this image

    @property
    def registry_host(self) -> str:
        for message in self.messages:
            match = REGISTRY_HOST.search(message)
            if match:
                return match.group(1)
        return registry_of(self.container.image)


def registry_of(image: str) -> str:
    first, slash, _ = image.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        return first
    return DEFAULT_REGISTRY_HOST


def pull_failures(index: Index) -> list[PullFailure]:
    """Every container that cannot get its image, with the rule that explains it; computed once.

    Precedence: a pull policy that makes kubelet pull an image the nodes already hold; a digest
    reference the registry does not have; a registry that cannot be reached; an image no registry
    has (or that needs credentials), which for a local cluster means it was never imported."""
    if "pull_failures" in index.memo:
        cached: list[PullFailure] = index.memo["pull_failures"]
        return cached
    result: list[PullFailure] = []
    events_by_pod: dict[str, list[Any]] = {}
    for container in containers(index):
        reason = container.waiting_reason
        if reason == "ErrImageNeverPull":
            message = container.waiting_message
            result.append(PullFailure(container, NEVER_PULL, (message,) if message else ()))
            continue
        if reason not in PULL_WAITING:
            continue
        if container.uid not in events_by_pod:
            events_by_pod[container.uid] = pod_events(index, container.pod)
        quoted = f'"{container.image}"'
        messages = [container.waiting_message] if container.waiting_message else []
        messages += [
            e.message
            for e in events_by_pod[container.uid]
            if e.reason == "Failed" and quoted in e.message and "Error: " not in e.message[:7]
        ]
        result.append(PullFailure(container, _classify(index, container, messages), tuple(messages)))
    index.memo["pull_failures"] = result
    return result


def _classify(index: Index, container: Container, messages: list[str]) -> str:
    joined = "\n".join(messages)
    network = NETWORK_CAUSE.search(joined) is not None
    missing = MISSING_CAUSE.search(joined) is not None
    if container.effective_pull_policy() == "Always" and index.in_nodes(container.image) is True:
        return ALWAYS_SIDELOADED
    if "@sha256:" in container.image and missing and not network:
        return DIGEST_NOT_FOUND
    if network:
        return REGISTRY_UNREACHABLE
    return NOT_IN_CLUSTER


# -- fixes -----------------------------------------------------------------------------------


def q(word: str) -> str:
    return shlex.quote(word)


def kubectl(index: Index) -> str:
    """kubectl pointed at this cluster: kenv's kubeconfig for an environment, the context otherwise."""
    env = index.cluster.environment
    if env:
        return f"KUBECONFIG=$(kenv kubeconfig {q(env)}) kubectl"
    context = {"k3d": "k3d-", "kind": "kind-", "minikube": ""}.get(index.cluster.provider or "")
    if context is not None and index.cluster.name:
        return f"kubectl --context {q(context + index.cluster.name)}"
    return "kubectl"


def import_commands(index: Index, images: Iterable[str]) -> tuple[str, ...]:
    """How this cluster gets these images from the host: kenv's sync when the snapshot names a
    kenv environment (it pulls what the host lacks, imports and verifies), then the tool's own."""
    wanted = list(dict.fromkeys(images))
    if not wanted:
        return ()
    commands: list[str] = []
    cluster = index.cluster
    refs = " ".join(q(i) for i in wanted)
    if cluster.environment:
        commands.append(f"kenv images sync {q(cluster.environment)} {refs}")
    if cluster.name:
        missing_on_host = [i for i in wanted if index.on_host(i) is not True]
        if not cluster.environment and missing_on_host:
            commands.append(f"docker pull {' '.join(q(i) for i in missing_on_host)}")
        if cluster.provider == "k3d":
            commands.append(f"k3d image import {refs} -c {q(cluster.name)}")
        elif cluster.provider == "kind":
            commands.append(f"kind load docker-image {refs} --name {q(cluster.name)}")
        elif cluster.provider == "minikube":
            commands += [f"minikube -p {q(cluster.name)} image load {q(i)}" for i in wanted]
    if not commands:
        commands.append(f"docker pull {refs}  # then load it into every node with your cluster tool")
    return tuple(commands)


def restart_command(index: Index, kind: str, namespace: str, name: str) -> str:
    if kind in ("Deployment", "StatefulSet", "DaemonSet"):
        return f"{kubectl(index)} -n {q(namespace)} rollout restart {kind.lower()}/{q(name)}"
    if kind == "Pod":
        return f"{kubectl(index)} -n {q(namespace)} delete pod {q(name)}"
    return f"{kubectl(index)} -n {q(namespace)} delete pod -l <the {kind}'s selector>"


# -- folding ---------------------------------------------------------------------------------


def fold(
    index: Index,
    items: Iterable[Any],
    pod_of: Callable[[Any], Mapping[str, Any]],
    key: Callable[[Any], str] = lambda _: "",
) -> Iterator[tuple[tuple[str, str, str], list[Any]]]:
    """Group items by (the workload of their pod, `key`): one finding per workload and cause."""
    groups: dict[tuple[tuple[str, str, str], str], list[Any]] = {}
    for item in items:
        workload = index.workload(pod_of(item))
        groups.setdefault((workload, key(item)), []).append(item)
    for (workload, _), members in groups.items():
        yield workload, members


def pod_refs(items: Iterable[Container]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(c.ref for c in items))


def label_selector(selector: Mapping[str, Any]) -> str:
    return ",".join(f"{k}={v}" for k, v in selector.items() if isinstance(v, str))


def selects(selector: Mapping[str, Any], obj: Mapping[str, Any]) -> bool:
    own = labels(obj)
    return bool(selector) and all(own.get(k) == v for k, v in selector.items())


def claim_names(pod: Mapping[str, Any]) -> list[str]:
    return [
        text(dig(volume, "persistentVolumeClaim", "claimName"))
        for volume in dicts(dig(pod, "spec", "volumes"))
        if text(dig(volume, "persistentVolumeClaim", "claimName"))
    ]


def configmap_names(pod: Mapping[str, Any]) -> list[str]:
    volumes = dicts(dig(pod, "spec", "volumes"))
    names = [text(dig(v, "configMap", "name")) for v in volumes]
    names += [text(dig(s, "configMap", "name")) for v in volumes for s in dicts(dig(v, "projected", "sources"))]
    return [n for n in names if n]
