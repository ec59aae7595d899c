"""What kenv knows about each provider, in one place.

Every other module reads these facts instead of testing provider names: validation (subnets,
node counts, host ports), allocation (which ports an environment gets), the workflows (network,
node counting, tool checks), sync, the host rules and the provider registry. Adding a provider
is one entry here plus its module in `providers/` (and, because the inventory's CHECK constraints
are historical DDL, a schema migration; `tests/unit/test_catalogue.py` fails until it exists).

This module sits at the bottom of the layers (pure data, standard library only) so that the
inventory, which enforces these facts, can read it without importing the providers.

Sources for the facts (checked against each tool's code):
- k3d v5: `pkg/types/types.go` (name length 32, node roles, `k3d-<name>` network and
  context), `pkg/client/cluster.go` (a network k3d makes from `--subnet` is managed and node IPs
  are pinned in it; a `--network` it did not make is external and IPs are not pinned), the
  `serverlb` node that every cluster has unless `--no-lb`.
- kind: `pkg/cluster/internal/providers/docker/network.go` (every cluster joins the network
  `kind`), `pkg/cluster/internal/create/create.go` (an `external-load-balancer` node when there
  is more than one control plane), context `kind-<name>`.
- minikube: the docker driver publishes the API server's container port on a random host port
  (`pkg/drivers/kic/oci/oci.go`: `127.0.0.1::PORT`), so no API host port is kenv's to choose;
  `--ports` is given to every node container (minikube#12776), so a multi-node profile cannot
  publish host ports; `--ha` makes exactly three control planes; the network and the context
  are named after the profile.
"""

from __future__ import annotations

import ipaddress
from typing import Literal, NamedTuple

LoadBalancer = Literal["always", "multi-server", "never"]


class ProviderFacts(NamedTuple):
    # A NamedTuple rather than a frozen dataclass: the same immutable record, built at import
    # for a fraction of the cost (every kenv command imports this module).
    name: str
    # The CLI kenv drives for this provider, its tested version range [minimum, below) and how to
    # install it. None: nothing but kubectl (an adopted cluster).
    tool: str | None
    tested_versions: tuple[tuple[int, ...], tuple[int, ...] | None] | None
    install_hint: str | None
    # How to ask the tool its version (read-only, no cluster or network needed), and the pattern
    # whose first group is the version in the first matching line of its output.
    version_command: tuple[str, ...]
    version_pattern: str
    # Where the implementation lives: "module:Class".
    implementation: str
    # kenv creates, starts, stops and deletes the cluster (False: adopted, only read and verified).
    managed: bool
    # The nodes are Docker containers: nothing works, and the tool may not say why, without an engine.
    needs_docker_engine: bool
    # The environment gets a Docker subnet of its own (passed to the tool, which makes the network).
    has_subnet: bool
    # The Docker network the cluster's nodes join; "{name}" is the environment's name. None: unknown.
    network: str | None
    # Networks inside the cluster (pods, services): a Docker subnet must not overlap them.
    in_cluster_networks: tuple[str, ...]
    # kubeconfig context name; "{name}" is the environment's name.
    context: str
    # The API server is published on a host port kenv chooses (api_port).
    api_port_on_host: bool
    # kenv publishes http/https ingress ports on the host.
    publishes_ingress_ports: bool
    # Host ports can be published when the cluster has more than one node.
    host_ports_with_agents: bool
    # Server (control-plane) counts the tool can make, and a reason shown when refused.
    server_counts: tuple[int, ...]
    server_counts_reason: str
    max_agents: int
    # The per-node limits the tool can set (k3d --servers-memory/--agents-memory; minikube
    # --memory and --cpus; kind has none: a node is a container it starts without limits).
    node_limits: tuple[str, ...]
    # A load-balancer node in front of the servers: always (k3d's serverlb), only with several
    # servers (kind's external-load-balancer), or never.
    load_balancer: LoadBalancer

    def network_name(self, environment: str) -> str | None:
        return self.network.format(name=environment) if self.network else None

    def context_name(self, environment: str) -> str:
        return self.context.format(name=environment)

    def in_cluster(self) -> tuple[ipaddress.IPv4Network, ...]:
        return tuple(ipaddress.IPv4Network(cidr) for cidr in self.in_cluster_networks)

    def expected_nodes(self, servers: int, agents: int) -> int:
        """Every node (container) a complete cluster has, load balancer included."""
        balancer = self.load_balancer == "always" or (self.load_balancer == "multi-server" and servers > 1)
        return servers + agents + (1 if balancer else 0)


CATALOGUE: dict[str, ProviderFacts] = {
    "k3d": ProviderFacts(
        name="k3d",
        tool="k3d",
        tested_versions=((5, 4), (6,)),
        install_hint="install k3d v5 (see https://k3d.io/#installation)",
        version_command=("k3d", "version"),
        version_pattern=r"k3d version (v?\d\S*)",
        implementation="kenv.providers.k3d:K3d",
        managed=True,
        needs_docker_engine=True,
        has_subnet=True,
        network="k3d-{name}",
        in_cluster_networks=("10.42.0.0/16", "10.43.0.0/16"),
        context="k3d-{name}",
        api_port_on_host=True,
        publishes_ingress_ports=True,
        host_ports_with_agents=True,
        server_counts=(1, 2, 3, 4, 5, 6, 7, 8, 9),
        server_counts_reason="k3d makes 1 to 9 servers here (use an odd number for etcd quorum)",
        max_agents=99,
        load_balancer="always",
        node_limits=("memory",),
    ),
    "kind": ProviderFacts(
        name="kind",
        tool="kind",
        tested_versions=((0, 20), (1,)),
        install_hint="install kind (https://kind.sigs.k8s.io/docs/user/quick-start/#installation)",
        version_command=("kind", "version"),
        version_pattern=r"kind (v?\d\S*)",
        implementation="kenv.providers.kind:Kind",
        managed=True,
        needs_docker_engine=True,
        has_subnet=False,
        network="kind",
        in_cluster_networks=("10.244.0.0/16", "10.96.0.0/12"),
        context="kind-{name}",
        api_port_on_host=True,
        publishes_ingress_ports=True,
        host_ports_with_agents=True,
        server_counts=(1, 2, 3, 4, 5, 6, 7, 8, 9),
        server_counts_reason="kind makes 1 to 9 control planes here",
        max_agents=99,
        load_balancer="multi-server",
        node_limits=(),
    ),
    "minikube": ProviderFacts(
        name="minikube",
        tool="minikube",
        tested_versions=((1, 30), (2,)),
        install_hint="install minikube (https://minikube.sigs.k8s.io/docs/start/)",
        # `--short` prints the bare version; minikube releases before the flag print
        # "minikube version: v1.x" for plain `version`, so both shapes are read.
        version_command=("minikube", "version", "--short"),
        version_pattern=r"(?:minikube version:\s*)?(v?\d\S*)$",
        implementation="kenv.providers.minikube:Minikube",
        managed=True,
        needs_docker_engine=True,
        has_subnet=True,
        network="{name}",
        in_cluster_networks=("10.244.0.0/16", "10.96.0.0/12"),
        context="{name}",
        api_port_on_host=False,
        publishes_ingress_ports=True,
        host_ports_with_agents=False,
        server_counts=(1, 3),
        server_counts_reason="minikube makes one control plane, or exactly three with --ha",
        max_agents=99,
        load_balancer="never",
        node_limits=("memory", "cpus"),
    ),
    "external": ProviderFacts(
        name="external",
        tool=None,
        tested_versions=None,
        install_hint=None,
        version_command=(),
        version_pattern=r"",
        implementation="kenv.providers.external:External",
        managed=False,
        needs_docker_engine=False,
        has_subnet=False,
        network=None,
        in_cluster_networks=(),
        context="{name}",  # or the label kenv.io/context
        api_port_on_host=False,
        publishes_ingress_ports=False,
        host_ports_with_agents=True,
        server_counts=(1, 2, 3, 4, 5, 6, 7, 8, 9),
        server_counts_reason="an adopted cluster is recorded with 1 to 9 servers",
        max_agents=99,
        load_balancer="never",
        node_limits=(),
    ),
}

PROVIDERS: tuple[str, ...] = tuple(CATALOGUE)
MANAGED_PROVIDERS: tuple[str, ...] = tuple(name for name, facts in CATALOGUE.items() if facts.managed)
SUBNET_PROVIDERS: tuple[str, ...] = tuple(name for name, facts in CATALOGUE.items() if facts.has_subnet)


def facts_for(provider: str) -> ProviderFacts:
    """The facts of a known provider; callers validate the name first (KeyError otherwise)."""
    return CATALOGUE[provider]
