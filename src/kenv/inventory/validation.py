"""Validation of user-supplied values. Pure: takes text, returns typed values or raises InvalidInput.

Name length: k3d refuses cluster names over 32 characters (types.DefaultClusterNameMaxLength,
so that `k3d-<name>-serverlb` and `k3d-<name>-agent-NN` stay within Docker's 64-character host
names); kind refuses over 50 (clusterNameMax, to leave room for `-control-plane`). kenv uses the
strictest limit, 32, for every provider so that an environment can move between providers and
its name also fits every name derived from it (`k3d-<name>`, `kind-<name>`, `be_<name>`,
`cluster-<name>`, `*.<name>.<base_domain>`).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from kenv.catalogue import PROVIDERS, facts_for
from kenv.errors import InvalidInput
from kenv.inventory.model import MANAGEMENT_NAME, ROLES

NAME_MAX_LENGTH = 32
_NAME_RE = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?")
_LABEL_KEY_RE = re.compile(r"([a-z0-9]([a-z0-9.-]*[a-z0-9])?/)?[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?")
_LABEL_VALUE_RE = re.compile(r"([A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)?")

NODE_PORT_RANGE = (30000, 32767)
PRIVILEGED_BELOW = 1024


def _no_subnet_hint(provider: str) -> str:
    network = facts_for(provider).network_name("NAME")
    if network:
        return f"{provider} clusters share Docker's {network!r} network; use --subnet none"
    return f"{provider} clusters have no Docker network kenv manages; use --subnet none"


class Auto:
    """Marker: kenv chooses the value."""

    _instance: Auto | None = None

    def __new__(cls) -> Auto:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "auto"


AUTO = Auto()
PortChoice = int | Auto | None
SubnetChoice = ipaddress.IPv4Network | Auto | None


def validate_name(name: str, *, role: str = "business") -> str:
    shown = name if len(name) <= 80 else name[:77] + "..."
    if not name:
        raise InvalidInput("environment name is empty", hint="use lowercase letters, digits and '-'")
    if len(name) > NAME_MAX_LENGTH:
        raise InvalidInput(
            f"environment name {shown!r} is {len(name)} characters long",
            hint=f"use at most {NAME_MAX_LENGTH} (k3d's limit, so every derived name stays valid)",
        )
    if not _NAME_RE.fullmatch(name):
        raise InvalidInput(
            f"environment name {shown!r} is not a DNS-1123 label",
            hint="use lowercase letters, digits and '-', starting and ending with a letter or digit",
        )
    if name == MANAGEMENT_NAME and role != "management":
        raise InvalidInput(
            f"the name {MANAGEMENT_NAME!r} is reserved for the management cluster",
            hint="choose another name, or use --role management",
        )
    return name


def validate_provider(provider: str) -> str:
    if provider not in PROVIDERS:
        raise InvalidInput(f"unknown provider {provider!r}", hint=f"use one of {', '.join(PROVIDERS)}")
    return provider


def validate_role(role: str) -> str:
    if role not in ROLES:
        raise InvalidInput(f"unknown role {role!r}", hint=f"use one of {', '.join(ROLES)}")
    return role


def parse_port_choice(text: str | int | None, what: str) -> PortChoice:
    """'auto' -> AUTO, 'none' -> None, digits -> int (range-checked later)."""
    if text is None:
        return AUTO
    if isinstance(text, int):
        return text
    value = text.strip().lower()
    if value == "auto":
        return AUTO
    if value == "none":
        return None
    if not value.isdigit() or len(value) > 5:
        raise InvalidInput(f"{what} {text!r} is not a port number", hint="give a number 1024-65535, 'auto' or 'none'")
    return int(value)


def check_host_port(port: int, what: str, *, allow_privileged: bool = False) -> int:
    if not 1 <= port <= 65535:
        raise InvalidInput(f"{what} {port} is out of range", hint="use 1024-65535")
    if port < PRIVILEGED_BELOW and not allow_privileged:
        raise InvalidInput(
            f"{what} {port} is a privileged port (< {PRIVILEGED_BELOW})",
            hint="use 1024-65535, or pass --allow-privileged-port if this machine lets you bind it",
        )
    return port


def check_node_port(port: int) -> int:
    low, high = NODE_PORT_RANGE
    if not low <= port <= high:
        raise InvalidInput(f"node port {port} is outside Kubernetes' NodePort range", hint=f"use {low}-{high}")
    return port


def parse_subnet_choice(text: str | None, provider: str) -> SubnetChoice:
    """'auto' / 'none' / a CIDR. kind and external environments have no subnet of their own."""
    has_own_network = facts_for(provider).has_subnet
    if text is None:
        return AUTO if has_own_network else None
    value = text.strip()
    if value.lower() == "auto":
        if not has_own_network:
            raise InvalidInput(
                f"{provider} environments have no subnet of their own",
                hint=_no_subnet_hint(provider),
            )
        return AUTO
    if value.lower() in ("none", ""):
        return None
    network = parse_cidr(value)
    if not has_own_network:
        raise InvalidInput(
            f"{provider} environments cannot have a subnet ({value})",
            hint=_no_subnet_hint(provider),
        )
    # A Docker subnet overlapping the cluster's own pod or service network makes node traffic to
    # that range ambiguous (pods or services on one side, containers on the other).
    clash = next((n for n in facts_for(provider).in_cluster() if n.overlaps(network)), None)
    if clash is not None:
        raise InvalidInput(
            f"subnet {network} overlaps {provider}'s in-cluster network {clash}",
            hint="choose a subnet outside it (the default pool is 10.200.0.0/16)",
        )
    return network


def parse_cidr(value: str) -> ipaddress.IPv4Network:
    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        if "host bits set" in str(exc):
            fixed = ipaddress.ip_network(value, strict=False)
            raise InvalidInput(f"subnet {value!r} has host bits set", hint=f"did you mean {fixed}?") from exc
        raise InvalidInput(f"subnet {value!r} is not a CIDR", hint="write it like 10.200.3.0/24") from exc
    if not isinstance(network, ipaddress.IPv4Network):
        raise InvalidInput(f"subnet {value!r} is IPv6", hint="cluster networks need an IPv4 CIDR")
    if not 8 <= network.prefixlen <= 28:
        raise InvalidInput(f"subnet {value!r} has prefix /{network.prefixlen}", hint="use a prefix between /8 and /28")
    return network


def check_node_counts(provider: str, servers: int, agents: int) -> None:
    """Servers and agents the provider's tool can really make, so no record claims nodes that never exist."""
    facts = facts_for(provider)
    if servers not in facts.server_counts:
        allowed = ", ".join(map(str, facts.server_counts))
        raise InvalidInput(
            f"{provider} cannot make {servers} server(s): {facts.server_counts_reason}",
            hint=f"use --servers {allowed if len(facts.server_counts) < 4 else '1-9'}",
        )
    if not 0 <= agents <= facts.max_agents:
        raise InvalidInput(f"agents {agents} is out of range", hint=f"use 0-{facts.max_agents}")


def parse_labels(pairs: list[str] | tuple[str, ...]) -> dict[str, str]:
    labels: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise InvalidInput(f"label {pair!r} has no '='", hint="write labels as key=value")
        if not _LABEL_KEY_RE.fullmatch(key) or len(key) > 253:
            raise InvalidInput(f"label key {key!r} is not a valid Kubernetes label key")
        if not _LABEL_VALUE_RE.fullmatch(value):
            raise InvalidInput(f"label value {value!r} (for {key}) is not a valid Kubernetes label value")
        if key in labels and labels[key] != value:
            raise InvalidInput(f"label {key!r} is given twice with different values")
        labels[key] = value
    return labels


@dataclass(frozen=True)
class EnvironmentSpec:
    """What a caller asks for; AUTO values are chosen by the allocator inside the write lock."""

    name: str
    provider: str
    role: str = "business"
    subnet: SubnetChoice = AUTO
    ports: tuple[tuple[str, PortChoice], ...] = ()
    node_port: int = 30080
    servers: int = 1
    agents: int = 0
    k8s_version: str | None = None
    labels: tuple[tuple[str, str], ...] = ()
    register_portainer: bool = True
    haproxy_route: bool = True
    allow_privileged_ports: bool = False
    check_host: bool = True

    def port_choices(self) -> dict[str, PortChoice]:
        return dict(self.ports)


def check_spec(spec: EnvironmentSpec) -> EnvironmentSpec:
    """Everything that can be checked without the database."""
    validate_role(spec.role)
    validate_name(spec.name, role=spec.role)
    validate_provider(spec.provider)
    check_node_port(spec.node_port)
    facts = facts_for(spec.provider)
    if spec.subnet is not None and not facts.has_subnet:
        raise InvalidInput(
            f"{spec.provider} environments have no subnet of their own",
            hint=_no_subnet_hint(spec.provider),
        )
    check_node_counts(spec.provider, spec.servers, spec.agents)
    if spec.servers + spec.agents > 1 and not facts.host_ports_with_agents:
        published = [purpose for purpose, choice in spec.ports if purpose in ("http", "https") and choice is not None]
        if published:
            flags = " ".join(f"--{purpose}-port none" for purpose in published)
            raise InvalidInput(
                f"{spec.provider} cannot publish host ports on a multi-node cluster: it gives --ports to every "
                "node container, so the second node fails with 'port is already allocated' (minikube#12776)",
                hint=f"add {flags} to reach the ingress through the node port instead, "
                "or use k3d or kind for a multi-node environment with host ports",
            )
    api = spec.port_choices().get("api")
    if api is not None and facts.managed and not facts.api_port_on_host:
        raise InvalidInput(
            f"{spec.provider} publishes its API server on a random host port that kenv cannot choose",
            hint="drop --api-port (the kubeconfig from `kenv kubeconfig NAME` always points at the current one)",
        )
    seen: dict[int, str] = {}
    for purpose, choice in spec.ports:
        if isinstance(choice, int):
            check_host_port(choice, f"{purpose} port", allow_privileged=spec.allow_privileged_ports)
            if choice in seen:
                raise InvalidInput(
                    f"port {choice} is given twice ({seen[choice]} and {purpose})",
                    hint="every host port must be different",
                )
            seen[choice] = purpose
    return spec
