"""Fix planning per fix kind: the diff a person reads, the exact kubectl calls, the risk, and
which findings kenv applies itself. Snapshots are the rule fixtures, read through the real loader."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kenv.doctor.engine import Report, all_rules, analyse
from kenv.doctor.fixes import PlannedFix, plan_fix, planners
from kenv.doctor.index import Index
from kenv.doctor.snapshot import load_snapshot
from tests.doctor_cases import load_rule_cases

cases: Any = load_rule_cases("doctor_rule_cases_fixes")


def planned(document: dict[str, Any], rule: str) -> tuple[PlannedFix, Report]:
    snapshot = load_snapshot(json.dumps(document), "fixture")
    report = analyse(snapshot)
    index = Index(snapshot)
    (finding,) = [f for f in report.findings if f.rule == rule]
    plan = plan_fix(finding, index)
    assert plan is not None
    assert plan.finding == finding.id and plan.object == finding.object
    return plan, report


@pytest.mark.parametrize("rule_id", sorted(cases.CASES))
def test_automatic_exactly_when_kenv_has_a_planner(rule_id: str) -> None:
    snapshot = load_snapshot(json.dumps(cases.CASES[rule_id](True)), "fixture")
    index = Index(snapshot)
    for finding in analyse(snapshot).findings:
        if finding.rule != rule_id:
            continue
        plan = plan_fix(finding, index)
        if finding.fix.automatic:
            assert plan is not None and plan.automatic and plan.steps, finding.id
        else:
            assert plan is None or not plan.automatic, finding.id


def test_every_planner_belongs_to_a_rule() -> None:
    assert set(planners()) <= {rule.id for rule in all_rules()}


def test_import_plan_syncs_the_image_then_restarts_the_deployment() -> None:
    plan, _ = planned(cases.image_not_in_cluster(True), "image.not-in-cluster")
    assert (plan.kind, plan.risk, plan.automatic) == ("import-image", "low", True)
    sync, restart = plan.steps
    assert sync.images == ("myapp:1.0",) and sync.command("dev") == "kenv images sync dev myapp:1.0"
    assert restart.kubectl == ("-n", "shop", "rollout", "restart", "deployment/web")
    assert plan.diff[0].startswith("images in the nodes of dev: + myapp:1.0")


def test_a_pod_nothing_owns_is_recreated_not_deleted() -> None:
    plan, _ = planned(cases.image_never_pull(True), "image.never-pull")
    *_, restart = plan.steps
    assert restart.kubectl == ("-n", "default", "replace", "--force", "-f", "-")
    sent = json.loads(restart.stdin or "")
    assert sent["metadata"]["name"] == "tool" and "uid" not in sent["metadata"] and "status" not in sent


def test_a_jobs_pod_is_deleted_for_the_job_to_make_again() -> None:
    plan, _ = planned(cases.crlf(True), "script.crlf")
    assert plan.steps[-1].kubectl == ("-n", "saas-shortener", "delete", "pod", "installer-abcde")


def test_mirror_change_is_shown_never_applied() -> None:
    plan, _ = planned(cases.image_registry_unreachable(True), "image.registry-unreachable")
    assert (plan.kind, plan.automatic, plan.steps) == ("mirror-config", False, ())
    assert "  [images]" in plan.diff
    assert any('mirrors = {"docker.io" = [' in line for line in plan.diff)
    assert any(line.endswith("kenv images mirrors show dev") for line in plan.diff)


def digest_deployment(broken: bool = True) -> dict[str, Any]:
    document = cases.image_digest_not_found(broken)
    pod = document["objects"]["pods"][0]
    pod["metadata"]["ownerReferences"][0].update(kind="ReplicaSet", name="certgen-5d9")
    rs = cases.owned("ReplicaSet", "certgen-5d9", "ingress-nginx", ("Deployment", "certgen"))
    deployment = cases.owned("Deployment", "certgen", "ingress-nginx")
    document["objects"]["jobs"] = []
    document["objects"]["replicasets"] = [rs]
    document["objects"]["deployments"] = [deployment]
    return document


def test_digest_on_a_deployment_is_a_guarded_json_patch() -> None:
    plan, _ = planned(digest_deployment(), "image.digest-not-found")
    assert (plan.kind, plan.risk) == ("replace-digest", "medium")
    (step,) = plan.steps
    assert step.kubectl[:6] == ("-n", "ingress-nginx", "patch", "deployment", "certgen", "--type=json")
    patch = json.loads(step.kubectl[-1])
    path = "/spec/template/spec/containers/0/image"
    assert patch == [
        {"op": "test", "path": path, "value": cases.DIGEST_REF},
        {"op": "replace", "path": path, "value": cases.DIGEST_REF.split("@")[0]},
    ]
    assert plan.diff[0].endswith(
        f"containers[0] (create).image: {cases.DIGEST_REF} -> {cases.DIGEST_REF.split('@')[0]}"
    )


def test_digest_fix_shown_is_the_patch_fix_applies() -> None:
    import shlex

    from kenv.doctor.rules._common import kubectl

    document = digest_deployment()
    plan, report = planned(document, "image.digest-not-found")
    (finding,) = [f for f in report.findings if f.rule == "image.digest-not-found"]
    (step,) = plan.steps
    prefix = kubectl(Index(load_snapshot(json.dumps(document), "fixture")))
    assert finding.fix.commands[0] == f"{prefix} {shlex.join(step.kubectl)}"
    assert '--type=json -p \'[{"op": "test"' in finding.fix.commands[0]
    assert not any(" set image " in command for command in finding.fix.commands)


def test_digest_on_a_job_recreates_it_without_what_the_api_generated() -> None:
    document = cases.image_digest_not_found(True)
    job = document["objects"]["jobs"][0]
    generated = {"batch.kubernetes.io/controller-uid": "abc", "controller-uid": "abc", "job-name": "x"}
    job["metadata"].update(resourceVersion="42", creationTimestamp=cases.T0, labels=dict(generated))
    job["spec"] = {
        "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "abc"}},
        "template": {
            "metadata": {"labels": dict(generated)},
            "spec": {"containers": [{"name": "create", "image": cases.DIGEST_REF}], "restartPolicy": "OnFailure"},
        },
    }
    job["status"] = {"failed": 1}
    plan, _ = planned(document, "image.digest-not-found")
    (step,) = plan.steps
    assert step.kubectl == ("-n", "ingress-nginx", "replace", "--force", "-f", "-")
    sent = json.loads(step.stdin or "")
    assert "selector" not in sent["spec"] and "status" not in sent
    assert not {"uid", "resourceVersion", "creationTimestamp"} & set(sent["metadata"])
    for labels in (sent["metadata"]["labels"], sent["spec"]["template"]["metadata"]["labels"]):
        assert labels == {"job-name": "x"}
    assert sent["spec"]["template"]["spec"]["containers"][0]["image"] == cases.DIGEST_REF.split("@")[0]
    assert any("without metadata.uid" in line and "spec.selector" in line for line in plan.diff)


def test_coredns_gets_net_bind_service_and_a_restart() -> None:
    plan, _ = planned(cases.dns(True), "dns.coredns-bind-denied")
    patch_step, restart = plan.steps
    assert patch_step.kubectl[:5] == ("-n", "kube-system", "patch", "deployment", "coredns")
    assert json.loads(patch_step.kubectl[-1]) == [
        {
            "op": "add",
            "path": "/spec/template/spec/containers/0/securityContext/capabilities/add",
            "value": ["NET_BIND_SERVICE"],
        }
    ]
    assert restart.kubectl == ("-n", "kube-system", "rollout", "restart", "deployment/coredns")
    assert plan.diff[0].endswith("securityContext.capabilities.add: [] -> ['NET_BIND_SERVICE']")
    assert plan.risk == "medium"


def test_coredns_without_a_security_context_gets_one() -> None:
    from kenv.doctor.fixes.coredns import bind_patch

    patch, _ = bind_patch({"name": "coredns"}, "/b")
    assert patch == [{"op": "add", "path": "/b", "value": {"capabilities": {"add": ["NET_BIND_SERVICE"]}}}]
    patch, lines = bind_patch({"securityContext": {"capabilities": {"add": ["NET_BIND_SERVICE"]}}}, "/b")
    assert [p["path"] for p in patch] == ["/b/capabilities/drop", "/b/runAsUser", "/b/runAsNonRoot"]
    assert "securityContext.runAsUser: (unset) -> 0" in lines


def test_crlf_converts_only_the_scripts_and_restarts_the_crashing_pod() -> None:
    plan, _ = planned(cases.crlf(True), "script.crlf")
    write, restart = plan.steps
    assert write.kubectl == ("-n", "saas-shortener", "replace", "-f", "-")
    sent = json.loads(write.stdin or "")
    assert sent["data"]["install.sh"] == "#!/bin/sh\nset -e\necho installing\n"
    assert sent["data"]["README"] == "notes\r\nmore\r\n"  # not a script: left alone
    assert restart.kubectl == ("-n", "saas-shortener", "delete", "pod", "installer-abcde")
    assert plan.diff[0] == "ConfigMap saas-shortener/install-scripts data['install.sh']: 3 line end(s) \\r\\n -> \\n"
    assert plan.risk == "low"


def test_namespace_finalizers_are_high_risk_through_the_finalize_subresource() -> None:
    plan, report = planned(cases.namespace_stuck(True), "namespace.stuck-terminating")
    assert (plan.risk, plan.automatic) == ("high", True)
    (step,) = plan.steps
    assert step.kubectl == ("replace", "--raw", "/api/v1/namespaces/saas-shortener/finalize", "-f", "-")
    assert json.loads(step.stdin or "")["spec"]["finalizers"] == []
    finding = next(f for f in report.findings if f.rule == "namespace.stuck-terminating")
    assert all(f"  {line}" in plan.diff for line in finding.evidence)  # what blocks it, listed first
    assert "spec.finalizers: ['kubernetes'] -> []" in " ".join(plan.diff)


def test_rules_without_a_planner_get_none() -> None:
    snapshot = load_snapshot(json.dumps(cases.oom(True)), "fixture")
    (finding,) = [f for f in analyse(snapshot).findings if f.rule == "pod.oom-killed"]
    assert plan_fix(finding, Index(snapshot)) is None


def test_an_applied_fix_still_found_is_not_fixed_and_one_gone_is_fixed() -> None:
    from kenv.workflows.doctor_fix import APPLIED, DECLINED, FIXED, NOT_FIXED, Outcome, judge

    plan, broken = planned(cases.crlf(True), "script.crlf")
    healthy = analyse(load_snapshot(json.dumps(cases.crlf(False)), "fixture"))
    (still,) = judge([Outcome(plan, APPLIED)], broken)
    assert still.state == NOT_FIXED and still.detail.startswith("still found: ConfigMap install-scripts holds")
    (done,) = judge([Outcome(plan, APPLIED)], healthy)
    assert (done.state, done.detail) == (FIXED, "")
    (kept,) = judge([Outcome(plan, DECLINED)], healthy)
    assert kept.state == DECLINED
    assert done.to_dict("dev")["outcome"] == "fixed" and done.to_dict("dev")["steps"][0]["command"].startswith(
        "kubectl -n saas-shortener replace -f -"
    )
