"""Snapshots (issue 9 §1): the documented format round trip, plain kubectl Lists, hostile files,
`--anonymize`, and the pure parts of capture."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from kenv.doctor import capture
from kenv.doctor.anonymize import anonymize
from kenv.doctor.snapshot import (
    MAX_ANNOTATION_CHARS,
    MAX_LOG_CHARS,
    OBJECT_PARTS,
    PARTS,
    SCHEMA,
    ContainerLog,
    build_snapshot,
    dump_snapshot,
    load_snapshot,
    read_snapshot_file,
)
from kenv.errors import InvalidInput

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "doctor"
SNAPSHOTS = [
    FIXTURES / name
    for name in (
        "k3d-image-only-on-host.json",
        "minikube-coredns-bind-denied.json",
        "k3d-pvc-pending-helper-image.json",
        "kind-healthy.json",
    )
]


def _fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


def _pod(name: str, namespace: str = "app", **status: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace}, "status": status}


# -- the format ------------------------------------------------------------------------------


def test_parts_are_the_object_parts_and_the_three_others() -> None:
    assert set(PARTS) == set(OBJECT_PARTS) | {"logs", "node_images", "host_images"}
    assert len(PARTS) == 20


@pytest.mark.parametrize("path", SNAPSHOTS, ids=lambda p: p.name)
def test_every_fixture_loads_and_survives_a_round_trip(path: Path) -> None:
    first = read_snapshot_file(path)
    assert first.schema == SCHEMA and first.source == "kenv" and not first.warnings
    assert first.collected == frozenset(PARTS) - (set() if first.logs or first.has("logs") else {"logs"})
    again = load_snapshot(dump_snapshot(first), "again")
    assert again.collected == first.collected
    assert again.environment == first.environment and again.provider == first.provider
    assert again.nodes == first.nodes
    for part in OBJECT_PARTS:
        assert again.items(part) == first.items(part), part
    assert again.logs == first.logs
    assert again.node_images == first.node_images and again.host_images == first.host_images


def test_a_part_left_out_is_not_collected_and_differs_from_an_empty_one() -> None:
    document = _fixture("k3d-image-only-on-host.json")
    del document["objects"]["events"]
    document["objects"]["apiservices"] = []
    del document["logs"]
    document["node_images"] = None
    snapshot = load_snapshot(json.dumps(document), "t.json")
    assert not snapshot.has("events") and snapshot.items("events") == ()
    assert snapshot.has("apiservices") and snapshot.items("apiservices") == ()
    assert not snapshot.has("logs") and not snapshot.has("node_images") and snapshot.node_images is None
    assert snapshot.has("host_images")
    assert "events" not in json.loads(dump_snapshot(snapshot))["objects"]


def test_find_looks_objects_up_by_namespace_and_name() -> None:
    snapshot = read_snapshot_file(FIXTURES / "k3d-pvc-pending-helper-image.json")
    claim = snapshot.find("pvcs", "paas", "data-postgresql-0")
    assert claim is not None and claim["status"]["phase"] == "Pending"
    assert snapshot.find("storageclasses", None, "local-path") is not None
    assert snapshot.find("pods", "paas", "nope") is None


def test_the_fixtures_quote_the_real_messages() -> None:
    helper = load_snapshot((FIXTURES / "k3d-pvc-pending-helper-image.json").read_bytes(), "f")
    messages = [e["message"] for e in helper.items("events")]
    assert (
        'failed to provision volume with StorageClass "local-path": create process timeout after 120 seconds'
        in messages
    )
    config = helper.find("configmaps", "kube-system", "local-path-config")
    assert config is not None and 'image: "rancher/mirrored-library-busybox:1.36.1"' in config["data"]["helperPod.yaml"]
    dns = read_snapshot_file(FIXTURES / "minikube-coredns-bind-denied.json")
    previous = [log.previous or "" for log in dns.logs.values()]
    assert any("Listen: listen tcp :53: bind: permission denied" in text for text in previous)
    assert any("lookup postgres-service on 10.96.0.10:53" in text for text in previous)


# -- a plain kubectl List ----------------------------------------------------------------------


def test_a_kubectl_list_is_grouped_by_kind_and_only_kinds_seen_are_collected() -> None:
    snapshot = read_snapshot_file(FIXTURES / "kubectl-list-image-only-on-host.json")
    assert snapshot.source == "kubectl-list"
    assert snapshot.collected == {"pods", "events"}
    assert len(snapshot.items("pods")) == 5 and len(snapshot.items("events")) == 12
    assert not snapshot.has("logs") and not snapshot.has("node_images") and not snapshot.has("nodes")
    assert snapshot.environment is None and snapshot.provider is None


def test_a_typed_list_collects_its_kind_even_when_empty() -> None:
    snapshot = load_snapshot('{"apiVersion": "v1", "kind": "EventList", "items": []}', "events.json")
    assert snapshot.collected == {"events"} and snapshot.items("events") == ()
    items = [{"metadata": {"name": "a", "namespace": "x"}}]  # the API's own lists leave out each item's kind
    pods = load_snapshot(json.dumps({"apiVersion": "v1", "kind": "PodList", "items": items}), "pods.json")
    assert [p["metadata"]["name"] for p in pods.items("pods")] == ["a"]
    with pytest.raises(InvalidInput, match="SecretList"):
        load_snapshot('{"kind": "SecretList", "items": []}', "s.json")


def test_secrets_in_a_list_are_dropped_values_and_all() -> None:
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "app"}}
    secret |= {"data": {"password": "aHVudGVyMg=="}, "stringData": {"token": "hunter2"}}
    document = {"apiVersion": "v1", "kind": "List", "items": [secret, _pod("web")]}
    snapshot = load_snapshot(json.dumps(document), "list.json")
    assert snapshot.collected == {"pods"}
    dumped = dump_snapshot(snapshot)
    assert "hunter2" not in dumped and "aHVudGVyMg==" not in dumped
    assert any("Secret" in w for w in snapshot.warnings)


def test_events_of_the_events_api_read_as_core_events() -> None:
    event = {
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": {"name": "web.1", "namespace": "app"},
        "regarding": {"kind": "Pod", "name": "web", "namespace": "app", "uid": "u1"},
        "note": 'Failed to pull image "web:1": not found',
        "reason": "Failed",
        "type": "Warning",
        "reportingController": "kubelet",
        "series": {"count": 4, "lastObservedTime": "2026-11-30T22:15:31.000000Z"},
    }
    snapshot = load_snapshot(json.dumps({"apiVersion": "v1", "kind": "List", "items": [event]}), "e.json")
    (core,) = snapshot.items("events")
    assert core["message"] == event["note"] and core["involvedObject"]["name"] == "web"
    assert core["count"] == 4 and core["lastTimestamp"] == "2026-11-30T22:15:31.000000Z"


# -- hostile inputs --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "the file is empty"),
        (b"  \n", "the file is empty"),
        (b'{"schema": "kenv.doctor.snapshot/v1", "objects": {"pods": [', "not valid JSON"),
        (b"\xff\xfe\x00garbage\x80", "not"),
        (b"[1, 2]", "the JSON is a list, not an object"),
        (b'"text"', "not an object"),
        (b'{"kind": "Pod", "metadata": {"name": "x"}}', "neither a kenv snapshot nor a kubectl List"),
        (b'{"apiVersion": "v1", "items": []}', "no schema and no kind"),
        (b'{"schema": "kenv.doctor.snapshot/v2"}', "is not one this kenv reads"),
        (b'{"schema": "someone.else/v1"}', "unknown schema"),
        (b'{"schema": "kenv.doctor.snapshot/v1", "objects": []}', "`objects` is a list"),
        (b'{"kind": "List", "items": {"a": 1}}', "`items` is a object"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b"\xef\xbb\xbf\xc3\x28", "not"),
    ],
)
def test_unreadable_snapshots_are_one_line_of_invalid_input(data: bytes, expected: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        load_snapshot(data, "bad.json")
    line = caught.value.one_line()
    assert "bad.json" in line and expected in line and "\n" not in line


def test_a_utf16_file_from_powershell_is_read() -> None:
    data = json.dumps({"apiVersion": "v1", "kind": "List", "items": [_pod("web")]}).encode("utf-16")
    assert load_snapshot(data, "ps.json").collected == {"pods"}


def test_malformed_objects_are_skipped_with_a_warning_never_a_crash() -> None:
    good = _pod("web")
    objects: dict[str, Any] = {
        "pods": [good, 42, "pod", None, {"metadata": "x"}, {"metadata": {"name": ""}}, {"metadata": {"name": 5}}],
        "events": [{"kind": "Secret", "metadata": {"name": "s", "namespace": "a"}, "data": {"k": "dg=="}}],
        "nodes": {"not": "a list"},
        "made-up": [good],
        "configmaps": None,
    }
    document = {"schema": SCHEMA, "objects": objects, "unknown_key": {"ignored": True}, "environment": 7, "nodes": "x"}
    document |= {"logs": [{"namespace": "a"}, 3], "node_images": {"n1": ["a", 1], "n2": "x"}, "host_images": "x"}
    document |= {"provider": "openshift", "warnings": "not a list"}
    snapshot = load_snapshot(json.dumps(document), "odd.json")
    assert [p["metadata"]["name"] for p in snapshot.items("pods")] == ["web"]
    assert snapshot.has("events") and snapshot.items("events") == ()
    assert not snapshot.has("nodes") and not snapshot.has("configmaps") and not snapshot.has("host_images")
    assert snapshot.has("logs") and snapshot.logs == {}
    assert snapshot.node_images == {"n1": frozenset({"a"})}
    assert snapshot.environment is None and snapshot.provider is None and snapshot.nodes == ()
    text = " | ".join(snapshot.warnings)
    for expected in ("objects.pods[1]", "a string instead of an object", "no metadata.name", "kind 'Secret'"):
        assert expected in text
    assert "made-up" in text and "openshift" in text
    assert "n" not in snapshot.warnings  # a string is not a list of warnings
    assert "dg==" not in dump_snapshot(snapshot)


def test_many_malformed_objects_give_a_bounded_number_of_warnings() -> None:
    document = {"schema": SCHEMA, "objects": {"events": [1] * 50_000}}
    snapshot = load_snapshot(json.dumps(document), "many.json")
    assert len(snapshot.warnings) <= 6
    assert "49995 more malformed objects skipped" in snapshot.warnings[-1]


def test_strings_of_10_mb_are_cut_where_a_snapshot_keeps_them() -> None:
    huge = "x" * (10 * 1024 * 1024)
    pod = _pod("web")
    pod["metadata"]["annotations"] = {"note": huge, "kubectl.kubernetes.io/last-applied-configuration": huge}
    pod["metadata"]["managedFields"] = [{"manager": "kubectl"}]
    document = {
        "schema": SCHEMA,
        "objects": {"pods": [pod], "events": [{"metadata": {"name": "e", "namespace": "app"}, "message": huge}]},
        "logs": [{"namespace": "app", "pod": "web", "container": "c", "current": huge + "END", "previous": None}],
    }
    snapshot = load_snapshot(json.dumps(document), "big.json")
    (kept,) = snapshot.items("pods")
    assert len(kept["metadata"]["annotations"]["note"]) == MAX_ANNOTATION_CHARS
    assert "kubectl.kubernetes.io/last-applied-configuration" not in kept["metadata"]["annotations"]
    assert "managedFields" not in kept["metadata"]
    (log,) = snapshot.logs.values()
    assert log.current is not None and len(log.current) == MAX_LOG_CHARS and log.current.endswith("END")
    assert len(snapshot.items("events")[0]["message"]) < 20_000
    assert any("oversized" in w for w in snapshot.warnings)


def test_a_sparse_1_gb_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    with path.open("wb") as handle:
        handle.truncate(1024 * 1024 * 1024)  # sparse: takes no disk
    started = time.monotonic()
    with pytest.raises(InvalidInput) as caught:
        read_snapshot_file(path)
    assert time.monotonic() - started < 1.0
    assert "1.0 GiB, more than the 256.0 MiB a snapshot may have" in caught.value.one_line()


def test_file_problems_are_named(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="no such file"):
        read_snapshot_file(tmp_path / "missing.json")
    with pytest.raises(InvalidInput, match="it is a directory"):
        read_snapshot_file(tmp_path)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(InvalidInput, match="not a regular file"):
        read_snapshot_file(fifo)
    small = tmp_path / "small.json"
    small.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": [_pod("a")]}))
    with pytest.raises(InvalidInput, match="more than the 10 bytes"):
        read_snapshot_file(small, max_bytes=10)


# -- anonymize -------------------------------------------------------------------------------


def test_anonymize_masks_each_name_the_same_way_everywhere_and_keeps_what_rules_read() -> None:
    original = read_snapshot_file(FIXTURES / "minikube-coredns-bind-denied.json")
    masked = anonymize(original, key=b"k" * 32)
    text = dump_snapshot(masked)
    # the app's image is named after it: image references are kept, nothing else
    outside_images = text.replace("saas-shortener:latest", "").replace("saas-shortener@sha256", "")
    for secret in ("saas-shortener", "postgres-service", "h2k8d", '"saas"'):
        assert secret not in outside_images, secret
    kept = (
        "registry.k8s.io/coredns/coredns:v1.11.1",
        "docker.io/library/saas-shortener:latest",
        "saas-shortener:latest",
        "Listen: listen tcp :53: bind: permission denied",
        "CrashLoopBackOff",
        "kube-dns",
        "coredns-76f75df574-9x2kq",
        "NET_BIND_SERVICE" if "NET_BIND_SERVICE" in dump_snapshot(original) else "drop",
    )
    for word in kept:
        assert word in text, word
    assert masked.anonymized and masked.environment != "saas" and masked.nodes == (masked.environment,)
    app_pod = next(p for p in masked.items("pods") if p["metadata"]["namespace"] not in ("kube-system",))
    namespace, name = app_pod["metadata"]["namespace"], app_pod["metadata"]["name"]
    # the same masks in the pod's events, its owner, the logs and the DNS error inside them
    events = [e for e in masked.items("events") if e["involvedObject"]["name"] == name]
    assert events and all(e["involvedObject"]["namespace"] == namespace for e in events)
    assert name in events[0]["message"] and namespace in events[0]["message"]
    owner = app_pod["metadata"]["ownerReferences"][0]["name"]
    assert masked.find("replicasets", namespace, owner) is not None
    log = masked.logs[(namespace, name, app_pod["spec"]["containers"][0]["name"])]
    service = next(s for s in masked.items("services") if s["metadata"]["namespace"] == namespace and "5432" in str(s))
    assert log.previous is not None and f"lookup {service['metadata']['name']} on 10.96.0.10:53" in text
    assert masked.node_images is not None and set(masked.node_images) == {masked.environment}


def test_anonymize_masks_the_environment_inside_node_names_and_keeps_images() -> None:
    original = read_snapshot_file(FIXTURES / "k3d-pvc-pending-helper-image.json")
    masked = anonymize(original, key=b"k" * 32)
    (node,) = masked.nodes
    assert node.startswith("k3d-x") and node.endswith("-server-0") and "devops" not in dump_snapshot(masked)
    assert masked.items("nodes")[0]["spec"]["providerID"] == f"k3s://{node}"
    text = dump_snapshot(masked)
    assert "rancher/mirrored-library-busybox:1.36.1" in text and "rancher.io/local-path" in text
    assert "local-path-config" in text and "create process timeout after 120 seconds" in text
    assert anonymize(original, key=b"k" * 32).items("pods") == masked.items("pods")
    assert anonymize(original, key=b"j" * 32).items("pods") != masked.items("pods")


# -- capture (pure parts) --------------------------------------------------------------------


def _status(name: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, "ready": fields.pop("ready", False), "restartCount": fields.pop("restarts", 0), **fields}


def test_only_unhealthy_containers_are_read_and_only_the_instances_kubelet_has() -> None:
    last = {"terminated": {"exitCode": 1, "reason": "Error", "containerID": "containerd://1"}}
    pods = [
        _pod("ok", phase="Running", containerStatuses=[_status("c", ready=True, state={"running": {}})]),
        _pod(
            "pull", phase="Pending", containerStatuses=[_status("c", state={"waiting": {"reason": "ImagePullBackOff"}})]
        ),
        _pod(
            "loop",
            phase="Running",
            containerStatuses=[
                _status("c", restarts=4, state={"waiting": {"reason": "CrashLoopBackOff"}}, lastState=last)
            ],
        ),
        _pod(
            "flaky",
            phase="Running",
            containerStatuses=[_status("c", ready=True, restarts=2, state={"running": {}}, lastState=last)],
        ),
        _pod("unready", phase="Running", containerStatuses=[_status("c", state={"running": {}})]),
        _pod("failed", phase="Failed", containerStatuses=[_status("c", state={"terminated": {"exitCode": 127}})]),
        _pod("done", phase="Succeeded", containerStatuses=[_status("c", state={"terminated": {"exitCode": 0}})]),
        _pod(
            "init",
            phase="Running",
            initContainerStatuses=[_status("setup", state={"terminated": {"exitCode": 0, "reason": "Completed"}})],
            containerStatuses=[_status("c", ready=True, state={"running": {}})],
        ),
        {"metadata": "broken"},
    ]
    requests, skipped = capture.unhealthy_containers(pods)
    got = {r.pod: (r.current, r.previous) for r in requests}
    assert got == {
        "loop": (False, True),
        "flaky": (True, True),
        "unready": (True, False),
        "failed": (True, False),
    }
    assert skipped == 0
    loop = next(r for r in requests if r.pod == "loop")
    assert capture.log_argv(loop, previous=True) == ("logs", "-n", "app", "loop", "-c", "c", "--tail=200", "--previous")


def test_log_reads_are_bounded() -> None:
    pods = [
        _pod(f"p{i}", phase="Running", containerStatuses=[_status("c", state={"terminated": {"exitCode": 1}})])
        for i in range(capture.MAX_LOG_CONTAINERS + 7)
    ]
    requests, skipped = capture.unhealthy_containers(pods)
    assert len(requests) == capture.MAX_LOG_CONTAINERS and skipped == 7


def test_host_images_are_read_from_docker_image_ls_json_lines() -> None:
    # docker CLI 28.2.2 `docker image ls --digests --format '{{json .}}'` (keys sorted, `<none>` escaped)
    lines = [
        '{"Containers":"N/A","CreatedAt":"2026-11-30 22:10:01 +0000 UTC","CreatedSince":"2 hours ago",'
        '"Digest":"\\u003cnone\\u003e","ID":"fa35e2573b0b","Repository":"shop/web","SharedSize":"N/A",'
        '"Size":"41.2MB","Tag":"1.4.2","UniqueSize":"N/A","VirtualSize":"41.2MB"}',
        '{"Digest":"sha256:' + "a" * 64 + '","ID":"1","Repository":"postgres","Tag":"16-alpine"}',
        '{"Digest":"\\u003cnone\\u003e","ID":"2","Repository":"\\u003cnone\\u003e","Tag":"\\u003cnone\\u003e"}',
        "not json",
        "",
    ]
    keys, bad = capture.host_image_keys("\n".join(lines))
    assert keys == {
        "docker.io/shop/web:1.4.2",
        "docker.io/library/postgres:16-alpine",
        "docker.io/library/postgres@sha256:" + "a" * 64,
    }
    assert bad == 1


def test_a_type_the_cluster_lacks_or_forbids_is_told_apart_from_a_failure() -> None:
    assert capture.missing_part_reason('error: the server doesn\'t have a resource type "apiservices"')
    forbidden = (
        'Error from server (Forbidden): apiservices.apiregistration.k8s.io is forbidden: User "u" cannot list '
        'resource "apiservices" in API group "apiregistration.k8s.io" at the cluster scope'
    )
    assert "RBAC" in (capture.missing_part_reason(forbidden) or "")
    assert capture.missing_part_reason("The connection to the server 127.0.0.1:6443 was refused") is None
    assert capture.get_argv("pvcs") == ("get", "persistentvolumeclaims", "-A", "-o", "json")


def test_build_snapshot_checks_parts_like_a_loaded_one() -> None:
    log = ContainerLog("app", "web", "c", None, "boom", "CrashLoopBackOff")
    snapshot = build_snapshot(objects={"pods": [_pod("web"), 3]}, logs=[log], environment="dev", provider="kind")
    assert snapshot.collected == {"pods", "logs"} and len(snapshot.items("pods")) == 1 and snapshot.warnings
    assert load_snapshot(dump_snapshot(snapshot), "x").logs[("app", "web", "c")] == log


def test_a_user_object_named_like_a_system_one_does_not_mask_the_system_one() -> None:
    system = {"kind": "Deployment", "metadata": {"name": "coredns", "namespace": "kube-system"}}
    mine = {"kind": "Deployment", "metadata": {"name": "coredns", "namespace": "lab"}}
    web = {"kind": "Deployment", "metadata": {"name": "web", "namespace": "lab"}}
    snapshot = build_snapshot(objects={"deployments": [system, mine, web]})
    masked = anonymize(snapshot, key=b"k" * 32)
    names = [(d["metadata"]["namespace"], d["metadata"]["name"]) for d in masked.items("deployments")]
    assert names[0] == ("kube-system", "coredns") and names[1][1] == "coredns"
    assert names[1][0] != "lab" and names[2][1] != "web"
