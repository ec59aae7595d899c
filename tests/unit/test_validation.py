"""Validation of names, ports, subnets and labels: what users type, accepted or refused clearly."""

from __future__ import annotations

import ipaddress
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kenv.errors import InvalidInput
from kenv.inventory.validation import (
    AUTO,
    NAME_MAX_LENGTH,
    EnvironmentSpec,
    check_host_port,
    check_spec,
    parse_cidr,
    parse_labels,
    parse_port_choice,
    parse_subnet_choice,
    validate_name,
)

DNS_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?")


@pytest.mark.parametrize("name", ["dev", "a", "dev-a", "x1", "a" * NAME_MAX_LENGTH, "0abc"])
def test_valid_names_are_accepted(name: str) -> None:
    assert validate_name(name) == name


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("", "empty"),
        ("Dev", "DNS-1123"),
        ("-dev", "DNS-1123"),
        ("dev-", "DNS-1123"),
        ("dev_a", "DNS-1123"),
        ("dev.a", "DNS-1123"),
        ("x'; DROP TABLE environments;--", "DNS-1123"),
        ("a" * (NAME_MAX_LENGTH + 1), "characters long"),
        ("dév", "DNS-1123"),
        ("devops", "reserved"),
    ],
)
def test_invalid_names_are_refused_with_a_reason(name: str, fragment: str) -> None:
    with pytest.raises(InvalidInput, match=fragment):
        validate_name(name)


def test_devops_is_allowed_for_the_management_role() -> None:
    assert validate_name("devops", role="management") == "devops"


@given(st.text(max_size=40))
def test_name_validation_agrees_with_the_dns_label_grammar(name: str) -> None:
    expected = bool(DNS_LABEL.fullmatch(name)) and len(name) <= NAME_MAX_LENGTH and name != "devops"
    try:
        validate_name(name)
    except InvalidInput as exc:
        assert not expected
        assert "\n" not in exc.one_line()
    else:
        assert expected


@pytest.mark.parametrize(("text", "expected"), [("auto", AUTO), ("AUTO", AUTO), ("none", None), ("18080", 18080)])
def test_port_choices_parse(text: str, expected: object) -> None:
    assert parse_port_choice(text, "http port") == expected


@pytest.mark.parametrize("text", ["abc", "-1", "1e3", "123456", "80.5", ""])
def test_malformed_port_choices_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput, match="not a port number"):
        parse_port_choice(text, "http port")


@given(st.integers(min_value=-100_000, max_value=100_000))
def test_host_port_range_is_enforced(port: int) -> None:
    try:
        check_host_port(port, "http port")
    except InvalidInput:
        assert not 1024 <= port <= 65535
    else:
        assert 1024 <= port <= 65535


def test_privileged_ports_need_the_flag() -> None:
    with pytest.raises(InvalidInput, match="privileged"):
        check_host_port(443, "https port")
    assert check_host_port(443, "https port", allow_privileged=True) == 443


def test_the_same_port_twice_is_refused() -> None:
    spec = EnvironmentSpec(name="dev", provider="k3d", ports=(("http", 18080), ("https", 18080)))
    with pytest.raises(InvalidInput, match="given twice"):
        check_spec(spec)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("10.200.0.1/24", "host bits set; did you mean 10.200.0.0/24"),
        ("10.200.0.0/33", "not a CIDR"),
        ("banana", "not a CIDR"),
        ("fd00::/64", "IPv6"),
        ("10.0.0.0/30", "prefix"),
        ("10.42.0.0/24", "in-cluster network 10.42.0.0/16"),
    ],
)
def test_bad_subnets_are_refused(text: str, fragment: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_subnet_choice(text, "k3d")
    assert fragment in caught.value.one_line()


def test_kind_has_no_subnet_of_its_own() -> None:
    assert parse_subnet_choice(None, "kind") is None
    with pytest.raises(InvalidInput, match="kind"):
        parse_subnet_choice("10.200.0.0/24", "kind")
    with pytest.raises(InvalidInput, match="kind"):
        parse_subnet_choice("auto", "kind")


def test_subnet_defaults_to_auto_for_k3d_and_minikube() -> None:
    assert parse_subnet_choice(None, "k3d") is AUTO
    assert parse_subnet_choice(None, "minikube") is AUTO
    assert parse_subnet_choice("10.200.7.0/24", "k3d") == ipaddress.IPv4Network("10.200.7.0/24")


@given(st.ip_addresses(v=4), st.integers(min_value=0, max_value=32))
def test_cidr_parsing_accepts_exactly_aligned_ipv4_networks(address: ipaddress.IPv4Address, prefix: int) -> None:
    text = f"{address}/{prefix}"
    try:
        network = parse_cidr(text)
    except InvalidInput as exc:
        aligned = ipaddress.ip_network(text, strict=False).network_address == address
        assert not (aligned and 8 <= prefix <= 28), exc
    else:
        assert network.prefixlen == prefix
        assert network.network_address == address


def test_labels() -> None:
    assert parse_labels(["team=payments", "tier=", "kenv.io/owner=ana"]) == {
        "team": "payments",
        "tier": "",
        "kenv.io/owner": "ana",
    }
    for bad in ["noequals", "bad key=x", "k=bad value", "k=" + "x" * 64]:
        with pytest.raises(InvalidInput):
            parse_labels([bad])
