"""The predecessor's environments.csv: what parses, what is refused (with the line), and rendering."""

from __future__ import annotations

import ipaddress

import pytest

from kenv.errors import InvalidInput
from kenv.inventory.csv_format import parse_csv

PREDECESSOR_CSV = """\
# env,provider,node_port,pf_port,register_portainer,haproxy_route,http_port,https_port,cluster_subnet
devops,k3d,30800,19000,false,false,23800,23843,
dev,k3d,30080,19001,true,true,18090,18443,10.101.0.0/16

# kind clusters share one network
dev-a,kind,30081,19011,1,0,18093,18446,
"""


def test_the_predecessor_file_parses() -> None:
    rows = parse_csv(PREDECESSOR_CSV, "environments.csv")
    assert [r.name for r in rows] == ["devops", "dev", "dev-a"]
    dev = rows[1]
    assert dev.line == 3
    assert dev.subnet == ipaddress.IPv4Network("10.101.0.0/16")
    assert dev.ports() == {"http": 18090, "https": 18443, "pf": 19001}
    assert rows[2].register_portainer is True
    assert rows[2].haproxy_route is False
    assert rows[2].subnet is None


def test_eight_column_files_without_subnet_parse() -> None:
    text = (
        "# env,provider,node_port,pf_port,register_portainer,haproxy_route,http_port,https_port\n"
        "dev,kind,30080,19001,true,true,18090,18443\n"
    )
    assert parse_csv(text, "f")[0].subnet is None


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ("dev,k3d,30080,19001,true,true,18090\n", "f:2: expected 9 columns"),
        ("dev,k3d,30080,abc,true,true,18090,18443,\n", "f:2: pf_port 'abc' is not a port number"),
        ("dev,k3d,30080,19001,maybe,true,18090,18443,\n", "f:2: register_portainer 'maybe' is not a boolean"),
        ("Dev,k3d,30080,19001,true,true,18090,18443,\n", "f:2: environment name 'Dev'"),
        ("dev,docker,30080,19001,true,true,18090,18443,\n", "f:2: unknown provider"),
        ("dev,k3d,30080,19001,true,true,18090,18443,10.1.0.1/16\n", "f:2: subnet '10.1.0.1/16' has host bits set"),
        ("dev,kind,30080,19001,true,true,18090,18443,10.1.0.0/16\n", "f:2: kind environments cannot have a subnet"),
        ("dev,k3d,30080,19001,true,true,18090,99999,\n", "f:2: https_port 99999 is out of range"),
        ("dev,k3d,80,19001,true,true,18090,18443,\n", "f:2: node port 80"),
        (
            "dev,k3d,30080,19001,true,true,18090,18443,\ndev,kind,30080,19002,true,true,18091,18444,\n",
            "f:3: environment 'dev' already appears on line 2",
        ),
        (
            "a,k3d,30080,19001,true,true,18090,18443,\nb,kind,30080,19002,true,true,18090,18444,\n",
            "f:3: port 18090 is also used on line 2",
        ),
    ],
)
def test_malformed_lines_are_refused_with_their_line_number(body: str, fragment: str) -> None:
    header = "# env,provider,node_port,pf_port,register_portainer,haproxy_route,http_port,https_port,cluster_subnet\n"
    with pytest.raises(InvalidInput) as caught:
        parse_csv(header + body, "f")
    assert fragment in caught.value.one_line()


def test_unknown_header_columns_are_refused() -> None:
    with pytest.raises(InvalidInput, match="unknown column"):
        parse_csv("# env,provider,colour\n", "f")


def test_an_uncommented_header_and_reordered_columns_are_understood() -> None:
    rows = parse_csv("env,http_port,provider\ndev,18090,kind\n", "f")
    assert rows[0].provider == "kind"
    assert rows[0].ports() == {"http": 18090}
    assert rows[0].node_port == 30080
