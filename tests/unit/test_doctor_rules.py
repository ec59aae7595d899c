"""Every cluster rule against a snapshot it must flag and one it must pass, the cause chains, and
odd objects that must never crash a rule. Snapshots go through the real loader, as a file would."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kenv.doctor.engine import Report, all_rules, analyse, select_rules
from kenv.doctor.snapshot import Snapshot, load_snapshot
from tests.doctor_cases import load_rule_cases

cases: Any = load_rule_cases("doctor_rule_cases")


def load(document: dict[str, Any]) -> Snapshot:
    return load_snapshot(json.dumps(document), "fixture")


def run(document: dict[str, Any], *rule_ids: str) -> Report:
    return analyse(load(document), select_rules(rule_ids) if rule_ids else None)


def of(report: Report, rule: str) -> list[Any]:
    return [f for f in report.findings if f.rule == rule]


def test_every_rule_has_a_case_and_a_doc() -> None:
    ids = [rule.id for rule in all_rules()]
    assert sorted(ids) == sorted(cases.CASES)
    assert len(set(ids)) == len(ids)
    for rule in all_rules():
        assert rule.summary and rule.doc and rule.bad and rule.good, rule.id
        assert rule.severity in ("info", "warning", "error", "critical")


@pytest.mark.parametrize("rule_id", sorted(cases.CASES))
def test_rule_flags_the_broken_snapshot(rule_id: str) -> None:
    report = run(cases.CASES[rule_id](True), rule_id)
    found = of(report, rule_id)
    assert found, f"{rule_id} found nothing in its failing fixture"
    for finding in found:
        assert finding.evidence, finding
        assert finding.fix.summary
        assert finding.object.count("/") >= 2


@pytest.mark.parametrize("rule_id", sorted(cases.CASES))
def test_rule_passes_the_healthy_snapshot(rule_id: str) -> None:
    assert of(run(cases.CASES[rule_id](False)), rule_id) == []


def test_healthy_cluster_has_no_finding_at_warning_or_above() -> None:
    report = run(cases.healthy())
    assert not report.fails("warning"), [f.to_dict() for f in report.findings]
    assert report.findings == ()


# -- what the findings say ---------------------------------------------------------------------


def test_image_not_in_cluster_folds_the_workloads_pods_and_names_the_import() -> None:
    (finding,) = of(run(cases.image_not_in_cluster(True)), "image.not-in-cluster")
    assert finding.object == "Deployment/shop/web"
    assert finding.symptoms == ("Pod/shop/web-7d4b9c-00000", "Pod/shop/web-7d4b9c-00001")
    assert "kenv images sync dev myapp:1.0" in finding.fix.commands
    assert "k3d image import myapp:1.0 -c dev" in finding.fix.commands
    assert "on the host but not inside the cluster" in finding.summary
    assert any("insufficient_scope" in line for line in finding.evidence)
    assert finding.fix.automatic


def test_kind_and_minikube_get_their_own_commands() -> None:
    (kind,) = of(run(cases.image_never_pull(True)), "image.never-pull")
    assert "kind load docker-image myapp:dev --name qa" in kind.fix.commands
    document = cases.image_not_in_cluster(True)
    document["environment"] = None
    document["nodes"] = ["minikube"]
    document["objects"]["nodes"] = [
        {**cases.node("minikube"), "metadata": {"name": "minikube", "labels": {"minikube.k8s.io/name": "p"}}}
    ]
    (mini,) = of(run(document), "image.not-in-cluster")
    assert "minikube -p p image load myapp:1.0" in mini.fix.commands


def test_registry_unreachable_names_the_host_and_the_mirror_settings() -> None:
    (finding,) = of(run(cases.image_registry_unreachable(True)), "image.registry-unreachable")
    assert "registry-1.docker.io" in finding.summary
    assert "[images] table" in finding.fix.summary
    assert "kenv images sync dev postgres:16-alpine" in finding.fix.commands


def test_digest_not_found_offers_the_reference_without_the_digest() -> None:
    (finding,) = of(run(cases.image_digest_not_found(True)), "image.digest-not-found")
    assert finding.object == "Job/ingress-nginx/ingress-nginx-admission-create"
    assert "kube-webhook-certgen:v1.4.0 without the digest" in finding.fix.summary
    assert "@sha256" not in finding.fix.summary


def test_digest_reference_behind_a_timeout_is_a_network_problem() -> None:
    document = cases.image_digest_not_found(True)
    event = document["objects"]["events"][0]
    event["message"] = event["message"].rsplit(":", 2)[0] + ": dial tcp 1.2.3.4:443: i/o timeout"
    report = run(document)
    assert of(report, "image.digest-not-found") == []
    assert of(report, "image.registry-unreachable")


def test_pull_always_with_an_imported_image_fails_as_error_when_pulls_fail() -> None:
    document = cases.image_pull_always_sideloaded(True)
    pod = document["objects"]["pods"][0]
    pod["status"]["containerStatuses"][0]["state"] = cases.waiting("ErrImagePull", cases.DENIED)
    report = run(document)
    (finding,) = of(report, "image.pull-always-sideloaded")
    assert finding.severity == "error"
    assert of(report, "image.not-in-cluster") == []  # already imported: importing again is no fix


def test_sideloaded_rule_needs_node_images_to_say_anything() -> None:
    document = cases.image_pull_always_sideloaded(True)
    del document["node_images"]
    assert of(run(document), "image.pull-always-sideloaded") == []


def test_pvc_rule_names_the_configmaps_helper_image_not_busybox() -> None:
    (finding,) = of(run(cases.storage_pvc_pending(True)), "storage.pvc-pending-provisioner")
    assert "rancher/mirrored-library-busybox:1.36.1" in finding.summary
    assert "kenv images sync devops rancher/mirrored-library-busybox:1.36.1" in finding.fix.commands
    assert not any(" busybox:" in command for command in finding.fix.commands)
    assert "Pod/paas/postgresql-0" in finding.symptoms
    assert any("create process timeout after 120 seconds" in line for line in finding.evidence)


def test_pvc_chain_pod_under_claim_under_helper_image() -> None:
    report = run(cases.pvc_chain())
    by_rule = {f.rule: f for f in report.findings}
    helper = by_rule["image.registry-unreachable"]
    claim = by_rule["storage.pvc-pending-provisioner"]
    pending = by_rule["pod.unschedulable"]
    assert helper.caused_by is None
    assert claim.caused_by == helper.id
    assert pending.caused_by == claim.id
    assert "PersistentVolumeClaim/paas/data-postgresql-0" in helper.symptoms
    assert [f.id for f in report.findings] == [helper.id, claim.id, pending.id]  # tree order
    assert report.depth(pending) == 2


def test_dns_chain_apps_hang_under_coredns() -> None:
    report = run(cases.dns(True))
    coredns = of(report, "dns.coredns-bind-denied")[0]
    app = of(report, "dns.app-dns-failure")[0]
    service = of(report, "service.no-endpoints")[0]
    assert coredns.severity == "critical" and coredns.caused_by is None
    assert app.caused_by == coredns.id
    assert service.caused_by == coredns.id
    assert of(report, "pod.crash-loop") == []  # the crash loops are explained, not repeated
    assert "Deployment/saas-shortener/saas-shortener" in coredns.symptoms
    patch = coredns.fix.commands[0]
    assert "NET_BIND_SERVICE" in patch and "--type=json" in patch


def test_coredns_with_net_bind_already_added_gets_the_root_patch() -> None:
    document = cases.dns(True)
    for pod in document["objects"]["pods"]:
        if pod["metadata"]["namespace"] == "kube-system":
            pod["spec"]["containers"][0]["securityContext"]["capabilities"]["add"] = ["NET_BIND_SERVICE"]
    (finding,) = of(run(document), "dns.coredns-bind-denied")
    assert 'securityContext/runAsUser", "value": 0' in finding.fix.commands[0]


def test_dns_rules_without_logs_are_skipped_not_guessed() -> None:
    document = cases.dns(True)
    del document["logs"]
    report = run(document)
    assert {s.rule for s in report.skipped} == {"dns.coredns-bind-denied", "dns.app-dns-failure"}
    assert all(s.needs == ("logs",) for s in report.skipped)
    # The crash loops are still reported, generically.
    assert of(report, "pod.crash-loop")


def test_namespace_stuck_lists_what_remains_and_the_failing_apiservice() -> None:
    (finding,) = of(run(cases.namespace_stuck(True)), "namespace.stuck-terminating")
    assert finding.object == "Namespace//saas-shortener"
    assert finding.fix.risk == "high"
    text = "\n".join(finding.evidence)
    assert "NamespaceDeletionDiscoveryFailure" in text and "NamespaceContentRemaining" in text
    assert "NamespaceFinalizersRemaining" not in text  # status False: healthy
    assert "example.com/cleanup" in text
    assert "v1beta1.metrics.k8s.io" in text
    assert "Pod/saas-shortener/worker-0" in finding.symptoms


def test_crlf_rule_links_the_crashing_pod_and_takes_the_crash() -> None:
    report = run(cases.crlf(True))
    (finding,) = of(report, "script.crlf")
    assert finding.severity == "error"
    assert finding.symptoms == ("Pod/saas-shortener/installer-abcde",)
    assert any("$'\\r': command not found" in line for line in finding.evidence)
    assert any("install.sh" in line for line in finding.evidence)
    assert not any("README" in line for line in finding.evidence)  # not a script
    assert of(report, "pod.crash-loop") == []


def test_crlf_script_nobody_runs_yet_is_a_warning() -> None:
    (finding,) = of(run(cases.crlf(True, crashing=False)), "script.crlf")
    assert finding.severity == "warning"


def test_oom_suggests_a_larger_limit() -> None:
    (finding,) = of(run(cases.oom(True)), "pod.oom-killed")
    assert "--limits=memory=256Mi" in finding.fix.commands[0]
    assert len(finding.symptoms) == 3


def test_crash_loop_quotes_the_last_termination_and_log_tail() -> None:
    (finding,) = of(run(cases.crash_loop(True)), "pod.crash-loop")
    text = "\n".join(finding.evidence)
    assert "exit 2" in text and "panic: missing QUEUE_URL" in text and "Back-off restarting" in text


def test_job_pods_fold_into_their_cronjob() -> None:
    document = cases.crash_loop(True)
    cron = cases.owned("CronJob", "nightly", "jobs")
    job = cases.owned("Job", "nightly-2900", "jobs", ("CronJob", "nightly"))
    document["objects"]["cronjobs"] = [cron]
    document["objects"]["jobs"] = [job]
    for pod in document["objects"]["pods"]:
        pod["metadata"]["ownerReferences"] = [
            {"apiVersion": "batch/v1", "kind": "Job", "name": "nightly-2900", "uid": "x", "controller": True}
        ]
    (finding,) = of(run(document), "pod.crash-loop")
    assert finding.object == "CronJob/jobs/nightly"


# -- events --------------------------------------------------------------------------------------


def test_events_of_an_earlier_object_with_the_same_name_do_not_count() -> None:
    document = cases.probe(True)
    for event in document["objects"]["events"]:
        event["involvedObject"]["uid"] = "an-earlier-pod"
    assert of(run(document), "pod.probe-failing") == []


def test_events_k8s_io_shape_is_read() -> None:
    document = cases.probe(True)
    (core,) = document["objects"]["events"]
    document["objects"]["events"] = [
        {
            "apiVersion": "events.k8s.io/v1",
            "kind": "Event",
            "metadata": {"name": core["metadata"]["name"], "namespace": "shop"},
            "regarding": core["involvedObject"],
            "reason": "Unhealthy",
            "note": core["message"],
            "type": "Warning",
            "eventTime": "2026-11-30T22:10:00.000000Z",
            "series": {"count": 30, "lastObservedTime": "2026-11-30T22:20:00.000000Z"},
            "reportingController": "kubelet",
        }
    ]
    (finding,) = of(run(document), "pod.probe-failing")
    assert any("x30" in line and "Readiness probe failed" in line for line in finding.evidence)


def test_old_events_still_count_not_only_the_latest() -> None:
    """k8sgpt#1752: the latest event for a claim is often the Normal ExternalProvisioning."""
    document = cases.storage_pvc_pending(True)
    for event in document["objects"]["events"]:
        if event["reason"] == "ProvisioningFailed":
            event["lastTimestamp"] = "2026-11-30T20:00:00Z"
    (finding,) = of(run(document), "storage.pvc-pending-provisioner")
    assert any("ProvisioningFailed" in line for line in finding.evidence)


# -- a kubectl List: no logs, no node images ------------------------------------------------------


def test_a_kubectl_list_is_judged_with_what_it_has() -> None:
    document = cases.image_not_in_cluster(True)
    items = [
        item for part in ("pods", "events", "nodes", "deployments", "replicasets") for item in document["objects"][part]
    ]
    report = analyse(load_snapshot(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}), "list"))
    (finding,) = of(report, "image.not-in-cluster")
    assert "kubectl" in " ".join(finding.fix.commands) or finding.fix.commands  # no environment: still a command
    assert {s.rule for s in report.skipped} >= {"dns.coredns-bind-denied", "service.no-endpoints"}


# -- odd objects -----------------------------------------------------------------------------------

ODD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.text(max_size=20),
    st.lists(st.text(max_size=5), max_size=3),
    st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3),
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for position, child in enumerate(value):
            found += _paths(child, (*prefix, position))
    return found


def _set(document: Any, path: tuple[Any, ...], value: Any) -> None:
    for key in path[:-1]:
        document = document[key]
    document[path[-1]] = value


ALL_BROKEN = [*sorted(cases.CASES), "pvc_chain"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=st.sampled_from(ALL_BROKEN), data=st.data())
def test_mutated_objects_never_crash_a_rule(case: str, data: st.DataObject) -> None:
    document = cases.pvc_chain() if case == "pvc_chain" else cases.CASES[case](True)
    objects = document["objects"]
    paths = [("objects", *p) for p in _paths(objects) if len(p) > 2]
    for _ in range(data.draw(st.integers(min_value=1, max_value=6))):
        path = data.draw(st.sampled_from(paths))
        try:
            _set(document, path, data.draw(ODD_VALUES))
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed the parent
    try:
        snapshot = load_snapshot(json.dumps(document), "mutated")
    except Exception as exc:  # the loader may refuse the file: only as InvalidInput
        from kenv.errors import InvalidInput

        assert isinstance(exc, InvalidInput)
        return
    report = analyse(snapshot)
    assert [f for f in report.findings if f.rule == "doctor.rule-crashed"] == []
    json.dumps(report.to_dict())


def test_a_snapshot_of_nothing_gives_nothing() -> None:
    report = analyse(load_snapshot(json.dumps({"schema": cases.SCHEMA, "objects": {}}), "empty"))
    assert report.findings == ()
    assert {s.rule for s in report.skipped} >= {"dns.app-dns-failure"}


def test_fixture_documents_are_not_shared_between_calls() -> None:
    first = cases.dns(True)
    second = copy.deepcopy(first)
    first["objects"]["pods"].clear()
    assert second["objects"]["pods"]


def test_registry_unreachable_outside_kenv_names_the_tools_own_settings() -> None:
    document = cases.image_registry_unreachable(True)
    document["environment"] = None
    (finding,) = of(run(document), "image.registry-unreachable")
    assert "registries.yaml" in finding.fix.summary
    assert "k3d image import postgres:16-alpine -c dev" in finding.fix.commands


def test_a_scheduled_pod_with_old_failed_scheduling_events_is_not_unschedulable() -> None:
    document = cases.unschedulable(True)
    for pod in document["objects"]["pods"]:
        pod["status"]["conditions"] = [{"type": "PodScheduled", "status": "True"}]
    assert of(run(document), "pod.unschedulable") == []


def test_huge_strings_are_judged_quickly_and_quoted_short() -> None:
    import time

    document = cases.image_not_in_cluster(True)
    huge = "a" * 10_000_000
    for pod in document["objects"]["pods"]:
        pod["spec"]["containers"][0]["image"] = huge
        pod["status"]["containerStatuses"][0]["state"]["waiting"]["message"] = huge
    document["objects"]["configmaps"] = [
        {
            "kind": "ConfigMap",
            "metadata": {"name": "big", "namespace": "shop"},
            "data": {"x.sh": "#!/bin/sh\r\n" * 100_000},
        }
    ]
    started = time.perf_counter()
    report = run(document)
    assert time.perf_counter() - started < 10
    for finding in report.findings:
        assert all(len(line) <= 400 for line in finding.evidence)
        assert len(finding.summary) <= 1000
        assert all(len(command) <= 4000 for command in finding.fix.commands)
    assert of(report, "script.crlf")


def test_a_job_whose_spec_is_null_does_not_crash_the_digest_rule() -> None:
    """Found by the mutation test above: `spec: null` on the Job whose pod pins a missing digest."""
    document = cases.CASES["image.digest-not-found"](True)
    jobs = document["objects"].get("jobs") or []
    assert jobs, "the case holds the Job the rule's fix recreates"
    jobs[0]["spec"] = None
    report = analyse(load_snapshot(json.dumps(document), "mutated"))
    assert [f for f in report.findings if f.rule == "doctor.rule-crashed"] == []
