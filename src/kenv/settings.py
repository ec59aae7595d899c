"""Configuration: defaults < config file < KENV_* environment variables < command-line flags.

`KENV_HOME` relocates everything kenv keeps (config, data, kubeconfigs) under one directory;
tests use it for isolation. Without it, the XDG base directories are used.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from kenv.catalogue import PROVIDERS
from kenv.errors import InvalidInput

__all__ = ["PROVIDERS", "Settings"]


@dataclass(frozen=True, order=True)
class PortRange:
    low: int
    high: int

    def __str__(self) -> str:
        return f"{self.low}-{self.high}"

    def __contains__(self, port: object) -> bool:
        return isinstance(port, int) and self.low <= port <= self.high

    def __len__(self) -> int:
        return self.high - self.low + 1

    def overlaps(self, other: PortRange) -> bool:
        return self.low <= other.high and other.low <= self.high


# docker-library/haproxy 2.6/alpine/Dockerfile: HAPROXY_VERSION 2.6.31, the branch Debian 12 ships.
HAPROXY_IMAGE = "haproxy:2.6.31-alpine"

# Defaults: four disjoint blocks of 500 host ports below Linux's ephemeral range (32768+),
# so a port kenv hands out is never one the kernel may pick for an outgoing connection.
# The subnet pool sits outside Docker's default address pools (172.17.0.0/16-172.31.0.0/16 and
# 192.168.0.0/16) and outside the in-cluster ranges of k3s (10.42/16, 10.43/16) and of
# kind/minikube (10.96.0.0/12, 10.244.0.0/16): 256 /24 networks.
DEFAULTS: dict[str, Any] = {
    "db_url": None,  # None means: the SQLite file under the data directory
    "http_port_range": PortRange(18000, 18499),
    "https_port_range": PortRange(18500, 18999),
    "pf_port_range": PortRange(19000, 19499),
    "api_port_range": PortRange(16400, 16899),
    "subnet_pool": ipaddress.IPv4Network("10.200.0.0/16"),
    "subnet_prefix": 24,
    "default_provider": "k3d",
    "base_domain": "localtest.me",
    "node_port": 30080,
    "environments": ("dev",),
    "node_cpus": None,  # per-node CPU limit (minikube --cpus); None: the tool's default
    "node_memory": None,  # per-node memory limit, e.g. "4g" (k3d --servers/agents-memory, minikube --memory)
    "allow_untested_tools": False,  # create even with a k3d/kind/minikube version outside the tested range
    # HAProxy, the single host entry: `docker` (a pinned image on the platform network) or `binary`
    # (the host's haproxy, run by kenv). It listens on loopback by default: a laptop's environments
    # are not offered to the whole network unless asked (`haproxy_bind = "0.0.0.0"`).
    "haproxy_runtime": "docker",
    "haproxy_http_port": 80,
    "haproxy_https_port": 443,
    "haproxy_bind": "127.0.0.1",
    # The image of the `docker` runtime: the official one pinned (docker-library/haproxy
    # 2.6/alpine/Dockerfile, HAPROXY_VERSION); another must keep its contract (entrypoint adding
    # `-W -db`, configuration at /usr/local/etc/haproxy/haproxy.cfg, a user that may write
    # /var/lib/haproxy), e.g. the same image in a private registry.
    "haproxy_image": HAPROXY_IMAGE,
    # HAProxy's TCP entry to the platform's PostgreSQL (`kenv bootstrap --move-inventory`): not 5432,
    # which a PostgreSQL on the host often holds.
    "haproxy_postgres_port": 15432,
    "gitops_url": None,  # the GitOps remote (file://, ssh, https); None: a local bare repository <data>/gitops.git
    "platform_network": "kenv",  # the Docker network bootstrap makes for the platform (HAProxy, Portainer, devops)
    # Argo CD's account in registered environments: a least-privilege ClusterRole unless this opts
    # into cluster-admin (a GitOps repository that installs CRDs or cluster-wide RBAC).
    "argocd_cluster_admin": False,
}

MIN_ENVIRONMENTS = 64


IMAGES_SECTION = "images"
IMAGES_KEYS = ("mirrors", "http_proxy", "https_proxy", "no_proxy", "insecure_registries")


@dataclass(frozen=True)
class ImageSupply:
    """The `[images]` table of the config file: where images come from behind restrictive networks.

    Rendered at create time into each provider's native form (k3d registries.yaml and node env,
    kind containerd config patches and node env, minikube --registry-mirror/--docker-env) and used
    by pulls on the host (mirrors in order, then upstream).

    \b
    [images]
    mirrors = {"docker.io" = ["https://mirror.example"], "ghcr.io" = ["http://10.0.0.5:5000"]}
    http_proxy = "http://proxy.example:3128"
    https_proxy = "http://proxy.example:3128"
    no_proxy = ["internal.example"]
    insecure_registries = ["10.0.0.5:5000"]
    """

    # Registry host (canonical: docker.io, never index.docker.io) -> mirror endpoints, in order.
    mirrors: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    http_proxy: str | None = None
    https_proxy: str | None = None
    no_proxy: tuple[str, ...] = ()  # the user's own entries; providers add the ones kenv needs
    insecure_registries: tuple[str, ...] = ()  # host[:port] reached over plain HTTP or unverified TLS

    def endpoints(self, registry: str) -> tuple[str, ...]:
        """The mirrors of one registry host, in the order to try them (empty: upstream only)."""
        return self.mirrors.get(_canonical_registry(registry), ())

    @property
    def configured(self) -> bool:
        return bool(self.mirrors or self.http_proxy or self.https_proxy or self.no_proxy or self.insecure_registries)

    @property
    def mirror_hosts(self) -> tuple[str, ...]:
        """host[:port] of every mirror endpoint (they belong in NO_PROXY)."""
        hosts: list[str] = []
        for endpoints in self.mirrors.values():
            for url in endpoints:
                host = url.split("://", 1)[-1].split("/", 1)[0]
                if host not in hosts:
                    hosts.append(host)
        return tuple(hosts)


def _canonical_registry(host: str) -> str:
    host = host.strip().lower()
    return "docker.io" if host in ("index.docker.io", "registry-1.docker.io") else host


@dataclass(frozen=True)
class Settings:
    home: Path | None
    config_path: Path
    data_dir: Path
    db_url: str
    http_port_range: PortRange
    https_port_range: PortRange
    pf_port_range: PortRange
    api_port_range: PortRange
    subnet_pool: ipaddress.IPv4Network
    subnet_prefix: int
    default_provider: str
    base_domain: str
    node_port: int
    environments: tuple[str, ...]
    node_cpus: str | None
    node_memory: str | None
    allow_untested_tools: bool
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)
    images: ImageSupply = field(default_factory=ImageSupply)
    haproxy_runtime: str = "docker"
    haproxy_http_port: int = 80
    haproxy_https_port: int = 443
    haproxy_bind: str = "127.0.0.1"
    haproxy_image: str = HAPROXY_IMAGE
    haproxy_postgres_port: int = 15432
    platform_network: str = "kenv"
    gitops_url: str | None = None
    argocd_cluster_admin: bool = False

    def port_range(self, purpose: str) -> PortRange:
        value = getattr(self, f"{purpose}_port_range")
        assert isinstance(value, PortRange)
        return value

    @property
    def kubeconfig_dir(self) -> Path:
        return self.data_dir / "kubeconfig"


SETTING_KEYS = tuple(DEFAULTS)
_REGISTRY_HOST = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*(?::\d{1,5})?")
# distribution/reference's grammar, lower-case repository path, optional tag and digest.
_IMAGE_REFERENCE = re.compile(
    r"(?:[A-Za-z0-9.-]+(?::\d+)?/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[0-9a-f]{64})?"
)
_URL = re.compile(r"https?://[A-Za-z0-9.\-\[\]:]+(?::\d{1,5})?(?:/[^\s]*)?")


def _url(raw: object, where: str) -> str:
    value = str(raw).strip()
    if "@" in value.split("://", 1)[-1].split("/", 1)[0]:
        # Plans, `mirrors show` and the nodes' environment would all show them.
        raise InvalidInput(
            f"{where}: {value.split('://', 1)[0]}://…@… carries credentials, which kenv does not keep in its config",
            hint="use a mirror or proxy that needs none from these hosts (e.g. allow-listed by address)",
        )
    if not _URL.fullmatch(value):
        raise InvalidInput(f"{where}: {raw!r} is not an http(s) URL", hint="write it like https://mirror.example:5000")
    return value.rstrip("/")


def _string_list(raw: object, where: str) -> tuple[str, ...]:
    items = raw if isinstance(raw, list | tuple) else str(raw).split(",")
    values = tuple(str(item).strip() for item in items if str(item).strip())
    for value in values:
        if any(c.isspace() for c in value):
            raise InvalidInput(f"{where}: {value!r} contains whitespace", hint="one host or domain per entry")
    return values


def parse_image_supply(raw: object, where: str) -> ImageSupply:
    """The `[images]` table; every bad value is one InvalidInput naming the key."""
    if not isinstance(raw, dict):
        raise InvalidInput(f"{where}: must be a table", hint="write it as an [images] section")
    unknown = sorted(set(raw) - set(IMAGES_KEYS))
    if unknown:
        raise InvalidInput(
            f"{where} has unknown key(s): {', '.join(unknown)}", hint=f"known keys are {', '.join(IMAGES_KEYS)}"
        )
    mirrors: dict[str, tuple[str, ...]] = {}
    table = raw.get("mirrors", {})
    if not isinstance(table, dict):
        raise InvalidInput(
            f"{where}.mirrors: must be a table of registry = [URL, ...]",
            hint='write it like mirrors = {"docker.io" = ["https://mirror.example"]}',
        )
    for registry, urls in table.items():
        host = _canonical_registry(str(registry))
        if not _REGISTRY_HOST.fullmatch(host):
            raise InvalidInput(f"{where}.mirrors: {registry!r} is not a registry host", hint="use e.g. docker.io")
        url_list = [urls] if isinstance(urls, str) else urls
        if not isinstance(url_list, list) or not url_list:
            raise InvalidInput(f"{where}.mirrors.{registry}: give a list of mirror URLs")
        mirrors[host] = tuple(_url(u, f"{where}.mirrors.{registry}") for u in url_list)
    proxies = {}
    for key in ("http_proxy", "https_proxy"):
        value = raw.get(key)
        proxies[key] = _url(value, f"{where}.{key}") if value not in (None, "") else None
    insecure = _string_list(raw.get("insecure_registries", ()), f"{where}.insecure_registries")
    for host in insecure:
        if not _REGISTRY_HOST.fullmatch(host.lower()):
            raise InvalidInput(
                f"{where}.insecure_registries: {host!r} is not host[:port]", hint="write it like 10.0.0.5:5000"
            )
    return ImageSupply(
        mirrors=mirrors,
        http_proxy=proxies["http_proxy"],
        https_proxy=proxies["https_proxy"],
        no_proxy=_string_list(raw.get("no_proxy", ()), f"{where}.no_proxy"),
        insecure_registries=insecure,
    )


def _xdg_dir(variable: str, fallback: str) -> Path:
    value = os.environ.get(variable)
    return Path(value) if value else Path.home() / fallback


def default_paths(env: Mapping[str, str]) -> tuple[Path | None, Path, Path]:
    """(home, config file, data dir) before any file is read."""
    home_text = env.get("KENV_HOME")
    if home_text:
        home = Path(home_text).expanduser()
        return home, home / "config.toml", home / "data"
    config = _xdg_dir("XDG_CONFIG_HOME", ".config") / "kenv" / "config.toml"
    data = _xdg_dir("XDG_DATA_HOME", ".local/share") / "kenv"
    return None, config, data


def _parse_port_range(text: object, where: str) -> PortRange:
    match = re.fullmatch(r"\s*(\d{1,5})\s*-\s*(\d{1,5})\s*", str(text))
    if not match:
        raise InvalidInput(f"{where}: {text!r} is not a port range", hint="write it as LOW-HIGH, e.g. 18000-18499")
    low, high = int(match.group(1)), int(match.group(2))
    if not (1 <= low <= high <= 65535):
        raise InvalidInput(f"{where}: {text!r} is not a valid port range", hint="use 1 <= LOW <= HIGH <= 65535")
    if len(PortRange(low, high)) < MIN_ENVIRONMENTS:
        raise InvalidInput(
            f"{where}: {text!r} holds fewer than {MIN_ENVIRONMENTS} ports",
            hint=f"widen it so at least {MIN_ENVIRONMENTS} environments fit",
        )
    return PortRange(low, high)


def _parse_value(key: str, raw: object, where: str) -> Any:
    if key.endswith("_port_range"):
        return _parse_port_range(raw, where)
    if key == "subnet_pool":
        try:
            network = ipaddress.ip_network(str(raw).strip(), strict=True)
        except ValueError as exc:
            raise InvalidInput(f"{where}: {raw!r} is not a network", hint=f"use CIDR notation ({exc})") from exc
        if not isinstance(network, ipaddress.IPv4Network):
            raise InvalidInput(f"{where}: {raw!r} is IPv6", hint="Docker networks for clusters need an IPv4 pool")
        return network
    if key in ("subnet_prefix", "node_port"):
        try:
            return int(str(raw).strip())
        except ValueError as exc:
            raise InvalidInput(f"{where}: {raw!r} is not a whole number") from exc
    if key == "default_provider":
        value = str(raw).strip()
        if value not in PROVIDERS:
            raise InvalidInput(f"{where}: unknown provider {value!r}", hint=f"use one of {', '.join(PROVIDERS)}")
        return value
    if key == "environments":
        items = raw if isinstance(raw, list | tuple) else str(raw).split(",")
        return tuple(str(item).strip() for item in items if str(item).strip())
    if key in ("allow_untested_tools", "argocd_cluster_admin"):
        text = str(raw).strip().lower()
        if text not in ("true", "false", "1", "0", "yes", "no"):
            raise InvalidInput(f"{where}: {raw!r} is not a boolean", hint="use true or false")
        return text in ("true", "1", "yes")
    if key == "node_memory" and raw is not None:
        return parse_node_memory(raw, where)
    if key == "node_cpus" and raw is not None:
        return parse_node_cpus(raw, where)
    if key == "db_url":
        value = str(raw).strip()
        return value or None
    if key.startswith("haproxy_"):
        return _haproxy_value(key, raw, where)
    if key == "gitops_url":
        return _gitops_url(raw, where)
    return str(raw).strip()


def _gitops_url(raw: object, where: str) -> str | None:
    """A git remote as `git clone` takes it; a password in it would end up in plans and logs (the
    user's git credential helper or ssh keys authenticate instead)."""
    value = str(raw).strip() if raw is not None else ""
    if not value:
        return None
    if any(c.isspace() for c in value):
        raise InvalidInput(f"{where}: {value!r} contains whitespace", hint="give one git URL")
    scheme, sep, rest = value.partition("://")
    if sep and ":" in rest.split("/", 1)[0].rpartition("@")[0]:
        raise InvalidInput(
            f"{where}: {scheme}://…:…@… carries a password, which kenv does not keep in its config",
            hint="let git authenticate (ssh keys or a credential helper) and give the URL without it",
        )
    if sep and scheme not in ("file", "ssh", "git", "http", "https"):
        raise InvalidInput(
            f"{where}: {value!r} is not a git URL", hint="use file://, ssh://, git@host:path or https://"
        )
    if not sep and not value.startswith("/") and ":" not in value:
        raise InvalidInput(f"{where}: {value!r} is not a git URL", hint="use file:///path, ssh://host/path or https://")
    return value


def _haproxy_value(key: str, raw: object, where: str) -> str | int:
    value = str(raw).strip()
    if key == "haproxy_runtime":
        if value not in ("docker", "binary"):
            raise InvalidInput(f"{where}: {value!r} is not an HAProxy runtime", hint="use docker or binary")
        return value
    if key == "haproxy_image":
        if not _IMAGE_REFERENCE.fullmatch(value):
            raise InvalidInput(f"{where}: {value!r} is not an image reference", hint=f"use e.g. {HAPROXY_IMAGE}")
        return value
    if key == "haproxy_bind":
        try:
            return str(ipaddress.IPv4Address(value))
        except ValueError as exc:
            hint = "use e.g. 127.0.0.1 (this host only) or 0.0.0.0 (every interface)"
            raise InvalidInput(f"{where}: {value!r} is not an IPv4 address", hint=hint) from exc
    if not value.isdigit() or not 1 <= int(value) <= 65535:
        raise InvalidInput(f"{where}: {raw!r} is not a port", hint="use a number from 1 to 65535")
    return int(value)


def _check_consistency(values: Mapping[str, Any], sources: Mapping[str, str]) -> None:
    ranges = [k for k in SETTING_KEYS if k.endswith("_port_range")]
    for i, first in enumerate(ranges):
        for second in ranges[i + 1 :]:
            if values[first].overlaps(values[second]):
                raise InvalidInput(
                    f"{first} ({values[first]}, from {sources[first]}) overlaps {second} "
                    f"({values[second]}, from {sources[second]})",
                    hint="give each purpose its own block of ports",
                )
    pool: ipaddress.IPv4Network = values["subnet_pool"]
    prefix: int = values["subnet_prefix"]
    if not (pool.prefixlen <= prefix <= 28):
        raise InvalidInput(
            f"subnet_prefix /{prefix} does not fit subnet_pool {pool}",
            hint=f"use a prefix between /{pool.prefixlen} and /28",
        )
    if 2 ** (prefix - pool.prefixlen) < MIN_ENVIRONMENTS:
        raise InvalidInput(
            f"subnet_pool {pool} holds fewer than {MIN_ENVIRONMENTS} /{prefix} subnets",
            hint="use a larger pool or a longer subnet_prefix",
        )
    listeners = [k for k in ("haproxy_http_port", "haproxy_https_port", "haproxy_postgres_port") if k in values]
    for i, first in enumerate(listeners):
        for second in listeners[i + 1 :]:
            if values[first] == values[second]:
                raise InvalidInput(
                    f"{first} and {second} are both {values[first]} (from {sources[first]} and {sources[second]})",
                    hint="HAProxy listens on each: give each its own port",
                )
    node_port: int = values["node_port"]
    if not (30000 <= node_port <= 32767):
        raise InvalidInput(f"node_port {node_port} is outside Kubernetes' NodePort range", hint="use 30000-32767")


def parse_node_memory(raw: object, where: str) -> str:
    """A per-node memory limit as the tools take it (4g, 2048m); `where` names its source."""
    value = str(raw).strip().lower()
    if not re.fullmatch(r"\d+(\.\d+)?[kmg]?b?", value) or not re.match(r"0*[1-9]|0*\.\d*[1-9]", value):
        raise InvalidInput(f"{where}: {raw!r} is not a memory size", hint="write it like 4g or 2048m")
    return value


def parse_node_cpus(raw: object, where: str) -> str:
    """A per-node CPU limit (2, 1.5); `where` names its source."""
    value = str(raw).strip()
    if not re.fullmatch(r"\d+(\.\d+)?", value) or float(value) <= 0:
        raise InvalidInput(f"{where}: {raw!r} is not a CPU count", hint="write it like 2 or 1.5")
    return value


def _read_config_file(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read config file {path}: {exc}", hint="fix its permissions or encoding") from exc
    import tomllib  # only when there is a file: most runs have none, and the import costs ~3 ms

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"config file {path} is not valid TOML: {exc}") from exc
    unknown = sorted(set(data) - set(SETTING_KEYS) - {IMAGES_SECTION})
    if unknown:
        raise InvalidInput(
            f"config file {path} has unknown key(s): {', '.join(unknown)}",
            hint=f"known keys are {', '.join(SETTING_KEYS)} and the [{IMAGES_SECTION}] table",
        )
    return data


def load_settings(
    *,
    config_path: str | None = None,
    overrides: Mapping[str, object] | None = None,
    env: Mapping[str, str] | None = None,
) -> Settings:
    """Resolve every setting and remember where each value came from."""
    environ = os.environ if env is None else env
    home, default_config, data_dir = default_paths(environ)
    chosen_config = config_path or environ.get("KENV_CONFIG")
    config_file = Path(chosen_config).expanduser() if chosen_config else default_config
    if chosen_config and config_file.is_dir():
        raise InvalidInput(
            f"config file {config_file} is a directory, not a file",
            hint=f"give the TOML file itself, e.g. {config_file / 'config.toml'}",
        )
    if chosen_config and not config_file.is_file():
        raise InvalidInput(f"config file {config_file} does not exist", hint="check --config / KENV_CONFIG")

    values: dict[str, Any] = dict(DEFAULTS)
    sources = dict.fromkeys(SETTING_KEYS, "default")
    image_supply = ImageSupply()
    for key, raw in _read_config_file(config_file).items():
        if key == IMAGES_SECTION:
            image_supply = parse_image_supply(raw, f"{config_file}: [{IMAGES_SECTION}]")
            continue
        values[key] = _parse_value(key, raw, f"{config_file}: {key}")
        sources[key] = str(config_file)
    for key in SETTING_KEYS:
        variable = f"KENV_{key.upper()}"
        if environ.get(variable, "") != "":
            values[key] = _parse_value(key, environ[variable], variable)
            sources[key] = variable
    for key, raw in (overrides or {}).items():
        if raw is not None:
            values[key] = _parse_value(key, raw, f"--{key.replace('_', '-')}")
            sources[key] = "flag"
    _check_consistency(values, sources)
    if values["db_url"] is None:
        values["db_url"] = f"sqlite:///{data_dir / 'inventory.db'}"
    known = {f.name for f in fields(Settings)}
    return Settings(
        home=home,
        config_path=config_file,
        data_dir=data_dir,
        sources=sources,
        images=image_supply,
        **{k: v for k, v in values.items() if k in known},
    )


_TABLE_HEADER = re.compile(r"\s*\[")


def with_config_value(text: str, key: str, value: str) -> str:
    """The config file's text with `key = "value"` at the top level: the line that sets it replaced,
    or a new line put before the first table (a key after `[images]` would belong to it), every
    other line and comment kept as it was. The result is parsed back: anything else is refused."""
    import json
    import tomllib

    if key not in SETTING_KEYS:
        raise ValueError(f"unknown setting {key!r}")
    line = f"{key} = {json.dumps(value)}"  # a JSON string with ASCII escapes is a TOML basic string
    setting = re.compile(rf"\s*{re.escape(key)}\s*=")
    lines = text.splitlines()
    top = next((i for i, existing in enumerate(lines) if _TABLE_HEADER.match(existing)), len(lines))
    found = [i for i in range(top) if setting.match(lines[i])]
    if found:
        lines[found[0]] = line
    else:
        lines[top:top] = [line, ""] if top < len(lines) else [line]
    result = "\n".join(lines) + "\n"
    try:
        before, after = tomllib.loads(text), tomllib.loads(result)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"cannot set {key} in the config file: {exc}", hint=f"set {key} there by hand") from exc
    if after.get(key) != value or {k: v for k, v in after.items() if k != key} != {
        k: v for k, v in before.items() if k != key
    }:
        raise InvalidInput(
            f"cannot set {key} in the config file without changing something else", hint=f"set {key} there by hand"
        )
    return result
