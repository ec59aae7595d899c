"""Allocation: lowest free value first, gaps reused, never a taken value (property-based)."""

from __future__ import annotations

import ipaddress

from hypothesis import given
from hypothesis import strategies as st

from kenv.inventory.allocation import lowest_free_port, lowest_free_subnet
from kenv.settings import PortRange

POOL = ipaddress.IPv4Network("10.200.0.0/16")


def test_lowest_free_port_reuses_gaps() -> None:
    assert lowest_free_port(PortRange(18000, 18010), {18000, 18001, 18003}) == 18002


def test_ports_bound_by_other_processes_are_skipped() -> None:
    assert lowest_free_port(PortRange(18000, 18010), set(), lambda p: p != 18000) == 18001


def test_exhausted_range_gives_none() -> None:
    assert lowest_free_port(PortRange(18000, 18001), {18000, 18001}) is None


@given(st.sets(st.integers(min_value=18000, max_value=18063)), st.sets(st.integers(min_value=18000, max_value=18063)))
def test_port_allocation_property(taken: set[int], busy: set[int]) -> None:
    port = lowest_free_port(PortRange(18000, 18063), taken, lambda p: p not in busy)
    free = [p for p in range(18000, 18064) if p not in taken and p not in busy]
    assert port == (free[0] if free else None)


def test_subnet_allocation_skips_taken_and_docker_networks() -> None:
    taken = [ipaddress.IPv4Network("10.200.0.0/24"), ipaddress.IPv4Network("10.200.1.0/25")]
    assert lowest_free_subnet(POOL, 24, taken) == ipaddress.IPv4Network("10.200.2.0/24")


def test_a_wide_docker_network_blocks_everything_it_covers() -> None:
    taken = [ipaddress.IPv4Network("10.200.0.0/20")]
    assert lowest_free_subnet(POOL, 24, taken) == ipaddress.IPv4Network("10.200.16.0/24")
    assert lowest_free_subnet(POOL, 24, [POOL]) is None


subnets = st.builds(
    lambda base, prefix: ipaddress.IPv4Network((base & ~((1 << (32 - prefix)) - 1), prefix)),
    st.integers(min_value=int(POOL.network_address) - 70000, max_value=int(POOL.broadcast_address) + 70000),
    st.integers(min_value=14, max_value=28),
)


@given(st.lists(subnets, max_size=30), st.integers(min_value=16, max_value=26))
def test_subnet_allocation_property(taken: list[ipaddress.IPv4Network], prefix: int) -> None:
    chosen = lowest_free_subnet(POOL, prefix, taken)
    candidates = [n for n in POOL.subnets(new_prefix=prefix) if not any(n.overlaps(t) for t in taken)]
    assert chosen == (candidates[0] if candidates else None)
