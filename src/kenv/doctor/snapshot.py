"""A cluster snapshot: the objects, log tails and image listings the cluster rules judge (pure).

Two inputs are read (docs/snapshot-format.md is the contract):

- kenv's own document, `{"schema": "kenv.doctor.snapshot/v1", ...}`, written by
  `kenv doctor snapshot`: a part is collected exactly when its key is there, so "no events" and
  "events not collected" differ.
- a plain kubectl List (`kubectl get pods,events,... -A -o json`, apiVersion v1, kind List, items
  of mixed kinds) or a typed list (`PodList`, from the API itself). Items are grouped by kind
  into parts. A List carries no record of what was asked for, so a part counts as collected only
  when at least one item of its kind is there (a typed list: its kind, even empty); logs and image
  listings are never in it. A rule that needs a part that was not collected says so instead of
  guessing.

Whatever the input, loading never fails on one bad object: an item that is not an object, has no
name or has the wrong kind for its part is skipped and counted in `warnings`. What cannot be read
at all (not JSON, not a snapshot, too large, another schema version) is InvalidInput naming the
file: one line, exit 2.

Bounded by design (the whole file is decoded in memory, no streaming): files above
MAX_SNAPSHOT_BYTES are refused before being read; log tails keep their last MAX_LOG_CHARS
characters; ConfigMap values above MAX_CONFIG_VALUE_CHARS (Kubernetes' own 1 MiB object limit),
annotation values above MAX_ANNOTATION_CHARS and event messages above MAX_MESSAGE_CHARS are cut,
with a warning. `metadata.managedFields` and the `last-applied-configuration` annotation are
dropped: no rule reads them and they double an object's size. Secrets are never kept: their kind
is no part, so a List's Secret items are dropped whole (values included) with a warning.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from kenv.errors import InvalidInput

SCHEMA = "kenv.doctor.snapshot/v1"
SCHEMA_PREFIX = "kenv.doctor.snapshot/"
SOURCE_KENV = "kenv"
SOURCE_LIST = "kubectl-list"

PARTS = (
    "pods",
    "events",
    "pvcs",
    "pvs",
    "storageclasses",
    "configmaps",
    "namespaces",
    "nodes",
    "deployments",
    "replicasets",
    "statefulsets",
    "daemonsets",
    "jobs",
    "cronjobs",
    "services",
    "endpoints",
    "apiservices",
    "logs",
    "node_images",
    "host_images",
)

# Object parts: part -> (kind, the kubectl resource type one `kubectl get` call lists, namespaced).
OBJECT_PARTS: Mapping[str, tuple[str, str, bool]] = {
    "pods": ("Pod", "pods", True),
    "events": ("Event", "events", True),
    "pvcs": ("PersistentVolumeClaim", "persistentvolumeclaims", True),
    "pvs": ("PersistentVolume", "persistentvolumes", False),
    "storageclasses": ("StorageClass", "storageclasses", False),
    "configmaps": ("ConfigMap", "configmaps", True),
    "namespaces": ("Namespace", "namespaces", False),
    "nodes": ("Node", "nodes", False),
    "deployments": ("Deployment", "deployments", True),
    "replicasets": ("ReplicaSet", "replicasets", True),
    "statefulsets": ("StatefulSet", "statefulsets", True),
    "daemonsets": ("DaemonSet", "daemonsets", True),
    "jobs": ("Job", "jobs", True),
    "cronjobs": ("CronJob", "cronjobs", True),
    "services": ("Service", "services", True),
    "endpoints": ("Endpoints", "endpoints", True),
    "apiservices": ("APIService", "apiservices", False),
}
PART_OF_KIND: Mapping[str, str] = {kind: part for part, (kind, _, _) in OBJECT_PARTS.items()}
PROVIDERS = ("k3d", "kind", "minikube", "external")

MAX_SNAPSHOT_BYTES = 256 * 1024 * 1024
MAX_LOG_CHARS = 64 * 1024
MAX_CONFIG_VALUE_CHARS = 1024 * 1024
MAX_ANNOTATION_CHARS = 64 * 1024
MAX_MESSAGE_CHARS = 16 * 1024
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
# Detailed warnings per part; beyond that only the count is kept (50,000 bad events are one line).
WARNINGS_PER_PART = 5
MAX_WARNINGS = 1000  # read from a file: a capture writes a few dozen at most


@dataclass(frozen=True)
class ContainerLog:
    """The log tails of one container; None = not collected or the read failed (`note` says why)."""

    namespace: str
    pod: str
    container: str
    current: str | None
    previous: str | None
    note: str | None = None


@dataclass(frozen=True, eq=False)
class Snapshot:
    schema: str
    source: str  # "kenv" | "kubectl-list"
    environment: str | None
    provider: str | None  # k3d | kind | minikube | external | None
    nodes: tuple[str, ...]
    objects: Mapping[str, tuple[dict[str, Any], ...]]
    logs: Mapping[tuple[str, str, str], ContainerLog]
    node_images: Mapping[str, frozenset[str]] | None
    host_images: frozenset[str] | None
    collected: frozenset[str]
    warnings: tuple[str, ...] = ()
    captured_at: str | None = None
    anonymized: bool = False

    def has(self, part: str) -> bool:
        return part in self.collected

    def items(self, part: str) -> tuple[dict[str, Any], ...]:
        return self.objects.get(part, ())

    def find(self, part: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        """The object of `part` with that namespace ("" or None for cluster-scoped) and name."""
        return self._index.get(part, {}).get((namespace or "", name))

    @cached_property
    def _index(self) -> dict[str, dict[tuple[str, str], dict[str, Any]]]:
        index: dict[str, dict[tuple[str, str], dict[str, Any]]] = {}
        for part, items in self.objects.items():
            table = index.setdefault(part, {})
            for item in items:
                meta = item["metadata"]
                table.setdefault((meta.get("namespace") or "", meta["name"]), item)
        return index


# -- reading ---------------------------------------------------------------------------------


def read_snapshot_file(path: Path, *, max_bytes: int = MAX_SNAPSHOT_BYTES) -> Snapshot:
    """Read and load a snapshot file; its size is checked before a byte is read."""
    shown = str(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise InvalidInput(f"snapshot {shown}: no such file", hint="check the path") from None
    except OSError as exc:
        raise InvalidInput(f"snapshot {shown}: cannot read it ({exc.strerror or exc})") from None
    if stat.S_ISDIR(info.st_mode):
        raise InvalidInput(f"snapshot {shown}: it is a directory", hint="give the snapshot file inside it")
    if not stat.S_ISREG(info.st_mode):
        raise InvalidInput(f"snapshot {shown}: not a regular file", hint="save the snapshot to a file first")
    if info.st_size > max_bytes:
        raise InvalidInput(
            f"snapshot {shown}: {_size(info.st_size)}, more than the {_size(max_bytes)} a snapshot may have",
            hint="capture fewer namespaces or resource types (kubectl get ... -n NAMESPACE -o json)",
        )
    try:
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise InvalidInput(f"snapshot {shown}: cannot read it ({exc.strerror or exc})") from None
    if len(data) > max_bytes:  # it grew after the stat
        raise InvalidInput(f"snapshot {shown}: more than the {_size(max_bytes)} a snapshot may have")
    document = _decode(data, shown)
    del data  # the decoded objects are what is kept: the raw bytes need not live beside them
    return snapshot_from_document(document, shown)


def load_snapshot(data: bytes | str, where: str) -> Snapshot:
    """A Snapshot from kenv's document or a kubectl List; InvalidInput naming `where` otherwise."""
    return snapshot_from_document(_decode(data, where), where)


def _decode(data: bytes | str, where: str) -> dict[str, Any]:
    if not data or data.isspace():
        raise InvalidInput(f"snapshot {where}: the file is empty", hint="capture it again")
    try:
        document = json.loads(data)  # bytes: UTF-8/16/32 detected by the BOM or the first bytes
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"snapshot {where}: not text in a Unicode encoding (byte {exc.start})", hint="give a JSON file"
        ) from None
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"snapshot {where}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})",
            hint="the file may be truncated or not JSON: capture it again",
        ) from None
    except RecursionError:
        raise InvalidInput(f"snapshot {where}: JSON nested too deeply to be a snapshot") from None
    if not isinstance(document, dict):
        raise InvalidInput(
            f"snapshot {where}: the JSON is a {_type(document)}, not an object",
            hint="give a kenv snapshot or the output of `kubectl get ... -A -o json`",
        )
    return document


def snapshot_from_document(document: dict[str, Any], where: str) -> Snapshot:
    """A Snapshot from an already decoded document (the objects are used in place, trimmed)."""
    schema = document.get("schema")
    if isinstance(schema, str) and schema.startswith(SCHEMA_PREFIX):
        if schema != SCHEMA:
            raise InvalidInput(
                f"snapshot {where}: schema {schema} is not one this kenv reads ({SCHEMA})",
                hint="capture it again with this kenv, or use the kenv that wrote it",
            )
        return _load_kenv(document, where)
    if schema is not None:
        raise InvalidInput(f"snapshot {where}: unknown schema {str(schema)[:80]!r}", hint=f"expected {SCHEMA}")
    kind = document.get("kind")
    if isinstance(kind, str) and kind.endswith("List") and "items" in document:
        return _load_list(document, where)
    shown = f"kind {str(kind)[:60]!r}" if kind is not None else "no schema and no kind"
    raise InvalidInput(
        f"snapshot {where}: neither a kenv snapshot nor a kubectl List ({shown})",
        hint="give a file from `kenv doctor snapshot` or `kubectl get pods,events,... -A -o json`",
    )


class _Collector:
    """Groups items into parts, skipping malformed ones with bounded warnings."""

    def __init__(self) -> None:
        self.parts: dict[str, list[dict[str, Any]]] = {}
        self.warnings: list[str] = []
        self._bad: dict[str, int] = {}
        self._cut = 0

    def warn(self, part: str, text: str) -> None:
        count = self._bad.get(part, 0) + 1
        self._bad[part] = count
        if count <= WARNINGS_PER_PART:
            self.warnings.append(text)

    def add(self, part: str, item: object, position: str) -> None:
        kind = OBJECT_PARTS[part][0]
        if not isinstance(item, dict):
            self.warn(part, f"{position}: skipped, a {_type(item)} instead of an object")
            return
        meta = item.get("metadata")
        name = meta.get("name") if isinstance(meta, dict) else None
        if not isinstance(name, str) or not name:
            self.warn(part, f"{position}: skipped, no metadata.name")
            return
        namespace = meta.get("namespace") if isinstance(meta, dict) else None
        if namespace is not None and not isinstance(namespace, str):
            self.warn(part, f"{position} ({name}): skipped, metadata.namespace is a {_type(namespace)}")
            return
        found = item.get("kind")
        if found is not None and found != kind:
            self.warn(part, f"{position} ({name}): skipped, kind {str(found)[:40]!r} in {part} (expected {kind})")
            return
        if part == "events" and str(item.get("apiVersion", "")).startswith("events.k8s.io/"):
            item = _core_event(item)
        self._cut += _trim(part, item)
        self.parts.setdefault(part, []).append(item)

    def finish(self) -> None:
        for part, count in self._bad.items():
            if count > WARNINGS_PER_PART:
                self.warnings.append(f"{part}: {count - WARNINGS_PER_PART} more malformed objects skipped")
        if self._cut:
            self.warnings.append(f"{self._cut} oversized values (annotations, messages, ConfigMap data) cut")


def _load_kenv(document: dict[str, Any], where: str) -> Snapshot:
    collector = _Collector()
    objects = document.get("objects", {})
    if not isinstance(objects, dict):
        raise InvalidInput(f"snapshot {where}: `objects` is a {_type(objects)}, not an object")
    collected: set[str] = set()
    for part, items in objects.items():
        if part not in OBJECT_PARTS:
            collector.warnings.append(f"objects.{str(part)[:40]}: not a part kenv reads, ignored")
            continue
        if items is None:
            continue
        if not isinstance(items, list):
            collector.warnings.append(f"objects.{part}: a {_type(items)} instead of a list, not collected")
            continue
        collected.add(part)
        for position, item in enumerate(items):
            collector.add(part, item, f"objects.{part}[{position}]")
    logs = _logs(document.get("logs"), collector.warnings)
    if logs is not None:
        collected.add("logs")
    node_images = _node_images(document.get("node_images"), collector.warnings)
    if node_images is not None:
        collected.add("node_images")
    host_images = _keys(document.get("host_images"), "host_images", collector.warnings)
    if host_images is not None:
        collected.add("host_images")
    provider = _optional_text(document, "provider", collector.warnings)
    if provider is not None and provider not in PROVIDERS:
        collector.warnings.append(f"provider {provider[:40]!r} is not one kenv knows; treated as unknown")
        provider = None
    nodes = document.get("nodes") or []
    node_names = tuple(n for n in nodes if isinstance(n, str)) if isinstance(nodes, list) else ()
    collector.finish()
    found = document.get("warnings")
    kept = found[:MAX_WARNINGS] if isinstance(found, list) else []
    warnings = [w[:MAX_MESSAGE_CHARS] for w in kept if isinstance(w, str)]
    return Snapshot(
        schema=SCHEMA,
        source=SOURCE_LIST if document.get("source") == SOURCE_LIST else SOURCE_KENV,
        environment=_optional_text(document, "environment", collector.warnings),
        provider=provider,
        nodes=node_names or _node_names(collector.parts),
        objects={p: tuple(collector.parts.get(p, ())) for p in collected if p in OBJECT_PARTS},
        logs=logs or {},
        node_images=node_images,
        host_images=host_images,
        collected=frozenset(collected),
        warnings=tuple(warnings + collector.warnings),
        captured_at=_optional_text(document, "captured_at", collector.warnings),
        anonymized=document.get("anonymized") is True,
    )


def _load_list(document: dict[str, Any], where: str) -> Snapshot:
    items = document.get("items")
    if items is None:
        items = []
    if not isinstance(items, list):
        raise InvalidInput(f"snapshot {where}: `items` is a {_type(items)}, not a list")
    collector = _Collector()
    collected: set[str] = set()
    list_kind = str(document["kind"])
    typed = PART_OF_KIND.get(list_kind[: -len("List")]) if list_kind != "List" else None
    if list_kind != "List" and typed is None:
        raise InvalidInput(f"snapshot {where}: a {list_kind[:60]}, which holds nothing kenv reads")
    if typed is not None:
        collected.add(typed)  # the API's own list of one kind: empty means none
    ignored: dict[str, int] = {}
    for position, item in enumerate(items):
        kind = item.get("kind") if isinstance(item, dict) else None
        part = typed or (PART_OF_KIND.get(kind) if isinstance(kind, str) else None)
        if part is None:
            label = str(kind)[:40] if kind is not None else "no kind"
            ignored[label] = ignored.get(label, 0) + 1
            continue
        collected.add(part)
        collector.add(part, item, f"items[{position}]")
    collector.finish()
    notes = [f"ignored {count} item(s) of {kind}" for kind, count in sorted(ignored.items())]
    if "Secret" in ignored:
        notes.append("Secrets are never read: their values were dropped")
    return Snapshot(
        schema=SCHEMA,
        source=SOURCE_LIST,
        environment=None,
        provider=None,
        nodes=_node_names(collector.parts),
        objects={p: tuple(collector.parts.get(p, ())) for p in collected},
        logs={},
        node_images=None,
        host_images=None,
        collected=frozenset(collected),
        warnings=tuple(collector.warnings + notes),
    )


def _node_names(parts: Mapping[str, list[dict[str, Any]]]) -> tuple[str, ...]:
    return tuple(item["metadata"]["name"] for item in parts.get("nodes", ()))


def _logs(value: object, warnings: list[str]) -> dict[tuple[str, str, str], ContainerLog] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        warnings.append(f"logs: a {_type(value)} instead of a list, not collected")
        return None
    logs: dict[tuple[str, str, str], ContainerLog] = {}
    bad = 0
    for entry in value:
        keys = [entry.get(k) if isinstance(entry, dict) else None for k in ("namespace", "pod", "container")]
        if not all(isinstance(k, str) and k for k in keys) or not isinstance(entry, dict):
            bad += 1
            continue
        namespace, pod, container = (str(k) for k in keys)
        logs[(namespace, pod, container)] = ContainerLog(
            namespace,
            pod,
            container,
            _tail(entry.get("current")),
            _tail(entry.get("previous")),
            entry["note"][:MAX_MESSAGE_CHARS] if isinstance(entry.get("note"), str) else None,
        )
    if bad:
        warnings.append(f"logs: {bad} entries without namespace, pod and container skipped")
    return logs


def _tail(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    return value if len(value) <= MAX_LOG_CHARS else value[-MAX_LOG_CHARS:]


def tail(text: str) -> str:
    """The part of a log that a snapshot keeps: its last MAX_LOG_CHARS characters."""
    return text if len(text) <= MAX_LOG_CHARS else text[-MAX_LOG_CHARS:]


def _keys(value: object, where: str, warnings: list[str]) -> frozenset[str] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        warnings.append(f"{where}: a {_type(value)} instead of a list, not collected")
        return None
    keys = frozenset(v for v in value if isinstance(v, str))
    if len(keys) != len(set(map(str, value))):
        warnings.append(f"{where}: entries that are not strings skipped")
    return keys


def _node_images(value: object, warnings: list[str]) -> dict[str, frozenset[str]] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        warnings.append(f"node_images: a {_type(value)} instead of an object, not collected")
        return None
    result: dict[str, frozenset[str]] = {}
    for node, keys in value.items():
        found = _keys(keys, f"node_images.{str(node)[:40]}", warnings)
        if found is not None:
            result[str(node)] = found
    return result


def _optional_text(document: Mapping[str, Any], key: str, warnings: list[str]) -> str | None:
    value = document.get(key)
    if value is None or isinstance(value, str):
        return value
    warnings.append(f"{key}: a {_type(value)} instead of text, ignored")
    return None


def _core_event(item: dict[str, Any]) -> dict[str, Any]:
    """An events.k8s.io/v1 Event in core v1's field names (the ones rules read): `note` is the
    message, `regarding` the involved object, the deprecated* fields the old counters."""
    raw_series = item.get("series")
    series: dict[str, Any] = raw_series if isinstance(raw_series, dict) else {}
    core = dict(item)
    core["apiVersion"] = "v1"
    core.setdefault("message", item.get("note"))
    core.setdefault("involvedObject", item.get("regarding"))
    core.setdefault("count", series.get("count") or item.get("deprecatedCount") or 1)
    core.setdefault("firstTimestamp", item.get("deprecatedFirstTimestamp") or item.get("eventTime"))
    core.setdefault(
        "lastTimestamp", item.get("deprecatedLastTimestamp") or series.get("lastObservedTime") or item.get("eventTime")
    )
    core.setdefault("source", item.get("deprecatedSource") or {"component": item.get("reportingController")})
    return core


def _trim(part: str, item: dict[str, Any]) -> int:
    """Drop what no rule reads and cut oversized values in place; returns how many values were cut."""
    cut = 0
    meta = item["metadata"]
    meta.pop("managedFields", None)
    annotations = meta.get("annotations")
    if isinstance(annotations, dict):
        annotations.pop(LAST_APPLIED, None)
        for key, value in annotations.items():
            if isinstance(value, str) and len(value) > MAX_ANNOTATION_CHARS:
                annotations[key] = value[:MAX_ANNOTATION_CHARS]
                cut += 1
    if part == "events":
        message = item.get("message")
        if isinstance(message, str) and len(message) > MAX_MESSAGE_CHARS:
            item["message"] = message[:MAX_MESSAGE_CHARS]
            cut += 1
    elif part == "configmaps":
        item.pop("binaryData", None)
        data = item.get("data")
        if isinstance(data, dict):
            for key, value in data.items():
                if isinstance(value, str) and len(value) > MAX_CONFIG_VALUE_CHARS:
                    data[key] = value[:MAX_CONFIG_VALUE_CHARS]
                    cut += 1
    return cut


# -- writing ---------------------------------------------------------------------------------


def snapshot_document(snapshot: Snapshot) -> dict[str, Any]:
    """The JSON document of docs/snapshot-format.md; only collected parts have a key."""
    document: dict[str, Any] = {
        "schema": SCHEMA,
        "source": snapshot.source,
        "captured_at": snapshot.captured_at,
        "environment": snapshot.environment,
        "provider": snapshot.provider,
        "anonymized": snapshot.anonymized,
        "nodes": list(snapshot.nodes),
        "objects": {p: list(snapshot.items(p)) for p in OBJECT_PARTS if snapshot.has(p)},
    }
    if snapshot.has("logs"):
        document["logs"] = [_log_document(log) for _, log in sorted(snapshot.logs.items())]
    if snapshot.node_images is not None and snapshot.has("node_images"):
        document["node_images"] = {node: sorted(keys) for node, keys in sorted(snapshot.node_images.items())}
    if snapshot.host_images is not None and snapshot.has("host_images"):
        document["host_images"] = sorted(snapshot.host_images)
    document["warnings"] = list(snapshot.warnings)
    return document


def _log_document(log: ContainerLog) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "namespace": log.namespace,
        "pod": log.pod,
        "container": log.container,
        "current": log.current,
        "previous": log.previous,
    }
    if log.note is not None:
        entry["note"] = log.note
    return entry


def dump_snapshot(snapshot: Snapshot) -> str:
    """The snapshot as kenv's JSON document (compact: `jq .` shows it indented)."""
    return json.dumps(snapshot_document(snapshot), ensure_ascii=False, separators=(",", ":")) + "\n"


def build_snapshot(
    *,
    objects: Mapping[str, Iterable[dict[str, Any]]],
    environment: str | None = None,
    provider: str | None = None,
    nodes: Iterable[str] = (),
    logs: Iterable[ContainerLog] | None = None,
    node_images: Mapping[str, frozenset[str]] | None = None,
    host_images: frozenset[str] | None = None,
    warnings: Iterable[str] = (),
    captured_at: str | None = None,
    anonymized: bool = False,
) -> Snapshot:
    """A Snapshot from parts already in hand (capture, tests), checked like a loaded one: the keys
    of `objects` are the collected object parts, None for logs or image listings = not collected."""
    collector = _Collector()
    collected = {p for p in objects if p in OBJECT_PARTS}
    for part in collected:
        for position, item in enumerate(objects[part]):
            collector.add(part, item, f"{part}[{position}]")
    collector.finish()
    if logs is not None:
        collected.add("logs")
    if node_images is not None:
        collected.add("node_images")
    if host_images is not None:
        collected.add("host_images")
    node_names = tuple(nodes)
    return Snapshot(
        schema=SCHEMA,
        source=SOURCE_KENV,
        environment=environment,
        provider=provider,
        nodes=node_names or _node_names(collector.parts),
        objects={p: tuple(collector.parts.get(p, ())) for p in collected if p in OBJECT_PARTS},
        logs={(log.namespace, log.pod, log.container): log for log in logs or ()},
        node_images=dict(node_images) if node_images is not None else None,
        host_images=host_images,
        collected=frozenset(collected),
        warnings=tuple(warnings) + tuple(collector.warnings),
        captured_at=captured_at,
        anonymized=anonymized,
    )


def _type(value: object) -> str:
    return {dict: "object", list: "list", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), "number" if isinstance(value, int | float) else type(value).__name__
    )


def _size(n: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"


__all__ = [
    "MAX_SNAPSHOT_BYTES",
    "OBJECT_PARTS",
    "PARTS",
    "PART_OF_KIND",
    "SCHEMA",
    "ContainerLog",
    "Snapshot",
    "build_snapshot",
    "dump_snapshot",
    "load_snapshot",
    "read_snapshot_file",
    "snapshot_document",
    "snapshot_from_document",
    "tail",
]
