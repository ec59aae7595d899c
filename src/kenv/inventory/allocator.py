"""Allocation against the inventory: what the machine and the records already hold, the
choice of free ports and subnets for a new environment, and the checks of values a user chose.

The choices are made inside the caller's write transaction (see repository.Inventory.register),
so two kenv processes never pick the same value.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from kenv.catalogue import facts_for
from kenv.errors import Conflict, InvalidInput
from kenv.inventory.allocation import lowest_free_port, lowest_free_subnet
from kenv.inventory.model import PORT_PURPOSES
from kenv.inventory.validation import AUTO, Auto, EnvironmentSpec, PortChoice
from kenv.settings import PortRange, Settings


class DockerNetworkLike(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def subnets(self) -> tuple[ipaddress.IPv4Network, ...]: ...


class HostProbe(Protocol):
    """What allocation needs to know about the machine (implemented in kenv.runtime)."""

    def port_is_free(self, port: int) -> bool: ...

    def docker_networks(self) -> Iterable[DockerNetworkLike] | None: ...


class NoHostChecks:
    """For records of clusters that already exist: their own ports are bound, by them."""

    def port_is_free(self, port: int) -> bool:
        del port
        return True

    def docker_networks(self) -> None:
        return None


@dataclass(frozen=True)
class AllocationPolicy:
    port_ranges: Mapping[str, PortRange]
    subnet_pool: ipaddress.IPv4Network
    subnet_prefix: int

    @classmethod
    def from_settings(cls, settings: Settings) -> AllocationPolicy:
        return cls(
            port_ranges={p: settings.port_range(p) for p in PORT_PURPOSES},
            subnet_pool=settings.subnet_pool,
            subnet_prefix=settings.subnet_prefix,
        )


def choose_ports(
    spec: EnvironmentSpec, policy: AllocationPolicy, holders: Mapping[int, tuple[str, str]], host: HostProbe
) -> dict[str, int]:
    """Ports the user chose (checked free), then the lowest free one for each AUTO purpose."""
    choices: dict[str, PortChoice] = spec.port_choices()
    chosen: dict[str, int] = {}
    for purpose, choice in choices.items():
        if isinstance(choice, int):
            check_port_free(choice, purpose, holders, host)
            chosen[purpose] = choice
    for purpose, choice in choices.items():
        if isinstance(choice, Auto):
            port_range = policy.port_ranges[purpose]
            taken = set(holders) | set(chosen.values())
            port = lowest_free_port(port_range, taken, host.port_is_free)
            if port is None:
                raise InvalidInput(
                    f"no free {purpose} port left in {purpose}_port_range {port_range}",
                    hint=f"widen {purpose}_port_range or unregister environments you no longer use",
                )
            chosen[purpose] = port
    return chosen


def choose_subnet(
    spec: EnvironmentSpec,
    policy: AllocationPolicy,
    held: list[tuple[str, ipaddress.IPv4Network]],
    docker: list[DockerNetworkLike],
) -> ipaddress.IPv4Network | None:
    """The user's subnet (checked free), the lowest free block of the pool for AUTO, or none."""
    if spec.subnet is None:
        return None
    if isinstance(spec.subnet, ipaddress.IPv4Network):
        check_subnet_free(spec.subnet, held, docker)
        return spec.subnet
    taken = [net for _, net in held] + [net for d in docker for net in d.subnets]
    subnet = lowest_free_subnet(policy.subnet_pool, policy.subnet_prefix, taken)
    if subnet is None:
        raise InvalidInput(
            f"no free /{policy.subnet_prefix} subnet left in subnet_pool {policy.subnet_pool}",
            hint="widen subnet_pool or unregister environments you no longer use",
        )
    return subnet


def check_port_free(port: int, purpose: str, holders: Mapping[int, tuple[str, str]], host: HostProbe) -> None:
    if port in holders:
        holder, held_as = holders[port]
        raise Conflict(
            f"port {port} is already used by environment {holder!r} ({held_as}_port)",
            hint=f"choose another {purpose} port or use auto",
        )
    if not host.port_is_free(port):
        raise Conflict(
            f"port {port} is in use by another process on this machine",
            hint=f"stop that process, choose another {purpose} port, or use auto",
        )


def check_subnet_free(
    subnet: ipaddress.IPv4Network,
    held: list[tuple[str, ipaddress.IPv4Network]],
    docker: list[DockerNetworkLike],
    *,
    ignore: str | None = None,
) -> None:
    for holder, network in held:
        if holder != ignore and network.overlaps(subnet):
            raise Conflict(
                f"subnet {subnet} overlaps {network} of environment {holder!r}",
                hint="choose another subnet or use auto",
            )
    for net in docker:
        for existing in net.subnets:
            if existing.overlaps(subnet):
                raise Conflict(
                    f"subnet {subnet} overlaps Docker network {net.name!r} ({existing})",
                    hint="choose another subnet, use auto, or remove that Docker network",
                )


def ensure_ports_spec(
    spec_ports: Mapping[str, PortChoice], provider: str, nodes: int = 1
) -> tuple[tuple[str, PortChoice], ...]:
    """Fill purposes the caller left out with what the provider can publish (catalogue): AUTO
    where kenv chooses a host port, none where the tool cannot publish one (an adopted cluster,
    minikube's API, minikube's ingress on a multi-node profile)."""
    facts = facts_for(provider)

    def default(purpose: str) -> PortChoice:
        if not facts.managed:
            return None
        if purpose == "api":
            return AUTO if facts.api_port_on_host else None
        if purpose in ("http", "https"):
            publishable = facts.publishes_ingress_ports and (nodes <= 1 or facts.host_ports_with_agents)
            return AUTO if publishable else None
        return AUTO

    return tuple((p, spec_ports[p] if p in spec_ports else default(p)) for p in PORT_PURPOSES)
