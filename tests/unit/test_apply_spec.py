"""apply's pure parts: reading the file (each entry and the entries against each other), the
difference between an entry and its record, and the action each entry gets."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from kenv.errors import InvalidInput
from kenv.inventory.model import Environment
from kenv.inventory.validation import AUTO
from kenv.workflows.apply import Desired, diff, not_listed, parse_desired, plan_entries, recreate_spec
from tests.unit.scripted_runner import record as base_record


def parse(text: str) -> list[Desired]:
    return parse_desired(text, "fleet.yaml", default_provider="k3d", default_node_port=30080)


def one(text: str) -> Desired:
    [item] = parse(text)
    return item


def record(**changes: Any) -> Environment:
    return base_record(**{"labels": {"team": "a"}, **changes})


# -- reading --------------------------------------------------------------------------------------


def test_a_list_or_an_environments_mapping_is_read_with_what_was_said_on_purpose() -> None:
    items = parse("environments:\n  - name: dev\n  - name: qa\n    provider: kind\n    http_port: 18080\n")
    assert [d.spec.name for d in items] == ["dev", "qa"]
    assert items[0].explicit == frozenset()
    assert items[1].explicit == {"provider", "http_port"}
    qa = dict(items[1].spec.ports)
    assert qa["http"] == 18080 and qa["https"] is AUTO
    assert items[1].spec.subnet is None, "kind has no subnet of its own"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: dev\n", "expected a list of environments"),
        ("- dev\n", "environments[0]: expected a mapping"),
        ("- name: dev\n  colour: blue\n", "unknown field(s) colour"),
        ("- name: dev\n  agents: many\n", "environments[0]: agents must be a whole number"),
        ("- name: dev\n  labels: [a]\n", "labels must be a mapping"),
        ("- name: dev\n- name: dev\n", "environments[1]: 'dev' is listed twice"),
        ("- name: [x\n", "not valid YAML"),
        (
            "- name: a\n  http_port: 18300\n- name: b\n  http_port: 18300\n",
            "environments[1] (b): http_port 18300 is also http_port of environments[0] (a)",
        ),
        (
            "- name: a\n  api_port: 18300\n- name: b\n  pf_port: 18300\n",
            "pf_port 18300 is also api_port of environments[0] (a)",
        ),
        (
            "- name: a\n  subnet: 10.240.0.0/16\n- name: b\n  subnet: 10.240.3.0/24\n",
            "subnet 10.240.3.0/24 overlaps 10.240.0.0/16 of environments[0] (a)",
        ),
    ],
)
def test_a_bad_file_is_refused_whole(text: str, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse(text)
    assert message in caught.value.one_line()
    assert caught.value.exit_code == 2


def test_auto_ports_and_subnets_never_clash() -> None:
    assert len(parse("- name: a\n- name: b\n  subnet: auto\n  http_port: auto\n")) == 2


# -- difference with the record -------------------------------------------------------------------


def test_only_what_the_file_says_on_purpose_is_compared() -> None:
    assert diff(record(agents=2, provider="k3d"), one("- name: dev\n")) == []
    assert diff(record(), one("- name: dev\n  subnet: auto\n  http_port: auto\n")) == []


def test_each_differing_field_says_whether_it_changes_in_place() -> None:
    item = one(
        "- name: dev\n  agents: 1\n  http_port: 18080\n  k8s_version: v1.30.0-k3s1\n  labels: {team: b}\n"
        "  subnet: 10.201.0.0/24\n"
    )
    changes = {c.field: (c.recorded, c.desired, c.in_place) for c in diff(record(), item)}
    assert changes == {
        "agents": (0, 1, False),
        "http_port": (18000, 18080, False),
        "k8s_version": (None, "v1.30.0-k3s1", False),
        "labels": ({"team": "a"}, {"team": "b"}, True),
        "subnet": ("10.200.0.0/24", "10.201.0.0/24", False),
    }


def test_asking_for_no_port_where_one_is_held_is_a_difference() -> None:
    [change] = diff(record(), one("- name: dev\n  pf_port: none\n"))
    assert (change.field, change.recorded, change.desired) == ("pf_port", 19000, None)


def test_a_provider_change_is_a_difference() -> None:
    changes = diff(record(), one("- name: dev\n  provider: kind\n"))
    assert [(c.field, c.desired, c.in_place) for c in changes] == [("provider", "kind", False)]


# -- actions --------------------------------------------------------------------------------------


def test_each_entry_gets_its_action() -> None:
    desired = parse(
        "- name: new\n- name: same\n- name: labelled\n  labels: {team: b}\n- name: bigger\n  agents: 2\n"
        "- name: broken\n"
    )
    existing = {
        "same": record(name="same"),
        "labelled": record(name="labelled"),
        "bigger": record(name="bigger"),
        "broken": record(name="broken", status="failed"),
    }
    plain = {e.name: e.action for e in plan_entries(existing, desired, recreate=False)}
    assert plain == {
        "new": "create",
        "same": "none",
        "labelled": "update",
        "bigger": "needs-recreate",
        "broken": "resume",
    }
    forced = {e.name: e.action for e in plan_entries(existing, desired, recreate=True)}
    assert forced["bigger"] == "recreate" and forced["labelled"] == "update"


def test_a_needs_recreate_entry_still_changes_its_labels_in_place() -> None:
    [entry] = plan_entries({"dev": record()}, parse("- name: dev\n  agents: 1\n  labels: {team: b}\n"), recreate=False)
    assert entry.action == "needs-recreate"
    assert [c.field for c in entry.in_place] == ["labels"]
    assert [c.field for c in entry.recreate_fields] == ["agents"]


def test_not_listed_leaves_out_the_management_cluster() -> None:
    existing = {
        "dev": record(),
        "old": record(name="old"),
        "devops": record(name="devops", role="management"),
    }
    assert not_listed(existing, parse("- name: dev\n")) == ["old"]


# -- recreating -----------------------------------------------------------------------------------


def test_a_recreate_keeps_what_the_file_leaves_out_including_held_ports_and_subnet() -> None:
    env = record(agents=0, k8s_version="v1.31.5-k3s1", labels={"team": "a"})
    spec = recreate_spec(env, one("- name: dev\n  agents: 2\n"))
    assert (spec.provider, spec.agents, spec.k8s_version) == ("k3d", 2, "v1.31.5-k3s1")
    assert dict(spec.ports) == env.ports
    assert spec.subnet == env.subnet
    assert dict(spec.labels) == {"team": "a"}


def test_a_recreate_takes_what_the_file_says() -> None:
    spec = recreate_spec(record(), one("- name: dev\n  http_port: 18080\n  subnet: auto\n  labels: {x: y}\n"))
    ports = dict(spec.ports)
    assert ports["http"] == 18080 and ports["https"] == 18500
    assert spec.subnet == ipaddress.IPv4Network("10.200.0.0/24"), "auto accepts the subnet it holds"
    assert dict(spec.labels) == {"x": "y"}


def test_a_recreate_on_another_provider_drops_what_that_provider_cannot_have() -> None:
    spec = recreate_spec(record(), one("- name: dev\n  provider: minikube\n"))
    ports = dict(spec.ports)
    assert spec.provider == "minikube" and ports["api"] is None, "minikube's API is not a host port"
    assert ports["http"] == 18000
    kind = recreate_spec(record(), one("- name: dev\n  provider: kind\n"))
    assert kind.subnet is None, "kind has no subnet of its own"
