"""The engine: rules that crash or lack their input, cause links, ids, and the -o json contract."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from kenv.doctor import engine
from kenv.doctor.engine import RULE_CRASHED, analyse, link, select_rules
from kenv.doctor.findings import SCHEMA, Finding, Fix, clip, object_ref
from kenv.doctor.index import Index
from kenv.doctor.rules import Rule
from kenv.doctor.snapshot import build_snapshot
from kenv.errors import InvalidInput


def finding(rule: str, obj: str, severity: str = "error", **kwargs: object) -> Finding:
    return Finding(rule=rule, severity=severity, object=obj, summary=f"{rule} on {obj}", **kwargs)  # type: ignore[arg-type]


def test_object_refs_keep_the_empty_namespace_of_cluster_scoped_objects() -> None:
    assert object_ref("Namespace", None, "stuck-ns") == "Namespace//stuck-ns"
    assert object_ref("Pod", "shop", "web-1") == "Pod/shop/web-1"


def test_a_crashing_rule_becomes_a_finding_and_the_others_still_run() -> None:
    def boom(index: Index) -> Iterator[Finding]:
        raise KeyError("status")
        yield  # pragma: no cover

    def fine(index: Index) -> Iterator[Finding]:
        yield finding("test.fine", "Pod/a/b")

    rules = [
        Rule("test.boom", "error", "s", "d", "b", "g", boom),
        Rule("test.fine", "warning", "s", "d", "b", "g", fine),
    ]
    report = analyse(build_snapshot(objects={}), rules)
    crashed = [f for f in report.findings if f.rule == RULE_CRASHED]
    assert len(crashed) == 1
    assert crashed[0].object == "Rule//test.boom"
    assert "KeyError" in crashed[0].summary
    assert [f.rule for f in report.findings if f.rule != RULE_CRASHED] == ["test.fine"]


def test_a_rule_whose_part_is_missing_is_skipped() -> None:
    called = []

    def needs_logs(index: Index) -> Iterator[Finding]:
        called.append(True)
        return iter(())

    rule = Rule("test.logs", "error", "s", "d", "b", "g", needs_logs, needs=("logs",))
    report = analyse(build_snapshot(objects={"pods": []}), [rule])
    assert called == []
    assert [s.to_dict() for s in report.skipped] == [{"rule": "test.logs", "needs": ["logs"]}]
    report = analyse(build_snapshot(objects={"pods": []}, logs=[]), [rule])
    assert called == [True] and report.skipped == ()


def test_suspects_link_to_the_finding_that_holds_them_and_symptoms_fold_up() -> None:
    cause = finding("a.cause", "Deployment/kube-system/coredns", "critical", symptoms=("Pod/kube-system/coredns-1",))
    effect = finding("b.effect", "Deployment/app/web", suspects=("Pod/kube-system/coredns-1",))
    linked = link([effect, cause])
    assert [f.rule for f in linked] == ["a.cause", "b.effect"]
    assert linked[1].caused_by == linked[0].id
    assert "Deployment/app/web" in linked[0].symptoms


def test_links_never_close_a_loop() -> None:
    one = finding("a.one", "Pod/x/one", suspects=("Pod/x/two",))
    two = finding("b.two", "Pod/x/two", suspects=("Pod/x/one",))
    linked = link([one, two])
    assert len(linked) == 2
    assert sum(1 for f in linked if f.caused_by is None) == 1


def test_a_cause_that_was_not_run_leaves_no_dangling_link() -> None:
    (alone,) = link([finding("b.effect", "Pod/x/y", caused_by="not.there@Pod/x/z")])
    assert alone.caused_by is None


def test_two_findings_of_one_rule_on_one_object_get_distinct_ids() -> None:
    linked = link([finding("image.x", "Deployment/a/b"), finding("image.x", "Deployment/a/b")])
    assert len({f.id for f in linked}) == 2


def test_unknown_rule_is_refused_with_the_known_ones() -> None:
    with pytest.raises(InvalidInput, match=r"unknown rule nope\.nothing") as caught:
        select_rules(["nope.nothing"])
    assert "image.not-in-cluster" in caught.value.one_line()
    assert [r.id for r in select_rules(["pod.crash-loop"])] == ["pod.crash-loop"]


def test_evidence_is_cut_and_shows_carriage_returns() -> None:
    assert clip("a\r\nb") == "a\\r b"
    assert len(clip("x" * 10_000_000)) == 400
    many = finding("a.b", "Pod/a/b", evidence=tuple(str(i) for i in range(30)))
    assert len(many.evidence) == 13 and many.evidence[-1] == "... and 18 more"


def test_json_contract_is_pinned() -> None:
    report = engine.Report(
        findings=(
            finding(
                "a.b",
                "Namespace//stuck-ns",
                evidence=("e",),
                fix=Fix("do it", ("kubectl x",), "high", True),
                symptoms=("Pod/stuck-ns/p",),
            ),
        ),
        skipped=(),
        rules=("a.b",),
    )
    data = json.loads(json.dumps(report.to_dict()))
    assert data == {
        "schema": SCHEMA,
        "findings": [
            {
                "id": "a.b@Namespace//stuck-ns",
                "rule": "a.b",
                "severity": "error",
                "object": "Namespace//stuck-ns",
                "summary": "a.b on Namespace//stuck-ns",
                "evidence": ["e"],
                "fix": {"summary": "do it", "commands": ["kubectl x"], "risk": "high", "automatic": True},
                "caused_by": None,
                "symptoms": ["Pod/stuck-ns/p"],
            }
        ],
        "skipped": [],
    }
    assert SCHEMA == "kenv.doctor/v1"


def test_fail_on_threshold() -> None:
    report = engine.Report((finding("a.b", "Pod/a/b", "warning"),), (), ())
    assert report.fails("info") and report.fails("warning")
    assert not report.fails("error") and not report.fails("critical")


def test_ten_thousand_findings_link_in_linear_time() -> None:
    import time

    many = [finding("r.x", f"Pod/ns/p{i}", suspects=(f"Pod/ns/p{i + 1}",)) for i in range(10_000)]
    started = time.perf_counter()
    linked = link(many)
    assert len(linked) == 10_000
    assert time.perf_counter() - started < 5


def test_severity_colour_only_on_a_terminal_without_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from kenv.cli import doctor_render

    assert "\x1b[" in doctor_render._severity("critical", True)
    assert doctor_render._severity("critical", False) == "CRITICAL"
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert doctor_render._colour()
    monkeypatch.setenv("NO_COLOR", "1")
    assert not doctor_render._colour()
