"""Registry mirrors, insecure registries and proxies in each provider's own form (pure).

One `[images]` table (settings.ImageSupply) becomes, at create time:

- k3d: a k3s `registries.yaml` given with `k3d cluster create --registry-config FILE`, which k3d
  parses and writes into every node at /etc/rancher/k3s/registries.yaml
  (k3d v5.8.3 `pkg/config/transform.go`, `pkg/client/cluster.go`, `pkg/types/registry.go`), and
  the proxy variables as node env, `-e KEY=VALUE@server:*` / `@agent:*`
  (`cmd/cluster/clusterCreate.go`; an `@` inside the value is escaped `\\@`, `cmd/util/filter.go`).
- kind: containerd `hosts.toml` files, one directory per registry, mounted read-only on every
  node at /etc/containerd/certs.d (extraMounts), plus the containerdConfigPatches entry setting
  `config_path` to that directory. Node images from kind v0.27 ship containerd 2, whose default
  config_path already holds that directory; the patch makes older node images read it too
  (kind `site/content/docs/user/private-registries.md`, `site/static/examples/kind-with-registry.sh`).
  The legacy `registry.mirrors` tables are not used: containerd refuses them next to config_path.
  Proxies: kind hands HTTP_PROXY/HTTPS_PROXY/NO_PROXY from its own environment to the nodes
  (`pkg/cluster/internal/providers/common/proxy.go`, `providers/docker/provision.go`), so they are
  set on the `kind create cluster` process.
- minikube (docker runtime, minikube's default): `--registry-mirror=URL` goes to dockerd, whose
  mirrors serve Docker Hub only, so mirrors of other registries cannot be given to minikube and
  are reported as such; `--insecure-registry=HOST`; `--docker-env=KEY=VALUE` for the proxies. minikube
  also copies HTTP(S)_PROXY/NO_PROXY from its own environment into the docker env
  (`pkg/minikube/proxy/proxy.go` SetDockerEnv, deduplicated), so the process gets the same values
  and a different proxy in the user's shell cannot slip in beside them.
  `--image-repository` is never set: it rewrites every system image to another repository, and a
  re-pushed image there carries another digest, so digest-pinned references stop resolving.

An empty `[images]` table changes nothing at all (no flag, no file, no environment variable).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kenv.catalogue import facts_for
from kenv.inventory.model import Environment
from kenv.settings import ImageSupply

# Where k3d writes the registries file in every node (k3d pkg/types/registry.go).
K3S_REGISTRIES_IN_NODE = "/etc/rancher/k3s/registries.yaml"
# containerd's registry host directory (containerd docs/hosts.md; kind and minikube use it).
CERTS_D_IN_NODE = "/etc/containerd/certs.d"
# The registry's own endpoint as containerd's hosts.toml `server` names it (docs/hosts.md).
UPSTREAM_SERVER = {"docker.io": "https://registry-1.docker.io"}
PROXY_KEYS = ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY")
KIND_CONFIG_PATCH = '[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = "/etc/containerd/certs.d"'
# Names inside every cluster's DNS that must never go to a proxy.
CLUSTER_DOMAINS = (".svc", ".cluster.local")


def url_host(url: str) -> str:
    """host[:port] of an http(s) URL."""
    return url.split("://", 1)[-1].split("/", 1)[0]


def bare_host(hostport: str) -> str:
    """The host without its port ([v6] kept in brackets): a NO_PROXY entry without a port
    matches every port of that host."""
    if hostport.startswith("["):
        return hostport.split("]", 1)[0] + "]"
    return hostport.rsplit(":", 1)[0] if hostport.count(":") == 1 else hostport


def no_proxy(supply: ImageSupply, env: Environment) -> tuple[str, ...]:
    """Everything nodes must reach without the proxy: loopback, the environment's subnet, the
    provider's pod and service networks, the cluster's DNS domains, the mirrors, then the user's
    own entries; no duplicates, order stable."""
    entries = ["localhost", "127.0.0.1"]
    if env.subnet is not None:
        entries.append(str(env.subnet))
    entries += facts_for(env.provider).in_cluster_networks
    entries += CLUSTER_DOMAINS
    entries += [bare_host(host) for host in supply.mirror_hosts]
    entries += supply.no_proxy
    return tuple(dict.fromkeys(entries))


def proxy_env(supply: ImageSupply, env: Environment) -> dict[str, str]:
    """The proxy variables nodes get; none without a proxy (NO_PROXY alone means nothing)."""
    if not (supply.http_proxy or supply.https_proxy):
        return {}
    variables = {}
    if supply.http_proxy:
        variables["HTTP_PROXY"] = supply.http_proxy
    if supply.https_proxy:
        variables["HTTPS_PROXY"] = supply.https_proxy
    variables["NO_PROXY"] = ",".join(no_proxy(supply, env))
    return variables


def _insecure(supply: ImageSupply) -> set[str]:
    return {host.lower() for host in supply.insecure_registries}


def k3s_registries(supply: ImageSupply) -> dict[str, Any] | None:
    """The k3s registries.yaml document (docs.k3s.io/installation/private-registry): mirrors in
    order per registry; an insecure registry without a mirror is reached over plain HTTP (an
    http:// endpoint), and TLS to an insecure host is not verified. None: nothing to configure."""
    insecure = _insecure(supply)
    mirrors: dict[str, Any] = {registry: {"endpoint": list(urls)} for registry, urls in supply.mirrors.items()}
    for host in supply.insecure_registries:
        mirrors.setdefault(host, {"endpoint": [f"http://{host}"]})
    tls_hosts = [h for h in dict.fromkeys([*supply.insecure_registries, *supply.mirror_hosts]) if h.lower() in insecure]
    configs = {host: {"tls": {"insecure_skip_verify": True}} for host in tls_hosts}
    if not mirrors and not configs:
        return None
    document: dict[str, Any] = {"mirrors": mirrors}
    if configs:
        document["configs"] = configs
    return document


def _toml_string(text: str) -> str:
    # A TOML basic string: JSON's escaping is valid TOML for these ASCII URLs and hosts.
    return json.dumps(text)


def hosts_toml(supply: ImageSupply) -> dict[str, str]:
    """containerd hosts.toml per registry directory (docs/hosts.md): the mirrors in order as
    [host] entries able to pull and resolve, then `server` (the registry itself) as the fallback
    containerd always has. An insecure registry without a mirror is written as minikube writes it
    (`pkg/minikube/cruntime/containerd.go`): server and host http://HOST with skip_verify."""
    insecure = _insecure(supply)
    files: dict[str, str] = {}
    registries = list(dict.fromkeys([*supply.mirrors, *supply.insecure_registries]))
    for registry in registries:
        plain = registry.lower() in insecure
        server = f"http://{registry}" if plain else UPSTREAM_SERVER.get(registry, f"https://{registry}")
        lines = [f"server = {_toml_string(server)}"]
        endpoints = supply.mirrors.get(registry, ())
        for url in endpoints or ((server,) if plain else ()):
            lines += ["", f"[host.{_toml_string(url)}]", '  capabilities = ["pull", "resolve"]']
            if url_host(url).lower() in insecure:
                lines.append("  skip_verify = true")
        files[f"{registry}/hosts.toml"] = "\n".join(lines) + "\n"
    return files


def k3d_env_flags(variables: Mapping[str, str], env: Environment) -> list[str]:
    """`-e KEY=VALUE@server:*` (and `@agent:*` when there are agents): the load balancer does
    not pull images. A literal `@` is escaped, k3d splits the node filter at the first one."""
    roles = ["server:*"] + (["agent:*"] if env.agents else [])
    flags: list[str] = []
    for key, value in variables.items():
        escaped = value.replace("@", "\\@")
        for role in roles:
            flags += ["-e", f"{key}={escaped}@{role}"]
    return flags


def minikube_flags(supply: ImageSupply, variables: Mapping[str, str]) -> tuple[list[str], list[str]]:
    """minikube start flags and what could not be given to it."""
    flags = [f"--registry-mirror={url}" for url in supply.mirrors.get("docker.io", ())]
    notes = [
        f"mirrors of {registry} are not applied: minikube's --registry-mirror serves Docker Hub only"
        for registry in supply.mirrors
        if registry != "docker.io"
    ]
    flags += [f"--insecure-registry={host}" for host in supply.insecure_registries]
    flags += [f"--docker-env={key}={value}" for key, value in variables.items()]
    return flags, notes


def tool_env(variables: Mapping[str, str]) -> dict[str, str]:
    """The proxy variables for a tool that reads them from its own environment (kind, minikube),
    lower-case spellings too: both tools fall back to them, and a different value left in the
    user's shell must not win."""
    return {**variables, **{key.lower(): value for key, value in variables.items()}}


@dataclass(frozen=True)
class SupplyPlan:
    """What one environment's provider gets from the `[images]` table."""

    provider: str
    no_proxy: tuple[str, ...] = ()
    node_env: dict[str, str] = field(default_factory=dict)
    args: tuple[str, ...] = ()  # added to the create command line
    tool_env: dict[str, str] = field(default_factory=dict)  # set on the create process
    files: dict[str, str] = field(default_factory=dict)  # host path -> content kenv writes
    node_files: dict[str, str] = field(default_factory=dict)  # path in a node -> what it should hold
    kind_patches: tuple[str, ...] = ()  # containerdConfigPatches
    kind_mounts: tuple[dict[str, Any], ...] = ()  # extraMounts of every node
    files_dir: Path | None = None  # kind: the directory kenv owns and rewrites whole
    notes: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.args or self.tool_env or self.files or self.kind_patches or self.notes)


def registries_file(data_dir: Path, name: str) -> Path:
    return data_dir / "k3d" / f"{name}-registries.yaml"


def certs_dir(data_dir: Path, name: str) -> Path:
    return data_dir / "kind" / f"{name}-certs.d"


def plan_supply(supply: ImageSupply, env: Environment, data_dir: Path) -> SupplyPlan:
    """The provider's native form of `supply` for `env`; an empty plan when nothing is configured
    (or the provider is not one kenv creates)."""
    if not supply.configured or not facts_for(env.provider).managed:
        return SupplyPlan(env.provider)
    variables = proxy_env(supply, env)
    listed = no_proxy(supply, env) if variables else ()
    if env.provider == "k3d":
        return _k3d_plan(supply, env, data_dir, variables, listed)
    if env.provider == "kind":
        return _kind_plan(supply, env, data_dir, variables, listed)
    flags, notes = minikube_flags(supply, variables)
    return SupplyPlan(
        env.provider,
        no_proxy=listed,
        node_env=variables,
        args=tuple(flags),
        tool_env=tool_env(variables),
        notes=tuple(notes),
    )


def _k3d_plan(
    supply: ImageSupply, env: Environment, data_dir: Path, variables: dict[str, str], listed: tuple[str, ...]
) -> SupplyPlan:
    import yaml

    document = k3s_registries(supply)
    args: list[str] = []
    files: dict[str, str] = {}
    node_files: dict[str, str] = {}
    if document is not None:
        path = registries_file(data_dir, env.name).absolute()
        text = str(yaml.safe_dump(document, sort_keys=False, default_flow_style=False))
        files[str(path)] = text
        node_files[K3S_REGISTRIES_IN_NODE] = text
        args += ["--registry-config", str(path)]
    args += k3d_env_flags(variables, env)
    return SupplyPlan("k3d", no_proxy=listed, node_env=variables, args=tuple(args), files=files, node_files=node_files)


def _kind_plan(
    supply: ImageSupply, env: Environment, data_dir: Path, variables: dict[str, str], listed: tuple[str, ...]
) -> SupplyPlan:
    hosts = hosts_toml(supply)
    directory = certs_dir(data_dir, env.name).absolute()
    files = {str(directory / relative): text for relative, text in hosts.items()}
    node_files = {f"{CERTS_D_IN_NODE}/{relative}": text for relative, text in hosts.items()}
    mounts: tuple[dict[str, Any], ...] = ()
    patches: tuple[str, ...] = ()
    if hosts:
        mounts = ({"hostPath": str(directory), "containerPath": CERTS_D_IN_NODE, "readOnly": True},)
        patches = (KIND_CONFIG_PATCH,)
    return SupplyPlan(
        "kind",
        no_proxy=listed,
        node_env=variables,
        tool_env=tool_env(variables),
        files=files,
        node_files=node_files,
        kind_patches=patches,
        kind_mounts=mounts,
        files_dir=directory if hosts else None,
    )
